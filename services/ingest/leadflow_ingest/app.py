"""Composition root of the ingest service: every I/O dependency is wired here."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.http import create_http_app
from servicekit.runtime import Runtime

from leadflow_ingest.settings import Settings


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or Runtime.build(settings)
    return create_http_app(runtime, title="Leadflow ingest", jwt_secret=settings.jwt_secret())
