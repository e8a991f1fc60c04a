"""A real aiohttp server on 127.0.0.1 with scripted replies, for the transport tests.

Each path has a queue of replies (the last one repeats); every request is recorded server-side
(arrival time, headers, peer) so tests assert what actually went over the wire.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import anyio
import attrs
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@attrs.frozen
class Reply:
    """One scripted reply; ``hang`` waits until the server shuts down (a read timeout)."""

    status: int = 200
    json: Any = None
    text: str | None = None
    body: bytes | None = None
    headers: dict[str, str] = attrs.field(factory=dict)
    content_type: str | None = None
    hang: bool = False
    drop: bool = False  # close the connection without answering


@attrs.frozen
class Seen:
    method: str
    path: str  # raw, still percent-encoded
    query: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival
    peer: tuple[Any, ...]


class ScriptedServer:
    """``async with ScriptedServer() as srv:`` then ``srv.script(path, Reply(...), ...)``."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.scripts: dict[str, list[Reply]] = {}
        self.handlers: dict[str, Handler] = {}
        self.inflight = 0
        self.max_inflight = 0
        self.peers: set[tuple[Any, ...]] = set()
        self.shutdown = anyio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, path: str, *replies: Reply) -> None:
        self.scripts[path] = list(replies)

    def on(self, path: str, handler: Handler) -> None:
        self.handlers[path] = handler

    def seen_at(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else ()
        self.peers.add(tuple(peer or ()))
        path = request.raw_path.split("?", 1)[0]
        self.seen.append(
            Seen(
                request.method,
                path,
                request.query_string,
                dict(request.headers),
                await request.read(),
                time.monotonic(),
                tuple(peer or ()),
            )
        )
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            if path in self.handlers:
                return await self.handlers[path](request)
            queue = self.scripts.get(path)
            if not queue:
                return web.json_response({"message": f"no script for {path}"}, status=404)
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
            return await self._reply(request, reply)
        finally:
            self.inflight -= 1

    async def _reply(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        if reply.hang:
            await self.shutdown.wait()
        if reply.drop:
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        if reply.json is not None:
            return web.json_response(reply.json, status=reply.status, headers=reply.headers)
        return web.Response(
            status=reply.status,
            text=reply.text,
            body=reply.body,
            headers=reply.headers,
            content_type=reply.content_type,
        )

    async def __aenter__(self) -> ScriptedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown.set()
        assert self._runner is not None
        await self._runner.cleanup()
