"""Asset bodies and models: client-side validation and forward-compatible parsing."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from sekoia_async import Asset, AssetSource, AssetType, Community, Entity, Intake, User
from sekoia_async._models._converter import structure
from sekoia_async._resources.assets import _UNSET, asset_body


def test_create_body_sends_enum_values_and_copies_collections() -> None:
    body = asset_body(
        {"name": "web-01", "type": AssetType.HOST, "source": AssetSource.MANUAL, "tags": ("a",)},
        creating=True,
    )
    assert body == {"name": "web-01", "type": "host", "source": "manual", "tags": ["a"]}


def test_update_body_leaves_out_unset_fields_but_keeps_explicit_none() -> None:
    body = asset_body({"name": _UNSET, "description": None, "criticality": 5}, creating=False)
    assert body == {"description": None, "criticality": 5}


@pytest.mark.parametrize(
    ("fields", "creating", "fragment"),
    [
        ({"name": "x", "type": "host"}, True, "at least 2 characters"),
        ({"type": "host"}, True, "at least 2 characters"),
        ({"name": "ok", "criticality": 101}, True, "0 to 100"),
        ({"criticality": -1}, False, "0 to 100"),
        ({"criticality": True}, False, "0 to 100"),
        ({"atoms": ["1.2.3.4"]}, False, "atoms must be a mapping"),
        ({"name": _UNSET}, False, "nothing to update"),
    ],
)
def test_asset_body_refuses_what_the_api_rejects(
    fields: dict[str, Any], creating: bool, fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment):
        asset_body(fields, creating=creating)


def test_asset_parses_v2_objects_and_keeps_unknowns() -> None:
    data = {
        "uuid": "a1",
        "name": "web-01",
        "type": "host",
        "category": "server",
        "criticality": 40,
        "atoms": {"ipv4": ["10.0.0.1"], "hostname": ["web-01"]},
        "props": {"os": "linux"},
        "source": "a-new-source",
        "created_at": "2024-04-17T15:29:49.464479Z",
        "first_seen": "2024-04-17T15:29:49+02:00",
        "brand_new_field": [1, 2],
    }
    asset = structure(data, Asset)
    assert asset.type is AssetType.HOST
    assert asset.source == "a-new-source"
    assert asset.atoms["ipv4"] == ["10.0.0.1"]
    assert asset.created_at == datetime(2024, 4, 17, 15, 29, 49, 464479, tzinfo=timezone.utc)
    assert asset.first_seen is not None
    assert asset.first_seen.utcoffset() is not None
    assert asset.raw["brand_new_field"] == [1, 2]
    assert asset == structure({**data, "brand_new_field": None}, Asset)


def test_identity_and_conf_models_accept_minimal_objects() -> None:
    assert structure({"uuid": "c"}, Community).name is None
    assert structure({"uuid": "u"}, User).communities == []
    intake = structure(
        {"uuid": "i", "intake_key": "secret-intake-key", "entity": {"uuid": "e", "name": "HQ"}},
        Intake,
    )
    assert intake.entity is not None
    assert intake.entity.name == "HQ"
    assert "secret-intake-key" not in repr(intake)
    assert structure({"uuid": "e", "number_of_intakes": 3}, Entity).number_of_intakes == 3
