// The JSON API from the page. The refresh token never reaches this script: it lives in an
// HttpOnly, SameSite=Strict cookie scoped to /session. Each tab holds only its own short-lived
// access token (sessionStorage), got from POST /session/refresh, so a new tab or a reload stays
// logged in. Every money action carries an Idempotency-Key.

const STORAGE_KEY = "imperio.tokens";
const REFRESH_MARGIN_MS = 60_000;
const CSRF_COOKIE = "imperio_csrf";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

function csrfToken() {
  const found = document.cookie.split("; ").find((part) => part.startsWith(`${CSRF_COOKIE}=`));
  return found ? decodeURIComponent(found.slice(CSRF_COOKIE.length + 1)) : "";
}

// One refresh at a time across the tabs of this browser: the cookie rotates, and a second tab
// presenting the cookie the first one just rotated away would be refused.
function oneTabAtATime(task) {
  if (navigator.locks && navigator.locks.request) return navigator.locks.request("imperio.refresh", task);
  return task();
}

export class Api {
  constructor({ onSessionEnded, onTokens, onRealityCheck } = {}) {
    this.onSessionEnded = onSessionEnded || (() => {});
    this.onTokens = onTokens || (() => {});
    this.onRealityCheck = onRealityCheck || (() => {});
    this.tokens = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
    this.refreshTimer = null;
    this.refreshing = null;
    // One key per intended action until the server answers it: a second click or a retry of
    // the same action reuses the key, so the server plays it at most once.
    this.pendingKeys = new Map();
    if (this.tokens) this.scheduleRefresh();
  }

  get loggedIn() {
    return Boolean(this.tokens);
  }

  // A browser session another tab (or an earlier visit) started: its CSRF cookie is readable.
  get browserSession() {
    return Boolean(csrfToken());
  }

  get accessToken() {
    return this.tokens ? this.tokens.access_token : null;
  }

  storeTokens(answer) {
    this.tokens = { access_token: answer.access_token, expires_at: Date.now() + answer.expires_in * 1000 };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this.tokens));
    this.scheduleRefresh();
    this.onTokens(this.tokens);
  }

  clearTokens() {
    this.tokens = null;
    sessionStorage.removeItem(STORAGE_KEY);
    clearTimeout(this.refreshTimer);
  }

  scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    const wait = Math.max(1000, this.tokens.expires_at - Date.now() - REFRESH_MARGIN_MS);
    this.refreshTimer = setTimeout(() => this.refresh().catch(() => {}), wait);
  }

  // A new access token from the browser's refresh cookie; a refusal ends this tab's session.
  async refresh() {
    if (!this.refreshing) {
      this.refreshing = oneTabAtATime(() => this.send("POST", "/session/refresh", { headers: { "X-CSRF-Token": csrfToken() } }))
        .then((answer) => this.storeTokens(answer))
        .catch((error) => {
          if (error.status === 401 || error.status === 403) this.endSession(error);
          throw error;
        })
        .finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }

  // At page load: pick up the browser's session, if there is one.
  async resume() {
    if (this.loggedIn) return true;
    if (!this.browserSession) return false;
    try {
      await this.refresh();
      return true;
    } catch {
      return false;
    }
  }

  endSession(error) {
    const had = this.loggedIn;
    this.clearTokens();
    this.onSessionEnded(error, had);
  }

  async send(method, path, { body, bearer, idempotencyKey, headers: extra } = {}) {
    const headers = { Accept: "application/json", ...(extra || {}) };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let response;
    try {
      response = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (cause) {
      throw new ApiError(0, "network_error", String(cause));
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!response.ok) {
      const error = (data && data.error) || { code: "internal_error", message: `HTTP ${response.status}` };
      throw new ApiError(response.status, error.code, error.message, error.details);
    }
    // A settled bet carries a due reality check; GET /protection names its own status so too.
    if (data && data.reality_check && "elapsed_seconds" in data.reality_check) this.onRealityCheck(data.reality_check);
    return data;
  }

  // An authenticated call. An expired access token is refreshed once and the call retried; a
  // revoked one asks the cookie, whose refusal says why the session ended.
  async call(method, path, body, { idempotencyKey } = {}) {
    if (!this.tokens) throw new ApiError(401, "authorization_required", "not logged in");
    if (this.tokens.expires_at - Date.now() < 5000) await this.refresh();
    try {
      return await this.send(method, path, { body, bearer: this.accessToken, idempotencyKey });
    } catch (error) {
      if (error.status !== 401) throw error;
      if (error.code === "token_expired" || error.code === "token_revoked" || error.code === "invalid_token") {
        await this.refresh();
        return this.send(method, path, { body, bearer: this.accessToken, idempotencyKey });
      }
      this.endSession(error);
      throw error;
    }
  }

  // A money action. `intent` names what the player asked for (e.g. "spin"); the same intent
  // keeps its key until the server has answered, so duplicates and retries are replays.
  async money(intent, path, body) {
    let key = this.pendingKeys.get(intent);
    if (!key) {
      key = newKey();
      this.pendingKeys.set(intent, key);
    }
    try {
      const result = await this.call("POST", path, body, { idempotencyKey: key });
      this.pendingKeys.delete(intent);
      return result;
    } catch (error) {
      // The server answered with a refusal (nothing was played): the key may go. Without an
      // answer the round may have been played, so a retry must carry the same key.
      if (error.status !== 0) this.pendingKeys.delete(intent);
      throw error;
    }
  }

  async login(username, password) {
    const field = username.includes("@") ? "email" : "username";
    this.storeTokens(await this.send("POST", "/session/login", { body: { [field]: username, password } }));
  }

  async signup(username, email, password) {
    await this.send("POST", "/signup", { body: { username, email, password } });
    await this.login(username, password);
  }

  // Forget this browser's session (every tab of it) on the server and here.
  async logout() {
    this.clearTokens();
    try {
      await this.send("POST", "/session/logout", { headers: { "X-CSRF-Token": csrfToken() } });
    } catch {
      // Logged out here either way.
    }
  }

  // End every session of the player, on every device, then this browser's cookies.
  async logoutEverywhere() {
    await this.call("DELETE", "/sessions");
    await this.logout();
  }
}
