"""Ad platform reports: Google Ads (campaign report download) and Meta Ads Manager exports, both
into ``marketing_spend``.

Google Ads: line 1 is the report title and line 2 the quoted date range, then the header;
numbers carry thousands separators (``"1,234"``), ``--`` means not available, and ``Total: ...``
rows at the end repeat the sums (left out). A report segmented by ``Day`` gives a row per campaign
and day; otherwise each row covers the whole date range: ``date`` is its first day and
``period_end`` its last.

Meta: the currency is inside column names (``Amount spent (USD)``); each row has its own
``Reporting starts`` / ``Reporting ends``; ``Results`` counts whatever ``Result indicator`` says
(purchases, leads, link clicks, reach...), so it becomes ``conversions`` only when the indicator is
a purchase, lead or registration.
"""

from __future__ import annotations

import re

import pandas as pd

from helpers.connectors._common import blank, build, dates
from helpers.connectors._source import Connector, Signature, Source
from helpers.errors import DataError

SPEND = "marketing_spend"
RANGE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%m/%d/%Y")
DAY_FORMATS = ("%Y-%m-%d", "%a, %b %d, %Y", "%b %d, %Y", "%B %d, %Y")
TOTAL_ROW = re.compile(r"total\s*(:|$)", re.I)  # "Total: Account", "Total: Search campaigns"
CURRENCY_IN_NAME = re.compile(r"\(([A-Z]{3})\)")
# Meta result indicators that count sales-like conversions (the rest: clicks, reach, views...).
CONVERSION_INDICATOR = re.compile(
    r"purchase|lead|complete_?registration|offsite_conversion\.(fb_pixel_)?custom", re.I
)
META_COUNTS = ("Results", "Impressions", "Reach", "Link clicks", "Clicks (all)")
NOT_CONVERSION = re.compile(r"messaging|view_content|add_to_cart|landing_page", re.I)


# ---- Google Ads -----------------------------------------------------------------------------
def date_range(lines: list[str]) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The report's date range from the lines above the header ("September 1, 2026 - ...")."""
    for line in lines:
        parts = re.split(r"\s+[-–]\s+", line.strip().strip('"').strip())
        if len(parts) != 2:
            continue
        got, bad = dates(pd.Series(parts), formats=RANGE_FORMATS)
        if not bad.any() and got.notna().all():
            return got.iloc[0], got.iloc[1]
    return None


def _google_channel(types: pd.Series) -> pd.Series:
    kind = types.fillna("").str.lower()
    out = pd.Series("paid_search", index=types.index, dtype=object)
    out[kind.str.contains("display")] = "display"
    out[kind.str.contains("video")] = "video"
    return out


def _google_dates(src: Source, day_col: str | None) -> tuple[pd.Series, dict]:
    if day_col:
        return src.date(day_col, table=SPEND, formats=DAY_FORMATS), {}
    found = date_range(src.preamble)
    if found is None:
        raise DataError(
            f"{src.path}: this {src.label} has no 'Day' column and no date range above its "
            'header (line 2 of a downloaded report, like "September 1, 2026 - September 30, '
            '2026"), so its rows cannot be dated. Download the report again with its first two '
            "lines, or segment it by Day (Segment > Time > Day) before downloading."
        )
    start, end = found
    src.note(
        SPEND,
        "date",
        "coerced",
        len(src.frame),
        f"The {src.label} has no Day column: each of its {len(src.frame)} row(s) covers the "
        f"report's date range, {start:%Y-%m-%d} to {end:%Y-%m-%d}, so its date is the first "
        "day and period_end the last.",
    )
    index = src.frame.index
    return (
        pd.Series(start, index=index, dtype="datetime64[ns]"),
        {"period_end": pd.Series(end, index=index, dtype="datetime64[ns]")},
    )


def read_google_ads(src: Source) -> dict[str, pd.DataFrame]:
    """Marketing spend from a Google Ads campaign report (see the module text)."""
    campaign, cost = src.need("Campaign"), src.need("Cost")
    impressions, clicks = src.need("Impr.", "Impressions"), src.need("Clicks")
    if src.frame.empty:
        raise src.no_rows()
    first = src.frame.columns[0]
    total = pd.Series(False, index=src.frame.index)
    for col in {first, campaign}:
        total |= src.frame[col].str.strip().str.match(TOTAL_ROW)
    src.drop(SPEND, total, "were report totals ('Total: ...') and were left out", column=first)
    if src.frame.empty:
        raise src.no_rows()
    currency = src.col("Currency code", "Currency")
    if currency:
        src.check_currency(
            src.frame[currency].where(~blank(src.frame[currency]), "").unique(),
            f"its '{currency}' column",
        )
    date, period = _google_dates(src, src.col("Day", "Date"))
    kind = src.text(src.col("Campaign type", "Advertising channel type"))
    return {
        SPEND: build(
            SPEND,
            {
                "date": date,
                "channel": _google_channel(kind),
                "campaign_id": src.text(campaign),
                "spend": src.number(cost, table=SPEND),
                "impressions": src.number(impressions, table=SPEND),
                "clicks": src.number(clicks, table=SPEND),
                "conversions": src.number(src.col("Conversions"), table=SPEND),
                "platform_revenue": src.number(
                    src.col("Conv. value", "Total conv. value"), table=SPEND
                ),
            },
            {
                **period,
                "campaign_type": kind,
                "campaign_status": src.text(src.col("Campaign status")),
            },
        )
    }


# ---- Meta Ads -------------------------------------------------------------------------------
def _meta_conversions(src: Source, results: pd.Series, indicator: pd.Series) -> pd.Series:
    counts = indicator.fillna("").map(
        lambda s: bool(CONVERSION_INDICATOR.search(s)) and not NOT_CONVERSION.search(s)
    )
    other = indicator.notna() & ~counts
    if other.any():
        kinds = ", ".join(sorted(indicator[other].unique())[:3])
        src.note(
            SPEND,
            "conversions",
            "warning",
            int(other.sum()),
            f"{int(other.sum())} row(s) of the {src.label} count Results as something other "
            f"than a purchase or lead ({kinds}); their conversions are left blank (see "
            "result_indicator and results).",
        )
    return results.where(counts)


def _blank_as_zero(src: Source, names: list[str]) -> None:
    """Meta leaves a count blank when there is nothing to count: read those cells as 0."""
    done = {}
    for column in filter(None, (src.col(n) for n in names)):
        empty = src.frame[column].str.strip().eq("")
        if empty.any():
            src.frame.loc[empty, column] = "0"
            done[column] = int(empty.sum())
    if done:
        listed = ", ".join(f"'{c}' {n}" for c, n in done.items())
        src.note(
            SPEND,
            None,
            "coerced",
            sum(done.values()),
            f"{sum(done.values())} blank cell(s) of the {src.label} were read as 0, as Meta "
            f"leaves a cell blank when there is nothing to count ({listed}).",
        )


def read_meta_ads(src: Source) -> dict[str, pd.DataFrame]:
    """Marketing spend from a Meta Ads Manager export (see the module text)."""
    starts, ends = src.need("Reporting starts"), src.need("Reporting ends")
    spend = src.need("Amount spent", pattern=r"amount spent \(\w{3}\)")
    if src.frame.empty:
        raise src.no_rows()
    src.check_currency(
        {c for col in src.frame.columns for c in CURRENCY_IN_NAME.findall(col)},
        f"in column names such as '{spend}'",
    )
    name = src.col("Campaign name", "Ad set name", "Ad name")
    if name is None:
        raise src.missing("Campaign name", alternatives=("Ad set name", "Ad name"))
    src.drop(
        SPEND,
        blank(src.frame[name]),
        f"had no '{name}' (summary rows) and were left out",
        column=name,
    )
    if src.frame.empty:
        raise src.no_rows()
    _blank_as_zero(src, [spend, *META_COUNTS])
    day = src.col("Day")
    results = src.number(src.col("Results"), table=SPEND)
    indicator = src.text(src.col("Result indicator"))
    value = src.col(pattern=r".*purchases? conversion value.*")
    return {
        SPEND: build(
            SPEND,
            {
                "date": src.date(day or starts, table=SPEND),
                "channel": pd.Series("paid_social", index=src.frame.index, dtype=object),
                "campaign_id": src.text(name),
                "spend": src.number(spend, table=SPEND),
                "impressions": src.number(src.col("Impressions"), table=SPEND),
                "clicks": src.number(src.col("Link clicks", "Clicks (all)"), table=SPEND),
                "conversions": _meta_conversions(src, results, indicator),
                "platform_revenue": src.number(value, table=SPEND),
            },
            {
                "period_end": src.date(day or ends, table=SPEND),
                "results": results,
                "result_indicator": indicator,
                "reach": src.number(src.col("Reach"), table=SPEND),
            },
        )
    }


GOOGLE_ADS = Connector(
    name="google_ads",
    label="Google Ads report",
    tables=(SPEND,),
    signature=Signature(
        all=("campaign", "cost", "clicks"),
        any=(
            r"impr\.",
            r"conv\. value",
            "campaign type",
            "currency code",
            r"avg\. cpc",
            r"cost / conv\.",
        ),
    ),
    needs=(
        "Campaign",
        "Cost",
        "Impr.",
        "Clicks",
        "Conversions",
        "Conv. value",
        "Campaign type",
        "Currency code",
        "Day (optional)",
    ),
    reader=read_google_ads,
    how_to_export="(Google Ads: Campaigns > Download > CSV)",
)

META_ADS = Connector(
    name="meta_ads",
    label="Meta Ads Manager export",
    tables=(SPEND,),
    signature=Signature(
        all=("reporting starts", "reporting ends"),
        any=("campaign name", "ad set name", "ad name", r"amount spent \(\w{3}\)"),
    ),
    needs=(
        "Reporting starts",
        "Reporting ends",
        "Campaign name",
        "Amount spent (XXX)",
        "Impressions",
        "Link clicks",
        "Results",
        "Result indicator",
    ),
    reader=read_meta_ads,
    how_to_export="(Meta Ads Manager: Reports > Export table data > .csv)",
)
