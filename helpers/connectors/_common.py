"""Shared parsing for the connectors: reading an export's text (BOM, UTF-16, cp1252, gzip),
splitting lines and fields, reading the rows under a header, and reading export values (quoted
thousands, ``--`` and ``n/a`` blanks, ``27.78%``, ``$12.50``, ``($1.00)``, UTC offsets) into
numbers, dates and booleans. Pure functions; the connector machinery is in ``_source``.
"""

from __future__ import annotations

import csv
import gzip
import io as _io
import re
from pathlib import Path

import pandas as pd

from helpers import io, schemas
from helpers.errors import DataError, rows_text
from helpers.tables import parse_bool, parse_dates, parse_money

SNIFF_BYTES = 16_384  # detect_format reads no more than this
HEADER_SEARCH_LINES = 12  # non-comment lines looked at for a header
BLANKS = {"", "-", "--", "n/a", "na", "nan", "null", "none"}
DELIMITERS = ",;\t|"
OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


def norm(name: str) -> str:
    """A column name as signatures and look-ups compare it: trimmed, lower case, one space."""
    return re.sub(r"\s+", " ", str(name).replace("\ufeff", "")).strip().strip('"').lower()


# ---- reading the text ----------------------------------------------------------------------
def read_text(path: Path, *, limit: int | None = None) -> str:
    """The text of an export (UTF-8 with or without BOM, UTF-16, cp1252, latin-1; gzip or not).

    With ``limit``, only the first ``limit`` bytes, cut at the last full line."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read(limit) if limit else fh.read()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Google Ads "Excel CSV" downloads are UTF-16
        text = raw.decode("utf-16", errors="replace")
    else:
        if limit and len(raw) == limit and b"\n" in raw:
            raw = raw[: raw.rfind(b"\n")]
        text, _ = io.decode(raw)
    return text.lstrip("\ufeff")


def split_lines(text: str) -> list[str]:
    """The lines of a text (only \\n, \\r\\n and \\r end a line, unlike str.splitlines)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def split_line(line: str, delimiter: str) -> list[str]:
    """The fields of one CSV line."""
    return next(csv.reader([line], delimiter=delimiter), [])


def is_comment(line: str) -> bool:
    """Whether a line is a ``#`` comment (GA4 preambles)."""
    return line.lstrip().startswith("#")


def line_fields(line: str) -> tuple[str, list[str]]:
    """The delimiter giving the most fields on this line, and those fields."""
    best = max(DELIMITERS, key=lambda d: len(split_line(line, d)))
    return best, split_line(line, best)


def _unique(names: list[str]) -> list[str]:
    """Header names made unique the way pandas does it ('Tax', 'Tax.1')."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        out.append(name if n == 0 else f"{name}.{n}")
        seen[name] = n + 1
    return out


def parse_rows(lines: list[str], delimiter: str, *, path: Path, first_line: int) -> pd.DataFrame:
    """A header line and the rows under it as a frame of str cells (object dtype), indexed by each row's line
    number in the file (``first_line`` is the header's). A row with fewer or more fields than
    the header (a file cut off mid-line, a stray delimiter) or broken quoting is a DataError."""
    reader = csv.reader(
        _io.StringIO("\n".join(lines)), delimiter=delimiter, strict=True, skipinitialspace=True
    )
    rows, at = [], []
    try:
        header = [norm_header(c) for c in next(reader, [])]
        previous = reader.line_num
        for record in reader:
            start, previous = first_line + previous, reader.line_num
            if any(field.strip() for field in record):
                rows.append(record)
                at.append(start)
    except csv.Error as exc:
        raise DataError(
            f"{path}: line {first_line + reader.line_num - 1} cannot be read as CSV ({exc}). The "
            "file may be cut off or edited by hand: export it again from the platform and use "
            "the new file as it is."
        ) from None
    wrong = [(line, len(r)) for line, r in zip(at, rows, strict=True) if len(r) != len(header)]
    if wrong:
        cut = wrong[-1][0] == at[-1] and wrong[-1][1] < len(header)
        raise DataError(
            f"{path}: {rows_text([w[0] for w in wrong])} {'has' if len(wrong) == 1 else 'have'} "
            f"{wrong[0][1]} field(s) where the header has {len(header)}"
            + (", so the file looks cut off" if cut else "")
            + ". Export it again from the platform and use the new file as it is."
        )
    return pd.DataFrame(rows, columns=_unique(header), index=pd.Index(at, dtype=int), dtype=object)


def norm_header(name: str) -> str:
    """A header cell as the frame's column name: BOM and repeated spaces removed, trimmed."""
    return re.sub(r"\s+", " ", str(name).replace("\ufeff", "")).strip()


# ---- values ---------------------------------------------------------------------------------
def blank(values: pd.Series) -> pd.Series:
    """Mask of empty cells: '', '--', 'n/a', 'null'... (missing in every export)."""
    return values.isna() | values.astype(str).str.strip().str.lower().isin(BLANKS)


def text(values: pd.Series) -> pd.Series:
    """Trimmed text with blanks as missing (None), as object dtype."""
    out = values.astype(str).str.strip().astype(object)
    return out.where(~blank(values), None)


def numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Floats from export numbers (``"1,234"``, ``$12.50``, ``($1.00)``, ``-$1.00``, ``--``);
    returns the values and a mask of cells that were filled but unreadable."""
    empty = blank(values)
    parsed, bad = parse_money(values.where(~empty, ""), decimal=".")
    return parsed.astype(float), bad & ~empty


def percents(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Fractions from percentages (``27.78%`` -> 0.2778). Without a ``%`` sign anywhere, values
    above 1 are read as percentages too."""
    raw = values.astype(str)
    had_sign = raw.str.contains("%", regex=False).any()
    parsed, bad = numbers(raw.str.replace("%", "", regex=False))
    if had_sign or parsed.max(skipna=True) > 1:
        parsed = parsed / 100
    return parsed, bad


def day_first(cleaned: pd.Series) -> bool:
    """Whether dates like 05/03/2025 in this column put the day first: only when some first
    part is above 12 and no second part is (exports default to month first, as in the US)."""
    parts = cleaned.str.extract(r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}")
    first, second = (pd.to_numeric(parts[i], errors="coerce") for i in (0, 1))
    return bool((first > 12).any() and not (second > 12).any())


def dates(
    values: pd.Series, *, formats: tuple[str, ...] = (), timezone: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Naive datetimes from one of ``formats``, ISO, or dd/mm vs mm/dd dates (the order the
    column itself shows, see :func:`day_first`); returns the values and a mask of filled but
    unreadable cells. Times with a UTC offset are converted to ``timezone`` (UTC when None)."""
    empty = blank(values)
    cleaned = values.astype(str).str.strip().where(~empty, "")
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in formats:
        todo = ~empty & out.isna()
        if not todo.any():
            break
        got = pd.to_datetime(cleaned[todo], format=fmt, errors="coerce")
        out[todo] = got.astype("datetime64[ns]")
    todo = ~empty & out.isna()
    if todo.any():
        got, _ = parse_dates(cleaned[todo], dayfirst=day_first(cleaned[todo]), timezone=timezone)
        out[todo] = got
    return out, ~empty & out.isna()


def timestamps(values: pd.Series, *, timezone: str | None) -> tuple[pd.Series, pd.Series]:
    """Times like ``2024-03-05 14:02:11 -0500``: tz-aware in ``timezone`` (UTC when None) when
    every filled cell states its offset, else naive (see :func:`dates`)."""
    empty = blank(values)
    cleaned = values.astype(str).str.strip()
    if (~empty).any() and cleaned[~empty].str.contains(OFFSET).all():
        aware = pd.to_datetime(cleaned.where(~empty), utc=True, format="mixed", errors="coerce")
        out = (aware.dt.tz_convert(timezone) if timezone else aware).dt.as_unit("ns")
        return out, ~empty & out.isna()
    return dates(values, timezone=timezone)


def ids(values: pd.Series) -> pd.Series:
    """Identifiers as text (object dtype), None where missing."""
    out = values.astype(object)
    return out.where(values.notna() & ~blank(values.astype(object).fillna("")), None)


def booleans(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Nullable booleans from yes/no, true/false, 1/0."""
    return parse_bool(values.where(~blank(values), ""))


def localize(values: pd.Series, source_tz: str, timezone: str | None) -> pd.Series:
    """Naive times in ``source_tz`` as tz-aware times in the business's ``timezone``."""
    aware = values.dt.tz_localize(source_tz, ambiguous="NaT", nonexistent="shift_forward")
    return aware.dt.tz_convert(timezone) if timezone else aware


def build(
    table: str, columns: dict[str, pd.Series], extra: dict[str, pd.Series] | None = None
) -> pd.DataFrame:
    """A canonical table: ``columns`` must be canonical names (helpers.schemas), ``extra``
    snake_case names kept after them. A column with no value at all (the export did not have
    it) is left out, so that "not in the file" never reads as "zero"; required ones stay."""
    known = schemas.spec(table).columns
    wrong = [c for c in columns if c not in known]
    if wrong:
        raise KeyError(f"helpers.schemas has no column {wrong} in the {table} table")
    frame = pd.DataFrame({**columns, **(extra or {})}).reset_index(drop=True)
    required = schemas.spec(table).required
    empty = [c for c in frame.columns if c not in required and frame[c].isna().all()]
    return frame.drop(columns=empty) if len(frame) else frame
