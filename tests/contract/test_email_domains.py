"""One answer to "is this a company's domain?" for scoring and the router, case-folded."""

from __future__ import annotations

import pytest
from leadflow_contracts.email_domains import company_domain, is_free_email_domain


@pytest.mark.parametrize("written", ["gmail.com", "GMAIL.COM", "Gmail.Com"])
def test_free_mail_is_free_in_any_case(written: str) -> None:
    assert is_free_email_domain(written)
    assert company_domain(written) is None


@pytest.mark.parametrize("written", ["acme.io", "ACME.IO", "Acme.Io"])
def test_company_domain_is_case_folded(written: str) -> None:
    # The router keys account owners by this value: every spelling is one account.
    assert not is_free_email_domain(written)
    assert company_domain(written) == "acme.io"


def test_no_domain_has_no_owner() -> None:
    assert company_domain(None) is None
