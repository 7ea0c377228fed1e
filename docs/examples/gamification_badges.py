"""Gamification: badges with levels, windows, streaks, totals, predicates and prerequisites."""

# --8<-- [start:badges]
from datetime import timedelta

from advokit.plugins.badges import Badge, Badges, Count, Predicate, Streak, Total

badges = Badges(
    Badge("first_review", Count("review.posted"), title="First review"),
    Badge("reviewer", Count("review.posted", levels=(1, 5, 20))),  # three levels
    Badge("busy_week", Count("review.posted", levels=(3,), within=timedelta(days=7))),
    Badge("regular", Streak("purchase.completed", levels=(3, 7), unit="day")),
    Badge("big_spender", Total("purchase.completed", "total_cents", levels=(100_000,))),
    Badge(
        "big_order",
        Predicate({"purchase.completed"}, lambda ctx, a: a.data["total_cents"] >= 10_000),
    ),
    Badge(
        "ambassador",
        Count("share.posted", levels=(10,)),
        requires=("reviewer",),
        hidden=True,
        expires_after=timedelta(days=365),
    ),
)
# --8<-- [end:badges]

if __name__ == "__main__":
    from datetime import UTC, datetime

    from advokit import Action, Advocate, ManualClock, Program

    clock = ManualClock(datetime(2026, 6, 1, 12, tzinfo=UTC))
    program = Program(
        name="coffee", database_url="sqlite:///coffee.db", plugins=[badges], clock=clock
    )
    program.migrate()
    program.enroll(Advocate(external_id="ann"))

    def levels():
        return {status.badge.name: status.level for status in program.badges("ann") if status.level}

    for day in range(3):  # a purchase on three days in a row
        order = {"order_id": f"{day}", "total_cents": 12_000 if day == 2 else 800}
        program.record(
            Action(kind="purchase.completed", advocate="ann", key=f"order-{day}", data=order)
        )
        clock.advance(days=1)
    assert levels() == {"regular": 1, "big_order": 1}
    for n in range(3):  # three reviews within a week
        program.record(Action(kind="review.posted", advocate="ann", key=f"review-{n}"))
    assert levels() == {
        "regular": 1,
        "big_order": 1,
        "first_review": 1,
        "reviewer": 1,
        "busy_week": 1,
    }
    assert "ambassador" not in {status.badge.name for status in program.badges("ann")}  # hidden
