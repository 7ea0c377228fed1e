"""The shipped alembic migrations build exactly the schema tables.py declares."""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from advokit.core.errors import DatabaseNotReady
from advokit.core.store import migrate
from advokit.core.store.database import connect, transaction
from advokit.core.store.tables import AdvocateRow, LedgerEntryRow, core_tables

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    engine = connect(request.getfixturevalue(f"{request.param}_url"))
    yield engine
    engine.dispose()


def schema_differences(engine: sa.Engine, tables: Sequence[sa.Table] = ()) -> list[Any]:
    """What the database lacks or has more than advokit's tables (and ``tables``) declare."""
    metadata = sa.MetaData()
    for table in [*core_tables(), *tables]:
        table.to_metadata(metadata)
    with engine.connect() as connection, warnings.catch_warnings():
        # SQLite's indexes on expressions (ix_advocate_email) cannot be reflected, so
        # not compared: test_the_email_index_is_built_and_used checks that one.
        warnings.filterwarnings("ignore", r".*expression-based index")
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "version_table": migrate.VERSION_TABLE,
            },
        )
        return compare_metadata(context, metadata)


def test_upgrade_builds_the_declared_schema(engine: sa.Engine) -> None:
    assert not migrate.is_up_to_date(engine)
    migrate.upgrade(engine)
    assert migrate.current_heads(engine) == {"0003_advocate_email_index"}
    assert migrate.is_up_to_date(engine)
    assert schema_differences(engine) == []


def test_compare_sees_a_missing_index(engine: sa.Engine) -> None:
    # Guards the test above against a comparison that sees nothing.
    migrate.upgrade(engine)
    with transaction(engine) as connection:
        connection.exec_driver_sql("DROP INDEX ix_lot_expiry")
    assert [diff[0] for diff in schema_differences(engine)] == ["add_index"]


def test_second_upgrade_is_a_no_op(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    statements: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.strip().split()[0].upper())

    migrate.upgrade(engine)
    assert not {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE"} & set(statements)
    assert migrate.current_heads(engine) == {"0003_advocate_email_index"}


def test_ledger_is_append_only(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    advocates, ledger = AdvocateRow.__table__, LedgerEntryRow.__table__  # type: ignore[attr-defined]
    advocate = {
        "program": "p",
        "external_id": "a1",
        "kind": "customer",
        "locale": "en",
        "timezone": "UTC",
        "attributes": {},
        "consent": {},
        "enrolled_at": NOW,
        "updated_at": NOW,
    }
    entry = {
        "program": "p",
        "account": "points",
        "type": "award",
        "delta": 10,
        "reason": "test",
        "effective_at": NOW,
        "created_at": NOW,
    }
    with transaction(engine) as connection:
        advocate_id = connection.execute(
            sa.insert(advocates).returning(advocates.c.id), advocate
        ).scalar_one()
        connection.execute(sa.insert(ledger), {**entry, "advocate_id": advocate_id})
    for statement in (
        "UPDATE advokit_ledger_entries SET delta = 1000",
        "DELETE FROM advokit_ledger_entries",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), transaction(engine) as conn:
            conn.exec_driver_sql(statement)
    with transaction(engine, write=False) as connection:
        rows = connection.exec_driver_sql("SELECT delta FROM advokit_ledger_entries").all()
    assert rows == [(10,)]


PLUGIN_MIGRATION = """
    import sqlalchemy as sa
    from alembic import op

    revision = "exampleplugin_0001"
    down_revision = None
    branch_labels = ("exampleplugin",)
    depends_on = "advokit"


    def upgrade() -> None:
        op.create_table(
            "exampleplugin_things",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("advocate_id", sa.BigInteger(), sa.ForeignKey("advokit_advocates.id")),
        )


    def downgrade() -> None:
        op.drop_table("exampleplugin_things")
"""


def test_plugin_version_location(engine: sa.Engine, tmp_path: Path) -> None:
    versions = tmp_path / "plugin versions"  # a space, to check how locations are split
    versions.mkdir()
    (versions / "exampleplugin_0001.py").write_text(textwrap.dedent(PLUGIN_MIGRATION))

    migrate.upgrade(engine)
    assert migrate.is_up_to_date(engine)
    assert not migrate.is_up_to_date(engine, [versions])

    migrate.upgrade(engine, [versions])
    assert "exampleplugin_things" in sa.inspect(engine).get_table_names()
    # The plugin's branch starts from the core's first revision (its branch label): the
    # heads are the core's latest revision and the plugin's.
    assert migrate.current_heads(engine) == {"0003_advocate_email_index", "exampleplugin_0001"}
    assert migrate.is_up_to_date(engine, [versions])
    # A database migrated by a plugin that is no longer given is not up to date.
    assert not migrate.is_up_to_date(engine)
    with pytest.raises(DatabaseNotReady, match="exampleplugin_0001"):
        migrate.upgrade(engine)


def test_the_built_in_plugins_migrations_build_their_declared_tables(engine: sa.Engine) -> None:
    """Each plugin's alembic branch ends at exactly the tables its ``tables.py`` declares."""
    from advokit.plugins import (
        badges,
        challenges,
        fraud,
        journeys,
        leaderboards,
        messages,
        referrals,
        rewards,
        tiers,
    )
    from advokit.plugins.badges.plugin import MIGRATIONS as BADGES
    from advokit.plugins.challenges.plugin import MIGRATIONS as CHALLENGES
    from advokit.plugins.fraud.plugin import MIGRATIONS as FRAUD
    from advokit.plugins.journeys.plugin import MIGRATIONS as JOURNEYS
    from advokit.plugins.leaderboards.plugin import MIGRATIONS as LEADERBOARDS
    from advokit.plugins.messages.plugin import MIGRATIONS as MESSAGES
    from advokit.plugins.referrals.plugin import MIGRATIONS as REFERRALS
    from advokit.plugins.rewards.plugin import MIGRATIONS as REWARDS
    from advokit.plugins.scoring import tables as scoring
    from advokit.plugins.scoring.plugin import MIGRATIONS as SCORING
    from advokit.plugins.tiers.plugin import MIGRATIONS as TIERS

    plugin_tables = [
        badges.states_t,
        badges.awards_t,
        challenges.progress_t,
        challenges.enrolments_t,
        fraud.fingerprints_t,
        journeys.runs_t,
        leaderboards.scores_t,
        leaderboards.cursor_t,
        leaderboards.taken_off_t,
        messages.outbox_t,
        messages.destinations_t,
        referrals.codes_t,
        referrals.invitations_t,
        referrals.referrals_t,
        referrals.referrers_t,
        rewards.counts_t,
        rewards.coupon_pools_t,
        rewards.coupons_t,
        rewards.rewards_t,
        rewards.transitions_t,
        scoring.holdouts_t,
        scoring.scores_t,
        scoring.sentiment_t,
        tiers.states_t,
        tiers.changes_t,
    ]
    migrate.upgrade(
        engine,
        [
            BADGES,
            CHALLENGES,
            FRAUD,
            JOURNEYS,
            LEADERBOARDS,
            MESSAGES,
            REFERRALS,
            REWARDS,
            SCORING,
            TIERS,
        ],
    )
    differences = schema_differences(engine, plugin_tables)
    # the objects plugins add to core tables: leaderboards' index for its expiry scan,
    # messages' index to find an inbound SMS's sender
    on_core = [
        d
        for d in differences
        if d[0] == "remove_index"
        and d[1].name in ("ix_leaderboards_entry_type", "ix_messages_advocate_phone")
    ]
    assert len(on_core) == 2
    assert [d for d in differences if d not in on_core] == []


def test_the_coupon_counts_migration_counts_the_pools_loaded_before(engine: sa.Engine) -> None:
    from advokit.plugins.rewards import coupon_pools_t, coupons_t
    from advokit.plugins.rewards.plugin import MIGRATIONS as REWARDS

    migrate.upgrade(engine, [REWARDS], revision="rewards_0003")
    now = datetime(2026, 6, 1, tzinfo=UTC)
    rows = [
        {"program": "shop", "pool": "welcome", "code": f"C{n}", "loaded_at": now} for n in range(5)
    ]
    rows[0]["reward_key"] = "handed-out"
    rows.append({"program": "shop", "pool": "spring", "code": "S1", "loaded_at": now})
    with transaction(engine) as conn:
        conn.execute(coupons_t.insert(), [{"reward_key": None, **row} for row in rows])
    migrate.upgrade(engine, [REWARDS])
    with transaction(engine, write=False) as conn:
        counts = conn.execute(sa.select(coupon_pools_t).order_by(coupon_pools_t.c.pool)).all()
    assert [tuple(row) for row in counts] == [("shop", "spring", 1), ("shop", "welcome", 4)]


def test_the_email_index_is_built_and_used(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    lookup = "SELECT id FROM advokit_advocates WHERE program = 'shop' AND lower(email) IN ('a@b.c')"
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + lookup)
            plan = " ".join(str(row[-1]) for row in rows)
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + lookup))
    assert "ix_advocate_email" in plan, plan
