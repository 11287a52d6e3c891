"""Domain layer of the scoring service."""
