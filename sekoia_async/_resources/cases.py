"""Cases (``/v1/sic/cases``): CRUD, the alerts of a case, and comments."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from .._helpers.pagination import DEFAULT_CONCURRENCY, AsyncPager
from .._models._converter import structure
from .._models.alerts import Alert
from .._models.cases import Case, CaseComment, CasePriority
from .._transport.paths import quote_path_param
from ._base import Resource
from .alerts import (
    AlertFilters,
    FilterValue,
    TimeBound,
    alert_filter_params,
    filter_params,
    filter_table,
    offset_pager,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["CASE_FILTERS", "CaseFilters", "CasesResource", "case_body", "case_id"]

_PATH = "/v1/sic/cases"
_MAX_LIMIT = 100
_MAX_CUSTOM_FIELDS = 25
_UNSET: Any = object()


class CaseFilters(TypedDict, total=False):
    """Filters of ``GET /v1/sic/cases``: a plain name is ``match[name]``, ``exclude_<name>`` is
    ``nomatch[name]``; ``created_at``/``updated_at``/``last_seen_at`` take ``(start, end)``."""

    tags: FilterValue
    assignees: FilterValue
    created_by: FilterValue
    updated_by: FilterValue
    title: FilterValue
    alert_uuid: FilterValue
    asset_uuid: FilterValue
    # low | medium | high
    priority: FilterValue
    custom_priority: FilterValue
    custom_status: FilterValue
    verdict: FilterValue
    short_id: FilterValue
    uuid: FilterValue
    status_uuid: FilterValue
    status_name: FilterValue
    custom_field: FilterValue
    # automatic | manual
    type: FilterValue
    community_uuid: FilterValue
    exclude_assignees: FilterValue
    exclude_created_by: FilterValue
    exclude_custom_status: FilterValue
    created_at: tuple[TimeBound, TimeBound]
    updated_at: tuple[TimeBound, TimeBound]
    last_seen_at: tuple[TimeBound, TimeBound]


CASE_FILTERS = filter_table(CaseFilters, dates=("created_at", "updated_at", "last_seen_at"))


def case_id(case: Case | str) -> str:
    """The path segment naming a case: its uuid (or short id), percent-quoted."""
    return quote_path_param(case.uuid if isinstance(case, Case) else case)


def _alert_refs(alerts: Iterable[Alert | str]) -> list[str]:
    refs: list[str] = []
    for alert in alerts:
        ref = (alert.uuid or alert.short_id) if isinstance(alert, Alert) else alert
        if not ref:
            raise ValueError("every alert must have a uuid or short_id")
        refs.append(ref)
    return refs


def case_body(fields: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The JSON body of a case create/update; ValueError naming a field the API would refuse."""
    body = {k: v for k, v in fields.items() if v is not _UNSET}
    title = body.get("title")
    if (creating or "title" in body) and (not isinstance(title, str) or not title.strip()):
        raise ValueError(f"title must be a non-empty string, got {title!r}")
    if "description" in body and not creating and not body["description"]:
        # Sekoia rejects an empty description on update (its own integration drops it).
        raise ValueError("description cannot be emptied; pass a non-empty text or leave it out")
    if "priority" in body and body["priority"] is not None:
        try:
            body["priority"] = CasePriority(body["priority"]).value
        except ValueError:
            raise ValueError(
                f"priority must be low, medium or high, got {body['priority']!r}"
            ) from None
    confidence = body.get("verdict_confidence")
    if confidence is not None and (
        isinstance(confidence, bool)
        or not isinstance(confidence, int)
        or not 0 <= confidence <= 100
    ):
        raise ValueError(f"verdict_confidence must be an integer from 0 to 100, got {confidence!r}")
    if "assignees" in body:
        assignees = body.pop("assignees")
        body["subscribers"] = [{"avatar_uuid": a, "type": "assignee"} for a in assignees or ()]
    if "tags" in body:
        body["tags"] = list(body["tags"] or ())
    if "custom_fields" in body:
        custom = dict(body["custom_fields"] or {})
        if len(custom) > _MAX_CUSTOM_FIELDS:
            raise ValueError(
                f"at most {_MAX_CUSTOM_FIELDS} custom fields per request, got {len(custom)}"
            )
        body["custom_fields"] = [{"uuid": k, "value": v} for k, v in custom.items()]
    if not body:
        raise ValueError("nothing to update: pass at least one field")
    return body


class CasesResource(Resource):
    """``client.cases``: Sekoia cases."""

    __slots__ = ()

    def list(
        self,
        *,
        sort: Literal["created_at", "title"] | None = None,
        direction: Literal["asc", "desc"] | None = None,
        with_custom_statuses: bool | None = None,
        limit: int = _MAX_LIMIT,
        max_items: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        **filters: Unpack[CaseFilters],
    ) -> AsyncPager[Case]:
        """Cases matching ``filters`` (see CaseFilters), ``limit`` (1-100) per page."""
        params = {
            **filter_params(filters, CASE_FILTERS, f"GET {_PATH}"),
            "sort": sort,
            "direction": direction,
            "with_custom_statuses": with_custom_statuses,
        }
        return offset_pager(
            self._client, _PATH, params, Case, limit, _MAX_LIMIT, max_items, concurrency
        )

    async def get(self, case: Case | str, *, community_uuid: str | None = None) -> Case:
        """One case by uuid."""
        params = {"community_uuid": community_uuid} if community_uuid else None
        data = await self._client.request("GET", f"{_PATH}/{case_id(case)}", params=params)
        return structure(data, Case)

    async def create(
        self,
        title: str,
        *,
        description: str = _UNSET,
        priority: CasePriority | str = _UNSET,
        status_uuid: str = _UNSET,
        community_uuid: str = _UNSET,
        tags: Iterable[str] = _UNSET,
        assignees: Iterable[str] = _UNSET,
        verdict_uuid: str = _UNSET,
        custom_status_uuid: str = _UNSET,
        custom_priority_uuid: str = _UNSET,
        custom_fields: Mapping[str, Any] = _UNSET,
    ) -> Case:
        """Open a case. ``assignees`` are avatar (user) uuids; ``custom_fields`` maps a custom
        field uuid to its value (at most 25)."""
        fields = dict(locals())
        del fields["self"]
        data = await self._client.request("POST", _PATH, json=case_body(fields, creating=True))
        return structure(data, Case)

    async def update(
        self,
        case: Case | str,
        *,
        title: str = _UNSET,
        description: str = _UNSET,
        priority: CasePriority | str | None = _UNSET,
        status_uuid: str = _UNSET,
        status_name: str = _UNSET,
        tags: Iterable[str] = _UNSET,
        assignees: Iterable[str] = _UNSET,
        verdict_uuid: str | None = _UNSET,
        verdict_analysis: str | None = _UNSET,
        verdict_confidence: int | None = _UNSET,
        custom_status_uuid: str = _UNSET,
        custom_priority_uuid: str = _UNSET,
    ) -> Case:
        """Change fields of a case (only those given)."""
        fields = dict(locals())
        del fields["self"], fields["case"]
        body = case_body(fields, creating=False)
        data = await self._client.request("PATCH", f"{_PATH}/{case_id(case)}", json=body)
        return structure(data, Case)

    async def delete(self, case: Case | str) -> None:
        """Delete a case."""
        await self._client.request("DELETE", f"{_PATH}/{case_id(case)}")

    async def add_alerts(self, case: Case | str, alerts: Iterable[Alert | str]) -> None:
        """Add alerts (objects, uuids or short ids) to a case, keeping those already in it."""
        refs = _alert_refs(alerts)
        if not refs:
            raise ValueError("give at least one alert to add")
        await self._client.request(
            "PATCH", f"{_PATH}/{case_id(case)}/alerts", json={"alerts": refs}
        )

    async def replace_alerts(self, case: Case | str, alerts: Iterable[Alert | str]) -> None:
        """Make ``alerts`` the exact set of alerts of a case (others are removed from it)."""
        await self._client.request(
            "POST", f"{_PATH}/{case_id(case)}/alerts", json={"alerts": _alert_refs(alerts)}
        )

    def list_alerts(
        self,
        case: Case | str,
        *,
        sort: Literal["occurrences", "updated_at", "created_at", "urgency"] | None = None,
        direction: Literal["asc", "desc"] | None = None,
        limit: int = _MAX_LIMIT,
        max_items: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        **filters: Unpack[AlertFilters],
    ) -> AsyncPager[Alert]:
        """The alerts of a case, with the same filters as ``client.alerts.list``."""
        params = {**alert_filter_params(filters), "sort": sort, "direction": direction}
        path = f"{_PATH}/{case_id(case)}/alerts"
        return offset_pager(
            self._client, path, params, Alert, limit, _MAX_LIMIT, max_items, concurrency
        )

    def list_comments(
        self,
        case: Case | str,
        *,
        sort: Literal["created_at", "created_by", "updated_at"] | None = None,
        direction: Literal["asc", "desc"] | None = None,
        limit: int = _MAX_LIMIT,
        max_items: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> AsyncPager[CaseComment]:
        """The comments of a case."""
        path = f"{_PATH}/{case_id(case)}/comments"
        params = {"sort": sort, "direction": direction}
        return offset_pager(
            self._client, path, params, CaseComment, limit, _MAX_LIMIT, max_items, concurrency
        )

    async def add_comment(self, case: Case | str, content: str) -> CaseComment:
        """Comment on a case."""
        if not content or not content.strip():
            raise ValueError("a comment needs a non-empty content")
        data = await self._client.request(
            "POST", f"{_PATH}/{case_id(case)}/comments", json={"content": content}
        )
        return structure(data, CaseComment)
