"""Where a /spin round's CPU goes, in-process and one request at a time: layer by layer.

    DATABASE_URL=postgresql://... REDIS_URL=redis://... python bench/round_breakdown.py --tokens bench/results/tokens.txt

wrk's rates on two shared cores move by 5-10 % from run to run, more than most single
changes are worth. This measures CPU time (time.process_time) of the production app in
this process, under gevent as Gunicorn runs it, in blocks of --block requests, and reports
a low quantile of the blocks (the machine's slow moments inflate the others). Layers:

- `request`: a whole POST /spin through the WSGI app (auth, hooks, parsing, settlement);
- `request layer`: the same with the settlement replaced by a fixed result, so only Flask,
  the hooks, JWT, webargs and the response remain;
- `bare Flask`: a Flask app answering a JSON hello, the floor of the stack;
- `settlement`: `play.spin_slots` called directly (nonce claim, the statement, COMMIT and the
  after-commit work);
- `settlement without after-commit`: the same with the event bus's after-commit publishing
  turned off (no Redis index write, no push marks, no counters);
- `request, again`: the first layer once more, to show how far the machine moved meanwhile.

Needs the players and tokens of bench/prepare.py. Writes rounds to that database.
"""

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

from gevent import monkey

monkey.patch_all()

from psycogreen.gevent import patch_psycopg  # noqa: E402

patch_psycopg()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gevent  # noqa: E402
from flask import Flask  # noqa: E402
from flask_jwt_extended import decode_token  # noqa: E402

from imperioApp import create_app  # noqa: E402
from imperioApp.collector import freeze_loaded_objects  # noqa: E402
from imperioApp.extensions import db  # noqa: E402
from imperioApp.services.core import events  # noqa: E402
from imperioApp.services.rounds import play  # noqa: E402
from imperioApp.services.rounds.settlement import SettledRound  # noqa: E402

BODY = b'{"bet":1}'


def environ(path, token):
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(BODY),
        "wsgi.errors": sys.stderr,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(BODY)),
        "HTTP_AUTHORIZATION": f"Bearer {token}",
    }


def caller(wsgi_app, path, tokens):
    """call(i): one request through `wsgi_app`; fails loudly on anything but a 200."""

    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            raise RuntimeError(f"{path} answered {status}")

    def call(i):
        body = wsgi_app(environ(path, tokens[i % len(tokens)]), start_response)
        b"".join(body)
        getattr(body, "close", lambda: None)()

    return call


def cpu_per_call(call, block, blocks):
    """(low quantile, median) of the CPU seconds per call over `blocks` blocks of `block` calls."""
    samples = []
    for _ in range(blocks):
        started = time.process_time()
        for i in range(block):
            call(i)
        gevent.sleep(0.005)  # let background writers finish inside the block
        samples.append((time.process_time() - started) / block)
    samples.sort()
    return samples[len(samples) // 5], samples[len(samples) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", default="bench/results/tokens.txt")
    parser.add_argument("--block", type=int, default=20)
    parser.add_argument("--blocks", type=int, default=40)
    args = parser.parse_args()
    tokens = [line.strip() for line in open(args.tokens) if line.strip()]

    app = create_app("production", SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"])
    freeze_loaded_objects(app.config["GC_THRESHOLD"])  # as imperioApp/wsgi.py does under Gunicorn
    with app.app_context():
        user_ids = [int(decode_token(token)["sub"]) for token in tokens]
    hello = Flask("hello")
    hello.add_url_rule("/spin", "spin", lambda: {"status": "ok"}, methods=["POST"])
    fixed = SettledRound(
        1,
        1,
        "slots",
        1,
        0,
        0,
        {"segments": [15, 16, 17], "fruits": [], "combination": None, "multiplier": 0, "bet": 1, "payout": 0},
    )

    def settle(i):
        play.spin_slots(user_ids[i % len(user_ids)], 1)
        db.session.remove()

    def measure(name, call, replaced=None):
        """Record `call`'s CPU; `replaced` = (module, attribute, stand-in) for the measurement."""
        if replaced:
            module, attribute, stand_in = replaced
            original = getattr(module, attribute)
            setattr(module, attribute, stand_in)
        try:
            call(0)  # warm
            low, median = cpu_per_call(call, args.block, args.blocks)
        finally:
            if replaced:
                setattr(module, attribute, original)
        results[name] = {"cpu_us_low": round(low * 1e6, 1), "cpu_us_median": round(median * 1e6, 1)}

    results = {}
    full = caller(app, "/spin", tokens)
    for i in range(100):
        full(i)
    measure("request", full)
    measure("request layer", full, replaced=(play, "spin_slots", lambda *a, **k: fixed))
    measure("bare Flask", caller(hello, "/spin", tokens))
    with app.app_context():
        measure("settlement", settle)
        measure("settlement without after-commit", settle, replaced=(events, "publish_after_commit", lambda *a, **k: None))
    measure("request, again", full)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
