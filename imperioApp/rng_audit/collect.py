"""Collection tools: the raw fairness stream, and the games' outcomes through the production code.

Both draw rounds from seed pairs made the way the server makes them (32 random bytes from
the OS CSPRNG per server seed, `imperioApp.games.fairness.generate_server_seed`), a new pair
every `rounds_per_pair` rounds, nonces 0, 1, 2 ... within a pair as in play. A `master`
seed instead derives every pair from it (HMAC-SHA256(master, "server:i") and "client:i"),
so a run can be repeated exactly; the default is fresh pairs.

Every data file gets a manifest beside it (`<file>.json`) naming its format, its size and
every seed pair used, server seeds included: these pairs never served a player, and with
them anyone can recompute each byte and outcome with the algorithm of docs/fairness.md.
The formats are documented in docs/fairness.md ("Evidence for a test lab").
"""

import hashlib
import hmac
import json
from datetime import datetime, timezone
from pathlib import Path

from ..games import blackjack, roulette, slots
from ..games import fairness as rng

GAMES = ("roulette", "slots", "blackjack")
SHOE_CARDS = 52 * blackjack.DECKS
DEFAULT_ROUNDS_PER_PAIR = 10_000
ALGORITHM = 'block(cursor) = HMAC-SHA256(server_seed, f"{client_seed}:{nonce}:{cursor}")'

FORMATS = {
    "raw": "binary: for each round (nonce 0, 1, ... of each seed pair in turn) the first blocks_per_round "
    "32-byte blocks of its stream, block(0) first; the engines read it as big-endian 32-bit words",
    "roulette": "text, one spin per line: the winning pocket 0-36 (roulette.spin, randbelow(37))",
    "slots": "text, one spin per line: the three stop segments 15-30 of reels 0, 1, 2, space-separated (slots.spin)",
    "blackjack": f"text, one shoe per line: the {SHOE_CARDS} physical cards in the order they are dealt, "
    "space-separated; physical card i is deck i div 52, card i mod 52 (rank = card mod 13, suit = card div 13), "
    "the shoe being the engine's [0..51] x 6 shuffled by Shoe.draw",
}


def seed_pairs(master=None):
    """Yield (server_seed, client_seed) pairs: fresh from the OS CSPRNG, or derived from `master` (hex)."""
    key = bytes.fromhex(master) if master is not None else None
    index = 0
    while True:
        if key is None:
            yield rng.generate_server_seed(), rng.generate_client_seed()
        else:
            server = hmac.new(key, f"server:{index}".encode(), hashlib.sha256).hexdigest()
            client = hmac.new(key, f"client:{index}".encode(), hashlib.sha256).hexdigest()[: 2 * rng.CLIENT_SEED_BYTES]
            yield server, client
        index += 1


def rounds(count, rounds_per_pair=DEFAULT_ROUNDS_PER_PAIR, master=None, used=None):
    """Yield the FairRNG of `count` rounds; append each pair's manifest entry to `used`."""
    pairs = seed_pairs(master)
    done = 0
    while done < count:
        server_seed, client_seed = next(pairs)
        batch = min(rounds_per_pair, count - done)
        if used is not None:
            used.append(
                {
                    "server_seed": server_seed,
                    "server_seed_hash": rng.hash_server_seed(server_seed),
                    "client_seed": client_seed,
                    "nonces": [0, batch - 1],
                }
            )
        for nonce in range(batch):
            yield rng.FairRNG(server_seed, client_seed, nonce)
        done += batch


def roulette_outcome(stream) -> str:
    """One spin's line: the pocket."""
    return str(roulette.spin(stream))


def slots_outcome(stream) -> str:
    """One spin's line: the three stop segments (the bet does not touch the draw)."""
    return " ".join(map(str, slots.spin(stream, 1).segments))


def blackjack_outcome(stream) -> str:
    """One shoe's line: physical cards 0..311 in deal order, dealt by the engine's own Shoe."""
    shoe = blackjack.Shoe(list(range(SHOE_CARDS)), stream)
    return " ".join(str(shoe.draw()) for _ in range(SHOE_CARDS))


OUTCOME = {"roulette": roulette_outcome, "slots": slots_outcome, "blackjack": blackjack_outcome}


def _write_manifest(path, **fields):
    manifest = {
        "file": Path(path).name,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "algorithm": ALGORITHM,
        **fields,
    }
    Path(f"{path}.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def collect_outcomes(path, game, count, rounds_per_pair=DEFAULT_ROUNDS_PER_PAIR, master=None, outcome=None):
    """Write `count` outcomes of `game` to `path` (format FORMATS[game]) and its manifest; return the manifest."""
    outcome = outcome or OUTCOME[game]
    used = []
    with open(path, "w", encoding="ascii") as out:
        out.writelines(outcome(stream) + "\n" for stream in rounds(count, rounds_per_pair, master, used))
    return _write_manifest(
        path,
        kind="outcomes",
        game=game,
        count=count,
        format=FORMATS[game],
        seeding="derived from a master seed" if master else "fresh pairs from the OS CSPRNG",
        master_seed=master,
        rounds_per_pair=rounds_per_pair,
        seed_pairs=used,
    )


def collect_raw(path, size, blocks_per_round=1, rounds_per_pair=DEFAULT_ROUNDS_PER_PAIR, master=None):
    """Write `size` bytes of the rounds' streams to `path` (format FORMATS["raw"]) and its manifest."""
    per_round = blocks_per_round * rng.BLOCK_BYTES
    count = -(-size // per_round)
    used = []
    written = 0
    with open(path, "wb") as out:
        for stream in rounds(count, rounds_per_pair, master, used):
            chunk = b"".join(stream.block(cursor) for cursor in range(blocks_per_round))[: size - written]
            out.write(chunk)
            written += len(chunk)
    return _write_manifest(
        path,
        kind="raw",
        bytes=size,
        rounds=count,
        blocks_per_round=blocks_per_round,
        format=FORMATS["raw"],
        seeding="derived from a master seed" if master else "fresh pairs from the OS CSPRNG",
        master_seed=master,
        rounds_per_pair=rounds_per_pair,
        seed_pairs=used,
    )
