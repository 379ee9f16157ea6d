"""The one way Careline writes CSV for people to open: cells a spreadsheet would run as formulas are defused.

A name, a note title or a search typed as `=HYPERLINK(...)`, `+cmd|...`, `-2+3` or `@SUM(...)` would run as
a formula when an export is opened in a spreadsheet (CSV injection). Every export writes through
`csv_writer` (or `csv_lines` for streamed responses), which prefixes such text cells with an apostrophe, the
spreadsheet convention for "this is text". Numbers written as numbers are left alone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

# Tab and carriage return also start formulas in some spreadsheets once the cell is edited.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, value: str, /) -> Any: ...


def csv_cell(value: Any) -> Any:
    """VALUE, with an apostrophe in front when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    """csv.writer with every cell passed through csv_cell."""

    def __init__(self, file: _Writable) -> None:
        self._writer = csv.writer(file)

    def writerow(self, row: Iterable[Any]) -> Any:
        """Write one row; returns what the file's write returned (the line, for csv_lines)."""
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write every row."""
        for row in rows:
            self.writerow(row)


def csv_writer(file: _Writable) -> SafeCsvWriter:
    """A CSV writer on FILE (an HttpResponse, a text file) that defuses formula cells."""
    return SafeCsvWriter(file)


class _Echo:
    """A file-like object whose write returns the line, so a streaming response can yield it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Each of ROWS as a CSV line with formula cells defused, for a StreamingHttpResponse."""
    writer = csv_writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
