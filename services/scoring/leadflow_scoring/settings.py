"""Configuration of the scoring service (environment only, read at start-up)."""

from __future__ import annotations

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "scoring"
    http_port: int = 8002
    #: The consumer group (and inbox namespace) of the ``sales.lead.created`` consumer.
    consumer_group: str = "scoring"
