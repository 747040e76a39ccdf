"""Adapters: the database, the clock, security primitives (and later the gateways)."""
