"""The scoring plugin's settings, shared by its scorers."""

from __future__ import annotations

from typing import Any

import attrs

from advokit.core.errors import ConfigurationError

__all__ = ["ADVOCACY_KINDS", "ScoringSettings"]

#: The actions that make someone an advocate: they spoke for the brand.
ADVOCACY_KINDS = frozenset(
    {
        "review.posted",
        "share.posted",
        "ugc.submitted",
        "community.post",
        "referral.shared",
        "referral.invited",
    }
)


def _kinds(instance: Any, attribute: Any, value: Any) -> None:
    if not value or not all(isinstance(kind, str) for kind in value):
        raise ConfigurationError("Scoring.advocacy_kinds", value, "a non-empty set of action kinds")


@attrs.frozen(kw_only=True)
class ScoringSettings:
    """What the scorers share.

    Attributes:
        advocacy_kinds: the action kinds that count as advocacy (time-to-advocacy,
            conversion, "became an advocate").
        advocacy: weights of the Customer Advocacy Score and the Brand Advocacy
            Index (:class:`advokit.plugins.scoring.advocacy.AdvocacyWeights`).
        types: the advocate-type rules (:mod:`advokit.plugins.scoring.types`).
        economics: program costs and holdout groups
            (:class:`advokit.plugins.scoring.economics.Economics`).
        potential: the advocacy-potential model's settings
            (:class:`advokit.plugins.scoring.potential.PotentialSettings`).
    """

    advocacy_kinds: frozenset[str] = attrs.field(
        default=ADVOCACY_KINDS, converter=frozenset, validator=_kinds
    )
    advocacy: Any = None
    types: Any = None
    economics: Any = None
    potential: Any = None
