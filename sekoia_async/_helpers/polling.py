"""Waiting for a server-side long-running operation (export task, SOL query run).

The schedule is the search stream's pure ``PollPolicy`` (exponential backoff with jitter); this
module only performs it: fetch the state, report it, stop when it is final, else sleep. Every
wait is bounded by a deadline, so a stuck operation ends in ``OperationTimeout``, never a hang.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

from ..errors import SekoiaError
from .search.policy import PollPolicy

__all__ = ["OperationFailed", "OperationTimeout", "ProgressCallback", "poll_until_done"]

T = TypeVar("T")

#: Called with each observed state; may be a plain function or a coroutine function.
ProgressCallback = Callable[[Any], "Awaitable[object] | object"]


class OperationFailed(SekoiaError):
    """A server-side operation (bulk export task, SOL query run) ended in failure.

    ``operation_uuid`` names it, ``status`` is its final status and ``state`` the last object
    observed (a ``Task`` or ``QueryRun``).
    """

    def __init__(
        self, message: str, *, operation_uuid: str | None, status: Any, state: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation_uuid = operation_uuid
        self.status = status
        self.state = state


class OperationTimeout(SekoiaError, TimeoutError):
    """A server-side operation did not finish before its deadline; it may still be running."""

    def __init__(self, message: str, *, operation_uuid: str | None, state: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.operation_uuid = operation_uuid
        self.state = state


async def notify(callback: ProgressCallback | None, state: object) -> None:
    """Call a user callback that may be sync or async."""
    if callback is None:
        return
    result = callback(state)
    if inspect.isawaitable(result):
        await result


async def poll_until_done(
    fetch: Callable[[], Awaitable[T]],
    is_done: Callable[[T], bool],
    *,
    policy: PollPolicy,
    max_wait: float | None,
    what: str,
    operation_uuid: str | None,
    on_update: ProgressCallback | None = None,
) -> T:
    """Fetch the state until ``is_done``; sleep ``policy.delay(n)`` between fetches.

    Raises OperationTimeout once ``max_wait`` seconds have passed (None: no deadline).
    """
    last: list[T] = []
    # move_on_after (not fail_after): only this deadline may end the wait as a timeout; a
    # TimeoutError raised by the fetch or the callback propagates unchanged.
    with anyio.move_on_after(max_wait):
        attempt = 0
        while True:
            state = await fetch()
            last[:] = [state]
            await notify(on_update, state)
            if is_done(state):
                return state
            await anyio.sleep(policy.delay(attempt))
            attempt += 1
    raise OperationTimeout(
        f"{what} {operation_uuid} did not finish within {max_wait} s; it may still be "
        "running on the server: wait for it again, or raise max_wait",
        operation_uuid=operation_uuid,
        state=last[0] if last else None,
    )
