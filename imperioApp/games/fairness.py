"""Provably fair random numbers.

Seeds
-----
* server seed: 32 random bytes from :mod:`secrets`, written as 64 lowercase hex
  characters. Its commitment is ``SHA-256(ascii(server_seed_hex))`` in lowercase hex,
  i.e. the hash of the 64-character *text*, not of the 32 raw bytes.
* client seed: chosen by the player (default: 16 random bytes as 32 hex characters);
  1 to 64 printable ASCII characters without spaces.
* nonce: a non-negative integer, one per round, written in decimal without padding.

Byte stream
-----------
For cursor = 0, 1, 2, ... the 32-byte block::

    block(cursor) = HMAC-SHA256(key = ascii(server_seed_hex),
                                msg = utf8(f"{client_seed}:{nonce}:{cursor}"))

and the round's byte stream is block(0) || block(1) || block(2) || ...

Words
-----
The stream is read as consecutive 32-bit unsigned big-endian words: word k is bytes
4k..4k+3. A block holds exactly 8 words, so no word straddles two blocks.

Unbiased integers: ``randbelow(n)`` for 1 <= n <= 2**32
-------------------------------------------------------
``limit = 2**32 - (2**32 % n)`` is the largest multiple of n not above 2**32. Take the
next word w; if ``w >= limit`` discard it and take the next one; otherwise return
``w % n``. Each of the n results has exactly ``limit / n`` accepted preimages, so the
result is exactly uniform. A word is rejected with probability ``(2**32 % n) / 2**32``,
below ``n / 2**32`` (under 1e-7 for every n the games use); a power-of-two n never
rejects. Every call consumes at least one word, even randbelow(1).

Shuffle: ``shuffle(seq)``
-------------------------
In-place Durstenfeld form of Fisher-Yates: for i = len(seq)-1 down to 1,
``j = randbelow(i + 1)``, swap seq[i] and seq[j]. That is len(seq)-1 draws, in that
order; after the step for i, position i never changes again.

Games consume the words of one round's stream in the order documented in their module;
anyone holding (server_seed, client_seed, nonce) after the seed is revealed can recompute
every round. ``SeededRandomRNG`` has the same interface over :class:`random.Random` and
exists only for simulations; it is neither fair nor reproducible across implementations.
"""

import hashlib
import hmac
import random
import secrets
import struct

from .errors import InvalidSeed, RandomSourceFailed
from .numbers import is_integer

SERVER_SEED_BYTES = 32
CLIENT_SEED_BYTES = 16
CLIENT_SEED_MAX_LENGTH = 64
BLOCK_BYTES = 32
WORD_BYTES = 4
WORD_SPACE = 1 << 32

_WORDS_PER_BLOCK = BLOCK_BYTES // WORD_BYTES
_UNPACK_BLOCK = struct.Struct(f">{_WORDS_PER_BLOCK}I").unpack
_HEX_DIGITS = frozenset("0123456789abcdef")


def _os_random_hex(size: int) -> str:
    """Return `size` bytes of the OS CSPRNG (getrandom(2) via os.urandom) as hex, or raise RandomSourceFailed."""
    try:
        return secrets.token_hex(size)
    except (OSError, NotImplementedError) as exc:  # no entropy source, or the kernel call failed
        raise RandomSourceFailed(f"the OS random source failed: {exc}") from exc


def generate_server_seed() -> str:
    """Return a new secret server seed: 32 random bytes as 64 lowercase hex chars."""
    return _os_random_hex(SERVER_SEED_BYTES)


def generate_client_seed() -> str:
    """Return a default client seed: 16 random bytes as 32 lowercase hex chars."""
    return _os_random_hex(CLIENT_SEED_BYTES)


def hash_server_seed(server_seed: str) -> str:
    """Return the public commitment: SHA-256 hex of the seed's 64 ASCII characters."""
    return hashlib.sha256(validate_server_seed(server_seed).encode("ascii")).hexdigest()


def validate_server_seed(server_seed) -> str:
    """Return server_seed if it is 64 lowercase hex characters, else raise InvalidSeed."""
    if not (isinstance(server_seed, str) and len(server_seed) == 2 * SERVER_SEED_BYTES and _HEX_DIGITS.issuperset(server_seed)):
        raise InvalidSeed("server seed must be 64 lowercase hex characters", code="invalid_server_seed")
    return server_seed


def validate_client_seed(client_seed) -> str:
    """Return client_seed if it is 1-64 printable ASCII chars without spaces, else raise."""
    if not (
        isinstance(client_seed, str)
        and 1 <= len(client_seed) <= CLIENT_SEED_MAX_LENGTH
        and all("!" <= ch <= "~" for ch in client_seed)
    ):
        raise InvalidSeed(
            f"client seed must be 1-{CLIENT_SEED_MAX_LENGTH} printable ASCII characters without spaces",
            code="invalid_client_seed",
        )
    return client_seed


def validate_nonce(nonce) -> int:
    """Return nonce if it is a non-negative int, else raise InvalidSeed."""
    if not is_integer(nonce, 0):
        raise InvalidSeed("nonce must be a non-negative integer", code="invalid_nonce")
    return nonce


def rejection_limit(n: int) -> int:
    """Return the exclusive bound below which a 32-bit word is accepted by randbelow(n)."""
    if not is_integer(n, 1, WORD_SPACE):
        raise ValueError(f"randbelow bound must be an int in [1, 2**32], got {n!r}")
    return WORD_SPACE - WORD_SPACE % n


def byte_stream(server_seed: str, client_seed: str, nonce: int, length: int) -> bytes:
    """Return the first `length` bytes of the round's stream (blocks 0, 1, ... joined)."""
    rng = FairRNG(server_seed, client_seed, nonce)
    blocks = -(-length // BLOCK_BYTES)
    return b"".join(rng.block(cursor) for cursor in range(blocks))[:length]


class RNG:
    """Interface the engines draw from: `randbelow(n)` plus a Durstenfeld `shuffle`."""

    def randbelow(self, n: int) -> int:
        """Return a uniform integer in [0, n)."""
        raise NotImplementedError

    def shuffle(self, seq) -> None:
        """Shuffle the mutable sequence in place (Durstenfeld, i from len-1 down to 1)."""
        randbelow = self.randbelow
        for i in range(len(seq) - 1, 0, -1):
            j = randbelow(i + 1)
            seq[i], seq[j] = seq[j], seq[i]


class FairRNG(RNG):
    """The provably fair stream of one round: (server_seed, client_seed, nonce)."""

    def __init__(self, server_seed: str, client_seed: str, nonce: int):
        self.server_seed = validate_server_seed(server_seed)
        self.client_seed = validate_client_seed(client_seed)
        self.nonce = validate_nonce(nonce)
        # Keying HMAC once and copying it per block is ~2x faster than hmac.digest().
        self._keyed = hmac.new(server_seed.encode("ascii"), digestmod=hashlib.sha256)
        self._prefix = f"{client_seed}:{nonce}:".encode()
        self._next_cursor = 0
        self._words: tuple[int, ...] = ()
        self._index = 0
        self.words_used = 0

    def block(self, cursor: int) -> bytes:
        """Return block(cursor) = HMAC-SHA256(server_seed, f"{client_seed}:{nonce}:{cursor}")."""
        mac = self._keyed.copy()
        mac.update(self._prefix + str(cursor).encode())
        return mac.digest()

    def next_word(self) -> int:
        """Return the next 32-bit big-endian word of the stream."""
        if self._index == len(self._words):
            self._words = _UNPACK_BLOCK(self.block(self._next_cursor))
            self._next_cursor += 1
            self._index = 0
        word = self._words[self._index]
        self._index += 1
        self.words_used += 1
        return word

    def randbelow(self, n: int) -> int:
        """Return an unbiased integer in [0, n) by rejection sampling (see module doc)."""
        limit = rejection_limit(n)
        while True:
            word = self.next_word()
            if word < limit:
                return word % n


class SeededRandomRNG(RNG):
    """Fast RNG over random.Random(seed) with the FairRNG interface; simulations only."""

    def __init__(self, seed=None):
        self._random = random.Random(seed)  # nosec B311  # engine simulations only; real rounds use FairRNG (HMAC-SHA256)
        # CPython's private _randbelow is the unbiased getrandbits loop behind randrange,
        # without randrange's argument checks: simulations call it millions of times. It is
        # bound over the method, and typeshed does not declare private members.
        self.randbelow = self._random._randbelow  # type: ignore[method-assign, attr-defined]
