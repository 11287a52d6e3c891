"""Configuration of the console (environment only, read at start-up).

The console has no database and no broker of its own: it calls the services' HTTP APIs
with the signed-in user's token, so every service keeps owning its data and its
authorization. Only in dev mode does it know the JWT secret, to mint tokens for the
"sign in as" picker.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from servicekit.settings import ServiceSettings

UPSTREAMS = ("ingest", "scoring", "router", "audit", "dlq")


class Settings(ServiceSettings):
    service_name: str = "console"
    http_port: int = 8000
    ingest_url: str = "http://127.0.0.1:8001"
    scoring_url: str = "http://127.0.0.1:8002"
    router_url: str = "http://127.0.0.1:8003"
    audit_url: str = "http://127.0.0.1:8004"
    dlq_url: str = "http://127.0.0.1:8005"
    #: Encrypts the session cookie (which carries the user's token) and keys CSRF tokens.
    #: Outside dev mode it is mandatory; in dev mode a random key per process is used.
    session_key: SecretStr | None = None
    #: Send the cookie only over HTTPS (turn on behind TLS; the local stack is plain HTTP).
    secure_cookies: bool = False
    upstream_timeout_s: float = Field(default=5.0, gt=0)
    #: How long a "sign in as" token lasts (dev mode only).
    dev_token_ttl_s: int = Field(default=8 * 3600, ge=60)

    def upstream_urls(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url").rstrip("/") for name in UPSTREAMS}
