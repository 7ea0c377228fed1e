"""Tiers: status levels qualified on points earned in a window, kept predictably.

::

    from datetime import timedelta
    from advokit.plugins.tiers import CalendarYear, Tier, Tiers

    Program(
        name="coffee",
        plugins=[
            Points(PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100)),
            Tiers(
                Tier("bronze", 0),
                Tier("silver", 500, retain=400, multiplier=1.25),
                Tier("gold", 2000, retain=1500, multiplier=1.5, benefits={"free_drink": True}),
                window=CalendarYear(),
                grace=timedelta(days=30),
            ),
        ],
        policies=["tier_multiplier"],
    )

The rules, in the order the issue trackers of loyalty programs ask for them:

* **Qualify on points earned, never on the balance.** The qualifying value is
  what the ``account`` earned inside the window (awards, less the reversals of
  refunded awards); spending and expiry never lower it, so redeeming points
  never demotes anyone. To qualify on a count of actions, award one point per
  action to an account of its own (``PointsRule("purchase.completed", 1,
  account="purchases")``) and qualify on that account.
* **Promotion is immediate**: the moment an action earns enough for a higher
  tier's ``threshold`` (through the derived ``points.changed``).
* **Demotion is predictable**: only on a review, which ``program.tick()`` runs
  once a day for everyone above the first tier. An advocate keeps a tier while
  the value in the window stays at or above its ``retain`` threshold (lower
  than ``threshold``, so a tier is not lost on the first quiet month). Below
  it, a ``grace`` period starts; earning back to ``retain`` ends it, otherwise
  the advocate moves down, when it is over, to the highest tier whose
  ``retain`` their value meets.
* **A manual override** (:func:`override`) sets a tier until an end date. When
  that date has passed, the next review returns the advocate to the tier their
  points earn (by entry threshold), never leaving the override behind as a
  floor.
* Every change is a :class:`~advokit.ChangeTier` effect, kept in the
  ``tiers_changes`` history, and emits the derived action ``tier.changed``
  (data: ``tier``, ``previous``, ``reason``) that other rules react to.
* ``program.tier(advocate)`` tells the tier, its benefits, progress to the
  next one and the date the tier is kept until.

Reviews are daily: a tick later on the same day replays the day's review
instead of running it again, so a grace period ends at the first tick of the
day after it is over.
"""

from __future__ import annotations

from advokit.plugins.tiers.model import (
    TIER_CHANGED,
    TIER_OVERRIDDEN,
    TIER_REVIEWED,
    SetTierGrace,
    SetTierOverride,
    Tier,
    TierChange,
    TierStatus,
    override,
)
from advokit.plugins.tiers.plugin import Tiers
from advokit.plugins.tiers.tables import changes_t, states_t
from advokit.plugins.tiers.windows import Anniversary, CalendarYear, Lifetime, Rolling, Window

__all__ = [
    "TIER_CHANGED",
    "TIER_OVERRIDDEN",
    "TIER_REVIEWED",
    "Anniversary",
    "CalendarYear",
    "Lifetime",
    "Rolling",
    "SetTierGrace",
    "SetTierOverride",
    "Tier",
    "TierChange",
    "TierStatus",
    "Tiers",
    "Window",
    "changes_t",
    "override",
    "states_t",
]
