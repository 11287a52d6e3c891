"""`python -m leadflow_ingest [serve|migrate|reencrypt]`."""

from __future__ import annotations

from servicekit.service import migrations_folder, service_main

from leadflow_ingest import cli
from leadflow_ingest.app import create_app
from leadflow_ingest.settings import Settings

MIGRATIONS = migrations_folder(__file__)


def main() -> None:
    service_main(settings_cls=Settings, create_app=create_app, migrations=MIGRATIONS, cli=cli)


if __name__ == "__main__":
    main()
