"""``ingest_reserve``: the webhook hot path's replay-guard lookup and rate/quota
reservation as one server-side call, so the caller can pipeline it (``adapters.webhook_ledger``).

Created 2026-12-02.
"""

from alembic import op

revision, down_revision = "0003", "0002"

# ``known``: the lead_id of an already accepted webhook-id (nothing is counted).
# Else ``exhausted`` names the full window ("rate" wins over "quota", as the minute is
# the one that frees up first), and nothing stays counted; or both are NULL: one request
# was counted in the minute and in the month window. The month row is locked first, the
# order in which a release's index scan meets the two rows, so the two cannot deadlock.
RESERVE = """
CREATE FUNCTION ingest_reserve(
    p_tenant varchar, p_webhook_id varchar, p_month varchar, p_minute varchar,
    p_per_minute bigint, p_per_month bigint,
    OUT known uuid, OUT exhausted text
) LANGUAGE plpgsql AS $$
DECLARE
    month_ok boolean;
    minute_ok boolean;
BEGIN
    SELECT a.lead_id INTO known FROM accepted_webhooks a
    WHERE a.tenant = p_tenant AND a.webhook_id = p_webhook_id;
    IF known IS NOT NULL THEN
        RETURN;
    END IF;
    IF p_per_minute <= 0 THEN
        exhausted := 'rate';
        RETURN;
    END IF;
    IF p_per_month <= 0 THEN
        exhausted := 'quota';
        RETURN;
    END IF;
    INSERT INTO usage_counters AS u (tenant, "window", count) VALUES (p_tenant, p_month, 1)
    ON CONFLICT (tenant, "window") DO UPDATE SET count = u.count + 1
    WHERE u.count < p_per_month;
    month_ok := FOUND;
    INSERT INTO usage_counters AS u (tenant, "window", count) VALUES (p_tenant, p_minute, 1)
    ON CONFLICT (tenant, "window") DO UPDATE SET count = u.count + 1
    WHERE u.count < p_per_minute;
    minute_ok := FOUND;
    IF month_ok AND minute_ok THEN
        RETURN;
    END IF;
    exhausted := CASE WHEN minute_ok THEN 'quota' ELSE 'rate' END;
    UPDATE usage_counters SET count = count - 1
    WHERE tenant = p_tenant
      AND (("window" = p_month AND month_ok) OR ("window" = p_minute AND minute_ok));
END
$$
"""


def upgrade() -> None:
    op.execute(RESERVE)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION ingest_reserve(varchar, varchar, varchar, varchar, bigint, bigint)"
    )
