"""A bakery's referral program: give a friend a free pastry, get a free coffee.

Run it (five weeks of a small bakery's referrals, simulated on ``referral-bakery.db``)::

    python examples/referral_bakery.py [--database-url sqlite:///referral-bakery.db]

What it composes, from advokit's built-in plugins:

* every customer gets a referral code and a link (``https://bakery.example/r/CODE``);
* a friend who signs up with it and spends at least 5 euros gets a free
  pastry (120 points) and the referrer a free coffee (150 points), once the
  14-day refund window has passed (the hold is 15 days);
* the third successful referral earns the referrer a bonus (a cake, 500);
* fraud screening: a customer referring themselves through another address
  of theirs is refused; a friend signing up in the referrer's own browser is
  held until a person at the bakery decides;
* a refund during the hold voids the referral; nobody is paid for it.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from advokit import Action, Advocate, ManualClock, Program
from advokit.plugins.fraud import Fraud
from advokit.plugins.referrals import Referrals

START = datetime(2026, 6, 1, 8, tzinfo=UTC)
PASTRY, COFFEE, CAKE = 120, 150, 500  # points
IP, BROWSER = "198.51.100.23", "Mozilla/5.0 (iPhone) Safari/604.1"


def build_program(database_url: str, clock: ManualClock) -> Program:
    return Program(
        name="referral-bakery",
        database_url=database_url,
        clock=clock,
        load_entrypoints=False,
        plugins=[
            Referrals(
                link="https://bakery.example/r/{code}",
                referrer_points=COFFEE,
                friend_points=PASTRY,
                minimum_cents=500,
                refund_window=timedelta(days=14),
                milestones={3: CAKE},
            ),
            Fraud(review_at=50, reject_at=100),
        ],
    )


def signup(friend: str, code: str, **data: Any) -> Action:
    return Action(
        kind="referral.signed_up",
        advocate=friend,
        key=f"signup-{friend}",
        data={"code": code, **data},
    )


def purchase(friend: str, order: str, cents: int) -> Action:
    return Action(
        kind="purchase.completed",
        advocate=friend,
        key=order,
        data={"order_id": order, "total_cents": cents},
    )


def run(database_url: str) -> dict[str, Any]:
    clock = ManualClock(START)
    program = build_program(database_url, clock)
    program.migrate()
    program.enroll_many(
        [
            Advocate(external_id="ana", name="Ana Lima", email="ana.lima@gmail.com"),
            Advocate(external_id="ben", name="Ben Okafor", email="ben@example.com"),
        ]
    )
    code = program.referral_code("ana")
    program.record(
        Action(
            kind="referral.shared",
            advocate="ana",
            key="share-ana-1",
            data={"channel": "whatsapp", "code": code.code, "ip": IP, "user_agent": BROWSER},
        )
    )
    friends = [
        Advocate(external_id="carla", name="Carla Diaz", email="carla@example.org"),
        Advocate(external_id="dev", name="Dev Patel", email="dev@example.net"),
        Advocate(external_id="eli", name="Eli Cohen", email="eli@example.com"),
        Advocate(external_id="fay", name="Fay Wong", email="fay@example.com"),
        # Ana again, through another spelling of her own inbox
        Advocate(external_id="ana-2", name="A. Lima", email="AnaLima+bakery@googlemail.com"),
        # someone on Ana's own phone
        Advocate(external_id="gus", name="Gus Brown", email="gus@example.com"),
    ]
    program.enroll_many(friends)
    outcomes = {
        friend.external_id: program.record(
            signup(friend.external_id, code.code.lower(), ip=IP, user_agent=BROWSER)
            if friend.external_id == "gus"
            else signup(friend.external_id, code.code)
        )
        for friend in friends
    }
    # Ben owns the bakery: he looks at what waits for him, and lets Gus through
    held = program.review_queue()
    program.review("signup-gus", approve=True, reviewer="ben", note="Gus is Ana's flatmate")

    clock.advance(days=2)
    for friend, cents in (("carla", 850), ("dev", 1200), ("eli", 400), ("fay", 600), ("gus", 900)):
        program.record(purchase(friend, f"order-{friend}", cents))
    clock.advance(days=3)
    program.record(  # Fay brings her tart back
        Action(
            kind="purchase.refunded",
            advocate="fay",
            key="refund-fay",
            data={"order_id": "order-fay"},
        )
    )
    program.record(purchase("eli", "order-eli-2", 700))  # Eli's second visit qualifies

    clock.advance(days=30)
    tick = program.tick()
    result = {
        "code": code,
        "signups": {name: (o.status.value, o.reasons) for name, o in outcomes.items()},
        "held": [(item.action.key, item.reasons) for item in held],
        "rewarded": tick.applied,
        "referrals": {r.friend: r.state.value for r in program.referrals("ana")},
        "balances": {
            name: program.balance(name) for name in ("ana", "carla", "dev", "eli", "fay", "gus")
        },
        "stats": program.referral_stats(period=None)[0],
    }
    program.close()
    return result


def format_result(result: dict[str, Any]) -> str:
    lines = [f"Ana's link: {result['code'].link}"]
    for friend, (status, reasons) in result["signups"].items():
        why = f" ({'; '.join(reasons)})" if reasons else ""
        lines.append(f"  {friend} signed up: {status}{why}")
    for friend, state in result["referrals"].items():
        lines.append(f"  {friend}: {state}, {result['balances'].get(friend, 0)} points")
    stats = result["stats"]
    lines.append(
        f"Ana: {result['balances']['ana']} points; funnel: {stats.attributed} attributed, "
        f"{stats.converted} converted, {stats.rewarded} rewarded, {stats.voided} voided"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:///referral-bakery.db")
    args = parser.parse_args(argv)
    result = run(args.database_url)
    print(format_result(result))
    return result


if __name__ == "__main__":
    main()
