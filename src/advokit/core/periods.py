"""Calendar periods (a day, a week from Monday, a month) in a time zone."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

__all__ = ["PERIODS", "calendar_period"]

PERIODS = ("day", "week", "month")


def calendar_period(when: datetime, zone: zoneinfo.ZoneInfo, per: str) -> tuple[datetime, datetime]:
    """The calendar ``per`` containing ``when`` in ``zone``, as aware datetimes."""
    local = when.astimezone(zone).date()
    if per == "day":
        start, end = local, local + timedelta(days=1)
    elif per == "week":
        start = local - timedelta(days=local.weekday())
        end = start + timedelta(days=7)
    else:
        start = local.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    return (datetime.combine(start, time(), zone), datetime.combine(end, time(), zone))
