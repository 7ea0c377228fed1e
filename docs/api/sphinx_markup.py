"""A griffe extension for the API reference: advokit's docstrings use a little
Sphinx markup (``:class:`~advokit.Program```, ``Example::``, ``.. versionadded::``)
that Markdown would show as it is; this turns it into Markdown before parsing.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):`(?P<tilde>~?)(?P<target>[^`]+)`")
LITERAL_BLOCK = re.compile(r"^(?P<indent>[ \t]*)(?P<text>\S[^\n]*?)::$", re.M)
VERSION = re.compile(r"^(?P<indent>[ \t]*)\.\. versionadded:: (?P<version>\S+)$", re.M)


def _role(match: re.Match[str]) -> str:
    target = match["target"]
    return f"`{target.rpartition('.')[2] if match['tilde'] else target}`"


def markdown(text: str) -> str:
    text = ROLE.sub(_role, text)
    text = VERSION.sub(r"\g<indent>*New in version \g<version>.*", text)
    # "Example::" (a literal block follows): "For example:", so that it is no section title
    return LITERAL_BLOCK.sub(
        lambda m: (
            f"{m['indent']}{'For example' if m['text'] in ('Example', 'Examples') else m['text']}:"
        ),
        text,
    )


class SphinxMarkup(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
