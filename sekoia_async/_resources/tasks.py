"""Generic asynchronous tasks: ``GET /v1/tasks/{uuid}`` (bulk exports and other jobs)."""

from __future__ import annotations

import enum

from .._helpers.polling import OperationFailed, ProgressCallback, poll_until_done
from .._helpers.search.policy import PollPolicy
from .._models._converter import structure
from .._models.tasks import Task
from .._transport.paths import quote_path_param
from ._base import Resource
from ._listing import uuid_of

__all__ = ["DEFAULT_TASK_MAX_WAIT", "TasksResource"]

#: Exports of ~50 M events take 1-2 h on Sekoia's side; waiting longer means something is stuck.
DEFAULT_TASK_MAX_WAIT = 3 * 3600.0


def _status_text(task: Task) -> str:
    status = task.status
    return str(status.value if isinstance(status, enum.Enum) else status)


class TasksResource(Resource):
    """``client.tasks``: follow server-side tasks."""

    __slots__ = ()

    async def get(self, task: Task | str) -> Task:
        """The current state of a task (by uuid, or a ``Task`` seen earlier)."""
        task_uuid = uuid_of(task)
        data = await self._client.request("GET", f"/v1/tasks/{quote_path_param(task_uuid)}")
        task = structure(data, Task)
        # Some services omit the uuid in the task body; the caller asked for this one.
        if task.uuid or not isinstance(data, dict):
            return task
        return structure({**data, "uuid": task_uuid}, Task)

    async def wait(
        self,
        task: Task | str,
        *,
        poll: PollPolicy | None = None,
        max_wait: float | None = DEFAULT_TASK_MAX_WAIT,
        progress: ProgressCallback | None = None,
    ) -> Task:
        """Poll a task with backoff until it finishes; return it, or raise OperationFailed.

        ``progress`` (sync or async) gets each observed ``Task``; OperationTimeout is raised
        after ``max_wait`` seconds (None waits forever).
        """
        task_uuid = uuid_of(task)
        task = await poll_until_done(
            lambda: self.get(task_uuid),
            lambda t: t.done,
            policy=poll or PollPolicy(),
            max_wait=max_wait,
            what="task",
            operation_uuid=task_uuid,
            on_update=progress,
        )
        if task.failed:
            raise OperationFailed(
                f"task {task_uuid} ended with status {_status_text(task)}: "
                f"{task.error_message or 'the server gave no reason'}",
                operation_uuid=task_uuid,
                status=task.status,
                state=task,
            )
        return task
