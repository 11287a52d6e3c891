"""Domain layer of the dlq service."""
