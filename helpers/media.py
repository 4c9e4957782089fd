"""Step 07: the weekly media frame (revenue, spend per channel and the baseline's controls) and
whether it can support response curves.

One row per full Monday-to-Sunday week: the orders' net revenue, each channel's spend (a spend
row covering a period is spread evenly over its days), and the controls a baseline needs (trend,
yearly Fourier terms, sale weeks and known events). ``channel_support`` and ``support_check`` say
whether the spend varies enough, and apart enough from the calendar, for curves to be fitted.
``helpers.curves`` fits them; ``helpers.budget`` builds the budget advice on them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.explore import known, label
from helpers.prepare import NET_REVENUE

DATE, CHANNEL, SPEND, PERIOD_END = known("marketing_spend", "date", "channel", "spend",
                                         "period_end")
ORDER_DATE, DISCOUNT = known("orders", "order_date", "discount")
WEEK, REVENUE, PREFIX = "week", "revenue", "spend_"
FOURIER_PAIRS = 3  # two pairs cannot follow a sharp December peak; curves then soak it up
MIN_WEEKS, MIN_ACTIVE_WEEKS, MIN_CV, MIN_LEVELS, CONFOUNDED = 52, 12, 0.10, 6, 0.75
HOLDOUT_WEEKS, LEVEL = 13, 0.90  # held-out final weeks; width of every range
LEVEL_ENDS = ((1 - LEVEL) / 2, (1 + LEVEL) / 2)  # the quantiles at the ends of a LEVEL range


# ---- the weekly frame ------------------------------------------------------------------------
def spend_columns(frame: pd.DataFrame) -> dict[str, str]:
    """{channel: its spend column} of a weekly media frame."""
    return {c[len(PREFIX):]: c for c in frame.columns if c.startswith(PREFIX)}


def control_columns(frame: pd.DataFrame) -> list[str]:
    """The baseline's columns of a weekly media frame (trend, season, events)."""
    return [c for c in frame.columns if c not in (WEEK, REVENUE) and not c.startswith(PREFIX)]


def daily_spend(spend: pd.DataFrame) -> pd.DataFrame:
    """Spend per day (rows) and channel (columns); a row covering a period (``period_end``
    after ``date``) is spread evenly over its days."""
    s = spend.loc[spend[SPEND].notna()].reset_index(drop=True)
    start = s[DATE].dt.normalize()
    end = s[PERIOD_END].dt.normalize().fillna(start) if PERIOD_END in s else start
    days = ((end - start).dt.days.clip(lower=0) + 1).to_numpy()
    rows = np.repeat(np.arange(len(s)), days)
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(days) - days, days)
    out = pd.DataFrame({DATE: start.to_numpy()[rows] + pd.to_timedelta(offset, "D"),
                        CHANNEL: s[CHANNEL].to_numpy()[rows],
                        SPEND: s[SPEND].to_numpy()[rows] / days[rows]})
    return out.pivot_table(index=DATE, columns=CHANNEL, values=SPEND, aggfunc="sum",
                           fill_value=0.0)


def week_start(dates) -> pd.DatetimeIndex:
    """The Monday of each date's week."""
    d = pd.DatetimeIndex(dates).normalize()
    return d - pd.to_timedelta(d.day_of_week, "D")


def sale_weeks(orders: pd.DataFrame, *, z: float = 4.0) -> pd.Series:
    """Weeks (by their Monday) whose share of discounted orders is far above normal: over
    ``z`` robust deviations (MAD) above the median share and over twice the median."""
    buys = orders[orders[NET_REVENUE] >= 0]
    if DISCOUNT not in buys or not buys[DISCOUNT].notna().any():
        return pd.Series(False, index=pd.DatetimeIndex([], name=WEEK))
    share = (buys[DISCOUNT] > 0).groupby(week_start(buys[ORDER_DATE])).mean()
    med = share.median()
    mad = 1.4826 * (share - med).abs().median() or share.std() or 1.0
    return ((share > med + z * mad) & (share > 2 * med)).rename_axis(WEEK)


def controls(weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """Trend (0 to 1 across the weeks) and yearly Fourier terms for weeks given by their Monday."""
    out = {"trend": np.arange(len(weeks)) / max(len(weeks) - 1, 1)}
    angle = 2 * np.pi * (weeks + pd.Timedelta(days=3)).day_of_year.to_numpy() / 365.25
    for k in range(1, FOURIER_PAIRS + 1):
        out[f"sin_{k}"], out[f"cos_{k}"] = np.sin(k * angle), np.cos(k * angle)
    return pd.DataFrame(out, index=weeks)


def assemble(revenue: pd.Series, spend: pd.DataFrame, *, sales=None, events=()) -> pd.DataFrame:
    """The weekly frame from revenue and spend indexed by week (Monday): week, revenue,
    ``spend_<channel>`` columns, then the controls: trend, Fourier terms, and ``event_sale`` /
    ``event_custom`` dummies when a week holds a sale or one of the ``events`` dates."""
    weeks = pd.DatetimeIndex(revenue.index, name=WEEK)
    out = pd.DataFrame({WEEK: weeks, REVENUE: revenue.to_numpy()}, index=weeks)
    for ch in spend.columns:
        out[PREFIX + str(ch)] = spend[ch].reindex(weeks, fill_value=0.0).to_numpy()
    out = out.join(controls(weeks))
    sale = (sales if sales is not None else pd.Series(dtype=bool)).reindex(weeks, fill_value=False)
    custom = weeks.isin(week_start([pd.Timestamp(e) for e in events]))
    for name, flag in (("event_sale", sale.to_numpy(bool)), ("event_custom", custom)):
        if flag.any():
            out[name] = flag.astype(float)
    return out.reset_index(drop=True)


def weekly_media_frame(plan, *, as_of=None, events=()) -> pd.DataFrame:
    """One row per full week (Monday to Sunday) of the span where both spend and orders exist,
    up to ``as_of`` (default ``plan.as_of``): revenue (orders' net revenue, refunds negative),
    spend per channel and the controls (see ``assemble``). ``events``: dates of known events
    (launches, press, outages) the baseline should not blame on the ads."""
    as_of = pd.Timestamp(as_of or plan.as_of).normalize()
    daily, orders = daily_spend(plan.prepared("marketing_spend")), plan.prepared("orders")
    orders = orders[orders[ORDER_DATE] < as_of + pd.Timedelta(days=1)]
    first = max(daily.index.min(), orders[ORDER_DATE].min().normalize())
    last = min(daily.index.max(), orders[ORDER_DATE].max().normalize(), as_of)
    start = first + pd.Timedelta(days=(7 - first.weekday()) % 7)
    stop = last - pd.Timedelta(days=(last.weekday() + 1) % 7 + 6)  # Monday of the last full week
    weeks = pd.date_range(start, stop, freq="7D", name=WEEK)
    revenue = orders.groupby(week_start(orders[ORDER_DATE]))[NET_REVENUE].sum()
    spend = daily.groupby(week_start(daily.index)).sum()
    return assemble(revenue.reindex(weeks, fill_value=0.0), spend.reindex(weeks, fill_value=0.0),
                    sales=sale_weeks(orders), events=events)


# ---- can the data support curves? ------------------------------------------------------------
def _calendar_share(frame: pd.DataFrame, x: np.ndarray) -> float:
    """Share of the spend's variation that trend, season and events explain (R^2)."""
    base = np.column_stack([np.ones(len(frame)), frame[control_columns(frame)].to_numpy(float)])
    resid = x - base @ np.linalg.lstsq(base, x, rcond=None)[0]
    return float(1 - resid.var() / x.var()) if x.var() > 0 else 1.0


def channel_support(frame: pd.DataFrame) -> pd.DataFrame:
    """Per channel: weeks with spend, the weekly spend's coefficient of variation, its distinct
    levels (to 5 % of the mean), the share of its variation the calendar explains; ``usable``
    (else ``why``) and ``confounded``: its spend follows the calendar so closely (share >= 0.75,
    a variance inflation of 4) that its curve cannot be told from the season or the sales."""
    rows = []
    for ch, col in spend_columns(frame).items():
        x = frame[col].to_numpy(dtype=float)
        mean, active = x.mean(), int((x > 0).sum())
        cv = x.std() / mean if mean > 0 else 0.0
        levels = len(np.unique(np.round(x / (0.05 * mean)))) if mean > 0 else 1
        why = ("there is no spend" if mean <= 0 else
               f"its weekly spend is the same every week (varies by {cv:.0%})" if cv < 0.01 else
               f"its weekly spend barely moves (varies by {cv:.0%}; {MIN_CV:.0%} is the least "
               "that can show an effect)" if cv < MIN_CV or levels < MIN_LEVELS else
               f"it ran in only {active} weeks (at least {MIN_ACTIVE_WEEKS} are needed)"
               if active < MIN_ACTIVE_WEEKS else "")
        share = _calendar_share(frame, x)
        rows.append({"channel": ch, "active_weeks": active, "mean_weekly_spend": mean,
                     "variation": cv, "levels": levels, "calendar_share": share,
                     "usable": not why, "why": why, "confounded": not why and share >= CONFOUNDED})
    return pd.DataFrame(rows, columns=["channel", "active_weeks", "mean_weekly_spend", "variation",
                                       "levels", "calendar_share", "usable", "why", "confounded"])


def support_check(frame: pd.DataFrame) -> tuple[bool, str]:
    """Whether the frame can support response curves, and a sentence saying why (not)."""
    table, weeks = channel_support(frame), len(frame)
    problems = [f"{label(r.channel)}: {r.why}" for r in table.itertuples() if not r.usable]
    if weeks >= MIN_WEEKS and table["usable"].any():
        fitted = ", ".join(label(c) for c in table.loc[table["usable"], "channel"])
        return True, (f"{weeks} weeks of spend and sales; curves for {fitted}"
                      + (f"; held fixed: {'; '.join(problems)}" if problems else "") + ".")
    if weeks < MIN_WEEKS:
        problems.insert(0, f"only {weeks} full weeks have both spend and sales (at least "
                        f"{MIN_WEEKS}, a full year, are needed to tell the ads from the season)")
    if table.empty:
        problems.append("there is no spend in the marketing_spend table")
    return False, "Response curves cannot be fitted: " + "; ".join(problems) + "."
