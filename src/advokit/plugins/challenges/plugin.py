"""The challenges plugin: steps counted, prizes paid once, periods closed by the tick."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit import (
    Action,
    Effect,
    EvaluationContext,
    Transaction,
    hookimpl,
)
from advokit.core import validation as v
from advokit.core.errors import InvalidValue, one_of
from advokit.core.model import derived_key
from advokit.core.registry import Register
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.driver import fetch, json_value
from advokit.plugins.challenges.model import (
    CHALLENGE_COMPLETED,
    CHALLENGE_JOINED,
    CHALLENGE_MISSED,
    KINDS,
    Challenge,
    ChallengeProgress,
    CloseChallenge,
    JoinChallenge,
    SetChallengeProgress,
    StepProgress,
)
from advokit.plugins.challenges.tables import enrolments_t, progress_t

__all__ = ["Challenges"]

_JOINED = ("challenges", "joined")

MIGRATIONS = Path(__file__).parent.parent / "migrations" / "challenges"

_PROGRESS = (
    "SELECT advocate_id, version, counts, completed_at, closed_at"
    f" FROM {progress_t.name} WHERE challenge = ? AND period = ? AND advocate_id IN (*)"
)


@attrs.frozen
class _State:
    version: int = 0
    counts: tuple[int, ...] = ()
    completed: bool = False
    closed: bool = False


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
        self.advokit_applies = (SetChallengeProgress, JoinChallenge, CloseChallenge)

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
    def advokit_apply_effect(
        self, tx: Transaction, effect: SetChallengeProgress | JoinChallenge | CloseChallenge
    ) -> bool | None:
        if effect.challenge not in self.challenges:
            return None  # another plugin's challenge, if any
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
    return {
        advocate_id: _State(
            version=version,
            counts=tuple(json_value(counts)),
            completed=completed_at is not None,
            closed=closed_at is not None,
        )
        for advocate_id, version, counts, completed_at, closed_at in fetch(
            conn, _PROGRESS, (challenge, period), ids
        )
    }
