"""Pure tests of the search lifecycle: poll schedule, deadlines, page plan, checkpoints. No loop."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sekoia_async._helpers.search.checkpoint import (
    TOKEN_VERSION,
    Checkpoint,
    decode_token,
    encode_token,
)
from sekoia_async._helpers.search.machine import (
    CreateJob,
    Fail,
    FailKind,
    PageAccepted,
    PageRequest,
    PageRetry,
    Phase,
    PollJob,
    SearchMachine,
    StartPaging,
)
from sekoia_async._helpers.search.policy import PollPolicy
from sekoia_async._helpers.search.spec import SearchSpec, build_spec

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=timezone.utc)
JOB = "8b2f4c1e-3d5a-4e6f-9a7b-1c2d3e4f5a6b"


def spec(**kw: Any) -> SearchSpec:
    base: dict[str, Any] = {"page_size": 100}
    base.update(kw)
    return build_spec("source.ip:1.2.3.4", "-30d", "now", now=NOW, **base)


def machine(**kw: Any) -> SearchMachine:
    kw.setdefault("poll", PollPolicy(jitter=0))
    kw.setdefault("start_timeout", 60.0)
    kw.setdefault("run_timeout", 120.0)
    s = kw.pop("spec", None) or spec()
    return SearchMachine(s, **kw)


# -- PollPolicy -----------------------------------------------------------------------------


def test_poll_schedule_grows_by_factor_up_to_cap() -> None:
    p = PollPolicy(jitter=0)
    assert [p.delay(n) for n in range(10)] == pytest.approx(
        [0.5, 0.75, 1.125, 1.6875, 2.53125, 3.796875, 5.6953125, 8.54296875, 10.0, 10.0]
    )
    assert p.delay(10_000) == 10.0  # no overflow on very long waits


def test_poll_jitter_stays_within_bounds_and_is_reproducible() -> None:
    p = PollPolicy(initial=1.0, factor=2.0, cap=4.0, jitter=0.5)
    a = [p.delay(n, random.Random(7)) for n in range(6)]
    b = [p.delay(n, random.Random(7)) for n in range(6)]
    assert a == b
    for n, d in enumerate(a):
        base = min(4.0, 2.0**n)
        assert base * 0.5 <= d <= base
    rng = random.Random(1)
    draws = {round(p.delay(3, rng), 6) for _ in range(20)}
    assert len(draws) > 10  # actually random, not a constant


def test_poll_policy_uses_its_own_rng() -> None:
    p = PollPolicy(rng=random.Random(3))
    q = PollPolicy(rng=random.Random(3))
    assert [p.delay(1) for _ in range(5)] == [q.delay(1) for _ in range(5)]


@pytest.mark.parametrize(
    "kw",
    [{"initial": 0}, {"factor": 0.5}, {"cap": -1}, {"jitter": 1.0}, {"initial": 5, "cap": 1}],
)
def test_poll_policy_rejects_bad_settings(kw: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="PollPolicy"):
        PollPolicy(**kw)


# -- spec -------------------------------------------------------------------------------------


def test_spec_resolves_relative_window_and_keeps_inputs() -> None:
    s = spec(max_events=50, options={"term_lang": "dork"})
    assert s.earliest == "-30d"
    assert s.latest == "now"
    assert s.earliest_resolved == "2026-01-01T12:00:00.000000+00:00"
    assert s.latest_resolved == "2026-01-31T12:00:00.000000+00:00"
    assert s.job_body() == {
        "term": "source.ip:1.2.3.4",
        "earliest_time": s.earliest_resolved,
        "latest_time": s.latest_resolved,
        "term_lang": "dork",
        "max_last_events": 50,
    }


def test_spec_accepts_datetimes() -> None:
    s = build_spec("", datetime(2026, 1, 1), NOW, now=NOW)
    assert s.earliest == "2026-01-01T00:00:00.000000+00:00" == s.earliest_resolved


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1001}, "page_size"),
        ({"max_events": 0}, "max_events"),
    ],
)
def test_spec_validates_numbers(kw: dict[str, int], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        spec(**kw)


def test_spec_rejects_bad_times_unknown_options_and_inverted_window() -> None:
    with pytest.raises(ValueError, match="invalid time"):
        build_spec("", "yesterday", "now", now=NOW)
    with pytest.raises(ValueError, match="swap"):
        build_spec("", "now", "-1d", now=NOW)
    with pytest.raises(TypeError, match="term_lnag"):
        build_spec("", "-1d", "now", now=NOW, options={"term_lnag": "dork"})


# -- lifecycle --------------------------------------------------------------------------------


def test_fresh_search_creates_polls_with_backoff_then_pages() -> None:
    m = machine()
    assert m.start(0.0) == CreateJob()
    assert m.job_created("j1", 0, 0, now=0.0) == PollJob(0.5)
    assert m.job_observed(0, 0, False, now=0.5) == PollJob(0.75)
    assert m.job_observed(1, 0, False, now=1.25) == PollJob(1.125)
    action = m.job_observed(2, 250, False, now=2.4)
    assert action == StartPaging(total=250, end=250)
    assert m.phase is Phase.PAGING
    pages = []
    while (r := m.next_page()) is not None:
        pages.append(r)
    assert pages == [PageRequest(0, 100), PageRequest(100, 100), PageRequest(200, 50)]


def test_job_done_at_creation_pages_immediately() -> None:
    m = machine()
    m.start(0.0)
    assert m.job_created("j1", 2, 10, now=0.0) == StartPaging(total=10, end=10)


def test_poll_wait_never_exceeds_cap() -> None:
    m = machine(poll=PollPolicy(initial=1, factor=3, cap=5, jitter=0.3), rng=random.Random(0))
    m.start(0.0)
    now = 0.0
    action = m.job_created("j", 1, None, now=now)
    for _ in range(30):
        assert isinstance(action, PollJob)
        assert 0 < action.delay <= 5
        now += action.delay
        action = m.job_observed(1, None, False, now=now)
        if isinstance(action, Fail):
            break


def test_failed_and_canceled_jobs() -> None:
    m = machine()
    m.start(0.0)
    action = m.job_created("j", 4, 0, now=0.0, message="unparsable query at 12")
    assert isinstance(action, Fail)
    assert action.kind is FailKind.FAILED
    assert "unparsable query at 12" in action.message
    m = machine()
    m.start(0.0)
    m.job_created("j", 0, 0, now=0.0)
    action = m.job_observed(3, 0, False, now=1.0)
    assert isinstance(action, Fail)
    assert action.kind is FailKind.CANCELED


def test_start_deadline_clamps_the_last_wait_then_times_out() -> None:
    m = machine(start_timeout=2.0, poll=PollPolicy(initial=1.5, jitter=0))
    m.start(0.0)
    assert m.job_created("j", 0, 0, now=0.0) == PollJob(1.5)
    assert m.deadline == 2.0
    assert m.job_observed(0, 0, False, now=1.5) == PollJob(0.5)  # clamped to the deadline
    action = m.job_observed(0, 0, False, now=2.0)
    assert isinstance(action, Fail)
    assert action.kind is FailKind.TIMEOUT
    assert "start_timeout=2s" in action.message


def test_run_deadline_counts_from_start() -> None:
    m = machine(start_timeout=10.0, run_timeout=3.0, poll=PollPolicy(initial=1, factor=1))
    m.start(0.0)
    m.job_created("j", 0, 0, now=0.0)
    m.job_observed(1, 0, False, now=5.0)  # started at 5: the run deadline is 8
    assert m.deadline == 8.0
    action = m.job_observed(1, 0, False, now=8.5)
    assert isinstance(action, Fail)
    assert "run_timeout=3s" in action.message
    m2 = machine(start_timeout=10.0, run_timeout=3.0)
    m2.start(0.0)
    m2.job_created("j", 1, 0, now=0.0)
    assert isinstance(m2.deadline_passed(3.0), Fail)


def test_unknown_status_counts_as_running() -> None:
    m = machine()
    m.start(0.0)
    assert isinstance(m.job_created("j", 9, None, now=0.0), PollJob)
    assert m.deadline == 120.0


def test_done_without_total_fails_clearly() -> None:
    m = machine()
    m.start(0.0)
    action = m.job_created("j", 2, None, now=0.0)
    assert isinstance(action, Fail)
    assert "no total" in action.message


def test_max_events_caps_the_page_plan() -> None:
    m = machine(spec=spec(max_events=150))
    m.start(0.0)
    assert m.job_created("j", 2, 1000, now=0.0) == StartPaging(total=1000, end=150)
    assert [m.next_page(), m.next_page(), m.next_page()] == [
        PageRequest(0, 100),
        PageRequest(100, 50),
        None,
    ]


def test_empty_result_has_no_pages() -> None:
    m = machine()
    m.start(0.0)
    m.job_created("j", 2, 0, now=0.0)
    assert m.next_page() is None


# -- pages ------------------------------------------------------------------------------------


def test_short_page_is_retried_then_fails() -> None:
    m = machine(page_retries=2)
    m.start(0.0)
    m.job_created("j", 2, 300, now=0.0)
    req = m.next_page()
    assert req == PageRequest(0, 100)
    assert m.page_received(req, 100, 0) == PageAccepted(100)
    assert m.page_received(req, 120, 0) == PageAccepted(100)  # extra items are dropped
    assert m.page_received(req, 40, 0) == PageRetry(0.5)
    assert m.page_received(req, 0, 1) == PageRetry(0.75)
    failed = m.page_received(req, 0, 2)
    assert isinstance(failed, Fail)
    assert failed.kind is FailKind.SHORT_PAGE
    assert "offset 0" in failed.message
    assert "3 times" in failed.message


def test_expiry_while_paging_fails_with_expired() -> None:
    m = machine()
    m.start(0.0)
    m.job_created("j", 2, 300, now=0.0)
    action = m.job_missing(1.0)
    assert isinstance(action, Fail)
    assert action.kind is FailKind.EXPIRED


# -- resume -----------------------------------------------------------------------------------


def test_resume_with_live_job_checks_it_then_pages_from_offset() -> None:
    m = machine(job_uuid="j", offset=230, expected_total=300)
    assert m.start(0.0) == PollJob(0.0)
    assert m.job_observed(2, 300, False, now=0.0) == StartPaging(300, 300)
    assert m.next_page() == PageRequest(230, 70)
    assert m.next_page() is None
    assert not m.total_changed


@pytest.mark.parametrize("via_404", [True, False])
def test_resume_of_expired_job_recreates_it_once_and_skips_delivered(via_404: bool) -> None:
    m = machine(job_uuid="old", offset=120, expected_total=300)
    m.start(0.0)
    action = m.job_missing(0.1) if via_404 else m.job_observed(2, 300, True, now=0.1)
    assert action == CreateJob()
    assert m.job_uuid is None
    assert m.job_created("new", 2, 290, now=0.2) == StartPaging(290, 290)
    assert m.total_changed
    assert m.next_page() == PageRequest(120, 100)
    m2 = machine(job_uuid="old", offset=10)
    m2.start(0.0)
    m2.job_missing(0.0)
    m2.job_created("new", 0, 0, now=0.0)
    action = m2.job_missing(1.0)
    assert isinstance(action, Fail)
    assert action.kind is FailKind.EXPIRED


def test_resume_past_a_smaller_recreated_result_has_nothing_left() -> None:
    m = machine(job_uuid="old", offset=250, expected_total=300)
    m.start(0.0)
    m.job_missing(0.0)
    m.job_created(JOB, 2, 200, now=0.0)
    assert m.next_page() is None
    # Its checkpoint stays a valid token: everything of the new job counts as delivered.
    token = encode_token(m.checkpoint(250))
    assert token["offset"] == 200
    assert decode_token(token).offset == 200


# -- checkpoint tokens ------------------------------------------------------------------------


def test_checkpoint_token_round_trips_through_json() -> None:
    m = machine(spec=spec(max_events=500, options={"filters": [{"field": "a", "value": "b"}]}))
    m.start(0.0)
    m.job_created("1d0c5a52-7a3e-4c4e-9a55-6f0b6d0a8c11", 2, 300, now=0.0)
    token = encode_token(m.checkpoint(137))
    text = json.dumps(token)
    assert token["version"] == TOKEN_VERSION
    assert token["offset"] == 137
    assert token["job_uuid"] == "1d0c5a52-7a3e-4c4e-9a55-6f0b6d0a8c11"
    assert token["total"] == 300
    assert token["window"]["earliest"] == "-30d"
    assert token["window"]["earliest_resolved"].startswith("2026-01-01T12:00:00")
    back = decode_token(text)
    assert back == Checkpoint(
        spec=m.spec, job_uuid="1d0c5a52-7a3e-4c4e-9a55-6f0b6d0a8c11", total=300, offset=137
    )


def test_checkpoint_before_the_job_exists() -> None:
    m = machine()
    token = encode_token(m.checkpoint())
    assert token["job_uuid"] is None
    assert token["offset"] == 0
    assert token["total"] is None
    assert decode_token(token).job_uuid is None


def _token() -> dict[str, Any]:
    return encode_token(Checkpoint(spec=spec(), job_uuid=JOB, total=300, offset=100))


def test_token_tampering_is_detected() -> None:
    token = _token()
    token["offset"] = 200
    with pytest.raises(ValueError, match="digest"):
        decode_token(token)


def test_token_version_and_type_are_checked() -> None:
    token = _token()
    token["version"] = 99
    with pytest.raises(ValueError, match="version 99"):
        decode_token(token)
    with pytest.raises(ValueError, match="not an event-search checkpoint"):
        decode_token({"type": "pickle"})
    with pytest.raises(ValueError, match="not JSON"):
        decode_token("{nope")
    with pytest.raises(ValueError, match="expected a dict"):
        decode_token(json.dumps([1]))


def test_token_with_consistent_digest_but_bad_fields_is_rejected() -> None:
    from sekoia_async._helpers.search import checkpoint as cp

    def forged(**changes: Any) -> dict[str, Any]:
        body = {k: v for k, v in _token().items() if k != "digest"}
        body.update(changes)
        body["digest"] = cp._digest(body)
        return body

    with pytest.raises(ValueError, match="outside the results"):
        decode_token(forged(offset=301))
    with pytest.raises(ValueError, match="not a UUID"):
        decode_token(forged(job_uuid="../../v1/sic/alerts"))
    with pytest.raises(ValueError, match="page_size"):
        decode_token(forged(page_size=5000))
    with pytest.raises(ValueError, match="'offset' has the wrong type"):
        decode_token(forged(offset="1"))
    window = dict(_token()["window"], earliest_resolved="last week")
    with pytest.raises(ValueError, match="earliest_resolved"):
        decode_token(forged(window=window))
    body = forged()
    del body["total"]
    body["digest"] = cp._digest({k: v for k, v in body.items() if k != "digest"})
    with pytest.raises(ValueError, match="missing 'total'"):
        decode_token(body)


def test_checkpoint_is_frozen() -> None:
    c = decode_token(_token())
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        c.offset = 1  # type: ignore[misc]


@given(
    total=st.integers(0, 5000),
    page_size=st.integers(1, 1000),
    max_events=st.none() | st.integers(1, 6000),
    offset=st.integers(0, 6000),
)
def test_page_plan_covers_exactly_the_rest_once(
    total: int, page_size: int, max_events: int | None, offset: int
) -> None:
    m = machine(spec=spec(page_size=page_size, max_events=max_events), job_uuid="j", offset=offset)
    m.start(0.0)
    assert isinstance(m.job_observed(2, total, False, now=0.0), StartPaging)
    end = total if max_events is None else min(total, max_events)
    requests = []
    while (r := m.next_page()) is not None:
        requests.append(r)
    covered = [i for r in requests for i in range(r.offset, r.offset + r.limit)]
    assert covered == list(range(min(offset, end), end))  # contiguous, in order, never past end
    assert all(1 <= r.limit <= page_size for r in requests)


def test_every_in_flight_page_that_finds_the_results_gone_gets_expired() -> None:
    m = machine()
    m.start(0.0)
    m.job_created("j", 2, 300, now=0.0)
    first, second = m.results_gone(), m.results_gone()
    assert first.kind is FailKind.EXPIRED
    assert second == first
    assert m.next_page() is None  # nothing more is requested after a failure
    later = m.job_missing(1.0)
    assert isinstance(later, Fail)
    assert later.kind is FailKind.EXPIRED
