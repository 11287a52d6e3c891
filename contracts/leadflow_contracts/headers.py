"""Kafka header names that are part of the contract (record and dead-letter context)."""

from __future__ import annotations

EVENT_TYPE = "event-type"
SCHEMA_VERSION = "schema-version"
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

DLQ_ORIGINAL_TOPIC = "x-dlq-original-topic"
DLQ_ORIGINAL_PARTITION = "x-dlq-original-partition"
DLQ_ORIGINAL_OFFSET = "x-dlq-original-offset"
DLQ_CONSUMER_GROUP = "x-dlq-consumer-group"
DLQ_EXCEPTION_CLASS = "x-dlq-exception-class"
DLQ_EXCEPTION_MESSAGE = "x-dlq-exception-message"
DLQ_STACKTRACE = "x-dlq-stacktrace"
DLQ_ATTEMPTS = "x-dlq-attempts"
DLQ_FIRST_FAILED_AT = "x-dlq-first-failed-at"
DLQ_LAST_FAILED_AT = "x-dlq-last-failed-at"
REPLAY_OF = "x-replay-of"
REPLAY_COUNT = "x-replay-count"

DLQ_HEADERS = (
    DLQ_ORIGINAL_TOPIC,
    DLQ_ORIGINAL_PARTITION,
    DLQ_ORIGINAL_OFFSET,
    DLQ_CONSUMER_GROUP,
    DLQ_EXCEPTION_CLASS,
    DLQ_EXCEPTION_MESSAGE,
    DLQ_STACKTRACE,
    DLQ_ATTEMPTS,
    DLQ_FIRST_FAILED_AT,
    DLQ_LAST_FAILED_AT,
)
