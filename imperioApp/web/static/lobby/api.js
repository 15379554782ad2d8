// The JSON API from the page: bearer tokens kept in sessionStorage (this tab only), refreshed
// before they expire, and an Idempotency-Key on every money action.

const STORAGE_KEY = "imperio.tokens";
const REFRESH_MARGIN_MS = 60_000;

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

export class Api {
  constructor({ onSessionEnded, onTokens } = {}) {
    this.onSessionEnded = onSessionEnded || (() => {});
    this.onTokens = onTokens || (() => {});
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

  get accessToken() {
    return this.tokens ? this.tokens.access_token : null;
  }

  storeTokens(pair) {
    this.tokens = { ...pair, expires_at: Date.now() + pair.expires_in * 1000 };
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

  async refresh() {
    if (!this.tokens) throw new ApiError(401, "authorization_required", "not logged in");
    if (!this.refreshing) {
      const refreshToken = this.tokens.refresh_token;
      this.refreshing = this.send("POST", "/token/refresh", { bearer: refreshToken })
        .then((pair) => this.storeTokens(pair))
        .catch((error) => {
          if (error.status === 401) this.endSession(error);
          throw error;
        })
        .finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }

  endSession(error) {
    this.clearTokens();
    this.onSessionEnded(error);
  }

  async send(method, path, { body, bearer, idempotencyKey } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
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
    return data;
  }

  // An authenticated call; an expired access token is refreshed once and the call retried.
  async call(method, path, body, { idempotencyKey } = {}) {
    if (!this.tokens) throw new ApiError(401, "authorization_required", "not logged in");
    if (this.tokens.expires_at - Date.now() < 5000) await this.refresh();
    try {
      return await this.send(method, path, { body, bearer: this.accessToken, idempotencyKey });
    } catch (error) {
      if (error.status === 401 && error.code === "token_expired") {
        await this.refresh();
        return this.send(method, path, { body, bearer: this.accessToken, idempotencyKey });
      }
      if (error.status === 401) this.endSession(error);
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
    this.storeTokens(await this.send("POST", "/login", { body: { [field]: username, password } }));
  }

  async signup(username, email, password) {
    await this.send("POST", "/signup", { body: { username, email, password } });
    await this.login(username, password);
  }

  async logout() {
    if (!this.tokens) return;
    const { access_token: access, refresh_token: refresh } = this.tokens;
    this.clearTokens();
    try {
      await this.send("POST", "/logout", { body: { refresh_token: refresh }, bearer: access });
    } catch {
      // Logged out locally either way; an expired token needs no revoking.
    }
  }
}
