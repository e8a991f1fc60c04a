"""Emulated cases endpoints. PLACEHOLDER owned by the emulator domains work."""

from __future__ import annotations

from .._routing import EmulatorState, Route


def routes(state: EmulatorState) -> list[Route]:
    return []
