"""The exporter's configuration: a TOML file listing tenants. Pure (parsing only, no I/O but
``load_export_config`` reading the file).

```toml
[defaults]                  # optional; every key can be overridden per tenant
earliest = "-30d"
latest = "now"
time_shards = 1

[[tenants]]
name = "acme"
api_key_env = "ACME_SEKOIA_API_KEY"   # or api_key = "..." (keep the file private then)
region = "fra1"                       # or base_url = "https://..."
query = 'source.ip:"1.2.3.4"'
output = "out/acme.ndjson.gz"         # relative to the config file; gzip from ".gz" unless set
rate_limit = 5.0
```
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ...errors import ConfigurationError

__all__ = ["ExportConfig", "TenantConfig", "load_export_config", "parse_export_config"]

# 100 000 events per search is the cap Sekoia's docs once stated (sekoia-api.md §3.4); above it a
# window is split into time shards, each its own job.
DEFAULT_SPLIT_THRESHOLD = 100_000

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

_TENANT_KEYS = frozenset(
    {
        "name",
        "api_key",
        "api_key_env",
        "region",
        "base_url",
        "query",
        "earliest",
        "latest",
        "output",
        "gzip",
        "rate_limit",
        "concurrency",
        "page_size",
        "time_shards",
        "split_threshold",
    }
)
_DEFAULT_KEYS = _TENANT_KEYS - {"name", "api_key", "output"}


@attrs.frozen
class TenantConfig:
    """One tenant to export: whose key, which query over which window, to which file."""

    name: str
    output: Path
    query: str = ""
    earliest: str = "-30d"
    latest: str = "now"
    api_key: str | None = attrs.field(default=None, repr=False)
    api_key_env: str | None = None
    region: str | None = None
    base_url: str | None = None
    gzip: bool = False
    rate_limit: float | None = None
    concurrency: int = 4
    page_size: int = 1000
    time_shards: int = 1
    split_threshold: int = DEFAULT_SPLIT_THRESHOLD

    def resolve_api_key(self, environ: Mapping[str, str]) -> str:
        """The tenant's API key (inline, or read from ``api_key_env`` in ``environ``)."""
        if self.api_key:
            return self.api_key
        if self.api_key_env:
            value = environ.get(self.api_key_env, "")
            if value:
                return value
            raise ConfigurationError(
                f"tenant {self.name!r}: environment variable {self.api_key_env} is not set or "
                "empty; export it with the tenant's API key"
            )
        raise ConfigurationError(f"tenant {self.name!r}: no api_key or api_key_env")


@attrs.frozen
class ExportConfig:
    """All tenants of an export, in file order (which fixes the work-item order)."""

    tenants: tuple[TenantConfig, ...]

    def tenant(self, name: str) -> TenantConfig:
        """The tenant called ``name``."""
        for tenant in self.tenants:
            if tenant.name == name:
                return tenant
        raise KeyError(name)


def load_export_config(path: str | Path) -> ExportConfig:
    """Read and validate a TOML export configuration; relative outputs are resolved against
    the file's directory."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10: tomli comes with the cli extra
        import tomli as tomllib

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read export config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"export config {path} is not valid TOML: {exc}") from None
    return parse_export_config(data, base_dir=path.parent)


def parse_export_config(data: Mapping[str, Any], *, base_dir: Path = Path(".")) -> ExportConfig:
    """Validate a decoded configuration mapping (see the module docstring for the keys)."""
    unknown = set(data) - {"defaults", "tenants"}
    if unknown:
        raise ConfigurationError(
            f"export config: unknown top-level key(s) {sorted(unknown)}; "
            "expected [defaults] and [[tenants]]"
        )
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise ConfigurationError("export config: [defaults] must be a table")
    bad = set(defaults) - _DEFAULT_KEYS
    if bad:
        raise ConfigurationError(
            f"export config: [defaults] cannot set {sorted(bad)}; allowed: {sorted(_DEFAULT_KEYS)}"
        )
    raw_tenants = data.get("tenants")
    if not isinstance(raw_tenants, list) or not raw_tenants:
        raise ConfigurationError("export config: add at least one [[tenants]] table")
    tenants: list[TenantConfig] = []
    names: set[str] = set()
    outputs: dict[Path, str] = {}
    for index, raw in enumerate(raw_tenants):
        if not isinstance(raw, Mapping):
            raise ConfigurationError(f"export config: tenants[{index}] must be a table")
        tenant = _parse_tenant({**defaults, **raw}, index, base_dir)
        if tenant.name in names:
            raise ConfigurationError(f"export config: tenant name {tenant.name!r} is repeated")
        if tenant.output in outputs:
            raise ConfigurationError(
                f"export config: tenants {outputs[tenant.output]!r} and {tenant.name!r} write "
                f"the same output {tenant.output}; give each tenant its own file"
            )
        names.add(tenant.name)
        outputs[tenant.output] = tenant.name
        tenants.append(tenant)
    return ExportConfig(tuple(tenants))


def _parse_tenant(raw: Mapping[str, Any], index: int, base_dir: Path) -> TenantConfig:
    where = f"tenants[{index}]"
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"export config: {where}.name must be 1-100 letters, digits, '.', '_' or '-' "
            f"(got {name!r})"
        )
    where = f"tenant {name!r}"
    unknown = set(raw) - _TENANT_KEYS
    if unknown:
        raise ConfigurationError(
            f"export config: {where} has unknown key(s) {sorted(unknown)}; "
            f"allowed: {sorted(_TENANT_KEYS)}"
        )

    def text(key: str, default: str | None = None) -> str | None:
        value = raw.get(key, default)
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"export config: {where}.{key} must be a string")
        return value

    def integer(key: str, default: int, minimum: int, maximum: int | None = None) -> int:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigurationError(
                f"export config: {where}.{key} must be an integer >= {minimum} (got {value!r})"
            )
        if maximum is not None and value > maximum:
            raise ConfigurationError(
                f"export config: {where}.{key} must be at most {maximum} (got {value})"
            )
        return value

    api_key, api_key_env = text("api_key"), text("api_key_env")
    if bool(api_key) == bool(api_key_env):
        raise ConfigurationError(
            f"export config: {where} needs exactly one of api_key_env (preferred: the name of "
            "an environment variable holding the key) or api_key"
        )
    region, base_url = text("region"), text("base_url")
    if region and base_url:
        raise ConfigurationError(f"export config: {where} sets both region and base_url; keep one")
    output = text("output")
    if not output:
        raise ConfigurationError(f"export config: {where}.output (the NDJSON file) is required")
    out_path = Path(output).expanduser()
    if not out_path.is_absolute():
        out_path = base_dir / out_path
    gzip = raw.get("gzip", out_path.suffix == ".gz")
    if not isinstance(gzip, bool):
        raise ConfigurationError(f"export config: {where}.gzip must be true or false")
    rate_limit = raw.get("rate_limit")
    if rate_limit is not None and (
        isinstance(rate_limit, bool) or not isinstance(rate_limit, (int, float)) or rate_limit <= 0
    ):
        raise ConfigurationError(
            f"export config: {where}.rate_limit must be a positive number of requests per second"
        )
    return TenantConfig(
        name=name,
        output=out_path,
        query=text("query", "") or "",
        earliest=text("earliest", "-30d") or "-30d",
        latest=text("latest", "now") or "now",
        api_key=api_key,
        api_key_env=api_key_env,
        region=region,
        base_url=base_url,
        gzip=gzip,
        rate_limit=float(rate_limit) if rate_limit is not None else None,
        concurrency=integer("concurrency", 4, 1, 64),
        page_size=integer("page_size", 1000, 1, 1000),
        time_shards=integer("time_shards", 1, 1, 10_000),
        split_threshold=integer("split_threshold", DEFAULT_SPLIT_THRESHOLD, 1),
    )
