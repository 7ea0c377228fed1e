"""Coupon codes as rewards: a pool the program loads, each code handed out once.

::

    Program(
        name="bakery",
        plugins=[Rewards(...), CouponPool("welcome", kinds=["coupon"], low_at=50)],
    )
    program.load_coupons("welcome", "codes.csv")   # or a list of codes

A ``coupon`` reward is fulfilled with the oldest free code of the pool, taken
in one transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that workers
do not queue behind each other) and tied to the reward's key: a second try for
the same reward (after a crash) finds the code it already has. When the pool
falls to ``low_at`` free codes, and when it runs out, an alert is raised
(``advokit_on_alert``, topics ``rewards.coupons_low`` and
``rewards.coupons_empty``). A reward finding the pool empty waits
(``approved``, its ``error`` saying so) without using up its attempts, until
codes are loaded.

``CouponPool(name, generate="BAKE-{code}", secret=...)`` makes codes instead:
each derived from the reward's key with HMAC-SHA256, so a retried reward gets
the same code, and recorded in the pool's table so that the shop can list them.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import logging
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from advokit import Alert
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, InvalidValue
from advokit.core.store import database
from advokit.core.store.driver import dialect_insert
from advokit.plugins.rewards.fulfilment import ByKind, RetryLater, check_kinds
from advokit.plugins.rewards.model import IssuedReward
from advokit.plugins.rewards.tables import coupon_pools_t, coupons_t

__all__ = ["CouponPool", "LoadReport", "coupons_left", "load_coupons"]

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_CODE = re.compile(r"[!-~]{1,64}")  # printable ASCII, no spaces
_FREE = sa.text("reward_key IS NULL")  # literally the partial index's condition
_CHUNK = 1000

log = logging.getLogger("advokit.rewards")


@attrs.frozen
class LoadReport:
    """What ``program.load_coupons`` did: codes added, and codes the pool had already."""

    pool: str
    loaded: int
    already: int


class CouponPool(ByKind):
    """A fulfiller of coupon rewards from the pool ``name``.

    Args:
        name: the pool's name (``"welcome"``).
        kinds: the reward kinds it fulfils.
        low_at: raise ``rewards.coupons_low`` when this many free codes are left.
        generate: make codes with this pattern (``"BAKE-{code}"``) instead of
            handing out loaded ones; needs ``secret``.
        secret: the HMAC key generated codes are derived with.
        wait: how long a reward waits before looking again when the pool is empty.
    """

    def __init__(
        self,
        name: str,
        *,
        kinds: Collection[str] = ("coupon",),
        low_at: int = 50,
        generate: str | None = None,
        secret: str | None = None,
        wait: timedelta = timedelta(minutes=10),
    ) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigurationError("CouponPool.name", name, "a lower-case name such as 'welcome'")
        if not (v.is_int(low_at) and low_at >= 0):
            raise ConfigurationError("CouponPool.low_at", low_at, "a whole number, 0 or more")
        if generate is not None:
            if not isinstance(generate, str) or generate.count("{code}") != 1:
                raise ConfigurationError(
                    "CouponPool.generate",
                    generate,
                    "a pattern with one {code}, such as 'BAKE-{code}'",
                )
            try:
                sample = generate.format(code="A" * 12)
            except (KeyError, IndexError, ValueError):
                sample = None  # another {field}, or a stray brace
            if sample is None or not _CODE.fullmatch(sample):
                raise ConfigurationError(
                    "CouponPool.generate",
                    generate,
                    "a pattern with no other {field}, making codes of at most 64 printable "
                    "characters without spaces",
                )
            v.secret("CouponPool.secret", secret)
        if not isinstance(wait, timedelta) or wait <= timedelta(0):
            raise ConfigurationError("CouponPool.wait", wait, "a positive timedelta")
        self.name = name
        self.kinds = check_kinds("CouponPool", kinds)
        self.low_at = low_at
        self.generate = generate
        self.wait = wait
        self.plugin_name = f"coupons-{name}"
        self._secret = secret

    def __repr__(self) -> str:
        return f"CouponPool({self.name!r}, kinds={list(self.kinds)!r})"

    def fulfil(self, program: Any, reward: IssuedReward) -> Mapping[str, Any]:
        if self.generate is not None:
            return {"pool": self.name, "code": self._generated(program, reward, self.generate)}
        code, left = database.retrying(lambda: self._take(program, reward.key))
        if code is None:
            log.warning("coupon pool %r is empty: reward %s waits", self.name, reward.key)
            raise RetryLater(
                f"coupon pool {self.name!r} is empty: load codes with program.load_coupons",
                after=self.wait,
                counts=False,
            )
        if left in (self.low_at, 0):  # crossed just now: one alert per crossing
            topic = "rewards.coupons_empty" if left == 0 else "rewards.coupons_low"
            alert = Alert(
                topic=topic,
                message=f"coupon pool {self.name!r} has {left} codes left",
                data={"pool": self.name, "left": left},
            )
            try:
                program.hooks.alert(program, alert)
            except Exception:  # the code is taken and committed: the reward is fulfilled
                log.exception("the alert %s failed (it was logged first)", topic)
        return {"pool": self.name, "code": code}

    def _take(self, program: Any, key: str) -> tuple[str | None, int | None]:
        """The reward's code (taking the oldest free one), and the free codes left then."""
        c = coupons_t.c
        mine = (c.program == program.name, c.pool == self.name)
        now = program.clock()
        with database.transaction(program.engine) as conn:
            had = conn.execute(sa.select(c.code).where(*mine, c.reward_key == key)).scalar()
            if had is not None:  # handed to this reward before a crash: the same code
                return had, None
            free = conn.execute(
                sa.select(c.id, c.code)
                .where(*mine, _FREE)
                .order_by(c.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if free is None:
                return None, None
            try:
                taken = conn.execute(
                    coupons_t.update()
                    .where(c.id == free.id, c.reward_key.is_(None))
                    .values(reward_key=key, issued_at=now)
                ).rowcount
            except IntegrityError:  # another worker gave this reward a code meanwhile
                raise database.RetryTransaction from None
            if taken != 1:
                raise database.RetryTransaction
            # last, so that the pool's row is locked for the shortest time
            return free.code, _count_down(conn, program.name, self.name)

    def _generated(self, program: Any, reward: IssuedReward, pattern: str) -> str:
        digest = hmac.new(
            (self._secret or "").encode(), f"{program.name}\0{reward.key}".encode(), hashlib.sha256
        ).digest()
        code = pattern.format(code=base64.b32encode(digest).decode()[:12])
        with database.transaction(program.engine) as conn:
            insert = dialect_insert(conn, coupons_t)
            conn.execute(
                insert.values(
                    program=program.name,
                    pool=self.name,
                    code=code,
                    reward_key=reward.key,
                    loaded_at=program.clock(),
                    issued_at=program.clock(),
                ).on_conflict_do_nothing()
            )
        return code


def load_coupons(program: Any, pool: str, codes: str | Path | Iterable[str]) -> LoadReport:
    """``program.load_coupons(pool, codes)``: add codes to a pool, each once.

    ``codes`` is a CSV file's path (the first column; a first row ``code`` is
    a header) or the codes themselves. Codes the pool has already are skipped,
    so loading the same file twice adds nothing.
    """
    if not isinstance(pool, str) or not _NAME.fullmatch(pool):
        raise InvalidValue("pool", pool, "a coupon pool's name such as 'welcome'")
    found = list(dict.fromkeys(_read_codes(codes)))
    for code in found:
        if not _CODE.fullmatch(code):
            raise InvalidValue("code", code, "1 to 64 printable characters without spaces")
    now = program.clock()

    def load() -> int:
        added = 0
        with database.transaction(program.engine) as conn:
            for start in range(0, len(found), _CHUNK):
                rows = [
                    {"program": program.name, "pool": pool, "code": code, "loaded_at": now}
                    for code in found[start : start + _CHUNK]
                ]
                insert = dialect_insert(conn, coupons_t).values(rows).on_conflict_do_nothing()
                added += _inserted(conn, insert)
            if added:
                _count_up(conn, program.name, pool, added)
        return added

    added = database.retrying(load)
    return LoadReport(pool=pool, loaded=added, already=len(found) - added)


def coupons_left(program: Any, pool: str) -> int:
    """``program.coupons_left(pool)``: the codes not handed out yet."""
    k = coupon_pools_t.c
    with database.transaction(program.engine, write=False) as conn:
        free = conn.execute(
            sa.select(k.free).where(k.program == program.name, k.pool == pool)
        ).scalar()
        return _count_free(conn, program.name, pool) if free is None else int(free)


def _inserted(conn: Any, insert: Any) -> int:
    """The rows an ``INSERT ... ON CONFLICT DO NOTHING`` added. SQLite's rowcount says it
    (RETURNING would need SQLite 3.35); psycopg's is -1 there, so PostgreSQL returns them."""
    if conn.dialect.name == "postgresql":
        return len(conn.execute(insert.returning(sa.literal(1))).all())
    return int(conn.execute(insert).rowcount)


def _count_free(conn: Any, program: str, pool: str) -> int:
    c = coupons_t.c
    free = sa.select(sa.func.count()).where(c.program == program, c.pool == pool, _FREE)
    return int(conn.execute(free).scalar_one())


def _count_up(conn: Any, program: str, pool: str, added: int) -> None:
    """Count ``added`` more free codes in the pool."""
    insert = dialect_insert(conn, coupon_pools_t)
    conn.execute(
        insert.values(program=program, pool=pool, free=added).on_conflict_do_update(
            index_elements=["program", "pool"],
            set_={"free": coupon_pools_t.c.free + insert.excluded.free},
        )
    )


def _count_down(conn: Any, program: str, pool: str) -> int:
    """Count one code less; the free codes left. Takers wait for each other here
    (the pool's row lock), so each sees its own count: none misses the low mark."""
    k = coupon_pools_t.c
    mine = (k.program == program, k.pool == pool)
    for _ in range(2):
        if conn.execute(coupon_pools_t.update().where(*mine).values(free=k.free - 1)).rowcount:
            return int(conn.execute(sa.select(k.free).where(*mine)).scalar_one())
        # not counted yet (codes put in the table by hand): the first taker counts them,
        # the others, finding its count there, count down from it
        left = _count_free(conn, program, pool)
        insert = dialect_insert(conn, coupon_pools_t).values(program=program, pool=pool, free=left)
        if _inserted(conn, insert.on_conflict_do_nothing()):
            return left
    raise database.RetryTransaction


def _read_codes(codes: str | Path | Iterable[str]) -> Iterable[str]:
    if isinstance(codes, str | Path):
        path = Path(codes)
        if not path.is_file():
            raise InvalidValue("codes", str(codes), "the path of a CSV file, or a list of codes")
        with path.open(newline="", encoding="utf-8-sig") as file:
            for number, row in enumerate(csv.reader(file)):
                if not row or not row[0].strip():
                    continue
                if number == 0 and row[0].strip().lower() == "code":
                    continue  # the header
                yield row[0].strip()
        return
    for code in codes:
        if not isinstance(code, str):
            raise InvalidValue("code", code, "a text")
        yield code.strip()
