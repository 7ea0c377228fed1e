"""The plugin system: manager per program, registries, validation, failure policy."""

from __future__ import annotations

import inspect

import click
import pytest

import advokit.plugins.kinds
import advokit.plugins.points
from advokit import (
    Action,
    ActionKind,
    Advocate,
    ConfigurationError,
    PluginError,
    PluginLoadError,
    Program,
    RegistrationConflict,
    UnknownName,
    hookimpl,
    hookspecs,
)
from advokit.core.plugins import DEFAULT_PLUGINS, load_plugins
from advokit.plugins.points import Points, PointsRule


class Swag:
    def fulfil(self, program, reward):
        return None


class Reviews:
    plugin_name = "reviews"

    @hookimpl
    def advokit_register_action_kinds(self, register):
        register(ActionKind(name="testimonial.given", required={"text": str}))

    @hookimpl
    def advokit_register_channels(self, register):
        register(object(), name="carrier-pigeon")

    @hookimpl
    def advokit_register_scorers(self, register):
        register(lambda actions: 0, name="zero")

    @hookimpl
    def advokit_register_fulfillers(self, register):
        register(Swag(), name="swag")

    @hookimpl
    def advokit_register_effect_policies(self, register):
        register(lambda ctx, action, effects: effects, name="identity")

    @hookimpl
    def advokit_register_commands(self, register):
        register(click.Command("hello", callback=lambda: None))


class RivalReviews:
    plugin_name = "rival"

    @hookimpl
    def advokit_register_action_kinds(self, register):
        register(ActionKind(name="testimonial.given"))


def test_each_program_has_its_own_plugin_manager(make_program):
    first, second = make_program(), make_program(plugins=[Reviews()])
    assert first.pm is not second.pm
    assert "testimonial.given" in second.registries.action_kinds
    assert "testimonial.given" not in first.registries.action_kinds


def test_builtins_are_ordinary_registered_plugins(advokit_program):
    names = {info.name for info in advokit_program.plugin_info() if info.builtin}
    assert names == {name for name, _ in DEFAULT_PLUGINS}
    points = next(i for i in advokit_program.plugin_info() if i.name == "points")
    assert "advokit_evaluate" in points.hooks


def test_registries_collect_contributions(make_program):
    program = make_program(plugins=[Reviews()], policies=["identity"])
    registries = program.registries
    assert "carrier-pigeon" in registries.channels
    assert "zero" in registries.scorers and "swag" in registries.fulfillers
    assert registries.action_kinds.plugin_of("testimonial.given") == "reviews"
    assert len(program.policy_chain) == 1
    program.hooks.register_commands(registries.commands)
    assert set(registries.commands) == {"hello", "score"}  # score: the built-in scoring


def test_a_name_registered_twice_names_both_plugins(make_program):
    with pytest.raises(RegistrationConflict, match="'reviews'.*'rival'|'rival'.*'reviews'"):
        make_program(plugins=[Reviews(), RivalReviews()])


def test_unknown_policy_name_lists_the_registered_ones(make_program):
    with pytest.raises(UnknownName, match="'missing'.*one of identity"):
        make_program(plugins=[Reviews()], policies=["missing"])


def test_developer_plugin_replaces_builtin_of_same_name(make_program):
    mine = advokit.plugins.points.Points()
    program = make_program(plugins=[mine])
    assert program.pm.get_plugin("points") is mine


def test_plugins_can_be_disabled_by_environment(monkeypatch):
    monkeypatch.setenv("ADVOKIT_DISABLE_PLUGINS", "points")
    loaded = load_plugins(load_entrypoints=False)
    assert loaded.pm.get_plugin("points") is None
    assert loaded.pm.get_plugin("kinds") is advokit.plugins.kinds


def test_plugin_class_instead_of_instance_is_explained(make_program):
    with pytest.raises(ConfigurationError, match=r"forget the \(\)"):
        make_program(plugins=[Reviews])


class Misspelled:
    @hookimpl
    def advokit_evaluatee(self, ctx, action):
        return None


def test_hookimpl_for_unknown_hook_fails_at_load():
    with pytest.raises(PluginLoadError, match="advokit_evaluatee"):
        load_plugins([Misspelled()], load_entrypoints=False)


@pytest.mark.parametrize(
    "source",
    [
        "def advokit_evaluate(self, ctx, action=None): pass",
        "def advokit_evaluate(self, ctx, *, action): pass",
        "def advokit_evaluate(self, ctx, **kwargs): pass",
    ],
)
def test_hookimpls_with_parameters_pluggy_never_passes_are_refused(source):
    namespace: dict = {}
    exec(source, namespace)
    plugin = type("Bad", (), {"advokit_evaluate": hookimpl(namespace["advokit_evaluate"])})()
    with pytest.raises(PluginLoadError, match="pluggy never passes it"):
        load_plugins([plugin], load_entrypoints=False)


def _hookimpls_in_codebase():
    loaded = load_plugins(load_entrypoints=False)
    for name, plugin in loaded.pm.list_name_plugin():
        for caller in loaded.pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin:
                    yield f"{name}.{caller.name}", impl.function


@pytest.mark.parametrize(("where", "function"), list(_hookimpls_in_codebase()))
def test_no_hookimpl_in_the_codebase_has_defaults_kwonly_or_kwargs(where, function):
    for parameter in inspect.signature(function).parameters.values():
        assert parameter.default is inspect.Parameter.empty, where
        assert parameter.kind in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.POSITIONAL_ONLY,
        ), where


class BadConfig:
    plugin_name = "bad-config"

    @hookimpl
    def advokit_configure(self, program):
        raise ValueError("threshold must be positive")


def test_configure_errors_name_the_plugin(make_program):
    with pytest.raises(PluginError, match="'bad-config' failed in advokit_configure"):
        make_program(plugins=[BadConfig()])


def test_tracing_prints_hook_calls(make_program, monkeypatch, capsys):
    monkeypatch.setenv("ADVOKIT_TRACE_PLUGINS", "1")
    program = make_program(plugins=[Points(PointsRule("review.posted", points=5))])
    program.hooks.configure(program)
    assert "advokit_configure" in capsys.readouterr().err
    program.enroll(Advocate(external_id="ann"))
    program.record(Action(kind="review.posted", advocate="ann", key="rv-1"))
    # the per-action hooks, which advokit otherwise calls directly, are traced too
    assert "advokit_evaluate" in capsys.readouterr().err


def test_every_hookspec_has_a_complete_docstring():
    specs = [
        getattr(hookspecs, name)
        for name in dir(hookspecs)
        if name.startswith("advokit_") and callable(getattr(hookspecs, name))
    ]
    assert len(specs) >= 14
    for spec in specs:
        doc = inspect.getdoc(spec) or ""
        for section in ("When called:", "Returns:", "versionadded"):
            assert section in doc, f"{spec.__name__} docstring lacks {section!r}"
        if inspect.signature(spec).parameters:
            assert "Args:" in doc, f"{spec.__name__} docstring lacks Args:"
            for parameter in inspect.signature(spec).parameters:
                assert f"{parameter}:" in doc, f"{spec.__name__} does not document {parameter}"


def test_every_hookspec_is_typed():
    for name in dir(hookspecs):
        if name.startswith("advokit_"):
            spec = getattr(hookspecs, name)
            annotations = spec.__annotations__
            assert "return" in annotations, name
            assert set(inspect.signature(spec).parameters) <= set(annotations), name


def test_program_rejects_bad_settings(tmp_path):
    with pytest.raises(ConfigurationError, match="Program.name"):
        Program(name="Bad Name!", database_url=f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ConfigurationError, match="database_url"):
        Program(name="ok", database_url="not a url at all://")
    with pytest.raises(ConfigurationError, match="max_derivation_depth"):
        Program(name="ok", database_url=f"sqlite:///{tmp_path}/x.db", max_derivation_depth=-1)
