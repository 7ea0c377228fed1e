"""The Slack channels, on ``slack-sdk`` (``pip install 'advokit[slack]'``).

* :class:`SlackWebhook` posts to one Slack channel through an incoming
  webhook: team alerts (a detractor to call back, a VIP who joined).
* :class:`SlackBot` posts with ``chat.postMessage`` and a bot token: to the
  advocate themselves in a community workspace (their ``slack_id``), or, with
  ``channel=``, to one team channel.

Each message's text is its ``.txt`` template. ``&``, ``<`` and ``>`` are
escaped as Slack asks, so that a name or a survey comment cannot mention
``<!channel>`` nor forge a link; Slack still makes links of bare URLs.

Answers: a 429 waits as long as ``Retry-After`` says; a destination Slack
says is gone (404, 410, ``no_service``, ``channel_not_found``, an archived
channel, a deactivated member) is disabled
(:class:`~advokit.plugins.messages.DestinationGone`); a refused token waits
10 minutes without using up attempts; 5xx and network errors are tried
again; anything else is dead-lettered. Slack has no idempotency key: a send
whose answer was lost is posted again (``chat.postMessage`` carries the
message's key in its metadata, ``advokit_message``, for a reader to tell).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from advokit import Advocate, hookimpl
from advokit.core.errors import ConfigurationError
from advokit.core.http import check_url, retry_after
from advokit.core.registry import Register
from advokit.core.retries import RetryLater
from advokit.plugins.messages.delivery import DeliveryFailed, DestinationGone
from advokit.plugins.messages.model import Message

__all__ = ["SlackBot", "SlackWebhook", "slack_text"]

#: What Slack answers for a destination that is gone for good.
GONE = frozenset(
    {
        "no_service",
        "no_team",
        "team_disabled",
        "channel_not_found",
        "channel_is_archived",
        "is_archived",
        "no_active_hooks",
        "invalid_token",  # a revoked webhook URL
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
    }
)
#: What Slack answers when the program's token is refused: not the message's fault.
REFUSED = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
#: Configuration Slack refuses (a missing scope, a bot not in the channel): fixable.
MISCONFIGURED = frozenset({"missing_scope", "not_in_channel", "restricted_action"})
TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
REFUSED_WAIT = timedelta(minutes=10)
#: slack-sdk logs each request at DEBUG, the webhook's secret URL with it: quieter here
_QUIET = logging.getLogger("advokit.channels.slack")
_QUIET.setLevel(logging.WARNING)


def slack_text(text: str) -> str:
    """``text`` with ``&``, ``<`` and ``>`` escaped as Slack's message format asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text(message: Message) -> str:
    text = message.rendered.text
    if not text:
        raise DeliveryFailed(
            f"message {message.kind!r} has no text template ({message.kind}.txt): "
            "a Slack message needs one"
        )
    return slack_text(text)


def _answer(status: int, error: str, headers: Any, destination: str, said: str) -> Exception:
    """What Slack's answer means for the message."""
    if status == 429 or error == "ratelimited":
        wait = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
        return RetryLater(said, after=retry_after(wait))
    if status in (404, 410) or error in GONE:
        return DestinationGone(said, destination=destination)
    if error in REFUSED or status == 401:
        return RetryLater(f"{said} (check the token)", after=REFUSED_WAIT, counts=False)
    if error in MISCONFIGURED:
        return RetryLater(f"{said} (check the app's set-up)", after=REFUSED_WAIT, counts=False)
    if status >= 500 or status == 408 or error in TRANSIENT:
        return RetryLater(said)
    return DeliveryFailed(said)


def _import_slack() -> Any:
    try:
        import slack_sdk
    except ImportError:  # pragma: no cover - the extra is in the test dependencies
        raise ConfigurationError(
            "slack_sdk", None, "installed: pip install 'advokit[slack]'"
        ) from None
    return slack_sdk


def _timeout(owner: str, timeout: Any) -> int:
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        raise ConfigurationError(f"{owner}.timeout", timeout, "a positive whole number of seconds")
    return timeout


class SlackWebhook:
    """Post every message on this channel to one Slack channel, by incoming webhook.

    It reaches the team, not the advocate (``to_advocate = False``): consent,
    quiet hours and caps do not apply.

    Args:
        url: the incoming webhook's URL (a secret: it is never stored).
        name: the channel's name (``SendMessage(channel=...)``).
        destination: how the destination is named where it is kept (a disabled
            destination, the logs); the channel's name by default.
        timeout: seconds to wait for Slack.
    """

    to_advocate = False

    def __init__(
        self,
        url: str,
        *,
        name: str = "slack",
        destination: str | None = None,
        timeout: int = 10,
    ) -> None:
        check_url("SlackWebhook.url", url)
        self._url = url
        self.name = name
        self.plugin_name = name
        self.destination = destination or name
        self.timeout = _timeout("SlackWebhook", timeout)
        self._local = threading.local()

    def __repr__(self) -> str:  # never the URL: it is the secret
        return f"SlackWebhook(name={self.name!r}, destination={self.destination!r})"

    @hookimpl
    def advokit_register_channels(self, register: Register) -> None:
        register(self, name=self.name)

    def address(self, advocate: Advocate) -> str:
        return self.destination

    def send(self, program: Any, message: Message) -> Mapping[str, Any]:
        text = _text(message)
        client = getattr(self._local, "client", None)
        if client is None:
            webhook = _import_slack().webhook
            # no retry handlers: a retry is the outbox's, with its backoff and its count
            client = webhook.WebhookClient(
                self._url, timeout=self.timeout, retry_handlers=[], logger=_QUIET
            )
            self._local.client = client
        try:
            response = client.send(text=text)
        except OSError as error:  # URLError, a timeout: the outcome is unknown
            raise RetryLater(f"Slack unreachable: {error!r}") from None
        body = (response.body or "").strip()
        if response.status_code == 200 and body == "ok":
            return {"status": 200}
        said = f"Slack answered {response.status_code}: {body[:200]}"
        raise _answer(response.status_code, body, response.headers, self.destination, said)


class SlackBot:
    """Post messages with ``chat.postMessage`` and a bot token.

    Without ``channel``, each message goes to the advocate, by their
    ``slack_id`` (a community workspace): consent applies as on any channel
    that reaches the advocate. With ``channel`` (``"C0123456789"``), every
    message goes to that team channel.

    Args:
        token: the bot token (``xoxb-...``).
        channel: a team channel's id, or None to reach each advocate.
        name: the channel's name (``SendMessage(channel=...)``).
        base_url: Slack's Web API (a test server on loopback in tests).
        timeout: seconds to wait for Slack.
    """

    def __init__(
        self,
        token: str,
        *,
        channel: str | None = None,
        name: str = "slack",
        base_url: str = "https://slack.com/api/",
        timeout: int = 10,
    ) -> None:
        if not isinstance(token, str) or not token.startswith(("xoxb-", "xoxp-")):
            raise ConfigurationError("SlackBot.token", "***", "a Slack bot token, 'xoxb-...'")
        if channel is not None and (not isinstance(channel, str) or not channel.strip()):
            raise ConfigurationError("SlackBot.channel", channel, "a Slack channel id, or None")
        check_url("SlackBot.base_url", base_url)
        self._token = token
        self.channel = channel
        self.to_advocate = channel is None
        self.name = name
        self.plugin_name = name
        self.base_url = base_url if base_url.endswith("/") else f"{base_url}/"
        self.timeout = _timeout("SlackBot", timeout)
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"SlackBot(channel={self.channel!r}, name={self.name!r})"

    @hookimpl
    def advokit_register_channels(self, register: Register) -> None:
        register(self, name=self.name)

    def address(self, advocate: Advocate) -> str | None:
        return self.channel or advocate.slack_id

    def send(self, program: Any, message: Message) -> Mapping[str, Any]:
        slack = _import_slack()
        text = _text(message)
        destination = self.address(message.advocate) or ""
        client = getattr(self._local, "client", None)
        if client is None:
            client = slack.WebClient(
                token=self._token,
                base_url=self.base_url,
                timeout=self.timeout,
                retry_handlers=[],
                logger=_QUIET,
            )
            self._local.client = client
        try:
            response = client.chat_postMessage(
                channel=destination,
                text=text,
                metadata={
                    "event_type": "advokit_message",
                    "event_payload": {"program": program.name, "key": message.key},
                },
            )
        except slack.errors.SlackApiError as error:
            answer = error.response
            code = answer.get("error", "") if isinstance(answer.data, dict) else ""
            said = f"Slack answered {answer.status_code}: {code or str(answer.data)[:200]}"
            raise _answer(answer.status_code, code, answer.headers, destination, said) from None
        except OSError as error:  # URLError, a timeout: the outcome is unknown
            raise RetryLater(f"Slack unreachable: {error!r}") from None
        return {"channel": response.get("channel"), "ts": response.get("ts")}
