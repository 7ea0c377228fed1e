"""Messages: the outbox, templates in a sandbox, consent at send time, the email channel."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from advokit import (
    Action,
    Advocate,
    AdvokitError,
    Consent,
    InvalidValue,
    SendMessage,
    hookimpl,
)
from advokit.plugins.channels import Email, check_header
from advokit.plugins.channels.smtp import HeaderInjection
from advokit.plugins.messages import (
    Delivery,
    DeliveryReport,
    Messages,
    MessageState,
    TemplateError,
    Templates,
    locale_chain,
)
from advokit.plugins.messages.templates import BUILT_IN
from helpers import Thanks
from smtp_server import SmtpServer

S = MessageState
SECRET = "a-secret-of-32-characters-for-tests"
ANN = "ann"


class DeadLetters:
    plugin_name = "dead-letters"

    def __init__(self):
        self.seen = []

    @hookimpl
    def advokit_on_delivery_error(self, message, error):
        self.seen.append((message.key, message.state, message.error))


def make(make_program, smtp, *plugins, database_url=None, templates=None, **delivery):
    options = {} if database_url is None else {"database_url": database_url}
    program = make_program(
        plugins=[
            Messages(
                secret=SECRET,
                templates=templates,
                unsubscribe_url="https://bakery.example/unsubscribe/{token}",
                unsubscribe_mailto="unsubscribe@bakery.example",
                delivery=Delivery(**delivery),
            ),
            Email(
                host="127.0.0.1",
                port=smtp.port,
                sender="Bakery <hello@bakery.example>",
                security="none",
            ),
            Thanks(),
            *plugins,
        ],
        **options,
    )
    program.enroll(
        Advocate(
            external_id=ANN,
            name="Ann Lee",
            email="ann@example.com",
            consent={"email": Consent(granted=True, basis="consent", source="signup form")},
        )
    )
    return program


def review(program, n=0, advocate=ANN):
    return program.record(Action(kind="review.posted", advocate=advocate, key=f"review-{n}"))


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


# --------------------------------------------------------------------------- round trip


def test_a_message_is_queued_with_its_action_and_sent_once_after_commit(
    make_program, smtp, database_url
):
    program = make(make_program, smtp, database_url=database_url)
    review(program)
    review(program)  # the same action again: replayed, nothing more queued
    (queued,) = program.messages(ANN)
    assert (queued.state, queued.kind, queued.category.value) == (
        S.QUEUED,
        "thank_you",
        "marketing",
    )
    assert smtp.received == []  # nothing is sent inside the transaction
    assert program.deliver_pending() == DeliveryReport(claimed=1, sent=1)
    assert program.deliver_pending() == DeliveryReport()
    ((sender, recipients, email),) = smtp.received
    assert (sender, recipients) == ("hello@bakery.example", ["ann@example.com"])
    assert email.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in email.iter_parts()] == ["text/plain", "text/html"]
    channel = program.registries.channels.get("email")
    assert email["Message-ID"] == channel.message_id(program.name, queued.key)
    assert email["Subject"] == "Thank you, Ann Lee"
    assert email["To"] == "Ann Lee <ann@example.com>"
    token = program.unsubscribe_token(ANN, "email")
    assert email["List-Unsubscribe"] == (
        f"<https://bakery.example/unsubscribe/{token}>, "
        f"<mailto:unsubscribe@bakery.example?subject=unsubscribe%20{token}>"
    )
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"https://bakery.example/unsubscribe/{token}" in email.get_body(("plain",)).get_content()
    sent = program.message(queued.key)
    assert sent.state is S.SENT
    assert sent.result == {"message_id": email["Message-ID"]}
    assert sent.sent_at == program.clock()


def test_a_transactional_message_has_no_unsubscribe_headers(make_program, smtp):
    program = make(make_program, smtp)
    program.record(
        Action(kind="purchase.completed", advocate=ANN, key="p-1", data={"order_id": "o-1"})
    )
    program.deliver_pending()
    ((_, _, email),) = smtp.received
    assert email["List-Unsubscribe"] is None
    assert "BAKE-42" in email.get_body(("plain",)).get_content()


def test_a_message_to_an_unknown_channel_is_refused_with_the_action(make_program, smtp):
    class Pigeons:
        plugin_name = "pigeons"
        advokit_evaluates = frozenset({"share.posted"})

        @hookimpl
        def advokit_evaluate(self, ctx, action):
            return [SendMessage(advocate=action.advocate, channel="pigeon", template="thank_you")]

    program = make(make_program, smtp, Pigeons())
    with pytest.raises(AdvokitError, match="SendMessage.channel='pigeon'"):
        program.record(Action(kind="share.posted", advocate=ANN, key="s-1", data={"url": "x"}))
    assert program.messages(ANN) == []  # nothing half-written


# --------------------------------------------------------------------------- consent


def test_unsubscribing_after_queueing_sends_none_of_the_backlog(make_program, smtp, database_url):
    program = make(make_program, smtp, database_url=database_url)
    for n in range(3):
        review(program, n)
    program.record(
        Action(kind="purchase.completed", advocate=ANN, key="p-1", data={"order_id": "o-1"})
    )
    token = program.unsubscribe_token(ANN, "email")
    assert program.unsubscribe(token) == (ANN, "email")
    assert program.unsubscribe(token) == (ANN, "email")  # a second click changes nothing
    consent = program.advocate(ANN).consent["email"]
    assert (consent.granted, consent.basis, consent.source) == (
        False,
        "withdrawn",
        "unsubscribe_link",
    )
    assert consent.at == program.clock()
    report = program.deliver_pending()
    assert report == DeliveryReport(claimed=4, sent=1, suppressed=3)
    assert [email["Subject"] for _, _, email in smtp.received] == ["Your reward is here"]
    states = [(m.kind, m.state, m.error) for m in program.messages(ANN)]
    assert (
        states[:3]
        == [("thank_you", S.SUPPRESSED, "consent on email withdrawn (unsubscribe_link)")] * 3
    )


def test_marketing_needs_consent_given_and_a_suppressed_message_can_go_once_given(
    make_program, smtp
):
    program = make(make_program, smtp)
    program.enroll(Advocate(external_id="bo", email="bo@example.com"))  # no consent recorded
    review(program, advocate="bo")
    assert program.deliver_pending().suppressed == 1
    (message,) = program.messages("bo")
    assert message.error == "no consent on email for marketing"
    program.set_consent("bo", "email", Consent(granted=True, basis="consent", source="web form"))
    assert program.retry_message(message.key).state is S.QUEUED
    assert program.deliver_pending().sent == 1
    assert len(smtp.received) == 1


def test_an_advocate_without_an_address_is_suppressed(make_program, smtp):
    program = make(make_program, smtp)
    program.enroll(Advocate(external_id="cy", consent={"email": True}))
    review(program, advocate="cy")
    assert program.deliver_pending().suppressed == 1
    assert program.messages("cy")[0].error == "no email address for 'cy'"


@pytest.mark.parametrize(
    "token",
    ["", "nonsense", "a.b", None, 42],
)
def test_a_bad_unsubscribe_token_is_refused(make_program, smtp, token):
    program = make(make_program, smtp)
    with pytest.raises(InvalidValue, match="token"):
        program.unsubscribe(token)


def test_an_altered_or_foreign_token_is_refused(make_program, smtp):
    program = make(make_program, smtp)
    token = program.unsubscribe_token(ANN, "email")
    _, tag = token.split(".")
    other = program.unsubscribe_token("bo", "email").split(".")[0]
    with pytest.raises(InvalidValue, match="token"):
        program.unsubscribe(f"{other}.{tag}")  # another advocate's payload, Ann's signature
    from advokit.plugins.messages import unsubscribe_token

    foreign = unsubscribe_token(SECRET, "another-program", ANN, "email")
    with pytest.raises(InvalidValue, match="token"):
        program.unsubscribe(foreign)
    assert program.advocate(ANN).consent["email"].granted


# --------------------------------------------------------------------------- failures


def test_a_refused_mailbox_is_dead_lettered_and_later_messages_flow(make_program, smtp):
    dead = DeadLetters()
    program = make(make_program, smtp, dead)
    program.enroll(Advocate(external_id="gone", email="gone@example.com", consent={"email": True}))
    smtp.refuse["gone@example.com"] = "550 5.1.1 no such mailbox"
    review(program, 0, advocate="gone")
    review(program, 1)
    review(program, 2)
    assert program.deliver_pending() == DeliveryReport(claimed=3, sent=2, failed=1)
    (failed,) = program.messages("gone")
    assert failed.state is S.FAILED
    assert "550" in failed.error
    assert dead.seen == [(failed.key, S.FAILED, failed.error)]
    assert len(smtp.received) == 2


def test_a_message_whose_workers_keep_dying_is_dead_lettered(make_program, smtp, advokit_clock):
    from advokit.plugins.messages.delivery import _claim

    dead = DeadLetters()
    program = make(make_program, smtp, dead, max_attempts=2, lease=timedelta(minutes=5))
    review(program)
    settings = Delivery(max_attempts=2, lease=timedelta(minutes=5))
    for _ in range(2):  # two workers claim it and die holding it
        claimed, _ = _claim(program, settings, 10)
        assert len(claimed) == 1
        advokit_clock.advance(minutes=6)
    assert program.deliver_pending() == DeliveryReport(failed=1)
    assert smtp.received == []  # not sent a third time
    (message,) = program.messages(ANN)
    assert (message.state, message.attempts) == (S.FAILED, 2)
    assert message.error.startswith("gave up after 2 attempts: the worker died")
    assert dead.seen == [(message.key, S.FAILED, message.error)]


def test_a_busy_mailbox_is_tried_again_later(make_program, smtp, advokit_clock):
    program = make(make_program, smtp, first_retry=timedelta(seconds=10))
    smtp.refuse["ann@example.com"] = "451 4.3.0 try again later"
    review(program)
    assert program.deliver_pending().retried == 1
    (message,) = program.messages(ANN)
    assert "451" in message.error
    del smtp.refuse["ann@example.com"]
    advokit_clock.advance(seconds=11)
    assert program.deliver_pending().sent == 1


def test_a_server_down_is_retried_with_the_same_message_id(make_program, advokit_clock):
    with SmtpServer() as smtp:
        port = smtp.port
    # the server is gone: the channel cannot connect
    down = SmtpServer.__new__(SmtpServer)
    down.port = port
    program = make(make_program, down, first_retry=timedelta(seconds=10))
    review(program)
    assert program.deliver_pending().retried == 1
    assert "unreachable" in program.messages(ANN)[0].error
    advokit_clock.advance(seconds=11)
    channel = program.registries.channels.get("email")
    with SmtpServer() as smtp:
        channel.port = smtp.port
        assert program.deliver_pending().sent == 1
    (message,) = program.messages(ANN)
    assert smtp.message_ids() == [channel.message_id(program.name, message.key)]


def test_connections_are_kept_between_messages(make_program, smtp):
    program = make(make_program, smtp)
    for n in range(5):
        review(program, n)
    channel = program.registries.channels.get("email")
    program.deliver_pending()
    first = channel._local.connection
    review(program, 9)
    program.deliver_pending()
    assert channel._local.connection is first
    assert len(smtp.received) == 6


# --------------------------------------------------------------------------- header injection


@pytest.mark.parametrize(
    "value",
    [
        "Ann\r\nBcc: eve@evil.example",
        "Ann\nBcc: eve@evil.example",
        "Ann\rBcc: eve@evil.example",
        "Ann\0",
        "=?utf-8?q?Ann=0ABcc:_eve@evil.example?=",
        "=?utf-8?b?QW5uDQpCY2M6IGV2ZUBldmlsLmV4YW1wbGU=?=",
    ],
)
def test_header_injection_is_refused(value):
    with pytest.raises(HeaderInjection, match="Subject"):
        check_header("Subject", value)


@pytest.mark.parametrize(
    "name",
    ["=?utf-8?q?Ann=0ABcc:_eve@evil.example?=", "=?utf-8?b?QW5uDQpCY2M6IGV2ZUBldmlsLmV4YW1wbGU=?="],
)
def test_an_injected_name_never_reaches_the_server(make_program, smtp, name):
    dead = DeadLetters()
    program = make(make_program, smtp, dead)
    program.enroll(
        Advocate(external_id="eve", name=name, email="eve@example.com", consent={"email": True})
    )
    review(program, advocate="eve")
    assert program.deliver_pending().failed == 1
    assert smtp.received == []
    assert "encoded line break" in program.messages("eve")[0].error


def test_settings_are_checked():
    from advokit import ConfigurationError

    with pytest.raises(ConfigurationError, match="Email.sender"):
        Email(host="127.0.0.1", sender="no address")
    with pytest.raises(ConfigurationError, match="Email.sender"):
        Email(host="127.0.0.1", sender="a@b.example\r\nBcc: x@y")
    with pytest.raises(ConfigurationError, match="Email.security"):
        Email(host="127.0.0.1", sender="a@b.example", security="tls")
    with pytest.raises(ConfigurationError, match="Messages.secret"):
        Messages(secret="short")
    with pytest.raises(ConfigurationError, match="Messages.unsubscribe_url"):
        Messages(secret=SECRET, unsubscribe_url="https://x.example/unsubscribe")


# --------------------------------------------------------------------------- templates


def write(folder, files):
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def test_locales_fall_back_part_by_part(tmp_path):
    assert locale_chain("pt-BR", "en") == ["pt-BR", "pt", "en"]
    assert locale_chain(None, "en") == ["en"]
    templates = Templates([BUILT_IN])
    rendered = templates.render(
        "thank_you",
        "pt-BR",
        {"advocate": {"name": "Ana"}, "program": "padaria", "unsubscribe_url": None},
    )
    assert rendered.subject == "Obrigado, Ana"  # pt
    assert rendered.text.startswith("Olá Ana")  # pt
    assert "thank you for being part of padaria" in rendered.html  # en: pt has no html


def test_the_programs_own_templates_override_the_built_in_ones(make_program, smtp, tmp_path):
    own = write(tmp_path / "templates", {"en/thank_you.subject": "Cheers, {{ advocate.name }}!"})
    program = make(make_program, smtp, templates=own)
    assert program.preview("thank_you", ANN).subject == "Cheers, Ann Lee!"
    assert "thank you for being part of" in program.preview("thank_you", ANN).text


def test_html_is_escaped_and_text_is_verbatim(make_program, smtp):
    program = make(make_program, smtp)
    program.enroll(
        Advocate(external_id="mal", name="<script>alert(1)</script>", email="m@example.com")
    )
    rendered = program.preview("thank_you", "mal")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<script>" not in rendered.html
    assert "Hi <script>alert(1)</script>," in rendered.text
    assert rendered.subject == "Thank you, <script>alert(1)</script>"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ range(10**9)|list }}",
        "{{ 'a' * 10**9 }}",
        "{{ 10 ** 10000000000 }}",
        "{{ ((10 ** 60) ** 60) ** 60 }}",
        "{{ [1] * 1000000000 }}",
        "{% set d = {} %}{{ d.update({'a': 1}) }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ '%0300000d' % 1 }}",
        "{{ '%0300000d'|format(1) }}",
        "{{ '{:>300000}'.format(1) }}",
        "{{ 'x'|center(300000) }}",
        "{{ 'x'|indent(300000) }}",
        "{{ ('x' * 1000)|replace('x', 'y' * 1000) }}",
        "{{ (['x' * 100000] * 100000)|join }}",
        "{{ lipsum(n=100000) }}",
        "{% set n = 2 ** 64 %}{{ " + " * ".join(["n"] * 70) + " }}",
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        # doubled in memory, never written out: stopped at each ~ and +
        "{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
        "{% set ns = namespace(s=[1, 2]) %}{% for i in range(40) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    ],
)
def test_a_template_cannot_escape_the_sandbox_or_exhaust_the_worker(tmp_path, source):
    templates = Templates([write(tmp_path, {"en/evil.txt": source})])
    started = time.monotonic()
    with pytest.raises(TemplateError, match="evil.txt"):
        templates.render("evil", "en", {})
    assert time.monotonic() - started < 1


def test_an_undefined_variable_is_an_error_naming_the_template(tmp_path):
    templates = Templates([write(tmp_path, {"en/hello.txt": "Hi {{ advocate.nmae }}"})])
    with pytest.raises(TemplateError, match=r"hello.txt.*undefined"):
        templates.render("hello", "en", {"advocate": {"name": "Ann"}})
    with pytest.raises(TemplateError, match="no template for message 'nothing'"):
        templates.render("nothing", "en", {})


def test_a_broken_template_dead_letters_its_message(make_program, smtp, tmp_path):
    own = write(tmp_path / "templates", {"en/thank_you.txt": "Hi {{ advocate.nmae }}"})
    program = make(make_program, smtp, DeadLetters(), templates=own)
    review(program)
    assert program.deliver_pending().failed == 1
    assert "undefined" in program.messages(ANN)[0].error
    assert smtp.received == []


# --------------------------------------------------------------------------- crashes and workers


def _enrolled(database_url, port, count):
    from helpers import build_messages_program

    program = build_messages_program(database_url, port)
    program.migrate()
    program.enroll_many(
        Advocate(external_id=f"a{n}", email=f"a{n}@example.com", consent={"email": True})
        for n in range(count)
    )
    program.record_many(
        Action(kind="review.posted", advocate=f"a{n}", key=f"review-{n}") for n in range(count)
    )
    return program


@pytest.mark.slow
def test_a_worker_killed_mid_batch_sends_each_message_exactly_once(database_url, smtp):
    import multiprocessing

    from helpers import deliver_in_process

    program = _enrolled(database_url, smtp.port, 10)
    ctx = multiprocessing.get_context("spawn")
    worker = ctx.Process(target=deliver_in_process, args=(database_url, smtp.port, 4))
    worker.start()
    worker.join(60)
    assert worker.exitcode == -9  # killed by SIGKILL, before its 4th send
    assert len(smtp.received) == 3
    time.sleep(2.5)  # the dead worker's leases (0.2 s a message) lapse
    assert program.deliver_pending().sent == 7
    ids = smtp.message_ids()
    assert len(ids) == len(set(ids)) == 10  # each message once, as the server saw them
    assert {m.state for m in program.messages()} == {S.SENT}
    program.close()


@pytest.mark.slow
def test_two_workers_deliver_every_message_once(database_url, smtp, monkeypatch):
    from helpers import deliver_pending_worker, run_processes

    count = 400
    program = _enrolled(database_url, smtp.port, count)
    monkeypatch.setenv("ADVOKIT_TEST_SMTP_PORT", str(smtp.port))
    reports = run_processes(deliver_pending_worker, database_url, processes=2, calls=20)
    assert sum(r["claimed"] for r in reports) == count
    ids = smtp.message_ids()
    assert len(ids) == len(set(ids)) == count
    assert sorted(to[0] for _, to, _ in smtp.received) == sorted(
        f"a{n}@example.com" for n in range(count)
    )
    program.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_on_postgresql_deliver_10000_messages_with_no_duplicate(
    postgres_url, smtp, monkeypatch
):
    from helpers import deliver_pending_worker, run_processes

    count = 10_000
    program = _enrolled(postgres_url, smtp.port, count)
    monkeypatch.setenv("ADVOKIT_TEST_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("ADVOKIT_TEST_SEND_CONCURRENCY", "4")
    reports = run_processes(deliver_pending_worker, postgres_url, processes=2, calls=100)
    assert sum(r["claimed"] for r in reports) == count
    assert all(r["claimed"] > 0 for r in reports)  # both did part of the work
    ids = smtp.message_ids()
    assert len(ids) == len(set(ids)) == count
    recipients = [to[0] for _, to, _ in smtp.received]
    assert len(set(recipients)) == count
    assert len(program.messages(states=["sent"])) == count
    program.close()


# --------------------------------------------------------------------------- found in review


def test_an_unsubscribe_during_a_batch_stops_the_rest_of_it(make_program, smtp):
    class UnsubscribeOnFirstSend:
        """The email channel; the advocate unsubscribes while the first mail goes out."""

        plugin_name = "unsubscribe-on-first-send"

        def __init__(self, email):
            self.email, self.sends = email, 0

        @hookimpl
        def advokit_register_channels(self, register):
            register(self, name="email")

        def address(self, advocate):
            return advocate.email

        def send(self, program, message):
            self.sends += 1
            if self.sends == 1:
                program.unsubscribe(program.unsubscribe_token(ANN, "email"))
            return self.email.send(program, message)

    email = Email(host="127.0.0.1", port=smtp.port, sender="b@bakery.example", security="none")
    program = make_program(
        plugins=[Messages(secret=SECRET), UnsubscribeOnFirstSend(email), Thanks()]
    )
    program.enroll(Advocate(external_id=ANN, email="ann@example.com", consent={"email": True}))
    review(program, 0)
    review(program, 1)
    assert program.deliver_pending() == DeliveryReport(claimed=2, sent=1, suppressed=1)
    assert len(smtp.received) == 1


def test_consent_on_one_channel_leaves_the_others(make_program, smtp):
    program = make(make_program, smtp)
    program.set_consent(ANN, "sms", Consent(granted=True, basis="consent", source="checkout"))
    program.unsubscribe(program.unsubscribe_token(ANN, "email"))
    consent = program.advocate(ANN).consent
    assert (consent["sms"].granted, consent["email"].granted) == (True, False)
    with pytest.raises(InvalidValue, match="nobody"):
        program.set_consent("nobody", "sms", Consent(granted=True))


@pytest.mark.parametrize(
    "name", ["Ann\x85Bcc", "Ann\u2028Bcc", "=?utf-8*en?q?Ann?=", "=?x-unknown?q?Ann?="]
)
def test_other_line_breaks_and_bad_encodings_are_refused_at_once(make_program, smtp, name):
    program = make(make_program, smtp)
    program.enroll(
        Advocate(external_id="eve", name=name, email="eve@example.com", consent={"email": True})
    )
    review(program, advocate="eve")
    assert program.deliver_pending() == DeliveryReport(claimed=1, failed=1)  # no retries
    assert smtp.received == []


def test_a_failing_observer_does_not_stall_the_round(make_program, smtp):
    from advokit import PluginError

    class Pager:
        plugin_name = "pager"

        def __init__(self):
            self.seen = []

        @hookimpl
        def advokit_on_delivery_error(self, message):
            self.seen.append(message.advocate)
            raise RuntimeError("pager down")

    pager = Pager()
    program = make(make_program, smtp, pager)
    for who in ("x", "y"):
        program.enroll(
            Advocate(external_id=who, email=f"{who}@example.com", consent={"email": True})
        )
        smtp.refuse[f"{who}@example.com"] = "550 no such mailbox"
        program.record(Action(kind="review.posted", advocate=who, key=f"review-{who}"))
    review(program, 9)
    with pytest.raises(PluginError, match="pager"):
        program.deliver_pending()
    assert sorted(pager.seen) == ["x", "y"]
    assert [m.state for m in program.messages(ANN)] == [S.SENT]  # the round went on


def test_a_worker_whose_lease_lapsed_cannot_settle_over_the_new_claim(
    make_program, smtp, advokit_clock
):
    from advokit.plugins.messages.delivery import _claim, _settle, _Tried

    program = make(make_program, smtp, lease=timedelta(minutes=1))
    review(program)
    settings = Delivery(lease=timedelta(minutes=1))
    (stale,), _ = _claim(program, settings, 10)  # then this worker hangs
    advokit_clock.advance(minutes=2)
    (fresh,), _ = _claim(program, settings, 10)  # another worker takes it over
    assert _settle(program, settings, _Tried(stale, result={"late": 1}))[0] == DeliveryReport(
        claimed=1, lost=1
    )
    assert program.messages(ANN)[0].state is S.SENDING  # the new claim stands
    assert _settle(program, settings, _Tried(fresh, result={"ok": 1}))[0].sent == 1
    assert program.messages(ANN)[0].result == {"ok": 1}


def test_a_kept_connection_idle_and_dropped_is_replaced_before_sending(
    make_program, smtp, monkeypatch
):
    import socket

    from advokit.plugins.channels import smtp as module

    program = make(make_program, smtp)
    review(program, 0)
    program.deliver_pending()
    channel = program.registries.channels.get("email")
    # the connection is gone while it was idle (as when the server drops it)
    channel._local.connection.sock.shutdown(socket.SHUT_RDWR)
    monkeypatch.setattr(module, "_IDLE", 0.0)  # idle long enough to be checked
    review(program, 1)
    assert program.deliver_pending() == DeliveryReport(claimed=1, sent=1)  # not a retry
    assert len(smtp.received) == 2
