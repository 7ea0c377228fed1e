"""Gamification at scale on SQLite: recording cost, a weekly leaderboard, the daily tick.

Run::

    python benchmarks/bench_gamification.py [--actions N] [--advocates M] [--batch B]
        [--rounds R] [--board-advocates L] [--board-actions A1,A2] [--board-calls C]
        [--tick-advocates T] [--tick-sample S]

Everything runs in one process on fresh SQLite files in a temporary directory.

1. **Recording cost.** The same N actions (purchases, reviews and shares,
   unique keys, over M advocates) are recorded with ``record_many`` in
   batches of B twice per round, each on a new file: by a points-only program
   (the baseline, measured in the same round), and by a program with points,
   tiers (bronze/silver/gold), 5 badges and 1 challenge. Target: the
   gamified throughput is at least 0.5x the points-only one (median of R
   rounds).
2. **"This week" top 10.** A leaderboard database with L advocates and, in
   turn, each of A1, A2 actions spread over 52 weeks: the rows the
   leaderboards plugin keeps for those actions (per advocate and day, ISO
   week, month and all time) are built in SQL (recording 10 million actions
   through the pipeline would take hours), then ``program.board("points",
   window="week")`` is timed through the plugin's real query. Target: median
   at most 20 ms at the largest A; the figure at each A shows the scaling.
3. **The tick over T advocates**, each with a birthday, on a program with
   every gamification plugin and S actions recorded first (tier states,
   badge and challenge progress): the time of one ``program.tick()`` and what
   it did, and of a second tick at the same instant (which posts nothing).

``--floor`` also measures what the plugin API itself costs, next to part 1:
points plus K plugins that each keep one row of state per advocate through
the public hooks (``advokit_evaluate`` returns one effect,
``advokit_apply_effect`` stages it with ``tx.save``) and decide nothing, for K
= 3 (as many plugins as part 1's gamified program) and K = 7 (one per
rule: tiers, 5 badges, 1 challenge). Their ratio to points-only bounds what
plugins doing real work can reach.

``--breakdown`` also times where a gamified action's microseconds go (the
engine's steps and each plugin's hooks, wrapped with ``perf_counter``: the
wrapping itself adds a little).

Targets are printed as PASS/FAIL lines; the exit status is 1 when one fails.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import attrs
import sqlalchemy as sa

from advokit import Action, Advocate, Effect, ManualClock, Program, hookimpl
from advokit.core.hooks import Hooks
from advokit.core.store.driver import fetch
from advokit.plugins.badges import Badge, Badges, Count, Streak, Total
from advokit.plugins.challenges import Challenge, Challenges, Step
from advokit.plugins.leaderboards import Board, Leaderboards
from advokit.plugins.occasions import Occasions
from advokit.plugins.points import Points, PointsRule
from advokit.plugins.tiers import Tier, Tiers

PROGRAM = "bench"
TARGET_GAMIFIED_RATIO = 0.5  # gamified / points-only record_many throughput, at least
TARGET_WEEK_TOP10_MS = 20.0  # median "this week" top 10, at most
#: The generated actions span 52 weeks from YEAR_START (a Monday); the
#: benchmark's "now" is in the last of them.
YEAR_START = date(2025, 11, 24)
NOW = datetime(2026, 11, 19, 12, tzinfo=UTC)


# --------------------------------------------------------------------------- programs


def purchase_points(action: Action) -> int:
    return int(action.data["total_cents"]) // 100


def points_rules() -> Points:
    return Points(
        PointsRule("purchase.completed", points=purchase_points),
        PointsRule("review.posted", points=20),
        PointsRule("share.posted", points=5),
    )


def gamification() -> list[Any]:
    """Tiers, 5 badges and 1 challenge: what part 1 measures on top of points."""
    return [
        Tiers(Tier("bronze", 0), Tier("silver", 500), Tier("gold", 2000)),
        Badges(
            Badge("shopper", Count("purchase.completed", levels=(1, 10, 50))),
            Badge("reviewer", Count("review.posted", levels=(1, 5, 20))),
            Badge("big_spender", Total("purchase.completed", "total_cents", levels=(100_000,))),
            Badge("regular", Streak("purchase.completed", levels=(3, 7))),
            Badge("sharer", Count("share.posted", levels=(3,), within=timedelta(days=7))),
        ),
        Challenges(
            Challenge(
                "monthly_push",
                (Step("review.posted", 2), Step("share.posted", 1), Step("purchase.completed", 2)),
                every="month",
                points=50,
            )
        ),
    ]


def build(path: Path, plugins: list[Any], clock: Any = None) -> Program:
    program = Program(
        name=PROGRAM,
        database_url=f"sqlite:///{path}",
        plugins=plugins,
        load_entrypoints=False,
        **({"clock": clock} if clock else {}),
    )
    program.migrate()
    return program


def advocate_id_of(number: int) -> str:
    return f"cust-{number:07d}"


def enroll(program: Program, count: int, *, birthdays: bool = False) -> float:
    """Enrol ``count`` advocates in chunks; returns the seconds it took."""
    rng = random.Random(7)
    start = time.perf_counter()
    for first in range(0, count, 50_000):
        program.enroll_many(
            Advocate(
                external_id=advocate_id_of(i),
                attributes=(
                    {
                        # every day of the year gets its birthdays, whatever day ticks
                        "birthday": f"{1950 + i % 50}-"
                        f"{date(2001, 1, 1) + timedelta(days=rng.randrange(365)):%m-%d}"
                    }
                    if birthdays
                    else {}
                ),
            )
            for i in range(first, min(count, first + 50_000))
        )
    return time.perf_counter() - start


def make_actions(count: int, advocates: int, *, seed: int) -> list[Action]:
    """Purchases (70 %), reviews (20 %) and shares (10 %), each with its own key."""
    rng = random.Random(seed)
    actions = []
    for i in range(count):
        who = advocate_id_of(rng.randrange(advocates))
        roll = rng.random()
        if roll < 0.7:
            kind, data = (
                "purchase.completed",
                {
                    "order_id": f"o-{i}",
                    "total_cents": rng.randrange(100, 50_000),
                },
            )
        elif roll < 0.9:
            kind, data = "review.posted", {"rating": rng.randrange(1, 6)}
        else:
            kind, data = "share.posted", {"network": "x"}
        actions.append(Action(kind=kind, advocate=who, key=f"a-{i}", data=data))
    return actions


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --------------------------------------------------------------------------- 1. recording


def record_all(path: Path, plugins: list[Any], actions: list[Action], advocates: int, b: int):
    program = build(path, plugins)
    enroll(program, advocates)
    start = time.perf_counter()
    applied = 0
    for batch in batches(actions, b):
        applied += sum(1 for o in program.record_many(batch) if o.status.value == "applied")
    seconds = time.perf_counter() - start
    program.close()
    if applied != len(actions):
        raise SystemExit(f"only {applied} of {len(actions)} actions applied: a bug")
    return len(actions) / seconds


def part_recording(workdir: Path, args: argparse.Namespace) -> bool:
    actions = make_actions(args.actions, args.advocates, seed=args.seed)
    ratios = []
    for number in range(1, args.rounds + 1):
        base = record_all(
            workdir / f"points-{number}.db", [points_rules()], actions, args.advocates, args.batch
        )
        full = record_all(
            workdir / f"gamified-{number}.db",
            [points_rules(), *gamification()],
            actions,
            args.advocates,
            args.batch,
        )
        ratios.append(full / base)
        print(
            f"round {number}: points only {base:,.0f} actions/s, points + tiers + 5 badges + "
            f"1 challenge {full:,.0f} actions/s, ratio {full / base:.3f}"
        )
    ratio = statistics.median(ratios)
    ok = ratio >= TARGET_GAMIFIED_RATIO
    print(f"{verdict(ok)} gamified / points-only {ratio:.3f} (target >= {TARGET_GAMIFIED_RATIO})")
    return ok


def part_breakdown(workdir: Path, args: argparse.Namespace) -> None:
    """Where a gamified action's time goes: engine steps and each plugin's hooks."""
    from advokit.core import codec
    from advokit.core.engine import _Run
    from advokit.core.ledger import Work
    from advokit.plugins.badges import Badges
    from advokit.plugins.challenges import Challenges

    parts: dict[str, float] = {}
    wrapped = [
        (_Run, "effects_for", "evaluating (all plugins, policies)"),
        (_Run, "_apply_effects", "applying (ledger and plugin effects)"),
        (Work, "flush", "writing the batch (flush)"),
        (codec, "effects_json", "encoding outcomes' effects"),
    ]
    for plugin in (Tiers, Badges, Challenges):
        for hook in ("advokit_evaluate", "advokit_apply_effect"):
            wrapped.append((plugin, hook, f"  {plugin.__name__}.{hook}"))
    actions = make_actions(args.actions, args.advocates, seed=args.seed)
    with contextlib.ExitStack() as stack:
        for owner, method, name in wrapped:
            stack.enter_context(timed(owner, method, parts, name))
        rate = record_all(
            workdir / "breakdown.db",
            [points_rules(), *gamification()],
            actions,
            args.advocates,
            args.batch,
        )
    print(f"gamified, timed: {1e6 / rate:.0f} µs per action in all")
    for name, seconds in parts.items():
        print(f"  {name}: {1e6 * seconds / len(actions):.1f} µs per action")


# --------------------------------------------------------------------------- 1b. the floor


@attrs.frozen
class Counted(Effect):
    """The floor plugins' one effect: an advocate's new count (bookkeeping, not recorded)."""

    recorded: ClassVar[bool] = False

    advocate: str
    count: int
    read: int


class Floor:
    """Keeps a per-advocate count of actions in its own table, and decides nothing else."""

    def __init__(self, number: int) -> None:
        self.plugin_name = f"floor{number}"
        self.table = sa.Table(
            f"floor{number}_counts",
            sa.MetaData(),
            sa.Column("advocate_id", sa.BigInteger, primary_key=True),
            sa.Column("program", sa.String(100), nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("count", sa.Integer, nullable=False),
        )
        self.shape = (self.plugin_name, "count")
        self.read_sql = (
            f"SELECT advocate_id, version, count FROM {self.table.name} WHERE advocate_id IN (*)"
        )
        self.advokit_evaluates = frozenset({"purchase.completed", "review.posted", "share.posted"})
        # an effect type of its own, so that each effect is offered to its plugin only
        self.effect = attrs.frozen(type(f"Counted{number}", (Counted,), {}))
        self.advokit_applies = (self.effect,)

    def load(self, conn: Any, ids: list[int]) -> dict[int, tuple[int, int]]:
        return {row_id: (version, n) for row_id, version, n in fetch(conn, self.read_sql, (), ids)}

    @hookimpl
    def advokit_evaluate(self, ctx: Any, action: Action) -> list[Effect]:
        version, count = ctx.view.memo(self.shape, action.advocate, self.load) or (0, 0)
        return [self.effect(action.advocate, count + 1, version)]

    @hookimpl
    def advokit_apply_effect(self, tx: Any, effect: Counted) -> bool:
        tx.save(
            self.table,
            {"advocate_id": tx.view.advocate_id(effect.advocate)},
            {"program": PROGRAM, "count": effect.count},
            read=effect.read,
        )
        tx.view.remember(self.shape, effect.advocate, (effect.read, effect.count))
        return True


def floor_rate(path: Path, plugins: int, actions: list[Action], args: argparse.Namespace) -> float:
    floors = [Floor(number) for number in range(plugins)]
    program = build(path, [points_rules(), *floors])
    for floor in floors:
        floor.table.create(program.engine)
    program.close()
    return record_all(path, [points_rules(), *floors], actions, args.advocates, args.batch)


def part_floor(workdir: Path, args: argparse.Namespace) -> None:
    actions = make_actions(args.actions, args.advocates, seed=args.seed)
    base = record_all(
        workdir / "floor-points.db", [points_rules()], actions, args.advocates, args.batch
    )
    for plugins in (3, 7):
        rate = floor_rate(workdir / f"floor-{plugins}.db", plugins, actions, args)
        extra = (1e6 / rate - 1e6 / base) / plugins
        print(
            f"floor: points + {plugins} plugins keeping a row each and deciding nothing "
            f"{rate:,.0f} actions/s, ratio {rate / base:.3f} ({extra:.1f} µs per plugin "
            f"per action; points only {base:,.0f} actions/s)"
        )


# --------------------------------------------------------------------------- 2. leaderboard


def load_board_database(path: Path, advocates: int, actions: int, seed: int) -> float:
    """Build the scores ``actions`` purchases would leave; returns the seconds it took."""
    started = time.perf_counter()
    plugin = Leaderboards(Board("points"))
    program = build(path, [points_rules(), plugin])
    program.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA temp_store=MEMORY")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    conn.executemany(
        "INSERT INTO advokit_advocates (id, program, external_id, kind, locale, timezone, "
        "attributes, consent, enrolled_at, updated_at) "
        "VALUES (?, ?, ?, 'customer', 'en', 'UTC', '{}', '{}', ?, ?)",
        ((i + 1, PROGRAM, advocate_id_of(i), now, now) for i in range(advocates)),
    )
    conn.execute("CREATE TEMP TABLE days (day INTEGER PRIMARY KEY, d, w, m, midnight)")
    conn.executemany(
        "INSERT INTO days VALUES (?, ?, ?, ?, ?)",
        (
            (n, *plugin.periods(at)[1:], at.replace(tzinfo=None).isoformat(" "))
            for n in range(364)
            for at in [datetime.combine(YEAR_START + timedelta(days=n), datetime.min.time(), UTC)]
        ),
    )
    conn.execute("CREATE TEMP TABLE acts (advocate_id, day, points, second)")
    rng = random.Random(seed)
    chunk = 1_000_000
    for first in range(0, actions, chunk):
        conn.executemany(
            "INSERT INTO acts VALUES (?, ?, ?, ?)",
            (
                (
                    rng.randrange(advocates) + 1,
                    rng.randrange(364),
                    rng.randrange(1, 500),
                    rng.randrange(86_400),
                )
                for _ in range(min(chunk, actions - first))
            ),
        )
    conn.execute("DROP INDEX ix_leaderboards_rank")  # built once, after the rows
    reached = "datetime(days.midnight, '+' || max(acts.second) || ' seconds') || '.000000'"
    for period in ("d", "w", "m"):
        conn.execute(
            f"INSERT INTO leaderboards_scores SELECT '{PROGRAM}', 'points', days.{period}, "
            f"acts.advocate_id, sum(acts.points), {reached} "
            f"FROM acts JOIN days USING (day) GROUP BY days.{period}, acts.advocate_id"
        )
    conn.execute(
        f"INSERT INTO leaderboards_scores SELECT '{PROGRAM}', 'points', 'all', advocate_id, "
        f"sum(points), '2026-11-25 00:00:00.000000' FROM acts GROUP BY advocate_id"
    )
    conn.execute(
        "CREATE INDEX ix_leaderboards_rank ON leaderboards_scores "
        "(program, board, period, value DESC, reached_at, advocate_id)"
    )
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def time_week_board(path: Path, calls: int) -> tuple[list[float], list[str], list[Any]]:
    program = Program(
        name=PROGRAM,
        database_url=f"sqlite:///{path}",
        plugins=[points_rules(), Leaderboards(Board("points"))],
        load_entrypoints=False,
        clock=ManualClock(NOW),
    )
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if "leaderboards_scores" in statement:
            captured.append((statement, params))

    with program:
        top = program.board("points", window="week")  # warm: connection, page cache
        sa.event.listen(program.engine, "before_cursor_execute", capture)
        program.board("points", window="week")
        sa.event.remove(program.engine, "before_cursor_execute", capture)
        latencies = []
        for _ in range(calls):
            start = time.perf_counter()
            program.board("points", window="week")
            latencies.append((time.perf_counter() - start) * 1000)
    statement, params = captured[-1]
    conn = sqlite3.connect(path)
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", params)]
    rows = conn.execute("SELECT count(*) FROM leaderboards_scores").fetchone()[0]
    conn.close()
    return latencies, [f"{rows:,} score rows", *plan], top


def part_board(workdir: Path, args: argparse.Namespace) -> bool:
    medians = []
    for actions in args.board_actions:
        path = workdir / f"board-{actions}.db"
        built = load_board_database(path, args.board_advocates, actions, args.seed)
        latencies, plan, top = time_week_board(path, args.board_calls)
        median = statistics.median(latencies)
        medians.append(median)
        print(
            f"{args.board_advocates:,} advocates, {actions:,} actions (built in {built:.0f} s): "
            f"'this week' top 10 median {median:.2f} ms, p90 "
            f"{statistics.quantiles(latencies, n=10)[-1]:.2f} ms over {len(latencies)} calls"
        )
        print("  plan: " + " | ".join(plan))
        print(f"  top 3: {[(s.rank, s.advocate, s.value) for s in top[:3]]}")
        path.unlink()
    if len(medians) > 1:
        print(
            f"scaling {args.board_actions[0]:,} -> {args.board_actions[-1]:,} actions: "
            f"{medians[-1] / medians[0]:.2f}x the latency"
        )
    ok = medians[-1] <= TARGET_WEEK_TOP10_MS
    print(f"{verdict(ok)} 'this week' top 10 {medians[-1]:.2f} ms (target <= 20 ms)")
    return ok


# --------------------------------------------------------------------------- 3. tick


def part_tick(workdir: Path, args: argparse.Namespace) -> None:
    clock = ManualClock(NOW)
    plugins = [points_rules(), *gamification(), Occasions(), Leaderboards(Board("points"))]
    program = build(workdir / "tick.db", plugins, clock)
    enrolled = enroll(program, args.tick_advocates, birthdays=True)
    sample = make_actions(args.tick_sample, args.tick_advocates, seed=args.seed + 1)
    for batch in batches(sample, 1000):
        program.record_many(batch)
    clock.advance(days=40)  # last month's challenge closes; tier reviews and birthdays are due
    parts = {"expiring points": 0.0, "plugins saying what is due": 0.0}
    with (
        timed(Program, "expire_points", parts, "expiring points"),
        timed(Hooks, "tick", parts, "plugins saying what is due"),
    ):
        start = time.perf_counter()
        report = program.tick()
        first = time.perf_counter() - start
    parts["recording the due actions"] = first - sum(parts.values())
    start = time.perf_counter()
    again = program.tick()
    second = time.perf_counter() - start
    program.close()
    print(
        f"tick over {args.tick_advocates:,} advocates (enrolled in {enrolled:.0f} s, "
        f"{args.tick_sample:,} actions recorded first): {first:.2f} s, recorded "
        f"{report.applied:,} actions ({count_kinds(report)}); "
        f"the same tick again: {second:.2f} s, {again.applied} recorded, "
        f"{again.replayed:,} replayed"
    )
    print(
        "  first tick: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in parts.items())
    )


@contextlib.contextmanager
def timed(cls: Any, method: str, parts: dict[str, float], name: str) -> Iterator[None]:
    """Add the seconds ``cls.method`` runs to ``parts[name]`` (the class: Program is frozen).

    ``cls`` may be a module. A plugin's hook implementation keeps its pluggy
    marker (``functools.wraps``), so wrap before the program is built.
    """
    run = getattr(cls, method)
    parts.setdefault(name, 0.0)

    @functools.wraps(run)
    def timing(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return run(*args, **kwargs)
        finally:
            parts[name] += time.perf_counter() - start

    setattr(cls, method, timing)
    try:
        yield
    finally:
        setattr(cls, method, run)


def count_kinds(report: Any) -> str:
    kinds: dict[str, int] = {}
    for outcome in report.outcomes:
        if not outcome.replayed:
            kinds[outcome.kind] = kinds.get(outcome.kind, 0) + 1
    return ", ".join(f"{n:,} {kind}" for kind, n in sorted(kinds.items())) or "none"


# --------------------------------------------------------------------------- main


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=20_000, help="N actions, part 1")
    parser.add_argument("--advocates", type=int, default=5_000, help="M advocates, part 1")
    parser.add_argument("--batch", type=int, default=1000, help="B actions per record_many")
    parser.add_argument("--rounds", type=int, default=3, help="R rounds of part 1")
    parser.add_argument("--board-advocates", type=int, default=1_000_000, help="L (0: skip)")
    parser.add_argument(
        "--board-actions",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1_000_000, 10_000_000],
        help="comma-separated action counts for part 2",
    )
    parser.add_argument("--board-calls", type=int, default=50)
    parser.add_argument("--tick-advocates", type=int, default=1_000_000, help="T (0: skip)")
    parser.add_argument("--tick-sample", type=int, default=20_000, help="S actions before it")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--breakdown", action="store_true", help="also time part 1's steps and plugin hooks"
    )
    parser.add_argument(
        "--floor", action="store_true", help="also measure the plugin API's own cost"
    )
    args = parser.parse_args(argv)
    if min(args.actions, args.advocates, args.batch, args.rounds, args.board_calls) < 1:
        parser.error("counts must be positive")

    print(
        f"advokit gamification benchmark: Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"
    )
    ok = True
    with tempfile.TemporaryDirectory(prefix="advokit-bench-") as tmp:
        workdir = Path(tmp)
        print(f"--- 1. record_many: N={args.actions:,}, M={args.advocates:,}, B={args.batch}")
        ok &= part_recording(workdir, args)
        if args.floor:
            part_floor(workdir, args)
        if args.breakdown:
            part_breakdown(workdir, args)
        if args.board_advocates:
            print("--- 2. 'this week' top 10")
            ok &= part_board(workdir, args)
        if args.tick_advocates:
            print("--- 3. tick")
            part_tick(workdir, args)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
