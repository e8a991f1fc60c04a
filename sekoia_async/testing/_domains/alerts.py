"""Emulated alerts: ``/v1/sic/alerts`` as Sekoia's SIC OpenAPI spec describes it.

Alerts carry ``created_at``/``updated_at`` as Unix integer seconds (the real API's quirk), go
through the legacy status machine (Pending -> Acknowledge/Reject; Acknowledged -> Validate/Reject;
Ongoing -> Close/Reject; 409 otherwise) and keep comments and a history. Fields the spec types as
non-nullable are left out rather than sent as null when they have no value (e.g. ``assignee``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .._routing import (
    ApiError,
    EmulatorState,
    Route,
    get_key,
    get_state,
    json_response,
    paginate_params,
    read_json,
)
from . import _catalog as cat
from . import _workflow
from ._common import (
    Getter,
    apply_filters,
    community_scope,
    field_int,
    field_str,
    field_uuid,
    in_scope,
    new_uuid,
    parse_filters,
    principal,
    query_bool,
    query_sort,
    reject_unknown,
    require_object,
)
from ._stores import (
    AlertRecord,
    SicStore,
    history_entry,
    set_status_times,
    sic_store,
    urgency_display,
)

MAX_COMMENTS = 500  # per alert (sekoia-api.md §2.3)
# The spec gives some limit parameters a minimum but no maximum.
NO_MAXIMUM = 2**31 - 1

MATCH_FIELDS = (
    "community_uuid", "entity_name", "entity_uuid", "status_uuid", "status_name",
    "type_category", "type_value", "source", "target", "node", "stix_object", "rule_uuid",
    "rule_name", "detection_type", "short_id", "uuid", "title", "resolved_title", "asset_uuid",
    "urgency_display", "case_short_id", "assignee", "custom_status_uuid", "verdict_uuid",
    "custom_field",
)  # fmt: skip
NOMATCH_FIELDS = (
    "asset_uuid", "entity_uuid", "rule_uuid", "rule_name", "detection_type", "source", "target",
    "status_uuid", "stix_object", "type_value", "urgency_display", "assignee",
    "custom_status_uuid", "verdict_uuid",
)  # fmt: skip
SORT_FIELDS = (
    "created_at", "source", "target", "urgency", "entity", "type", "status", "rule_name",
    "updated_at", "similar",
)  # fmt: skip
_CASE_INSENSITIVE = frozenset(
    {"entity_name", "status_name", "rule_name", "title", "resolved_title", "urgency_display"}
)


def _getters(store: SicStore) -> dict[str, Getter]:
    def entity(key: str) -> Getter:
        return lambda r: (r.data["entity"] or {}).get(key)

    def case_short_ids(rec: AlertRecord) -> list[str]:
        return [store.cases[c].data["short_id"] for c in rec.case_uuids if c in store.cases]

    return {
        "community_uuid": lambda r: r.data["community_uuid"],
        "entity_name": entity("name"),
        "entity_uuid": entity("uuid"),
        "status_uuid": lambda r: r.data["status"]["uuid"],
        "status_name": lambda r: r.data["status"]["name"],
        "type_category": lambda r: r.data["alert_type"]["category"],
        "type_value": lambda r: r.data["alert_type"]["value"],
        "source": lambda r: r.data["source"],
        "target": lambda r: r.data["target"],
        "node": lambda r: [r.data["source"], r.data["target"]],
        "stix_object": lambda r: [o["id"] for o in r.data["ttps"] + r.data["adversaries"]],
        "rule_uuid": lambda r: r.data["rule"]["uuid"],
        "rule_name": lambda r: r.data["rule"]["name"],
        "detection_type": lambda r: r.data["detection_type"],
        "short_id": lambda r: r.data["short_id"],
        "uuid": lambda r: r.data["uuid"],
        "title": lambda r: r.data["title"],
        "resolved_title": lambda r: r.data["title"],
        "asset_uuid": lambda r: r.data["assets"],
        "urgency_display": lambda r: r.data["urgency"]["display"],
        "case_short_id": case_short_ids,
        "assignee": lambda r: r.data.get("assignee"),
        "custom_status_uuid": lambda r: r.data.get("custom_status_uuid"),
        "verdict_uuid": lambda r: r.data.get("verdict_uuid"),
        # The emulator defines no custom fields, so nothing matches one.
        "custom_field": lambda r: [],
        "created_at": lambda r: r.data["created_at"],
        "updated_at": lambda r: r.data["updated_at"],
        "urgency": lambda r: r.data["urgency"]["value"],
        "similar": lambda r: r.data["similar"],
    }


_SORT_KEYS: dict[str, Any] = {
    "created_at": lambda r: r.data["created_at"],
    "updated_at": lambda r: r.data["updated_at"],
    "source": lambda r: r.data["source"],
    "target": lambda r: r.data["target"],
    "urgency": lambda r: r.data["urgency"]["value"],
    "entity": lambda r: (r.data["entity"] or {}).get("name", ""),
    "type": lambda r: r.data["alert_type"]["value"],
    "status": lambda r: r.data["status"]["name"],
    "rule_name": lambda r: r.data["rule"]["name"],
    "similar": lambda r: r.data["similar"],
}


# --- rendering ---------------------------------------------------------------------------------


def render_alert(
    store: SicStore,
    rec: AlertRecord,
    *,
    stix: bool = False,
    cases: bool = False,
    detail: bool = False,
) -> dict[str, Any]:
    """The wire form of an alert: AlertsSchema items, or AlertDetailSchema with ``detail``."""
    out = dict(rec.data)
    out["number_of_total_comments"] = len(rec.comments)
    out["number_of_unseen_comments"] = sum(1 for c in rec.comments if c.get("unseen"))
    # The recorded responses carry an empty bundle unless ?stix=true asks for it.
    out["stix"] = {}
    if stix:
        out["stix"] = {
            "type": "bundle",
            "id": f"bundle--{rec.data['uuid']}",
            "objects": [
                {"type": o["type"], "id": o["id"], "name": o["name"]}
                for o in rec.data["ttps"] + rec.data["adversaries"]
            ],
        }
    if cases:
        out["cases"] = [_case_summary(store, c) for c in rec.case_uuids if c in store.cases]
    if detail:
        out["comments"] = [dict(c) for c in rec.comments]
        out["history"] = [dict(h) for h in reversed(rec.history)]
        out["countermeasures"] = []
        # Untyped in the spec; the recorded detail carries null.
        out["similarity_strategy"] = None
    return out


def _case_summary(store: SicStore, case_uuid: str) -> dict[str, Any]:
    case = store.cases[case_uuid].data
    summary = {
        "short_id": case["short_id"],
        "name": case["title"],
        "title": case["title"],
        "is_supplied": bool(case.get("is_supplied")),
        "manual": bool(case.get("manual")),
        "status": case["status"],
        "created_by": case["created_by"],
        "created_by_type": case["created_by_type"],
        "updated_at": case["updated_at"],
    }
    if case.get("custom_status_uuid"):
        summary["custom_status_uuid"] = case["custom_status_uuid"]
    return summary


# --- lookups -----------------------------------------------------------------------------------


def visible_alert(request: web.Request, ident: str) -> AlertRecord:
    """The alert with that uuid or short_id, if the key's communities include it; else 404."""
    state = get_state(request)
    rec = sic_store(state).find_alert(ident)
    if rec is None or not in_scope(
        community_scope(state, get_key(request)), rec.data["community_uuid"]
    ):
        raise ApiError(404, f"Unknown alert {ident}")
    return rec


def filtered_alerts(request: web.Request, records: list[AlertRecord]) -> list[AlertRecord]:
    """Apply the spec's alert filters (shared by the alert list, count and case alerts)."""
    state = get_state(request)
    store = sic_store(state)
    filters = parse_filters(
        request,
        state,
        match=MATCH_FIELDS,
        nomatch=NOMATCH_FIELDS,
        date=("created_at", "updated_at"),
        range_=("urgency", "similar"),
    )
    scope = community_scope(state, get_key(request))
    records = [r for r in records if in_scope(scope, r.data["community_uuid"])]
    if not query_bool(request, "visible", True):
        records = []  # every emulated alert is visible
    if "is_assigned_to_case" in request.query:
        assigned = query_bool(request, "is_assigned_to_case", False)
        records = [r for r in records if bool(r.case_uuids) is assigned]
    similar_to = request.query.get("similar_to")
    if similar_to:
        origin = store.find_alert(similar_to)
        if origin is None:
            raise ApiError(400, f"Invalid parameters: similar_to {similar_to} is not a known alert")
        records = [
            r
            for r in records
            if r.data["rule"]["uuid"] == origin.data["rule"]["uuid"] and r is not origin
        ]
    return apply_filters(records, filters, _getters(store), case_insensitive=_CASE_INSENSITIVE)


def _sorted(request: web.Request, records: list[AlertRecord]) -> list[AlertRecord]:
    field, descending = query_sort(request, SORT_FIELDS, default="created_at")
    assert field is not None
    key = _SORT_KEYS[field]
    return sorted(records, key=lambda r: (key(r), r.data["short_id"]), reverse=descending)


# --- handlers ----------------------------------------------------------------------------------


async def list_alerts(request: web.Request) -> web.Response:
    store = sic_store(get_state(request))
    limit, offset = paginate_params(request, default=20, maximum=100)
    stix = query_bool(request, "stix", False)
    cases = query_bool(request, "cases", False)
    with_count = query_bool(request, "with_count", True)
    records = _sorted(request, filtered_alerts(request, list(store.alerts.values())))
    page = records[offset : offset + limit]
    body: dict[str, Any] = {
        "items": [render_alert(store, r, stix=stix, cases=cases) for r in page],
        "has_more": offset + len(page) < len(records),
    }
    if with_count:
        body["total"] = len(records)
    return json_response(body)


async def count_alerts(request: web.Request) -> web.Response:
    store = sic_store(get_state(request))
    total = len(filtered_alerts(request, list(store.alerts.values())))
    if "limit" in request.query:
        # Counting stops at ``limit``: the spec calls counting slow, has_more tells it stopped.
        limit, _ = paginate_params(request, default=100, maximum=NO_MAXIMUM)
        return json_response({"total": min(total, limit), "has_more": total > limit})
    return json_response({"total": total, "has_more": False})


async def list_statuses(request: web.Request) -> web.Response:
    limit, offset = paginate_params(request, default=20, maximum=100)
    statuses = list(cat.ALERT_STATUSES.values())
    return json_response({"items": statuses[offset : offset + limit], "total": len(statuses)})


_TYPE_FIELDS: dict[str, Getter] = {
    "category": lambda t: t["category"],
    "value": lambda t: t["value"],
    # Alert types are global in the emulator: every community has them all.
    "community_uuid": lambda t: [c["uuid"] for c in t["communities"]],
}


async def list_types(request: web.Request) -> web.Response:
    """The alert-type catalogue (AlertTypesSchema: value and category only)."""
    state = get_state(request)
    limit, offset = paginate_params(request, default=100, maximum=100)
    filters = parse_filters(request, state, match=_TYPE_FIELDS)
    types = [{**t, "communities": state.communities} for t in cat.ALERT_TYPES]
    types = apply_filters(types, filters, _TYPE_FIELDS)
    items = [{"value": t["value"], "category": t["category"]} for t in types]
    return json_response({"items": items[offset : offset + limit], "total": len(items)})


async def get_alert(request: web.Request) -> web.Response:
    rec = visible_alert(request, request.match_info["uuid"])
    store = sic_store(get_state(request))
    out = render_alert(
        store,
        rec,
        stix=query_bool(request, "stix", False),
        cases=query_bool(request, "cases", False),
        detail=True,
    )
    for part in ("comments", "history", "countermeasures"):
        if not query_bool(request, part, True):
            del out[part]
    return json_response(out)


_PATCH_FIELDS = (
    "alert_type_category", "alert_type_value", "details", "urgency", "kill_chain_short_id",
    "title", "status_uuid", "comment", "verdict_analysis", "verdict_confidence", "assignee",
    "verdict_uuid", "custom_status_uuid",
)  # fmt: skip


def _touch(request: web.Request, rec: AlertRecord) -> int:
    now = int(get_state(request).now())
    by, by_type = principal(get_key(request))
    rec.data["updated_at"], rec.data["updated_by"], rec.data["updated_by_type"] = now, by, by_type
    return now


def _add_comment(
    request: web.Request, rec: AlertRecord, content: str, author: str | None
) -> dict[str, Any]:
    if len(rec.comments) >= MAX_COMMENTS:
        raise ApiError(400, f"An alert holds at most {MAX_COMMENTS} comments")
    store = sic_store(get_state(request))
    by, by_type = principal(get_key(request))
    comment = {
        "uuid": new_uuid(store.rng),
        "content": content,
        "author": author or f"{by_type}:{by}",
        "date": int(get_state(request).now()),
        "created_by": by,
        "created_by_type": by_type,
        "unseen": False,
    }
    rec.comments.append(comment)
    return comment


def _change_status(request: web.Request, rec: AlertRecord, status: str) -> int:
    store = sic_store(get_state(request))
    previous = rec.data["status"]["uuid"]
    now = _touch(request, rec)
    by, by_type = principal(get_key(request))
    rec.history.append(history_entry(store.rng, now, by, by_type, status, previous))
    rec.data["status"] = dict(cat.ALERT_STATUSES[status])
    set_status_times(rec.data, status, now)
    return now


async def patch_alert(request: web.Request) -> web.Response:
    rec = visible_alert(request, request.match_info["uuid"])
    body = require_object(await read_json(request))
    reject_unknown(body, _PATCH_FIELDS)
    data = rec.data
    category = field_str(body, "alert_type_category", min_len=3, max_len=1000)
    value = field_str(body, "alert_type_value", min_len=3, max_len=1000)
    if category is not None and value is None:
        raise ApiError(
            400, "Invalid parameters: alert_type_value is required with alert_type_category"
        )
    title = field_str(body, "title", max_len=10000)
    details = field_str(body, "details")
    urgency = field_int(body, "urgency", minimum=0, maximum=100)
    kill_chain = field_str(body, "kill_chain_short_id", nullable=True)
    status_uuid = field_str(body, "status_uuid")
    if status_uuid is not None and status_uuid not in cat.ALERT_STATUSES:
        raise ApiError(
            400, f"Invalid parameters: status_uuid must be one of {', '.join(cat.ALERT_STATUSES)}"
        )
    comment = field_str(body, "comment", nullable=True)
    verdict_analysis = field_str(body, "verdict_analysis", nullable=True)
    verdict_confidence = field_int(
        body, "verdict_confidence", minimum=0, maximum=100, nullable=True
    )
    assignee = field_uuid(body, "assignee", nullable=True)
    verdict_uuid = field_uuid(body, "verdict_uuid", nullable=True)
    custom_status_uuid = field_uuid(body, "custom_status_uuid", nullable=True)

    # Everything is valid: apply.
    if value is not None:
        data["alert_type"] = {
            "value": value,
            "category": category or data["alert_type"]["category"],
        }
    if title is not None:
        data["title"] = title
    if details is not None:
        data["details"] = details
    if urgency is not None:
        data["urgency"] = {
            **data["urgency"],
            "value": urgency,
            "current_value": urgency,
            "display": urgency_display(urgency),
        }
    if "kill_chain_short_id" in body:
        if kill_chain is None:
            data.pop("kill_chain_short_id", None)
        else:
            data["kill_chain_short_id"] = kill_chain
    for name, new in (
        ("assignee", assignee),
        ("verdict_uuid", verdict_uuid),
        ("custom_status_uuid", custom_status_uuid),
    ):
        if name in body:
            if new is None:
                data.pop(name, None)
            else:
                data[name] = new
    if "verdict_uuid" in body:
        data["verdict"] = None if verdict_uuid is None else {"uuid": verdict_uuid}
    if data.get("verdict") is not None:
        if verdict_analysis is not None:
            data["verdict"]["analysis"] = verdict_analysis
        if verdict_confidence is not None:
            data["verdict"]["confidence"] = verdict_confidence
    if status_uuid is not None and status_uuid != data["status"]["uuid"]:
        _change_status(request, rec, status_uuid)
    else:
        _touch(request, rec)
    if comment:
        _add_comment(request, rec, comment, None)
    store = sic_store(get_state(request))
    return json_response(render_alert(store, rec, detail=True))


async def delete_alert(request: web.Request) -> web.Response:
    rec = visible_alert(request, request.match_info["uuid"])
    store = sic_store(get_state(request))
    for case_uuid in rec.case_uuids:
        case = store.cases.get(case_uuid)
        if case is not None and rec.data["uuid"] in case.alert_uuids:
            case.alert_uuids.remove(rec.data["uuid"])
    del store.alerts[rec.data["uuid"]]
    store.alert_short_ids.pop(rec.data["short_id"], None)
    return web.Response(status=204)


def _actions(status: str) -> dict[str, Any]:
    return {"actions": [dict(cat.ACTIONS[a]) for a in _workflow.available(status)]}


async def get_workflow(request: web.Request) -> web.Response:
    rec = visible_alert(request, request.match_info["uuid"])
    return json_response(_actions(rec.data["status"]["uuid"]))


async def patch_workflow(request: web.Request) -> web.Response:
    rec = visible_alert(request, request.match_info["uuid"])
    body = require_object(await read_json(request))
    reject_unknown(body, ("action_uuid", "comment"))
    action_uuid = field_uuid(body, "action_uuid", required=True)
    assert action_uuid is not None
    comment = field_str(body, "comment", nullable=True)
    try:
        target = _workflow.transition(rec.data["status"]["uuid"], action_uuid)
    except _workflow.UnknownAction as exc:
        raise ApiError(400, f"Invalid parameters: {exc}") from None
    except _workflow.InvalidTransition as exc:
        raise ApiError(409, f"Invalid action_uuid given current status: {exc}") from None
    now = _change_status(request, rec, target)
    if comment:
        added = _add_comment(request, rec, comment, None)
        rec.history[-1]["history_comments"].append(
            {k: added[k] for k in ("uuid", "content", "author", "created_by", "created_by_type")}
            | {"date": now}
        )
    return json_response(_actions(target))


async def list_comments(request: web.Request) -> web.Response:
    rec = visible_alert(request, request.match_info["uuid"])
    limit, offset = paginate_params(request, default=20, maximum=100)
    comments = sorted(rec.comments, key=lambda c: c["date"], reverse=True)
    return json_response({"items": comments[offset : offset + limit], "total": len(comments)})


async def add_comment(request: web.Request) -> web.Response:
    rec = visible_alert(request, request.match_info["uuid"])
    body = require_object(await read_json(request))
    reject_unknown(body, ("content", "author"))
    content = field_str(body, "content", required=True, min_len=1)
    assert content is not None
    author = field_str(body, "author", max_len=32)
    comment = _add_comment(request, rec, content, author)
    _touch(request, rec)
    store = sic_store(get_state(request))
    by, by_type = principal(get_key(request))
    rec.history.append(
        {
            "uuid": new_uuid(store.rng),
            "created_at": comment["date"],
            "created_by": by,
            "created_by_type": by_type,
            "entry_type": "comment",
            "comment": {
                "uuid": comment["uuid"],
                "status": "created",
                "display_name": comment["author"],
                "content": content,
            },
            "history_comments": [],
        }
    )
    return json_response(comment)


def routes(state: EmulatorState) -> list[Route]:
    sic_store(state)  # seed now, not on the first request
    base = "/v1/sic/alerts"
    one = base + "/{uuid}"
    # Fixed paths come before /{uuid} so "count" is not taken for an alert id.
    return [
        Route("GET", base, list_alerts, "View alerts", "alerts.list"),
        Route("GET", base + "/count", count_alerts, "View alerts", "alerts.count"),
        Route("GET", base + "/statuses", list_statuses, "View alerts", "alerts.statuses"),
        Route("GET", base + "/types", list_types, "View alerts", "alerts.types"),
        Route("GET", one, get_alert, "View alerts", "alerts.get"),
        Route("PATCH", one, patch_alert, "Manage alerts", "alerts.patch"),
        Route("DELETE", one, delete_alert, "Manage alerts", "alerts.delete"),
        Route("GET", one + "/workflow", get_workflow, "View alerts", "alerts.workflow.get"),
        Route("PATCH", one + "/workflow", patch_workflow, "Update alert status", "alerts.workflow"),
        Route("GET", one + "/comments", list_comments, "View alerts", "alerts.comments.list"),
        Route("POST", one + "/comments", add_comment, "Comment on alerts", "alerts.comments.add"),
    ]
