"""The error of a file that cannot be imported at all (as opposed to a bad row)."""

from __future__ import annotations

from advokit.core.errors import AdvokitError

__all__ = ["FileNotImportable"]


class FileNotImportable(AdvokitError):
    """The file as a whole cannot be imported: its encoding, its header, a column map.

    Nothing was imported (or, for an encoding error found midway, the batches
    before it were, and importing the file again finishes the job: imports are
    idempotent). A bad *row* is never this error: it is rejected with its line
    number and the rest of the file goes on.
    """
