"""The program module a deployment runs: `advokit --program operating_app:program ...`."""

# --8<-- [start:app]
import os
from datetime import timedelta

from advokit import Program, Reward
from advokit.plugins.points import Points, PointsRule
from advokit.plugins.rewards import CatalogueItem, CouponPool, Rewards

program = Program(
    name="bakery",
    database_url=os.environ.get("BAKERY_DATABASE_URL", "sqlite:///bakery.db"),
    plugins=[
        Points(
            PointsRule(
                "purchase.completed",
                points=lambda a: a.data["total_cents"] // 100,
                expires_after=timedelta(days=365),
            )
        ),
        Rewards(CatalogueItem(name="coffee", cost=150, reward=Reward(kind="coupon"))),
        CouponPool("coffee-codes", kinds=["coupon"], low_at=10),
    ],
)
# --8<-- [end:app]

if __name__ == "__main__":
    import json
    import subprocess
    import sys
    from pathlib import Path

    from advokit import Action, Advocate

    def advokit(*args):
        run = subprocess.run(
            [
                Path(sys.executable).with_name("advokit"),
                "--program",
                "operating_app:program",
                *args,
            ],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)},
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout

    assert "Upgraded database" in advokit("db", "upgrade")
    program.load_coupons("coffee-codes", ["COFFEE-1", "COFFEE-2"])
    program.enroll(Advocate(external_id="ann"))
    program.record(
        Action(
            kind="purchase.completed",
            advocate="ann",
            key="order-1",
            data={"order_id": "1", "total_cents": 20_000},
        )
    )
    program.redeem("ann", "coffee", key="coffee-1")
    assert json.loads(advokit("worker", "--once")) == {"fulfilment": 1}
    [reward] = program.rewards("ann")
    assert reward.result == {"pool": "coffee-codes", "code": "COFFEE-1"}

    # a year and a day later, the tick expires the 50 points left
    later = program.clock() + timedelta(days=366)
    tick = json.loads(advokit("tick", "--now", later.isoformat()))
    assert tick["expired_points"] == 50, tick
    assert program.balance("ann") == 0
    assert program.tick(later).expired_points == 0  # ticking again does nothing twice
