// The lobby: plays the three games through the JSON API, watches the live events over
// Socket.IO, and verifies revealed rounds in the browser. It shows what the server answered:
// no outcome and no balance is ever computed here.

import { Api } from "./api.js";
import { cryptoAvailable, fruitAtSegment, pocketColor, RED, verifyRound } from "./fairness.js";
import { describeError, localTime, SESSION_ENDINGS } from "./messages.js";

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
const when = localTime;
const phone = () => window.matchMedia("(max-width: 600px)").matches;

// Bring a result into view, without jumping when it is already visible.
function reveal(node, block = "nearest") {
  if (!node) return;
  const box = node.getBoundingClientRect();
  const bar = document.querySelector(".pane:not([hidden]) .actionbar");
  const bottom = window.innerHeight - (phone() && bar ? bar.getBoundingClientRect().height : 0);
  if (box.top >= 0 && box.bottom <= bottom) return;
  node.scrollIntoView({ block });
}

// --- toasts ----------------------------------------------------------------------------------

const MAX_TOASTS = 3;

// A few short messages at once, each closable; the box moves to the other edge of the screen
// rather than sit over a field the player may be typing in.
function toast(text, kind = "info") {
  const box = $("#toasts");
  const close = el("button", { type: "button", class: "close", "aria-label": "Dismiss" }, "×");
  const node = el("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, el("span", {}, text), close);
  close.addEventListener("click", () => { node.remove(); placeToasts(); });
  box.append(node);
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
  setTimeout(() => { node.remove(); placeToasts(); }, kind === "error" ? 8000 : 5000);
  placeToasts();
}

function overlapsAField(box) {
  const area = box.getBoundingClientRect();
  if (!area.height) return false;
  return $$("input, select, textarea").some((field) => {
    if (field.offsetParent === null) return false;
    const r = field.getBoundingClientRect();
    return r.width && r.left < area.right && r.right > area.left && r.top < area.bottom && r.bottom > area.top;
  });
}

function placeToasts() {
  const box = $("#toasts");
  if (!box.children.length) return;
  // At the top: below the header and the tabs while they are on screen.
  const above = $("#lobby").hidden ? $(".topbar") : $(".tabs");
  box.style.setProperty("--toast-top", `${Math.max(8, Math.round(above.getBoundingClientRect().bottom + 8))}px`);
  for (const edge of ["bottom", "bottom-left", "top", "top-left"]) {
    box.dataset.edge = edge;
    if (!overlapsAField(box)) return;
  }
  box.dataset.edge = "bottom-left";
}

document.addEventListener("focusin", placeToasts);
window.addEventListener("scroll", () => { if ($("#toasts").children.length) placeToasts(); }, { passive: true });

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
  protection: null,
  excluded: false,
  pendingInvite: null,
  tables: [],
  tablesTimer: null,
  limitsTimer: null,
  cardCounts: {},
  tournament: null,
  tournamentTimer: null,
  standingsMode: "top",
};

// Another tab logging in or out: follow it at once.
const tabs = "BroadcastChannel" in window ? new BroadcastChannel("imperio.lobby") : null;

const api = new Api({
  onSessionEnded: (error, had) => {
    if (!had && !$("#auth").hidden) return;
    showLoggedOut(sessionEndedText(error));
  },
  onRealityCheck: (notice) => showRealityCheck(notice),
});

function sessionEndedText(error) {
  const reason = error && error.details && error.details.reason;
  if (reason && SESSION_ENDINGS[reason]) return SESSION_ENDINGS[reason];
  if (error && error.code === "token_expired") return "Your session expired: please log in again.";
  return "Your session has ended: please log in again.";
}

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
  if (!username.trim() || !password) { errorBox.textContent = "Enter your username (or email) and password."; return; }
  try {
    await api.login(username.trim(), password);
    await enterLobby();
    if (tabs) tabs.postMessage("login");
  } catch (error) {
    showError(error, errorBox);
  }
});

// Problems with sign-up fields sit beside the field they are about.
const FIELD_HINTS = {
  username: "Use 3–32 letters, digits or underscores.",
  email: "Enter an email address like name@example.com.",
  password: "Use at least 8 characters.",
};

function fieldError(form, field, text) {
  const box = $(`.field-error[data-field="${field}"]`, form);
  if (box) box.textContent = text || "";
  const input = form.elements[field];
  if (input) input.setAttribute("aria-invalid", text ? "true" : "false");
}

function checkSignupFields(form) {
  let ok = true;
  for (const field of Object.keys(FIELD_HINTS)) {
    const input = form.elements[field];
    const valid = input.value.trim() !== "" && input.checkValidity();
    fieldError(form, field, valid ? "" : FIELD_HINTS[field]);
    ok = ok && valid;
  }
  return ok;
}

$("#signup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const errorBox = $(".form-error", form);
  errorBox.textContent = "";
  const { username, email, password } = formValues(form);
  if (!checkSignupFields(form)) { $('[aria-invalid="true"]', form).focus(); return; }
  const button = $("button", form);
  button.disabled = true;
  try {
    await api.signup(username.trim(), email.trim(), password);
    await enterLobby();
    if (tabs) tabs.postMessage("login");
    toast("Welcome! Your sign-up bonus is in your wallet.", "win");
  } catch (error) {
    const fields = error.code === "validation_error" && error.details ? Object.keys(error.details).filter((f) => f in FIELD_HINTS) : [];
    if (fields.length) fields.forEach((f) => fieldError(form, f, [].concat(error.details[f]).join(" ")));
    else if (error.code === "username_taken" || error.code === "email_taken") fieldError(form, error.code.split("_")[0], describeError(error));
    else if (error.code === "account_taken") fieldError(form, "username", describeError(error));
    else showError(error, errorBox);
  } finally {
    button.disabled = false;
  }
});

async function logOut(notice) {
  await api.logout();
  if (tabs) tabs.postMessage("logout");
  showLoggedOut(notice || "You logged out. See you soon.");
}

$("#logout").addEventListener("click", () => logOut());

if (tabs) {
  tabs.addEventListener("message", async (event) => {
    if (event.data === "logout" && api.loggedIn) {
      api.clearTokens();
      showLoggedOut("You logged out in another tab.");
    } else if (event.data === "login" && !api.loggedIn && (await api.resume())) {
      enterLobby().catch(() => {});
    }
  });
}

function showLoggedOut(notice) {
  if (state.socket) state.socket.disconnect();
  state.socket = null;
  state.room = null;
  stopCountdown();
  closeDrawer();
  for (const dialog of $$("dialog[open]")) dialog.close();
  $("#auth").hidden = false;
  $("#lobby").hidden = true;
  $("#account").hidden = true;
  $("#notifications").hidden = true;
  $("#exclusion-banner").hidden = true;
  $("#connection").hidden = true;
  $("#connection").textContent = "offline";
  $("#connection").className = "status";
  setExcluded(null);
  $("#auth-notice").hidden = !notice;
  $("#auth-notice").textContent = notice || "";
  connectSocket();
}

async function enterLobby() {
  $("#auth-notice").hidden = true;
  const profile = await api.call("GET", "/profile");
  state.username = profile.username;
  $("#who").textContent = profile.username;
  setBalance(profile.coins);
  $("#unread").textContent = String(profile.unread_notifications);
  $("#auth").hidden = true;
  $("#lobby").hidden = false;
  $("#account").hidden = false;
  $("#connection").hidden = false;
  connectSocket();
  await Promise.allSettled([loadProtection(), loadFairness(), loadHistory(), loadNotifications(), resumeBlackjack(), loadMe(profile)]);
  if (state.pendingInvite) {
    selectTab($("#tab-table"));
  }
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
  if (pane === "pane-protect") loadProtection();
  if (pane === "pane-tournaments") { if (state.tournament) openTournament(state.tournament.id); else loadTournaments(); }
  placeBoard();
  if (pane === "pane-table") watchTables(); else unwatchTables();
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
    $("#reels").classList.add("landed");
    setTimeout(() => $("#reels").classList.remove("landed"), 600);
    setBalance(spin.totalCoins);
    result.textContent = spin.payout > 0
      ? `${spin.fruits.join(" · ")}: ${spin.combination.replace("_", " ")} pays ${fmt(spin.payout)} (×${spin.multiplier})`
      : `${spin.fruits.join(" · ")}: no win`;
    result.className = `result ${spin.payout > 0 ? "win" : "loss"}`;
    result.dataset.roundId = String(spin.round_id);
    reveal($("#reels"));
    $("#seed-nonce").textContent = String(spin.fairness.nonce + 1);
  } catch (error) {
    result.textContent = describeError(error);
    result.className = "result error";
    reveal(result);
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

// Cards new since the last view slide in; the ones already on the table stay put.
function dealt(container, cards) {
  const key = container.id;
  const before = state.cardCounts[key] || 0;
  cards.forEach((card, i) => { if (i >= before) card.classList.add("dealt"); });
  state.cardCounts[key] = cards.length;
  container.replaceChildren(...cards);
}

function renderBlackjack(view) {
  const counts = state.cardCounts;
  if (counts.round !== view.id) { state.cardCounts = { round: view.id }; }
  state.blackjack = view;
  const dealer = view.dealer_hand.map(cardNode);
  // Until the dealer plays, the server sends only the up card: the hole card stays face down.
  if (!view.game_over) dealer.push(cardNode(null));
  dealt($("#dealer-cards"), dealer);
  $("#dealer-value").textContent = view.game_over ? `(${view.dealer_value})` : `(shows ${view.dealer_value})`;
  dealt($("#player-cards"), view.player_hand.map(cardNode));
  const second = $("#player-cards-2");
  second.hidden = !view.split;
  dealt(second, view.player_second_hand.map(cardNode));
  $("#player-cards").classList.toggle("active", view.split && view.current_hand === 0 && !view.game_over);
  second.classList.toggle("active", view.split && view.current_hand === 1 && !view.game_over);
  $("#player-value").textContent = `(${view.player_values.join(" / ")})`;
  $("#bj-hit").disabled = !view.can_hit;
  $("#bj-stand").disabled = !view.can_stand;
  $("#bj-double").disabled = !view.can_double_down;
  $("#bj-split").disabled = !view.can_split;
  $("#bj-deal").disabled = !view.game_over || state.excluded;
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
    reveal($("#pane-blackjack .felt"));
  } catch (error) {
    $("#bj-result").textContent = describeError(error);
    $("#bj-result").className = "result error";
    reveal($("#bj-result"));
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
    grid.append(placed(el("button", { type: "button", class: "outside column", "data-type": "column", "data-index": String(offset), "aria-label": `2:1 column ${offset}` }, "2:1"), 4 - offset, 13));
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

// The European wheel's pockets clockwise from zero; the disc turns to bring the winner to the top.
const WHEEL = [0, 32, 15, 19, 4, 21, 2, 25, 17, 34, 6, 27, 13, 36, 11, 30, 8, 23, 10, 5, 24, 16, 33, 1, 20, 14, 31, 9, 22, 18, 29, 7, 28, 12, 35, 3, 26];
const POCKET_DEG = 360 / WHEEL.length;

function paintWheels() {
  const stops = WHEEL.map((n, i) => {
    const color = n === 0 ? "#0b8a3e" : RED.has(n) ? "#c8102e" : "#111";
    return `${color} ${(i * POCKET_DEG).toFixed(3)}deg ${((i + 1) * POCKET_DEG).toFixed(3)}deg`;
  });
  for (const disc of $$(".wheel-disc")) {
    disc.style.setProperty("--pockets", `conic-gradient(from ${-POCKET_DEG / 2}deg, ${stops.join(", ")})`);
  }
}

function spinWheel(wheel) {
  wheel.classList.add("spinning");
  wheel.classList.remove("red", "black", "green");
  $(".hub", wheel).textContent = "…";
}

function stopWheel(wheel, number, color) {
  wheel.classList.remove("spinning");
  const disc = $(".wheel-disc", wheel);
  const turns = Number(disc.dataset.turns || 0) + 3;
  disc.dataset.turns = String(turns);
  disc.style.setProperty("--angle", `${-(turns * 360 + WHEEL.indexOf(number) * POCKET_DEG)}deg`);
  wheel.classList.add(color);
  $(".hub", wheel).textContent = String(number);
}

function showWinningNumber(number, color, wheel = $("#wheel")) {
  stopWheel(wheel, number, color);
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
  result.className = "result";
  spinWheel($("#wheel"));
  reveal($("#wheel"), "center");
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
    reveal($("#wheel"));
  } catch (error) {
    $("#wheel").classList.remove("spinning");
    $("#winning-number").textContent = "?";
    result.textContent = describeError(error);
    result.className = "result error";
    reveal(result);
  } finally {
    button.disabled = false;
  }
});

buildLayout();
paintWheels();

// One betting board (chips, layout, slip) serves solo roulette and the shared table: it moves
// to whichever of the two is on screen.
function placeBoard() {
  const atTable = !$("#pane-table").hidden && state.room;
  const board = $("#roulette-board");
  if (atTable && board.parentElement !== $("#table-board-slot")) $("#table-board-slot").append(board);
  if (!atTable && board.parentElement === $("#table-board-slot")) $("#roulette-top").after(board);
}

// --- Socket.IO: leaderboards, chat, notifications, big wins, the shared table -----------------

function connectSocket() {
  if (state.socket) state.socket.disconnect();
  // Before sign-in the socket only listens (big wins); after, the token is read at every
  // (re)connection, so a refreshed token is the one presented.
  const socket = window.io({ auth: (cb) => cb(api.accessToken ? { token: api.accessToken } : {}), reconnectionDelayMax: 5000 });
  state.socket = socket;
  socket.on("big_win_announcement", onBigWin);
  if (!api.loggedIn) return;
  const status = $("#connection");
  // With the token in the connect payload, `authenticated` can arrive before `connect`.
  socket.on("connect", () => { if (!status.classList.contains("live")) status.textContent = "signing in…"; });
  socket.on("authenticated", () => {
    status.textContent = "live";
    status.className = "status live";
    for (const metric of METRICS) for (const timeframe of TIMEFRAMES) socket.emit("join_leaderboard", { metric, timeframe });
    joinChat(socket);
    if (state.room) socket.emit("join_multiplayer_room", { room_id: state.room.room_id, invite_code: state.room.invite_code || null });
    else if (state.pendingInvite) joinInvite();
    if (!$("#pane-table").hidden) socket.emit("watch_tables");
    if (state.tournament) socket.emit("join_tournament", { tournament_id: state.tournament.id });
  });
  socket.on("disconnect", async (reason) => {
    status.textContent = reason === "io client disconnect" ? "offline" : "reconnecting…";
    status.className = "status";
    // The server hung up on purpose (a logout elsewhere revokes this session): the client
    // does not retry by itself, so ask the API whether the session still stands.
    if (reason === "io server disconnect" && api.loggedIn) {
      try {
        await api.call("GET", "/wallet");
        if (state.socket === socket) socket.connect();
      } catch { /* 401: onSessionEnded has explained and shown the login forms */ }
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
    if (error.event === "join_chat") chatJoin.done();
    if (error.event === "send_chat_message" || error.event === "join_chat") $("#chat-error").textContent = describeError(error);
    else if ((error.event && error.event.includes("room")) || error.event === "place_table_bet") roomEvent(describeError(error), "error");
    else toast(describeError(error), "error");
  });
  socket.on("leaderboard_update", renderBoardUpdate);
  socket.on("reality_check", showRealityCheck);
  socket.on("tables_update", renderTables);
  socket.on("tournament_standings", onTournamentStandings);
  socket.on("tournament_closed", (closed) => {
    if (state.tournament && closed.tournament_id === state.tournament.id) openTournament(closed.tournament_id);
  });
  socket.on("chat_history", (data) => {
    if (data.room !== state.chatRoom) return;
    // Messages broadcast between the join and this history (the server reads the history
    // first) are already shown: they stay, after it.
    const last = Math.max(0, ...data.messages.map((message) => message.id || 0));
    const newer = [...$("#chat-log").children].filter((line) => Number(line.dataset.id) > last);
    $("#chat-log").replaceChildren(...data.messages.map(chatLine), ...newer);
    chatJoin.done();
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
    if (notification.type === "tournament_prize") { toast(notificationText(notification), "win"); refreshWallet(); return; }
    if (notification.type !== "achievement" && !(state.excluded && notification.type === "big_win")) toast(notificationText(notification));
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
  socket.on("table_betting_open", (data) => {
    startCountdown(data.closes_in);
    spinWheel($("#table-wheel"));
    $("#table-number").textContent = "?";
    $("#table-result").textContent = "";
    $("#table-results").replaceChildren();
  });
  socket.on("table_bet_placed", (data) => roomEvent(`${data.username} bet ${fmt(data.bet)}.`));
  socket.on("table_bet_accepted", (data) => {
    setBalance(data.balance);
    roomEvent(`Your ${fmt(data.bet)} is on the table.`);
    $("#table-result").textContent = `Your ${fmt(data.bet)} is on the table: the wheel turns when betting closes.`;
    $("#table-result").className = "result";
    reveal($("#table-wheel"), "center");
  });
  socket.on("table_result", (data) => {
    stopCountdown();
    showWinningNumber(data.winning_number, data.color, $("#table-wheel"));
    $("#room-countdown").textContent = "Bet again to open the next spin.";
    $("#table-result").textContent = `${data.winning_number} ${data.color}`;
    $("#table-result").className = "result";
    $("#table-results").replaceChildren(...data.results.map((r) => el("li", { class: r.net > 0 ? "win" : r.net < 0 ? "loss" : "", "data-username": r.username },
      el("strong", {}, r.username), ` bet ${fmt(r.bet)}, won ${fmt(r.payout)} (${r.net >= 0 ? "+" : ""}${fmt(r.net)})`)));
    roomEvent(`Result: ${data.winning_number} ${data.color}. ${data.results.map((r) => `${r.username} ${r.net >= 0 ? "+" : ""}${fmt(r.net)}`).join(", ")}`, "result");
    reveal($("#table-wheel"));
  });
  socket.on("table_settled", (data) => {
    setBalance(data.balance);
    const net = data.payout - data.bet;
    $("#table-result").textContent += `: you were paid ${fmt(data.payout)} on ${fmt(data.bet)} (${net >= 0 ? "+" : ""}${fmt(net)}).`;
    $("#table-result").className = `result ${net > 0 ? "win" : net < 0 ? "loss" : ""}`;
    $("#table-result").dataset.roundId = String(data.round_id);
    roomEvent(`You were paid ${fmt(data.payout)} (round ${data.round_id}).`);
  });
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
  $$("#ticker-items .empty").forEach((n) => n.remove());
  // No promotion for a player who chose not to play, nor before sign-in (the ticker shows it).
  if (win.username !== state.username && api.loggedIn && !state.excluded) toast(`${win.username} just won ${fmt(win.amount)} at ${win.game_type}!`, "win");
}

// The server refuses a message to a room this socket has not joined yet (not_in_room), and
// handles a socket's events concurrently: a send waits until the join's history has come.
const chatJoin = { joined: Promise.resolve(), done: () => {} };

function joinChat(socket) {
  chatJoin.joined = new Promise((resolve) => { chatJoin.done = resolve; });
  socket.emit("join_chat", { room: state.chatRoom });
}

function chatLine(message) {
  const mine = message.username === state.username;
  return el("li", { class: mine ? "mine" : "", "data-id": String(message.id || 0) },
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
  if (socket) joinChat(socket);
});

$("#chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("#chat-input");
  const text = input.value.trim();
  $("#chat-error").textContent = "";
  if (!text) { $("#chat-error").textContent = describeError({ code: "empty_message" }); return; }
  if (!state.socket || !state.socket.connected) { $("#chat-error").textContent = describeError({ code: "network_error" }); return; }
  await chatJoin.joined;
  state.socket.emit("send_chat_message", { room: state.chatRoom, message: text }, (reply) => {
    if (reply && reply.error) $("#chat-error").textContent = describeError(reply.error);
    else input.value = "";
  });
});

// --- the shared roulette table ----------------------------------------------------------------

function roomEvent(text, kind = "") {
  const list = $("#room-events");
  list.prepend(el("li", { class: kind }, `${new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })} ${text}`));
  while (list.children.length > 30) list.lastElementChild.remove();
  if (kind === "error") {
    if ($("#room").hidden) { state.pendingInvite = null; toast(text, "error"); } else { $("#table-result").textContent = text; $("#table-result").className = "result error"; reveal($("#table-result")); }
  }
}

function inviteLink(room) {
  return `${location.origin}/#table=${encodeURIComponent(room.room_id)}&invite=${encodeURIComponent(room.invite_code)}`;
}

function enterRoom(room) {
  state.room = room;
  state.pendingInvite = null;
  $("#room").hidden = false;
  $("#table-lobby").hidden = true;
  $("#room-title").textContent = `${room.host || "A"}'s ${room.private ? "private " : ""}table`;
  $("#room-title").dataset.roomId = room.room_id;
  $("#room-invite").hidden = !room.invite_code;
  $("#invite-link").value = room.invite_code ? inviteLink(room) : "";
  $("#invite-copied").textContent = "";
  updatePlayers(room.players, room.max_players);
  if (room.closes_in) { startCountdown(room.closes_in); spinWheel($("#table-wheel")); } else $("#room-countdown").textContent = "The first bet opens the next spin.";
  placeBoard();
  unwatchTables();
}

function updatePlayers(players, seats) {
  if (seats) state.roomSeats = seats;
  $("#room-players").textContent = `${players.join(", ")} (${players.length} of ${state.roomSeats || "?"} seats)`;
}

function leaveRoomView() {
  state.room = null;
  stopCountdown();
  $("#room").hidden = true;
  $("#table-lobby").hidden = false;
  $("#room-events").replaceChildren();
  $("#table-results").replaceChildren();
  $("#table-result").textContent = "";
  $("#table-wheel").classList.remove("spinning");
  placeBoard();
  if (!$("#pane-table").hidden) watchTables();
}

function startCountdown(seconds) {
  stopCountdown();
  const end = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.max(0, (end - Date.now()) / 1000);
    $("#room-countdown").textContent = left > 0 ? `Betting closes in ${Math.ceil(left)} s` : "No more bets: the wheel is spinning…";
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

// --- the list of open tables ---------------------------------------------------------------------

function watchTables() {
  if (state.socket && api.loggedIn && !state.room) state.socket.emit("watch_tables");
}

function unwatchTables() {
  if (state.socket && api.loggedIn) state.socket.emit("unwatch_tables");
}

function renderTables(update) {
  state.tables = update.tables.map((table) => ({ ...table, until: table.closes_in ? Date.now() + table.closes_in * 1000 : null }));
  drawTables();
  clearInterval(state.tablesTimer);
  if (state.tables.some((t) => t.until)) state.tablesTimer = setInterval(drawTables, 1000);
}

function drawTables() {
  const list = $("#table-list");
  if (!state.tables.length) {
    list.replaceChildren(el("li", { class: "empty" }, "No open tables right now: open one below and invite others."));
    return;
  }
  list.replaceChildren(...state.tables.map((table) => {
    const left = table.until ? Math.ceil((table.until - Date.now()) / 1000) : 0;
    const full = table.seats_taken >= table.max_players;
    return el("li", { "data-room-id": table.room_id },
      el("div", {}, el("strong", {}, `${table.host}'s table`),
        el("span", { class: "seats" }, ` ${table.seats_taken} of ${table.max_players} seats: ${table.players.join(", ")}`),
        el("span", { class: "window" }, left > 0 ? ` · betting open, ${left} s left` : " · waiting for the first bet")),
      el("button", { type: "button", class: "primary", disabled: full || state.excluded, "aria-label": `Join ${table.host}'s table`,
        onclick: () => joinTable(table.room_id) }, full ? "Full" : "Join"));
  }));
}

function joinTable(roomId, inviteCode = null) {
  if (!state.socket) return;
  state.socket.emit("join_multiplayer_room", { room_id: roomId, invite_code: inviteCode });
}

// An invite link: /#table=<id>&invite=<code> opens the lobby at that table.
function readInvite() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.get("table")) return;
  state.pendingInvite = { room_id: params.get("table"), invite_code: params.get("invite") || null };
  history.replaceState(null, "", location.pathname + location.search);
  if (!api.loggedIn) {
    $("#auth-notice").hidden = false;
    $("#auth-notice").textContent = "Log in or sign up to take your seat at the table you were invited to.";
  }
}

function joinInvite() {
  const invite = state.pendingInvite;
  if (!invite) return;
  selectTab($("#tab-table"));
  joinTable(invite.room_id, invite.invite_code);
}

window.addEventListener("hashchange", () => { readInvite(); if (api.loggedIn && state.socket && state.socket.connected) joinInvite(); });

$("#create-room").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  if (!state.socket) return;
  state.socket.emit("create_multiplayer_room", {
    game_type: "roulette", max_players: Number(form.max_players.value), private: form.private.checked,
  });
});

$("#invite-copy").addEventListener("click", async () => {
  const input = $("#invite-link");
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand("copy");
  }
  $("#invite-copied").textContent = "Copied: send it to the players you want at your table.";
});

$("#room-leave").addEventListener("click", () => {
  if (state.socket && state.room) state.socket.emit("leave_multiplayer_room", { room_id: state.room.room_id });
});

$("#room-clear").addEventListener("click", () => { state.slip = []; renderSlip(); });

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
  if (notification.type === "tournament_prize") return `You won ${fmt(p.prize)} coins: #${p.rank} in ${p.title}`;
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

// The panel opens below the header (never over Log out) and closes with its button, Escape
// or a tap anywhere outside it.
function setNotifications(open) {
  const panel = $("#notifications");
  if (open) panel.style.setProperty("--top", `${Math.round($(".topbar").getBoundingClientRect().bottom + window.scrollY + 4)}px`);
  panel.hidden = !open;
  $("#bell").setAttribute("aria-expanded", String(open));
  if (open) $("#notifications-close").focus();
}

$("#bell").addEventListener("click", () => setNotifications($("#notifications").hidden));
$("#notifications-close").addEventListener("click", () => { setNotifications(false); $("#bell").focus(); });
document.addEventListener("click", (event) => {
  const panel = $("#notifications");
  if (!panel.hidden && !panel.contains(event.target) && !$("#bell").contains(event.target)) setNotifications(false);
  if (document.body.classList.contains("drawer-open") && !$("#side").contains(event.target) && !$("#drawer-open").contains(event.target)) closeDrawer();
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  if (!$("#notifications").hidden) { setNotifications(false); $("#bell").focus(); }
  if (document.body.classList.contains("drawer-open")) { closeDrawer(); $("#drawer-open").focus(); }
});

// --- the chat and leaderboards drawer (phone width) ----------------------------------------------

function openDrawer() {
  document.body.classList.add("drawer-open");
  $("#drawer-open").setAttribute("aria-expanded", "true");
  $("#drawer-close").focus();
}

function closeDrawer() {
  document.body.classList.remove("drawer-open");
  $("#drawer-open").setAttribute("aria-expanded", "false");
}

$("#drawer-open").addEventListener("click", () => (document.body.classList.contains("drawer-open") ? closeDrawer() : openDrawer()));
$("#drawer-close").addEventListener("click", () => { closeDrawer(); $("#drawer-open").focus(); });


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

// --- my protection ----------------------------------------------------------------------------------

const KIND_WORDS = { loss: "Loss", wager: "Wager" };
const PERIOD_WORDS = { day: "per day", week: "per week", month: "per month" };

function untilText(iso) {
  const ms = new Date(iso).getTime() - Date.now();
  if (ms <= 0) return "now";
  const minutes = Math.ceil(ms / 60000);
  const h = Math.floor(minutes / 60);
  return h ? `in ${h} h ${minutes % 60} min` : `in ${minutes} min`;
}

function setExcluded(exclusion, suspended = false) {
  state.excluded = Boolean(exclusion) || suspended;
  document.body.classList.toggle("excluded", state.excluded);
  const banner = $("#exclusion-banner");
  banner.hidden = !state.excluded;
  if (exclusion) {
    const what = exclusion.kind === "timeout" ? "You are taking a break" : "You have excluded yourself";
    banner.textContent = `${what}${exclusion.until ? ` until ${localTime(exclusion.until)}` : " for good"}. You can look at your balance and history; games, chat and tables are closed to you.`;
  } else if (suspended) {
    banner.textContent = describeError({ code: "account_suspended" });
  }
  for (const button of $$(".play, #create-room button, #table-list button")) {
    if (state.excluded) button.disabled = true;
  }
  if (!state.excluded) {
    for (const id of ["#spin", "#roulette-spin", "#room-bet", "#create-room button"]) $(id).disabled = false;
    if (!state.blackjack || state.blackjack.game_over) $("#bj-deal").disabled = false;
  }
  $("#ticker").hidden = state.excluded;
}

async function loadProtection() {
  let status;
  try { status = await api.call("GET", "/protection"); } catch (error) { showError(error); return; }
  state.protection = status;
  setExcluded(status.exclusion, status.suspended);
  $("#protect-status").textContent = status.may_play
    ? "You can play. Set limits, a reminder or a break below."
    : $("#exclusion-banner").textContent;
  renderLimits();
  clearInterval(state.limitsTimer);
  if (status.limits.some((l) => l.pending_at)) state.limitsTimer = setInterval(renderLimits, 30_000);
  const reality = status.reality_check;
  $("#reality-form").minutes.value = reality ? String(reality.interval_minutes) : "";
  if (reality && reality.due && reality.notice) showRealityCheck(reality.notice);
  loadLimitHistory();
}

function renderLimits() {
  const limits = (state.protection && state.protection.limits) || [];
  const rows = limits.map((l) => el("tr", { "data-kind": l.kind, "data-period": l.period },
    el("th", {}, `${KIND_WORDS[l.kind]} ${PERIOD_WORDS[l.period]}`),
    el("td", { class: "amount" }, l.amount === null ? "none" : fmt(l.amount)),
    el("td", {}, fmt(l.used)),
    el("td", {}, localTime(l.resets_at)),
    el("td", { class: "pending" }, l.pending_at
      ? `${l.pending_amount === null ? "removed" : fmt(l.pending_amount)} ${untilText(l.pending_at)} (${localTime(l.pending_at)})` : "")));
  $("#limit-rows").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "5" }, "No limits set."))]));
}

async function loadLimitHistory() {
  try {
    const page = await api.call("GET", "/protection/limits/history?limit=20");
    $("#limit-history").replaceChildren(...(page.items.length ? page.items.map((c) => el("li", {},
      `${localTime(c.created_at)}: ${KIND_WORDS[c.kind].toLowerCase()} ${PERIOD_WORDS[c.period]} `,
      `${c.previous === null ? "none" : fmt(c.previous)} → ${c.requested === null ? "none" : fmt(c.requested)}, in force ${localTime(c.effective_at)}`))
      : [el("li", { class: "empty" }, "No changes yet.")]));
  } catch (error) { showError(error); }
}

$("#limit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const box = $(".form-error", form);
  box.textContent = "";
  const raw = form.amount.value.trim();
  const amount = raw === "" ? null : Number(raw);
  if (amount !== null && !(Number.isInteger(amount) && amount >= 1)) { box.textContent = "A limit is a whole number of coins, at least 1 (leave it empty to remove it)."; return; }
  try {
    // Raising or removing a limit in force needs the current password (a lower one does not).
    const body = { kind: form.kind.value, period: form.period.value, amount };
    if (form.password.value) body.password = form.password.value;
    const limit = await api.call("PUT", "/protection/limits", body);
    toast(limit.pending_at
      ? `Your ${form.kind.value} limit changes ${untilText(limit.pending_at)} (${localTime(limit.pending_at)}).`
      : `Your ${form.kind.value} limit ${PERIOD_WORDS[form.period.value]} is now ${limit.amount === null ? "none" : fmt(limit.amount)} coins.`);
    form.amount.value = "";
    form.password.value = "";
    await loadProtection();
  } catch (error) { showError(error, box); }
});

$("#reality-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const box = $(".form-error", form);
  box.textContent = "";
  const minutes = form.minutes.value === "" ? null : Number(form.minutes.value);
  try {
    await api.call("PUT", "/protection/reality-check", { minutes });
    toast(minutes ? `You will be reminded every ${minutes} minutes of play.` : "Reality checks are off.");
  } catch (error) { showError(error, box); }
});

// The reality check: time played and net result, then continue or log out.
const noticeKey = (notice) => `${notice.session_started_at}:${notice.elapsed_seconds}`;

function showRealityCheck(notice) {
  const dialog = $("#reality-dialog");
  // The same notice comes in the bet's answer and over the socket: once acknowledged, it is done.
  if (state.acknowledgedNotice === noticeKey(notice)) return;
  state.shownNotice = noticeKey(notice);
  const minutes = Math.floor(notice.elapsed_seconds / 60);
  $("#reality-elapsed").textContent = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  $("#reality-since").textContent = localTime(notice.session_started_at);
  $("#reality-net").textContent = `${notice.net > 0 ? "+" : ""}${fmt(notice.net)}`;
  $("#reality-net").className = notice.net > 0 ? "win" : notice.net < 0 ? "loss" : "";
  if (!dialog.open) dialog.showModal();
}

async function acknowledgeReality() {
  try { await api.call("POST", "/protection/reality-check/acknowledge"); } catch (error) { if (error.code !== "no_reality_check") showError(error); }
}

// Acknowledged before the dialog closes, so nothing read afterwards shows it again.
async function closeReality() {
  const buttons = $$("#reality-dialog button");
  buttons.forEach((b) => { b.disabled = true; });
  state.acknowledgedNotice = state.shownNotice;
  await acknowledgeReality();
  buttons.forEach((b) => { b.disabled = false; });
  $("#reality-dialog").close();
}

$("#reality-continue").addEventListener("click", closeReality);
$("#reality-logout").addEventListener("click", async () => {
  await closeReality();
  await logOut("You logged out after your reality check. Come back any time.");
});

// A time-out or self-exclusion: a clear warning first; self-exclusion also needs the password.
function confirmBreak(kind, label, body) {
  const dialog = $("#break-dialog");
  dialog.dataset.kind = kind;
  state.breakBody = body;
  const timeout = kind === "timeout";
  $("#break-title").textContent = timeout ? `Take a break of ${label}?` : `Exclude yourself ${label === "ever" ? "for good" : `for ${label}`}?`;
  $("#break-warning").textContent = timeout
    ? `For ${label} you will not be able to bet, chat or sit at a table. It starts now, it cannot be undone or shortened, and this session ends at once.`
    : `You will not be able to bet, chat or sit at a table ${label === "ever" ? "ever again" : `for ${label}`}. It starts now and cannot be undone, not even by support. Every session ends at once. Enter your password to confirm.`;
  $("#break-password-label").hidden = timeout;
  $("#break-password").value = "";
  $("#break-error").textContent = "";
  $("#break-ok").textContent = timeout ? "Start my break" : "Exclude me";
  dialog.showModal();
  (timeout ? $("#break-cancel") : $("#break-password")).focus();
}

$("#timeout-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const select = event.currentTarget.hours;
  confirmBreak("timeout", select.selectedOptions[0].textContent, { hours: Number(select.value) });
});

$("#exclude-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const select = event.currentTarget.months;
  const body = select.value === "permanent" ? { permanent: true } : { months: Number(select.value) };
  confirmBreak("self_exclusion", select.selectedOptions[0].textContent, body);
});

$("#break-cancel").addEventListener("click", () => $("#break-dialog").close());

$("#break-confirm").addEventListener("submit", async (event) => {
  event.preventDefault();
  const dialog = $("#break-dialog");
  const kind = dialog.dataset.kind;
  const body = { ...state.breakBody };
  if (kind === "self_exclusion") {
    body.password = $("#break-password").value;
    if (!body.password) { $("#break-error").textContent = "Enter your password to confirm."; return; }
  }
  $("#break-ok").disabled = true;
  try {
    const exclusion = await api.call("POST", kind === "timeout" ? "/protection/timeout" : "/protection/self-exclusion", body);
    dialog.close();
    await api.logout();
    if (tabs) tabs.postMessage("logout");
    const until = exclusion.until ? `until ${localTime(exclusion.until)}` : "for good";
    showLoggedOut(kind === "timeout"
      ? `Your break has started and lasts ${until}. This session has ended. You can log in to see your balance and history; bets, chat and tables wait until the break is over.`
      : `You have excluded yourself ${until}. This session has ended. You can log in to see your balance and history, but not to play.`);
  } catch (error) {
    $("#break-error").textContent = describeError(error);
  } finally {
    $("#break-ok").disabled = false;
  }
});

$("#logout-everywhere").addEventListener("click", async () => {
  try {
    await api.logoutEverywhere();
  } catch (error) { if (error.status !== 401) { showError(error); return; } }
  if (tabs) tabs.postMessage("logout");
  showLoggedOut(SESSION_ENDINGS.logout_everywhere);
});

// --- tournaments ---------------------------------------------------------------------------------
// Lists by state, one tournament's rules, prize table, countdown and live standings (the socket's
// `tournament_standings`, or the places around yours), joining behind a confirmation that shows
// the fee and the prizes, and the results. Every score, rank and prize is the server's.

const METRIC_WORDS = {
  wagered: "coins wagered",
  net_win: "net winnings",
  multiplier_points: "multiplier points (2.5× scores 250)",
  best_multiplier: "best multiplier (2.5× scores 250)",
};
const LISTS = ["running", "upcoming", "finished"];
const plural = (n, word) => `${fmt(n)} ${word}${n === 1 ? "" : "s"}`;

function span(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  return `${m} min ${s % 60} s`;
}

function countdownText(period) {
  if (period.phase === "upcoming") return `Starts in ${span(Date.parse(period.starts_at) - Date.now())}`;
  if (period.phase === "running") {
    return period.ends_at ? `Ends in ${span(Date.parse(period.ends_at) - Date.now())}` : "Runs until the operators end it";
  }
  if (period.phase === "ended" || period.phase === "closing") return "Ended: the results are being counted";
  if (period.phase === "cancelled") return "Cancelled: entry fees are refunded";
  return `Ended ${when(period.ends_at)}`;
}

function feeText(t) {
  if (!t.join_required) return "Every player is in: just play";
  return t.entry_fee ? `Entry ${fmt(t.entry_fee)} coins` : "Free entry";
}

function poolText(t) {
  if (t.period.pool !== null && t.period.pool !== undefined) return `Pool: ${fmt(t.period.pool)} coins.`;
  const pool = t.prize_pool;
  if (pool.mode === "fixed") return `Pool: ${fmt(pool.amount)} coins, paid by the house.`;
  const least = pool.guaranteed ? `, at least ${fmt(pool.guaranteed)} coins` : "";
  return `Pool: the entry fees less ${pool.rake_percent}%${least}; it is fixed when the tournament closes.`;
}

function prizeRows(t) {
  return t.payouts.map((share, index) => el("tr", {}, el("td", {}, `#${index + 1}`), el("td", {}, `${share}%`)));
}

// The countdowns on screen, every second while the tab is open; a period whose time is up is read again.
function tickTournaments() {
  for (const node of $$("[data-countdown]")) {
    const period = JSON.parse(node.dataset.countdown);
    node.textContent = countdownText(period);
    const edge = period.phase === "upcoming" ? period.starts_at : period.phase === "running" ? period.ends_at : null;
    if (edge && Date.parse(edge) <= Date.now() && !node.dataset.stale) {
      node.dataset.stale = "true";
      setTimeout(() => (state.tournament ? openTournament(state.tournament.id) : loadTournaments()), 1500);
    }
  }
}

function startTournamentClock() {
  clearInterval(state.tournamentTimer);
  state.tournamentTimer = setInterval(() => {
    if ($("#pane-tournaments").hidden) clearInterval(state.tournamentTimer);
    else tickTournaments();
  }, 1000);
}

function tournamentItem(t) {
  const countdown = el("span", { class: "countdown-small", "data-countdown": JSON.stringify(t.period) }, countdownText(t.period));
  return el("li", { "data-tournament-id": String(t.id) },
    el("div", {},
      el("strong", {}, t.title),
      el("span", { class: "meta" }, ` · ${METRIC_WORDS[t.metric]} · ${feeText(t)} · ${fmt(t.period.entrants)} in · `),
      countdown),
    el("button", { type: "button", "aria-label": `Open ${t.title}`, onclick: () => openTournament(t.id) },
      t.status === "finished" ? "Results" : "Open"));
}

async function loadTournaments() {
  $("#tournament").hidden = true;
  $("#tournament-lists").hidden = false;
  try {
    const pages = await Promise.all(LISTS.map((status) => api.call("GET", `/tournaments?status=${status}&limit=20`)));
    LISTS.forEach((status, index) => {
      const items = pages[index].items;
      $(`#tournaments-${status}`).replaceChildren(...(items.length
        ? items.map(tournamentItem)
        : [el("li", { class: "empty" }, `No ${status} tournaments.`)]));
    });
  } catch (error) { showError(error); }
  startTournamentClock();
}

async function openTournament(id) {
  let t;
  try { t = await api.call("GET", `/tournaments/${id}`); } catch (error) { showError(error); return; }
  const changed = !state.tournament || state.tournament.id !== id;
  state.tournament = t;
  $("#tournament-lists").hidden = true;
  $("#tournament").hidden = false;
  $("#tournament-title").textContent = t.title;
  const games = t.game_types.join(", ");
  const schedule = t.schedule ? ` Runs on the schedule “${t.schedule}” (UTC), period ${t.period.number}.` : "";
  $("#tournament-rules").textContent = `Scores ${METRIC_WORDS[t.metric]} on ${games}, rounds of at least ${plural(t.min_bet, "coin")}; `
    + `${plural(t.min_rounds, "round")} to be ranked. ${feeText(t)}.${schedule}`;
  const countdown = $("#tournament-countdown");
  countdown.dataset.countdown = JSON.stringify(t.period);
  delete countdown.dataset.stale;
  countdown.textContent = countdownText(t.period);
  const open = t.period.phase === "upcoming" || t.period.phase === "running";
  $("#tournament-join").hidden = !(open && t.join_required && !t.entry);
  $("#tournament-join").disabled = state.excluded;
  $("#tournament-join").textContent = t.entry_fee ? `Join for ${fmt(t.entry_fee)} coins` : "Join for free";
  $("#tournament-entry").textContent = t.entry
    ? `You are in: score ${fmt(t.entry.score)}, ${t.entry.rank ? `rank #${t.entry.rank}` : "not ranked yet"}, ${plural(t.entry.rounds, "round")}.`
    : (t.join_required ? "You have not joined this one." : "Every player is in: your rounds count.");
  $("#tournament-prizes").replaceChildren(...prizeRows(t));
  $("#tournament-pool").textContent = poolText(t);
  $("#standings-around").disabled = !t.entry;
  if (!t.entry) setStandingsMode("top", false);
  if (changed && state.socket) state.socket.emit("join_tournament", { tournament_id: id });
  else refreshStandings();
  loadResults(t);
  startTournamentClock();
}

function standingsRow(row) {
  const mine = row.username === state.username;
  return el("li", { class: mine ? "me" : "", "aria-current": mine ? "true" : null, "data-username": row.username },
    el("span", { class: "rank" }, `#${row.rank}`), el("span", { class: "name" }, row.username), el("span", { class: "score" }, fmt(row.score)));
}

function drawStandings(rows) {
  $("#tournament-standings").replaceChildren(...(rows.length
    ? rows.map(standingsRow)
    : [el("li", { class: "empty" }, "Nobody is ranked yet.")]));
}

function setStandingsMode(mode, refresh = true) {
  state.standingsMode = mode;
  $("#standings-top").setAttribute("aria-pressed", String(mode === "top"));
  $("#standings-around").setAttribute("aria-pressed", String(mode === "around"));
  if (refresh) refreshStandings();
}

async function refreshStandings(pushed = null) {
  const t = state.tournament;
  if (!t) return;
  try {
    if (state.standingsMode === "around" && t.entry) {
      const page = await api.call("GET", `/tournaments/${t.id}/standings?around=me&limit=11`);
      drawStandings(page.items);
    } else {
      drawStandings(pushed || (await api.call("GET", `/tournaments/${t.id}/standings?limit=20`)).items);
    }
  } catch (error) { showError(error); }
}

function onTournamentStandings(update) {
  if (!state.tournament || update.tournament_id !== state.tournament.id) return;
  $("#tournament-standings").dataset.pushedAt = String(Date.now());
  refreshStandings(update.standings);
}

async function loadResults(t) {
  const box = $("#tournament-results-box");
  const finished = ["closing", "closed", "cancelled"].includes(t.period.phase);
  const number = finished ? t.period.number : t.period.number - 1;
  if (number < 1) { box.hidden = true; return; }
  try {
    const results = await api.call("GET", `/tournaments/${t.id}/results?period=${number}`);
    $("#tournament-results-title").textContent = finished ? "Results" : `Results of period ${number}`;
    $("#tournament-results").replaceChildren(...(results.items.length
      ? results.items.map((row) => el("tr", { class: row.username === state.username ? "me" : "" },
        el("td", {}, `#${row.rank}`), el("td", {}, row.username), el("td", {}, fmt(row.score)),
        el("td", {}, row.prize ? `${fmt(row.prize)} coins${row.paid ? "" : " (being paid)"}` : "—")))
      : [el("tr", {}, el("td", { colspan: "4" }, "Nobody was ranked: entry fees were refunded."))]));
    box.hidden = false;
  } catch (error) {
    box.hidden = true;
    if (error.code !== "period_not_closed") showError(error);
  }
}

function leaveTournament() {
  if (state.tournament && state.socket) state.socket.emit("leave_tournament", { tournament_id: state.tournament.id });
  state.tournament = null;
  loadTournaments();
}

function confirmJoin() {
  const t = state.tournament;
  if (!t) return;
  $("#join-title").textContent = `Join ${t.title}`;
  $("#join-fee").textContent = t.entry_fee
    ? `The entry fee, ${fmt(t.entry_fee)} coins, is taken from your balance now (it counts toward your wager and loss limits).`
    : "Entry is free.";
  $("#join-prizes").replaceChildren(...prizeRows(t));
  $("#join-pool").textContent = poolText(t);
  $("#join-error").textContent = "";
  $("#join-dialog").showModal();
}

$("#join-confirm").addEventListener("submit", async (event) => {
  event.preventDefault();
  const t = state.tournament;
  const button = $("#join-ok");
  button.disabled = true;
  try {
    const joined = await api.money(`join:${t.id}:${t.period.id}`, `/tournaments/${t.id}/join`);
    setBalance(joined.balance);
    $("#join-dialog").close();
    toast(`You joined ${t.title}.`, "win");
    await openTournament(t.id);
  } catch (error) {
    showError(error, $("#join-error"));
  } finally {
    button.disabled = false;
  }
});
$("#join-cancel").addEventListener("click", () => $("#join-dialog").close());
$("#tournament-join").addEventListener("click", confirmJoin);
$("#tournament-back").addEventListener("click", leaveTournament);
$("#tournaments-refresh").addEventListener("click", loadTournaments);
$("#standings-top").addEventListener("click", () => setStandingsMode("top"));
$("#standings-around").addEventListener("click", () => setStandingsMode("around"));

// --- start -------------------------------------------------------------------------------------------

$("#threshold").textContent = `big wins: ${fmt(Number(document.body.dataset.bigWinThreshold))} coins or more`;
renderBoard();
readInvite();
api.resume()
  .then((resumed) => (resumed ? enterLobby() : connectSocket()))
  .catch((error) => { showError(error); if (!api.loggedIn) showLoggedOut(); })
  .finally(() => { document.body.dataset.ready = "true"; });

