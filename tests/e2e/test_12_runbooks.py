"""Journey 12: every runbook's commands run, as written, against the running stack.

Each page of ``docs/runbooks`` runs in one bash shell (``set -euo pipefail``), after the
setup block of ``docs/runbooks/README.md``, with the variables a page names set to a
tenant, a lead and dead letters made for it, as an operator would set them. Blocks
fenced ``sh compose`` need a container engine and the compose stack: each is reported
as a skipped test with that reason. A command that fails (or a ``curl -f`` that meets
an error answer) fails the page.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from leadflow_contracts.topics import LEAD_QUALIFIED
from servicekit.auth import mint_token
from servicekit.testing.helpers import eventually

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "docs" / "runbooks"
PAGES = sorted(p for p in RUNBOOKS.glob("*.md") if p.name != "README.md")
_BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)


def blocks(page: Path) -> list[tuple[str, str]]:
    """(info string, body) of every fenced block of a page."""
    return [(m.group(1).strip(), m.group(2)) for m in _BLOCK.finditer(page.read_text())]


def runnable(page: Path) -> list[str]:
    return [body for info, body in blocks(page) if info == "sh"]


def container_blocks() -> list[Any]:
    return [
        pytest.param(body, id=f"{page.stem}-{n}")
        for page in PAGES
        for n, (info, body) in enumerate(blocks(page))
        if info == "sh compose"
    ]


@pytest.mark.parametrize("body", container_blocks())
def test_container_engine_blocks(body: str) -> None:
    pytest.skip("needs a container engine and the compose stack (deploy/compose): not run")


async def _dead_letter(api: Any, bootstrap: str) -> str:
    """A record that cannot be parsed, on ``lead.qualified``: router dead-letters it."""
    marker = f"runbook-{uuid.uuid4().hex}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(LEAD_QUALIFIED.name, marker.encode(), key=marker.encode())
    finally:
        await producer.stop()

    async def probe() -> str | None:
        page = await api.json(
            "dlq", "GET", "/v1/dead-letters", params={"topic": LEAD_QUALIFIED.name, "limit": 500}
        )
        found = [i["id"] for i in page["items"] if marker in (i.get("value_preview") or "")]
        return str(found[0]) if found else None

    found: str = await eventually(probe, timeout_s=60, what=f"dead letter {marker}")
    return found


async def _page_env(
    page: Path, text: str, api: Any, provision: Any, deployment: Any, timeline: Any
) -> dict[str, str]:
    # The stack under test runs in dev mode: re-encrypting "from" and "to" its key
    # rewrites every secret without locking the running ingest out.
    from leadflow_ingest.settings import DEV_SECRET_ENCRYPTION_KEY

    token = mint_token(deployment.jwt_secret, sub="runbook", role="admin", tenants=["*"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
    env |= {name.upper(): url for name, url in deployment.urls.items()}
    env |= {"LEADFLOW_TOKEN": token, "UV_FROZEN": "1", "SOURCE": "generic"}
    env |= {"NEW_KEY": DEV_SECRET_ENCRYPTION_KEY, "OLD_KEY": DEV_SECRET_ENCRYPTION_KEY}
    if deployment.database_url:
        for service in ("ingest", "audit"):
            env[f"{service.upper()}_DATABASE_URL"] = deployment.service_database_url(service)
    if page.stem == "onboard-tenant":  # the page creates its tenant itself
        slug = f"rb-{uuid.uuid4().hex[:10]}"
        return env | {"TENANT": slug, "TIER": f"tier-{slug}"}
    tenant = await provision()
    env["TENANT"] = tenant.slug
    if "$LEAD_ID" in text:
        await api.qualify_everything(tenant.slug)
        team = await api.create_team(tenant.slug, "sales", strategy="least_loaded")
        await api.create_rep(tenant.slug, "ada", team)
        await api.put_routing_rules(tenant.slug, default_team=team)
        lead_id, _ = await tenant.send_lead(tenant.lead("runbook"))
        await timeline(tenant.slug, lead_id, "lead.assigned")
        env["LEAD_ID"] = str(lead_id)
    for name in ("DEAD_LETTER_ID", "DISCARD_ID"):
        if f"${name}" in text or f"${{{name}}}" in text:
            env[name] = await _dead_letter(api, deployment.bootstrap_servers)
    return env


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
async def test_runbook_commands_run(
    page: Path, api: Any, provision: Any, deployment: Any, timeline: Any
) -> None:
    missing = [tool for tool in ("bash", "curl", "jq", "uv") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the runbooks' commands need {', '.join(missing)} on PATH")
    text = page.read_text()  # noqa: ASYNC240 - a small file, before anything runs
    if deployment.database_url is None and "_DATABASE_URL" in text:
        pytest.skip("live mode without LEADFLOW_E2E_DATABASE_URL: the page reads a database")
    commands = runnable(page)
    assert commands, f"{page.name} has no runnable command block"
    env = await _page_env(page, text, api, provision, deployment, timeline)
    script = ["set -euo pipefail", *runnable(RUNBOOKS / "README.md")]
    script += [f"echo '### {page.name} block {n}'\n{body}" for n, body in enumerate(commands)]
    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-c", "\n".join(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, (
        f"{page.name}: a command failed (exit {done.returncode})\n"
        f"--- output\n{done.stdout[-4000:]}\n--- errors\n{done.stderr[-4000:]}"
    )
