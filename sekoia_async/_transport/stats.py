"""Per-client request counters."""

from __future__ import annotations

import attrs

__all__ = ["ClientStats"]


@attrs.define(slots=True)
class ClientStats:
    """Counters of one client since it was created (attempts, not calls: a retry counts again).

    ``requests``: attempts sent; ``retries``: attempts that were retries; ``rate_limited``: 429
    answers seen; ``errors``: failed attempts (error status or no response); ``bytes_received``:
    response body bytes read.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    errors: int = 0
    bytes_received: int = 0
