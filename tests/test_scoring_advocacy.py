"""Advocacy scores (CAS, BAI) and advocate types, on SQLite and PostgreSQL.

Each figure is checked against a plain-Python computation over the generated
rows, written here independently of the module's SQL.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from advokit import Action, Advocate, ConfigurationError, InvalidValue
from advokit.core.errors import UnknownAdvocate, UnknownName
from advokit.core.store import queries as q
from advokit.plugins.referrals import Referrals, referrals_t
from advokit.plugins.scoring import Scoring, Segment, advocate_type
from advokit.plugins.scoring.advocacy import AdvocacyWeights, BrandWeights
from advokit.plugins.scoring.types import AdvocateType, performed_at_least

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the advokit_clock fixture's start
DAY = timedelta(days=1)

# what the docs say, restated: weights, caps, horizon; BAI weights and "active"
CAS_WEIGHTS = {
    "nps": 0.25,
    "referrals_sent": 0.10,
    "referrals_converted": 0.15,
    "reviews": 0.15,
    "shares": 0.10,
    "ugc": 0.10,
    "community": 0.05,
    "recency": 0.10,
}
CAPS = {
    "referrals_sent": 5,
    "referrals_converted": 3,
    "reviews": 3,
    "shares": 10,
    "ugc": 3,
    "community": 10,
}
BAI_WEIGHTS = {
    "nps": 0.25,
    "referred": 0.15,
    "conversion": 0.10,
    "reviewed": 0.10,
    "shared": 0.10,
    "ugc": 0.10,
    "community": 0.05,
    "active": 0.15,
}
ADVOCACY = {
    "review.posted",
    "share.posted",
    "ugc.submitted",
    "community.post",
    "referral.shared",
    "referral.invited",
}
COUNTED = {
    "reviews": "review.posted",
    "shares": "share.posted",
    "ugc": "ugc.submitted",
    "community": "community.post",
}


# -- the worked example of docs/metrics-advocacy.md


def build_ann(make_program, database_url, advokit_clock, **scoring):
    """Ann: NPS 10, 5 friends referred (2 bought), 2 reviews, 8 shares, 3 UGC,
    4 community posts, her last advocacy action 54 days ago."""
    advokit_clock.set(NOW - 300 * DAY)
    program = make_program(database_url=database_url, plugins=[Referrals(), Scoring(**scoring)])
    program.enroll_many([Advocate(external_id="ann"), Advocate(external_id="bo")])
    advokit_clock.set(NOW)
    program.enroll_many(Advocate(external_id=f"friend{i}") for i in range(5))
    actions = [
        Action(
            kind="referral.signed_up",
            advocate=f"friend{i}",
            key=f"signup{i}",
            data={"referrer": "ann"},
            occurred_at=NOW - 80 * DAY,
        )
        for i in range(5)
    ]
    actions += [
        Action(
            kind="purchase.completed",
            advocate=f"friend{i}",
            key=f"order{i}",
            data={"order_id": f"o{i}", "total_cents": 3000},
            occurred_at=NOW - 70 * DAY,
        )
        for i in range(2)
    ]
    actions.append(
        Action(
            kind="survey.answered",
            advocate="ann",
            key="nps",
            data={"score": 10},
            occurred_at=NOW - 100 * DAY,
        )
    )
    for kind, count, data in (
        ("review.posted", 2, {}),
        ("share.posted", 8, {"reach": 200}),
        ("ugc.submitted", 3, {}),
        ("community.post", 4, {}),
    ):
        actions += [
            Action(
                kind=kind,
                advocate="ann",
                key=f"{kind}{i}",
                data=data,
                occurred_at=NOW - (54 + i) * DAY,
            )
            for i in range(count)
        ]
    program.record_many(actions)
    return program


def test_ann_is_at_82_and_her_contributions_add_up(make_program, database_url, advokit_clock):
    program = build_ann(make_program, database_url, advokit_clock)
    # by hand: 100 * (0.25 * 10/10 + 0.10 * min(5/5, 1) + 0.15 * 2/3 + 0.15 * 2/3
    #                 + 0.10 * 8/10 + 0.10 * min(3/3, 1) + 0.05 * 4/10 + 0.10 * (1 - 54/180))
    by_hand = 100 * (
        0.25 * 1.0
        + 0.10 * 1.0
        + 0.15 * (2 / 3)
        + 0.15 * (2 / 3)
        + 0.10 * 0.8
        + 0.10 * 1.0
        + 0.05 * 0.4
        + 0.10 * (1 - 54 / 180)
    )
    assert by_hand == pytest.approx(82)

    score = program.advocacy_score("ann")
    assert score.value == pytest.approx(by_hand)
    assert score.n == 1 and score.unit == "score" and score.missing == ()
    contributions = score.details["contributions"]
    assert [c.component for c in contributions] == list(CAS_WEIGHTS)
    assert math.fsum(c.points for c in contributions) == pytest.approx(score.value)
    points = {c.component: c.points for c in contributions}
    assert points == pytest.approx(
        {
            "nps": 25,
            "referrals_sent": 10,
            "referrals_converted": 10,
            "reviews": 10,
            "shares": 8,
            "ugc": 10,
            "community": 2,
            "recency": 7,
        }
    )
    raw = {c.component: c.raw for c in contributions}
    assert raw["referrals_sent"] == 5 and raw["referrals_converted"] == 2
    assert raw["recency"] == pytest.approx(54)

    assert program.score("cas", advocate="ann").value == pytest.approx(82)
    ranking = program.advocacy_scores(limit=2)
    assert ranking[0][0] == "ann" and ranking[0][1] == pytest.approx(82)
    assert len(ranking) == 2 and ranking[1][1] == 0
    # 7 advocates: Ann at 82, six at 0
    mean = program.score("cas")
    assert mean.n == 7 and mean.value == pytest.approx(82 / 7)
    assert mean.details["distribution"]["80-90"] == 1
    assert mean.details["distribution"]["0-10"] == 6
    assert math.fsum(c.points for c in mean.details["contributions"]) == pytest.approx(82 / 7)
    assert program.advocate_types_of("ann") == {
        "passionate_enthusiast",
        "micro_influencer",
        "referral_advocate",
        "social_sharer",
    }


def test_changing_the_weights_changes_anns_score(make_program, advokit_clock, sqlite_url):
    weights = AdvocacyWeights(nps=2, shares=2, recency=0, caps={"shares": 4}, horizon_days=90)
    program = build_ann(make_program, sqlite_url, advokit_clock, advocacy=weights)
    total = 2 + 0.10 + 0.15 + 0.15 + 2 + 0.10 + 0.05 + 0
    by_hand = (
        100
        * (2 * 1 + 0.10 * 1 + 0.15 * 2 / 3 + 0.15 * 2 / 3 + 2 * 1 + 0.10 * 1 + 0.05 * 0.4)
        / total
    )
    assert by_hand == pytest.approx(97.14, abs=0.01)  # the docs' 97.1
    score = program.advocacy_score("ann")
    assert score.value == pytest.approx(by_hand)
    assert {c.component: c.weight for c in score.details["contributions"]}["nps"] == (
        pytest.approx(2 / total)
    )


# -- generated data, and the independent computation


def generate(program, advokit_clock, seed=7):
    """120 advocates enrolled at 4 tenures, ~700 actions, 50 referrals, some rejected."""
    rng = random.Random(seed)
    advocates = {}
    for tenure in (400, 200, 100, 10):
        advokit_clock.set(NOW - tenure * DAY)
        batch = []
        for _ in range(30):
            external_id = f"a{len(advocates):03d}"
            followers = rng.choice([None, None, 500, 5_000, 200_000])
            attributes = {} if followers is None else {"followers": followers}
            advocates[external_id] = {"enrolled": NOW - tenure * DAY, "followers": followers}
            batch.append(Advocate(external_id=external_id, attributes=attributes))
        program.enroll_many(batch)
    advokit_clock.set(NOW)

    kinds = [
        ("share.posted", 20),
        ("review.posted", 12),
        ("ugc.submitted", 8),
        ("community.post", 10),
        ("referral.invited", 10),
        ("referral.shared", 5),
        ("purchase.completed", 15),
        ("survey.answered", 15),
        ("csat", 5),
    ]
    names, odds = zip(*kinds, strict=True)
    actions = []
    for external_id, advocate in advocates.items():
        span = (NOW - advocate["enrolled"]).total_seconds()
        for _ in range(rng.choice([0, 2, 6, 15])):
            kind = rng.choices(names, odds)[0]
            data = {}
            if kind == "share.posted":
                reach = rng.choice([None, 50, 300, 900])
                data = {} if reach is None else {"reach": reach}
            elif kind == "referral.invited":
                data = {"email": f"friend{len(actions)}@example.com"}
            elif kind == "referral.shared":
                data = {"channel": "email"}
            elif kind == "purchase.completed":
                data = {"order_id": f"o{len(actions)}", "total_cents": 1000}
            elif kind == "survey.answered":
                data = {"score": rng.randint(0, 10)}
            elif kind == "csat":
                kind, data = "survey.answered", {"score": rng.randint(1, 5), "survey": "csat"}
            at = advocate["enrolled"] + timedelta(seconds=rng.uniform(60, span - 60))
            key = f"k{len(actions)}"
            actions.append(
                {"key": key, "kind": kind, "advocate": external_id, "at": at, "data": data}
            )
    program.record_many(
        Action(
            kind=x["kind"],
            advocate=x["advocate"],
            key=x["key"],
            data=x["data"],
            occurred_at=x["at"],
        )
        for x in actions
    )
    rejected = {x["key"] for x in rng.sample(actions, len(actions) // 20)}
    for x in actions:
        x["applied"] = x["key"] not in rejected
    t = q.actions_t
    with program.engine.begin() as conn:
        conn.execute(sa.update(t).where(t.c.key.in_(rejected)).values(status="rejected"))
        ids = dict(conn.execute(sa.select(q.advocates_t.c.external_id, q.advocates_t.c.id)).all())

    referrals = []
    ordered = sorted(advocates)
    for friend in rng.sample(ordered[30:], 50):
        referrer = rng.choice(ordered[:30])
        state = rng.choice(["signed_up", "pending", "rewarded", "voided"])
        attributed = NOW - timedelta(seconds=rng.uniform(86_400, 300 * 86_400))
        converted = None
        if state in ("pending", "rewarded") or (state == "voided" and rng.random() < 0.5):
            converted = min(attributed + rng.uniform(1, 30) * DAY, NOW - DAY)
        referrals.append(
            {"referrer": referrer, "state": state, "attributed": attributed, "converted": converted}
        )
        with program.engine.begin() as conn:
            conn.execute(
                sa.insert(referrals_t).values(
                    friend_id=ids[friend],
                    program=program.name,
                    version=1,
                    referrer_id=ids[referrer],
                    source="offline",
                    state=state,
                    attributed_at=attributed,
                    converted_at=converted,
                )
            )
    return {"advocates": advocates, "actions": actions, "referrals": referrals}


def applied(data, advocate=None):
    return [x for x in data["actions"] if x["applied"] and advocate in (None, x["advocate"])]


def latest_nps_answer(data, advocate, end=None):
    answers = [
        x
        for x in applied(data, advocate)
        if x["kind"] == "survey.answered"
        and x["data"].get("survey", "nps") == "nps"
        and (end is None or x["at"] < end)
    ]
    return max(answers, key=lambda x: x["at"])["data"]["score"] if answers else None


def inputs_of(data, advocate, window):
    """The raw components of one advocate: counts in the window, latest answer, last action."""
    start, end = window
    inside = [
        x
        for x in applied(data, advocate)
        if (start is None or x["at"] >= start) and (end is None or x["at"] < end)
    ]
    sent = [
        r
        for r in data["referrals"]
        if r["referrer"] == advocate
        and r["state"] != "voided"
        and (start is None or r["attributed"] >= start)
        and (end is None or r["attributed"] < end)
    ]
    converted = [
        r for r in sent if r["converted"] is not None and (end is None or r["converted"] < end)
    ]
    advocacy = [x["at"] for x in inside if x["kind"] in ADVOCACY]
    out = {name: sum(x["kind"] == kind for x in inside) for name, kind in COUNTED.items()}
    out.update(
        nps=latest_nps_answer(data, advocate, end),
        referrals_sent=len(sent),
        referrals_converted=len(converted),
        last=max(advocacy) if advocacy else None,
    )
    return out


def population(data, window):
    end = window[1]
    return [a for a, v in data["advocates"].items() if end is None or v["enrolled"] < end]


def reference(window):
    return min(window[1], NOW) if window[1] is not None else NOW


def expected_cas(data, window=(None, None), weights=CAS_WEIGHTS, caps=CAPS, horizon=180):
    ref = reference(window)
    total = sum(weights.values())
    out = {}
    for advocate in population(data, window):
        x = inputs_of(data, advocate, window)
        normalised = {"nps": (x["nps"] or 0) / 10}
        for name, cap in caps.items():
            normalised[name] = min(x[name] / cap, 1)
        if x["last"] is None:
            normalised["recency"] = 0
        else:
            days = (ref - x["last"]).total_seconds() / 86_400
            normalised["recency"] = 1 - min(max(days, 0) / horizon, 1)
        out[advocate] = 100 * sum(weights[c] / total * normalised[c] for c in weights)
    return out


def expected_bai(data, window=(None, None), weights=BAI_WEIGHTS, active_days=90):
    people = population(data, window)
    n = len(people)
    inputs = [inputs_of(data, a, window) for a in people]
    answers = [x["nps"] for x in inputs if x["nps"] is not None]
    nps = 100 * (sum(s >= 9 for s in answers) - sum(s <= 6 for s in answers)) / len(answers)
    sent = sum(x["referrals_sent"] for x in inputs)
    since = reference(window) - timedelta(days=active_days)
    measured = {
        "nps": (nps + 100) / 200,
        "referred": sum(x["referrals_sent"] > 0 for x in inputs) / n,
        "conversion": sum(x["referrals_converted"] for x in inputs) / sent if sent else 0,
        "reviewed": sum(x["reviews"] > 0 for x in inputs) / n,
        "shared": sum(x["shares"] > 0 for x in inputs) / n,
        "ugc": sum(x["ugc"] > 0 for x in inputs) / n,
        "community": sum(x["community"] > 0 for x in inputs) / n,
        "active": sum(x["last"] is not None and x["last"] >= since for x in inputs) / n,
    }
    total = sum(weights.values())
    return 100 * sum(weights[c] / total * measured[c] for c in weights)


def expected_types(data):
    """The default rules, restated over the raw rows."""
    out = {}
    for advocate, profile in data["advocates"].items():
        acts = applied(data, advocate)
        count = {kind: sum(x["kind"] == kind for x in acts) for kind in {x["kind"] for x in acts}}
        reach = sum(x["data"].get("reach", 0) for x in acts if x["kind"] == "share.posted")
        converted = sum(
            r["referrer"] == advocate and r["state"] != "voided" and r["converted"] is not None
            for r in data["referrals"]
        )
        latest = latest_nps_answer(data, advocate)
        enthusiast = sum(
            count.get(k, 0) for k in ("review.posted", "ugc.submitted", "community.post")
        )
        followers = profile["followers"]
        rules = {
            "loyal_customer": count.get("purchase.completed", 0) >= 3
            and profile["enrolled"] <= NOW - 180 * DAY,
            "passionate_enthusiast": latest is not None and latest >= 9 and enthusiast >= 2,
            "micro_influencer": (followers is not None and 1_000 <= followers <= 100_000)
            or reach >= 1_000,
            "referral_advocate": converted >= 2 or count.get("referral.invited", 0) >= 3,
            "social_sharer": count.get("share.posted", 0) >= 3,
        }
        out[advocate] = {name for name, held in rules.items() if held}
    return out


@pytest.fixture
def generated(make_program, database_url, advokit_clock):
    program = make_program(database_url=database_url, plugins=[Referrals()])
    return program, generate(program, advokit_clock), database_url


def test_cas_per_advocate_and_mean_match_plain_python(generated):
    program, data, _ = generated
    expected = expected_cas(data)
    ranking = program.advocacy_scores()
    assert dict(ranking) == pytest.approx(expected)
    assert [score for _, score in ranking] == sorted((s for _, s in ranking), reverse=True)
    assert len({a for a, s in expected.items() if s > 0}) > 60  # the data exercises it

    mean = program.score("cas")
    assert mean.n == 120
    assert mean.value == pytest.approx(sum(expected.values()) / 120)
    bands = [0] * 10
    for score in expected.values():
        bands[min(int((score + 1e-9) // 10), 9)] += 1
    assert list(mean.details["distribution"].values()) == bands
    assert math.fsum(c.points for c in mean.details["contributions"]) == pytest.approx(mean.value)

    top = program.advocacy_scores(limit=5)
    assert [s for _, s in top] == pytest.approx(sorted(expected.values(), reverse=True)[:5])
    best = top[0][0]
    one = program.advocacy_score(best)
    assert one.value == pytest.approx(expected[best])
    assert math.fsum(c.points for c in one.details["contributions"]) == pytest.approx(one.value)


def test_a_window_and_a_segment_narrow_the_population(generated):
    program, data, _ = generated
    window = (NOW - 150 * DAY, NOW - 20 * DAY)
    expected = expected_cas(data, window)
    assert len(expected) == 90  # the ten-day-old cohort is not enrolled yet
    score = program.score("cas", window=window)
    assert score.n == 90
    assert score.value == pytest.approx(sum(expected.values()) / 90)
    assert dict(program.advocacy_scores(window=window)) == pytest.approx(expected)
    assert program.score("bai", window=window).value == pytest.approx(expected_bai(data, window))

    sharers = Segment("sharers", advocate_type("social_sharer"))
    members = {a for a, kinds in expected_types(data).items() if "social_sharer" in kinds}
    everyone = expected_cas(data)
    ranked = dict(program.advocacy_scores(segment=sharers))
    assert ranked == pytest.approx({a: everyone[a] for a in members})


def test_bai_matches_plain_python(generated):
    program, data, _ = generated
    score = program.score("bai")
    assert score.n == 120 and score.unit == "score"
    assert score.value == pytest.approx(expected_bai(data))
    contributions = score.details["contributions"]
    assert math.fsum(c.points for c in contributions) == pytest.approx(score.value)
    assert [c.component for c in contributions] == list(BAI_WEIGHTS)


def test_configured_weights_change_cas_and_bai_as_computed_independently(generated, make_program):
    program, data, url = generated
    weights = {**CAS_WEIGHTS, "nps": 0.0, "shares": 0.5, "recency": 0.3}
    caps = {**CAPS, "shares": 4, "reviews": 1}
    brand = {**BAI_WEIGHTS, "nps": 0.0, "active": 1.0}
    configured = AdvocacyWeights(
        **weights,
        caps={"shares": 4, "reviews": 1},
        horizon_days=60,
        brand=BrandWeights(**brand, active_days=30),
    )
    other = make_program(database_url=url, plugins=[Referrals(), Scoring(advocacy=configured)])
    expected = expected_cas(data, weights=weights, caps=caps, horizon=60)
    assert dict(other.advocacy_scores()) == pytest.approx(expected)
    assert other.score("cas").value == pytest.approx(sum(expected.values()) / 120)
    assert other.score("cas").value != pytest.approx(program.score("cas").value)
    assert other.score("bai").value == pytest.approx(
        expected_bai(data, weights=brand, active_days=30)
    )


def test_default_types_match_plain_python(generated):
    program, data, _ = generated
    expected = expected_types(data)
    score = program.score("advocate_types")
    typed = sum(bool(kinds) for kinds in expected.values())
    assert score.n == 120 and score.value == pytest.approx(100 * typed / 120)
    assert score.interval is not None and score.value in score.interval
    for name in (
        "loyal_customer",
        "passionate_enthusiast",
        "micro_influencer",
        "referral_advocate",
        "social_sharer",
    ):
        members = {a for a, kinds in expected.items() if name in kinds}
        assert score.counts[name] == len(members), name
        assert 0 < len(members) < 120, name  # each rule is exercised both ways
        segment = Segment(name.replace("_", "-"), advocate_type(name))
        assert {a for a, _ in program.advocacy_scores(segment=segment)} == members, name
    for advocate in sorted(expected)[:40:4]:
        assert program.advocate_types_of(advocate) == expected[advocate]


def test_the_nps_of_an_advocate_type_segment(generated):
    program, data, _ = generated
    sharers = {a for a, kinds in expected_types(data).items() if "social_sharer" in kinds}
    answers = [
        x["data"]["score"]
        for x in applied(data)
        if x["advocate"] in sharers and x["kind"] == "survey.answered" and "survey" not in x["data"]
    ]
    nps = 100 * (sum(s >= 9 for s in answers) - sum(s <= 6 for s in answers)) / len(answers)
    score = program.score("nps", segment=Segment("sharers", advocate_type("social_sharer")))
    assert score.n == len(answers) and score.value == pytest.approx(nps)


def test_types_are_overridable_and_extensible(generated, make_program):
    program, data, url = generated
    other = make_program(
        database_url=url,
        plugins=[
            Referrals(),
            Scoring(
                types=[
                    AdvocateType("social_sharer", performed_at_least("share.posted", 1)),
                    AdvocateType("reviewer", performed_at_least("review.posted", 2), "2 reviews"),
                ]
            ),
        ],
    )
    counts = other.score("advocate_types").counts

    def having(kind, at_least):
        return {
            a
            for a in data["advocates"]
            if sum(x["kind"] == kind for x in applied(data, a)) >= at_least
        }

    assert counts["social_sharer"] == len(having("share.posted", 1))
    assert counts["reviewer"] == len(having("review.posted", 2))
    assert counts["loyal_customer"] == program.score("advocate_types").counts["loyal_customer"]
    with pytest.raises(UnknownName, match="advocate_type='reviewer'"):
        program.score("nps", segment=Segment("r", advocate_type("reviewer")))


# -- absent inputs, empty populations, bad input


def test_without_the_referrals_plugin_referrals_count_zero_and_missing_says_so(
    make_program, advokit_clock
):
    program = make_program()
    program.enroll(Advocate(external_id="ann"))
    program.record(Action(kind="share.posted", advocate="ann", key="s1", occurred_at=NOW - DAY))
    score = program.advocacy_score("ann")
    assert any("referrals plugin" in m for m in score.missing)
    assert any("'nps' survey" in m for m in score.missing)
    points = {c.component: c.points for c in score.details["contributions"]}
    assert points["referrals_sent"] == points["referrals_converted"] == points["nps"] == 0
    # 10 points of shares' 1/10, recency (1 - 1/180) * 10
    assert score.value == pytest.approx(1 + 10 * (1 - 1 / 180))
    assert any("referrals plugin" in m for m in program.score("bai").missing)
    assert program.advocate_types_of("ann") == frozenset()


def test_an_empty_population_is_n_0(make_program, database_url):
    program = make_program(database_url=database_url)
    for name in ("cas", "bai", "advocate_types"):
        score = program.score(name)
        assert score.n == 0 and score.value is None, name
        assert any("no advocates" in m for m in score.missing), name
    assert program.advocacy_scores() == []


def test_an_advocate_outside_the_segment_or_window_is_n_0(make_program, advokit_clock):
    program = make_program()
    program.enroll(Advocate(external_id="ann"))
    sharers = Segment("sharers", advocate_type("social_sharer"))
    assert program.score("cas", advocate="ann", segment=sharers).n == 0
    early = program.score("cas", advocate="ann", window=(None, NOW - DAY))
    assert early.n == 0 and early.value is None
    # enrolled and idle: counted, at 0
    assert program.advocacy_score("ann").value == 0


def test_unknown_advocates_are_refused(make_program):
    program = make_program()
    with pytest.raises(UnknownAdvocate, match="advocate='nobody'"):
        program.advocacy_score("nobody")
    with pytest.raises(UnknownAdvocate):
        program.advocate_types_of("nobody")
    with pytest.raises(UnknownAdvocate):
        program.score("cas", advocate="nobody")


def test_bad_options_are_refused(make_program):
    program = make_program()
    with pytest.raises(InvalidValue, match="cas.advocate=3 .*external id"):
        program.score("cas", advocate=3)
    with pytest.raises(InvalidValue, match="advocacy_scores.limit=0"):
        program.advocacy_scores(limit=0)
    with pytest.raises(InvalidValue, match="by='month'"):
        program.score("bai", by="month")


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: AdvocacyWeights(nps=-0.1), "AdvocacyWeights.nps"),
        (lambda: AdvocacyWeights(shares=math.nan), "AdvocacyWeights.shares"),
        (lambda: AdvocacyWeights(ugc=True), "AdvocacyWeights.ugc"),
        (lambda: AdvocacyWeights(**dict.fromkeys(CAS_WEIGHTS, 0)), "AdvocacyWeights"),
        (lambda: AdvocacyWeights(caps={"bogus": 3}), "AdvocacyWeights.caps"),
        (lambda: AdvocacyWeights(caps={"shares": 0}), "AdvocacyWeights.caps['shares']"),
        (lambda: AdvocacyWeights(horizon_days=0), "AdvocacyWeights.horizon_days"),
        (lambda: AdvocacyWeights(survey=""), "AdvocacyWeights.survey"),
        (lambda: AdvocacyWeights(brand={"nps": 1}), "AdvocacyWeights.brand"),
        (lambda: BrandWeights(active=-1), "BrandWeights.active"),
        (lambda: BrandWeights(active_days=0), "BrandWeights.active_days"),
        (
            lambda: AdvocateType("Not A Name", performed_at_least("share.posted", 1)),
            "AdvocateType.name",
        ),
        (lambda: AdvocateType("sharer", "shares >= 3"), "AdvocateType.rule"),
        (lambda: performed_at_least("share.posted", 0), "performed_at_least.count"),
        (lambda: advocate_type(""), "advocate_type.name"),
    ],
)
def test_bad_settings_are_configuration_errors(make, field):
    with pytest.raises(ConfigurationError) as error:
        make()
    assert error.value.field == field
    assert error.value.accepted


@pytest.mark.parametrize(
    ("scoring", "field"),
    [
        ({"advocacy": {"nps": 1}}, "Scoring.advocacy"),
        ({"types": ["social_sharer"]}, "Scoring.types"),
        (
            {"types": [AdvocateType("x", performed_at_least("share.posted", 1))] * 2},
            "Scoring.types",
        ),
    ],
)
def test_bad_scoring_settings_fail_when_the_program_is_built(make_program, scoring, field):
    with pytest.raises(ConfigurationError) as error:
        make_program(plugins=[Scoring(**scoring)])
    assert error.value.field == field
