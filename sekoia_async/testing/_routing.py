"""The contract between the emulator's server core and its domain modules.

Every domain module (``_domains/<name>.py``) exposes
``routes(state: EmulatorState) -> list[Route]``. The server core mounts each route at its path
and again under ``/api``, authenticates the
Bearer key, checks ``Route.permission``, applies faults, records stats, and turns ``ApiError``
into Sekoia's ``{"message": ...}`` error body. Handlers only implement the endpoint itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@attrs.frozen
class Route:
    """One endpoint. ``path`` is an aiohttp pattern without the ``/api`` prefix."""

    method: str
    path: str
    handler: Handler
    # Display name of the permission the key needs (see PERMISSIONS), None = any valid key.
    permission: str | None
    # Endpoint name used in stats and per-endpoint fault settings, e.g. "alerts.list".
    name: str


# A body fault decided for a streamed response: ("reset_mid_body" | "truncate", cut), where
# ``cut()`` is the server core's bookkeeping (count the fault; for a reset, drop the socket).
STREAM_FAULT: web.RequestKey[tuple[str, Callable[[], None]]] = web.RequestKey(
    "sekoia_stream_fault", tuple
)


class StreamedBody(web.StreamResponse):
    """The ``StreamResponse`` for handlers that stream: body faults apply to it too.

    With a ``reset_mid_body`` or ``truncate`` fault on the request, the first write sends half
    its bytes, then the connection is dropped (reset) or the body ends there (truncate);
    later writes are discarded, so the handler can check ``cut`` to stop producing.
    """

    def __init__(self, request: web.Request, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fault = request.get(STREAM_FAULT)
        self.cut = False

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._fault is None or not data:
            await super().write(data)
            return
        if self.cut:
            return
        self.cut = True
        await super().write(bytes(data[: max(1, len(data) // 2)]))
        self._fault[1]()

    async def write_eof(self, data: bytes = b"") -> None:
        if self._fault is not None and self.cut and self._fault[0] == "reset_mid_body":
            return  # the socket is gone: nothing more can be sent
        await super().write_eof(b"" if self.cut else data)


class ApiError(Exception):
    """Raised by handlers; rendered as ``{"message": message}`` (+ ``code``) with ``status``."""

    def __init__(self, status: int, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


# Permission display names and UUIDs. The names and UUIDs of alerts, cases, intakes and events come
# from Sekoia's spec and reference (sekoia-api.md §1.3); for the other names the reference gives no
# UUID, so those UUIDs are emulator-local.
PERMISSIONS: dict[str, str] = {
    "View alerts": "9ea2b8a3-593f-4bab-92f5-d0af9b563f6f",
    "Manage alerts": "0e329f9c-173f-4fa0-bbbc-fcfc4bdf7559",
    "Update alert status": "9f3df1b1-4db7-44bd-b615-af5873ad7f8a",
    "Comment on alerts": "341436f9-1c33-4cf7-bec3-a6955133ea04",
    "View alert statistics": "b1642ef8-4bc0-40b4-9ddf-7bd368659941",
    "View intakes": "2f0da527-2cf1-4a00-8f4c-033bfb43ddeb",
    "Manage intakes": "5b3f4a0e-6c1d-4e2a-9a57-0c1a9f4f2e11",
    "View cases": "7c0bac3f-f2ce-491b-b663-638145078516",
    "Manage cases": "e56fb404-268b-47d2-abad-d68d86ddf7bd",
    "Comment on cases": "a3e84947-4127-41fe-9352-faa8c69737a9",
    "View events": "1cbb91c7-e380-4d9a-98d1-6c850fda8e98",
    "Massive export of events": "2b9e4f7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b",
    "View rules": "6f1d7c4b-2a3e-4b5c-9d8e-7f6a5b4c3d2e",
    "Manage rules": "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d",
    "View entities": "0d9c0f86-4e1b-4f3a-8d2c-5b6a7c8d9e0f",
    "Manage entities": "3c2b1a09-8f7e-4d6c-b5a4-392817161514",
    "View assets": "4b0f38a9-1d2c-4e3f-a5b6-c7d8e9f0a1b2",
    "Manage assets": "9d8c7b6a-5f4e-4d3c-b2a1-0f9e8d7c6b5a",
    "View communities": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    "Manage invitations": "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b",
    "Use notebooks": "7e6d5c4b-3a2f-4e1d-9c8b-7a6f5e4d3c2b",
    # Intelligence Center: names and UUIDs from the inthreat spec.
    "View intelligence": "8d9901dc-0508-4472-b3c1-5ad5efc96032",
    "View observables": "dd62e001-60f5-464f-aa67-371ca9738e67",
    "Manage IOC collections": "fd269946-8106-452c-abe2-8b8b88b883c3",
}
ALL_PERMISSIONS: frozenset[str] = frozenset(PERMISSIONS)


@attrs.define
class ApiKey:
    """An emulated API key. The server core stores the authenticated one in ``request[KEY]``."""

    key: str = attrs.field(repr=False)
    uuid: str
    community_uuid: str
    permissions: frozenset[str] = ALL_PERMISSIONS
    name: str = "emulator key"


KEY: web.RequestKey[ApiKey] = web.RequestKey("sekoia_api_key", ApiKey)


def get_key(request: web.Request) -> ApiKey:
    return request[KEY]


class EmulatorState:
    """Shared in-memory state. Domain modules keep their own stores as attributes on it.

    ``now()`` is the emulator's clock (Unix seconds, float); tests may replace it with a virtual
    clock. ``seed`` drives every random choice, so a run can be replayed.
    """

    def __init__(self, *, seed: int = 0, clock: Callable[[], float] | None = None) -> None:
        self.seed = seed
        self._clock = clock or time.time
        # Filled by the server core: community dicts, entity dicts, intake dicts (shared by
        # every domain), and the key registry.
        self.communities: list[dict[str, Any]] = []
        self.entities: list[dict[str, Any]] = []
        self.intakes: list[dict[str, Any]] = []
        # Free slots for domain stores, keyed by domain name.
        self.stores: dict[str, Any] = {}

    def now(self) -> float:
        return self._clock()


STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("sekoia_state", EmulatorState)


def get_state(request: web.Request) -> EmulatorState:
    return request.app[STATE_KEY]


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )


async def read_json(request: web.Request) -> Any:
    """The request's JSON body; a malformed one is a 400 with a message, as the real API does."""
    raw = await request.read()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"Malformed JSON body: {exc}") from None


def paginate_params(request: web.Request, *, default: int, maximum: int) -> tuple[int, int]:
    """``(limit, offset)`` from the query string; out-of-range values are a 400."""
    try:
        limit = int(request.query.get("limit", default))
        offset = int(request.query.get("offset", 0))
    except ValueError:
        raise ApiError(400, "Invalid parameters: limit and offset must be integers") from None
    if limit < 1 or limit > maximum:
        raise ApiError(400, f"Invalid parameters: limit must be between 1 and {maximum}")
    if offset < 0:
        raise ApiError(400, "Invalid parameters: offset must be >= 0")
    return limit, offset
