"""SessionPool: one aiohttp session and connection pool shared by many clients (tenants)."""

from __future__ import annotations

import ssl as _ssl
from types import TracebackType

import aiohttp
import anyio

from ..errors import ClientClosedError
from .ratelimit import TokenBucket

__all__ = ["SessionPool"]


class SessionPool:
    """A connection pool, and a rate limit shared by every client that uses it.

    ``limit`` bounds open connections in total and ``limit_per_host`` per host (0: no bound);
    a request waits for a free connection before its rate-limit tokens are spent on the wire;
    ``rate_limit`` (requests/s, ``None`` to disable, default 50) is shared by all clients on the
    pool because Sekoia's WAF counts requests per egress IP. ``trust_env=True`` honours the
    HTTP(S)_PROXY environment variables. The aiohttp session is created on
    first use inside the running event loop. Use ``async with SessionPool() as pool:`` or
    ``await pool.aclose()``; clients given a pool never close it.
    """

    def __init__(
        self,
        limit: int = 100,
        limit_per_host: int = 0,
        rate_limit: float | TokenBucket | None = 50.0,
        *,
        rate_burst: int | None = None,
        keepalive_timeout: float = 15.0,
        ttl_dns_cache: int | None = 300,
        ssl: _ssl.SSLContext | None = None,
        trust_env: bool = False,
    ) -> None:
        if limit < 0 or limit_per_host < 0:
            raise ValueError("limit and limit_per_host must be >= 0 (0 means no bound)")
        self.limit = limit
        self.limit_per_host = limit_per_host
        self._limiter = TokenBucket.coerce(rate_limit, rate_burst)
        self.rate_limit = self._limiter.rate if self._limiter is not None else None
        self._keepalive_timeout = keepalive_timeout
        self._ttl_dns_cache = ttl_dns_cache
        self._ssl = ssl
        self._trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None
        # One slot per connection, taken before a request's send-time rate check and held for
        # the life of its response: a request that holds a slot always finds a connection, so
        # the moment the rate limits let it go is the moment it is sent (see the client).
        bounds = [n for n in (limit, limit_per_host) if n]
        self._slot_count = min(bounds) if bounds else 0
        self._slots: anyio.Semaphore | None = None
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("open" if self._session else "idle")
        return (
            f"SessionPool(limit={self.limit}, limit_per_host={self.limit_per_host}, "
            f"rate_limit={self.rate_limit}, {state})"
        )

    @property
    def closed(self) -> bool:
        """True once ``aclose()`` was called."""
        return self._closed

    def session(self) -> aiohttp.ClientSession:
        """The pool's aiohttp session, created on first use (must run inside the event loop)."""
        session = self._session
        if session is not None:
            return session
        if self._closed:
            raise ClientClosedError(
                "This SessionPool is closed; create a new SessionPool (and clients on it)"
            )
        connector = aiohttp.TCPConnector(
            limit=self.limit,
            limit_per_host=self.limit_per_host,
            keepalive_timeout=self._keepalive_timeout,
            ttl_dns_cache=self._ttl_dns_cache,
            ssl=self._ssl if self._ssl is not None else True,
        )
        # Our own retry and redirect logic runs above this session; cookies are never wanted
        # (they would leak state between tenants sharing the pool).
        if self._slot_count:
            self._slots = anyio.Semaphore(self._slot_count)
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=True,
            raise_for_status=False,
            trust_env=self._trust_env,
        )
        return self._session

    async def aclose(self) -> None:
        """Close every connection. Idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def __aenter__(self) -> SessionPool:
        self.session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
