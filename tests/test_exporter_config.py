"""Parsing and validation of the exporter's TOML configuration (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sekoia_async import ConfigurationError
from sekoia_async._helpers.exporter import load_export_config, parse_export_config

TOML = """
[defaults]
earliest = "-7d"
concurrency = 2

[[tenants]]
name = "acme"
api_key_env = "ACME_KEY"
region = "fra1"
query = 'source.ip:"1.2.3.4"'
output = "out/acme.ndjson.gz"
rate_limit = 5

[[tenants]]
name = "globex"
api_key = "inline-secret"
base_url = "http://127.0.0.1:1"
output = "/abs/globex.ndjson"
latest = "2026-12-01T00:00:00Z"
time_shards = 4
gzip = true
"""


def test_load_config(tmp_path: Path) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text(TOML)
    config = load_export_config(path)
    acme, globex = config.tenants
    assert acme.name == "acme"
    assert acme.region == "fra1"
    assert acme.output == tmp_path / "out" / "acme.ndjson.gz"
    assert acme.gzip is True  # from the suffix
    assert acme.earliest == "-7d"
    assert acme.latest == "now"
    assert acme.concurrency == 2
    assert acme.rate_limit == 5.0
    assert acme.resolve_api_key({"ACME_KEY": "k1"}) == "k1"
    assert globex.output == Path("/abs/globex.ndjson")
    assert globex.gzip is True
    assert globex.time_shards == 4
    assert globex.base_url == "http://127.0.0.1:1"
    assert globex.resolve_api_key({}) == "inline-secret"
    # The key never shows in a repr.
    assert "inline-secret" not in repr(config)


def test_missing_env_key_names_the_variable() -> None:
    config = parse_export_config({"tenants": [{"name": "a", "api_key_env": "NOPE", "output": "a"}]})
    with pytest.raises(ConfigurationError, match="NOPE is not set"):
        config.tenants[0].resolve_api_key({})


def _tenant(**over: Any) -> dict[str, Any]:
    return {"name": "a", "api_key_env": "K", "output": "a.ndjson", **over}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "at least one"),
        ({"tenants": []}, "at least one"),
        ({"tenant": [_tenant()]}, "unknown top-level"),
        ({"tenants": [_tenant(name="bad name")]}, "name must be"),
        ({"tenants": [_tenant(api_key="x")]}, "exactly one of api_key_env"),
        ({"tenants": [_tenant(api_key_env=None)]}, "exactly one of api_key_env"),
        ({"tenants": [_tenant(region="fra1", base_url="http://x")]}, "both region and base_url"),
        ({"tenants": [_tenant(output="")]}, "output"),
        ({"tenants": [_tenant(concurrency=0)]}, "concurrency must be"),
        ({"tenants": [_tenant(page_size=5000)]}, "page_size must be at most 1000"),
        ({"tenants": [_tenant(rate_limit=-1)]}, "rate_limit"),
        ({"tenants": [_tenant(gzip="yes")]}, "gzip"),
        ({"tenants": [_tenant(colour="red")]}, "unknown key"),
        ({"tenants": [_tenant(), _tenant()]}, "repeated"),
        ({"tenants": [_tenant(), _tenant(name="b")]}, "same output"),
        ({"defaults": {"name": "x"}, "tenants": [_tenant()]}, "cannot set"),
    ],
)
def test_invalid_configs_say_what_is_wrong(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_export_config(data)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_export_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[tenants]\n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_export_config(bad)
