"""`python -m leadflow_ingest [serve|migrate|reencrypt]`."""

from __future__ import annotations

import sys

from servicekit.service import migrations_folder, service_main

from leadflow_ingest import cli
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import Settings

MIGRATIONS = migrations_folder(__file__)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in cli.COMMANDS:
        raise SystemExit(cli.main(sys.argv[1:]))
    service_main(settings_cls=Settings, create_app=create_app, migrations=MIGRATIONS)


if __name__ == "__main__":
    main()
