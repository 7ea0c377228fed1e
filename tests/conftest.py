"""Fixtures shared by advokit's tests: fresh, empty databases; an empty working directory."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import sqlalchemy as sa

from advokit.core.store.database import parse_url

POSTGRES_URL = os.environ.get(
    "ADVOKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _unavailable(reason: str) -> NoReturn:
    # CI sets ADVOKIT_REQUIRE_SERVICES=1 so a missing server fails instead of skipping.
    if os.environ.get("ADVOKIT_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a SQLite file database that does not exist yet."""
    return f"sqlite:///{tmp_path / 'advokit.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped afterwards."""
    base = parse_url(POSTGRES_URL)
    try:
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    except ImportError as error:
        _unavailable(f"PostgreSQL driver missing (pip install advokit[postgres]): {error}")
    name = f"advokit_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        _unavailable(
            f"PostgreSQL unreachable at {base.render_as_string()} "
            f"(set ADVOKIT_TEST_POSTGRES_URL): {error.orig}"
        )
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh database on each supported backend: SQLite (file, WAL) and PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param.replace('postgresql', 'postgres')}_url"))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory; sys.path is restored afterwards."""
    directory = tmp_path / "work"
    directory.mkdir()
    monkeypatch.chdir(directory)
    monkeypatch.setattr(sys, "path", list(sys.path))
    return directory
