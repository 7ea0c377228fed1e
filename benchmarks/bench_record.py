"""Recording throughput and leaderboard latency of advokit on SQLite, against baselines.

Run::

    python benchmarks/bench_record.py [--actions N] [--advocates M] [--batch B]
        [--naive-sample K] [--rounds R] [--leaderboard-advocates L] [--leaderboard-ties]
        [--profile]

Everything runs in one process on fresh SQLite files in a temporary directory.
Parts 1 to 4 run R times (default 3), one round after the other, each round on
new files; every ratio is computed within a round, and the median over the
rounds is checked against its target (each round's figure is printed too, so
the spread shows how steady the machine was):

1. ``record_many``: N ``purchase.completed`` actions (unique keys) recorded in
   batches of B by a program with ``Points(PointsRule(...))`` and M enrolled
   advocates.
2. Baseline 1, raw ``sqlite3``: ``executemany`` of the very same action rows
   into a table with the DDL of ``advokit_actions``, one transaction per batch.
   For reference, not a target: the *SQL floor*, record_many's own statements
   (reads, inserts, balance upsert) with precomputed parameters on raw sqlite3.
3. Baseline 2, naive: one SQLModel ``Session`` and ``commit()`` per action
   doing record()'s job (advocate and key lookups, action row, ledger entry,
   select-then-update of the balance), on K actions, with the engine the
   SQLModel documentation shows; again on advokit's tuned engine, for the
   stricter ratios (printed, no target).
4. ``record()`` one action at a time, on K actions.
5. ``leaderboard(limit=10)`` over L advocates with random balances: median
   latency and the query plan SQLite uses (``L=0`` skips it). With
   ``--leaderboard-ties``, again with all but five balances at 0.

``--profile`` runs only the ``record_many`` part under cProfile and prints the
30 functions with the most own time.

Rates are wall-clock; the CPU time of each part is printed next to it, since
other processes on the machine stretch wall time. Targets are printed as
PASS/FAIL lines; the exit status is 1 when one fails.

The ``Action`` values are built before any timer starts (their construction is
reported on its own line); every timed figure includes the JSON encoding and
everything else the path in question has to do to write its rows.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import Session, create_engine, select

from advokit import Action, Advocate, AwardPoints, Program, Status
from advokit.core import codec
from advokit.core.ledger import ACTION_JSON_COLUMNS
from advokit.core.store import database, driver
from advokit.core.store import queries as q
from advokit.core.store.tables import ActionRow, AdvocateRow, BalanceRow, LedgerEntryRow
from advokit.plugins.points import Points, PointsRule

PROGRAM = "bench"
KIND = "purchase.completed"

# Targets: record_many against the baselines, and the leaderboard latency.
TARGET_RAW_RATIO = 0.25  # record_many / raw sqlite3 executemany, at least
TARGET_NAIVE_RATIO = 50.0  # record_many / naive session-per-action, at least
TARGET_RECORD_NAIVE_RATIO = 5.0  # record() / naive session-per-action, at least
TARGET_LEADERBOARD_MS = 5.0  # median leaderboard(limit=10), at most


# --------------------------------------------------------------------------- helpers


def points_of(action: Action) -> int:
    return int(action.data["total_cents"]) // 100


def make_program(path: Path) -> Program:
    """A migrated program on a fresh SQLite file (WAL, synchronous=NORMAL: the defaults).

    Installed third-party plugins are not loaded, so that only advokit's own
    code and the points rule run.
    """
    program = Program(
        name=PROGRAM,
        database_url=f"sqlite:///{path}",
        plugins=[Points(PointsRule(KIND, points=points_of))],
        load_entrypoints=False,
    )
    program.migrate()
    return program


def advocate_id_of(number: int) -> str:
    return f"cust-{number:07d}"


def enroll(program: Program, count: int) -> None:
    program.enroll_many(Advocate(external_id=advocate_id_of(i)) for i in range(count))


def make_actions(count: int, advocates: int, *, prefix: str, seed: int) -> list[Action]:
    rng = random.Random(seed)
    return [
        Action(
            kind=KIND,
            advocate=advocate_id_of(rng.randrange(advocates)),
            key=f"{prefix}-order-{i}:paid",
            data={
                "order_id": f"{prefix}-order-{i}",
                "total_cents": rng.randrange(100, 50_000),
                "currency": "EUR",
            },
        )
        for i in range(count)
    ]


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


@dataclass
class Timing:
    """Wall-clock seconds (what the rates use) and this process's CPU seconds.

    On a busy machine the CPU time shows how much of the wall time the
    process actually ran.
    """

    wall: float = 0.0
    cpu: float = 0.0

    def __str__(self) -> str:
        return f"{self.wall:.2f} s (CPU {self.cpu:.2f} s)"


@contextmanager
def timer() -> Iterator[Timing]:
    timing = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    yield timing
    timing.wall, timing.cpu = time.perf_counter() - wall, time.process_time() - cpu


def raw_connect(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with advokit's pragmas (WAL, synchronous=NORMAL, FKs on)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for pragma in database.TUNING_PRAGMAS:
        conn.execute(pragma)
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def ddl(table: sa.Table) -> list[str]:
    """CREATE TABLE and CREATE INDEX statements of ``table``, compiled for SQLite."""
    dialect = sqlite_dialect.dialect()
    statements = [str(CreateTable(table).compile(dialect=dialect))]
    statements += [
        str(CreateIndex(index).compile(dialect=dialect))
        for index in sorted(table.indexes, key=lambda i: str(i.name))
    ]
    return statements


# --------------------------------------------------------------------------- 1. record_many


def bench_record_many(
    workdir: Path,
    actions: list[Action],
    advocates: int,
    batch: int,
    profiler: cProfile.Profile | None = None,
) -> tuple[Timing, Path]:
    """Seconds to record ``actions`` in batches; returns the database path too.

    With ``profiler``, only the ``record_many`` calls are profiled.
    """
    path = workdir / "record_many.db"
    with make_program(path) as program:
        enroll(program, advocates)
        with timer() as timing:
            if profiler is not None:
                profiler.enable()
            for part in batches(actions, batch):
                program.record_many(part)
            if profiler is not None:
                profiler.disable()
        check_recorded(program, path, actions)
    return timing, path


def check_recorded(program: Program, path: Path, actions: Sequence[Action]) -> None:
    """Every action was applied once and the ledger adds up."""
    conn = sqlite3.connect(path)
    try:
        (applied,) = conn.execute(
            "SELECT count(*) FROM advokit_actions WHERE status = ?", (Status.APPLIED.value,)
        ).fetchone()
        (entries, total) = conn.execute(
            "SELECT count(*), coalesce(sum(delta), 0) FROM advokit_ledger_entries"
        ).fetchone()
    finally:
        conn.close()
    expected = sum(points_of(a) for a in actions)
    problems = program.verify_ledger()
    if applied != len(actions) or entries != len(actions) or total != expected or problems:
        raise SystemExit(
            f"record check failed: {applied} applied, {entries} entries, {total} points "
            f"(expected {len(actions)}, {len(actions)}, {expected}); ledger problems {problems}"
        )


# --------------------------------------------------------------------------- 2. raw sqlite3


def bench_raw(workdir: Path, source: Path, batch: int) -> tuple[Timing, int]:
    """Raw sqlite3 executemany of the action rows record_many wrote.

    The rows are read back from the record_many database, so they are the
    same rows (same keys, advocate ids, data, fingerprints, outcomes). The
    table gets the DDL of advokit_actions, generated from the SQLAlchemy
    table, and the advocates table that its foreign key references holds the
    same advocates; pragmas as advokit's (WAL, synchronous=NORMAL, foreign
    keys on). Inside the timer: JSON-encoding data, reasons and effects (as
    the real path must), building the parameter tuples, and one ``BEGIN
    IMMEDIATE ... COMMIT`` with a plain INSERT ``executemany`` per batch of B
    rows. Outside the timer: decoding the JSON read back and the timestamps,
    which stay the strings SQLite stored (formatting a datetime is the one
    conversion the raw path skips).
    """
    path = workdir / "raw.db"
    columns = (
        "program, key, kind, advocate_id, occurred_at, recorded_at, "
        "data, fingerprint, status, reasons, effects"
    )
    read = sqlite3.connect(source)
    rows = [
        (p, k, kind, adv, occ, rec, json.loads(d), fp, st, json.loads(rs), json.loads(ef))
        for p, k, kind, adv, occ, rec, d, fp, st, rs, ef in read.execute(
            f"SELECT {columns} FROM advokit_actions ORDER BY id"
        )
    ]
    read.close()

    conn = raw_connect(path)
    for statement in [*ddl(AdvocateRow.__table__), *ddl(ActionRow.__table__)]:
        conn.execute(statement)
    conn.execute("ATTACH DATABASE ? AS source", (str(source),))
    conn.execute("INSERT INTO advokit_advocates SELECT * FROM source.advokit_advocates")
    conn.execute("DETACH DATABASE source")

    insert = f"INSERT INTO advokit_actions ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    dumps = json.dumps
    with timer() as timing:
        for part in batches(rows, batch):
            params = [
                (p, k, kind, adv, occ, rec, dumps(d), fp, st, dumps(rs), dumps(ef))
                for p, k, kind, adv, occ, rec, d, fp, st, rs, ef in part
            ]
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(insert, params)
            conn.execute("COMMIT")
    (count,) = conn.execute("SELECT count(*) FROM advokit_actions").fetchone()
    conn.close()
    if count != len(rows):
        raise SystemExit(f"raw check failed: {count} rows, expected {len(rows)}")
    return timing, len(rows)


# --------------------------------------------------------------------------- 2b. SQL floor


def bench_sql_floor(workdir: Path, source: Path, advocates: int, batch: int) -> Timing:
    """advokit's own statements for the same batches, on raw sqlite3, with no pipeline.

    What ``record_many`` sends to SQLite per batch of B actions, with the
    parameters precomputed from the rows it wrote: BEGIN IMMEDIATE, the
    advocate-and-balance read, the recorded-keys read, the action and ledger
    INSERTs, the balance upsert and COMMIT, on a fresh copy of the same
    migrated schema and advocates. No plugin, no validation, no effect: the
    time any Python pipeline issuing these statements cannot go below.
    """
    path = workdir / "floor.db"
    with make_program(path) as program:
        enroll(program, advocates)
        # the very INSERTs record_many compiles (columns in their bound order)
        with program.engine.connect() as sa_conn:
            insert_actions = driver.bulk_insert(
                sa_conn, q.actions_t, ignore_conflicts=True, serialized=ACTION_JSON_COLUMNS
            )
            insert_entries = driver.bulk_insert(sa_conn, q.entries_t)
    read = sqlite3.connect(source)
    actions = read.execute(
        f"SELECT {', '.join('x.' + c for c in insert_actions.names)}, a.external_id"
        " FROM advokit_actions x JOIN advokit_advocates a ON a.id = x.advocate_id ORDER BY x.id"
    ).fetchall()
    entries = read.execute(
        f"SELECT {', '.join(insert_entries.names)} FROM advokit_ledger_entries ORDER BY id"
    ).fetchall()
    read.close()
    if len(entries) != len(actions):
        raise SystemExit("floor: expected one ledger entry per action")
    key_at = insert_actions.names.index("key")
    delta_at = insert_entries.names.index("delta")
    advocate_at = insert_entries.names.index("advocate_id")
    work = []
    for start in range(0, len(actions), batch):
        part = actions[start : start + batch]
        part_entries = entries[start : start + batch]
        deltas: dict[int, int] = {}
        for entry in part_entries:
            deltas[entry[advocate_at]] = deltas.get(entry[advocate_at], 0) + entry[delta_at]
        work.append(
            (
                sorted({row[-1] for row in part}),
                sorted(row[key_at] for row in part),
                [row[:-1] for row in part],
                part_entries,
                [(a, "points", PROGRAM, d, d) for a, d in sorted(deltas.items())],
            )
        )

    upsert = driver.render(driver.UPSERT_BALANCE, "sqlite")
    conn = raw_connect(path)
    with timer() as timing:
        for ids, keys, action_rows, entry_rows, balance_rows in work:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                driver.render(driver.ADVOCATES_AND_BALANCES, "sqlite", len(ids)),
                ("points", PROGRAM, *ids),
            ).fetchall()
            conn.execute(
                driver.render(driver.RECORDED_ACTIONS, "sqlite", len(keys)), (PROGRAM, *keys)
            ).fetchall()
            conn.executemany(insert_actions.sql, action_rows)
            conn.executemany(insert_entries.sql, entry_rows)
            conn.executemany(upsert, balance_rows)
            conn.execute("COMMIT")
    conn.close()
    return timing


# --------------------------------------------------------------------------- 3. naive


def bench_naive(
    workdir: Path, actions: list[Action], advocates: int, *, tuned: bool = False
) -> Timing:
    """One SQLModel Session and commit per action, on advokit's migrated schema.

    The same job as ``record()``, written the obvious way: per action, the
    advocate row is looked up by external id, the key is looked up to skip an
    action recorded before (select-then-insert), an ActionRow and a
    LedgerEntryRow are added, the BalanceRow is selected and updated (or
    added), and the session commits.

    The engine is what the SQLModel documentation shows,
    ``create_engine("sqlite:///...")`` (pysqlite's own transactions, SQLite's
    default synchronous=FULL), on the file advokit migrated (already in WAL
    mode, which is kinder to it than the rollback journal a new file gets).
    With ``tuned``, it runs on advokit's own engine instead (synchronous=NORMAL
    and the other pragmas), the stricter comparison.
    """
    path = workdir / ("naive-tuned.db" if tuned else "naive.db")
    with make_program(path) as program:
        enroll(program, advocates)
        engine = program.engine if tuned else create_engine(f"sqlite:///{path}")
        with timer() as timing:
            for action in actions:
                now = datetime.now(UTC)
                points = points_of(action)
                effect = AwardPoints(advocate=action.advocate, points=points, reason=action.kind)
                with Session(engine) as session:
                    advocate_id = session.exec(
                        select(AdvocateRow.id).where(
                            AdvocateRow.program == PROGRAM,
                            AdvocateRow.external_id == action.advocate,
                        )
                    ).one()
                    recorded = session.exec(
                        select(ActionRow.id).where(
                            ActionRow.program == PROGRAM, ActionRow.key == action.key
                        )
                    ).first()
                    if recorded is not None:
                        continue
                    session.add(
                        ActionRow(
                            program=PROGRAM,
                            key=action.key,
                            kind=action.kind,
                            advocate_id=advocate_id,
                            occurred_at=now,
                            recorded_at=now,
                            data=dict(action.data),
                            fingerprint=action.fingerprint(),
                            status=Status.APPLIED.value,
                            reasons=[],
                            effects=[codec.encode_effect(effect)],
                        )
                    )
                    session.add(
                        LedgerEntryRow(
                            program=PROGRAM,
                            advocate_id=advocate_id,
                            account="points",
                            type="award",
                            delta=points,
                            reason=action.kind,
                            action_key=action.key,
                            effective_at=now,
                            created_at=now,
                        )
                    )
                    balance = session.exec(
                        select(BalanceRow).where(
                            BalanceRow.advocate_id == advocate_id, BalanceRow.account == "points"
                        )
                    ).first()
                    if balance is None:
                        balance = BalanceRow(
                            advocate_id=advocate_id,
                            account="points",
                            program=PROGRAM,
                            balance=0,
                            earned=0,
                        )
                    balance.balance += points
                    balance.earned += points
                    session.add(balance)
                    session.commit()
        if not tuned:
            engine.dispose()
        if program.verify_ledger():
            raise SystemExit("naive check failed: balances differ from the ledger")
    return timing


# --------------------------------------------------------------------------- 4. record()


def bench_record_one(workdir: Path, actions: list[Action], advocates: int) -> Timing:
    path = workdir / "record_one.db"
    with make_program(path) as program:
        enroll(program, advocates)
        with timer() as timing:
            for action in actions:
                program.record(action)
        check_recorded(program, path, actions)
    return timing


# --------------------------------------------------------------------------- 5. leaderboard


def load_leaderboard_db(path: Path, count: int, seed: int, *, ties: bool = False) -> float:
    """Migrate, then bulk-load ``count`` advocates with random balances; returns seconds.

    With ``ties``, all but five advocates have a balance of 0 (a young
    program): the tenth place then falls inside one huge group of equal
    balances.
    """
    make_program(path).close()
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    start = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-500000")  # 500 MB: keeps the index pages in memory
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO advokit_advocates (id, program, external_id, kind, name, locale, timezone,"
        " attributes, consent, enrolled_at, updated_at)"
        " VALUES (?, ?, ?, 'customer', ?, 'en', 'UTC', '{}', '{}', ?, ?)",
        ((i, PROGRAM, advocate_id_of(i), f"Advocate {i}", now, now) for i in range(1, count + 1)),
    )
    conn.executemany(
        "INSERT INTO advokit_balances (advocate_id, account, program, balance, earned)"
        " VALUES (?, 'points', ?, ?, ?)",
        (
            (i, PROGRAM, b, b + rng.randrange(1_000))
            for i, b in random_balances(rng, count, ties=ties)
        ),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - start


def random_balances(rng: random.Random, count: int, *, ties: bool) -> Iterator[tuple[int, int]]:
    for i in range(1, count + 1):
        yield i, (0 if ties and i > 5 else rng.randrange(1_000_000))


def bench_leaderboard(path: Path, calls: int) -> tuple[list[float], list[str], list[Any]]:
    """Latencies (ms) of ``leaderboard(limit=10)``, the query plan and the top rows."""
    program = Program(
        name=PROGRAM,
        database_url=f"sqlite:///{path}",
        plugins=[Points(PointsRule(KIND, points=points_of))],
        load_entrypoints=False,
    )
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, params))

    with program:
        top = program.leaderboard(limit=10)  # warm: connection, schema check, page cache
        sa.event.listen(program.engine, "before_cursor_execute", capture)
        program.leaderboard(limit=10)
        sa.event.remove(program.engine, "before_cursor_execute", capture)
        latencies = []
        for _ in range(calls):
            start = time.perf_counter()
            program.leaderboard(limit=10)
            latencies.append((time.perf_counter() - start) * 1000)
    statement, params = captured[-1]
    conn = sqlite3.connect(path)
    plan = [
        f"{detail}  (id={node}, parent={parent})"
        for node, parent, _, detail in conn.execute(f"EXPLAIN QUERY PLAN {statement}", params)
    ]
    conn.close()
    return latencies, [" ".join(statement.split()), *plan], top


# --------------------------------------------------------------------------- rounds


@dataclass
class Round:
    """One round of every recording part, each on fresh databases."""

    #: (label, attribute) of each rate, in the order printed
    RATES: ClassVar[tuple[tuple[str, str], ...]] = (
        ("record_many", "many"),
        ("raw sqlite3", "raw"),
        ("SQL floor", "floor"),
        ("naive", "naive"),
        ("naive, tuned", "tuned"),
        ("record()", "one"),
    )

    counts: dict[str, int]
    timings: dict[str, Timing]

    def rate(self, part: str, *, cpu: bool = False) -> float:
        timing = self.timings[part]
        return rate(self.counts[part], timing.cpu if cpu else timing.wall)

    def ratio(self, part: str, base: str, *, cpu: bool = False) -> float:
        """How many times ``base``'s rate ``part``'s rate is."""
        return self.rate(part, cpu=cpu) / self.rate(base, cpu=cpu)

    def __str__(self) -> str:
        rates = ", ".join(f"{label} {self.rate(part):,.0f}/s" for label, part in self.RATES)
        return (
            f"{rates}; record_many/raw {self.ratio('many', 'raw'):.3f}, record_many/naive "
            f"{self.ratio('many', 'naive'):.1f}, record()/naive {self.ratio('one', 'naive'):.2f}; "
            f"CPU s: {', '.join(f'{p} {t.cpu:.2f}' for p, t in self.timings.items())}"
        )


def run_round(
    workdir: Path,
    actions: list[Action],
    sample: list[Action],
    naive_sample: list[Action],
    advocates: int,
    batch: int,
) -> Round:
    """Every recording part once, in this order, on fresh files under ``workdir``.

    The baselines run right after the path they are compared with, so that a
    change of machine load mid-run shows up as a spread between rounds
    rather than as a skewed ratio.
    """
    workdir.mkdir()
    many, many_db = bench_record_many(workdir, actions, advocates, batch)
    raw, raw_rows = bench_raw(workdir, many_db, batch)
    floor = bench_sql_floor(workdir, many_db, advocates, batch)
    naive = bench_naive(workdir, naive_sample, advocates)
    tuned = bench_naive(workdir, naive_sample, advocates, tuned=True)
    one = bench_record_one(workdir, sample, advocates)
    shutil.rmtree(workdir)  # the next round starts from nothing
    n, k = len(actions), len(sample)
    return Round(
        counts={"many": n, "raw": raw_rows, "floor": n, "naive": k, "tuned": k, "one": k},
        timings={
            "many": many,
            "raw": raw,
            "floor": floor,
            "naive": naive,
            "tuned": tuned,
            "one": one,
        },
    )


def median_of(rounds: Sequence[Round], part: str, base: str, *, cpu: bool = False) -> float:
    """The median over the rounds of ``part``'s rate / ``base``'s rate."""
    return statistics.median(r.ratio(part, base, cpu=cpu) for r in rounds)


def check_ratio(
    rounds: Sequence[Round], label: str, part: str, base: str, target: float, digits: int
) -> tuple[bool, str]:
    """The median ratio over the rounds against its target, with the spread."""
    values = [r.ratio(part, base) for r in rounds]
    middle = statistics.median(values)
    return (
        middle >= target,
        f"{label} = {middle:.{digits}f}  (target >= {target:g}; rounds "
        f"{', '.join(f'{v:.{digits}f}' for v in values)})",
    )


# --------------------------------------------------------------------------- main


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report_plan_and_target(label: str, median_ms: float, plan: list[str]) -> tuple[bool, str]:
    """Print a leaderboard query plan and its PASS/FAIL line; return the check."""
    print("EXPLAIN QUERY PLAN:")
    for line in plan[1:]:
        print(f"  {line}")
    ok = median_ms <= TARGET_LEADERBOARD_MS
    line = f"{label} = {median_ms:.3f} ms  (target <= {TARGET_LEADERBOARD_MS:g})"
    print(f"{verdict(ok)} {line}")
    return ok, line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=100_000, help="N actions for record_many")
    parser.add_argument("--advocates", type=int, default=10_000, help="M enrolled advocates")
    parser.add_argument("--batch", type=int, default=1000, help="B actions per record_many call")
    parser.add_argument(
        "--naive-sample", type=int, default=2000, help="K actions for naive and record()"
    )
    parser.add_argument(
        "--leaderboard-advocates", type=int, default=1_000_000, help="L advocates (0: skip)"
    )
    parser.add_argument("--leaderboard-calls", type=int, default=20)
    parser.add_argument(
        "--leaderboard-ties",
        action="store_true",
        help="also time the leaderboard when all but 5 of the L advocates have 0 points",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="R rounds of every recording part (ratios: median)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--profile", action="store_true", help="profile record_many only, print the top 30"
    )
    args = parser.parse_args(argv)
    n, m, b, k = args.actions, args.advocates, args.batch, args.naive_sample
    if min(n, m, b, k, args.rounds) < 1 or args.leaderboard_advocates < 0:
        parser.error("counts must be positive")

    with tempfile.TemporaryDirectory(prefix="advokit-bench-") as tmp:
        workdir = Path(tmp)
        start = time.perf_counter()
        actions = make_actions(n, m, prefix="many", seed=args.seed)
        built = time.perf_counter() - start
        sample = make_actions(k, m, prefix="one", seed=args.seed + 1)
        naive_sample = make_actions(k, m, prefix="naive", seed=args.seed + 2)
        # The prepared actions live through the whole run; keep them out of the
        # cyclic GC's way so that they do not slow down whichever part runs later.
        gc.collect()
        gc.freeze()

        if args.profile:
            profiler = cProfile.Profile()
            timing, _ = bench_record_many(workdir, actions, m, b, profiler)
            print(f"record_many under cProfile: {n} actions in {timing}")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            return 0

        print(
            f"advokit recording benchmark: N={n} actions, M={m} advocates, B={b}, K={k}, "
            f"{args.rounds} rounds"
        )
        print(
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"SQLAlchemy {sa.__version__}, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        print(f"Action construction (not in any timer): {rate(n, built):,.0f} actions/s")
        rounds = []
        for number in range(1, args.rounds + 1):
            measured = run_round(workdir / f"round-{number}", actions, sample, naive_sample, m, b)
            print(f"round {number}: {measured}")
            rounds.append(measured)

        checks = [
            check_ratio(rounds, "record_many / raw  ", "many", "raw", TARGET_RAW_RATIO, 3),
            check_ratio(rounds, "record_many / naive", "many", "naive", TARGET_NAIVE_RATIO, 1),
            check_ratio(
                rounds, "record() / naive   ", "one", "naive", TARGET_RECORD_NAIVE_RATIO, 2
            ),
        ]
        for ok, line in checks:
            print(f"{verdict(ok)} {line}")
        print(
            "same ratios on CPU time (less sensitive to other processes), medians: "
            f"record_many/raw {median_of(rounds, 'many', 'raw', cpu=True):.3f}, "
            f"record_many/naive {median_of(rounds, 'many', 'naive', cpu=True):.1f}, "
            f"record()/naive {median_of(rounds, 'one', 'naive', cpu=True):.2f}"
        )
        print(
            "against the naive path on advokit's tuned engine, medians: "
            f"record_many/naive {median_of(rounds, 'many', 'tuned'):.1f}, "
            f"record()/naive {median_of(rounds, 'one', 'tuned'):.2f}"
        )
        print(
            f"SQL floor / naive = {median_of(rounds, 'floor', 'naive'):.1f} (what "
            "record_many / naive would be with a pipeline costing nothing); record_many / "
            f"SQL floor = {median_of(rounds, 'many', 'floor'):.2f}"
        )

        board_median = None
        if args.leaderboard_advocates:
            count = args.leaderboard_advocates
            board_db = workdir / "leaderboard.db"
            load_s = load_leaderboard_db(board_db, count, args.seed)
            print(f"leaderboard database: {count} advocates and balances loaded in {load_s:.1f} s")
            latencies, plan, top = bench_leaderboard(board_db, args.leaderboard_calls)
            board_median = statistics.median(latencies)
            print(
                f"leaderboard(limit=10): median {board_median:.3f} ms over {len(latencies)} calls"
                f" (min {min(latencies):.3f}, max {max(latencies):.3f})"
            )
            print(f"leaderboard top 3: {[(s.rank, s.advocate, s.value) for s in top[:3]]}")
            print(f"query: {plan[0]}")
            checks.append(report_plan_and_target("leaderboard median", board_median, plan))
        if args.leaderboard_advocates and args.leaderboard_ties:
            ties_db = workdir / "leaderboard-ties.db"
            load_leaderboard_db(ties_db, count, args.seed, ties=True)
            latencies, plan, _ = bench_leaderboard(ties_db, args.leaderboard_calls)
            ties_median = statistics.median(latencies)
            print(f"leaderboard(limit=10), all but 5 balances 0: median {ties_median:.3f} ms")
            checks.append(report_plan_and_target("leaderboard median, ties", ties_median, plan))

    print()
    print("=== summary (medians over the rounds) ===")
    for label, attribute in Round.RATES:
        unit = "rows/s" if attribute == "raw" else "actions/s"
        middle = statistics.median(r.rate(attribute) for r in rounds)
        print(f"{label:16s} {middle:12,.0f} {unit}")
    if board_median is not None:
        print(f"leaderboard      {board_median:12.3f} ms (median, L={args.leaderboard_advocates})")
    for ok, line in checks:
        print(f"{verdict(ok)} {line}")
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
