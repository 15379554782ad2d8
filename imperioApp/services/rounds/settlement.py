"""The one settlement path: every step of every round is written by `settle`.

A step is what one request does to one round: stake coins, credit a win, write or advance
the `game_rounds` row, and, once the round is settled, score it (statistics, leaderboards,
then achievements and notifications). Slots and roulette spins, blackjack deals and
actions, and the shared table's bets and settlements all describe their step as a `Step`
and call `settle`; none of them touches the wallet, the ledger or the scoreboards itself.

On PostgreSQL the whole step is one statement on the driver, a data-modifying CTE: the
guarded balance UPDATE (which takes the wallet row lock and re-checks `balance >= need`
against the latest committed balance if it had to wait), the round INSERT or UPDATE, both
ledger rows with the balances they left behind and the idempotency key, and the
statistics and leaderboard upserts returning what achievements need. With the nonce claim
before it (which opens the transaction in the same round trip) and the COMMIT after it, a
round costs three round trips. A new round whose draw this process expected
(`fairness.expected_draw`) lets the statement claim the nonce too (`claim_draw`): two round
trips, and if the claim finds the pair moved on, nothing is written and the round draws
the usual way in the same transaction. SQLite runs the same writes statement by statement.

A settled round of a player whose `competing` flag the balance UPDATE returned (set while
they may hold a tournament entry) is also scored by the scorers registered with
`register_scorer` (the competitions wing registers its one upsert), in the same
transaction: a player in no tournament pays nothing for tournaments. On PostgreSQL a player
this process last saw competing has the upsert folded into the round's statement; the first
round a process sees of a competing player runs it as one statement more.

After the commit, one channel: `round_settled` (and `big_win`) on the event bus.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from flask import current_app

from ... import json_codec
from ...adapters import driver
from ...models import ALL_GAMES
from ...models.base import utcnow
from ..core import events, lagging
from ..core.unit_of_work import after_commit, atomic
from ..engagement import leaderboards, round_effects, statistics
from ..identity import accounts
from ..money import fairness, wallet
from ..protection import enforcement

_SCORERS = "imperio.round_scorers"
_COMPETING = "imperio.competing_players"
# The players this process last saw competing (see `_folding`); forgotten all at once past this.
COMPETING_MEMORY = 100_000


@dataclass(frozen=True)
class Scorer:
    """A wing's scoring of settled rounds: `run(result, settled_at)` in the round's transaction.

    `folded` (optional) is the same scoring as a step of settlement's own PostgreSQL
    statement: `sql`, a data-modifying step that may read `moved` (the balance UPDATE, with
    the player's `competing` flag) and `played` (the round's id), in `:name` parameters;
    `answer`, an SQL expression over the step (`{name}`) returned with the statement;
    `params(result)`, its parameters beyond the statement's own; `scored(result, answer)`,
    what follows once the statement has run.
    """

    run: Callable
    folded: Any = None


def register_scorer(app, scorer, folded=None):
    """Have `scorer(result, settled_at)` run inside the transaction of every settled round of a competing player.

    Wings above rounds (competitions) register here; rounds imports none of them. With
    `folded`, a competing player's round on PostgreSQL runs it inside settlement's statement
    instead: no statement more than anyone else's round.
    """
    app.extensions.setdefault(_SCORERS, []).append(Scorer(scorer, folded))


def _scorers():
    return current_app.extensions.get(_SCORERS, ())


def _score_for_competitions(result, competing, settled_at, folded=()):
    if competing and result.settled:
        for scorer in _scorers():
            if scorer not in folded:
                scorer.run(result, settled_at)


def _competing_players():
    return current_app.extensions.setdefault(_COMPETING, set())


def _remember(user_id, competing):
    # Only a hint for the next round: a wrong guess costs that round one statement, never a score.
    players = _competing_players()
    if competing:
        if len(players) >= COMPETING_MEMORY:
            players.clear()
        players.add(user_id)
    else:
        players.discard(user_id)


def _folding(step):
    """The scorers to fold into this settled round's statement: those that can, for a player last seen competing."""
    if step.user_id not in _competing_players():
        return ()
    return tuple(scorer for scorer in _scorers() if scorer.folded is not None)


@dataclass
class SettledRound:
    """What a finished (or advanced) round changed, for responses and subscribers."""

    round_id: int
    user_id: int
    game_type: str
    bet: int
    payout: int
    balance: int
    outcome: dict
    fairness: dict = field(default_factory=dict)
    settled: bool = True

    @property
    def net(self):
        """Coins won (positive) or lost (negative) over the round."""
        return self.payout - self.bet

    @property
    def big_win(self):
        """The one big-win rule: a net win of at least BIG_WIN_THRESHOLD coins."""
        return self.net >= current_app.config["BIG_WIN_THRESHOLD"]


@dataclass
class Step:
    """One request's change to one round: coins moved now and the round row as it now stands."""

    user_id: int
    game_type: str
    bet: int  # the round's whole stake so far
    payout: int  # the round's payout (0 until settled)
    inputs: dict
    outcome: dict  # as stored
    fairness: dict  # server_seed_hash, client_seed, nonce
    stake: int = 0  # coins debited by this step
    win: int = 0  # coins credited by this step
    settled: bool = True
    hidden_state: dict | None = None
    round_id: int | None = None  # None: the step opens a new round
    seed_id: int | None = None  # for a new round
    public_outcome: dict | None = None  # what the player sees, when it differs from `outcome`
    # A step that stakes coins: the most the round could pay in all from here on, whatever
    # the outcome (see `ceiling_room`).
    reach: int = 0


def ceiling_room(step, planned):
    """The highest balance `step` may start from under the balance ceiling.

    A stake is refused up front when the balance after it plus the most its round could pay
    would pass MAX_BALANCE: the refusal depends on the bet, never on the outcome, so it
    reveals nothing and no win is ever cut. A step that stakes nothing (hit, stand, the
    expiry of an abandoned round, a table's settlement) finishes a round accepted under the
    ceiling and is always settled: only BIGINT is guarded there, the win being bounded by
    the table limits.
    """
    if step.stake:
        return planned.room(step.reach - step.stake)
    return wallet.MAX_COINS - planned.peak


def clock():
    """The rounds' time: every step's stamps (tests move it, e.g. to abandon a round)."""
    return utcnow()


def claims_draws(session):
    """True if settlement can claim an expected draw in its own statement on this session's database."""
    return driver.dialect_of(session) == "postgresql"


def settle(step, *, idempotency_key=None, claim_draw=False):
    """Write one step in the caller's transaction; return the SettledRound (events go out after commit).

    `claim_draw` (PostgreSQL, a new round): the statement also claims the step's draw (seed
    pair and nonce) and writes nothing, returning None, if that draw is no longer the next.
    """
    movements = []
    if step.stake:
        movements.append(wallet.Movement("bet", -step.stake))
    if step.win:
        movements.append(wallet.Movement("win", step.win))
    planned = wallet.plan(movements)
    room = ceiling_room(step, planned)
    now = clock()
    with atomic() as session:
        dialect_name = driver.dialect_of(session)
        params = _params(
            step, dialect_name, now, delta=planned.net, need=planned.need, room=room, idempotency_key=idempotency_key
        )
        scored_at = leaderboards.clock()  # the boards' time (tests move it across periods)
        if dialect_name == "postgresql":
            settled = _settle_in_one_statement(session, step, params, movements, now, scored_at, claim_draw)
            if settled is None:
                return None
            result, scores = settled
        else:
            result, scores = _settle_statement_by_statement(session, step, params, movements, idempotency_key, now, scored_at)
        if result.settled:
            events.publish_after_commit(events.ROUND_SETTLED, {**_event(result), "leaderboard_scores": scores})
            if result.big_win:
                events.publish_after_commit(
                    events.BIG_WIN, {**_event(result), "username": _username(session, step.user_id), "amount": result.net}
                )
        else:
            # An open round (blackjack) is in the player's history too: their next reads must show it.
            after_commit(lambda: lagging.note_write(step.user_id))
    return result


def _params(step, dialect_name, now, **extra):
    drawn = step.fairness
    return {
        "user_id": step.user_id,
        "game_type": step.game_type,
        "status": "settled" if step.settled else "open",
        "bet": step.bet,
        "payout": step.payout,
        "stake": step.stake,
        "win": step.win,
        "inputs": json_codec.dumps(step.inputs),
        "outcome": json_codec.dumps(step.outcome),
        "hidden_state": None if step.hidden_state is None else json_codec.dumps(step.hidden_state),
        "round_id": step.round_id,
        "seed_id": step.seed_id,
        "server_seed_hash": drawn["server_seed_hash"],
        "client_seed": drawn["client_seed"],
        "nonce": drawn["nonce"],
        "now": driver.timestamp(dialect_name, now),
        "settled_at": driver.timestamp(dialect_name, now) if step.settled else None,
        **extra,
    }


def _result(step, balance, round_id):
    return SettledRound(
        round_id,
        step.user_id,
        step.game_type,
        step.bet,
        step.payout,
        balance,
        step.public_outcome if step.public_outcome is not None else step.outcome,
        step.fairness,
        settled=step.settled,
    )


def _event(result):
    return {
        "round_id": result.round_id,
        "user_id": result.user_id,
        "game_type": result.game_type,
        "bet": result.bet,
        "payout": result.payout,
        "net": result.net,
        "balance": result.balance,
    }


def _username(session, user_id):
    return accounts.usernames([user_id])[user_id]


def _protect(step, movements, protected, round_id, posted_at):
    # The wallet row is locked and this step's ledger rows are written (stamped `posted_at`);
    # a refusal raised here rolls the whole round back: no coins, no nonce, no round row.
    if protected and step.stake:
        enforcement.check_stake(step.user_id, movements, round_id=round_id, posted_at=posted_at)


# --- SQLite (and any dialect without data-modifying CTEs): statement by statement --------


def _native(template, dialect_name):
    """`:name` parameters in the driver's style (psycopg2: %(name)s); `::type` casts left alone."""
    if dialect_name == "postgresql":
        return re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", template)
    return template


_ROUND_COLUMNS = (
    "user_id, game_type, status, bet, payout, inputs, outcome, hidden_state, seed_id, server_seed_hash, "
    "client_seed, nonce, created_at, settled_at"
)
_NEW_ROUND = (
    ":user_id, :game_type, :status, :bet, :payout, :inputs::json, :outcome::json, :hidden_state::json, :seed_id, "
    ":server_seed_hash, :client_seed, :nonce, :now, :settled_at::timestamptz"
)
_ROUND_CHANGES = (
    "status = :status, bet = :bet, payout = :payout, inputs = :inputs::json, outcome = :outcome::json, "
    "hidden_state = :hidden_state::json, settled_at = :settled_at::timestamptz, last_action_at = :now"
)


def _sqlite(template):
    return driver.Prebuilt(sqlite=template.replace("::json", "").replace("::timestamptz", ""))


_INSERT_ROUND = _sqlite(f"INSERT INTO game_rounds ({_ROUND_COLUMNS}) VALUES ({_NEW_ROUND}) RETURNING id")  # nosec B608  # SQL assembled at import from constant fragments; every value is a bound parameter
_UPDATE_ROUND = _sqlite(f"UPDATE game_rounds SET {_ROUND_CHANGES} WHERE id = :round_id")  # nosec B608  # SQL assembled at import from constant fragments; every value is a bound parameter


def _settle_statement_by_statement(session, step, params, movements, idempotency_key, posted_at, now):
    round_id = step.round_id
    if round_id is None:
        round_id = driver.execute(session, _INSERT_ROUND, params).fetchone()[0]
    else:
        driver.execute(session, _UPDATE_ROUND, params)
    # The wallet row is locked from here to COMMIT (see _settle_in_one_statement).
    if movements:
        applied = wallet.apply(
            step.user_id,
            movements,
            game_type=step.game_type,
            round_id=round_id,
            idempotency_key=idempotency_key,
            at=posted_at,
            room=params["room"],
        )
        _protect(step, movements, applied.protection_active, round_id, posted_at)
    else:
        applied = wallet.lock_flags(step.user_id)
    result = _result(step, applied.balance, round_id)
    _score_for_competitions(result, applied.competing, posted_at)
    scores = round_effects.record_settled_round(result, now=now) if result.settled else []
    return result, scores


# --- PostgreSQL: one statement ----------------------------------------------------------

_GUARD = "EXISTS (SELECT 1 FROM played)"
# The statement's parameters that may be None, with their types (it runs prepared).
_NULLABLE = {"hidden_state": "text", "settled_at": "timestamptz", "round_id": "bigint", "idempotency_key": "text"}


def _one_statement(new_round, scored, winning, claims, folded=()):
    played = (
        f"INSERT INTO game_rounds ({_ROUND_COLUMNS}) SELECT {_NEW_ROUND} FROM moved RETURNING id"  # nosec B608  # SQL assembled at import from constant fragments; every value is a bound parameter
        if new_round
        else f"UPDATE game_rounds SET {_ROUND_CHANGES} FROM moved WHERE game_rounds.id = :round_id "  # nosec B608  # SQL assembled at import from constant fragments; every value is a bound parameter
        "RETURNING game_rounds.id"
    )
    # With a claim, nothing moves unless the expected draw was still the next one.
    claimed = " AND EXISTS (SELECT 1 FROM claimed)" if claims else ""
    parts = [f"claimed AS ({fairness.CLAIM_EXPECTED})"] if claims else []
    parts += [
        "moved AS (UPDATE users SET balance = balance + :delta WHERE id = :user_id AND balance >= :need "
        f"AND balance <= :room{claimed} "  # nosec B608  # SQL assembled at import from constant fragments; every value is a bound parameter
        "RETURNING balance, protection_active, competing)",
        f"played AS ({played})",
        # The bet line leaves the balance before the win; the win line leaves the final balance.
        "posted AS (INSERT INTO transactions (user_id, type, amount, balance_after, game_type, round_id, "
        "idempotency_key, created_at) SELECT :user_id, line.type, line.amount, moved.balance - line.later, "
        ":game_type, played.id, :idempotency_key, :now FROM moved, played, (VALUES (1, 'bet', 0 - :stake::bigint, "
        ":win::bigint), (2, 'win', :win::bigint, 0::bigint)) AS line(position, type, amount, later) "
        "WHERE line.amount <> 0 ORDER BY line.position)",
    ]
    tail = "NULL::json, NULL::json"
    if scored:
        stats = statistics.UPSERT.guarded_sql("postgresql", _GUARD)
        board = leaderboards.upsert_for(winning).guarded_sql("postgresql", _GUARD)
        parts += [f"stats AS ({stats})", f"board AS ({board})"]
        tail = "(SELECT json_agg(stats) FROM stats), (SELECT json_agg(board) FROM board)"
    for number, scoring in enumerate(folded):
        parts.append(f"scored_{number} AS ({scoring.sql})")
        tail += ", " + scoring.answer.format(name=f"scored_{number}")
    sql = _native("WITH " + ", ".join(parts), "postgresql")
    columns = f"moved.balance, played.id, moved.protection_active, moved.competing, {tail}"
    # With a claim the statement always answers one row; its last column says whether it claimed.
    select = (
        f"SELECT {columns}, EXISTS (SELECT 1 FROM claimed) FROM (VALUES (1)) AS answer "  # nosec B608  # SQL assembled at import from constant fragments; every value is a bound parameter
        "LEFT JOIN moved ON true LEFT JOIN played ON true"
        if claims
        else f"SELECT {columns} FROM moved, played"  # nosec B608  # SQL assembled at import from constant fragments; every value is a bound parameter
    )
    # The upserts and the claim are in psycopg2's style already.
    return driver.Prebuilt(postgresql=f"{sql} {select}", prepared=_NULLABLE)


_STATEMENTS = {
    (new_round, scored, winning, claims): _one_statement(new_round, scored, winning, claims)
    for new_round in (True, False)
    for scored in (True, False)
    for winning in (True, False)
    for claims in (True, False)
    if (scored or not winning) and (new_round or not claims)
}


_FOLDED_STATEMENTS: dict = {}


def _statement(key, folding):
    if not folding:
        return _STATEMENTS[key]
    folded = tuple(scorer.folded for scorer in folding)
    cache_key = (key, folded)
    statement = _FOLDED_STATEMENTS.get(cache_key)
    if statement is None:
        new_round, scored, winning, claims = key
        statement = _FOLDED_STATEMENTS[cache_key] = _one_statement(new_round, scored, winning, claims, folded)
    return statement


def _settle_in_one_statement(session, step, params, movements, posted_at, now, claims):
    result = _result(step, None, None)  # balance and round id come back from the statement
    scored = step.settled
    winning = scored and result.net > 0
    folding = _folding(step) if scored else ()
    if scored:
        params.update(statistics.upsert_params(result, now=now))
        params.update(leaderboards.upsert_params(result, now=now))
        for scorer in folding:
            params.update(scorer.folded.params(result))
    statement = _statement((step.round_id is None, scored, winning, claims), folding)
    row = driver.execute(session, statement, params).fetchone()
    if claims:
        *row, claimed = row
        if not claimed:
            return None
        if row[0] is None:
            row = None
    if row is None:
        wallet.refuse(step.user_id, params["need"], params["room"])
    # From here to COMMIT the wallet row is locked; the flag the `moved` UPDATE returned
    # beside the balance selects the few players whose stake needs the protection check.
    result.balance, result.round_id, protected, competing, stats, scores, *answers = row
    _remember(step.user_id, competing)
    _protect(step, movements, protected, result.round_id, posted_at)
    if competing:
        for scorer, answer in zip(folding, answers, strict=True):
            scorer.folded.scored(result, answer)
    _score_for_competitions(result, competing, posted_at, folded=folding)
    if not scored:
        return result, []
    by_game = {item["game_type"]: SimpleNamespace(**item) for item in stats}
    overall = by_game[ALL_GAMES]
    round_effects.award(result, overall, by_game[result.game_type])
    writes = leaderboards.index_writes(
        result, [SimpleNamespace(**item) for item in scores], now=now, version=overall.games_played
    )
    return result, writes
