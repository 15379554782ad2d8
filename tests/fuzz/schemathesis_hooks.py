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
