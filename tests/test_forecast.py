"""Step 06 sales forecast: weekly sums, scores and the backtest by hand, the short-history paths,
and the three sample businesses against the demand their generators planted (truth.json)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers import forecast as fc
from helpers import forecasters as fm
from helpers.plan import open_plan
from tests.conftest import ROOT, write_business

HW, SNAIVE = "Holt-Winters (trend + yearly season)", "seasonal naive (same week last year)"


def orders(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "revenue"])
    return frame.astype({"order_date": "datetime64[ns]", "revenue": float})


def weekly(values, start="2024-01-01") -> pd.Series:
    return pd.Series(np.asarray(values, float),
                     index=pd.date_range(start, periods=len(values), freq="W-MON", name="week"))


# ---- weekly sums, holiday weeks, scores ------------------------------------------------------------
def test_weekly_revenue_keeps_full_monday_to_sunday_weeks_only():
    data = orders([
        ("1", "A", "2025-05-28", 99.0),  # a Wednesday: its week is partial, dropped
        ("2", "A", "2025-06-02 09:00", 10.0),  # Monday 2 June: first full week
        ("3", "B", "2025-06-08 23:59", 5.0),  # Sunday, same week
        ("4", "B", "2025-06-10", -3.0),  # a refund counts against its week
        ("5", "C", "2025-06-25", 20.0),  # week of 23 June (the week of 16 June had no sales)
        ("6", "C", "2025-06-30", 50.0),  # the as_of week (a Monday, partial): dropped
    ])
    got = fc.weekly_revenue(data, as_of="2025-06-30")
    assert list(got.index.strftime("%Y-%m-%d")) == ["2025-06-02", "2025-06-09", "2025-06-16",
                                                    "2025-06-23"]
    assert got.tolist() == [15.0, -3.0, 0.0, 20.0]
    # net_revenue (step 04) wins over revenue; a Sunday as_of keeps its own week
    data["net_revenue"] = data.revenue / 2
    got = fc.weekly_revenue(data, as_of="2025-06-29")
    assert got.index[-1] == pd.Timestamp("2025-06-23") and got.iloc[-1] == 10.0


def test_holiday_weeks_find_black_friday_and_christmas():
    weeks = pd.date_range("2025-11-17", "2025-12-29", freq="W-MON")
    flags = fm.holiday_weeks(weeks)
    # 2025: Thanksgiving Thursday 27 Nov, Black Friday 28 Nov; Christmas on a Thursday
    assert flags.index[flags.black_friday == 1].tolist() == [pd.Timestamp("2025-11-24")]
    assert flags.index[flags.christmas == 1].tolist() == [pd.Timestamp("2025-12-22")]
    assert flags.index[flags.pre_christmas == 1].tolist() == [pd.Timestamp("2025-12-15")]


def test_mape_and_mase_by_hand():
    train = [10, 12, 14, 16]
    # season 2: in-sample seasonal-naive errors |14-10|, |16-12| -> scale 4; errors 2 and 0
    assert fc.mase([20, 18], [18, 18], train, season=2) == pytest.approx(1 / 4)
    assert fc.mape([20, 18], [18, 18]) == pytest.approx((2 / 20 + 0) / 2)
    # a training window no longer than the season is scaled by the naive (lag 1) errors: 2
    assert fc.mase([20, 18], [18, 18], train, season=4) == pytest.approx(1 / 2)
    assert fc.mape([0, 10], [5, 12]) == pytest.approx(0.2)  # weeks without sales are left out


def test_backtest_of_seasonal_naive_by_hand():
    y = weekly([10, 20, 12, 22, 14, 24, 15, 27])
    got = fc.backtest(y, horizon=2, folds=2, season=2,
                      models={"sn": fm.SeasonalNaive(season=2)}).iloc[0]
    # fold 1: train 10 20 12 22, forecast 12 22 for 14 24; fold 2: forecast 14 24 for 15 27
    mase1 = np.mean([2, 2]) / np.mean([2, 2])
    mase2 = np.mean([1, 3]) / np.mean([2, 2, 2, 2])
    mape1, mape2 = np.mean([2 / 14, 2 / 24]), np.mean([1 / 15, 3 / 27])
    assert got.folds == 2
    assert got.mase == pytest.approx((mase1 + mase2) / 2)
    assert got.mase_sd == pytest.approx(np.std([mase1, mase2], ddof=1))
    assert got.mape == pytest.approx((mape1 + mape2) / 2)


def test_seasonal_naive_ranges_use_the_past_seasonal_differences():
    y = weekly([10, 20, 12, 23, 15, 24])
    bands = fm.SeasonalNaive(season=2).fit(y).predict(3)
    sd = np.std([2, 3, 3, 1], ddof=1)  # the seasonal differences 12-10, 23-20, 15-12, 24-23
    assert bands.forecast.tolist() == [15, 24, 15]
    assert bands.upper_80.tolist() == pytest.approx([15 + fm.Z[80] * sd, 24 + fm.Z[80] * sd,
                                                     15 + fm.Z[80] * sd * np.sqrt(2)])
    assert fm.Z[80] == pytest.approx(1.2816, abs=1e-4) and fm.Z[95] == pytest.approx(1.96, 1e-3)


# ---- short and awkward histories ------------------------------------------------------------------
def noisy(n: int, *, seed: int = 1, level: float = 1000.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return weekly(level + 3 * t + 150 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 60, n))


def test_sixty_weeks_take_the_non_seasonal_path_and_say_so():
    result = fc.forecast_series(noisy(60), currency="EUR")
    assert result.supported
    assert "Holt-Winters (trend + yearly season)" not in set(result.comparison.model)
    assert result.headline["baseline"] == "naive (same as last week)"
    assert result.headline["folds"] == 2  # 60 weeks: 26 to learn from, then two 12-week tests
    assert "You have 60 full weeks of sales" in result.warnings[0]
    assert "two full years (104 weeks)" in result.warnings[0]
    assert "no model can learn your yearly pattern" in result.warnings[1]
    assert len(result.forecast) == 12 and (result.forecast.lower_80 >= 0).all()
    assert "€" in result.reading


def test_too_few_weeks_fall_back_to_the_naive_rule():
    result = fc.forecast_series(noisy(20))
    assert not result.supported
    assert result.reason.startswith("Only 20 full weeks of sales: testing a forecast needs at "
                                    "least 38")
    assert result.forecast.forecast.tolist() == [pytest.approx(noisy(20).iloc[-1])] * 12


def test_the_baseline_is_the_forecast_when_no_model_beats_it():
    rng = np.random.default_rng(7)
    pattern = rng.uniform(500, 1500, 52)  # a jagged yearly pattern no smooth model can follow
    y = weekly(np.tile(pattern, 2)[:103] + rng.normal(0, 5, 103))
    result = fc.forecast_series(y)
    assert result.chosen == SNAIVE
    assert not result.comparison.beats_baseline.any()
    assert result.reading.split(". ")[1].startswith("No model beat the simple seasonal naive rule")
    assert result.forecast.forecast.to_numpy() == pytest.approx(y.iloc[51:63].to_numpy())


# ---- the sample businesses ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return {name: fc.forecast_sales(open_plan(name, run_dir=tmp_path_factory.mktemp(name)))
            for name in ("harbor_coffee", "bloom_yoga", "summit_outdoor")}


def test_harbor_holt_winters_beats_seasonal_naive_and_sees_december(results):
    r = results["harbor_coffee"]
    comp = r.comparison.set_index("model")
    assert r.headline["weeks_of_history"] == 156 and r.headline["folds"] == 4
    assert comp.mase[HW] < 0.8 * comp.mase[SNAIVE]
    assert r.chosen in (HW, "regression (trend + yearly shape (4 terms) + holiday weeks)")
    assert comp.mase[r.chosen] == comp.mase.min()
    # truth: revenue grew 24 % in the last year (27 % the year before), and December demand
    # is 1.49 / 1.03 times October's; the damped trend forecasts less growth than that
    demand = json.loads((ROOT / "sample_data/harbor_coffee/truth.json").read_text())["demand"]
    by_year = list(demand["realised_revenue_by_year"].values())
    assert 0.05 < r.headline["change_vs_last_year"] < by_year[-1] / by_year[-2] - 1 + 0.05
    f = r.forecast.set_index("week").forecast
    months = demand["monthly_multipliers_jan_to_dec"]
    assert f[f.index.month == 12].mean() / f[f.index.month == 10].mean() == pytest.approx(
        months[11] / months[9], rel=0.15)
    f = r.forecast
    assert ((f.lower_95 <= f.lower_80) & (f.lower_80 <= f.forecast) & (f.forecast <= f.upper_80)
            & (f.upper_80 <= f.upper_95)).all()
    h = r.headline
    assert h["forecast_low_80"] < h["forecast_total"] < h["forecast_high_80"]
    assert f"about ${h['forecast_total']:,.0f} in net sales" in r.reading
    assert "beat the seasonal naive rule" in r.reading and "4-fold backtest" in r.reading


@pytest.mark.parametrize("name", ["bloom_yoga", "summit_outdoor"])
def test_two_year_samples_have_one_week_too_few_for_holt_winters(results, name):
    r = results[name]
    assert r.supported and r.headline["weeks_of_history"] == 103
    assert HW not in set(r.comparison.model)
    assert r.warnings[0].startswith("You have 103 full weeks of sales. Holt-Winters learns")
    assert r.headline["baseline"] == SNAIVE
    comp = r.comparison.set_index("model")
    assert comp.mase[r.chosen] <= comp.mase[SNAIVE]


def test_forecast_chart_draws_the_last_two_years_and_the_forecast(results):
    r = results["summit_outdoor"]
    data = fc.forecast_data(r)
    assert len(data) == 103 + 12 and data.forecast.notna().sum() == 12
    assert data.actual.sum() == pytest.approx(r.history.sum())
    ax = fc.plot_forecast(r, currency="CAD")
    assert ax.get_title().startswith(f"The next 12 weeks should bring about C$"
                                     f"{r.headline['forecast_total']:,.0f}")
    assert ax.get_ylabel() == "Net sales per week (CAD)"


def test_without_orders_the_forecast_says_what_to_add(tmp_path):
    folder = write_business(tmp_path / "s", data={"customers": "data/customers.csv"},
                            files={"data/customers.csv": "customer_id\nC1\n"})
    r = fc.forecast_sales(open_plan(folder, run_dir=tmp_path / "r"))
    assert not r.supported and r.reason.startswith("The sales forecast needs your orders table. ")
    assert r.forecast.empty and list(r.forecast.columns) == fc.BANDS


def test_headline_is_plain_json(results):
    for r in results.values():
        json.dumps(r.headline)
