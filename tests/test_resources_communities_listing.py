"""The list-envelope parser shared by the identity, conf and asset list endpoints (pure)."""

from __future__ import annotations

import pytest

from sekoia_async import APIResponseValidationError, Community, Invitation
from sekoia_async._resources._listing import parse_envelope, uuid_of


def test_envelope_with_total() -> None:
    items, total, has_more = parse_envelope(
        {"items": [{"uuid": "a"}, {"uuid": "b"}], "total": 7}, Community, limit=2, path="/x"
    )
    assert [c.uuid for c in items] == ["a", "b"]
    assert (total, has_more) == (7, None)


def test_envelope_with_has_more_only() -> None:
    _, total, has_more = parse_envelope(
        {"items": [{"uuid": "a"}], "has_more": False}, Community, limit=1, path="/x"
    )
    assert (total, has_more) == (None, False)


@pytest.mark.parametrize(("count", "more"), [(2, True), (1, False), (0, False)])
def test_no_count_at_all_means_a_full_page_may_have_a_successor(count: int, more: bool) -> None:
    data = [{"uuid": str(i)} for i in range(count)]
    assert parse_envelope(data, Community, limit=2, path="/x")[1:] == (None, more)
    assert parse_envelope({"items": data}, Community, limit=2, path="/x")[1:] == (None, more)


@pytest.mark.parametrize("data", [{"message": "hello"}, "text", None, {"items": "nope"}])
def test_not_a_list_is_a_validation_error(data: object) -> None:
    with pytest.raises(APIResponseValidationError, match="GET /x did not return a list"):
        parse_envelope(data, Community, limit=2, path="/x")


def test_uuid_of_takes_a_model_or_a_string() -> None:
    assert uuid_of("abc") == "abc"
    assert uuid_of(Community(uuid="c-1")) == "c-1"
    with pytest.raises(ValueError, match="Invitation has no uuid"):
        uuid_of(Invitation())
