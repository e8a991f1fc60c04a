"""The invitation body is the quickstart's, and mistakes are caught before any request."""

from __future__ import annotations

import pytest

from sekoia_async._resources.invitations import invitation_body

COMMUNITY = "88dcb0c6-4efe-4256-95f1-40d2c4fefefd"
ROLE = "44aaa41f-24ee-41d3-a7c1-4677da8b9243"


def test_body_is_the_quickstarts() -> None:
    assert invitation_body("john.doe@example.com", {COMMUNITY: [ROLE]}) == {
        "email": "john.doe@example.com",
        "communities": {COMMUNITY: [ROLE]},
    }


def test_uuids_are_normalised() -> None:
    body = invitation_body(" a@b.io ", {COMMUNITY.upper(): [ROLE.upper()]})
    assert body == {"email": "a@b.io", "communities": {COMMUNITY: [ROLE]}}


@pytest.mark.parametrize(
    ("email", "communities", "fragment"),
    [
        ("not-an-email", {COMMUNITY: [ROLE]}, "not an email"),
        ("@", {COMMUNITY: [ROLE]}, "not an email"),
        ("a@b.io", {}, "communities is empty"),
        ("a@b.io", {COMMUNITY: []}, "non-empty list of role"),
        ("a@b.io", {COMMUNITY: ROLE}, "non-empty list of role"),
        ("a@b.io", {"nope": [ROLE]}, "not a UUID"),
        ("a@b.io", {COMMUNITY: ["admin"]}, "not a UUID"),
    ],
)
def test_mistakes_are_refused(email: str, communities: dict[str, list[str]], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        invitation_body(email, communities)
