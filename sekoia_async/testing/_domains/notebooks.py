"""Emulated SOL query runs (notebooks). Filled in next."""

from __future__ import annotations

from .._routing import EmulatorState, Route


def routes(state: EmulatorState) -> list[Route]:
    return []
