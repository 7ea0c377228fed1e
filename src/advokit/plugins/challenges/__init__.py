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

from advokit.plugins.challenges.model import (
    CHALLENGE_COMPLETED,
    CHALLENGE_JOINED,
    CHALLENGE_MISSED,
    Challenge,
    ChallengeProgress,
    CloseChallenge,
    JoinChallenge,
    Period,
    SetChallengeProgress,
    Step,
    StepProgress,
    join,
)
from advokit.plugins.challenges.plugin import Challenges
from advokit.plugins.challenges.tables import enrolments_t, progress_t

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
    "enrolments_t",
    "join",
    "progress_t",
]
