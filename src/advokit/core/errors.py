"""The errors advokit raises.

Every error is an :class:`AdvokitError`. Errors about input name the field, the
value and what would have been accepted, in one line, so that the CLI can print
``str(error)`` and exit 1 without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "AdvokitError",
    "ConfigurationError",
    "DatabaseNotReady",
    "DerivationTooDeep",
    "IdempotencyConflict",
    "InsufficientBalance",
    "InvalidValue",
    "MissingData",
    "NotHeld",
    "PluginError",
    "PluginLoadError",
    "RegistrationConflict",
    "UnknownActionKind",
    "UnknownAdvocate",
    "UnknownName",
]

_MAX_SHOWN = 12


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def one_of(names: Iterable[str]) -> str:
    """Describe a set of accepted names, shortening long lists."""
    names = sorted(names)
    if not names:
        return "none are registered"
    head = ", ".join(names[:_MAX_SHOWN])
    more = len(names) - _MAX_SHOWN
    return f"one of {head}" + (f" (and {more} more)" if more > 0 else "")


class AdvokitError(Exception):
    """Base class of every error advokit raises on purpose."""


class InvalidValue(AdvokitError, ValueError):
    """A value given to advokit is not acceptable.

    Attributes:
        field: dotted name of what was wrong (``action.key``, ``PointsRule.points``).
        value: the value that was given.
        accepted: what would have been accepted, in words.
    """

    def __init__(self, field: str, value: Any, accepted: str) -> None:
        self.field = field
        self.value = value
        self.accepted = accepted
        super().__init__(f"{field}={_shown(value)} is not valid: expected {accepted}")


class ConfigurationError(InvalidValue):
    """A program, plugin or store setting is not acceptable (raised at construction)."""


class MissingData(InvalidValue):
    """An action lacks a data field its kind requires."""

    def __init__(self, kind: str, field: str, required: Iterable[str]) -> None:
        InvalidValue.__init__(
            self,
            f"action.data[{field!r}]",
            None,
            f"a value, because action kind {kind!r} requires {', '.join(sorted(required))}",
        )
        self.args = (
            f"action.data is missing {field!r}: action kind {kind!r} requires "
            f"{', '.join(sorted(required))}",
        )

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownName(InvalidValue):
    """A name (channel, scorer, policy...) is not registered."""

    def __init__(self, field: str, value: str, names: Iterable[str]) -> None:
        super().__init__(field, value, one_of(names))


class UnknownActionKind(UnknownName):
    """An action's kind is not registered by any plugin."""

    def __init__(self, value: str, names: Iterable[str]) -> None:
        super().__init__("action.kind", value, names)


class UnknownAdvocate(InvalidValue):
    """An action or effect names an advocate that is not enrolled in the program."""

    def __init__(self, value: str, program: str) -> None:
        super().__init__(
            "advocate", value, f"the external id of an advocate enrolled in program {program!r}"
        )


class NotHeld(InvalidValue):
    """A decision on an action that is not (or no longer) held for review."""

    def __init__(self, key: str) -> None:
        super().__init__("key", key, "the key of an action that is still held for review")


class IdempotencyConflict(AdvokitError):
    """An action key was recorded before with different content."""

    def __init__(self, key: str, program: str) -> None:
        self.key = key
        super().__init__(
            f"action.key={key!r} was already recorded in program {program!r} with different "
            "kind, advocate or data: reuse a key only to retry the same action"
        )


class InsufficientBalance(AdvokitError):
    """A deduction would take an account below zero and the program does not allow it."""

    def __init__(self, advocate: str, account: str, balance: int, wanted: int) -> None:
        self.advocate = advocate
        self.account = account
        self.balance = balance
        self.wanted = wanted
        super().__init__(
            f"advocate {advocate!r} has {balance} {account} available, {wanted} were asked for"
        )


class DerivationTooDeep(AdvokitError):
    """Derived actions kept producing derived actions past the program's limit."""


class RegistrationConflict(AdvokitError):
    """Two plugins registered something under the same name."""


class Refused(AdvokitError):
    """Raised in ``advokit_evaluate`` or ``advokit_apply_effect`` to refuse the action.

    The action is recorded as ``rejected`` with ``reason`` and none of its
    effects apply; the rest of the batch goes on. For what can only be told
    while the action is decided (the stock ran out while it waited for a
    person), not for bad input, which screens reject before.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PluginError(AdvokitError):
    """A plugin raised inside a hook. The transaction it was part of was rolled back.

    Attributes:
        plugin: the name the plugin is registered under.
        hook: the hook it was running.
    """

    def __init__(self, plugin: str, hook: str, error: BaseException) -> None:
        self.plugin = plugin
        self.hook = hook
        self.error = error
        super().__init__(f"plugin {plugin!r} failed in {hook}: {type(error).__name__}: {error}")


class PluginLoadError(AdvokitError):
    """A plugin could not be imported or registered."""


class DatabaseNotReady(AdvokitError):
    """The database is unreachable or its schema is not at the version advokit needs."""
