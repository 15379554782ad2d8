"""The cron parser: each field's syntax, the day rule, the next occurrence and the shortest gap.

The random checks compare `next_after` with a brute-force minute-by-minute scan that matches
minutes against sets built here, not by the parser.
"""

import itertools
import random
from datetime import datetime, timedelta, timezone

import pytest

from imperioApp.services.competitions.cron import CronError, parse


def at(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "expression, field, values",
    [
        ("* * * * *", "times", tuple(range(1440))),
        ("*/15 * * * *", "times", tuple(h * 60 + m for h in range(24) for m in (0, 15, 30, 45))),
        ("10/20 0 * * *", "times", (10, 30, 50)),
        ("5-8,30 2 * * *", "times", (125, 126, 127, 128, 150)),
        ("0 9-17/4 * * *", "times", (540, 780, 1020)),
        ("0 0 1,15 * *", "days", frozenset({1, 15})),
        ("0 0 * JAN,jul-Sep *", "months", frozenset({1, 7, 8, 9})),
        ("0 0 * * MON-FRI", "weekdays", frozenset({1, 2, 3, 4, 5})),
        ("0 0 * * 0,7", "weekdays", frozenset({0})),
        ("0 0 * * 5-7", "weekdays", frozenset({5, 6, 0})),
        ("  0   20 *  * *  ", "expression", "0 20 * * *"),
    ],
)
def test_fields_name_the_values_they_should(expression, field, values):
    assert getattr(parse(expression), field) == values


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "* * * *",
        "* * * * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * 32 * *",
        "* * * 13 *",
        "* * * * 8",
        "-1 * * * *",
        "5-2 * * * *",
        "*/0 * * * *",
        "*/x * * * *",
        "1,,2 * * * *",
        "MON * * * *",
        "* * * FOO *",
        "1.5 * * * *",
        "٣ * * * *",
        "L * * * *",
        "? * * * *",
        "@daily",
        "0 0 1#2 * *",
        "*" * 101,
        5,
        None,
    ],
)
def test_bad_expressions_are_refused_with_a_reason(expression):
    with pytest.raises(CronError) as refused:
        parse(expression)
    assert str(refused.value)


def test_day_of_month_and_day_of_week_combine_as_vixie_cron_does():
    either = parse("0 0 13 * 5")  # the 13th, and every Friday
    assert either.matches_day(at(2026, 12, 13).date())  # a Sunday
    assert either.matches_day(at(2026, 12, 11).date())  # a Friday
    assert not either.matches_day(at(2026, 12, 12).date())
    both = parse("0 0 */2 * 5")  # '*' first: odd days that are Fridays
    assert both.matches_day(at(2026, 12, 11).date())
    assert not both.matches_day(at(2026, 12, 18).date())  # a Friday, but even
    assert not both.matches_day(at(2026, 12, 13).date())
    weekdays_only = parse("0 0 * * 1")
    assert weekdays_only.matches_day(at(2026, 12, 14).date())
    assert not weekdays_only.matches_day(at(2026, 12, 15).date())


def test_next_after_is_strict_unless_inclusive_and_works_in_whole_utc_minutes():
    daily = parse("0 20 * * *")
    assert daily.next_after(at(2026, 12, 8, 20)) == at(2026, 12, 9, 20)
    assert daily.next_after(at(2026, 12, 8, 20), inclusive=True) == at(2026, 12, 8, 20)
    assert daily.next_after(at(2026, 12, 8, 20, 0, 1), inclusive=True) == at(2026, 12, 9, 20)
    assert daily.next_after(at(2026, 12, 8, 19, 59, 59)) == at(2026, 12, 8, 20)
    other_zone = datetime(2026, 12, 8, 21, 30, tzinfo=timezone(timedelta(hours=2)))  # 19:30 UTC
    assert daily.next_after(other_zone) == at(2026, 12, 8, 20)
    assert daily.next_after(at(2026, 12, 31, 21)) == at(2027, 1, 1, 20)  # across the year


def test_month_ends_leap_days_and_rare_dates():
    assert parse("0 0 31 * *").occurrences(at(2026, 1, 31, 1), 3) == [at(2026, 3, 31), at(2026, 5, 31), at(2026, 7, 31)]
    assert parse("0 12 29 2 *").occurrences(at(2026, 1, 1), 2) == [at(2028, 2, 29, 12), at(2032, 2, 29, 12)]
    # Feb 29 that is a Sunday ('*/7' in the weekdays is Sunday, and the '*' makes it "and"): 2032, 2060.
    assert parse("0 0 29 2 */7").occurrences(at(2026, 1, 1), 2) == [at(2032, 2, 29), at(2060, 2, 29)]
    assert parse("0 0 30 2 *").next_after(at(2026, 1, 1)) is None
    assert parse("0 0 31 4 *").occurrences(at(2026, 1, 1), 1) == []


def test_occurrences_chain_from_the_first():
    assert parse("30 8 * * MON").occurrences(at(2026, 12, 8), 3) == [
        at(2026, 12, 14, 8, 30),
        at(2026, 12, 21, 8, 30),
        at(2026, 12, 28, 8, 30),
    ]


@pytest.mark.parametrize(
    "expression, gap",
    [
        ("* * * * *", timedelta(minutes=1)),
        ("0 20 * * *", timedelta(days=1)),
        ("0 20 * * 1", timedelta(days=7)),
        ("0 8,20 * * *", timedelta(hours=12)),
        ("0 1,23 * * *", timedelta(hours=2)),  # 23:00 to 01:00 the next day
        ("0 1,23 * * 1", timedelta(hours=22)),  # Monday 01:00 to Monday 23:00
        ("0 23 * * 1,2", timedelta(days=1)),
        ("0 9 * * 1-5", timedelta(days=1)),
        ("0 0 1 * *", timedelta(days=28)),  # February
        ("0 0 1 1 *", timedelta(days=365)),
        ("0 0 29 2 *", timedelta(days=1461)),  # four years, even across 2100 the gap is longer
        ("0 0 31 * *", timedelta(days=31)),  # Jul 31 to Aug 31, Dec 31 to Jan 31
        ("*/15 9-17 * * 1-5", timedelta(minutes=15)),
        ("0 0 30 2 *", None),
    ],
)
def test_the_shortest_gap(expression, gap):
    assert parse(expression).shortest_gap() == gap


def _random_expression(rng):
    """A random expression and the sets it names, built independently of the parser."""
    minutes = sorted(rng.sample(range(60), rng.randint(1, 3)))
    hours = sorted(rng.sample(range(24), rng.randint(1, 3)))
    if rng.random() < 0.5:
        days, day_text = set(range(1, 32)), "*"
    else:
        days = set(rng.sample(range(1, 32), rng.randint(1, 4)))
        day_text = ",".join(map(str, sorted(days)))
    if rng.random() < 0.6:
        months, month_text = set(range(1, 13)), "*"
    else:
        months = set(rng.sample(range(1, 13), rng.randint(1, 5)))
        month_text = ",".join(map(str, sorted(months)))
    if rng.random() < 0.5:
        weekdays, weekday_text = set(range(7)), "*"
    else:
        low = rng.randint(0, 5)
        high = rng.randint(low, 6)
        weekdays, weekday_text = set(range(low, high + 1)), f"{low}-{high}"
    text = f"{','.join(map(str, minutes))} {','.join(map(str, hours))} {day_text} {month_text} {weekday_text}"
    either = day_text != "*" and weekday_text != "*"

    def matches(moment):
        if moment.minute not in minutes or moment.hour not in hours or moment.month not in months:
            return False
        by_day, by_weekday = moment.day in days, (moment.weekday() + 1) % 7 in weekdays
        return (by_day or by_weekday) if either else (by_day and by_weekday)

    return text, matches


def _brute_next(matches, moment, horizon):
    candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while candidate < moment + horizon:
        if matches(candidate):
            return candidate
        candidate += timedelta(minutes=1)
    return None


def test_next_after_agrees_with_a_minute_by_minute_scan():
    rng = random.Random(20261208)
    checked = 0
    for _ in range(60):
        text, matches = _random_expression(rng)
        expression = parse(text)
        moment = at(2026, 1, 1) + timedelta(minutes=rng.randint(0, 365 * 1440), seconds=rng.randint(0, 59))
        expected = _brute_next(matches, moment, timedelta(days=15))
        found = expression.next_after(moment)
        if expected is None:
            assert found is None or found >= moment + timedelta(days=15), text
        else:
            assert found == expected, (text, moment)
            checked += 1
    assert checked >= 20


def test_no_two_occurrences_come_closer_than_the_shortest_gap():
    rng = random.Random(7)
    for _ in range(40):
        text, _ = _random_expression(rng)
        expression = parse(text)
        gap = expression.shortest_gap()
        found = expression.occurrences(at(2026, 1, 1), 200)
        if gap is None:
            assert found == []
            continue
        closest = min((b - a for a, b in itertools.pairwise(found)), default=gap)
        assert closest >= gap, text
