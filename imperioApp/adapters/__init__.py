"""Adapters: the code that talks to a server (Redis, SQL dialects, health probes) and holds no
business rule.

- `driver`: prebuilt SQL run on the database driver itself (psycopg2, sqlite3), for the hot path.
- `redis_lua`: Lua scripts loaded once and run by SHA (EVALSHA, reloading after a flush).
- `breaker`: a per-process circuit breaker, so a dead Redis costs one timeout, not one per call.
- `caching`: cached read models over Flask-Caching, bypassed while the breaker is open.
- `upserts`: dialect-aware INSERT … ON CONFLICT statements, compiled once.
- `leaderboard_index`: the Redis sorted sets that index the leaderboard tables.
- `health`: the database and Redis probes behind /health and /health/ready.

Services call adapters; adapters never import services, the API or the real-time layer.
"""
