"""Bytes as JSON-safe data, and back: how keys, values and headers are stored and shown.

Kafka keys, values and header values are arbitrary bytes. The API and the ``headers``
column (jsonb) need text, so each is encoded as UTF-8 text when it is valid UTF-8 and as
base64 otherwise, always with the encoding named, so the exact bytes can be rebuilt for
a replay.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from leadflow_contracts import headers as h

from leadflow_dlq.domain.records import Header

UTF8 = "utf-8"
BASE64 = "base64"


def encode_bytes(data: bytes) -> tuple[str, str]:
    """``(encoding, text)`` with encoding ``utf-8`` or ``base64``.

    Text containing NUL is given as base64 too: PostgreSQL's jsonb and text cannot
    hold NUL characters.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        return BASE64, base64.b64encode(data).decode("ascii")
    return UTF8, text


def decode_bytes(encoding: str, text: str) -> bytes:
    if encoding == UTF8:
        return text.encode("utf-8")
    if encoding == BASE64:
        return base64.b64decode(text, validate=True)
    raise ValueError(f"unknown encoding {encoding!r}")


def headers_to_json(headers: Sequence[Header]) -> list[dict[str, str]]:
    """Every header in order (repeated keys kept), as ``{key, value, encoding}``."""
    result = []
    for key, value in headers:
        encoding, text = encode_bytes(value)
        result.append({"key": key, "value": text, "encoding": encoding})
    return result


def headers_from_json(stored: Sequence[dict[str, str]]) -> list[Header]:
    return [(item["key"], decode_bytes(item["encoding"], item["value"])) for item in stored]


def original_headers(headers: Sequence[Header]) -> list[Header]:
    """The headers the failed record carried: without the DLQ context and replay marks."""
    drop = {*h.DLQ_HEADERS, h.REPLAY_OF, h.REPLAY_COUNT}
    return [(key, value) for key, value in headers if key not in drop]


def replay_headers(headers: Sequence[Header], *, replay_of: str, count: int) -> list[Header]:
    """What a replay publishes: the original headers plus ``x-replay-of``/``x-replay-count``.

    ``replay_of`` names the dead-letter record being replayed; ``count`` is how many
    times it has now been replayed (1 for the first replay).
    """
    return [
        *original_headers(headers),
        (h.REPLAY_OF, replay_of.encode()),
        (h.REPLAY_COUNT, str(count).encode()),
    ]


def show_value(value: bytes | None) -> dict[str, Any]:
    """The value for humans: its text (or base64) and, when it is JSON, the parsed JSON."""
    if value is None:
        return {"encoding": None, "data": None, "json": None, "size": 0}
    encoding, text = encode_bytes(value)
    parsed: Any = None
    if encoding == UTF8:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    return {"encoding": encoding, "data": text, "json": parsed, "size": len(value)}
