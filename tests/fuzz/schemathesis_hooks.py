"""Schemathesis hooks for the fuzz run: a real login's bearer token, renewed when the fuzzer ends its session.

The run logs out, ends sessions and changes passwords as freely as anything else, so the
token it holds dies; a 401 makes Schemathesis log in again (FUZZ_URL, FUZZ_USERNAME, FUZZ_PASSWORD).
"""

import os

import requests
import schemathesis


@schemathesis.auth()
class RealLogin:
    def get(self, case, context):
        response = requests.post(
            os.environ["FUZZ_URL"] + "/login",
            json={"username": os.environ["FUZZ_USERNAME"], "password": os.environ["FUZZ_PASSWORD"]},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


# The one roulette rule JSON Schema cannot state: all bets of a spin together stay within the
# table limit (one bet alone may stake all of it, as the document says). A schema-valid spin
# refused for that reason, and only that reason, is no finding.
SPIN_BODIES = {"/roulette/spin": ("bets", "amount"), "/roulette/action": ("bet", "amt")}


@schemathesis.hook
def filter_failure(context, failure, case, response):
    fields = SPIN_BODIES.get(case.operation.path)
    if fields is None or failure.code != "ST202" or not isinstance(case.body, dict):
        return True
    bets, amount = fields
    total = sum(bet.get(amount, 0) for bet in case.body.get(bets, []) if isinstance(bet, dict))
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return True
    return not (code == "above_table_limit" and total > int(os.environ["FUZZ_ROULETTE_MAX_TOTAL_BET"]))
