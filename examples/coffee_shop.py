"""A coffee shop's loyalty program: tiers, a first-referral badge, a monthly review challenge.

Run it (a month of a small shop, simulated on ``coffee-shop.db``)::

    python examples/coffee_shop.py [--database-url sqlite:///coffee-shop.db]

What it composes, all from advokit's built-in plugins:

* 1 point per euro spent, 25 per review, 200 for referring a friend;
* bronze (0), silver (500) and gold (2,000) tiers on points earned this
  calendar year; gold earns 1.5x, and silver and gold keep their tier for 30
  days of grace after falling short;
* badges: "first referral", "regular" (a 3- and 7-day visit streak in the
  customer's own time zone) and "critic" (1, 5 and 10 reviews);
* a challenge each month: 2 reviews for 100 bonus points;
* a weekly leaderboard of points earned, and a birthday coffee (50 points).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from advokit import Action, ActionKind, Advocate, ManualClock, Program, hookimpl
from advokit.plugins.badges import Badge, Badges, Count, Streak
from advokit.plugins.challenges import Challenge, Challenges, Step
from advokit.plugins.leaderboards import Board, Leaderboards
from advokit.plugins.occasions import Occasions
from advokit.plugins.points import Points, PointsRule
from advokit.plugins.tiers import CalendarYear, Tier, Tiers

REFERRED = "friend.referred"
START = datetime(2026, 6, 1, 8, tzinfo=UTC)


class ShopKinds:
    """The shop's own action kind: a customer brought a friend (until referrals land)."""

    plugin_name = "coffee_shop"

    @hookimpl
    def advokit_register_action_kinds(self, register: Any) -> None:
        register(
            ActionKind(
                name=REFERRED,
                required={"friend": str},
                description="A customer brought a friend who bought a coffee.",
            )
        )


def build_program(database_url: str, clock: Any = None) -> Program:
    return Program(
        name="coffee_shop",
        database_url=database_url,
        clock=clock or ManualClock(START),
        load_entrypoints=False,
        policies=["tier_multiplier"],
        plugins=[
            ShopKinds(),
            Points(
                PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100),
                PointsRule("review.posted", points=25),
                PointsRule(REFERRED, points=200),
                PointsRule("advocate.birthday", points=50),
            ),
            Tiers(
                Tier("bronze", 0),
                Tier("silver", 500, retain=400),
                Tier("gold", 2000, retain=1500, multiplier=1.5),
                window=CalendarYear(),
                grace=timedelta(days=30),
            ),
            Badges(
                Badge("first_referral", Count(REFERRED), title="First referral"),
                Badge("regular", Streak("purchase.completed", levels=(3, 7))),
                Badge("critic", Count("review.posted", levels=(1, 5, 10))),
            ),
            Challenges(
                Challenge(
                    "monthly_reviews",
                    (Step("review.posted", 2),),
                    every="month",
                    points=100,
                    title="Two reviews this month",
                )
            ),
            Leaderboards(Board("points")),
            Occasions(),
        ],
    )


def simulate(program: Program, clock: ManualClock) -> None:
    """Four weeks of a small shop: daily regulars, a reviewer, a referral, a birthday."""
    program.enroll_many(
        [
            Advocate(external_id="ana", name="Ana", timezone="Europe/Lisbon"),
            Advocate(external_id="ben", name="Ben", attributes={"birthday": "1990-06-10"}),
            Advocate(external_id="chloe", name="Chloé", timezone="Europe/Paris"),
        ]
    )
    for day in range(28):
        actions = [purchase("ana", day, 450)]  # a coffee and a pastry every day
        if day % 3 == 0:
            actions.append(purchase("ben", day, 1200))
        if day in (2, 9, 16):
            actions.append(review("chloe", day))
        if day == 5:
            actions.append(
                Action(kind=REFERRED, advocate="ben", key="ref-ben-1", data={"friend": "dan"})
            )
        if day == 20:
            actions.append(purchase("chloe", day, 60_000))  # catering for an office party
        program.record_many(actions)
        program.tick()  # birthdays, tier reviews, challenge closings, expiries
        clock.advance(days=1)


def purchase(who: str, day: int, cents: int) -> Action:
    return Action(
        kind="purchase.completed",
        advocate=who,
        key=f"order-{who}-{day}",
        data={"order_id": f"{who}-{day}", "total_cents": cents},
    )


def review(who: str, day: int) -> Action:
    return Action(kind="review.posted", advocate=who, key=f"review-{who}-{day}", data={"rating": 5})


def summary(program: Program) -> dict[str, Any]:
    people = ("ana", "ben", "chloe")
    return {
        "balances": {who: program.balance(who) for who in people},
        "tiers": {who: program.tier(who).tier.name for who in people},
        "badges": {
            who: {s.badge.name: s.level for s in program.badges(who) if s.level} for who in people
        },
        "challenges": {
            who: [(p.challenge.name, p.period.id, p.completed) for p in program.progress(who)]
            for who in people
        },
        "this_month": [
            (s.rank, s.advocate, s.value) for s in program.board("points", window="month")
        ],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:///coffee-shop.db")
    args = parser.parse_args(argv)
    clock = ManualClock(START)
    with build_program(args.database_url, clock) as program:
        program.migrate()
        simulate(program, clock)
        result = summary(program)
    for who, balance in result["balances"].items():
        badges = ", ".join(f"{b} {lvl}" for b, lvl in result["badges"][who].items()) or "none"
        print(f"{who}: {balance} points, {result['tiers'][who]}, badges: {badges}")
    print("this month:", ", ".join(f"{r}. {who} ({v})" for r, who, v in result["this_month"]))
    return result


if __name__ == "__main__":
    main()
