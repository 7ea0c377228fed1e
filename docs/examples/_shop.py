"""A generated half-year of a small shop, for the metrics pages' examples.

The pages show a program reading a shop's database; this records that
database first, through the ordinary pipeline, with a clock that moves with
the history: customers enrolled from January to June 2026, their purchases,
survey answers, reviews and shares, and (with the referrals plugin) friends
they referred, some of whom referred friends in turn.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from advokit import Action, Advocate, ManualClock, Program

START = datetime(2026, 1, 1, 9, tzinfo=UTC)
END = datetime(2026, 7, 1, tzinfo=UTC)
#: What customers write, unhappy (False) and happy (True).
COMMENTS = {
    False: ("The bread was stale and the staff rude.", "Too expensive.", "Slow service."),
    True: ("Lovely croissants, great coffee!", "Friendly staff, I love it.", "Best in town."),
}


def _events(
    rng: random.Random, referrals: bool, start: datetime, end: datetime
) -> list[tuple[datetime, str, str, dict]]:
    """(when, kind, advocate, data), with kind "enroll" for an enrolment."""
    events: list[tuple[datetime, str, str, dict]] = []
    names = ["ann", "bo", *(f"c{n:02d}" for n in range(2, 80))]
    days = (end - start).days
    queue = [(who, start + timedelta(days=rng.uniform(0, days))) for who in reversed(names)]
    friends = 0
    while queue:
        who, joined = queue.pop()
        events.append((joined, "enroll", who, {}))
        for n in range(rng.randint(1, 4)):
            at = joined + timedelta(days=rng.uniform(0, 60))
            order = {"order_id": f"{who}-{n}", "total_cents": rng.randrange(500, 20_000)}
            events.append((at, "purchase.completed", who, order))
        if rng.random() < 0.75:
            score = rng.choice([2, 5, 6, 7, 8, 8, 9, 9, 10, 10, 10])
            at = joined + timedelta(days=rng.uniform(3, 40))
            answer = {"score": score}
            if rng.random() < 0.5:
                answer["comment"] = COMMENTS[score >= 9][rng.randrange(3)]
            events.append((at, "survey.answered", who, answer))
        if rng.random() < 0.45:
            for _ in range(rng.randint(1, 3)):
                at = joined + timedelta(days=rng.expovariate(1 / 20))
                if rng.random() < 0.5:
                    rating = rng.randint(2, 5)
                    review = {"rating": rating, "text": COMMENTS[rating >= 4][rng.randrange(3)]}
                    events.append((at, "review.posted", who, review))
                else:
                    events.append((at, "share.posted", who, {"reach": rng.randrange(10, 400)}))
            if referrals and rng.random() < 0.5:
                for _ in range(rng.randint(1, 3)):
                    friends += 1
                    friend, at = f"f{friends:02d}", joined + timedelta(days=rng.uniform(1, 30))
                    events.append((at, "referral.signed_up", friend, {"referrer": who}))
                    queue.append((friend, at - timedelta(minutes=5)))
    return sorted((e for e in events if e[0] < end), key=lambda e: e[0])


def record_history(
    program: Program, seed: int = 7, start: datetime = START, end: datetime = END
) -> None:
    """Record the shop's history into ``program``'s database, week by week."""
    referrals = "referrals" in {info.name for info in program.plugin_info()}
    clock = ManualClock(start)
    shop = Program(
        name=program.name,
        database_url=program.database_url,
        plugins=program.plugins,
        policies=program.policies,
        clock=clock,
    )
    events = [
        (*event, f"event-{n}")
        for n, event in enumerate(_events(random.Random(seed), referrals, start, end))
    ]
    week = timedelta(days=7)
    at = start
    while at < end:
        batch = [e for e in events if at <= e[0] < at + week]
        for when, kind, who, _, _ in batch:
            if kind == "enroll":
                clock.set(when)
                shop.enroll(Advocate(external_id=who))
        actions = [
            Action(kind=kind, advocate=who, key=key, data=data, occurred_at=when)
            for when, kind, who, data, key in batch
            if kind != "enroll"
        ]
        clock.set(at + week)
        shop.record_many(actions)
        at += week
    shop.close()
