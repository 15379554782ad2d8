"""Services: the casino's rules, in wings that import only downwards.

The wings, lowest first (a wing may import the wings before it, never one after it; wings on
one step are peers and import neither each other):

- `core`: transaction boundaries, the after-commit event bus, domain errors, paging.
- `money`: wallet, fairness, idempotency, ledger reads.
- `identity`: accounts and their rules, passwords, throttle, tokens, sessions, login.
- `protection` and `engagement` (peers): responsible gaming; statistics, leaderboards,
  achievements, notifications, profiles, leaderboard pushes.
- `rounds`: settlement, solo play, recall.
- `competitions` and `social` (peers): tournaments and races scored from settled rounds (scoring, entries, closing,
  standings); settlement calls its scorer through `rounds.settlement.register_scorer`.
  `social`: chat, rooms, the shared table.
- `operators`: admin actions and their audit trail.

`WINGS` states that order as data; `tests/test_layering.py` holds the code to it.

Rules of the layer:
- A service takes plain values (ids, amounts, parsed bets) and returns plain values; it never
  reads `flask.request` or renders a response. Handlers in `api/` and `realtime/` parse,
  call one service function and render; domain errors (`core.errors.DomainError`) are mapped
  to HTTP and Socket.IO answers in one place each.
- Every balance change goes through `money.wallet` (or the one settlement statement in
  `rounds.settlement`, which writes the same ledger rows) inside one transaction under the
  row lock.
- Game rules come from the pure engines in `imperioApp.games`; talking to Redis or to a
  particular SQL dialect goes through `imperioApp.adapters`. A service's own state in Redis
  (or in memory without Redis) lives in its store module beside it (`*_store`); shared
  plumbing lives in adapters/.
- Side effects that must not undo a round (emits, index writes, cache invalidation) are
  published on the event bus (`core.events`) and run after the commit.
"""

# The wings, lowest first; the wings of one step are peers. A wing imports only from
# earlier steps (and from itself).
WINGS = (
    ("core",),
    ("money",),
    ("identity",),
    ("protection", "engagement"),
    ("rounds",),
    ("competitions", "social"),
    ("operators",),
)
