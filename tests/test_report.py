"""``advokit report``: the HTML report, read like a person reads it.

A generated shop (NPS and CSAT answers, purchases, shares and reviews,
referred friends who buy, rewards, tiers, a holdout group) is reported through
the command line; the HTML is parsed and every figure it prints is checked
against what ``advokit score NAME --json`` prints for the same program. The
report is rendered in headless Chromium, driven over the DevTools protocol,
which reports every script exception, console error, failed load and network
request: the report must cause none of them.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import importlib
import itertools
import json
import math
import os
import random
import re
import resource
import selectors
import shutil
import stat
import struct
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner, Result

from advokit import Action, Advocate, ManualClock, Program
from advokit.cli import cli
from advokit.core.errors import InvalidValue, UnknownName
from advokit.core.registry import Registered
from advokit.plugins.scoring import Scorer
from advokit.report import build_report, render_html
from advokit.report.formats import MINUS, digits, format_value
from advokit.report.render import resolve, tick_label, ticks
from helpers import write_module

START = datetime(2026, 1, 1, 9, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "report_python.py"
PANELS = (
    "headline",
    "nps_trend",
    "advocates",
    "referral_funnel",
    "top_advocates",
    "time_to_advocacy",
    "rewards",
    "roi",
)

PROGRAM_MODULE = """
from datetime import UTC, datetime, timedelta, timezone

from advokit import ManualClock, Program, Reward
from advokit.plugins.points import Points, PointsRule
from advokit.plugins.referrals import Referrals
from advokit.plugins.rewards import CatalogueItem, Rewards
from advokit.plugins.scoring import Costs, Economics, Holdout, Scoring
from advokit.plugins.tiers import Tier, Tiers

URL = {url!r}
NOW = datetime(2026, 6, 1, tzinfo=UTC)
HOLDOUTS = {holdouts!r}


def build(clock=None):
    return Program(
        name="shop",
        database_url=URL,
        clock=clock or ManualClock(NOW),
        load_entrypoints=False,
        plugins=[
            Points(
                PointsRule("purchase.completed", points=lambda a: a.data["total_cents"] // 100),
                PointsRule("review.posted", points=50),
                PointsRule("share.posted", points=10),
            ),
            Tiers(Tier("bronze", 0), Tier("silver", 300), Tier("gold", 500)),
            Referrals(
                referrer_points=100,
                friend_points=50,
                refund_window=timedelta(days=14),
                friend_reward=Reward(kind="gift_card", amount=500, currency="EUR"),
            ),
            Rewards(CatalogueItem(name="coffee", cost=150, reward=Reward(kind="coupon"))),
            Scoring(
                economics=Economics(
                    costs=Costs(monthly_cents=20_000, per_reward_cents=200),
                    points_value_cents=1,
                    currency="EUR",
                    holdouts=tuple(Holdout(name, share=0.2, salt="r") for name in HOLDOUTS),
                )
            ),
        ],
    )


program = build()
"""


# --------------------------------------------------------------------------- generated data


def populate(program: Program, clock: ManualClock, seed: int = 5) -> list[str]:
    """Five months of a shop, day by day; returns every advocate's external id."""
    rng = random.Random(seed)
    customers: list[str] = []
    everyone: list[str] = []
    due: dict[Any, list[Action]] = defaultdict(list)  # a friend's purchases, by day
    count = 0

    def key(prefix: str) -> str:
        nonlocal count
        count += 1
        return f"{prefix}{count}"

    def purchase(who: str, cents: int) -> Action:
        order = key("o")
        return Action(
            kind="purchase.completed",
            advocate=who,
            key=order,
            data={"order_id": order, "total_cents": cents},
        )

    day = START
    while day < NOW:
        clock.set(day)
        if len(customers) < 150:
            new = [f"c{len(customers) + i:03d}" for i in range(rng.choice([0, 1, 1, 2]))]
            program.enroll_many(Advocate(external_id=who) for who in new)
            customers += new
            everyone += new
        actions = due.pop(day.date(), [])
        if customers and rng.random() < 0.4:
            friend = key("f")
            program.enroll(Advocate(external_id=friend))
            everyone.append(friend)
            referrer = rng.choice(customers)
            actions.append(
                Action(
                    kind="referral.signed_up",
                    advocate=friend,
                    key=f"su-{friend}",
                    data={"referrer": referrer},
                )
            )
            if rng.random() < 0.6:  # a friend who buys comes back a few times
                for later in sorted(rng.sample(range(1, 60), rng.randint(1, 4))):
                    due[(day + timedelta(days=later)).date()].append(
                        purchase(friend, rng.randint(1500, 9000))
                    )
        for _ in range(rng.randint(2, 8) if customers else 0):
            who, draw = rng.choice(customers), rng.random()
            if draw < 0.3:
                actions.append(purchase(who, rng.randint(800, 9000)))
            elif draw < 0.6:
                survey = {"score": rng.choices(range(11), [1, 1, 1, 1, 2, 2, 3, 5, 6, 6, 5])[0]}
                if draw >= 0.5:
                    survey = {"score": rng.randint(2, 5), "survey": "csat"}
                actions.append(
                    Action(kind="survey.answered", advocate=who, key=key("s"), data=survey)
                )
            elif draw < 0.75:
                reach = {"reach": rng.randint(10, 800)}
                actions.append(Action(kind="share.posted", advocate=who, key=key("sh"), data=reach))
            elif draw < 0.85:
                actions.append(Action(kind="review.posted", advocate=who, key=key("rv")))
        program.record_many(actions)
        if day.weekday() == 0:
            program.tick()
        if day.date().isoformat() == "2026-02-01":
            program.assign_holdout("spring")
        day += timedelta(days=1)
    clock.set(NOW - timedelta(hours=1))
    program.tick()
    for who in [who for who in customers if program.balance(who) >= 150][:4]:
        program.redeem(who, "coffee", key=f"coffee-{who}")
    first = program.rewards(states=["approved"], limit=1)[0]
    program.cancel_reward(first.key, actor="maria", reason="sent twice")
    return everyone


@attrs.frozen
class Shop:
    module: str
    url: str
    people: list[str]
    directory: Path

    @property
    def program(self) -> Program:
        return sys.modules[self.module].program  # type: ignore[no-any-return]


def make_shop(
    directory: Path,
    url: str,
    *,
    holdouts: tuple[str, ...] = ("spring",),
    populated: bool = True,
    env: dict[str, str] | None = None,
) -> Shop:
    """Write the program module into ``directory``, migrate its database and
    fill it (``populated``), with ``env`` set meanwhile."""
    name = f"report_shop_{len(list(directory.glob('report_shop_*.py')))}"
    write_module(directory, name, PROGRAM_MODULE, url=url, holdouts=holdouts)
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in (env or {}).items():
            patch.setenv(variable, value)
        module = importlib.import_module(name)
        clock = ManualClock(START)
        filling = module.build(clock)
        filling.migrate()
        people = populate(filling, clock) if populated else []
        filling.close()
    return Shop(name, url, people, directory)


@pytest.fixture
def shop(workdir: Path, database_url: str) -> Iterator[Shop]:
    made = make_shop(workdir, database_url)
    yield made
    made.program.close()
    sys.modules.pop(made.module, None)


@pytest.fixture
def sqlite_shop(workdir: Path) -> Iterator[Shop]:
    made = make_shop(workdir, f"sqlite:///{workdir / 'shop.db'}")
    yield made
    made.program.close()
    sys.modules.pop(made.module, None)


# --------------------------------------------------------------------------- running the CLI


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVOKIT_")}
    return {**env, "ADVOKIT_LOAD_PLUGINS": "", **extra}


def report_command(shop: Shop, *args: str) -> list[str]:
    """``advokit --program MODULE:program report ARGS``."""
    advokit = shutil.which("advokit", path=str(Path(sys.executable).parent))
    assert advokit, f"the advokit script is not installed next to {sys.executable}"
    return [advokit, "--program", f"{shop.module}:program", "report", *args]


def run_report(shop: Shop, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``advokit --program MODULE:program report ARGS`` in a new process."""
    return subprocess.run(
        report_command(shop, *args),
        cwd=shop.directory,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def invoke(*args: str) -> Result:
    runner = CliRunner(env={"ADVOKIT_LOAD_PLUGINS": "", "ADVOKIT_DISABLE_PLUGINS": None})
    return runner.invoke(cli, list(args), catch_exceptions=False)


def score_json(shop: Shop, command: list[str]) -> dict[str, Any]:
    """What ``advokit score ... --json`` prints."""
    result = invoke("--program", f"{shop.module}:program", *command, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- reading the HTML


@attrs.define
class Shown:
    """A figure as the HTML prints it."""

    figure: str  # key.path
    value: str  # the exact value kept in data-value
    unit: str
    text: str = ""
    tag: str = "span"  # tspan in a chart's text


@attrs.define
class Cell:
    attributes: dict[str, str | None]
    text: str = ""


@attrs.define
class Row:
    attributes: dict[str, str | None]
    cells: list[Cell] = attrs.field(factory=list)

    def texts(self) -> list[str]:
        return [" ".join(cell.text.split()) for cell in self.cells]


class Page(HTMLParser):
    """What the tests read in a report: every tag and its attributes, the
    figures, the panels and their notes, the tables' rows, the CSS."""

    VOID = frozenset({"br", "meta", "img", "input", "link", "rect", "line", "circle", "polygon"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.figures: list[Shown] = []
        self.panels: dict[str, bool] = {}
        self.notes: dict[str, list[str]] = defaultdict(list)
        self.tables: dict[str, list[Row]] = defaultdict(list)  # by id (or caption)
        self.styles: list[str] = []
        self._open: list[tuple[str, Any]] = []  # each open tag, and what collects its text
        self._panel = ""
        self._table: list[Row] = []
        self.feed(html)
        self.close()

    def cells(self, attribute: str) -> dict[str, str]:
        """The text of each table cell with ``attribute``, by its value."""
        return {
            str(cell.attributes[attribute]): " ".join(cell.text.split())
            for rows in self.tables.values()
            for row in rows
            for cell in row.cells
            if attribute in cell.attributes
        }

    def rows(self, attribute: str) -> dict[str, list[str]]:
        """The cells' texts of each table row with ``attribute``, by its value."""
        return {
            str(row.attributes[attribute]): row.texts()
            for rows in self.tables.values()
            for row in rows
            if attribute in row.attributes
        }

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        a = dict(attributes)
        self.tags.append((tag, a))
        collector: Any = None
        if tag == "section" and "data-panel" in a:
            self._panel = a["data-panel"] or ""
            self.panels[self._panel] = a.get("data-shown") == "true"
        elif tag in ("span", "tspan") and a.get("class") == "fig":
            collector = Shown(
                a["data-figure"] or "", a["data-value"] or "", a["data-unit"] or "", tag=tag
            )
            self.figures.append(collector)
        elif (tag == "p" and a.get("class") == "note") or (tag == "li" and self._panel):
            collector = self.notes[self._panel]
            collector.append("")
        elif tag == "table":
            self._table = self.tables[a.get("id") or f"table-{len(self.tables)}"]
        elif tag == "tr":
            self._table.append(Row(a))
        elif tag in ("td", "th") and self._table:
            collector = Cell(a)
            self._table[-1].cells.append(collector)
        elif tag == "style":
            collector = self.styles
            collector.append("")
        if tag not in self.VOID:
            self._open.append((tag, collector))

    def handle_startendtag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attributes)))

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        # the innermost collector takes the text: a figure inside a cell is the figure's
        for _, collector in reversed(self._open):
            if isinstance(collector, Shown | Cell):
                collector.text += data
                if isinstance(collector, Shown):
                    continue  # ... and its cell's too
                return
            if isinstance(collector, list):
                collector[-1] += data
                return


NUMBER = re.compile(r"-?\d+(?:\.(\d+))?")


def printed_number(text: str) -> tuple[float, int]:
    """The number a figure's text shows, and how many decimals it shows."""
    plain = text.replace("\u2212", "-").replace(",", "").replace("±", "").replace("+", "")
    match = NUMBER.search(plain)
    assert match is not None, text
    return float(match[0]), len(match[1] or "")


def assert_printed(shown: Shown, exact: Any) -> None:
    """The figure keeps ``exact`` and prints it rounded to its unit's decimals."""
    if exact is None:
        assert shown.value == "" and shown.text.strip() == "\u2014", shown
        return
    assert float(shown.value) == exact, shown
    number, decimals = printed_number(shown.text)
    assert decimals == digits(shown.unit), (shown, exact)
    expected = exact / 100 if shown.unit == "cents" else exact
    assert abs(number - expected) <= 0.5 * 10 ** -digits(shown.unit) + 1e-9, (shown, exact)


# --------------------------------------------------------------------------- figures


def test_the_report_agrees_with_advokit_score_and_the_program(shop: Shop, workdir: Path) -> None:
    done = run_report(shop, "--out", "report.html", "--top", "5", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["out"] == str(workdir / "report.html")
    page = Page((workdir / "report.html").read_text(encoding="utf-8"))
    assert page.panels == dict.fromkeys(PANELS, True), page.notes
    assert [p["key"] for p in report["panels"]] == list(PANELS)
    check_figures(shop, report, page)
    check_counts_and_rankings(shop, page)


def check_figures(shop: Shop, report: dict[str, Any], page: Page) -> None:
    # every figure is what `advokit score` prints, asked the same question
    figures: dict[str, dict[str, Any]] = {}
    for panel in report["panels"]:
        for key, figure in panel["figures"].items():
            assert key not in figures
            assert figure["score"] is not None, (key, figure["note"])
            printed = score_json(shop, figure["command"])
            assert printed == figure["score"], key
            figures[key] = printed
    assert len(figures) == 16  # 8 headline; NPS by month, types, funnel, CAS, speed; 2 ROI, lift

    # and every number the HTML prints from a score is that score's, rounded
    assert len(page.figures) > 150
    for shown in page.figures:
        key, _, path = shown.figure.partition(".")
        assert_printed(shown, resolve(figures[key], path))
    keys_shown = {shown.figure.partition(".")[0] for shown in page.figures}
    assert keys_shown == set(figures)
    monthly = figures["nps_by_month"]["periods"]
    assert len(monthly) == 5  # January to May
    for month in monthly:
        for part in ("value", "margin", "n", "counts.promoters", "counts.detractors"):
            assert f"nps_by_month.periods.{month['period']}.{part}" in {
                s.figure for s in page.figures
            }
    # the funnel chart's rates from the step before are the scorer's, as the table's
    in_chart = {s.figure for s in page.figures if s.tag == "tspan"}
    assert in_chart == {
        "referral_funnel.details.rates.attributed->converted.value",
        "referral_funnel.details.rates.converted->rewarded.value",
    }
    assert in_chart <= {s.figure for s in page.figures if s.tag == "span"}
    conversion = figures["advocacy_conversion"]
    assert conversion["inputs"]["within_days"] == 30  # what its label says
    speed = figures["time_to_advocacy"]
    assert {"p25", "p75", "p90"} <= set(speed["details"])
    assert all(
        f"time_to_advocacy.details.{q}" in {s.figure for s in page.figures}
        for q in ("p25", "p75", "p90")
    )


def check_counts_and_rankings(shop: Shop, page: Page) -> None:
    program = shop.program

    # tiers: program.tier(advocate), one advocate at a time
    tiers = Counter(program.tier(who).tier.name for who in shop.people)
    assert sum(tiers.values()) == len(shop.people) > 150
    assert tiers["silver"] > 0 and tiers["gold"] > 0
    assert page.cells("data-count") == {f"tier.{name}": f"{n:,}" for name, n in tiers.items()}

    # rewards: program.rewards(), every one of them
    rewards = program.rewards()
    kinds = Counter(r.reward.kind for r in rewards)
    assert kinds["gift_card"] > 10 and kinds["coupon"] == 4
    assert Counter(r.state.value for r in rewards)["canceled"] == 1
    owed = sum(
        r.reward.amount
        for r in rewards
        if r.reward.currency == "EUR" and r.state.value not in ("canceled", "reversed")
    )
    assert page.cells("data-money") == {"EUR": f"{owed / 100:,.2f} EUR"}
    gift_cards = [r for r in rewards if r.reward.kind == "gift_card"]
    paid = [r for r in gift_cards if r.state.value not in ("canceled", "reversed")]
    assert page.rows("data-reward") == {
        "gift_card:EUR": [
            "gift card",
            f"{len(gift_cards):,}",
            f"{len(paid):,}",
            "1",
            f"{sum(r.reward.amount for r in paid) / 100:,.2f} EUR",
        ],
        "coupon:": ["coupon", "4", "4", "0", "4 units"],
    }

    # the top advocates by CAS, each as `advokit score cas --option advocate=ID` says
    by_cas = [(row.texts()[1], row.cells[2]) for row in page.tables["rank-cas"][1:]]
    assert len(by_cas) == 5
    values = [float(cell.attributes["data-rank-value"] or "") for _, cell in by_cas]
    assert values == sorted(values, reverse=True)
    for (advocate, cell), value in zip(by_cas, values, strict=True):
        alone = score_json(shop, ["score", "cas", "--option", f"advocate={advocate}"])
        assert alone["value"] == pytest.approx(value, abs=1e-9)
        assert cell.text == f"{value:.1f}"
    # ... and by points, each advocate's balance
    by_points = [row.texts()[1:3] for row in page.tables["rank-points"][1:]]
    assert len(by_points) == 5
    assert all(f"{program.balance(who):,}" == points for who, points in by_points)
    assert by_points[0][1] == f"{max(program.balance(who) for who in shop.people):,}"


def test_a_window_and_a_title(sqlite_shop: Shop, workdir: Path) -> None:
    done = run_report(
        sqlite_shop,
        "--out",
        "spring.html",
        "--from",
        "2026-03-01",
        "--to",
        "2026-05-01",
        "--title",
        "Spring <b>& co</b>",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["window"] == {
        "start": "2026-03-01T00:00:00+00:00",
        "end": "2026-05-01T00:00:00+00:00",
    }
    monthly = report["panels"][1]["figures"]["nps_by_month"]
    assert [p["period"] for p in monthly["score"]["periods"]] == ["2026-03-01", "2026-04-01"]
    assert monthly["command"][-4:] == [
        "--from",
        "2026-03-01T00:00:00+00:00",
        "--to",
        "2026-05-01T00:00:00+00:00",
    ]
    assert score_json(sqlite_shop, monthly["command"]) == monthly["score"]
    html = (workdir / "spring.html").read_text(encoding="utf-8")
    assert "<title>Spring &lt;b&gt;&amp; co&lt;/b&gt;</title>" in html
    assert "1 Mar 2026 to 1 May 2026 (excluded)" in html


def test_advocate_ids_are_escaped_and_read_back(sqlite_shop: Shop) -> None:
    odd = "<b>&\"x'"
    program = sqlite_shop.program
    program.enroll(Advocate(external_id=odd))
    order = {"order_id": "odd", "total_cents": 5_000_000}
    program.record(Action(kind="purchase.completed", advocate=odd, key="o-odd", data=order))
    assert program.balance(odd) == 50_000  # the top of the points ranking

    html = render_html(build_report(program, top=5))
    assert odd not in html
    page = Page(html)
    first = page.tables["rank-points"][1]
    assert first.texts()[:3] == ["1", odd, "50,000"]
    bars = [a for tag, a in page.tags if tag == "svg" and a.get("class") == "cell-bar"]
    assert f"{odd}: 50,000" in [a["aria-label"] for a in bars]


def test_the_generation_time_is_in_utc(sqlite_shop: Shop) -> None:
    paris = timezone(timedelta(hours=2))
    program = sys.modules[sqlite_shop.module].build(
        lambda: datetime(2026, 6, 1, 12, 30, tzinfo=paris)
    )
    data = build_report(program, window=timedelta(days=30))
    assert data.generated_at.utcoffset() == timedelta(0)
    assert data.to_json()["generated_at"] == "2026-06-01T10:30:00+00:00"
    assert data.window.end == datetime(2026, 6, 1, 10, 30, tzinfo=UTC)
    assert "<dt>Generated</dt><dd>1 Jun 2026 10:30 UTC</dd>" in render_html(data)
    program.close()


def test_the_conversion_is_asked_over_the_days_its_label_says(
    sqlite_shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    scorer = sqlite_shop.program.registries.scorers["advocacy_conversion"]
    monkeypatch.setattr(scorer, "options", {**scorer.options, "within_days": 7})
    data = build_report(sqlite_shop.program)
    figure = data.panel("headline").figures["advocacy_conversion"]
    assert figure.label == "Promoters advocating within 30 days"
    assert figure.score is not None and figure.score.inputs["within_days"] == 30
    assert figure.command(data.window)[-2:] == ["--option", "within_days=30"]


# --------------------------------------------------------------------------- self-contained


EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", re.I)


def external_references(page: Page) -> list[str]:
    """Scripts, event handlers, and anything the page would fetch or link to."""
    found = []
    for tag, attributes in page.tags:
        if tag in ("script", "link", "iframe", "object", "embed", "base", "img", "image", "use"):
            found.append(f"<{tag}>")
        for name, value in attributes.items():
            if name.startswith("on"):
                found.append(f"{tag} {name}")
            fetched = name in ("src", "href", "xlink:href", "action", "srcset", "poster", "data")
            if fetched and value is not None and EXTERNAL.match(value):
                found.append(f"{tag} {name}={value}")
    css = "".join(page.styles)
    found += re.findall(r"@import|url\(", css)
    return found


def write_report(shop: Shop, out: Path) -> None:
    """``advokit report --out OUT``, in this process."""
    result = invoke("--program", f"{shop.module}:program", "report", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n" and result.stderr == ""


def test_the_report_is_self_contained(sqlite_shop: Shop, workdir: Path) -> None:
    write_report(sqlite_shop, workdir / "report.html")
    html = (workdir / "report.html").read_text(encoding="utf-8")
    page = Page(html)
    assert external_references(page) == []
    assert "<script" not in html.lower()
    assert "http" not in html  # not even an SVG namespace: HTML needs none
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*//""", html, re.I)
    assert html.startswith("<!DOCTYPE html>")
    # the check would see them
    bad = Page(
        '<img src="https://example.com/a.png"><a href="//cdn.example/x">x</a><script></script>'
    )
    assert len(external_references(bad)) == 4

    # accessible: every chart is an image named by its title and description,
    # its numbers are in a table or text next to it, and the tables say what they are
    charts = [a for tag, a in page.tags if tag == "svg" and "chart" in (a.get("class") or "")]
    assert len(charts) == 8
    ids = {a.get("id") for _, a in page.tags}
    for chart in charts:
        assert chart["role"] == "img"
        labels = (chart["aria-labelledby"] or "").split()
        assert labels == [f"{chart['id']}-title", f"{chart['id']}-desc"]
        assert set(labels) <= ids
    cell_bars = [a for tag, a in page.tags if tag == "svg" and a.get("class") == "cell-bar"]
    assert cell_bars and all(a.get("role") == "img" and a.get("aria-label") for a in cell_bars)
    assert sum(1 for tag, _ in page.tags if tag == "caption") == sum(
        1 for tag, _ in page.tags if tag == "table"
    )
    css = "".join(page.styles)
    assert "@media print" in css and "break-before: page" in css


# --------------------------------------------------------------------------- left out, with a note


def test_a_missing_scorer_leaves_its_panel_out_with_a_note(
    sqlite_shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = sqlite_shop.program
    scorers = program.registries.scorers
    for name in ("roi", "lift", "time_to_advocacy"):
        monkeypatch.delitem(scorers._items, name)
    data = build_report(program)
    assert {p.key: p.shown for p in data.panels} == {
        **dict.fromkeys(PANELS, True),
        "roi": False,
        "time_to_advocacy": False,
    }
    assert data.panel("roi").notes == (
        "the scorers 'roi', 'lift' are not registered (no plugin of the program provides them)",
    )
    page = Page(render_html(data))
    assert page.panels["roi"] is False and page.panels["time_to_advocacy"] is False
    assert page.notes["roi"] == [
        "Left out: the scorers 'roi', 'lift' are not registered "
        "(no plugin of the program provides them)"
    ]
    assert page.notes["time_to_advocacy"] == [
        "Left out: the scorer 'time_to_advocacy' is not registered "
        "(no plugin of the program provides it)"
    ]
    assert not any(s.figure.startswith(("roi", "lift", "time_to_advocacy")) for s in page.figures)


def test_without_the_scoring_plugin_only_the_counts_are_shown(workdir: Path) -> None:
    off = {"ADVOKIT_DISABLE_PLUGINS": "scoring"}
    shop = make_shop(
        workdir, f"sqlite:///{workdir / 'plain.db'}", holdouts=(), populated=False, env=off
    )
    clock = ManualClock(START)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADVOKIT_DISABLE_PLUGINS", "scoring")
        program = sys.modules[shop.module].build(clock)
    program.enroll_many(Advocate(external_id=f"c{n}") for n in range(3))
    for n in range(3):
        program.record(
            Action(
                kind="purchase.completed",
                advocate=f"c{n}",
                key=f"o{n}",
                data={"order_id": f"o{n}", "total_cents": 40_000 * n},
            )
        )
    program.redeem("c2", "coffee", key="coffee")
    program.close()

    done = run_report(shop, "--out", "plain.html", **off)
    assert done.returncode == 0, done.stderr
    page = Page((workdir / "plain.html").read_text(encoding="utf-8"))
    shown = {key for key, on in page.panels.items() if on}
    assert shown == {"advocates", "top_advocates", "rewards"}
    assert page.figures == []  # no score at all
    absent = "(the scoring plugin is not part of the program)"
    assert page.notes["nps_trend"] == [f"Left out: the scorer 'nps' is not registered {absent}"]
    assert page.notes["headline"][0].startswith("Left out: the scorers 'nps', 'csat', ")
    assert page.notes["advocates"] == [
        f"Not shown: the scorer 'advocate_types' is not registered {absent}"
    ]
    assert page.notes["top_advocates"] == [
        f"Not shown: the scorer 'cas' is not registered {absent}",
        f"Not shown: Top advocates by CAS: the query program.advocacy_scores() is not "
        f"registered {absent}",
    ]
    # c1 earned 400 points, c2 800 (and spent 150 of them, which keeps its tier)
    assert page.cells("data-count") == {"tier.bronze": "1", "tier.silver": "1", "tier.gold": "1"}
    assert dict(Counter(line.split(":")[0] for line in done.stderr.splitlines())) == {"Note": 5}


def test_figures_that_cannot_be_computed_are_left_out_with_why(workdir: Path) -> None:
    # no data at all, and no holdout configured: every panel is a note, nothing breaks
    url = f"sqlite:///{workdir / 'empty.db'}"
    shop = make_shop(workdir, url, holdouts=(), populated=False)
    data = build_report(shop.program)
    assert not any(panel.shown for panel in data.panels)
    assert data.panel("roi").notes == (
        "ROI, naive: no program cost configured or incurred: ROI is undefined; "
        "no purchase by a referred friend in the window",
        "ROI, holdout-based: no holdout experiment is configured "
        "(Scoring(economics=Economics(holdouts=...)))",
    )
    assert data.panel("nps_trend").notes == ("no survey.answered actions for this survey",)
    assert data.panel("rewards").notes == ("no reward was issued in the window",)
    page = Page(render_html(data))
    assert page.panels == dict.fromkeys(PANELS, False)
    assert page.figures == []
    assert all(page.notes[key] for key in PANELS)
    shop.program.close()
    sys.modules.pop(shop.module, None)


def test_a_scorer_that_breaks_leaves_its_figure_out_saying_how(
    sqlite_shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken(Scorer):
        name = "csat"

        def compute(self, scope: Any) -> Any:
            raise RuntimeError("the survey service\nis down")

    scorers = sqlite_shop.program.registries.scorers
    monkeypatch.setitem(scorers._items, "csat", Registered("csat", Broken(), "surveys"))
    data = build_report(sqlite_shop.program)
    headline = data.panel("headline")
    assert headline.shown is True
    assert headline.notes == (
        "Customer satisfaction: the scorer 'csat' failed: RuntimeError: the survey service is down",
    )
    assert "csat" not in {s.figure.partition(".")[0] for s in Page(render_html(data)).figures}


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--out", "missing/report.html"), "the directory"),
        (("--out", "."), "--out='.' is a directory"),
        ((), "--out is required"),
        (("--out", "r.html", "--from", "yesterday"), "--from='yesterday' is not valid"),
        (
            ("--out", "r.html", "--from", "2026-05-01", "--to", "2026-04-01"),
            "expected an end at or after its start",
        ),
        (("--out", "r.html", "--holdout", "autumn"), "holdout='autumn' is not valid"),
        (("--out", "r.html", "--title", " "), "title=' ' is not valid"),
        (("--out", " "), "--out=' ' is not valid"),
        # not writable (a user), or writable by the checks and not by the kernel (root)
        (("--out", "/proc/r.html"), "/proc"),
    ],
)
def test_bad_options_are_one_line_errors(
    sqlite_shop: Shop, workdir: Path, args: tuple[str, ...], message: str
) -> None:
    result = invoke("--program", f"{sqlite_shop.module}:program", "report", *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    assert not (workdir / "r.html").exists()


def test_a_failed_write_is_one_line_and_leaves_the_old_report(
    sqlite_shop: Shop, workdir: Path
) -> None:
    old = workdir / "report.html"
    old.write_text("the last report")
    # as a full disk would: writing past 48 KiB fails (EFBIG), which leaves room
    # for SQLite's 32 KiB shared-memory file and none for the report
    limit = 48 * 1024
    write_report(sqlite_shop, workdir / "sized.html")
    assert (workdir / "sized.html").stat().st_size > limit

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        report_command(sqlite_shop, "--out", "report.html"),
        cwd=workdir,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_files,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.splitlines() == [f"Error: cannot write {old}: [Errno 27] File too large"]
    assert old.read_text() == "the last report"
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(".report")) == []


def test_a_new_report_gets_the_umask_s_mode_a_replaced_one_keeps_its_own(
    sqlite_shop: Shop, workdir: Path
) -> None:
    kept = workdir / "kept.html"
    kept.write_text("the last report")
    kept.chmod(0o600)
    previous = os.umask(0o027)
    try:
        write_report(sqlite_shop, workdir / "new.html")
        write_report(sqlite_shop, kept)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((workdir / "new.html").stat().st_mode) == 0o640
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_json_alone_writes_no_file(sqlite_shop: Shop, workdir: Path) -> None:
    result = invoke("--program", f"{sqlite_shop.module}:program", "report", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["out"] is None
    assert printed == {"out": None, **build_report(sqlite_shop.program).to_json()}
    assert list(workdir.glob("*.html")) == []


def test_build_report_refuses_bad_arguments_naming_them(sqlite_shop: Shop) -> None:
    program = sqlite_shop.program
    with pytest.raises(InvalidValue, match="program='shop' is not valid"):
        build_report("shop")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="expected the ReportData"):
        render_html({"title": "x"})  # type: ignore[arg-type]
    for kwargs, field in [
        ({"title": ""}, "title"),
        ({"title": "two\nlines"}, "title"),
        ({"title": " a\rb\t "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"top": 0}, "top"),
        ({"top": True}, "top"),
        ({"holdout": 3}, "holdout"),
        ({"window": "last week"}, "window"),
    ]:
        with pytest.raises(InvalidValue) as caught:
            build_report(program, **kwargs)
        assert caught.value.field == field
    with pytest.raises(UnknownName, match="expected one of spring"):
        build_report(program, holdout="autumn")


def test_rendering_is_a_function_of_the_data(sqlite_shop: Shop) -> None:
    data = build_report(sqlite_shop.program, title="Shop")
    assert render_html(data) == render_html(build_report(sqlite_shop.program, title="Shop"))
    assert data.to_json() == json.loads(json.dumps(data.to_json()))
    assert data.panel("headline").figures["nps"].score == sqlite_shop.program.score("nps")


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (-0.04, "points", "0.0"),  # no minus sign on a figure that rounds to zero
        (-12.345, "points", "\u221212.3"),
        (123456, "cents", "1,234.56 EUR"),
        (49.25, "%", "49.2%"),  # rounded half to even, as Python's format does
        (1.0, "days", "1.0 day"),
        (13, "days", "13.0 days"),
        (0.1776, "ratio", "0.18"),
        (1234, "count", "1,234"),
        (None, "%", "\u2014"),
    ],
)
def test_numbers_are_written_for_people(value: Any, unit: str, shown: str) -> None:
    assert format_value(value, unit, currency="EUR") == shown


@pytest.mark.parametrize(
    ("low", "high", "whole"),
    [
        (0, 0, True),
        (0, 197, True),
        (0, 9, True),
        (-4.75, 2.14, False),
        (3, 3.4, False),
        (0, 0.004, False),
    ],
)
def test_chart_ticks_are_round_and_cover_the_values(low: float, high: float, whole: bool) -> None:
    marks = ticks(low, high, 4, whole=whole)
    assert marks[0] <= low and marks[-1] >= high and 2 <= len(marks) <= 7
    steps = {round(b - a, 9) for a, b in itertools.pairwise(marks)}
    assert len(steps) == 1
    step = steps.pop()
    assert step >= 1 if whole else step > 0
    assert round(step / 10 ** math.floor(math.log10(step)), 9) in (1, 2, 2.5, 5)
    if whole:  # counts: 2.5 of them is no tick, and 3 no round step
        assert round(step / 10 ** math.floor(math.log10(step)), 9) in (1, 2, 5)

    # each tick reads differently, all with the same decimals, and reads back as its value
    labels = [tick_label(mark, marks[1] - marks[0]) for mark in marks]
    assert len(set(labels)) == len(labels), labels
    assert len({len(label.partition(".")[2]) for label in labels}) == 1, labels
    for mark, label in zip(marks, labels, strict=True):
        assert float(label.replace(MINUS, "-").replace(",", "")) == pytest.approx(mark, abs=1e-12)


def test_the_docs_example_writes_a_report(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    page = Page((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert page.panels["nps_trend"] is True and page.panels["roi"] is False
    assert "NPS by month: shown" in done.stdout
    assert "Return on investment: left out" in done.stdout


# --------------------------------------------------------------------------- headless Chromium


def chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    )
    if found is None:
        reason = "chromium is not installed (the Debian package chromium; .ci/run installs it)"
        if os.environ.get("ADVOKIT_REQUIRE_SERVICES", "") not in ("", "0"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # nothing leaves the machine, whatever a page asks for
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def _above_4(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 5)
    os.close(fd)
    return moved


class DevTools:
    """Chromium driven over ``--remote-debugging-pipe``: DevTools protocol
    messages, NUL-terminated JSON, written to its fd 3 and read from its fd 4."""

    def __init__(self, binary: str, profile: Path) -> None:
        # above 4, so that moving one pipe end to fd 3 or 4 never overwrites the other
        to_read, self._to = (_above_4(fd) for fd in os.pipe())
        self._from, from_write = (_above_4(fd) for fd in os.pipe())

        def pipes() -> None:  # in the child, before exec: the pipes become fds 3 and 4
            os.dup2(to_read, 3)
            os.dup2(from_write, 4)

        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=pipes,
        )
        os.close(to_read)
        os.close(from_write)
        self._buffer = b""
        self._last = 0
        self.events: list[dict[str, Any]] = []

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            with selectors.DefaultSelector() as selector:
                selector.register(self._from, selectors.EVENT_READ)
                if not selector.select(left):
                    continue
            chunk = os.read(self._from, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed its DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)  # type: ignore[no-any-return]

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._last += 1
        message: dict[str, Any] = {"id": self._last, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._last:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]  # type: ignore[no-any-return]
            self.events.append(reply)

    def wait_for(self, method: str) -> None:
        deadline = time.monotonic() + 60
        while not any(event.get("method") == method for event in self.events):
            self.events.append(self._message(deadline))

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError, RuntimeError, TimeoutError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to)
        os.close(self._from)


@attrs.frozen
class Rendered:
    """What Chromium made of a page, and every complaint it had."""

    problems: list[str]  # uncaught exceptions, console errors and warnings, failed loads
    requests: list[str]  # every URL the page asked for
    facts: dict[str, Any]  # measured in the rendered page
    screenshot: bytes
    pdf: bytes


def render(page: Path, profile: Path, width: int = 1280, height: int = 2000) -> Rendered:
    browser = DevTools(chromium(), profile)
    try:
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            browser.call(f"{domain}.enable", session)
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        browser.call("Page.navigate", session, url=page.as_uri())
        browser.wait_for("Page.loadEventFired")
        facts = browser.call(
            "Runtime.evaluate",
            session,
            returnByValue=True,
            expression="""({
                charts: [...document.querySelectorAll('svg.chart')].map(svg => {
                    const box = svg.getBoundingClientRect();
                    return [svg.id, box.width, box.height, svg.getBBox().width];
                }),
                overflowing: document.documentElement.scrollWidth > window.innerWidth,
                sections: document.querySelectorAll('section.panel').length,
            })""",
        )["result"].get("value", {})
        shot = browser.call("Page.captureScreenshot", session, format="png")
        pdf = browser.call("Page.printToPDF", session, preferCSSPageSize=True)
    finally:
        browser.close()
    problems, requests = [], []
    for event in browser.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            problems.append(f"{details['text']} {details.get('exception', {}).get('description')}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in (
            "error",
            "warning",
            "assert",
        ):
            problems.append(f"console.{params['type']}: {params['args']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            problems.append(f"log {params['entry']['level']}: {params['entry']['text']}")
        elif method == "Network.requestWillBeSent":
            requests.append(params["request"]["url"])
    return Rendered(
        problems,
        requests,
        facts,
        base64.b64decode(shot["data"]),
        base64.b64decode(pdf["data"]),
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])  # type: ignore[return-value]


def test_the_report_renders_in_chromium_without_a_complaint(
    sqlite_shop: Shop, workdir: Path, tmp_path: Path
) -> None:
    chromium()
    report = workdir / "report.html"
    write_report(sqlite_shop, report)
    rendered = render(report, tmp_path / "profile")
    assert rendered.problems == []
    assert rendered.requests == [report.as_uri()]  # the page itself, nothing else

    # every chart drew something, nothing sticks out of the page, every panel is there
    charts = rendered.facts["charts"]
    assert len(charts) == 8
    assert all(width > 300 and height > 60 and drawn > 100 for _, width, height, drawn in charts)
    assert rendered.facts["overflowing"] is False
    assert rendered.facts["sections"] == len(PANELS)
    (tmp_path / "report.png").write_bytes(rendered.screenshot)  # to look at
    assert png_size(rendered.screenshot) == (1280, 2000)
    assert len(rendered.screenshot) > 100_000  # text and charts, not a blank page

    # it prints: A4 pages, a new page for each panel
    assert rendered.pdf.startswith(b"%PDF-")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", rendered.pdf)
    assert len(pages) >= len(PANELS)
    boxes = set(re.findall(rb"/MediaBox\s*\[([^\]]*)\]", rendered.pdf))
    assert len(boxes) == 1
    width, height = (float(n) for n in boxes.pop().split()[2:])
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)


def test_the_chromium_check_sees_a_broken_page(tmp_path: Path) -> None:
    chromium()
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>broken</title></head><body><p>hello</p>"
        '<img src="missing.png" alt="">'
        "<script>undefinedFn()</script><script>console.error('boom')</script></body></html>"
    )
    rendered = render(page, tmp_path / "profile")
    assert any("Uncaught" in p and "undefinedFn is not defined" in p for p in rendered.problems)
    assert any(p.startswith("console.error") and "boom" in p for p in rendered.problems)
    assert any(p.startswith("log error") and "ERR_FILE_NOT_FOUND" in p for p in rendered.problems)
    assert rendered.requests == [page.as_uri(), (tmp_path / "missing.png").as_uri()]
