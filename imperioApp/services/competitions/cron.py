"""Five-field cron expressions in UTC: parsing, the next occurrence, and the shortest gap between two.

Standard library only, so the arithmetic can be tested on its own.

An expression is five fields separated by blanks: minute (0-59), hour (0-23), day of the month
(1-31), month (1-12 or JAN-DEC) and day of the week (0-7 or SUN-SAT; 0 and 7 are both Sunday).
Each field is a comma-separated list of elements; an element is

- `*` (every value of the field), a number `N`, or a range `N-M` with N <= M;
- any of those followed by `/S` (S >= 1): every S-th value of the range, starting with its
  first (`*/15` in the minutes is 0, 15, 30, 45; `10/20` is 10-max/20, i.e. 10, 30, 50).

Day of the month and day of the week combine as in Vixie cron (and POSIX): if either field
starts with `*`, a day must match both (the starred one usually matching every day); if neither
does, a day matching either is enough (`0 0 1 * 1` fires on the 1st of each month and on every
Monday). Names are case-insensitive. There are no `?`, `L`, `W`, `#` or `@daily` macros.

Every time is UTC: an occurrence is a whole minute, and there is no daylight-saving shift.

The calendar repeats every 400 years (146,097 days, a whole number of weeks), so a day
pattern that matches no day in 400 consecutive years matches none ever, and the gaps between
consecutive matching days over one such cycle (with the wrap into the next) are all the gaps
there will ever be. `shortest_gap` uses that to bound how close two occurrences can come.
"""

import calendar
import functools
import itertools
from datetime import datetime, time, timedelta, timezone

CYCLE_YEARS = 400
CYCLE_DAYS = 146_097
MAX_LENGTH = 100
SHAPE = r"^\s*\S+(\s+\S+){4}\s*$"  # five blank-separated fields, for the API's description
_MINUTES_PER_DAY = 1440

_MONTHS = {name.upper(): number for number, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}

# (name, lowest, highest, names)
_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of the month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of the week", 0, 7, _WEEKDAYS),
)


class CronError(ValueError):
    """An expression that is not a valid five-field cron expression (the message says why)."""


def _value(text, field):
    name, low, high, names = field
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit() or not text.isascii():
        raise CronError(f"{name}: {text!r} is not a number" + (" or a name" if names else ""))
    number = int(text)
    if not low <= number <= high:
        raise CronError(f"{name}: {number} is outside {low}-{high}")
    return number


def _field(text, field):
    """The set of values one field's text names."""
    name, low, high, _ = field
    values = set()
    for element in text.split(","):
        base, slash, step_text = element.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or not step_text.isascii() or int(step_text) < 1:
                raise CronError(f"{name}: the step in {element!r} must be a whole number of at least 1")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            start, _, end = base.partition("-")
            first, last = _value(start, field), _value(end, field)
            if first > last:
                raise CronError(f"{name}: the range {base!r} runs backwards")
        elif base:
            first = _value(base, field)
            last = high if slash else first
        else:
            raise CronError(f"{name}: an empty element in {text!r}")
        values.update(range(first, last + 1, step))
    return values


class Cron:
    """A parsed expression: the minutes, hours, days of the month, months and days of the week it names."""

    def __init__(self, expression):
        if not isinstance(expression, str) or len(expression) > MAX_LENGTH:
            raise CronError(f"a schedule is a text of at most {MAX_LENGTH} characters")
        parts = expression.split()
        if len(parts) != 5:
            raise CronError("a schedule has five fields: minute hour day-of-month month day-of-week")
        minutes, hours, days, months, weekdays = (_field(part, field) for part, field in zip(parts, _FIELDS, strict=True))
        self.expression = " ".join(parts)
        self.months = frozenset(months)
        self.days = frozenset(days)
        self.weekdays = frozenset(day % 7 for day in weekdays)  # 7 is Sunday too
        # Vixie cron's rule: a field whose text starts with '*' does not widen the other.
        self._either_day = not parts[2].startswith("*") and not parts[4].startswith("*")
        # The minutes of a matching day at which it fires, in order.
        self.times = tuple(sorted(hour * 60 + minute for hour in hours for minute in minutes))

    def __str__(self):
        return self.expression

    def matches_day(self, day):
        """True if the date `day` is one the expression fires on (at self.times)."""
        if day.month not in self.months:
            return False
        return _day_rule(day.day in self.days, day.isoweekday() % 7 in self.weekdays, self._either_day)

    def next_after(self, moment, *, inclusive=False):
        """The first occurrence after `moment` (at or after it with inclusive=True), UTC; None if it never fires.

        `moment` must be an aware datetime. Occurrences fall on whole minutes, so with
        inclusive=True a moment with seconds moves to the next minute.
        """
        moment = moment.astimezone(timezone.utc)
        floor = moment.replace(second=0, microsecond=0)
        if inclusive and floor == moment:
            start = floor
        else:
            start = floor + timedelta(minutes=1)
        day, first_minute = start.date(), start.hour * 60 + start.minute
        for _ in range(CYCLE_DAYS + 2):
            if day.month not in self.months:
                # The rest of this month cannot match: go to the first of the next.
                day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
                first_minute = 0
                continue
            if self.matches_day(day):
                for minute in self.times:
                    if minute >= first_minute:
                        return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=timezone.utc)
            day += timedelta(days=1)
            first_minute = 0
        return None

    def occurrences(self, moment, count, *, inclusive=True):
        """The first `count` occurrences from `moment` on (see next_after)."""
        found = []
        current = self.next_after(moment, inclusive=inclusive)
        while current is not None and len(found) < count:
            found.append(current)
            current = self.next_after(current)
        return found

    def shortest_gap(self):
        """The shortest time between two consecutive occurrences, as a timedelta; None if it never fires.

        Within a matching day the occurrences are `times`, so the gaps there are their
        differences. From one matching day to the next matching one, d days later, the gap is
        d days less the span from the day's first time to its last; it is shortest for the
        smallest d, found over one whole 400-year cycle, the wrap from its last matching day
        to the first of the next cycle included. An expression firing once a cycle has that
        one gap of 146,097 days.
        """
        days = _matching_days(self.months, self.days, self.weekdays, self._either_day)
        if not days:
            return None
        day_gaps = [later - earlier for earlier, later in itertools.pairwise(days)]
        day_gaps.append(days[0] + CYCLE_DAYS - days[-1])
        within = [later - earlier for earlier, later in itertools.pairwise(self.times)]
        across = min(day_gaps) * _MINUTES_PER_DAY - (self.times[-1] - self.times[0])
        return timedelta(minutes=min([across, *within]))


def _day_rule(by_date, by_weekday, either_day):
    return (by_date or by_weekday) if either_day else (by_date and by_weekday)


# A day pattern's scan of a whole cycle takes tens of milliseconds; the console previews the
# same schedule again and again as an operator edits the other fields.
@functools.lru_cache(maxsize=64)
def _matching_days(months, days, weekdays, either_day):
    """Ordinals of the matching days of one whole calendar cycle (2000-01-01 up to 2400-01-01)."""
    found = []
    for year in range(2000, 2000 + CYCLE_YEARS):
        for month in sorted(months):
            first_weekday, length = calendar.monthrange(year, month)  # Monday is 0 here
            ordinal = datetime(year, month, 1).toordinal()
            for day in range(1, length + 1):
                weekday = (first_weekday + day) % 7  # Sunday 0, as in the expression
                if _day_rule(day in days, weekday in weekdays, either_day):
                    found.append(ordinal + day - 1)
    return tuple(found)


def parse(expression):
    """A Cron from its text; raises CronError saying what is wrong."""
    return Cron(expression)
