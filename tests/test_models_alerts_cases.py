"""The converter's rules on the alert/case/rule models, without network or event loop."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs
import pytest

from sekoia_async import (
    Alert,
    AlertStatusName,
    APIResponseValidationError,
    Case,
    CasePriority,
    Rule,
    RuleType,
    UrgencyDisplay,
    WorkflowActionName,
)
from sekoia_async._models._converter import parse_datetime, structure


def test_alert_unix_seconds_and_case_iso_strings_are_aware_datetimes() -> None:
    alert = structure({"uuid": "a", "created_at": 1700000000, "updated_at": "1700000060"}, Alert)
    assert alert.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert alert.updated_at == alert.created_at + timedelta(seconds=60)
    case = structure(
        {"uuid": "c", "created_at": "2022-12-15T10:08:21.434114+02:00", "updated_at": "2023-01-01"},
        Case,
    )
    assert case.created_at == datetime(2022, 12, 15, 8, 8, 21, 434114, tzinfo=timezone.utc)
    assert case.updated_at == datetime(2023, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-11-21T13:32:39.839600Z", datetime(2019, 11, 21, 13, 32, 39, 839600)),
        ("2019-11-21T13:32:39.8Z", datetime(2019, 11, 21, 13, 32, 39, 800000)),
        ("2019-11-21 13:32:39", datetime(2019, 11, 21, 13, 32, 39)),
        ("2019-11-21T15:32:39+02:00", datetime(2019, 11, 21, 13, 32, 39)),
        (1574343159000, datetime(2019, 11, 21, 13, 32, 39)),  # milliseconds
    ],
)
def test_timestamp_forms(text: str | int, expected: datetime) -> None:
    assert parse_datetime(text) == expected.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["now", "-30d", "yesterday", ""])
def test_relative_or_garbage_timestamps_are_refused(text: str) -> None:
    with pytest.raises((TypeError, ValueError)):
        parse_datetime(text)


def test_unknown_enum_values_stay_strings() -> None:
    alert = structure(
        {"uuid": "a", "status": {"name": "Escalated"}, "urgency": {"display": "Critical"}}, Alert
    )
    assert alert.status is not None
    assert alert.status.name == "Escalated"
    assert alert.urgency is not None
    assert alert.urgency.display == "Critical"
    known = structure({"uuid": "a", "status": {"name": "Closed"}}, Alert)
    assert known.status_name is AlertStatusName.CLOSED
    assert structure({"uuid": "c", "priority": "urgent"}, Case).priority == "urgent"
    assert structure({"uuid": "c", "priority": "high"}, Case).priority is CasePriority.HIGH
    assert structure({"uuid": "r", "type": "ml"}, Rule).type == "ml"
    assert structure({"uuid": "r", "type": "cti"}, Rule).type is RuleType.CTI


def test_unknown_fields_are_ignored_but_kept_in_raw_at_every_level() -> None:
    data = {
        "uuid": "a",
        "brand_new_field": {"x": 1},
        "rule": {"uuid": "r", "name": "n", "pattern": "p", "new_rule_field": True},
        "comments": [{"uuid": "c", "content": "hi", "date": 1, "reactions": ["+1"]}],
    }
    alert = structure(data, Alert)
    assert alert.raw == data
    assert alert.raw["brand_new_field"] == {"x": 1}
    assert alert.rule is not None
    assert alert.rule.raw["new_rule_field"] is True
    assert alert.comments[0].raw["reactions"] == ["+1"]
    # raw is not part of equality: two alerts with the same fields are equal.
    assert alert == structure({k: v for k, v in data.items() if k != "brand_new_field"}, Alert)


def test_missing_optional_fields_default_and_null_collections_become_empty() -> None:
    alert = structure({"uuid": "a", "ttps": None, "assets": None, "entity": None}, Alert)
    assert alert.title is None
    assert alert.entity is None
    assert alert.ttps == ()
    assert alert.assets == ()
    assert alert.comments == ()
    case = structure({"uuid": "c", "custom_fields": None, "tags": None}, Case)
    assert case.custom_fields == ()
    assert case.tags == ()


def test_models_are_frozen_slotted_and_keep_a_raw_field() -> None:
    alert = structure({"uuid": "a"}, Alert)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        alert.title = "x"  # type: ignore[misc]
    assert not hasattr(alert, "__dict__")
    assert "raw" not in repr(alert)


def test_wrong_shapes_raise_one_error_naming_every_bad_path() -> None:
    data = {"uuid": "a", "rule": "not an object", "created_at": "garbage"}
    with pytest.raises(APIResponseValidationError) as info:
        structure(data, Alert)
    assert "Alert.rule" in str(info.value)
    assert "Alert.created_at" in str(info.value)
    assert info.value.body == data


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0, UrgencyDisplay.LOW),
        (19, UrgencyDisplay.LOW),
        (20, UrgencyDisplay.MODERATE),
        (59, UrgencyDisplay.HIGH),
        (60, UrgencyDisplay.MAJOR),
        (80, UrgencyDisplay.URGENT),
        (100, UrgencyDisplay.URGENT),
    ],
)
def test_urgency_bands(value: int, band: UrgencyDisplay) -> None:
    assert UrgencyDisplay.from_value(value) is band


def test_legacy_status_and_action_uuids() -> None:
    assert AlertStatusName.CLOSED.uuid == "1738b1c1-767d-489e-bada-19176621a007"
    assert AlertStatusName.from_uuid("1738B1C1-767D-489E-BADA-19176621A007") is (
        AlertStatusName.CLOSED
    )
    assert AlertStatusName.from_uuid("00000000-0000-4000-8000-000000000000") is None
    assert WorkflowActionName.CLOSE.uuid == "1390be4e-ced8-4dd6-9bed-573471b235ab"
    assert WorkflowActionName.VALIDATE.target is AlertStatusName.ONGOING
    assert {a.target for a in WorkflowActionName} == set(AlertStatusName) - {
        AlertStatusName.PENDING
    }
