"""Step 02: the revenue trend and its seasons (STL decomposition from statsmodels).

``trend_data`` reads weekly net revenue into a trend, a yearly pattern and a weekly pattern, with a
reading in words; ``plot_trend`` and ``plot_seasonality`` draw it. ``trend(plan)`` is the plan-level
call the notebook makes.
"""

from __future__ import annotations

import calendar

import numpy as np
import pandas as pd

from helpers import plots
from helpers.explore import DAY, ORDER_DATE, REVENUE, Finding, skipped, until
from helpers.plan import money


# ---- 2. revenue trend and seasonality ----------------------------------------------------------
def weekly_revenue(orders: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """Net revenue per complete week; weeks end on the analysis date's weekday, empty weeks are 0."""
    as_of = pd.Timestamp(as_of).normalize()
    o = until(orders, ORDER_DATE, as_of)
    if o.empty:
        return pd.DataFrame({"week_end": pd.Series(dtype="M8[ns]"), "revenue": []})
    age = (as_of - o[ORDER_DATE].dt.normalize()).dt.days
    oldest = int(age.max()) // 7
    n = oldest + 1 if int(age.max()) % 7 == 6 else oldest  # drop a partial first week
    rev = o[REVENUE].groupby(age // 7).sum().reindex(range(n), fill_value=0.0)[::-1]
    return pd.DataFrame({"week_end": as_of - pd.to_timedelta(7 * rev.index, "D"),
                         "revenue": rev.to_numpy(dtype=float)})


def daily_revenue(orders: pd.DataFrame, *, as_of, days: int = 364) -> pd.Series:
    """Net revenue per day over the last ``days`` days (or since the first order), 0 when none."""
    as_of = pd.Timestamp(as_of).normalize()
    o = until(orders, ORDER_DATE, as_of)
    start = max(o[ORDER_DATE].min().normalize(), as_of - (days - 1) * DAY)
    per_day = o[REVENUE].groupby(o[ORDER_DATE].dt.normalize()).sum()
    return per_day.reindex(pd.date_range(start, as_of), fill_value=0.0)


def month_profile(frame: pd.DataFrame, *, as_of, date: str = ORDER_DATE,
                  value: str | None = REVENUE) -> pd.DataFrame:
    """Each calendar month's level per day (sum of ``value``, or rows when None) as a multiple of
    the average month (1.0 = average), over complete months. Per day, so a short February is not
    penalised; with two years or more, measured against a straight-line trend, so growth does not
    make the last months of each year look strong. Empty with under 12 complete months."""
    as_of = pd.Timestamp(as_of).normalize()
    f = until(frame, date, as_of)
    if f.empty:
        return pd.DataFrame(columns=["month", "vs_average"])
    first = f[date].min().normalize()
    start = first.to_period("M") + (0 if first.day == 1 else 1)
    end = as_of.to_period("M") - (0 if as_of.is_month_end else 1)
    amount = f[value] if value else pd.Series(1.0, index=f.index)
    monthly = amount.groupby(f[date].dt.to_period("M")).sum().reindex(
        pd.period_range(start, end, freq="M"), fill_value=0.0)
    if len(monthly) < 12:
        return pd.DataFrame(columns=["month", "vs_average"])
    per_day = monthly / monthly.index.days_in_month
    line = np.polyval(np.polyfit(np.arange(len(per_day)), per_day, 1), np.arange(len(per_day)))
    level = per_day / line if len(per_day) >= 24 and (line > 0).all() else per_day
    avg = level.groupby(per_day.index.month).mean()
    return pd.DataFrame({"month": [calendar.month_name[m] for m in avg.index],
                         "vs_average": (avg / avg.mean()).to_numpy()})


def strength(seasonal, resid) -> float:
    """Strength of a seasonal pattern, 0 (none) to 1: 1 - var(remainder) / var(season + remainder)."""
    total = np.var(np.asarray(seasonal) + np.asarray(resid))
    return float(max(0.0, 1 - np.var(resid) / total)) if total > 0 else 0.0


def _decompose(weekly: pd.DataFrame) -> tuple[pd.DataFrame, float | None]:
    """STL with a 52-week season when there are two years of weeks; else a 13-week moving average.

    With two or three years each week of the year is seen only two or three times, so the season is
    smoothed as locally constant across years (``seasonal_deg=0``): a linear fit through two points
    would absorb all the noise and call any series perfectly seasonal.
    """
    if len(weekly) >= 104:
        from statsmodels.tsa.seasonal import STL

        fit = STL(weekly.revenue.to_numpy(), period=52, seasonal_deg=0).fit()
        return (weekly.assign(trend=fit.trend, seasonal=fit.seasonal, resid=fit.resid),
                strength(fit.seasonal, fit.resid))
    smooth = weekly.revenue.rolling(13, center=True, min_periods=7).mean()
    return weekly.assign(trend=smooth, seasonal=np.nan, resid=np.nan), None


def _weekly_pattern(orders, as_of) -> tuple[pd.DataFrame, float | None]:
    daily = daily_revenue(orders, as_of=as_of)
    avg = daily.groupby(daily.index.day_of_week).mean()
    days = pd.DataFrame({"weekday": [calendar.day_name[d] for d in avg.index],
                         "per_day": avg.to_numpy(), "vs_average": (avg / avg.mean()).to_numpy()})
    if len(daily) < 28:
        return days, None
    from statsmodels.tsa.seasonal import STL

    fit = STL(daily.to_numpy(), period=7).fit()
    return days, strength(fit.seasonal, fit.resid)


def trend_data(orders: pd.DataFrame, *, as_of, currency: str = "USD", min_weeks: int = 13) -> Finding:
    """Weekly net revenue split into trend and yearly season (STL), the trend's change over the
    last year, the strength of the yearly and weekly patterns, and the peak month and weekday."""
    weekly = weekly_revenue(orders, as_of=as_of)
    if len(weekly) < min_weeks:
        return Finding("trend", False, f"There are only {len(weekly)} complete weeks of orders up to "
                       f"{pd.Timestamp(as_of):%d %b %Y}; a trend needs at least {min_weeks}. "
                       "This section will fill in as your history grows.", currency=currency)
    weekly, yearly = _decompose(weekly)
    months, (days, weekly_strength) = month_profile(orders, as_of=as_of), _weekly_pattern(orders, as_of)
    trend = weekly.trend.dropna()
    lag = min(52, len(trend) - 1)
    now, then = float(trend.iloc[-1]), float(trend.iloc[-1 - lag])
    n = {"weeks": len(weekly), "method": "STL, 52-week season" if yearly is not None else
         "13-week moving average", "trend_weeks": lag, "trend_now": now, "trend_then": then,
         "trend_change": now / then - 1 if then > 0 else None, "yearly_strength": yearly,
         "weekly_strength": weekly_strength}
    if len(months):
        top, low = months.loc[months.vs_average.idxmax()], months.loc[months.vs_average.idxmin()]
        n |= {"peak_month": top.month, "peak_month_index": float(top.vs_average),
              "low_month": low.month, "low_month_index": float(low.vs_average),
              "peak_months": months[months.vs_average >= 0.95 * top.vs_average].month.tolist()}
    top_day = days.loc[days.vs_average.idxmax()]
    n |= {"peak_weekday": top_day.weekday, "peak_weekday_index": float(top_day.vs_average)}
    return Finding("trend", True, _trend_reading(n, currency), _trend_title(n), weekly,
                   {"month": months, "weekday": days}, n, currency)


def _level(s: float | None) -> str:
    return "not measured" if s is None else "strong" if s >= 0.6 else "moderate" if s >= 0.3 else "weak"


def _trend_title(n: dict) -> str:
    change = n["trend_change"]
    if change is None:
        return "Weekly net revenue and its trend"
    span = "a year ago" if n["trend_weeks"] == 52 else f"{n['trend_weeks']} weeks ago"
    verb = "up" if change > 0.02 else "down" if change < -0.02 else "flat,"
    return f"Weekly revenue trend {verb} {abs(change):.0%} on {span}"


def _trend_reading(n: dict, currency: str) -> str:
    span = "over the last year" if n["trend_weeks"] == 52 else f"over the last {n['trend_weeks']} weeks"
    c = n["trend_change"]
    text = [f"Your underlying weekly revenue (the trend, {n['method']}) went from "
            f"{money(n['trend_then'], currency)} to {money(n['trend_now'], currency)} a week {span}"
            + (f", {'+' if c >= 0 else ''}{c:.0%}." if c is not None else ".")]
    if n["yearly_strength"] is None:
        text.append(f"You have {n['weeks']} weeks of orders; separating a yearly season from the "
                    "trend needs two full years (104 weeks), so treat month differences with care.")
    else:
        text.append(f"The yearly pattern is {_level(n['yearly_strength'])} "
                    f"({n['yearly_strength']:.2f} on a 0-1 scale: the share of the ups and downs, "
                    "apart from the trend, that repeat every year).")
    if "peak_month" in n:
        text.append(f"{n['peak_month']} is the busiest month at {n['peak_month_index']:.1f}x an "
                    f"average month; {n['low_month']} the quietest at {n['low_month_index']:.1f}x.")
    text.append(f"Within the week, {n['peak_weekday']} brings the most ({n['peak_weekday_index']:.1f}x "
                f"an average day); the weekly pattern is {_level(n['weekly_strength'])}"
                + (f" ({n['weekly_strength']:.2f})." if n["weekly_strength"] is not None else "."))
    return " ".join(text)


def plot_trend(finding: Finding, *, ax=None):
    """Weekly net revenue (grey) and its trend (blue); the title states the trend's change."""
    ax = plots.line(finding.data, x="week_end", y="trend", title=finding.title, xlabel="Week ending",
                    ylabel=f"Net revenue per week ({finding.currency})", ax=ax)
    ax.plot(finding.data.week_end, finding.data.revenue, color=plots.MUTED, lw=0.8, zorder=0)
    return plots.money_axis(ax, finding.currency)


def plot_seasonality(finding: Finding, *, ax=None):
    """Revenue by calendar month as a multiple of an average month (by weekday when there is not a
    full year of months); the peak is highlighted."""
    months = finding.extra["month"]
    by, data = ("month", months) if len(months) else ("weekday", finding.extra["weekday"])
    peak = data.loc[data.vs_average.idxmax()]
    unit = "an average month" if by == "month" else "an average day"
    ax = plots.bar(data.assign(label=data[by].str[:3]), x="label", y="vs_average",
                   highlight=peak[by][:3], ylabel=f"Revenue vs {unit} (1.0 = average)",
                   title=f"{peak[by]} revenue is {peak.vs_average:.1f}x {unit}", ax=ax)
    ax.axhline(1.0, color="black", lw=0.8, ls="--")
    return ax


def trend(plan) -> Finding:
    """Revenue trend and seasonality of the plan's orders (skipped without orders)."""
    return skipped("trend", plan, "orders") or trend_data(
        plan.table("orders"), as_of=plan.as_of, currency=plan.currency)
