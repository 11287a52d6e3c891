"""Handlers layer of the scoring service."""
