// The back office: every action is an /admin API request; the server checks the role, the
// second factor and the reason, and audits it. This page only asks first, and says what will happen.
// Text from the server is only ever set with textContent, never parsed as HTML.
"use strict";

const ACCESS_KEY = "imperio.admin.token";
const REFRESH_KEY = "imperio.admin.refresh";
const ROLES = ["player", "support", "risk", "admin"];
const DASHBOARD_EVERY_MS = 5000;
// The 401s that mean the session is over (a wrong code or password is only a refusal).
const SESSION_OVER = new Set(["authorization_required", "invalid_token", "token_expired", "token_revoked", "token_scope"]);
const state = {
  me: null, player: null, tab: null, tabCursor: null, playersCursor: null, query: "",
  auditCursor: null, chatCursor: null, approvalsCursor: null, tournamentsCursor: null,
  dashboardTimer: null, refreshTimer: null, view: null,
};

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

// --- tokens: kept in this tab only, refreshed before they expire --------------------

function storeTokens(tokens) {
  sessionStorage.setItem(ACCESS_KEY, tokens.access_token);
  if (tokens.refresh_token) sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
  clearTimeout(state.refreshTimer);
  // Refresh at four fifths of the access token's life, so a shift is never cut off mid-action.
  const seconds = Math.max(10, (tokens.expires_in || 900) * 0.8);
  state.refreshTimer = setTimeout(() => refreshTokens().catch(() => signedOut("your session ended: sign in again")), seconds * 1000);
}

let refreshing = null;
async function refreshTokens() {
  // One refresh at a time: a rotated refresh token presented twice ends the session.
  if (!refreshing) {
    refreshing = (async () => {
      const token = sessionStorage.getItem(REFRESH_KEY);
      if (!token) throw new ApiError(401, null);
      const response = await fetch("/token/refresh", { method: "POST", headers: { Authorization: `Bearer ${token}` } });
      const data = await response.json().catch(() => null);
      if (!response.ok) throw new ApiError(response.status, data);
      storeTokens(data);
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function request(method, path, body, headers) {
  const init = { method, headers: { ...headers } };
  const token = sessionStorage.getItem(ACCESS_KEY);
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(path, init);
}

async function api(method, path, body, headers = {}, retried = false) {
  const response = await request(method, path, body, headers);
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !retried && error.code === "token_expired" && sessionStorage.getItem(REFRESH_KEY)) {
      await refreshTokens();
      return api(method, path, body, headers, true);
    }
    if (response.status === 401 && SESSION_OVER.has(error.code)) signedOut("your session ended: sign in again");
    throw error;
  }
  return data;
}

function guard(action) {
  return async (event) => {
    if (event && event.preventDefault) event.preventDefault();
    try {
      await action(event);
    } catch (error) {
      status(error instanceof ApiError ? `${error.code}: ${error.message}` : String(error.message || error), "error");
    }
  };
}

// --- small DOM helpers --------------------------------------------------------------

function cell(row, value, className) {
  const td = document.createElement("td");
  if (value instanceof Node) td.append(value);
  else td.textContent = value === null || value === undefined ? "" : String(value);
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

function button(label, onClick, className = "small") {
  const node = document.createElement("button");
  node.type = "button";
  node.className = className;
  node.textContent = label;
  node.addEventListener("click", (event) => { event.stopPropagation(); guard(onClick)(); });
  return node;
}

function group(...nodes) {
  const span = document.createElement("span");
  span.className = "row";
  span.append(...nodes);
  return span;
}

function when(value) { return value ? new Date(value).toISOString().replace(".000", "").replace("T", " ") : ""; }
function percent(value) { return value === null || value === undefined ? "–" : `${(value * 100).toFixed(2)} %`; }
function coins(value) { return value === null || value === undefined ? "–" : Number(value).toLocaleString("en-US"); }
function rank(role) { return ROLES.indexOf(role); }
function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

// --- the confirmation every action goes through -------------------------------------

// fields: [{name, label, type ("number" | "select"), options, required, min}]; resolves to the values, or null if cancelled.
// reason: false for the actions whose endpoint keeps none (tournaments).
function confirmAction({ title, what, fields = [], confirm = "Confirm", reason = true }) {
  const dialog = $("#confirm");
  const form = $("#confirm-form");
  form.reason.required = reason;
  form.reason.closest("label").hidden = !reason;
  $("#confirm-title").textContent = title;
  $("#confirm-what").textContent = what;
  $("#confirm-ok").textContent = confirm;
  const holder = $("#confirm-fields");
  holder.replaceChildren();
  for (const field of fields) {
    const label = document.createElement("label");
    label.textContent = field.label;
    let input;
    if (field.type === "select") {
      input = document.createElement("select");
      for (const option of field.options) {
        const node = document.createElement("option");
        node.textContent = option;
        input.append(node);
      }
    } else {
      input = document.createElement("input");
      input.type = field.type || "text";
      if (field.type === "number") input.step = "1";
      if (field.min !== undefined) input.min = String(field.min);
    }
    input.name = field.name;
    input.required = Boolean(field.required);
    label.append(input);
    holder.append(label);
  }
  form.reset();
  return new Promise((resolve) => {
    const finish = (values) => {
      form.removeEventListener("submit", onSubmit);
      $("#confirm-cancel").removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      dialog.close();
      resolve(values);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const values = { reason: form.reason.value };
      for (const field of fields) values[field.name] = form[field.name].value;
      finish(values);
    };
    const onCancel = (event) => { if (event) event.preventDefault(); finish(null); };
    form.addEventListener("submit", onSubmit);
    $("#confirm-cancel").addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    (reason ? form.reason : form.querySelector("input, select, button")).focus();
  });
}

// --- signing in: password, then the second factor -----------------------------------

const PANES = ["#sign-in", "#enrol", "#recovery", "#verify"];

function showPane(pane) {
  for (const selector of PANES) $(selector).hidden = selector !== pane;
  $("#console").hidden = pane !== null;
  $("#nav").hidden = pane !== null;
}

function signedOut(message) {
  sessionStorage.removeItem(ACCESS_KEY);
  sessionStorage.removeItem(REFRESH_KEY);
  clearTimeout(state.refreshTimer);
  clearInterval(state.dashboardTimer);
  state.me = null;
  showPane("#sign-in");
  $("#sign-out").hidden = true;
  $("#who").textContent = "";
  if (message) status(message, "error");
}

async function afterPassword() {
  const me = await api("GET", "/admin/me");
  state.me = me;
  $("#sign-out").hidden = false;
  if (me.second_factor_required && !me.second_factor_verified) {
    if (me.second_factor_enrolled) {
      showPane("#verify");
      $("#verify-form").code.focus();
      status("enter the code from your authenticator");
    } else {
      const enrolment = await api("POST", "/admin/second-factor/enrol");
      const image = document.createElement("img");
      image.alt = "QR code of your authenticator key";
      image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}`;
      $("#enrol-qr").replaceChildren(image);
      $("#enrol-secret").textContent = enrolment.secret;
      showPane("#enrol");
      status("set up your authenticator to continue");
    }
    return;
  }
  await enter();
}

async function signIn(event) {
  const form = event.target;
  const tokens = await api("POST", "/login", { username: form.username.value, password: form.password.value });
  storeTokens(tokens);
  form.reset();
  try {
    await afterPassword();
  } catch (error) {
    signedOut();
    throw error;
  }
}

async function confirmEnrolment(event) {
  const form = event.target;
  const result = await api("POST", "/admin/second-factor/enrol/confirm", { code: form.code.value });
  storeTokens(result);
  form.reset();
  const list = $("#recovery-codes");
  list.replaceChildren();
  for (const code of result.recovery_codes) {
    const item = document.createElement("li");
    item.textContent = code;
    list.append(item);
  }
  $("#enrol-qr").replaceChildren();
  $("#enrol-secret").textContent = "";
  showPane("#recovery");
  status("authenticator set up");
}

async function verify(event) {
  const form = event.target;
  const body = form.recovery_code.value.trim() ? { recovery_code: form.recovery_code.value.trim() } : { code: form.code.value };
  storeTokens(await api("POST", "/admin/second-factor/verify", body));
  form.reset();
  await enter();
}

async function enter() {
  const me = await api("GET", "/admin/me");
  state.me = me;
  $("#who").textContent = `signed in as ${me.username} · ${me.role}`;
  $("#recovery-codes").replaceChildren();
  showPane(null);
  $("#sign-out").hidden = false;
  for (const node of document.querySelectorAll("[data-min-role]")) {
    node.hidden = rank(me.role) < rank(node.dataset.minRole);
  }
  show("dashboard");
  status("ready");
}

async function signOut() {
  try { await api("POST", "/logout"); } finally { signedOut(); status("signed out"); }
}

// --- views --------------------------------------------------------------------------

function show(view) {
  state.view = view;
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
  for (const item of document.querySelectorAll("#nav button")) item.setAttribute("aria-pressed", String(item.dataset.view === view));
  clearInterval(state.dashboardTimer);
  const load = { dashboard: loadDashboard, audit: () => loadAudit(false), chat: () => loadChat(false),
    approvals: () => loadApprovals(false), tournaments: () => loadTournaments(false) }[view];
  if (load) guard(load)();
  if (view === "dashboard") {
    state.dashboardTimer = setInterval(() => {
      if (!document.hidden && state.view === "dashboard") loadDashboard().catch(() => {});
    }, DASHBOARD_EVERY_MS);
  }
}

// --- dashboard ----------------------------------------------------------------------

async function loadDashboard() {
  const data = await api("GET", "/admin/dashboard");
  $("#dash-at").textContent = when(data.at).slice(11);
  $("#kpi-rounds").textContent = coins(data.today.rounds);
  // The average over the last five minutes: the current minute alone reads 0 just after it starts.
  const since = Date.parse(data.at) - 5 * 60000;
  const recent = data.rounds_per_minute.filter((p) => Date.parse(p.at) + 60000 > since).reduce((sum, p) => sum + p.rounds, 0);
  $("#kpi-rpm").textContent = (recent / 5).toFixed(1);
  $("#kpi-wagered").textContent = coins(data.today.wagered);
  $("#kpi-paid").textContent = coins(data.today.paid);
  $("#kpi-ggr").textContent = coins(data.today.gross_gaming_revenue);
  $("#kpi-active").textContent = String(data.active_players);
  $("#kpi-sockets").textContent = String(data.sockets);
  $("#kpi-errors").textContent = percent(data.error_rate);
  const alerts = $("#alerts");
  alerts.replaceChildren();
  for (const alert of data.alerts) {
    const item = document.createElement("li");
    item.dataset.kind = alert.kind;
    item.textContent = alert.message;
    alerts.append(item);
  }
  Charts.bars($("#chart-rpm"), data.rounds_per_minute);
  Charts.rtp($("#chart-rtp"), data.rtp_series, data.published_rtp);
  fillTable($("#rtp-table"), data.rtp_today, ["game_type", "rounds", "wagered", "paid",
    (g) => percent(g.rtp), (g) => percent(g.published_rtp), (g) => percent(g.difference)]);
  fillTable($("#wins-table"), data.biggest_wins, ["round_id", "username", "game_type", "bet", "payout", "net", (w) => when(w.settled_at)]);
}

async function ledgerCheck() {
  const result = await api("POST", "/admin/ledger/check");
  $("#ledger-result").textContent = result.ok
    ? `all ${result.players_checked} balances match their ledgers`
    : `${result.offenders.length} of ${result.players_checked} balances do not match their ledgers`;
  $("#offenders-table").hidden = result.ok;
  fillTable($("#offenders-table"), result.offenders, ["user_id", "username", "balance", "ledger_sum"]);
  await loadDashboard();
}

// --- players ------------------------------------------------------------------------

const PLAYER_COLUMNS = ["id", "username", "email", (p) => coins(p.balance), "role",
  (p) => [p.suspended_at ? "locked" : "", p.ranking_excluded ? "unranked" : ""].filter(Boolean).join(", ")];

async function findPlayers(event, append = false) {
  if (!append) state.query = $("#find-form").q.value.trim();
  const params = new URLSearchParams({ limit: "20" });
  if (state.query) params.set("q", state.query);
  if (append && state.playersCursor) params.set("cursor", state.playersCursor);
  const page = await api("GET", `/admin/players?${params}`);
  fillTable($("#players-table"), page.items, PLAYER_COLUMNS, (item) => openPlayer(item.id), append);
  state.playersCursor = page.next_cursor;
  $("#players-more").hidden = page.next_cursor === null;
  status(`${$("#players-table tbody").children.length} player(s)`);
}

function badge(text, bad) {
  const node = document.createElement("span");
  node.className = bad ? "badge bad" : "badge";
  node.textContent = text;
  return node;
}

async function openPlayer(id, tab = "profile") {
  const player = await api("GET", `/admin/players/${id}`);
  state.player = player;
  $("#player").hidden = false;
  $("#player-title").textContent = `#${player.id} ${player.username}`;
  const badges = [badge(player.role)];
  if (player.suspended_at) badges.push(badge("locked", true));
  if (player.ranking_excluded) badges.push(badge("excluded from rankings", true));
  if (!player.protection.may_play) badges.push(badge("may not play", true));
  if (player.sanctions.some((s) => s.active)) badges.push(badge("chat sanction", true));
  $("#player-badges").replaceChildren(...badges);
  await showTab(tab);
}

const TABS = {
  ledger: {
    path: "ledger", paged: true,
    head: ["id", "type", "amount", "balance after", "game", "round", "time"],
    columns: ["id", "type", "amount", "balance_after", "game_type", "round_id", (r) => when(r.created_at)],
  },
  rounds: {
    path: "rounds", paged: true,
    head: ["id", "game", "status", "bet", "payout", "net", "time"],
    columns: ["id", "game_type", "status", "bet", "payout", "net", (r) => when(r.created_at)],
    onClick: (round) => recall(round.id),
  },
  sessions: {
    path: "sessions",
    head: ["id", "started", "last used", "expires", "address", "device"],
    columns: ["id", (s) => when(s.created_at), (s) => when(s.last_used_at), (s) => when(s.expires_at), "client_address", "user_agent"],
  },
  sanctions: {
    path: "sanctions",
    head: ["id", "kind", "until", "state", "given"],
    columns: ["id", "kind", (s) => when(s.expires_at) || "for good", (s) => (s.active ? "in force" : "over"), (s) => when(s.created_at)],
  },
};

function table(id, head) {
  const node = document.createElement("table");
  node.id = id;
  const thead = document.createElement("thead");
  const row = document.createElement("tr");
  for (const name of head) {
    const th = document.createElement("th");
    th.textContent = name;
    row.append(th);
  }
  thead.append(row);
  node.append(thead, document.createElement("tbody"));
  return node;
}

function facts(rows) {
  const list = document.createElement("dl");
  for (const [term, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value === null || value === undefined ? "" : String(value);
    dd.dataset.fact = term;
    list.append(dt, dd);
  }
  return list;
}

async function showTab(tab, append = false) {
  for (const item of document.querySelectorAll(".tabs button")) item.setAttribute("aria-pressed", String(item.dataset.tab === tab));
  $("#round-detail").hidden = true;
  state.tab = tab;
  const player = state.player;
  const holder = $("#player-tab");
  $("#tab-more").hidden = true;
  if (tab === "profile") {
    const p = player.protection;
    holder.replaceChildren(facts([
      ["email", player.email], ["role", player.role], ["balance", coins(player.balance)],
      ["joined", when(player.created_at)], ["last login", when(player.last_login_at)],
      ["suspended since", when(player.suspended_at)], ["rankings", player.ranking_excluded ? "excluded" : "included"],
      ["may play", p.may_play ? "yes" : "no"],
      ["exclusion", p.exclusion ? `${p.exclusion.kind} until ${when(p.exclusion.until) || "for good"}` : ""],
      ["chat sanctions in force", player.sanctions.filter((s) => s.active).map((s) => s.kind).join(", ")],
    ]));
    return;
  }
  if (tab === "limits") {
    const p = await api("GET", `/admin/players/${player.id}/limits`);
    const history = await api("GET", `/admin/players/${player.id}/limits/history?limit=20`);
    const limits = table("tab-limits", ["kind", "period", "amount", "used", "resets", "pending", "pending from"]);
    fillTable(limits, p.limits, ["kind", "period", "amount", "used", (l) => when(l.resets_at), "pending_amount", (l) => when(l.pending_at)]);
    const changes = table("tab-limit-history", ["time", "kind", "period", "from", "to", "effective"]);
    fillTable(changes, history.items, [(c) => when(c.created_at), "kind", "period", "previous", "requested", (c) => when(c.effective_at)]);
    const heading = document.createElement("h4");
    heading.textContent = "Limit changes";
    holder.replaceChildren(facts([
      ["may play", p.may_play ? "yes" : "no"],
      ["exclusion", p.exclusion ? `${p.exclusion.kind} until ${when(p.exclusion.until) || "for good"}` : "none"],
      ["reality check", p.reality_check ? `every ${p.reality_check.interval_minutes} minutes` : "off"],
    ]), limits, heading, changes);
    return;
  }
  if (tab === "tournaments") {
    const running = await api("GET", "/tournaments?limit=50");
    const list = table("tab-tournaments", ["id", "title", "status", "period", "entrants"]);
    fillTable(list, running.items, ["id", "title", "status", (t) => t.period.number, (t) => t.period.entrants]);
    const note = document.createElement("p");
    note.className = "muted";
    note.textContent = player.ranking_excluded
      ? "Excluded from rankings: left out of leaderboards and tournament standings and prizes (rounds still count for their own play)."
      : "Included in rankings. Use Exclude from rankings below to leave this player out of leaderboards and tournaments.";
    holder.replaceChildren(note, list);
    return;
  }
  const spec = TABS[tab];
  const params = new URLSearchParams();
  let items;
  if (spec.paged) {
    params.set("limit", "50");
    if (append && state.tabCursor) params.set("cursor", state.tabCursor);
    const page = await api("GET", `/admin/players/${player.id}/${spec.path}?${params}`);
    items = page.items;
    state.tabCursor = page.next_cursor;
    $("#tab-more").hidden = page.next_cursor === null;
  } else {
    items = await api("GET", `/admin/players/${player.id}/${spec.path}`);
  }
  let node = $(`#tab-${tab}`);
  if (!append || !node) {
    node = table(`tab-${tab}`, spec.head);
    holder.replaceChildren(node);
  }
  fillTable(node, items, spec.columns, spec.onClick, append);
}

async function recall(roundId) {
  const round = await api("GET", `/admin/players/${state.player.id}/rounds/${roundId}`);
  const detail = $("#round-detail");
  detail.textContent = JSON.stringify(round, null, 2);
  detail.hidden = false;
}

// What each player action does, said before it is done: [title, what, role, fields].
function describe(act, player) {
  const who = `${player.username} (#${player.id})`;
  return {
    "sessions/end": ["End sessions", `End every session of ${who} now: their access, refresh and game tokens stop working and their sockets are disconnected.`, "support"],
    "lockout/reset": ["Reset login lockout", `Forget the failed logins counted against ${who}: their next login with the right password succeeds.`, "support"],
    lock: ["Lock account", `Suspend ${who}: every session ends now, and login, token refresh and every bet are refused until the account is unlocked.`, "risk"],
    unlock: ["Unlock account", `Lift the operator's suspension of ${who}: they may log in and play again.`, "risk"],
    "exclusion/lift": ["Lift exclusion", `End the time-out or self-exclusion of ${who} made within the cooling-off window (24 hours). Only for one made in error.`, "risk"],
    "rankings/exclude": ["Exclude from rankings", `Leave ${who} out of every leaderboard and tournament standing, and out of prizes of periods that close meanwhile, until included again.`, "risk"],
    "rankings/include": ["Include in rankings", `Show ${who} on leaderboards and tournament standings again.`, "risk"],
    "chat/mute": ["Mute in chat", `${who} may not send chat messages for the minutes you give.`, "support",
      [{ name: "minutes", label: "Minutes", type: "number", min: 1, required: true }]],
    "chat/ban": ["Ban from chat", `${who} leaves every chat room at once and may not join one, for the minutes you give or for good.`, "risk",
      [{ name: "minutes", label: "Minutes (empty: for good)", type: "number", min: 1 }]],
    "chat/unmute": ["Unmute", `Lift every chat mute of ${who}.`, "support"],
    "chat/unban": ["Unban", `Lift every chat ban of ${who}.`, "risk"],
    adjust: ["Adjust balance", `Credit (positive) or debit (negative) the balance of ${who} (now ${coins(player.balance)} coins) through the ledger. Past the approval threshold, or on your own account, it waits for a second admin.`, "admin",
      [{ name: "amount", label: "Amount (signed coins)", type: "number", required: true }]],
    role: ["Change role", `Give ${who} (now ${player.role}) an operator role, or remove it with player. Takes effect on their next request.`, "admin",
      [{ name: "role", label: "Role", type: "select", options: ROLES }]],
    "second-factor/reset": ["Reset second factor", `Clear the authenticator of ${who}: they set up a new one at their next sign-in.`, "admin"],
  }[act];
}

async function playerAction(act) {
  const player = state.player;
  const [title, what, role, fields] = describe(act, player);
  const note = rank(state.me.role) < rank(role) ? ` (needs the role ${role}: the server will refuse it for you)` : "";
  const values = await confirmAction({ title, what: what + note, fields, confirm: title });
  if (!values) return status("cancelled");
  const body = { reason: values.reason };
  let path = `/admin/players/${player.id}/${act}`;
  const headers = {};
  if (act === "adjust") {
    const amount = Number(values.amount);
    if (!Number.isInteger(amount) || amount === 0) throw new Error("the amount must be a non-zero whole number");
    body.amount = amount;
    path = `/admin/players/${player.id}/adjustments`;
    headers["Idempotency-Key"] = newKey();
  }
  if (values.minutes) body.minutes = Number(values.minutes);
  if (values.role) body.role = values.role;
  const result = await api("POST", path, body, headers);
  if (result && result.pending_id) {
    status(`adjustment of ${result.amount} is waiting for a second admin (request #${result.pending_id}, audit #${result.audit_id})`);
  } else if (act === "adjust") {
    status(`adjusted by ${result.amount}: balance ${result.balance} (audit #${result.audit_id})`);
  } else {
    status(`${title}: done (audit #${result.audit_id})`);
  }
  await openPlayer(player.id, state.tab || "profile");
}

// --- chat ---------------------------------------------------------------------------

async function loadChat(append) {
  const params = new URLSearchParams({ limit: "50" });
  const room = $("#chat-filter").room.value;
  if (room) params.set("room", room);
  if (append && state.chatCursor) params.set("cursor", state.chatCursor);
  const page = await api("GET", `/admin/chat/messages?${params}`);
  fillTable($("#chat-table"), page.items, [(m) => when(m.created_at), "room", "username", "message",
    (m) => group(
      button("Mute", () => moderate(m, "chat/mute")),
      button("Ban", () => moderate(m, "chat/ban")),
      button("Player", () => { show("players"); return openPlayer(m.user_id); }),
    )], null, append);
  state.chatCursor = page.next_cursor;
  $("#chat-more").hidden = page.next_cursor === null;
}

async function moderate(message, act) {
  // The player behind the message, as the player page would act on them.
  state.player = { id: message.user_id, username: message.username, balance: null, role: "" };
  const [title, what, role, fields] = describe(act, state.player);
  const note = rank(state.me.role) < rank(role) ? ` (needs the role ${role})` : "";
  const values = await confirmAction({ title, what: `${what} Message: “${message.message}”${note}`, fields, confirm: title });
  if (!values) return status("cancelled");
  const body = { reason: values.reason };
  if (values.minutes) body.minutes = Number(values.minutes);
  const result = await api("POST", `/admin/players/${message.user_id}/${act}`, body);
  status(`${title} ${message.username}: done (audit #${result.audit_id})`);
}

// --- approvals ----------------------------------------------------------------------

async function loadApprovals(append) {
  const params = new URLSearchParams({ limit: "50" });
  const chosen = $("#approvals-filter").status.value;
  if (chosen) params.set("status", chosen);
  if (append && state.approvalsCursor) params.set("cursor", state.approvalsCursor);
  const page = await api("GET", `/admin/adjustments?${params}`);
  fillTable($("#approvals-table"), page.items, ["id", "username", "amount", "reason", "requested_by_username",
    (a) => when(a.requested_at), (a) => (a.status === "pending" ? "pending" : `${a.status} by ${a.decided_by_username}`),
    (a) => (a.status !== "pending" ? "" : group(button("Approve", () => decide(a, "approve")), button("Reject", () => decide(a, "reject"))))],
  null, append);
  state.approvalsCursor = page.next_cursor;
  $("#approvals-more").hidden = page.next_cursor === null;
}

async function decide(request, decision) {
  const what = decision === "approve"
    ? `Write the adjustment of ${request.amount} coins to ${request.username}'s balance now, through the ledger (asked by ${request.requested_by_username}: “${request.reason}”).`
    : `Refuse the adjustment of ${request.amount} coins to ${request.username}; nothing moves.`;
  const title = decision === "approve" ? "Approve adjustment" : "Reject adjustment";
  const values = await confirmAction({ title, what, confirm: title });
  if (!values) return status("cancelled");
  const result = await api("POST", `/admin/adjustments/${request.id}/${decision}`, { reason: values.reason });
  status(decision === "approve" ? `approved: balance ${result.balance} (audit #${result.audit_id})` : `rejected (audit #${result.audit_id})`);
  await loadApprovals(false);
}

// --- tournaments --------------------------------------------------------------------

async function loadTournaments(append) {
  const params = new URLSearchParams({ limit: "20" });
  if (append && state.tournamentsCursor) params.set("cursor", state.tournamentsCursor);
  const page = await api("GET", `/tournaments?${params}`);
  fillTable($("#tournaments-table"), page.items, ["id", "title", "metric", "status", (t) => `${t.period.number} (${t.period.phase})`,
    (t) => t.period.entrants,
    (t) => group(
      button("Check", () => checkTournament(t)),
      button("Rounds", () => changeRounds(t)),
      button("End now", () => tournamentAction(t, "end")),
      button("Cancel", () => tournamentAction(t, "cancel")),
    )], null, append);
  state.tournamentsCursor = page.next_cursor;
  $("#tournaments-more").hidden = page.next_cursor === null;
}

async function checkTournament(tournament) {
  const result = await api("GET", `/admin/tournaments/${tournament.id}/check`);
  const out = $("#tournament-check");
  out.textContent = `${tournament.title}: ${result.ok ? "standings match the rounds" : "standings differ from the rounds"}\n${JSON.stringify(result, null, 2)}`;
  out.hidden = false;
}

async function tournamentAction(tournament, act) {
  const what = act === "end"
    ? `End the running period of “${tournament.title}” now: standings become final and prizes are paid once.`
    : `Cancel “${tournament.title}”: no more periods, and every entry fee of the current period is refunded.`;
  const title = act === "end" ? "End tournament period" : "Cancel tournament";
  const values = await confirmAction({ title, what, confirm: title, reason: false });
  if (!values) return status("cancelled");
  const result = await api("POST", `/admin/tournaments/${tournament.id}/${act}`);
  status(`${title}: done (audit #${result.audit_id})`);
  await loadTournaments(false);
}

async function changeRounds(tournament) {
  const values = await confirmAction({
    title: "Change rounds",
    what: `Set how many rounds count per entrant in “${tournament.title}” (now ${tournament.max_rounds || "no limit"}), and how many rank them (now ${tournament.min_rounds}). Only before it starts.`,
    fields: [
      { name: "max_rounds", label: "Rounds that count (empty: no limit)", type: "number", min: 1 },
      { name: "min_rounds", label: "Rounds to be ranked", type: "number", min: 1, required: true },
    ],
    confirm: "Change",
    reason: false,
  });
  if (!values) return status("cancelled");
  const body = { min_rounds: Number(values.min_rounds), max_rounds: values.max_rounds ? Number(values.max_rounds) : null };
  await api("PATCH", `/admin/tournaments/${tournament.id}`, body);
  status(`rounds of ${tournament.title} changed`);
  await loadTournaments(false);
}

function tournamentBody(form) {
  const number = (name) => (form[name].value === "" ? undefined : Number(form[name].value));
  const body = {
    title: form.title.value,
    metric: form.metric.value,
    starts_at: form.starts_at.value ? `${form.starts_at.value}:00Z` : undefined,
    join_required: form.join_required.checked,
    entry_fee: number("entry_fee"),
    prize_pool: { mode: "fixed", amount: number("prize") || 0 },
  };
  if (number("duration_minutes")) body.duration_seconds = number("duration_minutes") * 60;
  if (number("repeat_minutes")) body.repeat_every_seconds = number("repeat_minutes") * 60;
  if (number("repeat_count")) body.repeat_count = number("repeat_count");
  if (number("max_rounds")) body.max_rounds = number("max_rounds");
  if (!body.join_required) delete body.entry_fee;
  return body;
}

let previewTimer = null;
function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => preview().catch(() => {}), 300);
}

async function preview() {
  const form = $("#tournament-form");
  const list = $("#tournament-preview");
  if (!form.title.value || !form.starts_at.value) return;
  let result;
  try {
    result = await api("POST", "/admin/tournaments/preview", tournamentBody(form));
  } catch (error) {
    const item = document.createElement("li");
    item.textContent = error.status === 404 || error.status === 405 ? "the schedule preview is not available on this server" : `${error.code}: ${error.message}`;
    list.replaceChildren(item);
    return;
  }
  list.replaceChildren(...result.periods.map((period) => {
    const item = document.createElement("li");
    item.textContent = `period ${period.index}: ${when(period.starts_at)} → ${period.ends_at ? when(period.ends_at) : "until ended"}`;
    return item;
  }));
}

async function createTournament(event) {
  const form = event.target;
  const body = tournamentBody(form);
  const values = await confirmAction({
    title: "Create tournament",
    what: `Create “${body.title}” (${body.metric}), starting ${when(body.starts_at)}${body.repeat_every_seconds ? `, repeating every ${body.repeat_every_seconds / 60} minutes` : ""}.`,
    confirm: "Create",
    reason: false,
  });
  if (!values) return status("cancelled");
  const created = await api("POST", "/admin/tournaments", body, { "Idempotency-Key": newKey() });
  status(`tournament #${created.id} created`);
  form.reset();
  await loadTournaments(false);
}

// --- audit --------------------------------------------------------------------------

function auditParams() {
  const form = $("#audit-filter");
  const params = new URLSearchParams();
  for (const name of ["admin_id", "target_user_id", "action"]) {
    if (form[name].value.trim()) params.set(name, form[name].value.trim());
  }
  return params;
}

async function loadAudit(append) {
  const params = auditParams();
  params.set("limit", "50");
  if (append && state.auditCursor) params.set("cursor", state.auditCursor);
  const page = await api("GET", `/admin/audit?${params}`);
  fillTable($("#audit-table"), page.items, [(a) => when(a.created_at), "admin_username", "action",
    (a) => a.target_username || "", "reason", (a) => (a.details ? JSON.stringify(a.details) : "")], null, append);
  state.auditCursor = page.next_cursor;
  $("#audit-more").hidden = page.next_cursor === null;
}

async function exportAudit() {
  let response = await request("GET", `/admin/audit/export?${auditParams()}`);
  if (response.status === 401) {
    await refreshTokens();
    response = await request("GET", `/admin/audit/export?${auditParams()}`);
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = "audit.csv";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  status("audit exported");
}

// --- wiring -------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("#sign-in-form").addEventListener("submit", guard(signIn));
  $("#enrol-form").addEventListener("submit", guard(confirmEnrolment));
  $("#verify-form").addEventListener("submit", guard(verify));
  $("#recovery-done").addEventListener("click", guard(enter));
  $("#sign-out").addEventListener("click", guard(signOut));
  for (const item of document.querySelectorAll("#nav button")) item.addEventListener("click", () => show(item.dataset.view));
  for (const item of document.querySelectorAll(".tabs button")) item.addEventListener("click", guard(() => showTab(item.dataset.tab)));
  for (const item of document.querySelectorAll("[data-act]")) item.addEventListener("click", guard(() => playerAction(item.dataset.act)));
  $("#tab-more").addEventListener("click", guard(() => showTab(state.tab, true)));
  $("#find-form").addEventListener("submit", guard((event) => findPlayers(event, false)));
  $("#players-more").addEventListener("click", guard((event) => findPlayers(event, true)));
  $("#ledger-check").addEventListener("click", guard(ledgerCheck));
  $("#chat-filter").addEventListener("submit", guard(() => loadChat(false)));
  $("#chat-more").addEventListener("click", guard(() => loadChat(true)));
  $("#approvals-filter").addEventListener("submit", guard(() => loadApprovals(false)));
  $("#approvals-more").addEventListener("click", guard(() => loadApprovals(true)));
  $("#tournaments-more").addEventListener("click", guard(() => loadTournaments(true)));
  $("#tournament-form").addEventListener("submit", guard(createTournament));
  $("#tournament-form").addEventListener("input", schedulePreview);
  $("#audit-filter").addEventListener("submit", guard(() => loadAudit(false)));
  $("#audit-more").addEventListener("click", guard(() => loadAudit(true)));
  $("#audit-export").addEventListener("click", guard(exportAudit));
  if (sessionStorage.getItem(ACCESS_KEY)) guard(afterPassword)();
  else showPane("#sign-in");
  document.body.dataset.ready = "true";
});
