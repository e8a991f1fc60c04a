"""Pure configuration: regions, base URL resolution, the https/loopback rule, timeouts."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from types import MappingProxyType

import attrs
from yarl import URL

from ..errors import ConfigurationError

__all__ = [
    "DEFAULT_REGION",
    "REGIONS",
    "Timeout",
    "is_loopback_host",
    "resolve_api_key",
    "resolve_base_url",
]

#: Region name -> REST API base URL (requests append ``/v1/...``).
REGIONS: Mapping[str, str] = MappingProxyType(
    {
        "fra1": "https://api.sekoia.io",
        "fra2": "https://app.fra2.sekoia.io/api",
        "mco1": "https://app.mco1.sekoia.io/api",
        "uae1": "https://app.uae1.sekoia.io/api",
        "usa1": "https://api.usa1.sekoia.io",
        "sgp1": "https://api.sgp1.sekoia.io",
    }
)
DEFAULT_REGION = "fra1"


@attrs.frozen
class Timeout:
    """Timeouts in seconds; ``None`` disables one.

    ``connect``: opening a connection (TCP + TLS). ``read``: the longest wait between two reads
    of the socket. ``total``: one attempt, from sending to the end of the body. ``deadline``: the
    whole call including every retry and backoff wait.
    """

    connect: float | None = 10.0
    read: float | None = 60.0
    total: float | None = 60.0
    deadline: float | None = None

    @classmethod
    def coerce(cls, value: Timeout | float | None) -> Timeout:
        """A Timeout from a Timeout, a number (the per-attempt total) or None (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, Timeout):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigurationError(
                f"timeout must be a number of seconds or a Timeout(...), not {value!r}"
            )
        return cls(total=float(value))


def resolve_api_key(api_key: str | None, env: Mapping[str, str] | None = None) -> str:
    """The API key given, or SEKOIA_API_KEY; ConfigurationError when missing or blank."""
    env = os.environ if env is None else env
    key = api_key if api_key is not None else env.get("SEKOIA_API_KEY")
    if key is None or not key.strip():
        raise ConfigurationError(
            "No Sekoia API key: pass SekoiaClient(api_key=...) or set the SEKOIA_API_KEY "
            "environment variable (create a key in Sekoia.io > Settings > API keys)"
        )
    if key != key.strip() or any(c in key for c in "\r\n"):
        raise ConfigurationError(
            "The API key contains whitespace or line breaks; copy it again without them"
        )
    return key


def is_loopback_host(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts reachable over plain http."""
    if not host:
        return False
    host = host.strip("[]").lower()
    # Only the name itself: "x.localhost" goes to DNS with most resolvers (glibc), which could
    # answer with any address, and the API key would then travel in clear text.
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(
    base_url: str | None,
    region: str | None,
    env: Mapping[str, str] | None = None,
) -> str:
    """The API base URL (no trailing slash, no ``/v1``) from base_url, region or the env.

    ``base_url`` wins over ``region``; the env vars SEKOIA_BASE_URL and SEKOIA_REGION are used
    when neither is given. A trailing ``/`` or ``/v1`` is dropped, ``/api`` is kept (both forms
    serve the same API). Only https is accepted, except plain http to a loopback host.
    """
    env = os.environ if env is None else env
    if base_url is None and region is None:
        base_url = env.get("SEKOIA_BASE_URL") or None
        region = env.get("SEKOIA_REGION") or None
    if base_url is None:
        name = (region or DEFAULT_REGION).strip().lower()
        if name not in REGIONS:
            raise ConfigurationError(
                f"Unknown Sekoia region {region!r}; known regions: {', '.join(REGIONS)} "
                "(or pass base_url=...)"
            )
        return REGIONS[name]
    text = base_url.strip()
    url = URL(text)
    if not url.is_absolute() or url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"base_url {base_url!r} is not an absolute http(s) URL such as https://api.sekoia.io"
        )
    if url.query_string or url.fragment or url.user or url.password:
        raise ConfigurationError(
            f"base_url must not carry credentials, a query or a fragment: {url.origin()!s}"
        )
    if url.scheme == "http" and not is_loopback_host(url.host):
        raise ConfigurationError(
            f"base_url {str(url.origin())!r} uses plain http: the API key would travel "
            "unencrypted. Use https (plain http is only allowed to loopback hosts such as "
            "the emulator)"
        )
    path = url.path.rstrip("/")
    for suffix in ("/v1", "/v2"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    return str(url.origin()) + path
