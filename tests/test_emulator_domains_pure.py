"""Pure parts of the emulated domains, without a server: the status machine and the seeding."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sekoia_async.testing._domains import _catalog as cat
from sekoia_async.testing._domains._common import Filters, apply_filters, is_email, is_uuid
from sekoia_async.testing._domains._stores import (
    assets_store,
    community_store,
    roles_of,
    rules_store,
    sic_store,
)
from sekoia_async.testing._domains._workflow import InvalidTransition, UnknownAction, transition
from sekoia_async.testing._routing import EmulatorState
from sekoia_async.testing._seed import seed_state

NOW = 1_780_000_000.0
STATUS_BY_NAME = {s["name"]: uuid for uuid, s in cat.ALERT_STATUSES.items()}
MOVES = sorted(cat.ACTIONS) + sorted(cat.ALERT_STATUSES)


def seeded(seed: int) -> EmulatorState:
    state = EmulatorState(seed=seed, clock=lambda: NOW)
    seed_state(state)
    return state


# --- the status machine ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "target"),
    [
        (cat.PENDING, cat.ACKNOWLEDGE, cat.ACKNOWLEDGED),
        (cat.PENDING, cat.REJECT, cat.REJECTED),
        (cat.ACKNOWLEDGED, cat.VALIDATE, cat.ONGOING),
        (cat.ACKNOWLEDGED, cat.REJECT, cat.REJECTED),
        (cat.ONGOING, cat.CLOSE, cat.CLOSED),
        (cat.ONGOING, cat.REJECT, cat.REJECTED),
        (cat.PENDING, cat.ACKNOWLEDGED, cat.ACKNOWLEDGED),  # a legacy status UUID works too
    ],
)
def test_allowed_transitions(status: str, action: str, target: str) -> None:
    assert transition(status, action) == target


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (cat.PENDING, cat.VALIDATE),
        (cat.PENDING, cat.CLOSE),
        (cat.PENDING, cat.ONGOING),
        (cat.ACKNOWLEDGED, cat.ACKNOWLEDGE),
        (cat.ACKNOWLEDGED, cat.CLOSE),
        (cat.ONGOING, cat.VALIDATE),
        (cat.CLOSED, cat.REJECT),
        (cat.REJECTED, cat.ACKNOWLEDGE),
    ],
)
def test_invalid_transitions_name_the_allowed_actions(status: str, action: str) -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(status, action)
    assert caught.value.allowed == cat.TRANSITIONS[status]
    assert cat.ALERT_STATUSES[status]["name"] in str(caught.value)


def test_unknown_action() -> None:
    with pytest.raises(UnknownAction, match="not a known action"):
        transition(cat.PENDING, "00000000-0000-4000-8000-000000000000")


@given(st.lists(st.sampled_from(MOVES), max_size=12))
def test_any_sequence_moves_forward_and_final_statuses_absorb(moves: list[str]) -> None:
    order = [cat.PENDING, cat.ACKNOWLEDGED, cat.ONGOING, cat.CLOSED]
    status = cat.PENDING
    for move in moves:
        try:
            after = transition(status, move)
        except InvalidTransition:
            continue
        assert status not in (cat.CLOSED, cat.REJECTED)  # nothing leaves a final status
        if after != cat.REJECTED:
            assert order.index(after) == order.index(status) + 1  # one step at a time
        status = after


# --- seeding -----------------------------------------------------------------------------------


def snapshot(state: EmulatorState) -> dict[str, Any]:
    sic = sic_store(state)
    return {
        "rules": rules_store(state).rules,
        "assets": assets_store(state).assets,
        "alerts": {u: (r.data, r.comments, r.history, r.case_uuids) for u, r in sic.alerts.items()},
        "cases": {u: (r.data, r.alert_uuids, r.comments) for u, r in sic.cases.items()},
        "roles": [roles_of(state, c["uuid"]) for c in state.communities],
    }


def test_seeding_is_deterministic_per_seed() -> None:
    assert snapshot(seeded(7)) == snapshot(seeded(7))
    assert snapshot(seeded(7))["alerts"].keys() != snapshot(seeded(8))["alerts"].keys()


def test_stores_are_created_once_and_shared() -> None:
    state = seeded(0)
    assert sic_store(state) is sic_store(state)
    assert community_store(state) is community_store(state)
    assert state.stores["rules"] is rules_store(state)


def test_seeded_alerts_have_a_history_the_machine_allows() -> None:
    state = seeded(3)
    statuses = set()
    for rec in sic_store(state).alerts.values():
        history = sorted(rec.history, key=lambda h: h["created_at"])
        assert history[0]["alert"] == {"status": "Pending"}
        status = cat.PENDING
        for entry in history[1:]:
            target = STATUS_BY_NAME[entry["alert"]["status"]]
            assert STATUS_BY_NAME[entry["alert"]["previous_status"]] == status
            assert transition(status, target) == target
            status = target
        assert rec.data["status"]["uuid"] == status
        statuses.add(status)
        assert ("time_to_acknowledge" in rec.data) == (
            status in (cat.ACKNOWLEDGED, cat.ONGOING, cat.CLOSED)
        )
        assert rec.data["created_at"] <= rec.data["updated_at"] <= NOW
    assert statuses == set(cat.ALERT_STATUSES)  # every status is represented


def test_seeded_references_are_consistent() -> None:
    state = seeded(5)
    sic = sic_store(state)
    rules = rules_store(state).rules
    assets = assets_store(state).assets
    entities = {e["uuid"]: e for e in state.entities}
    for rec in sic.alerts.values():
        data = rec.data
        assert data["rule"]["uuid"] in rules
        assert sic.alert_short_ids[data["short_id"]] == data["uuid"]
        if data["entity"] is not None:
            assert entities[data["entity"]["uuid"]]["community_uuid"] == data["community_uuid"]
        assert all(assets[a]["community_uuid"] == data["community_uuid"] for a in data["assets"])
        for case_uuid in rec.case_uuids:
            assert data["uuid"] in sic.cases[case_uuid].alert_uuids
    for case in sic.cases.values():
        assert case.alert_uuids
        for alert_uuid in case.alert_uuids:
            alert = sic.alerts[alert_uuid]
            assert case.data["uuid"] in alert.case_uuids
            assert alert.data["community_uuid"] == case.data["community_uuid"]
    names = [r["name"] for r in rules.values()]
    assert "Suspicious Windows Defender Exclusion Command" in names
    assert len(names) == len(set(names))


# --- filters -----------------------------------------------------------------------------------

WORDS = st.sampled_from(["a", "b", "c", "d"])
ITEMS = st.lists(
    st.fixed_dictionaries(
        {"tag": WORDS, "labels": st.lists(WORDS, max_size=3), "n": st.integers(0, 9)}
    ),
    max_size=12,
)
GETTERS: dict[str, Any] = {
    "tag": lambda i: i["tag"],
    "labels": lambda i: i["labels"],
    "n": lambda i: i["n"],
}


@given(ITEMS, st.sampled_from(["tag", "labels"]), st.sets(WORDS, min_size=1))
def test_match_and_nomatch_partition_the_items(
    items: list[dict[str, Any]], field: str, values: set[str]
) -> None:
    wanted = tuple(sorted(values))
    kept = apply_filters(items, Filters(match={field: wanted}), GETTERS)
    dropped = apply_filters(items, Filters(nomatch={field: wanted}), GETTERS)
    assert len(kept) + len(dropped) == len(items)
    for item in kept:
        got = item[field] if isinstance(item[field], list) else [item[field]]
        assert values.intersection(got)  # OR within a field


@given(ITEMS, st.sets(WORDS, min_size=1), st.integers(0, 9), st.integers(0, 9))
def test_filters_of_different_kinds_are_anded(
    items: list[dict[str, Any]], tags: set[str], low: int, high: int
) -> None:
    both = Filters(match={"tag": tuple(tags)}, range={"n": (low, high)})
    expected = [i for i in items if i["tag"] in tags and low <= i["n"] <= high]
    assert apply_filters(items, both, GETTERS) == expected


def test_uuid_and_email_checks_take_the_whole_value() -> None:
    good = "1c3a4a06-8f06-4f8a-9a4d-4b1f0f1b2c3d"
    assert is_uuid(good)
    assert not is_uuid(good + "\n")
    assert not is_uuid(good[:-1])
    assert not is_uuid(None)
    assert is_email("john.doe@example.com")
    assert not is_email("john.doe@example.com\n")
    assert not is_email("john doe@example.com")
    assert not is_email("a@b,c@example.com")
