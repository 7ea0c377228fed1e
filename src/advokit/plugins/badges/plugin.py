"""The badges plugin: progress and awards decided and applied, status and credentials."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit import (
    Action,
    Effect,
    EvaluationContext,
    GrantBadge,
    Transaction,
    hookimpl,
)
from advokit.core import validation as v
from advokit.core.errors import ConfigurationError, InvalidValue, one_of
from advokit.core.model import derived_key
from advokit.core.registry import Register
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.driver import fetch, json_value
from advokit.plugins.badges.criteria import Predicate, Progress, Streak
from advokit.plugins.badges.model import (
    BADGE_GRANTED,
    BADGE_REVOKED,
    KINDS,
    Badge,
    BadgeStatus,
    RevokeBadge,
    SetBadgeProgress,
)
from advokit.plugins.badges.tables import awards_t, states_t

__all__ = ["Badges"]

_STATE = ("badges", "state")
_HELD = ("badges", "held")

MIGRATIONS = Path(__file__).parent.parent / "migrations" / "badges"

_STATES = f"SELECT advocate_id, version, progress FROM {states_t.name} WHERE advocate_id IN (*)"


@attrs.frozen
class _State:
    """An advocate's progress toward every badge, and the version of its row (0: none).

    ``stored`` is the row as read, each badge decoded only when asked for (an
    action moves one or two of them); ``changed`` what this batch changed.
    """

    version: int = 0
    stored: Mapping[str, list[Any]] = {}
    changed: Mapping[str, Progress] = {}

    def get(self, badge: str) -> Progress:
        found = self.changed.get(badge)
        if found is not None:
            return found
        stored = self.stored.get(badge)
        return _NO_PROGRESS if stored is None else Progress.decode(stored)

    def encode(self) -> dict[str, list[Any]]:
        """The row's ``progress`` column."""
        return {**self.stored, **{name: p.encode() for name, p in self.changed.items()}}


_NO_PROGRESS = Progress()
_NO_STATE = _State()


class Badges:
    """The badges plugin: ``Badges(Badge(...), ...)``."""

    plugin_name = "badges"

    def __init__(self, *badges: Badge) -> None:
        self.badges = v.by_name("Badges(badges)", badges, Badge)
        for badge in badges:
            for required in badge.requires:
                if required not in self.badges:
                    raise ConfigurationError(
                        f"Badge({badge.name!r}).requires", required, one_of(self.badges)
                    )
        _refuse_cycles(self.badges)
        self.by_kind: dict[str, list[Badge]] = {}
        for badge in badges:
            for kind in badge.criterion.kinds:
                self.by_kind.setdefault(kind, []).append(badge)
        self.advokit_evaluates = frozenset({*self.by_kind, BADGE_REVOKED})
        self.advokit_applies = (SetBadgeProgress, GrantBadge, RevokeBadge)
        # what is held (not expired, not revoked) is read only when a prerequisite asks
        self._prerequisites = any(badge.requires for badge in badges)
        # kinds a streak counts: only they need the advocate's time zone
        self._zoned = frozenset(
            kind
            for kind, found in self.by_kind.items()
            if any(isinstance(b.criterion, Streak) for b in found)
        )

    def __repr__(self) -> str:
        return f"Badges({', '.join(self.badges)})"

    # -- registration

    @hookimpl
    def advokit_register_action_kinds(self, register: Register) -> None:
        for kind in KINDS:
            register(kind)

    @hookimpl
    def advokit_register_migrations(self, register: Register) -> None:
        register(MIGRATIONS, name="badges")

    @hookimpl
    def advokit_register_queries(self, register: Register) -> None:
        register(self.status, name="badges")
        register(self.credential, name="badge_credential")

    @hookimpl
    def advokit_configure(self, program: Any) -> None:
        v.known_kinds(program, self.by_kind, lambda b: f"Badge({b.name!r}).criterion.kind")

    # -- deciding

    @hookimpl
    def advokit_evaluate(self, ctx: EvaluationContext, action: Action) -> list[Effect] | None:
        if action.kind == BADGE_REVOKED:
            name = action.data["badge"]
            if name not in self.badges:
                raise InvalidValue("badge.revoked data['badge']", name, one_of(self.badges))
            return [RevokeBadge(advocate=action.advocate, badge=name, reason=action.data["reason"])]
        view, advocate = ctx.view, action.advocate
        at = action.occurred_at or ctx.now
        state = self._state(view, advocate)
        held = self._held(view, advocate, at) if self._prerequisites else {}
        # the advocate's time zone, read (batched) only when a streak needs it
        zone = view.timezone(advocate) if action.kind in self._zoned else "UTC"
        effects: list[Effect] = []
        changed: list[tuple[str, Progress]] = []
        for badge in self.by_kind.get(action.kind, ()):
            criterion = badge.criterion
            before = state.get(badge.name)
            if isinstance(criterion, Predicate):
                reached = 1 if criterion.test(ctx, action) else 0
            else:
                after = criterion.advance(before, action, at, zone)  # ``before`` if unchanged
                if after is not before:
                    changed.append((badge.name, after))
                reached = badge.level_reached(criterion.value(after))
            if reached > before.awarded and all(r in held for r in badge.requires):
                for level in range(before.awarded + 1, reached + 1):
                    effects.append(GrantBadge(advocate=advocate, badge=badge.name, level=level))
        if changed:  # one effect for all of them, before the grants they earn
            effects.insert(0, SetBadgeProgress(advocate=advocate, progress=tuple(changed)))
        return effects

    def _state(self, view: Any, advocate: str) -> _State:
        return view.memo(_STATE, advocate, _load_states) or _NO_STATE  # type: ignore[no-any-return]

    def _held(self, view: Any, advocate: str, at: datetime) -> Mapping[str, int]:
        found = view.memo(_HELD, advocate, lambda conn, ids: _held_levels(conn, ids, at))
        return found or {}  # type: ignore[no-any-return]

    # -- applying

    @hookimpl
    def advokit_apply_effect(
        self, tx: Transaction, effect: SetBadgeProgress | GrantBadge | RevokeBadge
    ) -> bool | None:
        if isinstance(effect, SetBadgeProgress):
            self._save_progress(tx, effect)
        elif effect.badge not in self.badges:
            return None  # another plugin's badge, if any
        elif isinstance(effect, GrantBadge):
            self._grant(tx, effect)
        elif isinstance(effect, RevokeBadge):
            self._revoke(tx, effect)
        else:
            return None
        return True

    def _save_progress(self, tx: Transaction, effect: SetBadgeProgress) -> None:
        state = self._state(tx.view, effect.advocate)
        changed = dict(state.changed)
        for name, after in effect.progress:
            awarded = state.get(name).awarded
            if after.awarded < awarded:  # a grant applied since it was decided
                after = attrs.evolve(after, awarded=awarded)
            changed[name] = after
        self._stage(tx, effect.advocate, attrs.evolve(state, changed=changed))

    def _stage(self, tx: Transaction, advocate: str, state: _State) -> None:
        """Save the advocate's row (written once per batch) and remember what it holds."""
        tx.save(
            states_t,
            {"advocate_id": tx.view.advocate_id(advocate)},
            {"program": tx.program.name, "progress": state.encode()},
            read=state.version,  # the stored version, until the batch is written
        )
        tx.view.remember(_STATE, advocate, state)

    def _grant(self, tx: Transaction, effect: GrantBadge) -> None:
        badge = self.badges[effect.badge]
        if effect.level > len(badge.criterion.levels):
            raise InvalidValue(
                "GrantBadge.level", effect.level, f"1 to {len(badge.criterion.levels)}"
            )
        name, level, advocate = effect.badge, effect.level, effect.advocate
        state = self._state(tx.view, advocate)
        before = state.get(name)
        if level <= before.awarded:
            return  # granted once per level, ever
        when = tx.action.occurred_at or tx.now
        tx.insert(
            awards_t,
            {
                "program": tx.program.name,
                "advocate_id": tx.view.advocate_id(advocate),
                "badge": name,
                "level": level,
                "action_key": tx.root_key,
                "awarded_at": when,
                "expires_at": when + badge.expires_after if badge.expires_after else None,
                "revoked_at": None,
                "revoked_reason": None,
            },
            unique=("advocate_id", "badge", "level"),
        )
        changed = {**state.changed, name: attrs.evolve(before, awarded=level)}
        self._stage(tx, advocate, attrs.evolve(state, changed=changed))
        if self._prerequisites:
            held = self._held(tx.view, advocate, when)
            tx.view.remember(_HELD, advocate, {**held, name: max(level, held.get(name, 0))})
        tx.emit(
            Action(
                kind=BADGE_GRANTED,
                advocate=advocate,
                key=derived_key(tx.root_key, f"{BADGE_GRANTED}:{name}:{level}"),
                occurred_at=tx.action.occurred_at,
                data={"badge": name, "level": level},
            )
        )

    def _revoke(self, tx: Transaction, effect: RevokeBadge) -> None:
        name = effect.badge
        tx.update(  # every level, those granted earlier in this batch too
            awards_t,
            {"advocate_id": tx.view.advocate_id(effect.advocate), "badge": name},
            {"revoked_at": tx.now, "revoked_reason": effect.reason},
            where_null=("revoked_at",),  # a concurrent revocation that came first stands
        )
        if self._prerequisites:
            held = self._held(tx.view, effect.advocate, tx.now)
            tx.view.remember(_HELD, effect.advocate, {b: n for b, n in held.items() if b != name})

    # -- queries

    def status(self, program: Any, advocate: str) -> list[BadgeStatus]:
        """``program.badges(advocate)``: every visible badge with level and progress."""
        now = program.clock()
        with database.transaction(program.engine, write=False) as conn:
            row_id = q.advocate_row_id(conn, program.name, advocate)
            awards = _awards(conn, [row_id], now).get(row_id, {})
            state = _load_states(conn, [row_id]).get(row_id) or _NO_STATE
        shown = []
        for badge in self.badges.values():
            level, awarded_at, expires_at = awards.get(badge.name, (0, None, None))
            if badge.hidden and not level:
                continue
            value = badge.criterion.value(state.get(badge.name))
            levels = badge.criterion.levels
            shown.append(
                BadgeStatus(
                    badge=badge,
                    level=level,
                    value=value,
                    next_threshold=levels[level] if level < len(levels) else None,
                    awarded_at=awarded_at,
                    expires_at=expires_at,
                )
            )
        return shown

    def credential(
        self,
        program: Any,
        advocate: str,
        badge: str,
        *,
        issuer: Mapping[str, str],
        level: int | None = None,
    ) -> dict[str, Any]:
        """``program.badge_credential(...)``: an awarded badge as an Open Badges 3.0 credential.

        Unsigned (add a proof with your own keys). ``issuer`` needs ``id`` (a
        URL of the issuing organisation) and ``name``; ``level`` defaults to
        the highest held.
        """
        if badge not in self.badges:
            raise InvalidValue("badge", badge, one_of(self.badges))
        if not isinstance(issuer, Mapping) or not {"id", "name"} <= set(issuer):
            raise InvalidValue("issuer", issuer, "a mapping with 'id' (a URL) and 'name'")
        definition = self.badges[badge]
        t = awards_t
        with database.transaction(program.engine, write=False) as conn:
            row_id = q.advocate_row_id(conn, program.name, advocate)
            query = sa.select(t).where(
                t.c.advocate_id == row_id, t.c.badge == badge, t.c.revoked_at.is_(None)
            )
            if level is not None:
                query = query.where(t.c.level == level)
            award = conn.execute(query.order_by(t.c.level.desc()).limit(1)).first()
        if award is None:
            raise InvalidValue(
                "badge", badge, f"a badge {advocate!r} holds (not revoked) at that level"
            )
        levels = definition.criterion.levels
        suffix = f" ({award.level} of {len(levels)})" if len(levels) > 1 else ""
        base = issuer["id"].rstrip("/")
        achievement: dict[str, Any] = {
            "id": f"{base}/badges/{badge}/{award.level}",
            "type": ["Achievement"],
            "achievementType": "Badge",
            "name": definition.title + suffix,
            "description": definition.description or definition.title,
            "criteria": {
                "narrative": definition.criterion.describe().format(n=levels[award.level - 1])
            },
        }
        if definition.image:
            achievement["image"] = {"id": definition.image, "type": "Image"}
        credential: dict[str, Any] = {
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            ],
            "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{base}/awards/{award.id}')}",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": achievement["name"],
            "issuer": {"id": issuer["id"], "type": ["Profile"], "name": issuer["name"]},
            "validFrom": award.awarded_at.isoformat(),
            "credentialSubject": {
                "id": f"urn:advokit:{program.name}:advocate:{advocate}",
                "type": ["AchievementSubject"],
                "achievement": achievement,
            },
        }
        if award.expires_at is not None:
            credential["validUntil"] = award.expires_at.isoformat()
        return credential


# --------------------------------------------------------------------------- reads


def _load_states(conn: Connection, ids: Sequence[int]) -> dict[int, _State]:
    return {
        advocate_id: _State(version, json_value(progress))
        for advocate_id, version, progress in fetch(conn, _STATES, (), ids)
    }


def _awards(
    conn: Connection, ids: Sequence[int], at: datetime
) -> dict[int, dict[str, tuple[int, datetime, datetime | None]]]:
    """Badges held at ``at`` (not revoked, not expired): highest level, its time and expiry."""
    t = awards_t
    found: dict[int, dict[str, tuple[int, datetime, datetime | None]]] = {}
    for part in q.chunks(ids):
        rows = conn.execute(
            sa.select(t.c.advocate_id, t.c.badge, t.c.level, t.c.awarded_at, t.c.expires_at)
            .where(
                t.c.advocate_id.in_(part),
                t.c.revoked_at.is_(None),
                sa.or_(t.c.expires_at.is_(None), t.c.expires_at > at),
            )
            .order_by(t.c.level)
        )
        for advocate_id, badge, level, awarded_at, expires_at in rows:
            found.setdefault(advocate_id, {})[badge] = (level, awarded_at, expires_at)
    return found


def _held_levels(conn: Connection, ids: Sequence[int], at: datetime) -> dict[int, dict[str, int]]:
    """The highest level of each badge held at ``at`` (not revoked, not expired)."""
    return {
        advocate_id: {badge: level for badge, (level, _, _) in awards.items()}
        for advocate_id, awards in _awards(conn, ids, at).items()
    }


def _refuse_cycles(badges: Mapping[str, Badge]) -> None:
    """Refuse prerequisites that lead back to the badge itself (A needs B needs A)."""

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            cycle = " -> ".join((*path[path.index(name) :], name))
            raise ConfigurationError(
                f"Badge({name!r}).requires", cycle, "prerequisites without a cycle"
            )
        for required in badges[name].requires:
            visit(required, (*path, name))

    for name in badges:
        visit(name, ())
