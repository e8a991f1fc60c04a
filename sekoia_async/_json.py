"""The SDK's JSON codec: one place that decides how API bodies are decoded and encoded."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["DECODER", "dumps", "loads"]

#: Name of the library that decodes API answers (shown by benchmarks and bug reports).
DECODER = "json"


def loads(data: bytes | str) -> Any:
    """Decode a JSON document; ValueError if it does not parse."""
    return json.loads(data)


def dumps(value: Any) -> str:
    """Compact JSON text."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
