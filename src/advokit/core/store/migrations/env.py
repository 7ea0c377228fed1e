"""alembic environment for advokit and its plugins.

Run through :mod:`advokit.core.store.migrate`, which passes an open connection
in ``config.attributes["connection"]``. Without one, a URL is taken from the
``sqlalchemy.url`` option (online) or SQL is printed (offline).

Autogenerate compares only tables that are both declared on ``SQLModel.metadata``
and named with ``config.attributes["table_prefix"]`` (default ``advokit_``), so
tables of plugins or of other applications sharing the database are neither
added to nor dropped by a core migration. A plugin autogenerating its own
migration sets ``table_prefix`` to its own prefix.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import advokit.core.store.tables  # noqa: F401  (declares the core tables)
from advokit.core.store.database import connect

config = context.config
target_metadata = SQLModel.metadata
VERSION_TABLE = "advokit_alembic_version"
prefix: str = config.attributes.get("table_prefix", "advokit_")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table":
        return bool(name) and name in target_metadata.tables and name.startswith(prefix)
    return True


def _configure(**options: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        include_object=include_object,
        render_as_batch=True,  # SQLite can only ALTER TABLE by copying it
        compare_type=True,
        **options,
    )


def run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    run(given)
else:
    engine = connect(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            run(connection)
    finally:
        engine.dispose()
