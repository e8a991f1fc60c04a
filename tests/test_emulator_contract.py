"""Contract tests: the emulator's alert and case responses against Sekoia's official OpenAPI spec.

Every response of a scripted session (lists, details, patches, workflow, comments, counts,
errors) is validated against the component schema the spec declares for its operation and
status, with ``$ref`` resolved in the spec document and ``uuid``/``date-time`` formats checked.
The spec still carries Swagger 2's ``x-nullable``; it is turned into JSON Schema's ``null``
type before validating, which is what it means. Route permissions and limit maxima are checked
against the spec's text and parameters too.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from _emulator_api import Api
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS31Validator, oas31_format_checker

from sekoia_async.testing import SekoiaEmulator
from sekoia_async.testing._domains import _catalog as cat
from sekoia_async.testing._domains import alerts, cases
from sekoia_async.testing._routing import PERMISSIONS, EmulatorState

pytestmark = pytest.mark.anyio

SPEC_NAME = "sekoia-sic-openapi.json"
# The copy under tests/data keeps the tests independent of ../shared being present.
SPEC_PATHS = (
    Path(__file__).parent / "data" / SPEC_NAME,
    Path(__file__).resolve().parents[2] / "shared" / "specs" / SPEC_NAME,
)


@cache
def spec() -> dict[str, Any]:
    for path in SPEC_PATHS:
        if path.exists():
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return loaded
    raise FileNotFoundError(f"{SPEC_NAME} not found in {[str(p) for p in SPEC_PATHS]}")


def with_nulls(node: Any) -> Any:
    """Swagger 2's ``x-nullable: true`` as JSON Schema: also accept null."""
    if isinstance(node, list):
        return [with_nulls(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: with_nulls(v) for k, v in node.items()}
    if out.get("x-nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


@cache
def components() -> dict[str, Any]:
    converted: dict[str, Any] = with_nulls(spec()["components"])
    return converted


def response_schema(method: str, template: str, status: int) -> dict[str, Any] | None:
    """The schema the spec declares for that response; fails if the status is undeclared."""
    operation = spec()["paths"][template][method.lower()]
    responses = operation["responses"]
    assert str(status) in responses, (
        f"{method} {template} answered {status}, which the spec does not declare "
        f"(declared: {sorted(responses)})"
    )
    content = responses[str(status)].get("content")
    if not content:
        return None
    # The spec's media type is misspelt "application.json"; take whatever is declared.
    schema: dict[str, Any] = next(iter(content.values()))["schema"]
    return schema


def validate(method: str, template: str, status: int, body: Any) -> None:
    schema = response_schema(method, template, status)
    if schema is None:
        if status == 204:
            assert body is None
        else:  # errors carry no schema in the spec; ours is {"message": ...}
            assert isinstance(body, dict)
            assert isinstance(body.get("message"), str)
        return
    root = {**with_nulls(schema), "components": components()}
    OAS31Validator(root, format_checker=oas31_format_checker).validate(body)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with SekoiaEmulator(seed=0) as emu, aiohttp.ClientSession() as session:
        yield Api(emu, session)


class Recorder:
    """Calls the emulator and validates each response against its operation in the spec."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.checked: list[tuple[str, str, int]] = []

    async def __call__(
        self,
        method: str,
        template: str,
        values: dict[str, str] | None = None,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        key: str | None = None,
    ) -> tuple[int, Any]:
        path = template.format(**(values or {}))
        status, body = await self.api(method, path, params=params, json=json, key=key)
        validate(method, template, status, body)
        self.checked.append((method, template, status))
        return status, body


# --- the validator itself ----------------------------------------------------------------------


def test_the_spec_copy_matches_the_shared_spec() -> None:
    copy, shared = SPEC_PATHS
    if not shared.exists():
        pytest.skip("../shared/specs is not present")
    assert copy.read_bytes() == shared.read_bytes()


def test_validation_rejects_what_the_spec_forbids() -> None:
    good = {
        "uuid": "1c3a4a06-8f06-4f8a-9a4d-4b1f0f1b2c3d",
        "short_id": "ALa1b2c3d4e5",
        "created_at": 1700000000,
        "entity": None,
    }
    validate("GET", "/v1/sic/alerts", 200, {"items": [good], "total": 1, "has_more": False})
    bad_items = [
        {**good, "created_at": "2024-01-01T00:00:00Z"},  # alerts use Unix ints
        {**good, "uuid": "not-a-uuid"},
        {**good, "surprise": 1},  # additionalProperties: false
        {**good, "assignee": None},  # not x-nullable
    ]
    for item in bad_items:
        with pytest.raises(ValidationError):
            validate("GET", "/v1/sic/alerts", 200, {"items": [item], "total": 1})
    with pytest.raises(AssertionError, match="does not declare"):
        validate("GET", "/v1/sic/alerts", 418, {"message": "teapot"})


# --- alerts ------------------------------------------------------------------------------------


async def test_every_alert_response_matches_the_spec(api: Api) -> None:
    call = Recorder(api)
    seen: list[dict[str, Any]] = []
    for offset in (0, 100):
        _, page = await call(
            "GET", "/v1/sic/alerts", params={"limit": 100, "offset": offset, "cases": "true"}
        )
        seen += page["items"]
    assert len(seen) == 120
    await call("GET", "/v1/sic/alerts", params={"with_count": "false", "stix": "true"})
    await call(
        "GET",
        "/v1/sic/alerts",
        params={"match[status_name]": "Pending", "range[urgency]": "40,100", "sort": "urgency"},
    )
    await call("GET", "/v1/sic/alerts/count", params={"match[status_name]": "Closed"})
    await call("GET", "/v1/sic/alerts/count", params={"limit": 5})
    await call("GET", "/v1/sic/alerts/statuses")
    _, types = await call("GET", "/v1/sic/alerts/types", params={"match[category]": "intrusions"})
    assert types["total"] > 0

    # Every seeded alert's detail, with everything opted in.
    for alert in seen:
        ids = {"uuid": alert["uuid"]}
        await call("GET", "/v1/sic/alerts/{uuid}", ids, params={"stix": "true", "cases": "true"})
    one = {"uuid": next(a for a in seen if a["status"]["name"] == "Pending")["uuid"]}
    await call("GET", "/v1/sic/alerts/{uuid}/workflow", one)
    await call(
        "PATCH",
        "/v1/sic/alerts/{uuid}",
        one,
        json={
            "urgency": 75,
            "assignee": "8b1fd1a6-0c84-4b87-9d6e-0c3b0c3d1e2f",
            "verdict_uuid": "5e0b9a7c-1d2e-4f3a-8b9c-0d1e2f3a4b5c",
            "verdict_analysis": "benign",
            "verdict_confidence": 80,
            "kill_chain_short_id": None,
            "comment": "updated",
        },
    )
    status, _ = await call(
        "PATCH", "/v1/sic/alerts/{uuid}/workflow", one, json={"action_uuid": cat.CLOSE}
    )
    assert status == 409
    for action in (cat.ACKNOWLEDGE, cat.VALIDATE, cat.CLOSE):
        status, _ = await call(
            "PATCH",
            "/v1/sic/alerts/{uuid}/workflow",
            one,
            json={"action_uuid": action, "comment": "moving on"},
        )
        assert status == 200
    await call("POST", "/v1/sic/alerts/{uuid}/comments", one, json={"content": "done"})
    await call("GET", "/v1/sic/alerts/{uuid}/comments", one)
    await call("GET", "/v1/sic/alerts/{uuid}", one, params={"cases": "true", "stix": "true"})
    await call(
        "GET", "/v1/sic/alerts", params={"match[assignee]": "8b1fd1a6-0c84-4b87-9d6e-0c3b0c3d1e2f"}
    )

    # Errors use declared statuses.
    await call("GET", "/v1/sic/alerts", params={"limit": 101})
    await call("GET", "/v1/sic/alerts/{uuid}", {"uuid": "ALunknown000"})
    await call("PATCH", "/v1/sic/alerts/{uuid}", one, json={"urgency": "high"})
    await call("POST", "/v1/sic/alerts/{uuid}/comments", one, json={})
    await call("DELETE", "/v1/sic/alerts/{uuid}", one)
    await call("GET", "/v1/sic/alerts/{uuid}/comments", one)  # now 404

    assert {s for _, _, s in call.checked} >= {200, 204, 400, 404, 409}


# --- cases -------------------------------------------------------------------------------------


async def test_every_case_response_matches_the_spec(api: Api) -> None:
    call = Recorder(api)
    _, listed = await call("GET", "/v1/sic/cases", params={"limit": 100})
    assert listed["total"] == 12
    for case in listed["items"]:
        ids = {"case_uuid": case["uuid"]}
        await call("GET", "/v1/sic/cases/{case_uuid}", ids)
        await call("GET", "/v1/sic/cases/{case_uuid}/alerts", ids)
        await call("GET", "/v1/sic/cases/{case_uuid}/comments", ids)
    await call("GET", "/v1/sic/cases", params={"match[priority]": "high", "sort": "title"})

    _, created = await call(
        "POST",
        "/v1/sic/cases",
        json={
            "title": "Contract",
            "description": "made by the contract test",
            "priority": "low",
            "tags": ["contract"],
            "subscribers": [
                {"avatar_uuid": "8b1fd1a6-0c84-4b87-9d6e-0c3b0c3d1e2f", "type": "assignee"}
            ],
        },
    )
    ids = {"case_uuid": created["uuid"]}
    _, free = await api(
        "GET",
        "/v1/sic/alerts",
        params={
            "is_assigned_to_case": "false",
            "match[community_uuid]": created["community_uuid"],
        },
    )
    first, second = (a["uuid"] for a in free["items"][:2])
    await call("POST", "/v1/sic/cases/{case_uuid}/alerts", ids, json={"alerts": [first]})
    await call("PATCH", "/v1/sic/cases/{case_uuid}/alerts", ids, json={"alerts": [second]})
    await call("GET", "/v1/sic/cases/{case_uuid}/alerts", ids, params={"limit": 1})
    await call(
        "PATCH",
        "/v1/sic/cases/{case_uuid}",
        ids,
        json={
            "status_name": "in_progress",
            "verdict_uuid": "5e0b9a7c-1d2e-4f3a-8b9c-0d1e2f3a4b5c",
            "verdict_confidence": 50,
        },
    )
    await call("PATCH", "/v1/sic/cases/{case_uuid}", ids, json={"verdict_uuid": None})
    await call("POST", "/v1/sic/cases/{case_uuid}/comments", ids, json={"content": "noted"})
    await call("GET", "/v1/sic/cases/{case_uuid}/comments", ids)
    await call("GET", "/v1/sic/cases/{case_uuid}", ids)
    await call("GET", "/v1/sic/alerts/{uuid}", {"uuid": first}, params={"cases": "true"})

    await call(
        "POST", "/v1/sic/cases/{uuid}/events", {"uuid": created["uuid"]}, json={"event_ids": ["e1"]}
    )
    await call("DELETE", "/v1/sic/cases/{case_uuid}/events/{event_id}", {**ids, "event_id": "e1"})
    await call("DELETE", "/v1/sic/cases/{case_uuid}/events/{event_id}", {**ids, "event_id": "e1"})
    await call(
        "DELETE",
        "/v1/sic/cases/{uuid}/events",
        {"uuid": created["uuid"]},
        json={"event_ids": ["e1"]},
    )
    await call("POST", "/v1/sic/cases", json={})  # 400: title is required
    await call("PATCH", "/v1/sic/cases/{case_uuid}/alerts", ids, json={"alerts": ["ALnope"]})
    await call("DELETE", "/v1/sic/cases/{case_uuid}", ids)
    await call("DELETE", "/v1/sic/cases/{case_uuid}", ids)  # 404 the second time
    assert {s for _, _, s in call.checked} >= {200, 204, 400, 404}


# --- permissions and limits from the spec ------------------------------------------------------

_PERMISSION = re.compile(r"“([^”]+)” \(`([0-9a-f-]{36})`\)")


def _spec_routes() -> list[tuple[str, str, Any]]:
    state = EmulatorState(seed=0)
    out = []
    for module in (alerts, cases):
        for route in module.routes(state):
            out.append((route.method, route.path, route))
    return out


@pytest.mark.parametrize(
    ("method", "path", "route"), _spec_routes(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_route_permission_is_one_the_spec_requires(method: str, path: str, route: Any) -> None:
    operation = spec()["paths"][path][method.lower()]
    required = dict(_PERMISSION.findall(operation["description"]))
    assert required, f"the spec names no permission for {method} {path}"
    assert route.permission in required, (method, path, route.permission, required)
    # The display name's UUID in the emulator is the spec's.
    assert PERMISSIONS[route.permission] == required[route.permission]


LIMITED = [
    ("/v1/sic/alerts", {}),
    ("/v1/sic/alerts/statuses", {}),
    ("/v1/sic/alerts/types", {}),
    ("/v1/sic/alerts/{uuid}/comments", {"uuid": "alert"}),
    ("/v1/sic/cases", {}),
    ("/v1/sic/cases/{case_uuid}/comments", {"case_uuid": "case"}),
]


@pytest.mark.parametrize(("template", "needs"), LIMITED)
async def test_limit_maximum_and_default_follow_the_spec(
    api: Api, template: str, needs: dict[str, str]
) -> None:
    (limit,) = [p for p in spec()["paths"][template]["get"]["parameters"] if p["name"] == "limit"]
    _, some_alert = await api("GET", "/v1/sic/alerts", params={"limit": 1})
    _, some_case = await api("GET", "/v1/sic/cases", params={"limit": 1})
    values = {
        "alert": some_alert["items"][0]["uuid"],
        "case": some_case["items"][0]["uuid"],
    }
    path = template.format(**{k: values[v] for k, v in needs.items()})
    status, _ = await api("GET", path, params={"limit": limit["maximum"]})
    assert status == 200
    status, body = await api("GET", path, params={"limit": limit["maximum"] + 1})
    assert status == 400
    assert "limit" in body["message"]
    status, body = await api("GET", path, params={"limit": 0})
    assert status == 400
    if template == "/v1/sic/alerts":
        _, body = await api("GET", path)
        assert len(body["items"]) == limit["default"]
