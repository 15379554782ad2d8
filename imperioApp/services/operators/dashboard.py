"""The operators' live dashboard: today's play and money, RTP over time, the biggest wins, alerts.

Everything is read on demand from the rounds table (by `settled_at`), the audit trail and
this service's metrics; the console polls it. "Today" is the UTC day.
"""

from datetime import datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import Integer, cast, func, select

from ... import metrics
from ...adapters import driver
from ...games import GAMES
from ...models import AdminAudit, GameRound
from ...models.base import utcnow
from ..core.unit_of_work import atomic
from ..identity import accounts
from . import actions

_rounds = GameRound.__table__
_audit = AdminAudit.__table__

ACTIVE_MINUTES = 15
PER_MINUTE_WINDOW = 60  # minutes of rounds-per-minute history
RTP_BUCKET_SECONDS = 3600
RTP_WINDOW_HOURS = 24
# Below this many requests the error rate says nothing yet.
ERROR_RATE_MIN_REQUESTS = 100


def _epoch_bucket(dialect, column, seconds):
    """The integer bucket (epoch seconds // `seconds`) of a timestamp column, in this database's dialect."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", column) / seconds), Integer)
    return cast(func.strftime("%s", column), Integer) / seconds


def _totals(session, since):
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(_rounds.c.bet), 0),
            func.coalesce(func.sum(_rounds.c.payout), 0),
        ).where(_rounds.c.status == "settled", _rounds.c.settled_at >= since)
    ).one()
    rounds, wagered, paid = int(row[0]), int(row[1]), int(row[2])  # PostgreSQL sums BIGINTs as NUMERIC
    return {"rounds": rounds, "wagered": wagered, "paid": paid, "gross_gaming_revenue": wagered - paid}


def _series(session, dialect, since, seconds, *columns, group=()):
    bucket = _epoch_bucket(dialect, _rounds.c.settled_at, seconds).label("bucket")
    return session.execute(
        select(bucket, *group, *columns)
        .where(_rounds.c.status == "settled", _rounds.c.settled_at >= since)
        .group_by(bucket, *group)
        .order_by(bucket)
    ).all()


def _moment(bucket, seconds):
    return datetime.fromtimestamp(int(bucket) * seconds, tz=timezone.utc)


def _published():
    return {name: round(float(engine.PUBLISHED_RTP), 6) for name, engine in GAMES.items() if hasattr(engine, "PUBLISHED_RTP")}


def snapshot(operator, *, now=None):
    """The dashboard: today's totals, rounds per minute, active players and sockets, RTP per hour, biggest wins, alerts."""
    accounts.require_role(operator.admin_id, "support")
    now = now or utcnow()
    midnight = datetime.combine(now.date(), time(), tzinfo=timezone.utc)
    minute_start = (now - timedelta(minutes=PER_MINUTE_WINDOW)).replace(second=0, microsecond=0)
    rtp_start = (now - timedelta(hours=RTP_WINDOW_HOURS)).replace(minute=0, second=0, microsecond=0)
    with atomic() as session:
        dialect = driver.dialect_of(session)
        today = _totals(session, midnight)
        per_minute = _series(session, dialect, minute_start, 60, func.count())
        hourly = _series(
            session,
            dialect,
            rtp_start,
            RTP_BUCKET_SECONDS,
            func.count(),
            func.coalesce(func.sum(_rounds.c.bet), 0),
            func.coalesce(func.sum(_rounds.c.payout), 0),
            group=(_rounds.c.game_type,),
        )
        active_players = session.execute(
            select(func.count(func.distinct(_rounds.c.user_id))).where(
                _rounds.c.settled_at >= now - timedelta(minutes=ACTIVE_MINUTES)
            )
        ).scalar_one()
        last_check = session.execute(
            select(_audit.c.id, _audit.c.details, _audit.c.created_at)
            .where(_audit.c.action == "ledger_check")
            .order_by(_audit.c.id.desc())
            .limit(1)
        ).one_or_none()
    published = _published()
    rtp_series = [
        {
            "at": _moment(bucket, RTP_BUCKET_SECONDS),
            "game_type": game_type,
            "rounds": int(count),
            "rtp": round(int(paid) / int(wagered), 6) if int(wagered) else None,
        }
        for bucket, game_type, count, wagered, paid in hourly
    ]
    rtp_today = actions.game_rtp(operator, midnight, None)["games"]
    service = metrics.service_totals()
    return {
        "at": now,
        "today": today,
        "rounds_per_minute": [{"at": _moment(bucket, 60), "rounds": int(count)} for bucket, count in per_minute],
        "active_players": int(active_players),
        "sockets": service["sockets"],
        "published_rtp": published,
        "rtp_today": rtp_today,
        "rtp_series": rtp_series,
        "biggest_wins": actions.biggest_wins(operator, midnight, None, limit=10),
        "error_rate": _error_rate(service),
        "alerts": _alerts(rtp_today, last_check, service),
    }


def _error_rate(service):
    return round(service["server_errors"] / service["requests"], 6) if service["requests"] else None


def _alerts(rtp_today, last_check, service):
    """What an operator should look at now: a failed ledger check, an RTP out of its band, server errors."""
    config = current_app.config
    alerts = []
    if last_check is not None and (last_check.details or {}).get("offenders"):
        alerts.append(
            {
                "kind": "ledger_check_failed",
                "message": f"the last ledger check found {last_check.details['offenders']} player(s) off",
                "at": last_check.created_at,
            }
        )
    band = config["ADMIN_RTP_ALERT_BAND"] / 100
    for game in rtp_today:
        if (
            game["difference"] is not None
            and game["rounds"] >= config["ADMIN_RTP_ALERT_MIN_ROUNDS"]
            and abs(game["difference"]) >= band
        ):
            alerts.append(
                {
                    "kind": "rtp_drift",
                    "message": f"{game['game_type']} RTP today {game['rtp']:.2%} against {game['published_rtp']:.2%} published",
                    "at": None,
                }
            )
    rate = _error_rate(service)
    if rate is not None and service["requests"] >= ERROR_RATE_MIN_REQUESTS and rate >= config["ADMIN_ERROR_RATE_ALERT"]:
        alerts.append({"kind": "error_rate", "message": f"{rate:.2%} of requests answered 5xx", "at": None})
    return alerts
