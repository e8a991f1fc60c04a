"""Every alert/case schema of Sekoia's official OpenAPI spec parses into our models.

Instances are generated from the spec's own schemas (tests/data/sekoia-sic-openapi.json, a copy
of the SIC spec) with hypothesis-jsonschema, after turning the spec's OpenAPI dialect into JSON
Schema (``$ref`` resolved, ``x-nullable`` as ``null``). Each instance must parse, and every
field the model declares must carry the instance's value (timestamps as aware datetimes, enums
as members or the raw string, nested models recursively); ``raw`` keeps the instance.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from sekoia_async import (
    Alert,
    AlertComment,
    AlertCountermeasure,
    AlertHistoryEntry,
    AlertWorkflow,
    Case,
    CaseComment,
    CustomField,
    CustomPriority,
    CustomStatus,
    KillChainStep,
    Verdict,
)
from sekoia_async._models._converter import structure

SPEC = json.loads((Path(__file__).parent / "data" / "sekoia-sic-openapi.json").read_text())
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]

# Keys of the OpenAPI dialect that JSON Schema does not need (or misreads).
_DROP = {"description", "readOnly", "default", "example"}


_TIMESTAMPS = {"created_at", "updated_at", "date"}


def to_json_schema(node: Any, *, timestamp: bool = False) -> Any:
    """The spec's OpenAPI schema as plain JSON Schema."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return to_json_schema(SCHEMAS[name])
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key.startswith("x-"):
            continue
        if key == "properties":
            out[key] = {k: to_json_schema(v, timestamp=k in _TIMESTAMPS) for k, v in value.items()}
        else:
            out[key] = to_json_schema(value)
    if out.get("type") == "integer" and timestamp:
        # "Unix timestamp": keep to seconds a datetime can hold (the converter reads values of
        # 1e11 and more as milliseconds).
        out.update(minimum=0, maximum=99_999_999_999)
    if node.get("x-nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def instances(schema_name: str, *path: str) -> st.SearchStrategy[Any]:
    schema = to_json_schema(SCHEMAS[schema_name])
    for key in path:
        schema = schema[key]
    return from_schema(schema, custom_formats={"uuid": st.uuids().map(str)})


def assert_matches(model: Any, data: Any) -> None:
    """Every declared field of ``model`` (an attrs model) carries the value ``data`` had."""
    assert attrs.has(type(model))
    assert model.raw == data
    for field in attrs.fields(type(model)):
        if field.name == "raw":
            continue
        got = getattr(model, field.name)
        if field.name not in data or data[field.name] is None:
            assert got in (None, (), {}), f"{field.name}: {got!r} for a missing/null value"
            continue
        assert_value(got, data[field.name], field.name)


def assert_value(got: Any, expected: Any, where: str) -> None:
    if attrs.has(type(got)):
        assert_matches(got, expected)
    elif isinstance(got, datetime):
        assert got.tzinfo is not None, f"{where}: naive datetime"
        if isinstance(expected, int):
            assert got == datetime.fromtimestamp(expected, tz=timezone.utc), where
        else:
            assert got == datetime.fromisoformat(expected.replace("Z", "+00:00")), where
    elif isinstance(got, enum.Enum):
        assert got.value == expected, where
    elif isinstance(got, tuple):
        assert len(got) == len(expected), where
        for g, e in zip(got, expected, strict=True):
            assert_value(g, e, where)
    else:
        assert got == expected, f"{where}: {got!r} != {expected!r}"


CASES = [
    ("AlertsSchema", ("properties", "items", "items"), Alert),
    ("AlertDetailSchema", (), Alert),
    ("AlertsCaseSchema", ("properties", "items", "items"), Alert),
    ("AlertCommentSchema", (), AlertComment),
    ("CommentSchema", (), AlertComment),
    ("AlertCommentsSchema", ("properties", "items", "items"), AlertComment),
    ("AlertStatusWorkflowSchema", (), AlertWorkflow),
    ("AlertHistoryEntrySchema", (), AlertHistoryEntry),
    ("AlertCountermeasureSchema", (), AlertCountermeasure),
    ("alert_kill_chain_schema", (), KillChainStep),
    ("CaseSchema", (), Case),
    ("CasesSchema", ("properties", "items", "items"), Case),
    ("CaseCommentSchema", (), CaseComment),
    ("CaseCommentsSchema", ("properties", "items", "items"), CaseComment),
    ("custom_status_schema", (), CustomStatus),
    ("custom_verdict_schema", (), Verdict),
    ("custom_priority_schema", (), CustomPriority),
    ("CustomFieldSchema", (), CustomField),
]


@pytest.mark.parametrize(("schema", "path", "cls"), CASES, ids=[c[0] for c in CASES])
def test_spec_instances_parse(schema: str, path: tuple[str, ...], cls: type[Any]) -> None:
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(instances(schema, *path))
    def check(data: Any) -> None:
        model = structure(data, cls)
        assert_matches(model, data)

    check()


def test_workflow_actions_of_the_spec_shape() -> None:
    # The workflow action's ``id`` is what PATCH .../workflow takes as action_uuid.
    schema = to_json_schema(SCHEMAS["AlertStatusWorkflowSchema"])
    assert set(schema["properties"]["actions"]["items"]["properties"]) == {
        "id",
        "name",
        "description",
    }


def test_every_alert_schema_property_is_a_model_field() -> None:
    # A property the spec documents but the model lacks would only be reachable through raw.
    fields = set(attrs.fields_dict(Alert))
    for name in ("AlertsSchema", "AlertsCaseSchema"):
        props = SCHEMAS[name]["properties"]["items"]["items"]["properties"]
        assert set(props) <= fields, set(props) - fields
    assert set(SCHEMAS["AlertDetailSchema"]["properties"]) <= fields
    case_props = set(SCHEMAS["CaseSchema"]["properties"])
    assert case_props <= set(attrs.fields_dict(Case)), case_props - set(attrs.fields_dict(Case))
