"""The emulated rules catalog, communities and invitations, intakes, entities and v2 assets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _emulator_api import Api

from sekoia_async.testing import SekoiaEmulator
from sekoia_async.testing._domains import _catalog as cat
from sekoia_async.testing._domains._common import Filters, apply_filters
from sekoia_async.testing._domains._stores import urgency_display

pytestmark = pytest.mark.anyio

RULES = "/v1/sic/conf/rules-catalog/rules"
QUICKSTART_RULE = {
    "name": "My custom SIGMA rule",
    "type": "sigma",
    "description": "Detect spawn of Powershell",
    "payload": "detection:\n  selection:\n    process.command_line|contains: 'powershell'\n"
    "  condition: selection",
    "severity": 40,
    "effort": 3,
    "alert_type_uuid": "599f4b1a-dd60-43fe-8ee9-07d3c5d00ded",
    "enabled": True,
}


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with SekoiaEmulator(seed=0) as emu, aiohttp.ClientSession() as session:
        yield Api(emu, session)


# --- pure helpers ------------------------------------------------------------------------------


def test_urgency_display_bands_follow_the_spec() -> None:
    assert [urgency_display(v) for v in (0, 19, 20, 39, 40, 59, 60, 79, 80, 100)] == [
        "Low", "Low", "Moderate", "Moderate", "High", "High", "Major", "Major", "Urgent", "Urgent",
    ]  # fmt: skip


def test_apply_filters_or_within_and_across_fields() -> None:
    items = [{"a": "x", "b": ["1", "2"]}, {"a": "y", "b": ["2"]}, {"a": "z", "b": []}]
    fields = {"a": lambda i: i["a"], "b": lambda i: i["b"]}
    both = Filters(match={"a": ("x", "y"), "b": ("1",)})
    assert apply_filters(items, both, fields) == [items[0]]
    excluded = Filters(nomatch={"b": ("2",)})
    assert apply_filters(items, excluded, fields) == [items[2]]
    ranged = Filters(range={"a": (0, 1)})
    assert apply_filters(items, ranged, fields) == []  # non-numeric values never match a range


def test_the_status_machine_has_an_action_for_each_allowed_move() -> None:
    for status, actions in cat.TRANSITIONS.items():
        assert status in cat.ALERT_STATUSES
        assert all(a in cat.ACTIONS for a in actions)
    assert cat.TRANSITIONS[cat.CLOSED] == ()
    assert cat.TRANSITIONS[cat.REJECTED] == ()


# --- rules -------------------------------------------------------------------------------------


async def test_quickstart_rule_is_found_by_name(api: Api) -> None:
    name = "Suspicious Windows Defender Exclusion Command"
    status, body = await api("GET", RULES, params={"match[name]": name})
    assert status == 200
    assert body["total"] == 1
    rule = body["items"][0]
    assert rule["name"] == name
    assert rule["type"] == "sigma"
    assert rule["severity"] == 80
    assert rule["effort"] == 4


async def test_alert_types_give_the_uuids_rules_take(api: Api) -> None:
    status, body = await api("GET", "/v1/sic/conf/alerts/types", params={"match[value]": "c&c"})
    assert status == 200
    assert body["items"] == [
        {
            "uuid": "47e51ab7-4caa-4c4b-8442-a1caf868806d",
            "category": "malicious-code",
            "value": "c&c",
        }
    ]
    _, every = await api("GET", "/v1/sic/conf/alerts/types")
    assert QUICKSTART_RULE["alert_type_uuid"] in [t["uuid"] for t in every["items"]]
    status, spec_form = await api("GET", "/v1/sic/alerts/types")
    assert status == 200
    assert spec_form["total"] == every["total"]
    assert set(spec_form["items"][0]) == {"value", "category"}


@pytest.mark.parametrize(
    "path",
    [RULES, "/v1/sic/alerts", "/v1/sic/cases", "/v1/communities", "/v2/asset-management/assets"],
)
async def test_domain_paths_answer_with_and_without_the_api_prefix(api: Api, path: str) -> None:
    status, plain = await api("GET", path)
    assert status == 200
    status, prefixed = await api("GET", "/api" + path)
    assert status == 200
    assert prefixed == plain


async def test_rules_filter_by_severity_name_or_number(api: Api) -> None:
    status, high = await api("GET", RULES, params={"match[severity]": "high"})
    assert status == 200
    assert high["total"] > 0
    assert all(60 <= r["severity"] <= 79 for r in high["items"])
    status, exact = await api("GET", RULES, params={"match[severity]": "80,90"})
    assert {r["severity"] for r in exact["items"]} == {80, 90}
    status, body = await api("GET", RULES, params={"match[colour]": "red"})
    assert status == 400
    assert "match[colour]" in body["message"]


async def test_rules_page_and_offset_select_the_same_slice(api: Api) -> None:
    _, by_offset = await api("GET", RULES, params={"limit": 4, "offset": 4})
    _, by_page = await api("GET", RULES, params={"limit": 4, "page": 2})
    assert by_page == by_offset
    assert len(by_page["items"]) == 4
    status, body = await api("GET", RULES, params={"page": 2, "offset": 4})
    assert status == 400
    assert "page" in body["message"]
    status, body = await api("GET", RULES, params={"limit": 1001})
    assert status == 400
    assert "limit" in body["message"]


async def test_create_rule_with_the_quickstart_body(api: Api) -> None:
    status, rule = await api("POST", RULES, json=QUICKSTART_RULE)
    assert status == 200
    assert {k: rule[k] for k in QUICKSTART_RULE if k != "alert_type_uuid"} == {
        k: v for k, v in QUICKSTART_RULE.items() if k != "alert_type_uuid"
    }
    assert rule["alert_type"]["uuid"] == QUICKSTART_RULE["alert_type_uuid"]
    assert rule["community_uuid"] == api.emu.state.communities[0]["uuid"]
    status, got = await api("GET", f"{RULES}/{rule['uuid']}")
    assert status == 200
    assert got == rule
    _, found = await api("GET", RULES, params={"match[name]": "My custom SIGMA rule"})
    assert [r["uuid"] for r in found["items"]] == [rule["uuid"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        *[({k: None}, k) for k in QUICKSTART_RULE],  # None = drop the field
        ({"name": "abc"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"type": "yara"}, "type"),
        ({"severity": 101}, "severity"),
        ({"severity": "high"}, "severity"),
        ({"effort": 0}, "effort"),
        ({"effort": 5}, "effort"),
        ({"alert_type_uuid": "00000000-0000-4000-8000-000000000000"}, "alert_type_uuid"),
        ({"alert_type_uuid": "nope"}, "alert_type_uuid"),
        ({"enabled": "yes"}, "enabled"),
        ({"description": "d" * 1001}, "description"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_create_rule_validation_names_the_field(
    api: Api, change: dict[str, Any], field: str
) -> None:
    body = {**QUICKSTART_RULE, **change}
    body = {k: v for k, v in body.items() if v is not None}
    status, answer = await api("POST", RULES, json=body)
    assert status == 400
    assert field in answer["message"]


async def test_update_enable_disable_and_delete_a_custom_rule(api: Api) -> None:
    _, rule = await api("POST", RULES, json=QUICKSTART_RULE)
    path = f"{RULES}/{rule['uuid']}"
    status, updated = await api("PUT", path, json={"severity": 70, "description": "Changed"})
    assert status == 200
    assert updated["severity"] == 70
    assert updated["description"] == "Changed"
    status, body = await api("PUT", path, json={"effort": 9})
    assert status == 400
    assert "effort" in body["message"]
    status, disabled = await api("PUT", path + "/disabled")
    assert status == 200
    assert disabled["enabled"] is False
    status, enabled = await api("PUT", path + "/enabled")
    assert enabled["enabled"] is True
    status, _ = await api("DELETE", path)
    assert status == 204
    status, body = await api("GET", path)
    assert status == 404
    assert rule["uuid"] in body["message"]


async def test_catalog_rules_toggle_but_cannot_be_edited_or_deleted(api: Api) -> None:
    _, body = await api("GET", RULES, params={"limit": 1})
    rule = body["items"][0]
    path = f"{RULES}/{rule['uuid']}"
    status, answer = await api("DELETE", path)
    assert status == 400
    assert "enabled or disabled" in answer["message"]
    status, _ = await api("PUT", path, json={"severity": 1})
    assert status == 400
    status, toggled = await api("PUT", path + "/disabled")
    assert status == 200
    assert toggled["enabled"] is False


async def test_rules_need_their_permissions(api: Api) -> None:
    reader = api.emu.add_api_key(permissions=["View rules"])
    status, _ = await api("GET", RULES, key=reader)
    assert status == 200
    status, body = await api("POST", RULES, key=reader, json=QUICKSTART_RULE)
    assert status == 403
    assert "Manage rules" in body["message"]


async def test_custom_rules_are_private_to_their_community(api: Api) -> None:
    main, sub = (c["uuid"] for c in api.emu.state.communities)
    sub_key = api.emu.add_api_key(permissions=["View rules", "Manage rules"], community_uuid=sub)
    _, main_rule = await api("POST", RULES, json=QUICKSTART_RULE)
    status, _ = await api("GET", f"{RULES}/{main_rule['uuid']}", key=sub_key)
    assert status == 404
    status, body = await api(
        "POST", RULES, key=sub_key, json={**QUICKSTART_RULE, "community_uuid": main}
    )
    assert status == 403
    assert "community_uuid" in body["message"]
    status, sub_rule = await api("POST", RULES, key=sub_key, json=QUICKSTART_RULE)
    assert status == 200
    assert sub_rule["community_uuid"] == sub
    status, _ = await api("GET", f"{RULES}/{sub_rule['uuid']}")  # the parent sees it
    assert status == 200


# --- communities, roles, invitations, identity -------------------------------------------------


async def test_communities_and_their_roles(api: Api) -> None:
    status, body = await api("GET", "/v1/communities")
    assert status == 200
    assert body["total"] == 2
    main = body["items"][0]
    assert main["is_parent"] is True
    status, got = await api("GET", f"/v1/communities/{main['uuid']}")
    assert status == 200
    assert got == main
    status, roles = await api("GET", f"/v1/communities/{main['uuid']}/roles")
    assert status == 200
    assert [r["name"] for r in roles["items"]] == [t[0] for t in cat.ROLE_TEMPLATES]
    assert all(r["community_uuid"] == main["uuid"] for r in roles["items"])
    status, body = await api("GET", "/v1/communities/00000000-0000-4000-8000-000000000000")
    assert status == 404
    status, _ = await api("GET", "/v1/communities/00000000-0000-4000-8000-000000000000/roles")
    assert status == 404


async def test_invitation_with_the_quickstart_body(api: Api) -> None:
    main = api.emu.state.communities[0]["uuid"]
    _, roles = await api("GET", f"/v1/communities/{main}/roles")
    role = roles["items"][1]["uuid"]
    body = {"email": "john.doe@example.com", "communities": {main: [role]}}
    status, invitation = await api("POST", "/v1/invitations", json=body)
    assert status == 200
    assert invitation["email"] == "john.doe@example.com"
    assert invitation["communities"] == {main: [role]}
    _, listed = await api("GET", "/v1/invitations")
    assert [i["uuid"] for i in listed["items"]] == [invitation["uuid"]]


@pytest.mark.parametrize(
    ("mutate", "status", "needle"),
    [
        (lambda b, c, r: {**b, "email": "not-an-email"}, 400, "email"),
        (lambda b, c, r: {"communities": b["communities"]}, 400, "email"),
        (lambda b, c, r: {**b, "communities": {}}, 400, "communities"),
        (lambda b, c, r: {**b, "communities": {"nope": [r]}}, 400, "not a UUID"),
        (
            lambda b, c, r: {**b, "communities": {"00000000-0000-4000-8000-000000000000": [r]}},
            404,
            "00000000-0000-4000-8000-000000000000",
        ),
        (lambda b, c, r: {**b, "communities": {c: []}}, 400, "role"),
        (lambda b, c, r: {**b, "communities": {c: ["nope"]}}, 400, "nope"),
    ],
)
async def test_invitation_validation(api: Api, mutate: Any, status: int, needle: str) -> None:
    main = api.emu.state.communities[0]["uuid"]
    _, roles = await api("GET", f"/v1/communities/{main}/roles")
    role = roles["items"][0]["uuid"]
    body = {"email": "john.doe@example.com", "communities": {main: [role]}}
    got_status, answer = await api("POST", "/v1/invitations", json=mutate(body, main, role))
    assert got_status == status
    assert needle in answer["message"]


async def test_a_role_of_another_community_is_rejected(api: Api) -> None:
    main, sub = (c["uuid"] for c in api.emu.state.communities)
    _, sub_roles = await api("GET", f"/v1/communities/{sub}/roles")
    body = {"email": "jane@example.com", "communities": {main: [sub_roles["items"][0]["uuid"]]}}
    status, answer = await api("POST", "/v1/invitations", json=body)
    assert status == 400
    assert main in answer["message"]


@pytest.mark.parametrize("path", ["/v1/me", "/v1/auth/validate", "/v1/apiauth/auth/validate"])
async def test_identity_endpoints_never_echo_the_key(api: Api, path: str) -> None:
    key = api.emu.add_api_key(permissions=[])  # any valid key may ask who it is
    async with api.session.get(
        api.emu.base_url + path, headers={"Authorization": f"Bearer {key}"}
    ) as resp:
        assert resp.status == 200
        text = await resp.text()
    assert key not in text
    assert api.emu.key_info(key).uuid in text
    async with api.session.get(
        api.emu.base_url + path, headers={"Authorization": "Bearer wrong"}
    ) as resp:
        assert resp.status == 401


# --- intakes and entities ----------------------------------------------------------------------


async def test_intakes_list_filter_get_and_create(api: Api) -> None:
    status, body = await api("GET", "/v1/sic/conf/intakes")
    assert status == 200
    assert body["total"] == len(api.emu.state.intakes)
    first = body["items"][0]
    assert first["entity"]["uuid"] == first["entity_uuid"]
    status, named = await api("GET", "/v1/sic/conf/intakes", params={"match[name]": first["name"]})
    assert [i["uuid"] for i in named["items"]] == [first["uuid"]]
    status, got = await api("GET", f"/v1/sic/conf/intakes/{first['uuid']}")
    assert got == first

    new = {
        "name": "My syslog",
        "entity_uuid": first["entity_uuid"],
        "format_uuid": first["format_uuid"],
    }
    status, created = await api("POST", "/v1/sic/conf/intakes", json=new)
    assert status == 200
    assert created["name"] == "My syslog"
    assert len(created["intake_key"]) == 32
    _, after = await api("GET", "/v1/sic/conf/intakes")
    assert after["total"] == body["total"] + 1

    status, answer = await api(
        "POST",
        "/v1/sic/conf/intakes",
        json={**new, "entity_uuid": "00000000-0000-4000-8000-000000000000"},
    )
    assert status == 400
    assert "entity_uuid" in answer["message"]
    status, answer = await api("POST", "/v1/sic/conf/intakes", json={"name": "x"})
    assert status == 400
    assert "entity_uuid" in answer["message"]
    status, _ = await api("GET", "/v1/sic/conf/intakes/00000000-0000-4000-8000-000000000000")
    assert status == 404


async def test_entities_list_and_create(api: Api) -> None:
    status, body = await api("GET", "/v1/sic/conf/entities")
    assert status == 200
    assert body["total"] == 3
    assert sum(e["number_of_intakes"] for e in body["items"]) == len(api.emu.state.intakes)
    status, created = await api(
        "POST", "/v1/sic/conf/entities", json={"name": "Branch Nice", "entity_id": "BR-NCE"}
    )
    assert status == 200
    assert created["number_of_intakes"] == 0
    status, got = await api("GET", f"/v1/sic/conf/entities/{created['uuid']}")
    assert got == created
    status, answer = await api(
        "POST", "/v1/sic/conf/entities", json={"name": "Branch Nice", "entity_id": "X"}
    )
    assert status == 400
    assert "Branch Nice" in answer["message"]


async def test_intakes_need_view_intakes(api: Api) -> None:
    key = api.emu.add_api_key(permissions=["View alerts"])
    status, answer = await api("GET", "/v1/sic/conf/intakes", key=key)
    assert status == 403
    assert "View intakes" in answer["message"]


# --- assets v2 ---------------------------------------------------------------------------------

ASSETS = "/v2/asset-management/assets"


async def test_assets_list_with_plain_parameters(api: Api) -> None:
    status, body = await api("GET", ASSETS)
    assert status == 200
    assert len(body["items"]) == 20
    assert body["total"] == 24
    status, hosts = await api("GET", ASSETS, params={"type": "host", "limit": 100})
    assert hosts["items"]
    assert all(a["type"] == "host" for a in hosts["items"])
    name = hosts["items"][0]["name"]
    status, found = await api("GET", ASSETS, params={"search": name.lower()})
    assert name in [a["name"] for a in found["items"]]
    status, critical = await api("GET", ASSETS, params={"criticality": "80,100", "limit": 100})
    assert all(80 <= a["criticality"] <= 100 for a in critical["items"])
    status, answer = await api("GET", ASSETS, params={"limit": 101})
    assert status == 400
    assert "limit" in answer["message"]


async def test_asset_create_get_update_revoke_delete(api: Api) -> None:
    body = {
        "name": "web-01",
        "type": "host",
        "category": "server",
        "criticality": 70,
        "atoms": {"ipv4": ["10.0.0.8"], "fqdn": ["web-01.corp.example"]},
        "tags": ["prod"],
    }
    status, asset = await api("POST", ASSETS, json=body)
    assert status == 200
    assert asset["nb_atoms"] == 2
    assert asset["updated_at"] is None
    assert asset["created_at"].endswith("Z")
    path = f"{ASSETS}/{asset['uuid']}"
    status, got = await api("GET", path)
    assert got == asset
    status, updated = await api("PUT", path, json={"criticality": 10, "reviewed": True})
    assert status == 200
    assert updated["criticality"] == 10
    assert updated["reviewed_at"] is not None
    assert updated["updated_at"] is not None
    status, revoked = await api("PUT", path + "/revoke")
    assert revoked["revoked"] is True
    _, listed = await api("GET", ASSETS, params={"uuids": asset["uuid"]})
    assert listed["total"] == 0  # revoked assets are hidden by default
    _, listed = await api("GET", ASSETS, params={"uuids": asset["uuid"], "include_revoked": "true"})
    assert listed["total"] == 1
    status, _ = await api("DELETE", path)
    assert status == 204
    status, answer = await api("GET", path)
    assert status == 404
    assert asset["uuid"] in answer["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "host"}, "name"),
        ({"name": "x", "type": "host"}, "name"),
        ({"name": "web", "type": "printer"}, "type"),
        ({"name": "web", "type": "host", "criticality": 101}, "criticality"),
        ({"name": "web", "type": "host", "atoms": {"ipv4": "10.0.0.1"}}, "atoms.ipv4"),
        ({"name": "web", "type": "host", "source": "magic"}, "source"),
        ({"name": "web", "type": "host", "colour": "red"}, "colour"),
    ],
)
async def test_asset_validation_names_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    status, answer = await api("POST", ASSETS, json=body)
    assert status == 400
    assert field in answer["message"]


async def test_assets_need_their_permissions(api: Api) -> None:
    key = api.emu.add_api_key(permissions=["View assets"])
    status, _ = await api("GET", ASSETS, key=key)
    assert status == 200
    status, answer = await api("POST", ASSETS, key=key, json={"name": "web", "type": "host"})
    assert status == 403
    assert "Manage assets" in answer["message"]
