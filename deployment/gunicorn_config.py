"""Gunicorn settings, read from the environment so systemd units and benchmarks can tune them."""

import multiprocessing
import os
import runpy

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:5011")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
# Threads per worker when worker_class is gthread.
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Bounded concurrency per worker keeps tail latency bounded under overload.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "100"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = 100 if max_requests else 0
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

# Prometheus multiprocess mode: every worker's samples add up at /metrics.
_metrics_hooks = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gunicorn_metrics.py"))
on_starting = _metrics_hooks["on_starting"]
child_exit = _metrics_hooks["child_exit"]
on_exit = _metrics_hooks["on_exit"]
