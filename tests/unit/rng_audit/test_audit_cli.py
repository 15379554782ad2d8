"""`flask fairness collect` and `flask fairness audit`: real engines pass, biased scalers and shuffles fail.

The biased variants live here, never in the app: each writes the documented file format from
the same seed pairs as the real engines, so only the scaling or the shuffle differs.
"""

import json

import pytest

from imperioApp import games
from imperioApp.rng_audit import collect

MASTER = "5eed"


def audit(app, *args):
    return app.test_cli_runner().invoke(args=["fairness", "audit", "--no-dieharder", *args])


def byte_modulo_roulette(stream):
    """A scaler with modulo bias: one byte mod 37 (256 is no multiple of 37: pockets 0-33 come 7 times in 256, 34-36 six)."""
    return str((stream.next_word() >> 24) % 37)


def naive_shuffle(stream):
    """A shuffle with a known defect: swap every position with any position (n^n paths onto n! orders)."""
    cards = list(range(collect.SHOE_CARDS))
    for i in range(len(cards)):
        j = stream.randbelow(len(cards))
        cards[i], cards[j] = cards[j], cards[i]
    return " ".join(map(str, cards))


def sattolo_shuffle(stream):
    """An off-by-one shuffle: j = randbelow(i) instead of randbelow(i + 1), so no card ever stays where it was."""
    cards = list(range(collect.SHOE_CARDS))
    for i in range(len(cards) - 1, 0, -1):
        j = stream.randbelow(i)
        cards[i], cards[j] = cards[j], cards[i]
    return " ".join(map(str, reversed(cards)))


@pytest.mark.parametrize(
    "game, count, biased",
    [("roulette", 200_000, byte_modulo_roulette), ("blackjack", 1_600, naive_shuffle), ("blackjack", 5_000, sattolo_shuffle)],
)
def test_the_audit_fails_a_biased_scaler_or_shuffle_and_passes_the_engine_on_the_same_seeds(app, tmp_path, game, count, biased):
    fair, bad = tmp_path / f"fair-{game}.txt", tmp_path / f"biased-{game}.txt"
    collect.collect_outcomes(fair, game, count, master=MASTER)
    collect.collect_outcomes(bad, game, count, master=MASTER, outcome=biased)
    passed = audit(app, "--outcomes", game, str(fair))
    assert passed.exit_code == 0, passed.output
    assert passed.output.rstrip().splitlines()[-1].startswith("PASS")
    failed = audit(app, "--outcomes", game, str(bad))
    assert failed.exit_code == 1, failed.output
    assert failed.output.rstrip().splitlines()[-1].startswith("FAIL")


def test_a_stuck_bit_in_the_raw_stream_fails_and_the_stream_itself_passes(app, tmp_path):
    raw = tmp_path / "raw.bin"
    collect.collect_raw(raw, 250_000, master=MASTER)
    assert audit(app, "--raw", str(raw), "--sequence-bits", "50000").exit_code == 0
    data = bytearray(raw.read_bytes())
    data[::32] = bytes(byte | 0x80 for byte in data[::32])  # the first bit of every block set
    raw.write_bytes(bytes(data))
    result = audit(app, "--raw", str(raw), "--sequence-bits", "50000")
    assert result.exit_code == 1 and "FAIL" in result.output


def test_collect_writes_files_a_lab_can_recompute(app, tmp_path):
    runner = app.test_cli_runner()
    args = ["fairness", "collect", "--out", str(tmp_path), "--rounds-per-pair", "7"]
    assert runner.invoke(args=[*args, "--raw", "100", "--blocks-per-round", "2"]).exit_code == 0
    assert runner.invoke(args=[*args, "--outcomes", "slots", "10"]).exit_code == 0
    assert runner.invoke(args=[*args, "--outcomes", "roulette", "10"]).exit_code == 0
    assert runner.invoke(args=[*args, "--outcomes", "blackjack", "3"]).exit_code == 0

    manifest = json.loads((tmp_path / "raw.bin.json").read_text())
    first = manifest["seed_pairs"][0]
    assert manifest["bytes"] == 100 and manifest["blocks_per_round"] == 2 and first["nonces"] == [0, 1]
    assert games.fairness.hash_server_seed(first["server_seed"]) == first["server_seed_hash"]
    expected = b"".join(games.fairness.byte_stream(first["server_seed"], first["client_seed"], nonce, 64) for nonce in range(2))
    assert (tmp_path / "raw.bin").read_bytes() == expected[:100]

    slots = json.loads((tmp_path / "slots.txt.json").read_text())
    assert [pair["nonces"] for pair in slots["seed_pairs"]] == [[0, 6], [0, 2]]
    pair = slots["seed_pairs"][1]
    line = (tmp_path / "slots.txt").read_text().splitlines()[8]  # the second pair's nonce 1
    replay = games.verify("slots", pair["server_seed"], pair["client_seed"], 1, {"bet": 1})
    assert line == " ".join(map(str, replay["outcome"]["segments"]))

    shoe = [int(card) for card in (tmp_path / "blackjack.txt").read_text().splitlines()[0].split()]
    assert sorted(shoe) == list(range(312))
    pair = json.loads((tmp_path / "blackjack.txt.json").read_text())["seed_pairs"][0]
    dealt = games.verify("blackjack", pair["server_seed"], pair["client_seed"], 0, {"wager": 1, "actions": []})
    first_card = dealt["outcome"]["player_hands"][0]["cards"][0] if "player_hands" in dealt["outcome"] else None
    assert first_card is None or first_card["name"]  # the replay deals from the same shoe (checked below by card code)
    assert (
        shoe[0] % 52 == games.blackjack.Shoe.shuffled(games.fairness.FairRNG(pair["server_seed"], pair["client_seed"], 0)).draw()
    )


def test_collect_and_audit_refuse_what_they_cannot_use(app, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["fairness", "collect"]).exit_code == 2
    assert runner.invoke(args=["fairness", "collect", "--raw", "10", "--seed", "xyz"]).exit_code == 2
    assert "no collection files" in runner.invoke(args=["fairness", "audit", str(tmp_path)]).output
    (tmp_path / "slots.txt").write_text("15 16\n")
    result = runner.invoke(args=["fairness", "audit", str(tmp_path)])
    assert result.exit_code == 1 and "whole number of slots rounds" in result.output
    (tmp_path / "roulette.txt").write_text("1\n2\nx\n")
    result = runner.invoke(args=["fairness", "audit", "--outcomes", "roulette", str(tmp_path / "roulette.txt")])
    assert result.exit_code == 1 and "a token is no integer" in result.output
    (tmp_path / "raw.bin").write_bytes(b"\x00" * 1000)
    result = runner.invoke(args=["fairness", "audit", "--no-dieharder", "--raw", str(tmp_path / "raw.bin")])
    assert result.exit_code == 1 and "at least 1000000 are needed" in result.output


def test_a_collection_is_repeatable_from_its_master_seed_and_fresh_otherwise(tmp_path):
    for name in ("a", "b"):
        collect.collect_outcomes(tmp_path / name, "roulette", 50, master=MASTER)
    collect.collect_outcomes(tmp_path / "c", "roulette", 50)
    assert (tmp_path / "a").read_text() == (tmp_path / "b").read_text() != (tmp_path / "c").read_text()


def reel_copying_slots(stream):
    """Reels that are not independent: reel 2 shows the segment reel 1 drew."""
    spin = collect.slots_outcome(stream).split()
    return " ".join([spin[0], spin[1], spin[1]])


def test_the_audit_passes_the_slots_engine_and_fails_reels_that_copy_each_other(app, tmp_path):
    fair, bad = tmp_path / "slots.txt", tmp_path / "copied.txt"
    collect.collect_outcomes(fair, "slots", 20_000, master=MASTER)
    collect.collect_outcomes(bad, "slots", 20_000, master=MASTER, outcome=reel_copying_slots)
    passed = audit(app, "--outcomes", "slots", str(fair))
    assert passed.exit_code == 0, passed.output
    assert "slots: three reels jointly (8x8x8)" in passed.output and "coupon collector's" in passed.output
    assert audit(app, "--outcomes", "slots", str(bad)).exit_code == 1
