"""Step 01: KPI baselines against direct pandas sums, feasibility verdicts, SMART rows, the record."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers import kpis
from helpers import objectives as ob
from helpers.io import to_json_text
from helpers.params import OBJECTIVE_TYPES
from helpers.plan import open_plan
from helpers.schemas import TABLES
from tests.conftest import write_business

AS_OF = pd.Timestamp("2025-06-30")  # as in conftest.write_business
DAY = pd.Timedelta(days=1)


def _orders(start="2023-05-01", end="2025-07-20", seed=3) -> pd.DataFrame:
    """Random orders from ``start`` to a few weeks after AS_OF (which must be left out)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, end)
    n = rng.poisson(4, len(days))
    dates = np.repeat(days, n)
    return pd.DataFrame({
        "order_id": [f"O{i}" for i in range(len(dates))],
        "customer_id": [f"C{c}" for c in rng.integers(0, 400, len(dates))],
        "order_date": dates.strftime("%Y-%m-%d"),
        "revenue": rng.gamma(2.0, 20.0, len(dates)).round(2),
    })


def _business(tmp_path, orders: pd.DataFrame, objectives: str = "", files=None, data=None):
    files = {"data/orders.csv": orders.to_csv(index=False), **(files or {})}
    data = {"orders": "data/orders.csv", **(data or {})}
    folder = write_business(tmp_path / "shop", data=data, files=files, extra_yaml=objectives)
    return open_plan(folder, run_dir=tmp_path / "run")


def _within(frame, start, end):
    dates = pd.to_datetime(frame["order_date"])
    return frame[(dates >= start) & (dates <= end)]


@pytest.fixture
def orders():
    return _orders()


@pytest.fixture
def plan(tmp_path, orders):
    return _business(tmp_path, orders, objectives=(
        "objectives:\n"
        "  - type: grow_sales\n    target_change: 0.10\n    deadline: 2026-03-31\n"
        "  - type: leads\n    target_change: 0.20\n    deadline: 2026-03-31\n"
        "  - type: reach\n    kpi: revnue\n"))


# ---- the catalogue ---------------------------------------------------------------------------
def test_catalogue_names_real_tables_columns_and_objective_types():
    cat = kpis.kpi_catalogue()
    required = {"name", "description", "objectives", "table", "unit", "direction", "kind",
                "numerator"}
    assert set(cat["defaults"]) == set(OBJECTIVE_TYPES)
    for kpi, spec in cat["kpis"].items():
        assert required <= set(spec), kpi
        assert spec["unit"] in ("money", "count", "rate") and spec["direction"] in ("up", "down")
        assert (spec["kind"] == "rate") == ("denominator" in spec), kpi
        for part in filter(None, (spec["numerator"], spec.get("denominator"))):
            col = part.partition(":")[2]
            assert not col or col in TABLES[spec["table"]].columns, (kpi, col)
    for objective_type, ids in cat["defaults"].items():
        assert all(objective_type in cat["kpis"][k]["objectives"] for k in ids), objective_type


def test_default_kpi_falls_back_to_what_the_business_has(plan):
    assert kpis.default_kpi(plan, "grow_sales") == "revenue"
    assert kpis.default_kpi(plan, "reach") == "new_customers"  # no web sessions, no social posts
    assert kpis.default_kpi(plan, "engagement") == "email_click_rate"  # none measurable: first one
    assert [k for _, k in kpis.kpi_options(plan, "retention")] == ["repeat_rate", "active_customers"]


# ---- baselines -------------------------------------------------------------------------------
def test_revenue_baselines_are_sums_over_the_exact_windows(plan, orders):
    base = kpis.baselines(plan, ["revenue", "orders"]).set_index("kpi")
    last_12m = _within(orders, "2024-07-01", AS_OF)
    prior_12m = _within(orders, "2023-07-01", "2024-06-30")
    assert base.loc["revenue", "last_12m"] == pytest.approx(last_12m["revenue"].sum())
    assert base.loc["revenue", "prior_12m"] == pytest.approx(prior_12m["revenue"].sum())
    assert base.loc["revenue", "last_90d"] == pytest.approx(
        _within(orders, AS_OF - 89 * DAY, AS_OF)["revenue"].sum())
    assert base.loc["revenue", "prior_90d"] == pytest.approx(
        _within(orders, AS_OF - 179 * DAY, AS_OF - 90 * DAY)["revenue"].sum())
    assert base.loc["orders", "last_12m"] == len(last_12m)
    assert base.loc["revenue", "change_12m"] == pytest.approx(
        last_12m["revenue"].sum() / prior_12m["revenue"].sum() - 1)


def test_repeat_rate_is_the_share_of_buyers_who_had_bought_before(plan, orders):
    base = kpis.baselines(plan, ["repeat_rate", "average_order_value"]).set_index("kpi")
    buyers = set(_within(orders, "2024-07-01", AS_OF)["customer_id"])
    before = set(_within(orders, "2023-07-01", "2024-06-30")["customer_id"])  # 12 months back
    assert base.loc["repeat_rate", "last_12m"] == pytest.approx(len(buyers & before) / len(buyers))
    day = pd.Timestamp("2025-03-14")
    today = set(_within(orders, day, day)["customer_id"])
    recent = set(_within(orders, "2024-03-14", day - DAY)["customer_id"])
    daily = kpis.kpi_daily(plan, "repeat_rate").loc[day]
    assert (daily["numerator"], daily["denominator"]) == (len(today & recent), len(today))
    window = _within(orders, "2024-07-01", AS_OF)
    assert base.loc["average_order_value", "last_12m"] == pytest.approx(
        window["revenue"].sum() / len(window))


def test_short_history_gives_nan_and_a_warning_not_an_error(tmp_path):
    plan = _business(tmp_path, _orders(start="2024-01-01"))  # 18 months to AS_OF
    base = kpis.baselines(plan, ["revenue", "repeat_rate"]).set_index("kpi")
    assert base.loc["revenue", "months_of_history"] == 18
    assert base.loc["revenue", "last_12m"] > 0 and np.isnan(base.loc["revenue", "prior_12m"])
    assert "cannot be compared with the 12 before yet (that needs 24)" in \
        base.loc["revenue", "note"]
    # returning customers are those who bought in the 12 months before: 6 usable months
    assert np.isnan(base.loc["repeat_rate", "last_12m"])
    assert "tell new buyers from returning ones" in base.loc["repeat_rate", "note"]


def test_rates_are_ratios_of_sums_not_means_of_daily_rates(tmp_path, orders):
    sends = ([("2025-06-01 09:00", "2025-06-01 10:00")] * 10 + [("2025-06-01 09:00", "")] * 90
             + [("2025-06-02 09:00", "2025-06-02 09:30")]  # day 1: 10/100 clicked, day 2: 1/1
             + [("2025-03-15 09:00", "")])  # before the 90 days; gives the 3 months of history
    events = pd.DataFrame(sends, columns=["sent_at", "clicked_at"]).assign(
        campaign_id="E1", customer_id=[f"C{i}" for i in range(len(sends))])
    plan = _business(tmp_path, orders, files={"data/email.csv": events.to_csv(index=False)},
                     data={"email_events": "data/email.csv"})
    base = kpis.baselines(plan, ["email_click_rate"]).iloc[0]
    assert base["last_90d"] == pytest.approx(11 / 101)
    daily = kpis.kpi_daily(plan, "email_click_rate").loc[AS_OF - 89 * DAY:]
    assert daily["numerator"].sum() / daily["denominator"].sum() == pytest.approx(11 / 101)
    assert daily["value"].mean() != pytest.approx(11 / 101)  # the wrong way gives (0.1 + 1) / 2


# ---- feasibility -----------------------------------------------------------------------------
def test_steady_one_percent_growth_never_reached_thirty_percent_in_six_months():
    series = pd.Series(100 * 1.01 ** np.arange(36))
    f = kpis.feasibility(series, required_change=0.30, horizon_months=6)
    assert f.verdict == "never achieved"
    assert f.past_best == pytest.approx(1.01**6 - 1, abs=1e-9)
    assert f.windows == 36 - 11 - 6
    assert "+30.0%" in f.text and "+6.2%" in f.text


def test_small_target_on_a_noisy_series_is_within_normal_variation():
    series = pd.Series(np.random.default_rng(0).normal(100, 20, 36))
    f = kpis.feasibility(series, required_change=0.02, horizon_months=6)
    assert f.verdict == "within normal variation"
    assert f.noise > 0.02 and f.volatility > 0.1


def test_realistic_and_ambitious_verdicts_follow_the_median_and_the_best():
    growth = np.r_[np.full(24, 1.01), np.full(12, 1.02)]  # growth speeds up in the last year
    series = pd.Series(100 * np.cumprod(growth))
    realistic = kpis.feasibility(series, required_change=0.05, horizon_months=6)
    ambitious = kpis.feasibility(series, required_change=0.11, horizon_months=6)
    assert realistic.verdict == "realistic" and 0.05 <= realistic.past_median
    assert ambitious.verdict == "ambitious"
    assert ambitious.past_median < 0.11 <= ambitious.past_best


def test_less_than_a_year_of_history_is_not_enough():
    f = kpis.feasibility(pd.Series(np.arange(10.0) + 1), required_change=0.1, horizon_months=6)
    assert f.verdict == "not enough history" and "Only 10 months" in f.text


# ---- SMART targets ---------------------------------------------------------------------------
def test_smart_target_numbers(plan, orders):
    base = kpis.baselines(plan)
    row = ob.smart_targets(plan, base).set_index("objective").loc[1]
    revenue = _within(orders, "2024-07-01", AS_OF)["revenue"].sum()
    months = (pd.Timestamp("2026-03-31") - AS_OF).days / 30.4375
    assert row["kpi"] == "revenue" and row["status"] == "ok"
    assert row["baseline"] == pytest.approx(revenue)
    assert row["target"] == pytest.approx(revenue * 1.10)
    assert row["monthly_growth"] == pytest.approx(1.10 ** (1 / months) - 1)
    assert row["verdict"] in kpis.VERDICTS and row["time_bound"] and row["relevant"]
    # 3 of the 12 months to the deadline are known; the other 9 must bring the rest
    known = _within(orders, "2025-04-01", AS_OF)["revenue"].sum()
    a_year_earlier = _within(orders, "2024-07-01", "2025-03-31")["revenue"].sum()
    assert row["still_needed"] == pytest.approx(revenue * 1.10 - known)
    assert row["still_needed_change"] == pytest.approx((revenue * 1.10 - known) / a_year_earlier - 1)


def test_an_objective_without_its_data_says_which_data_would_enable_it(plan):
    targets = ob.smart_targets(plan, kpis.baselines(plan)).set_index("objective")
    leads = targets.loc[2]
    assert leads["status"] == "cannot measure" and not leads["measurable"]
    assert "there is no leads table" in leads["reason"]
    assert "add `leads: {path: data/leads.csv}` under `data:`" in leads["reason"]
    assert leads["measurable_why"] == leads["reason"]
    assert "cannot be measured: Leads is computed from the leads table" in \
        ob.what_this_means_targets(plan, targets.reset_index())
    typo = targets.loc[3]
    assert typo["status"] == "cannot measure" and "Did you mean 'revenue'?" in typo["reason"]


def test_no_objectives_still_gives_a_summary_that_says_what_to_add(tmp_path, orders):
    plan = _business(tmp_path, orders)
    base = kpis.baselines(plan)
    targets = ob.smart_targets(plan, base)
    assert targets.empty and list(targets.columns) == ob.TARGET_COLUMNS
    step = ob.step_summary(plan, base, targets)
    assert step["status"] == "skipped" and "no objectives" in step["reason"]
    assert "Add them under `objectives:`" in ob.what_this_means_objectives(
        ob.objectives_table(plan))


# ---- trajectory, readings, record ------------------------------------------------------------
def test_trajectory_runs_from_baseline_to_target_at_the_deadline(plan):
    target = ob.smart_targets(plan, kpis.baselines(plan)).iloc[0]
    data = ob.trajectory_data(plan, target)
    assert data.loc[AS_OF, "path"] == pytest.approx(target["baseline"])
    assert data.loc[pd.Timestamp("2026-03-31"), "path"] == pytest.approx(target["target"])
    assert data.loc[AS_OF, "history"] == pytest.approx(target["baseline"])
    ax = ob.plot_trajectory(plan, target, ax=plt.subplots()[1])  # (ax given: no theme, faster)
    assert ax.get_title() == ob.trajectory_title(plan, target)
    assert ax.get_title().startswith("Revenue over 12 months must grow")
    assert ax.get_title().endswith(f"{plan.money(target['target'])} by March 2026")


def test_readings_quote_this_business_numbers(plan):
    base = kpis.baselines(plan)
    text = ob.what_this_means_baselines(plan, base, kpis=["revenue"])
    row = base.set_index("kpi").loc["revenue"]
    assert plan.money(row["last_12m"]) in text and f"{row['change_12m']:+.1%}" in text
    targets = ob.smart_targets(plan, base)
    checkpoints = ob.what_this_means_trajectory(plan, targets)
    assert f"by {pd.Timestamp('2025-09-30'):%d %b %Y}" in checkpoints


def test_objectives_record_is_json_with_verdicts(plan):
    base = kpis.baselines(plan)
    targets = ob.smart_targets(plan, base)
    record = json.loads(to_json_text(ob.objectives_record(plan, base, targets)))
    first = record["objectives"][0]
    assert record["as_of"] == "2025-06-30" and first["deadline"] == "2026-03-31"
    assert first["feasibility"]["verdict"] == targets.iloc[0]["verdict"]
    assert set(first["smart"]) == set(ob.SMART)
    assert record["objectives"][1]["status"] == "cannot measure"
