"""``python -m leadflow_console [serve]`` — the console has no database, so no migrate."""

from __future__ import annotations

import argparse

from servicekit.logging import configure_logging
from servicekit.service import serve

from leadflow_console.app import create_app
from leadflow_console.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Leadflow console.")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve"])
    parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
