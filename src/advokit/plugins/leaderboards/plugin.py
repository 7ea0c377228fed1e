"""The leaderboards plugin: scores kept per period, expiries taken off, boards ranked."""

from __future__ import annotations

import weakref
import zoneinfo
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit import Action, Effect, EvaluationContext, Standing, Transaction, hookimpl
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, InvalidValue, one_of
from advokit.core.model import rank_standings
from advokit.core.registry import Register
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.driver import dialect_insert
from advokit.plugins.leaderboards.model import (
    DEFAULT_KEEP_DAYS,
    MAX_RANGE_DAYS,
    RANKINGS,
    WINDOWS,
    Board,
    BoardPosition,
    Score,
)
from advokit.plugins.leaderboards.tables import cursor_t, scores_t, taken_off_t

__all__ = ["Leaderboards"]

#: How long after a tick saw an id every lower id has surely committed (transactions
#: take seconds; the margin also absorbs clock differences between hosts).
SETTLED = timedelta(hours=1)

MIGRATIONS = Path(__file__).parent.parent / "migrations" / "leaderboards"


class Leaderboards:
    """The leaderboards plugin: ``Leaderboards(Board(...), ..., timezone="UTC")``."""

    plugin_name = "leaderboards"

    def __init__(
        self, *boards: Board, timezone: str = "UTC", keep_days: int | None = DEFAULT_KEEP_DAYS
    ) -> None:
        if not boards:
            raise ConfigurationError("Leaderboards(boards)", (), "one or more Board values")
        self.boards = v.by_name("Leaderboards(boards)", boards, Board)
        if not isinstance(timezone, str) or not v.is_zone(timezone):
            raise ConfigurationError(
                "Leaderboards.timezone", timezone, "an IANA time zone name such as 'Europe/Paris'"
            )
        self.zone = zoneinfo.ZoneInfo(timezone)
        if keep_days is not None and (not v.is_int(keep_days) or keep_days < MAX_RANGE_DAYS):
            raise ConfigurationError(
                "Leaderboards.keep_days",
                keep_days,
                f"None (keep every day) or a number of days from {MAX_RANGE_DAYS}",
            )
        self.keep_days = keep_days
        self.by_kind: dict[str, list[Board]] = {}
        for board in boards:
            self.by_kind.setdefault(board.kind, []).append(board)
        self.advokit_evaluates = frozenset(self.by_kind)
        self.advokit_applies = (Score,)
        # The programs whose cursor row exists, by engine: one plugin object may serve
        # programs on several databases (a simulation's sandbox shares the program's).
        self._started: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"Leaderboards({', '.join(self.boards)})"

    # -- registration

    @hookimpl
    def advokit_register_migrations(self, register: Register) -> None:
        register(MIGRATIONS, name="leaderboards")

    @hookimpl
    def advokit_register_queries(self, register: Register) -> None:
        register(self.board, name="board")
        register(self.position, name="board_position")

    @hookimpl
    def advokit_register_commands(self, register: Register) -> None:
        from advokit.plugins.leaderboards.commands import leaderboard_command  # the CLI's alone

        register(leaderboard_command)

    @hookimpl
    def advokit_configure(self, program: Any) -> None:
        v.known_kinds(program, self.by_kind, lambda b: f"Board({b.name!r}).count")

    # -- scoring

    @hookimpl
    def advokit_evaluate(self, ctx: EvaluationContext, action: Action) -> list[Effect]:
        at = action.occurred_at or ctx.now
        effects: list[Effect] = []
        for board in self.by_kind.get(action.kind, ()):
            if board.count is not None:
                if board.where is None or board.where(action):
                    effects.append(
                        Score(advocate=action.advocate, board=board.name, amount=1, at=at)
                    )
            elif action.data["account"] == board.points and action.data.get("earned"):
                amount = action.data["earned"]
                effects.append(
                    Score(advocate=action.advocate, board=board.name, amount=amount, at=at)
                )
        return effects

    @hookimpl
    def advokit_after_commit(self, program: Any, outcomes: Any) -> None:
        """Remember that the program's expiry cursor exists, once a commit made it."""
        if self._is_started(program):
            return
        c = cursor_t
        with database.transaction(program.engine, write=False) as conn:
            found = conn.execute(sa.select(c.c.program).where(c.c.program == program.name))
            if found.first() is not None:
                self._started.setdefault(program.engine, set()).add(program.name)

    def _is_started(self, program: Any) -> bool:
        return program.name in self._started.get(program.engine, ())

    @hookimpl
    def advokit_apply_effect(self, tx: Transaction, effect: Effect) -> bool | None:
        if not isinstance(effect, Score) or effect.board not in self.boards:
            return None
        if not self._is_started(tx.program):  # until a commit made the cursor
            _start(tx.connection, tx.program.name)
        advocate_id = tx.view.advocate_id(effect.advocate)
        for period in self.periods(effect.at):
            key = {
                "program": tx.program.name,
                "board": effect.board,
                "period": period,
                "advocate_id": advocate_id,
            }
            tx.add(scores_t, key, {"value": effect.amount}, {"reached_at": effect.at})
        return True

    def periods(self, at: datetime) -> tuple[str, str, str, str]:
        """The stored periods ``at`` counts toward: all time, its day, week and month."""
        local = at.astimezone(self.zone).date()
        year, week, _ = local.isocalendar()
        return ("all", f"d:{local.isoformat()}", f"w:{year}-W{week:02d}", f"m:{local:%Y-%m}")

    def period(self, window: str, at: datetime) -> str:
        """The stored period of ``window`` containing ``at``, in the plugin's time zone.

        ``"all"``, ``"d:2026-06-01"`` (today), ``"w:2026-W23"`` (the week, from
        Monday) or ``"m:2026-06"`` (the month).
        """
        if window not in WINDOWS:
            raise InvalidValue("window", window, one_of(WINDOWS))
        all_time, day, week, month = self.periods(at)
        return {"all": all_time, "today": day, "week": week, "month": month}[window]

    # -- expiry

    def _add(
        self,
        conn: Connection,
        program: str,
        advocate_id: int,
        board: str,
        amount: int,
        at: datetime,
    ) -> None:
        """Add ``amount`` to the periods of ``at`` now (the tick's corrections)."""
        t = scores_t
        insert = dialect_insert(conn, t)
        upsert = insert.on_conflict_do_update(
            index_elements=["program", "board", "period", "advocate_id"],
            set_={"value": t.c.value + insert.excluded.value, "reached_at": at},
        )
        conn.execute(
            upsert,
            [
                {
                    "program": program,
                    "board": board,
                    "period": period,
                    "advocate_id": advocate_id,
                    "value": amount,
                    "reached_at": at,
                }
                for period in self.periods(at)
            ],
        )

    @hookimpl
    def advokit_tick(self, program: Any, now: datetime) -> Iterable[Action]:
        """Take points that expired off the periods they were earned in (no actions)."""
        accounts = {b.points: b for b in self.boards.values() if b.points is not None}
        if accounts:
            database.retrying(lambda: self._take_off_expired(program, accounts))
        if self.keep_days is not None:
            database.retrying(lambda: self._prune(program, now))
        return ()

    def _first_kept_day(self, now: datetime) -> date | None:
        """The oldest day whose daily rows are kept at ``now`` (None: all of them)."""
        if self.keep_days is None:
            return None
        return now.astimezone(self.zone).date() - timedelta(days=self.keep_days)

    def _prune(self, program: Any, now: datetime) -> None:
        first = self._first_kept_day(now)
        t = scores_t
        with database.transaction(program.engine) as conn:
            for board in self.boards:  # the (program, board, period) index prefix
                conn.execute(
                    t.delete().where(
                        t.c.program == program.name,
                        t.c.board == board,
                        t.c.period >= "d:",
                        t.c.period < f"d:{first}",
                    )
                )

    def _take_off_expired(self, program: Any, boards_by_account: dict[str, Board]) -> None:
        """Take every expiry entry not taken off yet off the periods its points were earned in.

        Entry ids are handed out before commit, so an entry may become
        visible after others with higher ids: entries above the cursor's
        mark are remembered one by one in ``leaderboards_taken_off``. The
        mark moves only to the newest id a tick saw at least ``SETTLED``
        before (by the wall clock): every lower id had been handed out then,
        and has committed since, so it was taken off by now.
        """
        e, award, done = q.entries_t, q.entries_t.alias("award"), taken_off_t
        with database.transaction(program.engine) as conn:
            start_id, last_id = _start(conn, program.name, lock=True)
            rows = conn.execute(
                sa.select(e.c.id, e.c.advocate_id, e.c.account, e.c.delta, award.c.effective_at)
                .outerjoin(
                    award,
                    sa.and_(
                        award.c.advocate_id == e.c.advocate_id,
                        award.c.account == e.c.account,
                        award.c.lot_id == e.c.lot_id,
                        award.c.type == "award",
                        award.c.id > start_id,  # only awards the boards counted
                    ),
                )
                .where(
                    e.c.program == program.name,
                    e.c.type == "expire",
                    e.c.id > last_id,
                    ~sa.exists().where(done.c.entry_id == e.c.id),
                )
                .order_by(e.c.id)
            ).all()
            for _, advocate_id, account, delta, earned_at in rows:
                board = boards_by_account.get(account)
                if board is not None and earned_at is not None:
                    self._add(conn, program.name, advocate_id, board.name, delta, earned_at)
            if rows:
                conn.execute(
                    done.insert(), [{"entry_id": r.id, "program": program.name} for r in rows]
                )
            wall = datetime.now(UTC)
            c = cursor_t
            seen_id, seen_at = conn.execute(
                sa.select(c.c.seen_id, c.c.seen_at).where(c.c.program == program.name)
            ).one()
            if seen_at is not None and seen_at > wall - SETTLED:
                return  # the last look is too recent to move the mark to
            if seen_at is not None and seen_id > last_id:
                conn.execute(
                    done.delete().where(done.c.program == program.name, done.c.entry_id <= seen_id)
                )
                last_id = seen_id
            newest = conn.execute(
                sa.select(sa.func.max(e.c.id)).where(
                    e.c.program == program.name, e.c.type == "expire"
                )
            ).scalar_one()
            conn.execute(
                c.update()
                .where(c.c.program == program.name)
                .values(last_id=last_id, seen_id=max(newest or 0, last_id), seen_at=wall)
            )

    # -- queries

    def board(
        self,
        program: Any,
        name: str,
        *,
        window: str | tuple[date, date] = "all",
        at: datetime | None = None,
        segment: str | None = None,
        limit: int = 10,
        ranking: str = "competition",
    ) -> list[Standing]:
        """``program.board(name, ...)``: the top ``limit`` of a board in a window."""
        population = self._population(program, name, window, at, segment, ranking)
        if not v.is_int(limit) or not 1 <= limit <= 10_000:
            raise InvalidValue("limit", limit, "an integer from 1 to 10000")
        pop, a = population, q.advocates_t
        with database.transaction(program.engine, write=False) as conn:
            rows = conn.execute(
                sa.select(a.c.external_id, a.c.name, pop.c.value)
                .select_from(pop)
                .join(a, a.c.id == pop.c.advocate_id)
                .order_by(pop.c.value.desc(), pop.c.reached_at, pop.c.advocate_id)
                .limit(limit)
            ).all()
        return rank_standings(rows, ranking)

    def position(
        self,
        program: Any,
        name: str,
        advocate: str,
        *,
        window: str | tuple[date, date] = "all",
        at: datetime | None = None,
        segment: str | None = None,
        neighbours: int = 2,
        ranking: str = "competition",
    ) -> BoardPosition:
        """``program.board_position(name, advocate, ...)``: rank and ``neighbours`` each side.

        Counting the advocates ahead reads their part of the index: fast near
        the top, slower far down a board of a million.
        """
        pop = self._population(program, name, window, at, segment, ranking)
        if not v.is_int(neighbours) or not 0 <= neighbours <= 100:
            raise InvalidValue("neighbours", neighbours, "an integer from 0 to 100")
        a = q.advocates_t
        with database.transaction(program.engine, write=False) as conn:
            row_id = q.advocate_row_id(conn, program.name, advocate)
            mine = conn.execute(
                sa.select(pop.c.value, pop.c.reached_at).where(pop.c.advocate_id == row_id)
            ).first()
            if mine is None:
                return BoardPosition(standing=None)
            value, reached_at = mine
            ahead = sa.or_(
                pop.c.value > value,
                sa.and_(
                    pop.c.value == value,
                    sa.or_(
                        pop.c.reached_at < reached_at,
                        sa.and_(pop.c.reached_at == reached_at, pop.c.advocate_id < row_id),
                    ),
                ),
            )
            shown = sa.select(a.c.external_id, a.c.name, pop.c.value).join(
                a, a.c.id == pop.c.advocate_id
            )
            above = conn.execute(
                shown.where(ahead)
                .order_by(pop.c.value, pop.c.reached_at.desc(), pop.c.advocate_id.desc())
                .limit(neighbours)
            ).all()[::-1]
            below = conn.execute(
                shown.where(sa.not_(ahead), pop.c.advocate_id != row_id)
                .order_by(pop.c.value.desc(), pop.c.reached_at, pop.c.advocate_id)
                .limit(neighbours)
            ).all()
            me = conn.execute(shown.where(pop.c.advocate_id == row_id)).one()
            listed = [*above, me, *below]
            if ranking == "ordinal":
                first = 1 + conn.execute(sa.select(sa.func.count()).where(ahead)).scalar_one()
                ranks = [first - len(above) + i for i in range(len(listed))]
            else:
                counted = (
                    sa.func.count(sa.distinct(pop.c.value))
                    if ranking == "dense"
                    else sa.func.count()
                )
                greater = {
                    w: conn.execute(sa.select(counted).where(pop.c.value > w)).scalar_one()
                    for w in {row.value for row in listed}
                }
                ranks = [1 + greater[row.value] for row in listed]
        standings = [
            Standing(rank=rank, advocate=row.external_id, name=row.name, value=row.value)
            for rank, row in zip(ranks, listed, strict=True)
        ]
        return BoardPosition(
            standing=standings[len(above)],
            above=tuple(standings[: len(above)]),
            below=tuple(standings[len(above) + 1 :]),
        )

    def _population(
        self,
        program: Any,
        name: str,
        window: str | tuple[date, date],
        at: datetime | None,
        segment: str | None,
        ranking: str,
    ) -> Any:
        """The ranked advocates of a board and window: ``(advocate_id, value, reached_at)``."""
        if name not in self.boards:
            raise InvalidValue("board", name, one_of(self.boards))
        if ranking not in RANKINGS:
            raise InvalidValue("ranking", ranking, one_of(RANKINGS))
        if segment is not None and not isinstance(segment, str):
            raise InvalidValue("segment", segment, "a tag name or None")
        when = program.clock() if at is None else v.instant("at", at)
        t = scores_t
        where = [t.c.program == program.name, t.c.board == name]
        if isinstance(window, tuple):
            first, last = _date_range(window)
            self._refuse_pruned(window, first, program.clock())
            where.append(t.c.period.between(f"d:{first.isoformat()}", f"d:{last.isoformat()}"))
        elif window in WINDOWS:
            period = self.period(window, when)
            if window == "today":
                self._refuse_pruned(window, when.astimezone(self.zone).date(), program.clock())
            where.append(t.c.period == period)
        else:
            raise InvalidValue("window", window, f"{one_of(WINDOWS)} or a (first, last) date pair")
        if segment is not None:
            tags = q.tags_t
            where.append(
                sa.exists().where(tags.c.advocate_id == t.c.advocate_id, tags.c.tag == segment)
            )
        if isinstance(window, tuple):
            summed = (
                sa.select(
                    t.c.advocate_id,
                    sa.func.sum(t.c.value).label("value"),
                    sa.func.max(t.c.reached_at).label("reached_at"),
                )
                .where(*where)
                .group_by(t.c.advocate_id)
                .having(sa.func.sum(t.c.value) > 0)
            )
            return summed.subquery("ranked")
        return (
            sa.select(t.c.advocate_id, t.c.value, t.c.reached_at)
            .where(*where, t.c.value > 0)
            .subquery("ranked")
        )

    def _refuse_pruned(self, window: Any, first: date, now: datetime) -> None:
        kept = self._first_kept_day(now)
        if kept is not None and first < kept:
            raise InvalidValue(
                "window",
                window,
                f"days from {kept} on: daily scores are kept {self.keep_days} days "
                "(Leaderboards(keep_days=...))",
            )


# --------------------------------------------------------------------------- helpers


def _date_range(window: tuple[Any, ...]) -> tuple[date, date]:
    if (
        len(window) != 2
        or not all(isinstance(d, date) and not isinstance(d, datetime) for d in window)
        or window[1] < window[0]
        or (window[1] - window[0]) > timedelta(days=MAX_RANGE_DAYS)
    ):
        raise InvalidValue(
            "window",
            window,
            f"a (first, last) pair of dates, first <= last, at most {MAX_RANGE_DAYS} days apart",
        )
    return window[0], window[1]


def _start(conn: Connection, program: str, *, lock: bool = False) -> tuple[int, int]:
    """The program's expiry cursor ``(start_id, last_id)``, created at the ledger's end."""
    e, c = q.entries_t, cursor_t
    newest = conn.execute(sa.select(sa.func.coalesce(sa.func.max(e.c.id), 0))).scalar_one()
    conn.execute(
        dialect_insert(conn, c)
        .on_conflict_do_nothing(index_elements=["program"])
        .values(program=program, start_id=newest, last_id=newest)
    )
    query = sa.select(c.c.start_id, c.c.last_id).where(c.c.program == program)
    if lock:
        query = query.with_for_update()  # one tick at a time takes expiries off (PostgreSQL)
    start_id, last_id = conn.execute(query).one()
    return int(start_id), int(last_id)
