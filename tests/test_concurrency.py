"""Concurrent processes on one database: exactly-once recording and safe spending.

Each test starts 4 OS processes (multiprocessing "spawn") that build their own
Program on the same database and start recording together behind a barrier,
on SQLite (a WAL file) and on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter

import pytest

from advokit import IdempotencyConflict
from advokit.core.store import queries as q
from advokit.plugins.points import adjustment
from helpers import (
    ADVOCATE,
    DATABASES,
    SHARED_KEY,
    count_rows,
    fresh_database,
    prepared_program,
    purchase,
    record_same_key,
    redeem_30,
    run_processes,
    running_sums,
    stored_balances,
)

PROCESSES = 4
CALLS = 250


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> str:
    return fresh_database(request)


@pytest.mark.timeout(180)
def test_same_key_from_four_processes_applies_exactly_once(database_url: str) -> None:
    with prepared_program(database_url) as program:
        reports = run_processes(record_same_key, database_url, PROCESSES, CALLS)

        errors = [e for r in reports for e in r["errors"]]
        assert errors == []  # in particular no "database is locked"
        outcomes = [o for r in reports for o in r["outcomes"]]
        assert len(outcomes) == PROCESSES * CALLS
        assert Counter(status for status, _, _ in outcomes) == {"applied": PROCESSES * CALLS}
        assert sum(not replayed for _, replayed, _ in outcomes) == 1

        actions, entries = q.actions_t, q.entries_t
        assert count_rows(program, actions, actions.c.key == SHARED_KEY) == 1
        assert count_rows(program, actions) == 1
        assert count_rows(program, entries, entries.c.action_key == SHARED_KEY) == 1
        assert count_rows(program, entries) == 1
        assert program.balance(ADVOCATE) == 10
        assert program.verify_ledger() == []

        # The same key with other content is refused, and changes nothing.
        with pytest.raises(IdempotencyConflict):
            program.record(purchase(order_id="9999"))
        with pytest.raises(IdempotencyConflict):
            program.record_many([purchase(order_id="9999", key="order-new"), purchase("9999")])
        assert count_rows(program, actions) == 1
        assert count_rows(program, entries) == 1
        assert program.balance(ADVOCATE) == 10
        replay = program.record(purchase())
        assert replay.replayed
        assert replay.points == 10


@pytest.mark.timeout(180)
def test_concurrent_redemptions_never_overspend(database_url: str) -> None:
    with prepared_program(database_url) as program:
        seed = program.record(adjustment(ADVOCATE, 100, reason="opening balance", key="seed"))
        assert seed.status.value == "applied"
        assert program.balance(ADVOCATE) == 100

        reports = run_processes(redeem_30, database_url, PROCESSES, CALLS)

        errors = [e for r in reports for e in r["errors"]]
        assert errors == []
        outcomes = [o for r in reports for o in r["outcomes"]]
        assert len(outcomes) == PROCESSES * CALLS
        assert not any(replayed for _, replayed, _ in outcomes)
        statuses = Counter(status for status, _, _ in outcomes)
        assert statuses == {"applied": 3, "rejected": PROCESSES * CALLS - 3}
        for status, _, reasons in outcomes:
            if status == "rejected":
                assert len(reasons) == 1
                assert "insufficient_balance" in reasons[0]

        assert program.balance(ADVOCATE) == 10
        assert program.verify_ledger() == []
        assert min(stored_balances(program)) >= 0
        sums = running_sums(program, ADVOCATE)
        assert sums == [100, 70, 40, 10]
        assert min(sums) >= 0
        actions = q.actions_t
        assert count_rows(program, actions) == 1 + PROCESSES * CALLS
        assert count_rows(program, actions, actions.c.status == "applied") == 1 + 3
