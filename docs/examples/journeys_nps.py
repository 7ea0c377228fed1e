"""Journeys: after a purchase, an NPS survey; then a review request, and by category."""

# --8<-- [start:program]
from datetime import timedelta

from advokit import Program
from advokit.plugins.channels import Email, SlackWebhook
from advokit.plugins.journeys import Branch, Journey, Journeys, Send, Wait, WaitFor, nps_category
from advokit.plugins.messages import Messages

review = Send(
    "review_request",
    context={"review_url": "https://g.page/r/bakery/review", "incentive": None},
)

post_purchase = Journey(
    "post_purchase_nps",
    trigger="purchase.completed",
    reentry=False,
    steps=[
        Wait(days=3),
        Send("nps_survey", context=lambda run: {"survey_url": "https://bakery.example/nps"}),
        WaitFor("survey.answered", within=timedelta(days=14), timeout=[review]),
        review,  # everyone who answered, whatever the score
        Branch(
            nps_category,
            promoter=[
                Send(
                    "referral_invite",
                    context={"referral_url": "https://bakery.example/r/ANN", "incentive": None},
                )
            ],
            passive=[Send("thank_you")],
            detractor=[
                Send(
                    "detractor_alert",
                    channel="team",
                    category="transactional",
                    context=lambda run: {**run.answer("survey.answered")},
                )
            ],
        ),
    ],
)

program = Program(
    name="bakery",
    plugins=[
        Messages(secret="from-your-vault-32-characters-long"),
        Email(host="smtp.example", sender="Bakery <hello@bakery.example>"),
        SlackWebhook("https://hooks.slack.com/services/...", name="team"),
        Journeys(post_purchase),
    ],
)
# --8<-- [end:program]

if __name__ == "__main__":
    from advokit import Action, Advocate

    program.migrate()
    program.enroll(Advocate(external_id="ann", email="ann@example.com", consent={"email": True}))
    order = {"order_id": "1"}
    program.record(Action(kind="purchase.completed", advocate="ann", key="order-1", data=order))
    [state] = program.journeys("ann")
    assert (state.journey, state.status) == ("post_purchase_nps", "waiting")
    program.tick(program.clock() + timedelta(days=3, minutes=1))  # the wait is over
    [state] = program.journeys("ann")
    assert state.waiting_for == "survey.answered"
    assert [m.kind for m in program.messages("ann")] == ["nps_survey"]
    answer = Action(kind="survey.answered", advocate="ann", key="nps-1", data={"score": 10})
    program.record(answer)
    assert sorted(m.kind for m in program.messages("ann")) == [
        "nps_survey",
        "referral_invite",  # a promoter
        "review_request",
    ]
    assert program.journeys("ann")[0].status == "done"
