"""The emulated alerts and cases, exercised over HTTP against a running emulator."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _emulator_api import Api

from sekoia_async.testing import SekoiaEmulator
from sekoia_async.testing._domains import _catalog as cat
from sekoia_async.testing._domains._stores import urgency_display

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with SekoiaEmulator(seed=0) as emu, aiohttp.ClientSession() as session:
        yield Api(emu, session)


async def all_alerts(api: Api, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        status, body = await api(
            "GET", "/v1/sic/alerts", params={**(params or {}), "limit": 100, "offset": len(items)}
        )
        assert status == 200, body
        items += body["items"]
        if not body["has_more"]:
            return items


async def alert_in(api: Api, status_name: str) -> dict[str, Any]:
    status, body = await api("GET", "/v1/sic/alerts", params={"match[status_name]": status_name})
    assert status == 200, body
    assert body["items"], f"no seeded alert is {status_name}"
    item: dict[str, Any] = body["items"][0]
    return item


# --- listing -----------------------------------------------------------------------------------


async def test_list_defaults_to_20_newest_first_with_unix_int_timestamps(api: Api) -> None:
    status, body = await api("GET", "/v1/sic/alerts")
    assert status == 200
    assert len(body["items"]) == 20
    assert body["total"] == 120
    assert body["has_more"] is True
    created = [a["created_at"] for a in body["items"]]
    assert all(isinstance(c, int) for c in created)
    assert created == sorted(created, reverse=True)
    first = body["items"][0]
    assert first["short_id"].startswith("AL")
    assert len(first["short_id"]) == 12
    assert isinstance(first["first_seen_at"], str)
    assert first["first_seen_at"].endswith("Z")
    assert first["urgency"]["display"] == urgency_display(first["urgency"]["value"])


async def test_limit_above_100_is_a_400_naming_limit(api: Api) -> None:
    status, body = await api("GET", "/v1/sic/alerts", params={"limit": 101})
    assert status == 400
    assert "limit" in body["message"]
    status, body = await api("GET", "/v1/sic/alerts", params={"limit": 100})
    assert status == 200
    assert len(body["items"]) == 100


async def test_paging_visits_every_alert_once(api: Api) -> None:
    items = await all_alerts(api)
    assert len(items) == 120
    assert len({a["uuid"] for a in items}) == 120
    assert all(a["stix"] == {} for a in items)  # filled only with ?stix=true
    status, body = await api("GET", "/v1/sic/alerts", params={"offset": 500})
    assert status == 200
    assert body == {"items": [], "has_more": False, "total": 120}


async def test_match_is_or_within_a_field_and_count_agrees(api: Api) -> None:
    params = {"match[status_name]": "Pending,Ongoing"}
    items = await all_alerts(api, params)
    assert items
    assert {a["status"]["name"] for a in items} <= {"Pending", "Ongoing"}
    status, count = await api("GET", "/v1/sic/alerts/count", params=params)
    assert status == 200
    assert count == {"total": len(items), "has_more": False}


async def test_match_fields_are_anded_and_nomatch_excludes(api: Api) -> None:
    every = await all_alerts(api)
    rule = every[0]["rule"]["name"]
    entity = every[0]["entity"]["name"]
    both = await all_alerts(api, {"match[rule_name]": rule, "match[entity_name]": entity})
    expected = {
        a["uuid"] for a in every if a["rule"]["name"] == rule and a["entity"]["name"] == entity
    }
    assert {a["uuid"] for a in both} == expected
    without = await all_alerts(api, {"nomatch[rule_name]": rule})
    assert all(a["rule"]["name"] != rule for a in without)
    assert len(without) + sum(a["rule"]["name"] == rule for a in every) == len(every)


async def test_unknown_filter_field_is_a_400_naming_it(api: Api) -> None:
    status, body = await api("GET", "/v1/sic/alerts", params={"match[colour]": "blue"})
    assert status == 400
    assert "match[colour]" in body["message"]


async def test_date_filter_accepts_relative_times_and_rejects_garbage(api: Api) -> None:
    items = await all_alerts(api, {"date[created_at]": "-7d,now"})
    now = time.time()
    assert items
    assert all(now - 7 * 86400 - 5 <= a["created_at"] <= now + 5 for a in items)
    assert len(items) < 120  # seeded alerts span 30 days
    status, body = await api("GET", "/v1/sic/alerts", params={"date[created_at]": "yesterday"})
    assert status == 400
    assert "date[created_at]" in body["message"]


async def test_range_filter_on_urgency(api: Api) -> None:
    items = await all_alerts(api, {"range[urgency]": "80,100"})
    assert items
    assert all(80 <= a["urgency"]["value"] <= 100 for a in items)
    assert all(a["urgency"]["display"] == "Urgent" for a in items)


async def test_sort_by_urgency_ascending(api: Api) -> None:
    status, body = await api(
        "GET", "/v1/sic/alerts", params={"sort": "urgency", "direction": "asc", "limit": 100}
    )
    assert status == 200
    values = [a["urgency"]["value"] for a in body["items"]]
    assert values == sorted(values)
    status, body = await api("GET", "/v1/sic/alerts", params={"sort": "colour"})
    assert status == 400
    assert "sort" in body["message"]


async def test_with_count_false_omits_total(api: Api) -> None:
    status, body = await api("GET", "/v1/sic/alerts", params={"with_count": "false"})
    assert status == 200
    assert "total" not in body
    assert body["has_more"] is True


async def test_same_seed_same_data_other_seed_other_data(api: Api) -> None:
    _, first = await api("GET", "/v1/sic/alerts")
    async with SekoiaEmulator(seed=0) as twin, SekoiaEmulator(seed=1) as other:
        for emu, same in ((twin, True), (other, False)):
            _, body = await Api(emu, api.session)("GET", "/v1/sic/alerts")
            ids = [a["short_id"] for a in body["items"]]
            assert (ids == [a["short_id"] for a in first["items"]]) is same


# --- one alert ---------------------------------------------------------------------------------


async def test_get_by_uuid_or_short_id_and_404_for_unknown(api: Api) -> None:
    alert = (await all_alerts(api))[5]
    status, by_uuid = await api("GET", f"/v1/sic/alerts/{alert['uuid']}")
    assert status == 200
    status, by_short = await api("GET", f"/v1/sic/alerts/{alert['short_id']}")
    assert status == 200
    assert by_uuid == by_short
    assert {"comments", "history", "countermeasures", "similarity_strategy"} <= set(by_uuid)
    assert by_uuid["number_of_total_comments"] == len(by_uuid["comments"])
    status, body = await api("GET", "/v1/sic/alerts/ALnotanalert")
    assert status == 404
    assert "ALnotanalert" in body["message"]


async def test_detail_options_drop_parts_and_add_stix(api: Api) -> None:
    alert = await alert_in(api, "Pending")
    status, body = await api(
        "GET",
        f"/v1/sic/alerts/{alert['uuid']}",
        params={"comments": "false", "history": "false", "stix": "true"},
    )
    assert status == 200
    assert "comments" not in body
    assert "history" not in body
    assert body["stix"]["type"] == "bundle"


async def test_patch_updates_fields_and_validates(api: Api) -> None:
    alert = await alert_in(api, "Pending")
    path = f"/v1/sic/alerts/{alert['uuid']}"
    assignee = "8b1fd1a6-0c84-4b87-9d6e-0c3b0c3d1e2f"
    status, body = await api(
        "PATCH", path, json={"urgency": 90, "title": "Renamed", "assignee": assignee}
    )
    assert status == 200
    assert body["urgency"]["value"] == 90
    assert body["urgency"]["display"] == "Urgent"
    assert body["title"] == "Renamed"
    assert body["updated_by_type"] == "apikey"
    assert body["updated_at"] >= alert["updated_at"]
    found = await all_alerts(api, {"match[assignee]": assignee})
    assert [a["uuid"] for a in found] == [alert["uuid"]]

    status, body = await api("PATCH", path, json={"urgency": 101})
    assert status == 400
    assert "urgency" in body["message"]
    status, body = await api("PATCH", path, json={"colour": "blue"})
    assert status == 400
    assert "colour" in body["message"]
    status, body = await api("PATCH", path, json={"alert_type_category": "malware"})
    assert status == 400
    assert "alert_type_value" in body["message"]


async def test_patch_with_a_bad_json_body_is_a_400(api: Api) -> None:
    alert = await alert_in(api, "Pending")
    async with api.session.patch(
        f"{api.emu.base_url}/v1/sic/alerts/{alert['uuid']}",
        data=b"{not json",
        headers={"Authorization": f"Bearer {api.emu.api_key}"},
    ) as resp:
        assert resp.status == 400
        assert "JSON" in (await resp.json())["message"]


async def test_delete_alert(api: Api) -> None:
    alert = await alert_in(api, "Closed")
    status, _ = await api("DELETE", f"/v1/sic/alerts/{alert['uuid']}")
    assert status == 204
    status, _ = await api("GET", f"/v1/sic/alerts/{alert['uuid']}")
    assert status == 404
    _, count = await api("GET", "/v1/sic/alerts/count")
    assert count["total"] == 119


# --- workflow ----------------------------------------------------------------------------------


def names(actions: dict[str, Any]) -> list[str]:
    return [a["name"] for a in actions["actions"]]


async def test_legacy_status_machine_with_409_on_invalid_transitions(api: Api) -> None:
    alert = await alert_in(api, "Pending")
    path = f"/v1/sic/alerts/{alert['uuid']}/workflow"
    status, body = await api("GET", path)
    assert status == 200
    assert names(body) == ["Acknowledge", "Reject"]

    status, body = await api("PATCH", path, json={"action_uuid": cat.CLOSE})
    assert status == 409
    assert "Pending" in body["message"]
    assert "Acknowledge" in body["message"]

    steps = [(cat.ACKNOWLEDGE, "Acknowledged"), (cat.VALIDATE, "Ongoing"), (cat.CLOSE, "Closed")]
    for action, new_status in steps:
        status, body = await api("PATCH", path, json={"action_uuid": action, "comment": "step"})
        assert status == 200, body
        _, detail = await api("GET", f"/v1/sic/alerts/{alert['uuid']}")
        assert detail["status"]["name"] == new_status
        assert detail["status"]["uuid"] == cat.ACTION_TARGET[action]
        assert detail["history"][0]["alert"] == {
            "status": new_status,
            "previous_status": {"Acknowledged": "Pending", "Ongoing": "Acknowledged"}.get(
                new_status, "Ongoing"
            ),
        }
        assert detail["history"][0]["history_comments"][0]["content"] == "step"
    assert names(body) == []
    assert isinstance(detail["time_to_acknowledge"], int)
    assert isinstance(detail["time_to_resolve"], int)
    assert detail["number_of_total_comments"] == alert["number_of_total_comments"] + 3

    status, body = await api("PATCH", path, json={"action_uuid": cat.REJECT})
    assert status == 409
    assert "final status" in body["message"]


async def test_reject_is_allowed_from_each_open_status(api: Api) -> None:
    for status_name in ("Pending", "Acknowledged", "Ongoing"):
        alert = await alert_in(api, status_name)
        path = f"/v1/sic/alerts/{alert['uuid']}/workflow"
        status, _ = await api("PATCH", path, json={"action_uuid": cat.REJECT})
        assert status == 200
        _, detail = await api("GET", f"/v1/sic/alerts/{alert['uuid']}")
        assert detail["status"]["name"] == "Rejected"


async def test_workflow_accepts_a_legacy_status_uuid_and_rejects_unknown_ids(api: Api) -> None:
    alert = await alert_in(api, "Pending")
    path = f"/v1/sic/alerts/{alert['uuid']}/workflow"
    status, _ = await api("PATCH", path, json={"action_uuid": cat.ONGOING})
    assert status == 409  # Pending cannot jump to Ongoing
    status, body = await api("PATCH", path, json={"action_uuid": cat.ACKNOWLEDGED})
    assert status == 200
    assert names(body) == ["Validate", "Reject"]
    status, body = await api("PATCH", path, json={"action_uuid": "not-a-uuid"})
    assert status == 400
    assert "action_uuid" in body["message"]
    status, body = await api(
        "PATCH", path, json={"action_uuid": "00000000-0000-4000-8000-000000000000"}
    )
    assert status == 400
    assert "not a known action" in body["message"]
    status, body = await api("PATCH", path, json={})
    assert status == 400
    assert "action_uuid is required" in body["message"]


# --- comments ----------------------------------------------------------------------------------


async def test_comments_add_and_list(api: Api) -> None:
    alert = await alert_in(api, "Pending")
    path = f"/v1/sic/alerts/{alert['uuid']}/comments"
    status, before = await api("GET", path)
    assert status == 200
    status, comment = await api("POST", path, json={"content": "Looks benign", "author": "Joe"})
    assert status == 200
    assert comment["content"] == "Looks benign"
    assert comment["author"] == "Joe"
    assert isinstance(comment["date"], int)
    assert comment["created_by_type"] == "apikey"
    status, after = await api("GET", path)
    assert after["total"] == before["total"] + 1
    assert after["items"][0]["uuid"] == comment["uuid"]  # newest first
    _, detail = await api("GET", f"/v1/sic/alerts/{alert['uuid']}")
    assert detail["number_of_total_comments"] == after["total"]
    assert detail["history"][0]["entry_type"] == "comment"

    status, body = await api("POST", path, json={"content": "x", "author": "a" * 33})
    assert status == 400
    assert "author" in body["message"]
    status, body = await api("POST", path, json={})
    assert status == 400
    assert "content" in body["message"]
    status, body = await api("GET", path, params={"limit": 101})
    assert status == 400


# --- permissions and communities ---------------------------------------------------------------


async def test_permissions_are_checked_per_endpoint(api: Api) -> None:
    reader = api.emu.add_api_key(permissions=["View alerts"])
    alert = await alert_in(api, "Pending")
    status, _ = await api("GET", "/v1/sic/alerts", key=reader)
    assert status == 200
    status, body = await api(
        "PATCH",
        f"/v1/sic/alerts/{alert['uuid']}/workflow",
        key=reader,
        json={"action_uuid": cat.ACKNOWLEDGE},
    )
    assert status == 403
    assert "Update alert status" in body["message"]
    status, body = await api("GET", "/v1/sic/cases", key=reader)
    assert status == 403
    assert "View cases" in body["message"]


async def test_a_sub_community_key_sees_only_its_alerts(api: Api) -> None:
    main, sub = (c["uuid"] for c in api.emu.state.communities)
    every = await all_alerts(api)
    assert {a["community_uuid"] for a in every} == {main, sub}  # the parent sees both
    sub_key = api.emu.add_api_key(permissions=["View alerts"], community_uuid=sub)
    status, body = await api("GET", "/v1/sic/alerts", key=sub_key, params={"limit": 100})
    assert status == 200
    assert body["total"] == sum(a["community_uuid"] == sub for a in every)
    assert {a["community_uuid"] for a in body["items"]} == {sub}
    hidden = next(a for a in every if a["community_uuid"] == main)
    status, _ = await api("GET", f"/v1/sic/alerts/{hidden['uuid']}", key=sub_key)
    assert status == 404


# --- cases -------------------------------------------------------------------------------------


async def test_case_crud(api: Api) -> None:
    status, body = await api("POST", "/v1/sic/cases", json={"description": "no title"})
    assert status == 400
    assert "title" in body["message"]
    status, case = await api(
        "POST",
        "/v1/sic/cases",
        json={"title": "Investigate VPN", "priority": "high", "tags": ["vpn"]},
    )
    assert status == 200
    assert case["status"] == "opened"
    assert case["priority"] == "high"
    assert case["short_id"].startswith("CA")
    assert case["community_uuid"] == api.emu.state.communities[0]["uuid"]
    assert isinstance(case["created_at"], str)
    assert "T" in case["created_at"]
    assert case["number_of_alerts"] == 0
    assert case["first_seen_at"] is None

    path = f"/v1/sic/cases/{case['uuid']}"
    status, got = await api("GET", path)
    assert status == 200
    assert got == case
    status, patched = await api("PATCH", path, json={"status_name": "closed", "title": "Done"})
    assert status == 200
    assert patched["status"] == "closed"
    assert patched["title"] == "Done"
    assert patched["status_uuid"] == cat.CASE_STATUSES["closed"]
    status, body = await api("PATCH", path, json={"status_name": "frozen"})
    assert status == 400
    assert "status_name" in body["message"]
    status, body = await api("PATCH", path, json={"description": ""})
    assert status == 400
    assert "description" in body["message"]
    status, body = await api("PATCH", path, json={"priority": "urgent"})
    assert status == 400
    assert "priority" in body["message"]

    status, listed = await api("GET", "/v1/sic/cases", params={"match[short_id]": case["short_id"]})
    assert status == 200
    assert [c["uuid"] for c in listed["items"]] == [case["uuid"]]

    status, _ = await api("DELETE", path)
    assert status == 204
    status, body = await api("GET", path)
    assert status == 404
    assert case["uuid"] in body["message"]


async def test_case_alerts_replace_and_add(api: Api) -> None:
    main = api.emu.state.communities[0]["uuid"]
    free = await all_alerts(api, {"is_assigned_to_case": "false", "match[community_uuid]": main})
    a, b, c = free[:3]
    _, case = await api("POST", "/v1/sic/cases", json={"title": "Linked"})
    path = f"/v1/sic/cases/{case['uuid']}/alerts"

    status, body = await api("POST", path, json={"alerts": [a["uuid"], b["short_id"]]})
    assert status == 200
    assert body == {"status": "updated"}
    status, body = await api("PATCH", path, json={"alerts": [c["uuid"]]})
    assert status == 200
    status, listed = await api("GET", path)
    assert status == 200
    assert {x["uuid"] for x in listed["items"]} == {a["uuid"], b["uuid"], c["uuid"]}
    assert listed["total"] == 3
    assert listed["has_more"] is False

    # POST replaces the whole set.
    status, _ = await api("POST", path, json={"alerts": [b["uuid"]]})
    _, listed = await api("GET", path)
    assert [x["uuid"] for x in listed["items"]] == [b["uuid"]]
    _, detail = await api("GET", f"/v1/sic/cases/{case['uuid']}")
    assert detail["number_of_alerts"] == 1
    assert detail["first_seen_at"] == b["first_seen_at"]

    # The alert knows its case, both in its detail and through the case filters.
    _, alert = await api("GET", f"/v1/sic/alerts/{b['uuid']}", params={"cases": "true"})
    assert [x["short_id"] for x in alert["cases"]] == [case["short_id"]]
    found = await all_alerts(api, {"match[case_short_id]": case["short_id"]})
    assert [x["uuid"] for x in found] == [b["uuid"]]
    _, by_alert = await api("GET", "/v1/sic/cases", params={"match[alert_uuid]": b["uuid"]})
    assert case["uuid"] in [x["uuid"] for x in by_alert["items"]]

    status, body = await api("PATCH", path, json={"alerts": ["ALdoesnotexist"]})
    assert status == 404
    assert "ALdoesnotexist" in body["message"]
    status, body = await api("PATCH", path, json={"alerts": "nope"})
    assert status == 400
    assert "alerts" in body["message"]


async def test_case_rejects_an_alert_of_another_community(api: Api) -> None:
    sub = api.emu.state.communities[1]["uuid"]
    other = (await all_alerts(api, {"match[community_uuid]": sub}))[0]
    _, case = await api("POST", "/v1/sic/cases", json={"title": "Main only"})
    status, body = await api(
        "PATCH", f"/v1/sic/cases/{case['uuid']}/alerts", json={"alerts": [other["uuid"]]}
    )
    assert status == 400
    assert "another community" in body["message"]


async def test_case_comments(api: Api) -> None:
    _, case = await api("POST", "/v1/sic/cases", json={"title": "Commented"})
    path = f"/v1/sic/cases/{case['uuid']}/comments"
    status, comment = await api("POST", path, json={"content": "first"})
    assert status == 200
    assert comment["content"] == "first"
    assert isinstance(comment["created_at"], str)
    await api("POST", path, json={"content": "second"})
    status, listed = await api("GET", path, params={"direction": "asc"})
    assert status == 200
    assert listed["total"] == 2
    assert [c["content"] for c in listed["items"]] == ["first", "second"]
    _, detail = await api("GET", f"/v1/sic/cases/{case['uuid']}")
    assert detail["number_of_comments"] == 2
    status, body = await api("POST", path, json={"content": ""})
    assert status == 400
    assert "content" in body["message"]


async def test_seeded_cases_list_and_filters(api: Api) -> None:
    status, body = await api("GET", "/v1/sic/cases")
    assert status == 200
    assert body["total"] == 12
    created = [c["created_at"] for c in body["items"]]
    assert created == sorted(created, reverse=True)
    assert all("number_of_alerts" not in c for c in body["items"])  # not in CasesSchema
    for case in body["items"]:
        _, detail = await api("GET", f"/v1/sic/cases/{case['uuid']}")
        assert detail["number_of_alerts"] >= 1
    status, high = await api("GET", "/v1/sic/cases", params={"match[priority]": "high"})
    assert status == 200
    assert all(c["priority"] == "high" for c in high["items"])
    status, body = await api("GET", "/v1/sic/cases", params={"limit": 101})
    assert status == 400
    assert "limit" in body["message"]


async def test_case_events_attach_and_detach(api: Api) -> None:
    _, case = await api("POST", "/v1/sic/cases", json={"title": "With events"})
    events = f"/v1/sic/cases/{case['uuid']}/events"
    status, _ = await api("POST", events, json={"event_ids": ["ev-1", "ev-2", "ev-3"]})
    assert status == 204
    status, _ = await api("DELETE", f"{events}/ev-1")
    assert status == 204
    status, body = await api("DELETE", f"{events}/ev-1")
    assert status == 404
    assert "ev-1" in body["message"]
    status, _ = await api("DELETE", events, json={"event_ids": ["ev-2"]})
    assert status == 204
    status, _ = await api("DELETE", f"{events}/ev-2")
    assert status == 404
    status, _ = await api("DELETE", f"{events}/ev-3")
    assert status == 204
    status, body = await api("POST", events, json={"event_ids": []})
    assert status == 400
    assert "event_ids" in body["message"]
    status, body = await api("POST", events, json={"event_ids": [str(i) for i in range(1001)]})
    assert status == 400
    status, _ = await api("POST", "/v1/sic/cases/CAunknown000/events", json={"event_ids": ["ev-1"]})
    assert status == 404
