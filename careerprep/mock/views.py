"""Mock interviews (being built)."""
