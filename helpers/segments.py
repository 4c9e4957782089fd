"""Customers by behaviour: RFM segments, and whether first-time buyers come back (cohorts).

RFM scores every customer with an order, as of the analysis date, on Recency (days since the last
purchase), Frequency (number of purchases) and Monetary value (net revenue: refunds count against
it). Each score runs 1-5 by quintile of rank, so ties share a score and small data still works.
A fixed grid of R against the average of F and M names each customer's segment, so every customer
gets exactly one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import plots
from helpers.explore import (
    CUSTOMER_ID,
    DAY,
    ORDER_DATE,
    REVENUE,
    Finding,
    nothing,
    purchases,
    skipped,
    until,
)
from helpers.plan import money

RFM_COLUMNS = (CUSTOMER_ID, "recency_days", "frequency", "monetary", "r", "f", "m", "segment")
SEGMENTS = ("Champions", "Loyal", "Potential loyalists", "New customers", "Promising",
            "Need attention", "About to sleep", "At risk", "Can't lose them", "Hibernating", "Lost")
# Rows: R = 1..5 (5 = bought most recently); columns: FM = 1..5, the rounded-up mean of F and M.
GRID = np.array([
    ("Lost", "Lost", "At risk", "At risk", "Can't lose them"),
    ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
    ("About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"),
    ("Promising", "Potential loyalists", "Potential loyalists", "Loyal", "Champions"),
    ("New customers", "Potential loyalists", "Potential loyalists", "Champions", "Champions"),
])
ACTIONS = {
    "Champions": "Reward and listen: early access, referrals, reviews; no blanket discounts.",
    "Loyal": "Offer more of what they buy: bundles, subscriptions, loyalty perks.",
    "Potential loyalists": "Invite into a loyalty or subscription programme after the next order.",
    "New customers": "Welcome series: how to get the most from the first purchase, then a reason "
                     "to come back.",
    "Promising": "Make the second order easy: a reminder with their usual product.",
    "Need attention": "A personal, time-limited offer based on what they bought before.",
    "About to sleep": "Re-engage with something new or popular before they drift away.",
    "At risk": "Win-back email with a clear reason to return; ask what went wrong.",
    "Can't lose them": "Reach out personally; a strong win-back offer pays for itself here.",
    "Hibernating": "Include in seasonal campaigns only; do not spend much per head.",
    "Lost": "One last win-back attempt, then stop emailing to protect deliverability.",
}
AT_RISK = ("At risk", "Can't lose them")
MIN_CUSTOMERS = 20
# With 15+ monthly cohorts, the first 3 are left out of the averages: customers who bought before
# the data starts look new there.
WARMUP_MONTHS = 3
NO_CUSTOMER = ("Your orders have no customer_id column, so repeat buying cannot be followed. "
               "Export orders with the customer's id (not their email), or map that column to "
               "customer_id under `data: orders: mapping:` in business.yaml.")


def rfm_score(values: pd.Series) -> pd.Series:
    """1-5 by quintile of rank: 1 + the number of fifths of customers with a strictly lower value.

    Higher values score higher; tied values share a score (so when most customers bought once,
    they all get F = 1). Pass ``-recency`` to score recency.
    """
    below = values.rank(method="min") - 1
    return (1 + np.floor(5 * below / max(len(values), 1))).astype(int)


def rfm_table(orders: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """One row per customer with an order on or before ``as_of``: recency_days (since the last
    purchase; refund-only customers since their last order), frequency (purchases, refunds not
    counted), monetary (net revenue), the r/f/m scores and the segment. No personal data."""
    as_of = pd.Timestamp(as_of).normalize()
    o = until(orders, ORDER_DATE, as_of)
    o = o[o[CUSTOMER_ID].notna()]
    buys, per = o[o[REVENUE] >= 0], o.groupby(CUSTOMER_ID)
    monetary = per[REVENUE].sum()
    frequency = buys.groupby(CUSTOMER_ID).size().reindex(monetary.index, fill_value=0)
    last = buys.groupby(CUSTOMER_ID)[ORDER_DATE].max().reindex(monetary.index)
    last = last.fillna(per[ORDER_DATE].max())
    recency = (as_of - last.dt.normalize()).dt.days
    r, f, m = rfm_score(-recency), rfm_score(frequency), rfm_score(monetary)
    fm = np.ceil((f + m) / 2).astype(int)
    table = pd.DataFrame({"recency_days": recency, "frequency": frequency, "monetary": monetary,
                          "r": r, "f": f, "m": m, "segment": GRID[r - 1, fm - 1]})
    return table.rename_axis(CUSTOMER_ID).reset_index()[list(RFM_COLUMNS)]


def segment_summary(rfm: pd.DataFrame) -> pd.DataFrame:
    """Per segment: customers and their share, net revenue and its share (the shares sum to 1),
    average recency / frequency / monetary, and a suggested action."""
    g = rfm.groupby("segment")
    s = pd.DataFrame({"customers": g.size(), "revenue": g.monetary.sum(),
                      "avg_recency_days": g.recency_days.mean(), "avg_frequency": g.frequency.mean(),
                      "avg_monetary": g.monetary.mean()})
    s = s.reindex([x for x in SEGMENTS if x in s.index])
    s.insert(1, "customer_share", s.customers / s.customers.sum())
    s.insert(3, "revenue_share", s.revenue / s.revenue.sum())
    s["action"] = [ACTIONS[x] for x in s.index]
    return s.rename_axis("segment").reset_index()


def rfm_data(orders: pd.DataFrame, *, as_of, currency: str = "USD") -> Finding:
    """RFM segments as a Finding: ``data`` is the segment summary (what ``plot_segments`` draws),
    ``extra['customers']`` the per-customer table (what segments.parquet holds)."""
    if CUSTOMER_ID not in orders:
        return Finding("segments", False, NO_CUSTOMER, currency=currency)
    table = rfm_table(orders, as_of=as_of)
    if table.empty:
        return nothing("segments", "orders with a customer_id", as_of, currency)
    s = segment_summary(table).set_index("segment")
    top = "Champions" if "Champions" in s.index else s.revenue_share.idxmax()
    risk = s.reindex(list(AT_RISK)).dropna(subset=["customers"])
    o = until(orders, ORDER_DATE, as_of)
    n = {"customers": len(table), "top_segment": top, "top_customers": int(s.customers[top]),
         "top_customer_share": float(s.customer_share[top]),
         "top_revenue_share": float(s.revenue_share[top]), "top_revenue": float(s.revenue[top]),
         "risk_customers": int(risk.customers.sum()), "risk_revenue": float(risk.revenue.sum()),
         "risk_recency": float((risk.avg_recency_days * risk.customers).sum()
                               / max(risk.customers.sum(), 1)),
         "asleep_share": float(s.customer_share.reindex(["Hibernating", "Lost"]).sum()),
         "guest_revenue_share": float(o.loc[o[CUSTOMER_ID].isna(), REVENUE].sum()
                                      / o[REVENUE].sum()) if o[REVENUE].sum() else 0.0}
    if len(table) < MIN_CUSTOMERS:
        n["warning"] = (f"Only {len(table)} customers have orders: with fewer than {MIN_CUSTOMERS}, "
                        "each score rests on a handful of people, so read the segments as rough.")
    title = (f"{top} are {n['top_customer_share']:.0%} of customers and bring "
             f"{n['top_revenue_share']:.0%} of revenue")
    return Finding("segments", True, _rfm_reading(n, as_of, currency), title,
                   s.reset_index(), {"customers": table}, n, currency)


def _rfm_reading(n: dict, as_of, currency: str) -> str:
    text = [f"{n['customers']:,} customers had ordered by {pd.Timestamp(as_of):%d %b %Y}.",
            f"{n['top_segment']} are {n['top_customer_share']:.0%} of them and bring "
            f"{n['top_revenue_share']:.0%} of net revenue ({money(n['top_revenue'], currency)})."]
    if n["risk_customers"]:
        text.append(f"{n['risk_customers']:,} once-valuable customers (At risk, Can't lose them) "
                    f"spent {money(n['risk_revenue'], currency)} but have not ordered for "
                    f"{n['risk_recency']:.0f} days on average.")
    text.append(f"{n['asleep_share']:.0%} are Hibernating or Lost.")
    if n["guest_revenue_share"] > 0.01:
        text.append(f"Orders without a customer_id ({n['guest_revenue_share']:.0%} of revenue) "
                    "cannot be tied to a customer and are left out.")
    return " ".join(text + [n.get("warning", "")]).strip()


def plot_segments(finding: Finding, *, ax=None):
    """Each segment's share of customers (grey) against its share of net revenue (blue)."""
    ax = plots.axes(ax, figsize=(9, 5))
    data, y = finding.data, np.arange(len(finding.data))
    ax.barh(y - 0.2, data.customer_share, 0.4, color=plots.MUTED, label="share of customers")
    ax.barh(y + 0.2, data.revenue_share, 0.4, color=plots.ACCENT, label="share of net revenue")
    ax.set_yticks(y, data.segment)
    ax.invert_yaxis()
    ax.legend(frameon=False, loc="lower right")
    ax.set(title=finding.title, xlabel="Share of all customers / of all net revenue (%)")
    return plots.percent_axis(ax, axis="x")


def rfm(plan) -> Finding:
    """RFM segments of the plan's orders as of ``plan.as_of`` (skipped without orders)."""
    return skipped("segments", plan, "orders") or rfm_data(
        plan.table("orders"), as_of=plan.as_of, currency=plan.currency)


# ---- cohorts: do first-time buyers come back? ---------------------------------------------------
def repeat_within(orders: pd.DataFrame, *, as_of, days: int = 90, since=None) -> dict:
    """Share of first-time buyers (first order at least ``days`` before as_of, and not before
    ``since``) who ordered again on a later day within ``days`` days, and the median gap to that
    second order among those who came back."""
    as_of = pd.Timestamp(as_of).normalize()
    buys = purchases(orders, as_of=as_of)
    day = buys[ORDER_DATE].dt.normalize().rename("day")
    visits = pd.concat([buys[CUSTOMER_ID], day], axis=1).drop_duplicates()
    first = visits.groupby(CUSTOMER_ID).day.min()
    later = visits[visits.day > visits[CUSTOMER_ID].map(first)]
    gap = (later.groupby(CUSTOMER_ID).day.min() - first).dt.days.reindex(first.index)
    eligible = (first <= as_of - days * DAY) & (first >= pd.Timestamp(since or first.min()))
    again = gap[eligible] <= days
    return {"repeat_customers": int(eligible.sum()), "repeat_share": float(again.mean()) if eligible.any()
            else None, "median_days_to_second": float(gap.median()) if gap.notna().any() else None}


def cohort_retention_data(orders: pd.DataFrame, *, as_of, months: int = 12,
                          currency: str = "USD") -> Finding:
    """Monthly first-order cohorts x months since the first order: the share of each cohort that
    ordered in that month (month 0 = 100 %). Months not yet reached are left empty."""
    if CUSTOMER_ID not in orders:
        return Finding("cohorts", False, NO_CUSTOMER, currency=currency)
    buys = purchases(orders, as_of=as_of)
    if buys.empty:
        return nothing("cohorts", "orders with a customer_id", as_of, currency)
    stamp = buys[ORDER_DATE].dt.year * 12 + buys[ORDER_DATE].dt.month - 1
    first = stamp.groupby(buys[CUSTOMER_ID]).transform("min")
    active = pd.DataFrame({"cohort": first, "age": stamp - first, "cust": buys[CUSTOMER_ID]})
    counts = active.drop_duplicates().groupby(["cohort", "age"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=range(months + 1), fill_value=0)
    now = pd.Timestamp(as_of).year * 12 + pd.Timestamp(as_of).month - 1
    seen = np.add.outer(counts.index.to_numpy(), counts.columns.to_numpy()) <= now
    counts = counts.where(seen)
    size = counts[0]
    retention = counts.div(size, axis=0)
    retention.index = [f"{c // 12}-{c % 12 + 1:02d}" for c in counts.index]
    retention.index.name, retention.columns.name = "first order month", "months since first order"
    warmup = WARMUP_MONTHS if len(counts) >= 15 else 0
    core = counts[counts.index >= counts.index.min() + warmup]
    avg = {k: float(core[k].sum() / core[0][core[k].notna()].sum())
           for k in (1, 3, 6) if k <= months and core[k].notna().any()}
    since = pd.Timestamp(year=core.index.min() // 12, month=core.index.min() % 12 + 1, day=1)
    n = {"cohorts": len(size), "customers": int(size.sum()), "retention": avg,
         "warmup_months": warmup, **repeat_within(orders, as_of=as_of, since=since)}
    return Finding("cohorts", True, _cohort_reading(n), _cohort_title(n), retention,
                   {"cohort_size": size.set_axis(retention.index).to_frame("customers")}, n, currency)


def _cohort_title(n: dict) -> str:
    if n["repeat_share"] is not None:
        return f"{n['repeat_share']:.0%} of first-time buyers order again within 3 months"
    return "Share of each month's new customers who order again"


def _cohort_reading(n: dict) -> str:
    text = [f"{n['customers']:,} customers made a first order in {n['cohorts']} different months."]
    r = n["retention"]
    if r:
        text.append("On average, the share of a month's new customers who order again is "
                    + ", ".join(f"{v:.0%} in month {k}" for k, v in r.items())
                    + " (month 1 is the calendar month after the first order).")
    if n["warmup_months"]:
        text.append(f"Customers whose first order falls in the first {n['warmup_months']} months "
                    "of your data are left out of these averages: some of them bought before the "
                    "data starts, so they are not really new.")
    if n["repeat_share"] is not None:
        text.append(f"Of the {n['repeat_customers']:,} whose first order is at least 3 months old, "
                    f"{n['repeat_share']:.0%} came back within 3 months")
        text[-1] += (f"; those who came back took {n['median_days_to_second']:.0f} days (median)."
                     if n["median_days_to_second"] is not None else ".")
    return " ".join(text)


def plot_cohorts(finding: Finding, *, last: int = 18, ax=None):
    """Heatmap of the last ``last`` cohorts x months since first order (month 0 left out)."""
    matrix = finding.data.iloc[:, 1:].dropna(how="all").iloc[-last:]
    ax = plots.heatmap(matrix, title=finding.title, xlabel="Months since first order",
                       ylabel="Month of first order", ax=ax)
    ax.grid(False)
    return ax


def cohorts(plan, *, months: int = 12) -> Finding:
    """Cohort retention of the plan's orders (skipped without orders)."""
    return skipped("cohorts", plan, "orders") or cohort_retention_data(
        plan.table("orders"), as_of=plan.as_of, months=months, currency=plan.currency)
