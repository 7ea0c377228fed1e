"""The journeys plugin: runs each journey's steps for each advocate, exactly once.

Everything a journey does goes through the pipeline. The trigger's own
evaluation returns the effects of the steps up to the first wait (messages,
points, tags) and the advocate's new place in the journey, so they commit
with the trigger or not at all. A wait is resumed by ``program.tick()``,
which records a derived ``journey.resume`` action whose key names the run and
the step: a second tick, or a tick in another process, replays it instead of
running the steps again. An awaited action (a survey answer) moves the run
the same way, in its own transaction. The place is saved over the version it
was read at, so of a timeout and an answer arriving together only one moves
the run; the other finds it moved and does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import attrs
import sqlalchemy as sa

from advokit import Action, ActionKind, Effect, hookimpl
from advokit.core.context import EvaluationContext, Transaction
from advokit.core.errors import ConfigurationError, one_of
from advokit.core.model import derived_key
from advokit.core.registry import Register
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.types import utc
from advokit.plugins.journeys.steps import (
    Branch,
    Journey,
    Run,
    Send,
    Wait,
    WaitFor,
    decode,
    encode,
    walk,
)
from advokit.plugins.journeys.tables import runs_t

__all__ = ["MIGRATIONS", "RESUME", "JourneyState", "Journeys"]

MIGRATIONS = Path(__file__).parent.parent / "migrations" / "journeys"
RESUME = "journey.resume"
_STATE = ("journeys", "runs")
_WAITING, _DONE = "waiting", "done"

log = logging.getLogger("advokit.journeys")


@attrs.frozen(kw_only=True)
class JourneyState:
    """Where an advocate is in a journey: ``program.journeys(advocate)``."""

    journey: str
    run: int
    status: str  # "waiting" or "done"
    position: str | None  # the step waited at ("2/promoter/0"); None when done
    waiting_for: str | None  # the awaited action kind
    wake_at: datetime | None  # when the wait, or the awaited action's time limit, ends
    started_at: datetime
    updated_at: datetime
    trigger: Mapping[str, Any]
    answers: Mapping[str, Mapping[str, Any]]
    version: int = 0  # 0: not stored yet


@attrs.frozen(kw_only=True)
class SaveRun(Effect):
    """The advocate's new place in a journey (the plugin's own bookkeeping)."""

    recorded: ClassVar[bool] = False

    advocate: str
    state: JourneyState


class Journeys:
    """Run ``journeys``: ``Journeys(post_purchase, welcome, ...)``.

    Queries: ``program.journeys(advocate)`` lists where the advocate is in each.
    """

    plugin_name = "journeys"
    advokit_applies = (SaveRun,)

    def __init__(self, *journeys: Journey) -> None:
        names: set[str] = set()
        for journey in journeys:
            if not isinstance(journey, Journey):
                raise ConfigurationError("Journeys", journey, "Journey values")
            if journey.name in names:
                raise ConfigurationError("Journey.name", journey.name, "a name used once")
            names.add(journey.name)
        self.journeys = {journey.name: journey for journey in journeys}
        self._starts: dict[str, list[Journey]] = {}
        self._awaits: dict[str, list[Journey]] = {}
        for journey in journeys:
            self._starts.setdefault(journey.trigger, []).append(journey)
            for kind in _awaited(journey.steps):
                self._awaits.setdefault(kind, []).append(journey)
        self.advokit_evaluates = frozenset({*self._starts, *self._awaits, RESUME})

    def __repr__(self) -> str:
        return f"Journeys({', '.join(self.journeys)})"

    # -- registration

    @hookimpl
    def advokit_register_migrations(self, register: Register) -> None:
        register(MIGRATIONS, name="journeys")

    @hookimpl
    def advokit_register_action_kinds(self, register: Register) -> None:
        register(
            ActionKind(
                name=RESUME,
                required={"journey": str, "run": int, "position": str},
                description="Derived, by the tick: a journey's wait is over.",
                derived=True,
            )
        )

    @hookimpl
    def advokit_register_queries(self, register: Register) -> None:
        register(self.journey_states, name="journeys")

    @hookimpl
    def advokit_configure(self, program: Any) -> None:
        """A journey naming a kind or a channel the program lacks fails now, not at
        the first trigger."""
        kinds, channels = program.registries.action_kinds, program.registries.channels
        for journey in self.journeys.values():
            for kind in (journey.trigger, *_awaited(journey.steps)):
                if kind not in kinds:
                    raise ConfigurationError(
                        f"Journey {journey.name!r} action kind", kind, one_of(kinds)
                    )
            for step in walk(journey.steps):
                if isinstance(step, Send) and step.channel not in channels:
                    raise ConfigurationError(
                        f"Journey {journey.name!r} Send({step.template!r}).channel",
                        step.channel,
                        one_of(channels) if channels else "a channel (none is registered)",
                    )

    # -- deciding

    @hookimpl
    def advokit_evaluate(self, ctx: EvaluationContext, action: Action) -> list[Effect] | None:
        if action.kind == RESUME:
            return self._resume(ctx, action)
        states: dict[str, JourneyState] = self._states(ctx, action.advocate)
        effects: list[Effect] = []
        started = set()
        for journey in self._starts.get(action.kind, ()):
            state = states.get(journey.name)
            if state is not None and (state.status == _WAITING or not journey.reentry):
                continue
            advocate = ctx.view.advocate(action.advocate)
            if journey.when is not None and not journey.when(advocate, action):
                continue
            trigger = {"kind": action.kind, "key": action.key, "data": dict(action.data)}
            fresh = JourneyState(
                journey=journey.name,
                run=state.run + 1 if state else 1,
                status=_WAITING,
                position=None,
                waiting_for=None,
                wake_at=None,
                started_at=ctx.now,
                updated_at=ctx.now,
                trigger=trigger,
                answers={},
                version=state.version if state else 0,
            )
            effects += self._go(ctx, journey, (0,), fresh, action.advocate)
            started.add(journey.name)
        for journey in self._awaits.get(action.kind, ()):
            state = states.get(journey.name)
            if (
                journey.name in started
                or state is None
                or state.status != _WAITING
                or state.waiting_for != action.kind
            ):
                continue
            if state.wake_at is not None and ctx.now >= state.wake_at:
                continue  # too late: the tick runs the timeout steps
            found = self._waiting_at(journey, state)
            if found is None:  # the journey changed: the run ends
                effects += self._go(ctx, journey, None, state, action.advocate)
                continue
            path, step = found
            assert isinstance(step, WaitFor)
            if step.where is not None and not step.where(action):
                continue
            answered = attrs.evolve(
                state, answers={**state.answers, action.kind: dict(action.data)}
            )
            effects += self._go(ctx, journey, journey.after(path), answered, action.advocate)
        return effects or None

    def _resume(self, ctx: EvaluationContext, action: Action) -> list[Effect] | None:
        journey = self.journeys.get(action.data["journey"])
        if journey is None:  # removed from the program since: nothing to resume
            return None
        state = self._states(ctx, action.advocate).get(journey.name)
        if (
            state is None
            or state.status != _WAITING
            or state.run != action.data["run"]
            or state.position != action.data["position"]
        ):
            return None  # moved on meanwhile (answered, or resumed by another tick)
        found = self._waiting_at(journey, state)
        if found is None:  # the journey changed: the run ends
            return self._go(ctx, journey, None, state, action.advocate)
        path, step = found
        if isinstance(step, WaitFor):  # no answer in time: the timeout steps, then the end
            after = (*path, "timeout", 0) if step.timeout else None
            return self._go(ctx, journey, after, state, action.advocate)
        return self._go(ctx, journey, journey.after(path), state, action.advocate)

    def _go(
        self,
        ctx: EvaluationContext,
        journey: Journey,
        path: tuple[int | str, ...] | None,
        state: JourneyState,
        advocate: str,
    ) -> list[Effect]:
        """Run the steps from ``path`` up to the next wait or the end: their effects,
        and the advocate's new place last."""
        run = Run(
            journey=journey.name,
            advocate=ctx.view.advocate(advocate),
            trigger=state.trigger,
            answers=state.answers,
            now=ctx.now,
            number=state.run,
        )
        effects: list[Effect] = []
        moved = {"updated_at": ctx.now, "waiting_for": None, "wake_at": None}
        while path is not None:
            step = journey.step_at(path)
            if isinstance(step, Wait | WaitFor):
                wait = step.delay if isinstance(step, Wait) else step.within
                moved.update(
                    status=_WAITING,
                    position=encode(path),
                    waiting_for=step.kind if isinstance(step, WaitFor) else None,
                    wake_at=ctx.now + wait,
                )
                break
            if isinstance(step, Branch):
                name = step.decide(run)
                arm = name if isinstance(name, str) and name in step.arms else "otherwise"
                path = (*path, arm, 0) if step.paths[arm] else journey.after(path)
                continue
            effects += step.effects(run)
            path = journey.after(path)
        else:
            moved.update(status=_DONE, position=None)
        effects.append(SaveRun(advocate=advocate, state=attrs.evolve(state, **moved)))
        return effects

    def _waiting_at(
        self, journey: Journey, state: JourneyState
    ) -> tuple[tuple[int | str, ...], Wait | WaitFor] | None:
        """The place and step the run waits at, if the journey still has it there."""
        try:
            path = decode(state.position or "")
            step = journey.step_at(path)
        except (KeyError, ValueError):
            step = None
        if not isinstance(step, Wait | WaitFor) or (
            isinstance(step, WaitFor) and step.kind != state.waiting_for
        ):
            log.warning(
                "journey %r changed: no wait at %r any more; the run started by %s ends",
                journey.name,
                state.position,
                state.trigger.get("key"),
            )
            return None
        return path, step

    # -- state

    def _states(self, ctx: EvaluationContext, advocate: str) -> dict[str, JourneyState]:
        return ctx.view.memo(_STATE, advocate, _load) or {}  # type: ignore[no-any-return]

    @hookimpl
    def advokit_apply_effect(self, tx: Transaction, effect: Effect) -> bool | None:
        if not isinstance(effect, SaveRun):
            return None
        state = effect.state
        tx.save(
            runs_t,
            {"advocate_id": tx.view.advocate_id(effect.advocate), "journey": state.journey},
            {
                "program": tx.program.name,
                "run": state.run,
                "status": state.status,
                "position": state.position,
                "waiting_for": state.waiting_for,
                "wake_at": state.wake_at,
                "started_at": state.started_at,
                "updated_at": state.updated_at,
                "context": {"trigger": dict(state.trigger), "answers": dict(state.answers)},
            },
            read=state.version,
        )
        states = dict(self._states(tx, effect.advocate))  # type: ignore[arg-type]
        states[state.journey] = state
        tx.view.remember(_STATE, effect.advocate, states)
        return True

    # -- time

    @hookimpl
    def advokit_tick(self, program: Any, now: datetime) -> Iterable[Action]:
        r, a = runs_t, q.advocates_t
        with database.transaction(program.engine, write=False) as conn:
            rows = conn.execute(
                sa.select(a.c.external_id, r.c.journey, r.c.run, r.c.position, r.c.wake_at)
                .join(a, a.c.id == r.c.advocate_id)
                .where(
                    r.c.program == program.name,
                    sa.text("journeys_runs.status = 'waiting'"),  # the partial index's words
                    r.c.wake_at <= now,
                    r.c.journey.in_(list(self.journeys)),
                )
                .order_by(r.c.wake_at)
            ).all()
        return [
            Action(
                kind=RESUME,
                advocate=row.external_id,
                # the run and the step: a second tick replays it
                key=derived_key(f"journey:{row.journey}:{row.run}:{row.position}", row.external_id),
                occurred_at=utc(row.wake_at),
                data={"journey": row.journey, "run": row.run, "position": row.position},
            )
            for row in rows
        ]

    # -- reading

    def journey_states(self, program: Any, advocate: str) -> list[JourneyState]:
        """``program.journeys(advocate)``: where the advocate is in each journey."""
        with database.transaction(program.engine, write=False) as conn:
            row_id = q.advocate_row_id(conn, program.name, advocate)
            found = _load(conn, [row_id]).get(row_id, {})
        return [found[name] for name in sorted(found)]


def _load(conn: Any, ids: Sequence[int]) -> dict[int, dict[str, JourneyState]]:
    r = runs_t
    found: dict[int, dict[str, JourneyState]] = {}
    for row in conn.execute(sa.select(r).where(r.c.advocate_id.in_(list(ids)))):
        context = row.context or {}
        found.setdefault(row.advocate_id, {})[row.journey] = JourneyState(
            journey=row.journey,
            run=row.run,
            status=row.status,
            position=row.position,
            waiting_for=row.waiting_for,
            wake_at=utc(row.wake_at),
            started_at=utc(row.started_at),  # type: ignore[arg-type]
            updated_at=utc(row.updated_at),  # type: ignore[arg-type]
            trigger=context.get("trigger", {}),
            answers=context.get("answers", {}),
            version=row.version,
        )
    return found


def _awaited(steps: Sequence[Any]) -> set[str]:
    return {step.kind for step in walk(steps) if isinstance(step, WaitFor)}
