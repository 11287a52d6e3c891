"""Leadflow dlq service."""
