"""A typed facade over ``pm.hook``: the only place core code calls hooks.

Keyword names are spelled once, here; call sites are type-checked; and every
exception a plugin raises is turned into a
:class:`~advokit.core.errors.PluginError` that names the plugin and the hook.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy

from advokit.core.errors import ConfigurationError, InvalidValue, PluginError, one_of
from advokit.core.model import Action, Effect, Outcome, Verdict
from advokit.core.store import database

if TYPE_CHECKING:
    from advokit.core.context import EvaluationContext, Transaction
    from advokit.core.program import Program
    from advokit.core.registry import Registries, Registry

__all__ = ["EVALUATES", "Hooks", "plugin_evaluates"]

#: The attribute a plugin sets to the action kinds its ``advokit_evaluate``
#: takes; plugins without it are called for every kind.
EVALUATES = "advokit_evaluates"


def plugin_evaluates(plugin: object, kind: str) -> bool:
    """Whether ``plugin``'s ``advokit_evaluate`` is called for actions of ``kind``."""
    kinds = getattr(plugin, EVALUATES, None)
    return kinds is None or kind in kinds


_REGISTRATIONS = (
    ("advokit_register_action_kinds", "action_kinds"),
    ("advokit_register_effect_policies", "effect_policies"),
    ("advokit_register_channels", "channels"),
    ("advokit_register_fulfillers", "fulfillers"),
    ("advokit_register_scorers", "scorers"),
    ("advokit_register_queries", "queries"),
    ("advokit_register_template_dirs", "template_dirs"),
    ("advokit_register_migrations", "migrations"),
)


class Hooks:
    """One typed method per hook."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        relay = pm.hook
        self._screen = relay.advokit_screen
        self._evaluate = relay.advokit_evaluate
        self._apply_effect = relay.advokit_apply_effect
        # kind -> (the implementations it was made for, the caller or None)
        self._routes: dict[str, tuple[list[Any], Any]] = {}

    # -- registration: each implementation is called with a ``register`` bound to
    # its own plugin name, so that a conflict names both plugins.

    def register_all(self, registries: Registries) -> None:
        for hook_name, attr in _REGISTRATIONS:
            self._register(hook_name, getattr(registries, attr))

    def register_commands(self, registry: Registry[Any]) -> None:
        self._register("advokit_register_commands", registry)

    def _register(self, hook_name: str, registry: Registry[Any]) -> None:
        caller = getattr(self.pm.hook, hook_name)
        for impl in caller.get_hookimpls():
            try:
                # implementations may leave out arguments they do not use
                kwargs = {"register": registry.bind(impl.plugin_name)}
                impl.function(**{name: kwargs[name] for name in impl.argnames})
            except PluginError:
                raise
            except Exception as error:
                if error.__class__.__module__.startswith("advokit.core"):
                    raise
                raise PluginError(impl.plugin_name, hook_name, error) from error

    def configure(self, program: Program) -> None:
        try:
            self.pm.hook.advokit_configure(program=program)
        except Exception as error:
            raise self._blame("advokit_configure", error) from error

    # -- pipeline

    def screen(self, ctx: EvaluationContext, action: Action) -> list[Verdict]:
        if not self._screen.get_hookimpls():  # the common case; saves a pluggy call
            return []
        try:
            return self._screen(ctx=ctx, action=action)  # type: ignore[no-any-return]
        except Exception as error:
            if database.is_retryable(error):
                raise  # lost a race: the transaction runs again
            raise self._blame("advokit_screen", error) from error

    def evaluate(self, ctx: EvaluationContext, action: Action) -> list[Iterable[Effect]]:
        caller = self._evaluator(action.kind)
        if caller is None:
            return []
        try:
            return caller(ctx=ctx, action=action)  # type: ignore[no-any-return]
        except Exception as error:
            if database.is_retryable(error):
                raise  # lost a race: the transaction runs again
            raise self._blame("advokit_evaluate", error) from error

    def check_routes(self, kinds: Collection[str]) -> None:
        """Refuse an ``advokit_evaluates`` that is not a collection of registered kinds."""
        for name, plugin in self.pm.list_name_plugin():
            declared = getattr(plugin, EVALUATES, None)
            if declared is None:
                continue
            field = f"{name}.{EVALUATES}"
            if (
                isinstance(declared, str)
                or not isinstance(declared, Collection)
                or not all(isinstance(kind, str) for kind in declared)
            ):
                raise ConfigurationError(field, declared, "a collection of action kind names")
            for kind in sorted(declared):
                if kind not in kinds:
                    raise ConfigurationError(field, kind, one_of(kinds))

    def evaluates(self, kind: str) -> bool:
        """Whether some plugin evaluates actions of ``kind`` (see ``EVALUATES``)."""
        return self._evaluator(kind) is not None

    def _evaluator(self, kind: str) -> Any:
        """The ``advokit_evaluate`` caller for ``kind``: only plugins that take it.

        Made again when plugins were registered or removed since.
        """
        impls = self._evaluate.get_hookimpls()
        route = self._routes.get(kind)
        if route is None or route[0] != impls:
            others = [impl.plugin for impl in impls if not plugin_evaluates(impl.plugin, kind)]
            caller = (
                None
                if len(others) == len(impls)
                else self.pm.subset_hook_caller("advokit_evaluate", others)
            )
            route = self._routes[kind] = (impls, caller)
        return route[1]

    def apply_effect(self, tx: Transaction, effect: Effect) -> bool | None:
        try:
            return self._apply_effect(tx=tx, effect=effect)  # type: ignore[no-any-return]
        except Exception as error:
            if database.is_retryable(error):
                raise  # lost a race: the transaction runs again
            raise self._blame("advokit_apply_effect", error) from error

    # -- time

    def tick(self, program: Program, now: datetime) -> list[Action]:
        """The time-driven actions every plugin says are due at ``now``."""
        try:
            # drained here: a generator that raises is blamed on its plugin too
            results = [list(r or ()) for r in self.pm.hook.advokit_tick(program=program, now=now)]
        except Exception as error:
            raise self._blame("advokit_tick", error) from error
        due = [action for result in results for action in result]
        for action in due:
            if not isinstance(action, Action):
                raise InvalidValue("advokit_tick result", action, "advokit.Action values")
        return due

    # -- observers

    def after_commit(self, program: Program, outcomes: Sequence[Outcome]) -> None:
        try:
            self.pm.hook.advokit_after_commit(program=program, outcomes=outcomes)
        except Exception as error:
            raise self._blame("advokit_after_commit", error) from error

    def on_record_error(
        self, program: Program, actions: Sequence[Action], error: BaseException
    ) -> None:
        try:
            self.pm.hook.advokit_on_record_error(program=program, actions=actions, error=error)
        except Exception as observer_error:
            raise self._blame("advokit_on_record_error", observer_error) from error

    def _blame(self, hook_name: str, error: BaseException) -> PluginError:
        """Wrap ``error`` in a PluginError naming the plugin whose code raised it.

        pluggy does not say which implementation raised, so the traceback is
        walked for the first frame that runs one of the hook's implementations.
        """
        if isinstance(error, PluginError):
            return error
        caller = getattr(self.pm.hook, hook_name)
        codes = {}
        for impl in caller.get_hookimpls():
            code = getattr(impl.function, "__code__", None)
            if code is not None:
                codes[code] = impl.plugin_name
        traceback = error.__traceback__
        while traceback is not None:
            plugin = codes.get(traceback.tb_frame.f_code)
            if plugin is not None:
                return PluginError(plugin, hook_name, error)
            traceback = traceback.tb_next
        return PluginError("<unknown>", hook_name, error)
