"""Leadflow router service."""
