"""Challenges: time-boxed goals of several steps, with a prize for finishing.

::

    from advokit.plugins.challenges import Challenge, Challenges, Step

    Challenges(
        Challenge(
            "june_push",
            steps=(Step("review.posted", 3), Step("share.posted", 1)),
            starts=datetime(2026, 6, 1, tzinfo=UTC),
            ends=datetime(2026, 7, 1, tzinfo=UTC),
            points=500,
            badge="june_champion",
        ),
        Challenge(
            "monthly_reviewer",
            steps=(Step("review.posted", 2),),
            every="month",
            timezone="Europe/Paris",
            points=100,
            enrolment=True,
        ),
    )

* A challenge runs once between ``starts`` and ``ends``, or ``every`` week or
  month (weeks from Monday, in the challenge's ``timezone``), optionally
  bounded by ``starts``/``ends``. Each run is a *period* (``"once"``,
  ``"2026-W23"``, ``"2026-06"``) with its own progress.
* Steps count actions of a kind that occurred inside the period; ``where``
  narrows them (``Step("purchase.completed", 1, where=lambda a:
  a.data.get("total_cents", 0) >= 2000)``).
* With ``enrolment=True`` only advocates who joined (the ``challenge.joined``
  action, see :func:`join`) take part, and only what they do after joining
  counts.
* Finishing every step applies the prize in the same transaction: ``points``
  (an :class:`~advokit.AwardPoints` with reason ``challenge.completed``),
  ``badge`` (a :class:`~advokit.GrantBadge`, applied by the badges plugin) and
  ``reward`` (an :class:`~advokit.IssueReward`, applied by a rewards plugin),
  and emits the derived action ``challenge.completed``. A period completes
  once per advocate, whatever the retries or concurrent processes.
* ``program.tick()`` closes periods that ended: each advocate who had started
  but not finished gets the derived action ``challenge.missed`` (a "so close"
  message, say); later actions no longer count toward that period.
* ``program.progress(advocate)`` lists the challenges running now with the
  advocate's progress on each step.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from advokit import (
    Action,
    ActionKind,
    AwardPoints,
    Effect,
    EvaluationContext,
    GrantBadge,
    IssueReward,
    Reward,
    Transaction,
    hookimpl,
)
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, InvalidValue, one_of
from advokit.core.model import derived_key
from advokit.core.registry import Register
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.types import UTCDateTime

__all__ = [
    "CHALLENGE_COMPLETED",
    "CHALLENGE_JOINED",
    "CHALLENGE_MISSED",
    "Challenge",
    "ChallengeProgress",
    "Challenges",
    "CloseChallenge",
    "JoinChallenge",
    "Period",
    "SetChallengeProgress",
    "Step",
    "StepProgress",
    "join",
]

CHALLENGE_JOINED = "challenge.joined"
CHALLENGE_COMPLETED = "challenge.completed"
CHALLENGE_MISSED = "challenge.missed"

_NAME = r"[a-z][a-z0-9_]{0,62}"
_JOINED = ("challenges", "joined")

MIGRATIONS = Path(__file__).parent / "migrations" / "challenges"

# --------------------------------------------------------------------------- tables

progress_t = sa.Table(
    "challenges_progress",
    SQLModel.metadata,
    sa.Column(
        "advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("challenge", sa.String(63), primary_key=True),
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("ends_at", UTCDateTime(), nullable=False),
    sa.Column("completed_at", UTCDateTime(), nullable=True),
    sa.Column("completed_by", sa.String(255), nullable=True),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    # what the tick looks for: periods that ended, neither completed nor closed
    sa.Index("ix_challenges_open", "program", "completed_at", "closed_at", "ends_at"),
)

enrolments_t = sa.Table(
    "challenges_enrolments",
    SQLModel.metadata,
    sa.Column(
        "advocate_id", sa.BigInteger, sa.ForeignKey("advokit_advocates.id"), primary_key=True
    ),
    sa.Column("challenge", sa.String(63), primary_key=True),
    sa.Column("program", sa.String(100), nullable=False),
    sa.Column("joined_at", UTCDateTime(), nullable=False),
    sa.Column("action_key", sa.String(255), nullable=False),
)


# --------------------------------------------------------------------------- definitions

_KIND = v.matches(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", "an action kind name")


@attrs.frozen
class Step:
    """``count`` actions of ``kind`` (those ``where`` accepts, if given)."""

    kind: str = attrs.field(validator=_KIND)
    count: int = attrs.field(default=1, validator=v.integer(minimum=1))
    where: Callable[[Action], bool] | None = attrs.field(default=None, kw_only=True)
    title: str = attrs.field(
        default=attrs.Factory(lambda self: f"{self.count} x {self.kind}", takes_self=True),
        kw_only=True,
    )

    def __attrs_post_init__(self) -> None:
        if self.where is not None and not callable(self.where):
            raise ConfigurationError("Step.where", self.where, "a function of the action, or None")

    def counts(self, action: Action) -> bool:
        return action.kind == self.kind and (self.where is None or bool(self.where(action)))


@attrs.frozen
class Period:
    """One run of a challenge, ``[starts, ends)``: ``id`` ``once``, ``2026-W23`` or ``2026-06``."""

    id: str
    starts: datetime
    ends: datetime


def _aware(field: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
            raise ConfigurationError(
                f"Challenge({instance.name!r}).{field}", value, "a timezone-aware datetime or None"
            )

    return check


@attrs.frozen
class Challenge:
    """A goal of several :class:`Step` values inside a time box.

    Args:
        name: the challenge's id (lower case).
        steps: what must be done, each step counted separately.
        starts, ends: the time box (aware datetimes, ``ends`` exclusive);
            required unless ``every`` is given, where they bound the runs.
        every: ``"week"`` or ``"month"``: run again each week or month.
        timezone: where weeks and months begin (IANA name, default UTC).
        enrolment: only advocates who joined take part.
        points, account: points awarded on completion.
        badge: a badge granted on completion (needs the badges plugin).
        reward: a reward owed on completion (needs a rewards plugin).
        title, description: what people read.
    """

    name: str = attrs.field(validator=v.matches(_NAME, "a lower-case challenge name"))
    steps: tuple[Step, ...] = attrs.field(converter=tuple)
    starts: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware("starts"))
    ends: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware("ends"))
    every: str | None = attrs.field(default=None, kw_only=True)
    timezone: str = attrs.field(default="UTC", kw_only=True)
    enrolment: bool = attrs.field(default=False, kw_only=True)
    points: int = attrs.field(default=0, kw_only=True)
    account: str = attrs.field(default="points", kw_only=True)
    badge: str | None = attrs.field(default=None, kw_only=True)
    reward: Reward | None = attrs.field(default=None, kw_only=True)
    title: str = attrs.field(
        default=attrs.Factory(
            lambda self: self.name.replace("_", " ").capitalize(), takes_self=True
        ),
        kw_only=True,
    )
    description: str = attrs.field(default="", kw_only=True)
    # the period of each local date met so far: every action asks for its own
    _periods: dict[date, Period] = attrs.field(
        factory=dict, init=False, eq=False, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        where = f"Challenge({self.name!r})"
        if not self.steps or not all(isinstance(s, Step) for s in self.steps):
            raise ConfigurationError(f"{where}.steps", self.steps, "one or more Step values")
        if self.every not in (None, "week", "month"):
            raise ConfigurationError(f"{where}.every", self.every, "None, 'week' or 'month'")
        if self.every is None and (self.starts is None or self.ends is None):
            missing = "starts" if self.starts is None else "ends"
            raise ConfigurationError(
                f"{where}.{missing}", None, "a timezone-aware datetime (or every='week'|'month')"
            )
        if self.starts is not None and self.ends is not None and self.ends <= self.starts:
            raise ConfigurationError(
                f"{where}.ends", self.ends, f"a time after starts ({self.starts.isoformat()})"
            )
        if not isinstance(self.timezone, str) or not v.is_zone(self.timezone):
            raise ConfigurationError(
                f"{where}.timezone", self.timezone, "an IANA time zone name such as 'Europe/Paris'"
            )
        if not isinstance(self.enrolment, bool):
            raise ConfigurationError(f"{where}.enrolment", self.enrolment, "True or False")
        if not v.is_int(self.points) or self.points < 0:
            raise ConfigurationError(f"{where}.points", self.points, "an integer of 0 or more")
        if not isinstance(self.account, str) or not self.account:
            raise ConfigurationError(f"{where}.account", self.account, "an account name")
        if self.badge is not None and not isinstance(self.badge, str):
            raise ConfigurationError(f"{where}.badge", self.badge, "a badge name or None")
        if self.reward is not None and not isinstance(self.reward, Reward):
            raise ConfigurationError(f"{where}.reward", self.reward, "a Reward or None")

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(step.kind for step in self.steps)

    def period_at(self, at: datetime) -> Period | None:
        """The run of the challenge that ``at`` falls in, or None outside every run."""
        if self.starts is not None and at < self.starts:
            return None
        if self.ends is not None and at >= self.ends:
            return None
        if self.every is None:  # starts and ends are both set (checked when built)
            return Period("once", self.starts, self.ends)  # type: ignore[arg-type]
        zone = zoneinfo.ZoneInfo(self.timezone)
        local = at.astimezone(zone).date()
        known = self._periods.get(local)
        if known is None:
            known = self._periods[local] = self._period_of(local, zone)
        return known

    def _period_of(self, local: date, zone: zoneinfo.ZoneInfo) -> Period:
        if self.every == "week":
            first = local - timedelta(days=local.weekday())
            after = first + timedelta(days=7)
            year, week, _ = first.isocalendar()
            name = f"{year}-W{week:02d}"
        else:
            first = local.replace(day=1)
            after = (first + timedelta(days=32)).replace(day=1)
            name = f"{first.year}-{first.month:02d}"
        starts, ends = _local_midnight(first, zone), _local_midnight(after, zone)
        if self.starts is not None:
            starts = max(starts, self.starts)
        if self.ends is not None:
            ends = min(ends, self.ends)
        return Period(name, starts, ends)

    def prize(self, advocate: str) -> list[Effect]:
        """The effects of completing the challenge."""
        prize: list[Effect] = []
        if self.points:
            prize.append(
                AwardPoints(
                    advocate=advocate,
                    points=self.points,
                    account=self.account,
                    reason=CHALLENGE_COMPLETED,
                    memo=f"challenge {self.name}",
                )
            )
        if self.badge is not None:
            prize.append(GrantBadge(advocate=advocate, badge=self.badge))
        if self.reward is not None:
            prize.append(IssueReward(advocate=advocate, reward=self.reward))
        return prize


def _local_midnight(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(zoneinfo.ZoneInfo("UTC"))


# --------------------------------------------------------------------------- effects and values


@attrs.frozen(kw_only=True)
class SetChallengeProgress(Effect):
    """Store an advocate's step counts for one period (``read``: the version decided from)."""

    advocate: str = attrs.field(validator=v.text())
    challenge: str = attrs.field(validator=v.text())
    period: str = attrs.field(validator=v.text())
    ends_at: datetime = attrs.field()
    counts: tuple[int, ...] = attrs.field(converter=tuple)
    completed: bool = False
    read: int = 0


@attrs.frozen(kw_only=True)
class JoinChallenge(Effect):
    """Enrol an advocate in a challenge (once; joining again changes nothing)."""

    advocate: str = attrs.field(validator=v.text())
    challenge: str = attrs.field(validator=v.text())


@attrs.frozen(kw_only=True)
class CloseChallenge(Effect):
    """Close an advocate's unfinished period: later actions no longer count."""

    advocate: str = attrs.field(validator=v.text())
    challenge: str = attrs.field(validator=v.text())
    period: str = attrs.field(validator=v.text())


@attrs.frozen(kw_only=True)
class StepProgress:
    step: Step
    done: int

    @property
    def complete(self) -> bool:
        return self.done >= self.step.count


@attrs.frozen(kw_only=True)
class ChallengeProgress:
    """A running challenge as ``program.progress(advocate)`` shows it."""

    challenge: Challenge
    period: Period
    enrolled: bool
    steps: tuple[StepProgress, ...]
    completed_at: datetime | None

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


@attrs.frozen
class _State:
    version: int = 0
    counts: tuple[int, ...] = ()
    completed: bool = False
    closed: bool = False


def join(advocate: str, challenge: str, *, key: str) -> Action:
    """The action that enrols ``advocate`` in ``challenge`` (record it)."""
    return Action(kind=CHALLENGE_JOINED, advocate=advocate, key=key, data={"challenge": challenge})


KINDS = (
    ActionKind(
        name=CHALLENGE_JOINED,
        required={"challenge": str},
        description="An advocate joined a challenge that needs enrolment.",
    ),
    ActionKind(
        name=CHALLENGE_COMPLETED,
        required={"challenge": str, "period": str},
        description="Derived: an advocate finished every step of a challenge's period.",
        derived=True,
    ),
    ActionKind(
        name=CHALLENGE_MISSED,
        required={"challenge": str, "period": str, "steps_done": int, "steps": int},
        description="Derived, by the tick: a challenge's period ended before the advocate "
        "finished it.",
        derived=True,
    ),
)


# --------------------------------------------------------------------------- the plugin


class Challenges:
    """The challenges plugin: ``Challenges(Challenge(...), ...)``."""

    plugin_name = "challenges"

    def __init__(self, *challenges: Challenge) -> None:
        self.challenges = v.by_name("Challenges(challenges)", challenges, Challenge)
        self.by_kind: dict[str, list[Challenge]] = {}
        for challenge in challenges:
            for kind in challenge.kinds:
                self.by_kind.setdefault(kind, []).append(challenge)
        self.advokit_evaluates = frozenset({*self.by_kind, CHALLENGE_JOINED, CHALLENGE_MISSED})

    def __repr__(self) -> str:
        return f"Challenges({', '.join(self.challenges)})"

    # -- registration

    @hookimpl
    def advokit_register_action_kinds(self, register: Register) -> None:
        for kind in KINDS:
            register(kind)

    @hookimpl
    def advokit_register_migrations(self, register: Register) -> None:
        register(MIGRATIONS, name="challenges")

    @hookimpl
    def advokit_register_queries(self, register: Register) -> None:
        register(self.progress, name="progress")

    @hookimpl
    def advokit_configure(self, program: Any) -> None:
        v.known_kinds(program, self.by_kind, lambda c: f"Challenge({c.name!r}).steps.kind")

    # -- deciding

    @hookimpl
    def advokit_evaluate(self, ctx: EvaluationContext, action: Action) -> list[Effect] | None:
        if action.kind == CHALLENGE_JOINED:
            name = action.data["challenge"]
            if name not in self.challenges:
                raise InvalidValue(
                    "challenge.joined data['challenge']", name, one_of(self.challenges)
                )
            return [JoinChallenge(advocate=action.advocate, challenge=name)]
        if action.kind == CHALLENGE_MISSED:
            return [
                CloseChallenge(
                    advocate=action.advocate,
                    challenge=action.data["challenge"],
                    period=action.data["period"],
                )
            ]
        view, advocate = ctx.view, action.advocate
        at = action.occurred_at or ctx.now
        effects: list[Effect] = []
        for challenge in self.by_kind.get(action.kind, ()):
            period = challenge.period_at(at)
            if period is None:
                continue
            if challenge.enrolment:
                joined = view.memo(_JOINED, advocate, _load_enrolments) or {}
                if challenge.name not in joined or joined[challenge.name] > at:
                    continue
            state = _progress(view, advocate, challenge.name, period.id) or _State(
                counts=(0,) * len(challenge.steps)
            )
            if state.completed or state.closed:
                continue
            counts = list(_fit(state.counts, len(challenge.steps)))
            for i, step in enumerate(challenge.steps):
                if counts[i] < step.count and step.counts(action):
                    counts[i] += 1
            if counts == list(_fit(state.counts, len(challenge.steps))):
                continue
            completed = all(n >= s.count for n, s in zip(counts, challenge.steps, strict=True))
            effects.append(
                SetChallengeProgress(
                    advocate=advocate,
                    challenge=challenge.name,
                    period=period.id,
                    ends_at=period.ends,
                    counts=counts,
                    completed=completed,
                    read=state.version,
                )
            )
            if completed:
                effects.extend(challenge.prize(advocate))
        return effects

    # -- applying

    @hookimpl
    def advokit_apply_effect(self, tx: Transaction, effect: Effect) -> bool | None:
        if isinstance(effect, SetChallengeProgress):
            self._save_progress(tx, effect)
        elif isinstance(effect, JoinChallenge):
            self._join(tx, effect)
        elif isinstance(effect, CloseChallenge):
            self._close(tx, effect)
        else:
            return None
        return True

    def _join(self, tx: Transaction, effect: JoinChallenge) -> None:
        joined = tx.view.memo(_JOINED, effect.advocate, _load_enrolments) or {}
        if effect.challenge in joined:
            return  # joined already: the first time counts
        when = tx.action.occurred_at or tx.now
        tx.insert(
            enrolments_t,
            {
                "advocate_id": tx.view.advocate_id(effect.advocate),
                "challenge": effect.challenge,
                "program": tx.program.name,
                "joined_at": when,
                "action_key": tx.root_key,
            },
            unique=("advocate_id", "challenge"),
        )
        tx.view.remember(_JOINED, effect.advocate, {**joined, effect.challenge: when})

    def _close(self, tx: Transaction, effect: CloseChallenge) -> None:
        state = _progress(tx.view, effect.advocate, effect.challenge, effect.period)
        if state is None or state.completed or state.closed:
            return  # nothing stored, or finished meanwhile
        tx.save(
            progress_t,
            _key(tx, effect.advocate, effect.challenge, effect.period),
            {"closed_at": tx.now},
            read=state.version,
        )
        _remember(
            tx, effect.advocate, effect.challenge, effect.period, attrs.evolve(state, closed=True)
        )

    def _save_progress(self, tx: Transaction, effect: SetChallengeProgress) -> None:
        when = tx.action.occurred_at or tx.now
        tx.save(
            progress_t,
            _key(tx, effect.advocate, effect.challenge, effect.period),
            {
                "program": tx.program.name,
                "counts": list(effect.counts),
                "ends_at": effect.ends_at,
                "completed_at": when if effect.completed else None,
                "completed_by": tx.root_key if effect.completed else None,
            },
            read=effect.read,
        )
        state = _State(
            version=effect.read,  # the stored version, until the batch is written
            counts=tuple(effect.counts),
            completed=effect.completed,
        )
        _remember(tx, effect.advocate, effect.challenge, effect.period, state)
        if effect.completed:
            tx.emit(
                Action(
                    kind=CHALLENGE_COMPLETED,
                    advocate=effect.advocate,
                    key=derived_key(
                        tx.root_key, f"{CHALLENGE_COMPLETED}:{effect.challenge}:{effect.period}"
                    ),
                    occurred_at=tx.action.occurred_at,
                    data={"challenge": effect.challenge, "period": effect.period},
                )
            )

    # -- time

    @hookimpl
    def advokit_tick(self, program: Any, now: datetime) -> Iterable[Action]:
        """``challenge.missed`` for every unfinished period that has ended."""
        t, a = progress_t, q.advocates_t
        query = (
            sa.select(a.c.external_id, t.c.challenge, t.c.period, t.c.counts)
            .join(a, a.c.id == t.c.advocate_id)
            .where(
                t.c.program == program.name,
                t.c.completed_at.is_(None),
                t.c.closed_at.is_(None),
                t.c.ends_at <= now,
                t.c.challenge.in_(sorted(self.challenges)),
            )
            .order_by(t.c.advocate_id, t.c.challenge, t.c.period)
        )
        with database.transaction(program.engine, write=False) as conn:
            rows = conn.execute(query).all()
        due = []
        for external_id, name, period, counts in rows:
            steps = self.challenges[name].steps
            due.append(
                Action(
                    kind=CHALLENGE_MISSED,
                    advocate=external_id,
                    key=derived_key(f"{CHALLENGE_MISSED}:{name}:{period}", external_id),
                    occurred_at=now,
                    data={
                        "challenge": name,
                        "period": period,
                        "steps_done": sum(
                            1
                            for n, s in zip(_fit(counts, len(steps)), steps, strict=True)
                            if n >= s.count
                        ),
                        "steps": len(steps),
                    },
                )
            )
        return due

    # -- queries

    def progress(self, program: Any, advocate: str) -> list[ChallengeProgress]:
        """``program.progress(advocate)``: the challenges running now, with progress."""
        now = program.clock()
        running = [(c, p) for c in self.challenges.values() if (p := c.period_at(now)) is not None]
        t = progress_t
        with database.transaction(program.engine, write=False) as conn:
            row_id = q.advocate_row_id(conn, program.name, advocate)
            joined = _load_enrolments(conn, [row_id]).get(row_id, {})
            rows = (
                {
                    (r.challenge, r.period): r
                    for r in conn.execute(
                        sa.select(t.c.challenge, t.c.period, t.c.counts, t.c.completed_at).where(
                            t.c.advocate_id == row_id,
                            sa.tuple_(t.c.challenge, t.c.period).in_(
                                [(c.name, p.id) for c, p in running]
                            ),
                        )
                    )
                }
                if running
                else {}
            )
        shown = []
        for challenge, period in running:
            row = rows.get((challenge.name, period.id))
            counts = _fit(row.counts if row else (), len(challenge.steps))
            shown.append(
                ChallengeProgress(
                    challenge=challenge,
                    period=period,
                    enrolled=not challenge.enrolment or challenge.name in joined,
                    steps=tuple(
                        StepProgress(step=s, done=n)
                        for s, n in zip(challenge.steps, counts, strict=True)
                    ),
                    completed_at=row.completed_at if row else None,
                )
            )
        return shown


# --------------------------------------------------------------------------- reads


def _fit(counts: Sequence[int], steps: int) -> tuple[int, ...]:
    """Stored counts fitted to the challenge's steps (a deploy may have added or removed some)."""
    return (tuple(counts) + (0,) * steps)[:steps]


def _load_enrolments(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, datetime]]:
    t = enrolments_t
    found: dict[int, dict[str, datetime]] = {}
    for part in q.chunks(ids):
        query = sa.select(t.c.advocate_id, t.c.challenge, t.c.joined_at).where(
            t.c.advocate_id.in_(part)
        )
        for advocate_id, challenge, joined_at in conn.execute(query):
            found.setdefault(advocate_id, {})[challenge] = joined_at
    return found


def _key(tx: Transaction, advocate: str, challenge: str, period: str) -> dict[str, Any]:
    return {"advocate_id": tx.view.advocate_id(advocate), "challenge": challenge, "period": period}


def _progress(view: Any, advocate: str, challenge: str, period: str) -> _State | None:
    """An advocate's progress in one period of a challenge (None: not started)."""
    shape = ("challenges", "progress", challenge, period)
    return view.memo(  # type: ignore[no-any-return]
        shape, advocate, lambda conn, ids: _load_progress(conn, ids, challenge, period)
    )


def _remember(tx: Transaction, advocate: str, challenge: str, period: str, state: _State) -> None:
    tx.view.remember(("challenges", "progress", challenge, period), advocate, state)


def _load_progress(
    conn: Connection, ids: Sequence[int], challenge: str, period: str
) -> dict[int, _State]:
    t = progress_t
    found: dict[int, _State] = {}
    for part in q.chunks(ids):
        # flags computed by the database: no datetime to convert per row
        query = sa.select(
            t.c.advocate_id,
            t.c.version,
            t.c.counts,
            t.c.completed_at.is_not(None),
            t.c.closed_at.is_not(None),
        ).where(t.c.advocate_id.in_(part), t.c.challenge == challenge, t.c.period == period)
        for advocate_id, version, counts, completed, closed in conn.execute(query):
            found[advocate_id] = _State(
                version=version,
                counts=tuple(counts),
                completed=bool(completed),
                closed=bool(closed),
            )
    return found
