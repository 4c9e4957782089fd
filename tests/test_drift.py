"""Step 08, what changed (helpers.anomalies, helpers.drift): PSI against hand computation; a
planted unusual day (one day's revenue x 5, a day of paid-search spend at zero) and a planted
drift (every order after the model's test discounted, every customer since then from a new
channel) in a copy of harbor_coffee, found on the right day and input and not on the clean
copy."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest

from helpers import anomalies as an
from helpers import drift as dr
from helpers import features as ft
from helpers.plan import SAMPLE_DIR, open_plan
from tests.conftest import write_business

HARBOR = SAMPLE_DIR / "harbor_coffee"
TABLES = ("orders", "customers", "marketing_spend", "campaigns")
TESTED = pd.Timestamp("2026-04-01")  # the model's validation cutoff in the copies
REVENUE_DAY, ZERO_DAY = "2026-08-19", "2026-09-16"  # a Wednesday, and a Wednesday


# ---- PSI by hand -------------------------------------------------------------------------------
def test_psi_of_numbers_equals_the_hand_computation():
    # bins=2 cuts 1..10 at its median 5.5: p = (0.5, 0.5); 1..8 gives q = (5/8, 3/8)
    expected = (0.625 - 0.5) * math.log(0.625 / 0.5) + (0.375 - 0.5) * math.log(0.375 / 0.5)
    assert dr.psi(list(range(1, 11)), list(range(1, 9)), bins=2) == pytest.approx(expected)
    assert expected == pytest.approx(0.125 * math.log(5 / 3))
    assert dr.psi(list(range(100)), list(range(100))) == 0.0


def test_psi_of_categories_gives_an_empty_bin_the_epsilon_share():
    eps = dr.EPSILON
    # a: 0.5 -> 0.75, b: 0.5 -> empty (eps), c: empty (eps) -> 0.25
    expected = ((0.75 - 0.5) * math.log(0.75 / 0.5) + (eps - 0.5) * math.log(eps / 0.5)
                + (0.25 - eps) * math.log(0.25 / eps))
    assert dr.psi(["a", "a", "b", "b"], ["a", "a", "a", "c"]) == pytest.approx(expected)
    assert expected == pytest.approx(6.31, abs=0.01)


def test_psi_counts_blanks_as_their_own_bin_and_is_nan_on_an_empty_side():
    # reference: half blank; current: no blank -> "missing" 0.5 -> eps, the numbers 0.5 -> 1
    value = dr.psi([1.0, np.nan, 2.0, np.nan], [1.0, 2.0, 1.0, 2.0], bins=1)
    eps = dr.EPSILON
    assert value == pytest.approx(0.5 * math.log(2) + (eps - 0.5) * math.log(eps / 0.5))
    assert math.isnan(dr.psi([], [1, 2]))


def test_psi_ignores_tiny_moves_of_a_value_most_people_share():
    # 30.0-30.5 day gaps (monthly renewals) next to a spread of 0-365 days: a 0.2-day move of
    # the renewals is no shift, though plain deciles would cut between 30.3 and 30.4
    rng = np.random.default_rng(1)
    spread = rng.uniform(0, 365, 500)
    renewals = rng.uniform(30.0, 30.3, 500)
    assert dr.psi(np.r_[spread, renewals], np.r_[spread, renewals + 0.2]) < 0.01


@pytest.mark.parametrize("value, band", [(0.0, "stable"), (0.099, "stable"),
                                         (0.1, "moderate shift"), (0.249, "moderate shift"),
                                         (0.25, "major shift"), (1.8, "major shift")])
def test_psi_bands(value, band):
    assert dr.band(value) == band


# ---- the copies of harbor_coffee -----------------------------------------------------------------
def _copy(folder, *, planted: bool):
    """harbor_coffee's orders, customers, spend and campaigns (the anomaly and drift plants in
    the copy's CSV files when ``planted``)."""
    extra = ("budget:\n  by_channel: {email: 370, paid_search: 1730, paid_social: 690, "
             "social: 320}\n")
    write_business(folder, data={t: f"data/{t}.csv" for t in TABLES}, extra_yaml=extra,
                   files={f"data/{t}.csv": HARBOR / "data" / f"{t}.csv" for t in TABLES})
    text = (folder / "business.yaml").read_text()
    (folder / "business.yaml").write_text(text.replace("as_of: 2025-06-30", "as_of: 2026-09-30"))
    if planted:
        orders = pd.read_csv(folder / "data/orders.csv", dtype=str, keep_default_na=False)
        revenue = pd.to_numeric(orders["revenue"])
        day = orders["order_date"].str.startswith(REVENUE_DAY) & (revenue > 0)
        orders.loc[day, "revenue"] = (revenue[day] * 5).map("{:.2f}".format)
        late = (pd.to_datetime(orders["order_date"], errors="coerce") >= TESTED) & (revenue > 0)
        orders.loc[late, "discount"] = (revenue[late] * 0.2).map("{:.2f}".format)
        orders.to_csv(folder / "data/orders.csv", index=False)
        customers = pd.read_csv(folder / "data/customers.csv", dtype=str, keep_default_na=False)
        new = pd.to_datetime(customers["signup_date"]) >= TESTED
        customers.loc[new, "acquisition_channel"] = "tiktok"
        customers.to_csv(folder / "data/customers.csv", index=False)
        spend = pd.read_csv(folder / "data/marketing_spend.csv", dtype=str, keep_default_na=False)
        zero = (spend["date"] == ZERO_DAY) & (spend["channel"] == "paid_search")
        spend.loc[zero, "spend"] = "0.00"
        spend.to_csv(folder / "data/marketing_spend.csv", index=False)
    return folder


def _save_model(plan, model, features: list[str]) -> None:
    plan.save("models/propensity.joblib", model)
    plan.save("models/propensity_card.json", {
        "name": "propensity", "features": features,
        "data_window": {"validation_cutoff": f"{TESTED:%Y-%m-%d}"}})


def _fit_model(plan):
    """A propensity model learned (as step 06 does) from features at a cutoff before TESTED."""
    from helpers import models

    orders, customers = plan.prepared("orders"), plan.prepared("customers")
    cutoff = TESTED - pd.Timedelta(days=90)
    X = ft.customer_features(orders, cutoff=cutoff, customers=customers)
    y = ft.purchase_labels(orders, cutoff=cutoff, horizon_days=90, index=X.index)
    cols = [c for c in ft.NUMERIC + ft.CATEGORICAL if c in X]
    Xm, numeric, categorical = ft.model_inputs(X[cols])
    return models.candidates(numeric, categorical)["logistic regression"].fit(Xm, y), cols


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    """(clean plan, planted plan), each with the same step-06 model saved in its run folder."""
    base = tmp_path_factory.mktemp("harbor")
    plans = [open_plan(_copy(base / name, planted=name == "planted"), run_dir=base / f"{name}_run")
             for name in ("clean", "planted")]
    model, cols = _fit_model(plans[0])
    for plan in plans:
        _save_model(plan, model, cols)
    return plans


@pytest.fixture(scope="module")
def found(copies):
    """anomalies and drift of both copies at 30 Sep 2026."""
    return {name: (an.anomalies(plan), dr.drift(plan))
            for name, plan in zip(("clean", "planted"), copies, strict=True)}


# ---- unusual days ------------------------------------------------------------------------------
def _hit(table: pd.DataFrame, day: str, metric_start: str) -> pd.DataFrame:
    same_day = table["date"] == pd.Timestamp(day)
    return table[same_day & table["metric"].str.startswith(metric_start)]


def test_planted_revenue_day_is_found_with_its_size_and_cause(found):
    table = found["planted"][0].table
    assert list(table.columns) == an.ANOMALY_COLUMNS
    hit = _hit(table, REVENUE_DAY, "revenue")
    assert len(hit) == 1
    row = hit.iloc[0]
    assert row["robust_z"] > 10
    # five times the day's revenue: about +400 % on what the week around it says
    assert row["change"] == pytest.approx(4.0, abs=0.6)
    assert "orders were larger than usual" in row["likely_cause"]
    assert _hit(found["clean"][0].table, REVENUE_DAY, "revenue").empty


def test_planted_zero_spend_day_is_found_as_a_tracking_gap(found):
    hit = _hit(found["planted"][0].table, ZERO_DAY, "spend (paid_search")
    assert set(hit["metric"]) == {"spend (paid_search, Search - Brand)",
                                  "spend (paid_search, Search - Coffee beans (generic))"}
    assert (hit["actual"] == 0).all() and (hit["change"] == -1).all()
    assert (hit["robust_z"] < -3.5).all()
    assert hit["likely_cause"].str.contains("tracking gap").all()
    assert _hit(found["clean"][0].table, ZERO_DAY, "spend").empty


def test_clean_copy_raises_few_false_alarms_and_says_what_it_left_out(found):
    result = found["clean"][0]
    assert result.supported
    # 6 series of 120 days at |z| > 3.5: one flag (clicks on 9 Sep 2026, +92 %)
    assert len(result.table) <= 2
    assert len(result.checked) == 6 and result.headline["days_checked"] == 120
    assert any("not checked day by day" in w for w in result.warnings)
    assert any("too few to judge a single day" in w for w in result.warnings)
    chart = an.anomaly_chart_data(found["planted"][0], "revenue")
    assert len(chart) == 120 and chart["flagged"].sum() == 1


def test_daily_orders_match_a_direct_sum_of_the_csv(copies):
    raw = pd.read_csv(HARBOR / "data/orders.csv")
    raw = raw[raw["order_date"].str.startswith("2026-09-15") & (raw["revenue"] >= 0)]
    day = an.daily_orders(copies[0]).loc["2026-09-15"]
    assert day["revenue"] == pytest.approx(raw["revenue"].sum())
    assert day["orders"] == len(raw) and day["discounted"] == (raw["discount"] > 0).sum()


def test_as_of_ignores_later_data(copies):
    early = an.anomalies(copies[1], as_of="2026-08-10", days=60)
    assert early.series["date"].max() == pd.Timestamp("2026-08-10")
    assert _hit(early.table, REVENUE_DAY, "revenue").empty  # the planted day is after as_of


def test_holidays_include_computed_shopping_days():
    assert an.holiday(pd.Timestamp("2026-11-27")) == "Black Friday"  # Thanksgiving is 26 Nov
    assert an.holiday(pd.Timestamp("2026-11-30")) == "Cyber Monday"
    assert an.holiday(pd.Timestamp("2026-07-01"), "CAD") == "Canada Day"
    assert an.holiday(pd.Timestamp("2026-07-01")) is None


def test_too_little_history_is_unsupported_with_the_reason(tmp_path):
    days = pd.date_range("2025-05-15", "2025-06-30")
    orders = pd.DataFrame({"order_id": [f"O{i}" for i in range(len(days))],
                           "order_date": days.strftime("%Y-%m-%d"), "revenue": 10.0})
    folder = write_business(tmp_path / "shop", data={"orders": "data/orders.csv"},
                            files={"data/orders.csv": orders.to_csv(index=False)})
    result = an.anomalies(open_plan(folder, run_dir=tmp_path / "run"))
    assert not result.supported and "at least 8 weeks" in result.reading
    assert result.headline == {"supported": False}


# ---- drift ---------------------------------------------------------------------------------------
def test_planted_drift_is_found_on_the_two_planted_inputs_only(found):
    result = found["planted"][1]
    t = result.table.set_index("feature")
    # every customer since the test from a new channel: about 8 % of them, a new category
    assert t.loc["acquisition_channel", "band"] == "major shift"
    assert t.loc["acquisition_channel", "current"].startswith("tiktok: ")
    assert t.loc["acquisition_channel", "reference"] == "tiktok: 0%"
    # every order since the test discounted: half of the 365-day window for recent buyers
    assert t.loc["discount_share_365", "band"] == "moderate shift"
    top = t.drop(index="score")["psi"].nlargest(2).index
    assert set(top) == {"acquisition_channel", "discount_share_365"}
    assert (t.drop(index=["acquisition_channel", "discount_share_365"])["band"] == "stable").all()
    assert dr.verdict(result.table) == "retrain"
    assert "acquisition channel (tiktok: 0% -> tiktok:" in result.reading
    assert "Retrain it in step 06" in result.reading
    assert result.headline["max_psi_input"] == "propensity: acquisition_channel"
    assert result.headline["inputs_major"] == 1 and result.headline["inputs_moderate"] == 1


def test_clean_copy_has_no_drift(found):
    result = found["clean"][1]
    t = result.table.set_index("feature")
    assert t.loc["discount_share_365", "psi"] < 0.1
    assert (t["band"] == "stable").all(), t[t["band"] != "stable"]
    assert dr.verdict(result.table) == "stable"
    assert "every input is stable" in result.reading
    # both sides are the customers known before each date: more today than at the test
    assert (t["n_current"] > t["n_reference"]).all()


def test_scores_are_recomputed_with_the_saved_model(copies, found):
    row = found["clean"][1].table.set_index("feature").loc["score"]
    assert row["label"] == "the model's scores" and 0 <= row["psi"] < 0.1
    data = dr.drift_chart_data(found["planted"][1])
    assert data.iloc[0]["name"] == "propensity: acquisition channel"


def test_no_model_card_is_unsupported_with_what_to_run(tmp_path):
    folder = write_business(tmp_path / "shop", data={"orders": "data/orders.csv"},
                            files={"data/orders.csv": "order_id,order_date,revenue\n"
                                                      "O1,2025-06-01,5\n"})
    result = dr.drift(open_plan(folder, run_dir=tmp_path / "run"))
    assert not result.supported
    assert "holds no model card" in result.reason and "notebook 06" in result.reason


def test_plot_functions_return_axes_smoke(found):
    import matplotlib.pyplot as plt

    ax = dr.plot_drift(found["planted"][1])
    assert ax.get_title().startswith("propensity: acquisition channel shifted most (PSI")
    ax2 = an.plot_anomalies(found["planted"][0], "revenue")
    assert ax2.get_title() == "1 unusual day(s) in revenue"
    plt.close("all")



def test_a_card_without_its_reference_day_is_a_warning_not_an_error(copies, tmp_path):
    clean = copies[0]
    shutil.copytree(clean.run_dir, tmp_path / "run")
    (tmp_path / "run/models/churn_card.json").write_text(json.dumps(
        {"name": "churn", "features": ["recency_days"], "data_window": {}}))
    result = dr.drift(open_plan(clean.business_dir, run_dir=tmp_path / "run"))
    assert result.supported and result.headline["models_checked"] == 1
    assert result.warnings == ("churn: its card has no 'validation_cutoff' in data_window, so "
                               "there is no reference day to compare with; run step 06 again.",)


def test_a_row_covering_several_days_is_left_out_by_day_or_spread_over_its_days(tmp_path):
    spend = pd.DataFrame({"date": ["2025-06-01", "2025-06-01", "2025-06-02"],
                          "period_end": ["", "2025-06-10", ""], "channel": "paid_search",
                          "campaign_id": ["A", "B", "A"], "spend": [10.0, 100.0, 20.0]})
    folder = write_business(tmp_path / "shop", data={"marketing_spend": "data/spend.csv"},
                            files={"data/spend.csv": spend.to_csv(index=False)})
    plan = open_plan(folder, run_dir=tmp_path / "run")
    by_day, left_out = an.daily_spend(plan)
    assert left_out == 1 and by_day["spend"].tolist() == [10.0, 20.0]
    spread, _ = an.daily_spend(plan, spread=True)
    daily = spread.set_index("date")["spend"]
    assert daily["2025-06-01"] == pytest.approx(20.0) and daily["2025-06-02"] == pytest.approx(30.0)
    assert daily.sum() == pytest.approx(130.0) and daily.index.max() == pd.Timestamp("2025-06-10")
    assert an.daily_spend(plan, as_of="2025-06-05", spread=True)[0]["spend"].sum() == 80.0
