"""A program's report from Python: build_report gathers the figures, render_html
writes them as one self-contained HTML file (report.html, in the current directory)."""

from datetime import UTC, datetime
from pathlib import Path

from advokit import Action, Advocate, ManualClock, Program
from advokit.report import build_report, render_html

# an in-memory bakery: 40 customers enrolled in December, five months of NPS answers
clock = ManualClock(datetime(2025, 12, 1, tzinfo=UTC))
program = Program(name="bakery", database_url="sqlite://", clock=clock, load_entrypoints=False)
program.migrate()
program.enroll_many(Advocate(external_id=f"c{n}") for n in range(40))
SCORES = [10, 9, 7, 10, 3, 9, 8, 10, 6, 9, 10]
clock.set(datetime(2026, 7, 1, tzinfo=UTC))
program.record_many(
    Action(
        kind="survey.answered",
        advocate=f"c{n % 40}",
        key=f"answer-{n}",
        occurred_at=datetime(2026, 1 + n % 5, 1 + n % 28, tzinfo=UTC),
        data={"score": SCORES[n % len(SCORES)]},
    )
    for n in range(200)
)

data = build_report(
    program,
    window=(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
    title="The bakery, first half of 2026",
)
nps = data.panel("nps_trend").figures["nps_by_month"].score
print(f"NPS {nps.value:.1f} ± {nps.margin:.1f}, {len(nps.periods)} months")
for panel in data.panels:
    print(f"{panel.title}: " + ("shown" if panel.shown else f"left out: {'; '.join(panel.notes)}"))
Path("report.html").write_text(render_html(data), encoding="utf-8")

# what the report page says: NPS by month and the counts are shown, the
# referral, rewards and ROI panels are left out with the reason
assert [panel.key for panel in data.panels if panel.shown] == [
    "headline",
    "nps_trend",
    "advocates",
    "top_advocates",
]
assert data.panel("rewards").notes == ("the rewards plugin is not part of the program",)
assert (round(nps.value, 1), len(nps.periods)) == (46.0, 5)
