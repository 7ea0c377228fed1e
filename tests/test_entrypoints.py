"""Acceptance: installed third-party plugins, found through the ``advokit`` entry points.

A plugin installed from a throwaway package with an ``advokit`` entry point is
listed and its hooks run; a plugin whose import raises is skipped with a
warning and the CLI still works.

The packages in ``tests/fixtures/`` are installed into a temporary directory,
the way ``pip install --target`` lays them out (the module plus a
``.dist-info`` directory with ``METADATA`` and ``entry_points.txt``), without
network or build backend, and never into the environment running the tests.
Everything then runs in a subprocess with that directory on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
HELLO = {
    "name": "hello",
    "version": "0.3.1",
    "hooks": ["advokit_evaluate", "advokit_register_commands"],
}


def install(source: Path, target: Path) -> None:
    """Install the distribution whose pyproject.toml is in ``source`` into ``target``."""
    pyproject = tomllib.loads((source / "pyproject.toml").read_text())
    project = pyproject["project"]
    for module in pyproject["tool"]["setuptools"]["py-modules"]:
        shutil.copy(source / f"{module}.py", target / f"{module}.py")
    name, version = project["name"], project["version"]
    info = target / f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    groups = project.get("entry-points", {})
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()) + "\n"
            for group, points in groups.items()
        )
    )
    (info / "INSTALLER").write_text("advokit-tests\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the installed advokit-hello and advokit-broken."""
    target = tmp_path_factory.mktemp("site")
    install(FIXTURES / "advokit-hello", target)
    install(FIXTURES / "advokit-broken", target)
    return target


def _env(site: Path | None, **advokit: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVOKIT_")}
    env.pop("PYTHONPATH", None)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    env.update(advokit)
    return env


def advokit(
    *args: str, site: Path | None, cwd: Path, **advokit_env: str
) -> subprocess.CompletedProcess[str]:
    script = shutil.which("advokit", path=str(Path(sys.executable).parent))
    assert script, f"the advokit script is not installed next to {sys.executable}"
    return subprocess.run(
        [script, *args],
        cwd=cwd,
        env=_env(site, **advokit_env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _names(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [plugin["name"] for plugin in json.loads(result.stdout)]


BROKEN_WARNING = (
    "Warning: advokit plugin 'broken' from advokit-broken 0.0.7 could not be loaded and was "
    "skipped: ImportError: advokit_broken needs the 'frobnicate' library, which is not installed"
)


def test_installed_plugin_is_listed_and_broken_one_skipped(site: Path, tmp_path: Path) -> None:
    result = advokit("plugins", site=site, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    plugins = json.loads(result.stdout)
    assert HELLO in plugins
    assert "broken" not in [p["name"] for p in plugins]
    assert result.stderr.splitlines() == [BROKEN_WARNING]


def test_without_the_packages_nothing_is_listed(tmp_path: Path) -> None:
    result = advokit("plugins", site=None, cwd=tmp_path)
    assert "hello" not in _names(result)
    assert result.stderr == ""


def test_hook_filter_finds_the_installed_plugin(site: Path, tmp_path: Path) -> None:
    result = advokit(
        "plugins", "--all", "--hook", "advokit_register_commands", site=site, cwd=tmp_path
    )
    assert "hello" in _names(result)
    result = advokit("plugins", "--all", "--hook", "advokit_screen", site=site, cwd=tmp_path)
    assert "hello" not in _names(result)


def test_strict_plugins_make_a_broken_plugin_an_error(site: Path, tmp_path: Path) -> None:
    result = advokit("plugins", site=site, cwd=tmp_path, ADVOKIT_STRICT_PLUGINS="1")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [BROKEN_WARNING.replace("Warning:", "Error:", 1)]


@pytest.mark.parametrize("allowed", ["hello", "advokit-hello", " hello , other "])
def test_load_plugins_loads_only_the_named(site: Path, tmp_path: Path, allowed: str) -> None:
    result = advokit("plugins", site=site, cwd=tmp_path, ADVOKIT_LOAD_PLUGINS=allowed)
    assert _names(result) == ["hello"]
    assert result.stderr == ""  # the broken plugin was not even imported


def test_load_plugins_empty_loads_none(site: Path, tmp_path: Path) -> None:
    result = advokit("plugins", site=site, cwd=tmp_path, ADVOKIT_LOAD_PLUGINS="")
    assert _names(result) == []
    assert result.stderr == ""


def test_disable_plugins_hides_them(site: Path, tmp_path: Path) -> None:
    result = advokit("plugins", site=site, cwd=tmp_path, ADVOKIT_DISABLE_PLUGINS="hello")
    assert "hello" not in _names(result)
    assert result.stderr.splitlines() == [BROKEN_WARNING]

    result = advokit("plugins", site=site, cwd=tmp_path, ADVOKIT_DISABLE_PLUGINS="hello,broken")
    assert "hello" not in _names(result)
    assert result.stderr == ""


RECORD_A_REVIEW = """
import json, sys
from advokit import Action, Advocate, Program

with Program(name="reviews", database_url=sys.argv[1]) as program:
    program.migrate()
    program.enroll(Advocate(external_id="ada"))
    program.record(Action(kind="review.posted", advocate="ada", key="r-1", data={"rating": 5}))
    print(json.dumps(sorted(program.tags("ada"))))
"""


@pytest.mark.parametrize(
    ("advokit_env", "tags"),
    [
        pytest.param({}, ["hello"], id="installed"),
        pytest.param({"ADVOKIT_LOAD_PLUGINS": "hello"}, ["hello"], id="only-hello"),
        pytest.param({"ADVOKIT_DISABLE_PLUGINS": "hello"}, [], id="disabled"),
    ],
)
def test_installed_plugin_hooks_run(
    site: Path, tmp_path: Path, advokit_env: dict[str, str], tags: list[str]
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", RECORD_A_REVIEW, f"sqlite:///{tmp_path / 'reviews.db'}"],
        cwd=tmp_path,
        env=_env(site, **advokit_env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == tags


PROGRAM = """
from advokit import Program

program = Program(name="tiny", database_url="sqlite://")
"""


def test_installed_plugin_adds_a_command(site: Path, tmp_path: Path) -> None:
    (tmp_path / "tiny_program.py").write_text(textwrap.dedent(PROGRAM))
    listed = advokit("--program", "tiny_program:program", "--help", site=site, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "Say hello from the advokit-hello plugin." in listed.stdout

    ran = advokit("--program", "tiny_program:program", "hello", site=site, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "hello from program 'tiny'\n"
    assert ran.stderr.splitlines() == [BROKEN_WARNING]
