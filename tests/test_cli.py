"""The ``advokit`` command line: plugins, db upgrade, record, demo and plugin commands."""

from __future__ import annotations

import importlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from advokit import Advocate, Program
from advokit.cli import cli, main
from advokit.core.store import migrate
from advokit.core.store.database import connect
from advokit.plugins.scoring import MIGRATIONS as SCORING

#: Modules ``advokit --help`` must not import: they take most of a second.
HEAVY = ("sqlalchemy", "alembic", "sqlmodel", "advokit.core.program", "advokit.core.engine")

PROGRAM_MODULE = '''
import click
from advokit import Program, hookimpl
from advokit.cli import current_program
from advokit.plugins.points import Points, PointsRule

URL = {url!r}


class ShopCommands:
    plugin_name = "shop-commands"

    @hookimpl
    def advokit_register_commands(self, register):
        @click.command({command!r})
        @click.argument("advocate")
        def greet(advocate):
            """Greet an advocate with their balance."""
            points = current_program().balance(advocate)
            click.echo(f"hello {{advocate}}, you have {{points}} points")

        register(greet)


def build():
    return Program(
        name="shop",
        database_url=URL,
        plugins=[Points(PointsRule("share.posted", points=10)), ShopCommands()],
        load_entrypoints=False,
    )


program = build()
not_a_program = URL


def needs_arguments(name):
    return build()


def returns_nothing():
    return None
'''


def _isolated_env() -> dict[str, str | None]:
    """No installed third-party plugins, no program from the environment."""
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("ADVOKIT_")}
    env["ADVOKIT_LOAD_PLUGINS"] = ""
    return env


@pytest.fixture
def invoke(workdir: Path) -> Callable[..., Result]:
    runner = CliRunner(env=_isolated_env())

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


@pytest.fixture
def make_module(workdir: Path) -> Iterator[Callable[..., str]]:
    """Write a program module into the current directory; returns its module name."""
    names: list[str] = []

    def make(command: str = "greet") -> str:
        name = f"shop_{secrets.token_hex(4)}"
        url = f"sqlite:///{workdir / (name + '.db')}"
        source = PROGRAM_MODULE.format(url=url, command=command)
        (workdir / f"{name}.py").write_text(textwrap.dedent(source))
        names.append(name)
        return name

    yield make
    for name in names:
        sys.modules.pop(name, None)


@pytest.fixture
def shop(make_module: Callable[..., str], invoke: Callable[..., Result]) -> str:
    """A migrated shop program with one enrolled advocate, ``ada``; returns ``module:build``."""
    module = make_module()
    assert invoke("--program", f"{module}:build", "db", "upgrade").exit_code == 0
    with sys.modules[module].build() as program:
        program.enroll(Advocate(external_id="ada", name="Ada"))
    return f"{module}:build"


def _single_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


# --------------------------------------------------------------------------- plugins


def test_plugins_hides_builtins_unless_all(invoke: Callable[..., Result]) -> None:
    shown = invoke("plugins")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == []

    everything = invoke("plugins", "--all")
    assert everything.exit_code == 0, everything.output
    plugins = json.loads(everything.stdout)
    assert [p["name"] for p in plugins] == ["kinds", "points", "scoring"]
    assert all(set(p) == {"name", "version", "hooks"} for p in plugins)
    assert all(p["version"] for p in plugins)
    assert plugins[0]["hooks"] == ["advokit_register_action_kinds"]
    assert everything.stdout.startswith("[\n  {\n    ")  # indent 2


@pytest.mark.parametrize(
    ("hook", "names"),
    [
        ("advokit_evaluate", ["points"]),
        ("advokit_register_action_kinds", ["kinds", "points"]),
        ("advokit_screen", []),
    ],
)
def test_plugins_hook_filter(invoke: Callable[..., Result], hook: str, names: list[str]) -> None:
    result = invoke("plugins", "--all", "--hook", hook)
    assert result.exit_code == 0, result.output
    assert [p["name"] for p in json.loads(result.stdout)] == names


def test_plugins_hides_disabled_plugins(invoke: Callable[..., Result]) -> None:
    result = invoke("plugins", "--all", env={"ADVOKIT_DISABLE_PLUGINS": "points"})
    assert result.exit_code == 0, result.output
    assert [p["name"] for p in json.loads(result.stdout)] == ["kinds", "scoring"]


def test_plugins_of_a_program(
    invoke: Callable[..., Result], make_module: Callable[..., str]
) -> None:
    module = make_module()
    result = invoke(
        "--program", f"{module}:build", "plugins", "--hook", "advokit_register_commands"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"name": "shop-commands", "version": None, "hooks": ["advokit_register_commands"]}
    ]


def test_plugins_without_a_program_writes_no_database(
    invoke: Callable[..., Result], workdir: Path
) -> None:
    assert invoke("plugins", "--all").exit_code == 0
    assert list(workdir.iterdir()) == []


def test_plugins_rejects_an_unknown_hook(invoke: Callable[..., Result]) -> None:
    line = _single_error_line(invoke("plugins", "--hook", "advokit_nope"))
    assert "--hook='advokit_nope'" in line
    assert "advokit_evaluate" in line


# --------------------------------------------------------------------------- db upgrade


def test_db_upgrade_migrates_the_program_database(
    invoke: Callable[..., Result], make_module: Callable[..., str], workdir: Path
) -> None:
    module = make_module()
    database = workdir / f"{module}.db"
    first = invoke("--program", f"{module}:build", "db", "upgrade")
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("Upgraded database sqlite:///")
    assert "from an empty schema to 0003_advocate_email_index" in first.stdout

    engine = connect(f"sqlite:///{database}")
    try:
        # the built-in scoring plugin's tables come with the core's
        assert migrate.is_up_to_date(engine, [SCORING])
    finally:
        engine.dispose()

    again = invoke("--program", f"{module}:program", "db", "upgrade")
    assert again.exit_code == 0, again.output
    assert "is up to date at 0003_advocate_email_index" in again.stdout


# --------------------------------------------------------------------------- record


def test_record_prints_the_outcome_and_replays(invoke: Callable[..., Result], shop: str) -> None:
    args = ("--program", shop, "record", "share.posted", "--advocate", "ada", "--key", "s-1")
    first = invoke(*args, "--data", '{"channel": "instagram"}')
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {
        "key": "s-1",
        "kind": "share.posted",
        "advocate": "ada",
        "status": "applied",
        "effects": 1,
        "points": 10,
        "reasons": [],
        "replayed": False,
    }
    again = invoke(*args, "--data", '{"channel": "instagram"}')
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == {**json.loads(first.stdout), "replayed": True}

    balance = invoke("--program", shop, "greet", "ada")
    assert balance.stdout == "hello ada, you have 10 points\n"


def test_record_uses_occurred_at(invoke: Callable[..., Result], shop: str) -> None:
    result = invoke(
        "--program", shop, "record", "share.posted", "--advocate", "ada", "--key", "s-2",
        "--occurred-at", "2026-01-02T03:04:05+01:00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    module = sys.modules[shop.partition(":")[0]]
    with module.build() as program:
        [entry] = program.history("ada")
    assert entry.effective_at == datetime(2026, 1, 2, 2, 4, 5, tzinfo=UTC)


RECORD = ("record", "share.posted", "--advocate", "ada", "--key", "k-1")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ("record", "nope.kind", "--advocate", "ada", "--key", "k-1"),
            "action.kind='nope.kind' is not valid",
            id="unknown-kind",
        ),
        pytest.param(
            ("record", "share.posted", "--advocate", "ghost", "--key", "k-1"),
            "advocate='ghost' is not valid: expected the external id of an advocate enrolled",
            id="unknown-advocate",
        ),
        pytest.param(
            ("record", "share.posted", "--advocate", "ada", "--key", "two words"),
            "key='two words' is not valid",
            id="malformed-key",
        ),
        pytest.param((*RECORD, "--data", '{"channel": '), "--data is not valid JSON", id="json"),
        pytest.param((*RECORD, "--data", "[1, 2]"), "expected a JSON object", id="json-list"),
        pytest.param(
            (*RECORD, "--data", '{"channel": 7}'), "action.data['channel']=7", id="data-type"
        ),
        pytest.param(
            (*RECORD, "--occurred-at", "yesterday"), "--occurred-at='yesterday'", id="time"
        ),
        pytest.param(
            (*RECORD, "--occurred-at", "2026-01-02T03:04:05"), "with a UTC offset", id="naive"
        ),
    ],
)
def test_bad_record_input_is_one_line(
    invoke: Callable[..., Result], shop: str, args: tuple[str, ...], expected: str
) -> None:
    line = _single_error_line(invoke("--program", shop, *args))
    assert expected in line


def test_record_on_an_unmigrated_database(
    invoke: Callable[..., Result], make_module: Callable[..., str]
) -> None:
    module = make_module()
    line = _single_error_line(invoke("--program", f"{module}:build", *RECORD))
    assert "not migrated" in line
    assert "advokit db upgrade" in line


def test_record_needs_a_program(invoke: Callable[..., Result]) -> None:
    line = _single_error_line(invoke(*RECORD))
    assert "needs a program" in line
    assert "ADVOKIT_PROGRAM" in line


# --------------------------------------------------------------------------- --program


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        pytest.param("no_such_module_xyz:program", "there is no module 'no_such_module_xyz'"),
        pytest.param("{module}:nothing", "has no attribute 'nothing'"),
        pytest.param("{module}", "is not valid: expected 'module:attribute'"),
        pytest.param("{module}:", "is not valid: expected 'module:attribute'"),
        pytest.param("{module}:not_a_program", "is a str"),
        pytest.param("{module}:needs_arguments", "needs arguments"),
        pytest.param("{module}:returns_nothing", "returned a NoneType"),
    ],
)
def test_bad_program_path_is_one_line(
    invoke: Callable[..., Result], make_module: Callable[..., str], attribute: str, expected: str
) -> None:
    path = attribute.format(module=make_module())
    line = _single_error_line(invoke("--program", path, "plugins"))
    assert f"--program {path!r}" in line
    assert expected in line


def test_program_from_the_environment(
    invoke: Callable[..., Result], make_module: Callable[..., str]
) -> None:
    module = make_module()
    result = invoke("plugins", env={"ADVOKIT_PROGRAM": f"{module}:program"})
    assert result.exit_code == 0, result.output
    assert [p["name"] for p in json.loads(result.stdout)] == ["shop-commands"]


# --------------------------------------------------------------------------- plugin commands


def test_plugin_command_is_listed_and_runs(invoke: Callable[..., Result], shop: str) -> None:
    listed = invoke("--program", shop, "--help")
    assert listed.exit_code == 0, listed.output
    assert "greet" in listed.stdout
    assert "Greet an advocate with their balance." in listed.stdout
    assert "greet" not in invoke("--help").stdout

    result = invoke("--program", shop, "greet", "ada")
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello ada, you have 0 points\n"

    module = shop.partition(":")[0]
    from_env = invoke("greet", "ada", env={"ADVOKIT_PROGRAM": f"{module}:program"})
    assert from_env.stdout == "hello ada, you have 0 points\n"


def test_plugin_command_errors_are_one_line(invoke: Callable[..., Result], shop: str) -> None:
    line = _single_error_line(invoke("--program", shop, "greet", "ghost"))
    assert "advocate='ghost' is not valid" in line


def test_main_returns_the_exit_status(
    shop: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _isolated_env().items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    capsys.readouterr()
    assert main(["--program", shop, "greet", "ada"]) == 0
    assert capsys.readouterr().out == "hello ada, you have 0 points\n"
    assert main(["--program", shop, "greet", "ghost"]) == 1
    assert capsys.readouterr().err.startswith("Error: advocate='ghost' is not valid")
    assert main(["no-such-command"]) == 2
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("advokit, version ")


def test_unknown_command_without_program(invoke: Callable[..., Result]) -> None:
    result = invoke("greet", "ada")
    assert result.exit_code == 2
    assert "No such command 'greet'" in result.stderr


def test_plugin_command_may_not_shadow_a_builtin(
    invoke: Callable[..., Result], make_module: Callable[..., str]
) -> None:
    module = make_module(command="demo")
    line = _single_error_line(invoke("--program", f"{module}:build", "demo"))
    assert "plugin 'shop-commands' registered command 'demo'" in line


# --------------------------------------------------------------------------- demo


def _leaderboard(output: str) -> list[list[str]]:
    lines = output.splitlines()
    start = lines.index("Top 10 by points balance") + 2
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_demo_prints_a_leaderboard(invoke: Callable[..., Result], workdir: Path) -> None:
    first = invoke("demo", "--advocates", "15", "--actions", "300")
    assert first.exit_code == 0, first.output
    assert "Recorded 300 actions for 15 advocates of program 'bakery'" in first.stdout
    assert "replayed 0" in first.stdout
    rows = _leaderboard(first.stdout)
    assert len(rows) == 10
    points = [int(row[-1].replace(",", "")) for row in rows]
    assert points == sorted(points, reverse=True)
    assert points[0] > 0
    assert (workdir / "advokit-demo.db").exists()

    with Program(name="bakery", database_url="sqlite:///advokit-demo.db") as program:
        assert program.verify_ledger() == []
        assert program.balance(rows[0][1]) == points[0]

    # The default database is recreated: a second run applies everything again.
    second = invoke("demo", "--advocates", "15", "--actions", "300")
    assert "replayed 0" in second.stdout
    assert _leaderboard(second.stdout) == rows


def test_demo_on_a_given_database_replays(invoke: Callable[..., Result], workdir: Path) -> None:
    url = f"sqlite:///{workdir / 'mine.db'}"
    assert invoke("demo", "--database-url", url, "--actions", "100").exit_code == 0
    again = invoke("demo", "--database-url", url, "--actions", "100")
    assert again.exit_code == 0, again.output
    assert "replayed 100 (recorded before)" in again.stdout
    more = invoke("demo", "--database-url", url, "--actions", "150")
    assert more.exit_code == 0, more.output
    assert "replayed 0" in more.stdout
    assert not (workdir / "advokit-demo.db").exists()


# --------------------------------------------------------------------------- the real script


def _script() -> str:
    found = shutil.which("advokit", path=str(Path(sys.executable).parent))
    assert found, f"the advokit script is not installed next to {sys.executable}"
    return found


def _run_script(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVOKIT_")}
    env["ADVOKIT_LOAD_PLUGINS"] = ""
    return subprocess.run(
        [_script(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_script_runs_the_demo(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = _run_script("demo", cwd=tmp_path)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Recorded 2,000 actions for 50 advocates" in result.stdout
    assert len(_leaderboard(result.stdout)) == 10
    assert (tmp_path / "advokit-demo.db").exists()
    assert elapsed < 30, f"advokit demo took {elapsed:.1f} s"


def test_script_errors_are_one_line(tmp_path: Path) -> None:
    result = _run_script("--program", "no_such_module_xyz:program", "plugins", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: --program 'no_such_module_xyz:program'")


# --------------------------------------------------------------------------- import cost

_HEAVY_CHECK = """
import sys
heavy = sorted(m for m in sys.modules if m in {heavy!r} or m.split(".")[0] in {heavy!r})
print(",".join(heavy))
"""

# advokit/__init__.py is left unexecuted, as a lazy package __init__ would leave it.
_WITHOUT_PACKAGE_INIT = """
import importlib.util, sys, types
spec = importlib.util.find_spec("advokit")
package = types.ModuleType("advokit")
package.__path__ = list(spec.submodule_search_locations)
sys.modules["advokit"] = package
import advokit.cli
try:
    advokit.cli.main(["--help"])
except SystemExit:
    pass
"""


def _heavy_modules(code: str) -> list[str]:
    script = code + _HEAVY_CHECK.format(heavy=HEAVY)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return [name for name in result.stdout.splitlines()[-1].split(",") if name]


def test_cli_module_and_help_import_nothing_heavy() -> None:
    assert _heavy_modules(_WITHOUT_PACKAGE_INIT) == []


def test_import_advokit_cli_does_not_import_sqlalchemy() -> None:
    assert _heavy_modules("import advokit.cli") == []


# --------------------------------------------------------------------------- tick


def test_tick_prints_what_it_did(invoke: Callable[..., Result], shop: str) -> None:
    result = invoke("--program", shop, "tick", "--now", "2027-01-01T01:00:00+01:00")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "now": "2027-01-01T00:00:00+00:00",
        "expired_points": 0,
        "applied": 0,
        "replayed": 0,
    }


def test_tick_refuses_a_time_without_offset(invoke: Callable[..., Result], shop: str) -> None:
    line = _single_error_line(invoke("--program", shop, "tick", "--now", "2027-01-01T00:00:00"))
    assert "--now='2027-01-01T00:00:00' is not valid: expected an ISO 8601 time" in line


# --------------------------------------------------------------------------- worker

WORKER_MODULE = """
from advokit import Action, Advocate, IssueReward, Program, Reward, hookimpl
from advokit.plugins.rewards import Rewards

URL = {url!r}


class Cards:
    plugin_name = "cards"
    advokit_evaluates = frozenset({{"review.posted"}})

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        return [IssueReward(advocate=action.advocate, reward=Reward(kind="card"))]

    @hookimpl
    def advokit_register_fulfillers(self, register):
        register(self, name="card")

    def fulfil(self, program, reward):
        return {{"code": "C-" + reward.key[-4:]}}


def build():
    return Program(
        name="cards", database_url=URL, plugins=[Rewards(), Cards()], load_entrypoints=False
    )


def bare():
    return Program(name="bare", database_url=URL, plugins=[], load_entrypoints=False)


class Jammed:
    plugin_name = "jammed"

    @hookimpl
    def advokit_register_workers(self, register):
        register(self.jam, name="jam")

    def jam(self, program):
        from advokit import InvalidValue

        raise InvalidValue("printer", "jammed", "paper")


def jammed():
    return Program(
        name="cards", database_url=URL, plugins=[Rewards(), Cards(), Jammed()],
        load_entrypoints=False,
    )


class Refusing(Cards):
    plugin_name = "refusing"

    def fulfil(self, program, reward):
        from advokit.plugins.rewards import FulfilmentFailed

        raise FulfilmentFailed("card declined")


def held():
    return Program(
        name="cards", database_url=URL, plugins=[Rewards(approve_kinds=["card"]), Cards()],
        load_entrypoints=False,
    )


def refusing():
    return Program(
        name="cards", database_url=URL, plugins=[Rewards(), Refusing()], load_entrypoints=False
    )


def prepare(count, builder=build):
    with builder() as program:
        program.migrate()
        program.enroll(Advocate(external_id="ada"))
        program.record_many(
            Action(kind="review.posted", advocate="ada", key=f"r-{{n}}") for n in range(count)
        )


def states():
    with build() as program:
        return sorted(r.state.value for r in program.rewards("ada"))
"""


@pytest.fixture
def cards(workdir: Path) -> Iterator[str]:
    name = f"cards_{secrets.token_hex(4)}"
    url = f"sqlite:///{workdir / (name + '.db')}"
    (workdir / f"{name}.py").write_text(WORKER_MODULE.format(url=url))
    sys.path.insert(0, str(workdir))
    yield name
    sys.modules.pop(name, None)


def test_worker_once_fulfils_what_is_due_and_prints_the_totals(
    invoke: Callable[..., Result], cards: str
) -> None:
    module = importlib.import_module(cards)
    module.prepare(3)
    result = invoke("--program", f"{cards}:build", "worker", "--once")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"fulfilment": 3}
    assert module.states() == ["fulfilled"] * 3
    again = invoke("--program", f"{cards}:build", "worker", "--once")
    assert json.loads(again.stdout) == {"fulfilment": 0}


def test_worker_without_jobs_says_so_in_one_line(invoke: Callable[..., Result], cards: str) -> None:
    line = _single_error_line(invoke("--program", f"{cards}:bare", "worker", "--once"))
    assert "no background jobs" in line


def _worker_process(workdir: Path, program: str, *args: str) -> subprocess.Popen[str]:
    """``advokit --program PROGRAM worker ARGS`` in its own process, pipes for its output."""
    env = {**os.environ, "ADVOKIT_LOAD_PLUGINS": "", "PYTHONPATH": str(workdir)}
    env.pop("ADVOKIT_PROGRAM", None)
    command = "from advokit.cli import main; raise SystemExit(main())"
    return subprocess.Popen(
        [sys.executable, "-c", command, "--program", program, "worker", *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_worker_runs_until_sigterm_and_stops_cleanly(workdir: Path, cards: str) -> None:
    module = importlib.import_module(cards)
    module.prepare(2)
    worker = _worker_process(workdir, f"{cards}:build", "--idle", "600")
    try:
        first = json.loads(worker.stdout.readline())  # the round that did something
        assert first["fulfilment"] == 2
        time.sleep(0.5)  # now resting for --idle 600
        asked = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, worker.stderr.read()
        assert time.monotonic() - asked < 5  # not the rest of the 600 s rest
    finally:
        if worker.poll() is None:
            worker.kill()
    assert module.states() == ["fulfilled"] * 2


def test_worker_once_stops_at_a_failing_job_in_one_line(
    invoke: Callable[..., Result], cards: str
) -> None:
    importlib.import_module(cards).prepare(1)
    line = _single_error_line(invoke("--program", f"{cards}:jammed", "worker", "--once"))
    assert "printer='jammed'" in line


def test_a_long_running_worker_outlives_a_failing_job(workdir: Path, cards: str) -> None:
    module = importlib.import_module(cards)
    module.prepare(2)
    worker = _worker_process(workdir, f"{cards}:jammed", "--idle", "0.1")
    try:
        assert "Error: jam: printer='jammed'" in worker.stderr.readline()
        assert "Error: jam:" in worker.stderr.readline()  # the next round ran too
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert module.states() == ["fulfilled"] * 2  # the other job did its work


# --------------------------------------------------------------------------- advokit rewards


def test_rewards_list_shows_the_approval_queue_and_approve_decides(
    invoke: Callable[..., Result], cards: str
) -> None:
    module = importlib.import_module(cards)
    module.prepare(2, module.held)
    program = f"{cards}:held"
    listed = invoke("--program", program, "rewards", "list", "--state", "pending_approval")
    assert listed.exit_code == 0, listed.output
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:5] == ["KEY", "ADVOCATE", "KIND", "AMOUNT", "STATE"]
    assert [row.split()[1:5] for row in rows] == [["ada", "card", "1", "pending_approval"]] * 2
    key = rows[0].split()[0]
    approved = invoke(
        "--program", program, "rewards", "approve", key, "--by", "maria", "--reason", "loyal"
    )
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["state"] == "approved"
    queue = invoke("--program", program, "rewards", "list", "--state", "pending_approval", "--json")
    assert [r["state"] for r in json.loads(queue.stdout)] == ["pending_approval"]
    shown = invoke("--program", program, "rewards", "show", key, "--json")
    history = json.loads(shown.stdout)["history"]
    assert history[-1] == {
        "before": "pending_approval",
        "after": "approved",
        "at": history[-1]["at"],
        "actor": "maria",
        "reason": "loyal",
    }
    text = invoke("--program", program, "rewards", "show", key).stdout
    assert "pending_approval -> approved  by maria: loyal" in text


def test_rewards_dead_letters_are_listed_and_sent_back(
    invoke: Callable[..., Result], cards: str
) -> None:
    module = importlib.import_module(cards)
    module.prepare(1, module.refusing)
    program = f"{cards}:refusing"
    assert invoke("--program", program, "worker", "--once").exit_code == 0
    dead = json.loads(invoke("--program", program, "rewards", "list", "--dead", "--json").stdout)
    assert [(r["state"], r["error"]) for r in dead] == [("failed", "card declined")]
    again = invoke(
        "--program", program, "rewards", "retry", dead[0]["key"], "--by", "maria", "--reason", "x"
    )
    assert json.loads(again.stdout)["state"] == "approved"
    empty = invoke("--program", program, "rewards", "list", "--dead")
    assert empty.stdout.strip() == "No rewards."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "nope"], "no reward keyed 'nope'"),
        (["approve", "nope", "--by", "m", "--reason", "r"], "key='nope'"),
        (["list", "--dead", "--state", "failed"], "--dead lists every dead letter"),
        (["complete", "nope", "--by", "m", "--reason", "r", "--result", "{"], "--result is not"),
        (["list", "--advocate", "nobody"], "nobody"),
    ],
)
def test_rewards_command_errors_are_one_line(
    invoke: Callable[..., Result], cards: str, args: list[str], message: str
) -> None:
    importlib.import_module(cards).prepare(1)
    line = _single_error_line(invoke("--program", f"{cards}:build", "rewards", *args))
    assert message in line


def test_a_reward_in_the_wrong_state_is_refused_in_one_line(
    invoke: Callable[..., Result], cards: str
) -> None:
    module = importlib.import_module(cards)
    module.prepare(1)
    key = json.loads(invoke("--program", f"{cards}:build", "rewards", "list", "--json").stdout)[0]
    line = _single_error_line(
        invoke(
            "--program",
            f"{cards}:build",
            "rewards",
            "approve",
            key["key"],
            "--by",
            "m",
            "--reason",
            "r",
        )
    )
    assert "pending_approval: only such a reward moves to approved" in line
