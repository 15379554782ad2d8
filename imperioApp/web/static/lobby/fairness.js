// The published provably fair algorithm (docs/fairness.md), re-implemented on Web Crypto so
// a player can recompute any revealed round in the browser, without asking the server.
// Each replay returns exactly the outcome object the server records for the round.

const encoder = new TextEncoder();
const WORD_SPACE = 2 ** 32;

export function cryptoAvailable() {
  return Boolean(globalThis.crypto && globalThis.crypto.subtle);
}

export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// The round's stream of 32-bit big-endian words: block(cursor) = HMAC-SHA256(server_seed,
// "client_seed:nonce:cursor"), 8 words per block.
export class FairStream {
  constructor(serverSeed, clientSeed, nonce) {
    this.serverSeed = serverSeed;
    this.prefix = `${clientSeed}:${nonce}:`;
    this.cursor = 0;
    this.words = [];
    this.index = 0;
    this.key = null;
  }

  async block(cursor) {
    if (this.key === null) {
      this.key = await crypto.subtle.importKey(
        "raw", encoder.encode(this.serverSeed), { name: "HMAC", hash: "SHA-256" }, false, ["sign"],
      );
    }
    return new Uint8Array(await crypto.subtle.sign("HMAC", this.key, encoder.encode(this.prefix + cursor)));
  }

  async nextWord() {
    if (this.index === this.words.length) {
      const view = new DataView((await this.block(this.cursor++)).buffer);
      this.words = Array.from({ length: 8 }, (_, k) => view.getUint32(4 * k, false));
      this.index = 0;
    }
    return this.words[this.index++];
  }

  // Unbiased integer in [0, n): reject words at or above the largest multiple of n.
  async randbelow(n) {
    const limit = WORD_SPACE - (WORD_SPACE % n);
    for (;;) {
      const word = await this.nextWord();
      if (word < limit) return word % n;
    }
  }
}

// --- Cherry Charm ------------------------------------------------------------------------

export const FIRST_POSITION = 8;
// (fruit, weight) at strip positions 8..15, per reel.
export const REELS = [
  [["cherry", 1], ["lemon", 5], ["lemon", 5], ["banana", 3], ["banana", 3], ["lemon", 5], ["apple", 5], ["lemon", 5]],
  [["lemon", 5], ["lemon", 5], ["banana", 7], ["apple", 2], ["cherry", 1], ["lemon", 5], ["lemon", 5], ["apple", 2]],
  [["lemon", 5], ["lemon", 5], ["banana", 7], ["lemon", 5], ["cherry", 1], ["apple", 2], ["lemon", 5], ["apple", 2]],
];
export const PAYTABLE = [
  ["three_cherries", "cherry", 3, 250],
  ["two_cherries", "cherry", 2, 40],
  ["three_apples", "apple", 3, 25],
  ["three_bananas", "banana", 3, 15],
  ["two_apples", "apple", 2, 6],
  ["two_bananas", "banana", 2, 4],
  ["three_lemons", "lemon", 3, 2],
];
const POSITION_BY_DRAW = REELS.map((reel) =>
  reel.flatMap(([, weight], i) => Array(weight).fill(FIRST_POSITION + i)),
);

export function fruitAtSegment(reel, segment) {
  return REELS[reel][Math.ceil(segment / 2) - FIRST_POSITION][0];
}

function evaluateFruits(fruits) {
  for (const [name, fruit, count, multiplier] of PAYTABLE) {
    if (fruits.slice(0, count).every((f) => f === fruit)) return [name, multiplier];
  }
  return [null, 0];
}

export async function replaySlots(stream, inputs) {
  const bet = inputs.bet ?? 1;
  const segments = [], positions = [], fruits = [];
  for (let reel = 0; reel < 3; reel++) {
    const table = POSITION_BY_DRAW[reel];
    const position = table[await stream.randbelow(table.length)];
    positions.push(position);
    segments.push(2 * position - 1 + (await stream.randbelow(2)));
    fruits.push(REELS[reel][position - FIRST_POSITION][0]);
  }
  const [combination, multiplier] = evaluateFruits(fruits);
  return { bet, segments, positions, fruits, combination, multiplier, payout: bet * multiplier };
}

// --- European roulette -------------------------------------------------------------------

export const RED = new Set([1, 3, 5, 7, 9, 12, 14, 16, 18, 19, 21, 23, 25, 27, 30, 32, 34, 36]);
export const ODDS = {
  straight: 35, split: 17, street: 11, trio: 11, corner: 8, basket: 8, six_line: 5,
  dozen: 2, column: 2, red: 1, black: 1, odd: 1, even: 1, low: 1, high: 1,
};

export function pocketColor(pocket) {
  if (pocket === 0) return "green";
  return RED.has(pocket) ? "red" : "black";
}

export async function replayRoulette(stream, inputs) {
  const pocket = await stream.randbelow(37);
  const bets = inputs.bets.map((bet) => {
    const numbers = [...bet.numbers].sort((a, b) => a - b);
    const odds = ODDS[bet.type];
    const payout = numbers.includes(pocket) ? bet.amount * (odds + 1) : 0;
    return { type: bet.type, numbers, amount: bet.amount, odds, payout };
  });
  return {
    pocket,
    color: pocketColor(pocket),
    bets,
    total_bet: bets.reduce((sum, bet) => sum + bet.amount, 0),
    total_payout: bets.reduce((sum, bet) => sum + bet.payout, 0),
  };
}

// --- Blackjack ---------------------------------------------------------------------------

const SUITS = ["hearts", "diamond", "clubs", "spades"];
const RANK_NAMES = ["Ace", "2", "3", "4", "5", "6", "7", "8", "9", "10", "Jack", "Queen", "King"];
const RANK_VALUES = [11, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10];
const ACTIONS = ["hit", "stand", "double_down", "split"];

export function cardToDict(card) {
  const rank = card % 13;
  return { suit: SUITS[Math.floor(card / 13)], name: RANK_NAMES[rank], value: RANK_VALUES[rank] };
}

function cardValue(card) {
  return RANK_VALUES[card % 13];
}

function handValue(cards) {
  let total = 0, hasAce = false;
  for (const card of cards) {
    let value = RANK_VALUES[card % 13];
    if (value === 11) { hasAce = true; value = 1; }
    total += value;
  }
  return hasAce && total <= 11 ? total + 10 : total;
}

// The 312-card shoe, shuffled by Durstenfeld's Fisher-Yates; the next card dealt is the last.
async function shuffledShoe(stream) {
  const cards = [];
  for (let deck = 0; deck < 6; deck++) for (let c = 0; c < 52; c++) cards.push(c);
  for (let i = cards.length - 1; i > 0; i--) {
    const j = await stream.randbelow(i + 1);
    [cards[i], cards[j]] = [cards[j], cards[i]];
  }
  return cards;
}

class Blackjack {
  constructor(shoe, wager) {
    this.shoe = shoe;
    this.wager = wager;
    this.dealer = [];
    this.hands = [newHand([], wager, false)];
    this.current = 0;
    this.over = false;
    this.message = "";
    this.log = [];
  }

  dealPlayer(index) {
    const card = this.shoe.pop();
    this.hands[index].cards.push(card);
    this.log.push({ event: "card", to: "player", hand: index, card });
  }

  dealDealer(hole = false) {
    const card = this.shoe.pop();
    this.dealer.push(card);
    const entry = { event: "card", to: "dealer", card };
    if (hole) entry.hole = true;
    this.log.push(entry);
  }

  deal() {
    this.dealPlayer(0);
    this.dealDealer();
    this.dealPlayer(0);
    this.dealDealer(true);
    const playerNatural = handValue(this.hands[0].cards) === 21;
    const dealerNatural = handValue(this.dealer) === 21;
    if (cardValue(this.dealer[0]) >= 10) this.log.push({ event: "peek", dealer_blackjack: dealerNatural });
    if (playerNatural || dealerNatural) {
      const hand = this.hands[0];
      hand.done = true;
      if (playerNatural && dealerNatural) {
        Object.assign(hand, { result: "push", payout: this.wager });
        this.message = "Push: both have blackjack.";
      } else if (playerNatural) {
        Object.assign(hand, { result: "blackjack", payout: this.wager + Math.floor((3 * this.wager) / 2) });
        this.message = "Blackjack! You win.";
      } else {
        Object.assign(hand, { result: "lose", payout: 0 });
        this.message = "Dealer has blackjack. You lose.";
      }
      this.over = true;
    }
  }

  illegal(action) {
    if (!ACTIONS.includes(action)) return "unknown_action";
    if (this.over) return "game_over";
    const hand = this.hands[this.current];
    if (action === "double_down" && hand.cards.length !== 2) return "cannot_double";
    if (action === "split") {
      if (this.hands.length > 1) return "already_split";
      const [a, b] = hand.cards;
      if (hand.cards.length !== 2 || a % 13 !== b % 13) return "cannot_split";
    }
    return null;
  }

  legalActions() {
    return ACTIONS.filter((action) => this.illegal(action) === null);
  }

  apply(action) {
    const refusal = this.illegal(action);
    if (refusal) throw new Error(`illegal action ${action}: ${refusal}`);
    const index = this.current;
    const hand = this.hands[index];
    this.log.push({ event: "action", action, hand: index });
    if (action === "hit") {
      this.dealPlayer(index);
      hand.done = handValue(hand.cards) >= 21;
    } else if (action === "stand") {
      hand.done = true;
    } else if (action === "double_down") {
      hand.wager *= 2;
      hand.doubled = true;
      this.dealPlayer(index);
      hand.done = true;
    } else {
      hand.from_split = true;
      this.hands.push(newHand([hand.cards.pop()], this.wager, true));
      this.dealPlayer(0);
      this.dealPlayer(1);
      const splitAces = cardValue(hand.cards[0]) === 11;
      for (const split of this.hands) split.done = splitAces || handValue(split.cards) === 21;
    }
    while (this.hands[this.current].done) {
      if (this.current === this.hands.length - 1) { this.finish(); return; }
      this.current += 1;
    }
  }

  finish() {
    if (this.hands.some((h) => handValue(h.cards) <= 21)) {
      while (handValue(this.dealer) < 17) this.dealDealer();
    }
    const dealerTotal = handValue(this.dealer);
    for (const hand of this.hands) {
      const total = handValue(hand.cards);
      if (total > 21 || (dealerTotal <= 21 && total < dealerTotal)) Object.assign(hand, { result: "lose", payout: 0 });
      else if (total === dealerTotal) Object.assign(hand, { result: "push", payout: hand.wager });
      else Object.assign(hand, { result: "win", payout: 2 * hand.wager });
    }
    this.over = true;
    this.message = this.settlementMessage(dealerTotal);
  }

  settlementMessage(dealerTotal) {
    if (this.hands.length > 1) return this.hands.map((h, i) => `Hand ${i + 1}: ${h.result}.`).join(" ");
    const hand = this.hands[0];
    if (hand.result === "win") return dealerTotal > 21 ? "Dealer busts. You win!" : "You win!";
    if (hand.result === "push") return "Push.";
    return handValue(hand.cards) > 21 ? "Bust! You lose." : "You lose.";
  }

  // What the server records: the player's view plus every card and action.
  record() {
    const dealerCards = this.over ? this.dealer : this.dealer.slice(0, 1);
    const legal = this.legalActions();
    const values = this.hands.map((h) => handValue(h.cards));
    const split = this.hands.length > 1;
    const totalPayout = this.hands.reduce((sum, h) => sum + h.payout, 0);
    return {
      player_hand: this.hands[0].cards.map(cardToDict),
      player_second_hand: split ? this.hands[1].cards.map(cardToDict) : [],
      split,
      current_hand: this.current,
      dealer_hand: dealerCards.map(cardToDict),
      dealer_value: handValue(dealerCards),
      player_value: values[0],
      player_values: values,
      wager: this.wager,
      wagers: this.hands.map((h) => h.wager),
      current_wager: this.hands.reduce((sum, h) => sum + h.wager, 0),
      game_over: this.over,
      message: this.message,
      can_hit: legal.includes("hit"),
      can_stand: legal.includes("stand"),
      can_double_down: legal.includes("double_down"),
      can_split: legal.includes("split"),
      results: this.over
        ? this.hands.map((h, i) => ({ hand: i, result: h.result, wager: h.wager, payout: h.payout, value: values[i] }))
        : [],
      total_payout: totalPayout,
      log: this.log.map((entry) => {
        if (!("card" in entry)) return { ...entry };
        const hidden = entry.hole && !this.over;
        return { ...entry, card: hidden ? null : cardToDict(entry.card) };
      }),
    };
  }
}

function newHand(cards, wager, fromSplit) {
  return { cards, wager, from_split: fromSplit, doubled: false, done: false, result: null, payout: 0 };
}

export async function replayBlackjack(stream, inputs) {
  const game = new Blackjack(await shuffledShoe(stream), inputs.wager);
  game.deal();
  for (const action of inputs.actions || []) game.apply(action);
  return game.record();
}

// --- verification --------------------------------------------------------------------------

const REPLAYS = { slots: replaySlots, roulette: replayRoulette, blackjack: replayBlackjack };

export async function replay(game, serverSeed, clientSeed, nonce, inputs) {
  const run = REPLAYS[game];
  if (!run) throw new Error(`unknown game ${game}`);
  return run(new FairStream(serverSeed, clientSeed, nonce), inputs);
}

export function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && deepEqual(a[key], b[key]));
}

// Recompute a revealed round (GET /games/<id>) and compare it with what the server recorded.
export async function verifyRound(round) {
  const { server_seed: serverSeed, server_seed_hash: hash, client_seed: clientSeed, nonce } = round.fairness;
  if (!serverSeed) return { status: "unrevealed" };
  const hashMatches = (await sha256Hex(serverSeed)) === hash;
  const computed = await replay(round.game_type, serverSeed, clientSeed, nonce, round.inputs);
  // A shared-table spin also records which table it was; the engine's outcome is the rest.
  const { table, ...recorded } = round.outcome;
  const outcomeMatches = deepEqual(computed, recorded);
  return { status: hashMatches && outcomeMatches ? "match" : "mismatch", hashMatches, outcomeMatches, computed, recorded };
}
