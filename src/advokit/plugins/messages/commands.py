"""``advokit templates``: check and preview a program's message templates.

::

    advokit templates check [--kind KIND ...] [--locale LOCALE ...]
    advokit templates preview KIND --advocate ID [--context JSON]
                              [--category marketing|transactional] [--channel NAME]
                              [--json]

Registered by the messages plugin (``advokit_register_commands``). ``check``
renders every kind in every locale folder against sample data
(``samples/{kind}.json``) and exits 1 if one does not render: run it in CI
after editing templates. ``preview`` renders one message as an enrolled
advocate would get it. Neither queues nor sends anything.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import click
import jinja2

from advokit import Advocate
from advokit.cli import CLIError, current_program, plugin_of
from advokit.core.errors import one_of
from advokit.plugins.messages.model import Category, Rendered
from advokit.plugins.messages.plugin import Messages, advocate_context, template_context
from advokit.plugins.messages.templates import TemplateError, Templates

__all__ = ["templates_group"]

_SAMPLE_TOKEN = "sample-token"
_HEADINGS = (("subject", "Subject"), ("text", "Text"), ("html", "HTML"), ("sms", "SMS"))


@click.group("templates")
def templates_group() -> None:
    """The program's message templates: check them, preview a message."""


@templates_group.command("check")
@click.option("--kind", "kinds", multiple=True, metavar="KIND", help="Only these kinds.")
@click.option("--locale", "locales", multiple=True, metavar="LOCALE", help="Only these locales.")
def check_command(kinds: tuple[str, ...], locales: tuple[str, ...]) -> None:
    """Render every template, in every locale, with sample data.

    Prints a line per kind and locale, ``ok`` or why it does not render, and
    exits 1 if one does not. A kind's sample context is
    ``samples/{kind}.json`` in a template folder (a JSON object), with
    ``advocate``, ``program`` and ``unsubscribe_url`` added as when sending.
    Nothing is queued or sent.
    """
    program = current_program()
    messages = plugin_of(program, Messages)
    templates = messages.templates(program)
    every = templates.kinds()
    for option, asked, known in (
        ("--kind", kinds, {kind for _, kind in every}),
        ("--locale", locales, {locale for locale, _ in every}),
    ):
        for name in asked:
            if name not in known:
                raise CLIError(f"{option}={name!r} is not valid: expected {one_of(known)}")
    chosen = sorted(
        (kind, locale)
        for locale, kind in every
        if (not kinds or kind in kinds) and (not locales or locale in locales)
    )
    if not chosen:
        found = ", ".join(f"{kind} ({locale})" for locale, kind in every) or "none"
        raise CLIError(f"no template matches --kind and --locale: the templates are {found}")
    width = max(len(kind) for kind, _ in chosen)
    locale_width = max(len(locale) for _, locale in chosen)
    failed = 0
    for kind, locale in chosen:
        problem = _check(program, messages, templates, kind, locale)
        failed += problem is not None
        click.echo(f"{kind:<{width}}  {locale:<{locale_width}}  {problem or 'ok'}".rstrip())
    click.echo(f"{len(chosen)} checked, {failed} failed")
    if failed:
        click.get_current_context().exit(1)


def _check(
    program: Any, messages: Messages, templates: Templates, kind: str, locale: str
) -> str | None:
    """Why ``kind`` does not render in ``locale`` with its sample (None: it does)."""
    try:
        sample = templates.sample(kind)
        context = _sample_context(program, messages, locale, sample or {})
        templates.render(kind, locale, context)
    except TemplateError as error:
        problem = f"error: {error}"
        where = None if error.template is None else templates.path(error.template)
        if where is not None:
            problem += f" (in {where})"
        if isinstance(error.__cause__, jinja2.UndefinedError):
            file = templates.sample_file(kind)
            if file is not None:
                problem += f"; add it to the sample data {file}"
            else:
                # next to the broken template (any folder's samples/ would do)
                folder = templates.folders[0] if where is None else where.parent.parent
                problem += f"; no sample data: add {folder / 'samples' / f'{kind}.json'}"
        return problem
    return None


def _sample_context(
    program: Any, messages: Messages, locale: str | None, sample: dict[str, Any]
) -> dict[str, Any]:
    """The context a template gets when ``check`` renders it: ``sample`` and the
    standard keys, as ``Messages.compose`` builds them for a marketing message.

    An ``advocate`` object in the sample updates the sample advocate (its
    ``attributes``, say), since templates cannot be given one otherwise.
    """
    who = Advocate(external_id="sample", name="Ann Example", locale=locale or "en")
    advocate = advocate_context(who)
    given = sample.get("advocate")
    if isinstance(given, dict):
        advocate.update(given)
    url = messages.unsubscribe_url
    # never None, so that the unsubscribe part of marketing templates is rendered too
    url = (
        f"https://unsubscribe.example/{_SAMPLE_TOKEN}"
        if url is None
        else url.format(token=_SAMPLE_TOKEN)
    )
    return template_context(program.name, advocate, sample, url)


@templates_group.command("preview")
@click.argument("kind")
@click.option("--advocate", required=True, metavar="ID", help="The advocate's external id.")
@click.option("--context", "context_json", metavar="JSON", help="The context, a JSON object.")
@click.option(
    "--category",
    type=click.Choice([category.value for category in Category]),
    default=Category.MARKETING.value,
    show_default=True,
    help="Marketing messages carry the unsubscribe link.",
)
@click.option("--channel", default="email", show_default=True, help="The channel it goes on.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def preview_command(
    kind: str,
    advocate: str,
    context_json: str | None,
    category: str,
    channel: str,
    as_json: bool,
) -> None:
    """Show the message of KIND as ADVOCATE would get it, without sending it.

    Each part (subject, text, HTML, SMS) under a heading; the SMS with the
    number of segments it is billed as.
    """
    from advokit.plugins.channels.segments import count_segments

    context: Any = {}
    if context_json is not None:
        try:
            context = json.loads(context_json)
        except json.JSONDecodeError as error:
            raise CLIError(f"--context is not valid JSON: {error}") from None
        if not isinstance(context, dict):
            raise CLIError(f"--context={context_json!r} is not valid: expected a JSON object")
    program = current_program()
    rendered: Rendered = program.preview(
        kind, advocate, context=context, category=category, channel=channel
    )
    segments = None if rendered.sms is None else count_segments(rendered.sms)
    if as_json:
        shown = {
            "kind": kind,
            "advocate": advocate,
            "category": category,
            **{field: getattr(rendered, field) for field, _ in _HEADINGS},
            "sms_segments": None if segments is None else attrs.asdict(segments),
        }
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    sections = []
    for field, heading in _HEADINGS:
        part = getattr(rendered, field)
        if part is not None:
            if field == "sms":
                heading += f": {segments}"
            sections.append(f"--- {heading} ---\n{part.rstrip()}")
    click.echo("\n\n".join(sections))
