"""The bad-input table (shared by the tests and ``benchmarks/reliability.py``).

Each row is one bad input at the public surface, the typed error it must raise, and what may be
sent because of it: nothing (``SENT_NOTHING``), exactly the one request whose answer is bad
(``SENT_ONCE``), or only requests confined to the intended endpoint, the argument staying one
path segment (``CONFINED``). Rows run against a scripted server on 127.0.0.1 that records every
request it receives.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from _scripted_server import Reply, ScriptedServer
from aiohttp import web

from sekoia_async import (
    APIResponseValidationError,
    ConfigurationError,
    NotFoundError,
    PollPolicy,
    RetryPolicy,
    SekoiaClient,
    SekoiaError,
    ServerError,
)

SENT_NOTHING = "nothing"
SENT_ONCE = "once"
CONFINED = "confined"

KEY = "sk-bad-input-table-0123456789"
JOBS = "/v1/sic/conf/events/search/jobs"
JOB = "0b5c9a1e-6a36-4d55-9a3f-1a2b3c4d5e6f"
NO_RETRY = RetryPolicy(max_retries=0)
FAST = PollPolicy(initial=0.01, cap=0.01, jitter=0.0, rng=random.Random(0))

Call = Callable[[SekoiaClient, ScriptedServer], Awaitable[Any]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@attrs.frozen
class Bad:
    """One bad input: ``call`` must raise ``error`` and send only what ``sent`` allows."""

    name: str
    call: Call
    error: type[BaseException] | tuple[type[BaseException], ...]
    sent: str = SENT_NOTHING
    # For SENT_ONCE rows: the path scripted with ``reply``.
    path: str = ""
    reply: Reply | None = None
    # Or a handler built for the server (for answers a Reply cannot describe).
    handler: Callable[[ScriptedServer], Handler] | None = None


def _construct(**kwargs: Any) -> Call:
    async def call(client: SekoiaClient, srv: ScriptedServer) -> None:
        options = {"api_key": KEY, "base_url": srv.base_url, **kwargs}
        other = SekoiaClient(**options)  # must raise before any request is possible
        await other.aclose()

    return call


def _search(*args: Any, **kwargs: Any) -> Call:
    async def call(client: SekoiaClient, srv: ScriptedServer) -> None:
        async with client.events.search(*args, poll=FAST, **kwargs) as results:
            async for _ in results:
                pass

    return call


def _alerts(**filters: Any) -> Call:
    async def call(client: SekoiaClient, srv: ScriptedServer) -> None:
        async for _ in client.alerts.list(**filters):
            pass

    return call


def _request(method: str, path: str, **kwargs: Any) -> Call:
    async def call(client: SekoiaClient, srv: ScriptedServer) -> None:
        await client.request(method, path, **kwargs)

    return call


def _stream(url: str) -> Call:
    async def call(client: SekoiaClient, srv: ScriptedServer) -> None:
        async with client.stream("GET", url) as resp:
            await resp.read()

    return call


def _job(uuid: str) -> Call:
    async def call(client: SekoiaClient, srv: ScriptedServer) -> None:
        await client.events.get_search_job(uuid)

    return call


def _job_events(uuid: str = JOB, **kwargs: Any) -> Call:
    async def call(client: SekoiaClient, srv: ScriptedServer) -> None:
        await client.events.get_search_job_events(uuid, **kwargs)

    return call


def _get(resource: str, ident: str) -> Call:
    async def call(client: SekoiaClient, srv: ScriptedServer) -> None:
        await getattr(client, resource).get(ident)

    return call


def _create_job(earliest: str, latest: str) -> Call:
    async def call(client: SekoiaClient, srv: ScriptedServer) -> None:
        await client.events.create_search_job("", earliest, latest)

    return call


def valid_token() -> dict[str, Any]:
    """A real checkpoint token, as ``results.checkpoint()`` writes it."""
    from sekoia_async._helpers.search.checkpoint import Checkpoint, encode_token
    from sekoia_async._helpers.search.spec import SearchSpec

    spec = SearchSpec(
        term="",
        earliest="-1d",
        latest="now",
        earliest_resolved="2026-01-01T00:00:00Z",
        latest_resolved="2026-01-02T00:00:00Z",
    )
    return encode_token(Checkpoint(spec=spec, job_uuid=JOB, total=100, offset=10))


def _resume(edit: Callable[[dict[str, Any]], Any]) -> Call:
    async def call(client: SekoiaClient, srv: ScriptedServer) -> None:
        token = copy.deepcopy(valid_token())
        edited = edit(token)
        async with client.events.resume(token if edited is None else edited, poll=FAST) as r:
            async for _ in r:
                pass

    return call


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(token: dict[str, Any]) -> None:
        token[key] = value

    return edit


def _tiny_cap(call: Call) -> Call:
    async def capped(client: SekoiaClient, srv: ScriptedServer) -> None:
        client.max_response_bytes = 64 * 1024
        await call(client, srv)

    return capped


def _endless(srv: ScriptedServer) -> Handler:
    # A chunked body (no Content-Length) that never ends: only a cap stops the reader.
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        chunk = b"[" + b'"x",' * 8191
        try:
            while not srv.shutdown.is_set():
                await response.write(chunk)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up: what it should do
        return response

    return handler


def _announces_huge(srv: ScriptedServer) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = 10 * 1024**3
        await response.prepare(request)
        try:
            await response.write(b"{")
            await srv.shutdown.wait()  # never sends the rest
        except (ConnectionError, RuntimeError):
            pass
        return response

    return handler


HTML = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
ME = "/v1/me"
BAD_INPUTS: tuple[Bad, ...] = (
    # -- client settings: refused when the client is built -------------------------------
    Bad("api key empty", _construct(api_key=""), ConfigurationError),
    Bad("api key blank", _construct(api_key="   "), ConfigurationError),
    Bad("api key with a newline", _construct(api_key="abc\ndef123456"), ConfigurationError),
    Bad("api key with a CR", _construct(api_key="abcdef123456\r"), ConfigurationError),
    Bad("api key with a trailing space", _construct(api_key="abcdef123456 "), ConfigurationError),
    Bad("unknown region", _construct(base_url=None, region="mars1"), ConfigurationError),
    Bad("region with a space", _construct(base_url=None, region="fra 1"), ConfigurationError),
    Bad("http to a remote host", _construct(base_url="http://api.sekoia.io"), ConfigurationError),
    Bad("http to a private IP", _construct(base_url="http://10.0.0.8:8080"), ConfigurationError),
    Bad("http to x.localhost", _construct(base_url="http://x.localhost:80"), ConfigurationError),
    Bad(
        "credentials in base_url",
        _construct(base_url="https://user:pw@api.sekoia.io"),
        ConfigurationError,
    ),
    Bad("query in base_url", _construct(base_url="https://api.sekoia.io/?k=v"), ConfigurationError),
    Bad(
        "fragment in base_url", _construct(base_url="https://api.sekoia.io/#f"), ConfigurationError
    ),
    Bad("ftp base_url", _construct(base_url="ftp://api.sekoia.io"), ConfigurationError),
    Bad("relative base_url", _construct(base_url="api.sekoia.io"), ConfigurationError),
    Bad("timeout as a string", _construct(timeout="30"), ConfigurationError),
    Bad("max_concurrency 0", _construct(max_concurrency=0), ConfigurationError),
    Bad("rate_limit 0", _construct(rate_limit=0), ValueError),
    Bad("max_retries -1", _construct(max_retries=-1), ValueError),
    # -- search arguments: refused before the job is created -----------------------------
    Bad("earliest malformed", _search("", "yesterday"), ValueError),
    Bad("earliest impossible date", _search("", "2026-02-30T00:00:00Z"), ValueError),
    Bad("latest malformed", _search("", "-1d", "now-"), ValueError),
    Bad("window reversed", _search("", "-1d", "-2d"), ValueError),
    Bad("window in the future (ISO)", _search("", "2099-01-01", "2099-02-01"), ValueError),
    Bad("window in the future (relative)", _search("", "+1d", "+2d"), ValueError),
    Bad("page_size 0", _search("", page_size=0), ValueError),
    Bad("page_size 1001", _search("", page_size=1001), ValueError),
    Bad("page_size as a string", _search("", page_size="100"), TypeError),
    Bad("concurrency 0", _search("", concurrency=0), ValueError),
    Bad("max_events 0", _search("", max_events=0), ValueError),
    Bad("unknown search option", _search("", colour="blue"), TypeError),
    Bad("term None", _search(None), TypeError),
    Bad("create_search_job malformed time", _create_job("garbage", "now"), ValueError),
    Bad("events page limit 1001", _job_events(limit=1001), ValueError),
    Bad("events page offset -1", _job_events(offset=-1), ValueError),
    # -- filters --------------------------------------------------------------------------
    Bad("match value with a comma", _alerts(rule_name="a,b"), ValueError),
    Bad("match list value with a comma", _alerts(rule_name=["a", "b,c"]), ValueError),
    Bad("match empty list", _alerts(rule_name=[]), ValueError),
    Bad("alerts limit 0", _alerts(limit=0), ValueError),
    Bad("alerts limit 101", _alerts(limit=101), ValueError),
    Bad(
        "raw match with a comma",
        _request("GET", "/v1/sic/alerts", params={"match": {"title": "x,y"}}),
        ValueError,
    ),
    Bad(
        "raw nomatch empty",
        _request("GET", "/v1/sic/alerts", params={"nomatch": {"title": []}}),
        ValueError,
    ),
    # -- identifiers and paths: never a different endpoint -------------------------------
    Bad("job uuid '..'", _job(".."), ValueError),
    Bad("job uuid empty", _job(""), ValueError),
    Bad("job uuid with '/'", _job("../../v1/me"), ValueError),
    Bad("job uuid with '?'", _job(f"{JOB}?limit=1"), ValueError),
    Bad("job uuid with '#'", _job(f"{JOB}#x"), ValueError),
    Bad("job uuid not a UUID", _job("not-a-uuid"), ValueError),
    Bad("events of job '../x'", _job_events("../x"), ValueError),
    Bad("alert id with '/'", _get("alerts", "../../v1/me"), (ValueError, NotFoundError), CONFINED),
    Bad("case id with '?'", _get("cases", "x?y=1"), (ValueError, NotFoundError), CONFINED),
    Bad("rule id with '#'", _get("rules", "x#y"), (ValueError, NotFoundError), CONFINED),
    Bad("path as an absolute URL", _request("GET", "https://evil.example/v1/me"), ValueError),
    Bad("path without a leading /", _request("GET", "v1/me"), ValueError),
    Bad("stream over plain http to a remote host", _stream("http://evil.example/x"), ValueError),
    Bad("stream of a file: URL", _stream("file:///etc/passwd"), ValueError),
    # -- checkpoint tokens ----------------------------------------------------------------
    Bad("token of another version", _resume(_set("version", 2)), ValueError),
    Bad("token with an edited offset", _resume(_set("offset", 0)), ValueError),
    Bad("token with an edited job", _resume(_set("job_uuid", JOB.replace("0", "1"))), ValueError),
    Bad("token without digest", _resume(lambda t: t.pop("digest")), ValueError),
    Bad("token of another type", _resume(_set("type", "other")), ValueError),
    Bad("token that is not JSON", _resume(lambda t: "{not json"), ValueError),
    Bad("token truncated", _resume(lambda t: json.dumps(t)[:-20]), ValueError),
    Bad("token that is a list", _resume(lambda t: [t]), ValueError),
    # -- bad answers: one request, then a typed error ------------------------------------
    Bad(
        "200 that is not JSON",
        _request("GET", ME),
        APIResponseValidationError,
        SENT_ONCE,
        ME,
        Reply(text="hello", content_type="text/plain"),
    ),
    Bad(
        "200 HTML page (the web app, not the API)",
        _request("GET", ME),
        APIResponseValidationError,
        SENT_ONCE,
        ME,
        Reply(text="<html><body>Sekoia.io</body></html>", content_type="text/html"),
    ),
    Bad(
        "HTML error page from a proxy",
        _request("GET", ME),
        ServerError,
        SENT_ONCE,
        ME,
        Reply(status=502, text=HTML, content_type="text/html"),
    ),
    Bad(
        "wrong content type (XML)",
        _request("GET", ME),
        APIResponseValidationError,
        SENT_ONCE,
        ME,
        Reply(text="<me><uuid>1</uuid></me>", content_type="application/xml"),
    ),
    Bad(
        "wrong content type (PNG)",
        _request("GET", ME),
        APIResponseValidationError,
        SENT_ONCE,
        ME,
        Reply(body=b"\x89PNG\r\n\x1a\n\x00\x00", content_type="image/png"),
    ),
    Bad(
        "huge body (Content-Length of 10 GiB)",
        _request("GET", ME),
        APIResponseValidationError,
        SENT_ONCE,
        ME,
        handler=_announces_huge,
    ),
    Bad(
        "huge body (endless chunked)",
        _tiny_cap(_request("GET", ME)),
        APIResponseValidationError,
        SENT_ONCE,
        ME,
        handler=_endless,
    ),
    Bad(
        "search job answer of the wrong shape",
        _create_job("-1d", "now"),
        APIResponseValidationError,
        SENT_ONCE,
        JOBS,
        Reply(json=["not", "a", "job"]),
    ),
    Bad(
        "events page of the wrong shape",
        _job_events(),
        APIResponseValidationError,
        SENT_ONCE,
        f"{JOBS}/{JOB}/events",
        Reply(json={"items": "nope", "total": 3}),
    ),
)


@attrs.define
class BadResult:
    """What one row did: the error raised and every request the server saw."""

    name: str
    error: Exception | None
    requests: list[str]
    ok: bool
    why: str = ""


RULES = "/v1/sic/conf/rules-catalog/rules/"


def _confined(path: str, row: Bad) -> bool:
    # The argument must stay one percent-quoted segment of the intended endpoint.
    for prefix in (
        f"{JOBS}/",
        "/v1/sic/alerts/",
        "/v1/sic/cases/",
        "/v1/sic/conf/rules-catalog/rules/",
    ):
        if path.startswith(prefix):
            rest = path[len(prefix) :]
            return "/" not in rest.removesuffix("/events") and "?" not in rest
    return False


async def run_bad_input(row: Bad) -> BadResult:
    """Run one row against a fresh scripted server and judge it."""
    error: Exception | None = None
    async with ScriptedServer() as srv:
        if row.handler is not None:
            srv.on(row.path, row.handler(srv))
        elif row.reply is not None:
            srv.script(row.path, row.reply)
        async with SekoiaClient(KEY, base_url=srv.base_url, retry=NO_RETRY) as client:
            try:
                await row.call(client, srv)
            except Exception as exc:  # judged below
                error = exc
    requests = [f"{s.method} {s.path}{'?' + s.query if s.query else ''}" for s in srv.seen]
    result = BadResult(row.name, error, requests, ok=False)
    if error is None:
        result.why = "no error raised"
    elif not isinstance(error, row.error):
        result.why = f"raised {type(error).__name__}: {error}"
    elif not isinstance(error, (SekoiaError, ValueError, TypeError)):
        result.why = f"untyped error {type(error).__name__}"
    elif row.sent == SENT_NOTHING and srv.seen:
        result.why = f"sent {requests}"
    elif row.sent == SENT_ONCE and [s.path for s in srv.seen] != [row.path]:
        result.why = f"expected one request to {row.path}, sent {requests}"
    elif row.sent == CONFINED and not all(_confined(s.path, row) for s in srv.seen):
        result.why = f"a request left its endpoint: {requests}"
    elif not str(error).strip():
        result.why = "the error has no message"
    else:
        result.ok = True
    return result
