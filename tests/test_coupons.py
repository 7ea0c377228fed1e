"""Coupon pools: codes loaded once, handed out once each, alerts, generated codes."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from advokit import Advocate, Alert, ConfigurationError, InvalidValue, hookimpl
from advokit.plugins.points import Points
from advokit.plugins.rewards import (
    CouponPool,
    Fulfilment,
    FulfilmentReport,
    LoadReport,
    Rewards,
    RewardState,
)
from advokit.testing import START
from helpers import (
    ADVOCATE,
    Gifts,
    build_fulfilment_program,
    fulfil_pending_worker,
    reviews,
    run_processes,
)

S = RewardState


class Alerts:
    plugin_name = "alerts"

    def __init__(self):
        self.seen = []

    @hookimpl
    def advokit_on_alert(self, alert):
        self.seen.append(alert)


def make(make_program, *plugins, pool=None, **settings):
    pool = pool or CouponPool("welcome", low_at=2)
    program = make_program(
        plugins=[Points(), Rewards(fulfilment=Fulfilment(**settings)), Gifts(), pool, *plugins]
    )
    program.enroll(Advocate(external_id=ADVOCATE))
    return program


def coupons(program, count, prefix="ugc"):
    program.record_many(reviews(count, prefix=prefix, kind="ugc.submitted"))
    return [r.key for r in program.rewards(ADVOCATE) if r.cause.startswith(prefix)]


def test_codes_load_from_a_csv_once_each(make_program, tmp_path):
    program = make(make_program)
    path = tmp_path / "codes.csv"
    path.write_text("code\nAAA-1\nAAA-2\n\nAAA-2\nAAA-3,ignored column\n", encoding="utf-8")
    assert program.load_coupons("welcome", path) == LoadReport("welcome", loaded=3, already=0)
    assert program.load_coupons("welcome", path) == LoadReport("welcome", loaded=0, already=3)
    assert program.load_coupons("welcome", ["AAA-3", "BBB-1"]) == LoadReport("welcome", 1, 1)
    assert program.coupons_left("welcome") == 4
    assert program.coupons_left("other") == 0


@pytest.mark.parametrize(
    ("codes", "field"),
    [(["has space"], "code"), (["x" * 65], "code"), ([3], "code"), ("no/such.csv", "codes")],
)
def test_bad_codes_are_refused_naming_the_field(make_program, codes, field):
    program = make(make_program)
    with pytest.raises(InvalidValue, match=field):
        program.load_coupons("welcome", codes)
    assert program.coupons_left("welcome") == 0  # nothing half-loaded


def test_a_coupon_reward_gets_the_oldest_free_code(make_program):
    program = make(make_program)
    program.load_coupons("welcome", ["C-1", "C-2", "C-3", "C-4"])
    first, second = coupons(program, 2)
    assert program.fulfil_pending().fulfilled == 2
    assert program.reward(first).result == {"pool": "welcome", "code": "C-1"}
    assert program.reward(second).result == {"pool": "welcome", "code": "C-2"}
    assert program.coupons_left("welcome") == 2


def test_a_reward_asking_again_gets_the_code_it_already_has(make_program):
    pool = CouponPool("welcome")
    program = make(make_program, pool=pool)
    program.load_coupons("welcome", ["C-1", "C-2"])
    (key,) = coupons(program, 1)
    reward = program.reward(key)
    # a worker that took the code and died before writing the outcome asks again
    assert (
        pool.fulfil(program, reward)
        == pool.fulfil(program, reward)
        == {
            "pool": "welcome",
            "code": "C-1",
        }
    )
    assert program.coupons_left("welcome") == 1


def test_alerts_when_the_pool_runs_low_and_when_it_runs_out(make_program, advokit_clock, caplog):
    alerts = Alerts()
    program = make(
        make_program, alerts, pool=CouponPool("welcome", low_at=2, wait=timedelta(hours=1))
    )
    program.load_coupons("welcome", ["C-1", "C-2", "C-3", "C-4"])
    keys = coupons(program, 5)
    with caplog.at_level(logging.WARNING, logger="advokit.alerts"):
        report = program.fulfil_pending()
    assert (report.fulfilled, report.retried) == (4, 1)
    assert [(a.topic, a.data["left"]) for a in alerts.seen] == [
        ("rewards.coupons_low", 2),
        ("rewards.coupons_empty", 0),
    ]
    assert "coupon pool 'welcome' has 0 codes left" in caplog.text
    waiting = program.reward(keys[-1])  # the fifth waits, and says why
    assert (waiting.state, waiting.attempts) == (S.APPROVED, 0)
    assert "coupon pool 'welcome' is empty" in waiting.error
    program.load_coupons("welcome", ["D-1"])
    assert program.fulfil_pending() == FulfilmentReport()  # it waits an hour before looking
    advokit_clock.advance(hours=1)
    assert program.fulfil_pending().fulfilled == 1
    assert program.reward(keys[-1]).result["code"] == "D-1"


def test_an_empty_pool_never_dead_letters_a_reward(make_program, advokit_clock):
    program = make(make_program, max_attempts=2)
    (key,) = coupons(program, 1)
    for _ in range(5):
        program.fulfil_pending()
        advokit_clock.advance(hours=1)
    assert program.reward(key).state is S.APPROVED
    program.load_coupons("welcome", ["LATE"])
    assert program.fulfil_pending().fulfilled == 1


def test_generated_codes_are_the_same_for_a_reward_and_kept(make_program):
    pool = CouponPool("spring", generate="SPRING-{code}", secret="s" * 32)
    program = make(make_program, pool=pool)
    first, second = coupons(program, 2)
    assert program.fulfil_pending().fulfilled == 2
    one, two = (program.reward(k).result["code"] for k in (first, second))
    assert one.startswith("SPRING-") and len(one) == len("SPRING-") + 12
    assert one != two
    assert pool.fulfil(program, program.reward(first))["code"] == one  # asked again: the same
    assert program.coupons_left("spring") == 0  # recorded as handed out


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: CouponPool("Bad Name"), "name"),
        (lambda: CouponPool("p", kinds="coupon"), "kinds"),
        (lambda: CouponPool("p", low_at=-1), "low_at"),
        (lambda: CouponPool("p", generate="NO-CODE", secret="s" * 16), "generate"),
        (lambda: CouponPool("p", generate="X-{code}"), "secret"),
        (lambda: CouponPool("p", wait=5), "wait"),
    ],
)
def test_pool_settings_are_checked(build, field):
    with pytest.raises(ConfigurationError, match=field):
        build()


def test_an_alert_is_a_checked_value():
    with pytest.raises(InvalidValue, match="topic"):
        Alert(topic="Not Dotted", message="x")


@pytest.mark.slow
def test_a_thousand_concurrent_issues_hand_each_code_out_once(database_url):
    program = build_fulfilment_program(database_url, None)
    program.migrate()
    program.enroll(Advocate(external_id=ADVOCATE))
    codes = [f"CODE-{n:04d}" for n in range(1000)]
    assert program.load_coupons("welcome", codes).loaded == 1000
    program.record_many(reviews(1001, kind="ugc.submitted", prefix="ugc"))
    reports = run_processes(fulfil_pending_worker, database_url, processes=4, calls=25)
    assert sum(r["claimed"] for r in reports) == 1001
    rewards = program.rewards(ADVOCATE)
    handed = [r.result["code"] for r in rewards if r.state is S.FULFILLED]
    assert sorted(handed) == codes  # every code exactly once
    (waiting,) = [r for r in rewards if r.state is not S.FULFILLED]
    assert waiting.state is S.APPROVED
    assert "coupon pool 'welcome' is empty" in waiting.error
    assert program.coupons_left("welcome") == 0
    # the pool's low mark (10) and its end were each seen by exactly one taker
    alerts = sorted(alert for r in reports for alert in r["alerts"])
    assert alerts == [("rewards.coupons_empty", 0), ("rewards.coupons_low", 10)]
    program.close()


@pytest.mark.parametrize("by_hand", [False, True], ids=["loaded", "put-in-by-hand"])
def test_two_takers_at_once_each_see_their_own_count(
    make_program, database_url, monkeypatch, by_hand
):
    """The alert is decided by the codes left after each take: two takes in flight
    at once must not both see the same count, or the crossing of low_at is missed.
    Codes put in the table by hand are counted by the first take, once."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from advokit.plugins.rewards import coupons as module

    program = make_program(plugins=[Rewards(), CouponPool("welcome")], database_url=database_url)
    if by_hand:
        from advokit.core.store import database
        from advokit.plugins.rewards import coupons_t

        rows = [
            {"program": "test", "pool": "welcome", "code": c, "loaded_at": START} for c in "ABC"
        ]
        with database.transaction(program.engine) as conn:
            conn.execute(coupons_t.insert(), rows)
    else:
        program.load_coupons("welcome", ["A", "B", "C"])
    pool = program.registries.fulfillers.get("coupon")
    real, stalled = module._count_down, threading.Event()

    def slow(*args):
        left = real(*args)
        if not stalled.is_set():  # the first taker counted, and holds on before its commit
            stalled.set()
            time.sleep(0.5)
        return left

    monkeypatch.setattr(module, "_count_down", slow)
    with ThreadPoolExecutor(2) as threads:
        first = threads.submit(pool._take, program, "reward-1")
        stalled.wait(5)
        second = threads.submit(pool._take, program, "reward-2")
        taken = [first.result(), second.result()]
    assert sorted(left for _, left in taken) == [1, 2]
    assert len({code for code, _ in taken}) == 2
    assert program.coupons_left("welcome") == 1
