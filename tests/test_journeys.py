"""Journeys: triggers, waits resumed by the tick, branches, each step exactly once,
and review gating refused when a journey is composed."""

from __future__ import annotations

import importlib.util
import json
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from advokit import Action, Advocate, AdvokitError, Consent
from advokit.core.errors import ConfigurationError
from advokit.plugins.channels import Email, SlackWebhook, Webhook
from advokit.plugins.journeys import (
    AddTag,
    Award,
    Branch,
    Do,
    Journey,
    Journeys,
    ReviewGating,
    Send,
    Wait,
    WaitFor,
    nps_category,
)
from advokit.plugins.messages import Messages
from helpers import (
    build_journeys_program,
    count_rows,
    run_processes,
    thanks_later,
    tick_journeys,
)
from smtp_server import SmtpServer

SECRET = "a-secret-of-32-characters-for-tests"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kinds(program, advocate):
    return [m.kind for m in program.messages(advocate)]


def build(make_program, *journeys, **options):
    program = make_program(
        plugins=[
            Messages(secret=SECRET),
            Webhook(url="http://127.0.0.1:9/unused", secret=SECRET, name="crm"),
            Email(host="127.0.0.1", port=9, sender="a@b.example", security="none"),
            SlackWebhook("http://127.0.0.1:9/slack", name="team"),
            Journeys(*journeys),
        ],
        **options,
    )
    for who in ("ann", "bob"):
        program.enroll(Advocate(external_id=who, name=who.title()))
    return program


def purchase(program, who="ann", n=0):
    return program.record(
        Action(
            kind="purchase.completed",
            advocate=who,
            key=f"order-{who}-{n}",
            data={"order_id": f"{who}-{n}"},
        )
    )


def answer(program, who, score, n=0):
    return program.record(
        Action(kind="survey.answered", advocate=who, key=f"nps-{who}-{n}", data={"score": score})
    )


# --------------------------------------------------------------------------- the NPS example


@pytest.fixture
def slack():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.expect_request("/slack", method="POST").respond_with_data("ok")
    yield server
    server.clear()
    server.stop()


def test_the_nps_journey_runs_end_to_end_with_time_moved_by_the_clock(tmp_path, slack):
    example = load_example("nps_journey")
    with SmtpServer() as smtp:
        clock = example.ManualClock(example.START)
        program = example.build_program(
            f"sqlite:///{tmp_path / 'nps.db'}",
            clock,
            smtp_port=smtp.port,
            slack_url=slack.url_for("/slack"),
        )
        example.run(program, clock, deliver=True)
        program.tick()  # again: nothing runs twice
        program.deliver_pending()
        received = [email for _, _, email in smtp.received]
        recipients = sorted(to for _, (to,), _ in smtp.received)

    assert kinds(program, "ana") == ["nps_survey", "review_request", "referral_invite"]
    assert kinds(program, "ben") == ["nps_survey", "review_request", "thank_you"]
    assert kinds(program, "cho") == ["nps_survey", "review_request", "detractor_alert"]
    assert kinds(program, "dan") == ["nps_survey", "review_request"]  # no answer in 14 days
    # every message sent once: 4 surveys, 4 review requests, 1 invitation, 1 thank-you
    assert len(received) == 10
    assert recipients.count("dan@example.com") == 2
    message_ids = [email["Message-ID"] for email in received]
    assert len(set(message_ids)) == 10
    subjects = sorted(email["Subject"] for email in received)
    assert subjects.count("How likely are you to recommend bakery?") == 4
    assert subjects.count("How was your experience with bakery?") == 4
    # the detractor went to the team's Slack channel, with the comment
    ((request, _),) = slack.log
    text = json.loads(request.get_data())["text"]
    assert text.startswith("Cho (cho) answered 3 out of 10")
    assert "stale croissants" in text
    states = {s.journey: s for s in program.journeys("cho")}
    assert states["post_purchase_nps"].status == "done"
    assert states["post_purchase_nps"].answers["survey.answered"]["score"] == 3


def test_the_nps_example_runs_as_a_script(tmp_path, capsys):
    example = load_example("nps_journey")
    example.main(["--database-url", f"sqlite:///{tmp_path / 'nps.db'}"])
    out = capsys.readouterr().out
    assert "cho  team   detractor_alert  queued" in out
    assert "dan  email  review_request   queued" in out


def test_the_survey_waits_three_days(make_program, advokit_clock):
    example = load_example("nps_journey")
    program = build(make_program, example.POST_PURCHASE_NPS)
    purchase(program)
    advokit_clock.advance(days=2, hours=23)
    program.tick()
    assert kinds(program, "ann") == []
    advokit_clock.advance(hours=1)
    program.tick()
    assert kinds(program, "ann") == ["nps_survey"]
    (state,) = program.journeys("ann")
    assert (state.status, state.waiting_for) == ("waiting", "survey.answered")
    assert state.wake_at == advokit_clock() + timedelta(days=14)


# --------------------------------------------------------------------------- exactly once


def test_a_step_runs_once_however_often_the_tick_runs(make_program, advokit_clock):
    program = build(make_program, thanks_later())
    purchase(program)
    advokit_clock.advance(days=1)
    first = program.tick()
    second = program.tick()
    again = program.tick(advokit_clock() + timedelta(seconds=1))
    assert first.applied == 1
    assert (second.applied, again.applied) == (0, 0)
    assert kinds(program, "ann") == ["thank_you"]
    assert program.balance("ann") == 10
    assert "thanked" in program.tags("ann")


def test_two_processes_ticking_at_once_run_each_step_once(database_url):
    program = build_journeys_program(database_url)
    program.migrate()
    people = [f"p{n}" for n in range(40)]
    program.enroll_many(Advocate(external_id=who) for who in people)
    program.record_many(
        Action(kind="purchase.completed", advocate=who, key=f"o-{who}", data={"order_id": who})
        for who in people
    )
    program.close()

    reports = run_processes(tick_journeys, database_url, processes=2, calls=3)

    assert [r["errors"] for r in reports] == [[], []]
    applied = [o for r in reports for o in r["outcomes"] if not o[2]]
    assert sorted(who for _, who, _ in applied) == sorted(people)
    program = build_journeys_program(database_url, days_later=2)
    try:
        from advokit.plugins.messages import outbox_t

        assert count_rows(program, outbox_t) == 40
        assert {program.balance(who) for who in people} == {10}
        assert all(s.status == "done" for who in people for s in program.journeys(who))
    finally:
        program.close()


def test_an_answer_after_the_timeout_changes_nothing(make_program, advokit_clock):
    journey = Journey(
        "survey",
        trigger="purchase.completed",
        steps=[
            WaitFor("survey.answered", within=timedelta(days=2), timeout=[Send("thank_you")]),
            Send("review_request", context={"review_url": "https://x.example", "incentive": None}),
        ],
    )
    program = build(make_program, journey)
    purchase(program)
    advokit_clock.advance(days=2)
    program.tick()
    answer(program, "ann", 10)
    program.tick()
    assert kinds(program, "ann") == ["thank_you"]
    (state,) = program.journeys("ann")
    assert state.status == "done"
    assert "survey.answered" not in state.answers


def test_an_answer_after_the_time_limit_but_before_the_tick_is_too_late(
    make_program, advokit_clock
):
    journey = Journey(
        "survey",
        trigger="purchase.completed",
        steps=[
            WaitFor("survey.answered", within=timedelta(days=1), timeout=[Send("thank_you")]),
            Award(5),
        ],
    )
    program = build(make_program, journey)
    purchase(program)
    advokit_clock.advance(days=5)
    answer(program, "ann", 10)  # the tick has not run since the day passed
    program.tick()
    assert program.balance("ann") == 0
    assert kinds(program, "ann") == ["thank_you"]


def test_an_advocate_id_with_spaces_and_accents_is_resumed(make_program, advokit_clock):
    journey = Journey("later", trigger="purchase.completed", steps=[Wait(days=1), Award(1)])
    program = build(make_program, journey)
    program.enroll(Advocate(external_id="José García"))
    program.record(
        Action(kind="purchase.completed", advocate="José García", key="o-1", data={"order_id": "1"})
    )
    purchase(program, "ann")
    advokit_clock.advance(days=1)
    assert program.tick().applied == 2
    assert program.balance("José García") == program.balance("ann") == 1


def test_an_answer_moves_the_run_and_the_timeout_then_finds_nothing(make_program, advokit_clock):
    journey = Journey(
        "survey",
        trigger="purchase.completed",
        steps=[
            WaitFor("survey.answered", within=timedelta(days=2), timeout=[Send("thank_you")]),
            Branch(nps_category, promoter=[Award(5)], passive=[Award(5)], detractor=[Award(5)]),
        ],
    )
    program = build(make_program, journey)
    purchase(program)
    answer(program, "ann", 9)
    advokit_clock.advance(days=3)
    assert program.tick().applied == 0
    assert program.balance("ann") == 5
    assert kinds(program, "ann") == []


def test_a_where_filters_the_awaited_action(make_program):
    journey = Journey(
        "big_order",
        trigger="review.posted",
        steps=[
            WaitFor(
                "purchase.completed",
                within=timedelta(days=30),
                where=lambda action: action.data["order_id"].endswith("-1"),
            ),
            Award(50),
        ],
    )
    program = build(make_program, journey)
    program.record(Action(kind="review.posted", advocate="ann", key="r1"))
    purchase(program, n=0)
    assert program.balance("ann") == 0
    purchase(program, n=1)
    assert program.balance("ann") == 50


# --------------------------------------------------------------------------- runs


def test_a_trigger_during_a_run_starts_no_second_run(make_program, advokit_clock):
    journey = Journey("welcome", trigger="purchase.completed", steps=[Wait(days=1), Award(1)])
    program = build(make_program, journey)
    purchase(program, n=0)
    purchase(program, n=1)
    advokit_clock.advance(days=1)
    program.tick()
    assert program.balance("ann") == 1
    purchase(program, n=2)  # the run ended: a new one (reentry)
    advokit_clock.advance(days=1)
    program.tick()
    assert program.balance("ann") == 2
    (state,) = program.journeys("ann")
    assert state.run == 2


def test_without_reentry_an_advocate_goes_through_once(make_program, advokit_clock):
    journey = Journey("once", trigger="purchase.completed", steps=[Award(3)], reentry=False)
    program = build(make_program, journey)
    purchase(program, n=0)
    purchase(program, n=1)
    assert program.balance("ann") == 3


def test_when_decides_who_starts(make_program):
    journey = Journey(
        "big_spenders",
        trigger="purchase.completed",
        when=lambda advocate, action: action.data.get("total_cents", 0) >= 10_000,
        steps=[AddTag("big_spender")],
    )
    program = build(make_program, journey)
    program.record(
        Action(
            kind="purchase.completed",
            advocate="ann",
            key="a",
            data={"order_id": "a", "total_cents": 500},
        )
    )
    program.record(
        Action(
            kind="purchase.completed",
            advocate="bob",
            key="b",
            data={"order_id": "b", "total_cents": 12_000},
        )
    )
    assert "big_spender" not in program.tags("ann")
    assert "big_spender" in program.tags("bob")


def test_steps_share_the_triggers_batch_and_see_its_earlier_runs(make_program):
    journey = Journey(
        "thanks", trigger="purchase.completed", steps=[Send("thank_you", channel="crm"), Award(2)]
    )
    program = build(make_program, journey)
    outcomes = program.record_many(
        [
            Action(kind="purchase.completed", advocate="ann", key="x1", data={"order_id": "1"}),
            Action(kind="purchase.completed", advocate="ann", key="x2", data={"order_id": "2"}),
            Action(kind="purchase.completed", advocate="bob", key="x3", data={"order_id": "3"}),
        ]
    )
    assert [o.status.value for o in outcomes] == ["applied"] * 3
    # ann's second purchase in the same batch saw her first run (ended: a new run)
    assert program.balance("ann") == 4
    assert [s.run for s in program.journeys("ann")] == [2]
    assert kinds(program, "ann") == ["thank_you", "thank_you"]
    replay = program.record(
        Action(kind="purchase.completed", advocate="bob", key="x3", data={"order_id": "3"})
    )
    assert replay.replayed
    assert program.balance("bob") == 2


def test_a_failing_step_takes_the_trigger_and_every_step_back(make_program):
    def broken(run):
        raise RuntimeError("the coupon service is down")

    journey = Journey(
        "thanks",
        trigger="purchase.completed",
        steps=[Send("thank_you", channel="crm"), Award(2), Do(broken)],
    )
    program = build(make_program, journey)
    with pytest.raises(AdvokitError, match="coupon service is down"):
        purchase(program)
    assert program.balance("ann") == 0
    assert program.messages("ann") == []
    assert program.journeys("ann") == []
    assert program.history("ann") == []


def test_a_journey_naming_a_channel_or_kind_the_program_lacks_fails_when_built(make_program):
    to_sms = Journey("j", trigger="purchase.completed", steps=[Send("thank_you", channel="sms")])
    with pytest.raises(AdvokitError, match=r"Send\('thank_you'\)\.channel='sms'"):
        build(make_program, to_sms)
    unknown = Journey("k", trigger="purchase.done", steps=[Award(1)])
    with pytest.raises(AdvokitError, match="action kind='purchase.done'"):
        build(make_program, unknown)


def test_a_journey_changed_under_a_waiting_run_ends_it_quietly(make_program, advokit_clock, caplog):
    before = Journey("j", trigger="purchase.completed", steps=[Award(1), Award(1), Wait(days=1)])
    program = build(make_program, before)
    purchase(program)
    program.close()
    after = Journey("j", trigger="purchase.completed", steps=[Wait(days=1), Award(5)])
    changed = make_program(
        plugins=[Messages(secret=SECRET), Journeys(after)],
        database_url=program.engine.url.render_as_string(hide_password=False),
    )
    advokit_clock.advance(days=1)
    changed.tick()
    assert changed.balance("ann") == 2
    assert "no wait at '2' any more" in caplog.text
    (state,) = changed.journeys("ann")
    assert state.status == "done"  # ended, not stuck: the next purchase starts a run
    purchase(changed, n=1)
    advokit_clock.advance(days=1)
    changed.tick()
    assert changed.balance("ann") == 7


# --------------------------------------------------------------------------- review gating


def review_request():
    return Send("review_request", context={"review_url": "https://x.example", "incentive": None})


def test_asking_only_promoters_for_a_review_is_refused():
    with pytest.raises(ReviewGating) as refused:
        Journey(
            "gated",
            trigger="purchase.completed",
            steps=[
                Send("nps_survey"),
                WaitFor("survey.answered", within=timedelta(days=14)),
                Branch(
                    nps_category,
                    promoter=[review_request(), Send("referral_invite")],
                    passive=[Send("thank_you")],
                    detractor=[Send("detractor_alert", channel="team")],
                ),
            ],
        )
    text = str(refused.value)
    assert "review gating" in text
    assert "16 CFR Part 465" in text
    assert "promoter" in text


def test_a_review_request_in_every_arm_or_before_the_branch_is_accepted():
    Journey(
        "everyone",
        trigger="purchase.completed",
        steps=[
            WaitFor("survey.answered", within=timedelta(days=14)),
            Branch(
                nps_category,
                promoter=[review_request()],
                passive=[review_request()],
                detractor=[review_request()],
                otherwise=[review_request()],
            ),
        ],
    )
    Journey(
        "before",
        trigger="purchase.completed",
        steps=[
            WaitFor("survey.answered", within=timedelta(days=14)),
            review_request(),
            Branch(nps_category, promoter=[Send("referral_invite")]),
        ],
    )


def test_a_condition_on_the_score_before_a_review_request_is_refused():
    with pytest.raises(ReviewGating, match="where"):
        Journey(
            "where",
            trigger="purchase.completed",
            steps=[
                WaitFor(
                    "survey.answered",
                    within=timedelta(days=14),
                    where=lambda action: action.data["score"] >= 9,
                ),
                review_request(),
            ],
        )
    with pytest.raises(ReviewGating, match="when"):
        Journey(
            "promoters",
            trigger="survey.answered",
            when=lambda advocate, action: action.data["score"] >= 9,
            steps=[Send("testimonial_ask", review_request=True)],
        )


@pytest.mark.parametrize(
    "steps",
    [
        # promoters' answers are ignored: they time out, and the timeout asks them
        [
            WaitFor(
                "survey.answered",
                within=timedelta(days=14),
                where=lambda action: action.data["score"] < 9,
                timeout=[review_request()],
            )
        ],
        # the survey is awaited inside an arm; the branch after it gates
        [
            Branch(lambda run: "all", all=[WaitFor("survey.answered", within=timedelta(days=3))]),
            Branch(nps_category, promoter=[review_request()], passive=[], detractor=[]),
        ],
        # a condition inside an arm, the review request after the branch
        [
            Branch(
                lambda run: "all",
                all=[
                    WaitFor(
                        "survey.answered",
                        within=timedelta(days=3),
                        where=lambda action: action.data["score"] >= 9,
                    )
                ],
            ),
            review_request(),
        ],
    ],
    ids=["timeout-asks", "sentiment-in-an-arm", "where-in-an-arm"],
)
def test_gating_is_refused_however_the_steps_are_nested(steps):
    with pytest.raises(ReviewGating):
        Journey("sly", trigger="purchase.completed", steps=steps)


def test_an_incentive_by_a_reviews_sentiment_is_refused():
    with pytest.raises(ReviewGating, match="incentive"):
        Journey(
            "pay_for_praise",
            trigger="purchase.completed",
            steps=[
                WaitFor("review.posted", within=timedelta(days=30)),
                Branch(
                    lambda run: (
                        "good" if run.answer("review.posted").get("rating", 0) >= 4 else "bad"
                    ),
                    good=[Award(100)],
                    bad=[],
                ),
            ],
        )
    # the same reward for any review is fine
    Journey(
        "thank_any_review",
        trigger="purchase.completed",
        steps=[WaitFor("review.posted", within=timedelta(days=30)), Award(100)],
    )


def test_a_branch_not_on_satisfaction_may_ask_some(make_program):
    # the branch comes before any satisfaction answer: eligibility, not gating
    Journey(
        "eligible",
        trigger="purchase.completed",
        steps=[
            Branch(
                lambda run: "shipped" if run.trigger["data"].get("shipped") else "other",
                shipped=[review_request()],
                other=[],
            )
        ],
    )


# --------------------------------------------------------------------------- bad input


def test_journeys_are_checked_when_composed():
    with pytest.raises(ConfigurationError, match="Journey.name"):
        Journey("Bad Name", trigger="purchase.completed", steps=[Award(1)])
    with pytest.raises(ConfigurationError, match="Journey.steps"):
        Journey("empty", trigger="purchase.completed", steps=[])
    with pytest.raises(ConfigurationError, match="step"):
        Journey("odd", trigger="purchase.completed", steps=["send an email"])
    with pytest.raises(ConfigurationError, match="Wait"):
        Wait()
    with pytest.raises(ConfigurationError, match="Wait"):
        Wait(timedelta(0))
    with pytest.raises(ConfigurationError, match="Branch arm"):
        Branch(nps_category, timeout=[Award(1)])
    with pytest.raises(ConfigurationError, match="at least one arm"):
        Branch(nps_category)
    with pytest.raises(AdvokitError, match=r"Award\.reason='bonus'"):
        Award(5, reason="bonus")
    with pytest.raises(ConfigurationError, match="restarts it endlessly"):
        Journey("loop", trigger="points.changed", steps=[Award(1)])
    with pytest.raises(ConfigurationError, match="restarts it endlessly"):
        Journey("loop", trigger="points.changed", steps=[Do(lambda run: [])])
    with pytest.raises(AdvokitError, match=r"Award\.account='Store Credit'"):
        Award(5, account="Store Credit")
    with pytest.raises(AdvokitError, match=r"WaitFor\.kind='survey'"):
        WaitFor("survey", within=timedelta(days=1))
    with pytest.raises(ConfigurationError, match="Journey.name"):
        Journeys(
            Journey("same", trigger="a.b", steps=[Award(1)]),
            Journey("same", trigger="c.d", steps=[Award(1)]),
        )


def test_the_nps_category_of_a_run():
    from advokit.plugins.journeys import Run

    def run(score):
        answers = {} if score is None else {"survey.answered": {"score": score}}
        return Run(
            journey="j",
            advocate=Advocate(external_id="a"),
            trigger={},
            answers=answers,
            now=None,
            number=1,
        )

    assert [nps_category(run(s)) for s in (10, 9, 8, 7, 6, 0, None)] == [
        "promoter",
        "promoter",
        "passive",
        "passive",
        "detractor",
        "detractor",
        None,
    ]


def test_a_send_step_queues_what_a_rule_would(make_program):
    journey = Journey(
        "j",
        trigger="purchase.completed",
        steps=[
            Send(
                "thank_you",
                channel="crm",
                category="transactional",
                context=lambda run: {"order": run.trigger["data"]["order_id"]},
            )
        ],
    )
    program = build(make_program, journey)
    purchase(program)
    (message,) = program.messages("ann")
    assert (message.channel, message.kind, message.category.value) == (
        "crm",
        "thank_you",
        "transactional",
    )
    assert message.context == {"order": "ann-0"}


def test_consent_still_decides_at_send_time(make_program, advokit_clock):
    journey = Journey("j", trigger="purchase.completed", steps=[Send("thank_you")])
    with SmtpServer() as smtp:
        program = make_program(
            plugins=[
                Messages(secret=SECRET),
                Email(host="127.0.0.1", port=smtp.port, sender="a@b.example", security="none"),
                Journeys(journey),
            ]
        )
        program.enroll(Advocate(external_id="ann", email="ann@example.com"))
        program.enroll(
            Advocate(
                external_id="bob",
                email="bob@example.com",
                consent={"email": Consent(granted=True, basis="consent")},
            )
        )
        purchase(program, "ann")
        purchase(program, "bob")
        report = program.deliver_pending()
        assert (report.sent, report.suppressed) == (1, 1)
        assert len(smtp.received) == 1
