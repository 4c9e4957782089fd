"""Step 07: who buys more when you run a sale, and which offer each segment should get.

Sale days are found in the orders (days when most orders carry a discount). For each segment
(age band, or the RFM segment), the purchase rate per customer-day on sale days is compared with
the rate on ordinary days around the sales: the ratio says how much a sale moves that segment.
The offer plan gives a discount only where it pays for itself (the extra orders make up for the
margin given away), never deeper than the margin allows, and never to customers who keep buying
at full price.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import consent, plots
from helpers.errors import ConfigError, UnknownNameError
from helpers.explore import (
    CUSTOMER_ID,
    DAY,
    NOT_SET,
    ORDER_DATE,
    REVENUE,
    join_and,
    known,
    label,
    until,
)
from helpers.segments import SEGMENTS, rfm_table

(DISCOUNT,) = known("orders", "discount")
(AGE_BAND,) = known("customers", "age_band")
RFM_SEGMENT = "segment"
LADDER = (0.0, 0.10, 0.15, 0.20)
SENSITIVITY_COLUMNS = ["segment", "customers", "sale_orders", "sale_customer_days", "other_orders",
                       "other_customer_days", "sale_rate", "other_rate", "rate_ratio", "low",
                       "high", "discounted_share"]


# ---- sale days -------------------------------------------------------------------------------
def _buys(orders: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """Purchases (no refunds) up to ``as_of``, with their ``day``."""
    o = orders if as_of is None else until(orders, ORDER_DATE, as_of)
    o = o[o[REVENUE] >= 0]
    if "is_refund" in o:
        o = o[~o["is_refund"].astype(bool)]
    return o.assign(day=o[ORDER_DATE].dt.normalize())


def sale_days(orders: pd.DataFrame, *, as_of=None, min_share: float = 0.5, factor: float = 3.0,
              min_orders: int = 5) -> pd.DataFrame:
    """Days on which far more orders than usual carry a discount: a sale.

    A day is a sale day when it has at least ``min_orders`` orders and the share of them with a
    discount is at least ``min_share`` and at least ``factor`` times the share over all days.
    Columns: day, orders, discounted_share, depth (median discount as a share of the price before
    it, over the day's discounted orders), sale (a number per run of consecutive sale days).
    """
    cols = ["day", "orders", "discounted_share", "depth", "sale"]
    if DISCOUNT not in orders or orders[DISCOUNT].fillna(0).eq(0).all():
        return pd.DataFrame(columns=cols)
    o = _buys(orders, as_of)
    disc = o[DISCOUNT].fillna(0) > 0
    depth = (o[DISCOUNT] / (o[REVENUE] + o[DISCOUNT])).where(disc)
    g = pd.DataFrame({"orders": o.groupby("day").size(),
                      "discounted_share": disc.groupby(o["day"]).mean(),
                      "depth": depth.groupby(o["day"]).median()})
    threshold = max(min_share, factor * disc.mean())
    g = g[(g.orders >= min_orders) & (g.discounted_share >= threshold)].reset_index()
    g["sale"] = (g.day.diff() != DAY).cumsum()
    return g[cols]


# ---- sensitivity -----------------------------------------------------------------------------
def _segments(orders, customers, by: str, as_of) -> pd.Series:
    """customer_id -> segment: a customers column, or the RFM segment at ``as_of``."""
    if by == RFM_SEGMENT:
        return rfm_table(orders, as_of=as_of).set_index(CUSTOMER_ID)[RFM_SEGMENT]
    if customers is None or by not in customers:
        valid = [] if customers is None else [c for c in customers if c != CUSTOMER_ID]
        raise UnknownNameError.for_name(by, [*valid, RFM_SEGMENT], what="segment column",
                                        where="discount_sensitivity(by=...)")
    return customers.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID)[by].fillna(NOT_SET)


def _segment_order(values) -> list:
    rank = {s: i for i, s in enumerate(SEGMENTS)}
    return sorted(values, key=lambda s: (rank.get(s, len(rank)), str(s)))


def _exposure(o: pd.DataFrame, sales: pd.DataFrame, window_days: int | None) -> pd.DataFrame:
    """Per customer: sale and comparison days from the day after their first order to the last
    day, and their later orders on each kind of day. Comparison days are the other days within
    ``window_days`` of a sale (None: all other days)."""
    days = pd.date_range(o.day.min(), o.day.max())
    is_sale = days.isin(pd.to_datetime(sales.day))
    near = ~is_sale
    if window_days is not None:
        pos = np.flatnonzero(is_sale)
        dist = np.abs(np.arange(len(days))[:, None] - pos[None, :]).min(axis=1)
        near &= dist <= window_days
    first = o.groupby(CUSTOMER_ID).day.min()
    start = days.get_indexer(first)  # exposure runs from start + 1 to the last day
    out = pd.DataFrame({"sale_days": is_sale.sum() - np.cumsum(is_sale)[start],
                        "other_days": near.sum() - np.cumsum(near)[start]}, index=first.index)
    later = o[o.day > o[CUSTOMER_ID].map(first)]
    kind = np.select([later.day.isin(days[is_sale]), later.day.isin(days[near])],
                     ["sale", "other"], "")
    counts = later.groupby([later[CUSTOMER_ID], kind]).size().unstack(fill_value=0)
    out["sale_orders"] = counts.get("sale", pd.Series(dtype=float)).reindex(out.index).fillna(0)
    out["other_orders"] = counts.get("other", pd.Series(dtype=float)).reindex(out.index).fillna(0)
    return out


def _rate_ratio(row) -> tuple[float, float, float]:
    """Rate ratio (sale / other) and its 95 % interval (Wald on the log ratio, Poisson counts)."""
    from statsmodels.stats.rates import confint_poisson_2indep

    a, ea, b, eb = row.sale_orders, row.sale_customer_days, row.other_orders, \
        row.other_customer_days
    if min(a, b) <= 0 or min(ea, eb) <= 0:
        return np.nan, np.nan, np.nan
    low, high = confint_poisson_2indep(a, ea, b, eb, method="wald-log", compare="ratio")
    return (a / ea) / (b / eb), float(low), float(high)


def discount_sensitivity(orders: pd.DataFrame, customers: pd.DataFrame | None = None, *,
                         by: str = AGE_BAND, as_of=None, window_days: int | None = 28,
                         sales: pd.DataFrame | None = None) -> pd.DataFrame:
    """How much a sale lifts buying in each segment (SENSITIVITY_COLUMNS, one row a segment).

    Each customer counts from the day after their first order (so first orders, which a sale
    does not cause among existing customers, are left out) to the last day of the orders. The
    ``sale_rate`` is their orders on sale days per customer-day on sale days; the ``other_rate``
    the same on the other days within ``window_days`` of a sale (so season and trend weigh alike
    on both); ``rate_ratio`` = sale_rate / other_rate with a 95 % interval (``low``, ``high``:
    Poisson counts, Wald interval on the log ratio). ``discounted_share``: the segment's orders
    that carried a discount. ``by``: a customers column (age_band) or "segment" (RFM at as_of).
    """
    as_of = orders[ORDER_DATE].max() if as_of is None else as_of
    sales = sale_days(orders, as_of=as_of) if sales is None else sales
    o = _buys(orders, as_of)
    o = o[o[CUSTOMER_ID].notna()]
    if sales.empty or o.empty:
        return pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    seg = _segments(orders, customers, by, as_of)
    per = _exposure(o, sales, window_days)
    per["segment"] = per.index.map(seg).fillna(NOT_SET)
    g = per.groupby("segment").agg(customers=("sale_days", "size"),
                                   sale_orders=("sale_orders", "sum"),
                                   sale_customer_days=("sale_days", "sum"),
                                   other_orders=("other_orders", "sum"),
                                   other_customer_days=("other_days", "sum"))
    g["sale_rate"] = g.sale_orders / g.sale_customer_days.where(g.sale_customer_days > 0)
    g["other_rate"] = g.other_orders / g.other_customer_days.where(g.other_customer_days > 0)
    g[["rate_ratio", "low", "high"]] = [_rate_ratio(r) for r in g.itertuples()]
    disc = (o[DISCOUNT].fillna(0) > 0).groupby(o[CUSTOMER_ID].map(seg).fillna(NOT_SET)).mean()
    g["discounted_share"] = disc.reindex(g.index)
    g = g.reindex(_segment_order(g.index)).rename_axis("segment").reset_index()
    return g[SENSITIVITY_COLUMNS]


# ---- offers ----------------------------------------------------------------------------------
def max_discount(margin: float, min_margin: float) -> float:
    """The deepest discount that keeps the gross margin on the discounted price at least
    ``min_margin``: 1 - (1 - margin) / (1 - min_margin) (0 when the margin leaves no room)."""
    if not 0 <= min_margin < 1:
        raise ConfigError(f"min_margin must be between 0 and 1 (a share of the price), not "
                          f"{min_margin}: a discount must never take the price below cost.")
    return max(0.0, 1 - (1 - margin) / (1 - min_margin))


def offer_plan(sensitivity: pd.DataFrame, *, margin: float, min_margin: float = 0.15,
               ladder: tuple = LADDER, max_depth: float | None = None) -> pd.DataFrame:
    """One offer per segment: the deepest step of ``ladder`` that pays for itself and keeps the
    margin.

    A discount d pays for itself when the orders it adds make up for the margin given away:
    ratio x (margin - d) >= margin, i.e. d <= margin x (1 - 1 / ratio), with the prudent end of
    the interval (``low``) as the ratio: a segment whose interval reaches 1 gets no discount. The
    discount also stays within ``max_discount(margin, min_margin)`` (never below cost) and within
    ``max_depth`` (the deepest sale the lift was measured on). Columns: segment, rate_ratio, low,
    high, pays_up_to, margin_cap, offer, margin_after, why.
    """
    cap = max_discount(margin, min_margin)
    rows = []
    for r in sensitivity.itertuples():
        pays = margin * (1 - 1 / r.low) if pd.notna(r.low) and r.low > 1 else 0.0
        limit = min(pays, cap, np.inf if max_depth is None else max_depth)
        offer = max([d for d in ladder if d <= limit + 1e-9], default=0.0)
        why = ("a sale does not clearly lift this segment's buying" if not pays else
               f"a discount up to {pays:.0%} pays for itself" + (
                   f"; your margin allows {cap:.0%}" if cap < pays else "") + (
                   f"; your sales went {max_depth:.0%} deep" if max_depth is not None
                   and max_depth < min(pays, cap) else ""))
        rows.append({"segment": r.segment, "rate_ratio": r.rate_ratio, "low": r.low,
                     "high": r.high, "pays_up_to": pays, "margin_cap": cap, "offer": offer,
                     "margin_after": 1 - (1 - margin) / (1 - offer), "why": why})
    return pd.DataFrame(rows, columns=["segment", "rate_ratio", "low", "high", "pays_up_to",
                                       "margin_cap", "offer", "margin_after", "why"])


def full_price_buyers(orders: pd.DataFrame, *, as_of=None, min_orders: int = 3) -> pd.Index:
    """Customers with at least ``min_orders`` purchases and not one discounted: they buy anyway."""
    o = _buys(orders, as_of)
    disc = (o[DISCOUNT].fillna(0) > 0).groupby(o[CUSTOMER_ID])
    n, d = disc.size(), disc.sum()
    return n.index[(n >= min_orders) & (d == 0)]


def _by(plan, by: str | None) -> str:
    """The segment column: ``by``, else age_band when the customers have it, else RFM."""
    if by:
        return by
    if plan.has("customers") and AGE_BAND in (c := plan.prepared("customers")) \
            and c[AGE_BAND].notna().any():
        return AGE_BAND
    return RFM_SEGMENT


def _plan_parts(plan, by: str | None, min_margin: float):
    """(by, sale days, sensitivity, offers, (margin, how)) for the plan."""
    from helpers.strategy import estimate_margin

    by = _by(plan, by)
    orders = plan.prepared("orders")
    customers = plan.prepared("customers") if plan.has("customers") else None
    sales = sale_days(orders, as_of=plan.as_of)
    sens = discount_sensitivity(orders, customers, by=by, as_of=plan.as_of, sales=sales)
    margin = estimate_margin(plan)
    depth = float(sales.depth.max()) if len(sales) else None
    offers = offer_plan(sens, margin=margin[0], min_margin=min_margin, max_depth=depth)
    return by, sales, sens, offers, margin


def customer_offers(plan, *, by: str | None = None, min_margin: float = 0.15,
                    min_orders: int = 3, offers: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per customer who has bought: customer_id, segment, offer, reason. The segment's
    offer (``offer_plan``, or ``offers`` when given), except for customers with at least
    ``min_orders`` purchases and none discounted: they buy at full price, so they get none."""
    by = _by(plan, by)
    if offers is None:
        offers = _plan_parts(plan, by, min_margin)[3]
    orders = plan.prepared("orders")
    o = _buys(orders, plan.as_of)
    ids = pd.Index(o[CUSTOMER_ID].dropna().unique())
    customers = plan.prepared("customers") if plan.has("customers") else None
    seg = _segments(orders, customers, by, plan.as_of).reindex(ids).fillna(NOT_SET)
    offer = seg.map(offers.set_index("segment")["offer"]).fillna(0.0)
    full = ids.isin(full_price_buyers(orders, as_of=plan.as_of, min_orders=min_orders))
    reason = np.where(full, f"buys at full price ({min_orders}+ orders, none discounted)",
                      np.where(offer > 0, "the segment's offer",
                               "a discount does not pay for itself in this segment"))
    return pd.DataFrame({CUSTOMER_ID: ids, "segment": seg.to_numpy(),
                         "offer": np.where(full, 0.0, offer), "reason": reason})


# ---- the notebook section --------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class OffersResult:
    """What the offers section found (see ``offers_section``)."""

    supported: bool
    reason: str = ""
    by: str = AGE_BAND
    sale_days: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    offers: pd.DataFrame = field(default_factory=pd.DataFrame)
    customers: pd.DataFrame = field(default_factory=pd.DataFrame)
    reading: str = ""
    warnings: list[str] = field(default_factory=list)
    headline: dict = field(default_factory=dict)

    @property
    def files(self) -> dict[str, pd.DataFrame]:
        """The tables ``helpers.activation`` writes under actions/."""
        tables = {"offer_plan": self.offers, "offers_by_customer": self.customers}
        return {name: t for name, t in tables.items() if self.supported and len(t)}

    @property
    def what_to_do(self) -> dict[str, str]:
        return {"offer_plan": "Set up one discount code per group at the depth shown; the margin "
                "left after the discount is in the table.",
                "offers_by_customer": "Tag customers in your e-mail tool with their offer (by "
                "customer_id); those marked with no offer buy without one, so leave them out."}


def _join(items) -> str:
    """The segments' names joined: 'a', 'a and b', 'a, b and c'."""
    return join_and(label(i) for i in items)


def _ratio(r) -> str:
    return f"{r.rate_ratio:.2f} times as often ({r.low:.2f} to {r.high:.2f})"


def _offers_reading(by, sales, sens, offers, margin, cust) -> str:
    known_ = sens.dropna(subset=["rate_ratio"]).sort_values("rate_ratio", ascending=False)
    who = "customers aged" if by == AGE_BAND else "customers in"
    text = [f"You ran {sales.sale.nunique()} sales over {len(sales)} days (typically "
            f"{sales.depth.median():.0%} off). Compared with ordinary days around them, on a "
            f"sale day {who} {label(known_.segment.iloc[0])} bought {_ratio(known_.iloc[0])}"]
    if len(known_) > 1:
        text[-1] += f"; {label(known_.segment.iloc[-1])}: {_ratio(known_.iloc[-1])}"
    text[-1] += "."
    flat = known_[known_.low <= 1]
    if len(flat):
        text.append(f"For {_join(flat.segment)} the interval includes no lift at all: a sale "
                    "mostly discounts orders they would place anyway.")
    gross = (f"an assumed gross margin of {margin[0]:.0%}" if margin[1].startswith("an assumption")
             else f"a gross margin of {margin[0]:.0%} ({margin[1]})")
    text.append(f"With {gross}, a discount pays for itself only when the orders it adds make up "
                "for the margin it gives away.")
    given = offers[offers.offer > 0]
    text.append("Offer " + "; ".join(f"{label(r.segment)}: {r.offer:.0%} off"
                                    for r in given.itertuples()) + "; the others no discount."
                if len(given) else "No segment gains enough from a discount to offer one.")
    full = cust.reason.str.startswith("buys at full price").sum()
    if full:
        text.append(f"{full:,} customers bought again and again but never with a discount: they "
                    "get none, since they buy anyway.")
    return " ".join(text)


def _offers_warnings(by, sales, sens, margin) -> list[str]:
    out = []
    if margin[1].startswith("an assumption"):
        out.append(f"Your gross margin is {margin[1]}; the offers assume {margin[0]:.0%}.")
    if by == RFM_SEGMENT:
        out.append("RFM segments are drawn from the same purchases the lift is measured on, so "
                   "read their differences with care; an age band or other customer attribute "
                   "gives a cleaner comparison.")
    thin = sens[sens.rate_ratio.isna() | (sens.sale_orders < 20)]
    if len(thin):
        out.append(f"Too few orders on sale days to judge {_join(thin.segment)}: "
                   "they get no discount until a few more sales have run.")
    out.append(f"The lift was measured on sales up to {sales.depth.max():.0%} off; no offer is "
               "deeper than that, since deeper cuts were never tested.")
    return out


def offers_section(plan, *, by: str | None = None, min_margin: float = 0.15,
                   min_orders: int = 3) -> OffersResult:
    """Step 07's offers: sale days, the sensitivity of each segment, the offer per segment and
    per customer (see ``discount_sensitivity``, ``offer_plan`` and ``customer_offers``)."""
    if not plan.has("orders"):
        return OffersResult(False, f"Offers need your orders table. {plan.why_missing('orders')}")
    by, sales, sens, offers, margin = _plan_parts(plan, by, min_margin)
    if sales.empty or sens.rate_ratio.notna().sum() == 0:
        return OffersResult(False, "No sale days found: no day had at least half its orders "
                            "discounted, so there is no sale to learn from. Record each order's "
                            "discount (orders.discount) and run a sale of a few days; until then, "
                            "offer no blanket discounts.", by, sales, sens)
    cust = customer_offers(plan, by=by, min_orders=min_orders, offers=offers)
    cust, left_out = consent.keep_emailable(plan, cust)
    top = sens.dropna(subset=["rate_ratio"]).sort_values("rate_ratio")
    headline = {"sale_days": len(sales), "sales": int(sales.sale.nunique()),
                "most_sensitive": str(top.segment.iloc[-1]),
                "most_sensitive_ratio": float(top.rate_ratio.iloc[-1]),
                "least_sensitive": str(top.segment.iloc[0]),
                "least_sensitive_ratio": float(top.rate_ratio.iloc[0]),
                "gross_margin": float(margin[0]),
                "customers_with_offer": int((cust.offer > 0).sum()),
                "full_price_buyers": int(cust.reason.str.startswith("buys at full").sum())}
    return OffersResult(True, "", by, sales, sens, offers, cust,
                        _offers_reading(by, sales, sens, offers, margin, cust),
                        _offers_warnings(by, sales, sens, margin) + [left_out] * bool(left_out),
                        headline)


def plot_sensitivity(result, ax=None):
    """Each segment's sale-day rate ratio with its 95 % interval (``result.sensitivity``, or a
    sensitivity table); 1 means a sale does not change buying."""
    data = getattr(result, "sensitivity", result).dropna(subset=["rate_ratio"])
    ax = plots.axes(ax, figsize=(8, 0.5 * len(data) + 1.5))
    y = np.arange(len(data))
    ax.errorbar(data.rate_ratio, y, xerr=[data.rate_ratio - data.low, data.high - data.rate_ratio],
                fmt="o", color=plots.ACCENT, capsize=4)
    ax.axvline(1, color=plots.MUTED, linestyle="--")
    ax.set_yticks(y, [label(s) for s in data.segment])
    ax.invert_yaxis()
    if len(data):
        hi, lo = data.loc[data.rate_ratio.idxmax()], data.loc[data.rate_ratio.idxmin()]
        ax.set_title(f"A sale lifts buying {hi.rate_ratio:.1f}x for {label(hi.segment)}, "
                     f"{lo.rate_ratio:.1f}x for {label(lo.segment)}")
    ax.set(xlabel="Orders per customer on a sale day / on an ordinary day (times)")
    return ax
