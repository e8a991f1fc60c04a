"""The legacy alert status machine, as a pure function (no I/O, tested without a server).

Pending -> Acknowledge (Acknowledged) or Reject (Rejected); Acknowledged -> Validate (Ongoing) or
Reject; Ongoing -> Close (Closed) or Reject. Closed and Rejected are final. Sekoia's spec lets
``action_uuid`` be an action or the legacy status to move to, so both are accepted.
"""

from __future__ import annotations

from . import _catalog as cat


class UnknownAction(ValueError):
    """The UUID is neither a workflow action nor a legacy status."""


class InvalidTransition(ValueError):
    """The action is known but not allowed from the current status (the API's 409)."""

    def __init__(self, message: str, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allowed = allowed


def available(status: str) -> tuple[str, ...]:
    """The action UUIDs allowed from ``status``."""
    return cat.TRANSITIONS[status]


def transition(status: str, action_uuid: str) -> str:
    """The status an alert in ``status`` moves to with ``action_uuid``."""
    allowed = available(status)
    if action_uuid in cat.ACTIONS:
        target = cat.ACTION_TARGET[action_uuid]
        valid = action_uuid in allowed
        what = cat.ACTIONS[action_uuid]["name"]
    elif action_uuid in cat.ALERT_STATUSES:
        target = action_uuid
        valid = any(cat.ACTION_TARGET[a] == target for a in allowed)
        what = f"move to {cat.ALERT_STATUSES[target]['name']}"
    else:
        raise UnknownAction(f"action_uuid {action_uuid} is not a known action")
    if not valid:
        names = ", ".join(cat.ACTIONS[a]["name"] for a in allowed) or "none (final status)"
        raise InvalidTransition(
            f"cannot {what} an alert that is {cat.ALERT_STATUSES[status]['name']}; "
            f"allowed actions: {names}",
            allowed,
        )
    return target
