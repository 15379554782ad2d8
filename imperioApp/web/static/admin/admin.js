// The admin console: every action is an /admin API request; the server checks and audits it.
// Text from the server is only ever set with textContent, never parsed as HTML.
"use strict";

const TOKEN_KEY = "imperio.admin.token";
const state = { player: null, playersCursor: null, query: "", auditCursor: null };

function $(selector, root = document) { return root.querySelector(selector); }

function status(message, kind = "ok") {
  const line = $("#status");
  line.textContent = message;
  line.className = kind;
}

class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `request failed (${status})`);
    this.status = status;
    this.code = error.code || "error";
  }
}

async function api(method, path, body, headers = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) signedOut("your session ended: sign in again");
    throw new ApiError(response.status, data);
  }
  return data;
}

function guard(action) {
  return async (event) => {
    if (event) event.preventDefault();
    try {
      await action(event);
    } catch (error) {
      status(error instanceof ApiError ? `${error.code}: ${error.message}` : String(error), "error");
    }
  };
}

function cell(row, value, className) {
  const td = document.createElement("td");
  td.textContent = value === null || value === undefined ? "" : String(value);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fillTable(table, items, columns, onClick, append = false) {
  const body = $("tbody", table);
  if (!append) body.replaceChildren();
  for (const item of items) {
    const row = document.createElement("tr");
    for (const column of columns) {
      const value = typeof column === "function" ? column(item) : item[column];
      cell(row, value, typeof value === "number" && value < 0 ? "negative" : undefined);
    }
    if (onClick) {
      row.classList.add("clickable");
      row.addEventListener("click", guard(() => onClick(item)));
    }
    body.appendChild(row);
  }
}

function when(value) { return value ? new Date(value).toISOString().replace(".000", "") : ""; }
function percent(value) { return value === null || value === undefined ? "–" : `${(value * 100).toFixed(4)} %`; }

// --- signing in ---------------------------------------------------------------------

function signedOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  $("#console").hidden = true;
  $("#sign-in").hidden = false;
  $("#sign-out").hidden = true;
  $("#who").textContent = "";
  if (message) status(message, "error");
}

async function enter() {
  // The audit trail answers only admins: the stored role decides, not this page.
  await api("GET", "/admin/audit?limit=1");
  const profile = await api("GET", "/profile");
  $("#who").textContent = `signed in as ${profile.username}`;
  $("#sign-in").hidden = true;
  $("#console").hidden = false;
  $("#sign-out").hidden = false;
  show("players");
  status("ready");
}

async function signIn(event) {
  const form = event.target;
  const tokens = await api("POST", "/login", { username: form.username.value, password: form.password.value });
  sessionStorage.setItem(TOKEN_KEY, tokens.access_token);
  form.reset();
  try {
    await enter();
  } catch (error) {
    signedOut();
    throw error;
  }
}

async function signOut() {
  try { await api("POST", "/logout"); } finally { signedOut(); status("signed out"); }
}

// --- views --------------------------------------------------------------------------

function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
  for (const button of document.querySelectorAll("nav button")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === view));
  }
  if (view === "audit") loadAudit(false).catch((error) => status(error.message, "error"));
  if (view === "integrity") loadIntegrity().catch((error) => status(error.message, "error"));
}

// --- players ------------------------------------------------------------------------

const PLAYER_COLUMNS = ["id", "username", "email", "balance", "role", (p) => (p.suspended_at ? "yes" : "")];

async function findPlayers(event, append = false) {
  if (!append) state.query = $("#find-form").q.value.trim();
  const params = new URLSearchParams({ limit: "20" });
  if (state.query) params.set("q", state.query);
  if (append && state.playersCursor) params.set("cursor", state.playersCursor);
  const page = await api("GET", `/admin/players?${params}`);
  fillTable($("#players-table"), page.items, PLAYER_COLUMNS, (item) => openPlayer(item.id), append);
  state.playersCursor = page.next_cursor;
  $("#players-more").hidden = page.next_cursor === null;
  status(`${page.items.length} player(s)`);
}

async function openPlayer(id) {
  const player = await api("GET", `/admin/players/${id}`);
  state.player = player;
  $("#player").hidden = false;
  $("#player-title").textContent = `#${player.id} ${player.username}`;
  const facts = $("#player-facts");
  facts.replaceChildren();
  const protection = player.protection;
  const rows = [
    ["email", player.email], ["role", player.role], ["balance", player.balance],
    ["joined", when(player.created_at)], ["last login", when(player.last_login_at)],
    ["failed logins", player.failed_logins], ["login lockout until", when(player.locked_until)],
    ["suspended since", when(player.suspended_at)], ["may play", protection.may_play ? "yes" : "no"],
    ["exclusion", protection.exclusion ? `${protection.exclusion.kind} until ${when(protection.exclusion.until) || "for good"}` : ""],
    ["chat sanctions in force", player.sanctions.filter((s) => s.active).map((s) => s.kind).join(", ")],
  ];
  for (const [term, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value === null || value === undefined ? "" : String(value);
    dd.dataset.fact = term;
    facts.append(dt, dd);
  }
  await showTab("ledger");
}

async function showTab(tab) {
  for (const button of document.querySelectorAll(".tabs button")) {
    button.setAttribute("aria-pressed", String(button.dataset.tab === tab));
  }
  $("#round-detail").hidden = true;
  const id = state.player.id;
  const holder = $("#player-tab");
  const table = document.createElement("table");
  const head = document.createElement("thead");
  const headRow = document.createElement("tr");
  table.append(head, document.createElement("tbody"));
  head.appendChild(headRow);
  let columns, items, onClick;
  if (tab === "ledger") {
    items = (await api("GET", `/admin/players/${id}/ledger?limit=50`)).items;
    columns = ["id", "type", "amount", "balance_after", "game_type", "round_id", (r) => when(r.created_at)];
  } else if (tab === "rounds") {
    items = (await api("GET", `/admin/players/${id}/rounds?limit=50`)).items;
    columns = ["id", "game_type", "status", "bet", "payout", "net", (r) => when(r.created_at)];
    onClick = (round) => recall(round.id);
  } else if (tab === "statistics") {
    const stats = await api("GET", `/admin/players/${id}/statistics`);
    items = [{ game: "all", ...stats.overall }, ...Object.entries(stats.games).map(([game, s]) => ({ game, ...s }))];
    columns = ["game", "games_played", "games_won", "total_wagered", "total_won", "net", "biggest_win"];
  } else if (tab === "limits") {
    const protection = await api("GET", `/admin/players/${id}/limits`);
    items = protection.limits;
    columns = ["kind", "period", "amount", "used", (l) => when(l.resets_at), "pending_amount", (l) => when(l.pending_at)];
  } else if (tab === "sessions") {
    items = await api("GET", `/admin/players/${id}/sessions`);
    columns = ["id", (s) => when(s.created_at), (s) => when(s.last_used_at), (s) => when(s.expires_at), "client_address", "user_agent"];
  } else {
    items = await api("GET", `/admin/players/${id}/sanctions`);
    columns = ["id", "kind", (s) => when(s.expires_at) || "for good", (s) => (s.active ? "in force" : "over"), (s) => when(s.created_at)];
  }
  const names = {
    ledger: ["id", "type", "amount", "balance after", "game", "round", "time"],
    rounds: ["id", "game", "status", "bet", "payout", "net", "time"],
    statistics: ["game", "played", "won", "wagered", "paid", "net", "biggest win"],
    limits: ["kind", "period", "amount", "used", "resets", "pending", "pending from"],
    sanctions: ["id", "kind", "until", "state", "given"],
    sessions: ["id", "started", "last used", "expires", "address", "device"],
  }[tab];
  for (const name of names) {
    const th = document.createElement("th");
    th.textContent = name;
    headRow.appendChild(th);
  }
  table.id = `tab-${tab}`;
  fillTable(table, items, columns, onClick);
  holder.replaceChildren(table);
}

async function recall(roundId) {
  const round = await api("GET", `/admin/players/${state.player.id}/rounds/${roundId}`);
  const detail = $("#round-detail");
  detail.textContent = JSON.stringify(round, null, 2);
  detail.hidden = false;
}

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

async function adjust(event) {
  const form = event.target;
  const amount = Number(form.amount.value);
  if (!Number.isInteger(amount) || amount === 0) throw new Error("the amount must be a non-zero whole number");
  const result = await api("POST", `/admin/players/${state.player.id}/adjustments`,
    { amount, reason: form.reason.value }, { "Idempotency-Key": newKey() });
  form.reset();
  status(`adjusted by ${result.amount}: balance ${result.balance} (audit #${result.audit_id})`);
  await openPlayer(state.player.id);
}

async function accountAction(event) {
  const form = event.target;
  const action = event.submitter.dataset.action;
  const result = await api("POST", `/admin/players/${state.player.id}/${action}`, { reason: form.reason.value });
  form.reset();
  status(`${action}: done (audit #${result.audit_id})`);
  await openPlayer(state.player.id);
}

async function chatAction(event) {
  const form = event.target;
  const action = event.submitter.dataset.action;
  const body = { reason: form.reason.value };
  if (action === "mute" || (action === "ban" && form.minutes.value)) body.minutes = Number(form.minutes.value);
  const result = await api("POST", `/admin/players/${state.player.id}/chat/${action}`, body);
  form.reset();
  status(`chat ${action}: done (audit #${result.audit_id})`);
  await openPlayer(state.player.id);
}

// --- integrity and audit ------------------------------------------------------------

function periodParams(form) {
  const params = new URLSearchParams();
  for (const name of ["from", "to"]) {
    if (form[name].value) params.set(name, `${form[name].value}:00Z`);
  }
  return params;
}

async function loadIntegrity(event) {
  const params = periodParams($("#rtp-form"));
  const report = await api("GET", `/admin/games/rtp?${params}`);
  fillTable($("#rtp-table"), report.games, ["game_type", "rounds", "wagered", "paid",
    (g) => percent(g.rtp), (g) => percent(g.published_rtp), (g) => percent(g.difference)]);
  params.set("limit", "20");
  const wins = await api("GET", `/admin/games/biggest-wins?${params}`);
  fillTable($("#wins-table"), wins, ["round_id", "username", "game_type", "bet", "payout", "net", (w) => when(w.settled_at)]);
  if (event) status("integrity figures updated");
}

async function ledgerCheck() {
  const result = await api("POST", "/admin/ledger/check");
  $("#ledger-result").textContent = result.ok
    ? `all ${result.players_checked} balances match their ledgers`
    : `${result.offenders.length} of ${result.players_checked} balances do not match their ledgers`;
  $("#offenders-table").hidden = result.ok;
  fillTable($("#offenders-table"), result.offenders, ["user_id", "username", "balance", "ledger_sum"]);
}

async function loadAudit(append) {
  const params = new URLSearchParams({ limit: "50" });
  if (append && state.auditCursor) params.set("cursor", state.auditCursor);
  const page = await api("GET", `/admin/audit?${params}`);
  fillTable($("#audit-table"), page.items, [(a) => when(a.created_at), "admin_username", "action",
    (a) => a.target_username || "", "reason", "request_id"], null, append);
  state.auditCursor = page.next_cursor;
  $("#audit-more").hidden = page.next_cursor === null;
}

// --- wiring -------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("#sign-in-form").addEventListener("submit", guard(signIn));
  $("#sign-out").addEventListener("click", guard(signOut));
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => show(button.dataset.view));
  }
  for (const button of document.querySelectorAll(".tabs button")) {
    button.addEventListener("click", guard(() => showTab(button.dataset.tab)));
  }
  $("#find-form").addEventListener("submit", guard((event) => findPlayers(event, false)));
  $("#players-more").addEventListener("click", guard((event) => findPlayers(event, true)));
  $("#adjust-form").addEventListener("submit", guard(adjust));
  $("#account-form").addEventListener("submit", guard(accountAction));
  $("#chat-form").addEventListener("submit", guard(chatAction));
  $("#rtp-form").addEventListener("submit", guard(loadIntegrity));
  $("#ledger-check").addEventListener("click", guard(ledgerCheck));
  $("#audit-more").addEventListener("click", guard(() => loadAudit(true)));
  if (sessionStorage.getItem(TOKEN_KEY)) guard(enter)();
});
