"""Connectors: platform exports (Shopify, Mailchimp, Google Ads, Meta, GA4, HubSpot, Stripe,
Square) turned into the workbook's canonical tables.

A business declares an export in business.yaml with ``format:`` (``orders: {path: exports/orders.csv,
format: shopify_orders}``), or leaves ``format`` out and the connector is found from the file's
header. ``read_export`` returns every canonical table the export holds, with canonical column
names and typed values (dates as datetimes, money as floats); ``helpers.tables.coerce_table`` then
checks them like any other source.

PUBLIC API:
    FORMATS: dict[str, Connector]
    detect_format(path) -> str | None
    read_export(path, format=None, *, currency=None, timezone=None) -> Export

Examples
--------
>>> export = read_export("exports/orders_export.csv", currency="USD")  # doctest: +SKIP
>>> export.format, list(export.tables)  # doctest: +SKIP
('shopify_orders', ['orders', 'order_items', 'customers'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers import io
from helpers.connectors import ads, ga4, hubspot, mailchimp, payments, shopify
from helpers.connectors._common import SNIFF_BYTES, read_text, split_lines
from helpers.connectors._source import Connector, Signature, Source, find_header, first_table_line
from helpers.errors import DataError, MissingDataError, UnknownNameError
from helpers.tables import Note


@dataclass(frozen=True)
class Export:
    """What one export file holds: canonical tables by name, and notes on what was dropped."""

    format: str
    tables: dict[str, pd.DataFrame]
    notes: list[Note] = field(default_factory=list)


FORMATS: dict[str, Connector] = {
    c.name: c
    for c in (
        shopify.CONNECTOR,
        mailchimp.AUDIENCE,
        mailchimp.CAMPAIGN_REPORTS,
        ads.GOOGLE_ADS,
        ads.META_ADS,
        ga4.CONNECTOR,
        hubspot.CONTACTS,
        hubspot.DEALS,
        payments.STRIPE,
        payments.SQUARE,
    )
}


def _is_text_file(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and name.endswith(io.CSV_SUFFIXES)


def detect_format(path: str | Path) -> str | None:
    """The export format whose header this file has, or None for a file of the business's own.

    Reads only the first few KB. Skips ``#`` comment lines and title / date-range lines above
    the header. Never raises: a missing file, an Excel, Parquet or JSON file, an unreadable or
    unrecognised file all give None (reading it later says what is wrong)."""
    path = Path(path)
    try:
        if not _is_text_file(path):
            return None
        found = find_header(read_text(path, limit=SNIFF_BYTES), FORMATS.values())
    except (OSError, EOFError, ValueError):
        return None
    return found.connector.name if found else None


def known_formats() -> str:
    """The formats as a list for messages: 'shopify_orders (Shopify orders export), ...'."""
    return ", ".join(f"{name} ({c.label})" for name, c in FORMATS.items())


def _locate(path: Path, text: str, format: str | None):
    if format is None:
        header = find_header(text, FORMATS.values())
        if header is None:
            raise DataError(
                f"{path}: the workbook does not recognise this file as a platform export; the "
                f"formats it knows are {known_formats()}. Declare the file's `format:` in "
                "business.yaml if it is one of them (an export whose columns were renamed is not "
                "recognised: export it again), or give it the canonical columns (see the data "
                "dictionary) and leave `format:` out."
            )
        return header
    connector = FORMATS[format]
    header = find_header(text, [connector])
    if header is None:
        other = find_header(text, FORMATS.values())
        if other is not None:
            raise DataError(
                f"{path} is declared as `format: {format}` ({connector.label}) in business.yaml, "
                f"but its header is that of a {other.connector.label} ({other.connector.name}). "
                f"Change `format:` to {other.connector.name}, or leave `format:` out so the "
                "workbook recognises the file by itself."
            )
    return header or first_table_line(text, connector)


def _open(path: Path, format: str | None, *, currency: str | None, timezone: str | None) -> Source:
    """The export as a Source: text read, header found, preamble noted."""
    if not path.exists():
        raise MissingDataError(
            f"{path} does not exist. Check the `path:` under `data:` in business.yaml "
            "(it is relative to the business folder), or put the export there."
        )
    if not path.name.lower().endswith(io.CSV_SUFFIXES):
        raise DataError(
            f"{path}: platform exports are read as CSV files, and this is a "
            f"'{path.suffix}' file. Download the export from the platform as CSV, or save this "
            "file as CSV (UTF-8)."
        )
    text = read_text(path)
    if not text.strip():
        raise MissingDataError(
            f"{path.name} is empty (no header, no rows). Export the file again from the platform, "
            "or delete its line under `data:` in business.yaml."
        )
    header = _locate(path, text, format)
    if header is None:
        raise MissingDataError(
            f"{path} has no header row of a {FORMATS[format].label}, only comment lines. Export "
            "it again from the platform."
        )
    source = Source(
        path, header.connector, split_lines(text), header, currency=currency, timezone=timezone
    )
    first = first_table_line(text, header.connector)
    skipped = [ln for ln in source.lines[: min(header.line, first.line)] if ln.strip()]
    if skipped:
        source.note(
            header.connector.tables[0],
            None,
            "dropped",
            len(skipped),
            f"{len(skipped)} line(s) above the header of the {header.connector.label} "
            f"(title, date range or # comments) were skipped; the first: "
            f"{skipped[0].strip()[:60]!r}.",
        )
    return source


def read_export(
    path: str | Path,
    format: str | None = None,
    *,
    currency: str | None = None,
    timezone: str | None = None,
) -> Export:
    """Read a platform export into canonical tables.

    Parameters
    ----------
    path : the export file (never modified).
    format : a name of ``FORMATS``; None detects it from the header.
    currency : the business's ISO currency; an export stating another one is a DataError.
    timezone : the business's IANA timezone; times that the file gives with an offset (Shopify)
        or in UTC (Stripe, or Square's named time zones) come back tz-aware in it.

    Returns
    -------
    Export : ``tables`` by canonical name, ``notes`` on every row left out or value changed.

    Raises
    ------
    UnknownNameError : ``format`` is not a known format (the message lists them).
    DataError : the file is not a recognised export, lacks a column its format needs, is cut off,
        or states another currency; the message names the file, the column and the fix.
    MissingDataError : the file is missing, empty, or has a header but no rows.
    """
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise UnknownNameError.for_name(format, FORMATS, what="export format", where=str(path))
    source = _open(path, format, currency=currency, timezone=timezone)
    tables = source.connector.reader(source)
    return Export(source.connector.name, tables, source.notes)


__all__ = [
    "FORMATS",
    "Connector",
    "Export",
    "Signature",
    "detect_format",
    "known_formats",
    "read_export",
]
