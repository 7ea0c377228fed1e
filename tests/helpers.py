"""Fixtures and process workers for the concurrency and ledger-property tests.

Workers live at module level so that multiprocessing's "spawn" context can
import them in a fresh interpreter: each process builds its own Program on the
same database URL, waits behind a barrier, then records its actions.

:func:`write_module` writes a program module for the command-line tests.
"""

from __future__ import annotations

import functools
import importlib
import multiprocessing
import os
import queue
import signal
import sys
import textwrap
import traceback
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from advokit import Action, Advocate, Program, hookimpl
from advokit.core.store import queries as q
from advokit.plugins.points import Points, PointsRule, redemption

PROGRAM = "concurrency"
ADVOCATE = "alice"
#: The one idempotency key every process of the exactly-once test records.
SHARED_KEY = "order-1042:paid"
#: How long a process may wait for the others at the barrier, in seconds.
BARRIER_TIMEOUT = 120.0


#: The ``params`` of a ``database_url`` fixture: both supported databases.
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def fresh_database(request: pytest.FixtureRequest) -> str:
    """The body of a ``database_url`` fixture parametrised with :data:`DATABASES`.

    A fresh SQLite file (WAL mode) or a fresh PostgreSQL database, through the
    ``sqlite_url`` and ``postgres_url`` fixtures of conftest.py.
    """
    return str(request.getfixturevalue(f"{request.param}_url"))


def build_program(database_url: str) -> Program:
    """The program every process builds: 10 points per completed purchase."""
    return Program(
        name=PROGRAM,
        database_url=database_url,
        plugins=[Points(PointsRule("purchase.completed", points=10))],
        load_entrypoints=False,
    )


def purchase(order_id: str = "1042", key: str = SHARED_KEY) -> Action:
    return Action(
        kind="purchase.completed", advocate=ADVOCATE, key=key, data={"order_id": order_id}
    )


def prepared_program(database_url: str) -> Program:
    """A migrated program with ``alice`` enrolled (done once, by the parent)."""
    program = build_program(database_url)
    program.migrate()
    program.enroll(Advocate(external_id=ADVOCATE))
    return program


# --------------------------------------------------------------------------- workers


def _summary(outcome: Any) -> tuple[str, bool, tuple[str, ...]]:
    return (outcome.status.value, outcome.replayed, tuple(outcome.reasons))


def _in_process(
    build: Callable[[], Program],
    run: Callable[[Program, dict[str, Any]], None],
    barrier: Any,
    results: Any,
    worker: int,
) -> None:
    """Build a program, wait for the others at the barrier, ``run(program, report)``;
    put the report (with any fatal traceback) on ``results``."""
    report: dict[str, Any] = {"worker": worker, "fatal": None}
    try:
        program = build()
        try:
            program.held(limit=1)  # connect and check the schema before the start line
            barrier.wait(BARRIER_TIMEOUT)
            run(program, report)
        finally:
            program.close()
    except BaseException:
        report["fatal"] = traceback.format_exc()
        barrier.abort()
    results.put(report)


def _work(
    make_action: Callable[[int, int], Action],
    database_url: str,
    barrier: Any,
    results: Any,
    worker: int,
    calls: int,
    build: Callable[[str], Program] = build_program,
) -> None:
    """Record ``calls`` actions after the barrier; report every outcome and error."""

    def record(program: Program, report: dict[str, Any]) -> None:
        report["outcomes"], report["errors"] = [], []
        for call in range(calls):
            try:
                outcome = program.record(make_action(worker, call))
            except Exception as error:
                report["errors"].append(f"{type(error).__name__}: {error}")
            else:
                report["outcomes"].append(_summary(outcome))

    _in_process(functools.partial(build, database_url), record, barrier, results, worker)


def _same_key(worker: int, call: int) -> Action:
    return purchase()


def _unique_redemption(worker: int, call: int) -> Action:
    return redemption(ADVOCATE, 30, key=f"redeem-{worker}-{call}")


def record_same_key(database_url: str, barrier: Any, results: Any, worker: int, calls: int) -> None:
    """Process target: record the shared purchase ``calls`` times."""
    _work(_same_key, database_url, barrier, results, worker, calls)


def redeem_30(database_url: str, barrier: Any, results: Any, worker: int, calls: int) -> None:
    """Process target: try to spend 30 points ``calls`` times, each with its own key."""
    _work(_unique_redemption, database_url, barrier, results, worker, calls)


def build_badges_program(database_url: str) -> Program:
    """Points plus a three-level reviewer badge (1, 10 and 50 reviews)."""
    from advokit.plugins.badges import Badge, Badges, Count

    return Program(
        name=PROGRAM,
        database_url=database_url,
        plugins=[
            Points(PointsRule("purchase.completed", points=10)),
            Badges(Badge("reviewer", Count("review.posted", levels=(1, 10, 50)))),
        ],
        load_entrypoints=False,
    )


def _review(worker: int, call: int) -> Action:
    # 20 reviews per worker; calls past 20 retry earlier keys
    return Action(
        kind="review.posted",
        advocate=ADVOCATE,
        key=f"review-{worker}-{call % 20}",
        data={"review_id": f"{worker}-{call % 20}"},
    )


def post_reviews(database_url: str, barrier: Any, results: Any, worker: int, calls: int) -> None:
    """Process target: post reviews (some keys twice), toward the reviewer badge's levels."""
    _work(_review, database_url, barrier, results, worker, calls, build_badges_program)


def run_processes(
    target: Callable[..., None], database_url: str, processes: int, calls: int
) -> list[dict[str, Any]]:
    """Start ``processes`` spawned workers behind one barrier and collect their reports."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=target, args=(database_url, barrier, results, worker, calls))
        for worker in range(processes)
    ]
    for process in workers:
        process.start()
    reports = []
    try:
        # Drain the queue before joining: a child blocks on exit until its data is read.
        for _ in workers:
            reports.append(results.get(timeout=170))
    except queue.Empty:
        pytest.fail(f"only {len(reports)} of {processes} workers reported: {reports!r}")
    finally:
        for process in workers:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    assert [p.exitcode for p in workers] == [0] * processes
    fatal = [r["fatal"] for r in reports if r["fatal"]]
    assert not fatal, "\n".join(fatal)
    return sorted(reports, key=lambda r: r["worker"])


# --------------------------------------------------------------------------- reads


def count_rows(program: Program, table: sa.Table, *where: Any) -> int:
    with program.engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
        )


def stored_balances(program: Program) -> list[int]:
    """Every balance in the program's balances table."""
    t = q.balances_t
    with program.engine.connect() as conn:
        return [
            int(b)
            for b in conn.execute(
                sa.select(t.c.balance).where(t.c.program == program.name)
            ).scalars()
        ]


def running_sums(program: Program, advocate: str, account: str = "points") -> list[int]:
    """The balance after each ledger entry, oldest first."""
    entries = program.history(advocate, account, limit=1_000_000)
    total, sums = 0, []
    for entry in sorted(entries, key=lambda e: e.id):
        total += entry.delta
        sums.append(total)
    return sums


def build_challenges_program(database_url: str) -> Program:
    """A monthly challenge of 12 reviews worth 100 points (always running)."""
    from advokit.plugins.challenges import Challenge, Challenges, Step

    return Program(
        name=PROGRAM,
        database_url=database_url,
        plugins=[
            Points(PointsRule("purchase.completed", points=10)),
            Challenges(
                Challenge("reviews", (Step("review.posted", 12),), every="month", points=100)
            ),
        ],
        load_entrypoints=False,
    )


def _review_once(worker: int, call: int) -> Action:
    return Action(
        kind="review.posted",
        advocate=ADVOCATE,
        key=f"challenge-review-{worker}-{call}",
        data={"review_id": f"{worker}-{call}"},
    )


def post_challenge_reviews(
    database_url: str, barrier: Any, results: Any, worker: int, calls: int
) -> None:
    """Process target: post reviews toward the twelve-review challenge."""
    _work(_review_once, database_url, barrier, results, worker, calls, build_challenges_program)


def build_referrals_program(database_url: str) -> Program:
    from advokit.plugins.referrals import Referrals

    return Program(
        name=PROGRAM,
        database_url=database_url,
        plugins=[Referrals(link="https://bakery.example/r/{code}")],
        load_entrypoints=False,
    )


def ask_referral_code(
    database_url: str, barrier: Any, results: Any, worker: int, calls: int
) -> None:
    """Process target: ask for the codes of advocates ``friend-0`` to ``friend-{calls-1}``."""

    def ask(program: Program, report: dict[str, Any]) -> None:
        report["outcomes"], report["errors"] = [], []
        for call in range(calls):
            try:
                report["outcomes"].append(program.referral_code(f"friend-{call}").code)
            except Exception as error:  # reported, not raised: the parent asserts
                report["errors"].append(f"{type(error).__name__}: {error}")

    build = functools.partial(build_referrals_program, database_url)
    _in_process(build, ask, barrier, results, worker)


def build_milestones_program(database_url: str) -> Program:
    """Referrals paying 10 points, capped at 5 a month, with bonuses at the 3rd and 10th."""
    from datetime import timedelta

    from advokit.plugins.referrals import Referrals

    return Program(
        name=PROGRAM,
        database_url=database_url,
        plugins=[
            Referrals(
                referrer_points=10,
                milestones={3: 100, 10: 1000},
                referrer_cap=(5, timedelta(days=30)),
                refund_window=timedelta(days=14),
            )
        ],
        load_entrypoints=False,
    )


def tick_referrals(database_url: str, barrier: Any, results: Any, worker: int, calls: int) -> None:
    """Process target: run the tick ``calls`` times, one approval per transaction."""

    def tick(program: Program, report: dict[str, Any]) -> None:
        report["outcomes"], report["errors"] = [], []
        for _ in range(calls):
            try:
                ticked = program.tick(batch_size=1)
                report["outcomes"].extend(
                    (o.status.value, o.advocate, o.replayed) for o in ticked.outcomes
                )
            except Exception as error:  # reported, not raised: the parent asserts
                report["errors"].append(f"{type(error).__name__}: {error}")

    build = functools.partial(build_milestones_program, database_url)
    _in_process(build, tick, barrier, results, worker)


def _signup_or_purchase(worker: int, call: int) -> Action:
    # alice signs up with her worker's referrer code, and buys, again and again
    if call % 2 == 0:
        return Action(
            kind="referral.signed_up",
            advocate=ADVOCATE,
            key=f"signup-{worker}-{call}",
            data={"code": f"REFERRER{worker}"},
        )
    return Action(
        kind="purchase.completed",
        advocate=ADVOCATE,
        key=f"order-{worker}-{call}",
        data={"order_id": f"order-{worker}-{call}", "total_cents": 2000},
    )


def refer_alice(database_url: str, barrier: Any, results: Any, worker: int, calls: int) -> None:
    """Process target: attribute and convert alice, concurrently with the other workers."""
    _work(
        _signup_or_purchase, database_url, barrier, results, worker, calls, build_referrals_program
    )


# --------------------------------------------------------------------------- rewards


def build_rewards_program(database_url: str) -> Program:
    """Points by adjustment; a 30-point coffee coupon, and five 10-point cakes."""
    from advokit import Reward
    from advokit.plugins.rewards import CatalogueItem, Rewards

    return Program(
        name=PROGRAM,
        database_url=database_url,
        plugins=[
            Points(),
            Rewards(
                CatalogueItem(name="coffee", cost=30, reward=Reward(kind="coupon")),
                CatalogueItem(name="cake", cost=10, reward=Reward(kind="swag"), stock=5),
            ),
        ],
        load_entrypoints=False,
    )


def _redemption(item: str, worker: int, call: int) -> Action:
    return Action(
        kind="reward.redeemed",
        advocate=ADVOCATE,
        key=f"{item}-{worker}-{call}",
        data={"item": item},
    )


def redeem_coffees(database_url: str, barrier: Any, results: Any, worker: int, calls: int) -> None:
    """Process target: redeem a 30-point coffee again and again, each with its own key."""
    redeem = functools.partial(_redemption, "coffee")
    _work(redeem, database_url, barrier, results, worker, calls, build_rewards_program)


def redeem_cakes(database_url: str, barrier: Any, results: Any, worker: int, calls: int) -> None:
    """Process target: redeem one of the five cakes again and again."""
    redeem = functools.partial(_redemption, "cake")
    _work(redeem, database_url, barrier, results, worker, calls, build_rewards_program)


# --------------------------------------------------------------------------- fulfilment

GIFT = "gift_card"


class Gifts:
    """Issues a 25.00 EUR gift card for every ``review.posted``, a coupon for every
    ``ugc.submitted``: rewards to fulfil."""

    plugin_name = "gifts"
    advokit_evaluates = frozenset({"review.posted", "ugc.submitted"})

    @hookimpl
    def advokit_evaluate(self, ctx: Any, action: Action) -> list[Any]:
        from advokit import IssueReward, Reward

        if action.kind == "ugc.submitted":
            reward = Reward(kind="coupon")
        else:
            reward = Reward(kind=GIFT, amount=2500, currency="EUR")
        return [IssueReward(advocate=action.advocate, reward=reward)]


def reviews(
    count: int, *, advocate: str = ADVOCATE, prefix: str = "review", kind: str = "review.posted"
) -> list[Action]:
    return [Action(kind=kind, advocate=advocate, key=f"{prefix}-{n}") for n in range(count)]


class Crash:
    """Wraps a fulfiller: the process dies by SIGKILL before or after the provider call."""

    plugin_name = "crash"

    def __init__(self, fulfiller: Any, point: str) -> None:
        self.fulfiller, self.point = fulfiller, point

    @hookimpl
    def advokit_register_fulfillers(self, register: Any) -> None:
        register(self, name=GIFT)

    def fulfil(self, program: Any, reward: Any) -> Any:
        if self.point == "before_call":
            os.kill(os.getpid(), signal.SIGKILL)
        result = self.fulfiller.fulfil(program, reward)
        if self.point == "after_call":
            os.kill(os.getpid(), signal.SIGKILL)
        return result


class DieAfterCommit:
    """The process dies by SIGKILL right after a recording committed (after the debit)."""

    plugin_name = "die-after-commit"

    @hookimpl
    def advokit_after_commit(self) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


PROVIDER_SECRET = "a-secret-of-32-characters-for-tests"


def build_fulfilment_program(
    database_url: str,
    provider_url: str | None,
    *,
    crash: str | None = None,
    lease: float = 60.0,
    clock: Any = None,
    observers: Sequence[Any] = (),
    **settings: Any,
) -> Program:
    """Gift cards fulfilled by the HTTP fulfiller at ``provider_url`` (a Provider).

    ``crash``: ``"after_debit"``, ``"before_call"`` or ``"after_call"``, where
    the process kills itself. Gift cards are also redeemable for 40 points.
    Coupons come from the pool ``welcome``.
    """
    from datetime import timedelta

    from advokit import Reward
    from advokit.plugins.rewards import CatalogueItem, Fulfilment, HttpFulfiller, Rewards

    card = CatalogueItem(
        name="gift-card", cost=40, reward=Reward(kind=GIFT, amount=2500, currency="EUR")
    )
    from advokit.plugins.rewards import CouponPool

    fulfilment = Fulfilment(lease=timedelta(seconds=lease), **settings)
    pool = CouponPool("welcome", low_at=10)
    plugins: list[Any] = [Points(), Rewards(card, fulfilment=fulfilment), Gifts(), pool]
    if provider_url is not None:
        http = HttpFulfiller(provider_url, secret=PROVIDER_SECRET, kinds=[GIFT])
        plugins.append(Crash(http, crash) if crash in ("before_call", "after_call") else http)
    if crash == "after_debit":
        plugins.append(DieAfterCommit())
    plugins.extend(observers)
    extra = {} if clock is None else {"clock": clock}
    return Program(
        name=PROGRAM, database_url=database_url, plugins=plugins, load_entrypoints=False, **extra
    )


def fulfil_in_process(database_url: str, provider_url: str, crash: str) -> None:
    """Process target: fulfil (or redeem, for ``after_debit``) and die at ``crash``."""
    program = build_fulfilment_program(database_url, provider_url, crash=crash, lease=1.0)
    if crash == "after_debit":
        program.redeem(ADVOCATE, "gift-card", key="redeem-gift")
    else:
        program.fulfil_pending()
    raise SystemExit("did not crash")  # pragma: no cover - the crash kills the process first


def fulfil_pending_worker(
    database_url: str, barrier: Any, results: Any, worker: int, calls: int
) -> None:
    """Process target: drain the due rewards, ``calls`` at a time, after the barrier."""

    alerts: list[tuple[str, int]] = []

    class Alerts:
        plugin_name = "alerts"

        @hookimpl
        def advokit_on_alert(self, alert: Any) -> None:
            alerts.append((alert.topic, alert.data["left"]))

    def build() -> Program:
        provider = os.environ.get("ADVOKIT_TEST_PROVIDER_URL")
        return build_fulfilment_program(
            database_url, provider, batch_size=calls, observers=[Alerts()]
        )

    def drain(program: Program, report: dict[str, Any]) -> None:
        report["claimed"] = program.fulfil_pending().claimed
        report["alerts"] = alerts

    _in_process(build, drain, barrier, results, worker)


# --------------------------------------------------------------------------- messages

MESSAGES_SECRET = "a-secret-of-32-characters-for-tests"


class KillBefore:
    """The email channel, but the process dies by SIGKILL before its ``n``-th send."""

    plugin_name = "kill-before"

    def __init__(self, email: Any, n: int) -> None:
        self.email, self.n, self.sends = email, n, 0

    @hookimpl
    def advokit_register_channels(self, register: Any) -> None:
        register(self, name="email")

    def address(self, advocate: Any) -> Any:
        return self.email.address(advocate)

    def send(self, program: Any, message: Any) -> Any:
        self.sends += 1
        if self.sends == self.n:
            os.kill(os.getpid(), signal.SIGKILL)
        return self.email.send(program, message)


class Thanks:
    """``review.posted`` -> a marketing thank-you on email; ``purchase.completed`` ->
    a transactional reward note."""

    plugin_name = "thanks"
    advokit_evaluates = frozenset({"review.posted", "purchase.completed"})

    @hookimpl
    def advokit_evaluate(self, ctx: Any, action: Action) -> list[Any]:
        from advokit import SendMessage

        if action.kind == "purchase.completed":
            return [
                SendMessage(
                    advocate=action.advocate,
                    channel="email",
                    template="reward_delivered",
                    category="transactional",
                    context={"code": "BAKE-42", "description": "a free coffee"},
                )
            ]
        return [SendMessage(advocate=action.advocate, channel="email", template="thank_you")]


def build_messages_program(
    database_url: str, smtp_port: int, *, kill_before: int | None = None, **delivery: Any
) -> Program:
    """Thank-you emails (``review.posted`` -> a marketing message) to a local SMTP server."""
    from advokit.plugins.channels import Email
    from advokit.plugins.messages import Delivery, Messages

    email = Email(
        host="127.0.0.1", port=smtp_port, sender="Bakery <hello@bakery.example>", security="none"
    )
    channel = email if kill_before is None else KillBefore(email, kill_before)
    plugins = [Messages(secret=MESSAGES_SECRET, delivery=Delivery(**delivery)), channel, Thanks()]
    return Program(name=PROGRAM, database_url=database_url, plugins=plugins, load_entrypoints=False)


def deliver_in_process(database_url: str, smtp_port: int, kill_before: int) -> None:
    """Process target: deliver, and die by SIGKILL before the ``kill_before``-th send."""
    from datetime import timedelta

    program = build_messages_program(
        database_url, smtp_port, kill_before=kill_before, lease=timedelta(seconds=0.2)
    )
    program.deliver_pending()
    raise SystemExit("did not die")  # pragma: no cover - the kill comes first


def deliver_pending_worker(
    database_url: str, barrier: Any, results: Any, worker: int, calls: int
) -> None:
    """Process target: deliver the due messages, ``calls`` claimed at a time."""

    def build() -> Program:
        return build_messages_program(
            database_url,
            int(os.environ["ADVOKIT_TEST_SMTP_PORT"]),
            batch_size=calls,
            concurrency=int(os.environ.get("ADVOKIT_TEST_SEND_CONCURRENCY", "1")),
        )

    def drain(program: Program, report: dict[str, Any]) -> None:
        report["claimed"] = program.deliver_pending().claimed

    _in_process(build, drain, barrier, results, worker)


# --------------------------------------------------------------------------- journeys


def thanks_later() -> Any:
    """A purchase starts a journey: a day later a thank-you, 10 points and a tag."""
    from advokit.plugins.journeys import AddTag, Award, Journey, Send, Wait

    return Journey(
        "thanks_later",
        trigger="purchase.completed",
        steps=[Wait(days=1), Send("thank_you", channel="crm"), Award(10), AddTag("thanked")],
    )


def build_journeys_program(database_url: str, *, days_later: int = 0) -> Program:
    """The :func:`thanks_later` journey, ``days_later`` days after 2026-06-01 12:00."""
    from datetime import UTC, datetime

    from advokit import ManualClock
    from advokit.plugins.channels import Webhook
    from advokit.plugins.journeys import Journeys
    from advokit.plugins.messages import Messages

    journey = thanks_later()
    clock = ManualClock(datetime(2026, 6, 1, 12, tzinfo=UTC) + timedelta(days=days_later))
    plugins = [
        Messages(secret=MESSAGES_SECRET),
        Webhook(url="http://127.0.0.1:9/unused", secret=MESSAGES_SECRET, name="crm"),
        Journeys(journey),
    ]
    return Program(
        name=PROGRAM,
        database_url=database_url,
        plugins=plugins,
        clock=clock,
        load_entrypoints=False,
    )


def tick_journeys(database_url: str, barrier: Any, results: Any, worker: int, calls: int) -> None:
    """Process target: two days on, tick ``calls`` times, a few resumes per transaction."""

    def tick(program: Program, report: dict[str, Any]) -> None:
        report["outcomes"], report["errors"] = [], []
        for _ in range(calls):
            try:
                ticked = program.tick(batch_size=7)
                report["outcomes"].extend(
                    (o.status.value, o.advocate, o.replayed) for o in ticked.outcomes
                )
            except Exception as error:  # reported, not raised: the parent asserts
                report["errors"].append(f"{type(error).__name__}: {error}")

    build = functools.partial(build_journeys_program, database_url, days_later=2)
    _in_process(build, tick, barrier, results, worker)


# --------------------------------------------------------------------------- program modules


def write_module(directory: Path, name: str, template: str, **values: Any) -> str:
    """Write the module ``name`` into ``directory``: ``template`` with ``values``
    filled in (``str.format``) and dedented; returns ``name``.

    The next import of ``name`` (``--program name:program``, ``importlib``)
    reads this text afresh, from ``directory``, which is put on ``sys.path``
    as ``--program`` does (the ``workdir`` fixture restores it).
    """
    (directory / f"{name}.py").write_text(textwrap.dedent(template.format(**values)))
    sys.modules.pop(name, None)
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    importlib.invalidate_caches()  # the import system caches folder listings: see the new file
    return name
