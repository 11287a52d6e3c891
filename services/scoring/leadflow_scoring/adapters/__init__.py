"""Adapters layer of the scoring service."""
