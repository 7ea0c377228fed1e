"""Metrics: a journey that invites the advocates with the top 10% potential."""

# --8<-- [start:program]
from advokit import Program
from advokit.plugins.channels import Email
from advokit.plugins.journeys import Journey, Journeys, Send
from advokit.plugins.messages import Messages
from advokit.plugins.scoring import PotentialSettings, Scoring


def top_ten_percent(advocate, action):
    return program.has_top_potential(advocate, 0.1)


invite = Journey(
    "invite_likely_advocates",
    trigger="purchase.completed",
    when=top_ten_percent,
    reentry=False,
    steps=[Send("referral_invite", context={"referral_url": "https://shop.example/r"})],
)
program = Program(
    name="shop",
    database_url="sqlite:///shop.db",
    plugins=[
        Scoring(potential=PotentialSettings()),
        Journeys(invite),
        Messages(secret="a-secret-of-32-characters-at-least"),
        Email(host="127.0.0.1", port=1025, sender="shop@shop.example", security="none"),
    ],
)
# --8<-- [end:program]

if __name__ == "__main__":
    from datetime import timedelta

    from _shop import record_history

    from advokit import Action

    program.migrate()
    now = program.clock()
    record_history(program, start=now - timedelta(days=365), end=now)
    program.train_potential()
    program.score_potential()
    scored = [who for who in (f"c{n:02d}" for n in range(2, 80)) if program.potential_of(who)]
    top = {who for who in scored if program.has_top_potential(who, 0.1)}
    assert 0 < len(top) <= len(scored) // 10 + 1
    for who in scored:
        order = {"order_id": f"next-{who}", "total_cents": 1500}
        program.record(
            Action(kind="purchase.completed", advocate=who, key=f"next-{who}", data=order)
        )
    invited = {who for who in scored if program.messages(who)}
    assert invited == top, (invited, top)
