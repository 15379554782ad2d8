"""Open-loop load: send game rounds at a fixed rate and report latency percentiles.

    python bench/openloop.py --rate 250 --duration 30 --url http://127.0.0.1:5011

Requests are scheduled at fixed intervals whether or not earlier ones have finished, and
latency is measured from each request's scheduled time, so a stalled server shows up in
the tail instead of quietly slowing the generator down (no coordinated omission). Each
request goes out as a different player, round-robin over the prepared tokens; the mix is
the one bench/games.lua uses (60 % slots, 25 % roulette, 15 % blackjack start + stand).
"""

import argparse
import asyncio
import json
import random
import time

import aiohttp

ROULETTE = {"bets": [{"type": "red", "amount": 2}, {"type": "straight", "numbers": [17], "amount": 1}]}


async def play_round(session, url, token, rng):
    headers = {"Authorization": f"Bearer {token}"}
    pick = rng.random()
    if pick < 0.60:
        async with session.post(f"{url}/spin", json={"bet": 1}, headers=headers) as r:
            await r.read()
            return r.status
    if pick < 0.85:
        async with session.post(f"{url}/roulette/spin", json=ROULETTE, headers=headers) as r:
            await r.read()
            return r.status
    async with session.post(f"{url}/blackjack/start", json={"wager": 2}, headers=headers) as r:
        body = await r.json()
        if r.status != 200 or body["game_over"]:
            return r.status
    async with session.post(f"{url}/blackjack/action", json={"action": "stand", "game_id": body["id"]}, headers=headers) as r:
        await r.read()
        return r.status


async def run(args):
    tokens = [t for t in open(args.tokens).read().split() if t]
    rng = random.Random(1)
    latencies, statuses = [], {}
    connector = aiohttp.TCPConnector(limit=args.max_connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        total = int(args.rate * args.duration)
        tasks = []

        async def one(n, scheduled):
            try:
                status = await play_round(session, args.url, tokens[n % len(tokens)], rng)
            except Exception as exc:  # counted, never hidden
                status = type(exc).__name__
            latencies.append(time.perf_counter() - scheduled)
            statuses[status] = statuses.get(status, 0) + 1

        for n in range(total):
            scheduled = start + n / args.rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n, scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    report = {
        "offered_rate": args.rate,
        "achieved_rate": round(total / elapsed, 1),
        "requests": total,
        "statuses": statuses,
        "p50_ms": round(pct(50), 1),
        "p90_ms": round(pct(90), 1),
        "p99_ms": round(pct(99), 1),
        "max_ms": round(latencies[-1] * 1000, 1),
    }
    print(json.dumps(report))


def main():
    parser = argparse.ArgumentParser(description="open-loop game load")
    parser.add_argument("--url", default="http://127.0.0.1:5011")
    parser.add_argument("--rate", type=float, default=250)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--tokens", default="bench/results/tokens.txt")
    parser.add_argument("--max-connections", type=int, default=256)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
