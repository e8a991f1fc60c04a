"""The durable writer: what a kill between any two steps leaves behind, and how a resume
repairs it. Blocking file I/O only; no event loop needed."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sekoia_async._helpers.exporter import (
    DurableOutput,
    ItemState,
    OutputStateError,
    Window,
    encode_events,
)

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
WINDOW = Window(T0, T0 + timedelta(days=1))


def _events(start: int, n: int) -> list[dict[str, object]]:
    return [{"__event_id": f"e{i}", "message": f"é {i}"} for i in range(start, start + n)]


def _read(path: Path, *, gz: bool) -> list[str]:
    raw = path.read_bytes()
    text = gzip.decompress(raw).decode() if gz else raw.decode()
    return [json.loads(line)["__event_id"] for line in text.splitlines()]


def _write(out: DurableOutput, state: ItemState, start: int, n: int, gz: bool) -> ItemState:
    data = encode_events(_events(start, n), gzip=gz)
    state = state.wrote(len(data), n, {"offset": state.events + n})
    out.append(data, state)
    return state


def test_encode_events_is_compact_utf8_ndjson() -> None:
    data = encode_events([{"a": "é", "b": [1, 2]}], gzip=False)
    assert data == '{"a":"é","b":[1,2]}\n'.encode()
    assert gzip.decompress(encode_events([{"a": 1}], gzip=True)) == b'{"a":1}\n'
    assert encode_events([], gzip=True) == b""


@pytest.mark.parametrize("gz", [False, True])
def test_resume_truncates_an_uncommitted_tail(tmp_path: Path, gz: bool) -> None:
    path = tmp_path / ("out.ndjson.gz" if gz else "out.ndjson")
    out = DurableOutput(path)
    state = out.open(ItemState.start("t#0/1", "", WINDOW))
    assert out.checkpoint.exists()  # committed before the first byte is written
    state = _write(out, state, 0, 3, gz)
    state = _write(out, state, 3, 2, gz)
    # A kill after the data write but before the checkpoint commit, mid-line even:
    with open(out.partial, "ab") as fh:
        fh.write(encode_events(_events(5, 4), gzip=gz)[:-7])
    out.close()
    assert not path.exists()  # the output appears only once complete

    again = DurableOutput(path)
    resumed = again.open(ItemState.start("t#0/1", "", WINDOW))
    assert resumed == state
    assert again.partial.stat().st_size == state.bytes
    state = _write(again, resumed, 5, 4, gz)
    again.commit(state.finish_segment())
    again.publish()
    assert not again.partial.exists()
    assert _read(path, gz=gz) == [f"e{i}" for i in range(9)]


def test_a_done_checkpoint_completes_an_interrupted_publish(tmp_path: Path) -> None:
    path = tmp_path / "out.ndjson"
    out = DurableOutput(path)
    state = _write(out, out.open(ItemState.start("t#0/1", "", WINDOW)), 0, 3, False)
    out.commit(state.finish_segment())
    out.close()  # killed between the final commit and the rename
    assert not path.exists()
    done = DurableOutput(path).open(ItemState.start("t#0/1", "", WINDOW))
    assert done.done
    assert _read(path, gz=False) == ["e0", "e1", "e2"]


def test_an_empty_window_publishes_an_empty_file(tmp_path: Path) -> None:
    out = DurableOutput(tmp_path / "out.ndjson")
    out.commit(out.open(ItemState.start("t#0/1", "", WINDOW)).finish_segment())
    out.publish()
    assert (tmp_path / "out.ndjson").read_bytes() == b""


def test_checkpoint_is_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "out.ndjson"
    out = DurableOutput(path)
    state = out.open(ItemState.start("t#0/1", "", WINDOW))
    state = _write(out, state, 0, 2, False)
    out.close()
    assert ItemState.from_json(json.loads(out.checkpoint.read_text())) == state
    # No temporary files are left next to the checkpoint.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "out.ndjson.checkpoint.json",
        "out.ndjson.partial",
    ]


@pytest.mark.parametrize("name", ["out.ndjson", "out.ndjson.partial"])
def test_refuses_a_foreign_output(tmp_path: Path, name: str) -> None:
    foreign = tmp_path / name
    foreign.write_text("someone else's data\n")
    with pytest.raises(OutputStateError, match="no checkpoint"):
        DurableOutput(tmp_path / "out.ndjson").open(ItemState.start("t#0/1", "", WINDOW))
    assert foreign.read_text() == "someone else's data\n"


def test_refuses_an_output_shorter_than_its_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "out.ndjson"
    out = DurableOutput(path)
    state = out.open(ItemState.start("t#0/1", "", WINDOW))
    _write(out, state, 0, 2, False)
    out.close()
    out.partial.write_bytes(b"")
    with pytest.raises(OutputStateError, match="was the file replaced or truncated"):
        DurableOutput(path).open(ItemState.start("t#0/1", "", WINDOW))


def test_unreadable_checkpoint_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "out.ndjson"
    (tmp_path / "out.ndjson.checkpoint.json").write_text("{not json")
    with pytest.raises(OutputStateError, match="unreadable"):
        DurableOutput(path).open(ItemState.start("t#0/1", "", WINDOW))


def test_append_before_open_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="before open"):
        DurableOutput(tmp_path / "x").append(b"", ItemState.start("t#0/1", "", WINDOW))
