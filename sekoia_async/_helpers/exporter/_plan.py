"""Work planning for the exporter. Pure: no I/O, no clock (``now`` is always passed in).

A tenant's window is cut into ``time_shards`` equal time shards, newest first; each
(tenant, time shard) pair is a *work item*, the unit ``--shard I/N`` distributes. While a work
item runs, a search whose total reaches the tenant's ``split_threshold`` is split again (in
halves, newest first) into *segments* that run as separate jobs, written one after the other
into the item's file, so the output stays newest first overall.

Windows are closed intervals ``[earliest, latest]`` at microsecond resolution, like the search
API's ``earliest_time``/``latest_time``; adjacent pieces never share an instant.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from ..._times import format_time, parse_time
from ._config import ExportConfig, TenantConfig

__all__ = [
    "CHECKPOINT_VERSION",
    "ItemState",
    "Window",
    "WorkItem",
    "parse_shard_spec",
    "plan_work",
    "resolve_window",
    "select_shard",
    "split_window",
]

CHECKPOINT_VERSION = 1
_TICK = timedelta(microseconds=1)
# Below this a segment is not split further: one second holding more events than the threshold
# is read as one job (and reported), rather than recursing forever.
MIN_SEGMENT = timedelta(seconds=1)


@attrs.frozen
class Window:
    """A closed time interval ``[earliest, latest]`` (timezone-aware UTC datetimes)."""

    earliest: datetime
    latest: datetime

    def __attrs_post_init__(self) -> None:
        if self.earliest > self.latest:
            raise ValueError(
                f"time window ends before it starts ({format_time(self.earliest)} > "
                f"{format_time(self.latest)}); swap earliest and latest"
            )

    @property
    def duration(self) -> timedelta:
        return self.latest - self.earliest

    def to_json(self) -> list[str]:
        return [format_time(self.earliest), format_time(self.latest)]

    @classmethod
    def from_json(cls, data: Any) -> Window:
        if not (isinstance(data, list) and len(data) == 2):
            raise ValueError(f"a window is a list [earliest, latest], got {data!r}")
        # Checkpoints hold what format_time() wrote; fromisoformat() reads that on 3.10 too.
        ends = [datetime.fromisoformat(str(v)) for v in data]
        if any(e.tzinfo is None for e in ends):
            raise ValueError(f"checkpoint window {data!r} has no UTC offset")
        return cls(ends[0], ends[1])


def resolve_window(earliest: str, latest: str, *, now: datetime) -> Window:
    """The absolute window of two Sekoia time expressions (``-30d``, ``now``, ISO 8601)."""
    return Window(parse_time(earliest, now=now), parse_time(latest, now=now))


def split_window(window: Window, parts: int) -> list[Window]:
    """``window`` cut into ``parts`` adjacent closed windows, newest first, covering every
    microsecond of it exactly once (fewer parts when the window is shorter than that)."""
    if parts < 1:
        raise ValueError(f"parts must be >= 1, got {parts}")
    ticks = (window.latest - window.earliest) // _TICK + 1
    parts = min(parts, ticks)
    out: list[Window] = []
    start = window.earliest
    for k in range(parts):
        # Integer arithmetic on microseconds keeps the cut points exact and deterministic.
        end_tick = (ticks * (k + 1)) // parts
        end = window.earliest + _TICK * (end_tick - 1)
        out.append(Window(start, end))
        start = end + _TICK
    out.reverse()
    return out


@attrs.frozen
class WorkItem:
    """One (tenant, time shard) pair; ``shard`` 0 is the newest time shard."""

    tenant: str
    shard: int
    shards: int

    @property
    def key(self) -> str:
        return f"{self.tenant}#{self.shard}/{self.shards}"


def plan_work(config: ExportConfig) -> list[WorkItem]:
    """Every work item of ``config`` in a deterministic order (tenants in file order, then time
    shards newest first)."""
    return [
        WorkItem(tenant.name, shard, tenant.time_shards)
        for tenant in config.tenants
        for shard in range(tenant.time_shards)
    ]


_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_shard_spec(spec: str) -> tuple[int, int]:
    """``"I/N"`` -> ``(I, N)``; I counts from 0 (like a Kubernetes indexed Job's
    JOB_COMPLETION_INDEX)."""
    match = _SHARD.fullmatch(spec)
    if match is None:
        raise ValueError(f"--shard must look like I/N (e.g. 0/4), got {spec!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise ValueError(f"--shard {spec}: N must be >= 1 and I between 0 and N-1")
    return index, count


def select_shard(items: Sequence[WorkItem], index: int, count: int) -> list[WorkItem]:
    """The work items slice ``index`` of ``count`` runs: every ``count``-th item from
    ``index``. The slices are disjoint and together cover every item once."""
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard {index}/{count}: need 0 <= I < N")
    return list(items[index::count])


def item_window(tenant: TenantConfig, item: WorkItem, tenant_window: Window) -> Window:
    """The window of ``item`` within its tenant's resolved window."""
    return split_window(tenant_window, item.shards)[item.shard]


def split_segment(window: Window) -> tuple[Window, Window] | None:
    """``window`` in two halves (newer, older), or None when it is too short to split."""
    if window.duration < MIN_SEGMENT:
        return None
    newer, older = split_window(window, 2)
    return newer, older


@attrs.frozen
class ItemState:
    """A work item's durable progress: what its checkpoint file holds.

    ``segments`` are the windows still to read, newest first; the first is in progress and
    ``token`` (the search stream's continuation token) says how far. ``bytes`` is the length
    of the output that holds exactly the ``events`` written so far.
    """

    item: str
    query: str
    window: Window
    segments: tuple[Window, ...]
    token: dict[str, Any] | None = None
    bytes: int = 0
    events: int = 0
    splits: int = 0
    done: bool = False

    @classmethod
    def start(cls, item: str, query: str, window: Window) -> ItemState:
        return cls(item=item, query=query, window=window, segments=(window,))

    def to_json(self) -> dict[str, Any]:
        return {
            "version": CHECKPOINT_VERSION,
            "item": self.item,
            "query": self.query,
            "window": self.window.to_json(),
            "segments": [s.to_json() for s in self.segments],
            "token": self.token,
            "bytes": self.bytes,
            "events": self.events,
            "splits": self.splits,
            "done": self.done,
        }

    @classmethod
    def from_json(cls, data: Any) -> ItemState:
        if not isinstance(data, dict) or data.get("version") != CHECKPOINT_VERSION:
            version = data.get("version") if isinstance(data, dict) else None
            raise ValueError(
                f"unsupported checkpoint version {version!r} (this sekoia-async writes "
                f"version {CHECKPOINT_VERSION})"
            )
        try:
            token = data["token"]
            if token is not None and not isinstance(token, dict):
                raise ValueError("token must be an object or null")
            return cls(
                item=str(data["item"]),
                query=str(data["query"]),
                window=Window.from_json(data["window"]),
                segments=tuple(Window.from_json(s) for s in data["segments"]),
                token=token,
                bytes=_non_negative(data["bytes"]),
                events=_non_negative(data["events"]),
                splits=_non_negative(data.get("splits", 0)),
                done=bool(data["done"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed checkpoint: {exc!r}") from None

    def wrote(self, nbytes: int, nevents: int, token: dict[str, Any] | None) -> ItemState:
        """The state after a durable write of ``nevents`` events (``nbytes`` bytes)."""
        return attrs.evolve(
            self, bytes=self.bytes + nbytes, events=self.events + nevents, token=token
        )

    def split_current(self) -> ItemState | None:
        """The state with the current segment replaced by its two halves (None if too short).

        Only valid before any event of the segment was written (``token`` is None)."""
        if self.token is not None or not self.segments:
            return None
        halves = split_segment(self.segments[0])
        if halves is None:
            return None
        return attrs.evolve(self, segments=(*halves, *self.segments[1:]), splits=self.splits + 1)

    def finish_segment(self) -> ItemState:
        """The state once the current segment has been read to its end."""
        rest = self.segments[1:]
        return attrs.evolve(self, segments=rest, token=None, done=not rest)


def _non_negative(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a non-negative integer, got {value!r}")
    return value
