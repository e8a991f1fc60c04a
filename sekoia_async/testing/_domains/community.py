"""Emulated community/identity service: communities, their roles, invitations, ``/me``, key checks.

Paths (sekoia-api.md §2.8): ``GET /v1/communities``, ``GET /v1/communities/{uuid}``,
``GET /v1/communities/{uuid}/roles`` (the roles a user can be invited with; the path follows the
identity API's ``/v1/communities/{community_uuid}/roles/{role_uuid}`` assignment route),
``POST /v1/invitations`` with the quickstart's body, ``GET /v1/invitations``, ``GET /v1/me``,
``GET /v1/auth/validate`` and the legacy ``GET /v1/apiauth/auth/validate``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .._routing import (
    ApiError,
    ApiKey,
    EmulatorState,
    Route,
    get_key,
    get_state,
    json_response,
    paginate_params,
    read_json,
)
from ._common import (
    community_name,
    community_scope,
    in_scope,
    is_email,
    is_uuid,
    iso,
    new_uuid,
    principal,
    reject_unknown,
    require_object,
)
from ._stores import community_store, roles_of

_COMMUNITY_DEFAULTS: dict[str, Any] = {
    "description": "",
    "homepage_url": None,
    "picture_mode": "initials",
    "created_by": None,
    "created_by_type": None,
    "is_parent": False,
    "parent_community_uuid": None,
    "subcommunities": [],
    "is_mfa_enforced": False,
    "session_timeout": 720,
    "disable_inactive_avatars": False,
    "disabled": False,
}


def render_community(state: EmulatorState, community: dict[str, Any]) -> dict[str, Any]:
    """A community with every field of §2.8 (the core seeds only some of them)."""
    out = {**_COMMUNITY_DEFAULTS, **community}
    out.setdefault("created_at", iso(state.now() - 365 * 86400))
    out.setdefault("updated_at", out["created_at"])
    if not out["subcommunities"]:
        out["subcommunities"] = [
            c["uuid"]
            for c in state.communities
            if c.get("parent_community_uuid") == community.get("uuid")
        ]
    out["is_parent"] = bool(out["is_parent"] or out["subcommunities"])
    return out


def _visible_communities(request: web.Request) -> list[dict[str, Any]]:
    state = get_state(request)
    scope = community_scope(state, get_key(request))
    return [c for c in state.communities if in_scope(scope, c.get("uuid"))]


def _find_community(request: web.Request, ident: str) -> dict[str, Any]:
    for community in _visible_communities(request):
        if community.get("uuid") == ident:
            return community
    raise ApiError(404, f"Unknown community {ident}")


async def list_communities(request: web.Request) -> web.Response:
    state = get_state(request)
    limit, offset = paginate_params(request, default=100, maximum=1000)
    communities = _visible_communities(request)
    return json_response(
        {
            "items": [render_community(state, c) for c in communities[offset : offset + limit]],
            "total": len(communities),
        }
    )


async def get_community(request: web.Request) -> web.Response:
    community = _find_community(request, request.match_info["uuid"])
    return json_response(render_community(get_state(request), community))


async def list_roles(request: web.Request) -> web.Response:
    community = _find_community(request, request.match_info["uuid"])
    limit, offset = paginate_params(request, default=100, maximum=1000)
    roles = roles_of(get_state(request), community["uuid"])
    return json_response({"items": roles[offset : offset + limit], "total": len(roles)})


async def create_invitation(request: web.Request) -> web.Response:
    """The quickstart's ``{"email", "communities": {community_uuid: [role_uuid, ...]}}``.

    The audit log's ``{"emails": [...]}`` form is accepted too; one invitation per address.
    """
    state = get_state(request)
    body = require_object(await read_json(request))
    reject_unknown(body, ("email", "emails", "communities"))
    emails: list[Any]
    if "email" in body and "emails" in body:
        raise ApiError(400, "Invalid parameters: give email or emails, not both")
    if "emails" in body:
        emails = body["emails"] if isinstance(body["emails"], list) else [body["emails"]]
        field = "emails"
    elif "email" in body:
        emails, field = [body["email"]], "email"
    else:
        raise ApiError(400, "Invalid parameters: email is required")
    if not emails:
        raise ApiError(400, "Invalid parameters: emails must not be empty")
    for email in emails:
        if not is_email(email):
            raise ApiError(
                400, f"Invalid parameters: {field} {email!r} is not a valid email address"
            )
    communities = body.get("communities")
    if not isinstance(communities, dict) or not communities:
        raise ApiError(
            400,
            "Invalid parameters: communities must map community UUIDs to lists of role UUIDs",
        )
    visible = {c.get("uuid") for c in _visible_communities(request)}
    grants: dict[str, list[str]] = {}
    for community_uuid, role_uuids in communities.items():
        if not is_uuid(community_uuid):
            raise ApiError(
                400, f"Invalid parameters: communities key {community_uuid!r} is not a UUID"
            )
        if community_uuid not in visible:
            raise ApiError(404, f"Unknown community {community_uuid}")
        if not isinstance(role_uuids, list) or not role_uuids:
            raise ApiError(
                400,
                f"Invalid parameters: communities.{community_uuid} must be a non-empty list "
                "of role UUIDs",
            )
        known = {r["uuid"] for r in roles_of(state, community_uuid)}
        for role_uuid in role_uuids:
            if role_uuid not in known:
                raise ApiError(
                    400,
                    f"Invalid parameters: role {role_uuid!r} is not a role of community "
                    f"{community_uuid} (list them with GET /v1/communities/{community_uuid}/roles)",
                )
        grants[community_uuid] = list(role_uuids)
    store = community_store(state)
    by, by_type = principal(get_key(request))
    now = iso(state.now())
    created = []
    for email in emails:
        invitation = {
            "uuid": new_uuid(store.rng),
            "email": email,
            "communities": grants,
            "status": "pending",
            "created_at": now,
            "created_by": by,
            "created_by_type": by_type,
            "expire_at": iso(state.now() + 7 * 86400),
        }
        store.invitations.append(invitation)
        created.append(invitation)
    return json_response(
        created[0] if field == "email" else {"items": created, "total": len(created)}
    )


async def list_invitations(request: web.Request) -> web.Response:
    state = get_state(request)
    limit, offset = paginate_params(request, default=100, maximum=1000)
    scope = community_scope(state, get_key(request))
    invitations = [
        i
        for i in community_store(state).invitations
        if any(in_scope(scope, c) for c in i["communities"])
    ]
    return json_response({"items": invitations[offset : offset + limit], "total": len(invitations)})


def _key_summary(key: ApiKey) -> dict[str, Any]:
    # Never the key itself: only what identifies it.
    return {
        "uuid": key.uuid,
        "name": key.name,
        "community_uuid": key.community_uuid,
        "permissions": sorted(key.permissions),
    }


async def me(request: web.Request) -> web.Response:
    """For an API key, ``/me`` describes the key's principal (quickstart fields first)."""
    state = get_state(request)
    key = get_key(request)
    name = community_name(state, key.community_uuid)
    return json_response(
        {
            "uuid": key.uuid,
            "email": f"apikey-{key.uuid[:8]}@emulator.invalid",
            "firstname": "API key",
            "lastname": key.name,
            "company_name": name or "",
            "type": "apikey",
            "picture_mode": "initials",
            "mfa_enabled": False,
            "auth_provider": "apikey",
            "community": {"uuid": key.community_uuid, "name": name},
            "communities": [
                {
                    "uuid": c["uuid"],
                    "name": c.get("name"),
                    "avatar_uuid": key.uuid,
                    "disabled": False,
                }
                for c in _visible_communities(request)
            ],
            "permissions": sorted(key.permissions),
        }
    )


async def validate(request: web.Request) -> web.Response:
    """The key check integrations call: 200 with the key's identity (401 is the core's job)."""
    return json_response({"valid": True, **_key_summary(get_key(request))})


def routes(state: EmulatorState) -> list[Route]:
    return [
        Route("GET", "/v1/communities", list_communities, "View communities", "communities.list"),
        Route(
            "GET", "/v1/communities/{uuid}", get_community, "View communities", "communities.get"
        ),
        Route(
            "GET",
            "/v1/communities/{uuid}/roles",
            list_roles,
            "View communities",
            "communities.roles",
        ),
        Route(
            "POST", "/v1/invitations", create_invitation, "Manage invitations", "invitations.create"
        ),
        Route("GET", "/v1/invitations", list_invitations, "Manage invitations", "invitations.list"),
        Route("GET", "/v1/me", me, None, "account.me"),
        Route("GET", "/v1/auth/validate", validate, None, "account.validate"),
        Route("GET", "/v1/apiauth/auth/validate", validate, None, "account.validate_legacy"),
    ]
