"""Message templates: jinja2 in a sandbox, per message kind and locale, with fallbacks.

A template folder holds one folder per locale, and in it one file per part of
a message kind::

    templates/
      en/review_request.subject     the email's subject
      en/review_request.txt         the plain text (email, Slack)
      en/review_request.html        the HTML (email), autoescaped
      en/review_request.sms         the SMS text
      pt/review_request.subject
      pt-BR/review_request.txt

A message for an advocate whose locale is ``pt-BR`` takes each part from
``pt-BR``, else ``pt``, else the default locale (``en``). Folders are searched
in order: the program's own, then those plugins register
(``advokit_register_template_dirs``), then advokit's built-in ones: a file in
an earlier folder overrides the same file in a later one.

A folder may also hold ``samples/{kind}.json``: a JSON object of the context a
message of that kind is given, which ``advokit templates check`` renders the
kind's templates with (see :meth:`Templates.sample`).

Templates may be edited by staff, so they render in jinja2's immutable sandbox
(no attribute of Python's internals, no mutation), with undefined variables an
error rather than an empty string, and with the sizes of ``*`` and ``**``
bounded, so that a template cannot exhaust the worker. HTML is autoescaped;
subject, text and SMS are rendered verbatim.
"""

from __future__ import annotations

import json
import operator
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from advokit.core.errors import AdvokitError, ConfigurationError, InvalidValue
from advokit.plugins.messages.model import Rendered

__all__ = ["BUILT_IN", "PARTS", "TemplateError", "Templates", "locale_chain"]

BUILT_IN = Path(__file__).parent / "templates"
PARTS = ("subject", "txt", "html", "sms")
_FIELDS = {"subject": "subject", "txt": "text", "html": "html", "sms": "sms"}
_LOCALE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_BIGGEST = 100_000  # the longest string or list, or the largest power, a template may make


class TemplateError(AdvokitError):
    """A template is missing, does not render (an undefined variable), or tried
    something the sandbox forbids; the message names the template.

    Attributes:
        template: the template's name (``en/thank_you.txt``), when one is to blame.
    """

    def __init__(self, message: str, *, template: str | None = None) -> None:
        super().__init__(message)
        self.template = template


_WIDTH = re.compile(r"\d{5,}")  # a width or precision of 10000 or more in a format
_OUTPUT = 1_000_000  # the most characters one part of a message may render to
_DEADLINE = 1.0  # seconds one part may take, checked as it is written out


def _small(what: str, *numbers: Any) -> None:
    for number in numbers:
        if isinstance(number, int) and abs(number) > _BIGGEST:
            raise SecurityError(f"{what} of {number!r} is larger than a message needs")


def _checked_format(text: Any) -> None:
    if isinstance(text, str) and _WIDTH.search(text):
        raise SecurityError(f"the format {text[:40]!r} asks for more than a message needs")


class _BoundedConcat(CodeGenerator):
    """Templates compiled so that each ``~`` is checked: ``{% set s = s ~ s %}``
    thirty times would otherwise build a gigabyte before anything is written."""

    def visit_Concat(self, node: Any, frame: Any) -> None:
        self.write("environment.bounded(")
        super().visit_Concat(node, frame)
        self.write(")")


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with what can grow big kept to sizes a message needs:
    ``*``, ``**``, ``%``, ``+`` and ``~``, and the filters that take a width or
    repeat text."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _BoundedConcat

    @staticmethod
    def bounded(value: Any) -> Any:
        if isinstance(value, str | list | tuple) and len(value) > _BIGGEST:
            raise SecurityError(f"a value of {len(value):,} is larger than a message needs")
        return value

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        filters = self.filters
        for name in ("center", "indent", "wordwrap", "truncate"):
            filters[name] = self._bounded(name, filters[name])
        plain_format, plain_join, plain_replace = (
            filters["format"],
            filters["join"],
            filters["replace"],
        )

        def format_(value: Any, *args: Any, **kwargs: Any) -> Any:
            _checked_format(value)
            return plain_format(value, *args, **kwargs)

        def join(context: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
            items = list(value)
            size = sum(len(str(i)) for i in items) + len(d) * max(len(items) - 1, 0)
            _small("a join", size)
            return plain_join(context, items, d, attribute)

        def replace(context: Any, s: Any, old: Any, new: Any, count: Any = None) -> Any:
            text = str(s)
            grows = max(len(str(new)) - len(str(old)), 0) * text.count(str(old) or " ")
            _small("a replace", len(text) + grows)
            return plain_replace(context, s, old, new, count)

        join.jinja_pass_arg = plain_join.jinja_pass_arg  # type: ignore[attr-defined]
        replace.jinja_pass_arg = plain_replace.jinja_pass_arg  # type: ignore[attr-defined]
        filters.update(format=format_, join=join, replace=replace)

    @staticmethod
    def _bounded(name: str, plain: Any) -> Any:
        def bounded(*args: Any, **kwargs: Any) -> Any:
            _small(f"{name}()", *args[1:], *kwargs.values())
            return plain(*args, **kwargs)

        if hasattr(plain, "jinja_pass_arg"):
            bounded.jinja_pass_arg = plain.jinja_pass_arg  # type: ignore[attr-defined]
        return bounded

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:  # '{:>300000}'.format: refused as it is looked up
            _checked_format(getattr(value, "__self__", None))
        return wrapped

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "+":  # s + s, doubled again and again
            return self.bounded(operator.add(left, right))
        if operator_ == "%":
            _checked_format(left)  # '%0300000d' % 1
            return operator.mod(left, right)
        if operator_ == "**":
            big = isinstance(right, int | float) and abs(right) > 64
            if not big and isinstance(left, int) and isinstance(right, int):
                big = left.bit_length() * abs(right) > 4096  # (10 ** 60) ** 60 ...
            if big:
                raise SecurityError(f"{left!r} ** {right!r} is larger than a message needs")
            return operator.pow(left, right)
        for seq, times in ((left, right), (right, left)):
            sequence = isinstance(seq, str | list | tuple) and isinstance(times, int)
            if sequence and len(seq) * times > _BIGGEST:
                raise SecurityError(
                    f"repeating a sequence {times!r} times is larger than a message needs"
                )
        ints = isinstance(left, int) and isinstance(right, int)
        if ints and left.bit_length() + right.bit_length() > 4096:
            raise SecurityError("a product larger than a message needs")
        return operator.mul(left, right)


def _written(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """The template rendered, piece by piece, within ``_OUTPUT`` characters and
    ``_DEADLINE`` seconds (nested loops writing forever are stopped)."""
    started, size, pieces = time.monotonic(), 0, []
    for piece in template.generate(**context):
        size += len(piece)
        pieces.append(piece)
        if size > _OUTPUT:
            raise SecurityError(f"it writes more than {_OUTPUT:,} characters")
        if time.monotonic() - started > _DEADLINE:
            raise SecurityError(f"it takes more than {_DEADLINE:g} s to render")
    return "".join(pieces)


def locale_chain(locale: str | None, default: str) -> list[str]:
    """The locales to look in, most specific first: ``pt-BR`` -> ``pt-BR, pt, en``."""
    chain: list[str] = []
    if locale:
        parts = locale.replace("_", "-").split("-")
        for end in range(len(parts), 0, -1):
            chain.append("-".join(parts[:end]))
    if default not in chain:
        chain.append(default)
    return chain


class Templates:
    """The templates of a program: ``render(kind, locale, context) -> Rendered``.

    Args:
        folders: the folders to search, first first.
        default_locale: the last locale of every fallback chain.
    """

    def __init__(self, folders: Sequence[Path | str], *, default_locale: str = "en") -> None:
        if not isinstance(default_locale, str) or not _LOCALE.fullmatch(default_locale):
            raise ConfigurationError(
                "default_locale", default_locale, "a locale such as 'en' or 'pt-BR'"
            )
        self.folders = [Path(folder) for folder in folders]
        for folder in self.folders:
            if not folder.is_dir():
                raise ConfigurationError("templates", str(folder), "a folder of templates")
        self.default_locale = default_locale
        loader = jinja2.FileSystemLoader([str(folder) for folder in self.folders])
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": jinja2.StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "auto_reload": False,
        }
        self._html = _Sandbox(autoescape=True, **common)
        self._text = _Sandbox(autoescape=False, **common)
        self._names = set(loader.list_templates())

    def __repr__(self) -> str:
        return f"Templates({[str(f) for f in self.folders]!r})"

    def name(self, kind: str, part: str, locale: str | None) -> str | None:
        """The template file for ``part`` of ``kind`` in the first locale that has it."""
        for candidate in locale_chain(locale, self.default_locale):
            name = f"{candidate}/{kind}.{part}"
            if name in self._names:
                return name
        return None

    def kinds(self) -> list[tuple[str, str]]:
        """Every (locale, kind) a locale folder has a template for, sorted.

        Only folders named like a locale count, so that a folder of shared
        macros or ``samples/`` is not taken for one.
        """
        found = set()
        for name in self._names:
            locale, _, file = name.partition("/")
            kind, _, part = file.rpartition(".")
            if part in PARTS and kind and "/" not in kind and _LOCALE.fullmatch(locale):
                found.add((locale, kind))
        return sorted(found)

    def path(self, name: str) -> Path | None:
        """The file the template ``name`` (``en/thank_you.txt``) is read from: the
        first folder's that has it."""
        for folder in self.folders:
            if (folder / name).is_file():
                return folder / name
        return None

    def sample_file(self, kind: str) -> Path | None:
        """The file of ``kind``'s sample context: the first folder's
        ``samples/{kind}.json`` (None: no folder has one).

        The first rather than the one ``kind``'s templates are in, so that a
        program can give its own data to a kind it takes from a plugin.

        Raises:
            InvalidValue: ``kind`` is not a plain name (it would name another file).
        """
        if not kind or kind.startswith(".") or "/" in kind or "\\" in kind:
            raise InvalidValue("kind", kind, "the name of a message kind, such as 'thank_you'")
        for folder in self.folders:
            file = folder / "samples" / f"{kind}.json"
            if file.is_file():
                return file
        return None

    def sample(self, kind: str) -> dict[str, Any] | None:
        """The sample context of ``kind``, read from :meth:`sample_file` (None: none).

        Raises:
            InvalidValue: ``kind`` is not a plain name.
            TemplateError: the file is not a JSON object.
        """
        file = self.sample_file(kind)
        if file is None:
            return None
        try:
            sample = json.loads(file.read_text(encoding="utf-8"))
        except ValueError as error:  # UnicodeDecodeError too
            raise TemplateError(f"sample data {str(file)!r} is not valid JSON: {error}") from None
        if not isinstance(sample, dict):
            raise TemplateError(
                f"sample data {str(file)!r} is a JSON {type(sample).__name__}: expected an object"
            )
        return sample

    def render(self, kind: str, locale: str | None, context: Mapping[str, Any]) -> Rendered:
        """Every part ``kind`` has a template for, rendered with ``context``."""
        parts: dict[str, str] = {}
        for part in PARTS:
            name = self.name(kind, part, locale)
            if name is not None:
                parts[_FIELDS[part]] = self._render(name, part, context)
        if not parts:
            chain = ", ".join(locale_chain(locale, self.default_locale))
            raise TemplateError(
                f"no template for message {kind!r}: looked for {kind}.subject, .txt, .html "
                f"and .sms in the locales {chain} of {', '.join(map(str, self.folders))}"
            )
        return Rendered(**parts)

    def _render(self, name: str, part: str, context: Mapping[str, Any]) -> str:
        environment = self._html if part == "html" else self._text
        try:
            text = _written(environment.get_template(name), context)
        except (SecurityError, OverflowError) as error:  # OverflowError: range(10**9)
            raise TemplateError(
                f"template {name!r} tried what the sandbox forbids: {error}",
                template=name,
            ) from error
        except (RecursionError, MemoryError) as error:  # a macro calling itself...
            raise TemplateError(
                f"template {name!r} does not end: {error!r}", template=name
            ) from None
        except jinja2.UndefinedError as error:
            raise TemplateError(
                f"template {name!r} uses an undefined variable: {error}", template=name
            ) from error
        except (jinja2.TemplateError, ArithmeticError, ValueError, TypeError) as error:
            raise TemplateError(
                f"template {name!r} does not render: {error}", template=name
            ) from error
        if part == "subject":
            text = " ".join(text.split())  # one line, whatever the template's layout
        return text.strip() if part != "html" else text
