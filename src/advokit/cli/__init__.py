"""The ``advokit`` command line.

::

    advokit plugins [--all] [--hook NAME]
    advokit --program myapp.advocacy:program db upgrade
    advokit --program myapp.advocacy:program record review.posted --advocate c1 --key r-1
    advokit --program myapp.advocacy:program worker [--once]
    advokit demo

``--program module:attribute`` (or ``ADVOKIT_PROGRAM``) names the program, as
uvicorn and flask name apps: the attribute is a :class:`~advokit.Program` or a
function without arguments returning one, and the current directory is on the
import path. Plugins of that program add subcommands through
``advokit_register_commands``; a plugin command reads the program with
:func:`current_program`.

This module imports only click: everything else is imported inside the
commands, so that ``advokit --help`` starts fast. Errors advokit raises on
purpose are printed as one ``Error: ...`` line on stderr, with exit status 1.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from advokit.core.model import Outcome
    from advokit.core.program import Program

_Plugin = TypeVar("_Plugin")

__all__ = [
    "CLIError",
    "cli",
    "current_program",
    "instant_option",
    "load_program",
    "main",
    "outcome_json",
    "plugin_of",
    "print_table",
    "when_option",
]

PROGRAM_ENV = "ADVOKIT_PROGRAM"
_EXPECTED = (
    "expected 'module:attribute' naming an advokit.Program or a function without "
    "arguments returning one, such as 'myapp.advocacy:program'"
)


class CLIError(click.ClickException):
    """An error shown as one ``Error: ...`` line on stderr, with exit status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()) or "failed")


def _is_advokit_error(error: BaseException) -> bool:
    # advokit.core.errors is loaded whenever something could have raised one.
    errors = sys.modules.get("advokit.core.errors")
    return errors is not None and isinstance(error, errors.AdvokitError)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Turn the errors advokit raises on purpose into a CLIError."""
    try:
        yield
    except click.ClickException:
        raise
    except Exception as error:
        if _is_advokit_error(error):
            raise CLIError(str(error)) from error
        raise


# --------------------------------------------------------------------------- programs


def load_program(path: str) -> Program:
    """The program that ``module:attribute`` names, imported from the current directory."""
    return _load_program(path)[0]


def _load_program(path: str) -> tuple[Program, bool]:
    """The program, and whether it was made for this call (by a factory)."""
    from advokit.core.program import Program

    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise CLIError(f"--program {path!r} is not valid: {_EXPECTED}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if module_name != missing and not module_name.startswith(missing + "."):
            raise  # the module exists; something it imports does not
        raise CLIError(
            f"--program {path!r}: there is no module {module_name!r} in the current "
            f"directory or on the import path; {_EXPECTED}"
        ) from None
    obj: Any = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise CLIError(
                f"--program {path!r}: module {module_name!r} has no attribute {attribute!r}; "
                f"{_EXPECTED}"
            )
        obj = getattr(obj, part)
    if isinstance(obj, Program):
        return obj, False
    if not callable(obj):
        raise CLIError(f"--program {path!r} is a {type(obj).__name__}; {_EXPECTED}")
    try:
        inspect.signature(obj).bind()
    except TypeError:
        raise CLIError(f"--program {path!r} needs arguments; {_EXPECTED}") from None
    except ValueError:
        pass  # no signature to inspect (a builtin): just call it
    program = obj()
    if not isinstance(program, Program):
        raise CLIError(f"--program {path!r} returned a {type(program).__name__}; {_EXPECTED}")
    return program, True


@contextmanager
def _plugin_warnings() -> Iterator[None]:
    """Show a skipped plugin as one ``Warning: ...`` line; pass other warnings on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    from advokit.core.plugins import PluginLoadWarning

    for item in caught:
        if issubclass(item.category, PluginLoadWarning):
            click.echo("Warning: " + " ".join(str(item.message).split()), err=True)
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)


class _State:
    """What the subcommands share: the ``--program`` path and the program, once loaded."""

    def __init__(self) -> None:
        self.path: str | None = None
        self._program: Program | None = None
        self._owned = False

    def program(self, *, required: bool = True) -> Program | None:
        if self._program is None and self.path:
            with _one_line_errors(), _plugin_warnings():
                # Close only a program made for this command (by a factory), not a module's.
                self._program, self._owned = _load_program(self.path)
        if self._program is None and required:
            raise CLIError(
                "this command needs a program: pass --program module:attribute (an "
                f"advokit.Program or a function returning one) or set {PROGRAM_ENV}"
            )
        return self._program

    def close(self) -> None:
        if self._program is not None and self._owned:
            self._program.close()


def _state(ctx: click.Context) -> _State:
    root = ctx.find_root()
    state = root.meta.get("advokit.state")
    if state is None:
        state = root.meta["advokit.state"] = _State()
        root.call_on_close(state.close)
    if state.path is None:
        state.path = root.params.get("program") or os.environ.get(PROGRAM_ENV) or None
    return state  # type: ignore[no-any-return]


def current_program(ctx: click.Context | None = None) -> Program:
    """The program the command line runs with: for commands that plugins register."""
    program = _state(ctx or click.get_current_context()).program()
    assert program is not None
    return program


def plugin_of(program: Program, kind: type[_Plugin]) -> _Plugin:
    """The program's plugin of class ``kind``: for the commands that plugin registered."""
    for plugin in program.pm.get_plugins():
        if isinstance(plugin, kind):
            return plugin
    name = getattr(kind, "plugin_name", kind.__name__)
    raise CLIError(f"program {program.name!r} has no {name} plugin")


# --------------------------------------------------------------------------- output


def print_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Print ``rows`` under ``header`` in columns; the last one, free text, is not padded."""
    lines = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    for line in lines:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        click.echo("  ".join([*cells, line[-1]]).rstrip())


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """An action's outcome as the commands print it in JSON."""
    return {
        "key": outcome.key,
        "kind": outcome.kind,
        "advocate": outcome.advocate,
        "status": outcome.status.value,
        "effects": len(outcome.effects),
        "points": outcome.points,
        "reasons": list(outcome.reasons),
        "replayed": outcome.replayed,
    }


# --------------------------------------------------------------------------- the group


class AdvokitGroup(click.Group):
    """The ``advokit`` group: built-in commands plus those the program's plugins register."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        state = _state(ctx)
        if not state.path:
            return {}
        program = state.program()
        assert program is not None
        registry = program.registries.commands
        with _one_line_errors():
            if not len(registry):
                program.hooks.register_commands(registry)
        commands = dict(registry.items())
        for name, command in commands.items():
            if not isinstance(command, click.Command):
                raise CLIError(
                    f"plugin {registry.plugin_of(name)!r} registered command {name!r} as a "
                    f"{type(command).__name__}: expected a click.Command"
                )
            if name in self.commands:
                raise CLIError(
                    f"plugin {registry.plugin_of(name)!r} registered command {name!r}, "
                    "which is a built-in advokit command: rename it"
                )
        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*self.commands, *self._plugin_commands(ctx)])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        # With a program, its plugins register their commands before any command
        # runs (as the hookspec promises), so that a clash is reported every time.
        plugin_commands = self._plugin_commands(ctx)
        return self.commands.get(cmd_name) or plugin_commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        with _one_line_errors():
            return super().invoke(ctx)


@click.group(cls=AdvokitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--program",
    "program",
    envvar=PROGRAM_ENV,
    metavar="MODULE:ATTRIBUTE",
    is_eager=True,  # known before --help lists the program's plugin commands
    help=f"The program: an advokit.Program or a function returning one [env: {PROGRAM_ENV}].",
)
@click.version_option(package_name="advokit", prog_name="advokit")
def cli(program: str | None) -> None:
    """advokit: run and inspect customer-advocacy programs."""


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


# --------------------------------------------------------------------------- plugins


@cli.command("plugins")
@click.option("--all", "show_all", is_flag=True, help="Include advokit's built-in plugins.")
@click.option("--hook", metavar="NAME", help="Only plugins implementing this hook.")
@click.pass_context
def plugins_command(ctx: click.Context, show_all: bool, hook: str | None) -> None:
    """List the program's plugins as JSON: name, version and hooks.

    Without a program, lists the plugins a program would load: advokit's
    built-ins and the installed plugins (entry-point group ``advokit``).
    """
    from advokit import hookspecs

    hooks = sorted(name for name in vars(hookspecs) if name.startswith("advokit_"))
    if hook is not None and hook not in hooks:
        raise CLIError(f"--hook={hook!r} is not valid: expected one of {', '.join(hooks)}")
    state = _state(ctx)
    program = state.program(required=False)
    if program is None:
        from advokit.core.program import Program

        with _one_line_errors(), _plugin_warnings():
            program = Program(name="plugins", database_url="sqlite://")
        ctx.call_on_close(program.close)
    shown = [
        info.to_json()
        for info in program.plugin_info()
        # plugin_info() also names the plugins ADVOKIT_DISABLE_PLUGINS blocked: hide those.
        if not program.pm.is_blocked(info.name)
        and (show_all or not info.builtin)
        and (hook is None or hook in info.hooks)
    ]
    _print_json(shown)


# --------------------------------------------------------------------------- db


@cli.group("db")
def db_group() -> None:
    """Manage the program's database schema."""


@db_group.command("upgrade")
@click.pass_context
def db_upgrade_command(ctx: click.Context) -> None:
    """Bring the database schema (advokit's and plugins') to the latest version."""
    from advokit.core.store import migrate
    from advokit.core.store.database import parse_url

    program = current_program(ctx)
    url = parse_url(program.database_url).render_as_string(hide_password=True)
    with _one_line_errors():
        before = _heads(program, migrate)
        program.migrate()
        after = _heads(program, migrate)
    shown = ", ".join(sorted(after)) or "(empty)"
    if before == after:
        click.echo(f"Database {url} of program {program.name!r} is up to date at {shown}.")
    else:
        was = ", ".join(sorted(before)) or "an empty schema"
        click.echo(f"Upgraded database {url} of program {program.name!r} from {was} to {shown}.")


def _heads(program: Program, migrate: Any) -> set[str]:
    """The schema revisions the program's database is at."""
    from sqlalchemy.exc import OperationalError

    engine = program._db  # Program.engine refuses an unmigrated database: read it raw
    try:
        return set(migrate.current_heads(engine))
    except OperationalError as error:
        from advokit.core.errors import DatabaseNotReady

        raise DatabaseNotReady(
            f"cannot use the database of program {program.name!r}: {error.orig}"
        ) from None


# --------------------------------------------------------------------------- record


def instant_option(option: str, value: str | None) -> datetime | None:
    """An ISO 8601 option value with a UTC offset, as an aware datetime."""
    if value is None:
        return None
    try:
        when: datetime | None = datetime.fromisoformat(value)
    except ValueError:
        when = None
    if when is None or when.utcoffset() is None:
        raise CLIError(
            f"{option}={value!r} is not valid: expected an ISO 8601 time "
            "with a UTC offset, such as 2026-06-01T12:00:00+00:00"
        )
    return when


def when_option(option: str, value: str | None) -> datetime | None:
    """A date (midnight UTC, as ``2026-06-01``) or an ISO 8601 time with a UTC offset."""
    if value is not None and len(value) == 10:
        from datetime import UTC, date

        try:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        except ValueError:
            pass
    return instant_option(option, value)


@cli.command("record")
@click.argument("kind")
@click.option("--advocate", required=True, metavar="ID", help="The advocate's external id.")
@click.option("--key", required=True, help="The idempotency key of the action.")
@click.option(
    "--data", "data_json", metavar="JSON", default="{}", help="The data, as a JSON object."
)
@click.option("--occurred-at", metavar="ISO", help="When it happened (ISO 8601 with an offset).")
@click.pass_context
def record_command(
    ctx: click.Context,
    kind: str,
    advocate: str,
    key: str,
    data_json: str,
    occurred_at: str | None,
) -> None:
    """Record one action of KIND and print its outcome as JSON.

    Recording the same key again prints the first outcome with "replayed": true.
    """
    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as error:
        raise CLIError(f"--data is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise CLIError(f"--data={data_json!r} is not valid: expected a JSON object")
    when = instant_option("--occurred-at", occurred_at)
    program = current_program(ctx)
    from advokit import Action

    with _one_line_errors():
        action = Action(kind=kind, advocate=advocate, key=key, data=data, occurred_at=when)
        outcome = program.record(action)
    _print_json(outcome_json(outcome))


@cli.command("tick")
@click.option("--now", metavar="ISO", help="The instant to run at (default: the program's clock).")
@click.pass_context
def tick_command(ctx: click.Context, now: str | None) -> None:
    """Run everything time-driven that is due and print what it did as JSON.

    Points expire, then plugins' scheduled actions (tier reviews, birthdays,
    expiry notices...) are recorded. Safe to run as often as you like, from
    cron for instance: what was done is not done again.
    """
    when = instant_option("--now", now)
    program = current_program(ctx)
    with _one_line_errors():
        report = program.tick(when)
    _print_json(
        {
            "now": report.now.isoformat(),
            "expired_points": report.expired_points,
            "applied": report.applied,
            "replayed": report.replayed,
        }
    )


@cli.command("worker")
@click.option("--once", is_flag=True, help="Run rounds until nothing is due, print totals, exit.")
@click.option(
    "--idle",
    type=click.FloatRange(0.05, 3600),
    default=5.0,
    show_default=True,
    help="Seconds to sleep after a round that found nothing to do.",
)
@click.pass_context
def worker_command(ctx: click.Context, once: bool, idle: float) -> None:
    """Run the program's background jobs: fulfil rewards (and what plugins add).

    Each round runs every job plugins registered (``advokit_register_workers``;
    the rewards plugin's ``fulfilment`` drains due rewards after commit).
    Several workers may run at once on PostgreSQL: they share the work.
    Without --once it runs until stopped (Ctrl-C or SIGTERM), printing one JSON
    line per round that did something, and an error of a round as one
    ``Error:`` line on stderr before going on; with --once it prints the totals,
    and an error ends it with exit status 1.
    """
    import signal

    program = current_program(ctx)
    jobs = program.registries.workers.items()
    if not jobs:
        raise CLIError("the program has no background jobs (no plugin registers workers)")
    stopping: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        stopping.append(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    totals = dict.fromkeys(jobs, 0)

    def rest() -> None:  # in slices, so that SIGTERM stops a long --idle at once
        until = time.monotonic() + idle
        while not stopping and time.monotonic() < until:
            time.sleep(min(0.1, until - time.monotonic()))

    try:
        while not stopping:
            done = dict.fromkeys(jobs, 0)
            for name, job in jobs.items():
                try:
                    with _one_line_errors():
                        done[name] = int(job(program))
                except CLIError as error:
                    if once:
                        raise
                    # a long-running worker outlives a bad round: said, then on to the next
                    click.echo(f"Error: {name}: {error.message}", err=True)
            for name, count in done.items():
                totals[name] += count
            if not any(done.values()):
                if once:
                    break
                rest()
            elif not once:
                click.echo(json.dumps({"at": program.clock().isoformat(), **done}))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    if once:
        _print_json(totals)


# --------------------------------------------------------------------------- demo


@cli.command("demo")
@click.option(
    "--database-url",
    metavar="URL",
    help="Where to record (default: advokit-demo.db in the current directory, recreated).",
)
@click.option("--advocates", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--actions", type=click.IntRange(0, 200_000), default=2000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same actions.")
def demo_command(database_url: str | None, advocates: int, actions: int, seed: int) -> None:
    """Run the bakery example: a points program with purchases, reviews and shares.

    Enrolls customers, records four weeks of actions and prints what happened
    with a top-10 leaderboard. On another --database-url nothing is deleted:
    running the demo again with the same seed replays instead of applying.
    """
    from advokit.examples import bakery

    if database_url is None:
        database_url = bakery.DEMO_DATABASE_URL
        for suffix in ("", "-wal", "-shm"):
            Path(f"advokit-demo.db{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    with _one_line_errors(), _plugin_warnings():
        program = bakery.build_program(database_url)
    with program, _one_line_errors():
        program.migrate()
        summary = bakery.run_demo(program, advocates=advocates, actions=actions, seed=seed)
    from advokit.core.store.database import parse_url

    url = parse_url(database_url).render_as_string(hide_password=True)
    click.echo(f"advokit demo: a bakery's points program, recorded in {url}")
    click.echo(bakery.format_summary(summary))
    click.echo(f"\nDone in {time.perf_counter() - started:.1f} s.")
    if database_url == bakery.DEMO_DATABASE_URL:
        click.echo("Record more in the same database:")
        click.echo("  advokit --program advokit.examples.bakery:build_program \\")
        click.echo(
            "    record review.posted --advocate c001 --key my-review-1 --data '{\"rating\": 5}'"
        )


# --------------------------------------------------------------------------- operator commands

# Their modules import only click at the top, so that ``advokit --help`` stays fast.
from advokit.cli.advocates import advocate_group  # noqa: E402
from advokit.cli.importing import import_group  # noqa: E402
from advokit.cli.new import new_group  # noqa: E402
from advokit.cli.report import report_command  # noqa: E402
from advokit.cli.simulate import simulate_command  # noqa: E402

for _command in (advocate_group, import_group, new_group, report_command, simulate_command):
    cli.add_command(_command)


# --------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the ``advokit`` script's entry point).

    Click handles usage errors (exit 2) and shows a ClickException as one
    ``Error:`` line (exit 1); an advokit error that escaped a command is shown
    the same way, never as a traceback.
    """
    try:
        cli.main(args=argv, prog_name="advokit", standalone_mode=True)
    except SystemExit as done:
        code = done.code
        if code is None or isinstance(code, int):
            return code or 0
        click.echo(code, err=True)
        return 1
    except Exception as error:
        if not _is_advokit_error(error):
            raise
        CLIError(str(error)).show()
        return 1
    return 0
