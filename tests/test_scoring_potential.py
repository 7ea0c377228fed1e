"""Predictive advocacy potential and promoters at risk: features, model, heuristic.

The expected values are computed here in plain Python over the raw generated
rows, never with the module's own code.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from advokit import Action, Advocate, AdvokitError, Program
from advokit.core.clock import ManualClock
from advokit.core.errors import ConfigurationError, InvalidValue
from advokit.core.store import queries as q
from advokit.plugins.journeys import AddTag, Journey, Journeys
from advokit.plugins.scoring import (
    PotentialSettings,
    Scope,
    Scoring,
    ScoringSettings,
    Segment,
    at_risk_above,
    potential_above,
    top_potential,
)
from advokit.plugins.scoring.heuristic import auc, brier, reliability
from advokit.plugins.scoring.potential import POTENTIAL_FEATURES, features_at
from advokit.plugins.scoring.settings import ADVOCACY_KINDS
from advokit.plugins.scoring.tables import scores_t

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # advokit_clock's start
DAY = timedelta(days=1)
FIELDS = (
    "nps",
    "previous_nps",
    "answers",
    "purchases",
    "revenue_cents",
    "recent_purchases",
    "prior_purchases",
    "actions",
    "shares",
    "reviews",
    "ugc",
    "tenure_days",
    "days_since_last",
    "days_since_purchase",
)


# --------------------------------------------------------------------------- small history


def small_history(seed: int = 3):
    """~60 advocates in four cohorts, ~500 actions of every kind over 400 days
    (some before enrolment, a few after now): (enrolled {id: at}, actions)."""
    rng = random.Random(seed)
    enrolled = {f"a{i:02d}": NOW - timedelta(days=(300, 200, 100, 10)[i % 4]) for i in range(60)}
    actions, seen = [], set()
    kinds = [
        ("purchase.completed", 40),
        ("survey.answered", 30),
        ("csat", 6),
        ("review.posted", 1),
        ("share.posted", 2),
        ("ugc.submitted", 1),
        ("community.post", 1),
    ]
    for n in range(520):
        kind = rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
        at = NOW - timedelta(seconds=rng.randrange(-20 * 86400, 400 * 86400))
        if at in seen:
            continue
        seen.add(at)
        data: dict = {}
        if kind == "purchase.completed":
            data = {"order_id": f"o{n}"}
            if rng.random() < 0.8:
                data["total_cents"] = rng.randrange(500, 20000)
        elif kind == "survey.answered":
            data = {"score": rng.choice([2, 5, 7, 8, 9, 9, 10, 10, 10])}
        elif kind == "csat":
            kind, data = "survey.answered", {"score": rng.randrange(1, 6), "survey": "csat"}
        actions.append((kind, rng.choice(sorted(enrolled)), at, data, f"k{n}"))
    return enrolled, actions


def load(program: Program, clock: ManualClock, enrolled, actions) -> None:
    for when in sorted(set(enrolled.values())):
        clock.set(when)
        program.enroll_many(Advocate(external_id=x) for x, at in enrolled.items() if at == when)
    clock.set(NOW)
    for start in range(0, len(actions), 10000):
        program.record_many(
            Action(kind=kind, advocate=who, key=key, data=data, occurred_at=at)
            for kind, who, at, data, key in actions[start : start + 10000]
        )


def expected(enrolled, actions, at, *, model="potential", until=None, advocacy=ADVOCACY_KINDS):
    """The candidates' features as of ``at``, by the definitions of the docs."""
    out = {}
    for who, since in enrolled.items():
        mine = sorted((a for a in actions if a[1] == who), key=lambda a: a[2])
        before = [a for a in mine if a[2] < at]
        if since > at and not before:
            continue
        nps = [a[3]["score"] for a in before if a[0] == "survey.answered" and "survey" not in a[3]]
        purchases = [a for a in before if a[0] == "purchase.completed"]
        if model == "potential" and any(a[0] in advocacy for a in before):
            continue
        if model == "at_risk" and not (nps and nps[-1] >= 9):
            continue
        after = [a for a in mine if at <= a[2] < (until or at)]
        following = [
            a[3]["score"] for a in after if a[0] == "survey.answered" and "survey" not in a[3]
        ]
        if model == "at_risk" and until is not None and not following:
            continue
        known = min([since] + [a[2] for a in before])

        def days(then):
            return None if then is None else (at - then).total_seconds() / 86400

        out[who] = {
            "nps": nps[-1] if nps else None,
            "previous_nps": nps[-2] if len(nps) > 1 else None,
            "answers": len(nps),
            "purchases": len(purchases),
            "revenue_cents": sum(a[3].get("total_cents", 0) for a in purchases),
            "recent_purchases": sum(1 for a in purchases if a[2] >= at - 90 * DAY),
            "prior_purchases": sum(1 for a in purchases if at - 180 * DAY <= a[2] < at - 90 * DAY),
            "actions": len(before),
            "shares": sum(1 for a in before if a[0] == "share.posted"),
            "reviews": sum(1 for a in before if a[0] == "review.posted"),
            "ugc": sum(1 for a in before if a[0] == "ugc.submitted"),
            "tenure_days": days(known),
            "days_since_last": days(before[-1][2]) if before else None,
            "days_since_purchase": days(purchases[-1][2]) if purchases else None,
            "advocated": any(a[0] in advocacy for a in after) if until else None,
            "next_nps": following[0] if following else None,
        }
    return out


def potential_heuristic(f) -> float:
    """0.4 nps/10 (0.5 without) + 0.3 r/(r+2) + 0.15 / (1 + d/30) + 0.15 n/(n+10)."""
    nps = 0.5 if f["nps"] is None else f["nps"] / 10
    recent = f["recent_purchases"]
    recency = 0.0 if f["days_since_last"] is None else 1 / (1 + f["days_since_last"] / 30)
    return (
        0.4 * nps
        + 0.3 * recent / (recent + 2)
        + 0.15 * recency
        + 0.15 * f["actions"] / (f["actions"] + 10)
    )


def at_risk_heuristic(f) -> float:
    idle = f["days_since_last"] if f["days_since_last"] is not None else f["tenure_days"]
    gap = (
        1.0
        if f["days_since_purchase"] is None
        else f["days_since_purchase"] / (f["days_since_purchase"] + 60)
    )
    prior, recent = f["prior_purchases"], f["recent_purchases"]
    drop = max(0, prior - recent) / prior if prior else 0.0
    return 0.3 * idle / (idle + 30) + 0.3 * gap + 0.2 * drop + 0.2 * (f["nps"] < 10)


def scope_of(program: Program) -> Scope:
    return Scope.of(program, ScoringSettings())


def members(program: Program, condition) -> set[str]:
    a = q.advocates_t
    with program.engine.connect() as conn:
        rows = conn.execute(
            sa.select(a.c.external_id).where(
                a.c.program == program.name, condition.where(scope_of(program))
            )
        )
        return {row[0] for row in rows}


def stored(program: Program, model: str) -> dict[str, tuple[int, float, str]]:
    s, a = scores_t, q.advocates_t
    with program.engine.connect() as conn:
        rows = conn.execute(
            sa.select(a.c.external_id, a.c.id, s.c.score, s.c.label)
            .join(a, a.c.id == s.c.advocate_id)
            .where(s.c.program == program.name, s.c.model == model)
        )
        return {who: (row_id, score, label) for who, row_id, score, label in rows}


def top(rows: dict[str, tuple[int, float, str]], share: float) -> set[str]:
    ranked = sorted(rows, key=lambda who: (-rows[who][1], rows[who][0]))
    return set(ranked[: math.ceil(round(share * len(rows), 9))])


@pytest.fixture
def history(make_program, database_url, advokit_clock):
    program = make_program(
        database_url=database_url,
        plugins=[Scoring(potential=PotentialSettings(method="heuristic"))],
    )
    enrolled, actions = small_history()
    load(program, advokit_clock, enrolled, actions)
    return program, enrolled, actions


def test_features_match_a_python_computation(history):
    program, enrolled, actions = history
    settings = ScoringSettings()
    for at, until in [(NOW, None), (NOW - 120 * DAY, NOW - 30 * DAY)]:
        for model in ("potential", "at_risk"):
            got = {
                f.advocate: f
                for f in features_at(program, at, settings=settings, model=model, until=until)
            }
            want = expected(enrolled, actions, at, model=model, until=until)
            assert set(got) == set(want) and want, (model, at)
            for who, values in want.items():
                for field in FIELDS:
                    assert getattr(got[who], field) == pytest.approx(values[field]), (who, field)
                if until is not None:
                    assert got[who].next_nps == values["next_nps"]
                    if model == "potential":
                        assert got[who].advocated == values["advocated"]


def test_heuristic_scores_are_stored_and_summarised(history):
    program, enrolled, actions = history
    want = expected(enrolled, actions, NOW)
    assert program.score_potential() == len(want)
    rows = stored(program, "potential")
    assert set(rows) == set(want)
    for who, (_, score, label) in rows.items():
        assert label == "heuristic"
        assert score == pytest.approx(potential_heuristic(want[who]))
    assert program.potential_of(next(iter(want))) == pytest.approx(rows[next(iter(want))][1])
    assert program.potential_of(next(x for x in enrolled if x not in want)) is None

    summary = program.score("potential", top=0.2)
    scores = sorted((s for _, s, _ in rows.values()), reverse=True)
    assert summary.n == len(rows) and summary.label == "heuristic"
    assert summary.value == pytest.approx(sum(scores) / len(scores))
    assert summary.details["top_threshold"] == pytest.approx(scores[math.ceil(0.2 * len(rows)) - 1])
    assert members(program, top_potential(0.1)) == top(rows, 0.1)
    assert members(program, top_potential(1)) == set(rows)
    assert members(program, potential_above(0.5)) == {w for w, r in rows.items() if r[1] > 0.5}
    assert program.has_top_potential(sorted(top(rows, 0.1))[0], 0.1)
    for share in (
        0.1,
        0.25,
        1,
    ):  # what a journey asks agrees with the segment, advocate by advocate
        assert {w for w in enrolled if program.has_top_potential(w, share)} == top(rows, share)

    at_risk = expected(enrolled, actions, NOW, model="at_risk")
    assert program.score_at_risk() == len(at_risk) > 0
    risky = stored(program, "at_risk")
    assert {w: r[1] for w, r in risky.items()} == pytest.approx(
        {w: at_risk_heuristic(f) for w, f in at_risk.items()}
    )
    assert members(program, at_risk_above(0.4)) == {w for w, r in risky.items() if r[1] > 0.4}
    assert program.score("at_risk").n == len(at_risk)
    segment = Segment("risky", at_risk_above(0.4))
    assert program.score("at_risk", segment=segment).n == sum(
        1 for r in risky.values() if r[1] > 0.4
    )


def test_scoring_again_replaces_the_stored_scores(make_program, advokit_clock):
    program = make_program(plugins=[Scoring(potential=PotentialSettings(method="heuristic"))])
    program.enroll_many(Advocate(external_id=x) for x in ("ann", "bob"))
    assert program.score_potential() == 2
    program.record(Action(kind="share.posted", advocate="ann", key="s1", occurred_at=NOW - DAY))
    assert program.score_potential() == 1  # ann is an advocate now: not a candidate
    assert set(stored(program, "potential")) == {"bob"}
    assert program.potential_of("ann") is None


# --------------------------------------------------------------------------- the model


def population(n: int = 2000, seed: int = 7):
    """12 months of a shop where becoming an advocate depends on known features:
    each month a non-advocate shares with probability
    ``sigmoid(-4.2 + 0.6 * (latest NPS - 7) + 0.6 * purchases in the last 90 days)``
    (an NPS of 6 assumed before any answer); answers rise with recent purchases."""
    rng = random.Random(seed)
    start = NOW - timedelta(days=396)
    enrolled = {f"c{i:04d}": start + timedelta(days=90 * (i % 4)) for i in range(n)}
    actions = []
    for who, day in enrolled.items():
        affinity, purchases, latest, advocate = rng.gauss(0, 1), [], None, False
        while day + 30 * DAY <= NOW:
            recent = sum(1 for p in purchases if p >= day - 90 * DAY)
            z = -4.2 + 0.6 * ((latest - 7) if latest is not None else -1) + 0.6 * recent
            if (not advocate and rng.random() < 1 / (1 + math.exp(-z))) or (
                advocate and rng.random() < 0.2
            ):
                advocate = True
                actions.append(("share.posted", who, day + rng.random() * 30 * DAY, {}))
            for _ in range(3):
                if rng.random() < min(0.9, 0.25 * math.exp(0.5 * affinity)):
                    purchases.append(day + rng.random() * 30 * DAY)
                    order = {
                        "order_id": f"o{len(actions)}",
                        "total_cents": rng.randrange(1000, 9000),
                    }
                    actions.append(("purchase.completed", who, purchases[-1], order))
            if rng.random() < 0.35:
                latest = round(6.5 + 1.2 * affinity + 0.6 * recent + rng.gauss(0, 1.5))
                latest = max(0, min(10, latest))
                actions.append(
                    ("survey.answered", who, day + rng.random() * 30 * DAY, {"score": latest})
                )
            day += 30 * DAY
    return enrolled, [(*a, f"k{i}") for i, a in enumerate(actions)]


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    clock = ManualClock(NOW)
    program = Program(
        name="shop",
        database_url=f"sqlite:///{tmp_path_factory.mktemp('potential') / 'shop.db'}",
        clock=clock,
        load_entrypoints=False,
    )
    program.migrate()
    enrolled, actions = population()
    load(program, clock, enrolled, actions)
    yield program, enrolled, actions, program.train_potential()
    program.close()


def test_model_auc_is_reported_and_clearly_above_chance(shop):
    report = shop[3]
    assert report.label == "model" and report.notes == ()
    assert report.auc is not None and report.auc > 0.7, report
    print(report)
    assert 0 < report.positives_test < report.n_test and report.positives_train > 0
    assert 0 < report.brier < 0.25
    assert sum(b.n for b in report.calibration) == report.n_test and len(report.calibration) == 10
    assert list(report.coefficients) == list(POTENTIAL_FEATURES)
    # the features advocacy depends on weigh in the right direction
    assert report.coefficients["nps"] > 0 and report.coefficients["recent_purchases"] > 0
    assert report.to_json()["auc"] == report.auc and "held-out AUC" in str(report)


def test_split_is_time_based(shop):
    report = shop[3]
    horizon = timedelta(days=report.horizon_days)
    assert report.train_cutoffs and report.test_cutoffs
    assert max(report.train_cutoffs) + horizon <= min(report.test_cutoffs)
    assert max(report.test_cutoffs) + horizon <= NOW
    assert list(report.test_cutoffs) == sorted(report.test_cutoffs)


def test_stored_scores_rank_the_top_ten_percent(shop):
    program, enrolled, actions, _ = shop
    advocates = {who for kind, who, at, _, _ in actions if kind == "share.posted" and at < NOW}
    assert program.score_potential() == len(enrolled) - len(advocates)
    rows = stored(program, "potential")
    assert set(rows) == set(enrolled) - advocates
    assert all(0 <= r[1] <= 1 and r[2] == "model" for r in rows.values())
    best = top(rows, 0.1)
    assert members(program, top_potential(0.1)) == best
    assert len(best) == math.ceil(len(rows) / 10)

    answers = [
        d["score"] for kind, who, _, d, _ in actions if kind == "survey.answered" and who in best
    ]
    nps = program.score("nps", segment=Segment("top", top_potential(0.1)))
    assert nps.n == len(answers)
    promoters, detractors = sum(s >= 9 for s in answers), sum(s <= 6 for s in answers)
    assert nps.value == pytest.approx(100 * (promoters - detractors) / len(answers))
    summary = program.score("potential")
    assert summary.label == "model" and summary.n == len(rows)


def test_at_risk_model_scores_current_promoters(shop):
    program, _, actions, _ = shop
    report = program.train_at_risk()
    assert report.label == "model" and report.auc is not None and report.auc > 0.6, report
    print(report)
    latest = {}
    for kind, who, at, data, _ in sorted(actions, key=lambda a: a[2]):
        if kind == "survey.answered" and at < NOW:
            latest[who] = data["score"]
    promoters = {who for who, score in latest.items() if score >= 9}
    assert program.score_at_risk() == len(promoters)
    assert set(stored(program, "at_risk")) == promoters
    assert program.at_risk_of(sorted(promoters)[0]) is not None


def test_heuristic_without_scikit_learn(tmp_path):
    """In a fresh interpreter where ``import sklearn`` fails."""
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["sklearn"] = None
        from datetime import UTC, datetime, timedelta
        from advokit import Action, Advocate, Program
        from advokit.core.clock import ManualClock
        from advokit.plugins.scoring import PotentialSettings, Scoring

        now = datetime(2026, 6, 1, tzinfo=UTC)
        clock = ManualClock(now - timedelta(days=400))
        program = Program(name="shop", database_url="sqlite:///{tmp_path / "shop.db"}",
                          clock=clock, load_entrypoints=False)
        program.migrate()
        program.enroll_many(Advocate(external_id=f"a{{i}}") for i in range(40))
        clock.set(now)
        program.record_many(
            Action(kind="survey.answered", advocate=f"a{{i}}", key=f"s{{i}}-{{m}}",
                   data={{"score": (i + m) % 11}}, occurred_at=now - timedelta(days=30 * m + i))
            for i in range(40) for m in range(12)
        )
        program.record_many(
            Action(kind="share.posted", advocate=f"a{{i}}", key=f"share{{i}}",
                   occurred_at=now - timedelta(days=10 * i))
            for i in range(0, 40, 3)
        )
        report = program.train_potential()
        print(report.label, report.auc is not None, program.score_potential(),
              program.score("potential").label, "sklearn" in sys.modules and
              sys.modules["sklearn"] is not None)
        print(report.notes[0])
        try:
            Program(name="shop", database_url="sqlite:///{tmp_path / "shop.db"}", clock=clock,
                    load_entrypoints=False,
                    plugins=[Scoring(potential=PotentialSettings(method="model"))]).train_potential()
        except ImportError as error:
            print(type(error).__name__)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    first, note, error = done.stdout.splitlines()
    label, has_auc, scored, stored_label, imported = first.split()
    assert (label, has_auc, stored_label, imported) == ("heuristic", "True", "heuristic", "False")
    assert int(scored) > 0
    assert "scikit-learn is not installed" in note and "advokit[predict]" in note
    assert error == "MissingExtra"


# --------------------------------------------------------------------------- journeys


def test_a_journey_invites_the_top_potential(make_program, advokit_clock):
    def top_potential_only(advocate, action):
        return program.has_top_potential(advocate, 0.25)

    program = make_program(
        plugins=[
            Scoring(potential=PotentialSettings(method="heuristic", weights={"nps": 1})),
            Journeys(
                Journey(
                    "invite",
                    trigger="purchase.completed",
                    when=top_potential_only,
                    steps=[AddTag("invite")],
                )
            ),
        ]
    )
    program.enroll_many(Advocate(external_id=f"a{i}") for i in range(8))
    program.record_many(
        Action(kind="survey.answered", advocate=f"a{i}", key=f"s{i}", data={"score": i + 2})
        for i in range(8)
    )
    advokit_clock.advance(seconds=1)  # features count the actions before now
    program.score_potential()
    program.record_many(
        Action(kind="purchase.completed", advocate=f"a{i}", key=f"p{i}", data={"order_id": f"{i}"})
        for i in range(8)
    )
    assert {f"a{i}" for i in range(8) if "invite" in program.tags(f"a{i}")} == {"a6", "a7"}


# --------------------------------------------------------------------------- evaluation


def test_auc_brier_and_reliability_match_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(5)
    labels = [rng.random() < 0.3 for _ in range(500)]
    scores = [round(rng.random() * 0.6 + 0.3 * y, 1) for y in labels]  # many ties
    assert auc(scores, labels) == pytest.approx(metrics.roc_auc_score(labels, scores))
    assert brier(scores, labels) == pytest.approx(metrics.brier_score_loss(labels, scores))
    bins = reliability(scores, labels)
    assert [b.n for b in bins] == [50] * 10
    assert sum(b.observed * b.n for b in bins) == sum(labels)
    assert auc([0.1, 0.2], [True, True]) is None and brier([], []) is None


# --------------------------------------------------------------------------- bad input, empty


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"horizon_days": 0}, "PotentialSettings.horizon_days"),
        ({"horizon_days": True}, "PotentialSettings.horizon_days"),
        ({"test_share": 1}, "PotentialSettings.test_share"),
        ({"cutoffs": [NOW]}, "PotentialSettings.cutoffs"),
        ({"cutoffs": [NOW, NOW - DAY]}, "PotentialSettings.cutoffs"),
        ({"cutoffs": [datetime(2026, 1, 1), datetime(2026, 2, 1)]}, "PotentialSettings.cutoffs"),
        ({"cutoff_every_days": -30}, "PotentialSettings.cutoff_every_days"),
        ({"method": "magic"}, "PotentialSettings.method"),
        ({"survey": ""}, "PotentialSettings.survey"),
        ({"weights": {"charm": 1}}, "PotentialSettings.weights key"),
        ({"weights": {"nps": -1}}, "PotentialSettings.weights['nps']"),
        ({"weights": {"nps": 0}}, "PotentialSettings.weights"),
        ({"at_risk_weights": "inactivity"}, "PotentialSettings.at_risk_weights"),
    ],
)
def test_bad_settings(options, field):
    with pytest.raises(ConfigurationError) as error:
        PotentialSettings(**options)
    assert error.value.field == field
    assert error.value.accepted in str(error.value)


def test_bad_arguments(make_program):
    program = make_program(
        plugins=[Scoring(potential=PotentialSettings(cutoffs=[NOW - 100 * DAY, NOW - 10 * DAY]))]
    )
    with pytest.raises(InvalidValue, match="at least horizon_days"):
        program.train_potential()
    with pytest.raises(InvalidValue, match=r"top_potential.share.*number in \(0, 1\]"):
        top_potential(0)
    with pytest.raises(InvalidValue, match="potential_above.x"):
        potential_above(1.5)
    with pytest.raises(InvalidValue, match="at_risk_above.x"):
        at_risk_above("high")
    with pytest.raises(InvalidValue, match="potential.top"):
        program.score("potential", top=2)
    with pytest.raises(InvalidValue, match="model"):
        features_at(program, NOW, settings=ScoringSettings(), model="churn")
    with pytest.raises(InvalidValue, match="timezone-aware"):
        features_at(program, datetime(2026, 1, 1), settings=ScoringSettings())
    with pytest.raises(ConfigurationError, match="Scoring.potential"):
        make_program(plugins=[Scoring(potential={"horizon_days": 30})]).train_potential()
    with pytest.raises(AdvokitError):
        program.potential_of("nobody")


def test_empty_population(make_program, database_url):
    program = make_program(database_url=database_url)
    report = program.train_potential()
    assert (report.label, report.auc, report.n_test, report.test_cutoffs) == (
        "heuristic",
        None,
        0,
        (),
    )
    assert "not enough history" in report.notes[0]
    assert program.score_potential() == 0 and program.score_at_risk() == 0
    for name in ("potential", "at_risk"):
        score = program.score(name)
        assert (score.n, score.value) == (0, None)
        assert f"score_{name}()" in score.missing[0]
    assert members(program, top_potential(0.1)) == set()
    assert program.potential_features() == []


def _mann_whitney(scores: list[float], outcomes: list[bool]) -> float:
    """P(a random positive outranks a random negative), ties half: the ROC AUC."""
    positives = [x for x, y in zip(scores, outcomes, strict=True) if y]
    negatives = [x for x, y in zip(scores, outcomes, strict=True) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def test_the_heuristic_is_evaluated_on_the_held_out_cutoffs(history):
    program, enrolled, actions = history
    report = program.train_potential()
    assert report.label == "heuristic" and report.test_cutoffs
    test = [
        f
        for cutoff in report.test_cutoffs
        for f in expected(enrolled, actions, cutoff, until=cutoff + 90 * DAY).values()
    ]
    predicted = [potential_heuristic(f) for f in test]
    outcomes = [f["advocated"] for f in test]
    assert (report.n_test, report.positives_test) == (len(test), sum(outcomes))
    assert 0 < sum(outcomes) < len(test)
    assert report.auc == pytest.approx(_mann_whitney(predicted, outcomes))
    assert report.coefficients == pytest.approx(
        {"nps": 0.4, "frequency": 0.3, "recency": 0.15, "engagement": 0.15}
    )
