"""The periods limits count in: UTC calendar days, ISO weeks (from Monday) and months.

`clock` is the one source of "now" for every protection rule; tests replace it to cross the
raise delay and period ends.
"""

from calendar import monthrange
from datetime import datetime, timedelta, timezone


def clock():
    """The current time in UTC; tests replace it to cross the raise delay and period ends."""
    return datetime.now(timezone.utc)


def period_bounds(period, moment):
    """(start, end) of the UTC day, ISO week or month containing `moment`."""
    day = moment.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if period == "month":
        start = day.replace(day=1)
        return start, add_months(start, 1)
    raise ValueError(f"unknown period {period!r}")


def add_months(moment, months):
    """The same day and time `months` calendar months later (clamped to the month's last day)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))
