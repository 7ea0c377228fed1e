"""Badges: achievements earned by what advocates do, with levels, exported as Open Badges 3.0.

::

    from advokit.plugins.badges import Badge, Badges, Count, Streak, Total

    Badges(
        Badge("first_referral", Count("referral.converted"), title="First referral"),
        Badge("reviewer", Count("review.posted", levels=(1, 5, 20)), title="Reviewer"),
        Badge("regular", Streak("purchase.completed", levels=(3, 7), unit="day")),
        Badge("big_spender", Total("purchase.completed", "total_cents", levels=(100_000,))),
        Badge("busy_week", Count("review.posted", levels=(3,), within=timedelta(days=7))),
        Badge("ambassador", Count("referral.converted", levels=(10,)), requires=("reviewer",),
              hidden=True, expires_after=timedelta(days=365)),
    )

* **Criteria**: :class:`Count` (the Nth action of a kind; with ``within``, N
  of them inside a sliding window), :class:`Streak` (N consecutive days or
  ISO weeks with at least one such action, in the advocate's own time zone),
  :class:`Total` (the sum of a data field), :class:`Predicate` (any test of
  the action and the advocate's state through ``ctx.view``).
* **Levels**: ``levels=(1, 5, 20)`` makes bronze/silver/gold of one badge;
  each level is granted once, whatever the retries or the number of
  processes: the database's unique ``(advocate, badge, level)`` decides.
* **Prerequisites** (``requires``) must be held (not expired, not revoked)
  before a badge is granted; a cycle is refused when the program is built.
* **Hidden** badges are left out of ``program.badges(advocate)`` until earned.
* **Expiry** (``expires_after``) and **revocation** (:func:`revoke`, the
  ``badge.revoked`` action): the badge no longer counts as held. A level is
  granted once only: an expired or revoked badge is not earned again.
* Every grant is a :class:`~advokit.GrantBadge` effect recording the action
  that earned it, and emits the derived action ``badge.granted`` (``badge``,
  ``level``) other rules react to.
* ``program.badge_credential(advocate, badge, issuer=...)`` returns the
  award as an unsigned Open Badges 3.0 ``OpenBadgeCredential``.

Progress toward every badge is kept in one row per advocate
(``badges_states``), read and written once per batch, with an optimistic
check: a transaction that read it before another one changed it runs again,
so concurrent processes never lose a step.
"""

from __future__ import annotations

from advokit.plugins.badges.criteria import Count, Predicate, Progress, Streak, Total
from advokit.plugins.badges.model import (
    BADGE_GRANTED,
    BADGE_REVOKED,
    Badge,
    BadgeStatus,
    RevokeBadge,
    SetBadgeProgress,
    revoke,
)
from advokit.plugins.badges.plugin import Badges
from advokit.plugins.badges.tables import awards_t, states_t

__all__ = [
    "BADGE_GRANTED",
    "BADGE_REVOKED",
    "Badge",
    "BadgeStatus",
    "Badges",
    "Count",
    "Predicate",
    "Progress",
    "RevokeBadge",
    "SetBadgeProgress",
    "Streak",
    "Total",
    "awards_t",
    "revoke",
    "states_t",
]
