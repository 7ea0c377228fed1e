"""The docs keep their promises: every hook is documented, examples run, links resolve."""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import pkgutil
import re
import runpy
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from advokit import hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
HOOKS_PAGE = DOCS / "plugin-hooks.md"
TESTING_PAGE = DOCS / "testing-plugins.md"
#: The package the "Writing plugins" tutorial builds, section by section.
SHOUTOUTS = EXAMPLES / "advokit-shoutouts"
#: Scripts of other pages, run by their own tests: scaffold_*, import_*, report_*.
RUN_ELSEWHERE = ("scaffold_", "import_", "report_")
#: Python blocks allowed to stay inline in a page, as "page.md:blockN" (keep it empty).
INLINE_ALLOWED: frozenset[str] = frozenset()
#: Scripts that change process-wide state (SQLModel.metadata): run in their own interpreter.
OWN_INTERPRETER = frozenset({"store_autogenerate.py"})

#: A fenced code block: its info string and its body.
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
#: The marker of a complete test file: ```python title="test_something.py"
TEST_FILE_INFO = re.compile(r'python\s+title="(?P<name>test_\w+\.py)"')
HEADING = re.compile(r"^(?P<level>#{1,6}) +(?P<text>.+?) *$", re.M)
HOOK_HEADING = re.compile(r"(?P<name>advokit_\w+)\((?P<args>[^)]*)\)")
LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
INLINE_CODE = re.compile(r"`[^`\n]*`")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
#: A pymdownx.snippets include line: --8<-- "docs/examples/x.py" or "...x.py:section".
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^":]+)(?::(?P<section>[a-z][-_0-9a-z]*))?"$')
#: A snippet section marker inside an example file: # --8<-- [start:name]
SECTION_MARK = re.compile(r"^\s*# --8<-- \[(?P<type>start|end):(?P<name>[a-z][-_0-9a-z]*)\]\s*$")


def _without_code_blocks(text: str) -> str:
    return FENCE.sub("", text)


def _included(path: str, section: str | None) -> str:
    """What pymdownx.snippets puts in place of an include line (base path: the repository)."""
    lines = (ROOT / path).read_text().splitlines()
    if section is None:
        kept = [line for line in lines if not SECTION_MARK.match(line)]
    else:
        marks = {
            (m["type"], m["name"]): i
            for i, line in enumerate(lines)
            if (m := SECTION_MARK.match(line))
        }
        assert ("start", section) in marks, f"{path} has no section {section!r}"
        assert ("end", section) in marks, f"{path} does not end the section {section!r}"
        inside = lines[marks["start", section] + 1 : marks["end", section]]
        kept = textwrap.dedent(
            "\n".join(line for line in inside if not SECTION_MARK.match(line))
        ).splitlines()
    return "\n".join(kept) + "\n"


def _resolve(body: str) -> str:
    """A code block's body with its snippet include lines replaced by what they include."""
    out = []
    for line in body.splitlines(keepends=True):
        match = SNIPPET.match(line.strip())
        out.append(_included(match["path"], match["section"]) if match else line)
    return "".join(out)


def _includes(body: str) -> list[tuple[str, str | None]]:
    return [
        (m["path"], m["section"])
        for line in body.splitlines()
        if (m := SNIPPET.match(line.strip()))
    ]


def _hookspecs() -> dict[str, list[str]]:
    return {
        name: list(inspect.signature(getattr(hookspecs, name)).parameters)
        for name in dir(hookspecs)
        if name.startswith("advokit_") and callable(getattr(hookspecs, name))
    }


def _headings(path: Path) -> list[tuple[int, str]]:
    text = _without_code_blocks(path.read_text())
    return [(len(m["level"]), m["text"]) for m in HEADING.finditer(text)]


def _hook_sections() -> dict[str, str]:
    """The body of each ``## advokit_...`` section of the hooks page, by heading."""
    text = HOOKS_PAGE.read_text()
    starts = [m for m in re.finditer(r"^## (.+)$", text, re.M) if m[1].startswith("advokit_")]
    sections = {}
    for match in starts:
        end = text.find("\n## ", match.end())
        sections[match[1].strip()] = text[match.end() : end if end != -1 else len(text)]
    return sections


# --------------------------------------------------------------------------- plugin-hooks.md


def test_hookspecs_are_found():
    assert len(_hookspecs()) >= 14


@pytest.mark.parametrize(
    ("hook", "parameters"),
    [pytest.param(*item, id=item[0]) for item in sorted(_hookspecs().items())],
)
def test_every_hook_has_a_section_headed_by_its_signature(hook, parameters):
    expected = f"{hook}({', '.join(parameters)})"
    headings = [text for level, text in _headings(HOOKS_PAGE) if level == 2]
    assert expected in headings, f"plugin-hooks.md lacks the heading '## {expected}'"
    assert headings.count(expected) == 1, f"'## {expected}' appears more than once"


def test_no_heading_documents_a_hook_that_does_not_exist():
    specs = _hookspecs()
    for level, text in _headings(HOOKS_PAGE):
        if not text.startswith("advokit_"):
            continue
        assert level == 2, f"hook heading {text!r} must be level 2, not {level}"
        match = HOOK_HEADING.fullmatch(text)
        assert match, f"hook heading {text!r} is not a call signature 'advokit_x(a, b)'"
        name = match["name"]
        assert name in specs, f"plugin-hooks.md documents {name}, which is no hook"
        documented = [a.strip() for a in match["args"].split(",") if a.strip()]
        assert documented == specs[name], f"{text!r}: the spec's parameters are {specs[name]}"


#: The labelled parts of every hook section, in this order.
SHAPE = (
    "**Signature.**",
    "**When called.**",
    "**Arguments.**",
    "**Returns / semantics.**",
    "```python",
    "**Built-ins that use it.**",
)


def _typed_signature(hook: str) -> str:
    """``advokit_x(a: A, b: B) -> R`` from the hookspec's (string) annotations."""
    spec = getattr(hookspecs, hook)
    notes = spec.__annotations__
    params = ", ".join(f"{name}: {notes[name]}" for name in inspect.signature(spec).parameters)
    return f"{hook}({params}) -> {notes['return']}"


@pytest.mark.parametrize("heading", sorted(_hook_sections()))
def test_every_hook_section_has_the_fixed_shape(heading):
    body = _hook_sections()[heading]
    found = [body.find(label) for label in SHAPE]
    for label, at in zip(SHAPE, found, strict=True):
        assert at != -1, f"section {heading!r} lacks {label}"
    assert found == sorted(found), f"section {heading!r}: the parts must come in the order {SHAPE}"
    hook = heading.partition("(")[0]
    assert f"**Signature.** `{_typed_signature(hook)}`" in body
    blocks = [m for m in FENCE.finditer(body) if m["info"].strip().startswith("python")]
    implemented = [b for b in blocks if f"def {hook}(" in _resolve(b["body"])]
    assert implemented, f"section {heading!r}: no python example implements {hook}"


@functools.cache
def _builtin_implementations() -> dict[str, set[str]]:
    """Hook name -> the built-in plugins implementing it: class names, or module names."""
    import advokit.plugins

    found: dict[str, set[str]] = {hook: set() for hook in _hookspecs()}
    for info in pkgutil.walk_packages(advokit.plugins.__path__, "advokit.plugins."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name in found and callable(value):  # a module plugin
                found[name].add(module.__name__.rpartition(".")[2])
            if inspect.isclass(value) and value.__module__ == module.__name__:
                for hook in found.keys() & vars(value).keys():
                    found[hook].add(value.__name__)
    return found


def test_built_in_implementations_are_found():
    found = _builtin_implementations()
    assert {"Points", "kinds"} <= found["advokit_register_action_kinds"]
    assert "Fraud" in found["advokit_screen"]


@pytest.mark.parametrize("heading", sorted(_hook_sections()))
def test_every_hook_section_names_the_built_ins_that_use_it(heading):
    body = _hook_sections()[heading]
    paragraph = body.partition("**Built-ins that use it.**")[2].split("\n\n")[0]
    users = _builtin_implementations()[heading.partition("(")[0]]
    named = set(re.findall(r"`([^`]+)`", paragraph))
    missing = users - named
    assert not missing, f"{heading}: built-ins {sorted(missing)} use it but are not named"
    if not users:
        assert paragraph.strip().startswith("None"), f"{heading}: no built-in uses it: say None"


# --------------------------------------------------------------------------- examples


def _code_blocks(language: str) -> list[tuple[str, str, str]]:
    """``(where, info, body)`` of the blocks of ``language`` in every page."""
    blocks = []
    for path in sorted(DOCS.glob("*.md")):
        for number, match in enumerate(FENCE.finditer(path.read_text()), start=1):
            if match["info"].strip().split(" ")[0] == language:
                blocks.append((f"{path.name}:block{number}", match["info"].strip(), match["body"]))
    return blocks


def _python_blocks() -> list[object]:
    return [pytest.param(where, body, id=where) for where, _, body in _code_blocks("python")]


def test_docs_have_python_examples():
    assert len(_python_blocks()) >= 40


@pytest.mark.parametrize(("where", "source"), _python_blocks())
def test_python_examples_are_valid_python(where, source):
    compile(_resolve(source), where, "exec")


@pytest.mark.parametrize(("where", "source"), _python_blocks())
def test_python_examples_are_included_from_example_files(where, source):
    """A page shows code the test suite runs: a python block only includes files."""
    if where in INLINE_ALLOWED:
        return
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    inline = [line for line in lines if not SNIPPET.match(line)]
    assert lines, f"{where} is empty"
    assert not inline, (
        f"{where} has inline code ({inline[0]!r}...): move it to a file under docs/examples/ "
        'and include it with --8<-- "docs/examples/NAME.py"'
    )
    for path, _ in _includes(source):
        assert path.startswith(("docs/examples/", "examples/")), f"{where} includes {path}"


def _every_include() -> list[tuple[str, str | None]]:
    return [
        include
        for language in ("python", "bash", "toml")
        for _, _, body in _code_blocks(language)
        for include in _includes(body)
    ]


def test_every_example_script_is_shown_on_a_page():
    shown = {path for path, _ in _every_include()}
    for script in _example_scripts():
        relative = script.relative_to(ROOT).as_posix()
        assert relative in shown, f"{relative} is run but no page includes it"


def _example_scripts() -> list[Path]:
    """The scripts of docs/examples/ run as they are; test files run under pytest, and
    modules named _*.py are helpers the scripts import."""
    return [
        path
        for path in sorted(EXAMPLES.glob("*.py"))
        if not path.name.startswith(("test_", "_", *RUN_ELSEWHERE))
    ]


@pytest.mark.parametrize("script", _example_scripts(), ids=lambda path: path.name)
def test_example_script_runs(script, tmp_path, monkeypatch):
    """Each script builds its program in an empty directory and asserts what its page says."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADVOKIT_LOAD_PLUGINS", "")  # the plugins the script names, no others
    if script.name in OWN_INTERPRETER:
        run = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert run.returncode == 0, f"{script.name} failed:\n{run.stdout}\n{run.stderr}"
        return
    monkeypatch.setattr(sys, "path", [str(script.parent), *sys.path])
    runpy.run_path(str(script), run_name="__main__")


def _run_pytest(directory: Path, *args: str, env: dict[str, str] | None = None) -> None:
    env = {**os.environ, "ADVOKIT_LOAD_PLUGINS": "", **(env or {})}
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)  # the fixtures come from the pytest11 entry
    env.pop("PYTEST_ADDOPTS", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"pytest {args} failed:\n{result.stdout}\n{result.stderr}"
    assert " passed" in result.stdout and " failed" not in result.stdout


def _test_files() -> list[object]:
    files = []
    for match in FENCE.finditer(TESTING_PAGE.read_text()):
        marker = TEST_FILE_INFO.fullmatch(match["info"].strip())
        if marker:
            files.append(pytest.param(marker["name"], match["body"], id=marker["name"]))
    return files


def test_testing_page_has_a_complete_test_file():
    assert _test_files(), 'testing-plugins.md has no ```python title="test_....py" block'


def test_every_example_test_file_is_run():
    """docs/examples/test_*.py run through the testing page's blocks: none is left out."""
    run = {path for block in _test_files() for path, _ in _includes(block.values[1])}
    for test_file in EXAMPLES.glob("test_*.py"):
        relative = test_file.relative_to(ROOT).as_posix()
        assert relative in run, f"{relative} is not included in testing-plugins.md"


@pytest.mark.parametrize(("name", "source"), _test_files())
def test_example_test_file_passes(name, source, tmp_path):
    """Saved as the page says and run with pytest, the test file passes."""
    (tmp_path / name).write_text(_resolve(source))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # no configuration from elsewhere
    _run_pytest(tmp_path, name)


@pytest.mark.slow
def test_the_tutorial_package_installs_tests_and_runs(tmp_path):
    """advokit-shoutouts, as Writing plugins builds it: installed, tested, its commands run."""
    site = tmp_path / "site-packages"
    package = tmp_path / "advokit-shoutouts"
    shutil.copytree(SHOUTOUTS, package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            site,
            package,
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    _run_pytest(package, env={"PYTHONPATH": str(site)})

    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(package / "bakery_app.py", work)
    bin_dir = Path(sys.executable).parent  # advokit and python of this interpreter come first
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join([str(site), str(work)]),
        "ADVOKIT_LOAD_PLUGINS": "shoutouts",  # found through its entry point
    }
    run = subprocess.run(
        ["bash", "-e", package / "try_it.sh"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert '"points": 20' in run.stdout
    assert run.stdout.endswith("c-1: Thanks for the croissant photos\n")


# --------------------------------------------------------------------------- links


def _slugs(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    seen: dict[str, int] = {}
    slugs = set()
    for _, text in _headings(path):
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        slugs.add(slug if count == 0 else f"{slug}-{count}")
    return slugs


def _links() -> list[tuple[str, str]]:
    links = []
    for path in sorted(DOCS.glob("*.md")):
        text = INLINE_CODE.sub("", _without_code_blocks(path.read_text()))
        for match in LINK.finditer(text):
            target = match["target"]
            if not EXTERNAL.match(target):
                links.append((path.name, target))
    return links


def test_docs_link_to_each_other():
    assert len(_links()) >= 4


@pytest.mark.parametrize(("page", "target"), _links())
def test_relative_links_resolve(page, target):
    file_part, _, anchor = target.partition("#")
    source = DOCS / page
    destination = (source.parent / file_part).resolve() if file_part else source
    assert destination.exists(), f"{page}: link target {target!r} does not exist"
    if anchor and destination.suffix == ".md":
        assert anchor in _slugs(destination), (
            f"{page}: {destination.name} has no heading for the anchor #{anchor}"
        )
