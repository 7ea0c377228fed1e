"""Reversal by the fulfiller: a refunded reward's payment undone once, after commit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from advokit import Action, Advocate, InvalidValue, PluginError, ReverseRewards, hookimpl
from advokit.core.model import derived_key
from advokit.plugins.points import Points, redemption
from advokit.plugins.rewards import (
    Fulfilment,
    FulfilmentFailed,
    FulfilmentReport,
    HttpFulfiller,
    RetryLater,
    Rewards,
    RewardState,
    StoreCredit,
)
from advokit.plugins.rewards.fulfilment import Tried, call, claim_due, settle
from advokit.plugins.rewards.reversal import claim_reversals, settle_reversals
from helpers import ADVOCATE, GIFT, PROVIDER_SECRET, Gifts, reviews
from provider import Provider

S = RewardState


class Reversible:
    """A fulfiller in memory that can undo: answers what the test scripts to
    ``reverse``, then a cancellation per key."""

    plugin_name = "reversible"

    def __init__(self, *answers, kind=GIFT):
        self.answers = list(answers)
        self.kind = kind
        self.fulfilled = []
        self.reversed = []  # (key, attempts, reversal, result) of each reverse call

    @hookimpl
    def advokit_register_fulfillers(self, register):
        register(self, name=self.kind)

    def fulfil(self, program, reward):
        self.fulfilled.append(reward.key)
        return {"card": f"CARD-{reward.key[-6:]}"}

    def reverse(self, program, reward):
        self.reversed.append((reward.key, reward.attempts, reward.reversal, reward.result))
        if self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return {"canceled": reward.result["card"]}


class Refunds:
    """``purchase.refunded`` with ``order_id=<review key>`` refunds that review's reward."""

    plugin_name = "refunds"
    advokit_evaluates = frozenset({"purchase.refunded"})

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        return [ReverseRewards(cause=action.data["order_id"], reason="order refunded")]


class DeadLetters:
    plugin_name = "dead-letters"

    def __init__(self):
        self.seen = []

    @hookimpl
    def advokit_on_fulfilment_error(self, reward, error):
        self.seen.append((reward.key, reward.state, reward.error, reward.next_attempt_at))


def make(make_program, *plugins, database_url=None, **settings):
    options = {} if database_url is None else {"database_url": database_url}
    program = make_program(
        plugins=[
            Points(),
            Rewards(fulfilment=Fulfilment(**settings)),
            Gifts(),
            Refunds(),
            *plugins,
        ],
        **options,
    )
    program.enroll(Advocate(external_id=ADVOCATE))
    return program


def paid(program, count=1):
    """``count`` gift cards issued and fulfilled: their keys."""
    program.record_many(reviews(count))
    assert program.fulfil_pending().fulfilled == count
    return [r.key for r in program.rewards(ADVOCATE)]


def refund(program, n=0, key=None):
    return program.record(
        Action(
            kind="purchase.refunded",
            advocate=ADVOCATE,
            key=key or f"refund-{n}",
            data={"order_id": f"review-{n}"},
        )
    )


def last_move(program, key):
    last = program.reward_history(key)[-1]
    return last.before, last.after, last.actor, last.reason


# --------------------------------------------------------------------------- the round


def test_a_reversed_reward_is_undone_once_by_its_fulfiller_after_commit(make_program, database_url):
    fulfiller = Reversible()
    program = make(make_program, fulfiller, database_url=database_url)
    (key,) = paid(program)
    refund(program)
    reward = program.reward(key)
    assert reward.state is S.REVERSED
    assert reward.next_attempt_at == program.clock()  # due, and not called in the refund
    assert reward.reversal == "order refunded"
    assert fulfiller.reversed == []
    assert program.fulfil_pending() == FulfilmentReport(claimed=1, reversed=1)
    card = f"CARD-{key[-6:]}"
    assert fulfiller.reversed == [(key, 1, "order refunded", {"card": card})]
    reward = program.reward(key)
    assert reward.result == {"card": card, "reversal": {"canceled": card}}
    assert (reward.next_attempt_at, reward.error) == (None, None)
    assert last_move(program, key) == (S.REVERSED, S.REVERSED, "advokit", "undone by its fulfiller")
    refund(program, key="refund-0-again")  # the refund arrives once more
    assert program.fulfil_pending() == FulfilmentReport()  # nothing due: never twice
    assert len(fulfiller.reversed) == 1


def test_a_fulfiller_without_reverse_leaves_nothing_due(make_program):
    from test_fulfilment import Recorder  # fulfils, cannot undo

    program = make(make_program, Recorder())
    (key,) = paid(program)
    refund(program)
    reward = program.reward(key)
    assert (reward.state, reward.next_attempt_at) == (S.REVERSED, None)
    assert program.fulfil_pending() == FulfilmentReport()


def test_a_failing_reversal_is_retried_with_backoff_and_retry_after(make_program, advokit_clock):
    fulfiller = Reversible(RetryLater("busy", after=timedelta(seconds=90)), RuntimeError("boom"))
    program = make(make_program, fulfiller, first_retry=timedelta(seconds=10))
    (key,) = paid(program)
    refund(program)
    assert program.fulfil_pending() == FulfilmentReport(claimed=1, retried=1)
    reward = program.reward(key)
    assert (reward.state, reward.attempts, reward.error) == (S.REVERSED, 1, "reversal: busy")
    assert reward.next_attempt_at == advokit_clock() + timedelta(seconds=90)
    assert last_move(program, key)[3] == "reversal: busy; again after 90s"
    advokit_clock.advance(seconds=89)
    assert program.fulfil_pending() == FulfilmentReport()  # not due yet
    advokit_clock.advance(seconds=1)
    assert program.fulfil_pending() == FulfilmentReport(claimed=1, retried=1)  # boom
    assert "reversible" in program.reward(key).error  # the failing plugin is named
    advokit_clock.advance(seconds=21)  # the backoff after try 2 waits at most 20 s
    assert program.fulfil_pending() == FulfilmentReport(claimed=1, reversed=1)
    assert [attempts for _, attempts, _, _ in fulfiller.reversed] == [1, 2, 3]
    assert program.reward(key).error is None


def test_a_refused_reversal_is_given_up_observed_and_can_be_sent_back(make_program):
    dead = DeadLetters()
    fulfiller = Reversible(FulfilmentFailed("card already spent"))
    program = make(make_program, fulfiller, dead)
    (key,) = paid(program)
    refund(program)
    assert program.fulfil_pending() == FulfilmentReport(claimed=1, failed=1)
    reward = program.reward(key)
    assert (reward.state, reward.next_attempt_at) == (S.REVERSED, None)
    assert reward.error == "reversal: card already spent"
    assert dead.seen == [(key, S.REVERSED, "reversal: card already spent", None)]
    assert program.fulfil_pending() == FulfilmentReport()  # given up: not tried by itself
    assert [r.key for r in program.dead_letters()] == [key]
    again = program.retry_reward(key, actor="maria", reason="the shop reissued the card")
    assert (again.next_attempt_at, again.attempts, again.error) == (program.clock(), 0, None)
    assert last_move(program, key) == (
        S.REVERSED,
        S.REVERSED,
        "maria",
        "the shop reissued the card",
    )
    assert program.fulfil_pending() == FulfilmentReport(claimed=1, reversed=1)
    assert program.dead_letters() == []
    with pytest.raises(InvalidValue, match="reversed, with its reversal done"):
        program.retry_reward(key, actor="maria", reason="once more")


def test_a_due_reversal_cannot_be_sent_back(make_program):
    program = make(make_program, Reversible())
    (key,) = paid(program)
    refund(program)
    with pytest.raises(InvalidValue, match="reversal due"):
        program.retry_reward(key, actor="maria", reason="now")
    with pytest.raises(InvalidValue, match="actor"):
        program.retry_reward(key, actor=" ", reason="now")


def test_a_reversal_out_of_attempts_is_given_up(make_program, advokit_clock):
    dead = DeadLetters()
    program = make(
        make_program, Reversible(RetryLater("down"), RetryLater("down")), dead, max_attempts=2
    )
    (key,) = paid(program)
    refund(program)
    program.fulfil_pending()
    advokit_clock.advance(hours=1)
    assert program.fulfil_pending() == FulfilmentReport(claimed=1, failed=1)
    assert program.reward(key).error == "reversal: gave up after 2 attempts: down"
    assert [k for k, *_ in dead.seen] == [key]


def test_an_unexpected_error_names_the_plugin(make_program):
    program = make(make_program, Reversible(ValueError("bad state")), DeadLetters())
    paid(program)
    refund(program)
    (claim,), _ = claim_reversals(program, Fulfilment(), [GIFT], 10)
    tried = call(program, program.registries.fulfillers, "reverse", claim)
    assert isinstance(tried.error, PluginError)
    assert "reversible" in str(tried.error) and "reverse" in str(tried.error)


# --------------------------------------------------------------------------- crashes and leases


def test_a_worker_that_died_calling_reverse_leaves_it_to_the_next(make_program, advokit_clock):
    fulfiller = Reversible()
    program = make(make_program, fulfiller, lease=timedelta(minutes=5))
    (key,) = paid(program)
    refund(program)
    settings = Fulfilment(lease=timedelta(minutes=5))
    (hung,), _ = claim_reversals(program, settings, [GIFT], 10)  # then the worker hangs
    assert program.fulfil_pending() == FulfilmentReport()  # claimed: not for another worker
    advokit_clock.advance(minutes=6)
    (fresh,), _ = claim_reversals(program, settings, [GIFT], 10)  # the lease lapsed
    assert fresh.reward.attempts == 2
    late = settle_reversals(program, settings, [Tried(hung, result={"late": True})])
    assert late == FulfilmentReport(claimed=1, lost=1)  # the lapsed worker writes nothing
    assert program.reward(key).next_attempt_at is not None  # the new claim stands
    tried = call(program, program.registries.fulfillers, "reverse", fresh)
    assert settle_reversals(program, settings, [tried]).reversed == 1
    assert program.reward(key).result["reversal"] == {"canceled": f"CARD-{key[-6:]}"}
    assert [k for k, *_ in fulfiller.reversed] == [key]


def test_a_reversal_whose_workers_keep_dying_is_given_up(make_program, advokit_clock):
    dead = DeadLetters()
    program = make(make_program, Reversible(), dead, max_attempts=2, lease=timedelta(minutes=1))
    (key,) = paid(program)
    refund(program)
    settings = Fulfilment(max_attempts=2, lease=timedelta(minutes=1))
    for _ in range(2):
        claim_reversals(program, settings, [GIFT], 10)  # a worker claims, then dies
        advokit_clock.advance(minutes=2)
    assert program.fulfil_pending() == FulfilmentReport(failed=1)
    reward = program.reward(key)
    assert reward.error.startswith("reversal gave up after 2 attempts: the worker died")
    assert reward.next_attempt_at is None
    assert dead.seen[0][:2] == (key, S.REVERSED)


def test_a_refund_during_a_try_that_paid_is_undone_after_it(make_program):
    fulfiller = Reversible()
    program = make(make_program, fulfiller)
    program.record_many(reviews(1))
    (claim,), _ = claim_due(program, Fulfilment(), [GIFT], 10)
    refund(program)  # while the worker calls the provider
    tried = call(program, program.registries.fulfillers, "fulfil", claim)
    assert settle(program, Fulfilment(), [tried]).fulfilled == 1
    key = claim.reward.key
    assert program.reward(key).next_attempt_at is not None  # paid, reversed: undo due
    assert program.fulfil_pending() == FulfilmentReport(claimed=1, reversed=1)
    assert fulfiller.reversed[0][2] == "reversal asked while fulfilling: order refunded"


def test_workers_share_due_reversals_and_undo_each_once(make_program, database_url):
    from concurrent.futures import ThreadPoolExecutor

    fulfiller = Reversible()
    program = make(make_program, fulfiller, database_url=database_url, batch_size=5)
    keys = paid(program, 40)
    for n in range(40):
        refund(program, n)
    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(lambda _: program.fulfil_pending(), range(4)))
    assert sum(r.reversed for r in reports) == 40
    assert sorted(k for k, *_ in fulfiller.reversed) == sorted(keys)


# --------------------------------------------------------------------------- built-in reversals


def credit_program(make_program, clawback="cap"):
    from advokit import IssueReward, Reward

    class Credits:
        plugin_name = "credits"
        advokit_evaluates = frozenset({"review.posted"})

        @hookimpl
        def advokit_evaluate(self, ctx, action):
            reward = Reward(kind="store_credit", amount=500, currency="EUR")
            return [IssueReward(advocate=action.advocate, reward=reward)]

    program = make_program(
        plugins=[Points(), Rewards(), Credits(), Refunds(), StoreCredit("EUR", clawback=clawback)]
    )
    program.enroll(Advocate(external_id=ADVOCATE))
    program.record_many(reviews(1))
    assert program.fulfil_pending().fulfilled == 1
    return program


def test_store_credit_is_taken_back_once(make_program):
    # "negative": a second take-back would show as -500, not hide behind a cap at 0
    program = credit_program(make_program, "negative")
    assert program.balance(ADVOCATE, "store_credit") == 500
    refund(program)
    assert program.fulfil_pending() == FulfilmentReport(claimed=1, reversed=1)
    assert program.balance(ADVOCATE, "store_credit") == 0
    (reward,) = program.rewards(ADVOCATE)
    fulfiller = program.registries.fulfillers.get("store_credit")
    fulfiller.reverse(program, reward)  # a worker that died after the call asks again
    assert program.balance(ADVOCATE, "store_credit") == 0
    assert reward.result["reversal"]["action"] == derived_key(reward.key, "store-credit-reversal")


@pytest.mark.parametrize(("clawback", "balance"), [("cap", 0), ("negative", -200)])
def test_spent_store_credit_is_clawed_back_as_configured(make_program, clawback, balance):
    program = credit_program(make_program, clawback)
    program.record(redemption(ADVOCATE, 200, key="spend-200", account="store_credit"))
    refund(program)
    program.fulfil_pending()
    assert program.balance(ADVOCATE, "store_credit") == balance


def test_store_credit_checks_its_clawback():
    from advokit import ConfigurationError

    with pytest.raises(ConfigurationError, match="StoreCredit.clawback"):
        StoreCredit("EUR", clawback="all")


def test_the_http_fulfiller_posts_a_signed_reversal_once(make_program, advokit_clock):
    with Provider(PROVIDER_SECRET) as provider:
        http = HttpFulfiller(
            provider.url, secret=PROVIDER_SECRET, kinds=[GIFT], reverse_url=provider.reverse_url
        )
        program = make(make_program, http, lease=timedelta(minutes=1))
        (key,) = paid(program)
        refund(program)
        settings = Fulfilment(lease=timedelta(minutes=1))
        (claim,), _ = claim_reversals(program, settings, [GIFT], 10)
        call(program, program.registries.fulfillers, "reverse", claim)  # then it died
        advokit_clock.advance(minutes=2)
        assert program.fulfil_pending() == FulfilmentReport(claimed=1, reversed=1)
        reversal_key = derived_key(key, "reversal")
        assert provider.calls_for(reversal_key) == [201, 200]  # asked twice, canceled once
        assert provider.reversals == {reversal_key: {"canceled": "order-1", "key": reversal_key}}
        first, second = provider.bodies[-2:]
        assert first == second  # one body per key
        assert (first["key"], first["reversal"]) == (key, "order refunded")
        assert first["result"]["response"]["id"] == "order-1"
        answer = program.reward(key).result["reversal"]
        assert (answer["status"], answer["response"]["canceled"]) == (200, "order-1")


def test_an_http_fulfiller_without_reverse_url_has_no_reverse_operation(make_program):
    from advokit.plugins.rewards.fulfilment import reverses

    plain = HttpFulfiller("http://127.0.0.1:9/x", secret=PROVIDER_SECRET, kinds=[GIFT])
    assert not reverses(plain)
    assert reverses(StoreCredit("EUR"))
    from advokit import ConfigurationError

    with pytest.raises(ConfigurationError, match="HttpFulfiller.reverse_url"):
        HttpFulfiller(
            "http://127.0.0.1:9/x", secret=PROVIDER_SECRET, kinds=[GIFT], reverse_url="ftp://x"
        )


# --------------------------------------------------------------------------- reading them


def test_rewards_of_every_advocate_and_the_dead_letters(make_program):
    from test_fulfilment import Recorder

    program = make(make_program, Recorder(FulfilmentFailed("no")))
    program.enroll(Advocate(external_id="bob"))
    program.record_many(reviews(2))
    program.record_many(reviews(1, advocate="bob", prefix="bob"))
    program.fulfil_pending()
    everyone = program.rewards()
    assert [r.advocate for r in everyone] == [ADVOCATE, ADVOCATE, "bob"]
    assert [r.state for r in everyone] == [S.FAILED, S.FULFILLED, S.FULFILLED]
    assert program.rewards(limit=1) == everyone[:1]
    assert program.rewards(states=["fulfilled"], limit=1) == everyone[1:2]
    assert program.dead_letters() == everyone[:1]
    with pytest.raises(InvalidValue, match="limit"):
        program.rewards(limit=0)
    with pytest.raises(InvalidValue, match="limit"):
        program.dead_letters(limit="5")
    with pytest.raises(InvalidValue, match="a list of states"):
        program.rewards(states="failed")


# --------------------------------------------------------------------------- found in review


def test_a_busy_fulfilment_queue_does_not_starve_due_reversals(make_program):
    fulfiller = Reversible()
    program = make(make_program, fulfiller, batch_size=2)
    (key,) = paid(program)
    refund(program)
    rewards = next(p for p in program.plugins if isinstance(p, Rewards))
    program.record_many(reviews(2, prefix="busy"))  # a full round of fulfilments is due
    rewards._work(program)  # advokit worker's round: limit=batch_size
    assert [k for k, *_ in fulfiller.reversed] == [key]


def test_a_reversal_whose_fulfiller_lost_reverse_is_given_up_not_left_due(
    make_program, database_url
):
    from test_fulfilment import Recorder

    program = make(make_program, Reversible(), database_url=database_url)
    (key,) = paid(program)
    refund(program)  # due: the fulfiller could undo it then
    dead = DeadLetters()
    later = make_program(  # the same program, its fulfiller reconfigured without reverse
        plugins=[Points(), Rewards(), Gifts(), Refunds(), Recorder(), dead],
        database_url=database_url,
    )
    assert later.fulfil_pending() == FulfilmentReport(claimed=1, failed=1)
    reward = later.reward(key)
    assert reward.next_attempt_at is None
    assert "has no reverse operation now" in reward.error
    assert [r.key for r in later.dead_letters()] == [key]
    assert [k for k, *_ in dead.seen] == [key]


def test_a_second_retry_from_a_stale_read_is_refused(make_program):
    program = make(make_program, Reversible(FulfilmentFailed("no")))
    (key,) = paid(program)
    refund(program)
    program.fulfil_pending()  # given up
    stale = program.reward(key)  # two operators read the dead letter
    program.retry_reward(key, actor="maria", reason="first")
    rewards = next(p for p in program.plugins if isinstance(p, Rewards))
    with pytest.raises(InvalidValue, match="reversal due"):
        rewards._retry_reversal(program, stale, "jo", "second")
    assert program.fulfil_pending().reversed == 1
    with pytest.raises(InvalidValue, match="reversal done"):
        rewards._retry_reversal(program, stale, "jo", "second")
