"""The lifecycle of a streaming event search as a pure state machine (h11 style). No I/O.

Theory of operation
-------------------
The driver (stream.py) owns the sockets, the clock and the tasks; this machine owns every
decision. The driver tells it what it observed (``job_created``, ``job_observed``,
``job_missing``, ``deadline_passed``, ``page_received``, ``results_gone``) together with the
current time, and the machine answers with the next action to perform:

    CreateJob          POST the job (fresh search, or re-creation of an expired one)
    PollJob(delay)     wait ``delay`` seconds, then GET the job
    StartPaging        the job is done and ``total`` is known: start reading pages
    Fail(kind, msg)    stop with the error ``kind`` (failed, canceled, timeout, expired)

Phases::

    CREATING --job_created--> POLLING --status 2--> PAGING --all pages delivered--> (done)
        ^                        |  \\--status 3/4, deadline--> FAILED
        |                        |
        +------job_missing-------+   (404 or expired: re-create once, same resolved window)

A resumed search with a job uuid starts in POLLING (one immediate GET tells whether the job
still exists); without one it starts in CREATING.

Deadlines: the job must leave status 0 within ``start_timeout`` of its creation (or of the
first poll, on resume) and reach status 2 within ``run_timeout`` of starting. Waits are clamped
so that the last poll happens right at the deadline; an observation at or past the deadline
that has not progressed fails with ``timeout``. The driver also bounds each request by
``deadline`` (an absolute time on the driver's clock) and reports ``deadline_passed``.

Paging: once ``total`` is known the end is ``min(total, max_events)``; ``next_page()`` hands
out ``(offset, limit)`` requests in server order from the resume offset, with ``limit``
clipped so no request reaches past the end. The driver decides how many are in flight (the
window); the machine only guarantees each offset is requested once. ``page_received`` judges a
page: full (accept, extra items are dropped), short or empty before the end (retry after a
backoff, at most ``page_retries`` times) or still short after that (fail: never an infinite
loop, never a silent skip). Results that vanish while being read (``results_gone``) fail as
expired rather than being re-created behind the consumer's back: re-reading from a new job is
an explicit ``resume``. Once failed, ``next_page()`` hands out nothing more.

Checkpoints: ``checkpoint(delivered)`` describes the search as it stands once ``delivered``
events (counted from offset 0 of the job's results) have been yielded to the consumer.
"""

from __future__ import annotations

import enum
import random

import attrs

from .checkpoint import Checkpoint
from .policy import PollPolicy
from .spec import SearchSpec

__all__ = [
    "CreateJob",
    "Fail",
    "FailKind",
    "PageAccepted",
    "PageRequest",
    "PageRetry",
    "Phase",
    "PollJob",
    "SearchMachine",
    "StartPaging",
]

# Status numbers of the API (SearchJobStatus), kept as ints: the machine sees raw observations.
_NOT_STARTED, _IN_PROGRESS, _DONE, _CANCELED, _FAILED = 0, 1, 2, 3, 4


class Phase(enum.Enum):
    CREATING = "creating"
    POLLING = "polling"
    PAGING = "paging"
    FAILED = "failed"


class FailKind(enum.Enum):
    FAILED = "failed"
    CANCELED = "canceled"
    TIMEOUT = "timeout"
    EXPIRED = "expired"
    SHORT_PAGE = "short_page"


@attrs.frozen
class CreateJob:
    pass


@attrs.frozen
class PollJob:
    delay: float


@attrs.frozen
class StartPaging:
    total: int
    end: int


@attrs.frozen
class Fail:
    kind: FailKind
    message: str


Action = CreateJob | PollJob | StartPaging | Fail


@attrs.frozen
class PageRequest:
    offset: int
    limit: int


@attrs.frozen
class PageAccepted:
    keep: int  # how many of the received items belong to the stream


@attrs.frozen
class PageRetry:
    delay: float


PageVerdict = PageAccepted | PageRetry | Fail


class SearchMachine:
    """Decides what a streaming search does next; see the module docstring."""

    def __init__(
        self,
        spec: SearchSpec,
        *,
        poll: PollPolicy,
        start_timeout: float,
        run_timeout: float,
        job_uuid: str | None = None,
        offset: int = 0,
        expected_total: int | None = None,
        page_retries: int = 3,
        max_recreations: int = 1,
        rng: random.Random | None = None,
    ) -> None:
        if not start_timeout > 0 or not run_timeout > 0:
            raise ValueError(
                f"start_timeout and run_timeout must be > 0 seconds, "
                f"got {start_timeout!r} and {run_timeout!r}"
            )
        self.spec = spec
        self.poll = poll
        self.start_timeout = float(start_timeout)
        self.run_timeout = float(run_timeout)
        self.page_retries = page_retries
        self.max_recreations = max_recreations
        self._rng = rng
        self.job_uuid = job_uuid
        # The number of leading events the consumer already has (resume); never re-yielded.
        self.start_offset = offset
        # The total the previous job had (resume), to notice that re-created results differ.
        self.expected_total = expected_total
        self.total: int | None = expected_total
        self.end: int | None = None
        self.next_offset = offset
        self.phase = Phase.POLLING if job_uuid else Phase.CREATING
        self.recreations = 0
        self.polls = 0
        self.total_changed = False
        self._clock_start: float | None = None  # when the start deadline began
        self._started_at: float | None = None  # when status 1 (or 2) was first seen
        self._attempt = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, now: float) -> Action:
        """The first action: create the job, or (resume) look at the existing one right away."""
        self._clock_start = now
        if self.phase is Phase.CREATING:
            return CreateJob()
        return PollJob(0.0)

    @property
    def deadline(self) -> float | None:
        """The absolute time by which the job must progress, on the driver's clock."""
        if self.phase not in (Phase.CREATING, Phase.POLLING) or self._clock_start is None:
            return None
        if self._started_at is None:
            return self._clock_start + self.start_timeout
        return self._started_at + self.run_timeout

    def job_created(
        self, job_uuid: str, status: int, total: int | None, now: float, message: str | None = None
    ) -> Action:
        """The POST answered with a job."""
        self.job_uuid = job_uuid
        self.phase = Phase.POLLING
        self._clock_start = now
        self._started_at = None
        self._attempt = 0
        return self.job_observed(status, total, False, now, message)

    def job_observed(
        self,
        status: int,
        total: int | None,
        expired: bool,
        now: float,
        message: str | None = None,
    ) -> Action:
        """A GET (or the creating POST) showed the job in ``status``."""
        self.polls += 1
        if expired:
            return self.job_missing(now)
        if status == _DONE:
            return self._done(total)
        if status == _FAILED:
            return self._fail(
                FailKind.FAILED,
                f"search job {self.job_uuid} failed: {message or 'the server gave no reason'}",
            )
        if status == _CANCELED:
            return self._fail(
                FailKind.CANCELED,
                f"search job {self.job_uuid} was canceled (by a user or the platform); "
                "run the search again",
            )
        if status != _NOT_STARTED and self._started_at is None:
            # In progress, or a status this SDK does not know yet: count it as running.
            self._started_at = now
        deadline = self.deadline
        assert deadline is not None
        if now >= deadline:
            return self.deadline_passed(now)
        delay = min(self.poll.delay(self._attempt, self._rng), deadline - now)
        self._attempt += 1
        return PollJob(delay)

    def job_missing(self, now: float) -> Action:
        """The job is gone (404) or its results expired: re-create it, at most once."""
        if self.phase is Phase.PAGING or self.end is not None:
            return self.results_gone()
        if self.recreations >= self.max_recreations:
            return self._fail(
                FailKind.EXPIRED,
                f"search job {self.job_uuid} expired and its re-creation expired too; "
                "raise results_ttl or read faster",
            )
        self.recreations += 1
        self.phase = Phase.CREATING
        self.job_uuid = None
        self._clock_start = now
        self._started_at = None
        return CreateJob()

    def deadline_passed(self, now: float) -> Action:
        """The deadline of the current phase passed (observed, or a request ran into it)."""
        if self._started_at is None:
            what = f"did not start within start_timeout={self.start_timeout:g}s"
        else:
            what = f"did not finish within run_timeout={self.run_timeout:g}s"
        return self._fail(
            FailKind.TIMEOUT,
            f"search job {self.job_uuid} {what}; raise the timeout or narrow the query/window, "
            "or resume later from the error's continuation_token",
        )

    def _done(self, total: int | None) -> Action:
        if total is None or total < 0:
            return self._fail(
                FailKind.FAILED,
                f"search job {self.job_uuid} is done but reports no total ({total!r})",
            )
        if self.expected_total is not None and total != self.expected_total:
            self.total_changed = True
        self.total = total
        end = total if self.spec.max_events is None else min(total, self.spec.max_events)
        self.end = end
        # After a re-creation with fewer results, there is nothing left past the new end.
        self.next_offset = min(self.start_offset, end)
        self.phase = Phase.PAGING
        return StartPaging(total=total, end=end)

    def _fail(self, kind: FailKind, message: str) -> Fail:
        self.phase = Phase.FAILED
        return Fail(kind, message)

    # -- paging ------------------------------------------------------------------------------

    def results_gone(self) -> Fail:
        """A page read found the results gone (404): fail; never re-create mid-stream."""
        # Several in-flight pages can each report it: every report gets the same answer.
        return self._fail(
            FailKind.EXPIRED,
            f"the results of search job {self.job_uuid} expired while being read; "
            "resume from the error's continuation_token to re-create the job and carry on",
        )

    def next_page(self) -> PageRequest | None:
        """The next page to request, in server order, or None once every page was handed out."""
        if self.phase is not Phase.PAGING or self.end is None or self.next_offset >= self.end:
            return None
        limit = min(self.spec.page_size, self.end - self.next_offset)
        request = PageRequest(self.next_offset, limit)
        self.next_offset += limit
        return request

    def page_received(self, request: PageRequest, count: int, attempt: int) -> PageVerdict:
        """Judge a page of ``count`` items answering ``request`` (``attempt`` 0 = first try)."""
        if count >= request.limit:
            return PageAccepted(request.limit)
        if attempt < self.page_retries:
            return PageRetry(self.poll.delay(attempt, self._rng))
        return self._fail(
            FailKind.SHORT_PAGE,
            f"search job {self.job_uuid} returned {count} events at offset {request.offset} "
            f"where {request.limit} were expected (total {self.total}), "
            f"{attempt + 1} times; its results changed or are incomplete. Resume from the "
            "error's continuation_token, or run the search again",
        )

    # -- checkpoints -------------------------------------------------------------------------

    def checkpoint(self, delivered: int | None = None) -> Checkpoint:
        """Where the search stands once ``delivered`` events were yielded (default: none new)."""
        offset = self.start_offset if delivered is None else delivered
        if self.total is not None:
            # A re-created job can be smaller than what was already delivered: nothing is left.
            offset = min(offset, self.total)
        return Checkpoint(spec=self.spec, job_uuid=self.job_uuid, total=self.total, offset=offset)
