"""Backtests: a program's past actions replayed against its current rules, in a throwaway database.

::

    from advokit.core.simulation import simulate

    backtest = simulate(program, start=datetime(2026, 5, 1, tzinfo=UTC),
                        end=datetime(2026, 6, 1, tzinfo=UTC))
    backtest.actual.totals["points"]["awarded"]      # what May's actions were awarded
    backtest.simulated.totals["points"]["awarded"]   # what the rules of today would award

How it works:

1. The same program (name, plugins, policies, settings) is built again on a
   temporary SQLite file, with a :class:`~advokit.core.clock.ManualClock`,
   and migrated. Nothing is ever written to the program's own database: it
   is only read.
2. Enrolment is copied as it is now (advocates with their ids, enrolment
   times, profiles and consent), and so is what the program makes outside
   actions that later actions refer to: referral codes.
3. The actions recorded in the program's database are replayed in the order
   they occurred, the clock standing at each one's ``occurred_at``: the
   actions before the window too (unless ``history=False``), so that
   balances, cooldowns, caps and tiers at the window's start are what the
   current rules would have made them. Only the kinds a program records are
   replayed; what plugins and the tick derive (``points.changed``,
   ``referral.approved``, ``tier.changed``...) the current rules derive again.
   What a worker records after an effect outside the database (the
   ``reward.credited`` of store credit: ``ActionKind(by_worker=True)``) is
   not replayed, since no worker runs. The actions are read page by page,
   each page in a short transaction of its own: the program's database is
   never held in one long read.
   A person's decisions on held actions are replayed when they were taken
   (the tick's decisions by deadline are not: the sandbox's own tick takes
   them under the current rules), and the tick runs at every midnight UTC
   (or on the hour) from the first action to the window's end (or the
   program's now, if that comes first); at that end, the points whose time
   has come expire, so that a lot expiring after the last tick expires in
   the window as it did in the program.
4. Both databases are summarised the same way over the window: actions by
   kind and status, points by account and reason, rewards issued, the top
   advocates.

Effects outside the database do not happen: no worker runs, so no message is
delivered and no reward fulfilled (nor store credit credited);
``advokit_after_commit``, ``advokit_on_record_error`` and ``advokit_on_alert``
observers are not called.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from advokit.core import validation as v
from advokit.core.clock import ManualClock
from advokit.core.errors import AdvokitError, InvalidValue, NotHeld, one_of
from advokit.core.model import AUTOMATIC_REVIEWER, Action, Standing, rank_standings
from advokit.core.store import database
from advokit.core.store import queries as q

if TYPE_CHECKING:
    from advokit.core.program import Program

__all__ = ["TICKS", "Backtest", "Replay", "Summary", "simulate", "summarise"]

#: How often the simulation runs the tick: at midnight UTC, on the hour, or never.
TICKS: Mapping[str, timedelta | None] = {
    "daily": timedelta(days=1),
    "hourly": timedelta(hours=1),
    "none": None,
}
#: Actions recorded in one transaction: those that occurred at one instant.
BATCH = 500
#: Rows read from the program's database in one (short) transaction.
PAGE = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
#: What the ledger's entry types are called in a summary's totals.
_TOTALS = {"award": "awarded", "reverse": "reversed", "deduct": "spent", "expire": "expired"}
# At one instant the tick comes first, then the actions, then a person's decisions.
_TICK, _DECISION = 0, 2


@attrs.frozen(kw_only=True)
class Summary:
    """What a program did with the actions that occurred in a window.

    Attributes:
        actions: the actions that occurred in the window, by kind, then status
            (``applied``, ``held``, ``rejected``): how many.
        points: points awarded in the window, by account, then reason (the
            earning action kind for rule awards).
        totals: by account: ``awarded``, ``reversed``, ``spent``, ``expired``
            (the sums of those ledger entries, negative but for awards) and
            ``net``.
        rewards: rewards issued in the window, by kind: ``count`` and
            ``amount``; None when the program has no rewards plugin.
        top: the advocates who earned the most points (account ``points``)
            in the window.
    """

    actions: Mapping[str, Mapping[str, int]]
    points: Mapping[str, Mapping[str, int]]
    totals: Mapping[str, Mapping[str, int]]
    rewards: Mapping[str, Mapping[str, int]] | None
    top: tuple[Standing, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "actions": _plain(self.actions),
            "points": _plain(self.points),
            "totals": _plain(self.totals),
            "rewards": None if self.rewards is None else _plain(self.rewards),
            "top": [attrs.asdict(standing) for standing in self.top],
        }


@attrs.frozen(kw_only=True)
class Replay:
    """What a simulation replayed.

    Attributes:
        actions: actions recorded in the throwaway database.
        in_window: how many of them occurred in the window.
        skipped: actions not replayed, by ``"kind: why"`` (a kind the program
            no longer has, a kind a worker records, data its current rules
            refuse, a plugin's error).
        decisions: decisions of a person on held actions replayed.
        ticks: ticks run.
        seconds: how long it took.
    """

    actions: int
    in_window: int
    skipped: Mapping[str, int]
    decisions: int
    ticks: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "skipped": dict(self.skipped)}


@attrs.frozen(kw_only=True)
class Backtest:
    """The actual and the simulated summaries of one window, and what was replayed."""

    program: str
    start: datetime
    end: datetime
    ticks: str
    history: bool
    actual: Summary
    simulated: Summary
    replay: Replay

    def to_json(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "ticks": self.ticks,
            "history": self.history,
            "actual": self.actual.to_json(),
            "simulated": self.simulated.to_json(),
            "replay": self.replay.to_json(),
        }


def simulate(
    program: Program,
    start: datetime,
    end: datetime,
    *,
    history: bool = True,
    ticks: str = "daily",
    top: int = 5,
    keep: str | Path | None = None,
) -> Backtest:
    """Replay ``program``'s actions against its current rules; see the module's docstring.

    Args:
        program: the program, on its real database (read, never written).
        start: the window's start (included).
        end: the window's end (excluded).
        history: replay the actions before ``start`` too (without them, every
            advocate starts the window with nothing).
        ticks: ``"daily"``, ``"hourly"`` or ``"none"``.
        top: how many advocates the summaries rank.
        keep: a path for the throwaway database, kept afterwards (it must not
            exist; deleted again if the simulation fails); None: a temporary
            file, deleted.
    """
    start, end = v.instant("start", start), v.instant("end", end)
    if end <= start:
        raise InvalidValue("end", end.isoformat(), f"a time after the start, {start.isoformat()}")
    if ticks not in TICKS:
        raise InvalidValue("ticks", ticks, one_of(TICKS))
    if not v.is_int(top) or not 1 <= top <= 100:
        raise InvalidValue("top", top, "an integer from 1 to 100")
    if keep is not None:
        keep = Path(keep)
        if keep.exists() or not keep.parent.is_dir():
            raise InvalidValue("keep", str(keep), "a new file in an existing folder")
    began = time.perf_counter()
    actual = summarise(program, start, end, top=top)
    folder = Path(tempfile.mkdtemp(prefix="advokit-simulate-"))
    path = keep if keep is not None else folder / "simulation.db"
    try:
        # the same program on a new SQLite file, with a manual clock
        sandbox = attrs.evolve(program, database_url=f"sqlite:///{path}", clock=ManualClock(start))
        try:
            _prepare(sandbox)
            _copy_reference_data(program, sandbox)
            counts = _replay(
                program,
                sandbox,
                start,
                end,
                history=history,
                every=TICKS[ticks],
                scratch=folder / "replay-order.db",
            )
            simulated = summarise(sandbox, start, end, top=top)
        finally:
            sandbox.close()
    except BaseException:
        if keep is not None:  # half written: it would only block the next run
            _remove_database(keep)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return Backtest(
        program=program.name,
        start=start,
        end=end,
        ticks=ticks,
        history=history,
        actual=actual,
        simulated=simulated,
        replay=Replay(**counts, seconds=round(time.perf_counter() - began, 3)),
    )


# --------------------------------------------------------------------------- the sandbox


def _prepare(sandbox: Program) -> None:
    """Migrate the sandbox and silence its observers."""
    sandbox.migrate()
    # Observers act outside the database (a webhook, an alert to a team): not in a
    # simulation. The sandbox has its own Hooks object; the program's is untouched.
    for observer in ("after_commit", "on_record_error", "alert"):
        setattr(sandbox.hooks, observer, _ignore)


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


def _remove_database(path: Path) -> None:
    """Delete a SQLite file and its journals."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _reference_tables(program: Program) -> list[sa.Table]:
    """The tables whose rows actions refer to but do not make: copied as they are."""
    tables = [q.advocates_t]
    if "referrals" in program.registries.migrations:
        from advokit.plugins.referrals.tables import codes_t  # made by program.referral_code()

        tables.append(codes_t)
    return tables


def _copy_reference_data(program: Program, sandbox: Program) -> None:
    """Copy enrolment (ids kept: other rows refer to them) and referral codes."""
    for table in _reference_tables(program):
        select = sa.select(table).where(table.c.program == program.name)
        # by id, a page at a time: each read a short transaction of its own
        last = None
        while True:
            page = select if last is None else select.where(table.c.id > last)
            with database.transaction(program.engine, write=False) as source:
                rows = source.execute(page.order_by(table.c.id).limit(q.CHUNK)).all()
            if not rows:
                break
            with database.transaction(sandbox.engine) as target:
                target.execute(table.insert(), [dict(row._mapping) for row in rows])
            last = rows[-1].id


# --------------------------------------------------------------------------- the replay


@attrs.define
class _Counts:
    actions: int = 0
    in_window: int = 0
    skipped: Counter[str] = attrs.Factory(Counter)
    decisions: int = 0
    ticks: int = 0


def _replay(
    program: Program,
    sandbox: Program,
    start: datetime,
    end: datetime,
    *,
    history: bool,
    every: timedelta | None,
    scratch: Path,
) -> dict[str, Any]:
    """Record the program's actions, decisions and ticks in the sandbox, in time order."""
    clock = sandbox.clock
    assert isinstance(clock, ManualClock)
    counts = _Counts()
    kinds = sandbox.registries.action_kinds
    batch: list[Action] = []

    def flush() -> None:
        if batch:
            clock.set(batch[0].occurred_at)  # type: ignore[arg-type]
            _record(sandbox, batch, counts, start)
            batch.clear()

    # no tick after the program's now: what the program did is known up to then
    bound = min(end, program.clock())
    pending = _Pending(_decisions(program, end), every, bound)
    for row in _actions(program, start if not history else None, end, scratch):
        pending.begin(row.occurred_at)
        if batch and (row.occurred_at != batch[0].occurred_at or len(batch) >= BATCH):
            flush()
        # Nothing is due while the batch holds actions of this instant: what is due
        # at it (ticks) or before it (decisions) came with its first action, unbatched.
        for when, kind, item in pending.due(row.occurred_at):
            clock.set(when)
            _run(sandbox, kind, item, when, counts)
        kind = kinds.get(row.kind)
        if kind is None:
            counts.skipped[f"{row.kind}: not an action kind of the program now"] += 1
        elif kind.by_worker:  # no worker runs here: nothing was fulfilled to record
            counts.skipped[f"{row.kind}: recorded by a worker; none runs in a simulation"] += 1
        elif not kind.derived:  # what plugins and the tick derive, they derive again
            batch.append(
                Action(
                    kind=row.kind,
                    advocate=row.external_id,
                    key=row.key,
                    occurred_at=row.occurred_at,
                    data=row.data,
                )
            )
    flush()
    for when, kind, item in pending.due(end, before=True):
        clock.set(when)
        _run(sandbox, kind, item, when, counts)
    if pending.started:
        # Lots whose time came after the last tick, before the end, expired in the
        # program (at their expires_at, whenever its tick ran): here too.
        clock.set(bound)
        sandbox.expire_points(bound)
    return {**attrs.asdict(counts, recurse=False), "skipped": dict(counts.skipped)}


def _record(sandbox: Program, batch: list[Action], counts: _Counts, start: datetime) -> None:
    """Record the batch; one by one if it fails, so that one bad action skips alone."""
    try:
        sandbox.record_many(batch)
        done = batch
    except AdvokitError:
        done = []
        for action in batch:
            try:
                sandbox.record(action)
                done.append(action)
            except AdvokitError as error:
                counts.skipped[f"{action.kind}: {type(error).__name__}"] += 1
    counts.actions += len(done)
    counts.in_window += sum(1 for a in done if a.occurred_at >= start)  # type: ignore[operator]


def _run(sandbox: Program, kind: int, item: Any, when: datetime, counts: _Counts) -> None:
    """Run a tick, or replay a person's decision on a held action."""
    if kind == _TICK:
        sandbox.tick(when)
        counts.ticks += 1
        return
    key, decision, reviewer, note = item
    try:
        sandbox.review(key, approve=decision == "approved", reviewer=reviewer, note=note)
    except NotHeld:
        return  # not held by the current rules (or decided by the tick's deadline already)
    counts.decisions += 1


class _Pending:
    """The ticks and a person's decisions, handed out in time order between the actions."""

    def __init__(
        self, decisions: list[tuple[datetime, Any]], every: timedelta | None, end: datetime
    ):
        self.decisions = deque(decisions)
        self.every = every
        self.end = end
        self.next_tick: datetime | None = None

    @property
    def started(self) -> bool:
        """Whether the ticks began (they do with the first action, unless there are none)."""
        return self.next_tick is not None

    def begin(self, first: datetime) -> None:
        """Tick from the first boundary after the first action on."""
        if self.next_tick is None and self.every is not None:
            boundary = first.replace(minute=0, second=0, microsecond=0)
            if self.every >= timedelta(days=1):
                boundary = boundary.replace(hour=0)
            self.next_tick = boundary + self.every

    def due(self, until: datetime, *, before: bool = False) -> Iterator[tuple[datetime, int, Any]]:
        """Ticks at or before ``until`` and decisions before it (all before it: ``before``)."""
        while True:
            tick = self.next_tick
            if tick is not None and (
                tick >= self.end or (tick >= until if before else tick > until)
            ):
                tick = None
            decision = self.decisions[0] if self.decisions else None
            if decision is not None and decision[0] >= until:
                decision = None
            if tick is None and decision is None:
                return
            if decision is None or (tick is not None and tick <= decision[0]):
                assert self.every is not None
                assert tick is not None
                self.next_tick = tick + self.every
                yield tick, _TICK, None
            else:
                self.decisions.popleft()
                yield decision[0], _DECISION, decision[1]


def _actions(
    program: Program, start: datetime | None, end: datetime, scratch: Path
) -> Iterator[Any]:
    """The recorded actions before ``end`` (from ``start``), in the order they occurred.

    Every read is a short transaction of its own: one transaction for the
    whole replay would keep SQLite from checkpointing its WAL, PostgreSQL from
    vacuuming, for minutes. And no read needs an index the program's tables
    lack: the ``(occurred_at, id)`` of every action to replay is first copied,
    a page of the primary key at a time, into a SQLite file of the
    simulation's own (``scratch``), which sorts them; the actions are then
    read back by id, PAGE ids at a time, in that order, ties included. Only
    the actions there were when the replay began are read.
    """
    t, a = q.actions_t, q.advocates_t
    where = [t.c.program == program.name, t.c.occurred_at < end]
    if start is not None:
        where.append(t.c.occurred_at >= start)
    with database.transaction(program.engine, write=False) as conn:
        newest = conn.execute(sa.select(sa.func.max(t.c.id)).where(*where)).scalar()
    if newest is None:
        return
    order = sqlite3.connect(scratch)
    try:
        order.execute("CREATE TABLE replay_order (at INTEGER NOT NULL, id INTEGER PRIMARY KEY)")
        keys = sa.select(t.c.id, t.c.occurred_at).where(*where, t.c.id <= newest)
        last = None
        while True:
            page = keys if last is None else keys.where(t.c.id > last)
            with database.transaction(program.engine, write=False) as conn:
                rows = conn.execute(page.order_by(t.c.id).limit(PAGE)).all()
            order.executemany(
                "INSERT INTO replay_order VALUES (?, ?)",
                [((row.occurred_at - _EPOCH) // _MICROSECOND, row.id) for row in rows],
            )
            if len(rows) < PAGE:
                break
            last = rows[-1].id
        order.execute("CREATE INDEX replay_order_at ON replay_order (at, id)")
        order.commit()
        query = (
            sa.select(t.c.id, t.c.kind, t.c.key, t.c.occurred_at, t.c.data, a.c.external_id)
            .join(a, a.c.id == t.c.advocate_id)
            .where(t.c.id.in_(sa.bindparam("ids", expanding=True)))
        )
        ordered = order.execute("SELECT id FROM replay_order ORDER BY at, id")
        while ids := [id_ for (id_,) in ordered.fetchmany(PAGE)]:
            with database.transaction(program.engine, write=False) as conn:
                found = {row.id: row for row in conn.execute(query, {"ids": ids})}
            yield from (found[id_] for id_ in ids if id_ in found)  # erased meanwhile: gone
    finally:
        order.close()


def _decisions(program: Program, end: datetime) -> list[tuple[datetime, Any]]:
    """A person's decisions on held actions before ``end``, oldest first.

    The tick's decisions by deadline are left out: the sandbox's tick decides
    what is overdue under the current rules (``review_deadline``, defaults).
    """
    r = q.reviews_t
    query = (
        sa.select(r.c.decided_at, r.c.action_key, r.c.decision, r.c.reviewer, r.c.note)
        .where(
            r.c.program == program.name,
            r.c.decided_at < end,
            r.c.reviewer != AUTOMATIC_REVIEWER,
        )
        .order_by(r.c.decided_at, r.c.id)
    )
    with database.transaction(program.engine, write=False) as conn:
        rows = conn.execute(query).all()
    return [(row.decided_at, tuple(row)[1:]) for row in rows]


# --------------------------------------------------------------------------- summaries


def summarise(program: Program, start: datetime, end: datetime, *, top: int = 5) -> Summary:
    """What the program's database holds for the actions of the window ``[start, end)``."""
    t, e, a = q.actions_t, q.entries_t, q.advocates_t
    name = program.name
    with database.transaction(program.engine, write=False) as conn:
        actions: dict[str, dict[str, int]] = {}
        for kind, status, count in conn.execute(
            sa.select(t.c.kind, t.c.status, sa.func.count())
            .where(t.c.program == name, t.c.occurred_at >= start, t.c.occurred_at < end)
            .group_by(t.c.kind, t.c.status)
            .order_by(t.c.kind, t.c.status)
        ):
            actions.setdefault(kind, {})[status] = int(count)
        in_window = (e.c.program == name, e.c.effective_at >= start, e.c.effective_at < end)
        points: dict[str, dict[str, int]] = {}
        totals: dict[str, dict[str, int]] = {}
        for account, kind, reason, total in conn.execute(
            sa.select(e.c.account, e.c.type, e.c.reason, sa.func.sum(e.c.delta))
            .where(*in_window)
            .group_by(e.c.account, e.c.type, e.c.reason)
            .order_by(e.c.account, e.c.type, e.c.reason)
        ):
            sums = totals.setdefault(account, dict.fromkeys([*_TOTALS.values(), "net"], 0))
            sums[_TOTALS[kind]] += int(total)
            sums["net"] += int(total)
            if kind == "award":
                points.setdefault(account, {})[reason] = int(total)
        earned = sa.func.sum(e.c.delta).label("earned")
        leaders = conn.execute(
            sa.select(a.c.external_id, a.c.name, earned)
            .join(a, a.c.id == e.c.advocate_id)
            .where(*in_window, e.c.account == "points", e.c.type.in_(("award", "reverse")))
            .group_by(e.c.advocate_id, a.c.external_id, a.c.name)
            .having(sa.func.sum(e.c.delta) > 0)
            .order_by(earned.desc(), e.c.advocate_id)
            .limit(top)
        ).all()
        rewards = _rewards(program, conn, start, end)
    return Summary(
        actions=actions,
        points=points,
        totals=totals,
        rewards=rewards,
        top=tuple(rank_standings(leaders)),
    )


def _rewards(
    program: Program, conn: Any, start: datetime, end: datetime
) -> dict[str, dict[str, int]] | None:
    if "rewards" not in program.registries.migrations:
        return None
    from advokit.plugins.rewards.tables import rewards_t as r

    found: dict[str, dict[str, int]] = {}
    for kind, count, amount in conn.execute(
        sa.select(r.c.kind, sa.func.count(), sa.func.sum(r.c.amount))
        .where(r.c.program == program.name, r.c.created_at >= start, r.c.created_at < end)
        .group_by(r.c.kind)
        .order_by(r.c.kind)
    ):
        found[kind] = {"count": int(count), "amount": int(amount or 0)}
    return found


def _plain(value: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    return {key: dict(inner) for key, inner in value.items()}
