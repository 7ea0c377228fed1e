"""Which text encoding a file is in: a BOM, then strict UTF-8, then charset-normalizer.

Exports from spreadsheets arrive as UTF-8, UTF-8 with a byte order mark
(Excel's "CSV UTF-8") or in the machine's Windows code page (Excel's plain
"CSV": cp1252 in Western Europe and the Americas). A UTF-8 file is told
exactly, by decoding it, rather than guessed: a cp1252 file whose first
thousand rows are plain ASCII would pass a statistical test on a leading
sample, and fail at its first "é" a million rows later. Only a file that is
not UTF-8 goes to charset-normalizer, with a sample taken both from its start
and from around the first byte UTF-8 refused, where the evidence is; and only
among the code pages spreadsheets write, preferring cp1252 among candidates
that read the sample about as well (on a few accented names, the statistics
cannot tell cp1252 from its neighbours, and cp1252 is by far the most common).
"""

from __future__ import annotations

import codecs
from pathlib import Path

from advokit.core.errors import InvalidValue
from advokit.importing.errors import FileNotImportable

__all__ = ["SAMPLE", "SPREADSHEET_CODEPAGES", "check_encoding", "detect_encoding"]

#: Bytes read at once, and the size of each part of the sample charset-normalizer sees.
SAMPLE = 64 * 1024
_CHUNK = 1024 * 1024
#: The code pages spreadsheets save CSV in: Windows' (ANSI) code pages and Mac Roman.
SPREADSHEET_CODEPAGES = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257",
    "cp1258", "cp874", "cp932", "cp936", "cp949", "cp950", "mac_roman",
)  # fmt: skip
#: Candidates whose "chaos" is within this many percent of the best one's are as good.
_TIE = 5.0
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def check_encoding(name: str) -> str:
    """``name`` if Python knows the codec (``--encoding``); InvalidValue otherwise."""
    try:
        codecs.lookup(name)
    except (LookupError, TypeError):
        raise InvalidValue(
            "--encoding", name, "a Python codec name such as utf-8, utf-8-sig or cp1252"
        ) from None
    return name


def detect_encoding(path: Path) -> str:
    """The encoding of the file at ``path``, read in chunks (constant memory)."""
    with path.open("rb") as file:
        head = file.read(SAMPLE)
        for bom, name in _BOMS:
            if head.startswith(bom):
                return name
        failed_at = _first_non_utf8(file, head)
        if failed_at is None:
            return "utf-8"
        file.seek(max(failed_at - SAMPLE // 2, len(head)))
        around = file.read(SAMPLE)
    from advokit.core.extras import require

    charset_normalizer = require("charset_normalizer", "import")
    # the leading sample, then the region where UTF-8 failed (cut at a line start)
    cut = around.find(b"\n")
    sample = head + b"\n" + (around[cut + 1 :] if 0 <= cut < len(around) - 1 else around)
    matches = list(charset_normalizer.from_bytes(sample, cp_isolation=SPREADSHEET_CODEPAGES))
    if not matches:
        raise FileNotImportable(
            f"cannot tell the encoding of {path.name}: it is not UTF-8 nor a code page "
            "spreadsheets save in; pass --encoding, such as --encoding cp1252"
        )
    least = min(m.percent_chaos for m in matches)
    near = [m for m in matches if m.percent_chaos <= least + _TIE]
    if any("cp1252" in m.could_be_from_charset for m in near):
        return "cp1252"
    return str(near[0].encoding)


def _first_non_utf8(file: object, head: bytes) -> int | None:
    """The offset of the first byte that is not UTF-8 text, or None if all of it is.

    A NUL byte counts as not text: it is valid UTF-8, but means UTF-16 without a BOM.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    chunk = head
    read = file.read  # type: ignore[attr-defined]
    while True:
        final = len(chunk) == 0
        if b"\x00" in chunk:
            return offset + chunk.index(b"\x00")
        try:
            decoder.decode(chunk, final=final)
        except UnicodeDecodeError as error:
            return max(offset + error.start, 0)
        if final:
            return None
        offset += len(chunk)
        chunk = read(_CHUNK)
