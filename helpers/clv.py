"""Step 06: what each customer is likely to be worth over the next months.

The models are ``helpers.lifetime``'s: BG/NBD for how often each customer buys again and
Gamma-Gamma for how much per purchase, on purchase days counted in weeks. ``customer_value`` checks
the model on the last ``holdout_weeks`` (fitted on the data before them) against a simple rule,
then fits on all the data and values each customer over the next ``months`` months.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import plots
from helpers.explore import CUSTOMER_ID, ORDER_DATE
from helpers.lifetime import BetaGeo, GammaGamma, purchase_days, rfm_summary
from helpers.plan import money
from helpers.segments import NO_CUSTOMER

WEEKS_PER_MONTH = 365.25 / 7 / 12
MIN_CUSTOMERS, MIN_REPEAT = 100, 50
BINS = ["0", "1", "2", "3", "4", "5", "6", "7+"]


# ---- the check, the values, the section -----------------------------------------------------------
def holdout_check(orders: pd.DataFrame, *, as_of, holdout_weeks: int = 26):
    """Fit BG/NBD on the purchases up to ``holdout_weeks`` before ``as_of`` and predict each of
    those customers' purchase days in the weeks after; the baseline rule keeps each customer's
    past pace (repeat purchases / T). Returns the table by past repeat purchases (mean per
    customer) and the totals; (empty, {}) when the data before the holdout is too thin."""
    cutoff = pd.Timestamp(as_of).normalize() - pd.Timedelta(weeks=holdout_weeks)
    cal = rfm_summary(orders, cutoff=cutoff, holdout_end=as_of)
    if (cal.frequency > 0).sum() < MIN_REPEAT or len(cal) < MIN_CUSTOMERS:
        return pd.DataFrame(), {}
    x, tx, T = cal.frequency, cal.recency, cal["T"]
    pred = BetaGeo().fit(x, tx, T).expected_purchases(holdout_weeks, x, tx, T)
    base = np.where(T > 0, x / T.where(T > 0, 1) * holdout_weeks, 0.0)
    frame = pd.DataFrame({"past_repeat_purchases": pd.Categorical(
        np.array(BINS)[np.minimum(x, 7).astype(int)], categories=BINS, ordered=True),
        "actual": cal.holdout_purchases, "predicted": pred, "baseline": base})
    check = frame.groupby("past_repeat_purchases", observed=True).agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean"),
        baseline=("baseline", "mean")).reset_index()
    act = float(frame.actual.sum())
    totals = {"holdout_weeks": holdout_weeks, "holdout_customers": len(cal),
              "holdout_actual": act, "holdout_predicted": float(pred.sum()),
              "holdout_baseline": float(base.sum()),
              "holdout_error": float(pred.sum()) / act - 1 if act else None,
              "mae_model": float(np.mean(np.abs(pred - frame.actual))),
              "mae_baseline": float(np.mean(np.abs(base - frame.actual)))}
    return check, totals


def _values(bg: BetaGeo, gg: GammaGamma, data: pd.DataFrame, *, months: int, discount: float,
            margin: float, draws: int, seed: int):
    """Per customer: P(alive), expected purchase days and spend per purchase, the discounted value
    over ``months`` months (purchases of month m discounted by (1 + discount)^(-m/12)) and its 80%
    range from ``draws`` parameter sets drawn from the fits' approximate sampling distributions
    (normal on log-parameters, covariance from the Hessian); plus the total's draws."""
    x, tx, T, m = data.frequency, data.recency, data["T"], data.monetary_value
    steps = np.arange(1, months + 1)
    cum = np.column_stack([bg.expected_purchases(s * WEEKS_PER_MONTH, x, tx, T) for s in steps])
    discounted = np.diff(cum, axis=1, prepend=0.0) @ (1 + discount) ** (-steps / 12)
    spend = gg.expected_spend(x, m)
    alive = np.where(x > 0, bg.p_alive(x, tx, T), np.nan)  # 1 by design before a repeat purchase
    out = pd.DataFrame({"customer_id": data.index, "p_alive": alive,
                        "expected_purchases": cum[:, -1], "expected_spend": spend,
                        f"clv_{months}m": margin * discounted * spend})
    ratio = np.where(cum[:, -1] > 0, discounted / np.where(cum[:, -1] > 0, cum[:, -1], 1), 1.0)
    if not (np.isfinite(bg.cov_).all() and np.isfinite(gg.cov_).all()):
        return out.assign(clv_low=np.nan, clv_high=np.nan), None
    rng = np.random.default_rng(seed)
    th_bg = rng.multivariate_normal(bg.theta_, bg.cov_, draws)
    th_gg = rng.multivariate_normal(gg.theta_, gg.cov_, draws)
    th_gg[:, 1] = np.maximum(th_gg[:, 1], np.log(1.001))  # q > 1, as in the fit
    sims = np.array([margin * ratio * bg.expected_purchases(
        months * WEEKS_PER_MONTH, x, tx, T, params=tuple(np.exp(b))) * gg.expected_spend(
        x, m, params=tuple(np.exp(g))) for b, g in zip(th_bg, th_gg, strict=True)])
    low, high = np.quantile(sims, [0.1, 0.9], axis=0)
    return out.assign(clv_low=low, clv_high=high), sims.sum(axis=1)


def by_decile(customers: pd.DataFrame, column: str) -> pd.DataFrame:
    """Customers ranked by ``column`` into ten equal groups (1 = the top tenth): their count, the
    total and mean value, its share of all, and the mean P(alive) of its repeat buyers."""
    rank = customers[column].rank(method="first", ascending=False)
    decile = np.ceil(10 * rank / len(customers)).astype(int).rename("decile")
    g = customers.groupby(decile)
    out = pd.DataFrame({"customers": g.size(), "total": g[column].sum(), "mean": g[column].mean(),
                        "p_alive": g["p_alive"].mean()})
    out.insert(2, "share", out.total / out.total.sum())
    return out.reset_index()


@dataclass(frozen=True)
class CLVResult:
    """Customer lifetime value: fitted ``params``, the holdout ``check`` (by past repeat
    purchases), the per-customer table, the value by decile and the reading."""

    supported: bool
    reason: str
    params: dict
    check: pd.DataFrame
    customers: pd.DataFrame
    by_decile: pd.DataFrame
    reading: str
    warnings: list[str] = field(default_factory=list)
    headline: dict = field(default_factory=dict)


def customer_value(plan, *, months: int = 12, holdout_weeks: int = 26,
                   annual_discount: float = 0.10, margin: float | None = None, seed: int = 42,
                   draws: int = 100) -> CLVResult:
    """Each customer's expected value over the next ``months`` months (gross margin when
    ``margin`` is given or products carry a cost, else revenue), after a holdout check of the
    model on the last ``holdout_weeks``; a simple fallback when repeat buyers are too few."""
    orders = plan.prepared("orders") if plan.has("orders") else pd.DataFrame()
    if orders.empty or CUSTOMER_ID not in orders or orders[CUSTOMER_ID].isna().all():
        why = (NO_CUSTOMER if len(orders) else
               f"Customer value needs your orders table. {plan.why_missing('orders')}")
        return CLVResult(False, why, {}, *[pd.DataFrame()] * 3, why)
    data = rfm_summary(orders, cutoff=plan.as_of)
    repeaters, col = int((data.frequency > 0).sum()), f"clv_{months}m"
    if len(data) < MIN_CUSTOMERS or repeaters < MIN_REPEAT:
        return _fallback(orders, data, plan.as_of, months, plan.currency)
    if margin is None:  # from the products' costs; None when the data has none
        from helpers.strategy import estimate_margin

        found = estimate_margin(plan, default=None)[0]
        margin = None if found is None else float(found)
    check, totals = holdout_check(orders, as_of=plan.as_of, holdout_weeks=holdout_weeks)
    bg = BetaGeo().fit(data.frequency, data.recency, data["T"])
    gg = GammaGamma().fit(data.frequency, data.monetary_value)
    customers, sims = _values(bg, gg, data, months=months, discount=annual_discount,
                              margin=1.0 if margin is None else margin, draws=draws, seed=seed)
    deciles = by_decile(customers, col)
    low, high = np.quantile(sims, [0.1, 0.9]) if sims is not None else (np.nan, np.nan)
    n = {"customers": len(data), "repeat_buyers": repeaters, "months": months, "margin": margin,
         "discount": annual_discount, "total_value": float(customers[col].sum()),
         "total_low": float(low), "total_high": float(high),
         "top_decile_share": float(deciles.share.iloc[0]),
         "likely_active": int((customers.p_alive > 0.5).sum()), "one_time": len(data) - repeaters,
         "expected_purchases": float(customers.expected_purchases.sum()),
         "holdout_checked": bool(totals), **totals, "holdout_weeks": holdout_weeks}
    notes = _warnings(n, data, purchase_days(orders[orders[ORDER_DATE] < plan.as_of
                                                    + pd.Timedelta(days=1)]))
    return CLVResult(True, "", {**bg.params_, **gg.params_}, check, customers, deciles,
                     _reading(n, plan.currency), notes, n)


def gap_regularity(days: pd.DataFrame) -> float | None:
    """Median, over customers with 4+ purchase days, of the spread of the gaps between their
    purchases (sd / mean): about 1 for the irregular buying BG/NBD assumes, near 0 for a fixed
    schedule such as a monthly membership. None with fewer than 20 such customers."""
    days = days.sort_values(["customer_id", "day"])
    gaps = days.groupby("customer_id").day.diff().dt.days.dropna()
    stats = gaps.groupby(days.loc[gaps.index, "customer_id"]).agg(["mean", "std", "size"])
    stats = stats[(stats["size"] >= 3) & (stats["mean"] > 0)]
    return float((stats["std"] / stats["mean"]).median()) if len(stats) >= 20 else None


def _warnings(n: dict, data: pd.DataFrame, days: pd.DataFrame) -> list[str]:
    out = []
    if n["margin"] is None:
        out.append("Your data has no product costs (products.cost), so these values are revenue, "
                   "not profit: apply your gross margin before comparing them with what it costs "
                   "to win or keep a customer.")
    if not n["holdout_checked"]:
        out.append(f"Too little history comes before the last {n['holdout_weeks']} weeks to check "
                   "the model on them: its values are untested.")
    elif n["holdout_error"] is not None and abs(n["holdout_error"]) > 0.2:
        out.append(f"In the holdout check the model {'over' if n['holdout_error'] > 0 else 'under'}"
                   f"estimated repeat purchases by {abs(n['holdout_error']):.0%}: read the values "
                   "as rough.")
    if n["one_time"]:
        out.append(f"{n['one_time']:,} customers have bought only once. The model assumes nobody "
                   "leaves before a second purchase, so it cannot tell whether they are still "
                   "around and their P(alive) is left blank; their expected purchases still fall "
                   "the longer they stay away, so compare them by value.")
    regular = gap_regularity(days)
    if regular is not None and regular < 0.5:
        out.append(f"Your repeat customers buy on a regular schedule (the gaps between their "
                   f"purchases vary by only {regular:.0%} of the usual gap; the model assumes "
                   "irregular buying, about 100%), as with memberships or subscriptions. It "
                   "cannot see a missed payment coming, so for keeping members a churn model is "
                   "the better guide; use these values to compare customers, not as forecasts.")
    rep = data[data.frequency > 0]
    corr = float(rep.frequency.corr(rep.monetary_value)) if len(rep) > 2 else 0.0
    if abs(corr) > 0.3:
        out.append(f"Customers who buy more often also spend {'more' if corr > 0 else 'less'} per "
                   f"purchase (correlation {corr:.2f}); the spend model assumes the two unrelated, "
                   f"so your most frequent customers' values are {'under' if corr > 0 else 'over'}"
                   "stated.")
    if n["repeat_buyers"] < 200:
        out.append(f"Only {n['repeat_buyers']} customers have come back so far: the ranges are "
                   "wide and will narrow as more return.")
    return out


def _reading(n: dict, currency: str) -> str:
    kind = "gross margin" if n["margin"] is not None else "revenue"
    text = [f"Over the next {n['months']} months your {n['customers']:,} customers should bring "
            f"about {money(n['total_value'], currency)} in {kind}, in today's money at a "
            f"{n['discount']:.0%} yearly discount"]
    if np.isfinite(n["total_low"]):
        text[-1] += (f" (80% range {money(n['total_low'], currency)} to "
                     f"{money(n['total_high'], currency)}, from the model's uncertainty; what "
                     "each person does varies far more)")
    text[-1] += "."
    text.append(f"The top tenth of customers carry {n['top_decile_share']:.0%} of it. Of the "
                f"{n['repeat_buyers']:,} who have come back at least once, {n['likely_active']:,} "
                f"({n['likely_active'] / n['repeat_buyers']:.0%}) are more likely than not still "
                "buying from you.")
    if n["holdout_checked"]:
        better = n["mae_model"] < n["mae_baseline"]
        text.append(f"Fitted on the data before the last {n['holdout_weeks']} weeks, the model "
                    f"predicted {n['holdout_predicted']:,.0f} purchases in them against "
                    f"{n['holdout_actual']:,.0f} that happened ({n['holdout_error']:+.0%}); per "
                    f"customer it was off by {n['mae_model']:.2f} purchases on average, "
                    f"{'better than' if better else 'no better than'} assuming each customer keeps "
                    f"their past pace ({n['mae_baseline']:.2f}).")
    return " ".join(text)


def _fallback(orders: pd.DataFrame, data: pd.DataFrame, as_of, months: int,
              currency: str) -> CLVResult:
    repeaters, col = int((data.frequency > 0).sum()), f"clv_{months}m"
    reason = (f"{'Only ' if repeaters < MIN_REPEAT else ''}{repeaters} of your {len(data)} "
              "customers have bought on more than one day: "
              f"the model needs at least {MIN_REPEAT} repeat buyers and {MIN_CUSTOMERS} customers "
              "to learn how often people come back.")
    days = purchase_days(orders)
    end = pd.Timestamp(as_of).normalize()
    recent = days[(days.day > end - pd.DateOffset(months=months)) & (days.day <= end)]
    spent = recent.groupby("customer_id")["value"].sum().reindex(data.index, fill_value=0.0)
    customers = pd.DataFrame({"customer_id": data.index, "p_alive": np.nan,
                              "expected_purchases": np.nan, "expected_spend": np.nan,
                              col: spent.to_numpy(), "clv_low": np.nan, "clv_high": np.nan})
    deciles = by_decile(customers, col) if len(customers) >= 10 else pd.DataFrame()
    reading = (f"{reason} Until then, a rough guide is that each customer spends what they spent in "
               f"the last {months} months: {money(spent.sum(), currency)} in all.")
    return CLVResult(False, reason, {}, pd.DataFrame(), customers, deciles, reading, [],
                     {"customers": len(data), "repeat_buyers": repeaters,
                      "total_value": float(spent.sum())})


def clv_check_data(result: CLVResult) -> pd.DataFrame:
    """What ``plot_clv_check`` draws: holdout purchases per customer by past repeat purchases."""
    return result.check


def plot_clv_check(result: CLVResult, *, ax=None):
    """Holdout purchases per customer by past repeat purchases: what happened (bars), the model
    and the past-pace rule (lines)."""
    data, ax, h = clv_check_data(result), plots.axes(ax), result.headline
    if data.empty:
        ax.set(title="No holdout check: too little history before the holdout weeks")
        return ax
    pos = np.arange(len(data))
    ax.bar(pos, data.actual, color=plots.MUTED, label="what happened")
    ax.plot(pos, data.predicted, "o-", color=plots.ACCENT, label="model (BG/NBD)")
    ax.plot(pos, data.baseline, "s--", color=plots.PALETTE[1], label="past pace")
    ax.set_xticks(pos, data.past_repeat_purchases.astype(str))
    ax.legend(frameon=False, loc="upper left")
    ax.set(title=f"The model predicted {h['holdout_predicted']:,.0f} purchases in the last "
                 f"{h['holdout_weeks']} weeks; {h['holdout_actual']:,.0f} happened",
           xlabel="Repeat purchases before the holdout weeks",
           ylabel=f"Purchases per customer in {h['holdout_weeks']} weeks")
    return ax


def clv_distribution_data(result: CLVResult) -> pd.DataFrame:
    """What ``plot_clv_distribution`` draws: the value by decile of customers."""
    return result.by_decile


def plot_clv_distribution(result: CLVResult, *, currency: str, ax=None):
    """Expected value of each tenth of customers, ranked from the most valuable."""
    data = clv_distribution_data(result)
    if data.empty:
        ax = plots.axes(ax)
        ax.set(title="No customer values to show")
        return ax
    months = result.headline.get("months", 12)
    ax = plots.bar(data, x="decile", y="total", highlight=1, ax=ax,
                   title=f"The top tenth of customers carry {data.share.iloc[0]:.0%} of the "
                         f"next {months} months' value",
                   xlabel="Tenth of customers, ranked by expected value (1 = the top 10%)",
                   ylabel=f"Expected value, next {months} months ({currency})")
    return plots.money_axis(ax, currency)
