"""Evidence for the proof pack (``make proof``): what each journey asked and was answered.

Off unless ``LEADFLOW_PROOF_DIR`` is set (the proof runner sets it): then ``Api`` hands every
request and answer to the current test's ``Recorder`` (masked as it is recorded), tests
mark the acceptance criteria they proved with ``criterion(...)``, and at the end of each
test the recorder adds the audit timeline and the trace (span tree) of every lead the test
sent, and writes ``<proof dir>/evidence/<test>.json``. With the variable unset ``current()``
is None and recording costs one lookup per request.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from servicekit.testing.helpers import eventually

if TYPE_CHECKING:
    from tests.e2e.support.api_client import Api

PROOF_DIR_ENV = "LEADFLOW_PROOF_DIR"

#: The acceptance criteria of journeys 1-3 and the test that proves each one.
CRITERIA: dict[str, str] = {
    "J1.1": "A validly signed webhook is answered 202 with the lead id derived from the "
    "webhook-id and the webhook-id as correlation id",
    "J1.2": "lead.received and sales.lead.created are on the bus with deterministic event "
    "ids, the causation chain, key = lead id and the contract headers",
    "J1.3": "Every field of the lead is normalized (trimmed names, lower-cased email, E.164 "
    "phone, ISO country, language, UTM, deduplicated tags)",
    "J1.4": "Ingest's API serves the same lead the event carries",
    "J1.5": "The same person again (other case, other phone format) is a new lead marked "
    "duplicate_of the first",
    "J2.1": "A strong lead is scored 0-100 with fit, engagement, threshold, rules version "
    "and every rule that fired",
    "J2.2": "The strong lead is qualified with its lead snapshot and score, ids derived "
    "from the cause, and then assigned",
    "J2.3": "A weak lead is scored with its reasons and not qualified",
    "J2.4": "The score preview explains exactly what the pipeline emitted and emits nothing",
    "J2.5": "The weak lead is never qualified, routed or assigned",
    "J2.6": "The weak lead's audit timeline ends not_qualified and says why",
    "J3.1": "A qualified lead goes to the only rep who is active, available, skilled, in "
    "working hours and under capacity",
    "J3.2": "The assignment lists every other candidate with the reason it was excluded",
    "J3.3": "A rep at capacity is excluded; the next eligible rep gets the lead with an SLA "
    "due time from the tenant's tier",
    "J3.4": "The router's API and the audit timeline show the same decision",
}

_SECRET_KEY = re.compile(r"secret|signature|authorization|token|password|cookie", re.I)
_SECRET_VALUE = re.compile(
    r"whsec_[A-Za-z0-9+/=]+|Bearer\s+\S+|eyJ[\w-]+\.[\w-]+\.[\w-]*|v1,[A-Za-z0-9+/=]{20,}"
)
MASK = "***"


def _secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key)) and not key.endswith("_id")  # secret_id names one


def mask_text(text: str, secrets: set[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return _SECRET_VALUE.sub(MASK, text)


def mask(value: Any, secrets: set[str]) -> Any:
    """``value`` with every secret-like key's value, every known secret and every
    secret-shaped string (webhook secrets, signatures, bearer tokens, JWTs) replaced."""
    if isinstance(value, dict):
        return {
            k: MASK if _secret_key(str(k)) and v is not None else mask(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask(v, secrets) for v in value]
    if isinstance(value, str):
        return mask_text(value, secrets)
    return value


def _body(raw: bytes | str | None) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        return text[:2000]


@dataclass
class Recorder:
    test: str
    secrets: set[str] = field(default_factory=set)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    criteria: dict[str, str] = field(default_factory=dict)
    leads: dict[str, str] = field(default_factory=dict)  # lead id -> tenant slug
    api: Api | None = None

    def record(self, api: Api, response: httpx.Response) -> None:
        self.api = api
        self.secrets.add(api.deployment.jwt_secret)
        request = response.request
        answer = _body(response.content)
        if isinstance(answer, dict):
            self._learn(request.url.path, answer)
        self.exchanges.append(
            {
                "request": {
                    "method": request.method,
                    "url": str(request.url),
                    "headers": dict(request.headers),
                    "body": _body(request.content),
                },
                "answer": {
                    "status": response.status_code,
                    "headers": {
                        k: v for k, v in response.headers.items() if k in ("content-type",)
                    },
                    "body": answer,
                },
            }
        )

    def _learn(self, path: str, answer: dict[str, Any]) -> None:
        """Remember secrets the services handed out and the leads the webhooks accepted."""
        if isinstance(answer.get("secret"), str):
            self.secrets.add(answer["secret"])
        parts = path.split("/")
        if path.startswith("/v1/webhooks/") and isinstance(answer.get("lead_id"), str):
            self.leads[answer["lead_id"]] = parts[3]

    async def collect(self) -> dict[str, Any]:
        """The test's evidence: exchanges, criteria, and each lead's timeline and trace."""
        leads = []
        for lead_id, slug in self.leads.items():
            leads.append(
                {
                    "lead_id": lead_id,
                    "tenant": slug,
                    "timeline": await self._timeline(slug, uuid.UUID(lead_id)),
                    "spans": await self._spans(uuid.UUID(lead_id).hex),
                }
            )
        evidence = {
            "test": self.test,
            "exchanges": self.exchanges,
            "criteria": self.criteria,
            "leads": leads,
        }
        masked: dict[str, Any] = mask(evidence, self.secrets)
        return masked

    async def _timeline(self, slug: str, lead_id: uuid.UUID) -> Any:
        assert self.api is not None
        path = f"/v1/leads/{lead_id}/timeline"
        response = await self.api.call(
            "audit", "GET", path, role="viewer", tenant=slug, record=False
        )
        return response.json() if response.status_code == 200 else None

    async def _spans(self, trace_id: str) -> list[dict[str, Any]]:
        """The trace's spans once their count stops growing (exports are batched)."""
        assert self.api is not None
        collector = self.api.deployment.spans
        if collector is None:
            return []
        seen: list[int] = []

        async def settled() -> bool:
            seen.append(len(collector.trace(trace_id)))
            return len(seen) >= 3 and seen[-1] == seen[-3] and seen[-1] > 0

        # Report what arrived (possibly nothing) rather than fail the journey.
        with contextlib.suppress(AssertionError):
            await eventually(settled, timeout_s=5.0, interval_s=0.3, what=f"trace {trace_id}")
        return [
            {
                "span_id": s.span_id,
                "parent_span_id": s.parent_span_id,
                "name": s.name,
                "service": s.service,
            }
            for s in collector.trace(trace_id)
        ]


#: The running test's recorder. A module global rather than a context variable: the
#: fixture that starts it and the test run in different asyncio tasks (copied contexts),
#: and the journeys run one at a time.
_current: list[Recorder] = []


def proof_dir() -> Path | None:
    value = os.environ.get(PROOF_DIR_ENV)
    return Path(value) if value else None


def current() -> Recorder | None:
    return _current[-1] if _current else None


def start(test: str) -> None:
    _current.append(Recorder(test))


def criterion(criterion_id: str) -> None:
    """Mark an acceptance criterion of ``CRITERIA`` as proved (call it right after the
    assertions that prove it; a no-op unless the proof pack is recording)."""
    if criterion_id not in CRITERIA:
        raise KeyError(f"unknown acceptance criterion {criterion_id}")
    if recorder := current():
        recorder.criteria[criterion_id] = CRITERIA[criterion_id]


async def finish(directory: Path) -> None:
    recorder = _current.pop()
    evidence = await recorder.collect()
    out = directory / "evidence"
    out.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", recorder.test)
    (out / f"{name}.json").write_bytes(orjson.dumps(evidence, option=orjson.OPT_INDENT_2))
