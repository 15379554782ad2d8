"""Hourly game rollups: rounds, coins wagered and paid per game and UTC hour, and each hour's biggest wins.

`roll_up` (`flask rollup`, from a timer) summarises every whole hour that ended GRACE ago and
is not summarised yet, and moves the watermark past it. A report over a range reads its whole
summarised hours here and only the rest (the edges, the hours since the watermark) from
game_rounds by settled_at, so it costs the same over a year as over a day. Settlement writes
nothing here: the hot path stays as it is. A round that commits more than GRACE after its
settled_at (no transaction lasts that long) would be missed; `roll_up(since=...)` summarises
again from any hour.
"""

from datetime import timedelta

from sqlalchemy import delete, func, insert, literal, select, union_all

from ...models import GameHour, GameHourWin, GameRound, Watermark
from ...models.base import utcnow
from ..core import lagging
from ..core.unit_of_work import atomic

_rounds = GameRound.__table__
_hours = GameHour.__table__
_wins = GameHourWin.__table__
_marks = Watermark.__table__

MARK = "game_hours"
GRACE = timedelta(minutes=10)
# At least the largest page of biggest wins: the top N of any range is among its hours' top N.
WINS_PER_HOUR = 100


def hour_of(moment):
    """The start of the UTC hour holding `moment`."""
    return moment.replace(minute=0, second=0, microsecond=0)


def _hour_column(session):
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", _rounds.c.settled_at, "UTC")
    return func.strftime("%Y-%m-%d %H:00:00.000000", _rounds.c.settled_at)


def watermark():
    """Every hour before this is summarised (None: nothing is)."""
    with atomic() as session:
        return session.execute(select(_marks.c.through_at).where(_marks.c.name == MARK)).scalar()


def roll_up(now=None, *, since=None):
    """Summarise the whole hours from the watermark (or `since`) to GRACE ago; return how many hours."""
    end = hour_of((now or utcnow()) - GRACE)
    with atomic() as session:
        # The mark's row lock makes two runs at once take turns.
        start = session.execute(select(_marks.c.through_at).where(_marks.c.name == MARK).with_for_update()).scalar()
        if since is not None:
            start = hour_of(since)
        if start is None:
            first = session.execute(select(func.min(_rounds.c.settled_at))).scalar()
            start = hour_of(first) if first is not None else end
        if start < end:
            hour = _hour_column(session).label("hour")
            settled = (_rounds.c.status == "settled", _rounds.c.settled_at >= start, _rounds.c.settled_at < end)
            session.execute(delete(_hours).where(_hours.c.hour >= start, _hours.c.hour < end))
            session.execute(delete(_wins).where(_wins.c.hour >= start, _wins.c.hour < end))
            session.execute(
                insert(_hours).from_select(
                    ["game_type", "hour", "rounds", "wagered", "paid"],
                    select(_rounds.c.game_type, hour, func.count(), func.sum(_rounds.c.bet), func.sum(_rounds.c.payout))
                    .where(*settled)
                    .group_by(_rounds.c.game_type, hour),
                )
            )
            net = (_rounds.c.payout - _rounds.c.bet).label("net")
            place = (
                func.row_number()
                .over(partition_by=(_rounds.c.game_type, hour), order_by=(net.desc(), _rounds.c.id.desc()))
                .label("place")
            )
            ranked = (
                select(_rounds.c.id, _rounds.c.game_type, hour, net, place)
                .where(*settled, _rounds.c.payout > _rounds.c.bet)
                .subquery()
            )
            session.execute(
                insert(_wins).from_select(
                    ["round_id", "game_type", "hour", "net"],
                    select(ranked.c.id, ranked.c.game_type, ranked.c.hour, ranked.c.net).where(ranked.c.place <= WINS_PER_HOUR),
                )
            )
        moved = session.execute(
            _marks.update().where(_marks.c.name == MARK).values(through_at=max(start, end), updated_at=utcnow())
        ).rowcount
        if not moved:
            session.execute(insert(_marks).values(name=MARK, through_at=max(start, end), updated_at=utcnow()))
    return max(0, int((end - start).total_seconds() // 3600))


def split(since, until):
    """[since, until) as (the whole summarised hours [lo, hi) or None, the raw ranges around them)."""
    mark = watermark()
    if mark is None:
        return None, [(since, until)]
    lo = None if since is None else hour_of(since) + (timedelta(hours=1) if since != hour_of(since) else timedelta())
    hi = mark if until is None else min(hour_of(until), mark)
    if lo is not None and lo >= hi:
        return None, [(since, until)]
    raw = [(hi, until)]
    if since is not None and since < lo:
        raw.insert(0, (since, lo))
    return (lo, hi), raw


def _in_range(column, since, until):
    conditions = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return conditions


def totals(since, until):
    """{game_type: (rounds, wagered, paid)} of the rounds settled in [since, until)."""
    hours, raw = split(since, until)
    parts = []
    if hours is not None:
        parts.append(
            select(_hours.c.game_type, func.sum(_hours.c.rounds), func.sum(_hours.c.wagered), func.sum(_hours.c.paid))
            .where(*_in_range(_hours.c.hour, *hours))
            .group_by(_hours.c.game_type)
        )
    for low, high in raw:
        parts.append(
            select(_rounds.c.game_type, func.count(), func.sum(_rounds.c.bet), func.sum(_rounds.c.payout))
            .where(_rounds.c.status == "settled", *_in_range(_rounds.c.settled_at, low, high))
            .group_by(_rounds.c.game_type)
        )
    found = {}
    # A report over a period: seconds of lag do not change what it says.
    for game, count, wagered, paid in lagging.read(lambda connection: connection.execute(union_all(*parts)).all()):
        before = found.get(game, (0, 0, 0))
        found[game] = (before[0] + int(count), before[1] + int(wagered or 0), before[2] + int(paid or 0))
    return found


def biggest_win_ids(since, until, game_type, limit):
    """Ids of the rounds that may be among the `limit` largest net wins of [since, until) (a superset)."""
    hours, raw = split(since, until)
    parts = []
    if hours is not None:
        summarised = select(_wins.c.round_id.label("id"), _wins.c.net).where(*_in_range(_wins.c.hour, *hours))
        if game_type:
            summarised = summarised.where(_wins.c.game_type == game_type)
        parts.append(summarised.order_by(_wins.c.net.desc(), _wins.c.round_id.desc()).limit(limit).subquery())
    net = (_rounds.c.payout - _rounds.c.bet).label("net")
    for low, high in raw:
        recent = select(_rounds.c.id, net).where(
            _rounds.c.status == "settled", _rounds.c.payout > _rounds.c.bet, *_in_range(_rounds.c.settled_at, low, high)
        )
        if game_type:
            recent = recent.where(_rounds.c.game_type == game_type)
        parts.append(recent.order_by(net.desc(), _rounds.c.id.desc()).limit(limit).subquery())
    candidates = union_all(*(select(part.c.id, literal(1)) for part in parts))
    return [row[0] for row in lagging.read(lambda connection: connection.execute(candidates).all())]
