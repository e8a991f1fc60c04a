"""Emulated cases: ``/v1/sic/cases`` as Sekoia's SIC OpenAPI spec describes it.

Case timestamps are ISO strings (unlike alerts). ``POST .../alerts`` replaces the case's alerts,
``PATCH .../alerts`` adds to them. Case statuses are ``opened``, ``in_progress`` and ``closed``
(the first from the recorded data; their UUIDs are emulator-local).
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
from ._common import (
    Getter,
    apply_filters,
    community_scope,
    field_int,
    field_str,
    field_str_list,
    field_uuid,
    in_scope,
    iso,
    new_uuid,
    owning_community,
    parse_filters,
    principal,
    query_sort,
    reject_unknown,
    require_object,
)
from ._stores import AlertRecord, CaseRecord, SicStore, new_case, sic_store
from .alerts import NO_MAXIMUM, filtered_alerts, render_alert

MAX_COMMENTS = 500
PRIORITIES = ("low", "medium", "high")

MATCH_FIELDS = (
    "tags", "assignees", "created_by", "updated_by", "title", "alert_uuid", "asset_uuid",
    "priority", "custom_priority", "custom_status", "verdict", "short_id", "uuid", "status_uuid",
    "status_name", "custom_field", "type", "community_uuid",
)  # fmt: skip
NOMATCH_FIELDS = ("assignees", "created_by", "custom_status")


def _getters(store: SicStore) -> dict[str, Getter]:
    def alerts(rec: CaseRecord) -> list[AlertRecord]:
        return [store.alerts[a] for a in rec.alert_uuids if a in store.alerts]

    return {
        "tags": lambda r: r.data["tags"],
        "assignees": lambda r: [
            s["avatar_uuid"] for s in r.data["subscribers"] if s.get("type") == "assignee"
        ],
        "created_by": lambda r: r.data["created_by"],
        "updated_by": lambda r: r.data["updated_by"],
        "title": lambda r: r.data["title"],
        "alert_uuid": lambda r: r.alert_uuids,
        "asset_uuid": lambda r: [u for a in alerts(r) for u in a.data["assets"]],
        "priority": lambda r: r.data["priority"],
        "custom_priority": lambda r: r.data.get("custom_priority_uuid"),
        "custom_status": lambda r: r.data.get("custom_status_uuid"),
        "verdict": lambda r: r.data.get("verdict_uuid"),
        "short_id": lambda r: r.data["short_id"],
        "uuid": lambda r: r.data["uuid"],
        "status_uuid": lambda r: r.data["status_uuid"],
        "status_name": lambda r: r.data["status"],
        "custom_field": lambda r: [],
        "type": lambda r: "manual" if r.data.get("manual") else "automatic",
        "community_uuid": lambda r: r.data["community_uuid"],
        "created_at": lambda r: r.data["created_at"],
        "updated_at": lambda r: r.data["updated_at"],
        "last_seen_at": lambda r: _seen(store, r)[1],
    }


def _seen(store: SicStore, rec: CaseRecord) -> tuple[str | None, str | None]:
    alerts = [store.alerts[a].data for a in rec.alert_uuids if a in store.alerts]
    if not alerts:
        return None, None
    return min(a["first_seen_at"] for a in alerts), max(a["last_seen_at"] for a in alerts)


def render_case(store: SicStore, rec: CaseRecord, *, listing: bool = False) -> dict[str, Any]:
    """CaseSchema; list items (CasesSchema) have no ``number_of_alerts`` in the spec."""
    out = dict(rec.data)
    out["number_of_comments"] = len(rec.comments)
    if not listing:
        out["number_of_alerts"] = sum(1 for a in rec.alert_uuids if a in store.alerts)
    out["first_seen_at"], out["last_seen_at"] = _seen(store, rec)
    return out


def _visible_case(request: web.Request) -> CaseRecord:
    state = get_state(request)
    # The spec names the path parameter {case_uuid} on most routes and {uuid} on some.
    ident = request.match_info.get("case_uuid") or request.match_info["uuid"]
    rec = sic_store(state).find_case(ident)
    if rec is None or not in_scope(
        community_scope(state, get_key(request)), rec.data["community_uuid"]
    ):
        raise ApiError(404, f"Unknown case {ident}")
    return rec


def _touch(request: web.Request, rec: CaseRecord) -> None:
    by, by_type = principal(get_key(request))
    rec.data["updated_at"] = iso(get_state(request).now())
    rec.data["updated_by"], rec.data["updated_by_type"] = by, by_type


def _subscribers(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    if "subscribers" not in body:
        return None
    raw = body["subscribers"]
    if not isinstance(raw, list):
        raise ApiError(400, "Invalid parameters: subscribers must be a list")
    out = []
    for i, sub in enumerate(raw):
        if not isinstance(sub, dict):
            raise ApiError(400, f"Invalid parameters: subscribers[{i}] must be an object")
        avatar = field_uuid(sub, "avatar_uuid", required=True)
        if sub.get("type") != "assignee":
            raise ApiError(400, f"Invalid parameters: subscribers[{i}].type must be 'assignee'")
        out.append({"avatar_uuid": avatar, "type": "assignee"})
    return out


def _priority(body: dict[str, Any], *, nullable: bool) -> str | None:
    if "priority" not in body:
        return None
    value = body["priority"]
    if value is None and nullable:
        return None
    if value not in PRIORITIES:
        raise ApiError(400, f"Invalid parameters: priority must be one of {', '.join(PRIORITIES)}")
    assert isinstance(value, str)
    return value


def _status_from(body: dict[str, Any]) -> str | None:
    status_uuid = field_uuid(body, "status_uuid")
    status_name = field_str(body, "status_name")
    if status_uuid is not None:
        if status_uuid not in cat.CASE_STATUS_BY_UUID:
            raise ApiError(
                400, f"Invalid parameters: status_uuid {status_uuid} is not a case status"
            )
        return cat.CASE_STATUS_BY_UUID[status_uuid]
    if status_name is not None:
        if status_name not in cat.CASE_STATUSES:
            raise ApiError(
                400,
                f"Invalid parameters: status_name must be one of {', '.join(cat.CASE_STATUSES)}",
            )
        return status_name
    return None


_CREATE_FIELDS = (
    "title", "description", "status_uuid", "community_uuid", "priority", "tags", "subscribers",
    "verdict_uuid", "custom_status_uuid", "custom_priority_uuid", "custom_fields",
)  # fmt: skip
_PATCH_FIELDS = (
    "title", "description", "status_uuid", "status_name", "priority", "tags", "subscribers",
    "verdict_uuid", "custom_status_uuid", "custom_priority_uuid", "verdict_analysis",
    "verdict_confidence",
)  # fmt: skip


async def list_cases(request: web.Request) -> web.Response:
    state = get_state(request)
    store = sic_store(state)
    limit, offset = paginate_params(request, default=20, maximum=100)
    field, descending = query_sort(request, ("created_at", "title"), default="created_at")
    filters = parse_filters(
        request,
        state,
        match=MATCH_FIELDS,
        nomatch=NOMATCH_FIELDS,
        date=("created_at", "updated_at", "last_seen_at"),
    )
    scope = community_scope(state, get_key(request))
    records = [r for r in store.cases.values() if in_scope(scope, r.data["community_uuid"])]
    community = request.query.get("community_uuid")
    if community:
        records = [r for r in records if r.data["community_uuid"] == community]
    records = apply_filters(
        records, filters, _getters(store), case_insensitive=frozenset({"title", "status_name"})
    )
    sort_key = "created_at" if field == "created_at" else "title"
    records.sort(key=lambda r: (r.data[sort_key], r.data["short_id"]), reverse=descending)
    page = records[offset : offset + limit]
    return json_response(
        {"items": [render_case(store, r, listing=True) for r in page], "total": len(records)}
    )


async def create_case(request: web.Request) -> web.Response:
    state = get_state(request)
    key = get_key(request)
    store = sic_store(state)
    body = require_object(await read_json(request))
    reject_unknown(body, _CREATE_FIELDS)
    title = field_str(body, "title", required=True, min_len=1)
    assert title is not None
    description = field_str(body, "description") or ""
    status = _status_from(body) or "opened"
    priority = _priority(body, nullable=False) or "medium"
    tags = field_str_list(body, "tags") or []
    subscribers = _subscribers(body) or []
    verdict_uuid = field_uuid(body, "verdict_uuid")
    custom_status_uuid = field_uuid(body, "custom_status_uuid")
    custom_priority_uuid = field_uuid(body, "custom_priority_uuid")
    if "custom_fields" in body:
        fields = body["custom_fields"]
        if not isinstance(fields, list) or len(fields) > 25:
            raise ApiError(400, "Invalid parameters: custom_fields must be a list of at most 25")
        if fields:
            raise ApiError(400, "Invalid parameters: custom_fields: unknown custom field uuid")
    community = owning_community(state, key, body.get("community_uuid"), "community_uuid")
    by, by_type = principal(key)
    rec = new_case(
        store.rng,
        store,
        title=title,
        description=description,
        priority=priority,
        status=status,
        community_uuid=community,
        tags=tags,
        subscribers=subscribers,
        created_by=by,
        created_by_type=by_type,
        now=state.now(),
    )
    for name, value in (
        ("verdict_uuid", verdict_uuid),
        ("custom_status_uuid", custom_status_uuid),
        ("custom_priority_uuid", custom_priority_uuid),
    ):
        if value is not None:
            rec.data[name] = value
    if verdict_uuid is not None:
        rec.data["verdict"] = {"uuid": verdict_uuid}
    return json_response(render_case(store, rec))


async def get_case(request: web.Request) -> web.Response:
    rec = _visible_case(request)
    return json_response(render_case(sic_store(get_state(request)), rec))


async def patch_case(request: web.Request) -> web.Response:
    rec = _visible_case(request)
    body = require_object(await read_json(request))
    reject_unknown(body, _PATCH_FIELDS)
    if "status_uuid" in body and "status_name" in body:
        raise ApiError(400, "Invalid parameters: give status_uuid or status_name, not both")
    title = field_str(body, "title", min_len=1)
    # Sekoia rejects an empty description (automation-library's update_case drops it).
    description = field_str(body, "description", min_len=1)
    status = _status_from(body)
    priority = _priority(body, nullable=True)
    tags = field_str_list(body, "tags")
    subscribers = _subscribers(body)
    verdict_uuid = field_uuid(body, "verdict_uuid", nullable=True)
    custom_status_uuid = field_uuid(body, "custom_status_uuid")
    custom_priority_uuid = field_uuid(body, "custom_priority_uuid")
    analysis = field_str(body, "verdict_analysis", nullable=True)
    confidence = field_int(body, "verdict_confidence", minimum=0, maximum=100, nullable=True)

    data = rec.data
    if title is not None:
        data["title"] = title
    if description is not None:
        data["description"] = description
        data["description_updated_manually"] = True
    if status is not None:
        data["status"], data["status_uuid"] = status, cat.CASE_STATUSES[status]
    if priority is not None:
        data["priority"] = priority
        data["priority_updated_manually"] = True
    if tags is not None:
        data["tags"] = tags
    if subscribers is not None:
        data["subscribers"] = subscribers
    if "verdict_uuid" in body:
        data["verdict_uuid"] = verdict_uuid
        data["verdict"] = None if verdict_uuid is None else {"uuid": verdict_uuid}
    if custom_status_uuid is not None:
        data["custom_status_uuid"] = custom_status_uuid
    if custom_priority_uuid is not None:
        data["custom_priority_uuid"] = custom_priority_uuid
    if data.get("verdict") is not None:
        if analysis is not None:
            data["verdict"]["analysis"] = analysis
        if confidence is not None:
            data["verdict"]["confidence"] = confidence
    _touch(request, rec)
    return json_response(render_case(sic_store(get_state(request)), rec))


async def delete_case(request: web.Request) -> web.Response:
    rec = _visible_case(request)
    store = sic_store(get_state(request))
    for alert_uuid in rec.alert_uuids:
        alert = store.alerts.get(alert_uuid)
        if alert is not None and rec.data["uuid"] in alert.case_uuids:
            alert.case_uuids.remove(rec.data["uuid"])
    del store.cases[rec.data["uuid"]]
    store.case_short_ids.pop(rec.data["short_id"], None)
    return web.Response(status=204)


_CASE_ALERT_SORT: dict[str, Any] = {
    "occurrences": lambda r: r.data["similar"],
    "updated_at": lambda r: r.data["updated_at"],
    "created_at": lambda r: r.data["created_at"],
    "urgency": lambda r: r.data["urgency"]["value"],
}


async def list_case_alerts(request: web.Request) -> web.Response:
    rec = _visible_case(request)
    store = sic_store(get_state(request))
    records = filtered_alerts(
        request, [store.alerts[a] for a in rec.alert_uuids if a in store.alerts]
    )
    field, descending = query_sort(request, _CASE_ALERT_SORT, default="created_at")
    assert field is not None
    key = _CASE_ALERT_SORT[field]
    records.sort(key=lambda r: (key(r), r.data["short_id"]), reverse=descending)
    # Without limit/offset this endpoint returns every alert of the case (spec).
    if "limit" in request.query or "offset" in request.query:
        limit, offset = paginate_params(request, default=len(records) or 1, maximum=NO_MAXIMUM)
    else:
        limit, offset = len(records), 0
    page = records[offset : offset + limit]
    return json_response(
        {
            "items": [render_alert(store, r) for r in page],
            "total": len(records),
            "has_more": offset + len(page) < len(records),
        }
    )


async def _resolve_alerts(request: web.Request, rec: CaseRecord) -> list[AlertRecord]:
    body = require_object(await read_json(request))
    reject_unknown(body, ("alerts",))
    idents = field_str_list(body, "alerts", required=True)
    assert idents is not None
    state = get_state(request)
    store = sic_store(state)
    scope = community_scope(state, get_key(request))
    found = []
    for ident in idents:
        alert = store.find_alert(ident)
        if alert is None or not in_scope(scope, alert.data["community_uuid"]):
            raise ApiError(404, f"Unknown alert {ident}")
        if alert.data["community_uuid"] != rec.data["community_uuid"]:
            raise ApiError(
                400, f"Invalid parameters: alert {ident} belongs to another community than the case"
            )
        if alert not in found:
            found.append(alert)
    return found


def _link(rec: CaseRecord, alerts: list[AlertRecord]) -> None:
    case_uuid = rec.data["uuid"]
    for alert in alerts:
        if alert.data["uuid"] not in rec.alert_uuids:
            rec.alert_uuids.append(alert.data["uuid"])
        if case_uuid not in alert.case_uuids:
            alert.case_uuids.append(case_uuid)


async def replace_case_alerts(request: web.Request) -> web.Response:
    rec = _visible_case(request)
    alerts = await _resolve_alerts(request, rec)
    store = sic_store(get_state(request))
    for alert_uuid in rec.alert_uuids:
        old = store.alerts.get(alert_uuid)
        if old is not None and rec.data["uuid"] in old.case_uuids:
            old.case_uuids.remove(rec.data["uuid"])
    rec.alert_uuids = []
    _link(rec, alerts)
    _touch(request, rec)
    return json_response({"status": "updated"})


async def add_case_alerts(request: web.Request) -> web.Response:
    rec = _visible_case(request)
    alerts = await _resolve_alerts(request, rec)
    _link(rec, alerts)
    _touch(request, rec)
    return json_response({"status": "updated"})


async def list_case_comments(request: web.Request) -> web.Response:
    rec = _visible_case(request)
    limit, offset = paginate_params(request, default=20, maximum=100)
    field, descending = query_sort(
        request, ("created_at", "created_by", "updated_at"), default="created_at"
    )
    assert field is not None
    comments = sorted(rec.comments, key=lambda c: (c[field], c["uuid"]), reverse=descending)
    return json_response({"items": comments[offset : offset + limit], "total": len(comments)})


async def add_case_comment(request: web.Request) -> web.Response:
    rec = _visible_case(request)
    body = require_object(await read_json(request))
    reject_unknown(body, ("content",))
    content = field_str(body, "content", required=True, min_len=1)
    if len(rec.comments) >= MAX_COMMENTS:
        raise ApiError(400, f"A case holds at most {MAX_COMMENTS} comments")
    state = get_state(request)
    by, by_type = principal(get_key(request))
    now = iso(state.now())
    comment = {
        "uuid": new_uuid(sic_store(state).rng),
        "content": content,
        "created_at": now,
        "created_by": by,
        "created_by_type": by_type,
        "updated_at": now,
    }
    rec.comments.append(comment)
    return json_response(comment)


MAX_EVENT_IDS = 1000


async def _event_ids(request: web.Request) -> list[str]:
    body = require_object(await read_json(request))
    reject_unknown(body, ("event_ids",))
    ids = field_str_list(body, "event_ids", required=True)
    assert ids is not None
    if not 1 <= len(ids) <= MAX_EVENT_IDS:
        raise ApiError(400, f"Invalid parameters: event_ids must hold 1 to {MAX_EVENT_IDS} ids")
    return ids


async def add_case_events(request: web.Request) -> web.Response:
    """Attach events by their search ``__event_id`` (the emulator does not check they exist)."""
    rec = _visible_case(request)
    for event_id in await _event_ids(request):
        rec.event_ids[event_id] = None
    _touch(request, rec)
    return web.Response(status=204)


async def remove_case_events(request: web.Request) -> web.Response:
    """Detach events. Sekoia takes ``event.id`` here; the emulator accepts the ids it stored."""
    rec = _visible_case(request)
    for event_id in await _event_ids(request):
        rec.event_ids.pop(event_id, None)
    _touch(request, rec)
    return web.Response(status=204)


async def remove_case_event(request: web.Request) -> web.Response:
    rec = _visible_case(request)
    event_id = request.match_info["event_id"]
    if event_id not in rec.event_ids:
        raise ApiError(404, f"Event {event_id} is not attached to case {rec.data['uuid']}")
    del rec.event_ids[event_id]
    _touch(request, rec)
    return web.Response(status=204)


def routes(state: EmulatorState) -> list[Route]:
    sic_store(state)
    base = "/v1/sic/cases"
    one = base + "/{case_uuid}"
    return [
        Route("GET", base, list_cases, "View cases", "cases.list"),
        Route("POST", base, create_case, "Manage cases", "cases.create"),
        Route("GET", one, get_case, "View cases", "cases.get"),
        Route("PATCH", one, patch_case, "Manage cases", "cases.patch"),
        Route("DELETE", one, delete_case, "Manage cases", "cases.delete"),
        Route("GET", one + "/alerts", list_case_alerts, "View cases", "cases.alerts.list"),
        Route("POST", one + "/alerts", replace_case_alerts, "Manage cases", "cases.alerts.replace"),
        Route("PATCH", one + "/alerts", add_case_alerts, "Manage cases", "cases.alerts.add"),
        Route("GET", one + "/comments", list_case_comments, "View cases", "cases.comments.list"),
        Route("POST", base + "/{uuid}/events", add_case_events, "Manage cases", "cases.events.add"),
        Route(
            "DELETE",
            base + "/{uuid}/events",
            remove_case_events,
            "Manage cases",
            "cases.events.remove",
        ),
        Route(
            "DELETE",
            one + "/events/{event_id}",
            remove_case_event,
            "Manage cases",
            "cases.events.remove_one",
        ),
        # The spec lists "Comment on cases" and "Manage cases"; the narrower one is checked.
        Route(
            "POST", one + "/comments", add_case_comment, "Comment on cases", "cases.comments.add"
        ),
    ]
