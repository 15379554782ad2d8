"""The page's JavaScript re-implementation of the fairness algorithm, run in chromium's Web
Crypto, gives exactly the engines' outcomes: slots, roulette and blackjack, bet for bet and
card for card, over many random seeds, every bet type and every kind of blackjack play."""

import random

from imperioApp.games import blackjack, roulette, verify
from imperioApp.games.fairness import FairRNG, generate_server_seed

WORKED_SEED = "61a8cad2a0ba37e1f68c3400dc45cf5e2f33fc022fdc04ddf106d3cda4daaaaa"

REPLAY_ALL = """async ([url, cases]) => {
  const fairness = await import(url);
  const out = [];
  for (const c of cases) out.push(await fairness.replay(c.game, c.server_seed, c.client_seed, c.nonce, c.inputs));
  return out;
}"""


def random_bets(rnd):
    bets = []
    for _ in range(rnd.randint(1, 6)):
        kind = rnd.choice(sorted(roulette.PLACEMENTS))
        numbers = sorted(rnd.choice(roulette.PLACEMENTS[kind]))
        bets.append({"type": kind, "numbers": numbers, "amount": rnd.randint(1, 50)})
    return bets


def random_blackjack_actions(server_seed, client_seed, nonce, wager, rnd):
    """Play a round with random legal moves (splitting and doubling whenever offered, often)."""
    game = blackjack.start(FairRNG(server_seed, client_seed, nonce), wager)
    actions = []
    while not game.over:
        legal = blackjack.legal_actions(game)
        preferred = [a for a in ("split", "double_down") if a in legal and rnd.random() < 0.7]
        action = preferred[0] if preferred else rnd.choice([a for a in legal if a in ("hit", "stand")])
        blackjack.apply(game, action)
        actions.append(action)
    return actions


def cases(count=150, seed=20261201):
    rnd = random.Random(seed)
    made = [
        {
            "game": "roulette",
            "server_seed": WORKED_SEED,
            "client_seed": "player-chosen-seed",
            "nonce": 1,
            "inputs": {"bets": [{"type": "black", "numbers": sorted(roulette.BLACK), "amount": 3}]},
        },
        {"game": "slots", "server_seed": WORKED_SEED, "client_seed": "player-chosen-seed", "nonce": 1, "inputs": {"bet": 1}},
        {
            "game": "blackjack",
            "server_seed": WORKED_SEED,
            "client_seed": "player-chosen-seed",
            "nonce": 1,
            "inputs": {"wager": 10, "actions": ["hit", "stand"]},
        },
    ]
    for i in range(count):
        # Seeds from the seeded generator: the sample, and so what it covers, is the same every run.
        server_seed = rnd.randbytes(32).hex()
        client_seed = rnd.choice([rnd.randbytes(16).hex(), "~!odd:seed|", "x"])
        nonce = rnd.choice([i, rnd.randint(0, 10**9), 2**40 + i])
        made.append(
            {
                "game": "slots",
                "server_seed": server_seed,
                "client_seed": client_seed,
                "nonce": nonce,
                "inputs": {"bet": rnd.randint(1, 100)},
            }
        )
        made.append(
            {
                "game": "roulette",
                "server_seed": server_seed,
                "client_seed": client_seed,
                "nonce": nonce + 1,
                "inputs": {"bets": random_bets(rnd)},
            }
        )
        wager = rnd.randint(1, 999)
        actions = random_blackjack_actions(server_seed, client_seed, nonce + 2, wager, rnd)
        made.append(
            {
                "game": "blackjack",
                "server_seed": server_seed,
                "client_seed": client_seed,
                "nonce": nonce + 2,
                "inputs": {"wager": wager, "actions": actions},
            }
        )
    return made


def test_js_replays_equal_the_engines_exactly(open_page, live_server):
    page = open_page()
    made = cases()
    # The sample covers what could go wrong: splits, doubles after splits, naturals, busts.
    records = [
        verify("blackjack", c["server_seed"], c["client_seed"], c["nonce"], c["inputs"])["outcome"]
        for c in made
        if c["game"] == "blackjack"
    ]
    assert any(r["split"] for r in records) and any(r["split"] and 2 * r["wager"] in r["wagers"] for r in records)
    assert any(r["results"][0]["result"] == "blackjack" for r in records)
    assert any(r["player_values"][0] > 21 for r in records)
    computed = page.evaluate(REPLAY_ALL, [live_server.url + "/assets/lobby/fairness.js", made])
    expected = [verify(c["game"], c["server_seed"], c["client_seed"], c["nonce"], c["inputs"])["outcome"] for c in made]
    mismatches = [(c, got, want) for c, got, want in zip(made, computed, expected, strict=True) if got != want]
    assert not mismatches, mismatches[:1]


def test_js_randbelow_rejects_exactly_as_the_engine(open_page, live_server):
    """Large bounds reject often, so the rejection rule itself is compared draw for draw."""
    page = open_page()
    server_seed = generate_server_seed()
    bounds = [1, 2, 3, 37, 311, 312, 2**31 + 1, 3 * 2**30]
    expected = []
    for n in bounds:
        rng = FairRNG(server_seed, "reject", n)
        expected.append([rng.randbelow(n) for _ in range(200)])
    computed = page.evaluate(
        """async ([url, seed, bounds]) => {
          const { FairStream } = await import(url);
          const out = [];
          for (const n of bounds) {
            const stream = new FairStream(seed, "reject", n);
            const draws = [];
            for (let i = 0; i < 200; i++) draws.push(await stream.randbelow(n));
            out.push(draws);
          }
          return out;
        }""",
        [live_server.url + "/assets/lobby/fairness.js", server_seed, bounds],
    )
    assert computed == expected


def test_js_verification_flags_a_wrong_record_or_a_wrong_seed(open_page, live_server):
    page = open_page()
    server_seed = generate_server_seed()
    inputs = {"bets": [{"type": "red", "numbers": sorted(roulette.RED), "amount": 5}]}
    result = verify("roulette", server_seed, "client", 3, inputs)
    round_ = {
        "game_type": "roulette",
        "inputs": inputs,
        "outcome": result["outcome"],
        "fairness": {
            "server_seed": server_seed,
            "server_seed_hash": result["server_seed_hash"],
            "client_seed": "client",
            "nonce": 3,
        },
    }
    tampered_payout = {**round_, "outcome": {**result["outcome"], "total_payout": result["outcome"]["total_payout"] + 10}}
    other_seed = {**round_, "fairness": {**round_["fairness"], "server_seed": generate_server_seed()}}
    unrevealed = {**round_, "fairness": {**round_["fairness"], "server_seed": None}}
    verdicts = page.evaluate(
        """async ([url, rounds]) => {
          const { verifyRound } = await import(url);
          const out = [];
          for (const r of rounds) { const v = await verifyRound(r); out.push([v.status, v.hashMatches, v.outcomeMatches]); }
          return out;
        }""",
        [live_server.url + "/assets/lobby/fairness.js", [round_, tampered_payout, other_seed, unrevealed]],
    )
    assert verdicts[0] == ["match", True, True]
    assert verdicts[1] == ["mismatch", True, False]
    assert verdicts[2][:2] == ["mismatch", False]  # (another seed may land on the same pocket)
    assert verdicts[3] == ["unrevealed", None, None]
