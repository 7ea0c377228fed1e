"""The sentiment of review texts and survey comments: scored once with VADER,
aggregated in SQL; checked against VADER run here over the raw texts and
aggregated in plain Python, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import random
import statistics
import sys
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from advokit import Action, Advocate
from advokit.core.errors import InvalidValue, UnknownAdvocate
from advokit.core.extras import MissingExtra
from advokit.plugins.scoring import Segment, attribute

T0 = datetime(2026, 1, 1, tzinfo=UTC)
VADER = SentimentIntensityAnalyzer()

POSITIVE = [
    "I love this bakery, the bread is wonderful!",
    "Great service and friendly staff :)",
    "Absolutely amazing croissants, best in town.",
    "Very good value, happy with my order.",
]
NEGATIVE = [
    "Terrible experience, the cake was stale and awful.",
    "I hate waiting so long, very disappointing.",
    "The worst coffee I have ever had. Never again!",
    "Rude staff and a bad attitude.",
]
NEUTRAL = [
    "The package arrived on Tuesday.",
    "I ordered two loaves and a baguette.",
    "The shop is on the corner of the street.",
]


def _vader(text):
    return VADER.polarity_scores(text)["compound"]


def _enroll(program, people):
    program.enroll_many(
        Advocate(external_id=name, attributes={"plan": plan}) for name, plan in people.items()
    )


def _review(advocate, key, text, at, rating=5):
    data = {"rating": rating} if text is None else {"rating": rating, "text": text}
    return Action(kind="review.posted", advocate=advocate, key=key, data=data, occurred_at=at)


def _answer(advocate, key, comment, at, score=8):
    data = {"score": score} if comment is None else {"score": score, "comment": comment}
    return Action(kind="survey.answered", advocate=advocate, key=key, data=data, occurred_at=at)


# --------------------------------------------------------------------------- known sentences


def test_known_sentences_get_the_expected_sign(make_program):
    program = make_program()
    _enroll(program, {"pos": "free", "neg": "free", "neu": "free"})
    program.record_many(
        [
            _review("pos", "r1", POSITIVE[0], T0),
            _answer("pos", "s1", POSITIVE[1], T0),
            _review("neg", "r2", NEGATIVE[0], T0, rating=1),
            _answer("neg", "s2", NEGATIVE[2], T0, score=2),
            _review("neu", "r3", NEUTRAL[0], T0),
        ]
    )
    assert program.score_sentiment() == 5
    assert program.sentiment_of("pos").value > 0.5
    assert program.sentiment_of("neg").value < -0.5
    neutral = program.sentiment_of("neu")
    assert abs(neutral.value) < 0.05 and dict(neutral.counts)["neutral"] == 1
    assert program.sentiment_of("pos").n == 2
    assert program.sentiment_of("pos", source="reviews").n == 1

    from advokit.plugins.scoring.sentiment import compound

    assert compound(POSITIVE[2]) > 0.05 > -0.05 > compound(NEGATIVE[1])


# --------------------------------------------------------------------------- generated data


def _generate(seed=5, people=60, actions=300):
    rng = random.Random(seed)
    plans = {f"c{i:02d}": rng.choice(["free", "pro"]) for i in range(people)}
    pool = POSITIVE + NEGATIVE + NEUTRAL
    made = []
    for n in range(actions):
        who = rng.choice(list(plans))
        at = T0 + timedelta(days=rng.randrange(180), hours=rng.randrange(24))
        roll = rng.random()
        # mixed and empty texts too: "" and no field are no text
        text = (
            None
            if roll < 0.15
            else ""
            if roll < 0.2
            else " ".join(rng.sample(pool, 2))
            if roll < 0.5
            else rng.choice(pool)
        )
        kind = rng.choice(["review.posted", "survey.answered"])
        make = _review if kind == "review.posted" else _answer
        made.append((kind, who, text, at, make(who, f"a{n}", text, at)))
    return plans, made


def _month(at):
    return date(at.year, at.month, 1)


def _aggregate(values):
    """mean, counts, and the normal 95% interval of a list of compounds."""
    n = len(values)
    mean = statistics.fmean(values)
    counts = {
        "positive": sum(v >= 0.05 for v in values),
        "neutral": sum(-0.05 < v < 0.05 for v in values),
        "negative": sum(v <= -0.05 for v in values),
    }
    margin = 1.959963984540054 * statistics.stdev(values) / math.sqrt(n) if n > 1 else None
    return mean, counts, margin


def _expected(made, *, members, per_advocate, kinds=("review.posted", "survey.answered")):
    """By month and for the whole: the texts' compounds (or each advocate's mean)."""
    texts = [
        (who, at, _vader(text))
        for kind, who, text, at, _ in made
        if text and kind in kinds and who in members
    ]

    def units(rows):
        if not per_advocate:
            return [c for _, _, c in rows]
        by_advocate = defaultdict(list)
        for who, _, c in rows:
            by_advocate[who].append(c)
        return [statistics.fmean(cs) for cs in by_advocate.values()]

    months = defaultdict(list)
    for row in texts:
        months[_month(row[1])].append(row)
    return _aggregate(units(texts)), {m: _aggregate(units(rows)) for m, rows in months.items()}


def _check(score, expected):
    mean, counts, margin = expected
    assert score.value == pytest.approx(mean, abs=1e-9)
    assert dict(score.counts) == counts
    assert score.n == sum(counts.values())
    if margin is None:
        assert score.interval is None
    else:
        low, high = max(mean - margin, -1.0), min(mean + margin, 1.0)
        assert (score.interval.low, score.interval.high) == pytest.approx((low, high))
    assert score.details["positive_share"] == pytest.approx(100 * counts["positive"] / score.n)


@pytest.fixture
def generated(make_program, database_url):
    program = make_program(database_url=database_url)
    plans, made = _generate()
    _enroll(program, plans)
    program.record_many([action for *_, action in made])
    return program, plans, made


@pytest.mark.parametrize("per_advocate", [False, True])
def test_sentiment_by_month_and_segment_matches_vader_over_the_raw_texts(generated, per_advocate):
    program, plans, made = generated
    texts = sum(1 for _, _, text, _, _ in made if text)
    assert program.score_sentiment(batch=64) == texts

    whole, months = _expected(made, members=set(plans), per_advocate=per_advocate)
    score = program.score("sentiment", by="month", per_advocate=per_advocate)
    _check(score, whole)
    assert score.label == ("per_advocate" if per_advocate else "per_text")
    assert [p.period for p in score.periods] == sorted(months)
    for period in score.periods:
        _check(period, months[period.period])
    assert score.trend is not None and score.missing == ()

    pro = {name for name, plan in plans.items() if plan == "pro"}
    whole, months = _expected(made, members=pro, per_advocate=per_advocate)
    segment = Segment("pro", attribute("plan", "pro"))
    score = program.score("sentiment", segment=segment, by="month", per_advocate=per_advocate)
    _check(score, whole)
    for period in score.periods:
        _check(period, months[period.period])


def test_source_and_window_narrow_the_texts(generated):
    program, plans, made = generated
    program.score_sentiment()
    whole, _ = _expected(made, members=set(plans), per_advocate=False, kinds=("review.posted",))
    _check(program.score("sentiment", source="reviews"), whole)

    start, end = T0 + timedelta(days=40), T0 + timedelta(days=100)
    inside = [row for row in made if start <= row[3] < end]
    whole, _ = _expected(inside, members=set(plans), per_advocate=False)
    _check(program.score("sentiment", window=(start, end)), whole)


def test_one_advocates_sentiment_is_the_mean_of_their_texts(generated):
    program, _, made = generated
    program.score_sentiment()
    who = made[0][1]
    theirs = [_vader(text) for _, w, text, _, _ in made if w == who and text]
    score = program.sentiment_of(who)
    assert score.n == len(theirs)
    assert score.value == pytest.approx(statistics.fmean(theirs))
    with pytest.raises(UnknownAdvocate):
        program.sentiment_of("nobody")


# --------------------------------------------------------------------------- scoring once


def test_texts_are_scored_once_and_the_score_says_what_is_not_scored_yet(make_program):
    program = make_program()
    _enroll(program, {"ann": "free"})
    program.record_many([_review("ann", f"r{n}", POSITIVE[n % 4], T0) for n in range(30)])
    score = program.score("sentiment")
    assert (score.n, score.value) == (0, None)
    assert score.missing == ("30 texts not scored yet: run program.score_sentiment()",)

    assert program.score_sentiment(batch=7) == 30
    assert program.score_sentiment() == 0
    program.record(_answer("ann", "late", NEGATIVE[0], T0))
    assert program.score("sentiment").missing == (
        "1 texts not scored yet: run program.score_sentiment()",
    )
    assert program.score_sentiment() == 1
    score = program.score("sentiment")
    assert score.n == 31 and score.missing == ()


def test_no_text_is_an_empty_score(make_program):
    program = make_program()
    _enroll(program, {"ann": "free"})
    program.record(_review("ann", "r1", None, T0))
    program.record(_answer("ann", "s1", "", T0))
    assert program.score_sentiment() == 0
    score = program.score("sentiment", by="month")
    assert (score.value, score.n, score.periods) == (None, 0, ())
    assert score.missing == ("no review.posted text or survey.answered comment",)
    assert program.sentiment_of("ann").n == 0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("options", "field", "accepted"),
    [
        ({"source": "tweets"}, "sentiment.source", "all, reviews, surveys"),
        ({"per_advocate": "yes"}, "sentiment.per_advocate", "True or False"),
        ({"mood": 1}, "score('sentiment') option", "one of per_advocate, source"),
    ],
)
def test_bad_options_name_the_field_value_and_what_is_accepted(
    make_program, options, field, accepted
):
    with pytest.raises(InvalidValue) as caught:
        make_program().score("sentiment", **options)
    assert caught.value.field == field and caught.value.accepted == accepted


@pytest.mark.parametrize("batch", [0, 5001, "10", True])
def test_a_bad_batch_is_refused(make_program, batch):
    with pytest.raises(InvalidValue, match=r"score_sentiment.batch=.* an integer from 1 to 5000"):
        make_program().score_sentiment(batch=batch)


def test_without_vader_scoring_says_what_to_install_and_the_score_still_works(
    make_program, monkeypatch
):
    program = make_program()
    _enroll(program, {"ann": "free"})
    program.record(_review("ann", "r1", POSITIVE[0], T0))
    monkeypatch.setitem(sys.modules, "vaderSentiment", None)
    monkeypatch.setitem(sys.modules, "vaderSentiment.vaderSentiment", None)
    with pytest.raises(MissingExtra, match=r"pip install 'advokit\[sentiment\]'") as caught:
        program.score_sentiment()
    assert (caught.value.module, caught.value.extra) == ("vaderSentiment", "sentiment")
    # aggregating the stored scores is SQL: it needs no extra
    assert program.score("sentiment").missing[0].startswith("1 texts not scored yet")
