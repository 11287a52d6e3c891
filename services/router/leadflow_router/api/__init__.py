"""Api layer of the router service."""
