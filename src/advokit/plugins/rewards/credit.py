"""Fulfillers kept inside advokit: store credit in the ledger, and a person's own hands."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from advokit import (
    Action,
    ActionKind,
    AwardPoints,
    Effect,
    EvaluationContext,
    ReversePoints,
    Status,
    hookimpl,
)
from advokit.core.errors import ConfigurationError
from advokit.core.model import derived_key
from advokit.core.registry import Register
from advokit.plugins.rewards.fulfilment import AwaitPerson, ByKind, FulfilmentFailed, check_kinds
from advokit.plugins.rewards.model import IssuedReward

__all__ = ["CREDITED", "CREDIT_REVERSED", "Manual", "StoreCredit"]

CREDITED = "reward.credited"
CREDIT_REVERSED = "reward.credit_reversed"
_ACCOUNT = re.compile(r"[a-z][a-z0-9_]{0,62}")


class StoreCredit(ByKind):
    """Fulfil store-credit rewards into a ledger account of the advocate.

    The reward's ``amount`` (minor units of ``currency``) is credited to the
    account (``"store_credit"``) by recording a ``reward.credited`` action
    keyed by the reward: the ledger's exactly-once recording makes a second
    try (after a crash) a replay, never a second credit. The shop spends it
    with ``points.redemption(advocate, amount, key=..., account="store_credit")``
    and reads it with ``program.balance(advocate, "store_credit")``.

    A reversed reward (a refunded referral) is taken back by a
    ``reward.credit_reversed`` action keyed by the reward, which reverses the
    credit in the ledger once, however often it is tried.

    Args:
        currency: the one currency of the account; a reward in another is
            dead-lettered.
        account: the ledger account.
        kinds: the reward kinds it fulfils.
        clawback: when the credit was spent before the reversal: ``"cap"``
            takes back at most what is left, ``"negative"`` lets the balance
            go below zero (later credit pays it back).
    """

    plugin_name = "store-credit"
    advokit_evaluates = frozenset({CREDITED, CREDIT_REVERSED})

    def __init__(
        self,
        currency: str,
        *,
        account: str = "store_credit",
        kinds: Collection[str] = ("store_credit",),
        clawback: str = "cap",
    ) -> None:
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
            raise ConfigurationError(
                "StoreCredit.currency", currency, "an ISO 4217 code like 'EUR'"
            )
        if not isinstance(account, str) or not _ACCOUNT.fullmatch(account) or account == "points":
            raise ConfigurationError(
                "StoreCredit.account", account, "a lower-case account name other than 'points'"
            )
        if clawback not in ("cap", "negative"):
            raise ConfigurationError("StoreCredit.clawback", clawback, "'cap' or 'negative'")
        self.currency = currency
        self.account = account
        self.kinds = check_kinds("StoreCredit", kinds)
        self.clawback = clawback

    def __repr__(self) -> str:
        return f"StoreCredit({self.currency!r}, account={self.account!r})"

    @hookimpl
    def advokit_register_action_kinds(self, register: Register) -> None:
        register(
            ActionKind(
                name=CREDITED,
                required={"reward": str, "amount": int},
                description="A store-credit reward was credited to the advocate's account.",
                by_worker=True,  # by fulfilment: a simulation issues rewards, fulfils none
            )
        )
        register(
            ActionKind(
                name=CREDIT_REVERSED,
                required={"reward": str, "credit": str},
                description="A reversed store-credit reward's credit was taken back.",
                by_worker=True,
            )
        )

    @hookimpl
    def advokit_evaluate(self, ctx: EvaluationContext, action: Action) -> list[Effect]:
        if action.kind == CREDIT_REVERSED:
            return [
                ReversePoints(
                    advocate=action.advocate,
                    action_key=action.data["credit"],
                    account=self.account,
                    reason=CREDIT_REVERSED,
                    clawback=self.clawback,
                    memo=action.data["reward"],
                )
            ]
        return [
            AwardPoints(
                advocate=action.advocate,
                points=action.data["amount"],
                account=self.account,
                reason=CREDITED,
                memo=action.data["reward"],
            )
        ]

    def fulfil(self, program: Any, reward: IssuedReward) -> Mapping[str, Any]:
        if reward.reward.currency != self.currency:
            raise FulfilmentFailed(
                f"store credit is in {self.currency}, the reward in {reward.reward.currency}"
            )
        if reward.reward.amount < 1:
            raise FulfilmentFailed("store credit of 0: nothing to credit")
        key = _credit_key(reward)
        outcome = program.record(
            Action(
                kind=CREDITED,
                advocate=reward.advocate,
                key=key,
                data={"reward": reward.key, "amount": reward.reward.amount},
            )
        )
        if outcome.status is not Status.APPLIED:
            raise FulfilmentFailed(f"credit {outcome.status.value}: {'; '.join(outcome.reasons)}")
        return {"account": self.account, "credited": reward.reward.amount, "action": key}

    def reverse(self, program: Any, reward: IssuedReward) -> Mapping[str, Any]:
        """Take the reward's credit back (``clawback`` decides how much, if spent)."""
        key = derived_key(reward.key, "store-credit-reversal")
        outcome = program.record(
            Action(
                kind=CREDIT_REVERSED,
                advocate=reward.advocate,
                key=key,
                data={"reward": reward.key, "credit": _credit_key(reward)},
            )
        )
        if outcome.status is not Status.APPLIED:
            raise FulfilmentFailed(
                f"credit reversal {outcome.status.value}: {'; '.join(outcome.reasons)}"
            )
        return {"account": self.account, "action": key}


def _credit_key(reward: IssuedReward) -> str:
    """The key of the action that credits ``reward``: one credit per reward."""
    return derived_key(reward.key, "store-credit")


class Manual(ByKind):
    """Rewards of ``kinds`` are fulfilled by a person (swag posted, an experience booked).

    Each is handed over (it stays ``fulfilling``, with no lease) until someone
    calls ``program.complete_reward(key, actor=..., reason=..., result=...)``
    or ``program.fail_reward(...)``; ``program.rewards(advocate,
    states=["fulfilling"])`` lists what is waiting.
    """

    plugin_name = "manual-fulfilment"

    def __init__(self, kinds: Collection[str]) -> None:
        self.kinds = check_kinds("Manual", kinds)

    def __repr__(self) -> str:
        return f"Manual({list(self.kinds)!r})"

    def fulfil(self, program: Any, reward: IssuedReward) -> Mapping[str, Any]:
        raise AwaitPerson(f"{reward.reward.kind} is fulfilled by a person")
