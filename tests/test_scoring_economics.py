"""Referral economics, holdout groups, lift and ROI, on SQLite and PostgreSQL.

Each metric is checked against a computation written here in plain Python over
the generated rows; the holdout simulation checks that a known true lift is
recovered inside the reported interval.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from advokit import Action, Advocate, Program, Reward
from advokit.core.errors import ConfigurationError, InvalidValue, UnknownName
from advokit.core.store import queries as q
from advokit.plugins.referrals import Referrals, invitations_t, referrals_t
from advokit.plugins.rewards import Rewards
from advokit.plugins.scoring import Scoring, Segment, attribute
from advokit.plugins.scoring.economics import Costs, Economics
from advokit.plugins.scoring.holdout import (
    GroupStats,
    Holdout,
    holdout_group,
    mean_difference,
    not_held_out,
    proportion_difference,
)
from advokit.plugins.scoring.tables import holdouts_t

stats = pytest.importorskip("scipy.stats")  # the t quantile of the independent side

Z = 1.959963984540054
T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)  # the advokit_clock fixture's
WINDOW = (T0, datetime(2026, 6, 1, tzinfo=UTC))
ADVOCACY = {"share.posted", "review.posted"}
COSTS = Costs(fixed_cents=50_000, monthly_cents=20_000, per_reward_cents=300)
ECONOMICS = Economics(
    costs=COSTS, points_value_cents=0.5, holdouts=(Holdout("spring", share=0.3, salt="s"),)
)
NO_REFERRALS = "the referrals plugin is not part of the program (no referrals table)"


# --------------------------------------------------------------------------- plain Python


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return max(0.0, centre - half) * 100, min(1.0, centre + half) * 100


def welch(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """(difference of means, low, high) at 95%, with scipy's t quantile."""
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    diff = statistics.fmean(a) - statistics.fmean(b)
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    return diff, diff - half, diff + half


def newcombe(a: list[int], b: list[int]) -> tuple[float, float]:
    pa, pb = sum(a) / len(a), sum(b) / len(b)
    la, ua = (x / 100 for x in wilson(sum(a), len(a)))
    lb, ub = (x / 100 for x in wilson(sum(b), len(b)))
    d = pa - pb
    low = d - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2)
    high = d + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)
    return low * 100, high * 100


def month(when: datetime) -> date:
    return date(when.year, when.month, 1)


def inside(when: datetime, window: tuple[datetime, datetime] = WINDOW) -> bool:
    return window[0] <= when < window[1]


# --------------------------------------------------------------------------- generated data


def _ids(program: Program) -> dict[str, int]:
    a = q.advocates_t
    with program.engine.connect() as conn:
        return dict(conn.execute(sa.select(a.c.external_id, a.c.id)).all())  # type: ignore[arg-type]


class Shop:
    """A generated shop: referrers, referred friends and other customers, their
    purchases, refunds and shares (recorded), referrals and invitations
    (inserted), all kept here as rows for the plain-Python side."""

    def __init__(self, program: Program, seed: int = 11) -> None:
        rng = random.Random(seed)
        self.program = program
        self.referrers = [f"r{n}" for n in range(30)]
        self.friends = [f"f{n}" for n in range(150)]
        self.others = [f"c{n}" for n in range(80)]
        everyone = self.referrers + self.friends + self.others
        program.enroll_many(Advocate(external_id=who) for who in everyone)
        self.actions: list[dict[str, Any]] = []  # kind, who, at, cents
        recorded = []
        for who in everyone:
            for n in range(rng.randint(0, 3)):
                at = T0 + timedelta(days=rng.uniform(-20, 150))
                cents = rng.randint(500, 9000)
                self._add(recorded, "purchase.completed", who, at, cents, f"{who}-{n}")
                if rng.random() < 0.15:
                    back = rng.randint(100, cents)
                    self._add(recorded, "purchase.refunded", who, at + timedelta(days=1), back, "")
            if who[0] in "rc" and rng.random() < 0.35:
                for _ in range(rng.randint(1, 2)):
                    at = T0 + timedelta(days=rng.uniform(0, 150))
                    self._add(recorded, rng.choice(sorted(ADVOCACY)), who, at, 0, "")
        program.record_many(recorded)
        ids = _ids(program)
        self.referrals = [self._referral(rng, friend) for friend in self.friends]
        self.invitations = [
            {"referrer": rng.choice(self.referrers), "at": T0 + timedelta(days=rng.uniform(0, 150))}
            for _ in range(200)
        ]
        with program.engine.begin() as conn:
            conn.execute(
                referrals_t.insert(),
                [
                    {
                        "friend_id": ids[row["friend"]],
                        "program": program.name,
                        "version": 1,
                        "referrer_id": ids[row["referrer"]],
                        "source": "code",
                        "state": row["state"],
                        "attributed_at": row["attributed_at"],
                        "converted_at": row["converted_at"],
                        "rewarded_at": row["rewarded_at"],
                        "voided_at": row["voided_at"],
                        "referrer_paid": row["referrer_paid"],
                        "friend_paid": row["friend_paid"],
                    }
                    for row in self.referrals
                ],
            )
            conn.execute(
                invitations_t.insert(),
                [
                    {
                        "program": program.name,
                        "inbox": f"friend{n}@example.com",
                        "referrer_id": ids[row["referrer"]],
                        "invited_at": row["at"],
                    }
                    for n, row in enumerate(self.invitations)
                ],
            )

    def _add(self, recorded: list, kind: str, who: str, at: datetime, cents: int, order: str):
        key = f"k{len(recorded)}"
        data: dict[str, Any] = {}
        if kind == "purchase.completed":
            data = {"order_id": order, "total_cents": cents}
        elif kind == "purchase.refunded":
            data = {"order_id": key, "refund_cents": cents}
        recorded.append(Action(kind=kind, advocate=who, key=key, occurred_at=at, data=data))
        self.actions.append({"kind": kind, "who": who, "at": at, "cents": cents})

    def _referral(self, rng: random.Random, friend: str) -> dict[str, Any]:
        attributed = T0 + timedelta(days=rng.uniform(-10, 140))
        row: dict[str, Any] = {
            "friend": friend,
            "referrer": rng.choice(self.referrers),
            "attributed_at": attributed,
            "converted_at": None,
            "rewarded_at": None,
            "voided_at": None,
            "referrer_paid": None,
            "friend_paid": None,
            "state": "signed_up",
        }
        if rng.random() < 0.6:
            row["converted_at"] = attributed + timedelta(days=rng.uniform(0, 10))
            row["state"] = "pending"
            if rng.random() < 0.7:
                row["rewarded_at"] = row["converted_at"] + timedelta(days=3)
                row["referrer_paid"] = rng.choice([0, 100, 100])
                row["friend_paid"] = 50
                row["state"] = "rewarded"
            if rng.random() < 0.15:
                row["voided_at"] = row["converted_at"] + timedelta(days=2)
                row["state"] = "voided"
        return row

    def revenue(self, who: str, after: datetime | None = None) -> tuple[int, int]:
        """(purchases, net cents) of ``who`` in the window (from ``after``)."""
        bought = net = 0
        for a in self.actions:
            if a["who"] != who or not inside(a["at"]) or (after and a["at"] < after):
                continue
            if a["kind"] == "purchase.completed":
                bought, net = bought + 1, net + a["cents"]
            elif a["kind"] == "purchase.refunded":
                net -= a["cents"]
        return bought, net


@pytest.fixture
def shop(make_program: Callable[..., Program], database_url: str) -> Shop:
    program = make_program(
        database_url=database_url,
        plugins=[Referrals(), Scoring(economics=ECONOMICS, advocacy_kinds=ADVOCACY)],
    )
    return Shop(program)


# --------------------------------------------------------------------------- funnel, K, LTV


def test_referral_funnel_by_month_matches_plain_python(shop: Shop) -> None:
    score = shop.program.score("referral_funnel", by="month")
    expected: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in shop.referrals:
        counts = expected[month(row["attributed_at"])]
        for i, column in enumerate(("attributed_at", "converted_at", "rewarded_at", "voided_at")):
            counts[i] += row[column] is not None
    assert [p.period for p in score.periods] == sorted(expected)
    for period in score.periods:
        attributed, converted, rewarded, voided = expected[period.period]
        assert dict(period.counts) == {
            "attributed": attributed,
            "converted": converted,
            "rewarded": rewarded,
            "voided": voided,
        }
        assert period.value == pytest.approx(100 * converted / attributed)
        assert (period.interval.low, period.interval.high) == pytest.approx(
            wilson(converted, attributed)
        )
        rate = period.details["rates"]["converted->rewarded"]
        assert rate["value"] == pytest.approx(100 * rewarded / converted)
    total = [sum(c[i] for c in expected.values()) for i in range(4)]
    assert score.n == total[0] == len(shop.referrals)
    assert score.value == pytest.approx(100 * total[1] / total[0])

    # a segment keeps the referrals of the referrers in it
    team = set(shop.referrers[:10])
    shop.program.enroll_many(Advocate(external_id=who, attributes={"team": "a"}) for who in team)
    funnel = shop.program.score("referral_funnel", segment=Segment("a", attribute("team", "a")))
    mine = [r for r in shop.referrals if r["referrer"] in team]
    assert funnel.n == len(mine)
    assert funnel.counts["converted"] == sum(1 for r in mine if r["converted_at"])


def test_k_factor_by_month_matches_plain_python(shop: Shop) -> None:
    score = shop.program.score("k_factor", by="month", window=WINDOW)

    def expected(keep: Callable[[datetime], bool]) -> tuple[int, int, int, int]:
        active = {a["who"] for a in shop.actions if inside(a["at"]) and keep(a["at"])}
        invites = [i for i in shop.invitations if inside(i["at"]) and keep(i["at"])]
        converted = [
            r
            for r in shop.referrals
            if r["converted_at"] and inside(r["converted_at"]) and keep(r["converted_at"])
        ]
        inviters = {i["referrer"] for i in invites}
        return len(active), len(inviters), len(invites), len(converted)

    months = sorted({month(a["at"]) for a in shop.actions if inside(a["at"])})
    assert [p.period for p in score.periods] == months
    for period in score.periods:
        first = period.period
        active, inviters, invites, converted = expected(lambda at, first=first: month(at) == first)
        assert period.n == active
        assert period.counts["inviters"] == inviters
        assert period.counts["invitations"] == invites
        assert period.value == pytest.approx(converted / active)
        assert period.details["invitations_per_advocate"] == pytest.approx(invites / active)
        assert period.details["invitation_conversion"] == pytest.approx(converted / invites)
        # K = invitations per advocate x conversions per invitation
        assert period.value == pytest.approx(
            period.details["invitations_per_advocate"] * period.details["invitation_conversion"]
        )
    active, inviters, invites, converted = expected(lambda at: True)
    assert (score.n, score.counts["inviters"], score.counts["converted"]) == (
        active,
        inviters,
        converted,
    )
    assert score.value == pytest.approx(converted / active)


def test_ltv_matches_plain_python(shop: Shop) -> None:
    referred = {r["friend"] for r in shop.referrals}
    advocates = {a["who"] for a in shop.actions if a["kind"] in ADVOCACY}
    for compare, members, names in [
        ("referred", referred, ("referred", "not_referred")),
        ("advocates", advocates, ("advocates", "non_advocates")),
    ]:
        score = shop.program.score("ltv", compare=compare, window=WINDOW)
        groups: dict[bool, list[float]] = {True: [], False: []}
        for who in shop.referrers + shop.friends + shop.others:
            bought, net = shop.revenue(who)
            if bought:
                groups[who in members].append(net)
        diff, low, high = welch(groups[True], groups[False])
        assert score.n == len(groups[True]) + len(groups[False])
        assert dict(score.counts) == {names[0]: len(groups[True]), names[1]: len(groups[False])}
        assert score.value == pytest.approx(diff)
        assert (score.interval.low, score.interval.high) == pytest.approx((low, high))
        first = score.details["groups"][names[0]]
        assert first["sd"] == pytest.approx(statistics.stdev(groups[True]))
        assert score.details["ratio"] == pytest.approx(
            statistics.fmean(groups[True]) / statistics.fmean(groups[False])
        )


# --------------------------------------------------------------------------- costs and ROI


def _cost(shop: Shop) -> tuple[float, int]:
    rewarded = [
        r
        for r in shop.referrals
        if r["rewarded_at"] and not r["voided_at"] and inside(r["rewarded_at"])
    ]
    points = sum(r["referrer_paid"] + r["friend_paid"] for r in rewarded)
    months = (WINDOW[1] - WINDOW[0]).days / (365.25 / 12)
    cost = points * 0.5 + 300 * len(rewarded) + COSTS.fixed_cents + COSTS.monthly_cents * months
    return cost, len(rewarded)


def test_referral_cac_and_naive_roi_match_plain_python(shop: Shop) -> None:
    cost, rewarded = _cost(shop)
    acquired = [
        r
        for r in shop.referrals
        if r["converted_at"] and not r["voided_at"] and inside(r["converted_at"])
    ]
    cac = shop.program.score("referral_cac", window=WINDOW)
    assert cac.n == len(acquired)
    assert cac.counts["rewarded"] == rewarded
    assert cac.value == pytest.approx(cost / len(acquired))
    assert cac.details["cost"]["total"] == pytest.approx(cost)

    revenue, customers = 0, set()
    for r in shop.referrals:
        if r["voided_at"]:
            continue
        for a in shop.actions:
            if a["who"] == r["friend"] and inside(a["at"]) and a["at"] >= r["attributed_at"]:
                if a["kind"] == "purchase.completed":
                    revenue += a["cents"]
                    customers.add(a["who"])
                elif a["kind"] == "purchase.refunded":
                    revenue -= a["cents"]
                    customers.add(a["who"])
    roi = shop.program.score("roi", window=WINDOW)
    assert roi.label == "naive"
    assert roi.n == len(customers)
    assert roi.details["attributable_cents"] == revenue
    assert roi.value == pytest.approx((revenue - cost) / cost)
    assert "naive" in str(roi)


def _assign_in_march(shop: Shop) -> dict[str, str]:
    """Assign the spring holdout as of 1 March (updating the recorded time)."""
    counts = shop.program.assign_holdout("spring")
    assert counts.assigned == counts.held_out + counts.treated == 260
    h, a = holdouts_t, q.advocates_t
    with shop.program.engine.begin() as conn:
        conn.execute(sa.update(h).values(assigned_at=datetime(2026, 3, 1, tzinfo=UTC)))
        rows = conn.execute(
            sa.select(a.c.external_id, h.c.group).join(a, a.c.id == h.c.advocate_id)
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def test_lift_matches_plain_python(shop: Shop) -> None:
    groups = _assign_in_march(shop)
    march = datetime(2026, 3, 1, tzinfo=UTC)
    for outcome in ("revenue", "conversion", "advocacy"):
        values: dict[str, list[float]] = {"treatment": [], "holdout": []}
        for who, group in groups.items():
            mine = [a for a in shop.actions if a["who"] == who and march <= a["at"] < WINDOW[1]]
            if outcome == "revenue":
                values[group].append(shop.revenue(who, after=march)[1])
            elif outcome == "conversion":
                values[group].append(int(any(a["kind"] == "purchase.completed" for a in mine)))
            else:
                values[group].append(int(any(a["kind"] in ADVOCACY for a in mine)))
        score = shop.program.score("lift", holdout="spring", outcome=outcome, window=WINDOW)
        treated, held = values["treatment"], values["holdout"]
        assert dict(score.counts) == {"treatment": len(treated), "holdout": len(held)}
        scale = 1 if outcome == "revenue" else 100
        diff = (statistics.fmean(treated) - statistics.fmean(held)) * scale
        assert score.value == pytest.approx(diff), outcome
        if outcome == "revenue":
            expected = welch(treated, held)[1:]
            assert score.unit == "cents"
        else:
            expected = newcombe([int(v) for v in treated], [int(v) for v in held])
            assert score.unit == "%"
        assert (score.interval.low, score.interval.high) == pytest.approx(expected), outcome
        assert score.details["relative_lift_percent"] == pytest.approx(
            diff * 100 / (statistics.fmean(held) * scale)
        )


# --------------------------------------------------------------------------- the simulation


def test_a_holdout_simulation_recovers_the_true_lift_within_its_interval(
    make_program: Callable[..., Program], database_url: str, advokit_clock: Any
) -> None:
    """2,000 advocates, 20% held out; after the assignment each buys for
    N(1000 + 200, 300) cents when treated and N(1000, 300) when held out: the
    reported 95% interval holds the true lift, 200, and not 0."""
    economics = Economics(
        costs=Costs(fixed_cents=100_000), holdouts=(Holdout("sim", share=0.2, salt="sim"),)
    )
    program = make_program(database_url=database_url, plugins=[Scoring(economics=economics)])
    people = [f"p{n}" for n in range(2000)]
    program.enroll_many(Advocate(external_id=who) for who in people)
    rng = random.Random(2026)
    before = [  # bought before the assignment: not the program's doing
        _purchase(who, f"b{n}", rng.gauss(3000, 300), NOW - timedelta(days=3))
        for n, who in enumerate(people)
    ]
    program.record_many(before)
    counts = program.assign_holdout("sim")
    assert counts.assigned == 2000
    groups = _groups(program, "sim")
    advokit_clock.advance(days=10)
    cents: dict[str, list[float]] = {"treatment": [], "holdout": []}
    after = []
    for n, who in enumerate(people):
        paid = max(0, round(rng.gauss(1000 + (200 if groups[who] == "treatment" else 0), 300)))
        cents[groups[who]].append(paid)
        after.append(_purchase(who, f"a{n}", paid, NOW + timedelta(days=2)))
    program.record_many(after)

    lift = program.score("lift", holdout="sim")
    diff, low, high = welch(cents["treatment"], cents["holdout"])
    assert lift.value == pytest.approx(diff)
    assert (lift.interval.low, lift.interval.high) == pytest.approx((low, high))
    assert 200 in lift.interval
    assert 0 not in lift.interval
    assert lift.n == 2000 and lift.counts["holdout"] == counts.held_out

    roi = program.score("roi", method="holdout", holdout="sim")
    treated = len(cents["treatment"])
    assert roi.label == "holdout"
    assert roi.value == pytest.approx((diff * treated - 100_000) / 100_000)
    assert roi.interval.low == pytest.approx((low * treated - 100_000) / 100_000)
    assert roi.interval.high == pytest.approx((high * treated - 100_000) / 100_000)
    assert "[holdout]" in str(roi)
    naive = program.score("roi")  # no referrals plugin: naive ROI cannot say
    assert naive.label == "naive" and naive.value is None and naive.missing == (NO_REFERRALS,)


def _purchase(who: str, key: str, cents: float, at: datetime) -> Action:
    return Action(
        kind="purchase.completed",
        advocate=who,
        key=key,
        occurred_at=at,
        data={"order_id": key, "total_cents": max(0, round(cents))},
    )


# --------------------------------------------------------------------------- assignment


def test_assignment_is_stable_and_near_its_share(
    make_program: Callable[..., Program], database_url: str
) -> None:
    tenth = Holdout("wave", share=0.1)
    program = make_program(
        database_url=database_url,
        plugins=[Scoring(economics=Economics(holdouts=(tenth,)))],
    )
    program.enroll_many(Advocate(external_id=f"a{n}") for n in range(2000))
    first = program.assign_holdout("wave")
    assert (first.name, first.assigned) == ("wave", 2000)
    assert abs(first.held_out / 2000 - 0.1) < 0.02
    recorded = _groups(program, "wave")
    assert sum(g == "holdout" for g in recorded.values()) == first.held_out
    # the pure predicate agrees with the record, for journeys and code
    when = not_held_out(tenth, "test")
    for who, group in recorded.items():
        assert tenth.excludes(who, program) is (group == "holdout")
        assert when(Advocate(external_id=who), None) is (group == "treatment")

    again = program.assign_holdout("wave")
    assert (again.assigned, again.held_out) == (0, first.held_out)
    assert _groups(program, "wave") == recorded

    # a later share changes no one already assigned, only newcomers
    half = make_program(
        database_url=program.database_url,
        plugins=[Scoring(economics=Economics(holdouts=(Holdout("wave", share=0.5),)))],
    )
    half.enroll_many(Advocate(external_id=f"new{n}") for n in range(600))
    later = half.assign_holdout("wave")
    assert later.assigned == 600
    now = _groups(half, "wave")
    assert {who: now[who] for who in recorded} == recorded
    newcomers = [g for who, g in now.items() if who.startswith("new")]
    assert abs(newcomers.count("holdout") / 600 - 0.5) < 0.07

    # the holdout_group segment condition reads the record
    held = Segment("held", holdout_group("wave", "holdout"))
    lift = program.score("lift", holdout="wave", segment=held)
    assert dict(lift.counts) == {
        "treatment": 0,
        "holdout": first.held_out + newcomers.count("holdout"),
    }
    assert lift.value is None and lift.missing == ("the treatment group is empty",)


def test_only_eligible_advocates_are_assigned(
    make_program: Callable[..., Program], database_url: str
) -> None:
    pro = Holdout("pro", share=0.5, eligible=attribute("plan", "pro"))
    program = make_program(
        database_url=database_url, plugins=[Scoring(economics=Economics(holdouts=(pro,)))]
    )
    program.enroll_many(
        Advocate(external_id=f"a{n}", attributes={"plan": "pro" if n % 3 == 0 else "free"})
        for n in range(90)
    )
    assert program.assign_holdout("pro").assigned == 30
    assert set(_groups(program, "pro")) == {f"a{n}" for n in range(0, 90, 3)}


def _groups(program: Program, name: str) -> dict[str, str]:
    a, h = q.advocates_t, holdouts_t
    with program.engine.connect() as conn:
        rows = conn.execute(
            sa.select(a.c.external_id, h.c.group)
            .join(a, a.c.id == h.c.advocate_id)
            .where(h.c.experiment == name)
        ).all()
    return dict(rows)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the referrals plugin


def test_cac_counts_points_and_money_rewards_of_real_referrals(
    make_program: Callable[..., Program], database_url: str, advokit_clock: Any
) -> None:
    economics = Economics(costs=Costs(per_reward_cents=200), points_value_cents=1, currency="EUR")
    program = make_program(
        database_url=database_url,
        plugins=[
            Referrals(
                referrer_points=100,
                friend_points=50,
                friend_reward=Reward(kind="gift_card", amount=500, currency="EUR"),
            ),
            Rewards(),
            Scoring(economics=economics),
        ],
    )
    program.enroll_many(Advocate(external_id=who) for who in ("ann", "zoe", "max"))
    for friend in ("zoe", "max"):
        program.record(
            Action(
                kind="referral.signed_up",
                advocate=friend,
                key=f"su-{friend}",
                data={"referrer": "ann"},
            )
        )
    program.record(
        Action(
            kind="purchase.completed",
            advocate="zoe",
            key="o1",
            data={"order_id": "o1", "total_cents": 2500},
        )
    )
    advokit_clock.advance(days=40)
    program.tick()
    assert program.referral("zoe").state == "rewarded"
    cac = program.score("referral_cac")
    cost = cac.details["cost"]
    assert (cost["points"], cost["rewards_cents"], cost["overhead_cents"]) == (150, 500, 200)
    assert (cac.n, cac.value) == (1, 850)
    funnel = program.score("referral_funnel")
    assert dict(funnel.counts) == {"attributed": 2, "converted": 1, "rewarded": 1, "voided": 0}
    assert funnel.value == 50


# --------------------------------------------------------------------------- empty and bad input


def test_empty_populations_say_n_0(make_program: Callable[..., Program], database_url: str):
    program = make_program(
        database_url=database_url, plugins=[Referrals(), Scoring(economics=ECONOMICS)]
    )
    for name, options in [
        ("referral_funnel", {}),
        ("k_factor", {}),
        ("ltv", {}),
        ("ltv", {"compare": "advocates"}),
        ("referral_cac", {}),
        ("lift", {"holdout": "spring"}),
        ("roi", {}),
        ("roi", {"method": "holdout", "holdout": "spring"}),
    ]:
        score = program.score(name, **options)
        assert (score.n, score.value) == (0, None), name
        assert score.missing, name
    lift = program.score("lift", holdout="spring")
    assert "program.assign_holdout('spring')" in lift.missing[0]
    assert program.score("roi", method="holdout", holdout="spring").label == "holdout"


def test_without_the_referrals_plugin_referral_metrics_say_so(
    make_program: Callable[..., Program],
) -> None:
    program = make_program()
    for name in ("referral_funnel", "k_factor", "ltv", "referral_cac", "roi"):
        score = program.score(name)
        assert (score.n, score.value, score.missing) == (0, None, (NO_REFERRALS,)), name
    assert program.score("ltv", compare="advocates").missing != (NO_REFERRALS,)


def test_roi_without_a_program_cost_is_undefined(
    make_program: Callable[..., Program], advokit_clock: Any
) -> None:
    program = make_program(plugins=[Referrals(), Scoring()])
    program.enroll_many(Advocate(external_id=who) for who in ("ann", "zoe"))
    program.record(
        Action(kind="referral.signed_up", advocate="zoe", key="s", data={"referrer": "ann"})
    )
    program.record(
        Action(
            kind="purchase.completed",
            advocate="zoe",
            key="o",
            data={"order_id": "o", "total_cents": 900},
        )
    )
    roi = program.score("roi")
    assert roi.value is None and roi.n == 1
    assert roi.missing[0] == "no program cost configured or incurred: ROI is undefined"
    assert roi.details["attributable_cents"] == 900


@pytest.mark.parametrize(
    ("name", "options", "field"),
    [
        ("ltv", {"compare": "friends"}, "ltv.compare"),
        ("lift", {"holdout": "autumn"}, "lift.holdout"),
        ("lift", {"holdout": "spring", "outcome": "clicks"}, "lift.outcome"),
        ("roi", {"method": "magic"}, "roi.method"),
        ("roi", {"method": "holdout"}, "roi.holdout"),
        ("ltv", {"by": "month"}, "by"),
        ("roi", {"color": "red"}, "score('roi') option"),
    ],
)
def test_bad_options_are_refused_naming_the_field(
    make_program: Callable[..., Program], name: str, options: dict[str, Any], field: str
) -> None:
    program = make_program(plugins=[Scoring(economics=ECONOMICS)])
    with pytest.raises(InvalidValue) as caught:
        program.score(name, **options)
    assert caught.value.field == field
    assert "expected" in str(caught.value)


def test_lift_without_any_holdout_configured_says_so(
    make_program: Callable[..., Program],
) -> None:
    program = make_program()
    with pytest.raises(InvalidValue, match=r"lift.holdout=None .*none is configured"):
        program.score("lift")
    with pytest.raises(UnknownName, match="one of spring"):
        make_program(plugins=[Scoring(economics=ECONOMICS)]).assign_holdout("autumn")


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Holdout("h", share=1.5), "Holdout.share"),
        (lambda: Holdout("h", share=0), "Holdout.share"),
        (lambda: Holdout("Bad Name"), "Holdout.name"),
        (lambda: Holdout("h", eligible="vip"), "Holdout.eligible"),
        (lambda: Costs(fixed_cents=-1), "Costs.fixed_cents"),
        (lambda: Costs(monthly_cents=1.5), "Costs.monthly_cents"),
        (lambda: Economics(costs={"fixed_cents": 1}), "Economics.costs"),
        (lambda: Economics(points_value_cents=-1), "Economics.points_value_cents"),
        (lambda: Economics(currency="eur"), "Economics.currency"),
        (lambda: Economics(holdouts=(Holdout("h"), Holdout("h"))), "Economics.holdouts"),
        (lambda: Economics(holdouts=("h",)), "Economics.holdouts"),
        (lambda: not_held_out("h", "shop"), "not_held_out.holdout"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(make: Callable[[], Any], field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make()
    assert caught.value.field == field


def test_bad_segment_conditions_are_refused() -> None:
    with pytest.raises(InvalidValue, match="holdout_group.group='control'"):
        holdout_group("wave", "control")


# --------------------------------------------------------------------------- the docs' examples


def test_docs_worked_example_ltv_and_shares() -> None:
    ltv = mean_difference(GroupStats(300, 12_400.0, 5_000.0), GroupStats(2_700, 10_100.0, 6_000.0))
    assert (round(ltv.low, 1), round(ltv.high, 1)) == (1688.8, 2911.2)
    shares = proportion_difference(GroupStats(1800, 0.30, None), GroupStats(200, 0.25, None))
    assert (round(shares.low, 1), round(shares.high, 1)) == (-1.8, 10.9)


def test_docs_worked_example_lift_and_roi() -> None:
    treated, held = GroupStats(1800, 1200.0, 300.0), GroupStats(200, 1000.0, 300.0)
    interval = mean_difference(treated, held)
    assert (round(interval.low, 2), round(interval.high, 2)) == (155.96, 244.04)
    cost = 150_000
    assert (200 * 1800 - cost) / cost == 1.4
    assert round((interval.low * 1800 - cost) / cost, 2) == 0.87
    assert round((interval.high * 1800 - cost) / cost, 2) == 1.93


def test_docs_worked_example_cac(make_program: Callable[..., Program]) -> None:
    """May: 4 friends converted, 3 rewarded 100 + 50 points at 1 cent, 200 cents
    of overhead each, 30,000 cents a month: CAC = 7,901.10 cents."""
    economics = Economics(
        costs=Costs(monthly_cents=30_000, per_reward_cents=200), points_value_cents=1
    )
    program = make_program(plugins=[Referrals(), Scoring(economics=economics)])
    people = ["ann"] + [f"friend{n}" for n in range(4)]
    program.enroll_many(Advocate(external_id=who) for who in people)
    ids = _ids(program)
    may = datetime(2026, 5, 3, tzinfo=UTC)
    with program.engine.begin() as conn:
        for n in range(4):
            rewarded = n < 3
            conn.execute(
                referrals_t.insert().values(
                    friend_id=ids[f"friend{n}"],
                    program="test",
                    version=1,
                    referrer_id=ids["ann"],
                    source="code",
                    state="rewarded" if rewarded else "pending",
                    attributed_at=may,
                    converted_at=may + timedelta(days=1),
                    rewarded_at=may + timedelta(days=5) if rewarded else None,
                    referrer_paid=100 if rewarded else None,
                    friend_paid=50 if rewarded else None,
                )
            )
    cac = program.score("referral_cac", window=(date(2026, 5, 1), date(2026, 6, 1)))
    assert cac.n == 4
    assert round(cac.details["cost"]["running_cents"], 2) == 30_554.41
    assert round(cac.details["cost"]["total"], 2) == 31_604.41
    assert round(cac.value, 2) == 7_901.10
    funnel = program.score("referral_funnel")
    assert (funnel.value, round(funnel.interval.low, 1)) == (100, 51.0)
