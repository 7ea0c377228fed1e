"""The common vocabulary of advocacy: the action kinds most programs record.

Programs add their own kinds with ``Program(action_kinds=[...])`` or a plugin's
``advokit_register_action_kinds``; feature plugins (referrals, reviews...)
register the kinds they own.
"""

from __future__ import annotations

from advokit import ActionKind, hookimpl
from advokit.core.registry import Register

KINDS = (
    ActionKind(
        name="purchase.completed",
        required={"order_id": str},
        optional={"total_cents": int, "currency": str},
        description="A customer paid for an order.",
    ),
    ActionKind(
        name="purchase.refunded",
        required={"order_id": str},
        optional={"refund_cents": int, "purchase_key": str},
        description="An order was refunded or cancelled; purchase_key names its purchase action.",
    ),
    ActionKind(
        name="review.posted",
        optional={"rating": int, "platform": str, "url": str},
        description="The advocate published a review.",
    ),
    ActionKind(
        name="share.posted",
        optional={"channel": str, "url": str},
        description="The advocate shared the brand on a social channel.",
    ),
    ActionKind(
        name="ugc.submitted",
        optional={"url": str, "media": str},
        description="The advocate submitted user-generated content (photo, video, story).",
    ),
    ActionKind(
        name="survey.answered",
        required={"score": int},
        optional={"survey": str, "comment": str},
        description="The advocate answered a survey such as NPS (score 0-10).",
    ),
    ActionKind(
        name="community.post",
        optional={"url": str, "topic": str},
        description="The advocate helped others in the community.",
    ),
)


@hookimpl
def advokit_register_action_kinds(register: Register) -> None:
    for kind in KINDS:
        register(kind)
