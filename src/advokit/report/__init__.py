"""The program's report: one self-contained HTML file with its key figures.

::

    from advokit.report import build_report, render_html

    data = build_report(program, window=(start, end))
    Path("report.html").write_text(render_html(data), encoding="utf-8")

or ``advokit --program shop:program report --out report.html``. The figures
come from the same scorers as ``advokit score`` (``program.score(...)``); a
panel whose scorer is missing or has no data is left out with a note saying
why. The HTML has inline CSS and SVG charts, no script and no link to anything
outside it, so it opens by double-click, offline, and prints a page per panel.
What each panel shows and how: ``docs/report.md``.
"""

from __future__ import annotations

from advokit.report.gather import build_report
from advokit.report.model import Count, Figure, Panel, Ranked, ReportData, RewardLine
from advokit.report.render import render_html

__all__ = [
    "Count",
    "Figure",
    "Panel",
    "Ranked",
    "ReportData",
    "RewardLine",
    "build_report",
    "render_html",
]
