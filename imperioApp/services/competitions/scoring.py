"""Scores come from settled rounds only: the live statement, and the recomputation from the rounds table.

Live: settlement runs the scoring upsert inside a settled round's transaction, for players whose
`competing` flag is set: on PostgreSQL as a step of its own statement once this process has
seen the player competing (`FoldedScoring`), otherwise as a statement of its own right after
it (`score_round`). The upsert adds the round to every entry of the
player in a period running at the round's settlement time whose games and minimum bet the
round meets, within max_rounds; in a race every player is in (`open_to_all`) it creates the
entry with the first round. An entry the close has made final takes no more rounds (the close
locks the entries first, so a round in flight either scores before the close reads or not at
all).

Per round, with stake B and payout P (a blackjack round counts once, when it settles, with
its total stake): wagered adds B; net_win adds P - B; multiplier_points adds
min(floor(100 * P / B), multiplier_cap); best_multiplier keeps max(floor(100 * P / B)). An
entry remembers when its score last changed and by which round: ties go to whoever reached
the score first.

Recomputation: `recompute(period)` replays the same rule over the `game_rounds` rows settled
inside the period (in order of settlement), for the period's entrants (in a race, every
player who played); `check` compares it with the live entries.
"""

from sqlalchemy import select, text

from ...adapters import driver
from ...models import GameRound, TournamentEntry, TournamentPeriod
from ..core import events
from ..core.unit_of_work import atomic
from . import tournaments

_rounds = GameRound.__table__
_entries = TournamentEntry.__table__
_periods = TournamentPeriod.__table__


def multiplier(bet, payout):
    """The round's multiplier in hundredths: floor(100 * payout / stake)."""
    return payout * 100 // bet if bet > 0 else 0


def contribution(metric, cap, bet, payout):
    """What one round adds (or, for best_multiplier, offers) to a score."""
    if metric == "wagered":
        return bet
    if metric == "net_win":
        return payout - bet
    if metric == "multiplier_points":
        return min(multiplier(bet, payout), cap)
    return multiplier(bet, payout)


def next_score(metric, score, offered):
    return max(score, offered) if metric == "best_multiplier" else score + offered


_OFFERED = (
    "CASE t.metric WHEN 'wagered' THEN :bet WHEN 'net_win' THEN :tournament_net "
    "WHEN 'multiplier_points' THEN (CASE WHEN :tournament_mult > t.multiplier_cap THEN t.multiplier_cap "
    "ELSE :tournament_mult END) ELSE :tournament_mult END"
)
_NEW = (
    "(CASE WHEN excluded.metric = 'best_multiplier' THEN "
    "(CASE WHEN excluded.score > tournament_entries.score THEN excluded.score ELSE tournament_entries.score END) "
    "ELSE tournament_entries.score + excluded.score END)"
)
# A score changes only with a non-zero offer, whose row (`excluded`) carries the round's id.
_CHANGED = f"{_NEW} <> tournament_entries.score"


def _upsert(round_id, sources="", guard=""):
    """The scoring upsert; `round_id` is the SQL of the round's id, `sources`/`guard` what the folded form adds."""
    return (
        "INSERT INTO tournament_entries (period_id, tournament_id, user_id, metric, joined_at, fee, score, rounds, "  # nosec B608  # constant fragments; every value is a bound parameter
        "reached_at, reached_round_id, final) "
        f"SELECT p.id, t.id, :user_id, t.metric, :now, 0, {_OFFERED}, 1, :now, "
        f"CASE WHEN ({_OFFERED}) <> 0 THEN {round_id} ELSE NULL END, false "
        f"FROM {sources}tournament_periods p JOIN tournaments t ON t.id = p.tournament_id "
        "LEFT JOIN tournament_entries e ON e.period_id = p.id AND e.user_id = :user_id "
        f"WHERE {guard}p.status = 'open' AND p.starts_at <= :now AND (p.ends_at IS NULL OR p.ends_at > :now) "
        "AND t.status = 'active' AND (t.games_mask & :tournament_game_bit) <> 0 AND t.min_bet <= :bet "
        "AND ((e.id IS NULL AND p.open_to_all) OR (e.id IS NOT NULL AND NOT e.final AND e.joined_at <= :now "
        "AND (t.max_rounds IS NULL OR e.rounds < t.max_rounds))) "
        "ON CONFLICT (period_id, user_id) DO UPDATE SET "
        f"score = {_NEW}, rounds = tournament_entries.rounds + 1, "
        f"reached_at = CASE WHEN {_CHANGED} THEN excluded.reached_at ELSE tournament_entries.reached_at END, "
        f"reached_round_id = CASE WHEN {_CHANGED} THEN excluded.reached_round_id ELSE tournament_entries.reached_round_id END "
        "WHERE NOT tournament_entries.final "
        "RETURNING tournament_entries.tournament_id, tournament_entries.period_id"
    )


# The upsert's SELECT ends with a WHERE, so SQLite reads ON CONFLICT as the upsert's. It runs on
# the driver as settlement's own statements do (a prepared statement on PostgreSQL): through the
# SQLAlchemy session it had cost an entrant's round about 0.6 ms more of client CPU.
_SCORE = driver.Prebuilt(text(_upsert(":round_id")), prepared={})


def _params(result):
    return {
        "bet": result.bet,
        "tournament_net": result.payout - result.bet,
        "tournament_mult": multiplier(result.bet, result.payout),
        "tournament_game_bit": tournaments.game_bit(result.game_type),
    }


def _announce(scored):
    for tournament_id, period_id in scored:
        events.publish_after_commit(events.TOURNAMENT_STANDINGS_CHANGED, {"tournament_id": tournament_id, "period_id": period_id})


def score_round(result, settled_at):
    """Add a settled round to the player's running entries (settlement's scorer; in the round's transaction)."""
    if result.bet <= 0:
        return
    with atomic() as session:
        params = {
            **_params(result),
            "user_id": result.user_id,
            "now": driver.timestamp(driver.dialect_of(session), settled_at),
            "round_id": result.round_id,
        }
        _announce(driver.execute(session, _SCORE, params).fetchall())


class FoldedScoring:
    """The same upsert as a step of settlement's own statement on PostgreSQL (see `settlement.Scorer`).

    It reads the round's id from settlement's `played` step and runs only if the balance
    UPDATE (`moved`) returned the player's `competing` flag set; its rows come back in the
    statement's answer as an array of (tournament_id, period_id).
    """

    sql = _upsert("played.id", sources="moved, played, ", guard="moved.competing AND :bet > 0 AND ")
    answer = "ARRAY(SELECT ARRAY[tournament_id, period_id] FROM {name})"

    @staticmethod
    def params(result):
        """Settlement's statement already carries the player, the time (:now) and the stake (:bet)."""
        return _params(result)

    @staticmethod
    def scored(result, answer):
        """Announce the standings the folded upsert changed."""
        _announce(answer or ())


# --- recomputation ----------------------------------------------------------------------


def recompute(session, definition, period):
    """{user_id: {score, rounds, reached_at, reached_round_id, joined_at}} replayed from the rounds table."""
    if period["starts_at"] is None:
        return {}
    entrants = {
        row.user_id: row.joined_at
        for row in session.execute(select(_entries.c.user_id, _entries.c.joined_at).where(_entries.c.period_id == period["id"]))
    }
    game_types = tournaments.game_types_of(definition["games_mask"])
    query = select(_rounds.c.id, _rounds.c.user_id, _rounds.c.bet, _rounds.c.payout, _rounds.c.settled_at).where(
        _rounds.c.status == "settled",
        _rounds.c.settled_at >= period["starts_at"],
        _rounds.c.game_type.in_(game_types),
        _rounds.c.bet >= definition["min_bet"],
        _rounds.c.bet > 0,
    )
    if period["ends_at"] is not None:
        query = query.where(_rounds.c.settled_at < period["ends_at"])
    if not period["open_to_all"]:
        if not entrants:
            return {}
        query = query.where(_rounds.c.user_id.in_(list(entrants)))
    metric, cap, max_rounds = definition["metric"], definition["multiplier_cap"], definition["max_rounds"]
    scores = {
        user_id: {"score": 0, "rounds": 0, "reached_at": joined_at, "reached_round_id": None, "joined_at": joined_at}
        for user_id, joined_at in entrants.items()
    }
    for row in session.execute(query.order_by(_rounds.c.settled_at, _rounds.c.id)):
        entry = scores.get(row.user_id)
        if entry is None:  # a race every player is in: the first round enrols
            entry = scores[row.user_id] = {
                "score": 0,
                "rounds": 0,
                "reached_at": row.settled_at,
                "reached_round_id": None,
                "joined_at": row.settled_at,
            }
        if row.settled_at < entry["joined_at"] or (max_rounds is not None and entry["rounds"] >= max_rounds):
            continue
        new = next_score(metric, entry["score"], contribution(metric, cap, row.bet, row.payout))
        entry["rounds"] += 1
        if new != entry["score"]:
            entry.update(score=new, reached_at=row.settled_at, reached_round_id=row.id)
    return scores


def ranking(scores, min_rounds):
    """[(user_id, entry)] of the ranked entrants, best first: score, then who reached it first."""
    ranked = [(user_id, entry) for user_id, entry in scores.items() if entry["rounds"] >= min_rounds]
    ranked.sort(key=lambda item: (-item[1]["score"], item[1]["reached_at"], item[1]["reached_round_id"] or 0, item[0]))
    return ranked


def check(tournament_id, number=None):
    """Compare the live entries of a period with the recomputation from the rounds table."""
    with atomic() as session:
        definition = tournaments.definition_of(session, tournament_id)
        period = tournaments.period_for(session, tournament_id, number)
        expected = recompute(session, definition, period)
        live = {
            row.user_id: row
            for row in session.execute(
                select(_entries.c.user_id, _entries.c.score, _entries.c.rounds, _entries.c.reached_round_id).where(
                    _entries.c.period_id == period["id"]
                )
            )
        }
    differences = []
    for user_id in sorted(set(expected) | set(live)):
        want, have = expected.get(user_id), live.get(user_id)
        want_values = (want["score"], want["rounds"]) if want else (0, 0)
        have_values = (have.score, have.rounds) if have else (0, 0)
        if want_values != have_values:
            differences.append(
                {
                    "user_id": user_id,
                    "live_score": have_values[0],
                    "live_rounds": have_values[1],
                    "recomputed_score": want_values[0],
                    "recomputed_rounds": want_values[1],
                }
            )
    return {
        "tournament_id": tournament_id,
        "period": period["number"],
        "entries_checked": len(set(expected) | set(live)),
        "ok": not differences,
        "differences": differences,
    }
