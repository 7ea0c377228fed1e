"""The names a scaffold derives from the one NAME given on the command line."""

from __future__ import annotations

import re

import attrs

from advokit.core.errors import InvalidValue

__all__ = ["NAME_ACCEPTED", "ProjectNames", "project_names"]

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_LONGEST = 40
NAME_ACCEPTED = (
    f"1 to {_LONGEST} lower-case letters, digits and single hyphens, starting with a "
    "letter and not ending with a hyphen, such as 'acme-rewards'"
)


@attrs.frozen(kw_only=True)
class ProjectNames:
    """What one NAME becomes in a project (``acme-rewards`` for instance).

    Attributes:
        name: the NAME itself: the program's or the plugin's (entry point's) name.
        snake: with underscores (``acme_rewards``): Python identifiers, action kinds.
        title: for people (``Acme Rewards``).
        distribution: the plugin's distribution (``advokit-acme-rewards``).
        module: the plugin's import name (``advokit_acme_rewards``).
    """

    name: str
    snake: str
    title: str
    distribution: str
    module: str


def project_names(
    name: object, *, field: str = "NAME", reserved: frozenset[str] = frozenset()
) -> ProjectNames:
    """The names derived from ``name``; raises :class:`InvalidValue` naming what is accepted.

    ``reserved`` are names refused even though well formed (the built-in plugins').
    """
    if not isinstance(name, str) or len(name) > _LONGEST or not _NAME.fullmatch(name):
        raise InvalidValue(field, name, NAME_ACCEPTED)
    if name == "advokit" or name.startswith("advokit-"):
        # the distribution would be advokit-advokit-...: the prefix is added for you
        raise InvalidValue(
            field, name, f"a name without the 'advokit-' prefix, which is added: {NAME_ACCEPTED}"
        )
    if name in reserved:
        raise InvalidValue(
            field,
            name,
            f"a name other than advokit's built-in plugins' ({', '.join(sorted(reserved))})",
        )
    snake = name.replace("-", "_")
    return ProjectNames(
        name=name,
        snake=snake,
        title=" ".join(part.capitalize() for part in name.split("-")),
        distribution=f"advokit-{name}",
        module=f"advokit_{snake}",
    )
