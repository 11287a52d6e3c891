"""Tenant-written regular expressions, run with RE2 (``google-re2``): linear time.

Patterns come from tenants and run on every lead, so a backtracking engine would let
one pattern like ``(a+)+$`` stall the consumer for every tenant (ReDoS). RE2 guarantees
time linear in the input; the price is no backreferences and no look-around, which
``compile_pattern`` reports as a validation error when the rule set is saved.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2  # type: ignore[import-untyped]


class PatternError(ValueError):
    pass


def _options(case_sensitive: bool) -> Any:
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.log_errors = False
    return options


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str, case_sensitive: bool = False) -> Any:
    """The compiled pattern; ``PatternError`` says why RE2 refuses it."""
    try:
        return re2.compile(pattern, _options(case_sensitive))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        raise PatternError(text) from None


def search(pattern: str, case_sensitive: bool, text: str) -> bool:
    """``re.search`` semantics: the pattern matches somewhere in ``text``."""
    return compile_pattern(pattern, case_sensitive).search(text) is not None
