"""Fulfilment throughput: ``fulfil_pending`` draining rewards against a local HTTP fulfiller.

Run::

    python benchmarks/bench_fulfilment.py [--rewards N] [--rounds R] [--concurrency C]
        [--latency-ms L]

A provider runs in its own process on 127.0.0.1: a threading HTTP server that
checks each request's HMAC-SHA256 signature and creates one order per
idempotency key (a second request with the key answers the first order), as
a gift-card provider does. A SQLite database with N approved gift-card rewards
is built once; each round copies it and measures, on the same rewards:

* provider only: N signed POSTs from one thread, no database: the ceiling;
* naive: for each approved reward, POST it, then mark it fulfilled with one
  ``sqlite3`` UPDATE and commit: no claim, no lease, no history, and a crash
  between the POST and the commit leaves nothing to resume from;
* ``fulfil_pending``, one call at a time (``Fulfilment(concurrency=1)``);
* ``fulfil_pending`` with C calls at once (threads).

It prints rewards per second and each figure's ratio to the naive loop, per
round and as medians. No target: the figure is reported in the issue's note.
``--latency-ms`` delays each answer, as a provider across the internet does:
that is where calling C fulfillers at once pays.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import shutil
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from advokit import Action, Advocate, IssueReward, Program, Reward, hookimpl
from advokit.core.signing import BadSignature, verify
from advokit.plugins.rewards import Fulfilment, HttpFulfiller, Rewards

PROGRAM = "bench"
SECRET = "a-benchmark-secret-of-some-length"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


# --------------------------------------------------------------------------- the provider


def serve(ready: Any, stop: Any, latency: float = 0.0) -> None:
    """The provider's process: orders by (path, idempotency key), signatures checked;
    each answer ``latency`` seconds late (a real provider's round trip)."""
    orders: dict[tuple[str, str], str] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # the body is written apart from the headers

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                verify(
                    SECRET,
                    raw,
                    self.headers.get("X-Advokit-Timestamp"),
                    self.headers.get("X-Advokit-Signature"),
                )
            except BadSignature:
                return self._send(401, {"error": "bad signature"})
            if latency:
                time.sleep(latency)
            key = (self.path, self.headers["Idempotency-Key"])
            created = key not in orders
            order = orders.setdefault(key, f"order-{len(orders) + 1}")
            return self._send(201 if created else 200, {"id": order})

        def _send(self, status: int, body: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 1024  # the default 5 drops connections a busy worker opens

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ready.put(server.server_address[1])
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop.wait()
    server.shutdown()


# --------------------------------------------------------------------------- the program


class Gifts:
    plugin_name = "gifts"
    advokit_evaluates = frozenset({"review.posted"})

    @hookimpl
    def advokit_evaluate(self, ctx: Any, action: Action) -> list[Any]:
        reward = Reward(kind="gift_card", amount=2500, currency="EUR")
        return [IssueReward(advocate=action.advocate, reward=reward)]


def build(url: str, endpoint: str, concurrency: int) -> Program:
    return Program(
        name=PROGRAM,
        database_url=url,
        plugins=[
            Rewards(fulfilment=Fulfilment(batch_size=200, concurrency=concurrency)),
            Gifts(),
            HttpFulfiller(endpoint, secret=SECRET, kinds=["gift_card"]),
        ],
        load_entrypoints=False,
        clock=lambda: NOW,
    )


def prepare(path: Path, rewards: int) -> None:
    """N approved gift-card rewards, from N reviews by N/10 advocates."""
    with build(f"sqlite:///{path}", "http://127.0.0.1:9/", 1) as program:
        program.migrate()
        advocates = max(1, rewards // 10)
        program.enroll_many(Advocate(external_id=f"a{n}") for n in range(advocates))
        actions = [
            Action(kind="review.posted", advocate=f"a{n % advocates}", key=f"review-{n}")
            for n in range(rewards)
        ]
        for start in range(0, rewards, 1000):
            program.record_many(actions[start : start + 1000])


def copy(source: Path, directory: Path, name: str) -> Path:
    target = directory / name
    shutil.copyfile(source, target)
    return target


# --------------------------------------------------------------------------- the measures


def provider_only(endpoint: str, program: Program, rewards: int) -> float:
    """Rewards/s of the signed POSTs alone."""
    from advokit.plugins.rewards import IssuedReward, RewardState

    fulfiller = HttpFulfiller(endpoint, secret=SECRET, kinds=["gift_card"])
    reward = Reward(kind="gift_card", amount=2500, currency="EUR")
    issued = [
        IssuedReward(
            key=f"k-{n}",
            advocate="a0",
            reward=reward,
            state=RewardState.FULFILLING,
            cause="c",
            item=None,
            created_at=NOW,
            updated_at=NOW,
        )
        for n in range(rewards)
    ]
    started = time.perf_counter()
    for one in issued:
        fulfiller.fulfil(program, one)
    return rewards / (time.perf_counter() - started)


def naive(path: Path, endpoint: str, program: Program, rewards: int) -> float:
    """Rewards/s of POST then UPDATE + commit, one reward at a time."""
    from advokit.plugins.rewards import IssuedReward, RewardState

    fulfiller = HttpFulfiller(endpoint, secret=SECRET, kinds=["gift_card"])
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    started = time.perf_counter()
    rows = conn.execute(
        "SELECT key, kind, amount, currency FROM rewards_rewards WHERE state = 'approved'"
    ).fetchall()
    for key, kind, amount, currency in rows:
        reward = IssuedReward(
            key=key,
            advocate="a0",
            reward=Reward(kind=kind, amount=amount, currency=currency),
            state=RewardState.FULFILLING,
            cause="c",
            item=None,
            created_at=NOW,
            updated_at=NOW,
        )
        result = fulfiller.fulfil(program, reward)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "UPDATE rewards_rewards SET state = 'fulfilled', result = ? WHERE key = ?",
            (json.dumps(result), key),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    assert len(rows) == rewards, (len(rows), rewards)
    return rewards / elapsed


def advokit_rate(path: Path, endpoint: str, rewards: int, concurrency: int) -> float:
    with build(f"sqlite:///{path}", endpoint, concurrency) as program:
        started = time.perf_counter()
        report = program.fulfil_pending()
        elapsed = time.perf_counter() - started
    assert report.fulfilled == rewards, report
    return rewards / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rewards", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="the provider's delay per answer"
    )
    args = parser.parse_args()
    print(
        f"fulfilment: {args.rewards:,} rewards, {args.rounds} rounds, "
        f"provider latency {args.latency_ms:g} ms, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{multiprocessing.cpu_count()} CPUs"
    )
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=serve, args=(ready, stop, args.latency_ms / 1000), daemon=True)
    server.start()
    port = ready.get(timeout=60)
    rows: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        source = directory / "source.db"
        started = time.perf_counter()
        prepare(source, args.rewards)
        print(
            f"prepared {args.rewards:,} approved rewards in {time.perf_counter() - started:.1f} s"
        )
        with build(f"sqlite:///{source}", "http://127.0.0.1:9/", 1) as reader:
            for round_ in range(1, args.rounds + 1):
                base = f"http://127.0.0.1:{port}/r{round_}"
                figures = {
                    "provider only": provider_only(f"{base}/ceiling", reader, args.rewards),
                    "naive": naive(
                        copy(source, directory, f"naive-{round_}.db"),
                        f"{base}/naive",
                        reader,
                        args.rewards,
                    ),
                    "fulfil_pending x1": advokit_rate(
                        copy(source, directory, f"one-{round_}.db"), f"{base}/one", args.rewards, 1
                    ),
                    f"fulfil_pending x{args.concurrency}": advokit_rate(
                        copy(source, directory, f"many-{round_}.db"),
                        f"{base}/many",
                        args.rewards,
                        args.concurrency,
                    ),
                }
                rows.append(figures)
                print(f"round {round_}:")
                for name, rate in figures.items():
                    ratio = rate / figures["naive"]
                    print(f"  {name:<22} {rate:>8,.0f} rewards/s  {ratio:.2f}x naive")
    stop.set()
    server.join(10)
    print("=== summary (medians over the rounds) ===")
    for name in rows[0]:
        rate = statistics.median(r[name] for r in rows)
        ratio = statistics.median(r[name] / r["naive"] for r in rows)
        print(f"  {name:<22} {rate:>8,.0f} rewards/s  {ratio:.2f}x naive")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
