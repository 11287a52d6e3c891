"""Configuration of the dlq service (environment only, read at start-up)."""

from __future__ import annotations

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "dlq"
    http_port: int = 8005
