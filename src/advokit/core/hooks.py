"""A typed facade over ``pm.hook``: the only place core code calls hooks.

Keyword names are spelled once, here; call sites are type-checked; and every
exception a plugin raises is turned into a
:class:`~advokit.core.errors.PluginError` that names the plugin and the hook.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from advokit.core.errors import ConfigurationError, InvalidValue, PluginError, Refused, one_of
from advokit.core.model import Action, Alert, Effect, Outcome, Verdict
from advokit.core.store import database

if TYPE_CHECKING:
    from advokit.core.context import EvaluationContext, Transaction
    from advokit.core.plugins import PluginManager
    from advokit.core.program import Program
    from advokit.core.registry import Registries, Registry

__all__ = [
    "APPLIES",
    "EVALUATES",
    "SCREENS",
    "Hooks",
    "plugin_applies",
    "plugin_evaluates",
    "plugin_screens",
]

_alerts = logging.getLogger("advokit.alerts")

#: The attribute a plugin sets to the action kinds its ``advokit_evaluate``
#: takes; plugins without it are called for every kind.
EVALUATES = "advokit_evaluates"

#: The attribute a plugin sets to the action kinds its ``advokit_screen`` takes;
#: plugins without it screen every kind.
SCREENS = "advokit_screens"

#: The attribute a plugin sets to the effect types its ``advokit_apply_effect``
#: takes (subclasses included); plugins without it are offered every type.
APPLIES = "advokit_applies"


def plugin_evaluates(plugin: object, kind: str) -> bool:
    """Whether ``plugin``'s ``advokit_evaluate`` is called for actions of ``kind``."""
    kinds = getattr(plugin, EVALUATES, None)
    return kinds is None or kind in kinds


def plugin_screens(plugin: object, kind: str) -> bool:
    """Whether ``plugin``'s ``advokit_screen`` is called for actions of ``kind``."""
    kinds = getattr(plugin, SCREENS, None)
    return kinds is None or kind in kinds


def plugin_applies(plugin: object, effect_type: type) -> bool:
    """Whether ``plugin``'s ``advokit_apply_effect`` is offered effects of ``effect_type``."""
    types = getattr(plugin, APPLIES, None)
    return types is None or issubclass(effect_type, tuple(types))


class _Route:
    """The implementations of a per-action hook that take one kind (or effect type).

    ``calls`` are called directly, in pluggy's order: a pluggy call costs more
    than most implementations do, and these hooks run several times per
    action. ``caller`` (a pluggy subset caller) is used instead when one of the
    hook's implementations is a wrapper, or while pluggy's call monitoring or
    tracing is on (``HookRecorder``), so that they see every call.
    """

    __slots__ = ("caller", "calls", "empty", "generation", "wrapped")

    def __init__(self, pm: PluginManager, hook_name: str, spec: tuple[str, ...], keep: Any) -> None:
        self.generation = pm.generation  # made again when plugins change
        impls = getattr(pm.hook, hook_name).get_hookimpls()
        taken = [impl for impl in impls if keep(impl.plugin)]
        self.empty = not taken
        self.wrapped = any(impl.hookwrapper or impl.wrapper for impl in impls)
        others = [impl.plugin for impl in impls if impl not in taken]
        self.caller = pm.subset_hook_caller(hook_name, others)
        # pluggy calls the last registered first (tryfirst/trylast already sorted)
        self.calls = tuple((impl.plugin_name, _positional(impl, spec)) for impl in reversed(taken))


def _positional(impl: Any, spec: tuple[str, ...]) -> Any:
    """``impl``'s function, called with the hook's arguments in ``spec`` order.

    Implementations may take fewer arguments, in any order (as with pluggy).
    """
    function = impl.function
    names = tuple(impl.argnames)
    if names == spec:
        return function
    picks = [spec.index(name) for name in names]
    return lambda *args: function(*[args[i] for i in picks])


_REGISTRATIONS = (
    ("advokit_register_action_kinds", "action_kinds"),
    ("advokit_register_effect_policies", "effect_policies"),
    ("advokit_register_channels", "channels"),
    ("advokit_register_fulfillers", "fulfillers"),
    ("advokit_register_scorers", "scorers"),
    ("advokit_register_segments", "segments"),
    ("advokit_register_workers", "workers"),
    ("advokit_register_queries", "queries"),
    ("advokit_register_template_dirs", "template_dirs"),
    ("advokit_register_migrations", "migrations"),
)


class Hooks:
    """One typed method per hook."""

    def __init__(self, pm: PluginManager) -> None:
        self.pm = pm
        self._screeners: dict[str, _Route] = {}  # by action kind
        self._evaluators: dict[str, _Route] = {}  # by action kind
        self._appliers: dict[type, _Route] = {}  # by effect type

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
        kind = action.kind
        route = self._screeners.get(kind)
        if route is None or route.generation != self.pm.generation:
            route = self._screeners[kind] = _Route(
                self.pm,
                "advokit_screen",
                ("ctx", "action"),
                lambda plugin: plugin_screens(plugin, kind),
            )
        if route.empty:
            return []  # the common case: nobody screens this kind
        if self._through_pluggy(route):
            try:
                return route.caller(ctx=ctx, action=action)  # type: ignore[no-any-return]
            except Exception as error:
                raise self._failed("advokit_screen", error) from error
        verdicts = []
        for name, call in route.calls:
            try:
                verdict = call(ctx, action)
            except Exception as error:
                raise self._failed("advokit_screen", error, name) from error
            if verdict is not None:
                verdicts.append(verdict)
        return verdicts

    def evaluate(self, ctx: EvaluationContext, action: Action) -> list[Iterable[Effect]]:
        route = self._evaluator(action.kind)
        if route.empty:
            return []  # nobody evaluates this kind
        if self._through_pluggy(route):
            try:
                return route.caller(ctx=ctx, action=action)  # type: ignore[no-any-return]
            except Exception as error:
                raise self._failed("advokit_evaluate", error) from error
        results = []
        for name, call in route.calls:
            try:
                result = call(ctx, action)
            except Exception as error:
                raise self._failed("advokit_evaluate", error, name) from error
            if result is not None:
                results.append(result)
        return results

    def check_routes(self, kinds: Collection[str]) -> None:
        """Refuse an ``advokit_evaluates`` or ``advokit_screens`` that is not a collection of
        registered kinds, and an ``advokit_applies`` that is not one of effect types."""
        for name, plugin in self.pm.list_name_plugin():
            types = getattr(plugin, APPLIES, None)
            if types is not None and (
                not isinstance(types, Collection)
                or isinstance(types, str | type)
                or not all(isinstance(t, type) and issubclass(t, Effect) for t in types)
            ):
                raise ConfigurationError(
                    f"{name}.{APPLIES}", types, "a collection of advokit.Effect subclasses"
                )
            for attribute in (EVALUATES, SCREENS):
                declared = getattr(plugin, attribute, None)
                if declared is None:
                    continue
                field = f"{name}.{attribute}"
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
        return not self._evaluator(kind).empty

    def _evaluator(self, kind: str) -> _Route:
        """The ``advokit_evaluate`` route for ``kind``: only plugins that take it."""
        route = self._evaluators.get(kind)
        if route is None or route.generation != self.pm.generation:
            route = self._evaluators[kind] = _Route(
                self.pm,
                "advokit_evaluate",
                ("ctx", "action"),
                lambda plugin: plugin_evaluates(plugin, kind),
            )
        return route

    def apply_effect(self, tx: Transaction, effect: Effect) -> bool | None:
        effect_type = type(effect)
        route = self._appliers.get(effect_type)
        if route is None or route.generation != self.pm.generation:
            route = self._appliers[effect_type] = _Route(
                self.pm,
                "advokit_apply_effect",
                ("tx", "effect"),
                lambda plugin: plugin_applies(plugin, effect_type),
            )
        if route.empty:
            return None  # nobody applies this type
        if self._through_pluggy(route):
            try:
                return route.caller(tx=tx, effect=effect)  # type: ignore[no-any-return]
            except Exception as error:
                raise self._failed("advokit_apply_effect", error) from error
        for name, call in route.calls:  # firstresult: the first that answers applies it
            try:
                result = call(tx, effect)
            except Exception as error:
                raise self._failed("advokit_apply_effect", error, name) from error
            if result is not None:
                return result  # type: ignore[no-any-return]
        return None

    def _through_pluggy(self, route: _Route) -> bool:
        """Whether pluggy must make the call: a wrapper, or tracing or monitoring is on."""
        plain = self.pm.plain_hookexec
        return (
            route.wrapped or plain is None or getattr(self.pm, "_inner_hookexec", None) is not plain
        )

    def _failed(self, hook_name: str, error: Exception, plugin: str | None = None) -> Exception:
        """What a per-action hook raises for ``error``: a lost race stays itself."""
        if database.is_retryable(error) or isinstance(error, PluginError | Refused):
            return error  # a lost race, a plugin already named, or a refusal: as it is
        if plugin is not None:
            return PluginError(plugin, hook_name, error)
        return self._blame(hook_name, error)

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

    def alert(self, program: Program, alert: Alert) -> None:
        """Raise ``alert``: logged, then every ``advokit_on_alert`` observer is called."""
        _alerts.warning("%s: %s", alert.topic, alert.message, extra={"alert": alert})
        try:
            self.pm.hook.advokit_on_alert(program=program, alert=alert)
        except Exception as error:
            raise self._blame("advokit_on_alert", error) from error

    def on_fulfilment_error(self, program: Program, reward: Any, error: BaseException) -> None:
        try:
            self.pm.hook.advokit_on_fulfilment_error(program=program, reward=reward, error=error)
        except Exception as observer_error:
            raise self._blame("advokit_on_fulfilment_error", observer_error) from error

    def on_delivery_error(self, program: Program, message: Any, error: BaseException) -> None:
        try:
            self.pm.hook.advokit_on_delivery_error(program=program, message=message, error=error)
        except Exception as observer_error:
            raise self._blame("advokit_on_delivery_error", observer_error) from error

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
