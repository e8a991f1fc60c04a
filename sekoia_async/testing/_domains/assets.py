"""Emulated asset management v2: ``/v2/asset-management/assets`` (sekoia-api.md §2.7).

v2 lists take plain query parameters (``search``, ``type``, ``uuids``...), not ``match[...]``.
Timestamps follow the recorded asset fixtures (``2024-04-17T15:29:49.464479Z``; ``updated_at``
null until the first update).
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
from ._common import (
    community_scope,
    field_bool,
    field_int,
    field_str,
    field_str_list,
    field_uuid,
    in_scope,
    is_uuid,
    iso_z,
    owning_community,
    principal,
    query_bool,
    query_sort,
    reject_unknown,
    require_object,
)
from ._stores import assets_store, new_asset

ASSET_TYPES = ("host", "account", "network")
SOURCES = ("manual", "automatic", "import")
SORT_FIELDS = ("name", "criticality", "created_at", "updated_at", "type", "category")
_WRITABLE = (
    "community_uuid", "name", "type", "category", "criticality", "props", "atoms", "tags",
    "reviewed", "source", "entity_uuid", "uuid", "description",
)  # fmt: skip


def _csv(request: web.Request, name: str) -> set[str] | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    return {v for v in raw.split(",") if v}


def _criticality_filter(request: web.Request) -> tuple[int, int] | None:
    """``criticality=N`` (at least N) or ``criticality=min,max``."""
    raw = request.query.get("criticality")
    if not raw:
        return None
    parts = raw.split(",")
    try:
        if len(parts) == 1:
            return int(parts[0]), 100
        if len(parts) == 2:
            return int(parts[0] or 0), int(parts[1] or 100)
    except ValueError:
        pass
    raise ApiError(400, "Invalid parameters: criticality must be N or min,max (integers 0-100)")


def _visible(request: web.Request, ident: str) -> dict[str, Any]:
    state = get_state(request)
    asset = assets_store(state).assets.get(ident)
    if asset is None or not in_scope(
        community_scope(state, get_key(request)), asset["community_uuid"]
    ):
        raise ApiError(404, f"Unknown asset {ident}")
    return asset


def _validate(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    reject_unknown(body, _WRITABLE)
    out: dict[str, Any] = {}
    name = field_str(body, "name", required=not partial, min_len=2, max_len=255)
    if name is not None:
        out["name"] = name
    asset_type = field_str(body, "type", required=not partial)
    if asset_type is not None:
        if asset_type not in ASSET_TYPES:
            raise ApiError(400, f"Invalid parameters: type must be one of {', '.join(ASSET_TYPES)}")
        out["type"] = asset_type
    category = field_str(body, "category", nullable=True)
    if "category" in body:
        out["category"] = category
    description = field_str(body, "description", nullable=True)
    if "description" in body:
        out["description"] = description
    criticality = field_int(body, "criticality", minimum=0, maximum=100)
    if criticality is not None:
        out["criticality"] = criticality
    for name_ in ("props", "atoms"):
        if name_ in body:
            if not isinstance(body[name_], dict):
                raise ApiError(400, f"Invalid parameters: {name_} must be an object")
            out[name_] = body[name_]
    if "atoms" in out:
        for atom, values in out["atoms"].items():
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ApiError(400, f"Invalid parameters: atoms.{atom} must be a list of strings")
    tags = field_str_list(body, "tags")
    if tags is not None:
        out["tags"] = tags
    reviewed = field_bool(body, "reviewed")
    if reviewed is not None:
        out["reviewed"] = reviewed
    source = field_str(body, "source")
    if source is not None:
        if source not in SOURCES:
            raise ApiError(400, f"Invalid parameters: source must be one of {', '.join(SOURCES)}")
        out["source"] = source
    entity_uuid = field_uuid(body, "entity_uuid", nullable=True)
    if "entity_uuid" in body:
        out["entity_uuid"] = entity_uuid
    return out


async def list_assets(request: web.Request) -> web.Response:
    state = get_state(request)
    limit, offset = paginate_params(request, default=20, maximum=100)
    field, descending = query_sort(request, SORT_FIELDS, default="created_at")
    assert field is not None
    scope = community_scope(state, get_key(request))
    assets = [
        a for a in assets_store(state).assets.values() if in_scope(scope, a["community_uuid"])
    ]
    if not query_bool(request, "include_revoked", False):
        assets = [a for a in assets if not a["revoked"]]
    search = (request.query.get("search") or "").lower()
    if search:
        in_tags = query_bool(request, "also_search_in_tags", False)
        assets = [
            a
            for a in assets
            if search in a["name"].lower()
            or (in_tags and any(search in t.lower() for t in a["tags"]))
        ]
    for param, key in (
        ("uuids", "uuid"),
        ("community_uuids", "community_uuid"),
        ("type", "type"),
        ("category", "category"),
        ("source", "source"),
    ):
        wanted = _csv(request, param)
        if wanted is not None:
            assets = [a for a in assets if a[key] in wanted]
    tags = _csv(request, "tags")
    if tags is not None:
        assets = [a for a in assets if tags.intersection(a["tags"])]
    if "reviewed" in request.query:
        reviewed = query_bool(request, "reviewed", False)
        assets = [a for a in assets if a["reviewed"] is reviewed]
    bounds = _criticality_filter(request)
    if bounds is not None:
        assets = [a for a in assets if bounds[0] <= a["criticality"] <= bounds[1]]
    present = [a for a in assets if a.get(field) is not None]
    missing = [a for a in assets if a.get(field) is None]
    present.sort(key=lambda a: (a[field], a["uuid"]), reverse=descending)
    assets = present + missing
    return json_response({"items": assets[offset : offset + limit], "total": len(assets)})


async def get_asset(request: web.Request) -> web.Response:
    return json_response(_visible(request, request.match_info["uuid"]))


async def create_asset(request: web.Request) -> web.Response:
    state = get_state(request)
    key = get_key(request)
    store = assets_store(state)
    body = require_object(await read_json(request))
    fields = _validate(body, partial=False)
    uuid = body.get("uuid")
    if uuid is not None:
        if not is_uuid(uuid):
            raise ApiError(400, "Invalid parameters: uuid must be a UUID")
        if uuid in store.assets:
            raise ApiError(409, f"An asset with uuid {uuid} already exists")
    community = owning_community(state, key, body.get("community_uuid"), "community_uuid")
    by, _ = principal(key)
    asset = new_asset(
        store.rng,
        name=fields["name"],
        asset_type=fields["type"],
        category=fields.get("category"),
        criticality=fields.get("criticality", 0),
        community_uuid=community,
        entity_uuid=fields.get("entity_uuid"),
        atoms=fields.get("atoms", {}),
        props=fields.get("props", {}),
        tags=fields.get("tags", []),
        reviewed=fields.get("reviewed", False),
        source=fields.get("source", "manual"),
        description=fields.get("description"),
        created_by=by,
        now=state.now(),
        uuid=uuid,
    )
    store.assets[asset["uuid"]] = asset
    return json_response(asset)


async def update_asset(request: web.Request) -> web.Response:
    state = get_state(request)
    asset = _visible(request, request.match_info["uuid"])
    body = require_object(await read_json(request))
    fields = _validate(body, partial=True)
    for fixed in ("uuid", "community_uuid"):
        if fixed in body and body[fixed] != asset[fixed]:
            raise ApiError(400, f"Invalid parameters: {fixed} of an asset cannot change")
    by, _ = principal(get_key(request))
    if fields.get("reviewed") and not asset["reviewed"]:
        asset["reviewed_at"], asset["reviewed_by"] = iso_z(state.now()), by
    asset.update(fields)
    if "atoms" in fields:
        asset["nb_atoms"] = sum(len(v) for v in asset["atoms"].values())
    asset["updated_at"] = iso_z(state.now())
    return json_response(asset)


async def revoke_asset(request: web.Request) -> web.Response:
    state = get_state(request)
    asset = _visible(request, request.match_info["uuid"])
    by, _ = principal(get_key(request))
    asset["revoked"], asset["revoked_at"], asset["revoked_by"] = True, iso_z(state.now()), by
    asset["updated_at"] = iso_z(state.now())
    return json_response(asset)


async def delete_asset(request: web.Request) -> web.Response:
    asset = _visible(request, request.match_info["uuid"])
    del assets_store(get_state(request)).assets[asset["uuid"]]
    return web.Response(status=204)


def routes(state: EmulatorState) -> list[Route]:
    assets_store(state)
    base = "/v2/asset-management/assets"
    one = base + "/{uuid}"
    return [
        Route("GET", base, list_assets, "View assets", "assets.list"),
        Route("POST", base, create_asset, "Manage assets", "assets.create"),
        Route("GET", one, get_asset, "View assets", "assets.get"),
        Route("PUT", one, update_asset, "Manage assets", "assets.update"),
        Route("DELETE", one, delete_asset, "Manage assets", "assets.delete"),
        Route("PUT", one + "/revoke", revoke_asset, "Manage assets", "assets.revoke"),
    ]
