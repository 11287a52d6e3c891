"""Handlers layer of the router service."""
