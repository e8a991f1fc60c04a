"""Pure transport logic: retry schedule, Retry-After, retry rules, token bucket, config, paths."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import unquote

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sekoia_async import REGIONS, ConfigurationError, RetryPolicy, Timeout, TokenBucket
from sekoia_async._transport.config import is_loopback_host, resolve_api_key, resolve_base_url
from sekoia_async._transport.paths import quote_path_param, validate_uuid
from sekoia_async._transport.retry import Failure, parse_retry_after, should_retry

# -- backoff ---------------------------------------------------------------------------------


def test_backoff_schedule_is_full_jitter_exponential_capped() -> None:
    ceilings = [RetryPolicy(max_retries=8, rng=lambda: 1.0).backoff(i) for i in range(8)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]
    assert RetryPolicy(rng=lambda: 0.0).schedule() == [0.0, 0.0, 0.0]
    half = RetryPolicy(max_retries=3, rng=lambda: 0.5).schedule()
    assert half == [0.25, 0.5, 1.0]


def test_backoff_uses_the_injected_rng_reproducibly() -> None:
    a = RetryPolicy(max_retries=6, rng=random.Random(7).random).schedule()
    b = RetryPolicy(max_retries=6, rng=random.Random(7).random).schedule()
    assert a == b
    assert all(0 <= d <= min(8.0, 0.5 * 2**i) for i, d in enumerate(a))
    assert len(set(a)) == 6  # jittered, not a fixed ladder


def test_retry_policy_validates_and_max_retries_zero_is_allowed() -> None:
    assert RetryPolicy(max_retries=0).schedule() == []
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


# -- Retry-After -----------------------------------------------------------------------------

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
    ],
)
def test_parse_retry_after_seconds_and_ms(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, NOW) == expected


def test_parse_retry_after_http_date() -> None:
    when = datetime.fromtimestamp(NOW, tz=timezone.utc) + timedelta(seconds=42)
    assert parse_retry_after({"retry-after": format_datetime(when, usegmt=True)}, NOW) == 42.0
    past = datetime.fromtimestamp(NOW, tz=timezone.utc) - timedelta(seconds=42)
    assert parse_retry_after({"retry-after": format_datetime(past, usegmt=True)}, NOW) == 0.0


# -- retry rules -----------------------------------------------------------------------------

POLICY = RetryPolicy()


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_idempotent_methods_retry_every_retryable_status(status: int) -> None:
    for method in ("GET", "PUT", "DELETE", "get"):
        assert should_retry(POLICY, method, status=status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422, 501])
def test_client_errors_are_never_retried(status: int) -> None:
    assert not should_retry(POLICY, "GET", status=status)
    assert not should_retry(POLICY, "POST", status=status)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_post_and_patch_retry_only_when_the_server_did_not_act(method: str) -> None:
    assert should_retry(POLICY, method, status=429)
    assert should_retry(POLICY, method, status=503)
    for status in (408, 500, 502, 504):
        assert not should_retry(POLICY, method, status=status)
    assert should_retry(POLICY, method, failure=Failure.CONNECT)
    assert not should_retry(POLICY, method, failure=Failure.TIMEOUT)
    assert not should_retry(POLICY, method, failure=Failure.CONNECTION)
    assert not should_retry(POLICY, method, failure=Failure.CORRUPT)


def test_failures_retry_for_get() -> None:
    for failure in (Failure.CONNECT, Failure.TIMEOUT, Failure.CONNECTION, Failure.CORRUPT):
        assert should_retry(POLICY, "GET", failure=failure)
    assert not should_retry(POLICY, "GET", failure=None)


def test_idempotent_overrides_the_method() -> None:
    for status in (408, 500, 502, 504):
        assert should_retry(POLICY, "POST", status=status, idempotent=True)
        assert not should_retry(POLICY, "GET", status=status, idempotent=False)
    for failure in (Failure.TIMEOUT, Failure.CONNECTION, Failure.CORRUPT):
        assert should_retry(POLICY, "PATCH", failure=failure, idempotent=True)
        assert not should_retry(POLICY, "DELETE", failure=failure, idempotent=False)
    # Nothing was sent, or the server said it did not act: safe whatever the override says.
    assert should_retry(POLICY, "GET", failure=Failure.CONNECT, idempotent=False)
    assert should_retry(POLICY, "GET", status=503, idempotent=False)
    assert not should_retry(POLICY, "POST", status=404, idempotent=True)


# -- token bucket ----------------------------------------------------------------------------


def test_token_bucket_reserve_is_gcra() -> None:
    bucket = TokenBucket(5, burst=1)
    waits = [bucket.reserve(0.0) for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])
    # After idling, the bucket is full again but never more than ``burst``.
    assert bucket.reserve(10.0) == 0.0
    assert bucket.reserve(10.0) == pytest.approx(0.2)


def test_token_bucket_burst() -> None:
    bucket = TokenBucket(10)  # burst defaults to one second's worth
    assert bucket.burst == 10
    waits = [bucket.reserve(0.0) for _ in range(12)]
    assert waits[:10] == [0.0] * 10
    assert waits[10:] == pytest.approx([0.1, 0.2])


def test_token_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(1, burst=0)
    with pytest.raises(TypeError):
        TokenBucket.coerce("5")  # type: ignore[arg-type]
    assert TokenBucket.coerce(None) is None


class VirtualClock:
    """Time only moves when someone sleeps: rate-limit tests run instantly and exactly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


@pytest.mark.anyio
async def test_token_bucket_acquire_with_virtual_clock() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(4, burst=2, clock=clock.time, sleep=clock.sleep)
    stamps = []
    for _ in range(6):
        await bucket.acquire()
        stamps.append(clock.now)
    assert stamps == pytest.approx([0.0, 0.0, 0.25, 0.5, 0.75, 1.0])


# -- config ----------------------------------------------------------------------------------


def test_regions() -> None:
    assert REGIONS["fra1"] == "https://api.sekoia.io"
    assert REGIONS["mco1"] == "https://app.mco1.sekoia.io/api"
    assert REGIONS["usa1"] == "https://api.usa1.sekoia.io"
    assert REGIONS["sgp1"] == "https://api.sgp1.sekoia.io"
    assert set(REGIONS) == {"fra1", "fra2", "mco1", "uae1", "usa1", "sgp1"}
    assert resolve_base_url(None, None, env={}) == "https://api.sekoia.io"
    assert resolve_base_url(None, "UAE1", env={}) == "https://app.uae1.sekoia.io/api"


def test_unknown_region_lists_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="fra1, fra2, mco1, uae1, usa1, sgp1"):
        resolve_base_url(None, "mars1", env={})


@pytest.mark.parametrize(
    ("given_url", "expected"),
    [
        ("https://api.sekoia.io", "https://api.sekoia.io"),
        ("https://api.sekoia.io/", "https://api.sekoia.io"),
        ("https://api.sekoia.io/v1", "https://api.sekoia.io"),
        ("https://api.sekoia.io/v1/", "https://api.sekoia.io"),
        ("https://app.mco1.sekoia.io/api", "https://app.mco1.sekoia.io/api"),
        ("https://app.mco1.sekoia.io/api/v1", "https://app.mco1.sekoia.io/api"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:1/api/", "http://localhost:1/api"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_base_url_normalisation(given_url: str, expected: str) -> None:
    assert resolve_base_url(given_url, None, env={}) == expected


def test_env_fallbacks() -> None:
    env = {"SEKOIA_BASE_URL": "http://127.0.0.1:5/api", "SEKOIA_REGION": "usa1"}
    assert resolve_base_url(None, None, env=env) == "http://127.0.0.1:5/api"
    assert resolve_base_url(None, None, env={"SEKOIA_REGION": "usa1"}) == REGIONS["usa1"]
    # An explicit region beats the env's base URL.
    assert resolve_base_url(None, "fra2", env=env) == REGIONS["fra2"]
    assert resolve_api_key(None, env={"SEKOIA_API_KEY": "k"}) == "k"
    assert resolve_api_key("mine", env={"SEKOIA_API_KEY": "k"}) == "mine"


@pytest.mark.parametrize("key", [None, "", "   "])
def test_missing_api_key_names_the_env_var(key: str | None) -> None:
    with pytest.raises(ConfigurationError, match="SEKOIA_API_KEY"):
        resolve_api_key(key, env={})


def test_api_key_with_newline_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_api_key("abc\ndef", env={})
    assert "abc" not in str(info.value)


@pytest.mark.parametrize(
    "bad",
    [
        "http://api.sekoia.io",
        "http://10.0.0.1:8000",
        "http://127.0.0.1.evil.com",
        "ftp://api.sekoia.io",
        "api.sekoia.io",
        "https://user:pw@api.sekoia.io",
        "https://api.sekoia.io/?x=1",
    ],
)
def test_https_only_except_loopback(bad: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_base_url(bad, None, env={})
    assert "pw" not in str(info.value)


def test_loopback_hosts() -> None:
    for host in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert is_loopback_host(host), host
    for other in ("10.0.0.1", "api.sekoia.io", "127.0.0.1.nip.io", "", None, "::2"):
        assert not is_loopback_host(other), other


def test_timeout_coercion() -> None:
    assert Timeout.coerce(None) == Timeout()
    assert Timeout.coerce(5) == Timeout(total=5.0)
    t = Timeout(connect=1, read=2, total=3, deadline=4)
    assert Timeout.coerce(t) is t
    with pytest.raises(ConfigurationError, match="timeout"):
        Timeout.coerce("5")  # type: ignore[arg-type]


# -- path parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", "abc"),
        ("a/b", "a%2Fb"),
        ("../admin", "..%2Fadmin"),
        ("x?y=1#z", "x%3Fy%3D1%23z"),
        ("a b", "a%20b"),
        ("%2F", "%252F"),
        (42, "42"),
    ],
)
def test_quote_path_param(value: str | int, expected: str) -> None:
    assert quote_path_param(value) == expected


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_quote_path_param_refuses_dot_segments(value: str) -> None:
    with pytest.raises(ValueError, match="path"):
        quote_path_param(value)


def test_quote_path_param_refuses_non_scalars() -> None:
    with pytest.raises(TypeError):
        quote_path_param(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        quote_path_param(True)


@given(st.text(min_size=1))
def test_quoted_param_is_one_segment_and_roundtrips(value: str) -> None:
    if value in (".", ".."):
        return
    quoted = quote_path_param(value)
    assert not set(quoted) & set("/?#[]@!$&'()*+,;= ")
    assert quoted not in (".", "..")
    assert unquote(quoted) == value


def test_validate_uuid() -> None:
    u = uuid.uuid4()
    assert validate_uuid(u) == str(u)
    assert validate_uuid(str(u).upper()) == str(u)
    for bad in ("", "x", "../etc", str(u) + "/x", "1234"):
        with pytest.raises(ValueError, match="not a UUID"):
            validate_uuid(bad)
    with pytest.raises(TypeError):
        validate_uuid(12)  # type: ignore[arg-type]


@given(
    rate=st.floats(min_value=0.5, max_value=200),
    burst=st.integers(min_value=1, max_value=20),
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=60),
)
def test_token_bucket_never_exceeds_its_rate(rate: float, burst: int, gaps: list[float]) -> None:
    bucket = TokenBucket(rate, burst=burst)
    now = 0.0
    grants = []
    for gap in gaps:
        now += gap
        grants.append(now + bucket.reserve(now))
    # Grants are in call order, and any window of length T holds at most burst + rate*T.
    assert grants == sorted(grants)
    for i in range(len(grants)):
        for j in range(i, len(grants)):
            window = grants[j] - grants[i]
            assert j - i + 1 <= burst + rate * window + 1e-6


# -- JSON codec ------------------------------------------------------------------------------


def test_json_codec_decodes_bytes_and_str_and_raises_value_error() -> None:
    from sekoia_async import _json

    try:
        import orjson  # noqa: F401
    except ImportError:
        assert _json.DECODER == "json"
    else:
        assert _json.DECODER == "orjson"  # used when installed (the `speed` extra)
    doc = {"items": [{"é": 1, "n": None, "f": 1.5}], "total": 2**40}
    text = _json.dumps(doc)
    assert text == '{"items":[{"é":1,"n":null,"f":1.5}],"total":1099511627776}'
    assert _json.loads(text) == doc
    assert _json.loads(text.encode()) == doc
    for bad in (b'{"items": [1, 2', b"", b"<html>", "{'a': 1}"):
        with pytest.raises(ValueError, match=r"."):  # json and orjson word it differently
            _json.loads(bad)
