"""Rewards: what the program owes advocates, a catalogue to redeem points for, approvals.

::

    from advokit import Reward
    from advokit.plugins.rewards import CatalogueItem, Rewards

    Program(name="bakery", plugins=[
        Rewards(
            CatalogueItem(name="coffee", cost=150, reward=Reward(kind="coupon")),
            CatalogueItem(name="cake", cost=500, reward=Reward(kind="swag"), stock=20),
            approve_above=5000,          # rewards worth more than 50.00 wait for a person
        ),
    ])

``IssueReward`` effects (from any plugin: a challenge's prize, a referral's
reward) and redemptions (``program.redeem(advocate, "coffee", key=...)``, which
debits the points and issues the reward in one transaction) become rewards
with an idempotency key derived from the action that issued them. Each starts
``requested`` and moves on to ``approved``, or to ``pending_approval`` when a
person must decide (``program.approve_reward(key, reviewer=..., reason=...)``,
``program.cancel_reward(...)``). Every move is kept: ``program.reward_history(key)``.
"""

from __future__ import annotations

from advokit.plugins.rewards.coupons import CouponPool, LoadReport
from advokit.plugins.rewards.credit import Manual, StoreCredit
from advokit.plugins.rewards.fulfilment import (
    AwaitPerson,
    ByKind,
    Fulfiller,
    Fulfilment,
    FulfilmentFailed,
    FulfilmentReport,
    RetryLater,
)
from advokit.plugins.rewards.http import HttpFulfiller
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
from advokit.plugins.rewards.plugin import Rewards
from advokit.plugins.rewards.tables import (
    counts_t,
    coupon_pools_t,
    coupons_t,
    rewards_t,
    transitions_t,
)

__all__ = [
    "KINDS",
    "MOVES",
    "REWARD_REDEEMED",
    "AwaitPerson",
    "Budget",
    "ByKind",
    "CatalogueItem",
    "CouponPool",
    "Fulfiller",
    "Fulfilment",
    "FulfilmentFailed",
    "FulfilmentReport",
    "HttpFulfiller",
    "IssuedReward",
    "LoadReport",
    "Manual",
    "RetryLater",
    "RewardState",
    "Rewards",
    "StoreCredit",
    "Transition",
    "counts_t",
    "coupon_pools_t",
    "coupons_t",
    "rewards_t",
    "transitions_t",
]
