"""Render a folder of templates into a project folder.

A template folder mirrors the project it makes. Files ending in ``.jinja``
are rendered with jinja2 and lose the suffix; every other file is copied as
it is, so that the message templates a program ships (jinja2 themselves) are
not rendered twice. ``__module__`` in a path is replaced by the module name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from advokit.core.errors import InvalidValue

__all__ = ["TargetNotEmpty", "render_tree"]

SUFFIX = ".jinja"
MODULE = "__module__"


class TargetNotEmpty(InvalidValue):
    """The project folder holds files already (and ``force`` was not given), or is a file."""

    def __init__(self, target: Path, *, is_file: bool = False) -> None:
        super().__init__("directory", str(target), "a folder that does not exist yet or is empty")
        if is_file:
            said = f"{target} is a file: choose another NAME or --directory"
        else:
            said = (
                f"{target} already holds files: pass --force to write the project's files "
                "over them (other files are left alone), or choose another NAME or --directory"
            )
        self.args = (said,)

    def __str__(self) -> str:
        return str(self.args[0])


def render_tree(
    source: Path, target: Path, context: Mapping[str, Any], *, force: bool = False
) -> list[Path]:
    """Render ``source`` into ``target``; returns the files written, relative to ``target``.

    ``target`` must not exist, or be an empty folder: with ``force``, the files
    of the template are written over whatever is there and other files are
    left alone. Everything is rendered before anything is written, so a
    template that fails leaves nothing behind.
    """
    _check_target(target, force=force)
    files = _render(source, context)
    for relative, content in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return sorted(files)


def _check_target(target: Path, *, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise TargetNotEmpty(target, is_file=True)
    if target.is_dir() and any(target.iterdir()) and not force:
        raise TargetNotEmpty(target)


def _render(source: Path, context: Mapping[str, Any]) -> dict[Path, bytes]:
    import jinja2  # only when writing a project: `advokit --help` stays light

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(source),
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails here, not in the project
        keep_trailing_newline=True,
        autoescape=False,  # the output is Python, TOML and Markdown, not HTML
    )
    module = str(context["module"])
    files: dict[Path, bytes] = {}
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if "__pycache__" in relative.parts:
            continue
        out = Path(*(part.replace(MODULE, module) for part in relative.parts))
        if out.suffix == SUFFIX:
            template = environment.get_template(relative.as_posix())
            files[out.with_suffix("")] = template.render(**context).encode()
        else:
            files[out] = path.read_bytes()
    return files
