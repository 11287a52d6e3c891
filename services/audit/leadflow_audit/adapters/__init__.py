"""Adapters layer of the audit service."""
