"""advokit: a pluggy framework for customer-advocacy programs.

Compose a :class:`Program` from plugins, enroll :class:`Advocate` values,
record :class:`Action` values, and read balances, histories and leaderboards.
Plugins implement the hooks in :mod:`advokit.hookspecs` with ``@hookimpl``.
"""

from typing import TYPE_CHECKING

from advokit.hookspecs import PROJECT, hookimpl

if TYPE_CHECKING:
    from advokit.core.clock import ManualClock
    from advokit.core.context import EvaluationContext, Transaction
    from advokit.core.errors import (
        AdvokitError,
        ConfigurationError,
        DatabaseNotReady,
        DerivationTooDeep,
        IdempotencyConflict,
        InsufficientBalance,
        InvalidValue,
        MissingData,
        NotHeld,
        PluginError,
        PluginLoadError,
        Refused,
        RegistrationConflict,
        UnknownActionKind,
        UnknownAdvocate,
        UnknownName,
    )
    from advokit.core.model import (
        Action,
        ActionKind,
        Advocate,
        AdvocateKind,
        Alert,
        AwardPoints,
        ChangeTier,
        Consent,
        Decision,
        DeductPoints,
        Effect,
        GrantBadge,
        HeldAction,
        HoldForReview,
        IssueReward,
        LedgerEntry,
        Outcome,
        ReversePoints,
        ReverseRewards,
        Reward,
        SendMessage,
        Standing,
        Status,
        Tag,
        Verdict,
    )
    from advokit.core.program import EffectPolicy, Program

# Public names load on first use, so that importing advokit (and `advokit --help`)
# does not import SQLAlchemy and the store.
_LAZY = {
    "ManualClock": "advokit.core.clock",
    "EvaluationContext": "advokit.core.context",
    "Transaction": "advokit.core.context",
    "AdvokitError": "advokit.core.errors",
    "ConfigurationError": "advokit.core.errors",
    "DatabaseNotReady": "advokit.core.errors",
    "DerivationTooDeep": "advokit.core.errors",
    "IdempotencyConflict": "advokit.core.errors",
    "InsufficientBalance": "advokit.core.errors",
    "InvalidValue": "advokit.core.errors",
    "MissingData": "advokit.core.errors",
    "NotHeld": "advokit.core.errors",
    "PluginError": "advokit.core.errors",
    "Refused": "advokit.core.errors",
    "PluginLoadError": "advokit.core.errors",
    "RegistrationConflict": "advokit.core.errors",
    "UnknownActionKind": "advokit.core.errors",
    "UnknownAdvocate": "advokit.core.errors",
    "UnknownName": "advokit.core.errors",
    "Action": "advokit.core.model",
    "ActionKind": "advokit.core.model",
    "Advocate": "advokit.core.model",
    "AdvocateKind": "advokit.core.model",
    "AwardPoints": "advokit.core.model",
    "ChangeTier": "advokit.core.model",
    "Consent": "advokit.core.model",
    "Decision": "advokit.core.model",
    "DeductPoints": "advokit.core.model",
    "Effect": "advokit.core.model",
    "GrantBadge": "advokit.core.model",
    "HoldForReview": "advokit.core.model",
    "IssueReward": "advokit.core.model",
    "HeldAction": "advokit.core.model",
    "LedgerEntry": "advokit.core.model",
    "Outcome": "advokit.core.model",
    "ReversePoints": "advokit.core.model",
    "ReverseRewards": "advokit.core.model",
    "Reward": "advokit.core.model",
    "Alert": "advokit.core.model",
    "SendMessage": "advokit.core.model",
    "Standing": "advokit.core.model",
    "Status": "advokit.core.model",
    "Tag": "advokit.core.model",
    "TickReport": "advokit.core.model",
    "Verdict": "advokit.core.model",
    "EffectPolicy": "advokit.core.program",
    "Program": "advokit.core.program",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'advokit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "PROJECT",
    "Action",
    "ActionKind",
    "Advocate",
    "AdvocateKind",
    "AdvokitError",
    "Alert",
    "AwardPoints",
    "ChangeTier",
    "ConfigurationError",
    "Consent",
    "DatabaseNotReady",
    "Decision",
    "DeductPoints",
    "DerivationTooDeep",
    "Effect",
    "EffectPolicy",
    "EvaluationContext",
    "GrantBadge",
    "HeldAction",
    "HoldForReview",
    "IdempotencyConflict",
    "InsufficientBalance",
    "InvalidValue",
    "IssueReward",
    "LedgerEntry",
    "ManualClock",
    "MissingData",
    "NotHeld",
    "Outcome",
    "PluginError",
    "PluginLoadError",
    "Program",
    "Refused",
    "RegistrationConflict",
    "ReversePoints",
    "ReverseRewards",
    "Reward",
    "SendMessage",
    "Standing",
    "Status",
    "Tag",
    "TickReport",
    "Transaction",
    "UnknownActionKind",
    "UnknownAdvocate",
    "UnknownName",
    "Verdict",
    "hookimpl",
]
