"""Pure parts of the alerts and cases resources: the filter tables against the spec, the
workflow action resolution, and case bodies. No network, no event loop."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sekoia_async import AlertStatusName, WorkflowAction, WorkflowActionName
from sekoia_async._models._converter import structure
from sekoia_async._resources.alerts import (
    ALERT_FILTERS,
    alert_filter_params,
    resolve_status_action,
)
from sekoia_async._resources.cases import CASE_FILTERS, case_body
from sekoia_async._transport.filters import encode_filters

SPEC = json.loads((Path(__file__).parent / "data" / "sekoia-sic-openapi.json").read_text())


def spec_filters(path: str) -> set[str]:
    """The match[]/nomatch[]/date[]/range[] query parameters of a GET operation."""
    params = SPEC["paths"][path]["get"]["parameters"]
    return {p["name"] for p in params if "[" in p["name"]}


def encoded_names(table: dict[str, tuple[str, str]]) -> set[str]:
    return {f"{family}[{field}]" for family, field in table.values() if family != "param"}


def test_every_alert_filter_of_the_spec_is_a_keyword_argument() -> None:
    assert spec_filters("/v1/sic/alerts") == encoded_names(ALERT_FILTERS)
    assert spec_filters("/v1/sic/alerts/count") == encoded_names(ALERT_FILTERS)


def test_every_case_filter_of_the_spec_is_a_keyword_argument() -> None:
    assert spec_filters("/v1/sic/cases") == encoded_names(CASE_FILTERS)


def test_alert_filters_encode_to_sekoia_syntax() -> None:
    params = alert_filter_params(
        {
            "entity_name": ["entity1", "entity2"],
            "rule_name": "rule1",
            "exclude_status_uuid": AlertStatusName.CLOSED.uuid,
            "status_name": [AlertStatusName.PENDING, AlertStatusName.ACKNOWLEDGED],
            "created_at": ("2025-01-01T00:00:00", "2025-12-31T23:59:59"),
            "urgency": (80, 100),
            "visible": True,
            "similar_to": None,
        }
    )
    assert dict(encode_filters(params)) == {
        "match[entity_name]": "entity1,entity2",
        "match[rule_name]": "rule1",
        "nomatch[status_uuid]": AlertStatusName.CLOSED.uuid,
        "match[status_name]": "Pending,Acknowledged",
        # The spec's own example value for date[created_at].
        "date[created_at]": "2025-01-01T00:00:00,2025-12-31T23:59:59",
        "range[urgency]": "80,100",
        "visible": "true",
    }


def test_datetime_bounds_go_out_as_utc_rfc3339() -> None:
    start = datetime(2025, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    params = alert_filter_params({"updated_at": (start, datetime(2025, 1, 2, 12, 30, 5))})
    assert dict(encode_filters(params)) == {
        "date[updated_at]": "2025-01-01T00:00:00Z,2025-01-02T12:30:05Z"
    }


def test_unknown_filter_names_the_known_ones() -> None:
    with pytest.raises(TypeError, match=r"no filter 'statuss'.*status_name"):
        alert_filter_params({"statuss": "x"})


def actions(*names: str) -> tuple[WorkflowAction, ...]:
    data: Any = [{"id": WorkflowActionName(n).uuid, "name": n} for n in names]
    return tuple(structure(a, WorkflowAction) for a in data)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Closed", WorkflowActionName.CLOSE),
        ("closed", WorkflowActionName.CLOSE),
        (AlertStatusName.REJECTED, WorkflowActionName.REJECT),
        (AlertStatusName.CLOSED.uuid, WorkflowActionName.CLOSE),
        ("Close", WorkflowActionName.CLOSE),
        (WorkflowActionName.REJECT.uuid, WorkflowActionName.REJECT),
    ],
)
def test_status_resolves_to_the_action_leading_there(
    status: str, expected: WorkflowActionName
) -> None:
    assert resolve_status_action(actions("Close", "Reject"), status) == expected.uuid


def test_unreachable_status_resolves_to_none() -> None:
    assert resolve_status_action(actions("Acknowledge", "Reject"), "Closed") is None
    assert resolve_status_action((), "Closed") is None


def test_custom_workflow_actions_resolve_by_name() -> None:
    custom = (
        structure(
            {"id": "0c9e4f0a-1111-4aaa-8bbb-222233334444", "name": "Escalate"}, WorkflowAction
        ),
    )
    assert resolve_status_action(custom, "escalate") == "0c9e4f0a-1111-4aaa-8bbb-222233334444"


def test_case_body() -> None:
    body = case_body(
        {
            "title": "Case",
            "priority": "high",
            "assignees": ["u1"],
            "tags": ("a",),
            "custom_fields": {"f1": True},
        },
        creating=True,
    )
    assert body == {
        "title": "Case",
        "priority": "high",
        "subscribers": [{"avatar_uuid": "u1", "type": "assignee"}],
        "tags": ["a"],
        "custom_fields": [{"uuid": "f1", "value": True}],
    }
    # priority None clears it on update (the spec allows null there).
    assert case_body({"priority": None}, creating=False) == {"priority": None}
    with pytest.raises(ValueError, match="nothing to update"):
        case_body({}, creating=False)
