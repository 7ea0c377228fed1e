"""Scaffolding: ``advokit new program|plugin NAME``, tested as datasette's and llm's
templates are: generate into a temporary folder, check the file set, install,
run the generated tests.

The generated plugin is installed with ``pip install -e`` into a throwaway
virtual environment that sees this interpreter's packages (advokit, pytest,
hatchling) through a ``.pth`` file, so nothing is installed where the other
tests run.
"""

from __future__ import annotations

import json
import os
import re
import resource
import runpy
import shutil
import site
import subprocess
import sys
import tomllib
import venv
import zipfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner, Result

from advokit import InvalidValue, scaffold
from advokit.cli import cli
from advokit.scaffold import TEMPLATES, new_plugin, new_program
from advokit.scaffold.render import render_tree
from smtp_server import SmtpServer

ROOT = Path(__file__).parent.parent
DOCS_EXAMPLES = sorted((ROOT / "docs" / "examples").glob("scaffold_*.py"))
BIN = Path(sys.executable).parent
PROGRAM_FILES = {
    ".gitignore",
    "README.md",
    "program.py",
    "pyproject.toml",
    "requirements.txt",
    "templates/en/welcome.html",
    "templates/en/welcome.subject",
    "templates/en/welcome.txt",
    "templates/samples/welcome.json",
    "tests/test_program.py",
}
PLUGIN_FILES = {
    ".gitignore",
    "README.md",
    "pyproject.toml",
    "src/advokit_acme_rewards/__init__.py",
    "tests/test_plugin.py",
}


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would change what the subprocesses load."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADVOKIT_", "PYTEST_")) and k not in ("PYTHONPATH", "DATABASE_URL")
    }
    return {**env, **extra}


def run(args: list[str | Path], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def advokit_script() -> Path:
    script = shutil.which("advokit", path=str(BIN))
    assert script, f"the advokit script is not installed next to {sys.executable}"
    return Path(script)


@pytest.fixture
def invoke(workdir: Path) -> Callable[..., Result]:
    runner = CliRunner(env={"ADVOKIT_PROGRAM": None})

    def call(*args: str) -> Result:
        return runner.invoke(cli, ["new", *args], catch_exceptions=False)

    return call


def single_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


# --------------------------------------------------------------------------- program


def test_new_program_writes_the_project_and_says_what_next(
    invoke: Callable[..., Result], workdir: Path
) -> None:
    result = invoke("program", "acme-rewards")
    assert result.exit_code == 0, result.output
    target = workdir / "acme-rewards"
    assert files_in(target) == PROGRAM_FILES
    lines = result.stdout.splitlines()
    assert lines[0] == "Wrote program 'acme-rewards' in acme-rewards:"
    assert lines[1 : 1 + len(PROGRAM_FILES)] == [f"  {name}" for name in sorted(PROGRAM_FILES)]
    assert "  cd acme-rewards" in lines
    assert "  advokit --program program:program db upgrade" in lines
    source = (target / "program.py").read_text()
    assert 'NAME = "acme-rewards"' in source
    assert 'TITLE = "Acme Rewards"' in source
    requirements = (target / "requirements.txt").read_text().splitlines()
    assert requirements == [f"advokit>={version('advokit')}", "pytest>=8"]
    sample = json.loads((target / "templates/samples/welcome.json").read_text())
    assert sample["title"] == "Acme Rewards"


def test_the_generated_program_tests_pass_and_can_fail(tmp_path: Path) -> None:
    target = new_program("acme-rewards", tmp_path).target
    passed = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], target)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"\b7 passed\b", passed.stdout), passed.stdout

    # they test the program, not themselves: a rule broken is a test failed
    program = target / "program.py"
    rule = 'return int(action.data.get("total_cents", 0)) // 100'
    assert rule in program.read_text()
    program.write_text(program.read_text().replace(rule, rule.replace("100", "50")))
    failed = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], target)
    assert failed.returncode == 1, failed.stdout
    assert "FAILED tests/test_program.py::test_a_purchase_earns_a_point_per_euro" in failed.stdout


def test_the_program_runs_as_its_readme_says_and_sends_its_email(tmp_path: Path) -> None:
    target = new_program("acme-rewards", tmp_path).target
    readme = (target / "README.md").read_text()
    run_section = readme.split("## Run the program", 1)[1]
    script = re.search(r"```bash\n(.*?)```", run_section, re.S)
    assert script, "no commands under 'Run the program'"
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    done = run(["bash", "-euo", "pipefail", "-c", script[1]], target, PATH=path)
    assert done.returncode == 0, done.stderr
    assert "Upgraded database sqlite:///acme_rewards.db of program 'acme-rewards'" in done.stdout
    recorded = json.loads(done.stdout[done.stdout.index("{") :])
    assert (recorded["status"], recorded["points"]) == ("applied", 42)

    advokit = [advokit_script(), "--program", "program:program"]
    check = run([*advokit, "templates", "check"], target)
    assert check.returncode == 0, check.stdout + check.stderr
    assert re.search(r"^welcome +en +ok$", check.stdout, re.M), check.stdout
    assert check.stdout.rstrip().endswith(", 0 failed")

    # the worker sends the queued welcome email to the SMTP server on 127.0.0.1
    # (this test's, on a free port rather than the README's 1025)
    with SmtpServer() as smtp:
        program = target / "program.py"
        configured = 'SMTP_HOST, SMTP_PORT = "127.0.0.1", 1025'
        assert configured in program.read_text()
        program.write_text(program.read_text().replace("1025", str(smtp.port)))
        sent = run([*advokit, "worker", "--once"], target)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout) == {"delivery": 1}
    ((sender, recipients, email),) = smtp.received
    assert (sender, recipients) == ("hello@acme-rewards.example", ["ada@example.com"])
    assert email["From"] == "Acme Rewards <hello@acme-rewards.example>"
    assert email["Subject"] == "Welcome to Acme Rewards, Ada Lovelace"
    assert "you get 150" in email.get_body(("plain",)).get_content()
    assert email["List-Unsubscribe"].startswith("<https://acme-rewards.example/unsubscribe/")


def test_the_program_s_rules_are_written_from_one_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # program.py's constants, its sample email data and its README say the same
    monkeypatch.setitem(scaffold.PROGRAM_RULES, "referrer_points", 175)
    monkeypatch.setitem(scaffold.PROGRAM_RULES, "referral_minimum_cents", 2500)
    target = new_program("acme-rewards", tmp_path).target
    constants = runpy.run_path(str(target / "program.py"))
    rules = {name.upper(): value for name, value in scaffold.PROGRAM_RULES.items()}
    assert {name: constants[name] for name in rules} == rules
    sample = json.loads((target / "templates/samples/welcome.json").read_text())
    assert sample == {
        "title": constants["TITLE"],
        "referrer_points": 175,
        "friend_points": constants["FRIEND_POINTS"],
        "minimum_euros": 25,
    }
    assert sample == {"title": constants["TITLE"], **constants["WELCOME"].steps[0].context}
    said = "spends 25 euros or more earns 100 points"
    assert said in (target / "README.md").read_text()
    assert said in constants["__doc__"]


# --------------------------------------------------------------------------- plugin


def test_new_plugin_writes_the_package_with_the_naming_triplet(
    invoke: Callable[..., Result], workdir: Path
) -> None:
    result = invoke("plugin", "acme-rewards", "--directory", "out")
    assert result.exit_code == 0, result.output
    target = workdir / "out" / "advokit-acme-rewards"
    assert files_in(target) == PLUGIN_FILES
    assert result.stdout.splitlines()[0] == (
        "Wrote plugin 'acme-rewards' in out/advokit-acme-rewards:"
    )
    assert "  python -m pip install -e ." in result.stdout.splitlines()
    pyproject = tomllib.loads((target / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "advokit-acme-rewards"
    assert pyproject["project"]["entry-points"] == {
        "advokit": {"acme-rewards": "advokit_acme_rewards"}
    }
    assert pyproject["build-system"]["build-backend"] == "hatchling.build"
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["packages"] == ["src/advokit_acme_rewards"]
    source = (target / "src/advokit_acme_rewards/__init__.py").read_text()
    assert 'KIND = "acme_rewards.completed"' in source


def editable_env(where: Path) -> Path:
    """A virtual environment that sees this interpreter's packages; its python."""
    venv.create(where, with_pip=False)
    python = where / "bin" / "python"
    site_packages = run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], where
    ).stdout.strip()
    user = [site.getusersitepackages()] if site.ENABLE_USER_SITE else []
    found = [*site.getsitepackages(), *user]
    parents = [p for p in dict.fromkeys(found) if Path(p).is_dir()]
    assert parents, f"no site-packages among {found}"
    # an `import` line of a .pth runs: addsitedir also reads the parents' own .pth files
    lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in parents)
    (Path(site_packages) / "parent-packages.pth").write_text(lines)
    return python


def test_the_plugin_installed_editable_is_listed_and_its_tests_pass(tmp_path: Path) -> None:
    made = new_plugin("acme-rewards", tmp_path / "src").target
    python = editable_env(tmp_path / "env")
    install = run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", "."],
        made,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    listed = run([python, advokit_script(), "plugins"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert {
        "name": "acme-rewards",
        "version": "0.1.0",
        "hooks": ["advokit_evaluate", "advokit_register_action_kinds"],
    } in json.loads(listed.stdout)

    tested = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], made)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert re.search(r"\b4 passed\b", tested.stdout), tested.stdout

    # editable: a change to the source is what the installed plugin runs
    module = made / "src/advokit_acme_rewards/__init__.py"
    module.write_text(module.read_text().replace("POINTS = 10", "POINTS = 0"))
    broken = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], made)
    assert broken.returncode == 1, broken.stdout
    assert "FAILED tests/test_plugin.py::test_its_action_earns_points" in broken.stdout

    with pytest.raises(PackageNotFoundError):  # never installed where the tests run
        distribution("advokit-acme-rewards")


# --------------------------------------------------------------------------- style

#: The project's own rule set (pyproject.toml), at ruff's default line length.
RUFF_RULES = "E,F,W,I,B,UP,SIM,RUF,PT,C4,PIE,RET"


@pytest.mark.parametrize("name", ["acme-rewards", "x", "abcdefghij-" * 3 + "abcdefg"])
def test_the_generated_code_is_ruff_clean_whatever_the_name_length(
    tmp_path: Path, name: str
) -> None:
    for made in (new_program(name, tmp_path), new_plugin(name, tmp_path)):
        # in the project's folder: ruff tells its own modules from advokit's there
        lint = run(
            [sys.executable, "-m", "ruff", "check", "--isolated", "--select", RUFF_RULES, "."],
            made.target,
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr
        style = run(
            [sys.executable, "-m", "ruff", "format", "--isolated", "--check", "."], made.target
        )
        assert style.returncode == 0, style.stdout + style.stderr


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "name",
    ["Acme", "acme_rewards", "acme rewards", "-acme", "acme-", "acme--x", "1acme", "a" * 41, "é"],
)
@pytest.mark.parametrize("kind", ["program", "plugin"])
def test_a_bad_name_is_one_error_line_and_writes_nothing(
    invoke: Callable[..., Result], workdir: Path, kind: str, name: str
) -> None:
    line = single_error_line(invoke(kind, "--", name))  # "--": "-acme" is not an option
    assert line.startswith(f"Error: NAME={name!r} is not valid: expected 1 to 40 lower-case")
    assert "such as 'acme-rewards'" in line
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize(
    ("kind", "name", "accepted"),
    [
        ("plugin", "points", "a name other than advokit's built-in plugins'"),
        ("plugin", "referrals", "a name other than advokit's built-in plugins'"),
        ("plugin", "advokit-extra", "a name without the 'advokit-' prefix, which is added"),
        ("program", "advokit", "a name without the 'advokit-' prefix, which is added"),
    ],
)
def test_reserved_names_are_refused(
    invoke: Callable[..., Result], workdir: Path, kind: str, name: str, accepted: str
) -> None:
    line = single_error_line(invoke(kind, name))
    assert line.startswith(f"Error: NAME={name!r} is not valid: expected {accepted}")
    assert list(workdir.iterdir()) == []


def test_a_folder_with_files_is_not_written_over_without_force(
    invoke: Callable[..., Result], workdir: Path
) -> None:
    target = workdir / "acme"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    (target / "program.py").write_text("# my own program\n")

    line = single_error_line(invoke("program", "acme"))
    assert line == (
        "Error: acme already holds files: pass --force to write the project's files over "
        "them (other files are left alone), or choose another NAME or --directory"
    )
    assert files_in(target) == {"notes.txt", "program.py"}
    assert (target / "program.py").read_text() == "# my own program\n"

    forced = invoke("program", "acme", "--force")
    assert forced.exit_code == 0, forced.output
    assert files_in(target) == PROGRAM_FILES | {"notes.txt"}
    assert (target / "notes.txt").read_text() == "mine"
    assert 'NAME = "acme"' in (target / "program.py").read_text()


def test_an_empty_folder_is_used_and_a_file_is_refused(
    invoke: Callable[..., Result], workdir: Path
) -> None:
    (workdir / "advokit-acme").mkdir()
    assert invoke("plugin", "acme").exit_code == 0
    assert files_in(workdir / "advokit-acme") == {
        p.replace("acme_rewards", "acme") for p in PLUGIN_FILES
    }
    (workdir / "a-file").write_text("")
    line = single_error_line(invoke("program", "acme", "-d", "a-file"))
    assert line == (
        "Error: directory='a-file' is not valid: "
        "expected a folder to create the project in, not a file"
    )
    (workdir / "taken").write_text("")
    line = single_error_line(invoke("program", "taken"))
    assert line == "Error: taken is a file: choose another NAME or --directory"
    assert (workdir / "taken").read_text() == ""


def test_a_write_that_fails_is_one_error_line(workdir: Path) -> None:
    def small_files() -> None:  # as a full disk would: writing past 1 kB fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    done = subprocess.run(
        [advokit_script(), "new", "program", "acme"],
        cwd=workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_files,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "Error: cannot write the project: [Errno 27] File too large"
    ]


def test_the_api_raises_invalid_value_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue) as error:
        new_program("Acme", tmp_path)
    assert (error.value.field, error.value.value) == ("NAME", "Acme")
    assert list(tmp_path.iterdir()) == []


def test_a_template_that_fails_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "template"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "a.txt.jinja").write_text("{{ module }}\n")
    (source / "pkg" / "b.txt.jinja").write_text("{{ misspelt }}\n")
    target = tmp_path / "out"
    with pytest.raises(jinja2.exceptions.UndefinedError, match="'misspelt' is undefined"):
        render_tree(source, target, {"module": "m"})
    assert not target.exists()


# --------------------------------------------------------------------------- packaging


def test_the_templates_ship_in_the_wheel(tmp_path: Path) -> None:
    built = run(
        [
            sys.executable,
            *("-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"),
            *("-w", tmp_path, ROOT),
        ],
        tmp_path,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = tmp_path.glob("advokit-*.whl")
    prefix = "advokit/scaffold/templates/"
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name[len(prefix) :] for name in archive.namelist() if name.startswith(prefix)}
    assert shipped == files_in(TEMPLATES)
    assert {"program/program.py.jinja", "plugin/src/__module__/__init__.py.jinja"} <= shipped


# --------------------------------------------------------------------------- docs


def test_the_docs_have_scaffold_examples() -> None:
    assert DOCS_EXAMPLES
    page = (ROOT / "docs" / "scaffolding.md").read_text()
    for script in DOCS_EXAMPLES:
        assert f'--8<-- "docs/examples/{script.name}' in page


def test_the_docs_example_writes_both_projects(workdir: Path) -> None:
    """docs/examples/scaffold_api.py (test_docs.py leaves scaffold_* scripts to this file)."""
    runpy.run_path(str(ROOT / "docs/examples/scaffold_api.py"), run_name="__main__")
    assert files_in(workdir / "acme-rewards") == PROGRAM_FILES
    shoutouts = {name.replace("acme_rewards", "shoutouts") for name in PLUGIN_FILES}
    assert files_in(workdir / "advokit-shoutouts") == shoutouts
