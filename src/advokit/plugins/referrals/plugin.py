"""The referrals plugin: codes and links handed out, found again, deactivated."""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit import hookimpl
from advokit.core import validation as v
from advokit.core.errors import AdvokitError, ConfigurationError, InvalidValue
from advokit.core.registry import Register
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.driver import dialect_insert
from advokit.plugins.referrals import codes
from advokit.plugins.referrals.model import KINDS, ReferralCode
from advokit.plugins.referrals.tables import codes_t

__all__ = ["Referrals"]

MIGRATIONS = Path(__file__).parent.parent / "migrations" / "referrals"

#: Draws of a new code before giving up (each collides with odds of codes in use / 29^length).
_DRAWS = 10

T = TypeVar("T")


class Referrals:
    """The referrals plugin.

    Args:
        link: the share link's URL template, with ``{code}`` where the code
            goes (``"https://bakery.example/r/{code}"``); None for codes
            handed out without a link (printed on a card, read aloud).
        code_length: characters in a generated code (6 to 16).
        code_lifetime: how long a generated code stays usable (None: until
            deactivated).
    """

    plugin_name = "referrals"
    advokit_evaluates: frozenset[str] = frozenset()  # referral.shared is data for other rules

    def __init__(
        self,
        *,
        link: str | None = None,
        code_length: int = 8,
        code_lifetime: timedelta | None = None,
    ) -> None:
        if link is not None:
            _check_link(link)
        if not v.is_int(code_length) or not 6 <= code_length <= 16:
            raise ConfigurationError("Referrals.code_length", code_length, "an integer, 6 to 16")
        if code_lifetime is not None and (
            not isinstance(code_lifetime, timedelta) or code_lifetime <= timedelta(0)
        ):
            raise ConfigurationError(
                "Referrals.code_lifetime", code_lifetime, "a positive timedelta or None"
            )
        self.link = link
        self.code_length = code_length
        self.code_lifetime = code_lifetime

    def __repr__(self) -> str:
        return f"Referrals(link={self.link!r})"

    # -- registration

    @hookimpl
    def advokit_register_action_kinds(self, register: Register) -> None:
        for kind in KINDS:
            register(kind)

    @hookimpl
    def advokit_register_migrations(self, register: Register) -> None:
        register(MIGRATIONS, name="referrals")

    @hookimpl
    def advokit_register_queries(self, register: Register) -> None:
        register(self.referral_code, name="referral_code")
        register(self.referral_codes, name="referral_codes")
        register(self.find_referral_code, name="find_referral_code")
        register(self.deactivate_referral_code, name="deactivate_referral_code")

    # -- codes

    def referral_code(
        self,
        program: Any,
        advocate: str,
        *,
        vanity: str | None = None,
        expires_at: datetime | None = None,
    ) -> ReferralCode:
        """``program.referral_code(advocate)``: the advocate's code, made on first use.

        Without ``vanity``, the advocate's generated code: the one in use, or a
        new one (also when the last one expired); one per advocate whatever
        the number of processes asking at once. With ``vanity``, that code
        for the advocate (asking again returns it); a code someone else uses
        is refused. ``expires_at`` sets the expiry of a code made now.
        """
        now = program.clock()
        if expires_at is not None:
            expires_at = v.instant("expires_at", expires_at)
            if expires_at <= now:
                raise InvalidValue("expires_at", expires_at, f"a time after now ({now})")
        chosen = None if vanity is None else codes.vanity(vanity)

        def attempt(conn: Connection) -> ReferralCode:
            row_id = q.advocate_row_id(conn, program.name, advocate)
            if chosen is not None:
                return self._vanity(conn, program, advocate, row_id, chosen, now, expires_at)
            return self._generated(conn, program, advocate, row_id, now, expires_at)

        return self._writing(program, attempt)

    def _generated(
        self,
        conn: Connection,
        program: Any,
        advocate: str,
        row_id: int,
        now: datetime,
        expires_at: datetime | None,
    ) -> ReferralCode:
        t = codes_t
        in_use = sa.select(t).where(
            t.c.advocate_id == row_id, sa.not_(t.c.vanity), t.c.deactivated_at.is_(None)
        )
        current = conn.execute(in_use).first()
        if current is not None:
            if current.expires_at is None or current.expires_at > now:
                return self._code(current, advocate)
            # expired: retire it, so that the advocate gets a new one
            conn.execute(t.update().where(t.c.id == current.id).values(deactivated_at=now))
        if expires_at is None and self.code_lifetime is not None:
            expires_at = now + self.code_lifetime
        insert = dialect_insert(conn, t).on_conflict_do_nothing()
        for _ in range(_DRAWS):
            row = {
                "program": program.name,
                "code": codes.generate(self.code_length),
                "advocate_id": row_id,
                "vanity": False,
                "created_at": now,
                "expires_at": expires_at,
                "deactivated_at": None,
            }
            if conn.execute(insert, row).rowcount == 1:
                return self._code(row, advocate)
            # taken: either the code (draw again) or, by another process, the advocate's code
            current = conn.execute(in_use).first()
            if current is not None:
                return self._code(current, advocate)
        raise AdvokitError(
            f"drew {_DRAWS} referral codes already in use: raise Referrals(code_length=...) "
            f"above {self.code_length}"
        )

    def _vanity(
        self,
        conn: Connection,
        program: Any,
        advocate: str,
        row_id: int,
        code: str,
        now: datetime,
        expires_at: datetime | None,
    ) -> ReferralCode:
        t = codes_t
        row = {
            "program": program.name,
            "code": code,
            "advocate_id": row_id,
            "vanity": True,
            "created_at": now,
            "expires_at": expires_at,
            "deactivated_at": None,
        }
        if conn.execute(dialect_insert(conn, t).on_conflict_do_nothing(), row).rowcount == 1:
            return self._code(row, advocate)
        found = conn.execute(
            sa.select(t).where(t.c.program == program.name, t.c.code == code)
        ).first()
        if found is None or found.advocate_id != row_id or found.deactivated_at is not None:
            raise InvalidValue("vanity", code, "a code nobody else uses or used")
        return self._code(found, advocate)

    def referral_codes(self, program: Any, advocate: str) -> list[ReferralCode]:
        """``program.referral_codes(advocate)``: every code the advocate was given, oldest first."""
        t = codes_t
        with database.transaction(program.engine, write=False) as conn:
            row_id = q.advocate_row_id(conn, program.name, advocate)
            rows = conn.execute(sa.select(t).where(t.c.advocate_id == row_id).order_by(t.c.id))
            return [self._code(row, advocate) for row in rows]

    def find_referral_code(
        self, program: Any, code: str, *, at: datetime | None = None
    ) -> ReferralCode:
        """``program.find_referral_code(code)``: the code as typed, if a friend may use it.

        Case, spaces and dashes are ignored. An unknown, deactivated or
        expired code (at ``at``, default now) raises :class:`InvalidValue`.
        """
        when = program.clock() if at is None else v.instant("at", at)
        normal = codes.normalise(code)
        t, a = codes_t, q.advocates_t
        with database.transaction(program.engine, write=False) as conn:
            row = conn.execute(
                sa.select(t, a.c.external_id)
                .join(a, a.c.id == t.c.advocate_id)
                .where(t.c.program == program.name, t.c.code == normal)
            ).first()
        if row is None:
            raise InvalidValue("code", code, f"a referral code of program {program.name!r}")
        found = self._code(row, row.external_id)
        if found.deactivated_at is not None:
            raise InvalidValue("code", code, f"a code in use (deactivated {found.deactivated_at})")
        if not found.usable_at(when):
            raise InvalidValue("code", code, f"a code in use (expired {found.expires_at})")
        return found

    def deactivate_referral_code(self, program: Any, code: str) -> ReferralCode:
        """``program.deactivate_referral_code(code)``: nobody may use it any more.

        Deactivating twice keeps the first time. The advocate's next
        ``referral_code()`` makes a new generated code.
        """
        normal = codes.normalise(code)
        now = program.clock()
        t, a = codes_t, q.advocates_t

        def attempt(conn: Connection) -> ReferralCode:
            conn.execute(
                t.update()
                .where(
                    t.c.program == program.name, t.c.code == normal, t.c.deactivated_at.is_(None)
                )
                .values(deactivated_at=now)
            )
            row = conn.execute(
                sa.select(t, a.c.external_id)
                .join(a, a.c.id == t.c.advocate_id)
                .where(t.c.program == program.name, t.c.code == normal)
            ).first()
            if row is None:
                raise InvalidValue("code", code, f"a referral code of program {program.name!r}")
            return self._code(row, row.external_id)

        return self._writing(program, attempt)

    # -- helpers

    def _code(self, row: Any, advocate: str) -> ReferralCode:
        values = row if isinstance(row, dict) else row._mapping
        code = values["code"]
        return ReferralCode(
            code=code,
            advocate=advocate,
            link=None if self.link is None else self.link.format(code=code),
            vanity=bool(values["vanity"]),
            created_at=values["created_at"],
            expires_at=values["expires_at"],
            deactivated_at=values["deactivated_at"],
        )

    @staticmethod
    def _writing(program: Any, attempt: Callable[[Connection], T]) -> T:
        def run() -> T:
            with database.transaction(program.engine) as conn:
                return attempt(conn)

        return database.retrying(run)


def _check_link(link: Any) -> None:
    accepted = "an http(s) URL template with {code} and no other field"
    if not isinstance(link, str):
        raise ConfigurationError("Referrals.link", link, accepted)
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(link) if name is not None}
    except ValueError:
        raise ConfigurationError("Referrals.link", link, accepted) from None
    if fields != {"code"} or urlsplit(link).scheme not in ("http", "https"):
        raise ConfigurationError("Referrals.link", link, accepted)
