"""The command line of every service: ``python -m leadflow_<name> [serve|migrate]``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from servicekit.logging import configure_logging
from servicekit.migrations import upgrade
from servicekit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def service_main(
    *,
    settings_cls: type[S],
    create_app: Callable[[S], FastAPI],
    migrations: Path,
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(description="Run a Leadflow service.")
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "migrate"],
        help="serve: migrate, then serve HTTP and consume (default); migrate: only migrate",
    )
    args = parser.parse_args(argv)
    settings = settings_cls()
    configure_logging(settings.service_name, settings.log_level)
    upgrade(settings.database_url, migrations)
    if args.command == "migrate":
        return
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        timeout_graceful_shutdown=10,
    )
