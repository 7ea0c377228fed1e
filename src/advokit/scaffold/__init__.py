"""Scaffolding: ``advokit new program NAME`` and ``advokit new plugin NAME``.

The templates are jinja2 files shipped in the package (``templates/program``
and ``templates/plugin``)::

    from advokit.scaffold import new_plugin, new_program

    made = new_program("acme-rewards", directory=".")   # ./acme-rewards/
    made.files        # [Path('README.md'), Path('program.py'), ...]
    made.next_steps   # ['cd acme-rewards', ...]

    new_plugin("shoutouts", directory=".")               # ./advokit-shoutouts/

A program project composes points, referrals and a welcome email in
``program.py``, with its message templates and tests. A plugin package
follows the naming triplet: distribution ``advokit-NAME``, module
``advokit_NAME``, entry point ``NAME`` in the ``advokit`` group.
"""

from __future__ import annotations

import importlib.metadata
import pkgutil
import shlex
from pathlib import Path

import attrs

from advokit.core.errors import InvalidValue
from advokit.scaffold.names import NAME_ACCEPTED, ProjectNames, project_names
from advokit.scaffold.render import TargetNotEmpty, render_tree

__all__ = [
    "NAME_ACCEPTED",
    "ProjectNames",
    "Scaffold",
    "TargetNotEmpty",
    "new_plugin",
    "new_program",
    "project_names",
]

TEMPLATES = Path(__file__).parent / "templates"


@attrs.frozen(kw_only=True)
class Scaffold:
    """A project written from a template.

    Attributes:
        kind: ``"program"`` or ``"plugin"``.
        names: the names derived from NAME.
        target: the project's folder.
        files: the files written, relative to ``target``, sorted.
        next_steps: shell commands to go on with, in order.
    """

    kind: str
    names: ProjectNames
    target: Path
    files: tuple[Path, ...]
    next_steps: tuple[str, ...]


#: The rules of a new program: ``program.py``'s constants, and what its
#: docstring, README and sample email data say, all rendered from here.
PROGRAM_RULES = {
    "review_points": 50,
    "referrer_points": 150,
    "friend_points": 100,
    "referral_minimum_cents": 1000,
    "daily_cap": 500,
}


def new_program(name: str, directory: str | Path = ".", *, force: bool = False) -> Scaffold:
    """Write a program project ``NAME`` into ``directory/NAME``."""
    names = project_names(name)
    return _new(
        "program",
        names,
        _folder(directory) / names.name,
        force=force,
        steps=(
            "python -m pip install -r requirements.txt",
            "python -m pytest",
            "advokit --program program:program db upgrade",
            "advokit --program program:program templates check",
        ),
        **PROGRAM_RULES,
    )


def new_plugin(name: str, directory: str | Path = ".", *, force: bool = False) -> Scaffold:
    """Write a plugin package ``advokit-NAME`` into ``directory/advokit-NAME``."""
    names = project_names(name, reserved=builtin_plugin_names())
    return _new(
        "plugin",
        names,
        _folder(directory) / names.distribution,
        force=force,
        steps=("python -m pip install -e .", "advokit plugins", "python -m pytest"),
    )


def _new(
    kind: str,
    names: ProjectNames,
    target: Path,
    *,
    force: bool,
    steps: tuple[str, ...],
    **values: object,
) -> Scaffold:
    """Render ``templates/KIND`` into ``target`` with the names and ``values``."""
    context = {
        **attrs.asdict(names),
        "advokit_version": importlib.metadata.version("advokit"),
        **values,
    }
    files = render_tree(TEMPLATES / kind, target, context, force=force)
    return Scaffold(
        kind=kind,
        names=names,
        target=target,
        files=tuple(files),
        next_steps=(f"cd {shlex.quote(str(target))}", *steps),
    )


def builtin_plugin_names() -> frozenset[str]:
    """The names advokit's own plugins are registered or imported under.

    An installed plugin with one of them would replace (``points``) or clash
    with (``referrals``) the built-in, so new plugins may not take them.
    """
    import advokit.plugins
    from advokit.core.plugins import DEFAULT_PLUGINS

    modules = {info.name for info in pkgutil.iter_modules(advokit.plugins.__path__)}
    return frozenset(modules | {name for name, _ in DEFAULT_PLUGINS})


def _folder(directory: str | Path) -> Path:
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise InvalidValue(
            "directory", str(directory), "a folder to create the project in, not a file"
        )
    return folder
