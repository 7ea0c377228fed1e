"""Fulfillers kept inside advokit: store credit in the ledger, and a person's own hands."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from advokit import Action, ActionKind, AwardPoints, Effect, EvaluationContext, Status, hookimpl
from advokit.core.errors import ConfigurationError
from advokit.core.model import derived_key
from advokit.core.registry import Register
from advokit.plugins.rewards.fulfilment import AwaitPerson, ByKind, FulfilmentFailed, check_kinds
from advokit.plugins.rewards.model import IssuedReward

__all__ = ["CREDITED", "Manual", "StoreCredit"]

CREDITED = "reward.credited"
_ACCOUNT = re.compile(r"[a-z][a-z0-9_]{0,62}")


class StoreCredit(ByKind):
    """Fulfil store-credit rewards into a ledger account of the advocate.

    The reward's ``amount`` (minor units of ``currency``) is credited to the
    account (``"store_credit"``) by recording a ``reward.credited`` action
    keyed by the reward: the ledger's exactly-once recording makes a second
    try (after a crash) a replay, never a second credit. The shop spends it
    with ``points.redemption(advocate, amount, key=..., account="store_credit")``
    and reads it with ``program.balance(advocate, "store_credit")``.

    Args:
        currency: the one currency of the account; a reward in another is
            dead-lettered.
        account: the ledger account.
        kinds: the reward kinds it fulfils.
    """

    plugin_name = "store-credit"
    advokit_evaluates = frozenset({CREDITED})

    def __init__(
        self,
        currency: str,
        *,
        account: str = "store_credit",
        kinds: Collection[str] = ("store_credit",),
    ) -> None:
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
            raise ConfigurationError(
                "StoreCredit.currency", currency, "an ISO 4217 code like 'EUR'"
            )
        if not isinstance(account, str) or not _ACCOUNT.fullmatch(account) or account == "points":
            raise ConfigurationError(
                "StoreCredit.account", account, "a lower-case account name other than 'points'"
            )
        self.currency = currency
        self.account = account
        self.kinds = check_kinds("StoreCredit", kinds)

    def __repr__(self) -> str:
        return f"StoreCredit({self.currency!r}, account={self.account!r})"

    @hookimpl
    def advokit_register_action_kinds(self, register: Register) -> None:
        register(
            ActionKind(
                name=CREDITED,
                required={"reward": str, "amount": int},
                description="A store-credit reward was credited to the advocate's account.",
            )
        )

    @hookimpl
    def advokit_evaluate(self, ctx: EvaluationContext, action: Action) -> list[Effect]:
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
        key = derived_key(reward.key, "store-credit")
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
