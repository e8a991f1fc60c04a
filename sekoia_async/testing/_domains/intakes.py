"""Emulated intakes and entities: ``/v1/sic/conf/intakes`` and ``/v1/sic/conf/entities`` (§2.6).

The core seeds ``state.intakes`` and ``state.entities`` (the event generator uses them too); this
module serves them, filling the fields of §2.6 the seed leaves out, and appends created ones.
"""

from __future__ import annotations

import string
from collections.abc import Callable
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
from ._common import (
    Getter,
    apply_filters,
    community_scope,
    field_str,
    field_uuid,
    in_scope,
    iso,
    new_uuid,
    owning_community,
    parse_filters,
    principal,
    reject_unknown,
    require_object,
    rng_for,
)

_INTAKE_FILTERS = {
    "name": lambda i: i.get("name"),
    "format_uuid": lambda i: i.get("format_uuid"),
    "entity_uuid": lambda i: i.get("entity_uuid"),
    "community_uuid": lambda i: i.get("community_uuid"),
    "uuid": lambda i: i.get("uuid"),
    "status": lambda i: i.get("status"),
}
_ENTITY_FILTERS = {
    "name": lambda e: e.get("name"),
    "entity_id": lambda e: e.get("entity_id"),
    "community_uuid": lambda e: e.get("community_uuid"),
    "uuid": lambda e: e.get("uuid"),
}


def _entity_of(state: EmulatorState, entity_uuid: object) -> dict[str, Any] | None:
    for entity in state.entities:
        if entity.get("uuid") == entity_uuid:
            return entity
    return None


def render_intake(state: EmulatorState, intake: dict[str, Any]) -> dict[str, Any]:
    entity = _entity_of(state, intake.get("entity_uuid")) or {}
    created = intake.get("created_at") or iso(state.now() - 200 * 86400)
    return {
        "uuid": intake.get("uuid"),
        "name": intake.get("name"),
        "community_uuid": intake.get("community_uuid", entity.get("community_uuid")),
        "entity_uuid": intake.get("entity_uuid"),
        "format_uuid": intake.get("format_uuid"),
        "intake_key": intake.get("intake_key"),
        "created_at": created,
        "created_by": intake.get("created_by"),
        "updated_at": intake.get("updated_at") or created,
        "updated_by": intake.get("updated_by"),
        "entity": {"uuid": entity.get("uuid"), "name": entity.get("name")} if entity else None,
        "is_custom_format": bool(intake.get("is_custom_format", False)),
        "connector_configuration_uuid": intake.get("connector_configuration_uuid"),
        "status": intake.get("status", "enabled"),
        **{k: v for k, v in intake.items() if k not in _INTAKE_KEYS},
    }


_INTAKE_KEYS = frozenset(
    {
        "uuid", "name", "community_uuid", "entity_uuid", "format_uuid", "intake_key",
        "created_at", "created_by", "updated_at", "updated_by", "entity", "is_custom_format",
        "connector_configuration_uuid", "status",
    }
)  # fmt: skip


def render_entity(state: EmulatorState, entity: dict[str, Any]) -> dict[str, Any]:
    uuid = entity.get("uuid")
    return {
        "uuid": uuid,
        "name": entity.get("name"),
        "entity_id": entity.get("entity_id", entity.get("name")),
        "community_uuid": entity.get("community_uuid"),
        "description": entity.get("description", ""),
        "alerts_generation": entity.get("alerts_generation", "automatic"),
        "number_of_intakes": sum(1 for i in state.intakes if i.get("entity_uuid") == uuid),
        **{k: v for k, v in entity.items() if k not in _ENTITY_KEYS},
    }


_ENTITY_KEYS = frozenset(
    {
        "uuid", "name", "entity_id", "community_uuid", "description", "alerts_generation",
        "number_of_intakes",
    }
)  # fmt: skip


def _visible(request: web.Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    state = get_state(request)
    scope = community_scope(state, get_key(request))
    out = []
    for item in items:
        community = item.get("community_uuid")
        if community is None:  # an intake seeded without it belongs to its entity's community
            community = (_entity_of(state, item.get("entity_uuid")) or {}).get("community_uuid")
        if in_scope(scope, community):
            out.append(item)
    return out


def _find(request: web.Request, items: list[dict[str, Any]], what: str) -> dict[str, Any]:
    ident = request.match_info["uuid"]
    for item in _visible(request, items):
        if item.get("uuid") == ident:
            return item
    raise ApiError(404, f"Unknown {what} {ident}")


def _list_page(
    request: web.Request,
    items: list[dict[str, Any]],
    render: Callable[[EmulatorState, dict[str, Any]], dict[str, Any]],
    fields: dict[str, Getter],
) -> web.Response:
    """One ``{items, total}`` page of the visible, rendered and ``match[]``-filtered items."""
    state = get_state(request)
    limit, offset = paginate_params(request, default=100, maximum=1000)
    filters = parse_filters(request, state, match=fields)
    found = apply_filters(
        [render(state, item) for item in _visible(request, items)],
        filters,
        fields,
        case_insensitive=frozenset({"name"}),
    )
    return json_response({"items": found[offset : offset + limit], "total": len(found)})


async def list_intakes(request: web.Request) -> web.Response:
    return _list_page(request, get_state(request).intakes, render_intake, _INTAKE_FILTERS)


async def get_intake(request: web.Request) -> web.Response:
    state = get_state(request)
    return json_response(render_intake(state, _find(request, state.intakes, "intake")))


async def create_intake(request: web.Request) -> web.Response:
    state = get_state(request)
    key = get_key(request)
    body = require_object(await read_json(request))
    reject_unknown(
        body,
        (
            "name", "entity_uuid", "format_uuid", "community_uuid", "connector_configuration",
            "connector_module_configuration_uuid", "is_custom_format",
        ),
    )  # fmt: skip
    name = field_str(body, "name", required=True, min_len=1, max_len=100)
    entity_uuid = field_uuid(body, "entity_uuid", required=True)
    format_uuid = field_uuid(body, "format_uuid", required=True)
    entity = _entity_of(state, entity_uuid)
    scope = community_scope(state, key)
    if entity is None or not in_scope(scope, entity.get("community_uuid")):
        raise ApiError(400, f"Invalid parameters: entity_uuid {entity_uuid} is not a known entity")
    community = entity.get("community_uuid") or key.community_uuid
    rng = rng_for(state, "intakes", len(state.intakes), name)
    by, _ = principal(key)
    now = iso(state.now())
    intake = {
        "uuid": new_uuid(rng),
        "name": name,
        "community_uuid": community,
        "entity_uuid": entity_uuid,
        "format_uuid": format_uuid,
        "intake_key": "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32)),
        "created_at": now,
        "created_by": by,
        "updated_at": now,
        "updated_by": by,
        "is_custom_format": bool(body.get("is_custom_format", False)),
        "connector_configuration_uuid": body.get("connector_module_configuration_uuid"),
        "status": "enabled",
    }
    state.intakes.append(intake)
    return json_response(render_intake(state, intake))


async def list_entities(request: web.Request) -> web.Response:
    return _list_page(request, get_state(request).entities, render_entity, _ENTITY_FILTERS)


async def get_entity(request: web.Request) -> web.Response:
    state = get_state(request)
    return json_response(render_entity(state, _find(request, state.entities, "entity")))


async def create_entity(request: web.Request) -> web.Response:
    state = get_state(request)
    key = get_key(request)
    body = require_object(await read_json(request))
    reject_unknown(
        body, ("name", "entity_id", "description", "alerts_generation", "community_uuid")
    )
    name = field_str(body, "name", required=True, min_len=1, max_len=100)
    assert name is not None
    entity_id = field_str(body, "entity_id", required=True, min_len=1, max_len=100)
    description = field_str(body, "description") or ""
    generation = field_str(body, "alerts_generation") or "automatic"
    if generation not in ("automatic", "manual"):
        raise ApiError(400, "Invalid parameters: alerts_generation must be 'automatic' or 'manual'")
    community = owning_community(state, key, body.get("community_uuid"), "community_uuid")
    if any(e.get("community_uuid") == community and e.get("name") == name for e in state.entities):
        raise ApiError(400, f"Invalid parameters: name {name!r} is already used by an entity")
    rng = rng_for(state, "entities", len(state.entities), name)
    entity = {
        "uuid": new_uuid(rng),
        "name": name,
        "entity_id": entity_id,
        "community_uuid": community,
        "description": description,
        "alerts_generation": generation,
    }
    state.entities.append(entity)
    return json_response(render_entity(state, entity))


def routes(state: EmulatorState) -> list[Route]:
    intakes = "/v1/sic/conf/intakes"
    entities = "/v1/sic/conf/entities"
    return [
        Route("GET", intakes, list_intakes, "View intakes", "intakes.list"),
        Route("POST", intakes, create_intake, "Manage intakes", "intakes.create"),
        Route("GET", intakes + "/{uuid}", get_intake, "View intakes", "intakes.get"),
        Route("GET", entities, list_entities, "View entities", "entities.list"),
        Route("POST", entities, create_entity, "Manage entities", "entities.create"),
        Route("GET", entities + "/{uuid}", get_entity, "View entities", "entities.get"),
    ]
