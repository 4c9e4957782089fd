"""Step 07: when the data cannot support response curves, what the ad platforms report per
channel (ROAS and cost per conversion, with bootstrap ranges over weeks) and the test that would
measure each channel instead: alternate weeks on and off, or a geographic holdout when the
channel is too small against the weekly swings of your sales.

The platforms count buyers who would have come anyway, so their figures are an upper bound.
``helpers.budget`` shows these in place of the budget split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import plots
from helpers.explore import known, label
from helpers.media import LEVEL_ENDS, ORDER_DATE, WEEK, week_start
from helpers.plan import money
from helpers.prepare import NET_REVENUE

DATE, CHANNEL, SPEND, CONVERSIONS, PLATFORM_REVENUE = known(
    "marketing_spend", "date", "channel", "spend", "conversions", "platform_revenue")
(CREATED_AT,) = known("leads", "created_at")
MAX_TEST_WEEKS = 26


def money_range(lo: float, hi: float, currency: str, decimals: int = 0) -> str:
    """'$120 to $340': a range of money in the business's currency."""
    return f"{money(lo, currency, decimals=decimals)} to {money(hi, currency, decimals=decimals)}"


def _weekly(dates: pd.Series, values=None) -> pd.Series:
    """Weekly sums (count without ``values``) over full weeks, empty weeks as zero."""
    week = week_start(dates)
    s = (pd.Series(1.0, index=week) if values is None else pd.Series(values.to_numpy(), index=week))
    s = s.groupby(level=0).sum()
    return s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="7D"), fill_value=0.0)[1:-1]


def _noise(series: pd.Series) -> tuple[float, float]:
    """Mean and week-to-week noise (sd of the weekly differences / sqrt 2: slow trends and
    seasons do not count as noise)."""
    return float(series.mean()), float(series.diff().std() / np.sqrt(2))


def _weeks_needed(mean: float, effect: float, sd: float) -> float:
    """Weeks per arm to detect ``effect`` on a weekly mean with noise ``sd`` (80 % power, 5 %
    significance; ``helpers.testplan.sample_size``); NaN when it cannot be worked out."""
    from helpers.testplan import sample_size

    if not sd > 0 or not effect > 0:
        return np.nan
    if effect / sd > 3:  # beyond the power solver's range: two weeks a side already show it
        return 2
    try:
        return max(sample_size(mean, mean + effect, sd=sd), 2)
    except (ValueError, RuntimeError):
        return np.nan


def suggest_test(channel: str, weekly_spend: float, weekly_conversions: float, *,
                revenue: tuple[float, float], leads: tuple[float, float] | None = None,
                currency: str = "USD") -> str:
    """The test that would measure a channel: alternate weeks on and off, long enough to tell
    whether it brings back its own cost in revenue (``revenue``: weekly mean and noise) or,
    failing that, the leads the platform claims (``leads``: weekly mean and noise, for a channel
    whose conversions are leads); when neither fits in 26 weeks, a geographic holdout."""
    name, n = label(channel), _weeks_needed(revenue[0], weekly_spend, revenue[1])
    if 2 * n <= MAX_TEST_WEEKS:
        return (f"Switch {name} off in alternate weeks for {2 * n:.0f} weeks ({n:.0f} on, "
                f"{n:.0f} off) and compare weekly sales: enough to tell whether it brings back "
                f"at least its cost, {money(weekly_spend, currency)} a week.")
    m = _weeks_needed(leads[0], weekly_conversions, leads[1]) if leads else np.nan
    if 2 * m <= MAX_TEST_WEEKS:
        return (f"Switch {name} off in alternate weeks for {2 * m:.0f} weeks and compare weekly "
                f"leads: enough to tell whether it brings the {weekly_conversions:.0f} leads "
                "a week the platform claims.")
    took = (f"alternate weeks on and off would take {2 * n:,.0f} weeks" if pd.notna(n) else
            "your weekly sales are too irregular to time a test on them")
    leads_too = (f", or {2 * m:,.0f} weeks to confirm the {weekly_conversions:.0f} leads a week "
                 "the platform claims" if pd.notna(m) else "")
    return (f"{name.capitalize()} costs {money(weekly_spend, currency)} a week, small against "
            f"the week-to-week swings of your totals ({took}{leads_too}). Run a holdout instead: "
            f"hold {name} back in a third of your postcodes or regions (for e-mail, from a random "
            "third of your list) for 8 weeks and compare orders and leads with the rest.")


def roas_fallback(plan, frame: pd.DataFrame | None = None, *, seed: int = 42,
                  n_boot: int = 1000) -> pd.DataFrame:
    """Per channel over the weeks it ran (within ``frame``'s weeks when given): spend, what the
    platform reports (revenue, conversions), ROAS and cost per conversion (CPA) with 90 %
    bootstrap ranges over weeks, and a ``recommended_test``."""
    s = plan.prepared("marketing_spend")
    if frame is not None and len(frame):
        s = s[(s[DATE] >= frame[WEEK].min())
              & (s[DATE] < frame[WEEK].max() + pd.Timedelta(days=7))]
    orders = plan.prepared("orders") if plan.has("orders") else None
    revenue = (_noise(_weekly(orders[ORDER_DATE], orders[NET_REVENUE]))
               if orders is not None else (0.0, 0.0))
    leads = _noise(_weekly(plan.prepared("leads")[CREATED_AT])) if plan.has("leads") else None
    rng, rows = np.random.default_rng(seed), []
    for ch, g in s.groupby(CHANNEL, sort=True):
        w = g.groupby(week_start(g[DATE]))[[SPEND, CONVERSIONS, PLATFORM_REVENUE]].sum(
            min_count=1).reindex(columns=[SPEND, CONVERSIONS, PLATFORM_REVENUE])
        w = w[w[SPEND] > 0]
        if w.empty:
            continue
        idx = rng.integers(0, len(w), size=(n_boot, len(w)))
        row = {"channel": ch, "weeks": len(w), "spend": w[SPEND].sum(),
               "platform_revenue": w[PLATFORM_REVENUE].sum(min_count=1),
               "conversions": w[CONVERSIONS].sum(min_count=1)}
        for name, num, den in (("roas", PLATFORM_REVENUE, SPEND), ("cpa", SPEND, CONVERSIONS)):
            a, b = w[num].fillna(0).to_numpy(), w[den].fillna(0).to_numpy()
            ok = w[num].notna().any() and w[den].notna().any() and b.sum() > 0
            boot = a[idx].sum(axis=1) / np.where(b[idx].sum(axis=1) > 0, b[idx].sum(axis=1), np.nan)
            row[name] = a.sum() / b.sum() if ok else np.nan
            row[f"{name}_low"], row[f"{name}_high"] = (np.nanquantile(boot, LEVEL_ENDS) if ok
                                                       else (np.nan, np.nan))
        conv = (row["conversions"] if pd.notna(row["conversions"]) else 0.0) / len(w)
        # a channel that reports no revenue counts leads or sign-ups as its conversions
        row["recommended_test"] = suggest_test(
            ch, row["spend"] / len(w), conv, revenue=revenue, currency=plan.currency,
            leads=leads if pd.isna(row["platform_revenue"]) else None)
        rows.append(row)
    return pd.DataFrame(rows, columns=["channel", "weeks", "spend", "platform_revenue",
                                       "conversions", "roas", "roas_low", "roas_high", "cpa",
                                       "cpa_low", "cpa_high", "recommended_test"])


def fallback_reading(fallback: pd.DataFrame, reason: str, currency: str) -> str:
    """What the platforms report per channel, with ranges, and the test to run instead."""
    text = [reason, "Until then, here is what the ad platforms report; they also count buyers who "
            "would have come anyway, so read their figures as an upper bound."]
    for r in fallback.itertuples():
        parts = [f"{label(r.channel).capitalize()}: {money(r.spend, currency)} over {r.weeks} "
                 "weeks"]
        if pd.notna(r.roas):
            parts.append(f"{r.roas:.2f} of revenue per {money(1, currency)} (90 % range "
                         f"{r.roas_low:.2f} to {r.roas_high:.2f})")
        if pd.notna(r.cpa):
            parts.append(f"{money(r.cpa, currency, decimals=2)} per conversion (90 % range "
                         f"{money_range(r.cpa_low, r.cpa_high, currency)})")
        text.append(", ".join(parts) + ". " + r.recommended_test)
    return " ".join(text)


def plot_fallback(fallback: pd.DataFrame, *, currency: str = "USD", ax=None):
    """The cost per conversion each platform reports (``roas_fallback``), with its range."""
    ax, f = plots.axes(ax), fallback.dropna(subset=["cpa"])
    ax.barh([label(c) for c in f["channel"]], f["cpa"], color=plots.MUTED,
            xerr=[f["cpa"] - f["cpa_low"], f["cpa_high"] - f["cpa"]])
    ax.set(xlabel=f"cost per conversion the platform reports ({currency})", title="No curves yet: "
           "test before moving budget; the platforms report these costs")
    return plots.money_axis(ax, currency, axis="x")
