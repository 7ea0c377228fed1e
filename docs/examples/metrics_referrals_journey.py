"""Metrics: a journey that leaves the holdout group alone."""

# --8<-- [start:journey]
from advokit.plugins.journeys import Journey, Send
from advokit.plugins.scoring import Holdout, not_held_out

spring = Holdout("spring-2026", share=0.1)
invite = Journey(
    "referral_invite",
    trigger="purchase.completed",
    when=not_held_out(spring, "shop"),  # the held-out 10% are never invited
    steps=[Send("referral_invite", context={"referral_url": "https://shop.example/r/ANN"})],
)
# --8<-- [end:journey]

if __name__ == "__main__":
    from advokit import Action, Advocate, Program
    from advokit.plugins.channels import Email
    from advokit.plugins.journeys import Journeys
    from advokit.plugins.messages import Messages

    program = Program(
        name="shop",
        database_url="sqlite:///shop.db",
        plugins=[
            Journeys(invite),
            Messages(secret="a-secret-of-32-characters-at-least"),
            Email(host="127.0.0.1", port=1025, sender="shop@shop.example", security="none"),
        ],
    )
    program.migrate()
    customers = [f"c-{n}" for n in range(200)]
    program.enroll_many(Advocate(external_id=who, email=f"{who}@example.com") for who in customers)
    program.record_many(
        Action(kind="purchase.completed", advocate=who, key=f"order-{who}", data={"order_id": who})
        for who in customers
    )
    held_out = {who for who in customers if spring.excludes(who, "shop")}
    invited = {who for who in customers if program.messages(who)}  # queued, not sent here
    assert 0 < len(held_out) < 40  # about 10%
    assert invited == set(customers) - held_out
