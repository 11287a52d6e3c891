"""``leadflow demo``: the story against the running stack (``make run``'s ports, or
``--url``/``--port-offset``), or against an embedded stack it starts and stops when
nothing answers."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import httpx
from servicekit.db import with_database

from leadflow_local.demo.client import ApiError
from leadflow_local.demo.run import DemoReport, DemoUnavailable, run_demo


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser(
        "demo", help="provision a story of 2 tenants and send its 10 leads; print their outcomes"
    )
    demo.add_argument(
        "--url", action="append", help="NAME=URL of a service (repeatable; default: make run's)"
    )
    demo.add_argument(
        "--port-offset", type=int, default=int(os.environ.get("LEADFLOW_PORT_OFFSET", "0"))
    )
    demo.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="the PostgreSQL server of the stack, for the poison step (default: DATABASE_URL, "
        "else the embedded one running from --data-dir)",
    )
    demo.add_argument("--state-dir", default=".data/demo", help="where the webhook secrets live")
    demo.add_argument(
        "--no-start",
        action="store_true",
        help="fail instead of starting an embedded stack when nothing answers",
    )
    demo.add_argument(
        "--data-dir", default=".data", help="where make run keeps its data (and an embedded stack)"
    )
    demo.add_argument("--timeout", type=float, default=90.0, help="seconds to wait per step")
    demo.set_defaults(func=main)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=3.0).status_code == 200
    except httpx.HTTPError:
        return False


def embedded_postgres_url(data_dir: Path) -> str | None:
    """The server URL of the embedded PostgreSQL running from ``data_dir`` (make run's),
    from its ``postmaster.pid`` (the fourth line is the port), or None if none runs there."""
    try:
        lines = (data_dir / "postgres" / "postmaster.pid").read_text().splitlines()
        return f"postgresql://postgres@127.0.0.1:{int(lines[3])}/postgres"
    except (OSError, IndexError, ValueError):
        return None


def _play(args: argparse.Namespace, urls: dict[str, str], secret: str, db: str | None) -> int:
    try:
        report: DemoReport = asyncio.run(
            run_demo(
                urls,
                secret,
                console_url=urls.get("console"),
                scoring_database_url=db,
                state_dir=Path(args.state_dir),
                timeout_s=args.timeout,
            )
        )
    except DemoUnavailable as exc:
        print(f"leadflow demo: {exc}. Start the stack with `make run`.", file=sys.stderr)
        return 1
    except (ApiError, httpx.HTTPError) as exc:
        print(f"leadflow demo: stopped, a call failed: {exc}", file=sys.stderr)
        return 1
    return 0 if report.ok else 1


def main(args: argparse.Namespace) -> int:
    from leadflow_local.cli import _jwt_secret, _service_urls

    urls = dict(_service_urls(args))
    if _answers(urls["ingest"]) if "ingest" in urls else False:
        server = args.database_url or embedded_postgres_url(Path(args.data_dir))
        if server is None:
            print(
                "note: no --database-url and no embedded PostgreSQL in "
                f"{args.data_dir}: the poison step cannot run",
                file=sys.stderr,
            )
        db = with_database(server, "leadflow_scoring") if server else None
        return _play(args, urls, _jwt_secret(), db)
    if args.no_start or args.url:
        hint = "is it running?" if args.url else "start it with `make run` (or drop --no-start)"
        print(f"leadflow demo: nothing answers at {urls.get('ingest')}: {hint}", file=sys.stderr)
        return 1
    from leadflow_local.stack import Stack  # the embedded extra

    print("Nothing answers on make run's ports: starting an embedded stack for the demo …")
    stack = Stack(data_dir=Path(args.data_dir).resolve(), port_offset=args.port_offset)
    try:
        stack.start()
        urls = {name: stack.url(name) for name in stack.services}
        db = with_database(stack.database_url, stack.database_prefix + "scoring")
        return _play(args, urls, stack.jwt_secret, db)
    finally:
        print("Stopping the embedded stack …")
        stack.stop()
