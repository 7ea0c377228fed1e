"""Importing a large advocates CSV: time, rows/s and peak memory, against baselines.

Run::

    python benchmarks/bench_import.py [--rows N] [--batch B] [--baseline-sample K] [--seed S]

1. Generates an N-row (default 1,000,000) Shopify-style customer export in a
   temporary directory, written row by row: customer id, names (some
   accented), a mixed-case email, a national UK phone number, the two
   marketing-consent columns, tags and a column advokit ignores. One row in
   a hundred has an email that is not one, to be rejected.
2. Imports it with ``advokit import advocates FILE --region GB --rejects
   FILE`` in a subprocess, so that its peak resident memory is the child's
   own (``os.wait4``'s ``ru_maxrss``, the figure ``getrusage(RUSAGE_CHILDREN)``
   gives for the one child): every row read, validated (email-validator,
   phonenumbers), merged and upserted in batches of B.
3. Imports the same file again: every valid row must come back unchanged.
4. Baseline 1, raw ``sqlite3``: ``executemany`` of the very same advocate
   rows (as the import stores them, each batch prepared before its timer
   starts) into the same ``advokit_advocates`` table of a fresh migrated
   database, one transaction per batch of B: the SQL floor, without reading
   nor validating.
5. Baseline 2, naive: the same rows read with ``csv.DictReader`` and enrolled
   one ``program.enroll(Advocate(...))`` (one transaction) at a time, on the
   first K rows, extrapolated to N.
6. For reference, validation alone: email-validator and phonenumbers on the
   first K rows, extrapolated: the share of the import no SQL can save.

Target: peak RSS of the import under 200 MB. The ratios against the
baselines are reported, without a target. Exit status 1 when the target is
missed, 2 when the import's counts are wrong (a bug, not a slow machine).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TARGET_RSS_MB = 200.0
HEADER = [
    "Customer ID", "First Name", "Last Name", "Email", "Phone", "Accepts Email Marketing",
    "Accepts SMS Marketing", "Tags", "Total Spent",
]  # fmt: skip
FIRST = ["Ada", "Grace", "Alan", "Zoë", "José", "Renée", "Jürgen", "Ægir", "Mary", "Linus"]
LAST = ["Lovelace", "Hopper", "Turing", "Müller", "Núñez", "Dupré", "Groß", "Øster", "Shelley"]
CONSENT = ["yes", "no", ""]

PROGRAM_MODULE = """
from advokit import Program

program = Program(name="bench", database_url={url!r}, load_entrypoints=False)
"""


def generate(path: Path, rows: int, seed: int) -> None:
    """The export, written row by row (the generator holds one row at a time)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            writer.writerow(
                [
                    f"{7_000_000_000 + i}",
                    first,
                    last,
                    f"{first}.{last}.{i}@Example.com" if i % 100 != 99 else f"{first} {last}",
                    f"07911 {i % 300_000:06}",  # 07911 0xxxxx to 2xxxxx are UK mobiles
                    rng.choice(CONSENT),
                    rng.choice(CONSENT),
                    "vip" if i % 10 == 0 else "",
                    f"{rng.randrange(0, 100_000) / 100:.2f}",
                ]
            )


def run_import(workdir: Path, file: Path, batch: int) -> tuple[float, float, str]:
    """``advokit import advocates`` in a child: wall seconds, its peak RSS in MB, its output."""
    advokit = Path(sys.executable).parent / "advokit"
    command = [str(advokit), "--program", "bench_program:program", "import", "advocates"]
    command += [str(file), "--region", "GB", "--batch-size", str(batch)]
    command += ["--rejects", str(workdir / "rejects.csv")]
    env = {**os.environ, "ADVOKIT_LOAD_PLUGINS": ""}
    env.pop("ADVOKIT_PROGRAM", None)
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=out)
        # wait4: this child's own resource usage (ru_maxrss is in KiB on Linux)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read()
    if child.returncode != 0:
        print(output)
        sys.exit(2)
    return elapsed, usage.ru_maxrss / 1024, output.strip().splitlines()[-1]


def stored_rows(file: Path) -> Iterator[dict[str, Any]]:
    """The rows the import stores for the export, computed directly (for the raw baseline)."""
    import phonenumbers
    from email_validator import validate_email

    now = datetime.now(UTC).isoformat(sep=" ")
    with file.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if "@" not in row["Email"]:
                continue  # rejected by the import
            phone = phonenumbers.parse(row["Phone"], "GB")
            consent = {
                channel: {"granted": value == "yes", "basis": None, "source": "import", "at": None}
                for channel, value in (
                    ("email", row["Accepts Email Marketing"]),
                    ("sms", row["Accepts SMS Marketing"]),
                )
                if value
            }
            yield {
                "program": "bench",
                "external_id": row["Customer ID"],
                "kind": "customer",
                "name": f"{row['First Name']} {row['Last Name']}",
                "email": validate_email(row["Email"], check_deliverability=False).normalized,
                "phone": phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164),
                "slack_id": None,
                "locale": "en",
                "timezone": "UTC",
                "attributes": json.dumps({"tags": row["Tags"]} if row["Tags"] else {}),
                "consent": json.dumps(consent),
                "enrolled_at": now,
                "updated_at": now,
            }


def raw_baseline(database: Path, file: Path, batch: int) -> tuple[float, int]:
    """Seconds to executemany the rows into advokit_advocates, one commit a batch.

    Each batch is prepared before its timer starts (and dropped after), so that
    only the inserts are timed and the script's memory stays flat too.
    """
    rows = stored_rows(file)
    first = next(rows)
    columns = list(first)
    insert = (
        f"INSERT INTO advokit_advocates ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    elapsed = 0.0
    pending = itertools.chain([first], rows)
    while part := [tuple(r.values()) for r in itertools.islice(pending, batch)]:
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(insert, part)
        conn.execute("COMMIT")
        elapsed += time.perf_counter() - started
    count = conn.execute("SELECT count(*) FROM advokit_advocates").fetchone()[0]
    conn.close()
    return elapsed, count


def naive_baseline(program: Any, file: Path, sample: int) -> float:
    """Seconds per row for reading, validating and enrolling one row at a time."""
    import phonenumbers
    from email_validator import validate_email

    from advokit import Advocate

    with file.open(encoding="utf-8", newline="") as handle:
        valid = (row for row in csv.DictReader(handle) if "@" in row["Email"])
        rows = list(itertools.islice(valid, sample))
    started = time.perf_counter()
    for row in rows:
        phone = phonenumbers.parse(row["Phone"], "GB")
        program.enroll(
            Advocate(
                external_id=row["Customer ID"],
                name=f"{row['First Name']} {row['Last Name']}",
                email=validate_email(row["Email"], check_deliverability=False).normalized,
                phone=phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164),
            )
        )
    return (time.perf_counter() - started) / len(rows)


def validation_only(file: Path, sample: int) -> float:
    """Seconds per row for email-validator and phonenumbers alone (the import's floor)."""
    import phonenumbers
    from email_validator import validate_email

    with file.open(encoding="utf-8", newline="") as handle:
        valid = (row for row in csv.DictReader(handle) if "@" in row["Email"])
        rows = list(itertools.islice(valid, sample))
    started = time.perf_counter()
    for row in rows:
        validate_email(row["Email"], check_deliverability=False)
        phone = phonenumbers.parse(row["Phone"], "GB")
        phonenumbers.is_valid_number(phone)
        phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164)
    return (time.perf_counter() - started) / len(rows)


def migrated(workdir: Path, name: str) -> Any:
    from advokit import Program

    program = Program(name="bench", database_url=f"sqlite:///{workdir / name}")
    program.migrate()
    return program


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="N rows in the CSV")
    parser.add_argument("--batch", type=int, default=2000, help="B rows per transaction")
    parser.add_argument("--baseline-sample", type=int, default=2000, help="K rows, naive")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    n, b, k = args.rows, args.batch, min(args.baseline_sample, args.rows)
    if min(n, b, k) < 1:
        parser.error("counts must be positive")
    os.environ["ADVOKIT_LOAD_PLUGINS"] = ""
    with tempfile.TemporaryDirectory(prefix="advokit-bench-import-") as tmp:
        workdir = Path(tmp)
        file = workdir / "customers_export.csv"
        started = time.perf_counter()
        generate(file, n, args.seed)
        size = file.stat().st_size / 1e6
        print(f"generated {n:,} rows, {size:,.1f} MB, in {time.perf_counter() - started:.1f} s")
        url = f"sqlite:///{workdir / 'import.db'}"
        (workdir / "bench_program.py").write_text(textwrap.dedent(PROGRAM_MODULE.format(url=url)))
        migrated(workdir, "import.db").close()

        first_time, first_rss, first_line = run_import(workdir, file, b)
        print(f"\nfirst import:  {first_line}")
        print(
            f"  {first_time:8.1f} s   {n / first_time:10,.0f} rows/s   peak RSS {first_rss:6.1f} MB"
        )
        second_time, second_rss, second_line = run_import(workdir, file, b)
        print(f"second import: {second_line}")
        print(
            f"  {second_time:8.1f} s   {n / second_time:10,.0f} rows/s   "
            f"peak RSS {second_rss:6.1f} MB"
        )
        bad = n // 100  # the rows numbered 99, 199, 299...
        expected = (
            f"advocates: read {n}, created {n - bad}, updated 0, unchanged 0, rejected {bad}",
            f"advocates: read {n}, created 0, updated 0, unchanged {n - bad}, rejected {bad}",
        )
        if (first_line, second_line) != expected:
            print(f"wrong counts: expected {expected}")
            return 2

        raw_program = migrated(workdir, "raw.db")
        raw_program.close()
        raw_time, raw_count = raw_baseline(workdir / "raw.db", file, b)
        if raw_count != n - bad:
            print(f"the raw baseline stored {raw_count} rows, expected {n - bad}")
            return 2
        naive_program = migrated(workdir, "naive.db")
        per_row = naive_baseline(naive_program, file, k)
        naive_program.close()
        checks = validation_only(file, k)

    print(f"\nbaseline, raw sqlite3 executemany of the prepared rows: {raw_time:8.1f} s")
    print(f"  {n / raw_time:10,.0f} rows/s")
    print(f"baseline, naive enroll() per row on {k:,} rows: {per_row * 1e3:.2f} ms/row,")
    print(f"  {n * per_row:8.1f} s for {n:,} rows (extrapolated)")
    print(f"validation alone (email-validator, phonenumbers) on {k:,} rows:", end=" ")
    print(f"{checks * 1e6:.0f} µs/row,")
    print(f"  {n * checks:8.1f} s for {n:,} rows (extrapolated)")
    print("\n=== summary ===")
    print(f"  import / raw sqlite3        {first_time / raw_time:6.1f}x the time")
    print(f"  naive / import              {n * per_row / first_time:6.1f}x the time")
    print(f"  re-import / import          {second_time / first_time:6.2f}x the time")
    print(f"  validation alone / import   {n * checks / first_time:6.2f}x the time")
    peak = max(first_rss, second_rss)
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of the imports     {peak:6.1f} MB (this script: {parent:.1f} MB)")
    passed = peak < TARGET_RSS_MB
    print(f"{'PASS' if passed else 'FAIL'}: peak RSS under {TARGET_RSS_MB:g} MB for {n:,} rows")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
