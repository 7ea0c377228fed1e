"""Fulfilment: the outbox of rewards, fulfillers, retries, dead letters, crashes and leases."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest

from advokit import Advocate, ConfigurationError, InvalidValue, PluginError, hookimpl
from advokit.core.http import retry_after
from advokit.core.signing import BadSignature, sign, signed_headers, verify
from advokit.plugins.points import Points, adjustment
from advokit.plugins.rewards import (
    AwaitPerson,
    Fulfilment,
    FulfilmentFailed,
    FulfilmentReport,
    HttpFulfiller,
    Manual,
    RetryLater,
    Rewards,
    RewardState,
    StoreCredit,
)
from advokit.plugins.rewards.fulfilment import Tried, call, claim_due, settle
from helpers import (
    ADVOCATE,
    GIFT,
    PROVIDER_SECRET,
    Gifts,
    build_fulfilment_program,
    fulfil_in_process,
    fulfil_pending_worker,
    reviews,
    run_processes,
)
from provider import Provider

S = RewardState


class Recorder:
    """A fulfiller in memory: answers what the test scripts, then a code per key."""

    plugin_name = "recorder"

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    @hookimpl
    def advokit_register_fulfillers(self, register):
        register(self, name=GIFT)

    def fulfil(self, program, reward):
        self.calls.append((reward.key, reward.attempts))
        if self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return {"code": f"CODE-{reward.key[-6:]}"}


class DeadLetters:
    plugin_name = "dead-letters"

    def __init__(self):
        self.seen = []

    @hookimpl
    def advokit_on_fulfilment_error(self, reward, error):
        self.seen.append((reward.key, reward.state, reward.error, type(error).__name__))


def make(make_program, *plugins, **settings):
    program = make_program(
        plugins=[Points(), Rewards(fulfilment=Fulfilment(**settings)), Gifts(), *plugins]
    )
    program.enroll(Advocate(external_id=ADVOCATE))
    return program


def issue(program, count=1, prefix="review"):
    program.record_many(reviews(count, prefix=prefix))
    return [r.key for r in program.rewards(ADVOCATE) if r.cause.startswith(prefix)]


def moves(program, key):
    return [(t.before and t.before.value, t.after.value) for t in program.reward_history(key)]


# --------------------------------------------------------------------------- the worker


def test_a_due_reward_is_fulfilled_once_after_commit_and_every_move_is_kept(make_program):
    recorder = Recorder()
    program = make(make_program, recorder)
    (key,) = issue(program)
    report = program.fulfil_pending()
    assert report == FulfilmentReport(claimed=1, fulfilled=1)
    reward = program.reward(key)
    assert (reward.state, reward.attempts, reward.result) == (
        S.FULFILLED,
        1,
        {"code": f"CODE-{key[-6:]}"},
    )
    assert recorder.calls == [(key, 1)]  # the fulfiller saw the claimed try
    assert moves(program, key)[-2:] == [("approved", "fulfilling"), ("fulfilling", "fulfilled")]
    assert program.fulfil_pending() == FulfilmentReport()  # nothing due: nothing called
    assert len(recorder.calls) == 1


def test_rewards_without_a_fulfiller_stay_approved(make_program):
    program = make(make_program)  # no fulfiller for gift cards
    (key,) = issue(program)
    assert program.fulfil_pending() == FulfilmentReport()
    assert program.reward(key).state is S.APPROVED


def test_a_retry_waits_for_its_backoff_and_retry_after_is_honoured(make_program, advokit_clock):
    recorder = Recorder(
        RetryLater("busy"), RetryLater("slow down", after=timedelta(seconds=90)), {"ok": 1}
    )
    program = make(make_program, recorder, first_retry=timedelta(seconds=30))
    (key,) = issue(program)
    assert program.fulfil_pending().retried == 1
    waiting = program.reward(key)
    assert (waiting.state, waiting.error, waiting.attempts) == (S.APPROVED, "busy", 1)
    assert program.fulfil_pending() == FulfilmentReport()  # not due yet
    advokit_clock.advance(seconds=31)  # the first backoff is at most first_retry
    assert program.fulfil_pending().retried == 1
    advokit_clock.advance(seconds=89)
    assert program.fulfil_pending() == FulfilmentReport()  # Retry-After: 90 s, not less
    advokit_clock.advance(seconds=1)
    assert program.fulfil_pending().fulfilled == 1
    assert [attempt for _, attempt in recorder.calls] == [1, 2, 3]
    assert program.reward(key).state is S.FULFILLED


def test_backoff_grows_with_jitter_and_stops_at_the_longest_wait():
    settings = Fulfilment(first_retry=timedelta(seconds=10), longest_retry=timedelta(minutes=5))
    waits = {n: [settings.backoff(n) for _ in range(200)] for n in (1, 3, 10)}
    assert all(timedelta(0) <= w <= timedelta(seconds=10) for w in waits[1])
    assert max(waits[3]) > timedelta(seconds=10)  # grows
    assert len(set(waits[3])) > 100  # jittered
    assert all(w <= timedelta(minutes=5) for w in waits[10])


def test_a_permanent_failure_is_dead_lettered_at_once_and_observed(make_program):
    dead = DeadLetters()
    recorder = Recorder(FulfilmentFailed("card blocked"))
    program = make(make_program, recorder, dead)
    first, second = issue(program, 2)
    report = program.fulfil_pending()
    assert (report.failed, report.fulfilled) == (1, 1)  # the next reward kept flowing
    assert (program.reward(first).state, program.reward(second).state) == (S.FAILED, S.FULFILLED)
    assert dead.seen == [(first, S.FAILED, "card blocked", "FulfilmentFailed")]


def test_attempts_run_out_into_the_dead_letter(make_program, advokit_clock):
    dead = DeadLetters()
    recorder = Recorder(*[RetryLater("down")] * 3)
    program = make(make_program, recorder, dead, max_attempts=3)
    (key,) = issue(program)
    for _ in range(3):
        program.fulfil_pending()
        advokit_clock.advance(hours=1)
    reward = program.reward(key)
    assert (reward.state, reward.attempts) == (S.FAILED, 3)
    assert reward.error == "gave up after 3 attempts: down"
    assert dead.seen == [(key, S.FAILED, reward.error, "RetryLater")]
    assert program.fulfil_pending() == FulfilmentReport()


def test_a_dead_letter_sent_back_by_a_person_is_tried_again_with_its_key(make_program):
    recorder = Recorder(FulfilmentFailed("no such card design"))
    program = make(make_program, recorder)
    (key,) = issue(program)
    program.fulfil_pending()
    retried = program.retry_reward(key, actor="maria", reason="design fixed")
    assert (retried.state, retried.attempts) == (S.APPROVED, 0)
    assert program.fulfil_pending().fulfilled == 1
    assert [k for k, _ in recorder.calls] == [key, key]
    assert ("failed", "approved") in moves(program, key)
    with pytest.raises(InvalidValue, match="state='fulfilled'"):
        program.retry_reward(key, actor="maria", reason="again")


def test_a_waiting_try_does_not_count_against_the_attempts(make_program, advokit_clock):
    recorder = Recorder(*[RetryLater("pool empty", counts=False)] * 5)
    program = make(make_program, recorder, max_attempts=2)
    (key,) = issue(program)
    for _ in range(5):
        program.fulfil_pending()
        advokit_clock.advance(hours=1)
    assert program.reward(key).attempts == 0
    assert program.fulfil_pending().fulfilled == 1


def test_an_unexpected_error_names_the_plugin_and_is_retried(make_program, advokit_clock):
    dead = DeadLetters()
    recorder = Recorder(KeyError("oops"), KeyError("again"))
    program = make(make_program, recorder, dead, max_attempts=2)
    (key,) = issue(program)
    assert program.fulfil_pending().retried == 1  # a bug may be passing: tried again
    waiting = program.reward(key)
    assert waiting.state is S.APPROVED
    assert "plugin 'recorder' failed in fulfil: KeyError" in waiting.error
    advokit_clock.advance(hours=1)
    assert program.fulfil_pending().failed == 1
    reward = program.reward(key)
    assert "plugin 'recorder' failed in fulfil: KeyError" in reward.error
    assert dead.seen[0][3] == "PluginError"


def test_a_reward_for_a_person_waits_until_they_complete_it(make_program, advokit_clock):
    recorder = Recorder(AwaitPerson("post the mug"))
    program = make(make_program, recorder, lease=timedelta(minutes=1))
    (key,) = issue(program)
    assert program.fulfil_pending().with_person == 1
    advokit_clock.advance(days=3)  # no lease: never claimed again
    assert program.fulfil_pending() == FulfilmentReport()
    waiting = program.reward(key)
    assert (waiting.state, waiting.error) == (S.FULFILLING, "post the mug")
    done = program.complete_reward(
        key, actor="maria", reason="posted", result={"tracking": "LX123"}
    )
    assert (done.state, done.result, done.error) == (S.FULFILLED, {"tracking": "LX123"}, None)
    assert program.reward(key) == done
    assert moves(program, key)[-1] == ("fulfilling", "fulfilled")
    history = program.reward_history(key)
    assert (history[-1].actor, history[-1].reason) == ("maria", "posted")
    with pytest.raises(InvalidValue, match="result"):
        program.complete_reward(key, actor="maria", reason="x", result=["not", "a", "map"])


def test_a_person_can_fail_a_reward_handed_to_them(make_program):
    program = make(make_program, Recorder(AwaitPerson("ship it")))
    (key,) = issue(program)
    program.fulfil_pending()
    failed = program.fail_reward(key, actor="maria", reason="out of mugs")
    assert (failed.state, failed.error) == (S.FAILED, "out of mugs")


# --------------------------------------------------------------------------- leases


def test_a_lapsed_claim_is_taken_again_with_the_same_key(make_program, advokit_clock):
    recorder = Recorder()
    program = make(make_program, recorder, lease=timedelta(minutes=5))
    (key,) = issue(program)
    settings = Fulfilment(lease=timedelta(minutes=5))
    (claimed,), _ = claim_due(program, settings, [GIFT], 10)  # a worker that dies now
    assert claimed.reward.state is S.FULFILLING
    assert program.fulfil_pending() == FulfilmentReport()  # the lease holds
    advokit_clock.advance(minutes=5, seconds=1)
    assert program.fulfil_pending().fulfilled == 1
    assert recorder.calls == [(key, 2)]
    assert moves(program, key)[-3:] == [
        ("approved", "fulfilling"),
        ("fulfilling", "fulfilling"),  # claimed again: the last claim lapsed
        ("fulfilling", "fulfilled"),
    ]


def test_a_worker_whose_claim_lapsed_cannot_overwrite_the_newer_try(make_program, advokit_clock):
    program = make(make_program, Recorder(), lease=timedelta(minutes=5))
    (key,) = issue(program)
    settings = Fulfilment(lease=timedelta(minutes=5))
    (stale,), _ = claim_due(program, settings, [GIFT], 10)
    advokit_clock.advance(minutes=6)
    assert program.fulfil_pending().fulfilled == 1  # another worker took it and finished
    late = settle(program, settings, [Tried(stale, error=RetryLater("late"))])
    assert late == FulfilmentReport(claimed=1, lost=1)
    assert program.reward(key).state is S.FULFILLED


# --------------------------------------------------------------------------- the HTTP fulfiller


@pytest.fixture
def provider():
    with Provider(PROVIDER_SECRET) as running:
        yield running


def http_program(make_program, url, *plugins, **settings):
    http = HttpFulfiller(url, secret=PROVIDER_SECRET, kinds=[GIFT])
    return make(make_program, http, *plugins, **settings)


def test_the_http_fulfiller_posts_a_signed_request_with_the_key(make_program, provider):
    program = http_program(make_program, provider.url)
    (key,) = issue(program)
    assert program.fulfil_pending().fulfilled == 1
    (body,) = provider.bodies
    assert (body["key"], body["advocate"], body["amount"], body["currency"], body["kind"]) == (
        key,
        ADVOCATE,
        2500,
        "EUR",
        GIFT,
    )
    assert program.reward(key).result == {
        "status": 201,
        "response": {"id": "order-1", "key": key},
    }


def test_500_then_429_retry_after_then_200_fulfils_once(make_program, advokit_clock):
    script = [(500, {}), (429, {"Retry-After": "7"})]
    with Provider(PROVIDER_SECRET, script) as provider:
        program = http_program(make_program, provider.url, first_retry=timedelta(seconds=5))
        (key,) = issue(program)
        assert program.fulfil_pending().retried == 1
        assert "answered 500" in program.reward(key).error
        advokit_clock.advance(seconds=5)
        assert program.fulfil_pending().retried == 1
        advokit_clock.advance(seconds=6)
        assert program.fulfil_pending() == FulfilmentReport()  # Retry-After: 7
        advokit_clock.advance(seconds=1)
        assert program.fulfil_pending().fulfilled == 1
        assert program.fulfil_pending() == FulfilmentReport()
    assert provider.calls_for(key) == [500, 429, 201]
    assert provider.created() == 1
    first, *others = provider.bodies
    assert all(body == first for body in others)  # one key, one body: providers compare them
    assert [h["X-Advokit-Attempt"] for h in provider.headers] == ["1", "2", "3"]
    reward = program.reward(key)
    assert (reward.state, reward.attempts, reward.error) == (S.FULFILLED, 3, None)


def test_400_is_dead_lettered_and_later_rewards_keep_flowing(make_program, advokit_clock):
    dead = DeadLetters()
    with Provider(PROVIDER_SECRET, [(400, {})]) as provider:
        program = http_program(make_program, provider.url, dead, max_attempts=3)
        bad, *good = issue(program, 4)
        report = program.fulfil_pending()
        assert (report.failed, report.fulfilled) == (1, 3)
    assert provider.calls_for(bad) == [400]  # a refusal is not asked again
    assert program.reward(bad).state is S.FAILED
    assert "answered 400" in program.reward(bad).error
    assert [program.reward(k).state for k in good] == [S.FULFILLED] * 3
    assert [key for key, *_ in dead.seen] == [bad]


def test_a_provider_down_for_good_is_dead_lettered_after_the_attempts(make_program, advokit_clock):
    dead = DeadLetters()
    with Provider(PROVIDER_SECRET, [(503, {})] * 3) as provider:
        program = http_program(make_program, provider.url, dead, max_attempts=3)
        (key,) = issue(program)
        for _ in range(3):
            program.fulfil_pending()
            advokit_clock.advance(hours=7)
        later = issue(program, 2, prefix="later")
        assert program.fulfil_pending().fulfilled == 2
    assert provider.calls_for(key) == [503, 503, 503]
    assert program.reward(key).state is S.FAILED
    assert [program.reward(k).state for k in later] == [S.FULFILLED] * 2
    assert dead.seen[0][0] == key


def test_an_unreachable_provider_is_retried(make_program):
    with Provider() as gone:
        url = gone.url  # closed when the block ends: nothing listens there any more
    program = http_program(make_program, url)
    (key,) = issue(program)
    assert program.fulfil_pending().retried == 1
    assert "unreachable" in program.reward(key).error


def test_connections_are_kept_and_one_the_server_dropped_is_opened_again(make_program):
    with (
        Provider(PROVIDER_SECRET) as kept,
        Provider(PROVIDER_SECRET, drop_connections=True) as dropping,
    ):
        for provider in (kept, dropping):
            program = http_program(make_program, provider.url)
            issue(program, 3)
            assert program.fulfil_pending().fulfilled == 3
            assert provider.created() == len(provider.calls) == 3
    assert len(kept.peers) == 1  # one connection for the three
    assert len(dropping.peers) == 3


def test_concurrent_calls_keep_their_connections_from_round_to_round(make_program):
    with Provider(PROVIDER_SECRET) as provider:
        program = http_program(make_program, provider.url, concurrency=2)
        for round_ in range(3):  # as advokit worker runs round after round
            issue(program, 4, prefix=f"round{round_}")
            assert program.fulfil_pending().fulfilled == 4
    assert provider.created() == 12
    assert len(provider.peers) <= 2  # one connection per thread, kept: not 2 per round


def test_a_wrong_secret_makes_rewards_wait_for_the_fix(make_program, advokit_clock):
    with Provider("another-secret-of-many-characters") as provider:
        program = http_program(make_program, provider.url, max_attempts=2)
        keys = issue(program, 3)
        # 401: the program's secret is wrong, not the rewards: they wait, attempts kept
        for _ in range(3):
            assert program.fulfil_pending() == FulfilmentReport(claimed=3, retried=3)
            reward = program.reward(keys[0])
            assert "answered 401" in reward.error
            assert "check the secret" in reward.error
            assert reward.attempts == 0
            advokit_clock.advance(minutes=9)
            assert program.fulfil_pending() == FulfilmentReport()  # every 10 minutes
            advokit_clock.advance(minutes=1)
        assert provider.created() == 0
        provider.secret = PROVIDER_SECRET  # the secret is put right
        assert program.fulfil_pending() == FulfilmentReport(claimed=3, fulfilled=3)
    assert provider.created() == 3


def test_a_403_is_dead_lettered(make_program):
    with Provider(PROVIDER_SECRET, [(403, {})]) as provider:
        program = http_program(make_program, provider.url)
        (key,) = issue(program)
        assert program.fulfil_pending().failed == 1
    assert "answered 403" in program.reward(key).error


def test_concurrent_workers_share_the_rewards_and_fulfil_each_once(
    database_url, monkeypatch, provider
):
    program = build_fulfilment_program(database_url, provider.url)
    program.migrate()
    program.enroll(Advocate(external_id=ADVOCATE))
    program.record_many(reviews(200))
    monkeypatch.setenv("ADVOKIT_TEST_PROVIDER_URL", provider.url)
    reports = run_processes(fulfil_pending_worker, database_url, processes=4, calls=10)
    assert sum(r["claimed"] for r in reports) == 200  # no reward claimed twice
    assert provider.created() == 200
    assert len(provider.calls) == 200
    states = {r.state for r in program.rewards(ADVOCATE)}
    assert states == {S.FULFILLED}
    program.close()


# --------------------------------------------------------------------------- crashes


def _crash(database_url, url, point):
    process = multiprocessing.get_context("spawn").Process(
        target=fulfil_in_process, args=(database_url, url, point)
    )
    process.start()
    process.join(120)
    assert process.exitcode == -9, f"the worker should have been killed, got {process.exitcode}"


@pytest.mark.parametrize("point", ["after_debit", "before_call", "after_call"])
def test_a_worker_killed_at_any_point_ends_in_exactly_one_fulfilment(database_url, provider, point):
    program = build_fulfilment_program(database_url, provider.url)
    program.migrate()
    program.enroll(Advocate(external_id=ADVOCATE))
    program.record(adjustment(ADVOCATE, 100, reason="welcome", key="welcome"))
    if point != "after_debit":
        program.redeem(ADVOCATE, "gift-card", key="redeem-gift")
    _crash(database_url, provider.url, point)
    (reward,) = program.rewards(ADVOCATE)
    assert program.balance(ADVOCATE) == 60  # debited once, whatever died
    expected = {"after_debit": S.APPROVED, "before_call": S.FULFILLING}
    assert reward.state is expected.get(point, S.FULFILLING)
    assert len(provider.calls) == (1 if point == "after_call" else 0)
    # the worker runs again, once the dead worker's lease (1 s) lapsed
    restarted = build_fulfilment_program(
        database_url,
        provider.url,
        clock=lambda: datetime.now(UTC) + timedelta(seconds=2),
    )
    assert restarted.fulfil_pending().fulfilled == 1
    assert restarted.fulfil_pending() == FulfilmentReport()
    assert provider.created() == 1  # exactly one order, with the reward's key
    assert set(provider.orders) == {reward.key}
    assert [status for _, status in provider.calls].count(201) == 1
    (done,) = program.rewards(ADVOCATE)
    assert done.state is S.FULFILLED
    assert done.result["response"] == provider.orders[reward.key]
    restarted.close()
    program.close()


# --------------------------------------------------------------------------- signatures


def test_a_signature_checks_out_and_a_tampered_or_stale_one_does_not():
    body = json.dumps({"key": "k"}).encode()
    headers = signed_headers("s" * 20, body, now=1_800_000_000)
    timestamp, signature = headers["X-Advokit-Timestamp"], headers["X-Advokit-Signature"]
    assert signature == sign("s" * 20, 1_800_000_000, body)
    verify("s" * 20, body, timestamp, signature, now=1_800_000_100)
    with pytest.raises(BadSignature, match="does not match"):
        verify("s" * 20, body + b" ", timestamp, signature, now=1_800_000_100)
    with pytest.raises(BadSignature, match="older than 300s"):
        verify("s" * 20, body, timestamp, signature, now=1_800_000_301)
    with pytest.raises(BadSignature, match="missing"):
        verify("s" * 20, body, None, signature)


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert retry_after("120") == timedelta(seconds=120)
    assert retry_after("Mon, 01 Jun 2026 12:01:30 GMT", now=now) == timedelta(seconds=90)
    assert retry_after("soon") is None
    assert retry_after(None) is None


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Fulfilment(max_attempts=0), "max_attempts"),
        (lambda: Fulfilment(lease=timedelta(0)), "lease"),
        (lambda: Fulfilment(first_retry=30), "first_retry"),
        (lambda: Fulfilment(batch_size=0), "batch_size"),
        (lambda: HttpFulfiller("ftp://x", secret="s" * 16, kinds=["a"]), "url"),
        (lambda: HttpFulfiller("http://127.0.0.1/", secret="short", kinds=["a"]), "secret"),
        (lambda: HttpFulfiller("http://127.0.0.1/", secret="s" * 16, kinds="a"), "kinds"),
        (lambda: Rewards(fulfilment={"lease": 5}), "fulfilment"),
    ],
)
def test_settings_are_checked(build, field):
    with pytest.raises((ConfigurationError, InvalidValue), match=field):
        build()


def test_the_secret_never_shows_in_an_error():
    with pytest.raises(ConfigurationError) as caught:
        HttpFulfiller("http://127.0.0.1/", secret="short-secret", kinds=["a"])
    assert "short-secret" not in str(caught.value)


def test_a_fulfiller_without_fulfil_is_refused_naming_its_plugin(make_program):
    class Broken:
        plugin_name = "broken"

        @hookimpl
        def advokit_register_fulfillers(self, register):
            register(lambda program, reward: None, name=GIFT)

    with pytest.raises((ConfigurationError, PluginError), match="fulfil"):
        make_program(plugins=[Rewards(), Broken()])


def test_a_limit_is_checked(make_program):
    program = make(make_program, Recorder())
    with pytest.raises(ConfigurationError, match="limit"):
        program.fulfil_pending(limit=0)
    issue(program, 3)
    assert program.fulfil_pending(limit=2).claimed == 2


# --------------------------------------------------------------------------- store credit, by hand


def test_store_credit_is_credited_to_a_ledger_account_once(make_program):
    credit = StoreCredit("EUR", kinds=[GIFT])
    program = make(make_program, credit)
    (key,) = issue(program)
    assert program.fulfil_pending().fulfilled == 1
    assert program.balance(ADVOCATE, "store_credit") == 2500
    assert program.balance(ADVOCATE) == 0  # not points
    assert program.reward(key).result["credited"] == 2500
    # a worker that died after crediting asks again: a replay, not a second credit
    again = credit.fulfil(program, program.reward(key))
    assert again == program.reward(key).result
    assert program.balance(ADVOCATE, "store_credit") == 2500


def test_store_credit_in_another_currency_is_dead_lettered(make_program):
    program = make(make_program, StoreCredit("USD", kinds=[GIFT]))
    (key,) = issue(program)
    assert program.fulfil_pending().failed == 1
    assert program.reward(key).error == "store credit is in USD, the reward in EUR"
    assert program.balance(ADVOCATE, "store_credit") == 0


def test_manual_rewards_wait_for_a_person(make_program):
    program = make(make_program, Manual([GIFT]))
    (key,) = issue(program)
    assert program.fulfil_pending().with_person == 1
    (waiting,) = program.rewards(ADVOCATE, states=["fulfilling"])
    assert (waiting.key, waiting.error) == (key, "gift_card is fulfilled by a person")


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: StoreCredit("eur"), "currency"),
        (lambda: StoreCredit("EUR", account="points"), "account"),
        (lambda: StoreCredit("EUR", kinds="store_credit"), "kinds"),
        (lambda: Manual([]), "kinds"),
    ],
)
def test_builtin_fulfillers_check_their_settings(build, field):
    with pytest.raises(ConfigurationError, match=field):
        build()


# --------------------------------------------------------------------------- claims (review)


def test_a_batch_is_leased_wave_by_wave(make_program, advokit_clock):
    program = make(make_program, Recorder())
    issue(program, 5)
    settings = Fulfilment(lease=timedelta(minutes=5), concurrency=2)
    claimed, _ = claim_due(program, settings, [GIFT], 10)
    waves = [(c.lease - advokit_clock.now) // timedelta(minutes=5) for c in claimed]
    assert waves == [1, 1, 2, 2, 3]  # two calls at once: the fifth is called third


def test_a_reward_whose_workers_keep_dying_is_dead_lettered(make_program, advokit_clock):
    dead = DeadLetters()
    recorder = Recorder()
    program = make(make_program, recorder, dead, max_attempts=2, lease=timedelta(minutes=5))
    (key,) = issue(program)
    settings = Fulfilment(max_attempts=2, lease=timedelta(minutes=5))
    for _ in range(2):  # two workers die holding it
        claim_due(program, settings, [GIFT], 10)
        advokit_clock.advance(minutes=6)
    report = program.fulfil_pending()
    assert report == FulfilmentReport(failed=1)
    assert recorder.calls == []  # not called a third time
    reward = program.reward(key)
    assert (reward.state, reward.attempts) == (S.FAILED, 2)
    assert reward.error.startswith("gave up after 2 attempts: the worker died")
    assert dead.seen == [(key, S.FAILED, reward.error, "RuntimeError")]


def test_a_hung_worker_cannot_settle_the_try_after_a_persons_retry(make_program, advokit_clock):
    program = make(make_program, Recorder(FulfilmentFailed("no")), lease=timedelta(minutes=5))
    (key,) = issue(program)
    settings = Fulfilment(lease=timedelta(minutes=5))
    (hung,), _ = claim_due(program, settings, [GIFT], 10)  # try 1, then it hangs
    advokit_clock.advance(minutes=6)
    assert program.fulfil_pending().failed == 1  # another worker: try 2, refused
    program.retry_reward(key, actor="maria", reason="fixed")  # attempts start again
    (fresh,), _ = claim_due(program, settings, [GIFT], 10)  # try 1 again, by a third worker
    assert fresh.reward.attempts == hung.reward.attempts == 1
    late = settle(program, settings, [Tried(hung, error=RetryLater("late"))])
    assert late == FulfilmentReport(claimed=1, lost=1)
    assert program.reward(key).state is S.FULFILLING  # the third worker's claim stands
    assert settle(program, settings, [Tried(fresh, result={"ok": 1})]).fulfilled == 1


def test_a_person_cannot_complete_a_reward_a_worker_is_calling(make_program, advokit_clock):
    program = make(make_program, Recorder(), lease=timedelta(minutes=5))
    (key,) = issue(program)
    claim_due(program, Fulfilment(lease=timedelta(minutes=5)), [GIFT], 10)
    with pytest.raises(InvalidValue, match="claimed by a worker"):
        program.complete_reward(key, actor="maria", reason="done")
    with pytest.raises(InvalidValue, match="claimed by a worker"):
        program.fail_reward(key, actor="maria", reason="no")
    advokit_clock.advance(minutes=6)  # the worker died: a person may settle it
    assert program.fail_reward(key, actor="maria", reason="no").state is S.FAILED


def test_every_dead_letter_is_observed_when_an_observer_raises(make_program):
    class Flaky:
        plugin_name = "flaky"

        def __init__(self):
            self.seen = []

        @hookimpl
        def advokit_on_fulfilment_error(self, reward):
            self.seen.append(reward.key)
            raise RuntimeError("pager down")

    flaky = Flaky()
    program = make(make_program, Recorder(FulfilmentFailed("a"), FulfilmentFailed("b")), flaky)
    keys = issue(program, 2)
    with pytest.raises(PluginError, match="flaky"):
        program.fulfil_pending()
    assert flaky.seen == keys
    assert {program.reward(k).state for k in keys} == {S.FAILED}  # committed before


def test_a_long_retry_after_waits_no_longer_than_the_longest_retry(make_program, advokit_clock):
    recorder = Recorder(RetryLater("come back next year", after=timedelta(days=365)))
    program = make(make_program, recorder, longest_retry=timedelta(hours=1))
    (key,) = issue(program)
    program.fulfil_pending()
    advokit_clock.advance(hours=1)
    assert program.fulfil_pending().fulfilled == 1
    assert "again after 60min" in program.reward_history(key)[-3].reason


def test_a_try_that_did_not_pay_keeps_no_result(make_program):
    import sqlalchemy as sa

    from advokit.plugins.rewards import rewards_t

    program = make(make_program, Recorder(RetryLater("busy")))
    (key,) = issue(program)
    program.fulfil_pending()
    with program.engine.connect() as conn:
        stored = conn.execute(
            sa.select(rewards_t.c.id).where(rewards_t.c.key == key, rewards_t.c.result.is_(None))
        ).all()
    assert len(stored) == 1  # SQL NULL, not the JSON text 'null'


# --------------------------------------------------------------------------- refunds during a try


class Refunds:
    """``share.posted`` with ``url=<review key>`` stands for that review's refund."""

    plugin_name = "refunds"
    advokit_evaluates = frozenset({"share.posted"})

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        from advokit import ReverseRewards

        return [ReverseRewards(cause=action.data["url"], reason="order refunded")]


def refund(program, cause):
    from advokit import Action

    program.record(
        Action(kind="share.posted", advocate=ADVOCATE, key=f"refund-{cause}", data={"url": cause})
    )


@pytest.mark.parametrize(
    ("answer", "state", "report"),
    [
        ({"code": "PAID"}, S.REVERSED, FulfilmentReport(claimed=1, fulfilled=1)),
        (RetryLater("busy"), S.CANCELED, FulfilmentReport(claimed=1, canceled=1)),
        (FulfilmentFailed("no"), S.CANCELED, FulfilmentReport(claimed=1, canceled=1)),
    ],
)
def test_a_refund_during_a_try_reverses_what_was_paid_and_cancels_the_rest(
    make_program, answer, state, report
):
    recorder = Recorder(answer)
    program = make(make_program, recorder, Refunds())
    (key,) = issue(program)
    settings = Fulfilment()
    (claim,), _ = claim_due(program, settings, [GIFT], 10)
    refund(program, "review-0")  # while the worker is calling the provider
    assert program.reward(key).state is S.FULFILLING  # the outcome decides
    tried = call(program, program.registries.fulfillers, "fulfil", claim)
    assert settle(program, settings, [tried]) == report
    reward = program.reward(key)
    assert reward.state is state
    assert program.fulfil_pending() == FulfilmentReport()  # never tried again
    last = program.reward_history(key)[-1]
    assert (last.after, last.reason) == (state, "reversal asked while fulfilling: order refunded")
    if state is S.REVERSED:
        assert reward.result == {"code": "PAID"}  # what was paid stays on record
        assert moves(program, key)[-2:] == [("fulfilling", "fulfilled"), ("fulfilled", "reversed")]


def test_a_refund_cancels_a_reward_waiting_for_a_person(make_program):
    program = make(make_program, Recorder(AwaitPerson("post it")), Refunds())
    (key,) = issue(program)
    program.fulfil_pending()
    refund(program, "review-0")
    assert program.reward(key).state is S.CANCELED
