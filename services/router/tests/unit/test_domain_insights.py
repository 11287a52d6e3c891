"""Routing insights from stored decisions: shares against weights, skips by reason."""

from __future__ import annotations

from leadflow_router.domain.insights import AssignmentFacts, insights


def _rep(rep_id: str, weight: int, active: bool = True) -> dict[str, object]:
    return {"rep_id": rep_id, "name": rep_id.title(), "weight": weight, "active": active}


def _assigned(rep_id: str, *skipped: tuple[str, str], status: str = "open", seq: int = 0):
    candidates = [{"rep_id": rep_id, "excluded_reason": None}]
    candidates += [{"rep_id": r, "excluded_reason": why} for r, why in skipped]
    return AssignmentFacts(rep_id, "dach", status, seq, tuple(candidates))


def test_shares_against_weights_and_skips_by_reason() -> None:
    facts = [
        _assigned("ada", ("bo", "not_available")),
        _assigned("ada", ("bo", "not_available"), ("cy", "at_capacity")),
        _assigned("bo", ("ada", "not_selected"), status="breached"),
        _assigned("cy", ("ada", "outside_working_hours"), seq=1),
    ]
    reps = [_rep("ada", 2), _rep("bo", 1), _rep("cy", 1), _rep("dee", 5, active=False)]
    nobody = [[{"rep_id": "cy", "excluded_reason": "missing_skill"}]]
    out = insights(facts, reps, nobody)
    assert (out["total_assignments"], out["sla_breaches"], out["reassignments"]) == (4, 1, 1)
    assert out["routing_failures"] == 1
    assert out["skipped"] == {
        "at_capacity": 1,
        "missing_skill": 1,
        "not_available": 2,
        "outside_working_hours": 1,
    }
    rows = {r["rep_id"]: r for r in out["reps"]}
    assert (rows["ada"]["assignments"], rows["ada"]["share"], rows["ada"]["weight_share"]) == (
        2,
        0.5,
        0.5,
    )
    # "another rep was picked" is not a skip; an inactive rep has no weight share.
    assert rows["ada"]["skipped"] == {"outside_working_hours": 1}
    assert rows["bo"]["skipped"] == {"not_available": 2}
    assert rows["cy"]["skipped"] == {"at_capacity": 1, "missing_skill": 1}
    assert (rows["bo"]["sla_breaches"], rows["cy"]["reassigned_to"]) == (1, 1)
    assert (rows["dee"]["assignments"], rows["dee"]["weight_share"]) == (0, 0.0)


def test_no_assignments_means_no_shares() -> None:
    out = insights([], [_rep("ada", 1)])
    assert out["total_assignments"] == 0
    assert out["reps"][0]["share"] == 0.0
    assert out["reps"][0]["weight_share"] == 1.0
