"""sekoia_async._times: the shared parser of Sekoia time expressions (no event loop)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sekoia_async._times import format_time, parse_time

NOW = datetime(2026, 12, 4, 15, 0, 0, 123456, tzinfo=timezone.utc)
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("-30d", NOW - timedelta(days=30)),
        ("-2w", NOW - timedelta(weeks=2)),
        ("-1h", NOW - timedelta(hours=1)),
        ("-15m", NOW - timedelta(minutes=15)),
        ("-30s", NOW - timedelta(seconds=30)),
        ("+3d", NOW + timedelta(days=3)),
        ("-1M", NOW - timedelta(days=30)),
        ("-1y", NOW - timedelta(days=365)),
        ("now-1h", NOW - timedelta(hours=1)),
        (" -1d ", NOW - timedelta(days=1)),
        ("2024-08-15T09:38:04.715Z", datetime(2024, 8, 15, 9, 38, 4, 715000, tzinfo=timezone.utc)),
        ("2025-01-01T00:00:00Z", datetime(2025, 1, 1, tzinfo=timezone.utc)),
        ("2024-04-25T10:00:23", datetime(2024, 4, 25, 10, 0, 23, tzinfo=timezone.utc)),
        ("2024-04-25", datetime(2024, 4, 25, tzinfo=timezone.utc)),
        ("2024-04-25 10:00", datetime(2024, 4, 25, 10, 0, tzinfo=timezone.utc)),
        (
            "2021-05-26T09:19:58.469271+00:00",
            datetime(2021, 5, 26, 9, 19, 58, 469271, tzinfo=timezone.utc),
        ),
        ("2024-01-01T02:00:00+02:00", datetime(2024, 1, 1, tzinfo=timezone.utc)),
        ("2024-01-01T00:00:00-0130", datetime(2024, 1, 1, 1, 30, tzinfo=timezone.utc)),
        (
            "2024-01-01T00:00:00.123456789Z",
            datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=timezone.utc),
        ),
    ],
)
def test_parse_time_accepts_sekoia_forms(text: str, expected: datetime) -> None:
    parsed = parse_time(text, now=NOW)
    assert parsed == expected
    assert parsed.tzinfo == timezone.utc


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "-30",
        "30d",
        "-1x",
        "-1D",
        "2024-13-01",
        "2024-02-30T00:00:00Z",
        "2024-01-01T25:00:00",
        "2024-01-01T00:00:00+24:00",
        "now+",
        "--1d",
        "2024/01/01",
    ],
)
def test_parse_time_rejects_garbage_with_a_hint(text: str) -> None:
    with pytest.raises(ValueError, match="invalid time") as info:
        parse_time(text, now=NOW)
    assert repr(text) in str(info.value)


def test_parse_time_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="expected a string or datetime"):
        parse_time(12345, now=NOW)  # type: ignore[arg-type]


def test_naive_datetime_is_utc_and_aware_is_converted() -> None:
    naive = datetime(2024, 1, 1, 12, 0)
    assert parse_time(naive, now=NOW) == datetime(2024, 1, 1, 12, tzinfo=timezone.utc)
    paris = timezone(timedelta(hours=1))
    aware = datetime(2024, 1, 1, 12, 0, tzinfo=paris)
    assert parse_time(aware, now=NOW) == datetime(2024, 1, 1, 11, tzinfo=timezone.utc)
    assert parse_time(aware, now=NOW).tzinfo == timezone.utc


def test_format_time_is_utc_with_offset_and_microseconds() -> None:
    assert format_time(datetime(2021, 5, 26, 9, 19, 58, tzinfo=timezone.utc)) == (
        "2021-05-26T09:19:58.000000+00:00"
    )


@given(
    sign=st.sampled_from(["+", "-"]),
    amount=st.integers(min_value=0, max_value=5000),
    unit=st.sampled_from(sorted(UNIT_SECONDS)),
    prefix=st.sampled_from(["", "now"]),
)
def test_relative_offsets_are_exact(sign: str, amount: int, unit: str, prefix: str) -> None:
    delta = timedelta(seconds=amount * UNIT_SECONDS[unit])
    try:
        expected = NOW + delta if sign == "+" else NOW - delta
    except OverflowError:
        # Beyond year 1 or 9999: a clear ValueError, not an OverflowError.
        with pytest.raises(ValueError, match="out of range"):
            parse_time(f"{prefix}{sign}{amount}{unit}", now=NOW)
        return
    assert parse_time(f"{prefix}{sign}{amount}{unit}", now=NOW) == expected


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_iso_round_trip(value: datetime) -> None:
    # Whatever zone a timestamp is written in, parsing its ISO form gives back the same instant.
    assert parse_time(value.isoformat(), now=NOW) == value
    assert parse_time(format_time(value), now=NOW) == value
    assert parse_time(value.isoformat().replace("+00:00", "Z"), now=NOW) == value


@given(st.text(alphabet="0123456789-+:TZnowdhmsy .", max_size=30))
def test_parse_time_never_raises_anything_but_value_error(text: str) -> None:
    try:
        result = parse_time(text, now=NOW)
    except ValueError:
        return
    assert result.tzinfo == timezone.utc
