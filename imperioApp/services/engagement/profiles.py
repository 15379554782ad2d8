"""Player profiles: your own in full; anyone's public view, statistics only if they opted in."""

from sqlalchemy import update

from ...models import User
from ..core.unit_of_work import atomic
from ..identity import accounts
from . import achievements, leaderboards, notifications, statistics

_users = User.__table__


def _achievement_counts(user_id):
    return {"unlocked": achievements.count_unlocked(user_id), "total": len(achievements.catalogue())}


def own(user_id):
    """The caller's profile: account, balance, statistics, achievements, ranks, unread count."""
    user = accounts.get_user(user_id)
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "coins": user.balance,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
        "public_stats": user.public_stats,
        "statistics": statistics.overview(user_id),
        "achievements": _achievement_counts(user_id),
        "ranks": leaderboards.standing(user_id, neighbours=False),
        "unread_notifications": notifications.unread_count(user_id),
    }


def public(username):
    """Anyone's public profile: never email or balance; statistics only if the owner opted in."""
    user = accounts.get_user_by_username(username)
    return {
        "username": user.username,
        "created_at": user.created_at,
        "achievements": _achievement_counts(user.id),
        "public_stats": user.public_stats,
        "statistics": statistics.overview(user.id) if user.public_stats else None,
    }


def update_settings(user_id, *, public_stats):
    """Change the caller's profile settings; return their profile."""
    with atomic() as session:
        session.execute(update(_users).where(_users.c.id == user_id).values(public_stats=public_stats))
    return own(user_id)
