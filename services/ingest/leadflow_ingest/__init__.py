"""Leadflow ingest service."""
