"""Rules catalog (``/v1/sic/conf/rules-catalog/rules``): list (paged by page number), get,
create, update, delete, enable, disable."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._helpers.pagination import DEFAULT_CONCURRENCY, AsyncPager
from .._models._converter import structure
from .._models.rules import Rule, RuleType
from .._transport.paths import quote_path_param
from ._base import Resource
from ._listing import parse_envelope

__all__ = ["RulesResource", "rule_body", "rule_id"]

_PATH = "/v1/sic/conf/rules-catalog/rules"
_MAX_LIMIT = 100
_UNSET: Any = object()


def rule_id(rule: Rule | str) -> str:
    """The path segment naming a rule (its uuid), percent-quoted."""
    return quote_path_param(rule.uuid if isinstance(rule, Rule) else rule)


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")


def rule_body(fields: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The JSON body of a rule create/update; ValueError naming a field the API would refuse:
    name 5-100 characters, description at most 1000, severity 0-100, effort 1-4."""
    body = {k: v for k, v in fields.items() if v is not _UNSET}
    extra = body.pop("extra", None) or {}
    if creating:
        required = ("type", "description", "payload", "severity", "effort", "alert_type_uuid")
        missing = [k for k in required if body.get(k) is None]
        if missing:
            raise ValueError(f"a new rule needs {', '.join(missing)}")
    if creating or "name" in body:
        name = body.get("name")
        if not isinstance(name, str) or not 5 <= len(name) <= 100:
            raise ValueError(f"name must be 5 to 100 characters long, got {name!r}")
    if body.get("description") is not None and len(body["description"]) > 1000:
        raise ValueError("description must be at most 1000 characters long")
    if "severity" in body:
        _check_int("severity", body["severity"], 0, 100)
    if "effort" in body:
        _check_int("effort", body["effort"], 1, 4)
        # RuleEffort members are ints; send the plain number.
        body["effort"] = int(body["effort"])
    if "type" in body:
        body["type"] = getattr(body["type"], "value", body["type"])
        if not isinstance(body["type"], str) or not body["type"]:
            raise ValueError(f"type must be a rule type such as 'sigma', got {body['type']!r}")
    for key in ("tags", "entities", "assets", "datasources"):
        if key in body and body[key] is not None:
            body[key] = list(body[key])
    body.update(extra)
    if not body:
        raise ValueError("nothing to update: pass at least one field")
    return body


class RulesResource(Resource):
    """``client.rules``: the detection rules catalog."""

    __slots__ = ()

    def list(
        self,
        *,
        name: str | Sequence[str] | None = None,
        severity: str | int | Sequence[str | int] | None = None,
        type: RuleType | str | None = None,
        enabled: bool | None = None,
        match: Mapping[str, str | Sequence[str]] | None = None,
        limit: int = _MAX_LIMIT,
        max_items: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> AsyncPager[Rule]:
        """Rules of the catalog, matched by ``name``, ``severity``, ``type``, ``enabled`` (each a
        ``match[...]`` filter; several values are ORed) or any other ``match={field: values}``."""
        filters: dict[str, Any] = dict(match or {})
        for key, value in (("name", name), ("severity", severity), ("enabled", enabled)):
            if value is not None:
                filters[key] = value
        if type is not None:
            filters["type"] = getattr(type, "value", type)
        base: dict[str, Any] = {"match": filters} if filters else {}
        client = self._client

        async def fetch_page(
            page_limit: int, page: int
        ) -> tuple[Sequence[Rule], int | None, bool | None]:
            data = await client.request(
                "GET", _PATH, params={**base, "limit": page_limit, "page": page}
            )
            return parse_envelope(data, Rule, limit=page_limit, path=_PATH)

        return AsyncPager.page_numbered(
            fetch_page,
            page_size=limit,
            max_items=max_items,
            concurrency=concurrency,
            max_page_size=_MAX_LIMIT,
        )

    async def get(self, rule: Rule | str) -> Rule:
        """One rule by uuid."""
        data = await self._client.request("GET", f"{_PATH}/{rule_id(rule)}")
        return structure(data, Rule)

    async def create(
        self,
        name: str,
        *,
        type: RuleType | str,
        description: str,
        payload: str,
        severity: int,
        effort: int,
        alert_type_uuid: str,
        enabled: bool = True,
        community_uuid: str = _UNSET,
        tags: Iterable[str] = _UNSET,
        all_entities: bool = _UNSET,
        entities: Iterable[str] = _UNSET,
        all_assets: bool = _UNSET,
        assets: Iterable[str] = _UNSET,
        datasources: Iterable[str] = _UNSET,
        extra: Mapping[str, Any] | None = None,
    ) -> Rule:
        """Create a rule with the quickstart's fields (e.g. ``type="sigma"`` and its YAML
        ``payload``). ``severity`` is 0-100, ``effort`` 1-4 (see RuleEffort), ``alert_type_uuid``
        the alert type raised; ``extra`` carries any other field of the API."""
        fields = dict(locals())
        del fields["self"]
        data = await self._client.request("POST", _PATH, json=rule_body(fields, creating=True))
        return structure(data, Rule)

    async def update(
        self,
        rule: Rule | str,
        *,
        name: str = _UNSET,
        type: RuleType | str = _UNSET,
        payload: str = _UNSET,
        severity: int = _UNSET,
        effort: int = _UNSET,
        alert_type_uuid: str = _UNSET,
        description: str = _UNSET,
        enabled: bool = _UNSET,
        community_uuid: str = _UNSET,
        tags: Iterable[str] = _UNSET,
        extra: Mapping[str, Any] | None = None,
    ) -> Rule:
        """Change fields of a rule (sent with PUT, as Sekoia's own integration does)."""
        fields = dict(locals())
        del fields["self"], fields["rule"]
        body = rule_body(fields, creating=False)
        data = await self._client.request("PUT", f"{_PATH}/{rule_id(rule)}", json=body)
        return structure(data, Rule)

    async def delete(self, rule: Rule | str, *, community_uuid: str | None = None) -> None:
        """Delete a rule."""
        params = {"community_uuid": community_uuid} if community_uuid else None
        await self._client.request("DELETE", f"{_PATH}/{rule_id(rule)}", params=params)

    async def enable(self, rule: Rule | str, *, community_uuid: str | None = None) -> None:
        """Enable a rule (for ``community_uuid``, in a multi-tenant setup)."""
        params = {"community_uuid": community_uuid} if community_uuid else None
        await self._client.request("PUT", f"{_PATH}/{rule_id(rule)}/enabled", params=params)

    async def disable(self, rule: Rule | str, *, community_uuid: str | None = None) -> None:
        """Disable a rule (for ``community_uuid``, in a multi-tenant setup)."""
        params = {"community_uuid": community_uuid} if community_uuid else None
        await self._client.request("PUT", f"{_PATH}/{rule_id(rule)}/disabled", params=params)
