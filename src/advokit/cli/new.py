"""``advokit new program|plugin NAME``: write a project from advokit's templates.

Only click is imported here; the scaffold package (and jinja2) load when a
command runs, so that ``advokit --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from advokit.cli.files import writing

if TYPE_CHECKING:
    from advokit.scaffold import Scaffold

__all__ = ["new_group"]

_DIRECTORY = click.option(
    "--directory",
    "-d",
    default=".",
    show_default=True,
    metavar="DIR",
    help="The folder to create the project in.",
)
_FORCE = click.option(
    "--force",
    is_flag=True,
    help="Write into a project folder that is not empty (its other files are left alone).",
)


@click.group("new")
def new_group() -> None:
    """Write a new program project or plugin package from advokit's templates."""


@new_group.command("program", short_help="Write a program project NAME.")
@click.argument("name")
@_DIRECTORY
@_FORCE
def new_program_command(name: str, directory: str, force: bool) -> None:
    """Write a program project NAME: program.py (points, referrals, a welcome
    email), its message templates, tests and a README.

    NAME: lower-case letters, digits and hyphens, such as acme-rewards; the
    project is written to DIR/NAME.
    """
    from advokit.scaffold import new_program

    _report(_made(new_program, name, directory, force))


@new_group.command("plugin", short_help="Write a plugin package advokit-NAME.")
@click.argument("name")
@_DIRECTORY
@_FORCE
def new_plugin_command(name: str, directory: str, force: bool) -> None:
    """Write a plugin package advokit-NAME (module advokit_NAME, entry point
    NAME), with an example hook, its tests and a README.

    NAME: lower-case letters, digits and hyphens, such as shoutouts; the
    package is written to DIR/advokit-NAME.
    """
    from advokit.scaffold import new_plugin

    _report(_made(new_plugin, name, directory, force))


def _made(make: Callable[..., Scaffold], name: str, directory: str, force: bool) -> Scaffold:
    # advokit's own errors (a bad NAME, a folder not empty) become one line in the group;
    # a folder we may not write to, a full disk, one line here
    with writing("the project"):
        return make(name, directory, force=force)


def _report(made: Scaffold) -> None:
    where = _shown(made.target)
    click.echo(f"Wrote {made.kind} {made.names.name!r} in {where}:")
    for path in made.files:
        click.echo(f"  {path.as_posix()}")
    click.echo("\nNext steps:")
    for step in made.next_steps:
        click.echo(f"  {step}")


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())
