"""Scoring: program.score, windows, periods, segments, and the survey metrics.

Each metric is checked against a computation written here in plain Python over
the generated rows, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import sys
import textwrap
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from advokit import Action, Advocate, Program, Tag, hookimpl
from advokit.cli import cli
from advokit.core.errors import AdvokitError, InvalidValue, RegistrationConflict, UnknownName
from advokit.core.store import queries as q
from advokit.plugins.scoring import (
    Score,
    Scoring,
    Segment,
    Window,
    advocate_kind,
    attribute,
    enrolled,
    everyone,
    nps_category,
    performed,
    tagged,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SURVEYS = ("nps", "onboarding", "csat", "csat_support")


def _category(score: int) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def _nps(scores: list[int]) -> float | None:
    if not scores:
        return None
    cats = Counter(_category(s) for s in scores)
    return 100 * (cats["promoter"] - cats["detractor"]) / len(scores)


def _margin(scores: list[int]) -> float:
    # the variance of the +1/0/-1 indicator, computed from the values themselves
    indicator = [1 if s >= 9 else -1 if s <= 6 else 0 for s in scores]
    return 1.959963984540054 * statistics.pstdev(indicator) / math.sqrt(len(scores)) * 100


def _month(when: datetime) -> date:
    return date(when.year, when.month, 1)


class History:
    """A generated history: the rows as recorded, kept for the plain-Python side."""

    def __init__(self, program: Program, seed: int = 7, advocates: int = 60) -> None:
        rng = random.Random(seed)
        self.program = program
        self.advocates = [f"adv-{n}" for n in range(advocates)]
        self.plan = {who: rng.choice(["pro", "free"]) for who in self.advocates}
        self.kind = {who: rng.choice(["customer", "employee"]) for who in self.advocates}
        program.enroll_many(
            Advocate(external_id=who, kind=self.kind[who], attributes={"plan": self.plan[who]})
            for who in self.advocates
        )
        self.vip = set(rng.sample(self.advocates, advocates // 3))
        self.answers: list[tuple[str, str, int, datetime]] = []
        self.purchases: list[tuple[str, datetime]] = []
        actions = []
        for n in range(400):
            who = rng.choice(self.advocates)
            when = T0 + timedelta(days=rng.uniform(0, 180))
            survey = rng.choice(SURVEYS)
            score = rng.randint(1, 5) if survey.startswith("csat") else rng.randint(0, 10)
            data: dict[str, Any] = {"score": score}
            if survey != "nps" or rng.random() < 0.5:
                data["survey"] = survey  # an answer naming no survey is an NPS answer
            self.answers.append((who, survey, score, when))
            actions.append(
                Action(
                    kind="survey.answered", advocate=who, key=f"a{n}", occurred_at=when, data=data
                )
            )
        for n in range(250):
            who = rng.choice(self.advocates[: advocates // 2])  # half never buy
            when = T0 + timedelta(days=rng.uniform(0, 180))
            self.purchases.append((who, when))
            actions.append(
                Action(
                    kind="purchase.completed",
                    advocate=who,
                    key=f"p{n}",
                    occurred_at=when,
                    data={"order_id": f"o{n}", "total_cents": rng.randint(500, 9000)},
                )
            )
        program.record_many(actions)


def _tagging(history: History) -> Any:
    """A plugin that tags the VIPs when they buy (segment labels come from effects)."""

    class Tagger:
        plugin_name = "tagger"
        advokit_evaluates = frozenset({"purchase.completed"})

        @hookimpl
        def advokit_evaluate(self, ctx: Any, action: Action) -> list[Any] | None:
            if action.kind == "purchase.completed" and action.advocate in history.vip:
                return [Tag(advocate=action.advocate, tag="vip")]
            return None

    return Tagger()


@pytest.fixture
def history(make_program: Callable[..., Program], database_url: str) -> History:
    program = make_program(database_url=database_url)
    return History(program)


# --------------------------------------------------------------------------- known values


def test_nps_of_50_promoters_30_passives_20_detractors_is_30_with_its_margin(
    advokit_program: Program,
) -> None:
    program = advokit_program
    program.enroll_many(Advocate(external_id=f"a{n}") for n in range(100))
    scores = [10] * 25 + [9] * 25 + [8] * 15 + [7] * 15 + [6] * 10 + [0] * 10
    program.record_many(
        Action(kind="survey.answered", advocate=f"a{n}", key=f"k{n}", data={"score": s})
        for n, s in enumerate(scores)
    )
    nps = program.score("nps")
    assert nps.value == pytest.approx(30.0)
    assert nps.n == 100
    assert dict(nps.counts) == {"promoters": 50, "passives": 30, "detractors": 20}
    # p = 0.5, d = 0.2: var = 0.7 - 0.3^2 = 0.61, margin = 1.96 * sqrt(0.61 / 100) * 100
    assert nps.margin == pytest.approx(15.3, abs=0.05)
    assert nps.margin == pytest.approx(1.959963984540054 * math.sqrt(0.61 / 100) * 100)
    assert nps.interval is not None and 30 in nps.interval
    assert str(nps) == "nps: 30 points (n=100, ±15.31 at 95%)"


def test_csat_worked_example(advokit_program: Program) -> None:
    program = advokit_program
    program.enroll_many(Advocate(external_id=f"a{n}") for n in range(40))
    scores = [5] * 12 + [4] * 18 + [3] * 6 + [1] * 4
    program.record_many(
        Action(
            kind="survey.answered",
            advocate=f"a{n}",
            key=f"k{n}",
            data={"score": s, "survey": "csat"},
        )
        for n, s in enumerate(scores)
    )
    csat = program.score("csat")
    assert (csat.value, csat.n, csat.unit) == (75.0, 40, "%")
    assert csat.interval is not None
    assert (round(csat.interval.low, 1), round(csat.interval.high, 1)) == (59.8, 85.8)


def test_latest_category_worked_example(advokit_program: Program) -> None:
    program = advokit_program
    program.enroll_many([Advocate(external_id="ann"), Advocate(external_id="bo")])
    answers = [
        ("ann", 6, datetime(2026, 3, 2)),
        ("ann", 10, datetime(2026, 5, 2)),
        ("bo", 9, datetime(2026, 4, 2)),
    ]
    program.record_many(
        Action(
            kind="survey.answered",
            advocate=who,
            key=f"{who}-{at:%m}",
            occurred_at=at.replace(tzinfo=UTC),
            data={"score": s},
        )
        for who, s, at in answers
    )
    now = program.score("nps_categories")
    assert (now.n, now.value, now.counts["promoters"]) == (2, 100.0, 2)
    may = program.score("nps_categories", window=(None, datetime(2026, 5, 1, tzinfo=UTC)))
    assert (may.value, may.counts["detractors"]) == (0.0, 1)
    promoters = program.score("nps", segment=Segment("promoters", nps_category("promoter")))
    assert promoters.n == 3  # every answer of both, the segment by their latest


# --------------------------------------------------------------------------- generated data


def test_nps_by_month_matches_plain_python(history: History) -> None:
    program = history.program
    nps_answers = [(who, s, at) for who, survey, s, at in history.answers if survey == "nps"]
    score = program.score("nps", by="month")
    assert score.value == pytest.approx(_nps([s for _, s, _ in nps_answers]))
    assert score.n == len(nps_answers)
    assert score.margin == pytest.approx(_margin([s for _, s, _ in nps_answers]))
    by_month: dict[date, list[int]] = defaultdict(list)
    for _, s, at in nps_answers:
        by_month[_month(at)].append(s)
    assert [p.period for p in score.periods] == sorted(by_month)
    for period in score.periods:
        assert period.value == pytest.approx(_nps(by_month[period.period]))
        assert period.n == len(by_month[period.period])
        assert period.margin == pytest.approx(_margin(by_month[period.period]))
    months = sorted(by_month)
    expected = statistics.linear_regression(
        [m.year * 12 + m.month for m in months], [_nps(by_month[m]) for m in months]
    ).slope
    assert score.trend == pytest.approx(expected)


def test_nps_by_week_and_day_start_on_monday_and_midnight(history: History) -> None:
    program = history.program
    nps_answers = [at for _, survey, _, at in history.answers if survey == "nps"]
    weekly = program.score("nps", by="week")
    weeks = Counter(at.date() - timedelta(days=at.weekday()) for at in nps_answers)
    assert {p.period: p.n for p in weekly.periods} == weeks
    daily = program.score("nps", by="day")
    assert {p.period: p.n for p in daily.periods} == Counter(at.date() for at in nps_answers)
    yearly = program.score("nps", by="year")
    assert [(p.period, p.n) for p in yearly.periods] == [(date(2026, 1, 1), len(nps_answers))]
    assert yearly.trend is None  # one period: no slope


def test_window_and_survey_option(history: History) -> None:
    program = history.program
    start, end = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    inside = [
        s for _, survey, s, at in history.answers if survey == "onboarding" and start <= at < end
    ]
    score = program.score("nps", window=(start, end), survey="onboarding")
    assert (score.value, score.n) == (pytest.approx(_nps(inside)), len(inside))
    assert score.inputs["survey"] == "onboarding"
    assert score.inputs["window"] == Window(start, end)
    # a date is midnight UTC, and a timedelta is the span up to the program's now
    assert program.score(
        "nps", window=(date(2026, 2, 1), date(2026, 4, 1)), survey="onboarding"
    ).n == len(inside)
    now = program.clock()
    recent = [
        s
        for _, survey, s, at in history.answers
        if survey == "nps" and now - timedelta(days=200) <= at < now
    ]
    assert program.score("nps", window=timedelta(days=200)).n == len(recent)


def test_csat_matches_plain_python(history: History) -> None:
    program = history.program
    for survey in ("csat", "csat_support"):
        scores = [s for _, sv, s, _ in history.answers if sv == survey]
        csat = program.score("csat", survey=survey)
        assert csat.n == len(scores)
        assert csat.value == pytest.approx(100 * sum(s >= 4 for s in scores) / len(scores))


def test_repeat_purchase_rate_matches_plain_python(history: History) -> None:
    program = history.program
    orders = Counter(who for who, _ in history.purchases)
    rate = program.score("repeat_purchase_rate", by="month")
    assert rate.n == len(orders)
    assert rate.value == pytest.approx(100 * sum(c >= 2 for c in orders.values()) / len(orders))
    per_month: dict[date, Counter[str]] = defaultdict(Counter)
    for who, at in history.purchases:
        per_month[_month(at)][who] += 1
    for period in rate.periods:
        month = per_month[period.period]
        assert period.n == len(month)
        assert period.value == pytest.approx(100 * sum(c >= 2 for c in month.values()) / len(month))


def test_latest_categories_match_plain_python(history: History) -> None:
    program = history.program
    latest: dict[str, tuple[datetime, int]] = {}
    for who, survey, s, at in history.answers:
        if survey == "nps" and (who not in latest or at > latest[who][0]):
            latest[who] = (at, s)
    score = program.score("nps_categories")
    cats = Counter(_category(s) for _, s in latest.values())
    assert score.n == len(latest)
    assert dict(score.counts) == {
        "promoters": cats["promoter"],
        "passives": cats["passive"],
        "detractors": cats["detractor"],
    }
    promoters = {who for who, (_, s) in latest.items() if s >= 9}
    in_segment = [s for who, sv, s, _ in history.answers if sv == "nps" and who in promoters]
    segment = Segment("promoters", nps_category("promoter"))
    assert program.score("nps", segment=segment).value == pytest.approx(_nps(in_segment))


def test_segments_select_the_advocates_they_name(
    make_program: Callable[..., Program], database_url: str
) -> None:
    probe = make_program(name="probe")  # only to learn who the VIPs will be
    probe_history = History(probe)
    program = make_program(
        database_url=database_url,
        plugins=[
            _tagging(probe_history),
            Scoring(
                segments=[
                    Segment("vip", tagged("vip")),
                    Segment("pro", attribute("plan", "pro")),
                    Segment(
                        "pro_vip_or_staff",
                        (attribute("plan", "pro") & tagged("vip")) | advocate_kind("employee"),
                    ),
                    Segment("not_pro", ~attribute("plan", "pro")),
                    Segment("everyone", everyone()),
                    Segment("buyers", performed("purchase.completed")),
                ]
            ),
        ],
    )
    history = History(program)
    buyers = {who for who, _ in history.purchases}
    vip = history.vip & buyers  # tagged on a purchase
    members = {
        "vip": vip,
        "pro": {w for w in history.advocates if history.plan[w] == "pro"},
        "pro_vip_or_staff": {
            w
            for w in history.advocates
            if (history.plan[w] == "pro" and w in vip) or history.kind[w] == "employee"
        },
        "not_pro": {w for w in history.advocates if history.plan[w] != "pro"},
        "everyone": set(history.advocates),
        "buyers": buyers,
    }
    for name, who in members.items():
        scores = [s for w, sv, s, _ in history.answers if sv == "nps" and w in who]
        score = program.score("nps", segment=name)
        assert (score.n, score.value) == (len(scores), pytest.approx(_nps(scores))), name
        assert score.inputs["segment"] == name
    cohort = program.score("nps", segment=Segment("cohort", enrolled(None, T0)))
    assert cohort.n == 0 and cohort.value is None  # everyone enrolled at the clock's now


def test_only_applied_actions_count(history: History) -> None:
    program = history.program
    before = program.score("nps")
    t = q.actions_t
    with program.engine.begin() as conn:
        key = conn.execute(
            sa.select(t.c.key).where(t.c.kind == "survey.answered").order_by(t.c.key).limit(1)
        ).scalar_one()
        conn.execute(sa.update(t).where(t.c.key == key).values(status="held"))
    nps_keys = {f"a{n}" for n, (_, sv, _, _) in enumerate(history.answers) if sv == "nps"}
    assert program.score("nps").n == before.n - (key in nps_keys)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"score": 11},
            "action.data['score']=11 is not valid: expected an integer from 0 to 10 for "
            "survey 'nps'",
        ),
        ({"score": -1, "survey": "onboarding"}, "from 0 to 10 for survey 'onboarding'"),
        (
            {"score": 6, "survey": "csat"},
            "action.data['score']=6 is not valid: expected an integer from 1 to 5 for "
            "survey 'csat'",
        ),
        ({"score": 0, "survey": "csat_support"}, "from 1 to 5"),
    ],
)
def test_answers_off_their_scale_are_refused_when_recorded(
    advokit_program: Program, data: dict[str, Any], message: str
) -> None:
    advokit_program.enroll(Advocate(external_id="ann"))
    with pytest.raises(
        InvalidValue, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
    ):
        advokit_program.record(Action(kind="survey.answered", advocate="ann", key="k", data=data))
    assert advokit_program.history("ann") == []


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        ({"name": "nope"}, UnknownName, "scorer='nope' is not valid: expected one of "),
        (
            {"name": "nps", "segment": "nope"},
            UnknownName,
            "segment='nope' is not valid: expected none are registered",
        ),
        ({"name": "nps", "segment": 3}, InvalidValue, "segment=3 is not valid"),
        (
            {"name": "nps", "by": "quarter"},
            InvalidValue,
            "by='quarter' is not valid: expected day, week, month, year or None",
        ),
        (
            {"name": "nps", "colour": "red"},
            InvalidValue,
            "score('nps') option='colour' is not valid: expected one of survey",
        ),
        ({"name": "nps", "survey": ""}, InvalidValue, "nps.survey='' is not valid"),
        (
            {"name": "csat", "survey": "nps"},
            InvalidValue,
            "csat.survey='nps' is not valid: expected a survey named csat",
        ),
        (
            {
                "name": "nps",
                "window": (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)),
            },
            InvalidValue,
            "expected an end at or after its start",
        ),
        (
            {"name": "nps", "window": (datetime(2026, 3, 1), None)},
            InvalidValue,
            "window.start=.* is not valid: expected a timezone-aware",
        ),
        ({"name": "nps", "window": timedelta(days=-1)}, InvalidValue, "a positive timedelta"),
        ({"name": "nps", "window": "last week"}, InvalidValue, "window='last week' is not valid"),
        ({"name": "nps_categories", "by": "month"}, InvalidValue, "is not computed per period"),
    ],
)
def test_bad_questions_are_refused_with_the_field_and_what_is_accepted(
    advokit_program: Program, call: dict[str, Any], error: type[AdvokitError], message: str
) -> None:
    name = call.pop("name")
    with pytest.raises(
        error, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
    ):
        advokit_program.score(name, **call)


@pytest.mark.parametrize("name", ["nps", "csat", "repeat_purchase_rate", "nps_categories"])
def test_an_empty_population_says_n_0(advokit_program: Program, name: str) -> None:
    score = advokit_program.score(name)
    assert (score.n, score.value, score.interval, score.periods) == (0, None, None, ())
    assert score.missing
    assert str(score) == f"{name}: no data (n=0)"
    if name != "nps_categories":
        assert advokit_program.score(name, by="month").periods == ()


def test_segment_names_are_unique_across_plugins(make_program: Callable[..., Program]) -> None:
    class Other:
        plugin_name = "other"

        @hookimpl
        def advokit_register_segments(self, register: Any) -> None:
            register(Segment("vip", attribute("plan", "pro")))

    with pytest.raises(
        RegistrationConflict,
        match="segment 'vip' is registered by plugin 'scoring' and again by plugin 'other'",
    ):
        make_program(plugins=[Scoring(segments=[Segment("vip", tagged("vip"))]), Other()])


def test_bad_segment_definitions_are_refused() -> None:
    with pytest.raises(InvalidValue, match="Segment.name='VIP!'"):
        Segment("VIP!", tagged("vip"))
    with pytest.raises(InvalidValue, match="Segment.condition='vip'"):
        Segment("vip", "vip")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="nps_category.category='fan'"):
        nps_category("fan")
    with pytest.raises(InvalidValue, match="performed.within"):
        performed("share.posted", within=timedelta(0))
    with pytest.raises(InvalidValue, match="Scoring.segments"):
        Scoring(segments=[Segment("a", tagged("x")), Segment("a", tagged("y"))])


def test_score_values_are_frozen_and_serialise(history: History) -> None:
    score = history.program.score("nps", by="month")
    with pytest.raises(AttributeError):
        score.value = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        score.counts["promoters"] = 1  # type: ignore[index]
    encoded = json.loads(json.dumps(score.to_json()))
    assert encoded["value"] == pytest.approx(score.value)
    assert [p["period"] for p in encoded["periods"]] == [
        p.period.isoformat() for p in score.periods
    ]
    assert isinstance(score, Score)


# --------------------------------------------------------------------------- the command line

PROGRAM_MODULE = """
from advokit import Program
from advokit.plugins.scoring import Scoring, Segment, attribute

program = Program(
    name="shop",
    database_url={url!r},
    plugins=[Scoring(segments=[Segment("pro", attribute("plan", "pro"))])],
    load_entrypoints=False,
)
"""


@pytest.fixture
def shop(workdir: Path) -> str:
    url = f"sqlite:///{workdir / 'shop.db'}"
    (workdir / "shop_scores.py").write_text(textwrap.dedent(PROGRAM_MODULE.format(url=url)))
    sys.modules.pop("shop_scores", None)
    program = Program(name="shop", database_url=url, load_entrypoints=False)
    program.migrate()
    History(program)
    program.close()
    yield "shop_scores:program"
    sys.modules.pop("shop_scores", None)


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(
        cli, list(args), catch_exceptions=False, env={"ADVOKIT_LOAD_PLUGINS": ""}
    )


def test_advokit_score_prints_the_same_figures_as_program_score(shop: str) -> None:
    result = _invoke(
        "--program",
        shop,
        "score",
        "nps",
        "--by",
        "month",
        "--from",
        "2026-02-01",
        "--segment",
        "pro",
        "--json",
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    module = sys.modules["shop_scores"]
    expected = module.program.score(
        "nps", by="month", window=(date(2026, 2, 1), None), segment="pro"
    )
    assert printed == json.loads(json.dumps(expected.to_json()))
    text = _invoke("--program", shop, "score", "nps", "--by", "month")
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("nps: ")
    assert "promoters: " in text.stdout and "trend: " in text.stdout
    listed = _invoke("--program", shop, "score", "--list")
    assert {"nps", "csat", "repeat_purchase_rate", "nps_categories"} <= {
        line.split()[0] for line in listed.stdout.splitlines()
    }
    survey = _invoke("--program", shop, "score", "nps", "--option", "survey=onboarding", "--json")
    assert json.loads(survey.stdout)["inputs"]["survey"] == "onboarding"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("score", "nope"), "scorer='nope' is not valid"),
        (("score", "nps", "--segment", "vip"), "segment='vip' is not valid: expected one of pro"),
        (("score", "nps", "--from", "yesterday"), "--from='yesterday' is not valid"),
        (
            ("score", "nps", "--from", "2026-03-01", "--to", "2026-02-01"),
            "expected an end at or after its start",
        ),
        (
            ("score", "nps", "--option", "survey"),
            "--option='survey' is not valid: expected NAME=VALUE",
        ),
    ],
)
def test_advokit_score_errors_are_one_line(shop: str, args: tuple[str, ...], message: str) -> None:
    result = _invoke("--program", shop, *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
