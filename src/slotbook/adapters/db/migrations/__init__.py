"""Alembic migrations; `slotbook migrate` applies them."""
