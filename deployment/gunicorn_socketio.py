"""Gunicorn settings for the Socket.IO service (NGINX routes /socket.io/ here; REST goes to
the service of gunicorn_config.py). Same app, different shape:

    gunicorn -c deployment/gunicorn_socketio.py imperioApp.wsgi:app

- One worker per service. Socket.IO's long-polling transport needs every request of a
  session to reach the process holding it, and Gunicorn balances requests across workers
  without affinity. Scale out by running more of these services (one port each) behind
  NGINX `ip_hash`; the Redis message queue joins them.
- The plain gevent worker: with gevent-websocket absent, python-engineio takes the raw
  socket Gunicorn exposes (`gunicorn.socket`) through simple-websocket, so no custom
  worker class is needed.
- worker_connections bounds the sockets held, not the requests in flight: each WebSocket
  occupies one for its lifetime. The REST service's small cap (which keeps its tail
  latency bounded) would cap this one at that many players, so it is set high here; the
  process's open-file limit (systemd LimitNOFILE, `ulimit -n`) must exceed it.
- timeout: the gevent worker's heartbeat runs in its own greenlet, so long-lived sockets
  never trip it; it only catches a worker whose event loop is blocked.
"""

import os
import runpy

bind = os.environ.get("SOCKETIO_BIND", "127.0.0.1:5012")
workers = 1
worker_class = "gevent"
worker_connections = int(os.environ.get("SOCKETIO_WORKER_CONNECTIONS", "10000"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
keepalive = 75
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The app alone decides which forwarded headers to believe (TRUST_PROXY_HEADERS, ProxyFix);
# Gunicorn trusts none itself, not even X-Forwarded-Proto from loopback.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")
secure_scheme_headers = {}
# Long header fields reach the app, which refuses them with a JSON 431 past 8190 bytes.
limit_request_field_size = 32768
# Request lines up to Gunicorn's maximum reach the app, which answers a JSON 414 past 4094 bytes.
limit_request_line = 8190
# Gunicorn 27 opens a control socket at one default path per user, so a second service on
# the host would take it over from the first. Off unless a path of its own is given.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

# Prometheus multiprocess mode: every worker's samples add up at /metrics.
_metrics_hooks = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gunicorn_metrics.py"))
on_starting = _metrics_hooks["on_starting"]
child_exit = _metrics_hooks["child_exit"]
on_exit = _metrics_hooks["on_exit"]


def post_worker_init(worker):
    """Keep the garbage collector's full passes off the fan-out path."""
    # Measured with bench/realtime_bench.py: with CPython's default thresholds a process
    # holding 1,000 sockets ran a full (generation 2) collection every few seconds, each
    # pausing every socket for 100-360 ms, the whole p99. Freezing the loaded app (never
    # scanned again) and making full passes rare removed them.
    import gc

    gc.freeze()
    # A full pass after 100 middle ones: under load every few tens of minutes, so cyclic
    # garbage (closed sockets) is still reclaimed.
    gc.set_threshold(50_000, 50, 100)
