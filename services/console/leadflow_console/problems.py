"""Map a service's RFC 9457 answer to what a form shows: a message per form field and
one for the form as a whole. Pure, so the mapping is tested without I/O.

Services name a field by its path in the request (``body.rules.0.team_id``); a form
names its inputs in its own way, so each form passes ``fields``: request path prefix →
input name (``{"body.rules.{i}.team_id": "rules-{i}-team_id"}``). ``{i}`` matches one
list index. The most specific (longest) prefix wins; what no prefix claims goes to the
form's general message, so no refusal is ever hidden.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FormErrors:
    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def _pattern(prefix: str) -> re.Pattern[str]:
    parts = [r"(\d+)" if p == "{i}" else re.escape(p) for p in prefix.split(".")]
    return re.compile(r"\.".join(parts) + r"(?:\.|$)")


def map_problem(problem: Mapping[str, Any], fields: Mapping[str, str]) -> FormErrors:
    out = FormErrors()
    errors = problem.get("errors")
    patterns = sorted(fields.items(), key=lambda kv: -len(kv[0]))
    if isinstance(errors, list):
        for error in errors:
            if not isinstance(error, Mapping):
                continue
            path, message = str(error.get("field", "")), str(error.get("message", "invalid"))
            for prefix, name in patterns:
                match = _pattern(prefix).match(path)
                if match:
                    target = name
                    for index in match.groups():
                        target = target.replace("{i}", index, 1)
                    out.fields.setdefault(target, message)
                    break
            else:
                out.general.append(f"{path or 'request'}: {message}")
    if not out:
        title = str(problem.get("title") or "The request was refused")
        detail = problem.get("detail")
        out.general.append(f"{title}: {detail}" if detail else title)
    return out
