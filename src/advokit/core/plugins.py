"""Building a program's plugin manager: built-ins, entry points and switches.

One :class:`pluggy.PluginManager` per program, built by :func:`load_plugins`;
no module-level manager, no hook called at import time.

Load order and policy:

1. ``ADVOKIT_DISABLE_PLUGINS`` (comma-separated plugin or distribution names)
   blocks plugins by name.
2. Third-party plugins from the ``advokit`` entry-point group, unless the
   program was built with ``load_entrypoints=False``. With
   ``ADVOKIT_LOAD_PLUGINS`` set, only the named plugins (entry-point or
   distribution names) load; an empty value loads none. A plugin whose import
   or registration raises is skipped with a :class:`PluginLoadWarning` naming
   its distribution and version; ``ADVOKIT_STRICT_PLUGINS=1`` raises instead.
3. The plugin objects the developer passed to the program.
4. The built-ins of :data:`DEFAULT_PLUGINS` not replaced by a developer's
   plugin of the same name.
5. ``check_pending()``: an implementation of a hook that does not exist is an
   error, not a silent no-op.

``ADVOKIT_TRACE_PLUGINS=1`` logs every hook call, its arguments and results to
stderr.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import os
import sys
import types
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pluggy

from advokit import hookspecs
from advokit.core.errors import ConfigurationError, PluginLoadError

__all__ = [
    "DEFAULT_PLUGINS",
    "LoadedPlugins",
    "PluginInfo",
    "PluginLoadWarning",
    "check_hookimpl_signatures",
    "load_plugins",
    "plugin_name",
]

#: Built-in plugins as ``(name, "module" or "module:factory")``. A factory is
#: called with no arguments; a developer's plugin with the same name replaces it.
DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (
    ("kinds", "advokit.plugins.kinds"),
    ("points", "advokit.plugins.points:Points"),
    ("scoring", "advokit.plugins.scoring:Scoring"),
)


class PluginLoadWarning(UserWarning):
    """A third-party plugin could not be loaded and was skipped."""


@attrs.frozen
class PluginInfo:
    """What ``advokit plugins`` reports about one plugin."""

    name: str
    version: str | None
    distribution: str | None
    builtin: bool
    hooks: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "hooks": list(self.hooks)}


@attrs.define
class LoadedPlugins:
    """A plugin manager and what is known of where each plugin came from."""

    pm: pluggy.PluginManager
    distributions: dict[str, tuple[str, str]] = attrs.Factory(dict)
    builtins: set[str] = attrs.Factory(set)
    skipped: list[tuple[str, str, str, str]] = attrs.Factory(list)

    def info(self) -> list[PluginInfo]:
        result = []
        for name, plugin in sorted(self.pm.list_name_plugin()):
            if plugin is None:  # a blocked name
                continue
            callers = self.pm.get_hookcallers(plugin) or []
            dist = self.distributions.get(name)
            builtin = name in self.builtins
            version = dist[1] if dist else (_advokit_version() if builtin else None)
            result.append(
                PluginInfo(
                    name=name,
                    version=version,
                    distribution=dist[0] if dist else ("advokit" if builtin else None),
                    builtin=builtin,
                    hooks=tuple(sorted(c.name for c in callers)),
                )
            )
        return result


def plugin_name(plugin: object) -> str:
    """The name a plugin object registers under.

    A module registers under its dotted name; an object under its
    ``plugin_name`` attribute, or else its class name in lower case.
    """
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    name = getattr(plugin, "plugin_name", None)
    if isinstance(name, str) and name:
        return name
    return type(plugin).__name__.lower()


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, counting the changes to its registrations.

    The per-action hooks keep routes (which implementations take an action
    kind or an effect type); ``generation`` tells them, in one comparison,
    when a plugin was registered, removed or blocked since they were made.
    """

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.generation = 0
        # pluggy's plain call, before tracing or monitoring replace it (a private
        # attribute: without it, advokit's hooks always go through pluggy)
        self.plain_hookexec = getattr(self, "_inner_hookexec", None)

    def register(self, plugin: object, name: str | None = None) -> str | None:
        self.generation += 1
        return super().register(plugin, name)

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        self.generation += 1
        return super().unregister(plugin, name)

    def set_blocked(self, name: str) -> None:
        self.generation += 1
        super().set_blocked(name)

    def add_hookspecs(self, module_or_class: object) -> None:
        self.generation += 1
        super().add_hookspecs(module_or_class)


def load_plugins(
    plugins: Sequence[object] = (),
    *,
    load_entrypoints: bool = True,
    environ: Mapping[str, str] | None = None,
) -> LoadedPlugins:
    """Build a plugin manager holding ``plugins``, the built-ins and installed plugins."""
    env = os.environ if environ is None else environ
    pm = PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    loaded = LoadedPlugins(pm)
    disabled = _names(env.get("ADVOKIT_DISABLE_PLUGINS"))
    for name in disabled:
        pm.set_blocked(name)

    if load_entrypoints:
        _load_entrypoints(loaded, env, disabled)

    given = {}
    for plugin in plugins:
        if isinstance(plugin, type):
            raise ConfigurationError(
                "plugins",
                plugin,
                f"a plugin object: did you forget the () after {plugin.__name__}?",
            )
        name = plugin_name(plugin)
        if name in given:
            raise ConfigurationError("plugins", name, "each plugin name once")
        given[name] = plugin
    for name, plugin in given.items():
        if not pm.is_blocked(name):
            _register(pm, plugin, name)
            if type(plugin).__module__.startswith("advokit.plugins"):
                loaded.builtins.add(name)

    for name, path in DEFAULT_PLUGINS:
        if name in given or pm.is_blocked(name) or pm.has_plugin(name):
            continue
        _register(pm, _import_builtin(path), name)
        loaded.builtins.add(name)

    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginLoadError(f"plugin {plugin_name(error.plugin)!r}: {error}") from None
    if env.get("ADVOKIT_TRACE_PLUGINS", "") not in ("", "0"):
        _enable_tracing(pm)
    return loaded


def _names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _load_entrypoints(loaded: LoadedPlugins, env: Mapping[str, str], disabled: list[str]) -> None:
    allowed = (
        None if "ADVOKIT_LOAD_PLUGINS" not in env else set(_names(env["ADVOKIT_LOAD_PLUGINS"]))
    )
    strict = env.get("ADVOKIT_STRICT_PLUGINS", "") not in ("", "0")
    pm = loaded.pm
    for dist in importlib.metadata.distributions():
        dist_name = dist.metadata["Name"] or "?"
        for ep in dist.entry_points:
            if ep.group != hookspecs.PROJECT or pm.has_plugin(ep.name):
                continue
            if allowed is not None and not {ep.name, dist_name} & allowed:
                continue
            if pm.is_blocked(ep.name) or dist_name in disabled:
                continue
            try:
                plugin = ep.load()
                _register(pm, plugin, ep.name)
                _check_hooks_exist(pm, plugin, ep.name)
            except Exception as error:
                if pm.has_plugin(ep.name):
                    pm.unregister(name=ep.name)
                message = (
                    f"advokit plugin {ep.name!r} from {dist_name} {dist.version} could not be "
                    f"loaded and was skipped: {type(error).__name__}: {error}"
                )
                if strict:
                    raise PluginLoadError(message) from error
                warnings.warn(message, PluginLoadWarning, stacklevel=2)
                loaded.skipped.append((ep.name, dist_name, dist.version, str(error)))
                continue
            loaded.distributions[ep.name] = (dist_name, dist.version)


def _check_hooks_exist(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """What ``check_pending`` would find, for one plugin, so it can be skipped alone."""
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.spec is None and not all(i.optionalhook for i in caller.get_hookimpls()):
            raise PluginLoadError(f"plugin {name!r} implements unknown hook {caller.name}")


def _import_builtin(path: str) -> object:
    module_name, _, factory = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, factory)() if factory else module


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    check_hookimpl_signatures(plugin, name)
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as error:
        raise PluginLoadError(f"plugin {name!r}: {error}") from None
    except ValueError as error:
        raise ConfigurationError("plugins", name, f"a plugin registered once ({error})") from None


def check_hookimpl_signatures(plugin: object, name: str) -> None:
    """Refuse hookimpls with defaulted, keyword-only or ``**kwargs`` parameters.

    pluggy passes none of those (pluggy#442), so such a parameter silently
    never receives the argument it was written for.
    """
    for attr in dir(plugin):
        if not attr.startswith("advokit_"):
            continue
        function = getattr(plugin, attr, None)
        if not callable(function) or not hasattr(function, hookspecs.PROJECT + "_impl"):
            continue
        for parameter in inspect.signature(function).parameters.values():
            bad = None
            if parameter.default is not inspect.Parameter.empty:
                bad = "has a default value"
            elif parameter.kind is inspect.Parameter.KEYWORD_ONLY:
                bad = "is keyword-only"
            elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
                bad = "is **kwargs"
            elif parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                bad = "is *args"
            if bad:
                raise PluginLoadError(
                    f"plugin {name!r}: parameter {parameter.name!r} of {attr} {bad}; "
                    "pluggy never passes it, so declare plain positional parameters only"
                )


def _enable_tracing(pm: pluggy.PluginManager) -> None:
    def before(hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        names = ", ".join(impl.plugin_name for impl in impls)
        print(f"advokit: {hook_name}({', '.join(kwargs)}) -> [{names}]", file=sys.stderr)

    def after(outcome: Any, hook_name: str, impls: Sequence[Any], kwargs: Any) -> None:
        exception = outcome.exception
        result = f"raised {exception!r}" if exception else repr(outcome.get_result())[:200]
        print(f"advokit: {hook_name} {result}", file=sys.stderr)

    pm.add_hookcall_monitoring(before, after)


def _advokit_version() -> str:
    try:
        return importlib.metadata.version("advokit")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"
