"""Achievements: a catalogue seeded by migration, unlocked during settlement, exactly once.

Each achievement names a `metric` and a `threshold`; it unlocks when the metric reaches
the threshold. Metrics are read from the stats rows the round's upsert returned (and the
balance it left), so evaluating all sixteen costs no query. The overall stats row carries
a bitmask of what is already unlocked (bit = achievement id), so a round that unlocks
nothing writes nothing here; a round that does inserts with ON CONFLICT DO NOTHING on the
(user, achievement) primary key, and only the rows that insert report back as new: two
racing rounds can never unlock the same achievement twice.
"""

from flask import current_app
from sqlalchemy import BigInteger, bindparam, func, literal, select, update

from ...adapters import upserts
from ...models import ALL_GAMES, GAME_TYPES, Achievement, UserAchievement, UserStats
from ...models.base import UTCDateTime, utcnow
from ..core import events
from ..core.errors import NotFound
from ..core.unit_of_work import atomic
from ..money import wallet
from . import statistics

_catalogue = Achievement.__table__
_unlocks = UserAchievement.__table__
_stats = UserStats.__table__
_EXTENSION = "imperio.achievements"


# --- pure rules ------------------------------------------------------------------------


def facts(overall, games, balance):
    """Every metric's current value from stats rows (overall, {game: row}) and a balance."""
    # A game without a row stays absent, unknown rather than zero: a round brings only its
    # own game's row, and due() skips metrics it does not know.
    values = {
        "games_played": overall.games_played,
        "best_streak": overall.best_streak,
        "big_wins": overall.big_wins,
        "total_wagered": overall.total_wagered,
        "games_tried": bin(overall.games_mask).count("1"),
        "balance": balance,
    }
    for game, row in games.items():
        values[f"games_played:{game}"] = row.games_played
        values[f"signature_hits:{game}"] = row.signature_hits
    return values


def due(catalogue, values, unlocked_mask):
    """The achievements whose metric has reached the threshold and that are not yet unlocked."""
    return [
        item
        for item in catalogue
        if not unlocked_mask & (1 << item["id"]) and values.get(item["metric"], -1) >= item["threshold"]
    ]


# --- catalogue -------------------------------------------------------------------------


def catalogue():
    """The sixteen achievements, in id order."""
    # Loaded once per process: it changes only with a migration (and so a deploy), and
    # settlement reads it in every round, where it must cost no I/O.
    loaded = current_app.extensions.get(_EXTENSION)
    if loaded is None:
        with atomic() as session:
            rows = session.execute(select(_catalogue).order_by(_catalogue.c.id)).all()
        loaded = tuple(dict(row._mapping) for row in rows)
        current_app.extensions[_EXTENSION] = loaded
    return loaded


def _by_id(achievement_id):
    for item in catalogue():
        if item["id"] == achievement_id:
            return item
    return None


# --- settlement ------------------------------------------------------------------------


def _build_unlock(insert):
    return (
        insert(_unlocks)
        .on_conflict_do_nothing(index_elements=[_unlocks.c.user_id, _unlocks.c.achievement_id])
        .returning(_unlocks.c.achievement_id)
    )


_UNLOCKS = {name: _build_unlock(insert) for name, insert in upserts.DIALECT_INSERTS.items()}
_MARK_UNLOCKED = (
    update(_stats)
    .where(_stats.c.user_id == bindparam("owner"), _stats.c.game_type == ALL_GAMES)
    .values(achievements_mask=_stats.c.achievements_mask.op("|")(bindparam("bits", type_=BigInteger)))
)


def unlock_due(user_id, values, unlocked_mask):
    """Unlock every achievement now due; return the newly unlocked ones (events after commit)."""
    candidates = due(catalogue(), values, unlocked_mask)
    if not candidates:
        return []
    now = utcnow()
    with atomic() as session:
        connection = session.connection()
        inserted = (
            connection.execute(
                _UNLOCKS[connection.dialect.name],
                [{"user_id": user_id, "achievement_id": item["id"], "unlocked_at": now} for item in candidates],
            )
            .scalars()
            .all()
        )
        bits = 0
        for item in candidates:
            bits |= 1 << item["id"]
        connection.execute(_MARK_UNLOCKED, {"owner": user_id, "bits": bits})
    new = set(inserted)
    unlocked = [item for item in candidates if item["id"] in new]
    for item in unlocked:
        events.publish_after_commit(
            events.ACHIEVEMENT_UNLOCKED, {"user_id": user_id, "achievement": public(item), "unlocked_at": now.isoformat()}
        )
    return unlocked


# --- reads -----------------------------------------------------------------------------


def public(item):
    """An achievement as players see it."""
    return {key: item[key] for key in ("id", "code", "name", "description", "category", "threshold", "icon")}


def list_all():
    """The catalogue as players see it."""
    return [public(item) for item in catalogue()]


def unlocked(user_id):
    """The player's unlocked achievements, newest first, with when and whether seen."""
    with atomic() as session:
        rows = session.execute(
            select(_unlocks.c.achievement_id, _unlocks.c.unlocked_at, _unlocks.c.seen_at)
            .where(_unlocks.c.user_id == user_id)
            .order_by(_unlocks.c.unlocked_at.desc(), _unlocks.c.achievement_id)
        ).all()
    return [
        {**public(_by_id(row.achievement_id)), "unlocked_at": row.unlocked_at, "seen": row.seen_at is not None} for row in rows
    ]


def count_unlocked(user_id):
    """How many achievements the player has unlocked."""
    with atomic() as session:
        mask = session.execute(
            select(_stats.c.achievements_mask).where(_stats.c.user_id == user_id, _stats.c.game_type == ALL_GAMES)
        ).scalar_one_or_none()
    return bin(mask or 0).count("1")


def progress(user_id):
    """Each achievement's current value (capped at its threshold) and whether it is unlocked."""
    rows = statistics.stats_rows(user_id)
    balance = wallet.balance_of(user_id)
    overall = rows.get(ALL_GAMES)
    values = facts(overall, {game: rows[game] for game in GAME_TYPES if game in rows}, balance) if overall else {}
    values["balance"] = balance
    mask = overall.achievements_mask if overall else 0
    return [
        {
            **public(item),
            "current": min(values.get(item["metric"], 0), item["threshold"]),
            "unlocked": bool(mask & (1 << item["id"])),
        }
        for item in catalogue()
    ]


def mark_seen(user_id, achievement_id):
    """Mark one of the player's unlocked achievements seen (again is harmless); NotFound if not unlocked."""
    with atomic() as session:
        row = session.execute(
            update(_unlocks)
            .where(_unlocks.c.user_id == user_id, _unlocks.c.achievement_id == achievement_id)
            .values(seen_at=func.coalesce(_unlocks.c.seen_at, literal(utcnow(), UTCDateTime())))
            .returning(_unlocks.c.unlocked_at)
        ).one_or_none()
    if row is None:
        raise NotFound("you have not unlocked that achievement", code="achievement_not_found")
    return {**public(_by_id(achievement_id)), "unlocked_at": row.unlocked_at, "seen": True}
