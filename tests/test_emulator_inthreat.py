"""The emulated Intelligence Center (``/v2/inthreat``) over raw HTTP: spec permissions and
shapes, deterministic seeded STIX data, the feed cursor, and its 400/401/403/404 answers."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sekoia_async.testing import SekoiaEmulator
from sekoia_async.testing._domains import inthreat
from sekoia_async.testing._domains.inthreat import (
    DEFAULT_FEED,
    inthreat_store,
    observable_type,
)
from sekoia_async.testing._routing import PERMISSIONS, EmulatorState

# The operations we emulate, copied verbatim from the official inthreat spec.
SPEC = json.loads((Path(__file__).parent / "data" / "sekoia-inthreat-openapi.json").read_text())
FEED = f"/v2/inthreat/collections/{DEFAULT_FEED}/objects"
_PERMISSION = re.compile(r"“([^”]+)” \(`([0-9a-f-]{36})`\)")


class Api:
    """Raw HTTP against the emulator with one key."""

    def __init__(self, emu: SekoiaEmulator, session: aiohttp.ClientSession, key: str) -> None:
        self.emu = emu
        self.session = session
        self.key = key

    async def call(
        self, method: str, path: str, *, params: Any = None, json_body: Any = None
    ) -> tuple[int, Any]:
        async with self.session.request(
            method,
            self.emu.base_url + path,
            params=params,
            json=json_body,
            headers={"Authorization": f"Bearer {self.key}"},
        ) as resp:
            return resp.status, await resp.json()


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=11) as emulator:
        yield emulator


@pytest.fixture
async def api(emu: SekoiaEmulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(emu, session, emu.api_key)


# --- contract with the spec -------------------------------------------------------------------


@pytest.mark.parametrize("route", inthreat.routes(EmulatorState(seed=0)), ids=lambda r: r.name)
def test_route_permission_is_the_specs(route: Any) -> None:
    operation = SPEC["paths"][route.path][route.method.lower()]
    required = dict(_PERMISSION.findall(operation.get("description", "")))
    if not required:
        # The feed operation names no permission: the emulator asks for "View intelligence".
        assert route.path == "/v2/inthreat/collections/{feed_id}/objects"
        assert route.permission == "View intelligence"
        return
    assert route.permission in required
    assert PERMISSIONS[route.permission] == required[route.permission]


def _required(schema_name: str) -> set[str]:
    return set(SPEC["components"]["schemas"][schema_name].get("required", []))


@pytest.mark.anyio
async def test_responses_have_the_spec_shapes(api: Api) -> None:
    status, feed = await api.call("GET", FEED, params={"limit": 5})
    assert status == 200
    assert _required("ListOfObjectsSchema") <= feed.keys()
    assert isinstance(feed["next_cursor"], str)
    status, observables = await api.call("GET", "/v2/inthreat/observables")
    assert status == 200
    assert _required("ListOfObservablesSchema") <= observables.keys()
    assert len(observables["items"]) == 20  # the spec's default limit
    query = {"value": "eicar@sekoia.io", "type": "email-addr"}
    status, context = await api.call("GET", "/v2/inthreat/indicators/context", params=query)
    assert status == 200
    bundle_schema = SPEC["components"]["schemas"]["ContextsSchema"]["properties"]["items"]
    assert set(bundle_schema["items"]["required"]) <= context["items"][0].keys()
    status, indicators = await api.call("GET", "/v2/inthreat/indicators", params=query)
    assert status == 200
    assert set(indicators) <= set(
        SPEC["components"]["schemas"]["ListOfSTIXObjectsSchema"]["properties"]
    )


@pytest.mark.anyio
async def test_eicar_indicator_is_shaped_like_the_recording(api: Api) -> None:
    recorded = json.loads(
        (Path(__file__).parent / "data" / "recorded" / "indicator.json").read_text()
    )
    query = {"value": "eicar@sekoia.io", "type": "email-addr"}
    _, found = await api.call("GET", "/v2/inthreat/indicators", params=query)
    (indicator,) = found["items"]
    assert set(recorded["items"][0]) <= set(indicator)
    for field in (
        "name",
        "pattern",
        "pattern_type",
        "type",
        "spec_version",
        "x_ic_observable_types",
    ):
        assert indicator[field] == recorded["items"][0][field]


# --- seeded data ------------------------------------------------------------------------------


def test_seeded_data_is_deterministic_per_seed() -> None:
    def ids(seed: int) -> list[str]:
        return [o["id"] for o in inthreat_store(EmulatorState(seed=seed)).feed]

    assert ids(3) == ids(3)
    assert ids(3) != ids(4)
    store = inthreat_store(EmulatorState(seed=3))
    keys = [(o["modified"], o["id"]) for o in store.feed]
    assert keys == sorted(keys)
    assert {o["type"] for o in store.feed} == {
        "identity", "marking-definition", "malware", "intrusion-set", "indicator", "relationship",
    }  # fmt: skip
    assert len(store.collection_ids) == 1


def test_observable_type_detection() -> None:
    assert observable_type("1.2.3.4") == "ipv4-addr"
    assert observable_type("2001:db8::1") == "ipv6-addr"
    assert observable_type("http://a.b/c") == "url"
    assert observable_type("a@b.c") == "email-addr"
    assert observable_type("d41d8cd98f00b204e9800998ecf8427e") == "file"
    assert observable_type("evil.example") == "domain-name"
    assert observable_type("no dots here") == "x-unknown"


# --- feed cursor ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_feed_cursor_walks_everything_once_then_tails(emu: SekoiaEmulator, api: Api) -> None:
    store = inthreat_store(emu.state)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 64, "include_revoked": "true"}
        if cursor:
            params["cursor"] = cursor
        status, page = await api.call("GET", FEED, params=params)
        assert status == 200
        seen.extend(o["id"] for o in page["items"])
        cursor = page["next_cursor"]
        if not page["items"]:
            break
    assert seen == [o["id"] for o in store.feed]
    # A new object after the end is what the saved cursor yields next.
    newest = dict(store.feed[-1], id="malware--00000000-0000-4000-8000-000000000001")
    newest["modified"] = "2030-01-01T00:00:00.000000Z"
    store.add(newest)
    _, page = await api.call("GET", FEED, params={"cursor": cursor})
    assert [o["id"] for o in page["items"]] == [newest["id"]]


@pytest.mark.anyio
async def test_feed_filters(emu: SekoiaEmulator, api: Api) -> None:
    _, page = await api.call("GET", FEED, params={"match[type]": "malware,intrusion-set"})
    assert {o["type"] for o in page["items"]} == {"malware", "intrusion-set"}
    _, page = await api.call("GET", FEED, params={"limit": 2000})
    assert not any(o.get("revoked") for o in page["items"])
    # The emulator clock is now (2026+): every seeded indicator (valid one year from 2024) expired.
    _, page = await api.call("GET", FEED, params={"limit": 2000, "skip_expired": "true"})
    assert not any(o["type"] == "indicator" for o in page["items"])
    _, page = await api.call("GET", FEED, params={"modified_after": "2099-01-01T00:00:00Z"})
    assert page["items"] == []


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (FEED, {"limit": "0"}),
        (FEED, {"limit": "2001"}),
        (FEED, {"limit": "many"}),
        (FEED, {"cursor": "!!!"}),
        (FEED, {"cursor": "bm9waXBl"}),  # base64 of "nopipe"
        (FEED, {"modified_after": "yesterday"}),
        (FEED, {"skip_expired": "maybe"}),
        ("/v2/inthreat/indicators", {"value": "x"}),
        ("/v2/inthreat/indicators", {"type": "url"}),
        ("/v2/inthreat/indicators/context", {}),
        ("/v2/inthreat/observables", {"offset": "10001"}),
        ("/v2/inthreat/observables", {"limit": "2001"}),
    ],
)
@pytest.mark.anyio
async def test_bad_parameters_are_400(api: Api, path: str, params: dict[str, str]) -> None:
    status, body = await api.call("GET", path, params=params)
    assert status == 400
    assert body["message"].startswith("Invalid parameters")


@pytest.mark.anyio
async def test_ioc_collection_add_validation(emu: SekoiaEmulator, api: Api) -> None:
    collection = inthreat_store(emu.state).collection_ids[0]
    path = f"/v2/inthreat/ioc-collections/{collection}/indicators"
    too_many = {"indicators": [{"value": f"h{i}.example"} for i in range(101)]}
    half_bad = {"indicators": [{"value": "good.example"}, {"valid_from": "2024-01-01"}]}
    bad_bodies: tuple[dict[str, Any], ...] = (
        {},
        {"indicators": []},
        {"indicators": "a.b"},
        half_bad,
        too_many,
    )
    for body in bad_bodies:
        status, answer = await api.call("POST", path, json_body=body)
        assert status == 400, body
        assert "Invalid parameters" in answer["message"]
    # A refused request added nothing, not even the valid indicator before the bad one.
    assert inthreat_store(emu.state).collections[collection] == []
    status, answer = await api.call(
        "POST",
        path,
        json_body={"indicators": [{"value": "ok.example", "valid_from": "2024-01-01"}]},
    )
    assert status == 200
    assert answer["total"] == 1
    assert answer["items"][0]["valid_from"] == "2024-01-01"
    status, answer = await api.call(
        "POST", "/v2/inthreat/ioc-collections/nope/indicators", json_body={}
    )
    assert (status, answer["message"]) == (404, "Unknown IOC collection nope")


@pytest.mark.anyio
async def test_auth_permissions_and_prefix(emu: SekoiaEmulator, api: Api) -> None:
    status, _ = await Api(emu, api.session, "wrong-key").call("GET", FEED)
    assert status == 401
    limited = Api(emu, api.session, emu.add_api_key(["View intelligence"]))
    status, body = await limited.call("GET", "/v2/inthreat/observables")
    assert status == 403
    assert "View observables" in body["message"]
    status, _ = await limited.call("GET", "/api" + FEED, params={"limit": 1})
    assert status == 200
    status, body = await api.call("GET", "/v2/inthreat/collections/unknown/objects")
    assert (status, body["message"]) == (404, "Unknown feed unknown")
