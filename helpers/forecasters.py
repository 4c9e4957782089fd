"""Weekly sales forecasters, each ``fit(y) -> self``, ``predict(horizon)`` (a table of the
forecast and its 80% and 95% ranges, indexed by the coming Mondays) and ``sample_paths(...)``
(simulated futures, for the range of a total).

The rules: naive ("same as last week") and seasonal naive ("same week last year"). The models:
Holt-Winters (statsmodels ETSModel, damped trend and a 52-week season, which needs two full
years), Holt (no season) and an OLS regression on a trend, yearly Fourier terms and holiday weeks.
Prediction intervals are each model's own: ETSModel's analytic ones, OLS prediction intervals, and
for the naive rules their past residual spread (Hyndman & Athanasopoulos, FPP3 5.5).
``helpers.forecast`` tests them against each other and picks one.
"""

from __future__ import annotations

import warnings
from statistics import NormalDist

import numpy as np
import pandas as pd

from helpers.explore import DAY

SEASON = 52
WEEK = pd.Timedelta(days=7)
Z = {level: NormalDist().inv_cdf(0.5 + level / 200) for level in (80, 95)}
BANDS = ["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
HOLIDAYS = ("black_friday", "pre_christmas", "christmas")


def holiday_weeks(weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """0/1 per Monday-start week: the week of Black Friday (the day after the fourth Thursday of
    November), the week before Christmas week, and the week holding 25 December."""
    weeks = pd.DatetimeIndex(weeks)
    nov1 = pd.to_datetime({"year": weeks.year, "month": 11, "day": 1})
    friday = nov1 + pd.to_timedelta((3 - nov1.dt.day_of_week) % 7 + 22, "D")
    xmas = pd.to_datetime({"year": weeks.year, "month": 12, "day": 25})
    inside = lambda day: ((day >= weeks) & (day <= weeks + 6 * DAY)).astype(float)  # noqa: E731
    return pd.DataFrame({"black_friday": inside(friday.to_numpy()),
                         "pre_christmas": inside((xmas - WEEK).to_numpy()),
                         "christmas": inside(xmas.to_numpy())}, index=weeks)


# ---- models: fit(y) -> self, predict(horizon) -> table of bands, sample_paths(...) -> array ------
class _Forecaster:
    name = ""

    def _weeks(self, horizon: int) -> pd.DatetimeIndex:
        return pd.date_range(self.y_.index[-1] + WEEK, periods=horizon, freq="W-MON", name="week")

    def _summary(self, pred, lower: str, upper: str) -> pd.DataFrame:
        """The bands from a statsmodels prediction's 80% and 95% summary frames."""
        f80, f95 = pred.summary_frame(alpha=0.2), pred.summary_frame(alpha=0.05)
        cols = [f80["mean"], f80[lower], f80[upper], f95[lower], f95[upper]]
        return pd.DataFrame(dict(zip(BANDS, (c.to_numpy() for c in cols), strict=True)),
                            index=self._weeks(len(f80)))

    def _normal(self, mean, sd) -> pd.DataFrame:
        mean, sd = np.asarray(mean, float), np.asarray(sd, float)
        return pd.DataFrame({"forecast": mean, "lower_80": mean - Z[80] * sd,
                             "upper_80": mean + Z[80] * sd, "lower_95": mean - Z[95] * sd,
                             "upper_95": mean + Z[95] * sd}, index=self._weeks(len(mean)))


class Naive(_Forecaster):
    """Every coming week equals the last one; its spread grows as a random walk (sd * sqrt(h))."""

    name, short = "naive (same as last week)", "naive"
    rule = "every week the same as the last full week"

    def fit(self, y: pd.Series):
        self.y_, self.sigma_ = y, float(np.std(np.diff(y.to_numpy()), ddof=1))
        return self

    def predict(self, horizon: int) -> pd.DataFrame:
        h = np.arange(1, horizon + 1)
        return self._normal(np.full(horizon, self.y_.iloc[-1]), self.sigma_ * np.sqrt(h))

    def sample_paths(self, horizon: int, *, paths: int, seed: int) -> np.ndarray:
        steps = np.random.default_rng(seed).normal(0, self.sigma_, (paths, horizon))
        return self.y_.iloc[-1] + steps.cumsum(axis=1)


class SeasonalNaive(_Forecaster):
    """Every coming week equals the same week a season (52 weeks) earlier."""

    name, short = "seasonal naive (same week last year)", "seasonal naive"
    rule = "each week the same as that week last year"

    def __init__(self, *, season: int = SEASON):
        self.season = season

    def fit(self, y: pd.Series):
        v = y.to_numpy(dtype=float)
        self.y_, self.sigma_ = y, float(np.std(v[self.season:] - v[:-self.season], ddof=1))
        return self

    def predict(self, horizon: int) -> pd.DataFrame:
        h = np.arange(horizon)
        v = self.y_.to_numpy(dtype=float)
        mean = v[len(v) - self.season + h % self.season]
        return self._normal(mean, self.sigma_ * np.sqrt(h // self.season + 1))

    def sample_paths(self, horizon: int, *, paths: int, seed: int) -> np.ndarray:
        bands = self.predict(horizon)
        sd = (bands.upper_80 - bands.forecast).to_numpy() / Z[80]
        return bands.forecast.to_numpy() + np.random.default_rng(seed).normal(0, 1, (paths, horizon)) * sd


class HoltWinters(_Forecaster):
    """Exponential smoothing (statsmodels ETSModel): additive errors and damped trend, plus an
    additive ``season``-week pattern when ``seasonal`` (started by the heuristic of Hyndman et al.,
    which needs two full seasons). Fitted on the log of sales when every week has sales (``log_``),
    so the season and the growth act in proportion to the level, as sales usually do; the
    forecast is then the median week and the ranges are the model's own, taken back from logs."""

    def __init__(self, *, seasonal: bool = True, season: int = SEASON):
        self.seasonal, self.season = seasonal, season

    @property
    def name(self) -> str:
        return "Holt-Winters (trend + yearly season)" if self.seasonal else "Holt (trend, no season)"

    @property
    def short(self) -> str:
        return "Holt-Winters" if self.seasonal else "Holt's trend model"

    def fit(self, y: pd.Series):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        kw = ({"seasonal": "add", "seasonal_periods": self.season,
               "initialization_method": "heuristic"} if self.seasonal
              else {"initialization_method": "estimated"})
        self.log_ = bool((y > 0).all())
        v = np.log(y.to_numpy(dtype=float)) if self.log_ else y.to_numpy(dtype=float)
        model = ETSModel(pd.Series(v), error="add", trend="add", damped_trend=True, **kw)
        with warnings.catch_warnings():  # optimiser chatter: the backtest judges the fit instead
            warnings.simplefilter("ignore")
            self.result_ = model.fit(disp=False)
        self.y_ = y
        return self

    def predict(self, horizon: int) -> pd.DataFrame:
        n = len(self.y_)
        out = self._summary(self.result_.get_prediction(start=n, end=n + horizon - 1),
                            "pi_lower", "pi_upper")
        return np.exp(out) if self.log_ else out

    def sample_paths(self, horizon: int, *, paths: int, seed: int) -> np.ndarray:
        sims = self.result_.simulate(horizon, anchor="end", repetitions=paths,
                                     rng=np.random.default_rng(seed))
        paths = np.asarray(sims, float).reshape(horizon, paths).T
        return np.exp(paths) if self.log_ else paths


class TrendRegression(_Forecaster):
    """OLS (statsmodels) on a straight trend, ``terms`` pairs of yearly Fourier terms (by day of
    the year, so they follow the calendar) and 0/1 holiday weeks seen at least once in training."""

    short = "the regression"

    def __init__(self, *, terms: int = 4, holidays: bool = True):
        self.terms, self.holidays = terms, holidays

    @property
    def name(self) -> str:
        shape = f" + yearly shape ({self.terms} terms)" if self.terms else ""
        return f"regression (trend{shape}{' + holiday weeks' if self.holidays else ''})"

    def _design(self, weeks: pd.DatetimeIndex) -> pd.DataFrame:
        x = pd.DataFrame({"const": 1.0, "trend": (weeks - self.start_).days / 7.0}, index=weeks)
        phase = 2 * np.pi * (weeks + 3 * DAY).day_of_year.to_numpy() / 365.25  # mid-week, Thursday
        for k in range(1, self.terms + 1):
            x[f"sin{k}"], x[f"cos{k}"] = np.sin(k * phase), np.cos(k * phase)
        return x.join(holiday_weeks(weeks)) if self.holidays else x

    def fit(self, y: pd.Series):
        import statsmodels.api as sm

        self.y_, self.start_ = y, y.index[0]
        x = self._design(y.index)
        self.columns_ = [c for c in x if c not in HOLIDAYS or x[c].any()]
        self.result_ = sm.OLS(y.to_numpy(dtype=float), x[self.columns_].to_numpy()).fit()
        return self

    def predict(self, horizon: int) -> pd.DataFrame:
        x = self._design(self._weeks(horizon))[self.columns_].to_numpy()
        return self._summary(self.result_.get_prediction(x), "obs_ci_lower", "obs_ci_upper")

    def sample_paths(self, horizon: int, *, paths: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        x = self._design(self._weeks(horizon))[self.columns_].to_numpy()
        beta = rng.multivariate_normal(self.result_.params, self.result_.cov_params(), paths)
        return beta @ x.T + rng.normal(0, np.sqrt(self.result_.scale), (paths, horizon))
