"""Blackjack: six decks, dealer stands on soft 17, blackjack pays 3:2.

Rules
-----
* Shoe: 6 standard decks (312 cards), freshly shuffled for every round.
* Deal: player, dealer (up card), player, dealer (hole card).
* Naturals are settled at the deal. The dealer peeks when the up card is an ace or a
  ten-value card. Dealer blackjack: the player loses the wager (only the original wager
  exists at that point); both blackjack: push. Player blackjack alone pays 3:2.
* 3:2 in whole coins: a blackjack returns ``wager + floor(3 * wager / 2)``
  (= floor(5 * wager / 2)). Even wagers are paid exactly; on an odd wager the half coin
  is rounded down (wager 5 returns 12, wager 1 returns 2). The published RTP assumes an
  even wager; at wager 1 rounding costs about 2.3 points of RTP.
* The dealer stands on all 17s, soft 17 included (S17), and draws to 16 or less.
* Double down on any first two cards of a hand, also after a split (DAS): the hand's
  wager is doubled, it gets exactly one card and stands.
* Split once: a two-card pair of the *same rank* (K-K yes, K-Q no; basic strategy never
  splits ten-values, so this choice does not change the RTP). The new hand stakes the
  original wager. The first hand receives its second card, then the second hand does,
  both at once. No resplitting.
* Split aces receive one card each and stand. A 21 made after a split is not a
  blackjack and pays 1:1.
* A hand that reaches 21 stands automatically; a busted hand loses at once. If every
  hand busted, the dealer only turns the hole card.
* Win returns 2x the hand's wager, push returns the wager, loss returns 0.
* No insurance, no even money, no surrender.

Published RTP: 99.54% per initial wager with :func:`basic_strategy` (house edge 0.46%);
see PUBLISHED_RTP below for its derivation.

Randomness and the shoe
-----------------------
The shoe starts in deck order, ``list(range(52)) * 6`` where card c has suit
``SUITS[c // 13]`` and rank ``RANK_NAMES[c % 13]``, and is shuffled with the Durstenfeld
Fisher-Yates of :mod:`.fairness` (i from 311 down to 1, ``j = randbelow(i + 1)``). Cards
are dealt from the END of the shuffled list: the first card dealt is position 311.

The implementation is lazy but deals identical cards: the Durstenfeld step for position
i fixes position i for good, so the engine performs that step (one ``randbelow(i + 1)``)
right before dealing position i. The random words are consumed in exactly the order of
the full shuffle. The serialised state of a shoe still being shuffled keeps only how many
cards were dealt from it (``drawn``): the round's random stream, which the server can
recreate from the seed pair and nonce, rebuilds the same shoe by repeating those steps
(finishing the shuffle of the other ~300 cards at every deal would cost more than the
rest of the round). A shoe that was stacked, or read from a version 1 state, keeps its
undealt cards (``shoe``; next card last). The state never leaves the server.

State
-----
:class:`BlackjackGame` is a plain dataclass; :meth:`BlackjackGame.to_dict` /
:meth:`BlackjackGame.from_dict` round-trip it through JSON so an open round can be
stored and resumed. ``log`` records every card dealt (to whom) and every action.
:func:`public_view` is what a client may see (no shoe; the hole card only once the round
is over); :func:`record` adds the log, for game recall.
"""

from dataclasses import dataclass, field
from fractions import Fraction

from .errors import IllegalAction, validate_stake
from .fairness import SeededRandomRNG

NAME = "blackjack"
# The setting capping a round's opening wager (config.py).
STAKE_LIMIT_SETTING = "BLACKJACK_MAX_WAGER"
DECKS = 6
SUITS = ("hearts", "diamond", "clubs", "spades")  # "diamond": the client's image names
RANK_NAMES = ("Ace", "2", "3", "4", "5", "6", "7", "8", "9", "10", "Jack", "Queen", "King")
RANK_VALUES = (11, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10)
ACTIONS = ("hit", "stand", "double_down", "split")
_ALIASES = {"double": "double_down"}
STATE_VERSION = 2  # 1: every state keeps its undealt cards; both are read

# Derivation. Rule-effect tables of the player's expectation (single-deck S17 baseline
# -0.02%; six decks -0.53; DAS +0.13; no resplitting -0.03) give -0.45% for these rules.
# simulate() over 40,000,000 rounds with basic_strategy (seeds 11..18, 5,000,000 each)
# measured RTP 99.543% with a standard error of 0.018 points (house edge 0.457%).
PUBLISHED_RTP = Fraction(9954, 10000)


def card_value(card: int) -> int:
    """Return the blackjack value of a card (ace 11, faces 10)."""
    return RANK_VALUES[card % 13]


def card_to_dict(card: int) -> dict:
    """Return the client form of a card, e.g. {"suit": "hearts", "name": "King", "value": 10}."""
    rank = card % 13
    return {"suit": SUITS[card // 13], "name": RANK_NAMES[rank], "value": RANK_VALUES[rank]}


def make_card(name: str, suit: str = "spades") -> int:
    """Return the card code for a rank name ("Ace", "2".."10", "Jack", ...) and suit."""
    return SUITS.index(suit) * 13 + RANK_NAMES.index(name)


def hand_value(cards) -> tuple[int, bool]:
    """Return (best total, soft): aces count 1, and one of them 11 if that stays <= 21."""
    total = 0
    has_ace = False
    for card in cards:
        value = RANK_VALUES[card % 13]
        if value == 11:
            has_ace = True
            value = 1
        total += value
    if has_ace and total <= 11:
        return total + 10, True
    return total, False


class Shoe:
    """The undealt cards of a round; the next card dealt is the last element."""

    def __init__(self, cards: list[int], rng=None):
        self.cards = cards
        # While set, the Durstenfeld steps for the positions still in `cards` are pending.
        self._rng = rng
        self.drawn = 0

    @classmethod
    def resumed(cls, rng, drawn: int, decks: int = DECKS) -> "Shoe":
        """Return the shoe `rng` shuffles after `drawn` cards were dealt from it."""
        shoe = cls.shuffled(rng, decks)
        for _ in range(drawn):
            shoe.draw()
        return shoe

    @property
    def lazy(self) -> bool:
        """True while the shuffle is still pending (the state can then keep only `drawn`)."""
        return self._rng is not None

    @classmethod
    def shuffled(cls, rng, decks: int = DECKS) -> "Shoe":
        """Return a fresh shoe of `decks` decks in deck order, to be shuffled by rng."""
        return cls(list(range(52)) * decks, rng)

    @classmethod
    def stacked(cls, deal_order) -> "Shoe":
        """Return an unshuffled shoe that deals `deal_order` first to last (tests, demos)."""
        return cls(list(reversed(deal_order)))

    def draw(self) -> int:
        """Deal the next card (the last position, after its Durstenfeld step)."""
        cards = self.cards
        if self._rng is not None and len(cards) > 1:
            j = self._rng.randbelow(len(cards))
            cards[-1], cards[j] = cards[j], cards[-1]
        self.drawn += 1
        return cards.pop()

    def remaining(self) -> list[int]:
        """Return the undealt cards in final order (next card last), finishing the shuffle."""
        if self._rng is not None:
            self._rng.shuffle(self.cards)
            self._rng = None
        return self.cards


@dataclass
class Hand:
    """One player hand and its stake."""

    cards: list[int]
    wager: int
    from_split: bool = False
    doubled: bool = False
    done: bool = False
    result: str | None = None
    payout: int = 0


@dataclass
class BlackjackGame:
    """The whole state of one round; mutate it only through apply()."""

    wager: int
    shoe: Shoe
    dealer: list[int] = field(default_factory=list)
    hands: list[Hand] = field(default_factory=list)
    current: int = 0
    over: bool = False
    message: str = ""
    log: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Return the full, JSON-serialisable server-side state (the shoe as `drawn` or `shoe`, see above)."""
        shoe = {"drawn": self.shoe.drawn} if self.shoe.lazy else {"shoe": list(self.shoe.remaining())}
        return {
            "v": STATE_VERSION,
            "wager": self.wager,
            **shoe,
            "dealer": list(self.dealer),
            "hands": [
                {
                    "cards": list(h.cards),
                    "wager": h.wager,
                    "from_split": h.from_split,
                    "doubled": h.doubled,
                    "done": h.done,
                    "result": h.result,
                    "payout": h.payout,
                }
                for h in self.hands
            ],
            "current": self.current,
            "over": self.over,
            "message": self.message,
            "log": [dict(entry) for entry in self.log],
        }

    @classmethod
    def from_dict(cls, data: dict, rng=None) -> "BlackjackGame":
        """Rebuild a game from to_dict() output; `rng`: the round's random stream, fresh (for a `drawn` shoe)."""
        if data.get("v") not in (1, STATE_VERSION):
            raise ValueError(f"unsupported blackjack state version {data.get('v')!r}")
        if "shoe" in data:
            shoe = Shoe(list(data["shoe"]))
        elif rng is None:
            raise ValueError("this state's shoe is rebuilt from the round's random stream: pass rng")
        else:
            shoe = Shoe.resumed(rng, data["drawn"])
        return cls(
            wager=data["wager"],
            shoe=shoe,
            dealer=list(data["dealer"]),
            hands=[Hand(**{**h, "cards": list(h["cards"])}) for h in data["hands"]],
            current=data["current"],
            over=data["over"],
            message=data["message"],
            log=[dict(entry) for entry in data["log"]],
        )


def _deal_player(game: BlackjackGame, index: int) -> None:
    card = game.shoe.draw()
    game.hands[index].cards.append(card)
    game.log.append({"event": "card", "to": "player", "hand": index, "card": card})


def _deal_dealer(game: BlackjackGame, hole: bool = False) -> None:
    card = game.shoe.draw()
    game.dealer.append(card)
    entry = {"event": "card", "to": "dealer", "card": card}
    if hole:
        entry["hole"] = True
    game.log.append(entry)


def start(rng, wager: int) -> BlackjackGame:
    """Shuffle a fresh 6-deck shoe with rng and deal a round for `wager`."""
    return deal(Shoe.shuffled(rng), wager)


def deal(shoe: Shoe, wager: int) -> BlackjackGame:
    """Deal player, dealer, player, dealer from `shoe` and settle naturals at once."""
    validate_stake(wager, "wager")
    game = BlackjackGame(wager=wager, shoe=shoe, hands=[Hand(cards=[], wager=wager)])
    _deal_player(game, 0)
    _deal_dealer(game)
    _deal_player(game, 0)
    _deal_dealer(game, hole=True)

    player_natural = hand_value(game.hands[0].cards)[0] == 21
    dealer_natural = hand_value(game.dealer)[0] == 21
    if card_value(game.dealer[0]) >= 10:
        game.log.append({"event": "peek", "dealer_blackjack": dealer_natural})
    if player_natural or dealer_natural:
        hand = game.hands[0]
        hand.done = True
        if player_natural and dealer_natural:
            hand.result, hand.payout, game.message = "push", wager, "Push: both have blackjack."
        elif player_natural:
            hand.result, hand.payout = "blackjack", wager + 3 * wager // 2
            game.message = "Blackjack! You win."
        else:
            hand.result, hand.payout, game.message = "lose", 0, "Dealer has blackjack. You lose."
        game.over = True
    return game


def normalize_action(action) -> str:
    """Return the canonical action name ("double" -> "double_down"); raise if unknown."""
    name = action.strip().lower() if isinstance(action, str) else ""
    name = _ALIASES.get(name, name)
    if name not in ACTIONS:
        raise IllegalAction(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}", code="unknown_action")
    return name


def _is_pair(cards) -> bool:
    return len(cards) == 2 and cards[0] % 13 == cards[1] % 13


def _check_legal(game: BlackjackGame, action) -> str:
    action = normalize_action(action)
    if game.over:
        raise IllegalAction("the round is over", code="game_over")
    hand = game.hands[game.current]
    if action == "double_down" and len(hand.cards) != 2:
        raise IllegalAction("double down is only allowed on a hand's first two cards", code="cannot_double")
    if action == "split":
        if len(game.hands) > 1:
            raise IllegalAction("a round can be split only once", code="already_split")
        if not _is_pair(hand.cards):
            raise IllegalAction("only two cards of the same rank can be split", code="cannot_split")
    return action


def legal_actions(game: BlackjackGame) -> list[str]:
    """Return the actions apply() accepts now, in ACTIONS order."""
    legal = []
    for action in ACTIONS:
        try:
            _check_legal(game, action)
        except IllegalAction:
            continue
        legal.append(action)
    return legal


def extra_stake(game: BlackjackGame, action) -> int:
    """Return the coins `action` adds to the stake (debit them before apply); raise if illegal."""
    action = _check_legal(game, action)
    if action in ("double_down", "split"):
        return game.hands[game.current].wager
    return 0


def apply(game: BlackjackGame, action) -> BlackjackGame:
    """Apply a player action in place and return the game; raises before any change if illegal."""
    action = _check_legal(game, action)
    index = game.current
    hand = game.hands[index]
    game.log.append({"event": "action", "action": action, "hand": index})
    if action == "hit":
        _deal_player(game, index)
        hand.done = hand_value(hand.cards)[0] >= 21
    elif action == "stand":
        hand.done = True
    elif action == "double_down":
        hand.wager *= 2
        hand.doubled = True
        _deal_player(game, index)
        hand.done = True
    else:
        hand.from_split = True
        game.hands.append(Hand(cards=[hand.cards.pop()], wager=game.wager, from_split=True))
        _deal_player(game, 0)
        _deal_player(game, 1)
        split_aces = card_value(hand.cards[0]) == 11
        for split_hand in game.hands:
            split_hand.done = split_aces or hand_value(split_hand.cards)[0] == 21
    _advance(game)
    return game


def _advance(game: BlackjackGame) -> None:
    while game.hands[game.current].done:
        if game.current == len(game.hands) - 1:
            _finish(game)
            return
        game.current += 1


def _finish(game: BlackjackGame) -> None:
    """Play the dealer (S17) unless every hand busted, then settle each hand."""
    if any(hand_value(h.cards)[0] <= 21 for h in game.hands):
        while hand_value(game.dealer)[0] < 17:
            _deal_dealer(game)
    dealer_total = hand_value(game.dealer)[0]
    for hand in game.hands:
        total = hand_value(hand.cards)[0]
        if total > 21 or (dealer_total <= 21 and total < dealer_total):
            hand.result, hand.payout = "lose", 0
        elif total == dealer_total:
            hand.result, hand.payout = "push", hand.wager
        else:
            hand.result, hand.payout = "win", 2 * hand.wager
    game.over = True
    game.message = _settlement_message(game, dealer_total)


def _settlement_message(game: BlackjackGame, dealer_total: int) -> str:
    if len(game.hands) > 1:
        return " ".join(f"Hand {i}: {h.result}." for i, h in enumerate(game.hands, start=1))
    hand = game.hands[0]
    if hand.result == "win":
        return "Dealer busts. You win!" if dealer_total > 21 else "You win!"
    if hand.result == "push":
        return "Push."
    return "Bust! You lose." if hand_value(hand.cards)[0] > 21 else "You lose."


# Split once and double both hands: four wagers at stake, each hand paid 2x its doubled wager.
MAX_PAYOUT_WAGERS = 8


def max_payout(wager: int) -> int:
    """Return the most a round opened with `wager` can return, whatever the cards and actions."""
    return MAX_PAYOUT_WAGERS * wager


def total_stake(game: BlackjackGame) -> int:
    """Return the coins staked on the round so far (wager plus doubles and split)."""
    return sum(h.wager for h in game.hands)


def total_payout(game: BlackjackGame) -> int:
    """Return the gross coins returned to the player across hands (0 until settled)."""
    return sum(h.payout for h in game.hands)


def public_view(game: BlackjackGame) -> dict:
    """Return what the player may see: no shoe, and the hole card only once the round is over."""
    dealer_cards = game.dealer if game.over else game.dealer[:1]
    legal = legal_actions(game)
    values = [hand_value(h.cards)[0] for h in game.hands]
    split = len(game.hands) > 1
    return {
        "player_hand": [card_to_dict(c) for c in game.hands[0].cards],
        "player_second_hand": [card_to_dict(c) for c in game.hands[1].cards] if split else [],
        "split": split,
        "current_hand": game.current,
        "dealer_hand": [card_to_dict(c) for c in dealer_cards],
        "dealer_value": hand_value(dealer_cards)[0],
        "player_value": values[0],
        "player_values": values,
        "wager": game.wager,
        "wagers": [h.wager for h in game.hands],
        "current_wager": total_stake(game),
        "game_over": game.over,
        "message": game.message,
        "can_hit": "hit" in legal,
        "can_stand": "stand" in legal,
        "can_double_down": "double_down" in legal,
        "can_split": "split" in legal,
        "results": [
            {"hand": i, "result": h.result, "wager": h.wager, "payout": h.payout, "value": values[i]}
            for i, h in enumerate(game.hands)
        ]
        if game.over
        else [],
        "total_payout": total_payout(game),
    }


def record(game: BlackjackGame) -> dict:
    """Return public_view plus the step log (hole card masked while the round is open)."""
    log = []
    for entry in game.log:
        entry = dict(entry)
        if "card" in entry:
            hidden = entry.get("hole") and not game.over
            entry["card"] = None if hidden else card_to_dict(entry["card"])
        log.append(entry)
    return {**public_view(game), "log": log}


def signature_hit(outcome: dict) -> bool:
    """True if the round's public outcome is this game's best (statistics count it): a natural."""
    return any(hand.get("result") == "blackjack" for hand in outcome.get("results", ()))


def replay(rng, inputs: dict) -> dict:
    """Recompute a round from {"wager": int, "actions": [...]}; return its record()."""
    game = start(rng, validate_stake(inputs.get("wager"), "wager"))
    actions = inputs.get("actions", [])
    if not isinstance(actions, list):
        raise IllegalAction("actions must be a list", code="invalid_actions")
    for action in actions:
        apply(game, action)
    return record(game)


# Basic strategy for these rules (4+ decks, S17, DAS, no surrender), by dealer up card
# 2, 3, 4, 5, 6, 7, 8, 9, 10, A. H hit, S stand, D double else hit, X double else stand.
_HARD = {9: "HDDDDHHHHH", 10: "DDDDDDDDHH", 11: "DDDDDDDDDH", 12: "HHSSSHHHHH"}
_HARD.update(dict.fromkeys(range(13, 17), "SSSSSHHHHH"))
_SOFT = {13: "HHHDDHHHHH", 14: "HHHDDHHHHH", 15: "HHDDDHHHHH", 16: "HHDDDHHHHH",
         17: "HDDDDHHHHH", 18: "SXXXXSSHHH"}  # fmt: skip
# Split (Y) or not (N), by the value of one card of the pair.
_PAIRS = {2: "YYYYYYNNNN", 3: "YYYYYYNNNN", 4: "NNNYYNNNNN", 6: "YYYYYNNNNN",
          7: "YYYYYYNNNN", 8: "YYYYYYYYYY", 9: "YYYYYNYYNN", 11: "YYYYYYYYYY"}  # fmt: skip


def basic_strategy(game: BlackjackGame) -> str:
    """Return the basic-strategy action for the current hand (used for the published RTP)."""
    hand = game.hands[game.current]
    column = card_value(game.dealer[0]) - 2
    two_cards = len(hand.cards) == 2
    pair_value = card_value(hand.cards[0]) if len(game.hands) == 1 and _is_pair(hand.cards) else 0
    if _PAIRS.get(pair_value, "N" * 10)[column] == "Y":
        return "split"
    total, soft = hand_value(hand.cards)
    if soft:
        code = _SOFT.get(total, "S" * 10 if total > 18 else "H" * 10)[column]
    elif total >= 17:
        code = "S"
    else:
        code = _HARD.get(total, "H" * 10)[column]
    if code in "DX":
        if two_cards:
            return "double_down"
        return "hit" if code == "D" else "stand"
    return "hit" if code == "H" else "stand"


def simulate(rounds: int, seed, wager: int = 2) -> tuple[int, int]:
    """Play `rounds` basic-strategy rounds on SeededRandomRNG(seed); return (staked, returned)."""
    rng = SeededRandomRNG(seed)
    staked = returned = 0
    for _ in range(rounds):
        game = start(rng, wager)
        while not game.over:
            apply(game, basic_strategy(game))
        staked += total_stake(game)
        returned += total_payout(game)
    return staked, returned
