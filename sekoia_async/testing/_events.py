"""The emulator's event store: lazy, deterministic synthetic events plus explicitly added ones.

A generated block of ``n`` events costs a few integers, not ``n`` dicts: event ``i`` is a pure
function of ``(seed, block, i)`` and its timestamp is arithmetic in ``i`` (index 0 is the newest),
so a time window maps to an index range by binary search. A search keeps either that range
(empty term) or an ``array('I')`` of matching indices; every field is computed on demand, so
matching reads only the fields the query names. Added events are kept sorted by timestamp and
merged with the generated ones, newest first.
"""

from __future__ import annotations

import heapq
import json
import uuid
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from .._times import parse_time
from ._query import Accessor, Query

__all__ = ["AlertWindow", "EventStore", "GeneratedBlock", "ResultSet", "format_event_time"]

_M64 = (1 << 64) - 1
_M62 = (1 << 62) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _mix64(x: int) -> int:
    """splitmix64's finaliser: a fast, well-spread bijection on 64-bit integers."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def _r1(r2: int) -> int:
    """An event's ``r1`` hash from its ``r2`` (the mix of its index): one multiply is all the
    hot loop can afford, and the low bits of a product of well-mixed bits are well mixed."""
    return (r2 * 0x9E3779B97F4A7C15) & _M64


def _mix62(x: int) -> int:
    """A bijection on 62-bit integers (odd multipliers and xor-shifts are invertible)."""
    x = (x * 0x2545F4914F6CDD1D) & _M62
    x ^= x >> 31
    x = (x * 0x1B873593A5C7B3E1) & _M62
    return x ^ (x >> 29)


_MINUTE_CACHE: dict[int, str] = {}
_DAY_CACHE: dict[int, str] = {}
_DEC2 = [f"{n:02d}" for n in range(60)]


def format_event_time(us: int) -> str:
    """Event timestamps as Sekoia stores them: ISO 8601 UTC with milliseconds and ``Z``."""
    # Served once per event: neighbours share their minute, so its text is cached.
    minutes, rest = divmod(us, 60_000_000)
    prefix = _MINUTE_CACHE.get(minutes)
    if prefix is None:
        if len(_MINUTE_CACHE) > 100_000:
            _MINUTE_CACHE.clear()
        # A sparse store misses every few events: the date part is cached per day, the rest
        # comes from tables (datetime formatting costs several times more).
        day, minute = divmod(minutes, 1440)
        date = _DAY_CACHE.get(day)
        if date is None:
            date = _DAY_CACHE[day] = f"{_EPOCH + timedelta(days=day):%Y-%m-%d}T"
        hour, minute = divmod(minute, 60)
        prefix = _MINUTE_CACHE[minutes] = f"{date}{_DEC2[hour]}:{_DEC2[minute]}:"
    seconds, micro = divmod(rest, 1_000_000)
    return f"{prefix}{seconds:02d}.{micro // 1000:03d}Z"


def parse_event_time(value: Any) -> int:
    """Microseconds since the epoch of an event ``timestamp`` (ISO string or datetime)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        if value.strip()[:1] in ("n", "+", "-"):
            raise ValueError(
                f"event timestamp {value!r} is relative: stored events need an absolute "
                "ISO 8601 time such as 2026-01-10T12:00:00Z"
            )
        dt = parse_time(value, now=_EPOCH)
    else:
        raise ValueError(f"event timestamp must be an ISO 8601 string, got {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


_HOSTS = [f"{p}-{n:02d}" for p in ("srv-web", "srv-db", "wks", "dc", "fw", "vpn") for n in range(8)]
_USERS = [
    *("alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi", "ivan", "judy"),
    *("mallory", "oscar", "peggy", "trent", "victor", "walter", "svc-backup", "administrator"),
]
_PORTS = [22, 53, 80, 123, 389, 443, 445, 636, 3306, 3389, 5432, 8080, 8443, 9200]
_ACTIONS = [
    ("process-started", "process", "powershell.exe -NoProfile -EncodedCommand SQBFAFgA"),
    ("process-started", "process", "cmd.exe /c whoami /all"),
    (
        "process-started",
        "process",
        "rundll32.exe C:\\Windows\\System32\\shell32.dll,Control_RunDLL",
    ),
    ("user-logon", "authentication", "C:\\Windows\\System32\\winlogon.exe"),
    ("user-logon-failed", "authentication", "C:\\Windows\\System32\\lsass.exe"),
    ("connection-accepted", "network", "/usr/sbin/nginx -g daemon off;"),
    ("connection-denied", "network", "/usr/bin/fortigate --policy 12"),
    ("file-created", "file", "C:\\Program Files\\Office\\WINWORD.EXE /n report.docx"),
    ("dns-query", "network", "/usr/sbin/unbound -d"),
    ("http-request", "web", "/usr/sbin/nginx -g daemon off;"),
]
# One endpoint agent per host, so agent.id follows host.name as in real data.
_AGENT_IDS = {h: f"{_mix64(n + 1):016x}{_mix64(n + 1001):016x}" for n, h in enumerate(_HOSTS)}
_PROCESS_NAMES = {
    command: command.split(" ")[0].rsplit("\\", 1)[-1].rsplit("/", 1)[-1]
    for _, _, command in _ACTIONS
}
_OUTCOMES = ["success", "success", "success", "failure", "unknown"]
_METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD"]
_PATHS = ["/", "/login", "/api/v1/items", "/admin", "/static/app.js", "/wp-login.php", "/health"]
_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "curl/8.5.0",
    "python-requests/2.32.3",
]
_LEVELS = ["info", "info", "info", "notice", "warning", "error"]


# Fields that vary per event are computed from two 64-bit hashes of (block, index); all the
# others come from one of _PROFILE_COUNT "profiles" (an intake, an action, a host, a user...), each
# pre-rendered once as JSON. Serving an event then formats a handful of values instead of
# thirty: cold pages cost about half as much.
_PROFILE_COUNT = 1024


class _Profile:
    """The static fields of the events sharing one profile, as values and as a JSON fragment."""

    __slots__ = ("community", "fields", "json", "message_head", "message_tail")
    community: str
    fields: dict[str, Any]
    json: str
    message_head: str
    message_tail: str

    def __init__(self, number: int, intakes: Sequence[dict[str, Any]], entities: dict[str, str]):
        r = _mix64(0x5EC01A ^ number)
        s = _mix64(r)
        intake = intakes[r % len(intakes)]
        action, category, command = _ACTIONS[(r >> 8) % len(_ACTIONS)]
        host = _HOSTS[(r >> 16) % len(_HOSTS)]
        user = _USERS[(r >> 24) % len(_USERS)]
        port = _PORTS[(r >> 32) % len(_PORTS)]
        outcome = _OUTCOMES[(r >> 40) % len(_OUTCOMES)]
        self.community = intake["community_uuid"]
        self.message_head = f"{action} on {host} by {user}: "
        self.message_tail = f":{port} {outcome}"
        fields: dict[str, Any] = {
            "event.dialect": intake["dialect"],
            "event.category": category,
            "event.action": action,
            "event.outcome": outcome,
            "log.level": _LEVELS[(r >> 48) % len(_LEVELS)],
            "destination.port": port,
            "network.transport": "udp" if port in (53, 123) else "tcp",
            "host.name": host,
            "host.os.family": "linux" if host.startswith(("srv", "fw")) else "windows",
            "user.name": user,
            "process.name": _PROCESS_NAMES[command],
            "process.command_line": command,
        }
        # HTTP fields only on web events, as real logs carry them: this keeps an event near
        # the 1 KB the issue specifies.
        if category == "web":
            fields["http.request.method"] = _METHODS[s % len(_METHODS)]
            fields["url.path"] = _PATHS[(s >> 8) % len(_PATHS)]
            fields["user_agent.original"] = _AGENTS[(s >> 16) % len(_AGENTS)]
        fields.update(
            {
                "agent.id": _AGENT_IDS[host],
                "sekoiaio.intake.uuid": intake["uuid"],
                "sekoiaio.intake.name": intake["name"],
                "sekoiaio.entity.uuid": intake["entity_uuid"],
                "sekoiaio.entity.name": entities[intake["entity_uuid"]],
                "sekoiaio.customer.community_uuid": intake["community_uuid"],
            }
        )
        self.fields = fields
        self.json = json.dumps(self.fields, separators=(",", ":"))[1:-1]


_DEC3 = [f"{n:03d}" for n in range(1000)]


def _alerts_json(short_ids: list[str]) -> str:
    return ',"alert_short_ids":' + json.dumps(short_ids, separators=(",", ":")) + "}"


def _render_src(r: int) -> str:
    return f"10.{r & 15}.{(r >> 4) & 255}.{_mix64(r) & 255}"


def _render_dst(r: int) -> str:
    x = _mix64(r ^ 0xD57)
    if r & 3 == 0:
        return f"192.168.{(x >> 2) & 7}.{(x >> 5) & 255}"
    return f"{(x >> 2) % 223 + 1}.{(x >> 10) & 255}.{(x >> 18) & 255}.{(x >> 26) & 255}"


# Addresses come from pools of pre-rendered strings (4096 sources, 4096 destinations, a quarter
# of them private): serving an event looks two up instead of formatting eight numbers.
_SRC_POOL = [_render_src(r) for r in range(4096)]
_DST_POOL = [_render_dst(r) for r in range(4096)]
# Likewise ephemeral source ports and process ids, as JSON numbers.
_PORT_POOL = [str(1024 + _mix64(r ^ 0x5017) % 64000) for r in range(4096)]
_PID_POOL = [str(100 + _mix64(r ^ 0x91D) % 60000) for r in range(4096)]


def _render_id_head(r: int) -> str:
    x = _mix64(r ^ 0x1D)
    return f"{x >> 32:08x}-{(x >> 16) & 0xFFFF:04x}-4{x & 0xFFF:03x}-"


# ``__event_id`` values are version-4 UUIDs: the first half is one of 4096 pre-rendered heads,
# the second (RFC 4122 variant) holds the 62 bits of the index's bijection, so ids never
# collide within a block and only that half is formatted per event.
_ID_HEADS = [_render_id_head(r) for r in range(4096)]


def _id_tail(r2: int) -> str:
    h = f"{0x8000000000000000 | r2:016x}"
    return f"{h[:4]}-{h[4:]}"


def _src_ip(r1: int) -> str:
    return _SRC_POOL[(r1 >> 16) & 4095]


def _dst_ip(r2: int) -> str:
    return _DST_POOL[(r2 >> 20) & 4095]


# An alert as events see it: (first_seen_us, last_seen_us, short_id, community_uuid).
AlertWindow = tuple[int, int, str, str]
# About this many events of a generated block carry each alert whose window it covers (fewer
# when the alert's community owns fewer of them), however dense the block.
_EVENTS_PER_ALERT = 16


class _AlertLinks:
    """Which events of one block carry which alert short ids (built once, then read-only).

    For each alert, ``_EVENTS_PER_ALERT`` positions of its [first_seen_at, last_seen_at] window
    are drawn from a hash; those whose community is the alert's carry its short id, as real
    alerts cite a few events of their tenant. An alert whose window holds any event always
    has one (the first of its community within 256, else the window's first). Serving an
    event then costs one dict lookup.
    """

    __slots__ = ("by_index",)

    def __init__(self, block: GeneratedBlock, alerts: Sequence[AlertWindow]) -> None:
        by_index: dict[int, list[str]] = {}

        def community_of(i: int) -> str:
            return block.profiles[_r1(_mix62(i ^ (block.key & _M62))) % _PROFILE_COUNT].community

        for number, (lo_us, hi_us, short_id, community) in enumerate(alerts):
            window = block.index_range(lo_us, hi_us)
            if not len(window):
                continue
            first = next((i for i in window[:256] if community_of(i) == community), window.start)
            picked = {first}
            salt = _mix64(block.key ^ (number + 1) * 0x9E3779B97F4A7C15)
            for k in range(_EVENTS_PER_ALERT):
                i = window[_mix64(salt + k) % len(window)]
                if community_of(i) == community:
                    picked.add(i)
            for i in sorted(picked):
                by_index.setdefault(i, []).append(short_id)
        self.by_index = by_index


class _Ctx:
    """One event's hashes, for computing single fields on demand (query matching)."""

    __slots__ = ("block", "i", "profile", "r1", "r2")
    block: GeneratedBlock
    i: int
    r1: int
    r2: int
    profile: _Profile

    def __init__(self, block: GeneratedBlock, i: int) -> None:
        self.block = block
        self.i = i
        self.r2 = _mix62(i ^ (block.key & _M62))
        self.r1 = _r1(self.r2)
        self.profile = block.profiles[self.r1 % _PROFILE_COUNT]  # == r1 & 1023


def _message(c: _Ctx) -> str:
    p = c.profile
    return f"{p.message_head}{_src_ip(c.r1)} -> {_dst_ip(c.r2)}{p.message_tail}"


# The per-event fields, in the order events carry them; profile fields follow.
_EVENT_FIELDS: dict[str, Callable[[_Ctx], Any]] = {
    "__event_id": lambda c: c.block.event_id(c.i),
    "timestamp": lambda c: format_event_time(c.block.ts_us(c.i)),
    "message": _message,
    "source.ip": lambda c: _src_ip(c.r1),
    "source.port": lambda c: int(_PORT_POOL[(c.r1 >> 3) & 4095]),
    "destination.ip": lambda c: _dst_ip(c.r2),
    "process.pid": lambda c: int(_PID_POOL[(c.r2 >> 24) & 4095]),
}
_PROFILE_FIELDS = (
    *("event.dialect", "event.category", "event.action", "event.outcome", "log.level"),
    *("destination.port", "network.transport", "host.name", "host.os.family", "user.name"),
    *("process.name", "process.command_line", "http.request.method", "url.path"),
    *("user_agent.original", "agent.id", "sekoiaio.intake.uuid", "sekoiaio.intake.name"),
    *("sekoiaio.entity.uuid", "sekoiaio.entity.name", "sekoiaio.customer.community_uuid"),
)


def _profile_field(name: str) -> Callable[[_Ctx], Any]:
    return lambda c: c.profile.fields.get(name)


# Every field of a generated event, each computable alone (query matching reads only these).
FIELDS: dict[str, Callable[[_Ctx], Any]] = {
    **_EVENT_FIELDS,
    **{name: _profile_field(name) for name in _PROFILE_FIELDS},
    "alert_short_ids": lambda c: c.block.alerts.by_index.get(c.i),
}


class GeneratedBlock:
    """``n`` synthetic events spread evenly over [start_us, end_us]; index 0 is the newest."""

    __slots__ = ("alerts", "end_us", "key", "n", "profiles", "span_us", "start_us")
    alerts: _AlertLinks
    end_us: int
    key: int
    n: int
    profiles: list[_Profile]
    span_us: int
    start_us: int

    def __init__(
        self,
        *,
        seed: int,
        block: int,
        n: int,
        start_us: int,
        end_us: int,
        profiles: list[_Profile],
        alerts: Sequence[AlertWindow] = (),
    ) -> None:
        if n < 0:
            raise ValueError(f"the number of events must be >= 0, got {n}")
        if end_us < start_us:
            raise ValueError("the end of the generated window is before its start")
        self.key = _mix64((seed << 20) ^ block)
        self.n = n
        self.start_us = start_us
        self.end_us = end_us
        self.span_us = end_us - start_us
        self.profiles = profiles
        self.alerts = _AlertLinks(self, alerts)

    def ts_us(self, i: int) -> int:
        return self.end_us - (i * self.span_us) // max(self.n, 1)

    def event_id(self, i: int) -> str:
        low = _mix62(i ^ (self.key & _M62))  # a bijection of i: ids never collide in a block
        return f"{_ID_HEADS[(_r1(low) >> 40) & 4095]}{_id_tail(low)}"

    def index_range(self, lo_us: int, hi_us: int) -> range:
        """Indices whose timestamp lies in [lo_us, hi_us] (timestamps decrease with the index)."""
        everything = range(self.n)
        first = bisect_left(everything, -hi_us, key=lambda i: -self.ts_us(i))
        last = bisect_right(everything, -lo_us, key=lambda i: -self.ts_us(i))
        return range(first, max(first, last))

    def accessor(self, i: int) -> Accessor:
        ctx = _Ctx(self, i)

        def get(name: str) -> Any:
            fn = FIELDS.get(name)
            return fn(ctx) if fn is not None else None

        return get

    def event(self, i: int) -> dict[str, Any]:
        ctx = _Ctx(self, i)
        out = {name: fn(ctx) for name, fn in _EVENT_FIELDS.items()}
        out.update(ctx.profile.fields)
        alerts = self.alerts.by_index.get(i)
        if alerts is not None:
            out["alert_short_ids"] = list(alerts)
        return out

    def event_json(self, i: int) -> str:
        """``json.dumps(self.event(i))`` (compact), built from pre-rendered parts."""
        return self.events_json((i,))[0]

    def events_json(self, indices: Iterable[int]) -> list[str]:
        """``event_json`` of each index: the page-serving hot loop, with every helper inlined
        (same values as ``_mix64``, ``_mix62``, ``event_id``, ``ts_us`` and the field functions).

        Costs add up per event here, so: two cheap hashes, addresses and small numbers come
        from pre-rendered tables, and ``%`` formats hexadecimal (cheaper than format specs).
        """
        key, m64, m62 = self.key, _M64, _M62
        key62 = key & m62
        end_us, span, n = self.end_us, self.span_us, max(self.n, 1)
        profiles = self.profiles
        minute_cache = _MINUTE_CACHE
        linked = self.alerts.by_index
        dec2, dec3, src_pool, dst_pool = _DEC2, _DEC3, _SRC_POOL, _DST_POOL
        port_pool, pid_pool, id_heads = _PORT_POOL, _PID_POOL, _ID_HEADS
        out = []
        for i in indices:
            r2 = ((i ^ key62) * 0x2545F4914F6CDD1D) & m62
            r2 ^= r2 >> 31
            r2 = (r2 * 0x1B873593A5C7B3E1) & m62
            r2 ^= r2 >> 29
            r1 = (r2 * 0x9E3779B97F4A7C15) & m64
            us = end_us - (i * span) // n
            minutes, rest = divmod(us, 60_000_000)
            prefix = minute_cache.get(minutes)
            if prefix is None:
                stamp = format_event_time(us)
            else:
                seconds, ms = divmod(rest // 1000, 1000)
                stamp = f"{prefix}{dec2[seconds]}.{dec3[ms]}Z"
            p = profiles[r1 & 1023]
            src = src_pool[(r1 >> 16) & 4095]
            dst = dst_pool[(r2 >> 20) & 4095]
            # ``%`` here: measurably cheaper than format specifiers in this loop.
            h = "%016x" % (0x8000000000000000 | r2)
            short_ids = linked.get(i)
            out.append(
                f'{{"__event_id":"{id_heads[(r1 >> 40) & 4095]}{h[:4]}-{h[4:]}",'
                f'"timestamp":"{stamp}","message":"{p.message_head}{src} -> {dst}{p.message_tail}",'
                f'"source.ip":"{src}",'
                f'"source.port":{port_pool[(r1 >> 3) & 4095]},'
                f'"destination.ip":"{dst}","process.pid":{pid_pool[(r2 >> 24) & 4095]},{p.json}'
                + ("}" if short_ids is None else _alerts_json(short_ids))
            )
        return out


def make_profiles(intakes: Sequence[dict[str, Any]], entities: dict[str, str]) -> list[_Profile]:
    if not intakes:
        raise ValueError("generated events need at least one intake")
    return [_Profile(number, intakes, entities) for number in range(_PROFILE_COUNT)]


Source = tuple[int, Sequence[int]]  # (source number, matching positions in that source)


class _Snapshot:
    """The sources one search saw: the generated blocks then (last) its matching added events.

    Jobs are snapshots, as on the real API: events added later never shift a job's pages.
    """

    def __init__(
        self, blocks: Sequence[GeneratedBlock], added: list[dict[str, Any]], added_ts: list[int]
    ) -> None:
        self.blocks = list(blocks)
        self.added = added
        self.added_ts = added_ts

    def ts_at(self, source: int, pos: int) -> int:
        if source < len(self.blocks):
            return self.blocks[source].ts_us(pos)
        return self.added_ts[pos]

    def event_at(self, source: int, pos: int) -> dict[str, Any]:
        if source < len(self.blocks):
            return self.blocks[source].event(pos)
        return self.added[pos]

    def event_json_at(self, source: int, pos: int) -> str:
        if source < len(self.blocks):
            return self.blocks[source].event_json(pos)
        return json.dumps(self.added[pos], separators=(",", ":"))

    def event_id_at(self, source: int, pos: int) -> str:
        if source < len(self.blocks):
            return self.blocks[source].event_id(pos)
        return str(self.added[pos]["__event_id"])


class ResultSet:
    """The matches of one search, newest first, without materialising the events."""

    def __init__(self, snapshot: _Snapshot, sources: list[Source], limit: int | None) -> None:
        self._store = snapshot
        nonempty = [s for s in sources if len(s[1])]
        self._single: Source | None = None
        self._merged: array[int] | None = None
        if len(nonempty) == 1:
            self._single = nonempty[0]
            count = len(nonempty[0][1])
        elif nonempty:
            self._merged = _merge(snapshot, nonempty)
            count = len(self._merged)
        else:
            count = 0
        self.total = count if limit is None else min(count, limit)

    def _at(self, k: int) -> tuple[int, int]:
        if self._single is not None:
            return self._single[0], self._single[1][k]
        assert self._merged is not None
        packed = self._merged[k]
        return packed >> 40, packed & ((1 << 40) - 1)

    def page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        end = min(self.total, offset + limit)
        return [self._store.event_at(*self._at(k)) for k in range(offset, end)]

    def page_json(self, offset: int, limit: int) -> list[str]:
        """The compact JSON of each event of ``page(offset, limit)``."""
        end = min(self.total, offset + limit)
        single = self._single
        if single is not None and single[0] < len(self._store.blocks):
            return self._store.blocks[single[0]].events_json(single[1][offset:end])
        return [self._store.event_json_at(*self._at(k)) for k in range(offset, end)]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for k in range(self.total):
            yield self._store.event_at(*self._at(k))

    def ids(self) -> list[str]:
        return [self._store.event_id_at(*self._at(k)) for k in range(self.total)]


def _merge(snapshot: _Snapshot, sources: list[Source]) -> array[int]:
    def stream(src: Source) -> Iterator[tuple[int, int]]:
        number, positions = src
        for pos in positions:
            yield -snapshot.ts_at(number, pos), (number << 40) | pos

    merged = array("Q")
    for _, packed in heapq.merge(*(stream(s) for s in sources)):
        merged.append(packed)
    return merged


class EventStore:
    """Generated blocks plus added events, searched into snapshot ``ResultSet``s."""

    def __init__(
        self,
        *,
        seed: int,
        intakes: Sequence[dict[str, Any]],
        entity_names: dict[str, str],
        alerts: Callable[[], Sequence[AlertWindow]] | None = None,
    ):
        self.seed = seed
        # The alerts generated events link to, read once at the first ``generate`` (alerts
        # created later have no generated events, as a new alert has no past events).
        self._alerts_source = alerts
        self._alerts: Sequence[AlertWindow] | None = None
        self.intakes = list(intakes)
        self.entity_names = entity_names
        self.blocks: list[GeneratedBlock] = []
        self._profiles: list[_Profile] | None = None
        # Added events sorted newest first; ``_added_keys`` holds -timestamp for bisect.
        self._added: list[dict[str, Any]] = []
        self._added_keys: list[int] = []
        self._added_counter = 0
        self.version = 0  # bumped on every change

    def __len__(self) -> int:
        return sum(b.n for b in self.blocks) + len(self._added)

    def generate(self, n: int, start_us: int, end_us: int) -> GeneratedBlock:
        if self._profiles is None:
            self._profiles = make_profiles(self.intakes, self.entity_names)
        if self._alerts is None:
            self._alerts = self._alerts_source() if self._alerts_source is not None else ()
        block = GeneratedBlock(
            seed=self.seed,
            block=len(self.blocks),
            n=n,
            start_us=start_us,
            end_us=end_us,
            profiles=self._profiles,
            alerts=self._alerts,
        )
        self.blocks.append(block)
        self.version += 1
        return block

    def add(self, events: Sequence[dict[str, Any]], now_us: int) -> list[str]:
        """Add copies of ``events``; all or none (every event is checked before any is added)."""
        prepared: list[tuple[int, dict[str, Any]]] = []
        for raw in events:
            if not isinstance(raw, dict):
                raise TypeError(f"events must be dicts of dotted fields, got {type(raw).__name__}")
            event = dict(raw)
            ts = parse_event_time(event["timestamp"]) if "timestamp" in event else now_us
            if not isinstance(event.get("timestamp"), str):
                event["timestamp"] = format_event_time(ts)
            prepared.append((-ts, event))
        for _, event in prepared:
            if "__event_id" not in event:
                self._added_counter += 1
                event["__event_id"] = str(
                    uuid.UUID(
                        int=(_mix64(self.seed ^ 0xADD) << 64) | self._added_counter, version=4
                    )
                )
        # Newest first; the sort is stable, so equal timestamps keep their insertion order
        # (and it runs in linear time on the two already sorted runs).
        pairs = [*zip(self._added_keys, self._added, strict=True), *prepared]
        pairs.sort(key=lambda pair: pair[0])
        self._added_keys = [key for key, _ in pairs]
        self._added = [event for _, event in pairs]
        self.version += 1
        return [event["__event_id"] for _, event in prepared]

    def search(
        self, lo_us: int, hi_us: int, query: Query | None, *, limit: int | None = None
    ) -> ResultSet:
        """Matches in [lo_us, hi_us]; ``query`` None means everything in the window.

        Safe to run in a worker thread: it reads copies taken first.
        """
        blocks, added, added_keys = list(self.blocks), list(self._added), list(self._added_keys)
        sources: list[Source] = []
        for number, block in enumerate(blocks):
            window = block.index_range(lo_us, hi_us)
            if query is None:
                sources.append((number, window))
            else:
                matches = array("I")
                accessor = block.accessor
                for i in window:
                    if query(accessor(i)):
                        matches.append(i)
                sources.append((number, matches))
        first = bisect_left(added_keys, -hi_us)
        last = bisect_right(added_keys, -lo_us)
        picked = [pos for pos in range(first, last) if query is None or query(added[pos].get)]
        snapshot = _Snapshot(blocks, [added[p] for p in picked], [-added_keys[p] for p in picked])
        sources.append((len(blocks), range(len(picked))))
        return ResultSet(snapshot, sources, limit)
