"""`python -m leadflow_router [serve|migrate]`."""

from __future__ import annotations

from servicekit.service import migrations_folder, service_main

from leadflow_router.app import create_app
from leadflow_router.settings import Settings

MIGRATIONS = migrations_folder(__file__)


def main() -> None:
    service_main(settings_cls=Settings, create_app=create_app, migrations=MIGRATIONS)


if __name__ == "__main__":
    main()
