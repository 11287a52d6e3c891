"""Adapters layer of the router service."""
