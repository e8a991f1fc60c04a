"""Path parameters: every value interpolated into an API path goes through here.

An argument must never be able to change which endpoint is called (``../``, ``?``, ``#``, ``/``),
so values are either validated as UUIDs or percent-quoted with no safe characters.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

__all__ = ["quote_path_param", "validate_uuid"]


def quote_path_param(value: str | int | uuid.UUID) -> str:
    """Percent-quote ``value`` as one path segment; ValueError for '', '.', '..' or non-scalars."""
    if isinstance(value, bool) or not isinstance(value, (str, int, uuid.UUID)):
        raise TypeError(f"path parameter must be a str, int or UUID, not {type(value).__name__}")
    text = str(value)
    if text in ("", ".", ".."):
        raise ValueError(
            f"path parameter {text!r} is not allowed: it would change the request path; "
            "pass the identifier of one object"
        )
    return quote(text, safe="")


def validate_uuid(value: str | uuid.UUID) -> str:
    """The canonical lowercase form of a UUID; ValueError if ``value`` is not one."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"expected a UUID string, not {type(value).__name__}")
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise ValueError(
            f"{shown!r} is not a UUID (expected the form 8-4-4-4-12 hex digits)"
        ) from None
