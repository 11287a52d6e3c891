"""Test infrastructure shared by every service and by tests/e2e (import from tests only)."""
