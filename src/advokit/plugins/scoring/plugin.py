"""The scoring plugin: advokit's metrics, segments and per-advocate scores."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from advokit import hookimpl
from advokit.core import validation as v
from advokit.core.registry import Register
from advokit.plugins.scoring.segments import Segment
from advokit.plugins.scoring.settings import ADVOCACY_KINDS, ScoringSettings

__all__ = ["MIGRATIONS", "Scoring"]

MIGRATIONS = Path(__file__).parent.parent / "migrations" / "scoring"


#: the modules whose ``SCORERS``, ``CONDITIONS`` and ``QUERIES`` the plugin registers
_MODULES = ("survey", "advocacy", "velocity", "economics", "potential", "network", "sentiment")


def _modules() -> list[Any]:
    return [importlib.import_module(f"advokit.plugins.scoring.{name}") for name in _MODULES]


class Scoring:
    """Metrics for ``program.score(name, ...)`` and ``advokit score NAME``.

    A built-in: every program has it with the defaults below. Pass a configured
    one to change them (it replaces the built-in by name)::

        Program(name="shop", plugins=[Scoring(segments=[Segment("vip", tagged("vip"))])])

    Args:
        segments: named groups of advocates, for ``segment=`` in every metric.
        advocacy_kinds: the action kinds that count as advocacy.
        settings: further settings of the scorers (see
            :class:`~advokit.plugins.scoring.settings.ScoringSettings`).
    """

    plugin_name = "scoring"

    def __init__(
        self,
        *,
        segments: Sequence[Segment] = (),
        advocacy_kinds: Iterable[str] = ADVOCACY_KINDS,
        **settings: Any,
    ) -> None:
        self.segments = v.by_name("Scoring.segments", list(segments), Segment)
        self.settings = ScoringSettings(advocacy_kinds=frozenset(advocacy_kinds), **settings)

    @hookimpl
    def advokit_register_scorers(self, register: Register) -> None:
        for module in _modules():
            for cls in getattr(module, "SCORERS", ()):
                register(cls(self.settings), name=cls.name)

    @hookimpl
    def advokit_register_queries(self, register: Register) -> None:
        # program.<name>(...): per-advocate scores, holdout assignment, training
        for module in _modules():
            for query in getattr(module, "QUERIES", ()):
                register(functools.partial(query, settings=self.settings), name=query.__name__)

    @hookimpl
    def advokit_register_migrations(self, register: Register) -> None:
        register(MIGRATIONS, name="scoring")

    @hookimpl
    def advokit_register_segments(self, register: Register) -> None:
        for segment in self.segments.values():
            register(segment)

    @hookimpl
    def advokit_register_commands(self, register: Register) -> None:
        from advokit.plugins.scoring.commands import score_command  # click: the CLI's alone

        register(score_command)
