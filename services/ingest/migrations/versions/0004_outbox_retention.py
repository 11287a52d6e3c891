"""Outbox retention (servicekit.migrations.OUTBOX_RETENTION); 2026-12-03."""

from servicekit.migrations import OUTBOX_RETENTION

revision, down_revision = "0004", "0003"
upgrade, downgrade = OUTBOX_RETENTION
