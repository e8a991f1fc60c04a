"""The domains' in-memory stores and their deterministic seeding.

Each store lives in ``state.stores[name]`` and is created (and seeded from ``state.seed``) the
first time a getter asks for it, so the domain modules can be mounted in any order and share
data: alerts reference rules, entities, intakes and assets; cases reference alerts.
Seeded timestamps are relative to the emulator clock at seeding time, so
``date[created_at]=-7d,now`` finds recent alerts whatever day the tests run.
"""

from __future__ import annotations

import random
import string
from typing import Any

import attrs

from .._routing import EmulatorState
from . import _catalog as cat
from ._common import iso, iso_z, new_uuid, rng_for, short_id
from ._workflow import transition

N_ALERTS = 120
N_CASES = 12
N_ASSETS_PER_COMMUNITY = 12
# Share of seeded objects that belong to the first (main) community; the rest are spread over
# the others so per-community keys see different data.
MAIN_COMMUNITY_SHARE = 0.6


@attrs.define
class AlertRecord:
    """An alert: ``data`` holds the wire fields; comments/history/cases are rendered on demand."""

    data: dict[str, Any]
    comments: list[dict[str, Any]] = attrs.field(factory=list)
    history: list[dict[str, Any]] = attrs.field(factory=list)
    case_uuids: list[str] = attrs.field(factory=list)


@attrs.define
class CaseRecord:
    data: dict[str, Any]
    alert_uuids: list[str] = attrs.field(factory=list)
    comments: list[dict[str, Any]] = attrs.field(factory=list)
    # Event ids attached with POST .../events (kept in the order they were added).
    event_ids: dict[str, None] = attrs.field(factory=dict)


@attrs.define
class RulesStore:
    rng: random.Random
    rules: dict[str, dict[str, Any]] = attrs.field(factory=dict)


@attrs.define
class AssetsStore:
    rng: random.Random
    assets: dict[str, dict[str, Any]] = attrs.field(factory=dict)


@attrs.define
class SicStore:
    """Alerts and cases together: they reference each other both ways."""

    rng: random.Random
    alerts: dict[str, AlertRecord] = attrs.field(factory=dict)
    alert_short_ids: dict[str, str] = attrs.field(factory=dict)
    cases: dict[str, CaseRecord] = attrs.field(factory=dict)
    case_short_ids: dict[str, str] = attrs.field(factory=dict)
    # The "application" that raises seeded alerts (the detection engine).
    engine_uuid: str = ""

    def find_alert(self, ident: str) -> AlertRecord | None:
        """An alert by uuid or short_id, as GET /v1/sic/alerts/{uuid} accepts both."""
        rec = self.alerts.get(ident)
        if rec is None and ident in self.alert_short_ids:
            rec = self.alerts.get(self.alert_short_ids[ident])
        return rec

    def find_case(self, ident: str) -> CaseRecord | None:
        rec = self.cases.get(ident)
        if rec is None and ident in self.case_short_ids:
            rec = self.cases.get(self.case_short_ids[ident])
        return rec


@attrs.define
class CommunityStore:
    rng: random.Random
    roles: dict[str, list[dict[str, Any]]] = attrs.field(factory=dict)
    invitations: list[dict[str, Any]] = attrs.field(factory=list)


# --- getters -----------------------------------------------------------------------------------


def community_uuids(state: EmulatorState) -> list[str]:
    uuids = [c["uuid"] for c in state.communities if isinstance(c.get("uuid"), str)]
    if not uuids:
        # The core seeds communities; this fallback only keeps a bare state usable.
        uuids = [new_uuid(rng_for(state, "fallback-community"))]
    return uuids


def pick_community(rng: random.Random, uuids: list[str]) -> str:
    if len(uuids) == 1 or rng.random() < MAIN_COMMUNITY_SHARE:
        return uuids[0]
    return rng.choice(uuids[1:])


def rules_store(state: EmulatorState) -> RulesStore:
    store = state.stores.get("rules")
    if store is None:
        store = RulesStore(rng_for(state, "rules", "runtime"))
        _seed_rules(state, store)
        state.stores["rules"] = store
    assert isinstance(store, RulesStore)
    return store


def assets_store(state: EmulatorState) -> AssetsStore:
    store = state.stores.get("assets")
    if store is None:
        store = AssetsStore(rng_for(state, "assets", "runtime"))
        _seed_assets(state, store)
        state.stores["assets"] = store
    assert isinstance(store, AssetsStore)
    return store


def sic_store(state: EmulatorState) -> SicStore:
    store = state.stores.get("sic")
    if store is None:
        store = SicStore(rng_for(state, "sic", "runtime"))
        _seed_sic(state, store, rules_store(state), assets_store(state))
        state.stores["sic"] = store
    assert isinstance(store, SicStore)
    return store


def community_store(state: EmulatorState) -> CommunityStore:
    store = state.stores.get("community")
    if store is None:
        store = CommunityStore(rng_for(state, "community", "runtime"))
        state.stores["community"] = store
    assert isinstance(store, CommunityStore)
    return store


def roles_of(state: EmulatorState, community_uuid: str) -> list[dict[str, Any]]:
    """A community's roles, derived from (seed, community) so communities added later get some."""
    store = community_store(state)
    roles = store.roles.get(community_uuid)
    if roles is None:
        rng = rng_for(state, "roles", community_uuid)
        created = iso(state.now() - 90 * 86400)
        roles = [
            {
                "uuid": new_uuid(rng),
                "name": name,
                "description": description,
                "community_uuid": community_uuid,
                "permissions": sorted(perms),
                "created_at": created,
                "updated_at": created,
            }
            for name, description, perms in cat.ROLE_TEMPLATES
        ]
        store.roles[community_uuid] = roles
    return roles


# --- seeding -----------------------------------------------------------------------------------


def new_rule(
    rng: random.Random,
    *,
    name: str,
    rule_type: str,
    description: str,
    payload: str,
    severity: int,
    effort: int,
    alert_type_uuid: str,
    enabled: bool,
    community_uuid: str | None,
    created_by: str,
    created_by_type: str,
    now: float,
    source: str,
) -> dict[str, Any]:
    """A rule object shaped as sekoia-api.md §2.5 lists it."""
    alert_type = cat.ALERT_TYPES_BY_UUID[alert_type_uuid]
    return {
        "uuid": new_uuid(rng),
        "name": name,
        "type": rule_type,
        "description": description,
        "payload": payload,
        "severity": severity,
        "effort": effort,
        "enabled": enabled,
        "community_uuid": community_uuid,
        "parameters": [],
        "entities": [],
        "all_entities": True,
        "assets": [],
        "all_assets": True,
        "private": source != "sekoia",
        "is_private": source != "sekoia",
        "alert_type": dict(alert_type),
        "alert_category": {"name": alert_type["category"]},
        "tags": [],
        "source": source,
        "verified": source == "sekoia",
        "datasources": [],
        "event_fields": [],
        "references": "",
        "goal": "",
        "false_positives": "",
        "similarity_strategy": ["source.ip", "host.name"],
        "available_for_subcommunities": False,
        "related_object_refs": [],
        "instance_uuid": new_uuid(rng),
        "last_compilation_at": iso(now),
        "last_compilation_success": True,
        "last_compilation_error": None,
        "created_at": iso(now),
        "created_by": created_by,
        "created_by_type": created_by_type,
        "updated_at": iso(now),
        "updated_by": created_by,
        "updated_by_type": created_by_type,
    }


def _seed_rules(state: EmulatorState, store: RulesStore) -> None:
    rng = rng_for(state, "rules")
    sekoia = new_uuid(rng)
    created = state.now() - 180 * 86400
    for name, description, severity, effort, type_index, payload in cat.CATALOG_RULES:
        rule = new_rule(
            rng,
            name=name,
            rule_type="sigma",
            description=description,
            payload=payload,
            severity=severity,
            effort=effort,
            alert_type_uuid=cat.ALERT_TYPES[type_index]["uuid"],
            enabled=rng.random() < 0.8,
            # Sekoia's own catalog rules belong to no community: every key sees them.
            community_uuid=None,
            created_by=sekoia,
            created_by_type="application",
            now=created,
            source="sekoia",
        )
        store.rules[rule["uuid"]] = rule


def _seed_assets(state: EmulatorState, store: AssetsStore) -> None:
    rng = rng_for(state, "assets")
    now = state.now()
    for community in community_uuids(state):
        entities = [e["uuid"] for e in state.entities if e.get("community_uuid") == community]
        for i in range(N_ASSETS_PER_COMMUNITY):
            kind = ("host", "host", "account", "network")[i % 4]
            created = now - rng.randint(30, 400) * 86400
            if kind == "host":
                name = f"{rng.choice(cat.HOST_PREFIXES)}-{rng.randint(1, 999):03d}"
                category = rng.choice(["workstation", "server", "laptop"])
                atoms: dict[str, list[str]] = {
                    "ipv4": [
                        f"10.{rng.randint(0, 20)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
                    ],
                    "fqdn": [f"{name.lower()}.corp.example"],
                    "mac": [":".join(f"{rng.randint(0, 255):02x}" for _ in range(6))],
                }
            elif kind == "account":
                user = rng.choice(cat.USER_NAMES)
                name = f"{user}.{rng.choice(string.ascii_lowercase)}"
                category = "user"
                atoms = {"email": [f"{name}@corp.example"], "username": [name]}
            else:
                name = f"LAN-{rng.randint(1, 40)}"
                category = "subnet"
                atoms = {"cidrv4": [f"10.{rng.randint(0, 20)}.{rng.randint(0, 255)}.0/24"]}
            asset = new_asset(
                rng,
                name=name,
                asset_type=kind,
                category=category,
                criticality=rng.randint(0, 100),
                community_uuid=community,
                entity_uuid=rng.choice(entities) if entities else None,
                atoms=atoms,
                props={},
                tags=rng.sample(["prod", "critical", "finance", "dmz", "vip"], k=rng.randint(0, 2)),
                reviewed=rng.random() < 0.5,
                source=rng.choice(["manual", "automatic", "import"]),
                description=None,
                created_by=new_uuid(rng),
                now=created,
            )
            asset["nb_events"] = rng.randint(0, 50_000)
            asset["nb_alerts"] = rng.randint(0, 20)
            asset["first_seen"] = iso_z(created)
            asset["last_seen"] = iso_z(now - rng.randint(0, 86400 * 3))
            store.assets[asset["uuid"]] = asset


def new_asset(
    rng: random.Random,
    *,
    name: str,
    asset_type: str,
    category: str | None,
    criticality: int,
    community_uuid: str,
    entity_uuid: str | None,
    atoms: dict[str, list[str]],
    props: dict[str, Any],
    tags: list[str],
    reviewed: bool,
    source: str,
    description: str | None,
    created_by: str,
    now: float,
    uuid: str | None = None,
) -> dict[str, Any]:
    """A v2 asset (sekoia-api.md §2.7); timestamps as the recorded assets carry them."""
    return {
        "uuid": uuid or new_uuid(rng),
        "entity_uuid": entity_uuid,
        "community_uuid": community_uuid,
        "name": name,
        "type": asset_type,
        "category": category,
        "criticality": criticality,
        "description": description,
        "created_at": iso_z(now),
        "created_by": created_by,
        "created_by_type": "apikey",
        "updated_at": None,
        "first_seen": None,
        "last_seen": None,
        "nb_events": 0,
        "nb_alerts": 0,
        "nb_atoms": sum(len(v) for v in atoms.values()),
        "atoms": atoms,
        "props": props,
        "tags": tags,
        "revoked": False,
        "revoked_at": None,
        "revoked_by": None,
        "reviewed": reviewed,
        "reviewed_at": iso_z(now) if reviewed else None,
        "reviewed_by": created_by if reviewed else None,
        "source": source,
        "rule_uuid": None,
        "rule_version": None,
        "pending_recommendations": [],
    }


def urgency_display(value: int) -> str:
    """The spec's bands: Low [0-20[, Moderate [20-40[, High [40-60[, Major [60-80[, Urgent."""
    for bound, name in ((20, "Low"), (40, "Moderate"), (60, "High"), (80, "Major")):
        if value < bound:
            return name
    return "Urgent"


def _ip(rng: random.Random, private: bool) -> str:
    if private:
        return f"10.{rng.randint(0, 20)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return (
        f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def history_entry(
    rng: random.Random,
    at: int,
    by: str,
    by_type: str,
    status: str,
    previous: str | None,
) -> dict[str, Any]:
    alert: dict[str, Any] = {"status": cat.ALERT_STATUSES[status]["name"]}
    if previous is not None:
        alert["previous_status"] = cat.ALERT_STATUSES[previous]["name"]
    return {
        "uuid": new_uuid(rng),
        "created_at": at,
        "created_by": by,
        "created_by_type": by_type,
        "entry_type": "alert",
        "alert": alert,
        "history_comments": [],
    }


def _seed_sic(
    state: EmulatorState, store: SicStore, rules: RulesStore, assets: AssetsStore
) -> None:
    rng = rng_for(state, "alerts")
    now = int(state.now())
    store.engine_uuid = new_uuid(rng)
    analyst = new_uuid(rng)
    communities = community_uuids(state)
    catalog = [r for r in rules.rules.values() if r["community_uuid"] is None]
    statuses = [cat.PENDING] * 5 + [cat.ACKNOWLEDGED] * 2 + [cat.ONGOING] * 2 + [cat.CLOSED] * 2
    statuses += [cat.REJECTED]
    for _ in range(N_ALERTS):
        community = pick_community(rng, communities)
        rule = rng.choice(catalog)
        entities = [e for e in state.entities if e.get("community_uuid") == community]
        entity = rng.choice(entities) if entities else None
        intakes = [
            i["uuid"]
            for i in state.intakes
            if entity is not None and i.get("entity_uuid") == entity.get("uuid")
        ]
        hosts = [
            a
            for a in assets.assets.values()
            if a["community_uuid"] == community and a["type"] == "host"
        ]
        alert_assets = rng.sample(hosts, k=min(len(hosts), rng.randint(0, 2)))
        created = now - rng.randint(600, 30 * 86400)
        first_seen = created - rng.randint(1, 600)
        urgency = max(0, min(100, rule["severity"] + rng.randint(-25, 15)))
        uuid = new_uuid(rng)
        sid = short_id(rng, "AL")
        target = alert_assets[0]["name"] if alert_assets else _ip(rng, private=True)
        data: dict[str, Any] = {
            "uuid": uuid,
            "title": rule["name"],
            "created_at": created,
            "created_by": store.engine_uuid,
            "created_by_type": "application",
            "updated_at": created,
            "updated_by": store.engine_uuid,
            "updated_by_type": "application",
            "community_uuid": community,
            "short_id": sid,
            "description": rule["description"],
            "entity": (
                {"uuid": entity["uuid"], "name": str(entity.get("name", ""))} if entity else None
            ),
            "urgency": {
                "current_value": urgency,
                "value": urgency,
                "severity": rule["severity"],
                "criticity": max((a["criticality"] for a in alert_assets), default=0),
                "display": urgency_display(urgency),
            },
            "alert_type": {
                "value": rule["alert_type"]["value"],
                "category": rule["alert_type"]["category"],
            },
            "status": dict(cat.ALERT_STATUSES[cat.PENDING]),
            "rule": {
                "uuid": rule["uuid"],
                "name": rule["name"],
                "severity": rule["severity"],
                "type": rule["type"],
                "pattern": rule["payload"],
            },
            "detection_type": "rule",
            "source": _ip(rng, private=rng.random() < 0.3),
            "target": target,
            "similar": rng.randint(0, 40),
            "details": rule["description"],
            "ttps": [
                {"id": i, "type": "attack-pattern", "name": n}
                for i, n in rng.sample(cat.TTPS, k=rng.randint(0, 2))
            ],
            "adversaries": [
                {"id": i, "type": "intrusion-set", "name": n}
                for i, n in rng.sample(cat.ADVERSARIES, k=rng.choice((0, 0, 0, 1)))
            ],
            "kill_chain_short_id": rng.choice(cat.KILL_CHAINS),
            "first_seen_at": iso_z(first_seen),
            "last_seen_at": iso_z(created + rng.randint(0, 3600)),
            "assets": [a["uuid"] for a in alert_assets],
            "time_to_detect": created - first_seen,
            "intake_uuids": intakes[:1],
            "verdict": None,
            "custom_status": None,
            "custom_fields": [],
        }
        rec = AlertRecord(data)
        rec.history.append(
            history_entry(rng, created, store.engine_uuid, "application", cat.PENDING, None)
        )
        # Walk the seeded alert through the workflow so its history is consistent.
        target_status = rng.choice(statuses)
        actions = {
            cat.PENDING: [],
            cat.ACKNOWLEDGED: [cat.ACKNOWLEDGE],
            cat.ONGOING: [cat.ACKNOWLEDGE, cat.VALIDATE],
            cat.CLOSED: [cat.ACKNOWLEDGE, cat.VALIDATE, cat.CLOSE],
            cat.REJECTED: [cat.REJECT],
        }[target_status]
        at, previous = created, cat.PENDING
        for action in actions:
            at += rng.randint(60, 36_000)
            if at > now:
                break
            step = transition(previous, action)
            rec.history.append(history_entry(rng, at, analyst, "avatar", step, previous))
            set_status_times(data, step, at)
            data["status"] = dict(cat.ALERT_STATUSES[step])
            data["updated_at"], data["updated_by"], data["updated_by_type"] = at, analyst, "avatar"
            previous = step
        for _ in range(rng.choice((0, 0, 1, 2))):
            rec.comments.append(
                {
                    "uuid": new_uuid(rng),
                    "content": rng.choice(
                        [
                            "Checked with the host owner, investigating.",
                            "Known scanner, see previous case.",
                            "Escalated to the SOC level 2 team.",
                        ]
                    ),
                    "author": f"user:{analyst}",
                    "date": min(now, created + rng.randint(60, 86400)),
                    "created_by": analyst,
                    "created_by_type": "avatar",
                    "unseen": False,
                }
            )
        store.alerts[uuid] = rec
        store.alert_short_ids[sid] = uuid

    _seed_cases(state, store, analyst)


def set_status_times(data: dict[str, Any], status: str, at: int) -> None:
    """Fill the time_to_* counters (seconds since creation) the status change completes."""
    elapsed = max(0, at - int(data["created_at"]))
    if status == cat.ACKNOWLEDGED:
        data.setdefault("time_to_acknowledge", elapsed)
    elif status == cat.ONGOING:
        data.setdefault("time_to_acknowledge", elapsed)
        data.setdefault("time_to_respond", elapsed)
    elif status in (cat.CLOSED, cat.REJECTED):
        data.setdefault("time_to_resolve", elapsed)


def _seed_cases(state: EmulatorState, store: SicStore, analyst: str) -> None:
    rng = rng_for(state, "cases")
    now = state.now()
    free = list(store.alerts.values())
    rng.shuffle(free)
    titles = [
        "Brute force on the VPN gateway",
        "Suspicious PowerShell on finance workstations",
        "Possible ransomware precursor",
        "Phishing campaign targeting HR",
        "Lateral movement from DMZ",
        "Test Add events",
    ]
    for i in range(N_CASES):
        seed_alert = free.pop()
        community = seed_alert.data["community_uuid"]
        same = [a for a in free if a.data["community_uuid"] == community]
        linked = [seed_alert, *same[: rng.randint(0, 3)]]
        for a in linked[1:]:
            free.remove(a)
        created = min(a.data["created_at"] for a in linked) + rng.randint(60, 7200)
        created = min(created, now)
        status = rng.choice(["opened", "opened", "in_progress", "closed"])
        case = new_case(
            rng,
            store,
            title=f"{titles[i % len(titles)]} #{i + 1}",
            description="Case opened from correlated alerts.",
            priority=rng.choice(["low", "medium", "high"]),
            status=status,
            community_uuid=community,
            tags=rng.sample(["phishing", "malware", "vpn", "insider", "false-positive"], k=2),
            subscribers=[{"avatar_uuid": analyst, "type": "assignee"}],
            created_by=analyst,
            created_by_type="avatar",
            now=created,
            manual=rng.random() < 0.5,
        )
        for a in linked:
            case.alert_uuids.append(a.data["uuid"])
            a.case_uuids.append(case.data["uuid"])
        if rng.random() < 0.5:
            case.comments.append(
                {
                    "uuid": new_uuid(rng),
                    "content": "Containment in progress.",
                    "created_at": iso(created + 600),
                    "created_by": analyst,
                    "created_by_type": "avatar",
                    "updated_at": iso(created + 600),
                }
            )


def new_case(
    rng: random.Random,
    store: SicStore,
    *,
    title: str,
    description: str,
    priority: str,
    status: str,
    community_uuid: str,
    tags: list[str],
    subscribers: list[dict[str, Any]],
    created_by: str,
    created_by_type: str,
    now: float,
    manual: bool = True,
) -> CaseRecord:
    """Create and register a case (CaseSchema fields; ISO timestamps, unlike alerts)."""
    uuid = new_uuid(rng)
    sid = short_id(rng, "CA")
    data: dict[str, Any] = {
        "uuid": uuid,
        "short_id": sid,
        "created_at": iso(now),
        "created_by": created_by,
        "created_by_type": created_by_type,
        "updated_at": iso(now),
        "updated_by": created_by,
        "updated_by_type": created_by_type,
        "title": title,
        "description": description,
        "priority": priority,
        "status": status,
        "status_uuid": cat.CASE_STATUSES[status],
        "community_uuid": community_uuid,
        "subscribers": subscribers,
        "tags": tags,
        "manual": manual,
        "is_supplied": False,
        "verdict_uuid": None,
        "verdict": None,
        "custom_status_uuid": None,
        "custom_status": None,
        "custom_priority_uuid": None,
        "custom_priority": None,
        "description_updated_manually": False,
        "priority_updated_manually": False,
        "custom_fields": [],
    }
    rec = CaseRecord(data)
    store.cases[uuid] = rec
    store.case_short_ids[sid] = uuid
    return rec
