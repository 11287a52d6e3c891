"""Domain layer of the ingest service."""
