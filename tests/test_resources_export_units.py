"""Pure parts of the bulk export: request body, S3 settings, gzip completeness check."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sekoia_async import EventField, S3Destination
from sekoia_async._helpers.gzip_lines import GzipCheck, JsonLinesDecoder
from sekoia_async._models._converter import structure
from sekoia_async._resources.events_export import export_body
from sekoia_async.errors import APIResponseValidationError


def test_export_body_lists_fields_and_leaves_out_s3_by_default() -> None:
    assert export_body(["timestamp", "message"], None) == {"fields": ["timestamp", "message"]}


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ([], "non-empty list"),
        ("timestamp", "non-empty list"),
        (["event.*"], "wildcards"),
        ([""], "non-empty"),
    ],
)
def test_export_body_refuses_what_the_api_rejects(fields: list[str], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        export_body(fields, None)


def test_s3_destination_hides_secrets_and_sends_only_set_fields() -> None:
    s3 = S3Destination(
        bucket_name="b", access_key_id="AKIA1", secret_access_key="s3cr3t", sse_customer_key="k3y"
    )
    assert "s3cr3t" not in repr(s3)
    assert "k3y" not in repr(s3)
    assert export_body(["a"], s3)["s3"] == {
        "bucket_name": "b",
        "access_key_id": "AKIA1",
        "secret_access_key": "s3cr3t",
        "sse_customer_key": "k3y",
    }
    assert export_body(["a"], {"bucket_name": "x"})["s3"] == {"bucket_name": "x"}


def _feed(data: bytes, step: int) -> GzipCheck:
    check = GzipCheck()
    for i in range(0, len(data), step):
        check.feed(data[i : i + step])
    return check


@pytest.mark.parametrize("step", [1, 7, 4096])
def test_gzip_check_accepts_whole_files_including_concatenated_members(step: int) -> None:
    one = gzip.compress(b'{"a": 1}\n' * 500)
    _feed(one, step).finish()
    _feed(one + gzip.compress(b'{"b": 2}\n'), step).finish()


@pytest.mark.parametrize("cut", [3, 20, -8, -1])
def test_gzip_check_rejects_a_cut_short_file(cut: int) -> None:
    data = gzip.compress(b'{"a": 1}\n' * 500)
    check = _feed(data[:cut], 5)
    with pytest.raises(APIResponseValidationError, match="cut short"):
        check.finish()


def test_gzip_check_rejects_corrupt_data_and_ignores_plain_text() -> None:
    data = bytearray(gzip.compress(b"x" * 1000))
    data[12:20] = b"\xff" * 8
    with pytest.raises(APIResponseValidationError, match="not valid gzip"):
        _feed(bytes(data), 64).finish()
    _feed(b'{"plain": "jsonl"}\n', 3).finish()
    # An empty body is not a gzip stream either: nothing to verify.
    GzipCheck().finish()
    assert zlib  # the check relies on zlib's gzip mode (wbits=31)


def test_event_field_reads_missing_or_null_common_values() -> None:
    full = structure(
        {
            "name": "source.ip",
            "display_name": "Source IP",
            "value_type": "string",
            "most_common_values": [{"name": "1.2.3.4", "value": 42.5}],
            "new_server_field": True,
        },
        EventField,
    )
    assert full.most_common_values is not None
    assert full.most_common_values[0].name == "1.2.3.4"
    assert full.most_common_values[0].value == 42.5
    assert full.raw["new_server_field"] is True
    assert structure({"name": "x"}, EventField).most_common_values is None
    assert (
        structure({"name": "x", "most_common_values": None}, EventField).most_common_values is None
    )


def _decode(data: bytes, step: int) -> list[bytes]:
    decoder = JsonLinesDecoder()
    lines: list[bytes] = []
    for i in range(0, len(data), step):
        lines.extend(decoder.feed(data[i : i + step]))
    lines.extend(decoder.finish())
    return lines


@pytest.mark.parametrize("step", [1, 5, 333, 1 << 20])
@pytest.mark.parametrize("compress", [True, False])
def test_line_decoder_splits_lines_across_any_chunking(step: int, compress: bool) -> None:
    text = b"".join(b'{"i": %d}\n' % i for i in range(300)) + b'{"last": true}'
    data = gzip.compress(text[:1000]) + gzip.compress(text[1000:]) if compress else text
    assert _decode(data, step) == text.split(b"\n")


def test_line_decoder_inflates_lazily_in_bounded_steps() -> None:
    # 8 MiB of newlines compress to ~8 KiB: the decoder must not inflate it in one go.
    bomb = gzip.compress(b"\n" * (8 << 20))
    decoder = JsonLinesDecoder()
    lines = decoder.feed(bomb)
    first = next(lines)
    assert first == b""
    state = decoder._inflater
    assert state is not None
    assert not state.eof  # most of the stream is still compressed


def test_line_decoder_reports_a_cut_or_corrupt_gzip() -> None:
    data = gzip.compress(b'{"a": 1}\n' * 1000)
    with pytest.raises(APIResponseValidationError, match="cut short"):
        _decode(data[: len(data) // 2], 100)
    bad = bytearray(data)
    bad[15:30] = b"\x00" * 15
    with pytest.raises(APIResponseValidationError, match="not valid gzip"):
        _decode(bytes(bad), 100)
    assert _decode(b"x", 1) == [b"x"]
    assert _decode(b"", 1) == []


_ROWS = st.lists(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(st.integers(), st.text(max_size=20), st.booleans(), st.none()),
        max_size=4,
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(
    rows=_ROWS, cuts=st.lists(st.integers(min_value=1, max_value=64), max_size=30), gz=st.booleans()
)
def test_line_decoder_round_trips_any_rows_and_chunking(
    rows: list[dict[str, object]], cuts: list[int], gz: bool
) -> None:
    text = b"".join(json.dumps(r).encode() + b"\n" for r in rows)
    data = gzip.compress(text) if gz else text
    decoder = JsonLinesDecoder()
    lines: list[bytes] = []
    pos = 0
    for cut in cuts:
        lines.extend(decoder.feed(data[pos : pos + cut]))
        pos += cut
    lines.extend(decoder.feed(data[pos:]))
    lines.extend(decoder.finish())
    assert [json.loads(line) for line in lines if line] == rows
