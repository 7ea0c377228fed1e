"""Writing the files a command was asked for: whole or not at all, and a
failure (a full disk, a folder the checks could not foresee) as one line.

Only the standard library and click here: command modules import this at the top.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from advokit.cli import CLIError

__all__ = ["replace_file", "writing"]


@contextmanager
def writing(what: str) -> Iterator[None]:
    """An ``OSError`` inside becomes the one line ``cannot write WHAT: ERROR``."""
    try:
        yield
    except OSError as error:
        raise CLIError(f"cannot write {what}: {error}") from None


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a reader never sees half
    a file. A file replaced keeps its permissions; a new one gets what the
    umask leaves of ``rw-rw-rw-``, as ``open()`` would give it."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, mode)  # mkstemp makes it rw------- whatever the umask
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask, read without changing it where Linux says it
    (setting it to read it back would race with other threads creating files)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        status = ""
    found = re.search(r"^Umask:\s*([0-7]+)$", status, re.M)
    if found:
        return int(found[1], 8)
    current = os.umask(0o022)
    os.umask(current)
    return current
