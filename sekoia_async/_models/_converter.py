"""The one cattrs converter of the SDK, with hooks for Sekoia's quirks.

- Timestamps: alerts send Unix integer seconds, cases/jobs/assets send ISO 8601 strings; both
  become timezone-aware ``datetime`` (UTC when the string has no zone).
- Forward compatibility: unknown fields are ignored by structuring but every model keeps the
  server's dict in ``raw``; a missing optional field defaults to None.
- Closed sets are enums, but an unknown value from the server must not break parsing: enum
  fields are typed ``Enum | str`` and keep the raw string when it is not a known member.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs
import cattrs

__all__ = ["converter", "parse_datetime", "structure"]

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=False)


def parse_datetime(value: Any) -> datetime:
    """A timezone-aware datetime from Unix seconds (int/float, or digits) or an ISO 8601 string."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, bool):
        raise TypeError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        # Some endpoints send milliseconds; Unix seconds stay below 1e11 until the year 5138.
        seconds = value / 1000 if abs(value) >= 1e11 else value
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return parse_datetime(int(text))
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    raise TypeError(f"not a timestamp: {value!r}")


converter.register_structure_hook(datetime, lambda v, _: parse_datetime(v))
converter.register_unstructure_hook(datetime, lambda v: v.isoformat())


def _is_enum_or_str(tp: Any) -> bool:
    args = [a for a in getattr(tp, "__args__", ()) if a is not type(None)]
    return (
        len(args) == 2
        and str in args
        and any(isinstance(a, type) and issubclass(a, enum.Enum) for a in args)
    )


def _enum_or_str_factory(tp: Any) -> Any:
    enum_cls = next(a for a in tp.__args__ if isinstance(a, type) and issubclass(a, enum.Enum))

    def hook(value: Any, _: Any) -> Any:
        if value is None:
            return None
        try:
            return enum_cls(value)
        except ValueError:
            return value

    return hook


converter.register_structure_hook_factory(_is_enum_or_str, _enum_or_str_factory)


def structure(data: Any, cls: type[T]) -> T:
    """Structure an API dict into ``cls``; a ``raw`` field (if the class has one) gets the dict."""
    if isinstance(data, dict) and attrs.has(cls) and "raw" in attrs.fields_dict(cls):
        data = {**data, "raw": data}
    return converter.structure(data, cls)
