"""Every advokit hook, with the docstring that is its reference documentation.

Hooks are grouped by phase: registration (called once, when a
:class:`~advokit.Program` is built), the action pipeline (called for every
recorded action, inside its transaction), and after-commit / error observers.

Conventions that hold for every hook:

* Implementations are plain functions or methods decorated with
  ``@advokit.hookimpl``. They may accept any subset of the arguments below, by
  name. They must not give parameters defaults, make them keyword-only or take
  ``**kwargs``: pluggy passes none of those (a test in advokit enforces this).
* Arguments are frozen values (attrs) unless a hook says otherwise; nothing may
  be mutated. Plugins decide by *returning* values.
* Registration hooks receive a ``register`` callback owned by the program's
  registry. Names are unique per kind; registering a taken name raises
  :class:`~advokit.core.errors.RegistrationConflict` naming both plugins.
* An exception raised inside a pipeline hook rolls back the whole transaction
  and is re-raised as :class:`~advokit.core.errors.PluginError`, which names
  the plugin and the hook.
* Never rely on the order in which plugins run. Where order carries meaning
  (base points, then multipliers, then caps) the program composes an explicit
  chain from the list the developer wrote (``Program(policies=[...])``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from datetime import datetime

    from advokit.core.context import EvaluationContext, Transaction
    from advokit.core.model import Action, Alert, Effect, Outcome, Verdict
    from advokit.core.program import Program
    from advokit.core.registry import Register
    from advokit.plugins.messages import QueuedMessage
    from advokit.plugins.rewards import IssuedReward

#: The one name used for the hook markers, the plugin manager and the entry-point group.
PROJECT = "advokit"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --------------------------------------------------------------------------- registration


@hookspec
def advokit_register_action_kinds(register: Register) -> None:
    """Declare the action kinds this plugin understands.

    When called:
        Once per program, while it is built, before any action is recorded.

    Args:
        register: ``register(kind)`` with an :class:`~advokit.ActionKind`
            naming the kind (``review.posted``) and the data fields it
            requires, with their types. Recording an action of an unknown kind,
            or without a required field, fails before anything is written.

    Returns:
        None. Calling semantics: every implementation is called.

    Example::

        @hookimpl
        def advokit_register_action_kinds(register):
            register(ActionKind(name="review.posted", required={"rating": int}))

    .. versionadded:: 0.1
    """


@hookspec
def advokit_register_effect_policies(register: Register) -> None:
    """Offer named effect policies that a program can put in its policy chain.

    An effect policy is a callable ``policy(ctx, action, effects) -> effects``
    that transforms the effects evaluated for one action (a multiplier, a cap).
    Registering one does not activate it: the developer lists policy names (or
    policy objects) in ``Program(policies=[...])`` and the program runs them in
    that order, never in registration order.

    When called:
        Once per program, while it is built.

    Args:
        register: ``register(policy, name="tier_multiplier")``.

    Returns:
        None. Calling semantics: every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_register_channels(register: Register) -> None:
    """Offer outreach channels (email, SMS, Slack...) by name.

    When called:
        Once per program, while it is built.

    Args:
        register: ``register(channel, name="email")``: an object with
            ``address(advocate)`` and ``send(program, message)``, and
            optionally ``to_advocate = False`` for a channel that reaches the
            business rather than the advocate (see
            :class:`advokit.plugins.messages.Channel`).

    Returns:
        None. Calling semantics: every implementation is called. The messages
        plugin delivers through the registered channels after commit;
        journeys and rules name them in ``SendMessage(channel=...)``.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_register_fulfillers(register: Register) -> None:
    """Offer reward fulfillers by reward kind (``gift_card``, ``coupon``...).

    When called:
        Once per program, while it is built.

    Args:
        register: ``register(fulfiller, name="gift_card")``; the name is the
            :attr:`Reward.kind <advokit.Reward.kind>` it fulfils. A fulfiller
            has ``fulfil(program, reward)`` and may have ``reverse(program,
            reward)`` (:class:`advokit.plugins.rewards.Fulfiller`).

    Returns:
        None. Calling semantics: every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_register_workers(register: Register) -> None:
    """Offer background jobs that ``advokit worker`` runs over and over.

    When called:
        Once per program, while it is built.

    Args:
        register: ``register(job, name="fulfilment")`` with ``job(program) -> int``,
            which does one round of due work (fulfilling rewards, delivering
            messages) and returns how much it did; the worker sleeps when every
            job returned 0.

    Returns:
        None. Calling semantics: every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_register_scorers(register: Register) -> None:
    """Offer metrics (NPS, K-factor...) by name, for ``program.score(name, ...)``.

    When called:
        Once per program, while it is built.

    Args:
        register: ``register(scorer, name="nps")`` with a callable
            ``scorer(program, *, segment, window, by, **options)`` returning an
            :class:`advokit.plugins.scoring.Score`; subclass
            :class:`advokit.plugins.scoring.Scorer`, which validates the
            arguments and hands ``compute`` a scope.

    Returns:
        None. Calling semantics: every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_register_segments(register: Register) -> None:
    """Offer named groups of advocates, usable in every metric (``segment="vip"``).

    When called:
        Once per program, while it is built.

    Args:
        register: ``register(segment)`` with an
            :class:`advokit.plugins.scoring.Segment`: a name and a SQL
            condition on the advocates table.

    Returns:
        None. Calling semantics: every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_register_commands(register: Register) -> None:
    """Add commands to the ``advokit`` command line.

    When called:
        When the CLI runs with a program (``--program``), before it parses the
        subcommand. Import heavy modules inside the command, not at module
        import, so that ``advokit --help`` stays fast.

    Args:
        register: ``register(command)`` with a :class:`click.Command` (or
            group); its ``name`` is the subcommand name.

    Returns:
        None. Calling semantics: every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_register_template_dirs(register: Register) -> None:
    """Add directories to the message-template search path.

    When called:
        Once per program, while it is built.

    Args:
        register: ``register(path, name="myplugin")`` with a directory of
            jinja2 templates.

    Returns:
        None. Calling semantics: every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_register_migrations(register: Register) -> None:
    """Add an alembic version directory for the plugin's own tables.

    Plugins that store data declare sqlmodel tables (on ``SQLModel.metadata``,
    named ``<plugin>_...``) and ship migrations for them as a separate alembic
    branch: the first revision has ``down_revision = None``,
    ``branch_labels = ("<plugin>",)`` and ``depends_on = "advokit"``.
    ``program.migrate()`` and ``advokit db upgrade`` apply every branch.

    When called:
        Once per program, while it is built.

    Args:
        register: ``register(path, name="myplugin")`` with the directory that
            holds the plugin's revision files.

    Returns:
        None. Calling semantics: every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_register_queries(register: Register) -> None:
    """Offer read-only questions about the program as methods of the program.

    A query is a callable ``query(program, *args, **kwargs)``; registered
    under ``name``, it is called as ``program.name(*args, **kwargs)``. The
    tiers plugin registers ``tier`` (``program.tier("ann")``), the challenges
    plugin ``progress``. A name the :class:`~advokit.Program` already has
    (``record``, ``balance``...) cannot be registered.

    When called:
        Once per program, while it is built.

    Args:
        register: ``register(query, name="tier")``.

    Returns:
        None. Calling semantics: every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_configure(program: Program) -> None:
    """Check the plugin's settings against the finished program.

    When called:
        Once per program, after every registration hook has run, so the
        registries are complete. Raise
        :class:`~advokit.core.errors.ConfigurationError` for a setting that
        cannot work (a points rule for an action kind nobody registered).

    Args:
        program: the program being built. Read its registries; do not record
            actions here.

    Returns:
        None. Calling semantics: every implementation is called.

    .. versionadded:: 0.1
    """


# --------------------------------------------------------------------------- pipeline


@hookspec
def advokit_screen(ctx: EvaluationContext, action: Action) -> Verdict | None:
    """Screen an action before it is evaluated: accept, hold for review, or reject.

    Fraud and eligibility checks live here, so that every path that records
    actions (API, import, webhooks, CLI) runs them.

    When called:
        For each new action (not for retries of a recorded key, nor for derived
        actions), inside the recording transaction. A plugin with an
        ``advokit_screens`` attribute (a collection of action kind names) is
        called only for those kinds; without it, for every kind.

    Args:
        ctx: what the plugin may read: ``ctx.now``, ``ctx.program``,
            ``ctx.view`` (balances, advocates, windows; batched and cached).
        action: the action, validated against its kind.

    Returns:
        A :class:`~advokit.Verdict`, or None for no opinion. Calling
        semantics: every implementation is called and the worst verdict wins
        (reject over hold over accept); the reasons of the winning decision are
        recorded with the action. A held action is applied only when a person
        approves it (``program.review``); a rejected one never is. When the
        program's ``review_deadline`` passes with nobody deciding, the tick
        decides by the hold's own default, ``Verdict.hold(reason,
        default="deny")`` (only a person may approve it), or else by the
        program's ``review_default``.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_evaluate(ctx: EvaluationContext, action: Action) -> Iterable[Effect] | None:
    """Decide what follows from an action, as effects.

    This is where rules live (points per kind, badges, referral rewards). It
    must be pure: read state through ``ctx.view``, never write.

    When called:
        For each accepted action and for each derived action (such as
        ``points.changed``), inside the recording transaction. Derived actions
        are evaluated to a bounded depth (``Program(max_derivation_depth=)``).
        A plugin with an ``advokit_evaluates`` attribute (a collection of
        action kind names) is called only for those kinds; without it, for
        every kind. ``points.changed`` is derived only when some plugin takes it.

    Args:
        ctx: ``ctx.now``, ``ctx.program``, ``ctx.view``, ``ctx.depth`` (0 for a
            recorded action, 1+ for derived ones).
        action: the action.

    Returns:
        An iterable of :class:`~advokit.Effect` values, or None. Calling
        semantics: every implementation is called; the effects of all of them
        go, in one tuple, through the program's policy chain and are then
        applied together or not at all. Raise :class:`~advokit.Refused`
        (``Refused("reward.out_of_stock")``) to record the action as
        ``rejected`` with that reason instead: for what only the decision can
        tell (a held action approved after the stock ran out).

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def advokit_apply_effect(tx: Transaction, effect: Effect) -> bool | None:
    """Apply an effect whose type the core does not apply itself.

    The core applies points effects (award, deduct, reverse), ``Tag`` and
    ``HoldForReview``. Plugins that define an effect type (or take over one of
    the later-issue types such as ``GrantBadge``) apply it here.

    When called:
        Once per such effect, in the recording transaction, after the action's
        core effects were checked. A plugin with an ``advokit_applies``
        attribute (a collection of ``Effect`` subclasses) is offered only
        effects of those types; without it, every type.

    Args:
        tx: write your own tables with ``tx.insert`` (a new row; with
            ``unique=`` written once even under concurrency), ``tx.save`` (a
            row guarded by its ``version`` column) and ``tx.add`` (counters):
            the rows are staged and written in bulk with the batch, and taken
            back if the action is refused later on. Staged rows are not in the
            database before the batch ends: ``tx.view.remember`` what you
            staged so that your next read sees it. ``tx.connection`` (a
            SQLAlchemy connection inside the transaction) takes any other
            write, at the price of a savepoint per action. Also
            ``tx.action`` (the action whose effect this is), ``tx.view``,
            ``tx.now`` and ``tx.emit(action)`` to produce a derived action.
        effect: the effect to apply.

    Returns:
        True when the plugin applied the effect, None to let another plugin
        try. Calling semantics: stops at the first non-None result; an effect
        nobody applies is an error.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_tick(program: Program, now: datetime) -> Iterable[Action] | None:
    """Say which time-driven actions are due at ``now``.

    Birthdays, enrolment anniversaries, expiry notices, tier reviews,
    challenge closings: anything that happens because time passed rather than
    because an advocate did something. The program records the returned
    actions through the ordinary pipeline (derived kinds are allowed), so
    their effects apply exactly like those of recorded actions.

    When called:
        By ``program.tick(now)`` (and ``advokit tick``), after points whose
        time has come expired; outside any transaction.

    Args:
        program: the program; query it (in SQL, not advocate by advocate:
            ticks run over every advocate) to find what is due.
        now: the instant of the tick, an aware UTC datetime.

    Returns:
        The due actions, or None. Give each a key that names the event and its
        period (``tier.review:ann:2026-11-22``), never the instant: a second
        tick at the same or a nearby time then returns the same keys, which
        replay instead of applying twice. Calling semantics: every
        implementation is called.

    .. versionadded:: 0.1
    """


# --------------------------------------------------------------------------- observers


@hookspec
def advokit_after_commit(program: Program, outcomes: Sequence[Outcome]) -> None:
    """Observe outcomes once they are durable.

    When called:
        After the transaction that recorded ``outcomes`` committed, outside it.
        Not called for retries that only replayed earlier outcomes.

    Args:
        program: the program.
        outcomes: one :class:`~advokit.Outcome` per newly recorded action, in
            the order they were given.

    Returns:
        None. Calling semantics: every implementation is called. The data is
        already committed: an exception here propagates to the caller as
        :class:`~advokit.core.errors.PluginError`, and a retry of the same
        keys replays the outcomes without applying anything again.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_on_record_error(
    program: Program, actions: Sequence[Action], error: BaseException
) -> None:
    """Observe a recording that failed and was rolled back.

    When called:
        After the transaction for ``actions`` was rolled back because a plugin
        or the database raised, before the error reaches the caller. Errors
        in the input (unknown kind or advocate, missing data, an idempotency
        conflict) and an unmigrated database do not call it.

    Args:
        program: the program.
        actions: the actions of the failed batch (none of them was recorded).
        error: the error about to be raised.

    Returns:
        None. Calling semantics: every implementation is called.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_on_fulfilment_error(
    program: Program, reward: IssuedReward, error: BaseException
) -> None:
    """Observe a reward that was dead-lettered: it will not be fulfilled by itself.

    When called:
        After the transaction that moved ``reward`` to ``failed`` committed,
        because its fulfiller raised ``FulfilmentFailed`` (the provider refused
        it for good, a 400) or its attempts ran out. Also when the fulfiller's
        ``reverse`` of a reversed reward (a refund) is given up on the same
        way. Not called for a try that will be made again.

    Args:
        program: the program.
        reward: the reward as stored now (state ``failed``; ``error`` says why);
            for a reversal given up on, state ``reversed`` and ``error``
            starting ``reversal``.
        error: what the fulfiller raised last (a :class:`~advokit.core.errors.PluginError`
            naming the plugin when it was not one of the fulfilment signals).

    Returns:
        None. Calling semantics: every implementation is called. The move is
        already committed: an exception here propagates to the worker as
        :class:`~advokit.core.errors.PluginError`. A person may send the
        reward back to the queue with ``program.retry_reward(key, ...)``.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_on_delivery_error(
    program: Program, message: QueuedMessage, error: BaseException
) -> None:
    """Observe a message that was dead-lettered: it will not be sent by itself.

    When called:
        After the transaction that moved ``message`` to ``failed`` committed,
        because its channel raised ``DeliveryFailed`` (the provider refused it
        for good: an unknown mailbox, a 400), its template does not render, or
        its attempts ran out. Not called for a try that will be made again,
        nor for a message suppressed for want of consent or an address.

    Args:
        program: the program.
        message: the message as stored now (state ``failed``; ``error`` says why).
        error: what was raised last (a :class:`~advokit.core.errors.PluginError`
            naming the channel's plugin when it was not one of the signals).

    Returns:
        None. Calling semantics: every implementation is called. The move is
        already committed: an exception here propagates to the worker as
        :class:`~advokit.core.errors.PluginError`. A person may send the
        message back to the queue with ``program.retry_message(key, ...)``.

    .. versionadded:: 0.1
    """


@hookspec
def advokit_on_alert(program: Program, alert: Alert) -> None:
    """Observe an alert for the team: a coupon pool running low, a detractor's answer.

    When called:
        Outside any transaction, when a plugin raises an alert
        (``program.hooks.alert(program, alert)``), after what caused it committed.

    Args:
        program: the program.
        alert: an :class:`~advokit.Alert` with a ``topic`` to route by, a
            ``message`` for people and ``data`` for machines.

    Returns:
        None. Calling semantics: every implementation is called. Alerts are
        also logged at WARNING on the ``advokit.alerts`` logger, so that one
        with no observer is not lost. An exception here propagates to the
        caller as :class:`~advokit.core.errors.PluginError`.

    .. versionadded:: 0.1
    """
