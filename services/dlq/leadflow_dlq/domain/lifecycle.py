"""Status of a dead letter: ``pending`` → ``replayed`` (again and again) or ``discarded``.

Replaying a replayed record is allowed (the first replay may have failed again, or an
operator fixed the cause only now); consumers dedupe on ``event_id``, so a replay never
duplicates anything downstream. A discarded record is final: discarding is the
operator's decision that the record must not be processed, so it can be neither
replayed nor discarded again.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    pending = "pending"
    replayed = "replayed"
    discarded = "discarded"


class Action(StrEnum):
    received = "received"
    replayed = "replayed"
    discarded = "discarded"


class TransitionRefused(Exception):
    """The action is not allowed in the record's current status."""


_ALLOWED: dict[Action, frozenset[Status]] = {
    Action.replayed: frozenset({Status.pending, Status.replayed}),
    Action.discarded: frozenset({Status.pending, Status.replayed}),
}
_RESULT = {Action.replayed: Status.replayed, Action.discarded: Status.discarded}


def transition(status: Status, action: Action) -> Status:
    """The status after ``action``; raises ``TransitionRefused`` when not allowed."""
    if action not in _ALLOWED:
        raise TransitionRefused(f"{action.value!r} is not an operator action")
    if status not in _ALLOWED[action]:
        raise TransitionRefused(
            f"a {status.value} dead letter cannot be {action.value}; discarded records are final"
        )
    return _RESULT[action]


def normalize_reason(reason: str) -> str:
    """A discard reason: trimmed, not empty (the API rejects an empty one with 422)."""
    cleaned = " ".join(reason.split())
    if not cleaned:
        raise ValueError("a reason is required")
    return cleaned
