"""Gamification: challenges, a one-off and a monthly one that advocates join."""

# --8<-- [start:challenges]
from datetime import UTC, datetime

from advokit.plugins.challenges import Challenge, Challenges, Step, join

challenges = Challenges(
    Challenge(
        "june_push",
        (Step("review.posted", 3), Step("share.posted", 1)),
        starts=datetime(2026, 6, 1, tzinfo=UTC),
        ends=datetime(2026, 7, 1, tzinfo=UTC),
        points=500,
        badge="june_champion",
    ),
    Challenge(
        "monthly_reviews",
        (Step("review.posted", 2),),
        every="month",
        timezone="Europe/Paris",
        points=100,
        enrolment=True,
    ),
)
# --8<-- [end:challenges]

if __name__ == "__main__":
    from advokit import Action, Advocate, ManualClock, Program
    from advokit.plugins.badges import Badge, Badges, Predicate

    clock = ManualClock(datetime(2026, 6, 10, 12, tzinfo=UTC))
    # the challenge grants the badge; no action earns it otherwise
    champion = Badge("june_champion", Predicate({"review.posted"}, lambda ctx, a: False))
    program = Program(
        name="coffee",
        database_url="sqlite:///coffee.db",
        plugins=[challenges, Badges(champion)],
        clock=clock,
    )
    program.migrate()
    program.enroll(Advocate(external_id="ann"))
    # --8<-- [start:join]
    program.record(join("ann", "monthly_reviews", key="join-ann"))
    # --8<-- [end:join]
    for kind, key in [("review.posted", "r-1"), ("review.posted", "r-2"), ("share.posted", "s-1")]:
        program.record(Action(kind=kind, advocate="ann", key=key))
    assert program.balance("ann") == 100  # monthly_reviews: two reviews this month
    program.record(Action(kind="review.posted", advocate="ann", key="r-3"))
    assert program.balance("ann") == 600  # june_push too: three reviews and a share
    assert [b.badge.name for b in program.badges("ann") if b.level] == ["june_champion"]
    assert all(p.completed for p in program.progress("ann"))
