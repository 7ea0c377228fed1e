"""After a purchase, an NPS survey; then a review request to everyone, a referral
invitation to promoters, a thank-you to passives, and a Slack alert about detractors.

Run it (three customers, a month of simulated time, on ``nps-journey.db``)::

    python examples/nps_journey.py [--database-url sqlite:///nps-journey.db]
        [--smtp-port 1025] [--slack-url https://hooks.slack.com/services/...]

Without ``--smtp-port`` and ``--slack-url`` nothing is sent: the messages wait
in the outbox, and the script lists them.

The journey, step by step:

1. ``purchase.completed`` starts it; three days later the customer gets the
   NPS survey (marketing email: only with their consent).
2. It waits up to 14 days for their ``survey.answered``.
3. Everyone who answered is asked for a review, *whatever their score*: asking
   only promoters is review gating, which the FTC's rule on consumer reviews
   and Google's policies forbid, and which advokit refuses when a journey is
   composed. Customers who never answer are asked too, when the 14 days end.
4. Then, by the score: promoters (9-10) are invited to share their referral
   link (they share it themselves: the bakery never emails their friends);
   passives (7-8) get a thank-you; detractors (0-6) are posted to the team's
   Slack channel for a call back, with their comment.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from advokit import Action, Advocate, Consent, ManualClock, Program
from advokit.plugins.channels import Email, SlackWebhook
from advokit.plugins.journeys import (
    Branch,
    Journey,
    Journeys,
    Run,
    Send,
    Wait,
    WaitFor,
    nps_category,
)
from advokit.plugins.messages import Messages

START = datetime(2026, 6, 1, 9, tzinfo=UTC)
SITE = "https://bakery.example"


def _review(run: Run) -> dict[str, Any]:
    return {"review_url": f"{SITE}/review", "incentive": None}


def _referral(run: Run) -> dict[str, Any]:
    code = run.advocate.external_id.upper()
    return {"referral_url": f"{SITE}/r/{code}", "incentive": None}


def _alert(run: Run) -> dict[str, Any]:
    answer = run.answer("survey.answered")
    return {"score": answer.get("score"), "comment": answer.get("comment")}


def _survey(run: Run) -> dict[str, Any]:
    return {"survey_url": f"{SITE}/nps/{run.trigger['key']}"}


ask_for_a_review = Send("review_request", context=_review)

POST_PURCHASE_NPS = Journey(
    "post_purchase_nps",
    trigger="purchase.completed",
    reentry=False,  # one survey per customer, not one per order
    steps=[
        Wait(days=3),
        Send("nps_survey", context=_survey),
        WaitFor("survey.answered", within=timedelta(days=14), timeout=[ask_for_a_review]),
        ask_for_a_review,  # everyone who answered, whatever the score
        Branch(
            nps_category,
            promoter=[Send("referral_invite", context=_referral)],
            passive=[Send("thank_you")],
            detractor=[
                Send("detractor_alert", channel="team", category="transactional", context=_alert)
            ],
        ),
    ],
)


def build_program(
    database_url: str,
    clock: ManualClock,
    *,
    smtp_port: int = 1025,
    slack_url: str = "http://127.0.0.1:9/slack",
) -> Program:
    return Program(
        name="bakery",
        database_url=database_url,
        clock=clock,
        load_entrypoints=False,
        plugins=[
            Messages(
                secret="change-me: a long random secret",
                unsubscribe_url=f"{SITE}/unsubscribe/{{token}}",
                unsubscribe_mailto="unsubscribe@bakery.example",
            ),
            Email(
                host="127.0.0.1",
                port=smtp_port,
                sender="Bakery <hello@bakery.example>",
                security="none",
            ),
            SlackWebhook(slack_url, name="team", destination="#customer-care"),
            Journeys(POST_PURCHASE_NPS),
        ],
    )


CUSTOMERS = {"ana": 10, "ben": 8, "cho": 3, "dan": None}  # their answers (dan never answers)


def run(program: Program, clock: ManualClock, *, deliver: bool) -> None:
    """Three days of waiting, a survey, answers, two weeks: the journey end to end."""
    program.migrate()
    yes = Consent(granted=True, basis="consent", source="checkout")
    for who in CUSTOMERS:
        program.enroll(
            Advocate(
                external_id=who,
                name=who.title(),
                email=f"{who}@example.com",
                consent={"email": yes},
            )
        )
        program.record(
            Action(
                kind="purchase.completed",
                advocate=who,
                key=f"order-{who}",
                data={"order_id": who},
            )
        )
    clock.advance(days=3)
    program.tick()  # the surveys go out
    clock.advance(days=1)
    for who, score in CUSTOMERS.items():
        if score is not None:
            comment = "stale croissants" if score < 7 else None
            data = {"score": score, "survey": "nps", **({"comment": comment} if comment else {})}
            program.record(
                Action(kind="survey.answered", advocate=who, key=f"nps-{who}", data=data)
            )
    clock.advance(days=14)
    program.tick()  # dan's 14 days are over: a review request without an answer
    if deliver:
        program.deliver_pending()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:///nps-journey.db")
    parser.add_argument("--smtp-port", type=int)
    parser.add_argument("--slack-url")
    args = parser.parse_args(argv)
    clock = ManualClock(START)
    deliver = args.smtp_port is not None and args.slack_url is not None
    options = {"smtp_port": args.smtp_port, "slack_url": args.slack_url} if deliver else {}
    program = build_program(args.database_url, clock, **options)
    run(program, clock, deliver=deliver)
    for who in CUSTOMERS:
        for message in program.messages(who):
            print(f"{who:4} {message.channel:6} {message.kind:16} {message.state.value}")


if __name__ == "__main__":
    main()
