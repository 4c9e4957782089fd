"""Step 02: funnels (website, email, leads) and the product mix.

Each ``*_data`` function is pure over the tables and returns a :class:`helpers.explore.Finding`;
the plan-level calls (``web_funnel(plan)``...) skip in words when a table is absent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from helpers import plots
from helpers.explore import (
    CAMPAIGN_ID,
    CATEGORY,
    CLICKED_AT,
    CONVERTED,
    CONVERTED_AT,
    CREATED_AT,
    CUSTOMER_ID,
    DAY,
    MEDIUM,
    NAME,
    NOT_SET,
    OPENED_AT,
    ORDER_DATE,
    ORDER_ID,
    PAGES,
    PRICE,
    PRODUCT_ID,
    QUANTITY,
    REVENUE,
    SENT_AT,
    SOURCE,
    STARTED_AT,
    UNIT_PRICE,
    UNSUBSCRIBED,
    VALUE,
    Finding,
    cap,
    label,
    nothing,
    purchases,
    skipped,
    until,
)
from helpers.plan import money
from helpers.trends import month_profile


# ---- 3. funnels --------------------------------------------------------------------------------
def stages(counts: dict[str, int]) -> pd.DataFrame:
    """A funnel table: each stage's count, its share of the stage before and of the first."""
    frame = pd.DataFrame({"stage": list(counts), "count": list(counts.values())})
    frame["of_previous"] = frame["count"] / frame["count"].shift(1).fillna(frame["count"].iloc[0])
    frame["of_first"] = frame["count"] / frame["count"].iloc[0] if frame["count"].iloc[0] else np.nan
    return frame


def _best(table: pd.DataFrame, size: str, rate: str, *, min_share: float = 0.02) -> dict:
    """The best and worst rate among groups holding at least ``min_share`` of the volume."""
    big = table[table[size] >= min_share * table[size].sum()]
    if len(big) < 2:
        return {}
    best, worst = big[rate].idxmax(), big[rate].idxmin()
    return {"best": label(best), "best_rate": float(big.loc[best, rate]),
            "worst": label(worst), "worst_rate": float(big.loc[worst, rate])}


def _by(frame: pd.DataFrame, keys: list[str], flags: dict[str, pd.Series], rate: str) -> pd.DataFrame:
    """Counts of each flag per group (keys joined by ' / '), with ``rate`` = last flag / first."""
    label = frame[keys[0]].fillna(NOT_SET) if keys else pd.Series(NOT_SET, index=frame.index)
    for k in keys[1:]:
        label = label + " / " + frame[k].fillna(NOT_SET)
    table = pd.DataFrame(flags).astype(float).groupby(label.rename(" / ".join(keys) or "all")).sum()
    first, last = table.columns[0], table.columns[-1]
    return table.assign(**{rate: table[last] / table[first]}).sort_values(first, ascending=False,
                                                                  kind="stable")


def web_funnel_data(sessions: pd.DataFrame, *, as_of, currency: str = "USD") -> Finding:
    """Sessions -> engaged (more than one page) -> converted, overall and by source / medium."""
    s = until(sessions, STARTED_AT, as_of)
    flags = {"sessions": pd.Series(True, index=s.index)}
    if PAGES in s:
        flags["engaged"] = s[PAGES].fillna(0) > 1
    if CONVERTED in s:
        flags["converted"] = s[CONVERTED].fillna(False).astype(bool)
    if s.empty:
        return nothing("web", "website sessions", as_of, currency)
    if len(flags) < 2:
        return Finding("web", False, "Your web_sessions table has neither a `pages` nor a "
                       "`converted` column, so there is no funnel to draw: add either to the export.",
                       currency=currency)
    names = {"sessions": "Sessions", "engaged": "Viewed more than one page", "converted": "Purchased"}
    funnel = stages({names[k]: int(v.sum()) for k, v in flags.items()})
    by = _by(s, [c for c in (SOURCE, MEDIUM) if c in s], flags, "conversion_rate")
    n = {"sessions": len(s), "rate": float(funnel.of_first.iloc[-1]), "last_stage": funnel.stage.iloc[-1],
         "engaged_rate": float(flags["engaged"].mean()) if "engaged" in flags else None,
         **_best(by, "sessions", "conversion_rate")}
    text = [f"Of your {len(s):,} website sessions, "
            + (f"{n['engaged_rate']:.0%} viewed more than one page and " if n["engaged_rate"] is not None else "")
            + f"{n['rate']:.1%} ended in a purchase."]
    if "best" in n:
        text.append(f"By {by.index.name}, {n['best']} converts best ({n['best_rate']:.1%}, "
                    f"{n['best_rate'] / n['rate']:.1f}x your average) and {n['worst']} worst "
                    f"({n['worst_rate']:.1%}), among sources with at least 2% of sessions.")
    return Finding("web", True, " ".join(text), f"{n['rate']:.1%} of website sessions end in a purchase",
                   funnel, {"by": by}, n, currency)


def orders_after_clicks(events: pd.DataFrame, orders: pd.DataFrame, *, as_of,
                        days: int = 3) -> pd.DataFrame:
    """Orders placed by a customer on the day of an email click or in the ``days`` days after;
    each order once, credited to the campaign of the latest such click."""
    clicks = events.loc[events[CLICKED_AT].notna(), [CAMPAIGN_ID, CUSTOMER_ID, CLICKED_AT]]
    buys = purchases(orders, as_of=as_of)[[ORDER_ID, CUSTOMER_ID, ORDER_DATE, REVENUE]]
    m = clicks.merge(buys, on=CUSTOMER_ID)
    gap = (m[ORDER_DATE].dt.normalize() - m[CLICKED_AT].dt.normalize()).dt.days
    m = m[(gap >= 0) & (gap <= days)].sort_values(CLICKED_AT)
    return m.drop_duplicates(ORDER_ID, keep="last").reset_index(drop=True)


def email_funnel_data(events: pd.DataFrame, orders: pd.DataFrame | None = None, *, as_of,
                      days: int = 3, currency: str = "USD") -> Finding:
    """Sent -> opened -> clicked, and orders by clickers within ``days`` days of a click."""
    e = until(events, SENT_AT, as_of)
    if e.empty:
        return nothing("email", "emails sent", as_of, currency)
    flags = {"sent": pd.Series(True, index=e.index)}
    flags |= {k: e[c].notna() for k, c in (("opened", OPENED_AT), ("clicked", CLICKED_AT)) if c in e}
    counts = {k.capitalize(): int(v.sum()) for k, v in flags.items()}
    by = _by(e, [CAMPAIGN_ID], flags, "click_rate").drop(columns="click_rate", errors="ignore")
    n = {"sent": len(e), "open_rate": counts.get("Opened", 0) / max(len(e), 1),
         "click_rate": counts.get("Clicked", 0) / max(len(e), 1), "days": days,
         "unsubscribed": int(e[UNSUBSCRIBED].fillna(False).sum()) if UNSUBSCRIBED in e else None}
    text = [f"You sent {len(e):,} emails: {n['open_rate']:.0%} were opened and "
            f"{n['click_rate']:.1%} clicked"
            + (f"; {n['unsubscribed']:,} unsubscribed." if n["unsubscribed"] is not None else ".")]
    if orders is not None and CLICKED_AT in e and CUSTOMER_ID in orders:
        follow = orders_after_clicks(e, orders, as_of=as_of, days=days)
        counts[f"Ordered within {days} days of a click"] = len(follow)
        by["orders"] = follow.groupby(CAMPAIGN_ID).size().reindex(by.index, fill_value=0)
        n |= {"orders": len(follow), "order_revenue": float(follow[REVENUE].sum())}
        text.append(f"{len(follow):,} orders worth {money(n['order_revenue'], currency)} came from "
                    f"clickers within {days} days of a click: an upper bound on what email drove, "
                    "since some of them would have bought anyway (step 09 tests how many).")
    by = by.assign(open_rate=by.get("opened", np.nan) / by.sent, click_rate=by.get("clicked", np.nan) / by.sent)
    title = f"{n['click_rate']:.1%} of emails are clicked" + (
        f"; {n['orders']:,} orders follow within {days} days" if "orders" in n else "")
    return Finding("email", True, " ".join(text), title, stages(counts), {"by": by}, n, currency)


def lead_funnel_data(leads: pd.DataFrame, *, as_of, currency: str = "USD") -> Finding:
    """Leads -> converted, overall and by source, with the median days to convert and the
    busiest month for new leads."""
    end = pd.Timestamp(as_of).normalize() + DAY
    lead = until(leads, CREATED_AT, as_of)
    if lead.empty:
        return nothing("leads", "leads", as_of, currency)
    conv = (lead[CONVERTED].fillna(False).astype(bool) if CONVERTED in lead else lead[CONVERTED_AT].notna())
    if CONVERTED_AT in lead:  # a conversion after the analysis date has not happened yet
        conv &= ~(lead[CONVERTED_AT] >= end).fillna(False)
    flags = {"leads": pd.Series(True, index=lead.index), "converted": conv}
    by = _by(lead, [SOURCE] if SOURCE in lead else [], flags, "conversion_rate")
    if VALUE in lead and SOURCE in lead:
        by["value"] = lead.loc[conv, VALUE].groupby(lead.loc[conv, SOURCE].fillna(NOT_SET)).sum()
    wait = (lead[CONVERTED_AT] - lead[CREATED_AT]).dt.days[conv] if CONVERTED_AT in lead else pd.Series()
    months = month_profile(lead, as_of=as_of, date=CREATED_AT, value=None)
    n = {"leads": len(lead), "converted": int(conv.sum()), "rate": float(conv.mean()),
         "median_days": float(wait.median()) if wait.notna().any() else None,
         **_best(by, "leads", "conversion_rate")}
    if len(months):
        top = months.loc[months.vs_average.idxmax()]
        n |= {"peak_month": top.month, "peak_month_index": float(top.vs_average)}
    text = [f"{len(lead):,} leads, of whom {n['converted']:,} ({n['rate']:.0%}) became customers"
            + (f", after {n['median_days']:.0f} days (median)." if n["median_days"] is not None else ".")]
    if "best" in n:
        text.append(f"{cap(n['best'])} leads convert best ({n['best_rate']:.0%}), {n['worst']} worst "
                    f"({n['worst_rate']:.0%}).")
    if "peak_month" in n:
        text.append(f"{n['peak_month']} brings {n['peak_month_index']:.1f}x an average month's leads.")
    title = (f"{cap(n['best'])} leads convert best: {n['best_rate']:.0%} vs {n['rate']:.0%} overall"
             if n.get("best_rate", 0) >= 1.25 * n["rate"] > 0 else f"{n['rate']:.0%} of leads become customers")
    return Finding("leads", True, " ".join(text), title,
                   stages({"Leads": len(lead), "Became customers": n["converted"]}), {"by": by}, n, currency)


FUNNEL_UNITS = {"web": "Website sessions", "email": "Emails (last bar: orders)", "leads": "Leads"}


def plot_funnel(finding: Finding, *, ax=None):
    """Horizontal bars, one per stage, labelled with the count and the share of the stage before."""
    data = finding.data
    ax = plots.bar(data, x="stage", y="count", horizontal=True, title=finding.title,
                   xlabel=f"{FUNNEL_UNITS.get(finding.topic, 'Count')} (count)", ax=ax)
    for i, (count, share) in enumerate(zip(data["count"], data.of_previous, strict=True)):
        ax.text(count, i, f"  {count:,.0f}" + (f" ({share:.1%} of previous)" if i else ""),
                va="center")
    ax.set_xlim(0, data["count"].max() * 1.45)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    return ax


def plot_breakdown(finding: Finding, *, top: int = 10, ax=None):
    """The conversion (or click) rate of the ``top`` largest sources or campaigns, the best
    highlighted and the overall rate dashed."""
    by = finding.extra["by"]
    rate = next(c for c in ("conversion_rate", "click_rate") if c in by)
    data = by.head(top).reset_index().rename(columns={by.index.name: "group"})
    data["group"] = data["group"].map(label)
    best = data.loc[data[rate].idxmax(), "group"]
    ax = plots.bar(data, x="group", y=rate, horizontal=True, highlight=best, title=finding.title,
                   xlabel=f"{label(rate).capitalize()} (%)", ax=ax)
    ax.axvline(finding.numbers["rate"], color="black", lw=0.8, ls="--")
    return plots.percent_axis(ax, axis="x")


# ---- 4. product mix ----------------------------------------------------------------------------
def product_mix_data(items: pd.DataFrame, products: pd.DataFrame, orders: pd.DataFrame | None = None,
                     *, as_of, top: int = 10, currency: str = "USD") -> Finding:
    """Item revenue (quantity x unit price, list price when the unit price is empty) by category and
    by product, for orders on or before the analysis date when orders are given."""
    if orders is not None:
        dated = pd.Index(until(orders, ORDER_DATE, as_of)[ORDER_ID]).unique()
        items = items[dated.get_indexer(items[ORDER_ID]) >= 0]  # isin, without arrow's slow path
    catalogue = products.drop_duplicates(PRODUCT_ID).set_index(PRODUCT_ID)
    price = items[UNIT_PRICE] if UNIT_PRICE in items else pd.Series(np.nan, index=items.index)
    if PRICE in catalogue:
        price = price.fillna(items[PRODUCT_ID].map(catalogue[PRICE]))
    lines = pd.DataFrame({"product": items[PRODUCT_ID], "quantity": items[QUANTITY],
                          "revenue": items[QUANTITY] * price})
    lines[NAME] = lines["product"].map(catalogue[NAME]) if NAME in catalogue else lines["product"]
    lines[CATEGORY] = lines["product"].map(catalogue.get(CATEGORY, pd.Series(dtype=str))).fillna(NOT_SET)
    if lines.revenue.fillna(0).eq(0).all():
        return nothing("mix", "order lines with a quantity and a price", as_of, currency)
    total = lines.revenue.sum()
    cats = lines.groupby(CATEGORY)[["revenue", "quantity"]].sum().sort_values("revenue", ascending=False)
    prods = lines.groupby(["product", NAME, CATEGORY], dropna=False)[["revenue", "quantity"]].sum()
    prods = prods.sort_values("revenue", ascending=False).head(top).reset_index()
    cats["share"], prods["share"] = cats.revenue / total, prods.revenue / total
    cats = cats.reset_index()
    n = {"lines": len(lines), "revenue": float(total), "top_category": label(cats[CATEGORY].iloc[0]),
         "top_category_share": float(cats.share.iloc[0]), "top_product": prods[NAME].iloc[0],
         "top_product_share": float(prods.share.iloc[0]), "top_n": len(prods),
         "top_n_share": float(prods.share.sum())}
    text = [f"Across {len(lines):,} order lines ({money(total, currency)} before refunds and "
            f"discounts), {n['top_category']} brings {n['top_category_share']:.0%} of item revenue"]
    text[0] += (f", then {label(cats[CATEGORY].iloc[1])} ({cats.share.iloc[1]:.0%})."
                if len(cats) > 1 else ".")
    text.append(f"Your best seller, {n['top_product']}, brings {n['top_product_share']:.0%} alone; "
                f"the top {n['top_n']} products bring {n['top_n_share']:.0%}.")
    return Finding("mix", True, " ".join(text), f"{cap(n['top_category'])} brings "
                   f"{n['top_category_share']:.0%} of product revenue", cats, {"products": prods}, n,
                   currency)


def plot_mix(finding: Finding, *, ax=None):
    """Item revenue by category, the largest highlighted."""
    data = finding.data.assign(**{CATEGORY: finding.data[CATEGORY].map(label)})
    ax = plots.bar(data, x=CATEGORY, y="revenue", horizontal=True, highlight=data[CATEGORY].iloc[0],
                   title=finding.title, xlabel=f"Item revenue ({finding.currency})", ax=ax)
    return plots.money_axis(ax, finding.currency, axis="x")


def web_funnel(plan) -> Finding:
    """The website funnel (skipped without web_sessions)."""
    return skipped("web", plan, "web_sessions") or web_funnel_data(
        plan.table("web_sessions"), as_of=plan.as_of, currency=plan.currency)


def email_funnel(plan, *, days: int = 3) -> Finding:
    """The email funnel, with orders after a click when there are orders."""
    orders = plan.table("orders") if plan.has("orders") else None
    return skipped("email", plan, "email_events") or email_funnel_data(
        plan.table("email_events"), orders, as_of=plan.as_of, days=days, currency=plan.currency)


def lead_funnel(plan) -> Finding:
    """Lead conversion by source (skipped without leads)."""
    return skipped("leads", plan, "leads") or lead_funnel_data(
        plan.table("leads"), as_of=plan.as_of, currency=plan.currency)


def product_mix(plan, *, top: int = 10) -> Finding:
    """Revenue by category and top products (skipped without order_items and products)."""
    orders = plan.table("orders") if plan.has("orders") else None
    return skipped("mix", plan, "order_items", "products") or product_mix_data(
        plan.table("order_items"), plan.table("products"), orders, as_of=plan.as_of, top=top,
        currency=plan.currency)
