"""The provably fair RNG: spec re-implementation, known answers, unbiasedness."""

import hashlib
import hmac
import string
import struct

import pytest

from imperioApp.games import blackjack, roulette, slots
from imperioApp.games.errors import InvalidSeed
from imperioApp.games.fairness import (
    WORD_SPACE,
    FairRNG,
    SeededRandomRNG,
    byte_stream,
    generate_client_seed,
    generate_server_seed,
    hash_server_seed,
    rejection_limit,
    validate_client_seed,
)

# The worked example of docs/fairness.md.
SERVER_SEED = "61a8cad2a0ba37e1f68c3400dc45cf5e2f33fc022fdc04ddf106d3cda4daaaaa"
SERVER_SEED_HASH = "32670249d2fd53c4ae79a2dc319e21809c18d2677fd8fd24363a75238139989a"
CLIENT_SEED = "player-chosen-seed"
NONCE = 1
BLOCK_0 = "46f368302840ef331c1b21b94a95bc8a1c69518904c75645d16d17c4635a652a"
BLOCK_1 = "3c7fa43b4b608f529e3c8c407497e1a533ac3c44b14ba130abddabbada7b8f34"


def example_rng():
    return FairRNG(SERVER_SEED, CLIENT_SEED, NONCE)


def spec_block(server_seed, client_seed, nonce, cursor):
    """The formula of docs/fairness.md, written independently of the engine."""
    message = f"{client_seed}:{nonce}:{cursor}".encode()
    return hmac.new(server_seed.encode("ascii"), message, hashlib.sha256).digest()


class ScriptedRNG(FairRNG):
    """A FairRNG whose words come from a list, to drive rejection sampling exactly."""

    def __init__(self, words):
        super().__init__(SERVER_SEED, CLIENT_SEED, NONCE)
        self._script = iter(words)

    def next_word(self):
        self.words_used += 1
        return next(self._script)


def test_generated_seeds_are_fresh_lowercase_hex():
    seeds = {generate_server_seed() for _ in range(20)}
    assert len(seeds) == 20
    for seed in seeds:
        assert len(seed) == 64 and set(seed) <= set(string.hexdigits.lower())
    client = generate_client_seed()
    assert len(client) == 32 and validate_client_seed(client) == client


def test_hash_is_sha256_of_the_hex_text():
    assert hash_server_seed(SERVER_SEED) == SERVER_SEED_HASH
    assert hash_server_seed(SERVER_SEED) == hashlib.sha256(SERVER_SEED.encode("ascii")).hexdigest()


@pytest.mark.parametrize("bad", ["", "ab", SERVER_SEED.upper(), SERVER_SEED + "0", SERVER_SEED[:-1] + "g", None, 7])
def test_malformed_server_seeds_are_rejected(bad):
    with pytest.raises(InvalidSeed):
        FairRNG(bad, CLIENT_SEED, NONCE)
    with pytest.raises(InvalidSeed):
        hash_server_seed(bad)


@pytest.mark.parametrize("bad", ["", "has space", "x" * 65, "ñ", None, 12])
def test_malformed_client_seeds_are_rejected(bad):
    with pytest.raises(InvalidSeed):
        FairRNG(SERVER_SEED, bad, NONCE)


@pytest.mark.parametrize("bad", [-1, 1.0, "1", True, None])
def test_malformed_nonces_are_rejected(bad):
    with pytest.raises(InvalidSeed):
        FairRNG(SERVER_SEED, CLIENT_SEED, bad)


def test_blocks_match_the_spec_and_known_answers():
    rng = example_rng()
    assert rng.block(0).hex() == BLOCK_0
    assert rng.block(1).hex() == BLOCK_1
    for cursor in range(5):
        assert rng.block(cursor) == spec_block(SERVER_SEED, CLIENT_SEED, NONCE, cursor)


def test_byte_stream_concatenates_blocks():
    assert byte_stream(SERVER_SEED, CLIENT_SEED, NONCE, 16).hex() == "46f368302840ef331c1b21b94a95bc8a"
    assert byte_stream(SERVER_SEED, CLIENT_SEED, NONCE, 64).hex() == BLOCK_0 + BLOCK_1
    assert byte_stream(SERVER_SEED, CLIENT_SEED, NONCE, 40) == bytes.fromhex(BLOCK_0 + BLOCK_1)[:40]


def test_words_are_big_endian_and_cross_blocks():
    rng = example_rng()
    words = [rng.next_word() for _ in range(10)]
    assert words == [
        1190357040, 675344179, 471540153, 1251327114, 476664201,
        80172613, 3513587652, 1666868522, 1014998075, 1264619346,
    ]  # fmt: skip
    assert words[:8] == list(struct.unpack(">8I", bytes.fromhex(BLOCK_0)))
    assert words[8:] == list(struct.unpack(">2I", bytes.fromhex(BLOCK_1)[:8]))
    assert rng.words_used == 10


def test_randbelow_known_answers():
    rng = example_rng()
    assert [rng.randbelow(37) for _ in range(10)] == [33, 14, 17, 27, 9, 14, 16, 22, 15, 9]
    rng = example_rng()
    assert [rng.randbelow(52) for _ in range(10)] == [28, 3, 45, 50, 13, 1, 16, 46, 39, 42]
    rng = example_rng()
    assert [rng.randbelow(6) for _ in range(10)] == [0, 1, 3, 0, 3, 1, 0, 2, 5, 0]


def test_different_nonces_cursors_and_seeds_give_different_streams():
    blocks = {spec_block(SERVER_SEED, CLIENT_SEED, nonce, cursor) for nonce in range(5) for cursor in range(5)}
    assert len(blocks) == 25
    assert FairRNG(SERVER_SEED, "other-seed", NONCE).block(0) != example_rng().block(0)
    assert FairRNG(generate_server_seed(), CLIENT_SEED, NONCE).block(0) != example_rng().block(0)


@pytest.mark.parametrize("n", [1, 2, 3, 6, 7, 37, 52, 312, 1000, 2**31 + 1, 2**32 - 1, 2**32])
def test_rejection_limit_is_the_largest_multiple_of_n(n):
    limit = rejection_limit(n)
    assert limit % n == 0
    assert 0 <= WORD_SPACE - limit < n
    assert limit <= WORD_SPACE


def test_power_of_two_bounds_never_reject():
    for bits in range(33):
        assert rejection_limit(2**bits) == WORD_SPACE


def test_words_at_or_above_the_limit_are_rejected():
    limit = rejection_limit(3)  # 2**32 % 3 == 1, so only the top word is rejected
    assert limit == WORD_SPACE - 1
    rng = ScriptedRNG([limit, WORD_SPACE - 1, 5])
    assert rng.randbelow(3) == 5 % 3
    assert rng.words_used == 3
    rng = ScriptedRNG([limit - 1])
    assert rng.randbelow(3) == (limit - 1) % 3
    assert rng.words_used == 1


def test_each_residue_has_the_same_number_of_accepted_words():
    # For w uniform on [0, limit), w % n takes every value exactly limit / n times.
    for n in (3, 7, 37, 52, 312):
        limit = rejection_limit(n)
        counts = {r: len(range(r, limit, n)) for r in range(n)}
        assert set(counts.values()) == {limit // n}


def test_randbelow_one_still_consumes_a_word():
    rng = example_rng()
    assert rng.randbelow(1) == 0
    assert rng.words_used == 1


@pytest.mark.parametrize("bad", [0, -1, 2**32 + 1, 1.5, True])
def test_randbelow_rejects_bad_bounds(bad):
    with pytest.raises(ValueError):
        example_rng().randbelow(bad)


def test_randbelow_is_roughly_uniform():
    rng = FairRNG(SERVER_SEED, CLIENT_SEED, 99)
    draws = 37 * 1000
    counts = [0] * 37
    for _ in range(draws):
        counts[rng.randbelow(37)] += 1
    chi2 = sum((c - 1000) ** 2 / 1000 for c in counts)
    assert chi2 < 80  # 36 degrees of freedom: p < 1e-4 beyond 80


def test_shuffle_is_durstenfeld_on_randbelow():
    items = list(range(10))
    example_rng().shuffle(items)
    assert items == [4, 7, 6, 9, 5, 3, 2, 8, 1, 0]

    expected, rng = list(range(10)), example_rng()
    for i in range(9, 0, -1):
        j = rng.randbelow(i + 1)
        expected[i], expected[j] = expected[j], expected[i]
    assert items == expected


def test_seeded_random_rng_is_deterministic_and_in_range():
    a, b = SeededRandomRNG(42), SeededRandomRNG(42)
    draws = [a.randbelow(37) for _ in range(1000)]
    assert draws == [b.randbelow(37) for _ in range(1000)]
    assert set(draws) <= set(range(37)) and len(set(draws)) == 37
    deck = list(range(52))
    SeededRandomRNG(1).shuffle(deck)
    assert sorted(deck) == list(range(52)) and deck != list(range(52))


# Known answers of every game for the worked example (server seed, client seed, nonce 1).


def test_slots_known_answer():
    rng = example_rng()
    outcome = slots.spin(rng, 10)
    assert outcome.segments == (24, 27, 18)
    assert outcome.positions == (12, 14, 9)
    assert outcome.fruits == ("banana", "lemon", "lemon")
    assert (outcome.combination, outcome.multiplier, outcome.payout) == (None, 0, 0)
    assert rng.words_used == 6


def test_roulette_known_answer():
    assert roulette.spin(example_rng()) == 33


def test_blackjack_known_answer_matches_a_full_shuffle_dealt_from_the_end():
    game = blackjack.start(example_rng(), 10)
    assert game.hands[0].cards == [28, 31]  # 3 and 6 of clubs
    assert game.dealer == [7, 44]  # 8 of hearts up, 6 of spades in the hole

    shoe = list(range(52)) * 6
    example_rng().shuffle(shoe)
    assert shoe[::-1][:4] == [28, 7, 31, 44]
    assert game.shoe.remaining() == shoe[:-4]

    blackjack.apply(game, "hit")
    blackjack.apply(game, "stand")
    assert [blackjack.card_to_dict(c)["name"] for c in game.hands[0].cards] == ["3", "6", "Ace"]
    assert [blackjack.card_to_dict(c)["name"] for c in game.dealer] == ["8", "6", "9"]
    assert (game.hands[0].result, blackjack.total_payout(game)) == ("win", 20)
