"""Inbox (idempotent consumers) and outbox (events without a cause); 2026-11-28."""

from servicekit.migrations import INBOX_OUTBOX

revision, down_revision = "0001", None
upgrade, downgrade = INBOX_OUTBOX
