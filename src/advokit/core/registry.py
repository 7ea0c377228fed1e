"""Registries that plugins contribute to through ``register`` callbacks.

Each ``advokit_register_*`` hook gets a ``register`` bound to one registry and
to the plugin being called, so a name registered twice is reported with both
plugins' names, whatever order they were loaded in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import attrs

from advokit.core.errors import ConfigurationError, RegistrationConflict, UnknownName
from advokit.core.model import ActionKind

__all__ = ["Register", "Registries", "Registry"]

T = TypeVar("T")


class Register(Protocol):
    """The callback a registration hook receives."""

    def __call__(self, obj: Any, /, *, name: str | None = None) -> None: ...


@attrs.frozen
class Registered(Generic[T]):
    """Something registered, and the plugin that registered it."""

    name: str
    obj: T
    plugin: str


class Registry(Generic[T]):
    """Named contributions of one sort (action kinds, channels...).

    Args:
        what: what is registered, in words, for messages (``"action kind"``).
        name_of: how to name an object registered without ``name=``.
        check: validates an object before it is accepted.
    """

    def __init__(
        self,
        what: str,
        *,
        name_of: Any = None,
        check: Any = None,
    ) -> None:
        self.what = what
        self._name_of = name_of
        self._check = check
        self._items: dict[str, Registered[T]] = {}

    def bind(self, plugin: str) -> Register:
        """A ``register`` callback that records ``plugin`` as the contributor."""

        def register(obj: Any, /, *, name: str | None = None) -> None:
            self.add(obj, name=name, plugin=plugin)

        return register

    def add(self, obj: T, *, name: str | None, plugin: str) -> None:
        if self._check is not None:
            self._check(obj)
        if name is None:
            name = self._name_of(obj) if self._name_of else getattr(obj, "name", None)
        if not isinstance(name, str) or not name:
            raise ConfigurationError(
                f"{self.what} name", name, f"a non-empty string (registered by plugin {plugin!r})"
            )
        if name in self._items:
            other = self._items[name].plugin
            raise RegistrationConflict(
                f"{self.what} {name!r} is registered by plugin {other!r} and again by "
                f"plugin {plugin!r}: disable one of them or rename"
            )
        self._items[name] = Registered(name, obj, plugin)

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name].obj
        except KeyError:
            raise UnknownName(self.what, name, self._items) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, name: str) -> T | None:
        item = self._items.get(name)
        return item.obj if item else None

    def plugin_of(self, name: str) -> str:
        return self._items[name].plugin

    def items(self) -> Mapping[str, T]:
        return {name: item.obj for name, item in self._items.items()}


def _check_kind(obj: Any) -> None:
    if not isinstance(obj, ActionKind):
        raise ConfigurationError("action kind", obj, "an advokit.ActionKind")


def _check_callable(obj: Any) -> None:
    if not callable(obj):
        raise ConfigurationError("effect policy", obj, "a callable policy(ctx, action, effects)")


def _check_fulfiller(obj: Any) -> None:
    if not callable(getattr(obj, "fulfil", None)):
        raise ConfigurationError(
            "fulfiller", obj, "an object with a fulfil(program, reward) method"
        )


def _check_worker(obj: Any) -> None:
    if not callable(obj):
        raise ConfigurationError("worker", obj, "a callable job(program) -> int")


def _check_scorer(obj: Any) -> None:
    if not callable(obj):
        raise ConfigurationError(
            "scorer", obj, "a callable scorer(program, *, segment, window, by, **options)"
        )


def _check_segment(obj: Any) -> None:
    if not callable(getattr(obj, "where", None)) or not isinstance(getattr(obj, "name", None), str):
        raise ConfigurationError("segment", obj, "an advokit.plugins.scoring.Segment")


def _check_query(obj: Any) -> None:
    if not callable(obj):
        raise ConfigurationError("query", obj, "a callable query(program, ...)")


def _check_directory(obj: Any) -> None:
    if not isinstance(obj, str | Path) or not Path(obj).is_dir():
        raise ConfigurationError("directory", obj, "the path of an existing directory")


def _command_name(obj: Any) -> Any:
    return getattr(obj, "name", None)


def _query_name(obj: Any) -> Any:
    return getattr(obj, "__name__", None)


def _directory_name(obj: Any) -> str:
    return str(obj)


class Registries:
    """All of a program's registries."""

    def __init__(self) -> None:
        self.action_kinds: Registry[ActionKind] = Registry("action kind", check=_check_kind)
        self.effect_policies: Registry[Any] = Registry("effect policy", check=_check_callable)
        self.channels: Registry[Any] = Registry("channel")
        self.fulfillers: Registry[Any] = Registry("fulfiller", check=_check_fulfiller)
        self.workers: Registry[Any] = Registry("worker", check=_check_worker)
        self.scorers: Registry[Any] = Registry("scorer", check=_check_scorer)
        self.segments: Registry[Any] = Registry("segment", check=_check_segment)
        self.queries: Registry[Any] = Registry("query", name_of=_query_name, check=_check_query)
        self.commands: Registry[Any] = Registry("command", name_of=_command_name)
        self.template_dirs: Registry[Path] = Registry(
            "template directory", name_of=_directory_name, check=_check_directory
        )
        self.migrations: Registry[Path] = Registry(
            "migration directory", name_of=_directory_name, check=_check_directory
        )
