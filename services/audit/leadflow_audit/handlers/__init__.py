"""Handlers layer of the audit service."""
