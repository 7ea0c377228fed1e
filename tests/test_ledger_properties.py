"""Property tests of the points ledger: random sequences of operations against a model.

A hypothesis state machine awards (with and without expiry), spends, adjusts,
reverses (fully or partly), replays, moves the clock and expires points for
three advocates, one action at a time and in mixed ``record_many`` batches.
A small in-memory model of the ledger rules (lots spent soonest expiry first,
then the pool; reversals take from their own lot first and are capped at the
balance; expiry happens when ``expire_points`` runs or when a deduction or
reversal touches the account) predicts every outcome, balance and lot.

After every step: the stored balances equal the sums of the entries
(``verify_ledger``), every balance equals the model's and the sum of its
history, no balance is negative, and every lot holds what the model says.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from advokit import Action, ActionKind, Advocate, ManualClock, Program
from advokit.core.store import queries as q
from advokit.plugins.points import Points, PointsRule, adjustment, redemption, reversal
from advokit.testing import START

ADVOCATES = ("ann", "bob", "cy")
EXPIRY = timedelta(days=10)
EARNED = "task.completed"  # earns data["points"], never expiring
BONUS = "promo.bonus"  # earns data["points"], expiring EXPIRY after it occurred


def _data_points(action: Action) -> int:
    return int(action.data["points"])


def build_program(name: str, database_url: str, clock: ManualClock) -> Program:
    return Program(
        name=name,
        database_url=database_url,
        clock=clock,
        plugins=[
            Points(
                PointsRule(EARNED, points=_data_points),
                PointsRule(BONUS, points=_data_points, expires_after=EXPIRY),
            )
        ],
        action_kinds=[
            ActionKind(name=EARNED, required={"points": int}),
            ActionKind(name=BONUS, required={"points": int}),
        ],
        load_entrypoints=False,
    )


# --------------------------------------------------------------------------- the model


@dataclass
class Lot:
    key: str
    expires_at: datetime
    remaining: int


@dataclass
class Account:
    balance: int = 0
    lots: list[Lot] = field(default_factory=list)  # soonest expiry first
    awarded: dict[str, int] = field(default_factory=dict)
    reversed: dict[str, int] = field(default_factory=dict)

    def expire_due(self, now: datetime) -> int:
        expired = 0
        for lot in self.lots:
            if lot.expires_at > now:
                break
            expired += lot.remaining
            lot.remaining = 0
        self.balance -= expired
        return expired

    def award(self, key: str, points: int, expires_at: datetime | None) -> None:
        self.balance += points
        self.awarded[key] = self.awarded.get(key, 0) + points
        if expires_at is not None:
            self.lots.append(Lot(key, expires_at, points))
            self.lots.sort(key=lambda lot: lot.expires_at)

    def consume(self, amount: int, first: list[Lot]) -> None:
        self.balance -= amount
        for lot in first + self.lots:
            take = min(lot.remaining, amount)
            lot.remaining -= take
            amount -= take
        # what the lots did not cover came out of the pool of non-expiring points

    def deduct(self, points: int, now: datetime) -> bool:
        self.expire_due(now)
        if self.balance < points:
            return False
        self.consume(points, [])
        return True

    def reverse(self, key: str, points: int | None, now: datetime) -> int:
        self.expire_due(now)
        want = self.awarded.get(key, 0) - self.reversed.get(key, 0)
        if points is not None:
            want = min(want, points)
        want = min(want, max(self.balance, 0))  # Points' default clawback: "cap"
        if want <= 0:
            return 0
        self.consume(want, [lot for lot in self.lots if lot.key == key])
        self.reversed[key] = self.reversed.get(key, 0) + want
        return want

    def open_lots(self) -> dict[str, int]:
        return {lot.key: lot.remaining for lot in self.lots if lot.remaining}


@dataclass(frozen=True)
class Op:
    """One operation as drawn: ``kind`` is award, bonus, spend, adjust or reverse."""

    kind: str
    advocate: str
    points: int | None = None
    target: int = 0  # reverse: which earlier award, modulo how many there are


advocates = st.sampled_from(ADVOCATES)
ops = st.one_of(
    st.builds(Op, st.just("award"), advocates, st.integers(1, 50)),
    st.builds(Op, st.just("bonus"), advocates, st.integers(1, 50)),
    st.builds(Op, st.just("spend"), advocates, st.integers(1, 60)),
    st.builds(Op, st.just("adjust"), advocates, st.integers(-40, 40).filter(lambda n: n != 0)),
    st.builds(
        Op,
        st.just("reverse"),
        advocates,
        st.none() | st.integers(1, 50),
        st.integers(0, 1000),
    ),
)


# --------------------------------------------------------------------------- the machine


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, program: Program, clock: ManualClock, cleanup: Callable[[], None]) -> None:
        super().__init__()
        self.program = program
        self.clock = clock
        self.cleanup = cleanup
        program.enroll_many(Advocate(external_id=name) for name in ADVOCATES)
        self.model = {name: Account() for name in ADVOCATES}
        self.awards: list[tuple[str, str]] = []  # (advocate, key) of every award so far
        self.recorded: list[tuple[Action, str]] = []  # (action, status) of every new action
        self.serial = 0

    def teardown(self) -> None:
        self.program.close()
        self.cleanup()

    # -- building actions and predicting their outcomes

    def _key(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    def prepare(self, op: Op) -> tuple[Action, Callable[[datetime], str]]:
        """The action for ``op`` and a function applying it to the model at ``now``."""
        model = self.model
        if op.kind in ("award", "bonus"):
            key = self._key(op.kind)
            kind = EARNED if op.kind == "award" else BONUS
            # A distinct time per award makes every lot's expiry distinct, so the
            # order lots are spent in never depends on how ties are broken.
            occurred_at = self.clock() - timedelta(seconds=self.serial)
            points = op.points
            assert points is not None
            action = Action(
                kind=kind,
                advocate=op.advocate,
                key=key,
                occurred_at=occurred_at,
                data={"points": points},
            )
            self.awards.append((op.advocate, key))
            expires_at = occurred_at + EXPIRY if op.kind == "bonus" else None

            def award(now: datetime) -> str:
                model[op.advocate].award(key, points, expires_at)
                return "applied"

            return action, award
        if op.kind in ("spend", "adjust"):
            key = self._key(op.kind)
            points = op.points
            assert points is not None
            if op.kind == "spend":
                action = redemption(op.advocate, points, key=key)
            else:
                action = adjustment(op.advocate, points, reason="support ticket", key=key)
            if op.kind == "adjust" and points > 0:
                self.awards.append((op.advocate, key))

                def credit(now: datetime) -> str:
                    model[op.advocate].award(key, points, None)
                    return "applied"

                return action, credit
            amount = abs(points)

            def debit(now: datetime) -> str:
                trial = copy.deepcopy(model[op.advocate])
                if not trial.deduct(amount, now):
                    return "rejected"  # the whole action is undone, expiry included
                model[op.advocate] = trial
                return "applied"

            return action, debit
        assert op.kind == "reverse"
        if self.awards:
            advocate, target = self.awards[op.target % len(self.awards)]
        else:
            advocate, target = op.advocate, "never-recorded"
        key = self._key("reverse")
        action = reversal(advocate, target, key=key, points=op.points)

        def reverse(now: datetime) -> str:
            model[advocate].reverse(target, op.points, now)
            return "applied"

        return action, reverse

    def check_outcome(self, outcome: Any, expected: str) -> None:
        assert not outcome.replayed
        assert outcome.status.value == expected, (outcome, expected)
        if expected == "rejected":
            assert len(outcome.reasons) == 1
            assert "insufficient_balance" in outcome.reasons[0]

    # -- rules

    @rule(op=ops)
    def record_one(self, op: Op) -> None:
        action, apply = self.prepare(op)
        expected = apply(self.clock())
        outcome = self.program.record(action)
        self.check_outcome(outcome, expected)
        self.recorded.append((action, expected))

    @rule(batch=st.lists(ops, min_size=1, max_size=8), repeat=st.booleans())
    def record_batch(self, batch: list[Op], repeat: bool) -> None:
        prepared = [self.prepare(op) for op in batch]
        actions = [action for action, _ in prepared]
        if repeat:
            actions.append(actions[0])  # a retry inside the batch replays
        now = self.clock()
        expected = [apply(now) for _, apply in prepared]
        outcomes = self.program.record_many(actions)
        assert len(outcomes) == len(actions)
        for outcome, status in zip(outcomes, expected, strict=False):
            self.check_outcome(outcome, status)
        if repeat:
            assert outcomes[-1].replayed
            assert outcomes[-1].status == outcomes[0].status
        self.recorded.extend(zip(actions, expected, strict=False))

    @rule(index=st.integers(0, 1000))
    def replay(self, index: int) -> None:
        if not self.recorded:
            return
        action, status = self.recorded[index % len(self.recorded)]
        outcome = self.program.record(action)
        assert outcome.replayed
        assert outcome.status.value == status

    @rule(hours=st.integers(1, 24 * 12))
    def expire(self, hours: int) -> None:
        now = self.clock.advance(hours=hours)
        expected = sum(account.expire_due(now) for account in self.model.values())
        assert self.program.expire_points() == expected
        assert self.program.expire_points() == 0

    @rule(hours=st.integers(1, 24 * 12))
    def advance_clock_only(self, hours: int) -> None:
        # Due lots now expire lazily, when a deduction or reversal reads the account.
        self.clock.advance(hours=hours)

    # -- invariants

    @invariant()
    def ledger_agrees(self) -> None:
        program = self.program
        assert program.verify_ledger() == []
        for name, account in self.model.items():
            balance = program.balance(name)
            assert balance >= 0
            assert balance == account.balance, (name, balance, account)
            entries = program.history(name, limit=1_000_000)
            assert sum(entry.delta for entry in entries) == balance
            running = 0
            for entry in sorted(entries, key=lambda e: e.id):
                running += entry.delta
                assert running >= 0, (name, entries)
        b, lots, a = q.balances_t, q.lots_t, q.advocates_t
        with program.engine.connect() as conn:
            stored = conn.execute(
                sa.select(sa.func.min(b.c.balance)).where(b.c.program == program.name)
            ).scalar()
            assert stored is None or stored >= 0
            rows = conn.execute(
                sa.select(a.c.external_id, lots.c.action_key, lots.c.remaining)
                .join(a, a.c.id == lots.c.advocate_id)
                .where(lots.c.program == program.name, lots.c.remaining > 0)
            ).all()
        found: dict[str, dict[str, int]] = {name: {} for name in ADVOCATES}
        for external_id, key, remaining in rows:
            found[external_id][key] = remaining
        assert found == {name: account.open_lots() for name, account in self.model.items()}


# --------------------------------------------------------------------------- the tests

SETTINGS = settings(
    max_examples=40,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_ledger_state_machine_sqlite(tmp_path: Path) -> None:
    """SQLite: a fresh database file per example, copied from one migrated template."""
    template = tmp_path / "template.db"
    with build_program("ledger", f"sqlite:///{template}", ManualClock(START)) as program:
        program.migrate()
    assert not template.with_name("template.db-wal").exists()

    def machine() -> LedgerMachine:
        folder = tempfile.TemporaryDirectory(dir=tmp_path)
        path = Path(folder.name) / "advokit.db"
        shutil.copyfile(template, path)
        clock = ManualClock(START)
        program = build_program("ledger", f"sqlite:///{path}", clock)
        return LedgerMachine(program, clock, folder.cleanup)

    run_state_machine_as_test(machine, settings=SETTINGS)


@pytest.mark.postgres
def test_ledger_state_machine_postgres(postgres_url: str) -> None:
    """PostgreSQL: one database, a fresh program (name) per example."""
    with build_program("ledger", postgres_url, ManualClock(START)) as program:
        program.migrate()

    def machine() -> LedgerMachine:
        clock = ManualClock(START)
        program = build_program(f"ledger-{uuid.uuid4().hex[:12]}", postgres_url, clock)
        return LedgerMachine(program, clock, lambda: None)

    run_state_machine_as_test(
        machine, settings=settings(SETTINGS, max_examples=10, stateful_step_count=15)
    )
