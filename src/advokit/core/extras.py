"""Optional dependencies, imported when first used.

advokit's core installs none of them: ``advokit[sentiment]`` brings
vaderSentiment, ``advokit[network]`` networkx, ``advokit[predict]``
scikit-learn, ``advokit[import]`` charset-normalizer, email-validator and
phonenumbers. Code imports its extra inside the function that needs it, with
:func:`require`, so a program without the extra loads, and only the call
that needs it fails, saying what to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from advokit.core.errors import AdvokitError

__all__ = ["MissingExtra", "require"]


class MissingExtra(AdvokitError, ImportError):
    """An optional dependency is not installed.

    Attributes:
        module: the module that could not be imported (``networkx``).
        extra: advokit's extra that installs it (``network``).
    """

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"{module} is not installed: it is an optional dependency of advokit, "
            f"install it with pip install 'advokit[{extra}]'",
            name=module,
        )


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtra` naming ``advokit[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtra(module.partition(".")[0], extra) from error
