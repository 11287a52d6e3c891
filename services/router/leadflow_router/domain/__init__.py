"""Domain layer of the router service."""
