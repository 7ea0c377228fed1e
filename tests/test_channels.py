"""The Slack, SMS (Twilio) and webhook channels, against a real HTTP server on loopback.

Each provider's client is pointed at a pytest-httpserver on 127.0.0.1, so the
requests are the real ones (the SDKs' own, over a socket): the tests read
what arrived, answer as the provider documents, and check what advokit made
of the answer.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer

from advokit import Action, Advocate, Consent, InvalidValue, SendMessage, hookimpl
from advokit.core.errors import ConfigurationError
from advokit.core.signing import verify
from advokit.plugins.channels import SlackBot, SlackWebhook, TwilioSMS, Webhook
from advokit.plugins.channels.slack import slack_text
from advokit.plugins.messages import Messages, MessageState

S = MessageState
SECRET = "a-secret-of-32-characters-for-tests"
HOOK_SECRET = "the-webhook-secret-0123456789"
SID = "AC" + "0" * 32
TOKEN = "twilio-auth-token"
ANN_PHONE = "+5511987654321"


class Sends:
    """``review.posted`` -> one message per (channel, template, category) given; the
    action's data goes along as the message's context."""

    plugin_name = "sends"
    advokit_evaluates = frozenset({"review.posted"})

    def __init__(self, *messages):
        self.messages = messages

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        return [
            SendMessage(
                advocate=action.advocate,
                channel=channel,
                template=template,
                category=category,
                context=dict(action.data),
            )
            for channel, template, category in self.messages
        ]


@pytest.fixture
def server():
    http = HTTPServer(host="127.0.0.1", port=0)
    http.start()
    yield http
    http.clear()
    http.stop()


@pytest.fixture
def templates(tmp_path):
    folder = tmp_path / "templates" / "en"
    folder.mkdir(parents=True)
    (folder / "detractor_alert.txt").write_text(
        "{{ advocate.name }} answered {{ score }}: {{ comment }}\n"
    )
    (folder / "detractor_alert.subject").write_text("Detractor: {{ advocate.name }}\n")
    (folder / "hello.sms").write_text("Hi {{ advocate.name }}, thanks for your review!\n")
    (folder / "long.sms").write_text("{{ 'x' * 480 }}\n")
    (folder / "receipt.sms").write_text("Your coffee is on us, {{ advocate.name }}.\n")
    return tmp_path / "templates"


def build(make_program, templates, channel, *sends, database_url=None, consent=None, **who):
    options = {} if database_url is None else {"database_url": database_url}
    program = make_program(
        plugins=[Messages(secret=SECRET, templates=templates), channel, Sends(*sends)], **options
    )
    program.enroll(
        Advocate(
            external_id="ann",
            name=who.get("name", "Ann Lee"),
            email="ann@example.com",
            phone=who.get("phone", ANN_PHONE),
            slack_id=who.get("slack_id"),
            consent=consent or {},
        )
    )
    return program


def review(program, n=0, **data):
    return program.record(
        Action(kind="review.posted", advocate="ann", key=f"review-{n}", data=data)
    )


def only(program):
    (message,) = program.messages("ann")
    return message


def granted(*channels):
    return {c: Consent(granted=True, basis="consent", source="signup form") for c in channels}


# --------------------------------------------------------------------------- webhook


def test_a_webhook_posts_the_message_signed_and_the_receiver_can_check_it(
    make_program, templates, server
):
    server.expect_oneshot_request("/hook", method="POST").respond_with_json({"ok": True})
    channel = Webhook(url=server.url_for("/hook"), secret=HOOK_SECRET, name="crm")
    program = build(make_program, templates, channel, ("crm", "detractor_alert", "transactional"))
    review(program, score=3, comment="cold coffee")

    report = program.deliver_pending()

    assert report.sent == 1
    ((request, _),) = server.log
    raw = request.get_data()
    # the HMAC over "{timestamp}.{body}", checked as a receiver would
    verify(
        HOOK_SECRET,
        raw,
        request.headers["X-Advokit-Timestamp"],
        request.headers["X-Advokit-Signature"],
    )  # fresh by the receiver's own clock
    message = only(program)
    assert request.headers["Idempotency-Key"] == message.key
    assert request.headers["X-Advokit-Attempt"] == "1"
    body = json.loads(raw)
    assert body["kind"] == "detractor_alert"
    assert body["key"] == message.key
    assert body["advocate"]["external_id"] == "ann"
    assert body["context"] == {"score": 3, "comment": "cold coffee"}
    assert body["rendered"]["text"] == "Ann Lee answered 3: cold coffee"
    assert message.state is S.SENT
    assert message.result == {"status": 200}


def test_a_webhook_signature_with_another_secret_or_body_does_not_verify(
    make_program, templates, server
):
    from advokit.core.signing import BadSignature

    server.expect_oneshot_request("/hook").respond_with_data("", status=204)
    channel = Webhook(url=server.url_for("/hook"), secret=HOOK_SECRET, name="crm")
    program = build(make_program, templates, channel, ("crm", "detractor_alert", "transactional"))
    review(program, score=3, comment="cold")
    program.deliver_pending()
    ((request, _),) = server.log
    stamp, signature = (
        request.headers["X-Advokit-Timestamp"],
        request.headers["X-Advokit-Signature"],
    )
    with pytest.raises(BadSignature):
        verify("another-secret-0123456789", request.get_data(), stamp, signature)
    with pytest.raises(BadSignature):
        verify(HOOK_SECRET, request.get_data() + b" ", stamp, signature)


def test_a_webhook_answering_410_is_disabled_until_enabled_again(make_program, templates, server):
    server.expect_oneshot_request("/hook").respond_with_data("gone", status=410)
    channel = Webhook(url=server.url_for("/hook"), secret=HOOK_SECRET, name="crm")
    program = build(make_program, templates, channel, ("crm", "detractor_alert", "transactional"))
    review(program, 0, score=3, comment="a")
    review(program, 1, score=2, comment="b")

    report = program.deliver_pending()

    assert (report.failed, report.sent) == (2, 0)
    assert len(server.log) == 1  # the second was dead-lettered without a call
    first, second = program.messages("ann")
    assert "answered 410" in first.error
    assert "disabled" in second.error
    assert list(program.disabled_destinations()) == [("crm", "crm")]

    server.expect_request("/hook").respond_with_data("", status=200)
    assert program.enable_destination("crm", "crm") is True
    assert program.enable_destination("crm", "crm") is False
    program.retry_message(second.key)
    assert program.deliver_pending().sent == 1
    assert program.message(second.key).state is S.SENT


@pytest.mark.parametrize(
    ("status", "headers", "state", "wait"),
    [
        (429, {"Retry-After": "120"}, S.QUEUED, timedelta(seconds=120)),
        (503, {}, S.QUEUED, None),
        (401, {}, S.QUEUED, timedelta(minutes=10)),
        (400, {}, S.FAILED, None),
    ],
)
def test_what_a_webhook_answer_means(
    make_program, templates, server, advokit_clock, status, headers, state, wait
):
    server.expect_oneshot_request("/hook").respond_with_data("no", status=status, headers=headers)
    channel = Webhook(url=server.url_for("/hook"), secret=HOOK_SECRET, name="crm")
    program = build(make_program, templates, channel, ("crm", "detractor_alert", "transactional"))
    review(program, score=1, comment="x")
    program.deliver_pending()
    message = only(program)
    assert message.state is state
    assert f"answered {status}" in message.error
    if wait is not None:
        assert message.next_attempt_at == advokit_clock() + wait
    if status == 401:  # the secret is the program's to fix: no attempt used up
        assert message.attempts == 0


def test_a_webhook_reaches_the_business_whatever_the_advocates_consent(
    make_program, templates, server
):
    server.expect_oneshot_request("/hook").respond_with_data("", status=200)
    channel = Webhook(url=server.url_for("/hook"), secret=HOOK_SECRET, name="crm")
    program = build(
        make_program,
        templates,
        channel,
        ("crm", "detractor_alert", "marketing"),
        consent={"crm": Consent(granted=False, basis="withdrawn")},
    )
    review(program, score=1, comment="x")
    assert program.deliver_pending().sent == 1


def test_a_webhooks_secret_url_is_never_stored_nor_shown(make_program, templates, server):
    secret_path = "/hooks/catch/123/S3CRET-PATH"
    server.expect_oneshot_request(secret_path).respond_with_data("gone", status=410)
    url = server.url_for(secret_path) + "?token=T0P-SECRET"
    gone = Webhook(url=url, secret=HOOK_SECRET, name="zap")
    unreachable = Webhook(
        url="http://127.0.0.1:9/hooks/S3CRET-PATH?token=T0P-SECRET", secret=HOOK_SECRET, name="crm"
    )
    program = build(
        make_program,
        templates,
        gone,
        ("zap", "detractor_alert", "transactional"),
    )
    review(program, score=1, comment="x")
    program.deliver_pending()
    (message,) = program.messages("ann")
    stored = [message.error, *program.disabled_destinations().values()]
    assert "answered 410" in message.error
    other = build(make_program, templates, unreachable, ("crm", "detractor_alert", "marketing"))
    review(other, score=1, comment="x")
    other.deliver_pending()
    stored.append(only(other).error)
    assert "unreachable" in stored[-1]
    for text in [*stored, repr(gone), repr(unreachable)]:
        assert "S3CRET" not in text
        assert "T0P-SECRET" not in text


def test_webhook_settings_are_checked():
    with pytest.raises(ConfigurationError, match=r"Webhook\.url"):
        Webhook(url="ftp://x", secret=HOOK_SECRET)
    with pytest.raises(ConfigurationError, match=r"Webhook\.secret"):
        Webhook(url="https://crm.example/hook", secret="short")


# --------------------------------------------------------------------------- Slack


def test_a_slack_webhook_posts_the_text_with_slacks_escapes(make_program, templates, server):
    server.expect_oneshot_request("/services/T/B/X", method="POST").respond_with_data("ok")
    channel = SlackWebhook(server.url_for("/services/T/B/X"), name="team", destination="#cx")
    program = build(
        make_program,
        templates,
        channel,
        ("team", "detractor_alert", "transactional"),
        name="<!channel> & co",
    )
    review(program, score=2, comment="see <https://evil.example|here>")

    assert program.deliver_pending().sent == 1

    ((request, _),) = server.log
    assert request.headers["Content-Type"].startswith("application/json")
    text = json.loads(request.get_data())["text"]
    assert text == ("&lt;!channel&gt; &amp; co answered 2: see &lt;https://evil.example|here&gt;")
    assert "<" not in text


def test_slack_429_waits_for_retry_after_then_posts_once(
    make_program, templates, server, advokit_clock
):
    server.expect_oneshot_request("/hook").respond_with_data(
        "rate_limited", status=429, headers={"Retry-After": "30"}
    )
    server.expect_oneshot_request("/hook").respond_with_data("ok")
    channel = SlackWebhook(server.url_for("/hook"), name="team")
    program = build(make_program, templates, channel, ("team", "detractor_alert", "transactional"))
    review(program, score=2, comment="late")

    first = program.deliver_pending()
    assert (first.retried, first.sent) == (1, 0)
    assert only(program).next_attempt_at == advokit_clock() + timedelta(seconds=30)
    assert program.deliver_pending().claimed == 0  # not before Retry-After
    advokit_clock.advance(seconds=30)
    assert program.deliver_pending().sent == 1
    assert len(server.log) == 2


@pytest.mark.parametrize(("status", "body"), [(404, "no_service"), (410, "channel_is_archived")])
def test_a_slack_webhook_that_is_gone_is_disabled(make_program, templates, server, status, body):
    server.expect_oneshot_request("/hook").respond_with_data(body, status=status)
    channel = SlackWebhook(server.url_for("/hook"), name="team", destination="#cx")
    program = build(make_program, templates, channel, ("team", "detractor_alert", "transactional"))
    review(program, 0, score=2, comment="a")
    review(program, 1, score=2, comment="b")
    assert program.deliver_pending().failed == 2
    assert len(server.log) == 1
    assert program.disabled_destinations() == {("team", "#cx"): f"Slack answered {status}: {body}"}


def _slack_api(server, answers):
    """Serve chat.postMessage: each answer is (status, JSON body, headers)."""
    for status, body, headers in answers:
        server.expect_oneshot_request("/api/chat.postMessage", method="POST").respond_with_json(
            body, status=status, headers=headers
        )
    return server.url_for("/api/")


def test_a_slack_bot_writes_to_the_advocate_by_their_member_id(make_program, templates, server):
    url = _slack_api(server, [(200, {"ok": True, "channel": "D024BE91L", "ts": "1.5"}, {})])
    channel = SlackBot("xoxb-test-token", base_url=url, name="community")
    program = build(
        make_program,
        templates,
        channel,
        ("community", "detractor_alert", "marketing"),
        slack_id="U024BE7LH",
        consent=granted("community"),
    )
    review(program, score=9, comment="great")

    assert program.deliver_pending().sent == 1

    ((request, _),) = server.log
    assert request.headers["Authorization"] == "Bearer xoxb-test-token"
    sent = json.loads(request.get_data())
    assert sent["channel"] == "U024BE7LH"
    assert sent["text"] == "Ann Lee answered 9: great"
    message = only(program)
    assert sent["metadata"]["event_payload"]["key"] == message.key
    assert message.result == {"channel": "D024BE91L", "ts": "1.5"}


def test_a_slack_bot_needs_a_member_id_to_reach_an_advocate(make_program, templates, server):
    url = _slack_api(server, [])
    channel = SlackBot("xoxb-test-token", base_url=url, name="community")
    without_id = build(
        make_program,
        templates,
        channel,
        ("community", "detractor_alert", "marketing"),
        consent=granted("community"),
    )
    review(without_id, score=9, comment="a")
    assert without_id.deliver_pending().suppressed == 1
    assert "no community address" in only(without_id).error
    assert server.log == []


def test_a_slack_bot_without_consent_sends_nothing(make_program, templates, server):
    url = _slack_api(server, [])
    channel = SlackBot("xoxb-test-token", base_url=url, name="community")
    program = build(
        make_program,
        templates,
        channel,
        ("community", "detractor_alert", "marketing"),
        slack_id="U024BE7LH",
    )
    review(program, score=9, comment="a")
    assert program.deliver_pending().suppressed == 1
    assert server.log == []


@pytest.mark.parametrize(
    ("answer", "state", "disabled", "wait"),
    [
        ((429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}), S.QUEUED, False, 7),
        ((200, {"ok": False, "error": "channel_not_found"}, {}), S.FAILED, True, None),
        ((200, {"ok": False, "error": "invalid_auth"}, {}), S.QUEUED, False, 600),
        ((200, {"ok": False, "error": "msg_too_long"}, {}), S.FAILED, False, None),
        ((500, {"ok": False, "error": "internal_error"}, {}), S.QUEUED, False, None),
    ],
)
def test_what_a_slack_api_answer_means(
    make_program, templates, server, advokit_clock, answer, state, disabled, wait
):
    url = _slack_api(server, [answer])
    channel = SlackBot("xoxb-test-token", channel="C0TEAM", base_url=url, name="team")
    program = build(make_program, templates, channel, ("team", "detractor_alert", "transactional"))
    review(program, score=1, comment="x")
    program.deliver_pending()
    message = only(program)
    assert message.state is state
    assert answer[1]["error"] in message.error
    assert (("team", "C0TEAM") in program.disabled_destinations()) is disabled
    if wait is not None:
        assert message.next_attempt_at == advokit_clock() + timedelta(seconds=wait)


def test_slack_text_escapes_only_the_three_characters():
    assert slack_text("a & b < c > d ' \" é") == "a &amp; b &lt; c &gt; d ' \" é"


def test_slack_settings_are_checked():
    with pytest.raises(ConfigurationError, match=r"SlackBot\.token"):
        SlackBot("not-a-token")
    with pytest.raises(ConfigurationError, match=r"SlackWebhook\.url"):
        SlackWebhook("hooks.slack.com/services/x")
    with pytest.raises(ConfigurationError, match=r"SlackWebhook\.timeout"):
        SlackWebhook("https://hooks.slack.com/services/x", timeout=0)


# --------------------------------------------------------------------------- SMS


def _twilio(server, answers):
    """Serve Twilio's Messages resource: each answer is (status, JSON body)."""
    path = f"/2010-04-01/Accounts/{SID}/Messages.json"
    for status, body in answers:
        server.expect_oneshot_request(path, method="POST").respond_with_json(body, status=status)
    return server.url_for("")


def sms_channel(url, **options):
    return TwilioSMS(
        account_sid=SID, auth_token=TOKEN, sender="+14155550100", api_url=url, **options
    )


def _form(request):
    return dict(urllib.parse.parse_qsl(request.get_data(as_text=True)))


def test_an_sms_goes_through_twilios_api_with_the_opt_out_hint(make_program, templates, server):
    url = _twilio(server, [(201, {"sid": "SM1", "status": "queued"})])
    program = build(
        make_program,
        templates,
        sms_channel(url),
        ("sms", "hello", "marketing"),
        consent=granted("sms"),
    )
    review(program)

    assert program.deliver_pending().sent == 1

    ((request, _),) = server.log
    user, _, password = (
        base64.b64decode(request.headers["Authorization"].split()[1]).decode().partition(":")
    )
    assert (user, password) == (SID, TOKEN)
    form = _form(request)
    assert form == {
        "To": ANN_PHONE,
        "From": "+14155550100",
        "Body": "Hi Ann Lee, thanks for your review! Reply STOP to opt out.",
    }
    assert only(program).result == {"sid": "SM1", "segments": 1, "encoding": "GSM-7"}


def test_a_text_that_only_mentions_stop_still_gets_the_opt_out_hint(
    make_program, templates, server
):
    url = _twilio(server, [(201, {"sid": "SM3"})])
    (templates / "en" / "visit.sms").write_text("Stop by this week for a free coffee!\n")
    program = build(
        make_program,
        templates,
        sms_channel(url),
        ("sms", "visit", "marketing"),
        consent=granted("sms"),
    )
    review(program)
    assert program.deliver_pending().sent == 1
    assert _form(server.log[0][0])["Body"].endswith("coffee! Reply STOP to opt out.")


def test_a_transactional_sms_has_no_opt_out_hint(make_program, templates, server):
    url = _twilio(server, [(201, {"sid": "SM2"})])
    program = build(make_program, templates, sms_channel(url), ("sms", "receipt", "transactional"))
    review(program)
    assert program.deliver_pending().sent == 1
    assert _form(server.log[0][0])["Body"] == "Your coffee is on us, Ann Lee."


def test_twilio_21610_withdraws_the_sms_consent_and_suppresses(make_program, templates, server):
    url = _twilio(
        server,
        [(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"})],
    )
    program = build(
        make_program,
        templates,
        sms_channel(url),
        ("sms", "hello", "marketing"),
        consent=granted("sms"),
    )
    review(program, 0)
    review(program, 1)

    report = program.deliver_pending()

    assert (report.suppressed, report.sent, report.failed) == (2, 0, 0)
    assert len(server.log) == 1  # the second is suppressed by the withdrawn consent
    consent = program.advocate("ann").consent["sms"]
    assert (consent.granted, consent.basis, consent.source) == (False, "withdrawn", "twilio:21610")
    first, second = program.messages("ann")
    assert "21610" in first.error
    assert "withdrawn" in second.error


def test_an_sms_beyond_max_segments_is_dead_lettered_before_any_call(
    make_program, templates, server
):
    url = _twilio(server, [])
    program = build(
        make_program,
        templates,
        sms_channel(url, max_segments=3),
        ("sms", "long", "transactional"),
    )
    review(program)
    assert program.deliver_pending().failed == 1
    assert "4 segments (GSM-7, 480 characters)" in only(program).error
    assert "max_segments=3" in only(program).error
    assert server.log == []


@pytest.mark.parametrize(
    ("status", "code", "state"),
    [(400, 21211, S.FAILED), (500, 20500, S.QUEUED), (429, 20429, S.QUEUED)],
)
def test_what_a_twilio_answer_means(make_program, templates, server, status, code, state):
    url = _twilio(server, [(status, {"code": code, "message": "no"})])
    program = build(make_program, templates, sms_channel(url), ("sms", "receipt", "transactional"))
    review(program)
    program.deliver_pending()
    assert only(program).state is state
    assert f"error {code}" in only(program).error


def test_twilio_refusing_the_credentials_waits_without_using_attempts(
    make_program, templates, server, advokit_clock
):
    url = _twilio(server, [(401, {"code": 20003, "message": "Authenticate"})])
    program = build(make_program, templates, sms_channel(url), ("sms", "receipt", "transactional"))
    review(program)
    program.deliver_pending()
    message = only(program)
    assert (message.state, message.attempts) == (S.QUEUED, 0)
    assert message.next_attempt_at == advokit_clock() + timedelta(minutes=10)


def test_an_sms_number_is_checked_with_phonenumbers(make_program, templates, server):
    url = _twilio(server, [])
    program = build(
        make_program,
        templates,
        sms_channel(url),
        ("sms", "receipt", "transactional"),
        phone="+1000000",  # E.164 in shape, impossible as a number
    )
    review(program)
    assert program.deliver_pending().failed == 1
    assert "not a possible phone number" in only(program).error
    assert server.log == []


def test_a_stop_reply_withdraws_consent_and_the_backlog_is_not_sent(
    make_program, templates, server
):
    url = _twilio(server, [(201, {"sid": "SM9"})])
    program = build(
        make_program,
        templates,
        sms_channel(url),
        ("sms", "hello", "marketing"),
        consent=granted("sms"),
    )
    review(program, 0)
    review(program, 1)

    inbound = program.receive_sms(ANN_PHONE, "  stop ")

    assert (inbound.advocates, inbound.keyword, inbound.action) == (("ann",), "STOP", "opted_out")
    consent = program.advocate("ann").consent["sms"]
    assert (consent.granted, consent.source) == (False, "sms_reply:STOP")
    assert program.deliver_pending().suppressed == 2
    assert server.log == []

    back = program.receive_sms(ANN_PHONE, "START")
    assert back.action == "opted_in"
    assert program.advocate("ann").consent["sms"].granted is True
    review(program, 2)
    assert program.deliver_pending().sent == 1


def test_other_replies_and_strangers_change_nothing(make_program, templates, server):
    program = build(make_program, templates, sms_channel(server.url_for("")), consent={})
    assert program.receive_sms(ANN_PHONE, "HELP").action is None
    assert "sms" not in program.advocate("ann").consent
    stranger = program.receive_sms("+14155550199", "STOP")
    assert (stranger.advocates, stranger.keyword, stranger.action) == ((), "STOP", None)
    with pytest.raises(InvalidValue, match="sender"):
        program.receive_sms("0800 123", "STOP")


def test_sms_settings_are_checked():
    with pytest.raises(ConfigurationError, match="account_sid"):
        TwilioSMS(account_sid="x", auth_token=TOKEN, sender="+14155550100")
    with pytest.raises(ConfigurationError, match=r"TwilioSMS\.sender"):
        TwilioSMS(account_sid=SID, auth_token=TOKEN)
    with pytest.raises(ConfigurationError, match=r"TwilioSMS\.sender"):
        TwilioSMS(account_sid=SID, auth_token=TOKEN, sender="0800")
    with pytest.raises(ConfigurationError, match="max_segments"):
        TwilioSMS(account_sid=SID, auth_token=TOKEN, sender="+14155550100", max_segments=0)
