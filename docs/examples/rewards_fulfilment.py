"""Rewards: fulfilment settings, and a signed HTTP fulfiller for coupons."""

# --8<-- [start:plugins]
from datetime import timedelta

from advokit.plugins.rewards import Fulfilment, HttpFulfiller, Rewards

plugins = [
    Rewards(
        fulfilment=Fulfilment(
            max_attempts=8,  # then the reward is dead-lettered
            first_retry=timedelta(seconds=30),  # the backoff's scale
            longest_retry=timedelta(hours=6),
            lease=timedelta(minutes=5),  # longer than the slowest call
            batch_size=100,
            concurrency=8,  # fulfillers called at once, in threads
        ),
    ),
    HttpFulfiller(
        "https://shop.example/advokit/fulfil",
        secret="from-your-vault-32-chars-long!",
        kinds=["coupon"],
    ),
]
# --8<-- [end:plugins]

if __name__ == "__main__":
    from advokit import Program

    program = Program(name="bakery", database_url="sqlite:///bakery.db", plugins=plugins)
    assert set(program.registries.fulfillers) == {"coupon"}  # the HTTP fulfiller's kinds
    assert set(program.registries.workers) == {"fulfilment"}
