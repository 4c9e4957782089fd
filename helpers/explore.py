"""Step 02: what data you have, and what it already says about your business.

Each analysis is a pure function over tables (``*_data``) that returns a :class:`Finding`: the table
its ``plot_*`` function draws, the key numbers, and a reading in words written from those numbers.
A thin wrapper taking the plan (``trend(plan)``, ``web_funnel(plan)``...) applies the analysis date
and currency, or, when a table is absent, returns a skipped Finding whose reading names the data
that would enable it. ``insights`` turns the findings into short statements, each with its number.
Customer segments (RFM) live in ``helpers.segments``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field

import pandas as pd

from helpers import schemas
from helpers.errors import DataError
from helpers.plan import money


def known(table: str, *names: str) -> tuple[str, ...]:
    """Column names of a canonical table, checked against ``helpers.schemas`` at import time."""
    missing = [n for n in names if n not in schemas.spec(table).columns]
    if missing:
        raise KeyError(f"helpers.schemas has no column {missing} in the {table} table")
    return names


ORDER_ID, CUSTOMER_ID, ORDER_DATE, REVENUE = known(
    "orders", "order_id", "customer_id", "order_date", "revenue")
SENT_AT, OPENED_AT, CLICKED_AT, UNSUBSCRIBED, CAMPAIGN_ID = known(
    "email_events", "sent_at", "opened_at", "clicked_at", "unsubscribed", "campaign_id")
STARTED_AT, SOURCE, MEDIUM, PAGES, CONVERTED = known(
    "web_sessions", "started_at", "source", "medium", "pages", "converted")
CREATED_AT, CONVERTED_AT, VALUE = known("leads", "created_at", "converted_at", "value")
PRODUCT_ID, QUANTITY, UNIT_PRICE = known("order_items", "product_id", "quantity", "unit_price")
NAME, CATEGORY, PRICE = known("products", "name", "category", "price")
DAY = pd.Timedelta(days=1)
NOT_SET = "(not set)"


@dataclass(frozen=True, eq=False)
class Finding:
    """What one analysis found.

    ``ok`` is False when the data is absent or too small; ``reading`` is then the sentence saying
    what would enable it. ``data`` is the table that the matching ``plot_*`` draws, ``extra`` other
    tables, ``numbers`` the plain numbers the reading and the insights rest on, ``title`` a chart
    title that states the finding.
    """

    topic: str
    ok: bool
    reading: str
    title: str = ""
    data: pd.DataFrame = field(default_factory=pd.DataFrame)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    numbers: dict = field(default_factory=dict)
    currency: str = "USD"

    def __str__(self) -> str:
        return self.reading


def cap(text: str) -> str:
    """The text with its first letter upper-cased ('email / cpc ...' -> 'Email / cpc ...')."""
    return text[:1].upper() + text[1:]


def join_and(words) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = [str(w) for w in words]
    return " and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)


def label(value) -> str:
    """A data value as words for a sentence or a chart: 'whole_bean' -> 'whole bean'."""
    return str(value).replace("_", " ")


def until(frame: pd.DataFrame, column: str, as_of) -> pd.DataFrame:
    """Rows dated on or before the analysis date (the whole of that day included)."""
    return frame[frame[column] < pd.Timestamp(as_of).normalize() + DAY]


def purchases(orders: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """Orders with a customer that are not refunds, on or before the analysis date."""
    o = until(orders, ORDER_DATE, as_of)
    return o[o[CUSTOMER_ID].notna() & (o[REVENUE] >= 0)]


SECTIONS = {"segments": "Customer segments", "cohorts": "Cohort retention",
            "trend": "The revenue trend", "web": "The website funnel", "email": "The email funnel",
            "leads": "The lead funnel", "mix": "The product mix"}


def skipped(topic: str, plan, *tables: str) -> Finding | None:
    """A skipped Finding naming the first absent table, what it holds and how to add it; None
    when every table is there."""
    for table in tables:
        if not plan.has(table):
            why, purpose = plan.why_missing(table), schemas.spec(table).purpose
            need = f"{SECTIONS.get(topic, 'This section')} needs your {table} table"
            need += "." if purpose in why else f" ({purpose})."
            return Finding(topic, False, f"{need} {cap(why)}")
    return None


def nothing(topic: str, what: str, as_of, currency: str = "USD") -> Finding:
    """A skipped Finding for a table that has no usable rows on or before the analysis date."""
    return Finding(topic, False, f"{SECTIONS.get(topic, 'This section')} has nothing to read yet: "
                   f"there are no {what} on or before {pd.Timestamp(as_of):%d %b %Y}, the "
                   "analysis date (`as_of` in business.yaml).", currency=currency)


# ---- 1. what data you have ---------------------------------------------------------------------
def table_profile(frame: pd.DataFrame, table: str, *, as_of) -> dict:
    """Rows, columns, first/last date, days since the last date, and % of empty known cells."""
    spec = schemas.spec(table)
    dates = frame[spec.date_column] if spec.date_column in frame else pd.Series(dtype="M8[ns]")
    cols = [c for c in spec.columns if c in frame]
    last = dates.max()
    return {"rows": len(frame), "columns": frame.shape[1], "first_date": dates.min(),
            "last_date": last,
            "freshness_days": (pd.Timestamp(as_of) - last.normalize()).days if pd.notna(last) else None,
            "missing_pct": round(100 * float(frame[cols].isna().to_numpy().mean()), 1) if cols else None}


def inventory(plan) -> pd.DataFrame:
    """One row per canonical table: declared?, loaded?, rows, dates, freshness, missing %, the
    steps it enables, and for an absent table the sentence of what it would enable."""
    rows = []
    for name, spec in schemas.TABLES.items():
        row = {"table": name, "declared": name in plan.declared(), "available": False}
        try:
            if plan.has(name):
                row |= {"available": True, **table_profile(plan.table(name), name, as_of=plan.as_of)}
                row["note"] = spec.purpose
            else:
                row["note"] = plan.why_missing(name)
        except DataError as exc:
            row["note"] = f"could not be read: {exc}"
        row["enables_steps"] = ", ".join(f"{s:02d}" for s in spec.steps)
        rows.append(row)
    cols = ["table", "declared", "available", "rows", "columns", "first_date", "last_date",
            "freshness_days", "missing_pct", "enables_steps", "note"]
    out = pd.DataFrame(rows).reindex(columns=cols)
    return out.astype({c: "Int64" for c in ("rows", "columns", "freshness_days")})


def inventory_reading(inv: pd.DataFrame) -> str:
    """What the inventory says: how many tables, the history span, stale or gappy tables."""
    have = inv[inv.available]
    lost = sorted(set().union(*[set(s.split(", ")) for s in inv[~inv.available].enables_steps]) -
                  set().union(*[set(s.split(", ")) for s in have.enables_steps]))
    text = [f"You have {len(have)} of the {len(inv)} tables the workbook knows: "
            f"{', '.join(have.table)}."]
    dated = have.dropna(subset=["first_date"])
    main = dated[dated.table == "orders"] if "orders" in set(dated.table) else dated
    if len(main):
        first, last = main.first_date.min(), main.last_date.max()
        text.append(f"{'Your orders' if len(main) == 1 else 'Together they'} run from "
                    f"{first:%d %b %Y} to {last:%d %b %Y} ({(last - first).days / 365.25:.1f} years).")
    ahead = dated[dated.freshness_days < 0]
    if len(ahead):
        text.append("Rows dated after the analysis date are left out of every analysis: "
                    + ", ".join(ahead.table) + ".")
    stale = dated[dated.freshness_days > 31]
    if len(stale):
        text.append("Stale (last row more than a month before the analysis date): " + ", ".join(
            f"{t} ({d:.0f} days)" for t, d in zip(stale.table, stale.freshness_days, strict=True)) + ".")
    gappy = have[have.missing_pct > 10]
    if len(gappy):
        text.append("Many empty cells: " + ", ".join(
            f"{t} ({p:.0f}%)" for t, p in zip(gappy.table, gappy.missing_pct, strict=True)) + ".")
    text.append(f"None of your tables feeds step(s) {', '.join(lost)}; the missing tables above "
                "would." if lost else "Every step has at least one of the tables it uses.")
    return " ".join(text)


def quality_notes(plan) -> pd.DataFrame:
    """What the loader fixed or noticed in the data (the plan's notes), one row per note."""
    plan.available()  # load every declared table so its notes are in
    cols = ["table", "column", "kind", "count", "message"]
    return pd.DataFrame([{c: getattr(n, c) for c in cols} for n in plan.notes], columns=cols)


def data_legend(plan, table: str = "orders") -> pd.DataFrame:
    """A legend for a table: each column, what kind of value it holds, an example (personal data
    masked, via ``plan.preview``) and how full it is."""
    frame, example = plan.table(table), plan.preview(table, n=1)
    kinds = schemas.spec(table).columns
    return pd.DataFrame({
        "column": frame.columns,
        "kind": [kinds.get(c, "extra column, kept as is") for c in frame.columns],
        "example": [example[c].iloc[0] if len(example) else None for c in frame.columns],
        "filled_pct": (100 * frame.notna().mean()).round(1).to_numpy(),
    })


# ---- 5. insights -------------------------------------------------------------------------------
def _insight(topic: str, finding: str, value: float, so_what: str) -> dict:
    return {"topic": topic, "finding": finding, "value": float(value), "so_what": so_what}


def _segment_insights(n: dict, cur: str) -> list[dict]:
    out = [_insight("segments", f"{n['top_segment']} are {n['top_customer_share']:.0%} of customers "
                    f"and bring {n['top_revenue_share']:.0%} of revenue", n["top_revenue_share"],
                    f"Look after these {n['top_customers']:,} customers first (early access, thanks, "
                    f"no blanket discounts): each tenth of them stands for "
                    f"{money(n['top_revenue'] / 10, cur)} of what they have spent.")]
    if n.get("risk_customers"):
        out.append(_insight("segments", f"{n['risk_customers']:,} once-valuable customers spent "
                            f"{money(n['risk_revenue'], cur)} but have not ordered for "
                            f"{n['risk_recency']:.0f} days on average", n["risk_revenue"],
                            "A win-back email to them is a cheap first test: winning back one in "
                            f"ten, at their past spend, is worth {money(n['risk_revenue'] / 10, cur)}."))
    return out


def _trend_insights(n: dict, cur: str) -> list[dict]:
    out, c = [], n["trend_change"]
    if c is not None:
        span = "a year ago" if n["trend_weeks"] == 52 else f"{n['trend_weeks']} weeks ago"
        act = ("find which channel or segment is shrinking before adding budget" if c < -0.05 else
               f"growth of {c:.0%} is the baseline your campaigns have to beat" if c > 0.05 else
               "growth will have to come from the actions in this plan, not momentum")
        out.append(_insight("trend", f"Your weekly revenue trend is {'up' if c >= 0 else 'down'} "
                            f"{abs(c):.0%} on {span} ({money(n['trend_now'], cur)} a week now)", c,
                            f"Revenue is {'growing' if c > 0.05 else 'shrinking' if c < -0.05 else 'flat'}: "
                            f"{act}."))
    if "peak_month" in n:
        before = calendar.month_name[(list(calendar.month_name).index(n["peak_month"]) - 2) % 12 + 1]
        out.append(_insight("seasonality", f"{n['peak_month']} revenue is {n['peak_month_index']:.1f}x "
                            "an average month", n["peak_month_index"],
                            f"Have campaigns (and any stock) ready by {before}; {n['low_month']} "
                            f"({n['low_month_index']:.1f}x) is the quiet month for tests and "
                            "retention work."))
    return out


def _cohort_insights(n: dict, cur: str) -> list[dict]:
    r, d = n["repeat_share"], n["median_days_to_second"]
    if r is None:
        return []
    return [_insight("cohorts", f"{'Only ' if r < 0.4 else ''}{r:.0%} of first-time buyers order "
                     "again within 3 months", r,
                     "The weeks after a first order are where a second one is won"
                     + (f": those who return take {d:.0f} days (median), so time the follow-up "
                        "before then." if d is not None else "."))]


def _channel_insight(topic: str, n: dict, what: str, fmt: str) -> list[dict]:
    if "best" not in n or n["best_rate"] < 1.25 * n["rate"]:  # no source stands out
        return []
    return [_insight(topic, f"{cap(n['best'])} {what} convert at {n['best_rate']:{fmt}}, "
                     f"{n['best_rate'] / n['rate']:.1f}x your average of {n['rate']:{fmt}}",
                     n["best_rate"], f"Find out why {n['best']} works and move effort from "
                     f"{n['worst']} ({n['worst_rate']:{fmt}}).")]


def _email_insights(n: dict, cur: str) -> list[dict]:
    tail = (f", and {n['orders']:,} orders ({money(n['order_revenue'], cur)}) followed within "
            f"{n['days']} days of a click" if "orders" in n else "")
    return [_insight("email", f"{n['click_rate']:.1%} of your emails are clicked{tail}",
                     n["click_rate"], "Send less to people who never click and test, with a "
                     "holdout group, how much of the orders after a click email really adds.")]


def _lead_insights(n: dict, cur: str) -> list[dict]:
    out = _channel_insight("leads", n, "leads", ".0%")
    if n.get("peak_month_index", 0) >= 1.2:
        wait = f"; they take {n['median_days']:.0f} days to convert (median)" if n["median_days"] else ""
        out.append(_insight("leads", f"{n['peak_month']} brings {n['peak_month_index']:.1f}x an "
                            "average month's leads", n["peak_month_index"],
                            f"Put your biggest lead offer and follow-up capacity in "
                            f"{n['peak_month']}{wait}."))
    return out


def _mix_insights(n: dict, cur: str) -> list[dict]:
    return [_insight("mix", f"{cap(n['top_category'])} brings {n['top_category_share']:.0%} of product "
                     "revenue", n["top_category_share"],
                     f"Start recommendations and bundles (step 07) from {n['top_category']} and "
                     f"your best seller, {n['top_product']} ({n['top_product_share']:.0%} alone).")]


INSIGHTS = {"segments": _segment_insights, "trend": _trend_insights, "cohorts": _cohort_insights,
            "web": lambda n, c: _channel_insight("web", n, "visits", ".1%"),
            "email": _email_insights, "leads": _lead_insights, "mix": _mix_insights}


def insights(plan, *findings: Finding) -> list[dict]:
    """Statements written from this business's numbers: {topic, finding, value, so_what}, where
    ``value`` is the number the finding rests on. Skipped sections give none."""
    out = []
    for f in findings:
        if f.ok and f.topic in INSIGHTS:
            out += INSIGHTS[f.topic](f.numbers, plan.currency)
    return out


HEADLINE = (  # (section, number, name in steps/02.json, unit)
    ("segments", "customers", "customers", "count"),
    ("segments", "top_segment", "top_segment", None),
    ("segments", "top_revenue_share", "top_segment_revenue_share", "percent"),
    ("cohorts", "repeat_share", "repeat_within_3_months", "percent"),
    ("trend", "trend_change", "revenue_trend_change", "percent"),
    ("trend", "peak_month", "peak_month", None),
    ("trend", "yearly_strength", "yearly_seasonality", "number"),
    ("web", "rate", "web_conversion", "percent"),
    ("email", "click_rate", "email_click_rate", "percent"),
    ("leads", "rate", "lead_conversion", "percent"),
    ("mix", "top_category", "top_category", None),
    ("mix", "top_category_share", "top_category_share", "percent"),
)


def step_summary(findings: list[Finding], found: list[dict]) -> dict:
    """status / reason / headline / summary / warnings for ``plan.record_step``: key numbers per
    section, the insights in words, and the sections skipped (with why) or read with caution.
    The step is skipped only when no section had its data."""
    ok = {f.topic: f.numbers for f in findings if f.ok}
    shown = [(topic, key, name, unit) for topic, key, name, unit in HEADLINE
             if ok.get(topic, {}).get(key) is not None]
    headline = {name: ok[topic][key] for topic, key, name, _ in shown}
    units = {name: unit for _, _, name, unit in shown if unit}
    warnings = [f.reading for f in findings if not f.ok]
    warnings += [f.numbers["warning"] for f in findings if f.numbers.get("warning")]
    return {"status": "ok" if ok else "skipped", "reason": "" if ok else " ".join(warnings[:1]),
            "headline": headline, "units": units, "summary": [i["finding"] for i in found],
            "warnings": warnings}


def artifact(plan, findings: list[Finding], found: list[dict]) -> dict:
    """The content of insights.json: the insights and each section's reading and numbers."""
    return {"business": plan.name, "as_of": plan.as_of.date().isoformat(), "currency": plan.currency,
            "insights": found,
            "sections": {f.topic: {"ok": f.ok, "reading": f.reading, "numbers": f.numbers}
                         for f in findings}}
