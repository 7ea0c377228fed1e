"""Test helpers for plugin authors, also registered as a pytest plugin.

Installing advokit makes these fixtures available in every pytest run:

``advokit_clock``
    a :class:`~advokit.ManualClock` at 2026-06-01 12:00 UTC.
``make_program``
    ``make_program(plugins=[...], **program_options)`` builds a migrated
    :class:`~advokit.Program` on a fresh SQLite file in ``tmp_path``, using
    ``advokit_clock`` and no installed third-party plugins; each is closed
    after the test.
``advokit_program``
    ``make_program()`` with the built-in plugins only.

And plain helpers: :func:`register_plugin` (a context manager that adds a
plugin to a program for the duration of a block) and :class:`HookRecorder`
(records every hook call with its arguments).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from advokit.core.clock import ManualClock
from advokit.core.plugins import check_hookimpl_signatures, plugin_name
from advokit.core.program import Program

__all__ = ["HookCall", "HookRecorder", "register_plugin"]

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@contextmanager
def register_plugin(program: Program, plugin: object, name: str | None = None) -> Iterator[str]:
    """Register ``plugin`` on ``program`` inside the block, then remove it.

    Per-action hooks (screen, evaluate, apply_effect, after_commit...) take
    effect at once. Registration hooks (``advokit_register_*``) ran when the
    program was built: pass plugins that contribute action kinds to
    ``make_program(plugins=[...])`` instead.
    """
    name = name or plugin_name(plugin)
    check_hookimpl_signatures(plugin, name)
    program.pm.register(plugin, name=name)
    try:
        program.hooks.check_routes(program.registries.action_kinds)
        yield name
    finally:
        program.pm.unregister(name=name)


@attrs.frozen
class HookCall:
    """One recorded hook call."""

    name: str
    kwargs: dict[str, Any]


class HookRecorder:
    """Records the hook calls of a program, in order.

    >>> recorder = HookRecorder(program)      # doctest: +SKIP
    >>> program.record(action)                # doctest: +SKIP
    >>> recorder.names()                      # doctest: +SKIP
    ['advokit_screen', 'advokit_evaluate', 'advokit_after_commit']
    """

    def __init__(self, program: Program) -> None:
        self.calls: list[HookCall] = []

        def before(hook_name: str, impls: Any, kwargs: dict[str, Any]) -> None:
            self.calls.append(HookCall(hook_name, dict(kwargs)))

        def after(outcome: Any, hook_name: str, impls: Any, kwargs: Any) -> None:
            pass

        self._undo = program.pm.add_hookcall_monitoring(before, after)

    def names(self) -> list[str]:
        return [call.name for call in self.calls]

    def of(self, name: str) -> list[HookCall]:
        """The calls of one hook."""
        return [call for call in self.calls if call.name == name]

    def close(self) -> None:
        """Stop recording."""
        self._undo()


@pytest.fixture
def advokit_clock() -> ManualClock:
    """A clock that moves only when the test says so."""
    return ManualClock(START)


@pytest.fixture
def make_program(tmp_path: Path, advokit_clock: ManualClock) -> Iterator[Callable[..., Program]]:
    """A factory of migrated programs on fresh SQLite files."""
    programs: list[Program] = []

    def make(**options: Any) -> Program:
        options.setdefault("name", "test")
        options.setdefault("database_url", f"sqlite:///{tmp_path / f'advokit-{len(programs)}.db'}")
        options.setdefault("clock", advokit_clock)
        options.setdefault("load_entrypoints", False)
        program = Program(**options)
        programs.append(program)
        program.migrate()
        return program

    yield make
    for program in programs:
        program.close()


@pytest.fixture
def advokit_program(make_program: Callable[..., Program]) -> Program:
    """A migrated program with the built-in plugins only."""
    return make_program()
