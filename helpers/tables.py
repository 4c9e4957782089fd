"""Turn a raw source (all text) into a canonical table with typed columns.

Values are read by the business's locale ("1.234,50 €" in de_DE, 03/04/2025 as 3 April in en_GB);
every value that had to be changed or dropped is counted in a ``Note`` that the data-quality report
shows. A problem that would make the analysis wrong is a ``DataError`` naming the file, the column,
the lines and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import schemas
from helpers.errors import DataError, MissingDataError, closest, rows_text

BLANKS = {"", "-", "--", "n/a", "na", "nan", "null", "none", "nat", "(not set)"}
TRUE = {"true", "t", "yes", "y", "1", "1.0", "subscribed", "opted in", "opt-in", "x"}
FALSE = {"false", "f", "no", "n", "0", "0.0", "unsubscribed", "opted out", "opt-out", "cleaned"}
DECIMAL_COMMA_LOCALES = ("de", "fr", "nl", "es", "it", "pt", "da", "sv", "nb", "fi", "pl", "cs")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_DATE_FORMATS_DAYFIRST = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y")
_DATE_FORMATS_MONTHFIRST = ("%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y")


@dataclass(frozen=True)
class Note:
    """One thing the loader changed or noticed in a table; the quality report lists them."""

    table: str
    source: str
    column: str | None
    kind: str  # "coerced", "dropped", "warning"
    count: int
    message: str
    lines: tuple[int, ...] = field(default=())


def decimal_separator(locale: str) -> str:
    return "," if locale.split("_")[0].lower() in DECIMAL_COMMA_LOCALES else "."


def day_first(locale: str) -> bool:
    return locale not in ("en_US", "en_PH", "es_US")


def normalise_email(values: pd.Series) -> pd.Series:
    """E-mail addresses trimmed and lower-cased (blank or not an address -> missing).

    The one normalisation used everywhere: identity resolution, de-duplication and the SHA-256
    hashes that ad platforms match on (they ask for trimmed, lower-case addresses)."""
    text = values.astype("string").str.strip().str.lower()
    return text.where(text.str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", regex=True, na=False))


def email_key(values: pd.Series) -> pd.Series:
    """A stable customer id made from the normalised e-mail ('E' + 12 hex digits of its SHA-256),
    for exports that name customers only by e-mail (Shopify orders, Mailchimp audiences), so one
    person gets the same id in every source. Missing where there is no valid address."""
    import hashlib

    norm = normalise_email(values)
    keys = {e: "E" + hashlib.sha256(e.encode()).hexdigest()[:12] for e in norm.dropna().unique()}
    return norm.map(keys).astype("object")


def _blank(values: pd.Series) -> pd.Series:
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values.isna()  # typed columns (Parquet, SQL) have no "n/a" strings
    return values.isna() | values.astype(str).str.strip().str.lower().isin(BLANKS)


def _money_one(text: str, decimal: str) -> float:
    s = text.strip()
    negative = s.startswith("-") or s.endswith("-") or (s.startswith("(") and s.endswith(")"))
    digits = re.sub(r"[^0-9.,]", "", s)
    if not re.search(r"\d", digits):
        return np.nan
    dots, commas = digits.count("."), digits.count(",")
    if dots and commas:
        dec = "." if digits.rfind(".") > digits.rfind(",") else ","
    elif dots + commas == 1:
        sep = "." if dots else ","
        after = len(digits) - digits.rfind(sep) - 1
        dec = sep if (sep == decimal or after != 3) else None
    else:  # the same separator several times: thousands
        dec = None
    thousands = {".", ","} - {dec}
    for t in thousands:
        digits = digits.replace(t, "")
    if dec:
        digits = digits.replace(dec, ".")
    try:
        value = float(digits)
    except ValueError:
        return np.nan
    return -value if negative else value


def parse_money(values: pd.Series, *, decimal: str = ".") -> tuple[pd.Series, pd.Series]:
    """Read amounts like ``$1,234.50``, ``1.234,50 €``, ``(12.00)`` or ``USD 30``.

    Returns the floats and a mask of values that were not blank but could not be read.
    ``decimal`` is the locale's decimal separator, used when one separator alone is ambiguous
    ("1,234" is 1234 in en_US and 1.234 in de_DE).
    """
    if pd.api.types.is_numeric_dtype(values):
        out = values.astype(float)
        return out, pd.Series(False, index=values.index)
    blank = _blank(values)
    text = values.astype(str)
    numeric = pd.to_numeric(text.where(~blank), errors="coerce")
    todo = ~blank & numeric.isna()
    if decimal == ",":  # "1.234" is a thousand here, though Python reads it as 1.234
        todo |= ~blank & text.str.contains(".", regex=False)
    out = numeric.astype(float)
    if todo.any():
        uniques = text[todo].unique()
        parsed = {u: _money_one(u, decimal) for u in uniques}
        out[todo] = text[todo].map(parsed).astype(float)
    bad = ~blank & out.isna()
    return out, bad


def _parse_by_formats(text: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    best = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in formats:
        for suffix in ("", " %H:%M", " %H:%M:%S"):
            missing = best.isna()
            if not missing.any():
                return best
            got = pd.to_datetime(text[missing], format=fmt + suffix, errors="coerce")
            best[missing] = got.astype("datetime64[ns]")
    return best


def parse_dates(
    values: pd.Series, *, dayfirst: bool = False, timezone: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Read dates and timestamps into naive local datetimes.

    ISO dates first; then the locale's day/month order (``dayfirst``); timestamps with a UTC
    offset (``2024-03-05 14:02:11 -0500``) are converted to ``timezone`` (the business's).
    Returns the datetimes and a mask of values that were not blank but could not be read.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(timezone or "UTC").dt.tz_localize(None)
        return out.astype("datetime64[ns]"), pd.Series(False, index=values.index)
    blank = _blank(values)
    text = values.astype(str).str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    offset = ~blank & text.str.contains(_OFFSET)
    if offset.any():
        aware = pd.to_datetime(text[offset], utc=True, format="mixed", errors="coerce")
        out[offset] = aware.dt.tz_convert(timezone or "UTC").dt.tz_localize(None)
    rest = ~blank & ~offset
    if rest.any():
        out[rest] = pd.to_datetime(text[rest], format="ISO8601", errors="coerce")
    rest = ~blank & out.isna()
    if rest.any():
        formats = _DATE_FORMATS_DAYFIRST if dayfirst else _DATE_FORMATS_MONTHFIRST
        out[rest] = _parse_by_formats(text[rest], formats)
    return out, ~blank & out.isna()


def parse_bool(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Read yes/no, true/false, 1/0, subscribed/unsubscribed into a nullable boolean."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean"), pd.Series(False, index=values.index)
    blank = _blank(values)
    text = values.astype(str).str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(TRUE)] = True
    out[text.isin(FALSE)] = False
    return out, ~blank & out.isna()


def _lines(frame: pd.DataFrame, mask: pd.Series) -> tuple[int, ...]:
    # The frame keeps the row positions of the file; line 1 is the header.
    return tuple(int(i) + 2 for i in frame.index[mask.to_numpy()])


def match_columns(raw: pd.DataFrame, table: str) -> pd.DataFrame:
    """Rename columns whose normalised name is a canonical one ("Order ID" -> order_id)."""
    known = schemas.spec(table).columns
    renames = {}
    for col in raw.columns:
        norm = re.sub(r"[^0-9a-z]+", "_", str(col).strip().lower()).strip("_")
        if norm in known and col != norm and norm not in raw.columns:
            renames[col] = norm
    return raw.rename(columns=renames)


def check_required(raw: pd.DataFrame, table: str, source: str) -> None:
    """DataError naming the missing columns, the closest present ones and the fix."""
    spec = schemas.spec(table)
    missing = [c for c in spec.required if c not in raw.columns]
    if not missing:
        return
    hints = []
    for col in missing:
        guess = closest(col, raw.columns)
        hints.append(f"'{col}'" + (f" (is '{guess}' that column?)" if guess else ""))
    example = ", ".join(f"'{closest(c, raw.columns) or 'your column'}': {c}" for c in missing)
    raise DataError(
        f"{source}: the {table} table needs the column(s) {', '.join(hints)}, which the file "
        f"does not have. Its columns are: {', '.join(map(str, raw.columns))}. Rename the column in "
        f"the file, or map it in business.yaml: `mapping: {{{example}}}`."
    )


def _coerce_column(frame, col, kind, *, table, source, locale, timezone, notes):
    """Coerce one column in place by its kind; count unreadable values in ``notes``."""
    values = frame[col]
    if kind in (schemas.ID, schemas.TEXT, schemas.CATEGORY):
        if pd.api.types.is_float_dtype(values):  # ids read from Parquet/SQL as 123.0
            values = values.map(lambda v: v if pd.isna(v) else f"{v:.0f}" if v == int(v) else str(v))
        text = values.astype("str").str.strip()
        frame[col] = text.where(~_blank(values), None)
        return
    if kind == schemas.DATE:
        parsed, bad = parse_dates(values, dayfirst=day_first(locale), timezone=timezone)
        expect = "dates like 2025-03-25" + (" or 25/03/2025" if day_first(locale) else " or 03/25/2025")
    elif kind in (schemas.MONEY, schemas.NUMBER, schemas.INT):
        parsed, bad = parse_money(values, decimal=decimal_separator(locale))
        expect = "numbers like 1234.50" if decimal_separator(locale) == "." else "numbers like 1234,50"
    else:
        parsed, bad = parse_bool(values)
        expect = "yes/no or true/false"
    n_bad = int(bad.sum())
    n_filled = int((~_blank(values)).sum()) if n_bad else len(values)
    if n_filled and n_bad == n_filled:
        raise DataError(
            f"{source}: none of the {n_filled} values in column '{col}' could be read as {expect} "
            f"(first: {values[bad].iloc[0]!r}, {rows_text(_lines(frame, bad))}). Check that the "
            f"column holds what '{col}' should, and that `locale: {locale}` in business.yaml "
            "matches how the file writes numbers and dates."
        )
    if n_bad:
        examples = ", ".join(repr(v) for v in values[bad].unique()[:3])
        notes.append(
            Note(table, source, col, "coerced", n_bad,
                 f"{n_bad} value(s) in '{col}' could not be read as {expect} ({examples}; "
                 f"{rows_text(_lines(frame, bad))}); they are treated as missing.",
                 _lines(frame, bad))
        )
    frame[col] = parsed


def _drop_blank_keys(frame, spec, source, notes):
    dropped = pd.Series(False, index=frame.index)
    for col in spec.required:
        if col in frame.columns:
            dropped |= frame[col].isna()
    if dropped.any():
        n = int(dropped.sum())
        notes.append(Note(spec.name, source, None, "dropped", n,
                          f"{n} row(s) had no value in a required column "
                          f"({', '.join(spec.required)}) and were left out "
                          f"({rows_text(_lines(frame, dropped))}).", _lines(frame, dropped)))
    return frame[~dropped]


def _check_duplicates(frame, spec, source, notes):
    if not spec.key or spec.key not in frame.columns:
        return frame
    exact = frame.duplicated(keep="first")
    if exact.any():
        n = int(exact.sum())
        notes.append(Note(spec.name, source, spec.key, "dropped", n,
                          f"{n} row(s) were exact copies of another row and were dropped "
                          f"({rows_text(_lines(frame, exact))}).", _lines(frame, exact)))
        frame = frame[~exact]
    clash = frame[spec.key].duplicated(keep=False)
    if clash.any():
        ids = frame.loc[clash, spec.key].unique()
        raise DataError(
            f"{source}: {len(ids)} {spec.key} value(s) appear on more than one row with different "
            f"contents (e.g. {', '.join(map(repr, ids[:3]))}; {rows_text(_lines(frame, clash))}). "
            f"Each {spec.key} must appear once in the {spec.name} table. If the file has one row "
            "per line item (a Shopify export does), declare its `format:` in business.yaml; "
            "otherwise remove or renumber the repeated rows."
        )
    return frame


def _table_rules(frame, spec, source, notes):
    """Checks that depend on what a table means, not just on column types."""
    if spec.name == "orders" and "revenue" in frame.columns:
        negative = frame["revenue"] < 0
        if negative.any():
            n = int(negative.sum())
            notes.append(Note(spec.name, source, "revenue", "warning", n,
                              f"{n} order(s) have negative revenue; they are read as refunds and "
                              f"reduce net revenue ({rows_text(_lines(frame, negative))}).",
                              _lines(frame, negative)))


def validate(frame: pd.DataFrame, table: str, source: str) -> None:
    """Run the table's pandera schema; a failure becomes a DataError naming rows and fix."""
    import pandera.errors

    try:
        schemas.pandera_schema(table).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        first = cases.iloc[0]
        lines = [int(i) + 2 for i in cases["index"].dropna().astype(int).unique()[:50]]
        raise DataError(
            f"{source}: {len(cases)} value(s) fail the {table} checks; first: column "
            f"'{first['column']}' {first['check']} (value {first['failure_case']!r}, "
            f"{rows_text(lines)}). Correct those rows in the file."
        ) from None


def coerce_table(
    raw: pd.DataFrame, table: str, *, source: str, locale: str = "en_US", timezone: str | None = None
) -> tuple[pd.DataFrame, list[Note]]:
    """Coerce a raw source into the canonical ``table``; returns the table and its notes.

    Known columns get their kind's type; extra columns are kept as they are. Raises DataError
    for a missing required column, a column none of whose values can be read, conflicting
    duplicate ids, or a failed schema check; MissingDataError for a file with no rows.
    """
    spec = schemas.spec(table)
    frame = match_columns(raw, table).reset_index(drop=True)
    check_required(frame, table, source)
    if frame.empty:
        raise MissingDataError(
            f"{source} has column names but no rows, so there is no {table} data to analyse. "
            "Export it again with a date range that has activity, or remove it from business.yaml."
        )
    notes: list[Note] = []
    for col, kind in spec.columns.items():
        if col in frame.columns:
            _coerce_column(frame, col, kind, table=table, source=source, locale=locale,
                           timezone=timezone, notes=notes)
    frame = _drop_blank_keys(frame, spec, source, notes)
    frame = _check_duplicates(frame, spec, source, notes)
    _table_rules(frame, spec, source, notes)
    validate(frame, table, source)
    return frame.reset_index(drop=True), notes


def combine_sources(parts: list[pd.DataFrame], table: str) -> tuple[pd.DataFrame, list[Note]]:
    """One table from several coerced sources (Meta and Google Ads spend; customers from a shop
    and from an e-mail list).

    Rows are stacked. In a table with a key, rows of different sources with the same key are one
    record: each column takes the first filled value in the order the sources are declared, except
    dates (the earliest, e.g. signup) and consent, where a "no" in any source wins (someone who unsubscribed in Mailchimp has not agreed
    to e-mail, whatever the shop says)."""
    if len(parts) == 1:
        return parts[0], []
    spec = schemas.spec(table)
    frame = pd.concat(parts, ignore_index=True)
    if not spec.key or spec.key not in frame.columns:
        return frame, []
    repeated = frame[spec.key].duplicated(keep=False) & frame[spec.key].notna()
    if not repeated.any():
        return frame, []
    groups = frame.groupby(spec.key, sort=False, dropna=False)
    merged = groups.first()
    for col in spec.date_columns:  # a person signed up when any source first saw them
        if col in frame.columns:
            merged[col] = groups[col].min()
    for col in ("consent_email", "consent_ads"):
        if col in frame.columns:
            said_no = frame[col].eq(False).groupby(frame[spec.key], sort=False).any()
            merged.loc[said_no[said_no].index, col] = False
    merged = merged.reset_index()[frame.columns]
    n = int(frame.loc[repeated, spec.key].nunique())
    return merged, [Note(table, "several sources", spec.key, "coerced", n,
                         f"{n} {spec.key} value(s) appear in more than one source and were merged "
                         "into one record each (consent: a 'no' in any source wins).")]
