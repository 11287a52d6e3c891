"""Deterministic ids are part of the contract: they must never change, in any process.

The expected values were computed once and are hard-coded on purpose: if one of these
assertions fails, every stored lead id and every dedupe key would change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from subprocess import CompletedProcess

import pytest
from leadflow_contracts.ids import (
    LEAD_NAMESPACE,
    derived_event_id,
    lead_id_for,
    received_event_id,
)

WEBHOOK = ("nordlicht", "ghl", "msg_2qHf8ZkVb3XwN7tLcRy5dPjA1mE")
EXPECTED_NAMESPACE = "2ea5a47c-8ef2-55e0-b5a0-6737f9ec8a63"
EXPECTED_LEAD_ID = "abe65cea-4c30-5dbb-8a0d-8bc2b8857bd9"
EXPECTED_RECEIVED_ID = "2b56dbad-b626-56c0-b767-29efe122d080"
EXPECTED_CREATED_ID = "c2d836e4-3d8e-546c-9030-f9c3878a84d3"
EXPECTED_REASSIGNED_2_ID = "97e66230-a86c-53bc-9ad5-2eba37b852ff"

# Prints the same five ids, one per line, in a fresh interpreter.
CODE = f"""
from leadflow_contracts.ids import *
lead = lead_id_for(*{WEBHOOK!r})
received = received_event_id(lead)
print(LEAD_NAMESPACE)
print(lead)
print(received)
print(derived_event_id(received, "lead.created"))
print(derived_event_id(received, "lead.reassigned", 2))
"""
EXPECTED = [
    EXPECTED_NAMESPACE,
    EXPECTED_LEAD_ID,
    EXPECTED_RECEIVED_ID,
    EXPECTED_CREATED_ID,
    EXPECTED_REASSIGNED_2_ID,
]


def test_ids_have_their_fixed_values() -> None:
    lead = lead_id_for(*WEBHOOK)
    received = received_event_id(lead)
    assert str(LEAD_NAMESPACE) == EXPECTED_NAMESPACE
    assert str(lead) == EXPECTED_LEAD_ID
    assert str(received) == EXPECTED_RECEIVED_ID
    assert str(derived_event_id(received, "lead.created")) == EXPECTED_CREATED_ID
    assert str(derived_event_id(received, "lead.reassigned", 2)) == EXPECTED_REASSIGNED_2_ID


@pytest.mark.parametrize("hash_seed", ["0", "4242", "random"])
def test_ids_are_the_same_in_a_fresh_process(
    run_python: Callable[..., CompletedProcess[str]], hash_seed: str
) -> None:
    result = run_python("-c", CODE, PYTHONHASHSEED=hash_seed)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == EXPECTED


def test_every_input_changes_the_lead_id() -> None:
    variants = {
        lead_id_for(*WEBHOOK),
        lead_id_for("nordlicht2", "ghl", WEBHOOK[2]),
        lead_id_for("nordlicht", "generic", WEBHOOK[2]),
        lead_id_for("nordlicht", "ghl", WEBHOOK[2] + "x"),
    }
    assert len(variants) == 4


def test_discriminator_separates_events_of_one_type_from_one_cause() -> None:
    cause = uuid.UUID(EXPECTED_RECEIVED_ID)
    ids = {derived_event_id(cause, "lead.reassigned", n) for n in (None, 1, 2)}
    assert len(ids) == 3
    assert derived_event_id(cause, "lead.reassigned", 2) == derived_event_id(
        cause, "lead.reassigned", "2"
    )
