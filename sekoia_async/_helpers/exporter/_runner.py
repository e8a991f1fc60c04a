"""The concurrent multi-tenant export: every tenant at once over one shared SessionPool."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio
import attrs

from ...errors import ConfigurationError
from ._config import ExportConfig, TenantConfig
from ._output import (
    DurableOutput,
    OutputStateError,
    checkpoint_path,
    encode_events,
    read_checkpoint,
    write_json_atomic,
)
from ._plan import (
    ItemState,
    Window,
    WorkItem,
    item_window,
    plan_work,
    resolve_window,
    select_shard,
)

__all__ = ["ExportResult", "Exporter", "TenantProgress", "run_export"]

log = logging.getLogger("sekoia_async.export")

# Progress states shown in the table.
PENDING, RUNNING, SPLITTING, DONE, PARTS_DONE, FAILED = (
    "pending",
    "running",
    "splitting",
    "done",
    "parts done",
    "failed",
)


@attrs.define
class TenantProgress:
    """Live progress of one tenant (read by progress displays while the export runs)."""

    name: str
    items: int
    state: str = PENDING
    events: int = 0
    resumed_events: int = 0
    items_done: int = 0
    splits: int = 0
    started: float | None = None
    finished: float | None = None
    error: str | None = None

    def rate(self, now: float | None = None) -> float:
        """Events per second written by this run (resumed events excluded)."""
        if self.started is None:
            return 0.0
        end = self.finished if self.finished is not None else (now or time.monotonic())
        elapsed = max(end - self.started, 1e-9)
        return (self.events - self.resumed_events) / elapsed

    @property
    def ok(self) -> bool:
        return self.state in (DONE, PARTS_DONE)


@attrs.frozen
class ExportResult:
    """What an export did, per tenant (in config order)."""

    tenants: tuple[TenantProgress, ...]
    elapsed: float

    @property
    def ok(self) -> bool:
        """True when every tenant of the slice finished."""
        return all(t.ok for t in self.tenants)

    @property
    def events(self) -> int:
        return sum(t.events for t in self.tenants)


class Exporter:
    """Exports every tenant of ``config`` (or the ``shard=(I, N)`` slice of its work items).

    ``progress`` maps tenant names to live :class:`TenantProgress` objects as soon as the
    exporter is built. ``client_options`` go to every ``SekoiaClient`` (timeout, max_retries...);
    ``pool_options`` to the shared ``SessionPool``; ``search_options`` (poll, start_timeout,
    run_timeout) to every ``client.events.search``/``resume``.
    """

    def __init__(
        self,
        config: ExportConfig,
        *,
        shard: tuple[int, int] | None = None,
        pool_limit: int = 100,
        now: datetime | None = None,
        environ: Mapping[str, str] | None = None,
        client_options: Mapping[str, Any] | None = None,
        pool_options: Mapping[str, Any] | None = None,
        search_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.search_options = dict(search_options or {})
        self.shard = shard
        self.pool_limit = pool_limit
        self.now = now or datetime.now(timezone.utc)
        now_pinned = now is not None
        self.environ = os.environ if environ is None else environ
        self.client_options = dict(client_options or {})
        self.pool_options = dict(pool_options or {})
        items = plan_work(config)
        if shard is not None:
            index, count = shard
            items = select_shard(items, index, count)
            if count > 1 and not now_pinned:
                _check_absolute_windows(config, items)
        self.items = items
        self.progress: dict[str, TenantProgress] = {}
        for tenant in config.tenants:
            mine = [i for i in items if i.tenant == tenant.name]
            if mine:
                self.progress[tenant.name] = TenantProgress(tenant.name, items=len(mine))

    async def run(self) -> ExportResult:
        """Run the export; a tenant's failure is recorded in its progress, never raised."""
        from ..._transport.pool import SessionPool

        started = time.monotonic()
        async with (
            SessionPool(limit=self.pool_limit, **self.pool_options) as pool,
            anyio.create_task_group() as tg,
        ):
            for name in self.progress:
                tenant = self.config.tenant(name)
                items = [i for i in self.items if i.tenant == name]
                tg.start_soon(self._run_tenant, pool, tenant, items)
        return ExportResult(tuple(self.progress.values()), time.monotonic() - started)

    async def _run_tenant(self, pool: Any, tenant: TenantConfig, items: list[WorkItem]) -> None:
        from ..._client import SekoiaClient

        prog = self.progress[tenant.name]
        prog.started = time.monotonic()
        prog.state = RUNNING
        try:
            final = await anyio.to_thread.run_sync(read_checkpoint, checkpoint_path(tenant.output))
            if final is not None and final.done:
                if final.query != tenant.query:
                    raise OutputStateError(
                        f"{tenant.output} was exported for query {final.query!r}, not "
                        f"{tenant.query!r}; delete it and its checkpoint to export again"
                    )
                # Finished by an earlier run: nothing to do (no key or request needed) but
                # the rename a crash may have interrupted.
                if tenant.time_shards == 1:
                    await anyio.to_thread.run_sync(DurableOutput(tenant.output).publish)
                prog.events = prog.resumed_events = final.events
                prog.items_done = prog.items
                prog.state = DONE
                return
            api_key = tenant.resolve_api_key(self.environ)
            window = await anyio.to_thread.run_sync(self._tenant_window, tenant)
            options = dict(self.client_options)
            if tenant.rate_limit is not None:
                options["rate_limit"] = tenant.rate_limit
            async with SekoiaClient(
                api_key, region=tenant.region, base_url=tenant.base_url, pool=pool, **options
            ) as client:
                for item in items:
                    await self._run_item(client, tenant, item, window, prog)
                    prog.items_done += 1
            if tenant.time_shards > 1:
                if len(items) == tenant.time_shards:
                    await anyio.to_thread.run_sync(self._merge, tenant, window, prog)
                else:
                    prog.state = PARTS_DONE
                    prog.finished = time.monotonic()
                    return
            prog.state = DONE
        except Exception as exc:  # one tenant's failure must not stop the others
            prog.state = FAILED
            prog.error = _describe(exc)
            log.warning("tenant %s failed: %s", tenant.name, prog.error)
        finally:
            prog.finished = time.monotonic()

    def _tenant_window(self, tenant: TenantConfig) -> Window:
        """The tenant's absolute window, frozen on the first run so that a rerun (or another
        machine) reads exactly the same time shards."""
        if tenant.time_shards == 1:
            # The work item's checkpoint freezes it (see DurableOutput.open).
            return resolve_window(tenant.earliest, tenant.latest, now=self.now)
        plan = _plan_path(tenant.output)
        state = read_checkpoint(plan)
        if state is None:
            window = resolve_window(tenant.earliest, tenant.latest, now=self.now)
            if tenant.output.exists():
                raise OutputStateError(
                    f"{tenant.output} exists but was not written by this export; move it away"
                )
            tenant.output.parent.mkdir(parents=True, exist_ok=True)
            state = ItemState(
                item=_merged_key(tenant), query=tenant.query, window=window, segments=()
            )
            write_json_atomic(plan, state.to_json())
        elif state.query != tenant.query:
            raise OutputStateError(
                f"{plan} was planned for another query; delete it and the tenant's part files "
                "to export again"
            )
        return state.window

    async def _run_item(
        self,
        client: Any,
        tenant: TenantConfig,
        item: WorkItem,
        tenant_window: Window,
        prog: TenantProgress,
    ) -> None:
        path = tenant.output if item.shards == 1 else _part_path(tenant.output, item)
        output = DurableOutput(path)
        initial = ItemState.start(item.key, tenant.query, item_window(tenant, item, tenant_window))
        state = await anyio.to_thread.run_sync(output.open, initial)
        try:
            if state.item != item.key or state.query != tenant.query:
                raise OutputStateError(
                    f"checkpoint {output.checkpoint} belongs to {state.item!r} with query "
                    f"{state.query!r}, not to this config; delete it and {path.name} to "
                    "export again"
                )
            prog.events += state.events
            prog.resumed_events += state.events
            prog.splits += state.splits
            while not state.done:
                state = await self._run_segment(client, tenant, output, state, prog)
            await anyio.to_thread.run_sync(output.publish)
        finally:
            output.close()

    async def _run_segment(
        self,
        client: Any,
        tenant: TenantConfig,
        output: DurableOutput,
        state: ItemState,
        prog: TenantProgress,
    ) -> ItemState:
        segment = state.segments[0]
        if state.token is not None:
            stream = client.events.resume(
                state.token, concurrency=tenant.concurrency, **self.search_options
            )
        else:
            stream = client.events.search(
                tenant.query,
                earliest=segment.earliest,
                latest=segment.latest,
                page_size=tenant.page_size,
                concurrency=tenant.concurrency,
                **self.search_options,
            )
        fresh = state.token is None
        async with stream as results:
            async for page in results.pages():
                if fresh:
                    fresh = False
                    total = results.total
                    if total is not None and total >= tenant.split_threshold:
                        split = state.split_current()
                        if split is not None:
                            # Nothing of this job was written: leave it (the context cancels
                            # its fetches) and run the two halves as jobs of their own.
                            await anyio.to_thread.run_sync(output.commit, split)
                            prog.splits += 1
                            prog.state = SPLITTING
                            return split
                        log.warning(
                            "tenant %s: %d events in %s..%s, which is too short to split; "
                            "reading it as one job (results may be capped by the server)",
                            tenant.name,
                            total,
                            *segment.to_json(),
                        )
                    prog.state = RUNNING
                data = encode_events(page, gzip=tenant.gzip)
                state = state.wrote(len(data), len(page), results.checkpoint())
                await anyio.to_thread.run_sync(output.append, data, state)
                prog.events += len(page)
        state = state.finish_segment()
        await anyio.to_thread.run_sync(output.commit, state)
        return state

    def _merge(self, tenant: TenantConfig, window: Window, prog: TenantProgress) -> None:
        """Concatenate the time-shard parts (newest first) into the tenant's output."""
        parts = [
            _part_path(tenant.output, WorkItem(tenant.name, k, tenant.time_shards))
            for k in range(tenant.time_shards)
        ]
        events = 0
        for part in parts:
            state = read_checkpoint(checkpoint_path(part))
            if state is None or not state.done:
                raise OutputStateError(f"time shard {part.name} is not finished; rerun to finish")
            events += state.events
        tmp = tenant.output.with_name(f".{tenant.output.name}.{os.getpid()}.merge")
        with open(tmp, "wb") as dst:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
            size = dst.tell()
        os.replace(tmp, tenant.output)
        final = ItemState(
            item=_merged_key(tenant),
            query=tenant.query,
            window=window,
            segments=(),
            bytes=size,
            events=events,
            done=True,
        )
        write_json_atomic(checkpoint_path(tenant.output), final.to_json())
        for part in parts:
            part.unlink(missing_ok=True)
            checkpoint_path(part).unlink(missing_ok=True)
        _plan_path(tenant.output).unlink(missing_ok=True)


async def run_export(config: ExportConfig, **options: Any) -> ExportResult:
    """Run :class:`Exporter` with ``options`` and return its result."""
    return await Exporter(config, **options).run()


def _merged_key(tenant: TenantConfig) -> str:
    return f"{tenant.name}#all/{tenant.time_shards}"


def _part_path(output: Path, item: WorkItem) -> Path:
    return output.with_name(f"{output.name}.part-{item.shard:04d}-of-{item.shards:04d}")


def _plan_path(output: Path) -> Path:
    return output.with_name(output.name + ".plan.json")


def _check_absolute_windows(config: ExportConfig, items: list[WorkItem]) -> None:
    # Machines of a sharded export must cut identical time shards: relative times ("-30d",
    # "now") would resolve differently on each, so they must be pinned.
    names = {i.tenant for i in items}
    for tenant in config.tenants:
        if tenant.name in names and tenant.time_shards > 1:
            a = datetime(2000, 1, 1, tzinfo=timezone.utc)
            b = datetime(2001, 1, 1, tzinfo=timezone.utc)
            if resolve_window(tenant.earliest, tenant.latest, now=a) != resolve_window(
                tenant.earliest, tenant.latest, now=b
            ):
                raise ConfigurationError(
                    f"tenant {tenant.name!r}: --shard splits its time shards across machines, "
                    f"so its window ({tenant.earliest}, {tenant.latest}) must be absolute; use "
                    "ISO 8601 times or pass --now to pin relative times"
                )


def _describe(exc: BaseException) -> str:
    # SekoiaError messages never contain API keys; other exceptions are ours or the OS's.
    # anyio wraps task failures in exception groups (a builtin only from Python 3.11).
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, tuple) and len(inner) == 1:
        return _describe(inner[0])
    return f"{type(exc).__name__}: {exc}"
