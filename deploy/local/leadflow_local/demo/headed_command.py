"""``leadflow demo-headed``: against the running stack (``make run``'s ports or
``--url``), walks the console through the demo story and records it."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from servicekit.db import with_database

from leadflow_local.demo.command import _answers, embedded_postgres_url


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo-headed",
        help="walk the console through the demo story; record a video and screenshots",
    )
    p.add_argument("--url", action="append", help="NAME=URL of a service (repeatable)")
    p.add_argument(
        "--port-offset", type=int, default=int(os.environ.get("LEADFLOW_PORT_OFFSET", "0"))
    )
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    p.add_argument("--data-dir", default=".data", help="where make run keeps its data")
    p.add_argument("--state-dir", default=".data/demo", help="secrets, video and screenshots")
    p.add_argument(
        "--headless",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="default: headed when DISPLAY is set, else headless",
    )
    p.add_argument("--pause", type=float, default=2.5, help="seconds each step stays on screen")
    p.add_argument("--slow-mo", type=float, default=250, help="ms between browser actions")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from leadflow_local.cli import _jwt_secret, _service_urls
    from leadflow_local.demo.headed import demo_headed
    from leadflow_local.demo.walk import headless_default

    urls = dict(_service_urls(args))
    if "console" not in urls or not _answers(urls.get("ingest", "")):
        print(
            "leadflow demo-headed: the stack does not answer: start it with `make run`",
            file=sys.stderr,
        )
        return 1
    server = args.database_url or embedded_postgres_url(Path(args.data_dir))
    if server is None:
        print(
            "leadflow demo-headed: no --database-url and no embedded PostgreSQL in "
            f"{args.data_dir}: the dead-letter step needs scoring's database",
            file=sys.stderr,
        )
        return 1
    headless = headless_default() if args.headless is None else args.headless
    result = asyncio.run(
        demo_headed(
            urls,
            _jwt_secret(),
            scoring_database_url=with_database(server, "leadflow_scoring"),
            state_dir=Path(args.state_dir),
            headless=headless,
            pause_s=args.pause,
            slow_mo_ms=args.slow_mo,
        )
    )
    return 0 if result.ok else 1
