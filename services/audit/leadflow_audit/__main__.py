"""`python -m leadflow_audit [serve|migrate]`."""

from __future__ import annotations

from pathlib import Path

from servicekit.service import service_main

from leadflow_audit.app import create_app
from leadflow_audit.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def main() -> None:
    service_main(settings_cls=Settings, create_app=create_app, migrations=MIGRATIONS)


if __name__ == "__main__":
    main()
