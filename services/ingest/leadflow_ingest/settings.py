"""Configuration of the ingest service (environment only, read at start-up)."""

from __future__ import annotations

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "ingest"
    http_port: int = 8001
