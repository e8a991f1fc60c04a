"""SekoiaClient: the entry point. Holds settings and resources; every request goes through
``_send`` (the transport seam) with rate limits, retries and error mapping around it.
"""

from __future__ import annotations

import contextlib
import logging
import platform
import ssl as _ssl
import time
import warnings
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any, Final

import aiohttp
import anyio
import attrs
from multidict import CIMultiDictProxy
from yarl import URL

from ._json import dumps, loads
from ._resources.account import AccountResource
from ._resources.alerts import AlertsResource
from ._resources.assets import AssetsResource
from ._resources.cases import CasesResource
from ._resources.communities import CommunitiesResource
from ._resources.entities import EntitiesResource
from ._resources.events import EventsResource
from ._resources.intakes import IntakesResource
from ._resources.intelligence import IntelligenceResource
from ._resources.invitations import InvitationsResource
from ._resources.queries import QueriesResource
from ._resources.rules import RulesResource
from ._resources.tasks import TasksResource
from ._transport.config import (
    Timeout,
    is_loopback_host,
    resolve_api_key,
    resolve_base_url,
)
from ._transport.filters import encode_filters
from ._transport.pool import SessionPool
from ._transport.ratelimit import TokenBucket
from ._transport.retry import Failure, RetryPolicy, parse_retry_after, should_retry
from ._transport.stats import ClientStats
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    ConfigurationError,
    RateLimitError,
    status_error_class,
)

__all__ = ["SekoiaClient", "StreamResponse"]

logger = logging.getLogger("sekoia_async")

_DEBUG: Final = logging.DEBUG
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS: Final = 5
_REQUEST_ID_HEADERS: Final = (
    "x-request-id",
    "x-correlation-id",
    "request-id",
    "x-amzn-requestid",
    "cf-ray",
)
_UNSET: Any = object()


def _default_user_agent() -> str:
    return (
        f"sekoia-async/{__version__} python/{platform.python_version()} "
        f"aiohttp/{aiohttp.__version__}"
    )


class StreamResponse:
    """An open streamed response: ``status``, ``headers``, ``url`` and async body iterators.

    Only valid inside ``async with client.stream(...) as resp:``.
    """

    __slots__ = ("_client", "_method", "_resp", "_stats", "headers", "status", "url")

    def __init__(self, resp: aiohttp.ClientResponse, client: SekoiaClient, method: str) -> None:
        self._resp = resp
        self._client = client
        self._method = method
        self._stats = client.stats
        self.status: int = resp.status
        self.headers: CIMultiDictProxy[str] = resp.headers
        self.url: str = str(resp.url.with_query(None))

    def __repr__(self) -> str:
        return f"<StreamResponse {self.status} {self.url}>"

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, in chunks of whatever size the network delivers."""
        stats = self._stats
        content = self._resp.content
        while True:
            try:
                chunk = await content.readany()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise self._client._connection_error(exc, self._method, self._resp.url)[1] from exc
            if not chunk:
                return
            stats.bytes_received += len(chunk)
            yield chunk

    async def iter_lines(self) -> AsyncIterator[bytes]:
        """The body split on ``\\n`` (a trailing ``\\r`` is dropped too), without line ends."""
        pending = bytearray()
        async for chunk in self.iter_chunks():
            if b"\n" not in chunk:
                pending += chunk
                continue
            pending += chunk
            lines = pending.split(b"\n")
            pending = lines.pop()
            for line in lines:
                yield bytes(line[:-1]) if line.endswith(b"\r") else bytes(line)
        if pending:
            yield bytes(pending[:-1]) if pending.endswith(b"\r") else bytes(pending)

    async def read(self) -> bytes:
        """The whole remaining body (for small downloads)."""
        chunks = [chunk async for chunk in self.iter_chunks()]
        return b"".join(chunks)


class SekoiaClient:
    """Async client for the Sekoia.io API: ``async with SekoiaClient(...) as client:``.

    ``api_key`` falls back to SEKOIA_API_KEY, ``base_url`` to SEKOIA_BASE_URL and ``region`` to
    SEKOIA_REGION (default ``fra1``). ``pool``: a shared SessionPool (the client then never
    closes it); without one the client owns a private pool. ``timeout``: a Timeout or seconds
    per attempt. ``max_retries`` / ``retry``: retry settings (RetryPolicy). ``rate_limit``:
    requests/s (or a TokenBucket) for this client (None: only the pool's limit).
    ``max_concurrency``: in-flight requests of this client. ``ssl``: an SSLContext (custom
    CA); ``insecure_skip_tls_verify`` disables certificate checks (never in production).
    """

    #: Largest API answer read into memory (bytes); a larger one raises
    #: APIResponseValidationError without being read. Streams (``stream()``) have no cap.
    max_response_bytes: int = 128 * 1024 * 1024

    def __init__(
        self,
        api_key: str | None = None,
        *,
        region: str | None = None,
        base_url: str | None = None,
        pool: SessionPool | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        rate_limit: float | TokenBucket | None = None,
        max_concurrency: int | None = None,
        user_agent: str | None = None,
        retry: RetryPolicy | None = None,
        ssl: _ssl.SSLContext | None = None,
        insecure_skip_tls_verify: bool = False,
    ) -> None:
        self._closed = False
        self._owns_pool = False
        self._api_key = resolve_api_key(api_key)
        self.base_url: str = resolve_base_url(base_url, region)
        base = URL(self.base_url)
        self._origin = base.origin()
        self._base_path = base.path.rstrip("/")
        self._prefix = str(self._origin) + self._base_path
        # Parsing a URL costs more than the rest of our per-request work; pagers hit one path.
        self._urls: dict[str, URL] = {}
        self.timeout: Timeout = Timeout.coerce(timeout)
        policy = retry if retry is not None else RetryPolicy()
        if max_retries is not None:
            policy = attrs.evolve(policy, max_retries=max_retries)
        self.retry: RetryPolicy = policy
        if max_concurrency is not None and max_concurrency < 1:
            raise ConfigurationError(f"max_concurrency must be >= 1 or None, not {max_concurrency}")
        self.max_concurrency = max_concurrency
        self._semaphore = anyio.Semaphore(max_concurrency) if max_concurrency else None
        self._limiter = TokenBucket.coerce(rate_limit)
        self.rate_limit: float | None = self._limiter.rate if self._limiter else None
        if ssl is not None and insecure_skip_tls_verify:
            raise ConfigurationError(
                "pass either ssl=... or insecure_skip_tls_verify=True, not both"
            )
        self._ssl_context = ssl
        self._insecure = insecure_skip_tls_verify
        self._ssl: _ssl.SSLContext | bool = ssl if ssl is not None else not insecure_skip_tls_verify
        if insecure_skip_tls_verify:
            logger.warning(
                "TLS certificate verification is DISABLED for %s (insecure_skip_tls_verify=True)",
                self.base_url,
            )
        self.user_agent = user_agent or _default_user_agent()
        self._headers: dict[str, str] = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json",
            "User-Agent": self.user_agent,
        }
        # Downloads are JSON lines, CSV or gzip: do not ask for JSON.
        self._stream_headers = {**self._headers, "Accept": "*/*"}
        self._foreign_headers: dict[str, str] = {"User-Agent": self.user_agent}
        t = self.timeout
        # A read timeout no shorter than the attempt's total can never fire first; leaving it
        # out saves rescheduling a timer on every chunk received (measurable on the hot path).
        redundant_read = t.read is not None and t.total is not None and t.read >= t.total
        self._attempt_timeout = aiohttp.ClientTimeout(
            total=t.total, sock_connect=t.connect, sock_read=None if redundant_read else t.read
        )
        # A download may legitimately take longer than one API call: only idle time is bounded.
        self._stream_timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=t.connect, sock_read=t.read
        )
        self._paused_until = 0.0
        self.stats = ClientStats()
        if pool is None:
            pool = SessionPool()
            self._owns_pool = True
        self._pool = pool

        self.events = EventsResource(self)
        self.alerts = AlertsResource(self)
        self.cases = CasesResource(self)
        self.rules = RulesResource(self)
        self.communities = CommunitiesResource(self)
        self.invitations = InvitationsResource(self)
        self.account = AccountResource(self)
        self.intakes = IntakesResource(self)
        self.intelligence = IntelligenceResource(self)
        self.entities = EntitiesResource(self)
        self.assets = AssetsResource(self)
        self.queries = QueriesResource(self)
        self.tasks = TasksResource(self)

    # -- lifecycle -------------------------------------------------------------------------

    def __repr__(self) -> str:
        state = " closed" if getattr(self, "_closed", False) else ""
        return f"<SekoiaClient base_url={getattr(self, 'base_url', '?')!r} api_key='***'{state}>"

    @property
    def pool(self) -> SessionPool:
        """The SessionPool this client sends through."""
        return self._pool

    @property
    def closed(self) -> bool:
        """True once ``aclose()`` was called."""
        return self._closed

    async def __aenter__(self) -> SekoiaClient:
        self._check_open()
        self._pool.session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client (and its private pool; a shared pool stays open). Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._owns_pool:
            await self._pool.aclose()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        # Only a warning: the event loop may be gone, so no I/O may be scheduled from here.
        if getattr(self, "_closed", True) or not getattr(self, "_owns_pool", False):
            return
        session = self._pool._session
        if session is not None and not session.closed:
            _warn(
                "SekoiaClient was never closed: use 'async with SekoiaClient(...) as client:' "
                "or 'await client.aclose()'",
                ResourceWarning,
                source=self,
            )

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError(
                "This SekoiaClient is closed: make requests inside "
                "'async with SekoiaClient(...) as client:' or create a new client"
            )

    def with_options(
        self,
        *,
        api_key: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
        rate_limit: float | TokenBucket | None = _UNSET,
        max_concurrency: int | None = _UNSET,
        retry: RetryPolicy | None = None,
        user_agent: str | None = None,
    ) -> SekoiaClient:
        """A new client on the same pool and base URL with some settings changed.

        The copy never closes the pool; closing this client (if it owns its pool) closes it for
        both. Without ``rate_limit`` the copy shares this client's rate limiter.
        """
        self._check_open()
        return SekoiaClient(
            api_key if api_key is not None else self._api_key,
            base_url=self.base_url,
            pool=self._pool,
            timeout=timeout if timeout is not None else self.timeout,
            max_retries=max_retries,
            retry=retry if retry is not None else self.retry,
            rate_limit=self._limiter if rate_limit is _UNSET else rate_limit,
            max_concurrency=self.max_concurrency if max_concurrency is _UNSET else max_concurrency,
            user_agent=user_agent or self.user_agent,
            ssl=self._ssl_context,
            insecure_skip_tls_verify=self._insecure,
        )

    # -- requests --------------------------------------------------------------------------

    def _url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is not None:
            return url
        if "://" in path or not path.startswith("/"):
            raise ValueError(
                f"path must be an API path starting with '/', such as '/v1/sic/alerts', "
                f"not {path!r}"
            )
        key = path
        if self._base_path.endswith("/api") and path.startswith("/api/"):
            path = path[4:]
        url = URL(self._prefix + path)
        if len(self._urls) >= 256:  # paths embed ids: keep the cache bounded
            self._urls.clear()
        self._urls[key] = url
        return url

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one API request (with retries and rate limits) and return the decoded JSON.

        ``path`` is the versioned API path (``/v1/sic/alerts``); ``params`` values may be
        scalars, lists (comma-joined) or the filters ``match`` / ``nomatch`` / ``date`` /
        ``range`` (``{field: values}``). Returns None for an empty body (204).
        ``idempotent``: None decides by method (POST/PATCH are not); True retries this request
        on every retryable error, for a POST whose duplicate is harmless.
        """
        self._check_open()
        url = self._url(path)
        query = encode_filters(params) if params else None
        method = method.upper()
        deadline = self.timeout.deadline
        if deadline is None:
            return await self._request(method, url, query, json, idempotent)
        with anyio.move_on_after(deadline):
            return await self._request(method, url, query, json, idempotent)
        self.stats.errors += 1
        raise APITimeoutError(
            f"{method} {url.path} did not complete within its {deadline:g} s deadline "
            "(Timeout.deadline, retries included); raise the deadline or narrow the request",
            method=method,
            url=str(url),
        )

    async def _request(
        self,
        method: str,
        url: URL,
        query: list[tuple[str, str]] | None,
        body: Any,
        idempotent: bool | None = None,
    ) -> Any:
        stats = self.stats
        attempt = 0
        while True:
            if self._paused_until:
                await self._wait_pause()
            limiter = self._limiter
            if limiter is not None:
                await limiter.acquire()
            pool = self._pool
            pool_limiter = pool._limiter
            if pool_limiter is not None:
                await pool_limiter.acquire()
            session = self._session()
            semaphore = self._semaphore
            if semaphore is not None:
                await semaphore.acquire()
            try:
                slots = pool._slots
                if slots is not None or limiter is not None or pool_limiter is not None:
                    await _admit(slots, limiter, pool_limiter)
                started = time.perf_counter()
                stats.requests += 1
                if attempt:
                    stats.retries += 1
                try:
                    resp = await self._send(
                        session, method, url, query, body, self._attempt_timeout
                    )
                    try:
                        data = await self._read_body(resp, method, url)
                    finally:
                        resp.release()
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    self._log_attempt(method, url, None, started, attempt)
                    self._after_failure(exc, method, url, attempt, idempotent)
                    attempt += 1
                    continue
                finally:
                    if slots is not None:
                        slots.release()
            finally:
                if semaphore is not None:
                    semaphore.release()
            status = resp.status
            stats.bytes_received += len(data)
            if self._debug():
                self._log_attempt(method, url, status, started, attempt)
            if status < 300:
                if status == 204 or not data:
                    return None
                try:
                    return loads(data)
                except ValueError:
                    self._after_corrupt(method, url, resp, data, attempt, idempotent)
                attempt += 1
                continue
            self._after_status(method, url, resp, data, attempt, idempotent)
            attempt += 1

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: URL,
        query: list[tuple[str, str]] | None,
        body: Any,
        client_timeout: aiohttp.ClientTimeout,
        same_origin: bool = True,
        streaming: bool = False,
    ) -> aiohttp.ClientResponse:
        """One HTTP exchange (the transport seam): an open response, redirects resolved.

        Redirects are followed only within the base URL's origin; one to another host is refused
        so that the API key never leaves for a host the user did not configure.
        """
        if not same_origin:
            headers = self._foreign_headers
        else:
            headers = self._stream_headers if streaming else self._headers
        for _ in range(_MAX_REDIRECTS + 1):
            resp = await session.request(
                method,
                url,
                params=query,
                json=body,
                headers=headers,
                timeout=client_timeout,
                ssl=self._ssl,
                allow_redirects=not same_origin,
            )
            if resp.status not in _REDIRECTS or not same_origin:
                return resp
            location = resp.headers.get("Location")
            if not location:
                return resp  # read as an error status by the caller
            resp.release()
            target = url.join(URL(location))
            if target.origin() != self._origin:
                raise APIStatusError(
                    f"The API redirected to another host ({target.origin()}); refusing to follow "
                    "so that the API key is not sent there. Check base_url/region: it should be "
                    "the API's own address",
                    status=resp.status,
                    method=method,
                    url=str(url.with_query(None)),
                    request_id=_request_id(resp.headers),
                )
            if resp.status in (301, 302, 303) and method != "HEAD":
                method, body = "GET", None
            url, query = target, None
        raise APIStatusError(
            f"Too many redirects (more than {_MAX_REDIRECTS}) starting from {url.path}",
            status=resp.status,
            method=method,
            url=str(url.with_query(None)),
        )

    async def _read_body(self, resp: aiohttp.ClientResponse, method: str, url: URL) -> bytes:
        """The whole body of an API answer, refused (unread) beyond ``max_response_bytes``."""
        cap = self.max_response_bytes
        length = resp.content_length
        if length is not None:
            if length > cap:
                raise self._too_large(method, url, resp, f"announces {length} bytes")
            return await resp.read()
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_any():
            size += len(chunk)
            if size > cap:
                raise self._too_large(method, url, resp, f"sent more than {cap} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(
        self, method: str, url: URL, resp: aiohttp.ClientResponse, what: str
    ) -> APIResponseValidationError:
        self.stats.errors += 1
        return APIResponseValidationError(
            f"{method} {url.path} returned HTTP {resp.status} with a body that {what}, more "
            f"than max_response_bytes={self.max_response_bytes}; an API answer is never that "
            "large: check base_url, or use client.stream() for downloads",
            status=resp.status,
            method=method,
            url=str(url.with_query(None)),
        )

    def _session(self) -> aiohttp.ClientSession:
        session = self._pool._session
        if session is None:
            self._check_open()
            session = self._pool.session()
        elif self._closed:
            self._check_open()
        return session

    # -- client-wide pause -----------------------------------------------------------------

    def _pause(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        if until > self._paused_until:
            self._paused_until = until

    async def _wait_pause(self) -> None:
        while True:
            remaining = self._paused_until - time.monotonic()
            if remaining <= 0:
                return
            await anyio.sleep(remaining)

    # -- errors ----------------------------------------------------------------------------

    def _after_status(
        self,
        method: str,
        url: URL,
        resp: aiohttp.ClientResponse,
        data: bytes,
        attempt: int,
        idempotent: bool | None = None,
    ) -> None:
        """Account for an error status: pause the client and return to retry, or raise."""
        policy = self.retry
        status = resp.status
        self.stats.errors += 1
        if status == 429:
            self.stats.rate_limited += 1
        retry_after = None
        if status in policy.retry_statuses:
            retry_after = parse_retry_after(resp.headers, time.time())
            if retry_after is not None and retry_after > policy.max_retry_after:
                # Too long to sleep through: the caller decides (RateLimitError.retry_after).
                raise self._status_error(method, url, resp, data, retry_after)
        retrying = attempt < policy.max_retries and should_retry(
            policy, method, status=status, idempotent=idempotent
        )
        if policy.max_retries and status in policy.retry_statuses:
            # Even when this request gives up, its siblings back off so errors do not pile up.
            wait = retry_after if retry_after is not None else policy.backoff(attempt)
            self._pause(wait)
            if retrying:
                self._log_retry(method, url, attempt, wait, f"HTTP {status}")
        if not retrying:
            raise self._status_error(method, url, resp, data, retry_after)

    def _after_failure(
        self,
        exc: BaseException,
        method: str,
        url: URL,
        attempt: int,
        idempotent: bool | None = None,
    ) -> None:
        """Account for an attempt without a response: pause and return to retry, or raise."""
        self.stats.errors += 1
        failure, error = self._connection_error(exc, method, url)
        policy = self.retry
        if failure is None or not policy.max_retries:
            raise error from exc
        wait = policy.backoff(attempt)
        self._pause(wait)
        if attempt >= policy.max_retries or not should_retry(
            policy, method, failure=failure, idempotent=idempotent
        ):
            raise error from exc
        self._log_retry(method, url, attempt, wait, error.message)

    def _after_corrupt(
        self,
        method: str,
        url: URL,
        resp: aiohttp.ClientResponse,
        data: bytes,
        attempt: int,
        idempotent: bool | None,
    ) -> None:
        """Account for a 2xx whose body does not parse: pause and return to retry, or raise.

        A body labelled JSON (or unlabelled) that does not parse was cut or mangled on the way
        (a proxy, a dropped connection): transient, so retried like a broken connection. A body
        of another type (an HTML login page) will not change on a retry and raises at once.
        """
        self.stats.errors += 1
        corrupt = _claims_json(resp)
        error = self._invalid_body(method, url, resp, data, attempt + 1 if corrupt else 0)
        policy = self.retry
        if not corrupt or not policy.max_retries:
            raise error
        wait = policy.backoff(attempt)
        self._pause(wait)
        if attempt >= policy.max_retries or not should_retry(
            policy, method, failure=Failure.CORRUPT, idempotent=idempotent
        ):
            raise error
        self._log_retry(method, url, attempt, wait, "the JSON body does not parse (truncated?)")

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key in text else text

    def _connection_error(
        self, exc: BaseException, method: str, url: URL
    ) -> tuple[str | None, APIConnectionError]:
        where = f"{method} {url.with_query(None)}"
        detail = self._redact(str(exc)) or type(exc).__name__
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return Failure.CONNECT, APITimeoutError(
                f"Timed out connecting to {url.host} for {where} (Timeout.connect); check the "
                "network or raise the timeout",
                method=method,
                url=str(url.with_query(None)),
            )
        if isinstance(exc, (aiohttp.ServerTimeoutError, TimeoutError)):
            return Failure.TIMEOUT, APITimeoutError(
                f"{where} timed out waiting for the response (Timeout.read/total); "
                "raise the timeout or request less data",
                method=method,
                url=str(url.with_query(None)),
            )
        if isinstance(exc, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
            return None, APIConnectionError(
                f"TLS failed for {url.host} ({where}): {detail}. Pass ssl=SSLContext with the "
                "right CA if you use a TLS-inspecting proxy",
                method=method,
                url=str(url.with_query(None)),
            )
        if isinstance(exc, aiohttp.ClientConnectorError):
            return Failure.CONNECT, APIConnectionError(
                f"Could not connect to {url.host}:{url.port} for {where}: {detail}. Check "
                "base_url/region and the network",
                method=method,
                url=str(url.with_query(None)),
            )
        return Failure.CONNECTION, APIConnectionError(
            f"The connection failed during {where}: {type(exc).__name__}: {detail}",
            method=method,
            url=str(url.with_query(None)),
        )

    def _status_error(
        self,
        method: str,
        url: URL,
        resp: aiohttp.ClientResponse,
        data: bytes,
        retry_after: float | None,
    ) -> APIStatusError:
        status = resp.status
        # An echo of the key in the error body must not end up in the exception or a log.
        text = self._redact(data.decode("utf-8", "replace"))
        body: Any
        try:
            body = loads(text) if text else None
        except ValueError:
            body = text
        message = _error_message(body) or resp.reason or f"HTTP {status}"
        kwargs: dict[str, Any] = {
            "status": status,
            "body": body,
            "method": method,
            "url": str(url.with_query(None)),
            "request_id": _request_id(resp.headers),
        }
        cls = status_error_class(status)
        if cls is RateLimitError:
            if retry_after is not None and retry_after > self.retry.max_retry_after:
                message += (
                    f" (the server asks to wait {retry_after:g} s, more than "
                    f"RetryPolicy.max_retry_after={self.retry.max_retry_after:g} s)"
                )
            return RateLimitError(message, retry_after=retry_after, **kwargs)
        return cls(message, **kwargs)

    def _invalid_body(
        self, method: str, url: URL, resp: aiohttp.ClientResponse, data: bytes, attempts: int = 0
    ) -> APIResponseValidationError:
        head = self._redact(data[:120].decode("utf-8", "replace"))
        if attempts:
            message = (
                f"{method} {url.path} returned HTTP {resp.status} with a JSON body that does "
                f"not parse ({len(data)} bytes, starting with {head!r}) on {attempts} "
                "attempt(s): the answer was cut or corrupted on the way (a proxy?); retry "
                "later or raise max_retries"
            )
        else:
            message = (
                f"{method} {url.path} returned HTTP {resp.status} with content type "
                f"{resp.content_type!r} that is not JSON; it starts with {head!r}. Check that "
                "base_url points at the API (e.g. https://api.sekoia.io), not the web app"
            )
        return APIResponseValidationError(
            message,
            status=resp.status,
            method=method,
            url=str(url.with_query(None)),
            body=head,
        )

    # -- logging ---------------------------------------------------------------------------

    @staticmethod
    def _debug() -> bool:
        return logger.isEnabledFor(_DEBUG)

    def _log_attempt(
        self, method: str, url: URL, status: int | None, started: float, attempt: int
    ) -> None:
        if logger.isEnabledFor(_DEBUG):
            logger.debug(
                "%s %s -> %s in %.1f ms (attempt %d)",
                method,
                url.path,
                status if status is not None else "no response",
                (time.perf_counter() - started) * 1000,
                attempt + 1,
            )

    def _log_retry(self, method: str, url: URL, attempt: int, wait: float, reason: str) -> None:
        if logger.isEnabledFor(logging.WARNING):
            logger.warning(
                "Retrying %s %s in %.2f s (retry %d of %d): %s",
                method,
                url.path,
                wait,
                attempt + 1,
                self.retry.max_retries,
                self._redact(reason),
            )

    # -- streaming -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url_or_path: str,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[StreamResponse]:
        """Stream a large or binary response: ``async with client.stream("GET", path) as r:``.

        ``url_or_path`` is an API path or an absolute URL; a URL on another host (a pre-signed
        download link) is fetched without the API key. The request is retried like
        ``request``; the body is not (a broken download raises APIConnectionError).
        """
        self._check_open()
        method = method.upper()
        if "://" in url_or_path:
            url = URL(url_or_path)
            if url.scheme not in ("http", "https") or (
                url.scheme == "http" and not is_loopback_host(url.host)
            ):
                raise ValueError(
                    f"refusing to download over {url.scheme}:// from {url.host}: use https"
                )
        else:
            url = self._url(url_or_path)
        query = encode_filters(params) if params else None
        resp, slots = await self._open_stream(method, url, query)
        try:
            yield StreamResponse(resp, self, method)
        finally:
            try:
                if resp.content.at_eof():
                    resp.release()
                else:
                    resp.close()
            finally:
                if slots is not None:
                    slots.release()

    async def _open_stream(
        self, method: str, url: URL, query: list[tuple[str, str]] | None
    ) -> tuple[aiohttp.ClientResponse, anyio.Semaphore | None]:
        """The open response and the pool slot it holds (the caller releases both)."""
        stats = self.stats
        attempt = 0
        same_origin = url.origin() == self._origin
        while True:
            if self._paused_until:
                await self._wait_pause()
            limiter = pool_limiter = None
            if same_origin:
                limiter, pool_limiter = self._limiter, self._pool._limiter
                if limiter is not None:
                    await limiter.acquire()
                if pool_limiter is not None:
                    await pool_limiter.acquire()
            session = self._session()
            slots = self._pool._slots
            await _admit(slots, limiter, pool_limiter)
            try:
                started = time.perf_counter()
                stats.requests += 1
                if attempt:
                    stats.retries += 1
                try:
                    resp = await self._send(
                        session, method, url, query, None, self._stream_timeout, same_origin, True
                    )
                    if resp.status < 300:
                        self._log_attempt(method, url, resp.status, started, attempt)
                        held, slots = slots, None  # the stream holds its slot until closed
                        return resp, held
                    try:
                        data = await self._read_body(resp, method, url)
                    finally:
                        resp.release()
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    self._log_attempt(method, url, None, started, attempt)
                    self._after_failure(exc, method, url, attempt)
                    attempt += 1
                    continue
            finally:
                if slots is not None:
                    slots.release()
            self._log_attempt(method, url, resp.status, started, attempt)
            stats.bytes_received += len(data)
            self._after_status(method, url, resp, data, attempt)
            attempt += 1


def _claims_json(resp: aiohttp.ClientResponse) -> bool:
    """True if the response says its body is JSON, or says nothing (then JSON is expected)."""
    if "Content-Type" not in resp.headers:
        return True
    ctype = resp.content_type
    return ctype == "application/json" or ctype.endswith("+json")


async def _admit(
    slots: anyio.Semaphore | None, limiter: TokenBucket | None, pool_limiter: TokenBucket | None
) -> None:
    """Take a pool slot, then the send-time tokens of the client's and the pool's buckets.

    The buckets' first tokens (``acquire``) are taken before waiting for a slot so that slot
    holders are ready to send; but requests that then queued for a slot would leave together
    when slots free up. The send-time check paces them on the wire. A request that must wait
    gives its slot back meanwhile, so a throttled tenant never sits on a connection others
    could use.
    """
    while True:
        if slots is not None:
            try:
                slots.acquire_nowait()  # no trip through the event loop when a slot is free
            except anyio.WouldBlock:
                await slots.acquire()
        wait = 0.0
        sleep = None
        for bucket in (limiter, pool_limiter):
            if bucket is not None:
                delay = bucket.pace_delay(bucket._clock())
                if delay > wait:
                    wait, sleep = delay, bucket._sleep
        if sleep is None:
            if limiter is not None:
                limiter.pace(limiter._clock())
            if pool_limiter is not None:
                pool_limiter.pace(pool_limiter._clock())
            return
        if slots is not None:
            slots.release()
        await sleep(wait)


def _error_message(body: Any) -> str | None:
    if isinstance(body, dict):
        for key in ("message", "detail", "error_description", "error"):
            value = body.get(key)
            if value:
                if isinstance(value, str):
                    return value
                return dumps(value)[:500]
        return None
    if isinstance(body, str):
        text = body.strip()
        return text[:500] if text else None
    return None


def _request_id(headers: Mapping[str, str]) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None
