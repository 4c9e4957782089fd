"""Connectors: platform exports (Shopify, Mailchimp, Google Ads, Meta, GA4, HubSpot, Stripe,
Square) turned into the workbook's canonical tables.

A business declares an export in business.yaml with ``format:`` (``orders: {path: exports/orders.csv,
format: shopify_orders}``), or leaves ``format`` out and the connector is found from the file's
header. ``read_export`` returns every canonical table the export holds, with canonical column
names and typed values (dates as datetimes, money as floats); ``helpers.tables.coerce_table`` then
checks them like any other source.

PUBLIC API (filled in by the platform modules):
    FORMATS: dict[str, Connector]
    detect_format(path) -> str | None
    read_export(path, format=None, *, currency=None, timezone=None) -> Export
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.errors import UnknownNameError
from helpers.tables import Note


@dataclass(frozen=True)
class Export:
    """What one export file holds: canonical tables by name, and notes on what was dropped."""

    format: str
    tables: dict[str, pd.DataFrame]
    notes: list[Note] = field(default_factory=list)


FORMATS: dict = {}


def detect_format(path: str | Path) -> str | None:
    """The export format whose header this file has, or None for a file of the business's own."""
    return None


def read_export(path: str | Path, format: str | None = None, *, currency: str | None = None,
                timezone: str | None = None) -> Export:
    if format not in FORMATS:
        raise UnknownNameError.for_name(format, FORMATS, what="export format", where=str(path))
    raise NotImplementedError
