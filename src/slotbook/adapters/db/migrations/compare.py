"""How `tables.py` is held against a migrated database (autogenerate and the schema test).

Alembic's `compare_metadata` compares tables, columns (type, nullability, server default),
indexes, unique and foreign-key constraints. It does not compare CHECK constraints, index
predicates, the slots' exclusion constraint, triggers, storage parameters or extensions;
the schema test compares CHECKs and partial-index predicates itself, by reflection, and the
migration-only objects (exclusion constraint, SQLite triggers, fillfactor, `btree_gist`)
are left to the migrations, as `tables.py` says. Nothing is filtered out: a difference
reported here is a real one.
"""

from __future__ import annotations

from typing import Any, Final

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from slotbook.adapters.db.tables import metadata

COMPARE_OPTIONS: Final[dict[str, Any]] = {"compare_type": True, "compare_server_default": True}


def schema_differences(connection: Connection) -> list[Any]:
    """What would have to change for the database to match `tables.py`; empty when it does."""
    context = MigrationContext.configure(connection, opts=COMPARE_OPTIONS)
    differences: list[Any] = compare_metadata(context, metadata)
    return differences
