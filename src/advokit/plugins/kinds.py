"""The common vocabulary of advocacy: the action kinds most programs record.

Programs add their own kinds with ``Program(action_kinds=[...])`` or a plugin's
``advokit_register_action_kinds``; feature plugins (referrals, reviews...)
register the kinds they own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advokit import ActionKind, hookimpl
from advokit.core.errors import InvalidValue
from advokit.core.registry import Register

#: The scale of a survey answer: surveys whose name starts with ``csat`` are on
#: 1-5 (customer satisfaction); every other survey, NPS first, on 0-10.
NPS_SCALE = range(11)
CSAT_SCALE = range(1, 6)


def survey_scale(survey: str | None) -> range:
    """The scores a survey accepts: 1-5 for ``csat*`` surveys, 0-10 otherwise."""
    return CSAT_SCALE if (survey or "").startswith("csat") else NPS_SCALE


def _check_answer(data: Mapping[str, Any]) -> None:
    scale = survey_scale(data.get("survey"))
    if data["score"] not in scale:
        survey = data.get("survey") or "nps"
        raise InvalidValue(
            "action.data['score']",
            data["score"],
            f"an integer from {scale.start} to {scale.stop - 1} for survey {survey!r}",
        )


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
        optional={"channel": str, "url": str, "reach": int},
        description="The advocate shared the brand on a social channel (reach: its audience).",
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
        description=(
            "The advocate answered a survey: NPS (the default survey) on 0-10, "
            "surveys named csat* on 1-5."
        ),
        validate=_check_answer,
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
