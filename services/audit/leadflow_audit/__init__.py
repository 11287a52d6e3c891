"""Leadflow audit service."""
