"""Routing a batch of leads in memory, one after the other, as if each had its own
transaction.

``BatchState`` is the state ``route`` reads (rules per tenant, the locked teams with their
reps' live load, account owners) loaded once for a whole batch. ``decide`` routes one
lead; ``record`` then applies to the state exactly what recording that decision writes to
the database (the rep's open count and last assignment, the team's rotation counters,
the owner of the lead's company domain). So the i-th decision of a batch equals what
handling the same leads one by one, in order, would have decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from leadflow_contracts.lead import Lead

from leadflow_router.domain.model import Decision, RepLoad, TeamState
from leadflow_router.domain.route import route_matched
from leadflow_router.domain.rules import Match, RuleSet, match_team

TeamKey = tuple[str, str]  # (tenant, team_id)


@dataclass
class BatchState:
    rules: dict[str, RuleSet] = field(default_factory=dict)
    #: Only teams that exist; a matched team missing here routes as "team not found".
    teams: dict[TeamKey, TeamState] = field(default_factory=dict)
    #: (tenant, company email domain) → the rep who owns that account.
    owners: dict[tuple[str, str], str] = field(default_factory=dict)

    def match(self, lead: Lead, score: int) -> Match | None:
        """The team the tenant's rules pick for ``lead``: computed once per lead, it says
        which team to load and lock and is then passed to ``decide``."""
        return match_team(lead, score, self.rules.get(lead.tenant_id, RuleSet()))

    def decide(
        self, lead: Lead, match: Match | None, *, at: datetime, domain: str | None
    ) -> Decision:
        """``match`` is ``self.match(lead, score)``; ``domain`` is the lead's company email
        domain (None for free mail)."""
        team = None if match is None else self.teams.get((lead.tenant_id, match.team_id))
        owner = None if domain is None else self.owners.get((lead.tenant_id, domain))
        version = self.rules.get(lead.tenant_id, RuleSet()).version
        return route_matched(match, version, team, at=at, account_owner=owner)

    def record(self, lead: Lead, decision: Decision, *, at: datetime, domain: str | None) -> None:
        """Apply an assignment to the state (a work item changes nothing ``route`` reads)."""
        rep_id = decision.rep_id
        if rep_id is None or decision.team_id is None:
            return
        for key, state in self.teams.items():
            mine = key == (lead.tenant_id, decision.team_id)
            credits: Mapping[str, int] = decision.credits if mine else {}
            if credits or any(load.rep.rep_id == rep_id for load in state.reps):
                self.teams[key] = replace(
                    state, reps=tuple(_after(load, rep_id, at, credits) for load in state.reps)
                )
        if domain is not None:
            self.owners[(lead.tenant_id, domain)] = rep_id


def _after(load: RepLoad, rep_id: str, at: datetime, credits: Mapping[str, int]) -> RepLoad:
    """A rep's load after ``rep_id`` got a lead at ``at`` with new rotation ``credits``.

    Open counts and last assignment are the rep's (across teams); credits are per team.
    """
    if load.rep.rep_id == rep_id:
        load = replace(load, open_assignments=load.open_assignments + 1, last_assigned_at=at)
    if load.rep.rep_id in credits:
        load = replace(load, credit=credits[load.rep.rep_id])
    return load
