"""``advokit templates``: check and preview a program's message templates."""

from __future__ import annotations

import click

__all__ = ["templates_group"]


@click.group("templates")
def templates_group() -> None:
    """The program's message templates: check them, preview a message."""
