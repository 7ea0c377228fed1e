"""Delivery throughput: the messages worker sending emails to a local SMTP server.

Run::

    python benchmarks/bench_delivery.py [--messages N] [--rounds R]

An SMTP server (aiosmtpd) runs in its own process on 127.0.0.1 and counts the
messages it accepts. A SQLite database with N queued thank-you emails (N
advocates with consent) is built once; each round copies it and measures, on
the same messages:

* SMTP only: N prebuilt emails sent over one kept ``smtplib`` connection, no
  database: the ceiling;
* naive: for each queued row read with ``sqlite3``, build the same email with
  the stdlib (``multipart/alternative``, text and HTML), send it, then mark it
  sent with one UPDATE and commit: no consent check at send time, no
  template, no header checks, no lease, no retry;
* ``deliver_pending`` in one worker (one process);
* ``deliver_pending`` in two worker processes at once, sharing the queue.

It prints messages per second and each figure's ratio to the naive loop, per
round and as medians. No target: the figure is reported in the issue's note.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import shutil
import smtplib
import socket
import sqlite3
import statistics
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from advokit import Action, Advocate, Program, SendMessage, hookimpl
from advokit.plugins.channels import Email
from advokit.plugins.messages import Messages

SECRET = "a-benchmark-secret-of-some-length"


class Thanks:
    """``review.posted`` -> a thank-you email (marketing: consent checked at send time)."""

    plugin_name = "thanks"
    advokit_evaluates = frozenset({"review.posted"})

    @hookimpl
    def advokit_evaluate(self, ctx: Any, action: Action) -> list[Any]:
        return [SendMessage(advocate=action.advocate, channel="email", template="thank_you")]


def build_messages_program(url: str, port: int) -> Program:
    email = Email(
        host="127.0.0.1", port=port, sender="Bakery <hello@bakery.example>", security="none"
    )
    return Program(
        name="bench",
        database_url=url,
        plugins=[Messages(secret=SECRET), email, Thanks()],
        load_entrypoints=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(port: int, ready: Any, stop: Any, count: Any) -> None:
    """The SMTP server's process: accepts every message and counts it."""
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 Message accepted"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def prepare(path: Path, port: int, messages: int) -> None:
    program = build_messages_program(f"sqlite:///{path}", port)
    program.migrate()
    program.enroll_many(
        Advocate(
            external_id=f"a{n}",
            name=f"Advocate {n}",
            email=f"a{n}@example.com",
            consent={"email": True},
        )
        for n in range(messages)
    )
    for start in range(0, messages, 1000):
        program.record_many(
            Action(kind="review.posted", advocate=f"a{n}", key=f"review-{n}")
            for n in range(start, min(start + 1000, messages))
        )
    program.close()


def copy(source: Path, directory: Path, name: str) -> Path:
    target = directory / name
    shutil.copyfile(source, target)
    return target


def smtp_only(port: int, messages: int) -> float:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = "hello@bakery.example", "a@example.com", "Hi"
    email.set_content("thank you")
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for _ in range(messages):
            connection.send_message(email)
    return messages / (time.perf_counter() - started)


def naive(path: Path, port: int) -> float:
    db = sqlite3.connect(path)
    rows = db.execute(
        "SELECT o.id, a.email, a.name FROM messages_outbox o "
        "JOIN advokit_advocates a ON a.id = o.advocate_id WHERE o.state = 'queued' ORDER BY o.id"
    ).fetchall()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for row_id, address, name in rows:
            email = EmailMessage()
            email["From"], email["To"] = "Bakery <hello@bakery.example>", f"{name} <{address}>"
            email["Subject"] = f"Thank you, {name}"
            email["Message-ID"] = f"<{row_id}@bakery.example>"
            # the same shape advokit sends: text and HTML alternatives
            email.set_content(f"Hi {name},\n\nthank you for being part of the bakery.")
            email.add_alternative(
                f"<p>Hi {name},</p>\n<p>thank you for being part of the bakery.</p>",
                subtype="html",
            )
            connection.send_message(email)
            db.execute("UPDATE messages_outbox SET state = 'sent' WHERE id = ?", (row_id,))
            db.commit()
    elapsed = time.perf_counter() - started
    db.close()
    return len(rows) / elapsed


def _deliver(url: str, port: int, barrier: Any) -> None:
    program = build_messages_program(url, port)
    barrier.wait()
    program.deliver_pending()
    program.close()


def advokit_rate(path: Path, port: int, messages: int, workers: int) -> float:
    url = f"sqlite:///{path}"
    if workers == 1:
        program = build_messages_program(url, port)
        started = time.perf_counter()
        report = program.deliver_pending()
        elapsed = time.perf_counter() - started
        program.close()
        assert report.sent == messages, report
        return messages / elapsed
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers + 1)
    processes = [ctx.Process(target=_deliver, args=(url, port, barrier)) for _ in range(workers)]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    assert all(p.exitcode == 0 for p in processes)
    db = sqlite3.connect(path)
    sent = db.execute("SELECT count(*) FROM messages_outbox WHERE state = 'sent'").fetchone()[0]
    db.close()
    assert sent == messages, sent
    return messages / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(
        f"delivery: {args.messages:,} emails, {args.rounds} rounds, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{multiprocessing.cpu_count()} CPUs"
    )
    port = free_port()
    ctx = multiprocessing.get_context("spawn")
    ready, stop, count = ctx.Event(), ctx.Event(), ctx.Value("l", 0)
    server = ctx.Process(target=serve, args=(port, ready, stop, count), daemon=True)
    server.start()
    ready.wait(30)
    figures: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            source = directory / "source.db"
            started = time.perf_counter()
            prepare(source, port, args.messages)
            print(f"queued {args.messages:,} messages in {time.perf_counter() - started:.1f} s")
            for round_ in range(1, args.rounds + 1):
                rates = {
                    "SMTP only": smtp_only(port, args.messages),
                    "naive": naive(copy(source, directory, f"naive{round_}.db"), port),
                    "deliver_pending, 1 worker": advokit_rate(
                        copy(source, directory, f"one{round_}.db"), port, args.messages, 1
                    ),
                    "deliver_pending, 2 workers": advokit_rate(
                        copy(source, directory, f"two{round_}.db"), port, args.messages, 2
                    ),
                }
                print(f"round {round_}:")
                for name, rate in rates.items():
                    figures.setdefault(name, []).append(rate)
                    print(
                        f"  {name:28} {rate:8,.0f} messages/s  {rate / rates['naive']:.2f}x naive"
                    )
    finally:
        stop.set()
        server.join(10)
    # every way sent every message once: a rate of a half-done run would flatter it
    expected = 4 * args.messages * len(figures.get("naive", []))
    print(f"the server accepted {count.value:,} emails (expected {expected:,})")
    if count.value != expected:
        return 1
    print("=== summary (medians over the rounds) ===")
    base = statistics.median(figures["naive"])
    for name, rates in figures.items():
        rate = statistics.median(rates)
        print(f"  {name:28} {rate:8,.0f} messages/s  {rate / base:.2f}x naive")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
