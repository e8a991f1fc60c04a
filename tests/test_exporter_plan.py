"""Pure tests of the exporter's planning: windows, time shards, --shard slices, checkpoints."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sekoia_async._helpers.exporter import (
    ExportConfig,
    ItemState,
    TenantConfig,
    Window,
    WorkItem,
    parse_shard_spec,
    plan_work,
    resolve_window,
    select_shard,
    split_window,
)

UTC = timezone.utc
T0 = datetime(2026, 11, 1, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def _config(*shards: int) -> ExportConfig:
    return ExportConfig(
        tuple(
            TenantConfig(name=f"t{i}", output=Path(f"t{i}.ndjson"), api_key="k", time_shards=k)
            for i, k in enumerate(shards)
        )
    )


def test_resolve_window_uses_now() -> None:
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    assert resolve_window("-1d", "now", now=now) == Window(now - timedelta(days=1), now)


def test_resolve_window_rejects_inverted_window() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        resolve_window("now", "-1d", now=T0)


@given(
    seconds=st.integers(min_value=0, max_value=10**8),
    micros=st.integers(min_value=0, max_value=999_999),
    parts=st.integers(min_value=1, max_value=50),
)
def test_split_window_covers_every_instant_once_newest_first(
    seconds: int, micros: int, parts: int
) -> None:
    window = Window(T0, T0 + timedelta(seconds=seconds, microseconds=micros))
    pieces = split_window(window, parts)
    assert 1 <= len(pieces) <= parts
    # Newest first, adjacent, no shared instant, no gap, exact ends.
    assert pieces[0].latest == window.latest
    assert pieces[-1].earliest == window.earliest
    for newer, older in itertools.pairwise(pieces):
        assert older.latest + TICK == newer.earliest
    assert all(p.earliest <= p.latest for p in pieces)


def test_split_window_is_even() -> None:
    window = Window(T0, T0 + timedelta(days=4) - TICK)
    pieces = split_window(window, 4)
    assert [p.duration for p in pieces] == [timedelta(days=1) - TICK] * 4


def test_plan_work_is_tenant_major_and_deterministic() -> None:
    items = plan_work(_config(2, 1, 3))
    assert [i.key for i in items] == ["t0#0/2", "t0#1/2", "t1#0/1", "t2#0/3", "t2#1/3", "t2#2/3"]
    assert plan_work(_config(2, 1, 3)) == items


@given(
    shards=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=12),
    count=st.integers(min_value=1, max_value=20),
)
def test_shard_slices_cover_every_item_exactly_once(shards: list[int], count: int) -> None:
    items = plan_work(_config(*shards))
    slices = [select_shard(items, i, count) for i in range(count)]
    flat = [item for s in slices for item in s]
    assert sorted(flat, key=lambda i: i.key) == sorted(items, key=lambda i: i.key)
    assert len(flat) == len(set(flat))
    # Balanced: slice sizes differ by at most one.
    sizes = [len(s) for s in slices]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize(
    ("spec", "expected"), [("0/1", (0, 1)), ("3/4", (3, 4)), (" 1 / 2 ", (1, 2))]
)
def test_parse_shard_spec(spec: str, expected: tuple[int, int]) -> None:
    assert parse_shard_spec(spec) == expected


@pytest.mark.parametrize("spec", ["4/4", "1/0", "a/b", "1", "-1/2", "1/2/3"])
def test_parse_shard_spec_rejects(spec: str) -> None:
    with pytest.raises(ValueError, match="--shard"):
        parse_shard_spec(spec)


def test_item_state_round_trips_through_json() -> None:
    window = Window(T0, T0 + timedelta(days=1))
    state = ItemState.start("t#0/1", 'source.ip:"1.2.3.4"', window)
    state = state.wrote(120, 3, {"version": 1, "job": "abc", "offset": 3})
    assert ItemState.from_json(state.to_json()) == state


def test_item_state_split_then_finish() -> None:
    window = Window(T0, T0 + timedelta(hours=2))
    state = ItemState.start("t#0/1", "", window)
    split = state.split_current()
    assert split is not None
    newer, older = split.segments
    assert newer.latest == window.latest
    assert older.earliest == window.earliest
    assert split.splits == 1
    # Once events of a segment are written it may no longer be split.
    assert split.wrote(10, 1, {"offset": 1}).split_current() is None
    after = split.finish_segment()
    assert after.segments == (older,)
    assert not after.done
    assert after.token is None
    assert after.finish_segment().done


def test_item_state_does_not_split_below_a_second() -> None:
    state = ItemState.start("t#0/1", "", Window(T0, T0 + timedelta(milliseconds=999)))
    assert state.split_current() is None


@pytest.mark.parametrize(
    "bad",
    [
        {"version": 99},
        {"version": 1, "item": "x"},
        {
            "version": 1,
            "item": "x",
            "query": "",
            "window": ["a"],
            "segments": [],
            "token": None,
            "bytes": 0,
            "events": 0,
            "done": False,
        },
        {
            "version": 1,
            "item": "x",
            "query": "",
            "window": ["2026-01-01T00:00:00+00:00"] * 2,
            "segments": [],
            "token": None,
            "bytes": -1,
            "events": 0,
            "done": False,
        },
    ],
)
def test_item_state_rejects_malformed_checkpoints(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"checkpoint|window|integer"):
        ItemState.from_json(bad)


def test_work_item_key() -> None:
    assert WorkItem("acme", 2, 5).key == "acme#2/5"
