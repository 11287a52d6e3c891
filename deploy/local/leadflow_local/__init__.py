"""Embedded stack launcher and the leadflow CLI."""
