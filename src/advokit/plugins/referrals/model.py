"""Referral codes as the program hands them out, and the actions of sharing them."""

from __future__ import annotations

from datetime import datetime

import attrs

from advokit import ActionKind

__all__ = ["KINDS", "REFERRAL_SHARED", "ReferralCode"]

REFERRAL_SHARED = "referral.shared"


@attrs.frozen(kw_only=True)
class ReferralCode:
    """An advocate's referral code and the link that carries it.

    ``vanity`` codes were chosen by a person; the others were generated.
    A code is usable while ``active`` (not deactivated) and not expired.
    """

    code: str
    advocate: str
    link: str
    vanity: bool
    created_at: datetime
    expires_at: datetime | None
    deactivated_at: datetime | None

    @property
    def active(self) -> bool:
        return self.deactivated_at is None

    def usable_at(self, when: datetime) -> bool:
        """Whether a friend may still use the code at ``when``."""
        return self.active and (self.expires_at is None or when < self.expires_at)


KINDS = (
    ActionKind(
        name=REFERRAL_SHARED,
        required={"channel": str},
        optional={"code": str},
        description=(
            "An advocate shared their referral code or link (channel: email, sms, "
            "whatsapp, facebook, x, copy_link...)."
        ),
    ),
)
