"""Journey 4: a batch of leads to a weighted-round-robin team splits by the weights, and
nobody gets a lead while away.

Tolerance: a weighted round robin with a persistent pointer is deterministic, so each
rep's count in a phase must be within ONE lead of ``leads * weight / sum(weights)``.
"""

from __future__ import annotations

from collections import Counter

TOLERANCE = 1


async def _batch(tenant, bus, count: int, phase: str) -> list:
    lead_ids = [(await tenant.send_lead(tenant.lead(f"{phase}{i}")))[0] for i in range(count)]
    decisions = []
    for lead_id in lead_ids:
        [assigned] = await bus.wait("lead.assigned", lead_id=lead_id)
        decisions.append(assigned)
    return decisions


def _check_split(decisions: list, weights: dict[str, int], away: str) -> None:
    got = Counter(d.payload["rep_id"] for d in decisions)
    total = sum(weights.values())
    for rep, weight in weights.items():
        expected = len(decisions) * weight / total
        assert abs(got[rep] - expected) <= TOLERANCE, (rep, got, weights)
    assert got[away] == 0, f"{away} got a lead while away: {got}"
    for d in decisions:
        assert d.payload["strategy"] == "weighted_round_robin"
        reasons = {c["rep_id"]: c["excluded_reason"] for c in d.payload["candidates"]}
        assert reasons[away] == "not_available"
        assert reasons[d.payload["rep_id"]] is None


async def test_weighted_team_split_follows_weights_and_skips_away_reps(provision, api, bus) -> None:
    tenant = await provision()
    await api.qualify_everything(tenant.slug)
    slug = tenant.slug
    team = await api.create_team(slug, "rotation", strategy="weighted_round_robin")
    heavy = await api.create_rep(slug, "heavy", team, weight=3)
    light = await api.create_rep(slug, "light", team, weight=1)
    middle = await api.create_rep(slug, "middle", team, weight=2, presence="away")
    await api.put_routing_rules(slug, default_team=team)

    first = await _batch(tenant, bus, 12, "a")
    _check_split(first, {heavy: 3, light: 1}, away=middle)

    # Light goes away, middle comes back: the rotation continues with the new set.
    await api.set_presence(slug, light, "away")
    await api.set_presence(slug, middle, "available")
    second = await _batch(tenant, bus, 10, "b")
    _check_split(second, {heavy: 3, middle: 2}, away=light)
