"""Handlers layer of the dlq service."""
