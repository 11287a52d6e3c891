"""make fuzz: schemathesis against every service (see fuzz.run)."""
