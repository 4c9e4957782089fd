"""Step 06: the sales forecast for the next weeks, tested against a simple rule before it is used.

Weeks run Monday to Sunday, labelled by their Monday. ``backtest`` replays the past (rolling
origin: fit on the weeks before a cut-off, forecast the next ``horizon``, score them);
``forecast_sales`` keeps the model with the lowest MASE only if it beats the baseline rule (seasonal
naive, "same week last year"; naive, "same as last week", under a year of history). The candidates
and their prediction intervals are ``helpers.forecasters``'s: Holt-Winters, Holt and a regression
on trend, season and holiday weeks. The range of the total comes from 1,000 simulated futures of
the chosen model (seeded).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import plots
from helpers.explore import DAY, ORDER_DATE, REVENUE, cap, until
from helpers.forecasters import BANDS, SEASON, HoltWinters, Naive, SeasonalNaive, TrendRegression
from helpers.plan import money
from helpers.prepare import NET_REVENUE

MIN_TRAIN = 26  # weeks a model learns from in the shortest backtest fold


def weekly_revenue(orders: pd.DataFrame, *, as_of) -> pd.Series:
    """Net revenue per full Monday-to-Sunday week up to ``as_of`` (its whole day counted).

    The index holds each week's Monday (name ``week``). The partial last week (the one holding
    ``as_of`` unless it is a Sunday) and a partial first week (data starting after a Monday) are
    dropped; weeks without sales inside the range are 0. Uses ``net_revenue`` when present (step
    04), else ``revenue``; refund rows count against the week they fall in.
    """
    as_of = pd.Timestamp(as_of).normalize()
    o = until(orders, ORDER_DATE, as_of)
    value = o[NET_REVENUE] if NET_REVENUE in o else o[REVENUE]
    last = as_of - ((as_of.weekday() + 1) % 7) * DAY - 6 * DAY  # Monday of the last full week
    if o.empty:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], name="week"), name=NET_REVENUE)
    first = o[ORDER_DATE].min().normalize()
    first += ((7 - first.weekday()) % 7) * DAY  # the first Monday on or after the first sale
    weeks = pd.date_range(first, last, freq="W-MON", name="week")
    monday = o[ORDER_DATE].dt.normalize() - pd.to_timedelta(o[ORDER_DATE].dt.day_of_week, "D")
    out = value.groupby(monday).sum().reindex(weeks, fill_value=0.0).astype(float)
    return out.rename(NET_REVENUE)


# ---- scores and the backtest ---------------------------------------------------------------------
def mape(actual, forecast) -> float:
    """Mean absolute percentage error over the weeks with sales (weeks at 0 are left out)."""
    a, f = np.asarray(actual, float), np.asarray(forecast, float)
    keep = a != 0
    return float(np.mean(np.abs(a[keep] - f[keep]) / np.abs(a[keep]))) if keep.any() else np.nan


def mase(actual, forecast, train, *, season: int = SEASON) -> float:
    """Mean absolute error scaled by the in-sample error of the seasonal naive rule on ``train``
    (of the naive rule, lag 1, when ``train`` is not longer than a season). Below 1: better than
    that rule was on the past."""
    t = np.asarray(train, float)
    lag = season if len(t) > season else 1
    scale = np.mean(np.abs(t[lag:] - t[:-lag]))
    err = np.mean(np.abs(np.asarray(actual, float) - np.asarray(forecast, float)))
    return float(err / scale) if scale > 0 else np.nan


def backtest(series: pd.Series, *, horizon: int = 12, folds: int = 4, season: int = SEASON,
             models: dict | None = None) -> pd.DataFrame:
    """Rolling-origin backtest: fold i fits each model on every week before its cut-off and
    forecasts the next ``horizon`` weeks; the cut-offs step back ``horizon`` weeks from the end,
    so the test weeks are the last ``folds * horizon`` weeks, each used once.

    Returns one row per model: the mean MAPE and MASE over the folds with their standard deviation
    across folds (``*_sd``), and ``coverage_80``, the share of test weeks inside the 80% range.
    ``models`` maps a name to an unfitted model; default ``candidates(...)`` for the shortest fold.
    """
    n = len(series)
    models = models or candidates(n - folds * horizon, season=season)[0]
    rows = []
    for origin in range(n - folds * horizon, n - horizon + 1, horizon):
        train, test = series.iloc[:origin], series.iloc[origin:origin + horizon].to_numpy()
        for name, model in models.items():
            bands = model.fit(train).predict(horizon)
            rows.append({"model": name, "origin": series.index[origin],
                         "mape": mape(test, bands.forecast), "mase": mase(
                             test, bands.forecast, train, season=season),
                         "coverage_80": float(np.mean((test >= bands.lower_80)
                                                      & (test <= bands.upper_80)))})
    g = pd.DataFrame(rows).groupby("model", sort=False)
    out = g[["mape", "mase", "coverage_80"]].mean().join(
        g[["mape", "mase"]].std(ddof=1).add_suffix("_sd")).join(g.size().rename("folds"))
    return out.reset_index()[["model", "folds", "mape", "mape_sd", "mase", "mase_sd", "coverage_80"]]


def candidates(train_weeks: int, *, season: int = SEASON) -> tuple[dict, str]:
    """The models that a shortest training window of ``train_weeks`` supports, the baseline's name
    first: seasonal naive from a season and a week of history, else naive; Holt-Winters from two
    full seasons; the regression's yearly terms: 4 from two seasons, 2 from one, none below."""
    seasonal = train_weeks > season
    base = SeasonalNaive(season=season) if seasonal else Naive()
    models = [base] + ([HoltWinters(seasonal=True, season=season)]
                       if train_weeks >= 2 * season else [])
    terms = 4 if train_weeks >= 2 * season else 2 if seasonal else 0
    models += [HoltWinters(seasonal=False), TrendRegression(terms=terms)]
    return {m.name: m for m in models}, base.name


def _folds(n: int, horizon: int, folds: int, season: int) -> tuple[int, int, list[str]]:
    """(folds, weeks in the shortest training window, warnings) for a series of ``n`` weeks:
    Holt-Winters when two seasons are left to learn from in at least 2 folds; else a seasonal
    naive baseline when a season and a week are; else a naive one; 0 folds when under
    ``MIN_TRAIN + horizon`` weeks."""
    need = min(2, folds)  # folds a model must be tested on
    hw = min(folds, (n - 2 * season) // horizon)
    if hw >= need:
        return hw, n - hw * horizon, []
    notes = [f"You have {n} full weeks of sales. Holt-Winters learns the yearly pattern from two "
             f"full years ({2 * season} weeks)" + (
                 f" and needs {2 * horizon} more weeks to be tested on" if n >= 2 * season else "")
             + ", so it is left out: the forecast uses models that need less history."]
    seasonal = min(folds, (n - season - 1) // horizon)
    if seasonal >= need:
        return seasonal, n - seasonal * horizon, notes
    short = min(folds, (n - MIN_TRAIN) // horizon)
    if short < 1:
        return 0, 0, notes
    notes.append("Less than a year of sales comes before the weeks the models are tested on, so "
                 "no model can learn your yearly pattern: the forecast follows the recent level "
                 "and trend, and will miss a seasonal peak or dip (such as December).")
    return short, n - short * horizon, notes


@dataclass(frozen=True)
class ForecastResult:
    """The sales forecast: the backtest ``comparison``, the ``chosen`` model's weekly
    ``forecast`` with 80% and 95% ranges, the weekly ``history`` it learned from, and the reading."""

    supported: bool
    reason: str
    comparison: pd.DataFrame
    chosen: str
    forecast: pd.DataFrame
    history: pd.Series
    reading: str
    warnings: list[str] = field(default_factory=list)
    headline: dict = field(default_factory=dict)


def forecast_sales(plan, *, horizon_weeks: int = 12, seed: int = 42) -> ForecastResult:
    """Weekly net sales for the ``horizon_weeks`` after the last full week before ``plan.as_of``,
    from the model that did best in a rolling backtest, if it beat the baseline rule."""
    if not plan.has("orders"):
        why = f"The sales forecast needs your orders table. {plan.why_missing('orders')}"
        return ForecastResult(False, why, pd.DataFrame(), "", pd.DataFrame(columns=BANDS),
                              pd.Series(dtype=float), why)
    weekly = weekly_revenue(plan.prepared("orders"), as_of=plan.as_of)
    return forecast_series(weekly, horizon_weeks=horizon_weeks, seed=seed, currency=plan.currency)


def forecast_series(weekly: pd.Series, *, horizon_weeks: int = 12, folds: int = 4,
                    season: int = SEASON, seed: int = 42, currency: str = "USD") -> ForecastResult:
    """``forecast_sales`` on a weekly series (index: Mondays), e.g. ``weekly_revenue(...)``."""
    n, h = len(weekly), horizon_weeks
    n_folds, train, notes = _folds(n, h, folds, season)
    if n_folds == 0:
        return _too_short(weekly, h, notes, currency)
    models, base = candidates(train, season=season)
    comp = backtest(weekly, horizon=h, folds=n_folds, season=season, models=models)
    scores = comp.set_index("model")
    comp["beats_baseline"] = (comp.mase < scores.mase[base]) & (comp.model != base)
    best = comp[comp.model != base].sort_values("mase").iloc[0]
    chosen = best.model if best.mase < scores.mase[base] else base
    model = models[chosen].fit(weekly)
    bands = model.predict(h).clip(lower=0.0)
    totals = model.sample_paths(h, paths=1000, seed=seed).clip(min=0.0).sum(axis=1)
    if chosen != base and scores.coverage_80[chosen] < 0.65:
        notes.append(f"In the backtest only {scores.coverage_80[chosen]:.0%} of actual weeks fell "
                     "inside the model's 80% range: expect the real spread to be wider than shown.")
    last_year = float(weekly.iloc[n - season:n - season + h].sum()) if n >= season >= h else None
    total = float(bands.forecast.sum())
    numbers = {"weeks_of_history": n, "horizon_weeks": h, "folds": n_folds,
               "first_week": bands.index[0], "last_week": bands.index[-1],
               "forecast_total": total, "forecast_low_80": float(np.quantile(totals, 0.1)),
               "forecast_high_80": float(np.quantile(totals, 0.9)),
               "same_weeks_last_year": last_year,
               "change_vs_last_year": total / last_year - 1 if last_year else None,
               "model": chosen, "baseline": base, "best_other": best.model,
               "mase_model": float(scores.mase[chosen]), "mase_baseline": float(scores.mase[base]),
               "mase_best_other": float(best.mase), "mape_model": float(scores.mape[chosen]),
               "coverage_80": float(scores.coverage_80[chosen])}
    numbers["improvement_vs_baseline"] = 1 - numbers["mase_best_other"] / numbers["mase_baseline"]
    words = {"model": models[chosen].short, "best": models[best.model].short,
             "base": models[base].short, "rule": models[base].rule}
    reading = _reading(numbers, words, currency)
    headline = {k: (v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else v)
                for k, v in numbers.items()}
    return ForecastResult(True, "", comp, chosen, bands.rename_axis("week").reset_index(), weekly,
                          reading, notes, headline)


def _too_short(weekly: pd.Series, h: int, notes: list[str], currency: str) -> ForecastResult:
    n = len(weekly)
    reason = (f"Only {n} full weeks of sales: testing a forecast needs at least {MIN_TRAIN + h} "
              f"({MIN_TRAIN} to learn from and {h} to check it against).")
    if n < 3:
        return ForecastResult(False, reason, pd.DataFrame(), "", pd.DataFrame(columns=BANDS),
                              weekly, reason, notes)
    model = Naive().fit(weekly)
    bands = model.predict(h).clip(lower=0.0)
    total = float(bands.forecast.sum())
    reading = (f"{reason} Until then, the rough guide is last week's sales repeated: about "
               f"{money(total, currency)} over the next {h} weeks, untested, so plan with a wide "
               "margin either way.")
    return ForecastResult(False, reason, pd.DataFrame(), model.name,
                          bands.rename_axis("week").reset_index(), weekly, reading, notes,
                          {"weeks_of_history": n, "horizon_weeks": h, "forecast_total": total,
                           "model": model.name})


def _reading(n: dict, words: dict, currency: str) -> str:
    text = [f"The {n['horizon_weeks']} weeks from Monday {n['first_week']:%d %b %Y} should bring "
            f"about {money(n['forecast_total'], currency)} in net sales (80% range "
            f"{money(n['forecast_low_80'], currency)} to {money(n['forecast_high_80'], currency)})"]
    if n["change_vs_last_year"] is not None:
        more = "more" if n["change_vs_last_year"] >= 0 else "less"
        text[-1] += (f", {abs(n['change_vs_last_year']):.0%} {more} than the same weeks last year "
                     f"({money(n['same_weeks_last_year'], currency)}).")
    else:
        text[-1] += "."
    test = f"a {n['folds']}-fold backtest on your past weeks"
    if n["model"] != n["baseline"]:
        text.append(f"{cap(words['model'])} beat the {words['base']} rule ({words['rule']}) by "
                    f"{n['improvement_vs_baseline']:.0%} on MASE (the average weekly error, "
                    f"scaled) in {test}; its weekly forecasts were off by {n['mape_model']:.0%} "
                    "on average (MAPE).")
    else:
        text.append(f"No model beat the simple {words['base']} rule in {test}: the best, "
                    f"{words['best']}, was {-n['improvement_vs_baseline']:.0%} worse on MASE. So "
                    f"the forecast is that rule, {words['rule']}; it was off by "
                    f"{n['mape_model']:.0%} a week on average (MAPE).")
    return " ".join(text)


def forecast_data(result: ForecastResult) -> pd.DataFrame:
    """What ``plot_forecast`` draws: week, actual (the last two years of history), forecast and
    its 80% and 95% ranges (blank on past weeks)."""
    past = result.history.iloc[-2 * SEASON:].rename("actual").rename_axis("week").reset_index()
    return pd.concat([past, result.forecast], ignore_index=True)[["week", "actual", *BANDS]]


def plot_forecast(result: ForecastResult, *, currency: str, ax=None):
    """Weekly net sales: the history, the forecast and its 80% / 95% ranges."""
    data = forecast_data(result)
    ax = plots.axes(ax)
    ax.plot(data.week, data.actual, color=plots.MUTED, label="actual")
    ahead = data.dropna(subset=["forecast"])
    ax.fill_between(ahead.week, ahead.lower_95, ahead.upper_95, color=plots.ACCENT, alpha=0.12,
                    label="95% range")
    ax.fill_between(ahead.week, ahead.lower_80, ahead.upper_80, color=plots.ACCENT, alpha=0.25,
                    label="80% range")
    ax.plot(ahead.week, ahead.forecast, color=plots.ACCENT, label="forecast")
    ax.legend(frameon=False, loc="upper left")
    total, change = result.headline.get("forecast_total"), result.headline.get("change_vs_last_year")
    title = f"The next {len(ahead)} weeks should bring about {money(total or 0, currency)}"
    if change is not None:
        title += f" ({change:+.0%} on last year)"
    ax.set(title=title, xlabel="Week (Monday to Sunday)", ylabel=f"Net sales per week ({currency})")
    return plots.money_axis(ax, currency)
