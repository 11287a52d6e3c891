"""Shared mechanics of every Leadflow service."""
