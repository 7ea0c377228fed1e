"""Leaderboards: all-time, today, this week, this month or any range of days.

::

    from advokit.plugins.leaderboards import Board, Leaderboards

    Leaderboards(
        Board("points"),                                 # points earned, account "points"
        Board("reviewers", count="review.posted"),       # how many reviews
        timezone="Europe/Paris",                         # where days, weeks, months begin
    )

    program.board("points", window="week", limit=10)              # this week's top 10
    program.board("points", window="week", at=last_monday)        # last week's
    program.board("reviewers", window=(date(2026, 6, 1), date(2026, 6, 14)))
    program.board("points", segment="vip", ranking="dense")
    program.board_position("points", "ann", window="month", neighbours=2)

* A board ranks **points earned** in an account (awards less reversals:
  spending never lowers it) or a **count** of actions of a kind (``where``
  narrows them).
* **Expired points never count**: when the tick finds points that expired,
  it takes them off the day, week and month they were earned in and off the
  all-time total, so this week's board is not lowered by old points expiring.
* **Windows** reset on their own: ``"today"``, ``"week"`` (from Monday) and
  ``"month"`` in the plugin's time zone, ``"all"``, or a ``(first, last)``
  pair of dates (inclusive). ``at`` looks at the window containing another
  time (last week's winners).
* **Fast at scale**: each score change updates one row per advocate for its
  day, week, month and all time (``leaderboards_scores``), indexed by
  score, so a top 10 is an index read whatever the size of the ledger. A
  custom range sums the daily rows it covers.
* **Ties** (``ranking=``): ``"competition"`` (1, 2, 2, 4: equal scores share
  a rank, the default), ``"dense"`` (1, 2, 2, 3) or ``"ordinal"`` (1, 2, 3, 4:
  the advocate who reached the score first ranks higher). Listings are always
  ordered by score, then by who reached it first.
* **Segments**: ``segment="vip"`` ranks only advocates with that tag.
* **Retention**: daily rows are kept ``keep_days`` (default 400) and the tick
  deletes older ones; weekly, monthly and all-time rows are kept. A window
  that needs a day no longer kept is refused rather than answered short.
"""

from __future__ import annotations

from advokit.plugins.leaderboards.model import RANKINGS, Board, BoardPosition, Score
from advokit.plugins.leaderboards.plugin import Leaderboards
from advokit.plugins.leaderboards.tables import cursor_t, scores_t, taken_off_t

__all__ = [
    "RANKINGS",
    "Board",
    "BoardPosition",
    "Leaderboards",
    "Score",
    "cursor_t",
    "scores_t",
    "taken_off_t",
]
