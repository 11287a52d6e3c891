"""Configuration of the audit service (environment only, read at start-up)."""

from __future__ import annotations

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "audit"
    http_port: int = 8004
