"""The SDK's JSON codec: API answers are decoded with orjson when it is installed
(``pip install 'sekoia-async[speed]'``), with the standard library otherwise.

Decoding dominates the CPU of a streaming search (a page of 1000 events is about 1.3 MB of
JSON), and orjson decodes it several times faster. Both raise ValueError on invalid input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["DECODER", "dumps", "loads"]

#: Decode a JSON document (bytes or str); ValueError if it does not parse.
loads: Callable[[bytes | str], Any]
#: Name of the library that decodes API answers (shown by benchmarks and bug reports).
DECODER: str

try:
    import orjson
except ImportError:
    loads = json.loads
    DECODER = "json"
else:
    loads = orjson.loads
    DECODER = "orjson"


def dumps(value: Any) -> str:
    """Compact JSON text (for messages: request bodies are encoded by aiohttp)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
