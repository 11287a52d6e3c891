"""The scoring engine: ``score(lead, rule_set) -> ScoreResult``. Pure, total, explained.

Order independence: every rule is evaluated on its own, sums are commutative, and the
reasons are sorted (most points first, then rule id; ids are unique), so shuffling the
rules of a set never changes the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadflow_contracts import Lead, LeadScored, ScoreReason

from leadflow_scoring.domain.rules import Rule, RuleSet, Weights


@dataclass(frozen=True)
class ScoreResult:
    """Sub-scores clamped to 0-100, the raw sums before clamping, and the fired rules."""

    fit: int
    engagement: int
    fit_raw: int
    engagement_raw: int
    total: int
    threshold: int
    qualified: bool
    fired: tuple[Rule, ...]
    rules_version: int

    @property
    def raw(self) -> int:
        return self.fit_raw + self.engagement_raw

    def to_event(self) -> LeadScored:
        """The ``lead.scored`` payload (also what ``score:preview`` returns): the fields
        it shares with this result by name (it ignores the others), ``total`` as its
        score and the fired rules as its reasons."""
        reasons = [
            ScoreReason(
                rule_id=r.id, description=r.description, category=r.category, points=r.points
            )
            for r in self.fired
        ]
        return LeadScored(**vars(self), score=self.total, reasons=reasons)


def clamp(value: int) -> int:
    return max(0, min(100, value))


def weighted_total(fit: int, engagement: int, weights: Weights) -> int:
    """The weighted mean of the clamped sub-scores, rounded half up, in integers only
    (no float rounding surprises: the same inputs give the same total everywhere)."""
    denominator = weights.fit + weights.engagement
    numerator = weights.fit * fit + weights.engagement * engagement
    return (2 * numerator + denominator) // (2 * denominator)


def score(lead: Lead, rule_set: RuleSet) -> ScoreResult:
    fired = tuple(
        sorted(
            (rule for rule in rule_set.rules if rule.condition.matches(lead)),
            key=lambda rule: (-rule.points, rule.id),
        )
    )
    fit_raw = sum(r.points for r in fired if r.category == "fit")
    engagement_raw = sum(r.points for r in fired if r.category == "engagement")
    fit, engagement = clamp(fit_raw), clamp(engagement_raw)
    total = weighted_total(fit, engagement, rule_set.weights)
    return ScoreResult(
        fit=fit,
        engagement=engagement,
        fit_raw=fit_raw,
        engagement_raw=engagement_raw,
        total=total,
        threshold=rule_set.threshold,
        qualified=total >= rule_set.threshold,
        fired=fired,
        rules_version=rule_set.version,
    )
