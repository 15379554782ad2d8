// A plain-language message for every error code the API and the socket answer with.
// Unknown codes fall back to the server's own message.

export const ERROR_MESSAGES = {
  // requests and validation
  bad_request: "The request was not understood.",
  validation_error: "Some fields are not valid.",
  payload_too_large: "That is too much data to send.",
  unsupported_media_type: "The request must be JSON.",
  method_not_allowed: "That action is not available here.",
  not_found: "Not found.",
  conflict: "That conflicts with the current state; refresh and try again.",
  forbidden: "You are not allowed to do that.",
  gone: "That feature has been removed.",
  endpoint_removed: "That feature has been removed.",
  internal_error: "Something went wrong on the server. Please try again.",
  internal_server_error: "Something went wrong on the server. Please try again.",
  not_acceptable: "The server cannot answer in a form this page reads.",
  bad_gateway: "The server is restarting or unreachable: try again in a moment.",
  service_unavailable: "The service is busy or down for a moment: try again shortly.",
  gateway_timeout: "The server took too long to answer: try again.",
  rate_limited: "Too many requests: wait a moment and try again.",
  invalid_cursor: "That page of results does not exist.",
  invalid_limit: "That page size is not allowed.",
  invalid_date_range: "The date range is not valid.",
  invalid_target: "That target is not valid.",
  invalid_minutes: "That duration is not valid.",
  // accounts and tokens
  account_taken: "That username or email is already registered.",
  username_taken: "That username is taken: choose another.",
  email_taken: "That email is already registered: log in instead.",
  invalid_credentials: "Wrong username or password.",
  account_locked: "Too many failed logins: the account is locked for a while.",
  unauthorized: "Please log in.",
  authorization_required: "Please log in.",
  token_expired: "Your session expired: please log in again.",
  token_revoked: "You were logged out: please log in again.",
  invalid_token: "Your session is no longer valid: please log in again.",
  session_not_found: "That session has already ended.",
  fresh_token_required: "Please log in again to do that.",
  token_scope: "That sign-in only lets a game frontend play; log in here to do this.",
  user_not_found: "No such player.",
  admin_required: "Only operators may do that.",
  already_authenticated: "This connection is already signed in as someone else.",
  unauthenticated: "The live connection is not signed in yet.",
  // money and idempotency
  insufficient_funds: "Not enough coins for that bet.",
  balance_ceiling: "Your balance is at its ceiling: that would take it past the most one account may hold.",
  round_expired: "That game had no action for too long and ended: your hand stood.",
  password_required: "Please confirm with your current password.",
  wrong_password: "That is not your current password.",
  nothing_to_lift: "There is no exclusion made within the last 24 hours to lift.",
  invalid_amount: "Bets must be whole coins of at least 1.",
  above_table_limit: "That is above the table limit.",
  invalid_idempotency_key: "The request key is not valid.",
  idempotency_key_reused: "That request was already made with different details.",
  // games
  game_error: "The game refused that.",
  rng_unavailable: "Games are paused: the random number source is unavailable. Try again shortly.",
  unknown_game: "No such game.",
  unknown_game_type: "No such game.",
  illegal_action: "That move is not allowed now.",
  unknown_action: "No such move.",
  game_over: "That round is already over.",
  game_not_found: "No such game: it may be over.",
  round_not_found: "No such round.",
  cannot_double: "You can double only on your first two cards.",
  cannot_split: "Only two cards of the same rank can be split.",
  already_split: "A round can be split only once.",
  invalid_actions: "The list of moves is not valid.",
  invalid_bet: "That bet is not valid.",
  unknown_bet_type: "No such bet type.",
  illegal_bet_shape: "Those numbers do not form that bet on the table.",
  invalid_numbers: "The numbers of that bet are not valid.",
  numbers_required: "That bet needs the numbers it covers.",
  invalid_index: "Choose dozen or column 1, 2 or 3.",
  no_bets: "Place at least one bet first.",
  too_many_bets: "Too many bets on one spin.",
  // fairness
  invalid_seed: "That seed is not valid.",
  invalid_client_seed: "The client seed must be 1-64 printable characters without spaces.",
  invalid_server_seed: "A server seed is 64 hex characters.",
  invalid_nonce: "The nonce must be a whole number of 0 or more.",
  invalid_inputs: "The round's inputs are not valid.",
  open_round: "Finish your open blackjack round before rotating the seed.",
  // engagement
  achievement_not_found: "No such achievement.",
  notification_not_found: "No such notification.",
  transaction_not_found: "No such transaction.",
  invalid_metric: "No such leaderboard.",
  invalid_timeframe: "No such timeframe.",
  // chat
  unknown_room: "No such chat room.",
  empty_message: "Type a message first.",
  message_too_long: "That message is too long.",
  muted: "You are muted for now.",
  banned: "You are banned from chat.",
  // multiplayer rooms
  room_not_found: "No such room: it may have closed.",
  room_full: "That room is full.",
  invite_required: "That room is private: enter its invite code.",
  invalid_invite: "That invite code is wrong.",
  not_in_room: "You are not in that room.",
  already_in_room: "You are already in that room.",
  too_many_rooms: "You are in too many rooms already.",
  invalid_max_players: "A room seats 2 to 8 players.",
  invalid_private: "Choose public or private.",
  rooms_unavailable: "Rooms are unavailable right now; try again.",
  not_a_roulette_room: "That room does not play roulette.",
  already_bet: "You already bet on this spin.",
  betting_closed: "Betting on this spin has closed; bet on the next one.",
  try_again: "The spin is opening: try again in a moment.",
  unknown_event: "The server did not understand that.",
  // tournaments
  tournament_not_found: "No such tournament.",
  period_not_found: "That tournament has no such period.",
  tournament_closed: "That tournament takes no more entries or changes.",
  tournament_full: "That tournament is full.",
  already_joined: "You are already in that tournament.",
  not_entered: "You are not in that tournament.",
  period_not_closed: "Results come when the tournament closes.",
  tournament_cancelled: "That tournament was cancelled.",
  tournament_has_entrants: "Players have joined: the entry fee stays as it is.",
  invalid_schedule: "That schedule is not a five-field cron expression that ever fires.",
  schedule_overlap: "Each period must end before the schedule starts the next one.",
  // player protection and operators
  limit_reached: "That bet would pass one of your limits.",
  timed_out: "You are taking a break: no bets, chat or tables until it ends.",
  self_excluded: "You have excluded yourself: no bets, chat or tables.",
  account_suspended: "This account is suspended. Contact support.",
  unknown_limit_kind: "A limit is on losses or on wagers.",
  unknown_limit_period: "A limit is per day, week or month.",
  unknown_exclusion_kind: "No such kind of break.",
  invalid_months: "A self-exclusion lasts 6 to 60 months, or for good.",
  invalid_hours: "A break lasts 24 hours to 6 weeks.",
  no_reality_check: "No reality check is set.",
  csrf_failed: "This page could not prove it is yours: reload it and log in again.",
  reason_required: "Give a reason of 3 to 500 characters.",
  idempotency_key_required: "This action needs a request key.",
  // operators: roles, the second factor, four eyes
  role_required: "Your operator role does not allow that.",
  invalid_role: "A role is player, support, risk or admin.",
  nothing_to_change: "That is already so: nothing changed.",
  second_factor_required: "Sign in with your second factor first.",
  already_enrolled: "A second factor is already set up for this account.",
  not_enrolling: "Start setting up the second factor first.",
  not_enrolled: "Set up the second factor first.",
  invalid_code: "That code is wrong or has expired: use the current one.",
  code_reused: "That code was already used: wait for the next one.",
  second_factor_unreadable: "Your second factor can no longer be read here: ask an admin to reset it.",
  adjustment_not_found: "No such adjustment request.",
  already_decided: "That request was already approved or rejected.",
  second_approver_required: "Another admin, not the requester or the player, must approve it.",
  // the page itself
  network_error: "The server cannot be reached. Check your connection.",
};

// Local date and time, to the minute: "12 Mar 2025, 14:05" in the player's own format.
export function localTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

// One line per problem: the page's own words, with the facts the server gave (never its raw
// message next to ours).
export function describeError(error) {
  if (!error) return "Something went wrong.";
  const known = ERROR_MESSAGES[error.code];
  let text = known || error.message || "Something went wrong.";
  const details = error.details || {};
  if (error.code === "validation_error" && error.details) text = `${text} ${summariseDetails(error.details)}`;
  else if (error.code === "limit_reached" && details.limit !== undefined) {
    const kind = details.kind === "loss" ? "loss" : "wager";
    const every = { day: "daily", week: "weekly", month: "monthly" }[details.period] || details.period;
    text = `That bet would pass your ${every} ${kind} limit of ${details.limit} coins (${details.used} used). It resets ${localTime(details.resets_at)}.`;
  } else if ((error.code === "timed_out" || error.code === "self_excluded") && "until" in details) {
    text = details.until ? `${text} It ends ${localTime(details.until)}.` : `${text} It does not end.`;
  }
  return text;
}

function summariseDetails(details) {
  return Object.entries(details)
    .map(([field, problems]) => `${field.replace("_", " ")}: ${Array.isArray(problems) ? problems.join(" ") : typeof problems === "object" ? Object.values(problems).flat().join(" ") : problems}`)
    .join("; ");
}

// Why a session ended, from the server's `details.reason`, in plain words.
export const SESSION_ENDINGS = {
  timeout: "You started a break, so this session ended. You can log in again to see your balance and history; bets, chat and tables wait until the break is over.",
  self_exclusion: "You excluded yourself, so this session ended. You can log in again to see your balance and history, but not to play.",
  logout: "You were logged out (in this tab or another one). Log in again to play.",
  logout_everywhere: "You logged out everywhere, so every session ended. Log in again to play.",
  password_changed: "Your password was changed, so your other sessions ended. Log in again with the new one.",
  refresh_reuse: "For your safety this session was ended. Please log in again.",
  ended_by_user: "This session was ended from another device. Log in again to play.",
};
