"""The documentation site builds with `mkdocs build --strict`, offline, and documents every hook."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from advokit import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HEADING = re.compile(
    r"<h(?P<level>[1-6]) id=\"(?P<id>[^\"]+)\"[^>]*>(?P<text>.*?)</h(?P=level)>", re.S
)
TAG = re.compile(r"<[^>]+>")
#: Tags that make a browser fetch something: scripts, images, frames, and <link>s.
ASSET_TAG = re.compile(r"<(?:script|img|iframe|link)\b[^>]*>", re.I)
REMOTE = re.compile(r"\s(?:src|href)=\"(?:https?:)?//", re.I)
#: <link rel=...> values that only point somewhere, fetching nothing.
NOT_FETCHED = re.compile(r"\srel=\"(?:canonical|alternate|author|license)\"", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once for this module the way CI builds it."""
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    assert "WARNING" not in result.stderr, result.stderr
    return out


def _headings(page: Path) -> list[str]:
    text = page.read_text()
    return [html.unescape(TAG.sub("", m["text"])).strip() for m in HEADING.finditer(text)]


def _hooks() -> list[str]:
    return sorted(name for name in dir(hookspecs) if name.startswith("advokit_"))


def test_the_site_builds_in_strict_mode(site):
    pages = {path.relative_to(site).as_posix() for path in site.rglob("index.html")}
    for page in ("index.html", "getting-started/index.html", "plugin-hooks/index.html"):
        assert page in pages
    assert any(page.startswith("api/") for page in pages)


def test_every_hook_has_a_heading_on_the_built_hooks_page(site):
    headings = _headings(site / "plugin-hooks" / "index.html")
    assert len(_hooks()) >= 20
    for hook in _hooks():
        assert any(h.startswith(f"{hook}(") for h in headings), f"no heading for {hook}"


def test_the_api_reference_renders_every_hookspec(site):
    text = (site / "api" / "hookspecs" / "index.html").read_text()
    for hook in _hooks():
        assert f'id="advokit.hookspecs.{hook}"' in text, f"the API reference lacks {hook}"


def test_the_api_reference_shows_no_sphinx_markup(site):
    """Docstrings' :class:`...`, ``Example::`` and ``.. versionadded::`` show as Markdown."""
    for page in (site / "api").rglob("*.html"):
        text = page.read_text()
        for markup in (":class:`", ":func:`", ".. versionadded::", "Example::"):
            assert markup not in text, f"{page.relative_to(site)} shows {markup!r}"


def test_examples_are_included_not_quoted(site):
    """Snippet includes are expanded: pages show the example files' code."""
    for page in site.rglob("*.html"):
        assert "--8&lt;--" not in page.read_text(), f"{page}: an include was not expanded"
    hooks_page = (site / "plugin-hooks" / "index.html").read_text()
    assert "PigeonPost" in hooks_page  # from docs/examples/hooks_register_channels.py


def _remote_assets(text: str) -> list[str]:
    return [
        tag for tag in ASSET_TAG.findall(text) if REMOTE.search(tag) and not NOT_FETCHED.search(tag)
    ] + re.findall(r"@import\s+url\([\"']?(?:https?:)?//[^)]*\)", text)


def test_remote_assets_are_recognised():
    assert _remote_assets('<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>')
    assert _remote_assets('<script src="//cdn.example/x.js"></script>')
    assert not _remote_assets('<a href="https://pluggy.readthedocs.io">pluggy</a>')
    assert not _remote_assets('<link rel="stylesheet" href="../assets/main.css">')


def test_the_site_needs_no_network(site):
    """No fonts, scripts or styles from a CDN: the site reads offline."""
    for page in site.rglob("*.html"):
        found = _remote_assets(page.read_text())
        assert not found, f"{page.relative_to(site)} loads {found}"
