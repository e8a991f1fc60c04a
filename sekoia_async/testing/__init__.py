"""A faithful local emulator of the Sekoia.io API, for tests, benchmarks and demos.

``async with SekoiaEmulator(seed=0, events=10_000) as emu:`` serves the API on 127.0.0.1;
point a client at ``emu.base_url`` with ``emu.api_key``. ``Faults`` injects latency, rate
limits, errors, resets, truncated bodies, failing jobs and WAF blocks. Also runnable as
``python -m sekoia_async.testing`` and as pytest fixtures (``sekoia_emulator``, ``sekoia_client``).
"""

from ._core import EmulatorStats, RequestRecord, VirtualClock
from ._faults import Faults
from ._query import QuerySyntaxError
from ._routing import PERMISSIONS
from ._server import SekoiaEmulator

__all__ = [
    "PERMISSIONS",
    "EmulatorStats",
    "Faults",
    "QuerySyntaxError",
    "RequestRecord",
    "SekoiaEmulator",
    "VirtualClock",
]
