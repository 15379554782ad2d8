"""Blackjack: every rule on stacked shoes, state round-trips, and a 1M-round RTP run."""

import json
import math
from concurrent.futures import ProcessPoolExecutor

import pytest

from imperioApp.games import blackjack as bj
from imperioApp.games.errors import IllegalAction, InvalidBet
from imperioApp.games.fairness import FairRNG

SEED = "ef" * 32


def stacked(*names, wager=10):
    """Deal a round from cards in deal order: player, dealer up, player, dealer hole, then draws."""
    suits = bj.SUITS
    cards = [bj.make_card(name, suits[i % 4]) for i, name in enumerate(names)]
    return bj.deal(bj.Shoe.stacked(cards), wager)


def names(cards):
    return [bj.RANK_NAMES[c % 13] for c in cards]


def snapshot(game):
    return json.dumps(game.to_dict(), sort_keys=True)


# --- cards and values -------------------------------------------------------------


def test_card_dicts_use_the_client_image_names():
    assert bj.card_to_dict(bj.make_card("King", "hearts")) == {"suit": "hearts", "name": "King", "value": 10}
    assert bj.card_to_dict(bj.make_card("Ace", "diamond")) == {"suit": "diamond", "name": "Ace", "value": 11}
    assert bj.card_to_dict(bj.make_card("7", "clubs")) == {"suit": "clubs", "name": "7", "value": 7}
    assert len({bj.make_card(n, s) for n in bj.RANK_NAMES for s in bj.SUITS}) == 52


def test_hand_values_count_one_ace_as_eleven_when_it_fits():
    def value(*ranks):
        return bj.hand_value([bj.make_card(r) for r in ranks])

    assert value("Ace", "6") == (17, True)
    assert value("Ace", "6", "10") == (17, False)
    assert value("Ace", "Ace", "9") == (21, True)
    assert value("Ace", "King") == (21, True)
    assert value("10", "6", "King") == (26, False)


# --- naturals and the dealer peek -------------------------------------------------


def test_natural_against_natural_is_a_push():
    game = stacked("Ace", "Ace", "King", "Queen")
    assert game.over and game.hands[0].result == "push"
    assert bj.total_payout(game) == 10 and bj.total_stake(game) == 10
    assert len(game.dealer) == 2


@pytest.mark.parametrize(("wager", "returned"), [(10, 25), (2, 5), (5, 12), (1, 2), (101, 252)])
def test_player_natural_pays_three_to_two_rounded_down(wager, returned):
    game = stacked("Ace", "9", "King", "7", wager=wager)
    assert game.over and game.hands[0].result == "blackjack"
    assert bj.total_payout(game) == returned == (5 * wager) // 2
    assert game.message == "Blackjack! You win."


def test_dealer_peeks_under_an_ace_and_takes_only_the_wager():
    game = stacked("10", "Ace", "9", "King")
    assert game.over and game.hands[0].result == "lose"
    assert bj.total_stake(game) == 10 and bj.total_payout(game) == 0
    assert {"event": "peek", "dealer_blackjack": True} in game.log
    assert bj.public_view(game)["dealer_hand"][1]["name"] == "King"


def test_dealer_peeks_under_a_ten_and_play_continues_without_blackjack():
    game = stacked("10", "King", "9", "7")
    assert not game.over
    assert {"event": "peek", "dealer_blackjack": False} in game.log
    ace_hole = stacked("10", "Queen", "9", "Ace")
    assert ace_hole.over and ace_hole.hands[0].result == "lose"


def test_no_peek_under_a_low_card():
    game = stacked("10", "9", "9", "Ace")
    assert not game.over
    assert not any(entry["event"] == "peek" for entry in game.log)


# --- dealer drawing: S17 ----------------------------------------------------------


def test_dealer_stands_on_soft_17():
    game = stacked("10", "Ace", "8", "6", "5")
    bj.apply(game, "stand")
    assert names(game.dealer) == ["Ace", "6"]  # would draw the 5 under H17
    assert game.hands[0].result == "win" and bj.total_payout(game) == 20


def test_dealer_stands_on_a_multi_card_soft_17():
    game = stacked("10", "Ace", "8", "2", "4", "5")
    bj.apply(game, "stand")
    assert names(game.dealer) == ["Ace", "2", "4"]


def test_dealer_draws_to_16_and_busts():
    game = stacked("10", "10", "7", "6", "9")
    bj.apply(game, "stand")
    assert names(game.dealer) == ["10", "6", "9"]
    assert game.hands[0].result == "win" and game.message == "Dealer busts. You win!"


def test_dealer_hard_17_beats_16_and_ties_push():
    game = stacked("10", "10", "6", "7")
    bj.apply(game, "stand")
    assert game.hands[0].result == "lose" and bj.total_payout(game) == 0
    game = stacked("10", "10", "7", "7")
    bj.apply(game, "stand")
    assert game.hands[0].result == "push" and bj.total_payout(game) == 10


def test_dealer_does_not_draw_when_every_hand_busted():
    game = stacked("10", "10", "6", "6", "King", "5")
    bj.apply(game, "hit")
    assert game.over and game.message == "Bust! You lose."
    assert names(game.dealer) == ["10", "6"]


# --- hitting, doubling ------------------------------------------------------------


def test_hitting_to_21_stands_automatically():
    game = stacked("5", "10", "6", "8", "King", "3")
    bj.apply(game, "hit")
    assert game.over and bj.hand_value(game.hands[0].cards)[0] == 21
    assert names(game.dealer) == ["10", "8"]


def test_double_draws_exactly_one_card_and_doubles_the_wager():
    game = stacked("5", "10", "6", "7", "2", "King")
    assert bj.extra_stake(game, "double") == 10
    bj.apply(game, "double")
    hand = game.hands[0]
    assert names(hand.cards) == ["5", "6", "2"] and hand.doubled and hand.wager == 20
    assert game.over and hand.result == "lose"  # 13 against 17; the King stays in the shoe
    assert bj.total_stake(game) == 20 and bj.total_payout(game) == 0


def test_double_win_pays_on_the_doubled_wager():
    game = stacked("5", "10", "6", "7", "9")
    bj.apply(game, "double_down")
    assert game.hands[0].result == "win" and bj.total_payout(game) == 40


# --- splitting ----------------------------------------------------------------------


def test_split_aces_get_one_card_each_and_21_pays_even_money():
    game = stacked("Ace", "9", "Ace", "7", "King", "5", "2")
    assert bj.extra_stake(game, "split") == 10
    bj.apply(game, "split")
    first, second = game.hands
    assert names(first.cards) == ["Ace", "King"] and names(second.cards) == ["Ace", "5"]
    assert game.over  # no further action on split aces
    assert names(game.dealer) == ["9", "7", "2"]
    assert first.result == "win" and first.payout == 20  # 21 after a split is not a blackjack
    assert second.result == "lose" and second.payout == 0
    assert bj.total_stake(game) == 20 and bj.total_payout(game) == 20


def test_ten_valued_split_making_21_pays_one_to_one():
    game = stacked("King", "10", "King", "9", "Ace", "9")
    bj.apply(game, "split")
    first, second = game.hands
    assert names(first.cards) == ["King", "Ace"] and first.done  # auto-stand at 21
    assert game.current == 1 and names(second.cards) == ["King", "9"]
    bj.apply(game, "stand")
    assert first.result == "win" and first.payout == 20
    assert second.result == "push" and second.payout == 10
    assert game.message == "Hand 1: win. Hand 2: push."


def test_double_after_split_is_allowed():
    game = stacked("8", "6", "8", "10", "3", "King", "10", "Queen")
    bj.apply(game, "split")
    assert names(game.hands[0].cards) == ["8", "3"] and names(game.hands[1].cards) == ["8", "King"]
    assert bj.extra_stake(game, "double_down") == 10
    bj.apply(game, "double_down")
    assert game.hands[0].wager == 20 and names(game.hands[0].cards) == ["8", "3", "10"]
    assert game.current == 1 and not game.over
    bj.apply(game, "stand")
    assert names(game.dealer) == ["6", "10", "Queen"]
    assert [h.payout for h in game.hands] == [40, 20]
    assert bj.total_stake(game) == 30 and bj.total_payout(game) == 60


def test_split_pays_each_hand_on_its_own():
    game = stacked("8", "10", "8", "9", "10", "5", "King")
    bj.apply(game, "split")
    bj.apply(game, "stand")  # 18 against 19
    bj.apply(game, "hit")  # 13 + King busts
    assert [h.result for h in game.hands] == ["lose", "lose"]
    assert names(game.dealer) == ["10", "9"]


# --- illegal actions ----------------------------------------------------------------


@pytest.mark.parametrize("action", ["surrender", "insurance", "", None, 3, "HIT!", ["hit"]])
def test_unknown_actions_are_rejected(action):
    game = stacked("10", "9", "7", "8")
    with pytest.raises(IllegalAction) as info:
        bj.apply(game, action)
    assert info.value.code == "unknown_action"


def test_action_aliases_and_case():
    assert bj.normalize_action("double") == "double_down"
    assert bj.normalize_action(" Hit ") == "hit"
    assert bj.normalize_action("SPLIT") == "split"


def test_actions_after_the_round_are_rejected():
    game = stacked("Ace", "9", "King", "7")
    for action in bj.ACTIONS:
        with pytest.raises(IllegalAction) as info:
            bj.apply(game, action)
        assert info.value.code == "game_over"


def test_double_after_a_hit_is_rejected_without_changing_anything():
    game = stacked("2", "10", "3", "7", "4")
    bj.apply(game, "hit")
    before = snapshot(game)
    with pytest.raises(IllegalAction) as info:
        bj.apply(game, "double_down")
    assert info.value.code == "cannot_double"
    with pytest.raises(IllegalAction):
        bj.extra_stake(game, "double_down")
    assert snapshot(game) == before


def test_split_needs_two_cards_of_the_same_rank():
    game = stacked("King", "7", "Queen", "8")
    with pytest.raises(IllegalAction) as info:
        bj.apply(game, "split")
    assert info.value.code == "cannot_split"
    assert not bj.public_view(game)["can_split"]

    game = stacked("4", "7", "4", "8", "2")
    bj.apply(game, "hit")
    with pytest.raises(IllegalAction):
        bj.apply(game, "split")


def test_a_second_split_is_rejected():
    game = stacked("8", "7", "8", "10", "8", "3")
    bj.apply(game, "split")
    assert names(game.hands[0].cards) == ["8", "8"]
    with pytest.raises(IllegalAction) as info:
        bj.apply(game, "split")
    assert info.value.code == "already_split"


def test_extra_stake_is_zero_for_hit_and_stand():
    game = stacked("8", "7", "8", "10")
    assert bj.extra_stake(game, "hit") == 0 and bj.extra_stake(game, "stand") == 0
    assert bj.legal_actions(game) == ["hit", "stand", "double_down", "split"]


def test_invalid_wagers_are_rejected():
    for bad in (0, -10, 2.5, "10", True, None):
        with pytest.raises(InvalidBet):
            bj.start(FairRNG(SEED, "client", 1), bad)


# --- what the client sees -----------------------------------------------------------


def test_public_view_hides_the_hole_card_and_the_shoe():
    game = stacked("10", "9", "6", "King", "5")
    view = bj.public_view(game)
    assert [c["name"] for c in view["dealer_hand"]] == ["9"] and view["dealer_value"] == 9
    assert view["player_value"] == 16 and view["game_over"] is False and view["message"] == ""
    assert view["can_double_down"] and not view["can_split"] and view["results"] == []
    assert view["player_second_hand"] == [] and view["split"] is False and view["current_wager"] == 10
    text = json.dumps(bj.record(game))
    assert "shoe" not in text and '"King"' not in text
    assert [e["card"] for e in bj.record(game)["log"] if e.get("hole")] == [None]

    bj.apply(game, "stand")
    view = bj.public_view(game)
    assert [c["name"] for c in view["dealer_hand"]] == ["9", "King"] and view["dealer_value"] == 19
    assert view["game_over"] and view["results"] == [{"hand": 0, "result": "lose", "wager": 10, "payout": 0, "value": 16}]
    assert bj.record(game)["log"][3]["card"]["name"] == "King"


def test_public_view_of_a_split_round():
    game = stacked("8", "7", "8", "10", "3", "King")
    bj.apply(game, "split")
    view = bj.public_view(game)
    assert view["split"] and view["current_hand"] == 0
    assert [c["name"] for c in view["player_hand"]] == ["8", "3"]
    assert [c["name"] for c in view["player_second_hand"]] == ["8", "King"]
    assert view["player_values"] == [11, 18] and view["wagers"] == [10, 10] and view["current_wager"] == 20
    assert view["can_double_down"] and not view["can_split"]


def test_the_log_records_every_card_and_action():
    game = stacked("10", "9", "6", "8", "2")
    bj.apply(game, "hit")
    bj.apply(game, "stand")
    events = [(e["event"], e.get("to"), e.get("action")) for e in game.log]
    assert events == [
        ("card", "player", None), ("card", "dealer", None), ("card", "player", None),
        ("card", "dealer", None), ("action", None, "hit"), ("card", "player", None),
        ("action", None, "stand"),
    ]  # fmt: skip


# --- persistence and the shoe -------------------------------------------------------


def test_state_round_trips_through_json_and_resumes_identically():
    def stream(nonce):
        return FairRNG(SEED, "client", nonce)  # the round's stream, as the server recreates it

    for nonce in range(40):
        game = bj.start(stream(nonce), 10)
        stored = json.loads(json.dumps(game.to_dict()))
        assert "shoe" not in stored and stored["drawn"] == 4  # the shoe is kept as the cards dealt
        resumed = bj.BlackjackGame.from_dict(stored, rng=stream(nonce))
        assert resumed.to_dict() == stored
        while not game.over:
            action = bj.basic_strategy(game)
            bj.apply(game, action)
            bj.apply(resumed, action)
            resumed = bj.BlackjackGame.from_dict(json.loads(json.dumps(resumed.to_dict())), rng=stream(nonce))
        assert resumed.to_dict() == game.to_dict()
        assert resumed.dealer == game.dealer and [h.cards for h in resumed.hands] == [h.cards for h in game.hands]


def test_a_version_1_state_with_its_undealt_cards_resumes_identically():
    for nonce in range(10):
        game = bj.start(FairRNG(SEED, "client", nonce), 10)
        old = {**game.to_dict(), "v": 1}
        del old["drawn"]
        old["shoe"] = list(bj.start(FairRNG(SEED, "client", nonce), 10).shoe.remaining())
        resumed = bj.BlackjackGame.from_dict(json.loads(json.dumps(old)))  # no stream needed
        while not game.over:
            action = bj.basic_strategy(game)
            bj.apply(game, action)
            bj.apply(resumed, action)
        assert resumed.dealer == game.dealer and [h.cards for h in resumed.hands] == [h.cards for h in game.hands]
        assert [h.payout for h in resumed.hands] == [h.payout for h in game.hands]


def test_a_state_that_keeps_only_the_cards_dealt_needs_its_stream():
    data = bj.start(FairRNG(SEED, "client", 0), 10).to_dict()
    with pytest.raises(ValueError):
        bj.BlackjackGame.from_dict(data)


def test_unknown_state_versions_are_refused():
    data = stacked("10", "9", "6", "8").to_dict()
    data["v"] = 99
    with pytest.raises(ValueError):
        bj.BlackjackGame.from_dict(data)


def test_lazy_shoe_deals_the_full_shuffle_from_the_end():
    for nonce in range(5):
        full = list(range(52)) * bj.DECKS
        FairRNG(SEED, "client", nonce).shuffle(full)
        shoe = bj.Shoe.shuffled(FairRNG(SEED, "client", nonce))
        dealt = [shoe.draw() for _ in range(30)]
        assert dealt == full[::-1][:30]
        assert shoe.remaining() == full[:-30]
        assert [shoe.draw() for _ in range(5)] == full[::-1][30:35]


def test_replay_recomputes_a_round_from_seed_and_actions():
    rng_args = (SEED, "client", 7)
    game = bj.start(FairRNG(*rng_args), 4)
    actions = []
    while not game.over:
        actions.append(bj.basic_strategy(game))
        bj.apply(game, actions[-1])
    assert bj.replay(FairRNG(*rng_args), {"wager": 4, "actions": actions}) == bj.record(game)
    with pytest.raises(IllegalAction):
        bj.replay(FairRNG(*rng_args), {"wager": 4, "actions": [*actions, "hit"]})


# --- basic strategy and the published RTP -----------------------------------------------


@pytest.mark.parametrize(
    ("cards", "expected"),
    [
        (("6", "Ace", "5", "9"), "hit"),  # 11 against an ace: hit under S17
        (("6", "6", "5", "9"), "double_down"),  # 11 against a 6
        (("Ace", "2", "7", "9"), "stand"),  # soft 18 against a 2
        (("Ace", "5", "7", "9"), "double_down"),  # soft 18 against a 5
        (("Ace", "9", "7", "9"), "hit"),  # soft 18 against a 9
        (("8", "Ace", "8", "9"), "split"),
        (("King", "6", "King", "9"), "stand"),
        (("9", "7", "9", "9"), "stand"),  # 9-9 against a 7
        (("5", "6", "5", "9"), "double_down"),  # 5-5 is a 10
        (("10", "3", "2", "9"), "hit"),  # 12 against a 3
        (("10", "4", "2", "9"), "stand"),  # 12 against a 4
    ],
)
def test_basic_strategy_decisions(cards, expected):
    assert bj.basic_strategy(stacked(*cards)) == expected


def test_basic_strategy_stands_instead_of_doubling_with_three_cards():
    game = stacked("Ace", "5", "2", "9", "5")  # soft 13, then soft 18 with three cards
    bj.apply(game, "hit")
    assert bj.basic_strategy(game) == "stand"


@pytest.mark.simulation
def test_two_million_basic_strategy_rounds_match_the_published_rtp():
    seeds, rounds_per_seed, wager = [101, 102, 103, 104], 500_000, 2
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(bj.simulate, [rounds_per_seed] * 4, seeds, [wager] * 4))
    rounds = rounds_per_seed * len(seeds)
    staked = sum(r[0] for r in results)
    returned = sum(r[1] for r in results)
    rtp = 1 + (returned - staked) / (rounds * wager)
    published = float(bj.PUBLISHED_RTP)
    # One standard error is about 1.15 / sqrt(rounds), 0.08 points: 0.3 points is 3.7 of them.
    assert math.isclose(rtp, published, abs_tol=0.003), (rtp, published)
