"""Sekoia time expressions: ISO 8601 or relative (``now``, ``-30d``, ``+3d``...). Pure, no I/O.

Shared by the emulator (search-job windows) and the SDK (search stream, checkpoints), so both
sides agree on what a window means.

Relative units: ``s`` seconds, ``m`` minutes, ``h`` hours, ``d`` days, ``w`` weeks, and the
calendar-free approximations ``M`` = 30 days and ``y`` = 365 days. ``now`` may prefix an offset
(``now-1h``). Units are case-sensitive because ``m`` (minutes) and ``M`` (months) differ.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["format_time", "parse_time"]

_UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
    "M": timedelta(days=30),
    "y": timedelta(days=365),
}

_RELATIVE = re.compile(r"(?:now)?\s*([+-])\s*(\d{1,9})\s*([smhdwMy])")

# datetime.fromisoformat() of Python 3.10 rejects "Z", fractions that are not 3 or 6 digits and
# a few other ISO forms, so the grammar is parsed here explicitly.
_ISO = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?"
    r"(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)

_HINT = (
    "use ISO 8601 (2024-08-15T09:38:04Z, 2024-08-15) or a relative time "
    "(now, -30d, -2w, -1h, -15m, -30s, +3d, -1M, -1y)"
)


def parse_time(value: str | datetime, *, now: datetime) -> datetime:
    """The timezone-aware UTC datetime a Sekoia time expression denotes, relative to ``now``.

    A naive datetime or an ISO string without a zone is taken as UTC, as Sekoia does.
    Raises ValueError (with the accepted forms) for anything else.
    """
    if isinstance(value, datetime):
        return _as_utc(value)
    if not isinstance(value, str):
        raise ValueError(f"invalid time {value!r}: expected a string or datetime; {_HINT}")
    text = value.strip()
    if text == "now":
        return _as_utc(now)
    rel = _RELATIVE.fullmatch(text)
    if rel is not None:
        sign, amount, unit = rel.groups()
        delta = _UNITS[unit] * int(amount)
        try:
            return _as_utc(now) + delta if sign == "+" else _as_utc(now) - delta
        except OverflowError:
            raise ValueError(f"invalid time {value!r}: the offset is out of range") from None
    iso = _ISO.fullmatch(text)
    if iso is None:
        raise ValueError(f"invalid time {value!r}: {_HINT}")
    return _from_iso(iso, value)


def format_time(value: datetime) -> str:
    """ISO 8601 in UTC with ``+00:00`` and microseconds, as Sekoia's job objects carry them."""
    return _as_utc(value).isoformat(timespec="microseconds")


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _from_iso(match: re.Match[str], original: str) -> datetime:
    g = match.groupdict()
    frac = g["frac"] or "0"
    micro = int((frac + "000000")[:6])
    tz = timezone.utc
    zone = g["tz"]
    if zone and zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"invalid time {original!r}: bad UTC offset {zone!r}")
        offset = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-offset if zone[0] == "-" else offset)
    try:
        parsed = datetime(
            int(g["year"]),
            int(g["month"]),
            int(g["day"]),
            int(g["hour"] or 0),
            int(g["minute"] or 0),
            int(g["second"] or 0),
            micro,
            tzinfo=tz,
        )
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"invalid time {original!r}: {exc}") from None
