"""Pure encoding of query parameters, including Sekoia's filter syntax.

Sekoia filters are ``match[field]=a,b`` (OR inside a field, AND across fields), likewise
``nomatch``, ``date[field]=start,end`` and ``range[field]=min,max``. The API has no escape for a
comma inside a value, so such a value is refused instead of silently matching something else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

__all__ = ["FILTER_KEYS", "encode_filters"]

#: The params keys whose value is a ``{field: ...}`` dict encoded as ``key[field]=...``.
FILTER_KEYS = frozenset({"match", "nomatch", "date", "range"})


def _scalar(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(
        f"query parameter {key!r}: cannot send a {type(value).__name__}; "
        "use str, int, float, bool, a datetime or a list of those"
    )


def _join(key: str, values: Iterable[Any], *, allow_empty: bool) -> str | None:
    items = [_scalar(key, v) for v in values]
    if not items:
        if allow_empty:
            return None
        raise ValueError(f"filter {key!r} has an empty list of values: give at least one value")
    for item in items:
        if "," in item:
            raise ValueError(
                f"value {item!r} of {key!r} contains a comma, which the Sekoia API uses to "
                "separate values and cannot escape; filter on a value without a comma"
            )
    return ",".join(items)


def _field(kind: str, field: Any) -> str:
    if not isinstance(field, str) or not field or any(c in field for c in "[]&=#"):
        raise ValueError(f"{kind} filter field {field!r} is not a valid field name")
    return f"{kind}[{field}]"


def _pair(key: str, bounds: Any) -> list[Any]:
    if isinstance(bounds, (str, bytes)) or not isinstance(bounds, (tuple, list)):
        raise TypeError(f"filter {key!r} needs a (start, end) pair, not {bounds!r}")
    if len(bounds) != 2 or any(b is None for b in bounds):
        raise ValueError(f"filter {key!r} needs exactly two bounds (start, end), got {bounds!r}")
    return list(bounds)


def encode_filters(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Encode request params to ``(name, value)`` pairs for the query string.

    Values: str / int / float / bool ("true"/"false") / datetime (ISO) / None (dropped) /
    list or tuple (comma-joined, dropped when empty). The keys ``match`` and ``nomatch`` take a
    ``{field: value | [values]}`` dict, ``date`` a ``{field: (start, end)}`` dict and ``range`` a
    ``{field: (min, max)}`` dict. ValueError (naming the field) for a comma in a value or an
    empty list of filter values.
    """
    out: list[tuple[str, str]] = []
    if not params:
        return out
    for key, value in params.items():
        if value is None:
            continue
        if key in FILTER_KEYS:
            if not isinstance(value, Mapping):
                raise TypeError(
                    f"{key!r} must be a dict of field -> values, e.g. "
                    f"{key}={{'entity_name': ['a', 'b']}}"
                )
            for field, fvalue in value.items():
                name = _field(key, field)
                if fvalue is None:
                    continue
                if key in ("date", "range"):
                    encoded = _join(name, _pair(name, fvalue), allow_empty=False)
                elif isinstance(fvalue, (list, tuple, set, frozenset)):
                    encoded = _join(name, fvalue, allow_empty=False)
                else:
                    encoded = _join(name, [fvalue], allow_empty=False)
                assert encoded is not None
                out.append((name, encoded))
        elif isinstance(value, (list, tuple, set, frozenset)):
            encoded = _join(key, value, allow_empty=True)
            if encoded is not None:
                out.append((key, encoded))
        else:
            out.append((key, _scalar(key, value)))
    return out
