"""Messages: an outbox of messages to advocates, delivered after commit by channels.

::

    from advokit.plugins.messages import Messages
    from advokit.plugins.channels import Email

    Program(name="bakery", plugins=[
        Messages(secret="...", unsubscribe_url="https://bakery.example/unsubscribe/{token}"),
        Email(host="smtp.example", sender="Bakery <hello@bakery.example>"),
    ])

A ``SendMessage`` effect (from a rule, a journey) writes an outbox row in the
transaction of the action that caused it; ``program.deliver_pending()`` or
``advokit worker`` sends it after commit, rendering its templates for the
advocate and checking consent at send time.
"""

from __future__ import annotations

from advokit.plugins.messages.consent import allowed, read_token, unsubscribe_token
from advokit.plugins.messages.delivery import (
    Channel,
    Delivery,
    DeliveryFailed,
    DeliveryReport,
    DestinationGone,
    OptedOut,
)
from advokit.plugins.messages.model import Category, Message, MessageState, QueuedMessage, Rendered
from advokit.plugins.messages.pacing import Cap, QuietHours
from advokit.plugins.messages.plugin import MIGRATIONS, Messages
from advokit.plugins.messages.tables import destinations_t, outbox_t
from advokit.plugins.messages.templates import TemplateError, Templates, locale_chain

__all__ = [
    "MIGRATIONS",
    "Cap",
    "Category",
    "Channel",
    "Delivery",
    "DeliveryFailed",
    "DeliveryReport",
    "DestinationGone",
    "Message",
    "MessageState",
    "Messages",
    "OptedOut",
    "QueuedMessage",
    "QuietHours",
    "Rendered",
    "TemplateError",
    "Templates",
    "allowed",
    "destinations_t",
    "locale_chain",
    "outbox_t",
    "read_token",
    "unsubscribe_token",
]
