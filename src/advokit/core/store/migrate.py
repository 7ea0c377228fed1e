"""Schema migrations: advokit's alembic scripts, shipped in the package.

advokit's own revisions live in :data:`MIGRATIONS_DIR` on the ``advokit``
branch. A plugin ships a versions directory of its own, with a base revision
(``down_revision = None``) carrying its own branch label and usually
``depends_on = "advokit"``; its directories are passed as ``extra_locations``.
No ``alembic.ini`` is involved: the configuration is built here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from advokit.core.errors import DatabaseNotReady
from advokit.core.store import database

__all__ = [
    "MIGRATIONS_DIR",
    "VERSION_TABLE",
    "alembic_config",
    "current_heads",
    "is_up_to_date",
    "script_heads",
    "upgrade",
]

_SCRIPT_LOCATION = Path(__file__).parent / "migrations"
#: advokit's own revisions.
MIGRATIONS_DIR: Path = _SCRIPT_LOCATION / "versions"
VERSION_TABLE = "advokit_alembic_version"  # keep in sync with migrations/env.py


def _option(value: str | Path) -> str:
    # Config options go through ConfigParser interpolation, where % is special.
    return str(value).replace("%", "%%")


def alembic_config(engine: Engine, extra_locations: Sequence[str | Path] = ()) -> Config:
    """An alembic configuration for ``engine``, with plugins' version directories.

    ``config.attributes["connection"]`` is left for the caller to set to an open
    connection (as :func:`upgrade` does); without it env.py connects to the URL.
    """
    config = Config()
    config.set_main_option("script_location", _option(_SCRIPT_LOCATION))
    # "os" splits version_locations on os.pathsep, so paths may contain spaces.
    config.set_main_option("path_separator", "os")
    locations = [MIGRATIONS_DIR, *(Path(location) for location in extra_locations)]
    config.set_main_option(
        "version_locations", os.pathsep.join(_option(location) for location in locations)
    )
    config.set_main_option(
        "sqlalchemy.url", _option(engine.url.render_as_string(hide_password=False))
    )
    return config


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One connection and one transaction for a whole upgrade.

    Both databases have transactional DDL, so a failed upgrade leaves nothing
    half done. On SQLite the transaction is ``BEGIN IMMEDIATE`` (concurrent
    upgrades wait for each other rather than fail), and foreign keys are off
    meanwhile, as SQLite requires for batch migrations that copy and drop tables;
    they are checked before committing.
    """
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # The pragma is a no-op inside a transaction: send it on the raw
            # connection, which database.connect leaves in autocommit mode.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with database.begin(connection):
                yield connection
                if sqlite and (
                    broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                ):
                    raise DatabaseNotReady(f"migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def upgrade(
    engine: Engine, extra_locations: Sequence[str | Path] = (), revision: str = "heads"
) -> None:
    """Upgrade the database to ``revision`` (by default: every branch's head)."""
    config = alembic_config(engine, extra_locations)
    try:
        with _migrating(engine) as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except CommandError as error:
        # Typically the database was migrated by a plugin whose scripts are not given.
        raise DatabaseNotReady(f"cannot upgrade the database schema: {error}") from error


def script_heads(engine: Engine, extra_locations: Sequence[str | Path] = ()) -> set[str]:
    """The head revisions of the migration scripts, as the version table records them.

    A revision another one ``depends_on`` (advokit's, for a plugin) is no head
    there once the dependent is applied (needs alembic >= 1.18.5).
    """
    script = ScriptDirectory.from_config(alembic_config(engine, extra_locations))
    return set(script.get_heads(consider_depends_on=True))


def current_heads(engine: Engine, extra_locations: Sequence[str | Path] = ()) -> set[str]:
    """The revisions the database is at; empty when it was never migrated.

    ``extra_locations`` is accepted for symmetry: the version table alone says
    where the database is.
    """
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return set(context.get_current_heads())


def is_up_to_date(engine: Engine, extra_locations: Sequence[str | Path] = ()) -> bool:
    """Whether the database is at the head of every branch, and of no unknown one."""
    return current_heads(engine, extra_locations) == script_heads(engine, extra_locations)
