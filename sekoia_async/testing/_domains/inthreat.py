"""Emulated Intelligence Center (CTI): ``/v2/inthreat`` (sekoia-api.md §2.9, the inthreat spec).

The seeded STIX data is deterministic under the emulator seed and shaped like the recorded
responses (``indicator*.json``, ``observable*.json``): indicators with Sekoia's ``x_ic_*``
fields, the threats they indicate (malware, intrusion sets) linked by ``indicates``
relationships, one source identity and TLP markings. It includes the recordings' EICAR
indicator (``eicar@sekoia.io``).

The feed (``/collections/{feed_id}/objects``) is ordered by ``(modified, id)``; its cursor is
an opaque token naming the last object delivered, so a saved cursor keeps working when newer
objects arrive (that is how a feed consumer tails a feed). Every response carries a
``next_cursor`` (the spec requires it), also the last, empty one.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
from aiohttp import web

from .._routing import (
    ApiError,
    EmulatorState,
    Route,
    get_state,
    json_response,
    paginate_params,
    read_json,
)
from ._common import require_object

__all__ = ["DEFAULT_FEED", "InthreatStore", "inthreat_store", "routes"]

DEFAULT_FEED = "d6092c37-d8d7-45c3-8aff-c4dc26030608"
MAX_INDICATORS_PER_CALL = 100
SOURCE = "identity--357447d7-9229-4ce1-b7fa-f1b83587048e"
TLP_WHITE = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
_NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")  # the URL namespace
_BASE_TIME = datetime(2024, 1, 1, tzinfo=timezone.utc)
_THREATS = [
    ("malware", "Hajime"),
    ("malware", "SessionManager"),
    ("malware", "Lumma Stealer"),
    ("intrusion-set", "EICAR"),
    ("intrusion-set", "APT28"),
]


def _stamp(when: datetime) -> str:
    # Sekoia's STIX timestamps: microseconds and a Z, as in the recordings.
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _stix_id(stix_type: str, rng: random.Random) -> str:
    return f"{stix_type}--{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def observable_type(value: str) -> str:
    """The STIX observable type of an indicator value (what the real API detects)."""
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", value):
        return "ipv4-addr"
    if ":" in value and re.fullmatch(r"[0-9A-Fa-f:]+", value):
        return "ipv6-addr"
    if "://" in value:
        return "url"
    if "@" in value:
        return "email-addr"
    if re.fullmatch(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}", value):
        return "file"
    if "." in value and " " not in value and "/" not in value:
        return "domain-name"
    return "x-unknown"


def _pattern(obs_type: str, value: str) -> str:
    if obs_type == "file":
        algo = {32: "MD5", 40: "SHA-1", 64: "SHA-256"}[len(value)]
        return f"[file:hashes.'{algo}' = '{value}']"
    return f"[{obs_type}:value = '{value}']"


@attrs.define
class InthreatStore:
    """The CTI objects of one emulator: the feed (sorted), observables, IOC collections."""

    objects: dict[str, dict[str, Any]] = attrs.Factory(dict)
    # (observable type, value) -> indicator ids.
    by_value: dict[tuple[str, str], list[str]] = attrs.Factory(dict)
    observables: list[dict[str, Any]] = attrs.Factory(list)
    feed: list[dict[str, Any]] = attrs.Factory(list)
    collections: dict[str, list[str]] = attrs.Factory(dict)
    rng: random.Random = attrs.Factory(random.Random)

    @property
    def collection_ids(self) -> list[str]:
        return list(self.collections)

    def add(self, obj: dict[str, Any], *, in_feed: bool = True) -> None:
        self.objects[obj["id"]] = obj
        if in_feed:
            self.feed.append(obj)
            self.feed.sort(key=lambda o: (o["modified"], o["id"]))

    def add_indicator(
        self, value: str, when: datetime, *, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        obs_type = observable_type(value)
        indicator: dict[str, Any] = {
            "type": "indicator",
            "id": _stix_id("indicator", self.rng),
            "spec_version": "2.1",
            "created": _stamp(when),
            "modified": _stamp(when),
            "created_by_ref": SOURCE,
            "name": value,
            "description": f"Emulated {obs_type} indicator.",
            "pattern": _pattern(obs_type, value),
            "pattern_type": "stix",
            "valid_from": _stamp(when),
            "valid_until": _stamp(when + timedelta(days=365)),
            "indicator_types": ["malicious-activity"],
            "kill_chain_phases": [
                {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}
            ],
            "x_ic_observable_types": [obs_type],
            "x_ic_is_in_flint": False,
            "x_ic_deprecated": False,
            "x_inthreat_sources_refs": [SOURCE],
            "object_marking_refs": [TLP_WHITE],
            "revoked": False,
            "lang": "en",
        }
        indicator.update(extra or {})
        self.by_value.setdefault((obs_type, value), []).append(indicator["id"])
        if not any(o["value"] == value and o["type"] == obs_type for o in self.observables):
            self.observables.append(
                {
                    "type": obs_type,
                    "id": f"{obs_type}--{uuid.uuid5(_NAMESPACE, obs_type + ':' + value)}",
                    "spec_version": "2.1",
                    "value": value,
                    "x_inthreat_short_display": value,
                    "created": indicator["created"],
                    "modified": indicator["modified"],
                    "x_inthreat_sources_refs": [SOURCE],
                    "x_inthreat_tags": [],
                }
            )
        return indicator


def _seed(state: EmulatorState) -> InthreatStore:
    rng = random.Random(f"sekoia-inthreat:{state.seed}")
    store = InthreatStore(rng=rng)
    store.add(
        {
            "type": "identity",
            "id": SOURCE,
            "spec_version": "2.1",
            "name": "SEKOIA",
            "identity_class": "organization",
            "created": _stamp(_BASE_TIME),
            "modified": _stamp(_BASE_TIME),
        }
    )
    for marking, tlp in ((TLP_WHITE, "white"), (TLP_GREEN, "green")):
        store.add(
            {
                "type": "marking-definition",
                "id": marking,
                "spec_version": "2.1",
                "definition_type": "tlp",
                "definition": {"tlp": tlp},
                "name": f"TLP:{tlp.upper()}",
                "created": _stamp(_BASE_TIME),
                "modified": _stamp(_BASE_TIME),
            }
        )
    threats = []
    for number, (kind, name) in enumerate(_THREATS):
        when = _BASE_TIME + timedelta(hours=number + 1)
        threat = {
            "type": kind,
            "id": _stix_id(kind, rng),
            "spec_version": "2.1",
            "name": name,
            "aliases": [name],
            "description": f"{name} (emulated threat)",
            "created": _stamp(when),
            "modified": _stamp(when),
            "created_by_ref": SOURCE,
            "x_inthreat_sources_refs": [SOURCE],
            "object_marking_refs": [TLP_GREEN],
            "revoked": False,
        }
        if kind == "malware":
            threat["is_family"] = True
        store.add(threat)
        threats.append(threat)
    values = ["eicar@sekoia.io"]
    for number in range(1, 200):
        shape = number % 4
        if shape == 0:
            values.append(f"198.51.{number // 250}.{number % 250}")
        elif shape == 1:
            values.append(f"bad-{number}.example.com")
        elif shape == 2:
            values.append(f"http://203.0.113.{number % 250}:{8000 + number}/p")
        else:
            values.append(f"{rng.getrandbits(256):064x}")
    for number, value in enumerate(values):
        when = _BASE_TIME + timedelta(days=1, minutes=7 * number)
        extra: dict[str, Any] = {}
        if value == "eicar@sekoia.io":
            extra = {
                "indicator_types": ["benign"],
                "object_marking_refs": [TLP_GREEN],
                "description": "SEKOIA EICAR unit is known to have used in the past this email "
                "address to distribute EICAR dropper during phishing campaign.\n",
            }
        elif number % 25 == 0:
            extra = {"revoked": True}
        indicator = store.add_indicator(value, when, extra=extra)
        store.add(indicator)
        threat = threats[3] if value == "eicar@sekoia.io" else threats[number % 3]
        store.add(
            {
                "type": "relationship",
                "id": _stix_id("relationship", rng),
                "spec_version": "2.1",
                "relationship_type": "indicates",
                "source_ref": indicator["id"],
                "target_ref": threat["id"],
                "created": indicator["created"],
                "modified": indicator["modified"],
                "created_by_ref": SOURCE,
                "object_marking_refs": [TLP_WHITE],
                "revoked": False,
            }
        )
    store.collections[str(uuid.UUID(int=rng.getrandbits(128), version=4))] = []
    return store


def inthreat_store(state: EmulatorState) -> InthreatStore:
    """The CTI store of this emulator (created and seeded on first use)."""
    store = state.stores.get("inthreat")
    if store is None:
        store = state.stores["inthreat"] = _seed(state)
    assert isinstance(store, InthreatStore)
    return store


def _required(request: web.Request, name: str) -> str:
    value = request.query.get(name, "")
    if not value.strip():
        raise ApiError(400, f"Invalid parameters: '{name}' is required")
    return value


def _matching_indicators(request: web.Request) -> list[dict[str, Any]]:
    value = _required(request, "value")
    obs_type = _required(request, "type")
    store = inthreat_store(get_state(request))
    return [store.objects[i] for i in store.by_value.get((obs_type, value), [])]


async def get_indicators(request: web.Request) -> web.Response:
    return json_response({"items": _matching_indicators(request), "has_more": False})


async def get_context(request: web.Request) -> web.Response:
    store = inthreat_store(get_state(request))
    bundles = []
    for indicator in _matching_indicators(request):
        objects = [indicator]
        for obj in store.feed:
            if obj["type"] == "relationship" and obj["source_ref"] == indicator["id"]:
                objects.append(store.objects[obj["target_ref"]])
                objects.append(obj)
        refs = {SOURCE, *(m for o in objects for m in o.get("object_marking_refs", []))}
        objects.extend(store.objects[ref] for ref in sorted(refs))
        bundles.append(
            {
                "type": "bundle",
                "id": f"bundle--{uuid.uuid5(_NAMESPACE, indicator['id'])}",
                "objects": objects[:100],
            }
        )
    return json_response({"items": bundles, "has_more": False})


def _match_values(request: web.Request, field: str) -> set[str] | None:
    raw = request.query.get(f"match[{field}]")
    return None if raw is None else {v for v in raw.split(",") if v}


async def get_observables(request: web.Request) -> web.Response:
    limit, offset = paginate_params(request, default=20, maximum=2000)
    if offset > 10_000:
        raise ApiError(400, "Invalid parameters: offset must be <= 10000")
    values = _match_values(request, "value")
    types = _match_values(request, "type")
    store = inthreat_store(get_state(request))
    found = [
        o
        for o in store.observables
        if (values is None or o["value"] in values) and (types is None or o["type"] in types)
    ]
    page = found[offset : offset + limit]
    return json_response(
        {"items": page, "total": len(found), "has_more": offset + len(page) < len(found)}
    )


def encode_cursor(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(f"{obj['modified']}|{obj['id']}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        modified, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(400, "Invalid parameters: cursor is not one this API returned") from None
    if not ident:
        raise ApiError(400, "Invalid parameters: cursor is not one this API returned")
    return modified, ident


def _bool_param(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false", "1", "0"):
        raise ApiError(400, f"Invalid parameters: {name} must be true or false")
    return raw.lower() in ("true", "1")


async def get_feed_objects(request: web.Request) -> web.Response:
    state = get_state(request)
    feed_id = request.match_info["feed_id"]
    if feed_id != DEFAULT_FEED:
        raise ApiError(404, f"Unknown feed {feed_id}")
    try:
        limit = int(request.query.get("limit", 100))
    except ValueError:
        raise ApiError(400, "Invalid parameters: limit must be an integer") from None
    if not 1 <= limit <= 2000:
        raise ApiError(400, "Invalid parameters: limit must be between 1 and 2000")
    types = _match_values(request, "type")
    include_revoked = bool(_bool_param(request, "include_revoked"))
    skip_expired = bool(_bool_param(request, "skip_expired"))
    modified_after = request.query.get("modified_after")
    after: tuple[str, str] | None = None
    if request.query.get("cursor"):
        after = decode_cursor(request.query["cursor"])
    elif modified_after:
        try:
            when = datetime.fromisoformat(modified_after.replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(400, "Invalid parameters: modified_after must be ISO 8601") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        after = (_stamp(when.astimezone(timezone.utc)), "~")  # "~" sorts after every id
    now = _stamp(datetime.fromtimestamp(state.now(), tz=timezone.utc))
    store = inthreat_store(state)
    items: list[dict[str, Any]] = []
    last: dict[str, Any] | None = None
    for obj in store.feed:
        if after is not None and (obj["modified"], obj["id"]) <= after:
            continue
        last = obj
        if (
            (types is None or obj["type"] in types)
            and (include_revoked or not obj.get("revoked"))
            and not (skip_expired and obj.get("valid_until", "~") < now)
        ):
            items.append(obj)
            if len(items) == limit:
                break
    if last is not None:
        next_cursor = encode_cursor(last)
    elif after is not None:
        next_cursor = (
            request.query.get("cursor")
            or base64.urlsafe_b64encode(f"{after[0]}|{after[1]}".encode()).decode()
        )
    else:
        next_cursor = base64.urlsafe_b64encode(b"|~").decode()
    return json_response({"items": items, "next_cursor": next_cursor})


async def add_collection_indicators(request: web.Request) -> web.Response:
    state = get_state(request)
    store = inthreat_store(state)
    collection = request.match_info["uuid"]
    if collection not in store.collections:
        raise ApiError(404, f"Unknown IOC collection {collection}")
    body = require_object(await read_json(request))
    indicators = body.get("indicators")
    if not isinstance(indicators, list) or not indicators:
        raise ApiError(400, "Invalid parameters: indicators must be a non-empty list")
    if len(indicators) > MAX_INDICATORS_PER_CALL:
        raise ApiError(
            400,
            f"Invalid parameters: at most {MAX_INDICATORS_PER_CALL} indicators per request, "
            f"got {len(indicators)}",
        )
    defaults = body.get("default_fields") or {}
    if not isinstance(defaults, dict):
        raise ApiError(400, "Invalid parameters: default_fields must be an object")
    created = []
    when = datetime.fromtimestamp(state.now(), tz=timezone.utc)
    # Validate everything first: a refused request adds nothing.
    for number, item in enumerate(indicators):
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            raise ApiError(400, f"Invalid parameters: indicators[{number}].value is required")
    for item in indicators:
        extra = {**defaults, **{k: v for k, v in item.items() if k != "value"}}
        indicator = store.add_indicator(item["value"], when, extra=extra)
        store.add(indicator, in_feed=False)
        store.collections[collection].append(indicator["id"])
        created.append(indicator)
    return json_response({"items": created, "total": len(created)})


def routes(state: EmulatorState) -> list[Route]:
    inthreat_store(state)
    base = "/v2/inthreat"
    return [
        Route(
            "GET", base + "/indicators", get_indicators, "View intelligence",
            "inthreat.indicators",
        ),
        Route(
            "GET", base + "/indicators/context", get_context, "View intelligence",
            "inthreat.context",
        ),
        Route(
            "GET", base + "/observables", get_observables, "View observables",
            "inthreat.observables",
        ),
        # The spec names no permission for the feed; reading it is reading intelligence.
        Route(
            "GET", base + "/collections/{feed_id}/objects", get_feed_objects,
            "View intelligence", "inthreat.feed",
        ),
        Route(
            "POST", base + "/ioc-collections/{uuid}/indicators", add_collection_indicators,
            "Manage IOC collections", "inthreat.ioc_indicators.add",
        ),
    ]  # fmt: skip
