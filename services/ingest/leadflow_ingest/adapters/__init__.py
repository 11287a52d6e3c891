"""Adapters layer of the ingest service."""
