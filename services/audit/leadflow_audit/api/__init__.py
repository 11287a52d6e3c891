"""Api layer of the audit service."""
