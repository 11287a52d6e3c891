"""The exceptions that steer delivery: what is retried and what is dead-lettered."""

from __future__ import annotations


class InvalidMessage(Exception):
    """The message can never be handled (bad JSON, bad envelope, impossible payload).

    Raising it sends the record straight to its dead-letter topic, without retries.
    """


class TransientError(Exception):
    """A failure that may pass (a dependency is down). Retried with backoff, then DLQ."""
