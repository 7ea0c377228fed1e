"""How long ``advokit --help`` takes, against ``python -c "import click"``.

Run::

    python benchmarks/bench_cli_startup.py [--runs N] [--plugin DIR]

An operator types ``advokit --help`` (or a typo) far more often than anything
else; it must feel instant. The baseline is the floor of any click program:
a fresh interpreter importing click. Both commands are started N times,
interleaved (so that a busy moment of the machine hits both alike), each in a
new process, and the medians are compared.

The measured environment has advokit's built-in plugins and one installed
third-party plugin (by default ``contrib/advokit-tremendous``, installed with
pip into a temporary target folder put on ``PYTHONPATH``, so its ``advokit``
entry point is visible exactly as after ``pip install``). The script checks
that the plugin's entry point is seen before timing anything.

Also reported, without a target: ``advokit --program MODULE:ATTR --help``,
which loads a program (and so SQLAlchemy and every plugin) to list the
commands its plugins add.

Target: ``advokit --help`` within 2x of ``import click``. Exit status 1 when
it is missed, 2 when the set-up is wrong (the plugin is not discovered).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PLUGIN = ROOT / "contrib" / "advokit-tremendous"
TARGET = 2.0

PROGRAM_MODULE = """
from advokit import Program

program = Program(name="startup", database_url="sqlite://")
"""

DISCOVERED = """
from importlib.metadata import entry_points
print(sorted(ep.name for ep in entry_points(group="advokit")))
"""


def install(plugin: Path, target: Path) -> None:
    """pip-install the plugin (not its dependencies: advokit is here) into ``target``."""
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"),
            *("--no-build-isolation", "--target", str(target), str(plugin)),
        ],
        check=True,
        capture_output=True,
    )


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="starts of each command")
    parser.add_argument("--plugin", type=Path, default=DEFAULT_PLUGIN, help="plugin project")
    args = parser.parse_args(argv)
    advokit = Path(sys.executable).parent / "advokit"
    if not advokit.exists():
        print(f"no advokit script next to {sys.executable}: install advokit first")
        return 2
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        site = work / "site"
        install(args.plugin, site)
        (work / "startup_program.py").write_text(PROGRAM_MODULE)
        env = {**os.environ, "PYTHONPATH": str(site)}
        env.pop("ADVOKIT_PROGRAM", None)
        found = subprocess.run(
            [sys.executable, "-c", DISCOVERED], env=env, capture_output=True, text=True
        ).stdout.strip()
        print(f"installed third-party plugins (entry-point group 'advokit'): {found}")
        if found in ("", "[]"):
            print("the plugin's entry point is not visible: the measurement would be wrong")
            return 2
        commands = {
            "import click": [sys.executable, "-c", "import click"],
            "advokit --help": [str(advokit), "--help"],
            "advokit --program ... --help": [
                str(advokit),
                "--program",
                "startup_program:program",
                "--help",
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm the file cache and the bytecode
            timed(command, env, work)
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(timed(command, env, work))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"\nmedian of {args.runs} starts each, interleaved:")
    for name, value in median.items():
        print(f"  {name:30} {value * 1000:7.1f} ms")
    ratio = median["advokit --help"] / median["import click"]
    program_ratio = median["advokit --program ... --help"] / median["import click"]
    print(f"\n  advokit --help / import click               {ratio:5.2f}x")
    print(f"  advokit --program ... --help / import click {program_ratio:5.2f}x (reported)")
    passed = ratio <= TARGET
    print(f"{'PASS' if passed else 'FAIL'}: advokit --help within {TARGET:g}x of import click")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
