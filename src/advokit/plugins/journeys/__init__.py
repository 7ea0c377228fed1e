"""Journeys: automated workflows declared in Python, each step run exactly once.

::

    from advokit.plugins.journeys import Branch, Journey, Journeys, Send, Wait, WaitFor

    thank_buyers = Journey(
        "thank_buyers",
        trigger="purchase.completed",
        steps=[Wait(days=2), Send("thank_you")],
    )
    Program(name="bakery", plugins=[Messages(...), Email(...), Journeys(thank_buyers)])

A trigger (an action kind, derived ones included) starts a run for the
advocate; steps send messages, award points, tag, wait, wait for an action,
and branch. ``program.tick()`` resumes the waits that are over. See
:mod:`advokit.plugins.journeys.steps` for the steps and the review rules a
journey is checked against when it is composed.
"""

from __future__ import annotations

from advokit.plugins.journeys.plugin import MIGRATIONS, RESUME, Journeys, JourneyState
from advokit.plugins.journeys.steps import (
    SENTIMENT_KINDS,
    AddTag,
    Award,
    Branch,
    Do,
    Journey,
    ReviewGating,
    Run,
    Send,
    Step,
    Wait,
    WaitFor,
    nps_category,
)
from advokit.plugins.journeys.tables import runs_t

__all__ = [
    "MIGRATIONS",
    "RESUME",
    "SENTIMENT_KINDS",
    "AddTag",
    "Award",
    "Branch",
    "Do",
    "Journey",
    "JourneyState",
    "Journeys",
    "ReviewGating",
    "Run",
    "Send",
    "Step",
    "Wait",
    "WaitFor",
    "nps_category",
    "runs_t",
]
