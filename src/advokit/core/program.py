"""Program: the composition root of plugins, store and settings."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.exc import OperationalError, ProgrammingError

from advokit.core import validation as v
from advokit.core.clock import Clock, system_clock
from advokit.core.context import EvaluationContext
from advokit.core.engine import Engine
from advokit.core.errors import (
    ConfigurationError,
    DatabaseNotReady,
    InvalidValue,
    NotHeld,
)
from advokit.core.hooks import Hooks
from advokit.core.model import (
    AUTOMATIC_REVIEWER,
    REVIEW_DEFAULTS,
    Action,
    ActionKind,
    Advocate,
    Effect,
    HeldAction,
    LedgerEntry,
    Outcome,
    Standing,
    TickReport,
    rank_standings,
)
from advokit.core.plugins import LoadedPlugins, PluginInfo, load_plugins
from advokit.core.registry import Register, Registries
from advokit.core.store import database
from advokit.core.store import queries as q

__all__ = ["EffectPolicy", "Program"]

#: The longest note a review decision keeps in the audit trail (``advokit_reviews.note``).
REVIEW_NOTE_LENGTH = 1000

#: An effect policy: ``policy(ctx, action, effects) -> effects``.
EffectPolicy = Callable[[EvaluationContext, Action, tuple[Effect, ...]], Iterable[Effect]]

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}")


def _check_name(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ConfigurationError(
            "Program.name", value, "1 to 100 lower-case letters, digits, '.', '_' or '-'"
        )


def _check_deadline(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and (not isinstance(value, timedelta) or value <= timedelta(0)):
        raise ConfigurationError("Program.review_deadline", value, "a positive timedelta or None")


def _check_default(instance: Any, attribute: Any, value: Any) -> None:
    if value not in REVIEW_DEFAULTS:
        raise ConfigurationError("Program.review_default", value, "'approve' or 'deny'")


def _span(delta: timedelta) -> str:
    """``2 days`` rather than ``2 days, 0:00:00``; other spans as timedelta prints them."""
    if delta.seconds or delta.microseconds:
        return str(delta)
    return f"{delta.days} day" + ("s" if delta.days != 1 else "")


def _check_depth(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 20:
        raise ConfigurationError("Program.max_derivation_depth", value, "an integer from 1 to 20")


class _DeclaredKinds:
    """The kinds a developer passed to ``Program(action_kinds=...)``, as a plugin."""

    plugin_name = "program"

    def __init__(self, kinds: Sequence[ActionKind]) -> None:
        self.kinds = tuple(kinds)

    from advokit.hookspecs import hookimpl as _hookimpl

    @_hookimpl
    def advokit_register_action_kinds(self, register: Register) -> None:
        for kind in self.kinds:
            register(kind)


@attrs.frozen(kw_only=True)
class Program:
    """A named advocacy program: plugins, a store and settings.

    Args:
        name: the program's name; several programs can share one database.
        database_url: any SQLAlchemy URL for SQLite or PostgreSQL.
        plugins: plugin objects (configured instances or modules). One with the
            name of a built-in (``points``) replaces the built-in.
        policies: the effect-policy chain, in the order it runs: policy objects
            or names registered through ``advokit_register_effect_policies``.
        action_kinds: extra action kinds of this program's own.
        clock: returns the current aware datetime; inject one in tests.
        max_derivation_depth: how many generations of derived actions may follow
            one recorded action.
        load_entrypoints: load installed third-party plugins.
        review_deadline: how long a held action waits for a person; then the
            tick decides it by ``review_default`` (None: it waits forever).
        review_default: the decision taken when the deadline passes,
            ``"deny"`` (the default) or ``"approve"``; a hold whose screen
            set its own (``Verdict.hold(reason, default="deny")``) keeps it.
    """

    name: str = attrs.field(validator=_check_name)
    database_url: str = database.DEFAULT_URL
    plugins: Sequence[object] = attrs.field(default=(), converter=tuple)
    policies: Sequence[EffectPolicy | str] = attrs.field(default=(), converter=tuple)
    action_kinds: Sequence[ActionKind] = attrs.field(default=(), converter=tuple)
    clock: Clock = attrs.field(default=system_clock)
    max_derivation_depth: int = attrs.field(default=3, validator=_check_depth)
    load_entrypoints: bool = True
    review_deadline: timedelta | None = attrs.field(default=None, validator=_check_deadline)
    review_default: str = attrs.field(default="deny", validator=_check_default)

    _loaded: LoadedPlugins = attrs.field(init=False)
    _engine: Engine = attrs.field(init=False)
    _db: SAEngine = attrs.field(init=False)
    _checked: list[bool] = attrs.field(init=False)
    hooks: Hooks = attrs.field(init=False)
    registries: Registries = attrs.field(init=False)
    #: ``(name, policy)`` pairs in the order they run
    policy_chain: tuple[tuple[str, EffectPolicy], ...] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        if not callable(self.clock):
            raise ConfigurationError("Program.clock", self.clock, "a callable returning a datetime")
        extra = [_DeclaredKinds(self.action_kinds)] if self.action_kinds else []
        loaded = load_plugins([*self.plugins, *extra], load_entrypoints=self.load_entrypoints)
        hooks = Hooks(loaded.pm)
        registries = Registries()
        hooks.register_all(registries)
        chain = tuple(self._resolve_policy(p, registries) for p in self.policies)
        set_ = object.__setattr__
        set_(self, "_db", database.connect(self.database_url))
        set_(self, "_loaded", loaded)
        set_(self, "hooks", hooks)
        set_(self, "registries", registries)
        set_(self, "policy_chain", chain)
        set_(self, "_checked", [])
        set_(self, "_engine", Engine(self))
        for name in registries.queries:
            if (
                name.startswith("_")
                or hasattr(type(self), name)
                or name in attrs.fields_dict(Program)
            ):
                raise ConfigurationError(
                    f"query name (registered by plugin {registries.queries.plugin_of(name)!r})",
                    name,
                    "a public name the Program does not have already",
                )
        hooks.configure(self)
        hooks.check_routes(registries.action_kinds)

    def __getattr__(self, name: str) -> Any:
        # queries plugins registered (advokit_register_queries): program.tier(...)
        if not name.startswith("_") and name != "registries":
            query = self.registries.queries.get(name)
            if query is not None:
                return functools.partial(query, self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @staticmethod
    def _resolve_policy(
        policy: EffectPolicy | str, registries: Registries
    ) -> tuple[str, EffectPolicy]:
        if isinstance(policy, str):
            return policy, registries.effect_policies[policy]
        if not callable(policy):
            raise ConfigurationError(
                "Program.policies", policy, "policy objects or registered policy names"
            )
        return repr(policy), policy

    # -- infrastructure

    @property
    def engine(self) -> SAEngine:
        """The SQLAlchemy engine of the program's store."""
        self._ensure_schema()
        return self._db

    @property
    def pm(self) -> Any:
        """The program's pluggy plugin manager."""
        return self._loaded.pm

    def plugin_info(self) -> list[PluginInfo]:
        """Name, version and hooks of every registered plugin."""
        return self._loaded.info()

    def migration_locations(self) -> list[str]:
        return [str(path) for path in self.registries.migrations.items().values()]

    def migrate(self) -> None:
        """Bring the database schema (advokit's and plugins') to the latest version."""
        from advokit.core.store import migrate

        migrate.upgrade(self._db, self.migration_locations())
        self._checked.append(True)

    def _ensure_schema(self) -> None:
        if self._checked:
            return
        from advokit.core.store import migrate

        try:
            ready = migrate.is_up_to_date(self._db, self.migration_locations())
        except (OperationalError, ProgrammingError) as error:
            raise DatabaseNotReady(
                f"cannot use the database of program {self.name!r}: {error.orig}"
            ) from None
        if not ready:
            raise DatabaseNotReady(
                f"the database of program {self.name!r} is not migrated to the current "
                "schema: run program.migrate() or `advokit db upgrade`"
            )
        self._checked.append(True)

    def close(self) -> None:
        """Release the database connections."""
        self._db.dispose()

    def __enter__(self) -> Program:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- advocates

    def enroll(self, advocate: Advocate) -> Advocate:
        """Add an advocate, or update the profile of one already enrolled."""
        self.enroll_many([advocate])
        return advocate

    def enroll_many(self, advocates: Iterable[Advocate]) -> int:
        """Add or update many advocates in one transaction; returns how many."""
        now = self.clock()
        rows = []
        for advocate in advocates:
            if not isinstance(advocate, Advocate):
                raise InvalidValue("advocate", advocate, "an advokit.Advocate")
            rows.append(q.advocate_row(self.name, advocate, now))
        if not rows:
            return 0
        engine = self.engine

        def attempt() -> None:
            with database.transaction(engine) as conn:
                q.upsert_advocates(conn, rows)

        database.retrying(attempt)
        return len(rows)

    def advocate(self, external_id: str) -> Advocate:
        """The enrolled advocate with this external id."""
        with database.transaction(self.engine, write=False) as conn:
            row_id = self._row_id(conn, external_id)
            return q.advocates(conn, [row_id])[row_id]

    def _row_id(self, conn: Any, advocate: str | Advocate) -> int:
        external_id = advocate.external_id if isinstance(advocate, Advocate) else advocate
        return q.advocate_row_id(conn, self.name, external_id)

    # -- recording

    def record(self, action: Action) -> Outcome:
        """Record one action; see :meth:`record_many`."""
        return self._engine.record_many([action])[0]

    def record_many(self, actions: Iterable[Action]) -> list[Outcome]:
        """Record actions in one transaction and return one outcome per action.

        Every action is validated first: an unknown kind, missing data or an
        unknown advocate raises before anything is written. Keys recorded
        before return their first outcome (``replayed=True``) and apply
        nothing; a reused key with different content raises
        :class:`~advokit.core.errors.IdempotencyConflict`. An action whose
        effects fail a guard (not enough points) is ``rejected`` on its own;
        an exception from a plugin rolls the whole batch back.
        """
        return self._engine.record_many(list(actions))

    # -- review of held actions

    def held(self, limit: int = 100) -> list[Action]:
        """Actions waiting for a person's decision, oldest first."""
        return [item.action for item in self._held(limit=limit)]

    def review_queue(self, limit: int = 100) -> list[HeldAction]:
        """What waits for a person, oldest first: each action, why it is held, and its deadline.

        Decide with :meth:`review`; with ``Program(review_deadline=...)`` the
        tick decides what is left past its deadline by ``review_default``.
        """
        if not v.is_int(limit) or limit < 1:
            raise InvalidValue("limit", limit, "a positive integer")
        return self._held(limit=limit)

    def _held(
        self, *, limit: int, key: str | None = None, until: datetime | None = None
    ) -> list[HeldAction]:
        t, a = q.actions_t, q.advocates_t
        query = (
            sa.select(
                t.c.kind,
                t.c.key,
                t.c.occurred_at,
                t.c.data,
                t.c.reasons,
                t.c.recorded_at,
                t.c.review_default,
                a.c.external_id,
            )
            .join(a, a.c.id == t.c.advocate_id)
            .where(t.c.program == self.name, t.c.status == "held")
            .order_by(t.c.id)
            .limit(limit)
        )
        if key is not None:
            query = query.where(t.c.key == key)
        if until is not None:  # held at or before: past the deadline
            query = query.where(t.c.recorded_at <= until)
        with database.transaction(self.engine, write=False) as conn:
            rows = conn.execute(query).all()
        deadline = self.review_deadline
        return [
            HeldAction(
                action=Action(
                    kind=r.kind,
                    key=r.key,
                    occurred_at=r.occurred_at,
                    data=r.data,
                    advocate=r.external_id,
                ),
                reasons=tuple(r.reasons),
                held_at=r.recorded_at,
                deadline=None if deadline is None else r.recorded_at + deadline,
                default=r.review_default or self.review_default,
            )
            for r in rows
        ]

    def review(self, key: str, *, approve: bool, reviewer: str, note: str | None = None) -> Outcome:
        """Decide on a held action: approve applies its effects now, deny rejects it.

        Every decision is kept in the review audit trail (who, when, why).
        """
        if (
            not isinstance(reviewer, str)
            or not reviewer.strip()
            or len(reviewer) > 255
            or reviewer == AUTOMATIC_REVIEWER  # the tick's decisions by deadline alone
        ):
            raise InvalidValue(
                "reviewer",
                reviewer,
                "the name of the person deciding, at most 255 characters, "
                f"other than {AUTOMATIC_REVIEWER!r}",
            )
        if note is not None and (not isinstance(note, str) or len(note) > REVIEW_NOTE_LENGTH):
            raise InvalidValue(
                "note", note, f"None or text of at most {REVIEW_NOTE_LENGTH} characters"
            )
        held = self._held(limit=1, key=key)
        if not held:
            raise NotHeld(key)
        return self._engine.review(held[0].action, approve=approve, reviewer=reviewer, note=note)

    def _decide_overdue(self, now: datetime, batch_size: int) -> list[Outcome]:
        """Decide the held actions whose deadline has passed, each by its default."""
        if self.review_deadline is None:
            return []
        decided = []
        within = _span(self.review_deadline)
        for item in self._held(limit=batch_size, until=now - self.review_deadline):
            # the hold's own default (a screen's "deny": only a person approves it) or ours
            note = f"no decision within {within}: {item.default} by default"
            try:
                outcome = self._engine.review(
                    item.action,
                    approve=item.default == "approve",
                    reviewer=AUTOMATIC_REVIEWER,
                    note=note,
                )
            except NotHeld:
                continue  # a person decided meanwhile
            decided.append(outcome)
        return decided

    # -- reading the ledger

    def balance(self, advocate: str | Advocate, account: str = "points") -> int:
        """The advocate's current balance on ``account``."""
        t = q.balances_t
        with database.transaction(self.engine, write=False) as conn:
            row_id = self._row_id(conn, advocate)
            value = conn.execute(
                sa.select(t.c.balance).where(t.c.advocate_id == row_id, t.c.account == account)
            ).scalar()
        return int(value or 0)

    def history(
        self, advocate: str | Advocate, account: str | None = None, limit: int = 100
    ) -> list[LedgerEntry]:
        """The advocate's ledger entries, newest first, each with its reason and cause."""
        external_id = advocate.external_id if isinstance(advocate, Advocate) else advocate
        t = q.entries_t
        with database.transaction(self.engine, write=False) as conn:
            query = sa.select(t).where(t.c.advocate_id == self._row_id(conn, external_id))
            if account is not None:
                query = query.where(t.c.account == account)
            rows = conn.execute(query.order_by(t.c.id.desc()).limit(limit)).all()
        return [
            LedgerEntry(
                id=r.id,
                advocate=external_id,
                account=r.account,
                delta=r.delta,
                reason=r.reason,
                action_key=r.action_key,
                related_action_key=r.related_action_key,
                lot_id=r.lot_id,
                expires_at=r.expires_at,
                effective_at=r.effective_at,
                created_at=r.created_at,
                memo=r.memo,
            )
            for r in rows
        ]

    def leaderboard(
        self, account: str = "points", *, by: str = "balance", limit: int = 10
    ) -> list[Standing]:
        """The top advocates by current ``balance`` or lifetime ``earned`` (index reads)."""
        if by not in ("balance", "earned"):
            raise InvalidValue("by", by, "'balance' or 'earned'")
        if not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise InvalidValue("limit", limit, "an integer from 1 to 10000")
        t, a = q.balances_t, q.advocates_t
        column = t.c[by]
        with database.transaction(self.engine, write=False) as conn:
            rows = conn.execute(
                sa.select(a.c.external_id, a.c.name, column)
                .join(a, a.c.id == t.c.advocate_id)
                .where(t.c.program == self.name, t.c.account == account)
                # one direction for both columns: a backward scan of the index
                .order_by(column.desc(), t.c.advocate_id.desc())
                .limit(limit)
            ).all()
        return rank_standings(rows)

    def score(
        self,
        name: str,
        *,
        segment: Any = None,
        window: Any = None,
        by: str | None = None,
        **options: Any,
    ) -> Any:
        """Compute the metric ``name`` (``nps``, ``k_factor``...): see ``docs/metrics.md``.

        Args:
            name: a scorer registered through ``advokit_register_scorers``.
            segment: a registered segment's name or a ``Segment`` (None: everyone).
            window: ``(start, end)``, a ``Window`` or a ``timedelta`` up to now
                (None: all time).
            by: ``day``, ``week``, ``month`` or ``year``: one figure per period too.
            options: the scorer's own (``survey="nps"``).

        Returns:
            An :class:`advokit.plugins.scoring.Score`: the value, its inputs and
            counts, and its confidence interval where one applies.
        """
        scorer = self.registries.scorers[name]
        return scorer(self, segment=segment, window=window, by=by, **options)

    def tags(self, advocate: str | Advocate) -> frozenset[str]:
        """The advocate's segment labels."""
        with database.transaction(self.engine, write=False) as conn:
            row_id = self._row_id(conn, advocate)
            return frozenset(q.tags(conn, [row_id]).get(row_id, ()))

    # -- maintenance

    def expire_points(self, now: datetime | None = None, batch_size: int = 1000) -> int:
        """Expire every lot whose time has come; returns the points expired.

        Safe to run as often as you like and from several processes: a lot
        expires once.
        """
        from advokit.core.ledger import Work

        when = now or self.clock()
        total = 0
        while True:

            def attempt() -> int:
                with database.transaction(self.engine) as conn:
                    due = q.expired_lots(conn, self.name, when, batch_size)
                    if not due:
                        return -1
                    work = Work(conn, self.name, when, {})
                    expired = 0
                    for advocate_id, account in sorted({(r.advocate_id, r.account) for r in due}):
                        expired += work.expire_due(work.account_for_update(advocate_id, account))
                    work.flush()
                    return expired

            expired = database.retrying(attempt)
            if expired < 0:
                return total
            total += expired

    def tick(self, now: datetime | None = None, batch_size: int = 1000) -> TickReport:
        """Run everything time-driven that is due at ``now`` (default: the clock's now).

        Points whose time has come expire, then every plugin's ``advokit_tick``
        says which actions are due (birthdays, tier reviews, expiry notices,
        challenge closings); they are recorded in batches of ``batch_size``.
        Idempotent: a second tick at the same instant posts nothing, and
        several processes may tick at once.
        """
        when = self.clock() if now is None else v.instant("now", now)
        if not v.is_int(batch_size) or not 1 <= batch_size <= 10_000:
            raise InvalidValue("batch_size", batch_size, "an integer from 1 to 10000")
        expired = self.expire_points(when, batch_size=batch_size)
        outcomes: list[Outcome] = []
        due = self.hooks.tick(self, when)
        for start in range(0, len(due), batch_size):
            outcomes.extend(
                self._engine.record_many(due[start : start + batch_size], allow_derived=True)
            )
        replayed = sum(1 for o in outcomes if o.replayed)
        decided = self._decide_overdue(when, batch_size)
        return TickReport(
            now=when,
            expired_points=expired,
            applied=len(outcomes) - replayed,
            replayed=replayed,
            outcomes=tuple(outcomes),
            decided_by_default=tuple(decided),
        )

    def verify_ledger(self) -> list[tuple[str, str, int, int]]:
        """Accounts whose stored balance differs from the sum of their entries.

        Returns ``(advocate, account, stored, from_entries)`` for each mismatch;
        an empty list means the derived balances agree with the ledger.
        """
        t, b, a = q.entries_t, q.balances_t, q.advocates_t
        with database.transaction(self.engine, write=False) as conn:
            sums = {
                (adv, acc): (int(total), int(earned or 0))
                for adv, acc, total, earned in conn.execute(
                    sa.select(
                        t.c.advocate_id,
                        t.c.account,
                        sa.func.sum(t.c.delta),
                        sa.func.sum(
                            sa.case((t.c.type.in_(("award", "reverse")), t.c.delta), else_=0)
                        ),
                    )
                    .where(t.c.program == self.name)
                    .group_by(t.c.advocate_id, t.c.account)
                )
            }
            stored = {
                (adv, acc): (int(balance), int(earned))
                for adv, acc, balance, earned in conn.execute(
                    sa.select(b.c.advocate_id, b.c.account, b.c.balance, b.c.earned).where(
                        b.c.program == self.name
                    )
                )
            }
            query = sa.select(a.c.id, a.c.external_id).where(a.c.program == self.name)
            names: dict[int, str] = dict(conn.execute(query).all())  # type: ignore[arg-type]
        problems = []
        for key in sorted(set(sums) | set(stored)):
            expected = sums.get(key, (0, 0))
            found = stored.get(key, (0, 0))
            if expected != found:
                problems.append((names.get(key[0], str(key[0])), key[1], found[0], expected[0]))
        return problems
