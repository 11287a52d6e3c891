"""Api layer of the ingest service."""
