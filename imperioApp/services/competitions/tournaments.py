"""Tournament definitions and their periods: validation, creation, changes before start, reads.

A tournament has one or more periods (a recurring one gets its next period when the previous
closes). A period is open until it closes; whether an open period is upcoming, running or
ended is the clock's to say (`clock`, replaced by tests). A round scores in the period running
when it settles.
"""

from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import and_, exists, func, insert, or_, select, update

from ...games.numbers import is_integer
from ...models import GAME_TYPES, PRIZE_MODES, TOURNAMENT_METRICS, Tournament, TournamentEntry, TournamentPeriod, User
from ..core.errors import Conflict, NotFound, ValidationFailed
from ..core.paging import keyset_page
from ..core.unit_of_work import atomic
from ..money.wallet import MAX_COINS
from . import cron

_tournaments = Tournament.__table__
_periods = TournamentPeriod.__table__
_entries = TournamentEntry.__table__
_users = User.__table__

DEFAULT_MULTIPLIER_CAP = 10_000
TITLE_LENGTH = (3, 80)
DESCRIPTION_LENGTH = 2000
MAX_PAYOUT_PLACES = 100
MAX_SECONDS = 366 * 24 * 3600
MAX_COUNT = 1_000_000
LISTING_STATUSES = ("upcoming", "running", "finished")
PREVIEW_PERIODS = 5


def clock():
    """The current time in UTC; tests replace it to cross a period's end."""
    return datetime.now(timezone.utc)


class TournamentClosed(Conflict):
    code = "tournament_closed"


# --- validation -------------------------------------------------------------------------


def _int(data, name, *, low, high, default=None, required=False):
    value = data.get(name)
    if value is None:
        if required:
            raise ValidationFailed(f"{name} is required", details={name: ["required"]})
        return default
    if not is_integer(value):
        raise ValidationFailed(f"{name} must be an integer", details={name: ["not an integer"]})
    if not low <= value <= high:
        raise ValidationFailed(f"{name} must be between {low} and {high}", details={name: [f"{low}..{high}"]})
    return value


def _moment(data, name, *, required=False):
    value = data.get(name)
    if value is None:
        if required:
            raise ValidationFailed(f"{name} is required", details={name: ["required"]})
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationFailed(f"{name} must be an aware instant", details={name: ["not an instant"]})
    return value.astimezone(timezone.utc)


def games_mask(game_types):
    """The bits of `game_types` in GAME_TYPES' order (the statistics' games_mask)."""
    return sum(1 << GAME_TYPES.index(game) for game in set(game_types))


def game_types_of(mask):
    return [game for index, game in enumerate(GAME_TYPES) if mask & (1 << index)]


def game_bit(game_type):
    return 1 << GAME_TYPES.index(game_type)


def validate_definition(data):
    """The stored columns of a definition from plain values (already type-checked by the entry layer); raises ValidationFailed."""
    title = data.get("title")
    low, high = TITLE_LENGTH
    if not isinstance(title, str) or not low <= len(title.strip()) <= high:
        raise ValidationFailed(f"title must be {low}-{high} characters", details={"title": ["length"]})
    description = data.get("description") or ""
    if not isinstance(description, str) or len(description) > DESCRIPTION_LENGTH:
        raise ValidationFailed(f"description must be at most {DESCRIPTION_LENGTH} characters")
    game_types = data.get("game_types") or list(GAME_TYPES)
    if not isinstance(game_types, list) or not game_types or any(game not in GAME_TYPES for game in game_types):
        raise ValidationFailed(f"game_types must name games among {', '.join(GAME_TYPES)}", details={"game_types": ["unknown"]})
    metric = data.get("metric")
    if metric not in TOURNAMENT_METRICS:
        raise ValidationFailed(f"metric must be one of {', '.join(TOURNAMENT_METRICS)}", details={"metric": ["unknown"]})
    starts_at = _moment(data, "starts_at", required=True)
    ends_at = _moment(data, "ends_at")
    duration = _int(data, "duration_seconds", low=60, high=MAX_SECONDS)
    if ends_at is not None and duration is not None:
        raise ValidationFailed("give ends_at or duration_seconds, not both")
    if ends_at is not None:
        if ends_at <= starts_at:
            raise ValidationFailed("ends_at must be after starts_at", details={"ends_at": ["before start"]})
        duration = int((ends_at - starts_at).total_seconds())
        if duration > MAX_SECONDS:
            raise ValidationFailed("a period lasts at most 366 days")
    repeat_every = _int(data, "repeat_every_seconds", low=60, high=MAX_SECONDS)
    repeat_count = _int(data, "repeat_count", low=1, high=MAX_COUNT)
    schedule = _schedule(data, duration=duration, ends_at=ends_at, repeat_every=repeat_every)
    if repeat_every is not None:
        if duration is None or duration > repeat_every:
            raise ValidationFailed(
                "a recurring tournament needs a duration no longer than repeat_every_seconds", code="schedule_overlap"
            )
    elif repeat_count is not None and schedule is None:
        raise ValidationFailed("repeat_count needs repeat_every_seconds or a schedule")
    join_required = data.get("join_required", True)
    if not isinstance(join_required, bool):
        raise ValidationFailed("join_required must be true or false")
    entry_fee = _int(data, "entry_fee", low=0, high=MAX_COINS, default=0)
    max_entrants = _int(data, "max_entrants", low=2, high=MAX_COUNT)
    if not join_required and (entry_fee or max_entrants is not None):
        raise ValidationFailed("a race every player is in (join_required false) has no entry fee and no max_entrants")
    prize_pool = data.get("prize_pool") or {}
    if not isinstance(prize_pool, dict):
        raise ValidationFailed("prize_pool must be an object")
    mode = prize_pool.get("mode", "fixed")
    if mode not in PRIZE_MODES:
        raise ValidationFailed(f"prize_pool.mode must be one of {', '.join(PRIZE_MODES)}")
    amount = _int(prize_pool, "amount", low=0, high=MAX_COINS, default=0)
    rake = _int(prize_pool, "rake_percent", low=0, high=100, default=0)
    guaranteed = _int(prize_pool, "guaranteed", low=0, high=MAX_COINS, default=0)
    if mode == "fixed" and (rake or guaranteed):
        raise ValidationFailed("a fixed pool has an amount; rake_percent and guaranteed belong to a pool from entry fees")
    if mode == "entry_fees" and (amount or not entry_fee):
        raise ValidationFailed("a pool from entry fees needs an entry_fee and no amount")
    payouts = data.get("payouts") or [100]
    if (
        not isinstance(payouts, list)
        or not 1 <= len(payouts) <= MAX_PAYOUT_PLACES
        or not all(is_integer(share) and 1 <= share <= 100 for share in payouts)
        or sum(payouts) != 100
        or payouts != sorted(payouts, reverse=True)
    ):
        raise ValidationFailed(
            "payouts are whole percentages of the pool by rank, largest first, adding up to 100", details={"payouts": ["shares"]}
        )
    min_rounds = _int(data, "min_rounds", low=1, high=MAX_COUNT, default=1)
    max_rounds = _int(data, "max_rounds", low=1, high=MAX_COUNT)
    if max_rounds is not None and max_rounds < min_rounds:
        raise ValidationFailed("max_rounds must be at least min_rounds")
    return {
        "title": title.strip(),
        "description": description,
        "games_mask": games_mask(game_types),
        "metric": metric,
        "multiplier_cap": _int(data, "multiplier_cap", low=100, high=MAX_COINS, default=DEFAULT_MULTIPLIER_CAP),
        "min_bet": _int(data, "min_bet", low=1, high=MAX_COINS, default=1),
        "min_rounds": min_rounds,
        "max_rounds": max_rounds,
        "max_entrants": max_entrants,
        "join_required": join_required,
        "entry_fee": entry_fee,
        "prize_mode": mode,
        "prize_amount": amount,
        "rake_percent": rake,
        "guaranteed_pool": guaranteed,
        "payouts": payouts,
        "starts_at": starts_at,
        "duration_seconds": duration,
        "repeat_every_seconds": repeat_every,
        "repeat_count": repeat_count,
        "schedule": schedule,
    }


def _schedule(data, *, duration, ends_at, repeat_every):
    """The normalised cron expression of a scheduled tournament, or None; refuses a period longer than a gap.

    A period must be over before the next occurrence starts (a period running into the next
    would end one early or race its reset), so the duration may not exceed the shortest gap
    between two occurrences of the schedule anywhere in the calendar.
    """
    text = data.get("schedule")
    if text is None:
        return None
    try:
        expression = cron.parse(text)
    except cron.CronError as exc:
        raise ValidationFailed(f"schedule: {exc}", code="invalid_schedule", details={"schedule": [str(exc)]}) from None
    if repeat_every is not None:
        raise ValidationFailed("give a schedule or repeat_every_seconds, not both")
    if ends_at is not None or duration is None:
        raise ValidationFailed("a scheduled tournament gives each period's length as duration_seconds")
    gap = expression.shortest_gap()
    if gap is None:
        raise ValidationFailed(f"the schedule {expression} never fires", code="invalid_schedule")
    if duration > gap.total_seconds():
        raise ValidationFailed(
            f"each period lasts {duration} s but two occurrences of {expression} can be only "
            f"{int(gap.total_seconds())} s apart: a period would still be running when the next starts",
            code="schedule_overlap",
            details={"duration_seconds": [f"at most {int(gap.total_seconds())}"]},
        )
    return str(expression)


def period_bounds(definition, number):
    """(starts_at, ends_at) of period `number` (1-based) of a definition without a schedule."""
    starts = definition["starts_at"]
    if number > 1:
        starts = starts + timedelta(seconds=definition["repeat_every_seconds"] * (number - 1))
    return starts, _end(definition, starts)


def _end(definition, starts):
    duration = definition["duration_seconds"]
    return None if duration is None else starts + timedelta(seconds=duration)


def _scheduled_start(definition, after, now, *, inclusive):
    """The first occurrence after `after` whose period has not already ended by `now`.

    An occurrence that was wholly over before its period could be opened (the previous close
    ran very late) is skipped rather than opened ended; periods are numbered as opened.
    """
    expression = cron.parse(definition["schedule"])
    starts = expression.next_after(after, inclusive=inclusive)
    if starts is not None and starts + timedelta(seconds=definition["duration_seconds"]) <= now:
        # The first occurrence later than now - duration is the first whose end is later than now.
        starts = expression.next_after(now - timedelta(seconds=definition["duration_seconds"]))
    return starts


def first_bounds(definition, now):
    """(starts_at, ends_at) of a definition's first period."""
    if definition.get("schedule") is None:
        return period_bounds(definition, 1)
    starts = _scheduled_start(definition, definition["starts_at"], now, inclusive=True)
    return starts, _end(definition, starts)


def next_bounds(definition, number, starts_at, now):
    """(starts_at, ends_at) of the period after period `number` (which started at `starts_at`); None if none."""
    count = definition["repeat_count"]
    if count is not None and number + 1 > count:
        return None
    if definition.get("schedule") is not None:
        starts = _scheduled_start(definition, starts_at, now, inclusive=False)
        return None if starts is None else (starts, _end(definition, starts))
    if definition["repeat_every_seconds"] is None:
        return None
    return period_bounds(definition, number + 1)


def preview(definition, now, count=PREVIEW_PERIODS):
    """The first `count` periods of a validated definition created now: [{index, starts_at, ends_at}]."""
    periods = []
    bounds = first_bounds(definition, now)
    while bounds is not None and len(periods) < count:
        periods.append({"index": len(periods) + 1, "starts_at": bounds[0], "ends_at": bounds[1]})
        # Later periods are opened by the previous close, after its end: ask as of then.
        later = bounds[1] or bounds[0]
        bounds = next_bounds(definition, len(periods), bounds[0], max(now, later))
    return periods


# --- writes (operators call these through services.operators.tournaments) ----------------


def create(definition, *, created_by):
    """Store a validated definition and its first period in the caller's transaction; return the id."""
    now = clock()
    with atomic() as session:
        tournament_id = session.execute(
            insert(_tournaments).returning(_tournaments.c.id),
            {**definition, "status": "active", "created_by": created_by, "created_at": now, "updated_at": now},
        ).scalar_one()
        open_period(session, tournament_id, definition, 1, first_bounds(definition, now))
    return tournament_id


def open_period(session, tournament_id, definition, number, bounds):
    """Insert period `number` with its (starts_at, ends_at); a race every player is in flags every player as competing."""
    starts, ends = bounds
    open_to_all = not definition["join_required"]
    session.execute(
        insert(_periods),
        {
            "tournament_id": tournament_id,
            "number": number,
            "starts_at": starts,
            "ends_at": ends,
            "open_to_all": open_to_all,
            "status": "open",
            "entrants": 0,
            "fees": 0,
        },
    )
    if open_to_all:
        session.execute(update(_users).where(_users.c.competing.is_(False)).values(competing=True))


def definition_of(session, tournament_id, *, lock=False):
    query = select(_tournaments).where(_tournaments.c.id == tournament_id)
    if lock:
        query = query.with_for_update()
    row = session.execute(query).one_or_none()
    if row is None:
        raise NotFound("no such tournament", code="tournament_not_found")
    return dict(row._mapping)


def change_before_start(tournament_id, changes):
    """Apply `changes` to a tournament whose first period has not started; return the new definition."""
    now = clock()
    with atomic() as session:
        current = definition_of(session, tournament_id, lock=True)
        first = session.execute(
            select(_periods).where(_periods.c.tournament_id == tournament_id, _periods.c.number == 1).with_for_update()
        ).one()
        if current["status"] != "active" or first.status != "open" or first.starts_at <= now:
            raise TournamentClosed("a tournament can only be changed before it starts")
        merged = {**_as_input(current), **changes}
        definition = validate_definition(merged)
        if first.entrants and (
            definition["entry_fee"] != current["entry_fee"] or definition["join_required"] != current["join_required"]
        ):
            raise Conflict("players have joined: the entry fee and joining stay as they are", code="tournament_has_entrants")
        session.execute(update(_tournaments).where(_tournaments.c.id == tournament_id).values(**definition, updated_at=now))
        starts, ends = first_bounds(definition, now)
        session.execute(
            update(_periods)
            .where(_periods.c.id == first.id)
            .values(starts_at=starts, ends_at=ends, open_to_all=not definition["join_required"])
        )
        session.execute(update(_entries).where(_entries.c.period_id == first.id).values(metric=definition["metric"]))
        if not definition["join_required"]:
            session.execute(update(_users).where(_users.c.competing.is_(False)).values(competing=True))
    return definition


def _as_input(row):
    """A stored definition in the shape `validate_definition` takes."""
    return {
        "title": row["title"],
        "description": row["description"],
        "game_types": game_types_of(row["games_mask"]),
        "metric": row["metric"],
        "multiplier_cap": row["multiplier_cap"],
        "min_bet": row["min_bet"],
        "min_rounds": row["min_rounds"],
        "max_rounds": row["max_rounds"],
        "max_entrants": row["max_entrants"],
        "join_required": row["join_required"],
        "entry_fee": row["entry_fee"],
        "prize_pool": {
            "mode": row["prize_mode"],
            "amount": row["prize_amount"],
            "rake_percent": row["rake_percent"],
            "guaranteed": row["guaranteed_pool"],
        },
        "payouts": row["payouts"],
        "starts_at": row["starts_at"],
        "duration_seconds": row["duration_seconds"],
        "repeat_every_seconds": row["repeat_every_seconds"],
        "repeat_count": row["repeat_count"],
        "schedule": row["schedule"],
    }


# --- reads ------------------------------------------------------------------------------


def phase(period, now, tournament_status="active"):
    """upcoming, running, ended (awaiting its close), closing, closed or cancelled."""
    if tournament_status == "cancelled" or period["status"] == "cancelled":
        return "cancelled"
    if period["status"] != "open":
        return period["status"]
    if period["starts_at"] > now:
        return "upcoming"
    if period["ends_at"] is None or period["ends_at"] > now:
        return "running"
    return "ended"


def _latest_period():
    latest = _periods.alias("latest")
    return select(func.max(latest.c.number)).where(latest.c.tournament_id == _tournaments.c.id).scalar_subquery()


def public(row, period, now):
    """A definition and its current period as players see them."""
    shown = _as_input(row)
    del shown["starts_at"]  # each period states its own start
    return {
        "id": row["id"],
        **shown,
        "payouts": list(row["payouts"]),
        "status": "cancelled" if row["status"] == "cancelled" else _listing_status(phase(period, now)),
        "period": {
            "id": period["id"],
            "number": period["number"],
            "starts_at": period["starts_at"],
            "ends_at": period["ends_at"],
            "phase": phase(period, now, row["status"]),
            "entrants": period["entrants"],
            "pool": period["pool"],
        },
    }


def _listing_status(period_phase):
    return {"upcoming": "upcoming", "running": "running"}.get(period_phase, "finished")


_PERIOD_COLUMNS = (
    _periods.c.id.label("period_id"),
    _periods.c.number,
    _periods.c.starts_at.label("period_starts_at"),
    _periods.c.ends_at.label("period_ends_at"),
    _periods.c.status.label("period_status"),
    _periods.c.entrants,
    _periods.c.pool,
)


def _split(row):
    data = dict(row._mapping)
    period = {
        "id": data.pop("period_id"),
        "number": data.pop("number"),
        "starts_at": data.pop("period_starts_at"),
        "ends_at": data.pop("period_ends_at"),
        "status": data.pop("period_status"),
        "entrants": data.pop("entrants"),
        "pool": data.pop("pool"),
    }
    return data, period


def listing(*, status=None, game_type=None, user_id=None, mine=False, before=None, limit=20):
    """Tournaments with their current period, newest first; `before` is the cursor (a tournament id)."""
    now = clock()
    query = (
        select(_tournaments, *_PERIOD_COLUMNS)
        .select_from(_tournaments)
        .join(_periods, and_(_periods.c.tournament_id == _tournaments.c.id, _periods.c.number == _latest_period()))
    )
    open_now = and_(_tournaments.c.status == "active", _periods.c.status == "open")
    if status == "upcoming":
        query = query.where(open_now, _periods.c.starts_at > now)
    elif status == "running":
        query = query.where(open_now, _periods.c.starts_at <= now, or_(_periods.c.ends_at.is_(None), _periods.c.ends_at > now))
    elif status == "finished":
        query = query.where(or_(~open_now, _periods.c.ends_at <= now))
    if game_type is not None:
        query = query.where(_tournaments.c.games_mask.op("&")(game_bit(game_type)) != 0)
    if mine:
        query = query.where(exists().where(_entries.c.tournament_id == _tournaments.c.id, _entries.c.user_id == user_id))
    if before is not None:
        query = query.where(_tournaments.c.id < before)
    with atomic() as session:
        rows = session.execute(query.order_by(_tournaments.c.id.desc()).limit(limit + 1)).all()
    return keyset_page(rows, limit, shape=lambda row: public(*_split(row), now))


def period_for(session, tournament_id, number=None):
    """The period `number` of a tournament (default: its latest), as a dict; NotFound if none."""
    query = select(_periods).where(_periods.c.tournament_id == tournament_id)
    query = query.where(_periods.c.number == (number if number is not None else _latest_for(tournament_id)))
    row = session.execute(query).one_or_none()
    if row is None:
        raise NotFound("no such period of this tournament", code="period_not_found")
    return dict(row._mapping)


def _latest_for(tournament_id):
    return select(func.max(_periods.c.number)).where(_periods.c.tournament_id == tournament_id).scalar_subquery()


def detail(tournament_id):
    """One tournament with its current period (the caller's entry is added by `standings`)."""
    with atomic() as session:
        row = definition_of(session, tournament_id)
        period = period_for(session, tournament_id)
    return public(row, period, clock())


def close_grace():
    """Seconds after a period's end before it closes: rounds that settled before the end have committed."""
    return timedelta(seconds=current_app.config.get("TOURNAMENT_CLOSE_GRACE_SECONDS", 5))
