"""The HTTP API: FastAPI routes, schemas and problem+json errors."""
