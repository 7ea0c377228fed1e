"""Rows streamed from a CSV or JSON Lines file, each with the line it starts on.

Nothing reads the whole file: rows come one at a time from a buffered reader,
so an import's memory does not grow with the file. The line of a row is the
physical line it starts on, counting the header as line 1 (what an editor or
``sed -n`` shows), also after a quoted field that spans several lines.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from advokit.importing.encoding import SAMPLE, check_encoding, detect_encoding
from advokit.importing.errors import FileNotImportable

__all__ = ["DELIMITERS", "FORMATS", "Row", "Source", "open_source"]

FORMATS = ("csv", "jsonl")
#: The delimiters sniffed from the header line, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")
_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}


@attrs.frozen
class Row:
    """One row of the file.

    ``values`` maps the file's column names (JSON Lines: keys) to the values;
    ``original`` is the row as the file had it, for the rejects file (CSV: its
    fields; JSON Lines: the line). ``problem`` says why the row cannot be read
    at all (a wrong number of fields, a line that is not a JSON object).
    """

    line: int
    values: Mapping[str, Any]
    original: tuple[str, ...]
    problem: str | None = None


@attrs.define
class Source:
    """An opened file: how it is read, and its header (CSV only). Iterate :meth:`rows`."""

    path: Path
    format: str
    encoding: str
    delimiter: str | None  # CSV only
    columns: tuple[str, ...] | None  # the CSV header; JSON Lines rows name their own
    _text: io.TextIOWrapper = attrs.field(repr=False)
    _raw: io.FileIO = attrs.field(repr=False)
    _csv: Any = attrs.field(repr=False, default=None)

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        return self.path.stat().st_size

    @property
    def position(self) -> int:
        """Bytes read so far (a little ahead of the rows: the read buffer)."""
        return self.size if self._raw.closed else int(self._raw.tell())

    def rows(self) -> Iterator[Row]:
        """The rows after the header, in file order; blank lines are skipped."""
        try:
            yield from (self._csv_rows() if self.format == "csv" else self._jsonl_rows())
        finally:
            self.close()

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _csv_rows(self) -> Iterator[Row]:
        assert self.columns is not None
        columns, reader = self.columns, self._csv
        width = len(columns)
        previous = reader.line_num  # the lines the header took
        with self._read_errors(lambda: previous):
            for cells in reader:
                # line_num counts the lines read so far: this row started after the last one
                line, previous = previous + 1, reader.line_num
                if not any(cells):
                    continue  # a blank line, or a row of empty fields (",,,")
                if len(cells) != width:
                    problem = f"the row has {len(cells)} fields, the header has {width}"
                    yield Row(line, {}, tuple(cells), problem)
                    continue
                yield Row(line, dict(zip(columns, cells, strict=True)), tuple(cells))

    def _jsonl_rows(self) -> Iterator[Row]:
        line = 0
        with self._read_errors(lambda: line):
            for line, text in enumerate(self._text, start=1):
                stripped = text.strip()
                if not stripped:
                    continue
                try:
                    value = json.loads(stripped)
                except ValueError as error:
                    yield Row(line, {}, (stripped,), f"the line is not valid JSON: {error}")
                    continue
                if not isinstance(value, dict):
                    problem = f"the line is a JSON {_json_type(value)}, expected an object"
                    yield Row(line, {}, (stripped,), problem)
                    continue
                yield Row(line, value, (stripped,))

    @contextmanager
    def _read_errors(self, line: Callable[[], int]) -> Iterator[None]:
        """A decoding or CSV error midway: one FileNotImportable naming the line."""
        name = self.path.name
        try:
            yield
        except UnicodeDecodeError as error:
            # the decoder reads ahead of the rows: find the line again, byte by byte
            where = _undecodable_line(self.path, self.encoding)
            raise FileNotImportable(
                f"{name} is not valid {self.encoding}"
                + (f" at line {where}" if where else "")
                + f" ({error.reason}): pass --encoding, such as --encoding cp1252 "
                "(importing the file again with it is safe)"
            ) from None
        except csv.Error as error:
            raise FileNotImportable(
                f"{name} cannot be read as CSV after line {line()}: {error}"
            ) from None


def open_source(
    path: str | Path,
    *,
    format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Source:
    """Open ``path`` for import: the encoding, format and delimiter told or detected.

    Args:
        path: a CSV or JSON Lines file.
        format: ``csv`` or ``jsonl`` (None: from the suffix, else from the content).
        encoding: a Python codec name (None: detected, see :mod:`.encoding`).
        delimiter: the CSV delimiter, one character or ``comma``, ``semicolon``,
            ``tab``, ``pipe`` (None: the one that splits the header line most).

    Raises:
        FileNotImportable: the file is missing, empty, a JSON array, or has no header.
        InvalidValue: a bad ``format``, ``encoding`` or ``delimiter``.
    """
    from advokit.core.errors import InvalidValue

    path = Path(path)
    if not path.is_file():
        raise FileNotImportable(f"there is no file {str(path)!r}")
    if format is not None and format not in FORMATS:
        raise InvalidValue("--format", format, "csv or jsonl")
    if delimiter is not None:
        delimiter = _DELIMITER_NAMES.get(delimiter.lower(), delimiter)
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise InvalidValue(
                "--delimiter", delimiter, "one character, or comma, semicolon, tab or pipe"
            )
    encoding = check_encoding(encoding) if encoding is not None else detect_encoding(path)
    with path.open("rb") as file:
        head = file.read(SAMPLE).decode(encoding, errors="replace").lstrip("\ufeff")
    if not head.strip():
        raise FileNotImportable(f"{path.name} is empty")
    format = format or _SUFFIXES.get(path.suffix.lower()) or _sniff_format(head)
    if format == "jsonl" and head.lstrip().startswith("["):
        raise FileNotImportable(
            f"{path.name} is a JSON array: write one JSON object per line (JSON Lines)"
        )
    raw = io.FileIO(path, "r")
    text = io.TextIOWrapper(io.BufferedReader(raw, 1 << 16), encoding=encoding, newline="")
    if format == "jsonl":
        return Source(path, format, encoding, None, None, text, raw)
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(head)
    reader = csv.reader(text, delimiter=delimiter)
    source = Source(path, format, encoding, delimiter, None, text, raw, reader)
    with source._read_errors(lambda: reader.line_num):
        header = next((cells for cells in reader if any(cells)), None)
    if header is None:
        source.close()
        raise FileNotImportable(f"{path.name} has no header line")
    if header[0].startswith("\ufeff"):  # a BOM the --encoding given did not remove
        header[0] = header[0][1:]
    source.columns = tuple(cell.strip() for cell in header)
    return source


def _undecodable_line(path: Path, encoding: str) -> int | None:
    """The first line of the file ``encoding`` cannot decode (None if not found)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError:
                return number
    return None


def _sniff_format(head: str) -> str:
    return "jsonl" if head.lstrip().startswith(("{", "[")) else "csv"


def _sniff_delimiter(head: str) -> str:
    """The delimiter that splits the header line into the most fields (comma on a tie)."""

    def width(delimiter: str) -> int:
        rows = csv.reader(io.StringIO(head), delimiter=delimiter)
        return len(next((row for row in rows if any(row)), []))

    return max(DELIMITERS, key=lambda d: (width(d), -DELIMITERS.index(d)))


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")
