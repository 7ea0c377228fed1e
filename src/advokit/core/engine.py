"""The action pipeline.

::

    record(action) / record_many(actions)
      1 validate   kind registered, data fits the kind, key well formed   (before any write)
      2 begin      one write transaction for the whole batch (BEGIN IMMEDIATE on SQLite)
      3 resolve    advocates exist (one query)                              -> UnknownAdvocate
      4 dedupe     keys recorded before replay their first outcome; the same key with other
                   content is an IdempotencyConflict
      5 screen     advokit_screen: worst verdict wins (reject > hold > accept)
      6 evaluate   advokit_evaluate -> effects -> the program's policy chain, in list order
      7 apply      to in-memory ledger state, journaled per action; a failed guard
                   (insufficient balance) rejects that action alone; derived actions
                   (points.changed, plugin emits) are evaluated and applied in turn, to a
                   bounded depth
      8 flush      bulk INSERT ... ON CONFLICT DO NOTHING of the action rows: a key another
                   process recorded meanwhile makes the transaction retry (it then replays)
      9 commit     then advokit_after_commit with the new outcomes

Exactly once rests on the database: the unique ``(program, key)`` constraint is
what decides, the read in step 4 only saves work. Any exception from a plugin
rolls the whole transaction back and surfaces as a PluginError naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from advokit.core import codec, jsontext
from advokit.core.context import EvaluationContext, Transaction
from advokit.core.errors import (
    AdvokitError,
    DatabaseNotReady,
    DerivationTooDeep,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidValue,
    NotHeld,
    PluginError,
    Refused,
    UnknownActionKind,
    UnknownAdvocate,
)
from advokit.core.ledger import Work
from advokit.core.model import (
    DEFAULT_ACCOUNT,
    Action,
    AwardPoints,
    Decision,
    DeductPoints,
    Effect,
    HoldForReview,
    Outcome,
    ReversePoints,
    Status,
    Tag,
    derived_key,
    strictest_default,
)
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.view import View

if TYPE_CHECKING:
    from advokit.core.program import Program

__all__ = ["Engine"]

#: The derived action the engine emits when an action changed an account.
POINTS_CHANGED = "points.changed"


class _Stopped(Exception):
    """The action cannot apply now: held for review, or refused by a guard.

    Only that action is undone; the rest of the batch goes on.
    """

    def __init__(self, status: Status, reason: str, review_default: str | None = None) -> None:
        self.status = status
        self.reason = reason
        self.review_default = review_default


class Engine:
    """Records actions for one program."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.hooks = program.hooks
        self.kinds = program.registries.action_kinds

    # -- step 1

    def validate(self, actions: Iterable[Action], *, allow_derived: bool = False) -> list[Action]:
        prepared = []
        for action in actions:
            if not isinstance(action, Action):
                raise InvalidValue("action", action, "an advokit.Action")
            kind = self.kinds.get(action.kind)
            if kind is None:
                raise UnknownActionKind(action.kind, self._recordable_kinds())
            if kind.derived and not allow_derived:
                raise InvalidValue(
                    "action.kind",
                    action.kind,
                    "a kind that can be recorded; it is derived by the engine or a plugin",
                )
            kind.check(action.data)
            prepared.append(action)
        return prepared

    def _recordable_kinds(self) -> list[str]:
        return [name for name, kind in self.kinds.items().items() if not kind.derived]

    # -- steps 2 to 9

    def record_many(
        self, actions: Sequence[Action], *, allow_derived: bool = False
    ) -> list[Outcome]:
        actions = self.validate(actions, allow_derived=allow_derived)
        if not actions:
            return []
        program = self.program

        def attempt() -> tuple[list[Outcome], list[Outcome]]:
            with database.transaction(program.engine) as conn:
                return self._run(conn, actions)

        try:
            outcomes, new = database.retrying(attempt)
        except (UnknownAdvocate, IdempotencyConflict, DatabaseNotReady):
            raise  # bad input or no schema, found inside the transaction: nothing was written
        except Exception as error:
            self.hooks.on_record_error(program, actions, error)
            raise
        if new:
            self.hooks.after_commit(program, new)
        return outcomes

    def _run(self, conn: Any, actions: Sequence[Action]) -> tuple[list[Outcome], list[Outcome]]:
        program = self.program
        now = program.clock()
        # the default account's balances come with the ids: points.changed needs them
        ids, stored = q.advocates_and_balances(
            conn, program.name, {a.advocate for a in actions}, DEFAULT_ACCOUNT
        )
        for action in actions:
            if action.advocate not in ids:
                raise UnknownAdvocate(action.advocate, program.name)
        recorded = q.recorded_actions(conn, program.name, {a.key for a in actions})
        run = _Run(self, conn, ids, now, actions)
        work = run.work
        work.seed_balances(DEFAULT_ACCOUNT, ids.values(), stored)

        outcomes: list[Outcome] = []
        new: list[Outcome] = []
        seen: dict[str, tuple[str, Outcome]] = {}
        for action in actions:
            fingerprint, data_json = action._fingerprint_and_data()
            if action.key in recorded:
                row = recorded[action.key]
                if row.fingerprint != fingerprint:
                    raise IdempotencyConflict(action.key, program.name)
                outcomes.append(_replay(row))
                continue
            if action.key in seen:
                first_fingerprint, first = seen[action.key]
                if first_fingerprint != fingerprint:
                    raise IdempotencyConflict(action.key, program.name)
                outcomes.append(_as_replay(first))
                continue
            outcome = run.record(action)
            work.action_rows.append(
                {
                    "program": program.name,
                    "key": action.key,
                    "kind": action.kind,
                    "advocate_id": ids[action.advocate],
                    "occurred_at": action.occurred_at or now,
                    "recorded_at": now,
                    # JSON text (ACTION_JSON_COLUMNS): data as fingerprinted
                    "data": data_json,
                    "fingerprint": fingerprint,
                    "status": outcome.status.value,
                    "reasons": jsontext.array(outcome.reasons),
                    "effects": codec.effects_json(outcome.effects),
                    "review_default": outcome.review_default,
                }
            )
            seen[action.key] = (fingerprint, outcome)
            outcomes.append(outcome)
            new.append(outcome)

        if work.flush() != len(work.action_rows):
            # Another transaction recorded one of these keys after our read:
            # start again, and this time the read will see it and replay it.
            raise database.RetryTransaction
        return outcomes, new

    def review(self, action: Action, *, approve: bool, reviewer: str, note: str | None) -> Outcome:
        """Decide on a held action in one transaction: its effects, outcome and audit row.

        Approving evaluates and applies the action now (HoldForReview ignored);
        denying rejects it. A decision on an action that is no longer held
        (another reviewer was first) raises and writes nothing.
        """
        program = self.program

        def attempt() -> Outcome:
            with database.transaction(program.engine) as conn:
                now = program.clock()
                if approve:
                    ids = q.advocate_ids(conn, program.name, [action.advocate])
                    if action.advocate not in ids:
                        raise UnknownAdvocate(action.advocate, program.name)
                    run = _Run(self, conn, ids, now, [action])
                    outcome = run.apply(action, approved=True)
                    run.work.flush()
                else:
                    outcome = Outcome(
                        key=action.key,
                        kind=action.kind,
                        advocate=action.advocate,
                        status=Status.REJECTED,
                        reasons=(f"denied by {reviewer}",),
                    )
                if not q.decide_held(conn, program.name, action.key, outcome):
                    raise NotHeld(action.key)
                conn.execute(
                    q.reviews_t.insert(),
                    {
                        "program": program.name,
                        "action_key": action.key,
                        "decision": "approved" if approve else "denied",
                        "reviewer": reviewer,
                        "note": note,
                        "decided_at": now,
                    },
                )
                return outcome

        outcome = database.retrying(attempt)
        if approve:
            self.hooks.after_commit(program, [outcome])
        return outcome


def _replay(row: Any) -> Outcome:
    return Outcome(
        key=row.key,
        kind=row.kind,
        advocate=row.external_id,
        status=Status(row.status),
        effects=codec.decode_recorded(row.effects),
        reasons=tuple(row.reasons),
        replayed=True,
    )


def _as_replay(outcome: Outcome) -> Outcome:
    return attrs.evolve(outcome, replayed=True)


class _Run:
    """Screening, evaluation and application for the actions of one transaction."""

    def __init__(
        self,
        engine: Engine,
        conn: Any,
        ids: dict[str, int],
        now: datetime,
        actions: Sequence[Action],
    ) -> None:
        self.engine = engine
        self.work = Work(conn, engine.program.name, now, {})
        self.view = View(self.work, ids, actions)
        self.hooks = engine.hooks
        self.program = engine.program
        self.conn = conn
        self.now = now
        self.contexts = [EvaluationContext(self.program, now, self.view, 0)]
        # derived only when registered and some plugin evaluates it
        self.emit_points_changed = POINTS_CHANGED in engine.kinds and self.hooks.evaluates(
            POINTS_CHANGED
        )
        self.approved = False
        self.savepoint: Any = None  # opened by the first direct write of the action

    def connection(self) -> Any:
        """The connection, inside a savepoint for the action being applied."""
        if self.savepoint is None:
            self.savepoint = self.conn.begin_nested()
        return self.conn

    def context(self, depth: int) -> EvaluationContext:
        while len(self.contexts) <= depth:
            self.contexts.append(EvaluationContext(self.program, self.now, self.view, depth))
        return self.contexts[depth]

    def record(self, action: Action) -> Outcome:
        verdicts = [v for v in self.hooks.screen(self.contexts[0], action) if v is not None]
        if verdicts:
            worst = max(v.decision for v in verdicts)
            if worst is not Decision.ACCEPT:
                reasons = tuple(v.reason for v in verdicts if v.decision is worst)
                held = worst is Decision.HOLD
                return Outcome(
                    key=action.key,
                    kind=action.kind,
                    advocate=action.advocate,
                    status=Status.HELD if held else Status.REJECTED,
                    reasons=reasons,
                    review_default=strictest_default(
                        v.default for v in verdicts if v.decision is worst
                    )
                    if held
                    else None,
                )
        return self.apply(action, approved=False)

    def effects_for(self, action: Action, depth: int) -> tuple[Effect, ...]:
        ctx = self.context(depth)
        effects: list[Effect] = []
        for result in self.hooks.evaluate(ctx, action):
            if result is None:
                continue
            for effect in result:
                if not isinstance(effect, Effect):
                    raise InvalidValue("advokit_evaluate result", effect, "advokit.Effect values")
                effects.append(effect)
        for name, policy in self.program.policy_chain:
            try:
                effects = list(policy(ctx, action, tuple(effects)))
            except Exception as error:
                raise PluginError(name, "effect policy", error) from error
        return tuple(effects)

    def apply(self, action: Action, *, approved: bool) -> Outcome:
        self.approved = approved
        work = self.work
        checkpoint = work.checkpoint()
        self.savepoint = None
        try:
            effects = self.effects_for(action, 0)
        except Refused as refused:
            work.rollback(checkpoint)
            return self._refused(action, refused.reason)
        holds = [e for e in effects if isinstance(e, HoldForReview)]
        if holds:
            if not approved:
                return Outcome(
                    key=action.key,
                    kind=action.kind,
                    advocate=action.advocate,
                    status=Status.HELD,
                    reasons=tuple(h.reason for h in holds),
                    review_default=strictest_default(h.default for h in holds),
                )
            effects = tuple(e for e in effects if not isinstance(e, HoldForReview))
        try:
            level: list[Action] = [action]
            depth = 0
            while level:
                derived: list[Action] = []
                for source in level:
                    # a derived action is evaluated just before it applies, after its
                    # siblings: two badge.granted that a third badge counts read what
                    # the first one staged
                    source_effects = (
                        effects if source is action else self.effects_for(source, depth)
                    )
                    self._apply_effects(source, action.key, source_effects, derived)
                depth += 1
                if derived and depth > self.program.max_derivation_depth:
                    raise DerivationTooDeep(
                        f"action {action.key!r} still derived {derived[0].kind!r} at depth "
                        f"{depth}; max_derivation_depth is {self.program.max_derivation_depth}"
                    )
                level = derived
        except Refused as refused:  # a plugin refused it while deciding or applying
            work.rollback(checkpoint)
            if self.savepoint is not None:
                self.savepoint.rollback()
            return self._refused(action, refused.reason)
        except _Stopped as stop:
            work.rollback(checkpoint)
            if self.savepoint is not None:
                self.savepoint.rollback()
            return Outcome(
                key=action.key,
                kind=action.kind,
                advocate=action.advocate,
                status=stop.status,
                reasons=(stop.reason,),
                review_default=stop.review_default,
            )
        except BaseException:
            work.rollback(checkpoint)
            raise
        if self.savepoint is not None:
            self.savepoint.commit()
        work.keep(checkpoint)
        recorded = [e for e in effects if e.recorded]
        return Outcome(
            key=action.key,
            kind=action.kind,
            advocate=action.advocate,
            status=Status.APPLIED,
            effects=effects if len(recorded) == len(effects) else tuple(recorded),
        )

    @staticmethod
    def _refused(action: Action, reason: str) -> Outcome:
        return Outcome(
            key=action.key,
            kind=action.kind,
            advocate=action.advocate,
            status=Status.REJECTED,
            reasons=(reason,),
        )

    def _apply_effects(
        self,
        source: Action,
        root_key: str,
        effects: Sequence[Effect],
        derived: list[Action],
    ) -> None:
        if not effects:
            return
        work = self.work
        view = self.view
        effective_at = source.occurred_at or self.now
        changed: dict[tuple[int, str], int] = {}
        earned: dict[tuple[int, str], int] = {}  # awards less reversals: what leaderboards rank
        others = []
        for effect in effects:
            if not isinstance(effect, _CORE_TYPES):
                others.append(effect)  # a plugin's effect: one check, not five
            elif isinstance(effect, AwardPoints):
                row_id = view.advocate_id(effect.advocate)
                work.award(row_id, effect, root_key, effective_at)
                _add(changed, (row_id, effect.account), effect.points)
                _add(earned, (row_id, effect.account), effect.points)
            elif isinstance(effect, DeductPoints):
                row_id = view.advocate_id(effect.advocate)
                try:
                    work.deduct(row_id, effect, root_key, effective_at)
                except InsufficientBalance as error:
                    raise _Stopped(Status.REJECTED, f"insufficient_balance: {error}") from None
                _add(changed, (row_id, effect.account), -effect.points)
            elif isinstance(effect, ReversePoints):
                row_id = view.advocate_id(effect.advocate)
                taken = work.reverse(row_id, effect, root_key, effective_at)
                if taken:
                    _add(changed, (row_id, effect.account), -taken)
                    _add(earned, (row_id, effect.account), -taken)
            elif isinstance(effect, HoldForReview):
                if not self.approved:
                    raise _Stopped(Status.HELD, effect.reason, effect.default)
            elif isinstance(effect, Tag):
                work.tag(view.advocate_id(effect.advocate), effect.tag, root_key, effect.remove)
            else:
                others.append(effect)

        if others:

            def emit(action: Action) -> None:
                self.engine.validate([action], allow_derived=True)
                if self.hooks.evaluates(action.kind):  # else evaluating it would do nothing
                    derived.append(action)

            tx = Transaction(
                source, root_key, view, self.now, emit, self.program, work.staging, self.connection
            )
            for effect in others:
                if not self.hooks.apply_effect(tx, effect):
                    raise AdvokitError(
                        f"no plugin applies {type(effect).__name__} effects (from action "
                        f"{source.key!r}): install or enable the plugin that handles them"
                    )

        if self.emit_points_changed and changed:
            for (row_id, account), delta in changed.items():
                if not delta and not earned.get((row_id, account)):
                    continue
                external_id = view.external_id(row_id)
                derived.append(
                    Action._unchecked(
                        POINTS_CHANGED,
                        external_id,
                        derived_key(root_key, f"{POINTS_CHANGED}:{account}:{len(derived)}"),
                        source.occurred_at,
                        {
                            "account": account,
                            "delta": delta,
                            "balance": view.balance(external_id, account),
                            "cause": source.kind,
                            "earned": earned.get((row_id, account), 0),
                        },
                    )
                )


#: The effect types the engine applies itself (subclasses too).
_CORE_TYPES = (AwardPoints, DeductPoints, ReversePoints, HoldForReview, Tag)


def _add(totals: dict[tuple[int, str], int], key: tuple[int, str], delta: int) -> None:
    totals[key] = totals.get(key, 0) + delta
