"""Helpers shared by the domain modules: seeded ids, timestamps, query-string parsing, validation.

Everything here is deterministic given the emulator's seed, so a failing test can be replayed.
Query-string parsing follows Sekoia's filter syntax (reference §4.2): ``match[f]=a,b`` (OR within
a field, AND across fields), ``nomatch[f]``, ``date[f]=start,end`` and ``range[f]=min,max``.
"""

from __future__ import annotations

import random
import re
import string
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import attrs
from aiohttp import web

from ..._times import parse_time
from .._routing import ApiError, ApiKey, EmulatorState

_ALNUM = string.ascii_letters + string.digits
_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_EMAIL_RE = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}")
_FILTER_RE = re.compile(r"(match|nomatch|date|range)\[([^\]]*)\]")


def rng_for(state: EmulatorState, *parts: object) -> random.Random:
    """A generator seeded from the emulator seed and a label; string seeds hash stably."""
    return random.Random(":".join([str(state.seed), *map(str, parts)]))


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def short_id(rng: random.Random, prefix: str) -> str:
    """Sekoia short ids: a two-letter prefix and 10 alphanumerics (``ALa1b2c3d4e5``)."""
    return prefix + "".join(rng.choice(_ALNUM) for _ in range(10))


def iso(ts: float) -> str:
    """ISO 8601 with microseconds and ``+00:00``, as cases, comments and jobs carry them."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="microseconds")


def iso_z(ts: float) -> str:
    """ISO 8601 with a ``Z`` suffix, as alert first/last_seen_at and assets carry them."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and _UUID_RE.fullmatch(value) is not None


def is_email(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 254 and _EMAIL_RE.fullmatch(value) is not None


def principal(key: ApiKey) -> tuple[str, str]:
    """``(created_by, created_by_type)`` for an object made with ``key``."""
    return key.uuid, "apikey"


# --- community scoping -------------------------------------------------------------------------


def community_scope(state: EmulatorState, key: ApiKey) -> frozenset[str] | None:
    """The communities a key may see: its own and its sub-communities; None means all.

    A key whose community the emulator does not know (e.g. a test shim key) is unscoped.
    """
    known = {c.get("uuid") for c in state.communities}
    if key.community_uuid not in known:
        return None
    scope = {key.community_uuid}
    scope.update(
        c["uuid"] for c in state.communities if c.get("parent_community_uuid") == key.community_uuid
    )
    return frozenset(scope)


def in_scope(scope: frozenset[str] | None, community_uuid: str | None) -> bool:
    # Objects without a community (Sekoia's own catalog rules) are visible to every key.
    return scope is None or community_uuid is None or community_uuid in scope


def owning_community(state: EmulatorState, key: ApiKey, requested: object, field: str) -> str:
    """The community of a new object: ``requested`` if given and visible, else the key's."""
    if requested is None:
        return key.community_uuid
    if not is_uuid(requested):
        raise ApiError(400, f"Invalid parameters: {field} must be a UUID")
    assert isinstance(requested, str)
    if not in_scope(community_scope(state, key), requested):
        raise ApiError(
            403, f"{field} {requested} is not a community this API key can act on: use your own"
        )
    return requested


def community_name(state: EmulatorState, community_uuid: str | None) -> str | None:
    for community in state.communities:
        if community.get("uuid") == community_uuid:
            name = community.get("name")
            return name if isinstance(name, str) else None
    return None


# --- query parameters --------------------------------------------------------------------------


def query_bool(request: web.Request, name: str, default: bool) -> bool:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ApiError(400, f"Invalid parameters: {name} must be true or false, got {raw!r}")


def query_sort(
    request: web.Request, allowed: Iterable[str], *, default: str | None, direction: str = "desc"
) -> tuple[str | None, bool]:
    """``(sort field, descending)``; unknown fields or directions are a 400 naming the value."""
    allowed = tuple(allowed)
    field = request.query.get("sort") or default
    if field is not None and field not in allowed:
        raise ApiError(400, f"Invalid parameters: sort must be one of {', '.join(allowed)}")
    raw_direction = (request.query.get("direction") or direction).lower()
    if raw_direction not in ("asc", "desc"):
        raise ApiError(400, "Invalid parameters: direction must be 'asc' or 'desc'")
    return field, raw_direction == "desc"


@attrs.frozen
class Filters:
    """Parsed ``match`` / ``nomatch`` / ``date`` / ``range`` query parameters."""

    match: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    nomatch: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    date: Mapping[str, tuple[float, float]] = attrs.field(factory=dict)
    range: Mapping[str, tuple[float, float]] = attrs.field(factory=dict)


def parse_filters(
    request: web.Request,
    state: EmulatorState,
    *,
    match: Iterable[str] = (),
    nomatch: Iterable[str] = (),
    date: Iterable[str] = (),
    range_: Iterable[str] = (),
) -> Filters:
    """Read the filter parameters an endpoint supports; an unsupported field is a 400 naming it."""
    allowed = {
        "match": set(match),
        "nomatch": set(nomatch),
        "date": set(date),
        "range": set(range_),
    }
    out: dict[str, dict[str, Any]] = {"match": {}, "nomatch": {}, "date": {}, "range": {}}
    for name, raw in request.query.items():
        found = _FILTER_RE.fullmatch(name)
        if found is None:
            continue
        kind, field = found.groups()
        if field not in allowed[kind]:
            supported = ", ".join(sorted(allowed[kind])) or "none"
            raise ApiError(
                400,
                f"Invalid parameters: {name} is not supported here ({kind} fields: {supported})",
            )
        if field in out[kind]:
            raise ApiError(400, f"Invalid parameters: {name} may be given only once")
        if kind in ("match", "nomatch"):
            values = tuple(v for v in raw.split(",") if v != "")
            if not values:
                raise ApiError(400, f"Invalid parameters: {name} needs at least one value")
            out[kind][field] = values
        elif kind == "date":
            out[kind][field] = _parse_date_range(name, raw, state)
        else:
            out[kind][field] = _parse_number_range(name, raw)
    return Filters(out["match"], out["nomatch"], out["date"], out["range"])


def _two_parts(name: str, raw: str, what: str) -> tuple[str, str]:
    parts = raw.split(",")
    if len(parts) != 2:
        raise ApiError(400, f"Invalid parameters: {name} must be '{what}' (two values, one comma)")
    return parts[0].strip(), parts[1].strip()


def _parse_date_range(name: str, raw: str, state: EmulatorState) -> tuple[float, float]:
    start, end = _two_parts(name, raw, "start,end")
    now = datetime.fromtimestamp(state.now(), tz=timezone.utc)
    try:
        low = parse_time(start, now=now).timestamp() if start else float("-inf")
        high = parse_time(end, now=now).timestamp() if end else float("inf")
    except ValueError as exc:
        raise ApiError(400, f"Invalid parameters: {name}: {exc}") from None
    return low, high


def _parse_number_range(name: str, raw: str) -> tuple[float, float]:
    low, high = _two_parts(name, raw, "min,max")
    try:
        return (float(low) if low else float("-inf"), float(high) if high else float("inf"))
    except ValueError:
        raise ApiError(400, f"Invalid parameters: {name} bounds must be numbers") from None


Getter = Callable[[Any], "object | Iterable[object] | None"]


def apply_filters(
    items: Iterable[Any],
    filters: Filters,
    fields: Mapping[str, Getter],
    *,
    case_insensitive: frozenset[str] = frozenset(),
) -> list[Any]:
    """The items that pass every filter. A getter may return one value or an iterable of values."""

    def values(item: Any, field: str) -> list[str]:
        got = fields[field](item)
        if got is None:
            return []
        if isinstance(got, (str, int, float)):
            got = [got]
        assert isinstance(got, Iterable)
        return [
            str(v).lower() if field in case_insensitive else str(v) for v in got if v is not None
        ]

    def wanted(field: str, raw: tuple[str, ...]) -> set[str]:
        return {v.lower() for v in raw} if field in case_insensitive else set(raw)

    out = []
    for item in items:
        if any(not wanted(f, v).intersection(values(item, f)) for f, v in filters.match.items()):
            continue
        if any(wanted(f, v).intersection(values(item, f)) for f, v in filters.nomatch.items()):
            continue
        if not all(_in_range(fields[f](item), lo, hi) for f, (lo, hi) in filters.date.items()):
            continue
        if not all(_in_range(fields[f](item), lo, hi) for f, (lo, hi) in filters.range.items()):
            continue
        out.append(item)
    return out


def _in_range(value: object, low: float, high: float) -> bool:
    if isinstance(value, str):
        try:
            value = parse_time(value, now=datetime.now(timezone.utc)).timestamp()
        except ValueError:
            return False
    if not isinstance(value, (int, float)):
        return False
    return low <= value <= high


# --- body validation ---------------------------------------------------------------------------


def require_object(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid parameters: the JSON body must be an object")
    return body


def reject_unknown(body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ApiError(400, f"Invalid parameters: unknown field(s) {', '.join(unknown)}")


def field_str(
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool = False,
    min_len: int = 0,
    max_len: int | None = None,
    nullable: bool = False,
) -> str | None:
    if name not in body:
        if required:
            raise ApiError(400, f"Invalid parameters: {name} is required")
        return None
    value = body[name]
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid parameters: {name} must be a string")
    if len(value) < min_len:
        raise ApiError(400, f"Invalid parameters: {name} must be at least {min_len} characters")
    if max_len is not None and len(value) > max_len:
        raise ApiError(400, f"Invalid parameters: {name} must be at most {max_len} characters")
    return value


def field_int(
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool = False,
    minimum: int | None = None,
    maximum: int | None = None,
    nullable: bool = False,
) -> int | None:
    if name not in body:
        if required:
            raise ApiError(400, f"Invalid parameters: {name} is required")
        return None
    value = body[name]
    if value is None and nullable:
        return None
    # bool is an int subclass in Python; JSON true is not a number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"Invalid parameters: {name} must be an integer")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ApiError(
            400, f"Invalid parameters: {name} must be between {minimum} and {maximum}, got {value}"
        )
    return value


def field_bool(body: Mapping[str, Any], name: str, *, required: bool = False) -> bool | None:
    if name not in body:
        if required:
            raise ApiError(400, f"Invalid parameters: {name} is required")
        return None
    value = body[name]
    if not isinstance(value, bool):
        raise ApiError(400, f"Invalid parameters: {name} must be true or false")
    return value


def field_uuid(
    body: Mapping[str, Any], name: str, *, required: bool = False, nullable: bool = False
) -> str | None:
    if name not in body:
        if required:
            raise ApiError(400, f"Invalid parameters: {name} is required")
        return None
    value = body[name]
    if value is None and nullable:
        return None
    if not is_uuid(value):
        raise ApiError(400, f"Invalid parameters: {name} must be a UUID")
    assert isinstance(value, str)
    return value


def field_str_list(
    body: Mapping[str, Any], name: str, *, required: bool = False
) -> list[str] | None:
    if name not in body:
        if required:
            raise ApiError(400, f"Invalid parameters: {name} is required")
        return None
    value = body[name]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, f"Invalid parameters: {name} must be a list of strings")
    return list(value)
