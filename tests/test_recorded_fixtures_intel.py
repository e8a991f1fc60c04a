"""Real recorded Intelligence Center responses read through ``client.intelligence``.

The 8 recordings (tests/data/recorded/indicator*.json and observable*.json, copied verbatim
from the shared fixtures; provenance in that README: demisto/content, SEKOIAIntelligenceCenter
test data) are served by a local aiohttp server on 127.0.0.1 for the query the client sends,
so the test checks both what the client asks and what it reads.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from _local_app import client_for
from aiohttp import web

from sekoia_async import KillChainPhase, Observable, SekoiaClient, StixBundle, StixObject

DATA = Path(__file__).parent / "data" / "recorded"

EICAR = ("eicar@sekoia.io", "email-addr")
FILENAME = ("sessionmanagermodule.dll", "file")
URL = ("http://177.22.84.44:49467/.i", "url")

INDICATORS = {EICAR: "indicator.json"}
CONTEXTS = {
    EICAR: "indicator_context.json",
    FILENAME: "indicator_context_filename.json",
    URL: "indicator_context_url.json",
}


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


class RecordedIntel:
    """Serves the recordings; records the query strings it received."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        self.app = web.Application()
        self.app.router.add_get("/v2/inthreat/indicators", self._indicators)
        self.app.router.add_get("/v2/inthreat/indicators/context", self._context)
        self.app.router.add_get("/v2/inthreat/observables", self._observables)

    def _key(self, request: web.Request) -> tuple[str, str]:
        assert request.headers["Authorization"] == "Bearer recorded-key"
        self.queries.append(dict(request.query))
        return request.query["value"], request.query["type"]

    async def _indicators(self, request: web.Request) -> web.Response:
        name = INDICATORS.get(self._key(request), "indicator_unknown.json")
        return web.json_response(_load(name))

    async def _context(self, request: web.Request) -> web.Response:
        name = CONTEXTS.get(self._key(request), "indicator_context_unknown.json")
        return web.json_response(_load(name))

    async def _observables(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        known = request.query.get("match[value]") == "eicar@sekoia.io"
        return web.json_response(_load("observable.json" if known else "observable_unknown.json"))


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[RecordedIntel, SekoiaClient]]:
    server = RecordedIntel()
    async with client_for(server.app) as client:
        yield server, client


def _utc(*parts: int) -> datetime:
    return datetime(*parts).replace(tzinfo=timezone.utc)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_indicator_lookup(recorded: tuple[RecordedIntel, SekoiaClient]) -> None:
    server, client = recorded
    (indicator,) = await client.intelligence.find_indicators(EICAR[0], type=EICAR[1])
    assert server.queries == [{"value": "eicar@sekoia.io", "type": "email-addr"}]
    assert isinstance(indicator, StixObject)
    assert indicator.id == "indicator--d394449b-6bc7-4d48-b392-6f898190bd2a"
    assert indicator.type == "indicator"
    assert indicator.spec_version == "2.1"
    assert indicator.name == "eicar@sekoia.io"
    assert indicator.pattern == "[email-addr:value = 'eicar@sekoia.io']"
    assert indicator.pattern_type == "stix"
    assert indicator.indicator_types == ("benign",)
    assert indicator.kill_chain_phases == (
        KillChainPhase("lockheed-martin-cyber-kill-chain", "delivery"),
    )
    assert indicator.valid_from == _utc(2020, 5, 25, 7, 18, 1, 809000)
    assert indicator.valid_until == _utc(2022, 11, 20, 23, 0)
    assert indicator.modified == _utc(2020, 6, 2, 13, 29, 24, 940899)
    assert indicator.revoked is False
    assert indicator.x_ic_deprecated is False
    assert indicator.x_ic_observable_types == ("email-addr",)
    assert indicator.object_marking_refs == (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    )
    assert indicator.raw["x_ic_is_in_flint"] is False  # unmodelled fields stay readable


@pytest.mark.anyio
async def test_unknown_indicator(recorded: tuple[RecordedIntel, SekoiaClient]) -> None:
    _, client = recorded
    assert await client.intelligence.find_indicators("1.1.1.1", type="ipv4-addr") == []
    assert await client.intelligence.indicator_context("1.1.1.1", type="ipv4-addr") == []


@pytest.mark.anyio
async def test_email_context_bundle(recorded: tuple[RecordedIntel, SekoiaClient]) -> None:
    server, client = recorded
    (bundle,) = await client.intelligence.indicator_context(EICAR[0], type=EICAR[1])
    assert server.queries == [{"value": "eicar@sekoia.io", "type": "email-addr"}]
    assert isinstance(bundle, StixBundle)
    assert bundle.id == "bundle--60042166-f9f9-4d89-a474-2db5c8cecdd0"
    assert [o.type for o in bundle] == [
        "indicator",
        "intrusion-set",
        "relationship",
        "identity",
        "marking-definition",
        "marking-definition",
    ]
    (relationship,) = bundle.of_type("relationship")
    assert relationship.relationship_type == "indicates"
    assert relationship.source_ref == "indicator--d394449b-6bc7-4d48-b392-6f898190bd2a"
    assert relationship.target_ref is not None
    threat = bundle.get(relationship.target_ref)
    assert threat is not None
    assert threat.name == "EICAR Unit of SEKOIA"
    assert threat.aliases == ("EICAR", "TEST EICAR SEKOIA.IO", "EICAR Unit of SEKOIA")
    identity = bundle.get("identity--357447d7-9229-4ce1-b7fa-f1b83587048e")
    assert identity is not None
    assert (identity.name, identity.confidence) == ("SEKOIA", 95)
    # A marking definition has no modified date: the model leaves it None.
    assert all(m.modified is None for m in bundle.of_type("marking-definition"))


@pytest.mark.parametrize(
    ("query", "threat_type", "threat_name", "source_name"),
    [
        (FILENAME, "malware", "SessionManager", "securelist.com"),
        (URL, "malware", "Hajime", "URLhaus"),
    ],
)
@pytest.mark.anyio
async def test_filename_and_url_context_bundles(
    recorded: tuple[RecordedIntel, SekoiaClient],
    query: tuple[str, str],
    threat_type: str,
    threat_name: str,
    source_name: str,
) -> None:
    _, client = recorded
    (bundle,) = await client.intelligence.indicator_context(query[0], type=query[1])
    (indicator,) = bundle.of_type("indicator")
    assert indicator.name == query[0]
    assert indicator.indicator_types == ("malicious-activity",)
    (relationship,) = bundle.of_type("relationship")
    assert relationship.source_ref == indicator.id
    assert relationship.target_ref is not None
    threat = bundle.get(relationship.target_ref)
    assert threat is not None
    assert (threat.type, threat.name) == (threat_type, threat_name)
    assert source_name in {o.name for o in bundle.of_type("identity")}
    assert all(p.kill_chain_name for p in indicator.kill_chain_phases)


@pytest.mark.anyio
async def test_url_indicator_confidence_and_timestamps(
    recorded: tuple[RecordedIntel, SekoiaClient],
) -> None:
    _, client = recorded
    (bundle,) = await client.intelligence.indicator_context(URL[0], type=URL[1])
    (indicator,) = bundle.of_type("indicator")
    assert indicator.confidence == 70
    assert indicator.valid_from == _utc(2022, 6, 19)
    assert indicator.x_inthreat_sources_refs == ("identity--15242053-3fe7-45db-84a2-13b77f58ebe8",)
    urlhaus = bundle.get("identity--15242053-3fe7-45db-84a2-13b77f58ebe8")
    assert urlhaus is not None
    assert urlhaus.modified == _utc(2022, 4, 6, 14, 35, 29, 712402)
    (other,) = await client.intelligence.indicator_context(FILENAME[0], type=FILENAME[1])
    securelist = other.get("identity--117c9936-1101-485c-ad80-d5c868caee96")
    assert securelist is not None
    # "2021-10-05T09:35:35.71996Z": five fractional digits are read too.
    assert securelist.modified == _utc(2021, 10, 5, 9, 35, 35, 719960)


@pytest.mark.anyio
async def test_observable_lookup(recorded: tuple[RecordedIntel, SekoiaClient]) -> None:
    server, client = recorded
    found = [o async for o in client.intelligence.observables(value="eicar@sekoia.io")]
    assert server.queries == [{"match[value]": "eicar@sekoia.io", "limit": "100", "offset": "0"}]
    (observable,) = found
    assert isinstance(observable, Observable)
    assert observable.id == "email-addr--cd6440d1-725c-5eb9-bff0-5e62c65ee263"
    assert (observable.type, observable.value) == ("email-addr", "eicar@sekoia.io")
    assert observable.x_inthreat_short_display == "eicar@sekoia.io"
    assert observable.x_inthreat_tags == ()
    # "2020-11-04T00:27:15.9801Z": four fractional digits.
    assert observable.created == _utc(2020, 11, 4, 0, 27, 15, 980100)


@pytest.mark.anyio
async def test_unknown_observable(recorded: tuple[RecordedIntel, SekoiaClient]) -> None:
    _, client = recorded
    pager = client.intelligence.observables(value="nobody@example.org")
    page = await pager.first_page()
    assert page.items == ()
    assert page.total == 0
    assert [o async for o in pager] == []
