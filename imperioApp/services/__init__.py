"""Services: the casino's rules, one module per concept, each owning its transactions.

Rules of the layer:
- A service takes plain values (ids, amounts, parsed bets) and returns plain values; it never
  reads `flask.request` or renders a response. Handlers in `api/` and `realtime/` parse,
  call one service function and render; domain errors (`errors.DomainError`) are mapped to
  HTTP and Socket.IO answers in one place each.
- Every balance change goes through `wallet` (or the one settlement statement in
  `settlement`, which writes the same ledger rows) inside one transaction under the row lock.
- Game rules come from the pure engines in `imperioApp.games`; talking to Redis or to a
  particular SQL dialect goes through `imperioApp.adapters`.
- Side effects that must not undo a round (emits, index writes, cache invalidation) are
  published on the event bus (`events`) and run after the commit.
"""
