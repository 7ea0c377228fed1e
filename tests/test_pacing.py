"""Quiet hours in the advocate's time zone and frequency caps: messages wait, none is lost."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest

from advokit import Action, Advocate, Consent
from advokit.core.errors import ConfigurationError
from advokit.plugins.channels import Email
from advokit.plugins.messages import Cap, Delivery, Messages, MessageState, QuietHours
from helpers import Thanks
from smtp_server import SmtpServer

S = MessageState
SECRET = "a-secret-of-32-characters-for-tests"


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def build(make_program, smtp, *, timezone="UTC", database_url=None, batch_size=100, **pacing):
    options = {} if database_url is None else {"database_url": database_url}
    delivery = Delivery(concurrency=4, batch_size=batch_size)
    program = make_program(
        plugins=[
            Messages(secret=SECRET, delivery=delivery, **pacing),
            Email(host="127.0.0.1", port=smtp.port, sender="hello@bakery.example", security="none"),
            Thanks(),
        ],
        **options,
    )
    program.enroll(
        Advocate(
            external_id="ann",
            email="ann@example.com",
            timezone=timezone,
            consent={"email": Consent(granted=True, basis="consent", source="form")},
        )
    )
    return program


def review(program, n):
    program.record(Action(kind="review.posted", advocate="ann", key=f"review-{n}"))


def purchase(program, n):
    program.record(
        Action(
            kind="purchase.completed", advocate="ann", key=f"order-{n}", data={"order_id": str(n)}
        )
    )


# --------------------------------------------------------------------------- quiet hours


def test_a_message_due_in_the_advocates_night_waits_for_their_morning(
    make_program, smtp, advokit_clock
):
    # 02:00 UTC is 23:00 in São Paulo (UTC-3): quiet until 08:00 there, 11:00 UTC
    advokit_clock.set(datetime(2026, 6, 2, 2, 0, tzinfo=UTC))
    program = build(
        make_program,
        smtp,
        timezone="America/Sao_Paulo",
        quiet_hours=QuietHours(start="21:00", end="08:00"),
    )
    review(program, 0)

    report = program.deliver_pending()

    assert (report.deferred, report.sent) == (1, 0)
    (message,) = program.messages("ann")
    assert message.state is S.QUEUED
    assert message.attempts == 0  # a wait is not a try
    assert message.next_attempt_at == datetime(2026, 6, 2, 11, 0, tzinfo=UTC)
    assert "quiet hours in America/Sao_Paulo" in message.error
    advokit_clock.set(datetime(2026, 6, 2, 10, 59, tzinfo=UTC))
    assert program.deliver_pending().claimed == 0
    advokit_clock.set(datetime(2026, 6, 2, 11, 0, tzinfo=UTC))
    assert program.deliver_pending().sent == 1
    assert len(smtp.received) == 1


def test_the_same_instant_is_daytime_for_another_advocate(make_program, smtp, advokit_clock):
    advokit_clock.set(datetime(2026, 6, 2, 2, 0, tzinfo=UTC))  # 11:00 in Tokyo
    program = build(
        make_program,
        smtp,
        timezone="Asia/Tokyo",
        quiet_hours=QuietHours(start="21:00", end="08:00"),
    )
    review(program, 0)
    assert program.deliver_pending().sent == 1


def test_quiet_hours_hold_marketing_but_not_a_transactional_note_by_default(
    make_program, smtp, advokit_clock
):
    advokit_clock.set(datetime(2026, 6, 2, 23, 30, tzinfo=UTC))
    program = build(make_program, smtp, quiet_hours=QuietHours(start="21:00", end="08:00"))
    review(program, 0)
    purchase(program, 1)
    report = program.deliver_pending()
    assert (report.sent, report.deferred) == (1, 1)
    assert [m.kind for m in program.messages("ann", states=["sent"])] == ["reward_delivered"]


@pytest.mark.parametrize(
    ("local", "until"),
    [
        ("2026-06-02T20:59", None),
        ("2026-06-02T21:00", "2026-06-03T08:00"),
        ("2026-06-03T03:00", "2026-06-03T08:00"),
        ("2026-06-03T08:00", None),
    ],
)
def test_quiet_hours_across_midnight(local, until):
    quiet = QuietHours(start=time(21), end="08:00")
    now = datetime.fromisoformat(local).replace(tzinfo=UTC)
    expected = None if until is None else datetime.fromisoformat(until).replace(tzinfo=UTC)
    assert quiet.until(now, "UTC") == expected


def test_quiet_hours_within_a_day_and_across_a_dst_change():
    lunch = QuietHours(start="12:00", end="14:00")
    assert lunch.until(datetime(2026, 6, 1, 13, tzinfo=UTC), "UTC") == datetime(
        2026, 6, 1, 14, tzinfo=UTC
    )
    assert lunch.until(datetime(2026, 6, 1, 14, tzinfo=UTC), "UTC") is None
    # Europe/London springs forward on 29 March 2026 at 01:00 GMT, to 02:00 BST: the
    # end, 01:30, never comes that night; the wait ends after the change, not inside
    night = QuietHours(start="00:30", end="01:30")
    until = night.until(datetime(2026, 3, 29, 0, 45, tzinfo=UTC), "Europe/London")
    assert until == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 02:30 BST
    assert night.until(until, "Europe/London") is None


def test_pacing_settings_are_checked():
    with pytest.raises(ConfigurationError, match="time such as"):
        QuietHours(start="9pm", end="08:00")
    with pytest.raises(ConfigurationError, match="other than start"):
        QuietHours(start="08:00", end="08:00")
    with pytest.raises(ConfigurationError, match="categories"):
        Cap(channel="email", limit=1, per=timedelta(days=1), categories=["newsletter"])
    with pytest.raises(ConfigurationError, match="Messages.caps"):
        Messages(secret=SECRET, caps=Cap(channel="email", limit=1, per=timedelta(days=1)))
    with pytest.raises(ConfigurationError, match="Messages.quiet_hours"):
        Messages(secret=SECRET, quiet_hours=("21:00", "08:00"))


# --------------------------------------------------------------------------- caps


def test_a_cap_holds_and_the_rest_wait_for_room_none_lost(
    make_program, smtp, advokit_clock, database_url
):
    program = build(
        make_program,
        smtp,
        database_url=database_url,
        caps=[Cap(channel="email", limit=2, per=timedelta(days=7))],
    )
    for n in range(5):
        review(program, n)
        advokit_clock.advance(minutes=1)

    first = program.deliver_pending()

    assert (first.sent, first.deferred) == (2, 3)
    assert len(smtp.received) == 2
    waiting = program.messages("ann", states=["queued"])
    sent_at = sorted(m.sent_at for m in program.messages("ann", states=["sent"]))
    # room comes back when the older of the two sent leaves the 7 days
    assert {m.next_attempt_at for m in waiting} == {sent_at[0] + timedelta(days=7)}
    assert all("at most 2 email per 7d" in m.error for m in waiting)

    advokit_clock.advance(days=7)
    assert program.deliver_pending().sent == 2
    advokit_clock.advance(days=7)
    assert program.deliver_pending().sent == 1
    assert len(smtp.received) == 5
    assert {m.state for m in program.messages("ann")} == {S.SENT}


def test_a_cap_does_not_hold_transactional_messages_by_default(make_program, smtp):
    program = build(make_program, smtp, caps=[Cap(channel="email", limit=1, per=timedelta(days=1))])
    review(program, 0)
    purchase(program, 1)
    purchase(program, 2)
    assert program.deliver_pending().sent == 3


def test_a_cap_holds_under_concurrent_senders(make_program, smtp, database_url):
    """Three rounds at once, each sending 4 at a time, 24 messages: exactly the cap goes."""
    program = build(
        make_program,
        smtp,
        database_url=database_url,
        batch_size=4,
        caps=[Cap(channel="email", limit=3, per=timedelta(days=1))],
    )
    for n in range(24):
        review(program, n)
    barrier = threading.Barrier(3)
    errors = []

    def deliver():
        try:
            barrier.wait()
            program.deliver_pending()
        except Exception as error:  # pragma: no cover - shown by the assert below
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(smtp.received) == 3
    assert len(program.messages("ann", states=["sent"])) == 3
    assert len(program.messages("ann", states=["queued"])) == 21
