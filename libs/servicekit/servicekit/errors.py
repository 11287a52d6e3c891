"""The exception that steers delivery: what is dead-lettered without retries."""

from __future__ import annotations


class InvalidMessage(Exception):
    """The message can never be handled (bad JSON, bad envelope, impossible payload).

    Raising it sends the record straight to its dead-letter topic, without retries.
    """
