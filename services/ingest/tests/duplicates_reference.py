"""The reference duplicate look-up, in memory: what ``adapters.lead_store.earliest_matches``
must answer (the unit test checks the domain's batch decisions against it, the integration
test checks the SQL against it)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from leadflow_contracts import Lead
from leadflow_ingest.domain.duplicates import Earlier

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = timedelta(days=30)


def matches(a: Lead, b: Lead) -> bool:
    """The look-up of ``adapters.lead_store.earliest_matches``, for ``a`` against ``b``."""
    same_contact = (a.email is not None and a.email == b.email) or (
        a.phone is not None and a.phone == b.phone
    )
    return (
        a.tenant_id == b.tenant_id
        and a.lead_id != b.lead_id
        and a.received_at - WINDOW <= b.received_at <= a.received_at
        and same_contact
    )


def earliest(lead: Lead, table: list[Lead]) -> Earlier | None:
    found = [(x.received_at, x.lead_id) for x in table if matches(lead, x)]
    return min(found) if found else None


def one_by_one(stored: list[Lead], batch: list[Lead]) -> list[uuid.UUID | None]:
    """The reference: each lead looked up against the table, then inserted."""
    table, result = list(stored), []
    for lead in batch:
        found = earliest(lead, table)
        result.append(found[1] if found else None)
        table.append(lead)
    return result


def lead(tenant: int, email: int | None, phone: int | None, minute: int, ident: int) -> Lead:
    return Lead(
        lead_id=uuid.UUID(int=ident),
        tenant_id=f"t{tenant}",
        source="generic",
        email=None if email is None else f"e{email}@x.example",
        phone=None if phone is None else f"+4930{phone:06d}",
        received_at=T0 + timedelta(days=minute % 40, minutes=minute),
    )
