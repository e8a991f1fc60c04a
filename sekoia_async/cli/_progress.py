"""Progress displays on stderr (rich): a bar for one search, a live table for an export."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import anyio
from rich.console import Console, Group
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from .._helpers.exporter import ExportResult, TenantProgress

__all__ = ["EventsProgress", "ExportDisplay", "export_summary"]


class _RateColumn(ProgressColumn):
    """Events per second, averaged by rich over its speed window."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} ev/s" if speed else "- ev/s", style="cyan")


class EventsProgress:
    """``with EventsProgress(enabled) as p: p.advance(n, total)``: events, events/s, ETA.

    Disabled (a no-op) when stderr is not a terminal, so pipes and logs stay clean.
    """

    def __init__(self, enabled: bool, description: str = "events") -> None:
        self.enabled = enabled
        self.count = 0
        self._progress: Progress | None = None
        self._task: Any = None
        self._description = description

    def __enter__(self) -> EventsProgress:
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _RateColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(self._description, total=None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.__exit__(exc_type, exc, tb)

    def advance(self, n: int, total: int | None = None) -> None:
        self.count += n
        if self._progress is not None:
            self._progress.update(self._task, advance=n, total=total)

    def set(self, done: int, total: int | None = None) -> None:
        """Absolute update (for callbacks that report counts rather than increments)."""
        self.advance(done - self.count, total)


_STATE_STYLE = {
    "done": "green",
    "parts done": "green",
    "failed": "bold red",
    "running": "cyan",
    "splitting": "yellow",
    "pending": "dim",
}


def _tenant_table(progress: Mapping[str, TenantProgress], now: float, *, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("tenant")
    table.add_column("state")
    table.add_column("events", justify="right")
    table.add_column("events/s", justify="right")
    table.add_column("work items", justify="right")
    table.add_column("splits", justify="right")
    for p in progress.values():
        row: list[str | Text] = [
            p.name,
            Text(p.state, style=_STATE_STYLE.get(p.state, "")),
            f"{p.events:,}" + (f" ({p.resumed_events:,} resumed)" if p.resumed_events else ""),
            f"{p.rate(now):,.0f}",
            f"{p.items_done}/{p.items}",
            str(p.splits),
        ]
        table.add_row(*row)
    return table


def export_summary(result: ExportResult) -> Group:
    """The final per-tenant summary of an export, then one line per failed tenant."""
    failed = [t for t in result.tenants if not t.ok]
    title = (
        f"export: {len(result.tenants) - len(failed)}/{len(result.tenants)} tenants ok, "
        f"{result.events:,} events, {result.elapsed:.1f} s"
    )
    table = _tenant_table({t.name: t for t in result.tenants}, time.monotonic(), title=title)
    lines = [Text(f"{t.name} failed: {t.error}", style="red") for t in failed]
    return Group(table, *lines)


class ExportDisplay:
    """A live per-tenant table on stderr, refreshed while ``run`` is awaited."""

    def __init__(self, progress: Mapping[str, TenantProgress], *, enabled: bool) -> None:
        self.progress = progress
        self.enabled = enabled
        self.console = Console(stderr=True)

    def _render(self) -> Table:
        return _tenant_table(self.progress, time.monotonic(), title="export")

    async def run(self, work: Callable[[], Any]) -> Any:
        """Await ``work()`` while refreshing the table (if enabled)."""
        if not self.enabled:
            return await work()
        result: list[Any] = []
        with Live(self._render(), console=self.console, auto_refresh=False, transient=True) as live:
            async with anyio.create_task_group() as tg:

                async def refresh() -> None:
                    while True:
                        live.update(self._render(), refresh=True)
                        await anyio.sleep(0.25)

                tg.start_soon(refresh)
                result.append(await work())
                tg.cancel_scope.cancel()
        return result[0]
