"""Adapters layer of the dlq service."""
