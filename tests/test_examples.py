"""The examples in examples/ run and do what their docstrings say."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_coffee_shop_month(tmp_path, capsys):
    coffee_shop = load("coffee_shop")
    result = coffee_shop.main(["--database-url", f"sqlite:///{tmp_path / 'shop.db'}"])
    # ana: 28 days x 4 points; ben: 10 x 12 + referral 200 + birthday 50;
    # chloe: 600 (catering) + 3 reviews x 25 + the June challenge's 100
    assert result["balances"] == {"ana": 112, "ben": 370, "chloe": 775}
    assert result["tiers"] == {"ana": "bronze", "ben": "bronze", "chloe": "silver"}
    assert result["badges"] == {
        "ana": {"regular": 2},  # a 28-day visit streak: both levels (3 and 7 days)
        "ben": {"first_referral": 1},
        "chloe": {"critic": 1},
    }
    # the clock is now on 29 June: June's challenge is still running
    assert result["challenges"]["chloe"] == [("monthly_reviews", "2026-06", True)]
    assert result["challenges"]["ana"] == [("monthly_reviews", "2026-06", False)]
    assert result["this_month"] == [(1, "chloe", 775), (2, "ben", 370), (3, "ana", 112)]
    assert "chloe: 775 points, silver, badges: critic 1" in capsys.readouterr().out


def test_the_coffee_shop_runs_as_a_script(tmp_path):
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "coffee_shop.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "this month: 1. chloe (775)" in run.stdout
    assert (tmp_path / "coffee-shop.db").exists()


def test_the_referral_bakery(tmp_path, capsys):
    bakery = load("referral_bakery")
    result = bakery.main(["--database-url", f"sqlite:///{tmp_path / 'bakery.db'}"])
    signups = result["signups"]
    assert [name for name, (status, _) in signups.items() if status == "applied"] == [
        "carla",
        "dev",
        "eli",
        "fay",
    ]
    # Ana's other address is her own inbox; Gus signed up in Ana's own browser
    status, (reason,) = signups["ana-2"]
    assert status == "rejected" and "self_referral.email (+100)" in reason
    assert signups["gus"] == ("held", ("fraud score 60 >= 50: same.ip_user_agent (+60)",))
    assert [key for key, _ in result["held"]] == ["signup-gus"]
    # Fay's refund during the hold voided hers; Eli's first purchase was too small
    assert result["referrals"] == {
        "carla": "rewarded",
        "dev": "rewarded",
        "eli": "rewarded",
        "fay": "voided",
        "gus": "rewarded",
    }
    # a free coffee (150) for each of 4 rewarded referrals, and a cake (500) at the third
    assert result["balances"] == {
        "ana": 4 * 150 + 500,
        "carla": 120,
        "dev": 120,
        "eli": 120,
        "fay": 0,
        "gus": 120,
    }
    stats = result["stats"]
    assert (stats.attributed, stats.converted, stats.rewarded, stats.voided) == (5, 5, 4, 1)
    assert "Ana: 1100 points" in capsys.readouterr().out
