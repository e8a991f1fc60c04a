"""Emulator domain modules: each exposes routes(state) -> list[Route]."""
