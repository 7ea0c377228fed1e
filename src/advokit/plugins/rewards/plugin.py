"""The rewards plugin: rewards owed, redeemed from a catalogue, approved by a person."""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit import (
    Action,
    DeductPoints,
    Effect,
    EvaluationContext,
    IssueReward,
    Outcome,
    ReverseRewards,
    Reward,
    Transaction,
    Verdict,
    hookimpl,
)
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, InvalidValue, Refused, one_of
from advokit.core.model import derived_key
from advokit.core.periods import calendar_period
from advokit.core.registry import Register
from advokit.core.retries import KeptThreads
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.driver import dialect_insert
from advokit.plugins.rewards.coupons import coupons_left, load_coupons
from advokit.plugins.rewards.fulfilment import Fulfilment, FulfilmentReport, reverses
from advokit.plugins.rewards.model import (
    KINDS,
    MOVES,
    REWARD_REDEEMED,
    Budget,
    CatalogueItem,
    IssuedReward,
    RewardState,
    Transition,
)
from advokit.plugins.rewards.rows import ADVOKIT, issued_rewards, move_row, transition
from advokit.plugins.rewards.tables import counts_t, rewards_t, transitions_t
from advokit.plugins.rewards.worker import fulfil_pending

__all__ = ["MIGRATIONS", "Rewards"]

MIGRATIONS = Path(__file__).parent.parent / "migrations" / "rewards"

_ISSUED = ("rewards", "issued by")  # rewards issued so far by one recorded action
_COUNT = ("rewards", "count")  # (version, redeemed) of an item, in all or per advocate
_ALL = 0  # the advocate id of an item's count in all
_UTC = zoneinfo.ZoneInfo("UTC")  # budgets' periods


class Rewards:
    """The rewards plugin: applies ``IssueReward`` and runs the catalogue.

    Args:
        catalogue: the items advocates may redeem points for.
        approve_above: a reward of a larger ``amount`` waits for a person.
        approve_kinds: rewards of these kinds always wait for a person.
        untrusted_tag: the rewards of advocates with this tag wait for a person.
        budgets: limits per period; a reward past one waits for a person.
        fulfilment: retries, backoff, lease and batch of ``fulfil_pending``.
    """

    plugin_name = "rewards"
    advokit_screens = frozenset({REWARD_REDEEMED})
    advokit_evaluates = frozenset({REWARD_REDEEMED})
    advokit_applies = (IssueReward, ReverseRewards)

    def __init__(
        self,
        *catalogue: CatalogueItem,
        approve_above: int | None = None,
        approve_kinds: Iterable[str] = (),
        untrusted_tag: str = "untrusted",
        budgets: Iterable[Budget] = (),
        fulfilment: Fulfilment | None = None,
    ) -> None:
        items: dict[str, CatalogueItem] = {}
        for item in catalogue:
            if not isinstance(item, CatalogueItem):
                raise ConfigurationError("Rewards.catalogue", item, "CatalogueItem values")
            if item.name in items:
                raise ConfigurationError("Rewards.catalogue", item.name, "one item per name")
            items[item.name] = item
        if approve_above is not None and not (v.is_int(approve_above) and approve_above >= 0):
            raise ConfigurationError("Rewards.approve_above", approve_above, "None or 0 or more")
        if isinstance(approve_kinds, str) or not all(isinstance(k, str) for k in approve_kinds):
            raise ConfigurationError("Rewards.approve_kinds", approve_kinds, "a list of kinds")
        if not isinstance(untrusted_tag, str) or not untrusted_tag:
            raise ConfigurationError("Rewards.untrusted_tag", untrusted_tag, "a tag")
        self.budgets = tuple(budgets)
        for budget in self.budgets:
            if not isinstance(budget, Budget):
                raise ConfigurationError("Rewards.budgets", budget, "Budget values")
        if len({b.name for b in self.budgets}) != len(self.budgets):
            raise ConfigurationError(
                "Rewards.budgets", [b.name for b in self.budgets], "one name each"
            )
        if fulfilment is not None and not isinstance(fulfilment, Fulfilment):
            raise ConfigurationError("Rewards.fulfilment", fulfilment, "a Fulfilment or None")
        self.fulfilment = fulfilment or Fulfilment()
        self._threads = KeptThreads(self.fulfilment.concurrency, "advokit-fulfil")
        self.items = items
        self.approve_above = approve_above
        self.approve_kinds = frozenset(approve_kinds)
        self.untrusted_tag = untrusted_tag

    def __repr__(self) -> str:
        return f"Rewards({', '.join(self.items) or 'no catalogue'})"

    # -- registration

    @hookimpl
    def advokit_register_action_kinds(self, register: Register) -> None:
        for kind in KINDS:
            register(kind)

    @hookimpl
    def advokit_register_migrations(self, register: Register) -> None:
        register(MIGRATIONS, name="rewards")

    @hookimpl
    def advokit_register_queries(self, register: Register) -> None:
        register(self.redeem, name="redeem")
        register(self.catalogue, name="catalogue")
        register(self.reward, name="reward")
        register(self.rewards, name="rewards")
        register(self.reward_history, name="reward_history")
        register(self.dead_letters, name="dead_letters")
        register(self.approve_reward, name="approve_reward")
        register(self.cancel_reward, name="cancel_reward")
        register(self.complete_reward, name="complete_reward")
        register(self.fail_reward, name="fail_reward")
        register(self.retry_reward, name="retry_reward")
        register(self.fulfil_pending, name="fulfil_pending")
        register(load_coupons, name="load_coupons")
        register(coupons_left, name="coupons_left")

    @hookimpl
    def advokit_register_workers(self, register: Register) -> None:
        register(self._work, name="fulfilment")

    @hookimpl
    def advokit_register_commands(self, register: Register) -> None:
        from advokit.plugins.rewards.commands import rewards_group  # click: the CLI's alone

        register(rewards_group)

    # -- redeeming

    def redeem(self, program: Any, advocate: str, item: str, *, key: str) -> Outcome:
        """``program.redeem(advocate, item, key=...)``: points for a catalogue item.

        Records a ``reward.redeemed`` action: the points are debited and the
        reward issued in one transaction, or the outcome is ``rejected`` with
        the reason (``insufficient_balance``, ``reward.out_of_stock``,
        ``reward.limit_reached``, ``reward.unavailable``,
        ``reward.not_eligible``). The same ``key`` again replays the first
        outcome: a retried request never redeems twice.
        """
        if item not in self.items:
            raise InvalidValue("item", item, one_of(self.items) if self.items else "no item")
        action = Action(kind=REWARD_REDEEMED, advocate=advocate, key=key, data={"item": item})
        return program.record(action)  # type: ignore[no-any-return]

    def catalogue(self, program: Any) -> list[CatalogueItem]:
        """``program.catalogue()``: the items, in the order the program lists them."""
        return list(self.items.values())

    @hookimpl
    def advokit_screen(self, ctx: EvaluationContext, action: Action) -> Verdict | None:
        refusal = self._refusal(ctx, action)
        return None if refusal is None else Verdict.reject(refusal)

    @hookimpl
    def advokit_evaluate(self, ctx: EvaluationContext, action: Action) -> list[Effect] | None:
        # again: a redemption held by another plugin is approved later, maybe sold out by then
        refusal = self._refusal(ctx, action)
        if refusal is not None:
            raise Refused(refusal)
        item = self.items[action.data["item"]]
        return [
            DeductPoints(
                advocate=action.advocate, points=item.cost, reason=REWARD_REDEEMED, memo=item.name
            ),
            IssueReward(advocate=action.advocate, reward=item.reward, item=item.name),
        ]

    def _refusal(self, ctx: EvaluationContext, action: Action) -> str | None:
        """Why the redemption cannot be, as of now (the recording time), or None."""
        item = self.items.get(action.data["item"])
        if item is None:
            return "reward.unknown_item"
        now = ctx.now  # not occurred_at: a back-dated redemption must not reopen a window
        if (item.available_from is not None and now < item.available_from) or (
            item.available_until is not None and now >= item.available_until
        ):
            return "reward.unavailable"
        advocate = action.advocate
        if item.tags and not item.tags & ctx.view.tags(advocate):
            return "reward.not_eligible"
        if item.eligible is not None and not item.eligible(ctx, advocate):
            return "reward.not_eligible"
        program = ctx.program.name
        stock = item.stock
        if stock is not None and self._count(ctx.view, program, item.name, _ALL)[1] >= stock:
            return "reward.out_of_stock"
        if item.per_advocate is not None:
            mine = self._count(ctx.view, program, item.name, ctx.view.advocate_id(advocate))[1]
            if mine >= item.per_advocate:
                return "reward.limit_reached"
        return None

    def _count(self, view: Any, program: str, item: str, advocate_id: int) -> tuple[int, int, int]:
        """(row version, issued, amount) of ``item``, in all (``_ALL``) or by one advocate."""
        return view.lookup(  # type: ignore[no-any-return]
            _COUNT, (item, advocate_id), lambda conn, key: _load_count(conn, program, *key)
        )

    def _add(self, tx: Transaction, item: str, advocate_id: int, amount: int) -> None:
        """Count one more reward of ``amount`` for ``item`` (or a budget's period)."""
        program = tx.program.name
        version, issued, total = self._count(tx.view, program, item, advocate_id)
        tx.save(
            counts_t,
            {"program": program, "item": item, "advocate_id": advocate_id},
            {"issued": issued + 1, "amount": total + amount},
            read=version,  # counted meanwhile by another transaction: run again
        )
        tx.view.remember_lookup(_COUNT, (item, advocate_id), (version, issued + 1, total + amount))

    # -- issuing

    @hookimpl
    def advokit_apply_effect(self, tx: Transaction, effect: IssueReward | ReverseRewards) -> bool:
        if isinstance(effect, ReverseRewards):
            self._reverse(tx, effect)
            return True
        view, now, program = tx.view, tx.now, tx.program.name
        advocate_id = view.advocate_id(effect.advocate)
        # the key: the recorded action and this reward's place among the ones it issued
        issued = view.lookup(_ISSUED, tx.root_key, lambda conn, key: 0)
        view.remember_lookup(_ISSUED, tx.root_key, issued + 1)
        key = derived_key(tx.root_key, f"reward:{issued}")
        reward = effect.reward
        waits = self._waits(view, effect)
        budgets = self._budgets(tx, effect, advocate_id)
        if waits is None:
            waits = self._over_budget(tx, budgets, reward.amount)
            if waits is None:  # let through: the budgets count it
                for _, counter, counted in budgets:
                    self._add(tx, counter, counted, reward.amount)
        tx.insert(
            rewards_t,
            {
                "program": program,
                "key": key,
                "advocate_id": advocate_id,
                "kind": reward.kind,
                "amount": reward.amount,
                "currency": reward.currency,
                "description": reward.description,
                "data": dict(reward.data),
                "item": effect.item,
                "cause": tx.root_key,
                "state": (RewardState.PENDING_APPROVAL if waits else RewardState.APPROVED).value,
                "created_at": now,
                "updated_at": now,
                "attempts": 0,
                "next_attempt_at": None,
                "claimed_until": None,
                "result": None,
                "error": None,
                "reversal": None,
            },
            unique=("program", "key"),
        )
        moves = [(None, RewardState.REQUESTED, f"issued by {tx.action.kind}")]
        if waits:
            moves.append((RewardState.REQUESTED, RewardState.PENDING_APPROVAL, waits))
        else:
            moves.append((RewardState.REQUESTED, RewardState.APPROVED, "no approval needed"))
        for before, after, reason in moves:
            tx.insert(transitions_t, transition(program, key, before, after, now, ADVOKIT, reason))
        item = None if effect.item is None else self.items.get(effect.item)
        if item is not None:  # only what a limit needs: one row for all is a hot row
            if item.stock is not None:
                self._add(tx, item.name, _ALL, reward.amount)
            if item.per_advocate is not None:
                self._add(tx, item.name, advocate_id, reward.amount)
        return True

    def _reverse(self, tx: Transaction, effect: ReverseRewards) -> None:
        """Cancel what ``effect.cause`` issued and is not fulfilled; reverse what is,
        making the fulfiller's reverse operation due where it has one.

        Rare (a refund after a reward), so written straight through the
        connection rather than staged. Rewards the cause issued earlier in the
        same batch are not in the database yet and are left alone.
        """
        conn, program, now = tx.connection, tx.program.name, tx.now
        fulfillers = tx.program.registries.fulfillers
        r = rewards_t
        rows = conn.execute(
            sa.select(r.c.key, r.c.kind, r.c.state, r.c.claimed_until).where(
                r.c.program == program, r.c.cause == effect.cause
            )
        ).all()
        for key, kind, state, claimed_until in rows:
            before = RewardState(state)
            if before is RewardState.FULFILLED:
                # paid: reversed, and undone by its fulfiller after commit where it can
                undo = reverses(fulfillers.get(kind))
                due = {"next_attempt_at": now, "attempts": 0} if undo else {}
                after, reason = RewardState.REVERSED, effect.reason
                move_row(
                    conn, program, key, before, after, now, ADVOKIT, reason, reversal=reason, **due
                )
            elif before is RewardState.FULFILLING and claimed_until is not None:
                # a worker is calling its fulfiller: the outcome decides, when it is settled
                reason = f"reversal asked while fulfilling: {effect.reason}"[:500]
                move_row(conn, program, key, before, before, now, ADVOKIT, reason, reversal=reason)
            elif RewardState.CANCELED in MOVES[before]:
                # not paid (a person's, AwaitPerson, too: not sent yet)
                after, reason = RewardState.CANCELED, effect.reason
                move_row(conn, program, key, before, after, now, ADVOKIT, reason)
            # else canceled or reversed already

    def _budgets(
        self, tx: Transaction, effect: IssueReward, advocate_id: int
    ) -> list[tuple[Budget, str, int]]:
        """Each budget covering the reward, with its counter this period and advocate id."""
        return self._budget_counters(effect.reward, tx.now, advocate_id)

    def _budget_counters(
        self, reward: Reward, when: datetime, advocate_id: int
    ) -> list[tuple[Budget, str, int]]:
        # the recording time, not occurred_at: back-dating must not reach a closed period
        found = []
        for budget in self.budgets:
            if budget.covers(reward):
                start, _ = calendar_period(when, _UTC, budget.per)
                counter = f"budget:{budget.name}:{budget.per}:{start:%Y-%m-%d}"
                found.append((budget, counter, advocate_id if budget.per_advocate else _ALL))
        return found

    def _over_budget(
        self, tx: Transaction, budgets: list[tuple[Budget, str, int]], amount: int
    ) -> str | None:
        """Why the reward would take a budget past its limit, or None."""
        program = tx.program.name
        for budget, counter, counted in budgets:
            _, issued, total = self._count(tx.view, program, counter, counted)
            if budget.count is not None and issued + 1 > budget.count:
                return f"budget {budget.name}: {issued} of {budget.count} rewards this {budget.per}"
            if budget.amount is not None and total + amount > budget.amount:
                return (
                    f"budget {budget.name}: {total} + {amount} > {budget.amount} this {budget.per}"
                )
        return None

    def _waits(self, view: Any, effect: IssueReward) -> str | None:
        """Why the reward waits for a person, or None."""
        reward = effect.reward
        if reward.kind in self.approve_kinds:
            return f"{reward.kind} rewards are approved by a person"
        if self.approve_above is not None and reward.amount > self.approve_above:
            return f"amount {reward.amount} > {self.approve_above}"
        if self.untrusted_tag in view.tags(effect.advocate):
            return f"{effect.advocate!r} is {self.untrusted_tag}"
        return None

    # -- reading and deciding

    def reward(self, program: Any, key: str) -> IssuedReward | None:
        """``program.reward(key)``: one reward by its key (None: no such reward)."""
        with database.transaction(program.engine, write=False) as conn:
            found = issued_rewards(conn, program.name, rewards_t.c.key == key)
        return found[0] if found else None

    def rewards(
        self,
        program: Any,
        advocate: str | None = None,
        *,
        states: Collection[RewardState | str] | None = None,
        limit: int | None = None,
    ) -> list[IssuedReward]:
        """``program.rewards(advocate)``: the advocate's rewards, oldest first.

        Without an advocate, every advocate's: ``program.rewards(
        states=["pending_approval"])`` is the approval queue. ``limit``: the
        oldest ``limit`` only.
        """
        if isinstance(states, str):
            raise InvalidValue("states", states, "a list of states, not one")
        wanted = None if states is None else [_state(s).value for s in states]
        _check_limit(limit)
        where = []
        if wanted is not None:
            where.append(rewards_t.c.state.in_(wanted))
        with database.transaction(program.engine, write=False) as conn:
            if advocate is not None:
                row_id = q.advocate_row_id(conn, program.name, advocate)
                where.append(rewards_t.c.advocate_id == row_id)
            return issued_rewards(conn, program.name, *where, limit=limit)

    def dead_letters(self, program: Any, *, limit: int | None = None) -> list[IssuedReward]:
        """``program.dead_letters()``: what will not go on by itself, oldest first.

        The ``failed`` rewards, and the ``reversed`` ones whose fulfiller's
        reverse operation was given up on; ``program.retry_reward(key, ...)``
        sends either back.
        """
        _check_limit(limit)
        r = rewards_t
        given_up = sa.and_(
            r.c.state == RewardState.REVERSED.value,
            r.c.error.is_not(None),
            r.c.next_attempt_at.is_(None),
        )
        with database.transaction(program.engine, write=False) as conn:
            return issued_rewards(
                conn,
                program.name,
                sa.or_(r.c.state == RewardState.FAILED.value, given_up),
                limit=limit,
            )

    def reward_history(self, program: Any, key: str) -> list[Transition]:
        """``program.reward_history(key)``: every move of the reward, first first."""
        t = transitions_t
        query = (
            sa.select(t.c.before, t.c.after, t.c.at, t.c.actor, t.c.reason)
            .where(t.c.program == program.name, t.c.reward_key == key)
            .order_by(t.c.id)
        )
        with database.transaction(program.engine, write=False) as conn:
            rows = conn.execute(query).all()
        return [
            Transition(
                reward=key,
                before=None if r.before is None else RewardState(r.before),
                after=RewardState(r.after),
                at=r.at,
                actor=r.actor,
                reason=r.reason,
            )
            for r in rows
        ]

    def approve_reward(self, program: Any, key: str, *, reviewer: str, reason: str) -> IssuedReward:
        """``program.approve_reward(key, reviewer=..., reason=...)``: a person lets it through."""
        return self._move(
            program,
            key,
            RewardState.PENDING_APPROVAL,
            RewardState.APPROVED,
            ("reviewer", reviewer),
            reason,
        )

    def cancel_reward(self, program: Any, key: str, *, actor: str, reason: str) -> IssuedReward:
        """``program.cancel_reward(key, actor=..., reason=...)``: it will not be fulfilled."""
        return self._move(program, key, None, RewardState.CANCELED, ("actor", actor), reason)

    def complete_reward(
        self,
        program: Any,
        key: str,
        *,
        actor: str,
        reason: str,
        result: Mapping[str, Any] | None = None,
    ) -> IssuedReward:
        """``program.complete_reward(key, actor=..., reason=...)``: a person fulfilled it.

        For a reward its fulfiller handed to a person (``AwaitPerson``: the
        swag was posted, the experience booked); ``result`` is kept with it.
        """
        if result is not None and not isinstance(result, Mapping):
            raise InvalidValue("result", result, "a mapping (JSON object) or None")
        return self._move(
            program,
            key,
            RewardState.FULFILLING,
            RewardState.FULFILLED,
            ("actor", actor),
            reason,
            result=dict(result or {}),
            error=None,
        )

    def fail_reward(self, program: Any, key: str, *, actor: str, reason: str) -> IssuedReward:
        """``program.fail_reward(key, actor=..., reason=...)``: a person gives up on it."""
        return self._move(
            program,
            key,
            RewardState.FULFILLING,
            RewardState.FAILED,
            ("actor", actor),
            reason,
            error=reason,
        )

    def retry_reward(self, program: Any, key: str, *, actor: str, reason: str) -> IssuedReward:
        """``program.retry_reward(key, actor=..., reason=...)``: a dead letter goes back.

        The reward is ``approved`` again with its attempts reset: the next
        ``fulfil_pending`` tries it, with the same idempotency key. For a
        ``reversed`` reward whose fulfiller's reverse operation was given up
        on, the reversal is due again instead.
        """
        found = self.reward(program, key)
        if found is not None and found.state is RewardState.REVERSED:  # reversed for good
            return self._retry_reversal(program, found, actor, reason)
        return self._move(
            program,
            key,
            RewardState.FAILED,
            RewardState.APPROVED,
            ("actor", actor),
            reason,
            attempts=0,
            next_attempt_at=None,
        )

    def fulfil_pending(self, program: Any, *, limit: int | None = None) -> FulfilmentReport:
        """``program.fulfil_pending()``: fulfil every due reward now, after commit.

        Claims due rewards in batches, calls the fulfiller registered for each
        reward's kind, and writes the outcomes (see
        :mod:`advokit.plugins.rewards.fulfilment`). Rewards of kinds without a
        fulfiller stay ``approved``: the shop fulfils them its own way.
        Then it calls the reverse operations due (see
        :mod:`advokit.plugins.rewards.reversal`). ``limit`` bounds the rewards
        claimed in this call, for each of the two.
        """
        return fulfil_pending(program, self.fulfilment, limit=limit, threads=self._threads.get())

    def _work(self, program: Any) -> int:
        """``advokit worker``'s round: the rewards claimed."""
        return self.fulfil_pending(program, limit=self.fulfilment.batch_size).claimed

    def _retry_reversal(
        self, program: Any, reward: IssuedReward, actor: str, reason: str
    ) -> IssuedReward:
        _check_decision(("actor", actor), reason)
        r = rewards_t

        def attempt() -> IssuedReward:
            now = program.clock()
            again = {"attempts": 0, "next_attempt_at": now, "error": None}
            with database.transaction(program.engine) as conn:
                given_up = conn.execute(
                    r.update()
                    .where(
                        r.c.program == program.name,
                        r.c.key == reward.key,
                        r.c.state == RewardState.REVERSED.value,
                        r.c.error.is_not(None),  # not done
                        r.c.next_attempt_at.is_(None),  # not due, nor being tried
                    )
                    .values(updated_at=now, **again)
                ).rowcount
                if not given_up:
                    due = conn.execute(
                        sa.select(r.c.next_attempt_at).where(
                            r.c.program == program.name, r.c.key == reward.key
                        )
                    ).scalar()
                    now_is = "due" if due is not None else "done or not the fulfiller's"
                    raise InvalidValue(
                        f"reward {reward.key!r}",
                        f"reversed, with its reversal {now_is}",
                        "a failed reward, or a reversed one whose fulfiller's reversal was "
                        "given up on",
                    )
                before = after = RewardState.REVERSED
                conn.execute(
                    transitions_t.insert(),
                    transition(program.name, reward.key, before, after, now, actor, reason),
                )
            return attrs.evolve(reward, updated_at=now, **again)

        return database.retrying(attempt)

    def _move(
        self,
        program: Any,
        key: str,
        before: RewardState | None,
        after: RewardState,
        who: tuple[str, str],
        reason: str,
        **values: Any,
    ) -> IssuedReward:
        """A person (``who``: field and name) moves the reward from ``before`` (None: any)."""
        actor = who[1]
        _check_decision(who, reason)

        def attempt() -> IssuedReward:
            with database.transaction(program.engine) as conn:
                found = issued_rewards(conn, program.name, rewards_t.c.key == key)
                if not found:
                    raise InvalidValue("key", key, f"the key of a reward of {program.name!r}")
                current = found[0].state
                if before is not None and current is not before:
                    raise InvalidValue(
                        f"reward {key!r} state",
                        current.value,
                        f"{before.value}: only such a reward moves to {after.value}",
                    )
                if after not in MOVES[current]:
                    allowed = " or ".join(sorted(MOVES[current])) or "nothing"
                    raise InvalidValue(
                        f"reward {key!r} move",
                        after.value,
                        f"a move from {current.value}: {allowed}",
                    )
                now = program.clock()
                if current is RewardState.FULFILLING:
                    held = conn.execute(
                        sa.select(rewards_t.c.claimed_until).where(
                            rewards_t.c.program == program.name, rewards_t.c.key == key
                        )
                    ).scalar()
                    if held is not None and held > now:  # a worker is calling its fulfiller
                        raise InvalidValue(
                            f"reward {key!r}",
                            f"claimed by a worker until {held.isoformat()}",
                            "a reward handed to a person (AwaitPerson), or one whose worker's "
                            "lease lapsed",
                        )
                move_row(conn, program.name, key, current, after, now, actor, reason, **values)
                if current is RewardState.PENDING_APPROVAL:  # let through: the budgets count it
                    advocate_id = q.advocate_row_id(conn, program.name, found[0].advocate)
                    reward = found[0].reward
                    for _, counter, counted in self._budget_counters(reward, now, advocate_id):
                        _count_in(conn, program.name, counter, counted, reward.amount)
                shown = {k: v for k, v in values.items() if k in ("attempts", "result", "error")}
                return attrs.evolve(found[0], state=after, updated_at=now, **shown)

        return database.retrying(attempt)


def _check_limit(limit: int | None) -> None:
    if limit is not None and not (v.is_int(limit) and limit >= 1):
        raise InvalidValue("limit", limit, "None or a whole number of at least 1")


def _check_decision(who: tuple[str, str], reason: str) -> None:
    """A person's decision names who (``who``: field and name) and why."""
    for field, value, longest in ((*who, 255), ("reason", reason, 500)):
        if not isinstance(value, str) or not value.strip() or len(value) > longest:
            raise InvalidValue(
                field, value, f"a text of 1 to {longest} characters: who decided, and why"
            )


def _state(value: RewardState | str) -> RewardState:
    try:
        return RewardState(value)
    except ValueError:
        raise InvalidValue("states", value, one_of([s.value for s in RewardState])) from None


def _count_in(conn: Connection, program: str, counter: str, advocate_id: int, amount: int) -> None:
    """Count one reward of ``amount`` in ``counter`` now (a person approved it)."""
    insert = dialect_insert(conn, counts_t)
    c = counts_t.c
    conn.execute(
        insert.values(
            program=program,
            item=counter,
            advocate_id=advocate_id,
            issued=1,
            amount=amount,
            version=1,
        ).on_conflict_do_update(
            index_elements=["program", "item", "advocate_id"],
            set_={
                "issued": c.issued + 1,
                "amount": c.amount + insert.excluded.amount,
                "version": c.version + 1,  # a batch counting it too runs again
            },
        )
    )


def _load_count(
    conn: Connection, program: str, item: str, advocate_id: int
) -> tuple[int, int, int]:
    c = counts_t.c
    row = conn.execute(
        sa.select(c.version, c.issued, c.amount).where(
            c.program == program, c.item == item, c.advocate_id == advocate_id
        )
    ).first()
    return (0, 0, 0) if row is None else (int(row.version), int(row.issued), int(row.amount))
