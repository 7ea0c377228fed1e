"""The docs keep their promises: every hook is documented, examples run, links resolve."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from advokit import hookspecs

DOCS = Path(__file__).parent.parent / "docs"
HOOKS_PAGE = DOCS / "plugin-hooks.md"
TESTING_PAGE = DOCS / "testing-plugins.md"

#: A fenced code block: its info string and its body.
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
#: The marker of a complete test file: ```python title="test_something.py"
TEST_FILE_INFO = re.compile(r'python\s+title="(?P<name>test_\w+\.py)"')
HEADING = re.compile(r"^(?P<level>#{1,6}) +(?P<text>.+?) *$", re.M)
HOOK_HEADING = re.compile(r"(?P<name>advokit_\w+)\((?P<args>[^)]*)\)")
LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
INLINE_CODE = re.compile(r"`[^`\n]*`")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def _without_code_blocks(text: str) -> str:
    return FENCE.sub("", text)


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


@pytest.mark.parametrize("heading", sorted(_hook_sections()))
def test_every_hook_section_has_the_fixed_shape(heading):
    body = _hook_sections()[heading]
    for label in ("**When called.**", "**Arguments.**", "**Returns / semantics.**"):
        assert label in body, f"section {heading!r} lacks {label}"
    blocks = [m for m in FENCE.finditer(body) if m["info"].strip().startswith("python")]
    assert blocks, f"section {heading!r} has no python example"


# --------------------------------------------------------------------------- examples


def _python_blocks() -> list[object]:
    blocks = []
    for path in sorted(DOCS.glob("*.md")):
        for number, match in enumerate(FENCE.finditer(path.read_text()), start=1):
            if match["info"].strip().split(" ")[0] == "python":
                where = f"{path.name}:block{number}"
                blocks.append(pytest.param(where, match["body"], id=where))
    return blocks


@pytest.mark.parametrize(("where", "source"), _python_blocks())
def test_python_examples_are_valid_python(where, source):
    compile(source, where, "exec")


def _test_files() -> list[object]:
    files = []
    for match in FENCE.finditer(TESTING_PAGE.read_text()):
        marker = TEST_FILE_INFO.fullmatch(match["info"].strip())
        if marker:
            files.append(pytest.param(marker["name"], match["body"], id=marker["name"]))
    return files


def test_testing_page_has_a_complete_test_file():
    assert _test_files(), 'testing-plugins.md has no ```python title="test_....py" block'


@pytest.mark.parametrize(("name", "source"), _test_files())
def test_example_test_file_passes(name, source, tmp_path):
    (tmp_path / name).write_text(source)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # no configuration from elsewhere
    env = {**os.environ, "ADVOKIT_LOAD_PLUGINS": ""}
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)  # the fixtures come from the pytest11 entry
    env.pop("PYTEST_ADDOPTS", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", name, "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    assert " passed" in result.stdout


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
