"""Sekoia filter / query parameter encoding (pure)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sekoia_async._transport.filters import encode_filters


def test_issue_example() -> None:
    assert encode_filters({"match": {"entity_name": ["a", "b"], "rule_name": "r1"}}) == [
        ("match[entity_name]", "a,b"),
        ("match[rule_name]", "r1"),
    ]


def test_all_filter_kinds_and_scalars() -> None:
    start = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    params: dict[str, Any] = {
        "limit": 10,
        "offset": 0,
        "ratio": 0.5,
        "enabled": True,
        "archived": False,
        "skipped": None,
        "uuids": ["u1", "u2"],
        "empty": [],
        "nomatch": {"status": ("Closed", "Rejected")},
        "date": {"created_at": (start, "now")},
        "range": {"urgency": (10, 80.5)},
    }
    assert encode_filters(params) == [
        ("limit", "10"),
        ("offset", "0"),
        ("ratio", "0.5"),
        ("enabled", "true"),
        ("archived", "false"),
        ("uuids", "u1,u2"),
        ("nomatch[status]", "Closed,Rejected"),
        ("date[created_at]", "2024-01-02T03:04:05+00:00,now"),
        ("range[urgency]", "10,80.5"),
    ]
    assert encode_filters(None) == []
    assert encode_filters({"match": {"x": None}}) == []


@pytest.mark.parametrize(
    "params",
    [
        {"match": {"entity_name": ["a,b"]}},
        {"match": {"entity_name": "a,b"}},
        {"nomatch": {"entity_name": ["ok", "x,y"]}},
        {"date": {"created_at": ("2024-01-01,2024", "now")}},
        {"uuids": ["a,b"]},
    ],
)
def test_comma_in_a_value_names_the_field(params: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="comma") as info:
        encode_filters(params)
    assert (
        ("entity_name" in str(info.value))
        or ("created_at" in str(info.value))
        or ("uuids" in str(info.value))
    )


def test_empty_filter_list_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"match\[rule_name\].*empty"):
        encode_filters({"match": {"rule_name": []}})


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"date": {"created_at": ("2024-01-01",)}}, ValueError),
        ({"date": {"created_at": ("2024-01-01", None)}}, ValueError),
        ({"range": {"urgency": "10,20"}}, TypeError),
        ({"match": "entity_name=a"}, TypeError),
        ({"match": {"": "a"}}, ValueError),
        ({"match": {"a]b": "a"}}, ValueError),
        ({"limit": object()}, TypeError),
    ],
)
def test_malformed_filters(params: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        encode_filters(params)


_values = st.text(alphabet=st.characters(blacklist_characters=",", codec="utf-8"), min_size=1)
_fields = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.", min_size=1, max_size=20)


@given(st.dictionaries(_fields, st.lists(_values, min_size=1, max_size=5), min_size=1))
def test_match_roundtrips(filters: dict[str, list[str]]) -> None:
    encoded = encode_filters({"match": filters})
    assert [name for name, _ in encoded] == [f"match[{f}]" for f in filters]
    decoded = {name[len("match[") : -1]: value.split(",") for name, value in encoded}
    assert decoded == filters


@given(st.lists(st.text(min_size=1), min_size=1, max_size=5))
def test_commas_are_never_silently_sent(values: list[str]) -> None:
    if any("," in v for v in values):
        with pytest.raises(ValueError, match=r"match\[f\]"):
            encode_filters({"match": {"f": values}})
    else:
        encoded = encode_filters({"match": {"f": values}})
        assert encoded == [("match[f]", ",".join(values))]
        assert len(encoded[0][1].split(",")) == len(values)
