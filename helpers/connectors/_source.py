"""The connector machinery: a :class:`Connector` (name, label, tables, :class:`Signature`,
reader), finding its header in a file (:func:`find_header`), and the :class:`Source` that a
reader works on: the file's rows, column look-up by name, typed values, and the Notes and errors
that name the file, the column and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.connectors._common import (
    HEADER_SEARCH_LINES,
    dates,
    is_comment,
    line_fields,
    norm,
    numbers,
    parse_rows,
    percents,
    split_lines,
    text,
    timestamps,
)
from helpers.errors import DataError, MissingDataError, closest, rows_text
from helpers.tables import Note


@dataclass(frozen=True)
class Signature:
    """How a connector recognises its header: regular expressions matched against the
    normalised column names (see :func:`norm`).

    ``all`` must each match a column, at least one of ``any`` must (when given), and none of
    ``none`` may. Keep it to a few distinctive columns so optional columns and older layouts
    still match."""

    all: tuple[str, ...]
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()

    def score(self, columns: Iterable[str]) -> int:
        """0 when the header does not match, else the number of signature columns it has."""
        names = [norm(c) for c in columns]

        def hit(pattern):
            return any(re.fullmatch(pattern, n) for n in names)

        if not all(hit(p) for p in self.all) or any(hit(p) for p in self.none):
            return 0
        found_any = sum(hit(p) for p in self.any)
        if self.any and not found_any:
            return 0
        return len(self.all) + found_any


@dataclass(frozen=True)
class Connector:
    """One platform export format: how to recognise it and how to read it."""

    name: str
    label: str
    tables: tuple[str, ...]
    signature: Signature
    needs: tuple[str, ...]  # the export's column names that reading requires, for messages
    reader: Callable[[Source], dict[str, pd.DataFrame]] = field(repr=False)
    how_to_export: str = ""


@dataclass(frozen=True)
class Header:
    """Where a connector's header was found: line index (0-based) and delimiter."""

    connector: Connector
    line: int
    delimiter: str


def find_header(text: str, connectors: Iterable[Connector]) -> Header | None:
    """The first line whose fields match a connector's signature; the best-scoring connector
    wins when several match. Looks at the first HEADER_SEARCH_LINES lines that are not ``#``
    comments or blank (so title and date-range lines are passed over), and at every line that
    follows a comment or blank line (a second table of a GA4 download)."""
    connectors = list(connectors)
    seen, after_gap = 0, True
    for i, line in enumerate(split_lines(text)):
        if not line.strip() or is_comment(line):
            after_gap = True
            continue
        seen += 1
        candidate, after_gap = seen <= HEADER_SEARCH_LINES or after_gap, False
        if not candidate:
            continue
        delimiter, fields = line_fields(line)
        if len(fields) < 2:
            continue
        score, best = max(
            ((c.signature.score(fields), c) for c in connectors), key=lambda sc: sc[0]
        )
        if score:
            return Header(best, i, delimiter)
    return None


def first_table_line(text: str, connector: Connector) -> Header | None:
    """The first non-comment line with at least two fields (the header of a declared export
    whose columns no longer match its signature)."""
    for i, line in enumerate(split_lines(text)):
        if line.strip() and not is_comment(line):
            delimiter, fields = line_fields(line)
            if len(fields) >= 2:
                return Header(connector, i, delimiter)
    return None


# ---- the file being read --------------------------------------------------------------------
@dataclass
class Source:
    """One export being read: its path, lines, header position, rows and the notes so far."""

    path: Path
    connector: Connector
    lines: list[str]
    header: Header
    currency: str | None = None
    timezone: str | None = None
    notes: list[Note] = field(default_factory=list)
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """The connector's label, for messages ("Shopify orders export")."""
        return self.connector.label

    @property
    def preamble(self) -> list[str]:
        """The non-blank lines above the header (titles, date ranges, ``#`` comments)."""
        return [ln for ln in self.lines[: self.header.line] if ln.strip()]

    @property
    def frame(self) -> pd.DataFrame:
        """The rows under the header, every cell a string."""
        if self._frame is None:
            self._frame = parse_rows(
                self.lines[self.header.line :],
                self.header.delimiter,
                path=self.path,
                first_line=self.header.line + 1,
            )
        return self._frame

    def use_frame(self, frame: pd.DataFrame) -> None:
        """Read from ``frame`` instead (a connector that splits the file into several tables)."""
        self._frame = frame

    def line_of(self, labels: Iterable[int]) -> tuple[int, ...]:
        """File line numbers of rows: the frame's index holds them."""
        return tuple(int(p) for p in labels)

    # ---- columns -----------------------------------------------------------------------------
    def col(self, *names: str, pattern: str | None = None) -> str | None:
        """The first column named like one of ``names`` (case-insensitive) or matching the
        regular expression ``pattern``; None when the file has none of them."""
        by_norm = {norm(c): c for c in self.frame.columns}
        for name in names:
            if norm(name) in by_norm:
                return by_norm[norm(name)]
        if pattern:
            return next((c for n, c in by_norm.items() if re.fullmatch(pattern, n)), None)
        return None

    def need(self, *names: str, pattern: str | None = None) -> str:
        """Like :meth:`col`, but a missing column is a DataError naming file, column and header."""
        found = self.col(*names, pattern=pattern)
        if found is None:
            raise self.missing(names[0], alternatives=names[1:])
        return found

    def missing(self, name: str, *, alternatives: Iterable[str] = ()) -> DataError:
        """The error for a missing column: file, column, a close match, the columns read, the
        file's header and the fix."""
        guess = closest(name, self.frame.columns)
        hint = f" Is '{guess}' that column, renamed?" if guess and norm(guess) != norm(name) else ""
        alts = list(alternatives)
        also = f" (or {' / '.join(repr(a) for a in alts)})" if alts else ""
        how = f" {self.connector.how_to_export}" if self.connector.how_to_export else ""
        return DataError(
            f"{self.path}: this {self.label} has no '{name}' column{also}.{hint} The workbook "
            f"reads these columns of a {self.connector.name} export: "
            f"{', '.join(self.connector.needs)}. The file's header is: "
            f"{', '.join(map(str, self.frame.columns))}. Export the file again without renaming "
            f"or removing columns{how}, or rename the column back to '{name}'."
        )

    # ---- values ------------------------------------------------------------------------------
    def text(self, column: str | None) -> pd.Series:
        """A text column, trimmed, blanks as None (missing column -> all None)."""
        if column is None:
            return pd.Series(None, index=self.frame.index, dtype=object)
        return text(self.frame[column])

    def number(self, column: str | None, *, table: str, percent: bool = False) -> pd.Series:
        """A numeric column as floats (missing column -> all missing); unreadable cells are
        counted in a Note and read as missing."""
        if column is None:
            return pd.Series(np.nan, index=self.frame.index, dtype=float)
        values, bad = (percents if percent else numbers)(self.frame[column])
        self._note_bad(table, column, self.frame[column], bad, "numbers")
        return values

    def date(self, column: str | None, *, table: str, formats: tuple[str, ...] = ()) -> pd.Series:
        """A date column as naive datetimes (missing column -> all NaT); unreadable cells are
        counted in a Note."""
        if column is None:
            return pd.Series(pd.NaT, index=self.frame.index, dtype="datetime64[ns]")
        return self.dates_of(self.frame[column], table=table, column=column, formats=formats)

    def dates_of(
        self, values: pd.Series, *, table: str, column: str, formats: tuple[str, ...] = ()
    ) -> pd.Series:
        """Like :meth:`date`, for values built from the file's columns (``column`` names them)."""
        parsed, bad = dates(values, formats=formats, timezone=self.timezone)
        self._note_bad(table, column, values, bad, "dates")
        return parsed

    def timestamp(self, column: str, *, table: str) -> pd.Series:
        """A time column, tz-aware in the business's timezone when the file gives offsets."""
        values, bad = timestamps(self.frame[column], timezone=self.timezone)
        self._note_bad(table, column, self.frame[column], bad, "dates and times")
        return values

    def _note_bad(
        self, table: str, column: str, values: pd.Series, bad: pd.Series, what: str
    ) -> None:
        if bad.any():
            n = int(bad.sum())
            lines = self.line_of(values.index[bad.to_numpy()])
            examples = ", ".join(repr(v) for v in values[bad].unique()[:3])
            self.note(
                table,
                column,
                "coerced",
                n,
                f"{n} value(s) in '{column}' of the {self.label} could not be read as "
                f"{what} ({examples}; {rows_text(lines)}); they are treated as missing.",
                lines,
            )

    def note(
        self,
        table: str,
        column: str | None,
        kind: str,
        count: int,
        message: str,
        lines: tuple[int, ...] = (),
    ) -> None:
        """Record a Note ("dropped", "coerced" or "warning") for the data-quality report."""
        self.notes.append(Note(table, self.path.name, column, kind, int(count), message, lines))

    def drop(self, table: str, mask: pd.Series, why: str, *, column: str | None = None) -> None:
        """Leave the rows in ``mask`` out of the frame, with a Note saying why and how many."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        n = int(mask.sum())
        lines = self.line_of(self.frame.index[mask.to_numpy()])
        self.note(
            table,
            column,
            "dropped",
            n,
            f"{n} row(s) of the {self.label} {why} ({rows_text(lines)}).",
            lines,
        )
        self._frame = self.frame[~mask.to_numpy()]

    def check_currency(self, found: Iterable[str], where: str) -> None:
        """DataError when the export states a currency other than the business's."""
        if not self.currency:
            return
        other = sorted(
            {str(c).strip().upper() for c in found if str(c).strip()} - {self.currency.upper()}
        )
        if other:
            raise DataError(
                f"{self.path}: this {self.label} is in {', '.join(other)} ({where}), but the "
                f"business's currency is {self.currency.upper()} (business.currency in "
                f"business.yaml). Export the report in {self.currency.upper()}, or set "
                f"`currency: {other[0]}` under `business:` in business.yaml if {other[0]} is the "
                "currency you work in."
            )

    def no_rows(self) -> MissingDataError:
        """The error for an export with a header but no rows."""
        return MissingDataError(
            f"{self.path} is a {self.label} with its header but no rows, so it holds no "
            f"{' or '.join(self.connector.tables)} data. Export it again with a date range that "
            "has activity, or remove it from business.yaml."
        )
