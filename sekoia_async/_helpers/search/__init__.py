"""Streaming event search: pure lifecycle machine, poll policy, checkpoints and the anyio driver."""
