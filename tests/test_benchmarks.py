"""The benchmark scripts keep running (their figures are read by people, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run_benchmark(script: str, *args: str) -> str:
    """Run a benchmark script at toy size; returns what it printed."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # exit 1 only means a target was missed at this toy size; 2 or a traceback is a bug
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def test_bench_record_runs_every_part_and_prints_its_verdicts():
    out = run_benchmark(
        "bench_record.py",
        *("--actions", "300", "--advocates", "40", "--batch", "100"),
        *("--naive-sample", "20", "--rounds", "2"),
        *("--leaderboard-advocates", "500", "--leaderboard-calls", "3", "--leaderboard-ties"),
    )
    assert out.count("round ") >= 2
    for line in ("record_many / raw", "record_many / naive", "record() / naive"):
        assert f" {line}" in out
    assert "leaderboard median, ties" in out
    assert "=== summary (medians over the rounds) ===" in out


def test_bench_gamification_runs_every_part_and_prints_its_verdicts():
    out = run_benchmark(
        "bench_gamification.py",
        *("--actions", "400", "--advocates", "60", "--batch", "100", "--rounds", "1"),
        *("--board-advocates", "300", "--board-actions", "1000,3000", "--board-calls", "3"),
        *("--tick-advocates", "400", "--tick-sample", "300", "--breakdown", "--floor"),
    )
    assert "gamified / points-only" in out
    assert "floor: points + 3 plugins" in out and "floor: points + 7 plugins" in out
    assert "Badges.advokit_apply_effect:" in out and "writing the batch (flush):" in out
    assert "'this week' top 10" in out and "USING COVERING INDEX ix_leaderboards_rank" in out
    assert "scaling 1,000 -> 3,000 actions" in out
    assert "tick over 400 advocates" in out and "the same tick again" in out
    assert ", 0 recorded," in out  # the second tick at the same instant posts nothing


def test_bench_referrals_runs_and_prints_its_verdict():
    out = run_benchmark(
        "bench_referrals.py",
        *("--referrers", "50", "--referrals", "300", "--friends", "200", "--batch", "100"),
        *("--rounds", "1"),
    )
    assert "50 referrers, 300 prior referrals, 200 new friends" in out
    assert "per conversion" in out and "referral program / points only per conversion" in out
    assert "purchases 200 applied" in out


def test_bench_fulfilment_drains_every_reward_and_prints_the_rates():
    out = run_benchmark(
        "bench_fulfilment.py", "--rewards", "200", "--rounds", "1", "--concurrency", "4"
    )
    for line in ("provider only", "naive", "fulfil_pending x1", "fulfil_pending x4"):
        assert f"  {line} " in out
    assert "=== summary (medians over the rounds) ===" in out
    assert "rewards/s" in out


def test_bench_delivery_runs_every_part():
    out = run_benchmark("bench_delivery.py", "--messages", "60", "--rounds", "1")
    for name in ("SMTP only", "naive", "deliver_pending, 1 worker", "deliver_pending, 2 workers"):
        assert f"  {name}" in out
    assert "=== summary (medians over the rounds) ===" in out
    assert "the server accepted 240 emails (expected 240)" in out


def test_bench_scoring_runs_and_checks_its_figures_against_hand_written_sql():
    out = run_benchmark(
        "bench_scoring.py",
        *("--answers", "3000", "--advocates", "300", "--actions", "6000", "--rounds", "1"),
    )
    for backend in ("sqlite", "postgresql"):
        assert f"=== {backend} ===" in out
    # the script exits 2 when a scorer's figure differs from the hand-written SQL's
    assert out.count("NPS by month over 3,000 answers") == 2
    assert out.count("CAS for 300 advocates over 6,000 actions") == 2
    assert "scorer / SQL" in out


def test_bench_cli_startup_sees_the_third_party_plugin_and_prints_its_verdict():
    out = run_benchmark("bench_cli_startup.py", "--runs", "2")
    assert "installed third-party plugins (entry-point group 'advokit'): ['tremendous']" in out
    assert "advokit --help / import click" in out
    assert "advokit --help within 2x of import click" in out
