"""The one cattrs converter of the SDK, with hooks for Sekoia's quirks.

- Timestamps: alerts send Unix integer seconds, cases/jobs/assets send ISO 8601 strings; both
  become timezone-aware ``datetime`` (UTC when the string has no zone).
- Forward compatibility: unknown fields are ignored by structuring but every model keeps the
  server's dict in ``raw`` (nested models too); a missing optional field defaults to None and a
  ``null`` or missing collection (tuple / list / dict field) becomes an empty one.
- Closed sets are enums, but an unknown value from the server must not break parsing: enum
  fields are typed ``Enum | str`` and keep the raw string when it is not a known member.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn
from cattrs.v import transform_error

from .._times import parse_time
from ..errors import APIResponseValidationError

__all__ = ["converter", "parse_datetime", "structure"]

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=False)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


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
        # Only absolute ISO 8601 here: a stored timestamp is never "now" or "-30d".
        if text[:1].isdigit():
            try:
                return parse_time(text, now=_EPOCH)
            except ValueError:
                # Forms the shared grammar does not cover (e.g. offsets with seconds).
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


def _has_raw(tp: Any) -> bool:
    return isinstance(tp, type) and attrs.has(tp) and "raw" in attrs.fields_dict(tp)


def _with_raw_factory(cls: Any) -> Any:
    # Every model with a ``raw`` field, nested ones included, keeps the dict it was built from.
    base = make_dict_structure_fn(cls, converter)

    def hook(value: Any, tp: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected a JSON object for {cls.__name__}, got {value!r:.80}")
        return base({**value, "raw": value}, tp)

    return hook


converter.register_structure_hook_factory(_has_raw, _with_raw_factory)


def _is_homogeneous_collection(tp: Any) -> bool:
    origin = getattr(tp, "__origin__", None)
    args: tuple[Any, ...] = tuple(getattr(tp, "__args__", ()))
    if origin is tuple:
        return len(args) == 2 and args[1] is Ellipsis
    return origin in (list, dict)


def _null_as_empty_factory(tp: Any) -> Any:
    # Servers send ``null`` for empty collections (spec: x-nullable arrays); models expose an
    # empty collection instead so callers never have to write ``alert.ttps or ()``.
    origin = tp.__origin__
    args = tp.__args__
    if origin is dict:
        key_t, val_t = args

        def dict_hook(value: Any, _: Any) -> Any:
            if value is None:
                return {}
            return {
                converter.structure(k, key_t): converter.structure(v, val_t)
                for k, v in value.items()
            }

        return dict_hook
    item_t = args[0]
    container = tuple if origin is tuple else list

    def seq_hook(value: Any, _: Any) -> Any:
        if value is None:
            return container()
        if isinstance(value, (str, bytes, dict)):
            raise TypeError(f"expected a JSON array, got {value!r:.80}")
        return container(converter.structure(v, item_t) for v in value)

    return seq_hook


converter.register_structure_hook_factory(_is_homogeneous_collection, _null_as_empty_factory)


def structure(data: Any, cls: type[T]) -> T:
    """Structure an API dict into ``cls``; every model on the way keeps its dict in ``raw``.

    Data that cannot fit the model (an object where a list is due, a bad timestamp...) raises
    APIResponseValidationError naming every offending path, not a nested cattrs error group.
    """
    try:
        return converter.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        problems = "; ".join(transform_error(exc, path=cls.__name__))
        raise APIResponseValidationError(
            f"the API sent {cls.__name__} data this SDK cannot read ({problems}); the raw data is "
            "in this error's body; please report it with the SDK version",
            body=data,
        ) from exc
