"""Handlers layer of the ingest service."""
