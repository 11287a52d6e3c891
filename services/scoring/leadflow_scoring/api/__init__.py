"""Api layer of the scoring service."""
