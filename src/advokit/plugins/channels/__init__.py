"""Channels: the ways messages reach advocates and the team, registered through
``advokit_register_channels``.

* :class:`Email`: SMTP, ``multipart/alternative``, unsubscribe headers.
* :class:`SlackWebhook` and :class:`SlackBot`: team alerts, and advocates in a
  community workspace (``advokit[slack]``).
* :class:`TwilioSMS`: SMS, segments counted and capped (``advokit[sms]``).
* :class:`Webhook`: signed JSON to any URL, for integrations.

The SDKs are imported when a message is first sent, so a program without
the extras can still import them all.
"""

from __future__ import annotations

from advokit.plugins.channels.segments import Segments, count_segments
from advokit.plugins.channels.slack import SlackBot, SlackWebhook
from advokit.plugins.channels.sms import TwilioSMS
from advokit.plugins.channels.smtp import Email, HeaderInjection, check_header
from advokit.plugins.channels.webhook import Webhook

__all__ = [
    "Email",
    "HeaderInjection",
    "Segments",
    "SlackBot",
    "SlackWebhook",
    "TwilioSMS",
    "Webhook",
    "check_header",
    "count_segments",
]
