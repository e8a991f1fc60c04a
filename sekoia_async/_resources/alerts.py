"""Alerts (``/v1/sic/alerts``): list with every filter of the spec, count, get, update, the
status workflow and comments."""

from __future__ import annotations

import uuid as _uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar

from .._helpers.pagination import DEFAULT_CONCURRENCY, AsyncPager
from .._models._converter import structure
from .._models.alerts import (
    Alert,
    AlertComment,
    AlertStatusName,
    AlertWorkflow,
    KillChainStep,
    WorkflowAction,
    WorkflowActionName,
)
from .._transport.paths import quote_path_param
from ..errors import APIResponseValidationError
from ._base import Resource
from ._listing import parse_envelope

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._client import SekoiaClient

T = TypeVar("T")

__all__ = [
    "ALERT_FILTERS",
    "AlertFilters",
    "AlertsResource",
    "alert_filter_params",
    "alert_id",
]

_PATH = "/v1/sic/alerts"
_MAX_LIMIT = 100
_MAX_COMMENTS_LIMIT = 100
_UNSET: Any = object()

FilterValue = str | Sequence[str]
TimeBound = str | datetime
Bounds = tuple[TimeBound, TimeBound]


class AlertFilters(TypedDict, total=False):
    """Filters of ``GET /v1/sic/alerts`` (and count, case alerts).

    A plain name is ``match[name]`` (several values are ORed), ``exclude_<name>`` is
    ``nomatch[name]``, ``created_at``/``updated_at`` take ``(start, end)`` (ISO 8601, relative
    like ``-7d``/``now``, or datetimes) and ``urgency``/``similar`` take ``(min, max)``.
    """

    community_uuid: FilterValue
    entity_name: FilterValue
    entity_uuid: FilterValue
    status_uuid: FilterValue
    status_name: FilterValue
    type_category: FilterValue
    type_value: FilterValue
    source: FilterValue
    target: FilterValue
    node: FilterValue
    stix_object: FilterValue
    rule_uuid: FilterValue
    rule_name: FilterValue
    detection_type: FilterValue
    short_id: FilterValue
    uuid: FilterValue
    title: FilterValue
    resolved_title: FilterValue
    asset_uuid: FilterValue
    urgency_display: FilterValue
    case_short_id: FilterValue
    assignee: FilterValue
    custom_status_uuid: FilterValue
    verdict_uuid: FilterValue
    # "<custom field uuid>:<value>"
    custom_field: FilterValue
    exclude_asset_uuid: FilterValue
    exclude_entity_uuid: FilterValue
    exclude_rule_uuid: FilterValue
    exclude_rule_name: FilterValue
    exclude_detection_type: FilterValue
    exclude_source: FilterValue
    exclude_target: FilterValue
    exclude_status_uuid: FilterValue
    exclude_stix_object: FilterValue
    exclude_type_value: FilterValue
    exclude_urgency_display: FilterValue
    exclude_assignee: FilterValue
    exclude_custom_status_uuid: FilterValue
    exclude_verdict_uuid: FilterValue
    created_at: Bounds
    updated_at: Bounds
    urgency: tuple[int, int]
    similar: tuple[int, int]
    visible: bool
    is_assigned_to_case: bool
    # Short ID of an alert: only alerts similar to it.
    similar_to: str


#: keyword argument -> (query parameter family, field): "match", "nomatch", "date", "range" or
#: "param" (a plain query parameter).
def filter_table(
    filters: type,
    *,
    dates: Sequence[str] = (),
    ranges: Sequence[str] = (),
    params: Sequence[str] = (),
) -> dict[str, tuple[str, str]]:
    """The keyword -> (family, field) table of a filters TypedDict (see ALERT_FILTERS)."""
    table: dict[str, tuple[str, str]] = {}
    for name in filters.__annotations__:
        if name.startswith("exclude_"):
            table[name] = ("nomatch", name.removeprefix("exclude_"))
        elif name in dates:
            table[name] = ("date", name)
        elif name in ranges:
            table[name] = ("range", name)
        elif name in params:
            table[name] = ("param", name)
        else:
            table[name] = ("match", name)
    return table


ALERT_FILTERS = filter_table(
    AlertFilters,
    dates=("created_at", "updated_at"),
    ranges=("urgency", "similar"),
    params=("visible", "is_assigned_to_case", "similar_to"),
)


def _text(value: Any) -> Any:
    # Enum members (AlertStatusName, UrgencyDisplay...) go out as their API value.
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_text(v) for v in value]
    return getattr(value, "value", value)


def filter_params(
    filters: Mapping[str, Any], table: Mapping[str, tuple[str, str]], endpoint: str
) -> dict[str, Any]:
    """Request params (``match``/``nomatch``/``date``/``range`` dicts) from keyword filters."""
    params: dict[str, Any] = {}
    for name, value in filters.items():
        try:
            family, field = table[name]
        except KeyError:
            known = ", ".join(sorted(table))
            raise TypeError(f"{endpoint} has no filter {name!r}; known filters: {known}") from None
        if value is None:
            continue
        if family == "param":
            params[field] = value
        elif family == "date":
            params.setdefault(family, {})[field] = tuple(_rfc3339(v) for v in value)
        elif family == "range":
            params.setdefault(family, {})[field] = tuple(value)
        else:
            params.setdefault(family, {})[field] = _text(value)
    return params


def _rfc3339(value: Any) -> Any:
    # Datetimes go out as RFC 3339 UTC with "Z" (a naive one is taken as UTC), which needs no
    # escaping in a query string; strings (ISO, "-7d", "now") go out as given.
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return value


def alert_filter_params(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Request params for the alert filters (see AlertFilters); TypeError for an unknown one."""
    return filter_params(filters, ALERT_FILTERS, "GET /v1/sic/alerts")


def alert_id(alert: Alert | str) -> str:
    """The path segment naming an alert: its uuid or short id, percent-quoted."""
    if isinstance(alert, Alert):
        ident = alert.uuid or alert.short_id
        if not ident:
            raise ValueError("this Alert has neither uuid nor short_id: it cannot be addressed")
        return quote_path_param(ident)
    return quote_path_param(alert)


def offset_pager(
    client: SekoiaClient,
    path: str,
    params: Mapping[str, Any],
    cls: type[T],
    limit: int,
    max_limit: int,
    max_items: int | None,
    concurrency: int,
) -> AsyncPager[T]:
    """An AsyncPager over a ``limit``/``offset`` endpoint whose items are ``cls``; ValueError
    (before any request) when ``limit`` is outside 1..``max_limit``."""
    base = {k: v for k, v in params.items() if v is not None}

    async def fetch(page_limit: int, offset: int) -> tuple[list[T], int | None, bool | None]:
        data = await client.request(
            "GET", path, params={**base, "limit": page_limit, "offset": offset}
        )
        return parse_envelope(data, cls, limit=page_limit, path=path)

    return AsyncPager(
        fetch,
        page_size=limit,
        max_items=max_items,
        concurrency=concurrency,
        max_page_size=max_limit,
    )


def _is_uuid(value: str) -> bool:
    try:
        _uuid.UUID(value)
    except ValueError:
        return False
    return True


def _norm(value: Any) -> str:
    return str(getattr(value, "value", value)).strip().casefold()


def resolve_status_action(
    actions: Sequence[WorkflowAction], status: AlertStatusName | str
) -> str | None:
    """The id of the action among ``actions`` that moves an alert to ``status`` (a status name,
    a legacy or custom status UUID, or an action name/id), or None when none does."""
    wanted = _norm(status)
    legacy = AlertStatusName.from_uuid(wanted) if _is_uuid(wanted) else None
    for action in actions:
        if not action.id:
            continue
        name = _norm(action.name) if action.name is not None else ""
        if action.id.lower() == wanted or name == wanted:
            return action.id
        # A legacy action ("Close") leads to a legacy status ("Closed").
        try:
            target = WorkflowActionName(action.name).target
        except ValueError:
            continue
        if _norm(target) == wanted or target is legacy:
            return action.id
    return None


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")


class AlertsResource(Resource):
    """``client.alerts``: Sekoia alerts."""

    __slots__ = ()

    def list(
        self,
        *,
        sort: Literal[
            "created_at",
            "updated_at",
            "source",
            "target",
            "urgency",
            "entity",
            "type",
            "status",
            "rule_name",
            "similar",
        ]
        | None = None,
        direction: Literal["asc", "desc"] | None = None,
        stix: bool | None = None,
        cases: bool | None = None,
        with_count: bool | None = None,
        limit: int = _MAX_LIMIT,
        max_items: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        **filters: Unpack[AlertFilters],
    ) -> AsyncPager[Alert]:
        """Alerts matching ``filters`` (see AlertFilters), ``limit`` (1-100) per page.

        ``with_count=False`` spares the server the count; pages are then read one at a time.
        """
        params = {
            **alert_filter_params(filters),
            "sort": sort,
            "direction": direction,
            "stix": stix,
            "cases": cases,
            "with_count": with_count,
        }
        return offset_pager(
            self._client, _PATH, params, Alert, limit, _MAX_LIMIT, max_items, concurrency
        )

    async def count(self, **filters: Unpack[AlertFilters]) -> int:
        """How many alerts match ``filters`` (the same filters as ``list``)."""
        data = await self._client.request(
            "GET", f"{_PATH}/count", params=alert_filter_params(filters)
        )
        total = data.get("total") if isinstance(data, dict) else None
        if isinstance(total, bool) or not isinstance(total, int):
            raise APIResponseValidationError(
                f"GET {_PATH}/count did not return an integer total (got {data!r:.100}); "
                "check that the base URL points at the Sekoia API",
                body=data,
            )
        return total

    async def get(
        self,
        alert: Alert | str,
        *,
        stix: bool | None = None,
        comments: bool | None = None,
        history: bool | None = None,
        countermeasures: bool | None = None,
        cases: bool | None = None,
        custom_status: bool | None = None,
    ) -> Alert:
        """One alert, by uuid or short id (``AL...``), with its comments, history and
        countermeasures unless turned off."""
        params = {
            "stix": stix,
            "comments": comments,
            "history": history,
            "countermeasures": countermeasures,
            "cases": cases,
            "custom_status": custom_status,
        }
        data = await self._client.request(
            "GET",
            f"{_PATH}/{alert_id(alert)}",
            params={k: v for k, v in params.items() if v is not None},
        )
        return structure(data, Alert)

    async def update(
        self,
        alert: Alert | str,
        *,
        title: str = _UNSET,
        details: str = _UNSET,
        urgency: int = _UNSET,
        alert_type_category: str = _UNSET,
        alert_type_value: str = _UNSET,
        kill_chain_short_id: str | None = _UNSET,
        assignee: str | None = _UNSET,
        verdict_uuid: str | None = _UNSET,
        verdict_analysis: str | None = _UNSET,
        verdict_confidence: int | None = _UNSET,
        custom_status_uuid: str | None = _UNSET,
        comment: str | None = _UNSET,
    ) -> Alert:
        """Change fields of an alert (only those given; ``None`` clears a nullable one).

        Status changes go through ``set_status``/``transition`` (the workflow).
        """
        body = {k: v for k, v in locals().items() if k not in ("self", "alert") and v is not _UNSET}
        if not body:
            raise ValueError("nothing to update: pass at least one field")
        _check_int("urgency", body.get("urgency"), 0, 100)
        _check_int("verdict_confidence", body.get("verdict_confidence"), 0, 100)
        if ("alert_type_category" in body) != ("alert_type_value" in body):
            raise ValueError("alert_type_category and alert_type_value must be given together")
        for key in ("alert_type_category", "alert_type_value"):
            if key in body and not 3 <= len(body[key]) <= 1000:
                raise ValueError(f"{key} must be 3 to 1000 characters long, got {body[key]!r}")
        if "title" in body and len(body["title"]) > 10000:
            raise ValueError("title must be at most 10000 characters long")
        data = await self._client.request("PATCH", f"{_PATH}/{alert_id(alert)}", json=body)
        return structure(data, Alert)

    async def delete(self, alert: Alert | str) -> None:
        """Delete an alert."""
        await self._client.request("DELETE", f"{_PATH}/{alert_id(alert)}")

    async def available_actions(self, alert: Alert | str) -> tuple[WorkflowAction, ...]:
        """The workflow actions the alert can take from its current status."""
        data = await self._client.request("GET", f"{_PATH}/{alert_id(alert)}/workflow")
        return structure(data, AlertWorkflow).actions

    async def transition(
        self,
        alert: Alert | str,
        action: WorkflowAction | WorkflowActionName | str,
        *,
        comment: str | None = None,
    ) -> None:
        """Apply one workflow action (an action object, a legacy action such as
        ``WorkflowActionName.CLOSE``, an action UUID, or an action name).

        Raises ConflictError (409) when the action is not valid from the alert's status.
        """
        if isinstance(action, WorkflowAction):
            if not action.id:
                raise ValueError("this WorkflowAction has no id: it cannot be applied")
            action_uuid = action.id
        elif isinstance(action, WorkflowActionName):
            action_uuid = action.uuid
        elif _is_uuid(action):
            action_uuid = action
        else:
            try:
                action_uuid = WorkflowActionName(action.strip().capitalize()).uuid
            except ValueError:
                actions = await self.available_actions(alert)
                found = next(
                    (
                        a.id
                        for a in actions
                        if a.name is not None and _norm(a.name) == _norm(action)
                    ),
                    None,
                )
                if found is None:
                    names = ", ".join(str(_text(a.name)) for a in actions) or "none"
                    raise ValueError(
                        f"no workflow action named {action!r} on this alert; available: {names}"
                    ) from None
                action_uuid = found
        await self._patch_workflow(alert, action_uuid, comment)

    async def set_status(
        self, alert: Alert | str, status: AlertStatusName | str, *, comment: str | None = None
    ) -> None:
        """Move an alert to ``status`` (``"Closed"``, ``AlertStatusName.CLOSED``, a status UUID
        or a custom status name), picking the workflow action that leads there, as Sekoia's own
        integrations do. ConflictError (409) if the status cannot be reached from the current one.
        """
        actions = await self.available_actions(alert)
        action_uuid = resolve_status_action(actions, status)
        if action_uuid is None:
            text = str(_text(status)).strip()
            try:
                legacy: AlertStatusName | None = AlertStatusName(text.capitalize())
            except ValueError:
                legacy = AlertStatusName.from_uuid(text) if _is_uuid(text) else None
            if legacy is None and not _is_uuid(text):
                names = ", ".join(str(_text(a.name)) for a in actions) or "none"
                raise ValueError(
                    f"unknown alert status {text!r}: use a status name (Pending, Acknowledged, "
                    f"Ongoing, Rejected, Closed), a status UUID or an action ({names})"
                )
            # Not reachable by an advertised action: the API accepts a status UUID as the
            # action and answers 409 if the move is invalid, which surfaces as ConflictError.
            action_uuid = legacy.uuid if legacy is not None else text
        await self._patch_workflow(alert, action_uuid, comment)

    async def _patch_workflow(
        self, alert: Alert | str, action_uuid: str, comment: str | None
    ) -> None:
        body: dict[str, Any] = {"action_uuid": action_uuid}
        if comment is not None:
            body["comment"] = comment
        await self._client.request("PATCH", f"{_PATH}/{alert_id(alert)}/workflow", json=body)

    def list_comments(
        self,
        alert: Alert | str,
        *,
        limit: int = _MAX_COMMENTS_LIMIT,
        max_items: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> AsyncPager[AlertComment]:
        """The comments of an alert."""
        path = f"{_PATH}/{alert_id(alert)}/comments"
        return offset_pager(
            self._client, path, {}, AlertComment, limit, _MAX_COMMENTS_LIMIT, max_items, concurrency
        )

    async def add_comment(
        self, alert: Alert | str, content: str, *, author: str | None = None
    ) -> AlertComment:
        """Comment on an alert; ``author`` (at most 32 characters) overrides the shown author."""
        if not content or not content.strip():
            raise ValueError("a comment needs a non-empty content")
        body: dict[str, Any] = {"content": content}
        if author is not None:
            if len(author) > 32:
                raise ValueError(f"author must be at most 32 characters long, got {len(author)}")
            body["author"] = author
        data = await self._client.request("POST", f"{_PATH}/{alert_id(alert)}/comments", json=body)
        return structure(data, AlertComment)

    async def get_kill_chain(self, kill_chain: str) -> KillChainStep:
        """A kill chain step by uuid or short id (``alert.kill_chain_short_id``)."""
        data = await self._client.request(
            "GET", f"/v1/sic/kill-chains/{quote_path_param(kill_chain)}"
        )
        return structure(data, KillChainStep)
