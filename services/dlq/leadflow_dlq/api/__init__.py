"""Api layer of the dlq service."""
