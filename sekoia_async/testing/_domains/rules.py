"""Emulated rules catalog: ``/v1/sic/conf/rules-catalog/rules`` (sekoia-api.md §2.5, quickstart).

Sekoia's own catalog rules (seeded) belong to no community and every key sees them; they can be
enabled or disabled but not edited or deleted. Rules created through the API belong to the key's
community (or the body's ``community_uuid``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .._routing import ApiError, EmulatorState, Route, get_key, get_state, json_response, read_json
from . import _catalog as cat
from ._common import (
    Filters,
    apply_filters,
    community_scope,
    field_bool,
    field_int,
    field_str,
    field_str_list,
    field_uuid,
    in_scope,
    iso,
    owning_community,
    parse_filters,
    principal,
    query_bool,
    require_object,
)
from ._stores import new_rule, rules_store

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
RULE_TYPES = ("sigma", "cti", "anomaly")
# Fields POST accepts besides the eight validated ones (stored as given).
_OPTIONAL_LISTS = ("tags", "datasources", "event_fields", "parameters", "entities", "assets")
_OPTIONAL_TEXT = ("goal", "false_positives", "references")
_WRITABLE = (
    "name",
    "type",
    "description",
    "payload",
    "severity",
    "effort",
    "alert_type_uuid",
    "enabled",
    "community_uuid",
    "all_entities",
    "all_assets",
    "similarity_strategy",
    "available_for_subcommunities",
    "related_object_refs",
    *_OPTIONAL_LISTS,
    *_OPTIONAL_TEXT,
)


def _severity_values(rule: dict[str, Any]) -> list[str]:
    # match[severity] takes numbers or the band names of the rules tutorial ("high").
    value = int(rule["severity"])
    names = [n for n, (lo, hi) in cat.SEVERITY_BANDS.items() if lo <= value <= hi]
    return [str(value), *names]


_FIELDS = {
    "name": lambda r: r["name"],
    "uuid": lambda r: r["uuid"],
    "type": lambda r: r["type"],
    "severity": _severity_values,
    "effort": lambda r: [str(r["effort"]), cat.EFFORTS.get(r["effort"], "")],
    "enabled": lambda r: str(r["enabled"]).lower(),
    "community_uuid": lambda r: r["community_uuid"],
    "alert_type_uuid": lambda r: r["alert_type"]["uuid"],
    "source": lambda r: r["source"],
}


def _page_params(request: web.Request) -> tuple[int, int]:
    """limit with either offset or 1-based page (the rules catalog takes both, §4.1)."""
    try:
        limit = int(request.query.get("limit", DEFAULT_LIMIT))
        offset = int(request.query.get("offset", 0))
        page_number = int(request.query["page"]) if "page" in request.query else None
    except ValueError:
        raise ApiError(400, "Invalid parameters: limit, offset and page must be integers") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"Invalid parameters: limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise ApiError(400, "Invalid parameters: offset must be >= 0")
    if page_number is not None:
        if page_number < 1:
            raise ApiError(400, "Invalid parameters: page starts at 1")
        if "offset" in request.query:
            raise ApiError(400, "Invalid parameters: give either page or offset, not both")
        offset = (page_number - 1) * limit
    return limit, offset


def _visible_rule(request: web.Request, ident: str) -> dict[str, Any]:
    state = get_state(request)
    rule = rules_store(state).rules.get(ident)
    if rule is None or not in_scope(
        community_scope(state, get_key(request)), rule["community_uuid"]
    ):
        raise ApiError(404, f"Rule {ident} not found")
    return rule


def _validate(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The quickstart's table of required fields, with the bounds of §2.5; 400 names the field."""
    required = not partial
    unknown = sorted(set(body) - set(_WRITABLE))
    if unknown:
        raise ApiError(400, f"Invalid parameters: unknown field(s) {', '.join(unknown)}")
    out: dict[str, Any] = {}
    name = field_str(body, "name", required=required, min_len=5, max_len=100)
    if name is not None:
        out["name"] = name
    rule_type = field_str(body, "type", required=required)
    if rule_type is not None:
        if rule_type not in RULE_TYPES:
            raise ApiError(400, f"Invalid parameters: type must be one of {', '.join(RULE_TYPES)}")
        out["type"] = rule_type
    description = field_str(body, "description", required=required, max_len=1000)
    if description is not None:
        out["description"] = description
    payload = field_str(body, "payload", required=required, min_len=1)
    if payload is not None:
        out["payload"] = payload
    severity = field_int(body, "severity", required=required, minimum=0, maximum=100)
    if severity is not None:
        out["severity"] = severity
    effort = field_int(body, "effort", required=required, minimum=1, maximum=4)
    if effort is not None:
        out["effort"] = effort
    alert_type_uuid = field_uuid(body, "alert_type_uuid", required=required)
    if alert_type_uuid is not None:
        if alert_type_uuid not in cat.ALERT_TYPES_BY_UUID:
            raise ApiError(400, f"Invalid parameters: alert_type_uuid {alert_type_uuid} is unknown")
        out["alert_type_uuid"] = alert_type_uuid
    enabled = field_bool(body, "enabled", required=required)
    if enabled is not None:
        out["enabled"] = enabled
    for flag in ("all_entities", "all_assets", "available_for_subcommunities"):
        value = field_bool(body, flag)
        if value is not None:
            out[flag] = value
    for name_ in _OPTIONAL_TEXT:
        text = field_str(body, name_, nullable=True)
        if text is not None:
            out[name_] = text
    for name_ in ("similarity_strategy", "related_object_refs"):
        values = field_str_list(body, name_)
        if values is not None:
            out[name_] = values
    for name_ in _OPTIONAL_LISTS:
        if name_ in body:
            if not isinstance(body[name_], list):
                raise ApiError(400, f"Invalid parameters: {name_} must be a list")
            out[name_] = body[name_]
    return out


def _apply(rule: dict[str, Any], fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name == "alert_type_uuid":
            alert_type = cat.ALERT_TYPES_BY_UUID[value]
            rule["alert_type"] = dict(alert_type)
            rule["alert_category"] = {"name": alert_type["category"]}
        else:
            rule[name] = value


def _touch(request: web.Request, rule: dict[str, Any]) -> None:
    by, by_type = principal(get_key(request))
    rule["updated_at"] = iso(get_state(request).now())
    rule["updated_by"], rule["updated_by_type"] = by, by_type


def _ensure_editable(rule: dict[str, Any]) -> None:
    if rule["source"] == "sekoia":
        raise ApiError(
            400,
            f"Rule {rule['uuid']} is a Sekoia catalog rule: it can only be enabled or disabled; "
            "create a custom rule to change its detection",
        )


async def list_rules(request: web.Request) -> web.Response:
    state = get_state(request)
    limit, offset = _page_params(request)
    filters: Filters = parse_filters(request, state, match=_FIELDS, nomatch=_FIELDS)
    scope = community_scope(state, get_key(request))
    rules = [r for r in rules_store(state).rules.values() if in_scope(scope, r["community_uuid"])]
    if "enabled" in request.query:
        wanted = query_bool(request, "enabled", True)
        rules = [r for r in rules if r["enabled"] is wanted]
    rules = apply_filters(
        rules, filters, _FIELDS, case_insensitive=frozenset({"name", "severity", "effort", "type"})
    )
    rules.sort(key=lambda r: (r["name"].lower(), r["uuid"]))
    return json_response({"items": rules[offset : offset + limit], "total": len(rules)})


async def create_rule(request: web.Request) -> web.Response:
    state = get_state(request)
    key = get_key(request)
    body = require_object(await read_json(request))
    fields = _validate(body, partial=False)
    store = rules_store(state)
    community = owning_community(state, key, body.get("community_uuid"), "community_uuid")
    by, by_type = principal(key)
    rule = new_rule(
        store.rng,
        name=fields.pop("name"),
        rule_type=fields.pop("type"),
        description=fields.pop("description"),
        payload=fields.pop("payload"),
        severity=fields.pop("severity"),
        effort=fields.pop("effort"),
        alert_type_uuid=fields.pop("alert_type_uuid"),
        enabled=fields.pop("enabled"),
        community_uuid=community,
        created_by=by,
        created_by_type=by_type,
        now=state.now(),
        source="custom",
    )
    _apply(rule, fields)
    store.rules[rule["uuid"]] = rule
    # The quickstart expects 200 (not 201) with the created rule.
    return json_response(rule)


async def get_rule(request: web.Request) -> web.Response:
    return json_response(_visible_rule(request, request.match_info["uuid"]))


async def update_rule(request: web.Request) -> web.Response:
    rule = _visible_rule(request, request.match_info["uuid"])
    _ensure_editable(rule)
    body = require_object(await read_json(request))
    fields = _validate(body, partial=True)
    if "community_uuid" in body and body["community_uuid"] != rule["community_uuid"]:
        raise ApiError(400, "Invalid parameters: community_uuid of a rule cannot change")
    _apply(rule, fields)
    _touch(request, rule)
    return json_response(rule)


async def delete_rule(request: web.Request) -> web.Response:
    rule = _visible_rule(request, request.match_info["uuid"])
    _ensure_editable(rule)
    del rules_store(get_state(request)).rules[rule["uuid"]]
    return web.Response(status=204)


def _set_enabled(enabled: bool) -> Any:
    async def handler(request: web.Request) -> web.Response:
        rule = _visible_rule(request, request.match_info["uuid"])
        rule["enabled"] = enabled
        _touch(request, rule)
        return json_response(rule)

    return handler


async def list_alert_types(request: web.Request) -> web.Response:
    """The alert types with their UUIDs, the values ``alert_type_uuid`` takes on a rule."""
    limit, offset = _page_params(request)
    types = cat.ALERT_TYPES
    for name in ("category", "value"):
        wanted = request.query.get(f"match[{name}]")
        if wanted:
            types = [t for t in types if t[name] in wanted.split(",")]
    return json_response({"items": types[offset : offset + limit], "total": len(types)})


def routes(state: EmulatorState) -> list[Route]:
    rules_store(state)  # seed now, not on the first request
    base = "/v1/sic/conf/rules-catalog/rules"
    one = base + "/{uuid}"
    return [
        Route("GET", base, list_rules, "View rules", "rules.list"),
        Route("POST", base, create_rule, "Manage rules", "rules.create"),
        Route("GET", one, get_rule, "View rules", "rules.get"),
        Route("PUT", one, update_rule, "Manage rules", "rules.update"),
        Route("DELETE", one, delete_rule, "Manage rules", "rules.delete"),
        Route("PUT", one + "/enabled", _set_enabled(True), "Manage rules", "rules.enable"),
        Route("PUT", one + "/disabled", _set_enabled(False), "Manage rules", "rules.disable"),
        Route(
            "GET", "/v1/sic/conf/alerts/types", list_alert_types, "View rules", "rules.alert_types"
        ),
    ]
