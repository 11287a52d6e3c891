"""Domain layer of the audit service."""
