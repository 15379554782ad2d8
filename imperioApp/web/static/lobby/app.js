// The lobby: plays the three games through the JSON API, watches the live events over
// Socket.IO, and verifies revealed rounds in the browser. It shows what the server answered:
// no outcome and no balance is ever computed here.

import { Api } from "./api.js";
import { cryptoAvailable, fruitAtSegment, pocketColor, RED, verifyRound } from "./fairness.js";
import { describeError } from "./messages.js";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const ASSETS = document.body.dataset.assets;
const SUIT_SYMBOLS = { hearts: "♥", diamond: "♦", clubs: "♣", spades: "♠" };
const METRICS = ["games_played", "total_winnings", "biggest_win"];
const TIMEFRAMES = ["all_time", "weekly", "daily"];
const TICKER_SIZE = 8;

// Build an element; children are nodes or strings (always inserted as text, never as HTML).
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const fmt = (n) => (typeof n === "number" ? n.toLocaleString("en") : String(n ?? "—"));
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

// --- toasts ----------------------------------------------------------------------------------

function toast(text, kind = "info") {
  const node = el("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status", title: "click to dismiss" }, text);
  node.addEventListener("click", () => node.remove());
  const box = $("#toasts");
  box.append(node);
  while (box.children.length > 4) box.firstElementChild.remove();
  setTimeout(() => node.remove(), kind === "error" ? 7000 : 4000);
}

function showError(error, target) {
  const text = describeError(error);
  if (target) target.textContent = text;
  else toast(text, "error");
}

// --- state -----------------------------------------------------------------------------------

const state = {
  username: null,
  balance: null,
  socket: null,
  boards: {},
  chatRoom: "lobby",
  blackjack: null,
  slip: [],
  splitFirst: null,
  room: null,
  historyCursor: null,
  countdownTimer: null,
};

const api = new Api({
  onSessionEnded: (error) => {
    showLoggedOut();
    if (error) toast(describeError(error), "error");
  },
});

function setBalance(coins) {
  if (typeof coins !== "number") return;
  state.balance = coins;
  $("#balance").textContent = fmt(coins);
  $("#balance").dataset.coins = String(coins);
}

async function refreshWallet() {
  const wallet = await api.call("GET", "/wallet");
  setBalance(wallet.coins);
}

// --- auth ------------------------------------------------------------------------------------

function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const errorBox = $(".form-error", form);
  errorBox.textContent = "";
  const { username, password } = formValues(form);
  try {
    await api.login(username.trim(), password);
    await enterLobby();
  } catch (error) {
    showError(error, errorBox);
  }
});

$("#signup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const errorBox = $(".form-error", form);
  errorBox.textContent = "";
  const { username, email, password } = formValues(form);
  const button = $("button", form);
  button.disabled = true;
  try {
    await api.signup(username.trim(), email.trim(), password);
    await enterLobby();
    toast("Welcome! Your sign-up bonus is in your wallet.", "win");
  } catch (error) {
    showError(error, errorBox);
  } finally {
    button.disabled = false;
  }
});

$("#logout").addEventListener("click", async () => {
  await api.logout();
  showLoggedOut();
});

function showLoggedOut() {
  if (state.socket) state.socket.disconnect();
  state.socket = null;
  $("#auth").hidden = false;
  $("#lobby").hidden = true;
  $("#account").hidden = true;
  $("#notifications").hidden = true;
  $("#connection").textContent = "offline";
}

async function enterLobby() {
  const profile = await api.call("GET", "/profile");
  state.username = profile.username;
  $("#who").textContent = profile.username;
  setBalance(profile.coins);
  $("#unread").textContent = String(profile.unread_notifications);
  $("#auth").hidden = true;
  $("#lobby").hidden = false;
  $("#account").hidden = false;
  connectSocket();
  await Promise.allSettled([loadFairness(), loadHistory(), loadNotifications(), resumeBlackjack(), loadMe(profile)]);
}

// --- tabs ------------------------------------------------------------------------------------

function selectTab(tab) {
  for (const other of $$('[role="tab"]')) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(`#${other.getAttribute("aria-controls")}`).hidden = !selected;
  }
  const pane = tab.getAttribute("aria-controls");
  if (pane === "pane-history") loadHistory();
  if (pane === "pane-fairness") loadFairness();
  if (pane === "pane-me") loadMe();
}

for (const tab of $$('[role="tab"]')) {
  tab.addEventListener("click", () => selectTab(tab));
  tab.addEventListener("keydown", (event) => {
    const tabs = $$('[role="tab"]');
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
    next.focus();
    selectTab(next);
  });
}

// --- Cherry Charm ----------------------------------------------------------------------------

function fruitImage(fruit, extra = "") {
  return el("img", { src: `${ASSETS}img/${fruit}.svg`, alt: fruit, class: `fruit ${extra}`, width: 64, height: 64 });
}

// A reel shows its stop segment's fruit on the payline, with the strip's neighbours around it.
function drawReel(reel, segment) {
  const node = $(`.reel[data-reel="${reel}"]`);
  const wrap = (s) => ((s - 15 + 16) % 16) + 15;
  node.replaceChildren(
    fruitImage(fruitAtSegment(reel, wrap(segment - 2)), "off"),
    fruitImage(fruitAtSegment(reel, segment), "on"),
    fruitImage(fruitAtSegment(reel, wrap(segment + 2)), "off"),
  );
  node.dataset.segment = String(segment);
}

[15, 17, 19].forEach((segment, reel) => drawReel(reel, segment));

$("#spin").addEventListener("click", async () => {
  const button = $("#spin");
  if (button.disabled) return;
  button.disabled = true;
  const result = $("#slots-result");
  result.textContent = "Spinning…";
  $("#reels").classList.add("spinning");
  try {
    const bet = Number($("#slots-bet").value);
    const spin = await api.money("spin", "/spin", { bet });
    spin.stopSegments.forEach((segment, reel) => drawReel(reel, segment));
    setBalance(spin.totalCoins);
    result.textContent = spin.payout > 0
      ? `${spin.fruits.join(" · ")}: ${spin.combination.replace("_", " ")} pays ${fmt(spin.payout)} (×${spin.multiplier})`
      : `${spin.fruits.join(" · ")}: no win`;
    result.className = `result ${spin.payout > 0 ? "win" : "loss"}`;
    result.dataset.roundId = String(spin.round_id);
    $("#seed-nonce").textContent = String(spin.fairness.nonce + 1);
  } catch (error) {
    result.textContent = describeError(error);
    result.className = "result error";
  } finally {
    $("#reels").classList.remove("spinning");
    button.disabled = false;
  }
});

// --- blackjack -------------------------------------------------------------------------------

function cardNode(card) {
  if (!card) return el("div", { class: "card back", role: "img", "aria-label": "face-down card" });
  const red = card.suit === "hearts" || card.suit === "diamond";
  const rank = card.name.length > 2 ? card.name[0] : card.name;
  return el(
    "div",
    { class: `card ${red ? "red" : "black"}`, role: "img", "aria-label": `${card.name} of ${card.suit}` },
    el("span", { class: "rank" }, rank),
    el("span", { class: "suit" }, SUIT_SYMBOLS[card.suit]),
  );
}

function renderBlackjack(view) {
  state.blackjack = view;
  const dealer = view.dealer_hand.map(cardNode);
  // Until the dealer plays, the server sends only the up card: the hole card stays face down.
  if (!view.game_over) dealer.push(cardNode(null));
  $("#dealer-cards").replaceChildren(...dealer);
  $("#dealer-value").textContent = view.game_over ? `(${view.dealer_value})` : `(shows ${view.dealer_value})`;
  $("#player-cards").replaceChildren(...view.player_hand.map(cardNode));
  const second = $("#player-cards-2");
  second.hidden = !view.split;
  second.replaceChildren(...view.player_second_hand.map(cardNode));
  $("#player-cards").classList.toggle("active", view.split && view.current_hand === 0 && !view.game_over);
  second.classList.toggle("active", view.split && view.current_hand === 1 && !view.game_over);
  $("#player-value").textContent = `(${view.player_values.join(" / ")})`;
  $("#bj-hit").disabled = !view.can_hit;
  $("#bj-stand").disabled = !view.can_stand;
  $("#bj-double").disabled = !view.can_double_down;
  $("#bj-split").disabled = !view.can_split;
  $("#bj-deal").disabled = !view.game_over;
  const result = $("#bj-result");
  const message = view.result_message ?? view.message;
  if (view.game_over) {
    const natural = view.results.some((r) => r.result === "blackjack");
    const net = view.total_payout - view.current_wager;
    result.textContent = `${message} ${natural ? "(natural) " : ""}Paid ${fmt(view.total_payout)} on ${fmt(view.current_wager)}.`;
    result.className = `result ${net > 0 ? "win" : net < 0 ? "loss" : ""}`;
  } else {
    result.textContent = view.split ? `Playing hand ${view.current_hand + 1}.` : "Your move.";
    result.className = "result";
  }
  $("#pane-blackjack").dataset.state = view.game_over ? "over" : "playing";
  result.dataset.roundId = String(view.id);
}

async function blackjackCall(intent, path, body) {
  const buttons = $$("#pane-blackjack .controls button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const view = await api.money(intent, path, body);
    renderBlackjack(view);
    setBalance(view.player_coins);
  } catch (error) {
    $("#bj-result").textContent = describeError(error);
    $("#bj-result").className = "result error";
    if (state.blackjack) renderBlackjack(state.blackjack);
    else $("#bj-deal").disabled = false;
  }
}

$("#bj-deal").addEventListener("click", () =>
  blackjackCall("blackjack-deal", "/blackjack/start", { wager: Number($("#bj-wager").value) }));
for (const [id, action] of [["#bj-hit", "hit"], ["#bj-stand", "stand"], ["#bj-double", "double_down"], ["#bj-split", "split"]]) {
  $(id).addEventListener("click", () => {
    if (!state.blackjack) return;
    const gameId = state.blackjack.id;
    const step = state.blackjack.player_hand.length + state.blackjack.player_second_hand.length;
    blackjackCall(`blackjack-${gameId}-${action}-${step}`, "/blackjack/action", { action, game_id: gameId });
  });
}

// An open round survives a reload or a restart: pick it up where it was.
async function resumeBlackjack() {
  const open = await api.call("GET", "/games/history?game_type=blackjack&status=open&limit=1");
  if (!open.items.length) return;
  const round = await api.call("GET", `/games/${open.items[0].id}`);
  renderBlackjack({ ...round.outcome, id: round.id, result_message: round.outcome.message });
  $("#bj-result").textContent = "Your open round is back on the table.";
}

// --- roulette --------------------------------------------------------------------------------

const rowOf = (n) => Math.floor((n - 1) / 3);
const rowNumbers = (r) => [3 * r + 1, 3 * r + 2, 3 * r + 3];
const OUTSIDE = [
  { type: "dozen", index: 1, label: "1st 12" }, { type: "dozen", index: 2, label: "2nd 12" }, { type: "dozen", index: 3, label: "3rd 12" },
  { type: "low", label: "1–18" }, { type: "even", label: "Even" }, { type: "red", label: "Red" },
  { type: "black", label: "Black" }, { type: "odd", label: "Odd" }, { type: "high", label: "19–36" },
];

function buildLayout() {
  const layout = $("#layout");
  const zero = el("button", { type: "button", class: "num green zero", "data-number": "0", "aria-label": "0" }, "0");
  const grid = el("div", { class: "numbers" });
  // As on the table: 3, 6 … 36 along the top row, 1, 4 … 34 along the bottom; a phone
  // shows the table turned upright (rows of 1-2-3). Grid places go in custom properties.
  const placed = (node, row, column) => {
    node.style.setProperty("--row", row);
    node.style.setProperty("--col", column);
    return node;
  };
  for (let r = 0; r < 12; r++) {
    for (const offset of [1, 2, 3]) {
      const n = 3 * r + offset;
      grid.append(placed(el("button", { type: "button", class: `num ${pocketColor(n)}`, "data-number": String(n), "aria-label": `${n} ${pocketColor(n)}` }, String(n)), 4 - offset, r + 1));
    }
  }
  for (const offset of [1, 2, 3]) {
    grid.append(placed(el("button", { type: "button", class: "outside column", "data-type": "column", "data-index": String(offset), "aria-label": `column ${offset}` }, "2:1"), 4 - offset, 13));
  }
  const outside = el("div", { class: "outside-bets" },
    OUTSIDE.map((bet) => el("button", {
      type: "button", class: `outside ${bet.type}`, "data-type": bet.type, "data-index": bet.index ? String(bet.index) : null,
    }, bet.label)));
  layout.replaceChildren(zero, grid, outside);
}

function chipValue() {
  return Number($('input[name="chip"]:checked').value);
}

function coverFor(mode, n) {
  if (mode === "straight") return [n];
  if (n === 0) return null;
  if (mode === "street") return rowNumbers(rowOf(n));
  if (mode === "six_line") return rowOf(n) < 11 ? [...rowNumbers(rowOf(n)), ...rowNumbers(rowOf(n) + 1)] : null;
  if (mode === "corner") return n % 3 !== 0 && n <= 32 ? [n, n + 1, n + 3, n + 4] : null;
  return null;
}

function neighbours(a, b) {
  const [x, y] = [Math.min(a, b), Math.max(a, b)];
  if (x === 0) return y >= 1 && y <= 3;
  return (y === x + 1 && x % 3 !== 0) || y === x + 3;
}

function addBet(type, { numbers, index }, label) {
  const amount = chipValue();
  const key = `${type}:${numbers ? numbers.join(",") : index ?? ""}`;
  const existing = state.slip.find((bet) => bet.key === key);
  if (existing) existing.amount += amount;
  else state.slip.push({ key, type, numbers, index, amount, label });
  renderSlip();
}

function renderSlip() {
  const total = state.slip.reduce((sum, bet) => sum + bet.amount, 0);
  $("#slip-total").textContent = state.slip.length ? `(${fmt(total)} coins)` : "";
  $("#slip").replaceChildren(...state.slip.map((bet, i) => el("li", {},
    `${bet.label}: ${fmt(bet.amount)}`,
    el("button", { type: "button", class: "link", "aria-label": `remove ${bet.label}`, onclick: () => { state.slip.splice(i, 1); renderSlip(); } }, "remove"))));
  for (const node of $$("#layout [data-chips]")) delete node.dataset.chips;
  for (const bet of state.slip) {
    const target = bet.numbers && bet.type === "straight"
      ? $(`#layout [data-number="${bet.numbers[0]}"]`)
      : $(`#layout [data-type="${bet.type}"]${bet.index ? `[data-index="${bet.index}"]` : ""}`);
    if (target) target.dataset.chips = String(Number(target.dataset.chips || 0) + bet.amount);
  }
}

$("#layout").addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  const result = $("#roulette-result");
  result.textContent = "";
  if (button.dataset.type) {
    const index = button.dataset.index ? Number(button.dataset.index) : undefined;
    const label = index ? `${button.dataset.type} ${index}` : button.dataset.type;
    addBet(button.dataset.type, { index }, label);
    return;
  }
  const n = Number(button.dataset.number);
  const mode = $("#bet-mode").value;
  if (mode === "split") {
    if (state.splitFirst === null) {
      state.splitFirst = n;
      button.classList.add("picked");
      result.textContent = `Split: now click a neighbour of ${n}.`;
      return;
    }
    const first = state.splitFirst;
    state.splitFirst = null;
    $$("#layout .picked").forEach((b) => b.classList.remove("picked"));
    if (!neighbours(first, n)) {
      result.textContent = `${first} and ${n} are not neighbours on the table.`;
      return;
    }
    const numbers = [first, n].sort((a, b) => a - b);
    addBet("split", { numbers }, `split ${numbers.join("/")}`);
    return;
  }
  const numbers = coverFor(mode, n);
  if (!numbers) {
    result.textContent = `There is no ${mode.replace("_", " ")} bet from ${n}.`;
    return;
  }
  addBet(mode, { numbers }, `${mode.replace("_", " ")} ${numbers.join("/")}`);
});

for (const button of $$(".zero-bets button")) {
  button.addEventListener("click", () => {
    const numbers = button.dataset.numbers.split(",").map(Number);
    addBet(button.dataset.bet, { numbers }, `${button.dataset.bet} ${numbers.join("-")}`);
  });
}

$("#roulette-clear").addEventListener("click", () => { state.slip = []; renderSlip(); });

function slipBets() {
  return state.slip.map(({ type, numbers, index, amount }) => {
    const bet = { type, amount };
    if (numbers) bet.numbers = numbers;
    if (index) bet.index = index;
    return bet;
  });
}

function showWinningNumber(number, color) {
  const wheel = $("#wheel");
  $("#winning-number").textContent = String(number);
  wheel.className = `wheel ${color}`;
  $$("#layout .winner").forEach((b) => b.classList.remove("winner"));
  const cell = $(`#layout [data-number="${number}"]`);
  if (cell) cell.classList.add("winner");
}

$("#roulette-spin").addEventListener("click", async () => {
  const button = $("#roulette-spin");
  if (button.disabled) return;
  const result = $("#roulette-result");
  if (!state.slip.length) { result.textContent = describeError({ code: "no_bets" }); return; }
  button.disabled = true;
  result.textContent = "The ball is rolling…";
  try {
    const spin = await api.money("roulette-spin", "/roulette/spin", { bets: slipBets() });
    showWinningNumber(spin.winning_number, spin.color);
    setBalance(spin.new_coins);
    const net = spin.total_win - spin.total_bet;
    result.textContent = `${spin.winning_number} ${spin.color}: paid ${fmt(spin.total_win)} on ${fmt(spin.total_bet)} (${net >= 0 ? "+" : ""}${fmt(net)}).`;
    result.className = `result ${net > 0 ? "win" : net < 0 ? "loss" : ""}`;
    result.dataset.roundId = String(spin.round_id);
    $("#roulette-payouts").replaceChildren(...spin.bets.map((bet) => el("li", { class: bet.payout ? "win" : "" },
      `${bet.type} ${bet.numbers.length <= 6 ? bet.numbers.join("/") : `(${bet.numbers.length} numbers)`}: ${fmt(bet.amount)} at ${bet.odds}:1 → ${fmt(bet.payout)}`)));
  } catch (error) {
    result.textContent = describeError(error);
    result.className = "result error";
  } finally {
    button.disabled = false;
  }
});

buildLayout();

// --- Socket.IO: leaderboards, chat, notifications, big wins, the shared table -----------------

function connectSocket() {
  if (state.socket) state.socket.disconnect();
  // The token is read at every (re)connection, so a refreshed token is the one presented.
  const socket = window.io({ auth: (cb) => cb({ token: api.accessToken }), reconnectionDelayMax: 5000 });
  state.socket = socket;
  const status = $("#connection");
  // With the token in the connect payload, `authenticated` can arrive before `connect`.
  socket.on("connect", () => { if (!status.classList.contains("live")) status.textContent = "signing in…"; });
  socket.on("authenticated", () => {
    status.textContent = "live";
    status.className = "status live";
    for (const metric of METRICS) for (const timeframe of TIMEFRAMES) socket.emit("join_leaderboard", { metric, timeframe });
    socket.emit("join_chat", { room: state.chatRoom });
    if (state.room) socket.emit("join_multiplayer_room", { room_id: state.room.room_id, invite_code: state.room.invite_code || null });
  });
  socket.on("disconnect", async (reason) => {
    status.textContent = reason === "io client disconnect" ? "offline" : "reconnecting…";
    status.className = "status";
    // The server hung up on purpose (a logout elsewhere revokes this session): the client
    // does not retry by itself, so ask the API whether the session still stands.
    if (reason === "io server disconnect" && api.loggedIn) {
      try {
        await api.call("GET", "/wallet");
        socket.connect();
      } catch { /* 401: onSessionEnded has shown the login forms */ }
    }
  });
  socket.on("connect_error", async (error) => {
    status.textContent = "reconnecting…";
    status.className = "status";
    // A refused token (expired while away): refresh it; the client retries by itself.
    if (error && error.data && ["token_expired", "invalid_token"].includes(error.data.code) && api.loggedIn) {
      try { await api.refresh(); } catch { /* the session ended: showLoggedOut ran */ }
    }
  });
  socket.on("error", (error) => {
    if (error.event === "send_chat_message" || error.event === "join_chat") $("#chat-error").textContent = describeError(error);
    else if ((error.event && error.event.includes("room")) || error.event === "place_table_bet") roomEvent(describeError(error), "error");
    else toast(describeError(error), "error");
  });
  socket.on("leaderboard_update", renderBoardUpdate);
  socket.on("big_win_announcement", onBigWin);
  socket.on("chat_history", (data) => {
    if (data.room !== state.chatRoom) return;
    $("#chat-log").replaceChildren(...data.messages.map(chatLine));
    scrollChat();
  });
  socket.on("chat_message", (message) => {
    if (message.room && message.room !== state.chatRoom) return;
    $("#chat-log").append(chatLine(message));
    scrollChat();
  });
  socket.on("new_notification", ({ notification }) => {
    $("#unread").textContent = String(Number($("#unread").textContent) + 1);
    prependNotification(notification);
    if (notification.type !== "achievement") toast(notificationText(notification));
  });
  socket.on("achievement_unlocked", (achievement) => {
    if (!achievement || !achievement.achievement) return;
    toast(`Achievement unlocked: ${achievement.achievement.name} — ${achievement.achievement.description}`, "win");
    if (!$("#pane-me").hidden) loadMe();
  });
  socket.on("multiplayer_room_created", enterRoom);
  socket.on("multiplayer_room_joined", enterRoom);
  socket.on("multiplayer_room_left", () => leaveRoomView());
  socket.on("player_joined", (data) => { updatePlayers(data.players); roomEvent(`${data.username} sat down.`); });
  socket.on("player_left", (data) => { updatePlayers(data.players); roomEvent(`${data.username} left.`); });
  socket.on("table_betting_open", (data) => startCountdown(data.closes_in));
  socket.on("table_bet_placed", (data) => roomEvent(`${data.username} bet ${fmt(data.bet)}.`));
  socket.on("table_bet_accepted", (data) => { setBalance(data.balance); roomEvent(`Your ${fmt(data.bet)} is on the table.`); });
  socket.on("table_result", (data) => {
    stopCountdown();
    showWinningNumber(data.winning_number, data.color);
    roomEvent(`Result: ${data.winning_number} ${data.color}. ${data.results.map((r) => `${r.username} ${r.net >= 0 ? "+" : ""}${fmt(r.net)}`).join(", ")}`, "result");
  });
  socket.on("table_settled", (data) => { setBalance(data.balance); roomEvent(`You were paid ${fmt(data.payout)} (round ${data.round_id}).`); });
}

function renderBoardUpdate(update) {
  state.boards[`${update.metric}:${update.timeframe}`] = { rows: update.leaderboard, at: new Date() };
  if (update.metric === $("#lb-metric").value && update.timeframe === $("#lb-timeframe").value) renderBoard();
}

function renderBoard() {
  const board = state.boards[`${$("#lb-metric").value}:${$("#lb-timeframe").value}`];
  const list = $("#leaderboard");
  if (!board || !board.rows.length) {
    list.replaceChildren(el("li", { class: "empty" }, "No rounds yet: be the first."));
    $("#lb-updated").textContent = "";
    return;
  }
  list.replaceChildren(...board.rows.map((row) => el("li", { class: row.username === state.username ? "me" : "", "data-username": row.username },
    el("span", { class: "rank" }, `#${row.rank}`), el("span", { class: "name" }, row.username), el("span", { class: "score" }, fmt(row.score)))));
  $("#lb-updated").textContent = `updated ${board.at.toLocaleTimeString()}`;
  list.dataset.updatedAt = String(board.at.getTime());
}

$("#lb-metric").addEventListener("change", renderBoard);
$("#lb-timeframe").addEventListener("change", renderBoard);

function onBigWin(win) {
  const item = el("li", { "data-username": win.username, "data-received-at": String(Date.now()) },
    el("strong", {}, win.username), ` won ${fmt(win.amount)} at ${win.game_type}`);
  const list = $("#ticker-items");
  list.prepend(item);
  while (list.children.length > TICKER_SIZE) list.lastElementChild.remove();
  if (win.username !== state.username) toast(`${win.username} just won ${fmt(win.amount)} at ${win.game_type}!`, "win");
}

function chatLine(message) {
  const mine = message.username === state.username;
  return el("li", { class: mine ? "mine" : "" },
    el("span", { class: "time" }, new Date(message.timestamp || message.created_at || Date.now()).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })),
    el("strong", {}, message.username), ": ", el("span", { class: "text" }, message.message));
}

function scrollChat() {
  const log = $("#chat-log");
  log.scrollTop = log.scrollHeight;
}

$("#chat-room").addEventListener("change", (event) => {
  const socket = state.socket;
  if (socket) socket.emit("leave_chat", { room: state.chatRoom });
  state.chatRoom = event.target.value;
  $("#chat-log").replaceChildren();
  if (socket) socket.emit("join_chat", { room: state.chatRoom });
});

$("#chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("#chat-input");
  const text = input.value.trim();
  $("#chat-error").textContent = "";
  if (!text) { $("#chat-error").textContent = describeError({ code: "empty_message" }); return; }
  if (!state.socket || !state.socket.connected) { $("#chat-error").textContent = describeError({ code: "network_error" }); return; }
  state.socket.emit("send_chat_message", { room: state.chatRoom, message: text }, (reply) => {
    if (reply && reply.error) $("#chat-error").textContent = describeError(reply.error);
    else input.value = "";
  });
});

// --- the shared roulette table ----------------------------------------------------------------

function roomEvent(text, kind = "") {
  const list = $("#room-events");
  list.prepend(el("li", { class: kind }, `${new Date().toLocaleTimeString()} ${text}`));
  while (list.children.length > 30) list.lastElementChild.remove();
  if (kind === "error" && $("#room").hidden) toast(text, "error");
}

function enterRoom(room) {
  state.room = room;
  $("#room").hidden = false;
  $("#room-id").textContent = room.room_id;
  $("#room-invite").textContent = room.invite_code ? `— invite code ${room.invite_code}` : room.private ? "" : "— public";
  updatePlayers(room.players);
}

function updatePlayers(players) {
  $("#room-players").textContent = players.join(", ");
}

function leaveRoomView() {
  state.room = null;
  stopCountdown();
  $("#room").hidden = true;
  $("#room-events").replaceChildren();
}

function startCountdown(seconds) {
  stopCountdown();
  const end = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.max(0, (end - Date.now()) / 1000);
    $("#room-countdown").textContent = left > 0 ? `Betting closes in ${left.toFixed(0)} s` : "No more bets: spinning…";
    if (left <= 0) stopCountdown(false);
  };
  tick();
  state.countdownTimer = setInterval(tick, 250);
}

function stopCountdown(clear = true) {
  clearInterval(state.countdownTimer);
  state.countdownTimer = null;
  if (clear) $("#room-countdown").textContent = "";
}

$("#create-room").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  if (!state.socket) return;
  state.socket.emit("create_multiplayer_room", {
    game_type: "roulette", max_players: Number(form.max_players.value), private: form.private.checked,
  });
});

$("#join-room").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  if (!state.socket) return;
  state.socket.emit("join_multiplayer_room", { room_id: form.room_id.value.trim(), invite_code: form.invite_code.value.trim() || null });
});

$("#room-leave").addEventListener("click", () => {
  if (state.socket && state.room) state.socket.emit("leave_multiplayer_room", { room_id: state.room.room_id });
});

$("#room-bet").addEventListener("click", () => {
  if (!state.socket || !state.room) return;
  if (!state.slip.length) { roomEvent(describeError({ code: "no_bets" }), "error"); return; }
  state.socket.emit("place_table_bet", { room_id: state.room.room_id, bets: slipBets() });
});

// --- notifications ------------------------------------------------------------------------------

function notificationText(notification) {
  const p = notification.payload || {};
  if (notification.type === "achievement") return `Achievement unlocked: ${(p.achievement && p.achievement.name) || ""}`;
  if (notification.type === "big_win") return `Big win: ${fmt(p.amount)} coins at ${p.game_type || "the tables"}`;
  return p.message || p.text || notification.type;
}

function notificationItem(notification) {
  const item = el("li", { class: notification.read ? "read" : "unread" },
    el("span", {}, notificationText(notification)), el("small", {}, when(notification.created_at)));
  if (!notification.read) {
    item.append(el("button", { type: "button", class: "link", onclick: async () => {
      try {
        await api.call("POST", `/notifications/${notification.id}/read`);
        item.className = "read";
        $("#unread").textContent = String(Math.max(0, Number($("#unread").textContent) - 1));
      } catch (error) { showError(error); }
    } }, "mark read"));
  }
  return item;
}

function prependNotification(notification) {
  $("#notification-list").prepend(notificationItem(notification));
}

async function loadNotifications() {
  const page = await api.call("GET", "/notifications?limit=20");
  $("#notification-list").replaceChildren(...page.items.map(notificationItem));
}

$("#bell").addEventListener("click", () => {
  const panel = $("#notifications");
  panel.hidden = !panel.hidden;
  $("#bell").setAttribute("aria-expanded", String(!panel.hidden));
});

$("#read-all").addEventListener("click", async () => {
  try {
    await api.call("POST", "/notifications/read-all");
    $("#unread").textContent = "0";
    await loadNotifications();
  } catch (error) { showError(error); }
});

// --- history, recall and in-browser verification -------------------------------------------------

async function loadHistory(more = false) {
  const cursor = more && state.historyCursor ? `&cursor=${state.historyCursor}` : "";
  let page;
  try { page = await api.call("GET", `/games/history?limit=15${cursor}`); } catch (error) { showError(error); return; }
  const rows = page.items.map((round) => el("tr", { "data-round-id": String(round.id), "data-game": round.game_type },
    el("td", {}, String(round.id)), el("td", {}, round.game_type), el("td", {}, fmt(round.bet)),
    el("td", {}, fmt(round.payout)), el("td", { class: round.net > 0 ? "win" : round.net < 0 ? "loss" : "" }, round.net === null ? round.status : fmt(round.net)),
    el("td", {}, when(round.created_at)),
    el("td", {},
      el("button", { type: "button", class: "link", "aria-label": `details of round ${round.id}`, onclick: () => showRound(round.id) }, "details"),
      el("button", { type: "button", class: "link verify", "aria-label": `verify round ${round.id}`, onclick: () => showRound(round.id, true) }, "verify"))));
  if (more) $("#history-rows").append(...rows);
  else $("#history-rows").replaceChildren(...rows);
  state.historyCursor = page.next_cursor;
  $("#history-more").hidden = !page.next_cursor;
}

$("#history-refresh").addEventListener("click", () => loadHistory());
$("#history-more").addEventListener("click", () => loadHistory(true));

const cardText = (card) => (card ? `${card.name}${SUIT_SYMBOLS[card.suit]}` : "face down");

function roundSteps(round) {
  const outcome = round.outcome;
  if (round.game_type === "slots") {
    return [`Bet ${fmt(outcome.bet)}.`, `Reels stop at segments ${outcome.segments.join(", ")}: ${outcome.fruits.join(", ")}.`,
      outcome.combination ? `${outcome.combination.replace("_", " ")} ×${outcome.multiplier}: paid ${fmt(outcome.payout)}.` : "No win."];
  }
  if (round.game_type === "roulette") {
    if (outcome.status === "betting") return ["Shared-table bet waiting for its spin."];
    return [
      ...outcome.bets.map((bet) => `${bet.type}${bet.numbers.length <= 6 ? ` on ${bet.numbers.join("/")}` : ""}: ${fmt(bet.amount)} at ${bet.odds}:1 → paid ${fmt(bet.payout)}`),
      `Winning number ${outcome.pocket} (${outcome.color}); paid ${fmt(outcome.total_payout)} on ${fmt(outcome.total_bet)}.`];
  }
  const steps = outcome.log.map((entry) => {
    if (entry.event === "card") {
      const who = entry.to === "dealer" ? (entry.hole ? "Dealer (hole card)" : "Dealer") : `Player hand ${entry.hand + 1}`;
      return `${who} gets ${cardText(entry.card)}`;
    }
    if (entry.event === "action") return `Player ${entry.action.replace("_", " ")} on hand ${entry.hand + 1}`;
    if (entry.event === "peek") return `Dealer peeks: ${entry.dealer_blackjack ? "blackjack" : "no blackjack"}`;
    return JSON.stringify(entry);
  });
  if (outcome.game_over) {
    steps.push(...outcome.results.map((r) => `Hand ${r.hand + 1} (${r.value}): ${r.result}, wager ${fmt(r.wager)}, paid ${fmt(r.payout)}`));
  }
  return steps;
}

function summary(game, outcome) {
  if (game === "slots") return `segments ${outcome.segments.join(", ")} · ${outcome.fruits.join(", ")} · paid ${fmt(outcome.payout)}`;
  if (game === "roulette") return `pocket ${outcome.pocket} ${outcome.color} · paid ${fmt(outcome.total_payout)} (${outcome.bets.map((b) => fmt(b.payout)).join(" + ")})`;
  return `you ${outcome.player_hand.map(cardText).join(" ")}${outcome.split ? ` | ${outcome.player_second_hand.map(cardText).join(" ")}` : ""} · dealer ${outcome.dealer_hand.map(cardText).join(" ")} · paid ${fmt(outcome.total_payout)}`;
}

async function showRound(roundId, verify = false) {
  const box = $("#round-detail");
  box.hidden = false;
  let round;
  try { round = await api.call("GET", `/games/${roundId}`); } catch (error) { box.replaceChildren(el("p", { class: "error" }, describeError(error))); return; }
  const f = round.fairness;
  box.replaceChildren(
    el("h3", {}, `Round ${round.id}: ${round.game_type}, ${round.status}`),
    el("ol", { class: "steps" }, roundSteps(round).map((step) => el("li", {}, step))),
    el("dl", { class: "seeds" },
      el("dt", {}, "Server seed hash"), el("dd", { class: "mono" }, f.server_seed_hash),
      el("dt", {}, "Server seed"), el("dd", { class: "mono" }, f.server_seed || "not revealed yet: rotate on the Fairness tab"),
      el("dt", {}, "Client seed"), el("dd", { class: "mono" }, f.client_seed),
      el("dt", {}, "Nonce"), el("dd", {}, String(f.nonce))),
    el("button", { type: "button", id: "verify-round", "data-round-id": String(round.id), disabled: !f.server_seed, onclick: () => verifyInPage(round) },
      "Verify in this browser"),
    el("div", { id: "verification", role: "status", "aria-live": "polite" }),
  );
  box.scrollIntoView({ block: "nearest" });
  if (verify) await verifyInPage(round);
}

async function verifyInPage(round) {
  const out = $("#verification");
  if (!round.fairness.server_seed) { out.textContent = "The server seed of this round is not revealed yet: rotate it on the Fairness tab first."; out.className = "pending"; return; }
  if (!cryptoAvailable()) { out.textContent = "This browser offers no Web Crypto here (open the page over https or on localhost)."; return; }
  out.textContent = "Recomputing…";
  let check;
  try { check = await verifyRound(round); } catch (error) { out.textContent = `Could not recompute: ${error.message}`; out.className = "mismatch"; return; }
  out.className = check.status;
  out.dataset.status = check.status;
  out.dataset.roundId = String(round.id);
  out.replaceChildren(
    el("p", { class: "verdict" }, check.status === "match"
      ? "✔ Match: the revealed seed hashes to the committed hash, and the outcome recomputed here equals the recorded one."
      : `✘ Mismatch: ${check.hashMatches ? "" : "the seed does not hash to the committed hash. "}${check.outcomeMatches ? "" : "the recomputed outcome differs from the record."}`),
    el("table", { class: "compare" },
      el("tr", {}, el("th", {}, "Recomputed in your browser"), el("th", {}, "Recorded by the server")),
      el("tr", {}, el("td", {}, summary(round.game_type, check.computed)), el("td", {}, summary(round.game_type, check.recorded)))),
  );
}

// --- fairness -------------------------------------------------------------------------------------

function showSeed(active) {
  $("#seed-hash").textContent = active.server_seed_hash;
  $("#seed-nonce").textContent = String(active.nonce);
  if (document.activeElement !== $("#client-seed")) $("#client-seed").value = active.client_seed;
}

async function loadFairness() {
  showSeed(await api.call("GET", "/fairness"));
}

$("#client-seed-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    showSeed(await api.call("POST", "/fairness/client-seed", { client_seed: $("#client-seed").value.trim() }));
    toast("Client seed saved: your next rounds use it.");
  } catch (error) { showError(error); }
});

$("#rotate").addEventListener("click", async () => {
  const button = $("#rotate");
  button.disabled = true;
  try {
    const rotation = await api.call("POST", "/fairness/rotate");
    const r = rotation.revealed;
    $("#revealed").hidden = false;
    $("#revealed").replaceChildren(
      el("h3", {}, "Revealed"),
      el("dl", { class: "seeds" },
        el("dt", {}, "Server seed"), el("dd", { class: "mono", id: "revealed-seed" }, r.server_seed),
        el("dt", {}, "Its hash"), el("dd", { class: "mono" }, r.server_seed_hash),
        el("dt", {}, "Client seed"), el("dd", { class: "mono" }, r.client_seed),
        el("dt", {}, "Rounds played"), el("dd", {}, String(r.rounds_played))),
      el("p", {}, "Every round played with this pair can now be verified from the History tab."));
    showSeed(rotation.active);
    toast("Seed rotated: the old server seed is revealed.");
  } catch (error) { showError(error); } finally { button.disabled = false; }
});

// --- statistics, achievements, profile -------------------------------------------------------------

async function loadMe(profile) {
  try {
    const [stats, progress, me] = await Promise.all([
      api.call("GET", "/statistics"), api.call("GET", "/achievements/progress"), profile ? Promise.resolve(profile) : api.call("GET", "/profile"),
    ]);
    const row = (label, s) => el("tr", {}, el("th", {}, label), el("td", {}, fmt(s.games_played)), el("td", {}, fmt(s.games_won)),
      el("td", {}, fmt(s.total_wagered)), el("td", {}, fmt(s.total_won)), el("td", { class: s.net > 0 ? "win" : s.net < 0 ? "loss" : "" }, fmt(s.net)),
      el("td", {}, fmt(s.biggest_win)), el("td", {}, fmt(s.best_streak)));
    $("#stats-rows").replaceChildren(row("All games", stats.overall), ...Object.entries(stats.games).map(([game, s]) => row(game, s)));
    $("#achievements").replaceChildren(...progress.map((a) => el("li", { class: a.unlocked ? "unlocked" : "" },
      el("strong", {}, a.name), el("span", {}, a.description),
      el("progress", { max: String(a.threshold), value: String(a.current), "aria-label": `${a.name}: ${a.current} of ${a.threshold}` }),
      el("small", {}, a.unlocked ? "unlocked" : `${fmt(a.current)} / ${fmt(a.threshold)}`))));
    $("#profile").replaceChildren(
      el("dt", {}, "Player"), el("dd", {}, me.username), el("dt", {}, "Email"), el("dd", {}, me.email),
      el("dt", {}, "Member since"), el("dd", {}, when(me.member_since)),
      el("dt", {}, "Achievements"), el("dd", {}, `${me.achievements.unlocked} of ${me.achievements.total}`));
    $("#public-stats").checked = me.public_stats;
    if (typeof me.coins === "number") setBalance(me.coins);
  } catch (error) { showError(error); }
}

$("#me-refresh").addEventListener("click", () => loadMe());
$("#public-stats").addEventListener("change", async (event) => {
  try {
    await api.call("PATCH", "/profile", { public_stats: event.target.checked });
    toast(event.target.checked ? "Your statistics are public." : "Your statistics are private.");
  } catch (error) { event.target.checked = !event.target.checked; showError(error); }
});

// --- start -------------------------------------------------------------------------------------------

$("#threshold").textContent = `big wins: ${fmt(Number(document.body.dataset.bigWinThreshold))} coins or more`;
renderBoard();
if (api.loggedIn) enterLobby().catch((error) => { showError(error); if (!api.loggedIn) showLoggedOut(); });
document.body.dataset.ready = "true";
