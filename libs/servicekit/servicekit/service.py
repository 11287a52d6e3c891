"""The command line of every service: ``python -m leadflow_<name> [serve|migrate]``.

A service with operator commands of its own passes its ``cli`` module: ``service_main``
hands an argv whose first word is one of ``cli.COMMANDS`` to ``cli.main`` and exits with
its status."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Protocol, TypeVar

import uvicorn
from fastapi import FastAPI

from servicekit.logging import configure_logging
from servicekit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


class OperatorCli(Protocol):
    """A service's ``cli`` module: the commands it adds, and their entry point."""

    @property
    def COMMANDS(self) -> Collection[str]: ...

    def main(self, argv: list[str] | None = None) -> int: ...


def migrations_folder(package_file: str) -> Path:
    """A service's Alembic folder: inside the installed package (a built wheel carries it
    there, see each service's ``force-include``), else beside the package in the source
    tree (a workspace checkout, where the package is imported from its source folder)."""
    package = Path(package_file).resolve().parent
    packaged = package / "migrations"
    if (packaged / "env.py").is_file():
        return packaged
    return package.parent / "migrations"


def service_main(
    *,
    settings_cls: type[S],
    create_app: Callable[[S], FastAPI],
    migrations: Path,
    cli: OperatorCli | None = None,
    argv: list[str] | None = None,
) -> None:
    words = sys.argv[1:] if argv is None else argv
    if cli is not None and words[:1] and words[0] in cli.COMMANDS:
        raise SystemExit(cli.main(words))
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
    if args.command == "migrate":
        from servicekit.migrations import upgrade

        upgrade(settings.database_url, migrations)
        return
    migrate_in_child(settings, migrations)
    serve(create_app(settings), settings)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Serve ``app`` on the configured host and port until SIGTERM/SIGINT."""
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        timeout_graceful_shutdown=10,
    )


def migrate_in_child(settings: ServiceSettings, migrations: Path) -> None:
    """Migrate in a short-lived child process, so Alembic, Mako and a synchronous
    engine never load into the serving process (they would stay resident for nothing)."""
    env = {**os.environ, "LEADFLOW_MIGRATE_DATABASE_URL": settings.database_url}
    argv = [sys.executable, "-m", "servicekit.migrations", str(migrations)]
    argv += ["--service", settings.service_name, "--log-level", settings.log_level]
    code = subprocess.run(argv, env=env, check=False).returncode
    if code != 0:
        raise SystemExit(f"{settings.service_name}: migrations failed (exit {code}), not serving")
