"""Gamification: leaderboards of points and of counts, in windows, with positions."""

# --8<-- [start:boards]
from datetime import date

from advokit.plugins.leaderboards import Board, Leaderboards

leaderboards = Leaderboards(
    Board("points"),  # points earned in the "points" account
    Board("reviewers", count="review.posted"),  # or a count of actions
    timezone="Europe/Paris",
)
# --8<-- [end:boards]

if __name__ == "__main__":
    from datetime import UTC, datetime

    from advokit import Action, Advocate, ManualClock, Program, Tag, hookimpl
    from advokit.plugins.points import Points, PointsRule
    from advokit.plugins.scoring import Scoring, Segment, tagged

    class VipOnFirstPurchase:
        @hookimpl
        def advokit_evaluate(self, action):
            if action.kind == "purchase.completed":
                yield Tag(advocate=action.advocate, tag="vip")

    clock = ManualClock(datetime(2026, 6, 10, 12, tzinfo=UTC))
    program = Program(
        name="coffee",
        database_url="sqlite:///coffee.db",
        plugins=[
            leaderboards,
            Points(PointsRule("review.posted", 25)),
            Scoring(segments=[Segment("vip", tagged("vip"))]),
            VipOnFirstPurchase(),
        ],
        clock=clock,
    )
    program.migrate()
    for who, reviews in [("ann", 3), ("bo", 1), ("cy", 1)]:
        program.enroll(Advocate(external_id=who))
        for n in range(reviews):
            program.record(Action(kind="review.posted", advocate=who, key=f"{who}-review-{n}"))
    for who in ("ann", "cy"):
        order = {"order_id": who}
        program.record(
            Action(kind="purchase.completed", advocate=who, key=f"{who}-order", data=order)
        )

    # --8<-- [start:ask]
    program.board("points", window="week", limit=10)
    program.board("reviewers", window=(date(2026, 6, 1), date(2026, 6, 14)), ranking="dense")
    program.board_position("points", "ann", window="month", neighbours=2, segment="vip")
    # --8<-- [end:ask]

    week = program.board("points", window="week", limit=10)
    assert [(s.rank, s.advocate, s.value) for s in week] == [
        (1, "ann", 75),
        (2, "bo", 25),
        (2, "cy", 25),
    ]
    dense = program.board(
        "reviewers", window=(date(2026, 6, 1), date(2026, 6, 14)), ranking="dense"
    )
    assert [s.rank for s in dense] == [1, 2, 2]
    position = program.board_position("points", "ann", window="month", neighbours=2, segment="vip")
    assert position.standing.rank == 1
    assert [s.advocate for s in position.below] == ["cy"]  # bo is not a vip
