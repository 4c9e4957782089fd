"""Step 08: unusual days in your daily numbers, and the likely cause of each.

Each daily series (revenue and orders, refunds left out; spend, clicks and conversions of each
campaign that spends almost every day) is split by statsmodels' robust STL into trend, weekly
pattern and remainder. The weekly pattern is smoothed over 35 weeks and the trend over 29 days:
STL's defaults (7 weeks, 15 days) follow the noise, and flagged 47 of 600 series-days of
harbor_coffee, these settings 1. A remainder further than ``threshold`` robust standard deviations
(1.4826 x its median absolute deviation) from zero flags the day, and the data around it names a
likely cause. The day-by-day tables here (``daily_orders``, ``daily_spend``) also serve pacing and
the alerts of ``helpers.monitoring`` and ``helpers.alerts``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import plots
from helpers.explore import known, until
from helpers.prepare import IS_REFUND
from helpers.sections import Section

ORDER_DATE, REVENUE, DISCOUNT = known("orders", "order_date", "revenue", "discount")
DATE, CHANNEL, CAMPAIGN_ID, SPEND, CLICKS, CONVERSIONS, PLATFORM_REVENUE, PERIOD_END = known(
    "marketing_spend", "date", "channel", "campaign_id", "spend", "clicks", "conversions",
    "platform_revenue", "period_end")
SENT_AT = known("email_events", "sent_at")[0]
START_DATE, DELIVERED, NAME = known("campaigns", "start_date", "delivered", "name")
DAY = pd.Timedelta(days=1)
MIN_DAYS = 56  # eight weeks: the least history STL can split into trend and weekly pattern
MIN_COUNT = 5  # a count (orders, clicks, conversions) needs this many a typical day to be judged
ALWAYS_ON = 0.9  # a campaign spending on fewer days than this share is not checked day by day
ANOMALY_COLUMNS = ["date", "metric", "actual", "expected", "change", "robust_z", "likely_cause"]
# The `holidays` package is not installed: a few fixed dates and the US shopping days are enough
# to name a likely cause.
HOLIDAYS = {(1, 1): "New Year's Day", (2, 14): "Valentine's Day", (10, 31): "Halloween",
            (12, 24): "Christmas Eve", (12, 25): "Christmas Day", (12, 26): "Boxing Day",
            (12, 31): "New Year's Eve"}
NATIONAL = {"USD": {(7, 4): "Independence Day"}, "CAD": {(7, 1): "Canada Day"}}


# ---- "today" -----------------------------------------------------------------------------------
def resolve_as_of(plan, as_of=None) -> pd.Timestamp:
    """``as_of`` as a day, or the plan's own date ("today") when it is None."""
    return (plan.as_of if as_of is None else pd.Timestamp(as_of)).normalize()


def plan_at(plan, as_of=None):
    """A shallow copy of ``plan`` whose "today" is ``as_of`` (tables shared, nothing reloaded), for
    the KPI functions of ``helpers.kpis``, which read ``plan.as_of``."""
    view = copy.copy(plan)
    view.as_of = resolve_as_of(plan, as_of)
    return view


# ---- daily numbers -----------------------------------------------------------------------------
def daily_orders(plan, *, as_of=None) -> pd.DataFrame:
    """Every day from the first order to ``as_of``: revenue and orders (refunds left out),
    orders with a discount and the largest order's revenue."""
    as_of = resolve_as_of(plan, as_of)
    o = until(plan.prepared("orders"), ORDER_DATE, as_of)
    o = o[~o[IS_REFUND]] if IS_REFUND in o else o[o[REVENUE] >= 0]
    day = o[ORDER_DATE].dt.normalize()
    discounted = o[DISCOUNT].fillna(0) > 0 if DISCOUNT in o else pd.Series(False, index=o.index)
    out = pd.DataFrame({"revenue": o[REVENUE].groupby(day).sum(), "orders": day.groupby(day).size(),
                        "discounted": discounted.groupby(day).sum(),
                        "largest": o[REVENUE].groupby(day).max()})
    days = pd.date_range(out.index.min(), as_of) if len(out) else pd.DatetimeIndex([])
    return out.reindex(days, fill_value=0).rename_axis("date")


def daily_spend(plan, *, as_of=None, spread: bool = False, by=(CHANNEL,)
                ) -> tuple[pd.DataFrame, int]:
    """marketing_spend summed by day and ``by`` (channel) up to ``as_of`` (spend, clicks,
    conversions, platform_revenue), and how many rows covering several days were left out.

    Such a row (``period_end`` after ``date``, as in some platform reports) cannot be split by
    day: it is left out, or with ``spread`` spread evenly over its days (for sums over weeks)."""
    as_of = resolve_as_of(plan, as_of)
    s = plan.prepared("marketing_spend")
    cols = [c for c in (SPEND, CLICKS, CONVERSIONS, PLATFORM_REVENUE) if c in s]
    start = s[DATE].dt.normalize()
    end = s[PERIOD_END].dt.normalize().fillna(start) if PERIOD_END in s else start
    n_days = (end - start).dt.days.clip(lower=0) + 1
    multi = n_days > 1
    rows = s[~multi].assign(**{DATE: start[~multi]})
    if spread and multi.any():
        many = s[multi].loc[s[multi].index.repeat(n_days[multi])]
        many[DATE] = start.loc[many.index] + pd.to_timedelta(many.groupby(level=0).cumcount(), "D")
        many[cols] = many[cols].div(n_days.loc[many.index].to_numpy(), axis=0)
        rows = pd.concat([rows, many])
    rows = rows[rows[DATE] <= as_of]
    out = rows.groupby([DATE, *by], dropna=False)[cols].sum(min_count=1).reset_index()
    return out, int(0 if spread else multi.sum())


# ---- unusual days ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class AnomalyResult(Section):
    """Unusual days: ``table`` (ANOMALY_COLUMNS, newest first) and ``series`` (date, metric,
    actual, expected, robust_z over the last ``days``, for the chart)."""

    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ANOMALY_COLUMNS))
    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    checked: tuple[str, ...] = ()
    currency: str = "USD"


def robust_residuals(y: pd.Series) -> pd.DataFrame:
    """``expected`` (trend + weekly pattern of a robust STL, period 7) and ``robust_z`` (the
    remainder over 1.4826 x its median absolute deviation) for a daily series of 8+ weeks."""
    from statsmodels.tsa.seasonal import STL

    fit = STL(y.astype(float), period=7, seasonal=35, trend=29, robust=True).fit()
    expected = fit.trend + fit.seasonal
    resid = y - expected
    centred = (resid - resid.median()).abs()
    scale = 1.4826 * centred.median() or 1.2533 * centred.mean()  # MAD, else mean deviation
    z = resid / scale if scale > 0 else resid * 0.0
    return pd.DataFrame({"actual": y, "expected": expected.clip(lower=0), "robust_z": z})


def _campaign_series(plan, as_of, start, series: dict, ctx: dict) -> list[str]:
    """Spend, clicks and conversions of each campaign that spends almost every day (a flight, a
    send day or a post switches on and off by plan, which is no anomaly); notes for the rest."""
    s, left = daily_spend(plan, as_of=as_of, by=(CHANNEL, CAMPAIGN_ID))
    s[CAMPAIGN_ID], s[CHANNEL] = s[CAMPAIGN_ID].fillna(""), s[CHANNEL].fillna("(no channel)")
    names = (plan.prepared("campaigns").drop_duplicates(CAMPAIGN_ID).set_index(CAMPAIGN_ID)[NAME]
             if plan.has("campaigns") and NAME in plan.prepared("campaigns") else {})
    cols = [c for c in (SPEND, CLICKS, CONVERSIONS) if c in s]
    wide = s.groupby([DATE, CHANNEL, CAMPAIGN_ID])[cols].sum(min_count=1).unstack(
        [CHANNEL, CAMPAIGN_ID])
    wide = wide.reindex(pd.date_range(wide.index.min(), as_of))
    spend = wide[SPEND]
    ctx["spend"] = spend.T.groupby(level=0).sum().T
    span_start = (spend.notna().idxmax()).clip(lower=start - MIN_DAYS * DAY)
    share = spend.fillna(0).gt(0).loc[start - MIN_DAYS * DAY:].sum() / (
        (as_of - span_start).dt.days + 1)
    for ch, camp in share.index[share >= ALWAYS_ON]:
        label = f"{ch}, {names.get(camp, camp) or camp}" if camp else ch
        ctx["always_on"].append(ch)
        first = spend[(ch, camp)].first_valid_index()
        for what in cols:
            if wide[(what, ch, camp)].notna().any():
                series[f"{what} ({label})"] = wide[(what, ch, camp)].loc[first:].fillna(0.0)
                ctx["source"][f"{what} ({label})"] = (ch, spend[(ch, camp)].fillna(0.0))
    sporadic = sorted({ch for ch, _ in share.index[share < ALWAYS_ON]})
    notes = [f"{left} marketing_spend rows cover several days (a period_end after the date): "
             "they cannot be split by day, so the daily check leaves them out."] if left else []
    if sporadic:
        notes.append(f"Campaigns that spend on fewer than {ALWAYS_ON:.0%} of days (send days, "
                     f"posts, flights) are not checked day by day: those of {', '.join(sporadic)}.")
    return notes


def _daily_series(plan, as_of, start) -> tuple[dict, dict, list[str]]:
    """The series to check ({metric: daily values}), the context for causes, and notes."""
    series, notes = {}, []
    ctx = {"spend": pd.DataFrame(), "always_on": [], "orders": None, "source": {},
           "emails": pd.Series(dtype=float)}
    if plan.has("orders"):
        d = ctx["orders"] = daily_orders(plan, as_of=as_of)
        series |= {"revenue": d["revenue"], "orders": d["orders"].astype(float)}
    if plan.has("marketing_spend"):
        notes += _campaign_series(plan, as_of, start, series, ctx)
    ctx["always_on"] = list(dict.fromkeys(ctx["always_on"]))
    if plan.has("email_events"):
        sent = until(plan.prepared("email_events"), SENT_AT, as_of)[SENT_AT].dt.normalize()
        ctx["emails"] = sent.value_counts()
    elif plan.has("campaigns") and DELIVERED in plan.prepared("campaigns"):
        c = until(plan.prepared("campaigns"), START_DATE, as_of)
        ctx["emails"] = c.groupby(c[START_DATE].dt.normalize())[DELIVERED].sum()
    return series, ctx, notes


def holiday(day: pd.Timestamp, currency: str = "USD") -> str | None:
    """The name of a public or shopping holiday on ``day`` (a small fixed list), else None."""
    names = HOLIDAYS | NATIONAL.get(currency, {})
    if (day.month, day.day) in names:
        return names[(day.month, day.day)]
    first = pd.Timestamp(day.year, 11, 1)
    thanksgiving = first + pd.Timedelta(days=(3 - first.weekday()) % 7 + 21)
    return {thanksgiving + DAY: "Black Friday", thanksgiving + 4 * DAY: "Cyber Monday"}.get(
        day.normalize())


def _ratio(spend: pd.Series, day) -> float:
    """Spend on ``day`` over its median on the 28 days before (NaN without one)."""
    usual = spend.loc[day - 28 * DAY:day - DAY].median() if day in spend.index else np.nan
    return float(spend[day] / usual) if usual > 0 else np.nan


def _order_causes(metric: str, day, actual: float, expected: float, d: pd.DataFrame,
                  currency: str) -> list[str]:
    """A sale, bigger orders than usual or one very large order, from the day's orders."""
    before = d.loc[day - 56 * DAY:day - DAY]
    share = d.at[day, "discounted"] / max(d.at[day, "orders"], 1)
    usual = (before["discounted"] / before["orders"].where(before["orders"] > 0)).median()
    found = [f"{share:.0%} of that day's orders had a discount (usually {usual:.0%}): a sale or "
             "a promotion"] if share >= max(0.3, 2 * usual) else []
    if metric == "revenue" and actual > expected:
        aov = actual / max(d.at[day, "orders"], 1)
        usual_aov = (before["revenue"] / before["orders"].where(before["orders"] > 0)).median()
        if d.at[day, "largest"] > 0.5 * actual:
            found.append(f"one order of {_money(d.at[day, 'largest'], currency)} made "
                         f"{d.at[day, 'largest'] / actual:.0%} of the day's revenue")
        elif aov >= 1.5 * usual_aov:
            found.append(f"orders were larger than usual ({_money(aov, currency)} on average "
                         f"against {_money(usual_aov, currency)})")
    return found


def likely_cause(metric: str, day, actual: float, expected: float, ctx: dict, *,
                 currency: str = "USD") -> str:
    """What the data around ``day`` says may explain an unusual value of ``metric``: a zero (a
    tracking gap), a campaign's new spend level, a sharp change in spend the same way, a sale,
    larger orders, an e-mail send, a holiday."""
    found, up = [], actual > expected
    if actual == 0 and expected > 0:
        found.append("nothing was recorded that day while the days around it had some: a "
                     "tracking gap, a paused campaign or a missing export")
    channel, own = ctx["source"].get(metric, (None, None))
    if own is not None:
        before, after = own.loc[day - 7 * DAY:day - DAY].median(), own.loc[
            day + DAY:day + 7 * DAY].median()
        if before > 0 and not 2 / 3 < after / before < 1.5:
            found.append(f"the campaign's daily spend moved from about {_money(before, currency)} "
                         f"to {_money(after, currency)} around that day: a budget change (a "
                         "test, a new cap), not a one-day event")
    spends = ({channel: own} if channel and not metric.startswith(SPEND) else {} if channel
              else {ch: ctx["spend"][ch] for ch in ctx["always_on"] if ch in ctx["spend"]})
    for ch, spend in spends.items():
        ratio = _ratio(spend, day)
        if actual and ((up and ratio >= 2) or (not up and ratio <= 0.5)):
            found.append(f"{ch} spend was {ratio:.1f}x its usual that day")
    d = ctx["orders"]
    if d is not None and day in d.index and not metric.startswith(SPEND):
        found += _order_causes(metric, day, actual, expected, d, currency)
        sent = ctx["emails"].get(day, 0)
        if sent >= 50 and up:
            found.append(f"an e-mail went to {sent:,.0f} people that day")
    if name := holiday(day, currency):
        found.append(f"it was {name}")
    return "; ".join(found) or ("nothing in your data explains it: check your shop and the ad "
                                "platform for that day")


def _money(value: float, currency: str) -> str:
    from helpers.plan import money

    return money(value, currency)


def anomalies(plan, *, as_of=None, days: int = 120, threshold: float = 3.5) -> AnomalyResult:
    """Unusual days in the last ``days`` days to ``as_of`` (see the module docstring).

    Each series is fitted on the ``days`` plus 8 weeks before ``as_of``; a series with under 8
    weeks of history is left out, and with none left the result is unsupported."""
    as_of = resolve_as_of(plan, as_of)
    first = as_of - (days - 1) * DAY
    series, ctx, notes = _daily_series(plan, as_of, first)
    rows, shown, short, few = [], [], [], []
    for metric, y in series.items():
        y = y.loc[first - MIN_DAYS * DAY:]
        if len(y) < MIN_DAYS:
            short.append(metric)
            continue
        if not (metric == "revenue" or metric.startswith(SPEND)) and y.median() < MIN_COUNT:
            few.append(metric)
            continue
        fit = robust_residuals(y).loc[first:].assign(metric=metric)
        shown.append(fit.rename_axis("date").reset_index())
        for day, r in fit[fit["robust_z"].abs() > threshold].iterrows():
            rows.append({"date": day, "metric": metric, "actual": r["actual"],
                         "expected": r["expected"], "change": r["actual"] / r["expected"] - 1
                         if r["expected"] > 0 else np.nan, "robust_z": r["robust_z"],
                         "likely_cause": likely_cause(metric, day, r["actual"], r["expected"],
                                                      ctx, currency=plan.currency)})
    if short:
        notes.append(f"Under 8 weeks of history, so not checked yet: {', '.join(short)}.")
    if few:
        notes.append(f"Under {MIN_COUNT} a day on a typical day, too few to judge a single day: "
                     f"{', '.join(few)}.")
    if not shown:
        why = ("Unusual days need at least 8 weeks of daily orders or marketing spend before "
               f"{as_of:%d %b %Y}: add orders (or marketing_spend) under `data:` in business.yaml,"
               " or wait for more history.")
        return AnomalyResult(False, why, reading=why, warnings=tuple(notes),
                             headline={"supported": False}, currency=plan.currency)
    table = pd.DataFrame(rows, columns=ANOMALY_COLUMNS).sort_values(
        "date", ascending=False, kind="stable").reset_index(drop=True)
    checked = tuple(s["metric"].iloc[0] for s in shown)
    return AnomalyResult(True, "", table=table, series=pd.concat(shown, ignore_index=True),
                         checked=checked,
                         reading=_anomaly_reading(plan, table, checked, days, threshold),
                         warnings=tuple(notes),
                         headline={"days_checked": days, "series_checked": len(checked),
                          "unusual_days": int(table["date"].nunique())},
                         currency=plan.currency)


def _anomaly_reading(plan, table: pd.DataFrame, checked, days: int, threshold: float) -> str:
    if table.empty:
        return (f"No day of the last {days} stands out in {', '.join(checked)} once the trend and "
                f"the weekly pattern are taken out (threshold: {threshold:g} robust standard "
                "deviations).")
    lines = [f"{table['date'].nunique()} unusual day(s) in the last {days} across "
             f"{table['metric'].nunique()} of the {len(checked)} series checked. The largest:"]
    largest = table.reindex(table["robust_z"].abs().sort_values(ascending=False).index)
    for r in largest.head(3).itertuples():
        unit = "money" if r.metric == "revenue" or r.metric.startswith(SPEND) else "count"
        fmt = (lambda v: _money(v, plan.currency)) if unit == "money" else "{:,.0f}".format
        change = "" if pd.isna(r.change) else f", {r.change:+.0%}"
        lines.append(f"{r.date:%a %d %b %Y}: {r.metric} was {fmt(r.actual)} against about "
                     f"{fmt(r.expected)} expected{change}. Likely cause: {r.likely_cause}.")
    return "\n".join(lines)


def anomaly_chart_data(result: AnomalyResult, metric: str | None = None) -> pd.DataFrame:
    """The series ``plot_anomalies`` draws: date, actual, expected and whether the day is flagged;
    ``metric`` defaults to the one with the strongest flag (revenue when nothing is flagged)."""
    if not result.supported:
        return pd.DataFrame(columns=["date", "actual", "expected", "flagged"])
    if metric is None:
        t = result.table
        metric = (t.loc[t["robust_z"].abs().idxmax(), "metric"] if len(t) else result.checked[0])
    s = result.series[result.series["metric"] == metric]
    flagged = s["date"].isin(result.table.loc[result.table["metric"] == metric, "date"])
    return s[["date", "actual", "expected"]].assign(flagged=flagged.to_numpy(), metric=metric)


def plot_anomalies(result: AnomalyResult, metric: str | None = None, ax=None):
    """Actual against expected day by day, unusual days marked."""
    ax = plots.axes(ax)
    data = anomaly_chart_data(result, metric)
    if data.empty:
        ax.set_axis_off()
        ax.text(0.5, 0.5, result.reading, ha="center", va="center", wrap=True)
        return ax
    name, hits = data["metric"].iloc[0], data[data["flagged"]]
    ax.plot(data["date"], data["actual"], color=plots.ACCENT, lw=1.5, label="actual")
    ax.plot(data["date"], data["expected"], color=plots.MUTED, ls="--", label="expected")
    ax.scatter(hits["date"], hits["actual"], color=plots.PALETTE[3], zorder=3, s=40,
               label="unusual day")
    title = (f"{len(hits)} unusual day(s) in {name}" if len(hits) else
             f"No unusual day in {name}")
    money = name == "revenue" or name.startswith(SPEND)
    ax.set(title=title, xlabel="", ylabel=f"{name} per day" + (f" ({result.currency})"
                                                               if money else ""))
    if money:
        plots.money_axis(ax, result.currency)
    import matplotlib.dates as mdates

    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.legend(frameon=False)
    return ax
