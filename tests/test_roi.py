"""Step 11 ROI: channel economics against hand sums and the samples' truths (platforms overstate),
the AI work's costs and return against hand computation, progress toward the objectives (with a
stand-in for step 08's pacing) and roi.json."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pandas as pd
import pytest

from helpers import ai_roi, roi
from helpers import attribution as at
from helpers.incrementality import incrementality
from helpers.io import to_json_text
from helpers.plan import KIT_ROOT, open_plan
from tests.conftest import write_business

WINDOW = (pd.Timestamp("2025-10-01"), pd.Timestamp("2026-09-30"))  # 12 months to harbor's as_of
HARBOR = json.loads((KIT_ROOT / "sample_data/harbor_coffee/truth.json").read_text())
SUMMIT = json.loads((KIT_ROOT / "sample_data/summit_outdoor/truth.json").read_text())
BUDGET_MOVE = {"sections": {"budget": {"ran": True, "headline": {
    "supported": True, "moved_from": "paid_search", "moved_to": "paid_social",
    "expected_gain": 1000.0, "gain_low": -200.0, "gain_high": 2000.0}}}}


@pytest.fixture(scope="module")
def harbor(tmp_path_factory):
    """harbor_coffee with a hand-made step 05 margin (50 %) and step 07 budget move."""
    plan = open_plan("harbor_coffee", run_dir=tmp_path_factory.getbasetemp() / "harbor_step11")
    plan.save("strategy.json", {"assumptions": {"gross_margin": 0.5, "gross_margin_source": "t"}})
    plan.save("activation.json", BUDGET_MOVE)
    plan.save("use_cases.json", {"shortlist": ["budget_reallocation", "email_personalisation"]})
    return plan


@pytest.fixture(scope="module")
def harbor_economics(harbor):
    return roi.channel_economics(harbor)


def _tiny(tmp_path, files: dict[str, pd.DataFrame], extra: str = ""):
    folder = write_business(tmp_path / "shop", data={t: f"data/{t}.csv" for t in files},
                            files={f"data/{t}.csv": f.to_csv(index=False) for t, f in files.items()},
                            extra_yaml=extra)
    return open_plan(folder, run_dir=tmp_path / "run")


# ---- channel economics -------------------------------------------------------------------------
TINY_ORDERS = pd.DataFrame({
    "order_id": ["O1", "O2", "O3", "O4", "O5", "O6", "O7"],
    "customer_id": ["C1", "C1", "C2", "C3", "C3", "C3", None],
    "order_date": ["2025-03-01", "2025-04-01", "2025-05-01", "2024-01-01", "2025-06-01",
                   "2025-06-02", "2025-06-10"],
    "revenue": [100, 50, 200, 80, 40, -20, 60],
    "channel": ["email", "paid_search", "paid_search", "paid_search", "paid_search", "paid_search",
                "cafe"]})
TINY_CUSTOMERS = pd.DataFrame({"customer_id": ["C1", "C2", "C3"],
                               "acquisition_channel": ["paid_search", "paid_search", "email"]})
TINY_SPEND = pd.DataFrame({"date": ["2025-02-01", "2025-02-01", "2025-03-01", "2024-02-01"],
                           "channel": ["paid_search", "email", "social", "paid_search"],
                           "spend": [100, 20, 30, 999], "clicks": [50, 0, 10, 1],
                           "conversions": [5, 2, 0, 1], "platform_revenue": [400, None, None, 9]})


AI_YAML = """use_cases: [email_personalisation, sales_forecast]
ai_costs:
  tools_monthly: {klaviyo: 45}
  setup_hours: 10
  hours_per_month: 2
  hourly_rate: 50
"""


@pytest.fixture
def tiny(tmp_path):
    plan = _tiny(tmp_path, {"orders": TINY_ORDERS, "customers": TINY_CUSTOMERS,
                            "marketing_spend": TINY_SPEND}, AI_YAML)
    plan.save("strategy.json", {"assumptions": {"gross_margin": 0.5}})
    plan.save("scores.parquet", pd.DataFrame({"customer_id": ["C1", "C2", "C3"],
                                              "clv_12m": [120.0, 80.0, 500.0]}))
    return plan


def test_tiny_economics_equal_the_hand_computation(tiny):
    r = roi.channel_economics(tiny)
    t = r.table.set_index("channel")
    ps = t.loc["paid_search"]  # the 2024 row (999) is outside the 12 months to 30 Jun 2025
    assert (ps.spend, ps.clicks, ps.conversions) == (100, 50, 5)
    assert ps.conversion_rate == pytest.approx(0.1) and ps.cpa == pytest.approx(20)
    assert ps.roas_platform == pytest.approx(4.0)
    assert ps.order_revenue == pytest.approx(50 + 200 + 40 - 20)  # the refund counts against
    assert ps.roas_orders == pytest.approx(2.7)
    # new customers: C1 and C2 first bought in the window (C3 first bought in 2024)
    assert ps.new_customers == 2 and ps.cac == pytest.approx(50)
    assert ps.clv_12m == pytest.approx(100) and ps.ltv_cac == pytest.approx(100 * 0.5 / 50)
    assert t.loc["email", "roas_orders"] == pytest.approx(5.0)
    assert np.isnan(t.loc["email", "conversion_rate"])  # no clicks: no rate, not infinity
    assert t.loc["cafe", "order_revenue"] == 60 and np.isnan(t.loc["cafe", "spend"])
    assert r.supported and r.headline["best_roas_channel"] == "email"
    assert "break-even ROAS 2.00" in r.reading
    assert "On your own orders: email 5.00, paid search 2.70." in r.reading
    assert any("No order is tagged social" in w for w in r.warnings)


def test_orders_without_channel_or_customer_still_give_the_spend_figures(tmp_path):
    orders = TINY_ORDERS.drop(columns=["channel", "customer_id"])
    r = roi.channel_economics(_tiny(tmp_path, {"orders": orders, "marketing_spend": TINY_SPEND}))
    t = r.table.set_index("channel")
    assert t.at["paid_search", "cpa"] == pytest.approx(20) and t["order_revenue"].isna().all()
    assert r.headline["order_revenue"] == pytest.approx(100 + 50 + 200 + 40 - 20 + 60)
    assert r.warnings[0].startswith("Your orders have no channel column")
    only = roi.channel_economics(_tiny(tmp_path / "b", {"orders": orders}))
    assert not only.supported and only.reason.startswith(
        "ROAS, CPA and CAC need what each channel cost: a marketing_spend table. There is no")


def test_harbor_spend_and_revenue_equal_direct_sums(harbor, harbor_economics):
    t = harbor_economics.table.set_index("channel")
    s = harbor.prepared("marketing_spend")
    s = s[(s["date"] >= WINDOW[0]) & (s["date"] < WINDOW[1] + pd.Timedelta(days=1))]
    o = harbor.prepared("orders")
    o = o[(o["order_date"] >= WINDOW[0]) & (o["order_date"] < WINDOW[1] + pd.Timedelta(days=1))]
    spend, revenue = s.groupby("channel")["spend"].sum(), o.groupby("channel")["net_revenue"].sum()
    assert t["spend"].dropna().to_dict() == pytest.approx(spend.to_dict())
    assert t["order_revenue"].to_dict() == pytest.approx(revenue.to_dict())
    assert set(t.index[t["spend"].isna()]) == {"organic", "direct", "cafe"}  # revenue only
    first = harbor.prepared("orders").query("revenue >= 0").groupby("customer_id")["order_date"].min()
    new = first[(first >= WINDOW[0]) & (first < WINDOW[1] + pd.Timedelta(days=1))].index
    acquired = harbor.prepared("customers").set_index("customer_id")["acquisition_channel"]
    assert t.at["paid_search", "new_customers"] == (acquired.reindex(new) == "paid_search").sum()


def test_harbor_platforms_overstate_paid_social_more_than_paid_search(harbor_economics):
    """truth.json media: Meta over-reports paid social by 1.6x, Google paid search by 1.08x."""
    t = harbor_economics.table.set_index("channel")
    ratio = t["platform_revenue"] / t["order_revenue"]
    truth = HARBOR["media"]["channels"]
    assert truth["paid_social"]["platform_overreporting_factor"] > \
        truth["paid_search"]["platform_overreporting_factor"]
    assert ratio["paid_social"] > 1.3 > ratio["paid_search"]
    assert any(w.startswith("Paid social: the platform reports") for w in harbor_economics.warnings)


def test_harbor_reading_sets_tagged_returns_against_the_response_curves(harbor_economics):
    """truth.json: paid social returns more than paid search (the under-invested channel), yet
    last-click tagged orders rank paid search first; step 07's move is named against it."""
    t = harbor_economics.table.set_index("channel")
    assert HARBOR["media"]["under_invested_channel"] == "paid_social"
    assert t.at["paid_search", "roas_orders"] > t.at["paid_social", "roas_orders"]
    assert "moved budget from paid search to paid social, although paid search looks better" in \
        harbor_economics.reading
    assert "LTV:CAC is left blank" in harbor_economics.reading  # no scores in this run folder


@pytest.fixture(scope="module")
def summit(tmp_path_factory):
    return open_plan("summit_outdoor", run_dir=tmp_path_factory.getbasetemp() / "summit_step11")


def test_summit_mailchimp_revenue_is_shown_as_an_upper_bound(summit):
    """truth.json email: Mailchimp reports 1,269 orders (178,241.06) for e-mail, which caused 254."""
    r = roi.channel_economics(summit, months=24)
    email = r.table.set_index("channel").loc["email"]
    assert email["platform_revenue"] == pytest.approx(float(SUMMIT["email"][
        "mailchimp_reported_revenue"]))
    assert SUMMIT["email"]["mailchimp_reported_orders"] > 4 * SUMMIT["email"][
        "realised_incremental_orders"]
    warning = next(w for w in r.warnings if w.startswith("Email:"))
    assert "C$178,241" in warning and "upper bound" in warning


# ---- the AI work -------------------------------------------------------------------------------


@pytest.fixture
def ai_plan(tmp_path):
    return _tiny(tmp_path, {"orders": TINY_ORDERS}, AI_YAML)


def test_costs_count_named_tools_once_and_time_at_the_hourly_rate(ai_plan):
    c = ai_roi.ai_costs(ai_plan).set_index("item")
    # klaviyo does e-mail personalisation, so its list price is not added; the forecast is free
    assert list(c.index) == ["klaviyo", "setting up", "running it"]
    assert c["monthly"].sum() == 45 + 2 * 50 and c["once"].sum() == 10 * 50


def test_fixed_gains_give_the_roi_and_payback_by_hand(ai_plan):
    r = ai_roi.ai_roi(ai_plan, gains={"win-back flow": (300, 300, 300)})
    cost = 500 + 12 * 145  # setup once, then 145 a month
    assert r.headline["cost"] == cost
    assert r.roi == pytest.approx((12 * 300 - cost) / cost) and r.p_positive == 1.0
    assert r.payback_month == 4  # 300 m >= 500 + 145 m first holds at m = 4 (3.2 rounded up)
    assert r.monthly["cost"].tolist()[:2] == [645, 790]
    assert f"a return of {(3600 - cost) / cost:.0%} on the cost" in r.reading
    assert "It pays for itself in month 4." in r.reading


def test_gains_are_drawn_from_a_triangular_range(ai_plan):
    r = ai_roi.ai_roi(ai_plan, gains={"offers": (0, 100, 500)}, seed=1, draws=4000)
    # median of a triangle (0, 100, 500): 500 - sqrt(500 * 400 / 2)
    assert r.monthly["gain_mid"].iloc[-1] == pytest.approx(12 * (500 - np.sqrt(1e5)), rel=0.03)
    assert r.monthly["gain_low"].iloc[-1] < r.monthly["gain_mid"].iloc[-1] < \
        r.monthly["gain_high"].iloc[-1]
    cost = 500 + 12 * 145
    assert r.roi_low < r.roi < r.roi_high and 0 < r.p_positive < 1
    assert r.headline["gain"] == pytest.approx(r.monthly["gain_mid"].iloc[-1])
    assert r.roi == pytest.approx((r.headline["gain"] - cost) / cost, rel=0.01)
    again = ai_roi.ai_roi(ai_plan, gains={"offers": (0, 100, 500)}, seed=1, draws=4000)
    assert again.roi == r.roi  # seeded


def test_harbor_default_gains_read_step_07_and_the_holdout(harbor):
    r = ai_roi.ai_roi(harbor, seed=3)
    g = r.gains.set_index("initiative")
    move = g.loc["budget move to paid social"]
    assert (move["low"], move["mid"], move["high"]) == (-100, 500, 1000)  # x the 50 % margin
    assert not move["tested"]
    inc = incrementality(harbor).table.iloc[0]
    test = g.loc["winback 2026 q2 (repeated)"]
    assert test["mid"] == pytest.approx(inc["incremental_revenue"] * 0.5 * 4 / 12)
    assert any("budget move to paid social: a prediction" in w for w in r.warnings)
    assert any("as if the campaign ran 4 times a year" in w for w in r.warnings)
    assert r.supported and "pays for itself in month" in r.reading
    # e-mail personalisation at the middle of its [0, 60] range; the budget move costs nothing
    assert r.costs.set_index("item").loc["Personalised email content", "monthly"] == 30


def test_step_09_experiments_json_wins_over_the_own_estimate(ai_plan):
    ai_plan.save("experiments.json", {"experiments": {"CMP9": {"incremental_revenue": {
        "total": 600.0, "total_low": 120.0, "total_high": 1200.0}}, "ab": {"verdict": "x"}}})
    g = ai_roi.ai_roi(ai_plan, repeats_per_year=12).gains.set_index("initiative")
    # monthly = total x margin (no products: the 50 % assumption) x 12 runs / 12 months
    assert g.loc["CMP9 (repeated)", ["low", "mid", "high"]].tolist() == [60, 300, 600]


def test_no_gain_or_no_cost_is_unsupported_with_the_reason(ai_plan, tmp_path):
    r = ai_roi.ai_roi(ai_plan)
    assert not r.supported and r.reason.startswith("No gain has been measured or predicted yet")
    free = _tiny(tmp_path / "free", {"orders": TINY_ORDERS}, "use_cases: [sales_forecast]\n")
    r = ai_roi.ai_roi(free, gains={"x": (1, 2, 3)})
    assert not r.supported and "add its tools and hours under `ai_costs:`" in r.reason


# ---- objectives --------------------------------------------------------------------------------
PACING = pd.DataFrame({
    "objective": [1, 2], "kpi": ["revenue", "repeat_rate"], "name": ["Revenue", "Repeat rate"],
    "unit": ["money", "rate"], "baseline": [100000.0, 0.30], "target": [112000.0, 0.315],
    "deadline": ["2027-06-30", "2027-03-31"], "current": [106000.0, 0.29],
    "expected_now": [104000.0, 0.305], "progress": [0.5, -2 / 3], "status": ["ahead", "behind"]})


def test_progress_reads_step_08_pacing(ai_plan, monkeypatch):
    seen = {}

    def pacing(plan, *, as_of=None):
        seen["as_of"] = as_of
        return PACING

    monkeypatch.setitem(sys.modules, "helpers.monitoring",
                        types.SimpleNamespace(objective_pacing=pacing))
    r = roi.objective_progress(ai_plan, as_of="2025-06-01")
    assert seen["as_of"] == "2025-06-01"
    assert ("Revenue: $106,000 now, from $100,000 toward $112,000 by 30 Jun 2027; 50% of the way "
            "where the plan expected $104,000 by now: ahead.") in r.reading
    assert "Repeat rate: 29.0% now, from 30.0% toward 31.5%" in r.reading
    assert "1 of 2 objectives are on track or ahead." in r.reading
    assert r.headline == {"objectives": 2, "on_track": 1, "behind": 1, "starting": False}
    ax = roi.plot_progress(r)
    assert ax.get_title() == "1 of 2 objectives on track or ahead"


def test_progress_at_the_start_says_the_plan_starts_now(ai_plan, monkeypatch):
    start = PACING.assign(current=PACING["baseline"], expected_now=PACING["baseline"],
                          progress=0.0, status="on track")
    monkeypatch.setitem(sys.modules, "helpers.monitoring", types.SimpleNamespace(
        objective_pacing=lambda plan, *, as_of=None: start))
    r = roi.objective_progress(ai_plan)
    assert "Revenue: at its baseline of $100,000, with $112,000 by 30 Jun 2027 to reach" in r.reading
    assert r.reading.endswith("Run this step again in a month or two to see the first progress.")
    assert roi.plot_progress(r).get_title().startswith("The plan starts now")


def test_progress_without_objectives_is_unsupported(ai_plan, monkeypatch):
    monkeypatch.setitem(sys.modules, "helpers.monitoring", types.SimpleNamespace(
        objective_pacing=lambda plan, *, as_of=None: PACING.iloc[:0]))
    r = roi.objective_progress(ai_plan)
    assert not r.supported and "add them under `objectives:`" in r.reason


# ---- roi.json and charts -----------------------------------------------------------------------
def test_artifact_holds_every_section_as_plain_json(tiny):
    results = {"economics": roi.channel_economics(tiny), "attribution": at.attribution(tiny),
               "AI return": ai_roi.ai_roi(tiny, gains={"x": (10, 20, 30)})}
    record = json.loads(to_json_text(roi.roi_artifact(results)))
    assert set(record) == {"economics", "attribution", "AI_return"}
    rows = {r["channel"]: r for r in record["economics"]["table"]}
    assert rows["paid_search"]["roas_orders"] == pytest.approx(2.7)
    assert rows["cafe"]["spend"] is None  # NaN written as null
    assert record["attribution"]["supported"] is False
    assert record["attribution"]["shares"][0]["channel"] == "paid_search"
    assert len(record["AI_return"]["monthly"]) == 12


def test_plots_smoke_titles_state_the_finding(tiny):
    ax = roi.plot_economics(roi.channel_economics(tiny))
    assert ax.get_title() == "Email returns the most per USD on tagged orders"
    assert roi.economics_data(roi.channel_economics(tiny)).index.tolist() == \
        ["paid_search", "social", "email"]
    ax = ai_roi.plot_ai_roi(ai_roi.ai_roi(tiny, gains={"x": (400, 500, 600)}))
    assert ax.get_title().startswith("The AI work pays for itself in month")
