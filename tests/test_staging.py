"""Staged plugin writes: Transaction.insert/save/add/update, written in bulk at a batch's end."""

from __future__ import annotations

import re
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from advokit import (
    Action,
    ActionKind,
    Advocate,
    DeductPoints,
    Effect,
    InvalidValue,
    Status,
    hookimpl,
)
from advokit.core.staging import Staging
from advokit.core.store import database
from advokit.core.store.database import RetryTransaction
from advokit.core.store.driver import BulkStatement

metadata = sa.MetaData()
counters_t = sa.Table(
    "test_counters",
    metadata,
    sa.Column("advocate_id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("value", sa.Integer, nullable=False),
)
milestones_t = sa.Table(
    "test_milestones",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("advocate_id", sa.BigInteger, nullable=False),
    sa.Column("what", sa.String(20), nullable=False),
    sa.Column("note", sa.String(50), nullable=True),
    sa.UniqueConstraint("advocate_id", "what"),
)
totals_t = sa.Table(
    "test_totals",
    metadata,
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("last", sa.String(50), nullable=True),
)
direct_t = sa.Table(
    "test_direct",
    metadata,
    sa.Column("key", sa.String(50), primary_key=True),
)

_COUNTER = ("test", "counter")


@attrs.frozen(kw_only=True)
class Bump(Effect):
    advocate: str
    spend: int = 0  # > 0: a derived action then deducts this much (refused without points)


class Counters:
    """Counts each advocate's reviews with every staging shape."""

    advokit_evaluates = frozenset({"test.reviewed", "test.bumped"})

    def __init__(self, on_apply: Any = None) -> None:
        self.on_apply = on_apply

    @hookimpl
    def advokit_register_action_kinds(self, register: Any) -> None:
        register(ActionKind(name="test.reviewed", optional={"spend": int, "direct": bool}))
        register(ActionKind(name="test.bumped", required={"spend": int}, derived=True))

    @hookimpl
    def advokit_evaluate(self, ctx: Any, action: Action) -> list[Effect]:
        if action.kind == "test.bumped":
            return [
                DeductPoints(
                    advocate=action.advocate, points=action.data["spend"], reason="test.spend"
                )
            ]
        return [Bump(advocate=action.advocate, spend=action.data.get("spend", 0))]

    @hookimpl
    def advokit_apply_effect(self, tx: Any, effect: Effect) -> bool | None:
        if not isinstance(effect, Bump):
            return None
        version, value = tx.view.memo(_COUNTER, effect.advocate, _load_counters) or (0, 0)
        if self.on_apply is not None:
            self.on_apply(tx)  # after the read: what another process does now is a race
        row_id = tx.view.advocate_id(effect.advocate)
        value += 1
        key = {"advocate_id": row_id, "name": "reviews"}
        tx.save(counters_t, key, {"value": value}, read=version)
        tx.view.remember(_COUNTER, effect.advocate, (version, value))
        if value == 3:
            milestone = {"advocate_id": row_id, "what": "third", "note": None}
            tx.insert(milestones_t, milestone, unique=("advocate_id", "what"))
        if value == 4:  # reaches the row inserted at 3, even in the same batch
            tx.update(milestones_t, {"advocate_id": row_id, "what": "third"}, {"note": "then 4"})
        tx.add(totals_t, {"name": "reviews"}, {"n": 1}, {"last": effect.advocate})
        if tx.action.data.get("direct"):
            tx.connection.execute(direct_t.insert(), {"key": tx.action.key})
        if effect.spend:
            tx.emit(
                Action(
                    kind="test.bumped",
                    advocate=effect.advocate,
                    key=f"{tx.root_key}>bumped",
                    data={"spend": effect.spend},
                )
            )
        return True


def _load_counters(conn: Any, ids: list[int]) -> dict[int, tuple[int, int]]:
    t = counters_t
    rows = conn.execute(
        sa.select(t.c.advocate_id, t.c.version, t.c.value).where(t.c.advocate_id.in_(ids))
    )
    return {advocate_id: (version, value) for advocate_id, version, value in rows}


def reviewed(advocate: str, key: str, **data: Any) -> Action:
    return Action(kind="test.reviewed", advocate=advocate, key=key, data=data)


@pytest.fixture
def counted(make_program, database_url):
    def make(**plugin_options: Any) -> Any:
        program = make_program(plugins=[Counters(**plugin_options)], database_url=database_url)
        metadata.create_all(program.engine)
        program.enroll_many(Advocate(external_id=name) for name in ("ann", "bob", "cy"))
        return program

    return make


def rows(program: Any, table: sa.Table) -> list[tuple[Any, ...]]:
    with program.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key))]


def counters(program: Any) -> dict[int, tuple[int, int]]:
    return {r[0]: (r[2], r[3]) for r in rows(program, counters_t)}


# --------------------------------------------------------------------------- in bulk


def test_a_batch_writes_each_table_shape_once(counted, monkeypatch):
    program = counted()
    runs: list[str] = []
    real_run = BulkStatement.run

    def counting(self: BulkStatement, conn: Any, batch: Any, memo: Any = None, **kw: Any) -> int:
        runs.append(re.search(r"(?:INTO|UPDATE) (\w+)", self.sql)[1])
        return real_run(self, conn, batch, memo, **kw)

    monkeypatch.setattr(BulkStatement, "run", counting)
    program.record_many([reviewed(who, f"{who}-{i}") for i in range(5) for who in ("ann", "bob")])
    staged = [table for table in runs if table.startswith("test_")]
    # by table in the order first staged: new counters, totals, milestones then their update
    assert staged == ["test_counters", "test_totals", "test_milestones", "test_milestones"]

    assert sorted(counters(program).values()) == [(1, 5), (1, 5)]  # version 1, value 5
    assert [(r[2], r[3]) for r in rows(program, milestones_t)] == [
        ("third", "then 4"),
        ("third", "then 4"),
    ]
    assert rows(program, totals_t) == [("reviews", 10, "bob")]

    program.record_many([reviewed("ann", "ann-5"), reviewed("ann", "ann-6")])
    assert sorted(counters(program).values()) == [(1, 5), (2, 7)]  # saved once per batch
    assert rows(program, totals_t) == [("reviews", 12, "ann")]


def test_an_action_refused_after_staging_takes_its_rows_and_cache_back(counted):
    program = counted()
    outcomes = program.record_many(
        [
            reviewed("ann", "a1"),
            reviewed("ann", "a2", spend=5, direct=True),  # staged, then refused: no points
            reviewed("ann", "a3", direct=True),
        ]
    )
    assert [o.status for o in outcomes] == [Status.APPLIED, Status.REJECTED, Status.APPLIED]
    assert "insufficient_balance" in outcomes[1].reasons[0]
    assert list(counters(program).values()) == [(1, 2)]  # a1 and a3; a3 read 1, not 2
    assert rows(program, totals_t) == [("reviews", 2, "ann")]
    assert rows(program, direct_t) == [("a3",)]  # the savepoint took a2's direct write back


# --------------------------------------------------------------------------- races


def test_a_row_another_transaction_changed_makes_the_batch_run_again(postgres_url, make_program):
    """The UPDATE guarded by the version read finds nothing: the batch runs on the new row."""
    attempts: list[int] = []

    def meddle(tx: Any) -> None:
        attempts.append(1)
        if len(attempts) == 1:  # another process changes the row under the first attempt
            other = sa.create_engine(postgres_url, poolclass=sa.NullPool)
            with other.begin() as conn:
                conn.execute(
                    counters_t.update().values(value=100, version=counters_t.c.version + 1)
                )
            other.dispose()

    program = make_program(plugins=[Counters(on_apply=meddle)], database_url=postgres_url)
    metadata.create_all(program.engine)
    program.enroll(Advocate(external_id="ann"))
    program.record(reviewed("ann", "a1"))
    attempts.clear()
    program.record(reviewed("ann", "a2"))
    assert len(attempts) == 2
    assert list(counters(program).values()) == [(3, 101)]  # 100 from the other, then ours


def _flush_alone(program: Any, stage: Any) -> None:
    with database.transaction(program.engine) as conn:
        staging = Staging(lambda undo: None)
        stage(staging)
        staging.flush(conn, {})


def test_flush_refuses_stale_versions_and_existing_unique_keys(counted):
    program = counted()
    program.record_many([reviewed("ann", f"a{i}") for i in range(3)])  # version 1, milestone
    ann = next(iter(counters(program)))
    key = {"advocate_id": ann, "name": "reviews"}
    with pytest.raises(RetryTransaction):
        _flush_alone(program, lambda s: s.save(counters_t, key, {"value": 9}, read=2))
    with pytest.raises(RetryTransaction):  # "no row yet", but there is one
        _flush_alone(program, lambda s: s.save(counters_t, key, {"value": 9}, read=0))
    again = {"advocate_id": ann, "what": "third", "note": None}
    with pytest.raises(RetryTransaction):
        _flush_alone(program, lambda s: s.insert(milestones_t, again, ("advocate_id", "what")))
    _flush_alone(program, lambda s: s.save(counters_t, key, {"value": 9}, read=1))
    assert list(counters(program).values()) == [(2, 9)]


def test_a_key_given_in_another_order_is_the_same_row(counted):
    program = counted()  # ann, bob and cy enrolled: row ids 1 to 3

    def stage(staging: Staging) -> None:
        staging.save(counters_t, {"advocate_id": 1, "name": "r"}, {"value": 1}, 0)
        staging.save(counters_t, {"name": "r", "advocate_id": 1}, {"value": 2}, 0)
        staging.add(totals_t, {"name": "n"}, {"n": 1})
        staging.add(totals_t, {"name": "n"}, {"n": 2}, {"last": "x"})

    _flush_alone(program, stage)
    assert counters(program) == {1: (1, 2)}
    assert rows(program, totals_t) == [("n", 3, "x")]


def test_an_update_guarded_by_a_null_column_keeps_the_first_value(counted):
    program = counted()
    milestone = {"advocate_id": 1, "what": "x", "note": None}
    key = {"advocate_id": 1, "what": "x"}

    def first(staging: Staging) -> None:
        staging.insert(milestones_t, milestone, ("advocate_id", "what"))
        staging.update(milestones_t, key, {"note": "first"}, ("note",))

    _flush_alone(program, first)
    _flush_alone(program, lambda s: s.update(milestones_t, key, {"note": "second"}, ("note",)))
    assert [r[3] for r in rows(program, milestones_t)] == ["first"]
    _flush_alone(program, lambda s: s.update(milestones_t, key, {"note": "third"}))
    assert [r[3] for r in rows(program, milestones_t)] == ["third"]  # unguarded: replaced
    with pytest.raises(InvalidValue, match="where_null.*'nope'.*a column"):
        Staging(lambda undo: None).update(milestones_t, key, {"note": "x"}, ("nope",))


# --------------------------------------------------------------------------- mistakes


def test_plugin_mistakes_are_refused_naming_the_table():
    staging = Staging(lambda undo: None)
    row = {"advocate_id": 1, "what": "x", "note": None}
    staging.insert(milestones_t, row, ("advocate_id", "what"))
    with pytest.raises(InvalidValue, match="insert into test_milestones.*not staged yet"):
        staging.insert(milestones_t, row, ("advocate_id", "what"))
    with pytest.raises(InvalidValue, match="test_milestones unique.*first insert named"):
        staging.insert(milestones_t, {**row, "what": "y"})
    with pytest.raises(InvalidValue, match="save table.*test_totals.*version column"):
        staging.save(totals_t, {"name": "n"}, {"n": 1}, 0)
    key = {"advocate_id": 1, "name": "reviews"}
    staging.save(counters_t, key, {"value": 1}, 0)
    with pytest.raises(InvalidValue, match="save into test_counters read.*first read.*0"):
        staging.save(counters_t, key, {"value": 2}, 1)
    with pytest.raises(InvalidValue, match=r"key of test_counters.*\[.advocate_id., .name.\]"):
        staging.save(counters_t, {"advocate_id": 1}, {"value": 2}, 0)
