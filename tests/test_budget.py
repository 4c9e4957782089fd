"""Step 07 budget: optimiser properties (hypothesis), its direction on simulated curves and on
the sample businesses' ground truth, scenarios, the ROAS / CPA fallback by hand, and the section
on bloom_yoga (unsupported), harbor_coffee and summit_outdoor."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from helpers import budget, media
from helpers.curves import ResponseCurves, simulate_media
from helpers.errors import ConfigError
from helpers.plan import SAMPLE_DIR, open_plan
from tests.conftest import write_business

CHANNELS = ("search", "social", "display")
CURRENT = {"search": 4000.0, "social": 2500.0, "display": 1200.0}  # monthly
PLANTED = {"search": {"decay": 0.1, "half_saturation": 300.0, "shape": 1.2, "beta": 3000.0,
                      "mean_spend": 1000.0},
           "social": {"decay": 0.4, "half_saturation": 1500.0, "shape": 1.0, "beta": 5000.0,
                      "mean_spend": 600.0},
           "display": {"decay": 0.2, "half_saturation": 400.0, "shape": 0.8, "beta": 800.0,
                       "mean_spend": 300.0}}


@pytest.fixture(scope="module")
def curves():
    return ResponseCurves(seed=5).fit(simulate_media(PLANTED, seed=5))


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    base = tmp_path_factory.getbasetemp() / "media_plans"  # shared with test_media
    return lambda name: open_plan(name, run_dir=base / name)


@pytest.fixture(scope="module")
def sections(plans):
    out = {}
    for name in ("harbor_coffee", "summit_outdoor", "bloom_yoga"):
        plan = plans(name)
        plan.prepared("orders"), media.weekly_media_frame(plan)  # prepare first, time the rest
        started = time.perf_counter()
        out[name] = (budget.budget_section(plan), time.perf_counter() - started)
    return out


def _truth(name: str) -> dict:
    return json.loads((SAMPLE_DIR / name / "truth.json").read_text())["media"]


# ---- optimiser properties --------------------------------------------------------------------
def _shares(low: float, high: float):
    return st.one_of(st.none(), st.floats(low, high))


@settings(max_examples=80, deadline=None)
@given(factor=st.floats(0.6, 1.6), lows=st.tuples(*[_shares(0.0, 1.0)] * 3),
       highs=st.tuples(*[_shares(0.9, 3.0)] * 3), locked=st.sets(st.sampled_from(CHANNELS)))
def test_optimiser_respects_every_constraint(curves, factor, lows, highs, locked):
    """Limits as multiples of today's spend, a total of 0.6-1.6 x today's: whenever the limits
    can meet the total, the split meets every limit and the total; else a ConfigError."""
    total = factor * sum(CURRENT.values())
    low = {c: v * CURRENT[c] for c, v in zip(CHANNELS, lows, strict=True) if v is not None}
    high = {c: v * CURRENT[c] for c, v in zip(CHANNELS, highs, strict=True) if v is not None}
    low, high = low or None, high or None
    b = budget.default_bounds(curves, CURRENT)
    for col, given_ in (("low", low or {}), ("high", high or {})):
        for ch, v in given_.items():
            b.loc[ch, col] = v
    for ch in locked:
        b.loc[ch, ["low", "high"]] = CURRENT[ch]
    feasible = ((b["low"] <= b["high"] + 1e-9).all() and b["low"].sum() <= total + 1e-6
                and b["high"].sum() >= total - 1e-6)
    event("feasible" if feasible else "infeasible")
    if not feasible:
        with pytest.raises(ConfigError, match="optimise_budget: "):
            budget.optimise_budget(curves, total=total, current=CURRENT, min_spend=low,
                                   max_spend=high, locked=locked)
        return
    out = budget.optimise_budget(curves, total=total, current=CURRENT, min_spend=low,
                                 max_spend=high, locked=locked).set_index("channel")
    rec = out["recommended"].drop("total")
    assert rec.sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert out.at["total", "recommended"] == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert (rec >= b["low"] - 1e-6).all() and (rec <= b["high"] + 1e-6).all()
    for ch in locked:
        assert rec[ch] == CURRENT[ch] and out.at[ch, "gain"] == 0.0


def test_default_bounds_are_half_to_twice_and_capped_by_the_top_week(curves):
    b = budget.default_bounds(curves, {"search": 4000.0, "social": 100.0})
    top = curves.max_spend_["search"] * 52 / 12 * 1.5
    assert b.loc["search", "low"] == 2000.0 and b.loc["search", "high"] == min(8000.0, top)
    assert b.loc["social"].tolist() == [50.0, 200.0]


def test_infeasible_minimums_name_the_keys_and_the_fix(curves):
    with pytest.raises(ConfigError) as err:
        budget.optimise_budget(curves, total=1000, current=CURRENT,
                               min_spend={"search": 800, "social": 500}, locked=["display"])
    assert str(err.value) == (
        "optimise_budget: the minimum spends per channel (search 800, social 500, display 1,200 "
        "(locked)) add up to 2,500 a month, above the total of 1,000: lower min_spend, unlock a "
        "channel or raise the total.")


def test_optimiser_moves_money_to_the_higher_marginal_return_until_they_meet(curves):
    out = budget.optimise_budget(curves, total=sum(CURRENT.values()), current=CURRENT,
                                 min_spend=0, max_spend=10_000).set_index("channel")
    now = {ch: curves.marginal_roas(ch, v * 12 / 52) for ch, v in CURRENT.items()}
    assert now["social"] > now["search"]
    assert out.at["social", "change"] > 0 > out.at["search", "change"]
    inside = [ch for ch in CHANNELS if 1 < out.at[ch, "recommended"] < 9999]
    after = [curves.marginal_roas(ch, out.at[ch, "recommended"] * 12 / 52) for ch in inside]
    assert max(after) == pytest.approx(min(after), rel=0.02)  # equal returns at the optimum
    assert out.at["total", "gain"] == pytest.approx(
        out.at["total", "revenue_recommended"] - out.at["total", "revenue_current"])
    assert out.at["total", "gain_low"] <= out.at["total", "gain"] <= out.at["total", "gain_high"]


def test_scenario_sums_the_quarter_at_a_given_split(curves):
    split = {"search": 3000.0, "social": 3000.0, "display": 1000.0}
    s = budget.scenario(curves, monthly_total=7000, allocation=split).set_index("channel")
    expected = 3 * 52 / 12 * curves.response("social", 3000.0 * 12 / 52)
    assert s.at["social", "revenue"] == pytest.approx(expected)
    assert s.at["total", "spend"] == 21000.0
    assert s.at["total", "revenue"] == pytest.approx(s["revenue"].drop("total").sum())
    assert s.at["total", "revenue_low"] <= s.at["total", "revenue"] <= s.at["total", "revenue_high"]


# ---- the fallback by hand --------------------------------------------------------------------
def _tiny_plan(tmp_path, *, spend: bool = True):
    days = pd.date_range("2025-01-06", periods=70)
    orders = pd.DataFrame({"order_id": [f"O{i}" for i in range(70)],
                           "order_date": days.strftime("%Y-%m-%d"), "revenue": 100.0})
    week = np.arange(70) // 7
    ads = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "channel": "paid_social",
                        "spend": 10.0 + week, "conversions": 1, "platform_revenue": 30.0})
    files = {"orders": orders} | ({"marketing_spend": ads} if spend else {})
    folder = write_business(tmp_path / "shop", data={t: f"data/{t}.csv" for t in files}, files={
        f"data/{t}.csv": f.to_csv(index=False) for t, f in files.items()})
    return open_plan(folder, run_dir=tmp_path / "run")


def test_roas_fallback_by_hand(tmp_path):
    fb = budget.roas_fallback(_tiny_plan(tmp_path)).set_index("channel").loc["paid_social"]
    spend = sum(7 * (10.0 + w) for w in range(10))  # 1,015 over 10 weeks
    assert fb["weeks"] == 10 and fb["spend"] == pytest.approx(spend)
    assert fb["roas"] == pytest.approx(70 * 30.0 / spend)
    assert fb["cpa"] == pytest.approx(spend / 70)
    assert fb["roas_low"] < fb["roas"] < fb["roas_high"]
    assert fb["cpa_low"] < fb["cpa"] < fb["cpa_high"]


def test_section_without_spend_says_what_to_add(tmp_path):
    plan = _tiny_plan(tmp_path, spend=False)
    result = budget.budget_section(plan)
    assert not result.supported
    assert result.reason == plan.why_missing("marketing_spend")
    assert result.reading.startswith("No budget advice yet: there is no marketing_spend table")


# ---- the sample businesses -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["harbor_coffee", "summit_outdoor"])
def test_budget_moves_to_the_under_invested_channel(sections, name):
    result, seconds = sections[name]
    truth, a = _truth(name), result.allocation.set_index("channel")
    assert result.supported
    assert truth["under_invested_channel"] == "paid_social" == result.headline["moved_to"]
    assert truth["saturated_channel"] == "paid_search" == result.headline["moved_from"]
    assert a.at["paid_social", "recommended"] > a.at["paid_social", "current"]
    assert a.at["paid_search", "recommended"] < a.at["paid_search", "current"]
    s = result.curves.summary().set_index("channel")["marginal_roas"]
    assert s["paid_social"] > s["paid_search"]
    assert a.at["total", "recommended"] == pytest.approx(a.at["total", "current"])
    assert result.curves.fit_quality_["beats_baseline"]
    assert seconds < 5.0  # about 0.6 s on a free core


def test_harbor_holds_email_fixed_and_says_why(sections):
    result, _ = sections["harbor_coffee"]
    a = result.allocation.set_index("channel")
    assert a.at["email", "locked"] and a.at["email", "recommended"] == 370.0
    assert result.free_channels == ["paid_search", "paid_social", "social"]
    assert list(result.files["budget_split"]["channel"]) == [*a.index]
    assert "Email is held at its current spend: 78% of its ups and downs follow your season" \
        in result.reading
    assert "Moving about $690 a month from paid search to paid social" in result.reading


def test_summit_keeps_channels_without_spend_data_at_their_budget(sections):
    a = sections["summit_outdoor"][0].allocation.set_index("channel")
    assert a.loc[["email", "social"], "recommended"].tolist() == [600.0, 700.0]
    assert a.at["total", "current"] == 6030.0  # budget.by_channel in business.yaml


def test_bloom_yoga_falls_back_to_platform_costs_and_a_test(sections):
    result, _ = sections["bloom_yoga"]
    assert not result.supported and result.allocation.empty
    assert result.reason.startswith("Response curves cannot be fitted: only 26 full weeks")
    fb = result.fallback.set_index("channel").loc["paid_social"]
    assert fb["cpa"] == pytest.approx(fb["spend"] / fb["conversions"])
    assert fb["conversions"] == 142 and fb["weeks"] == 26
    assert fb["cpa_low"] < fb["cpa"] < fb["cpa_high"]
    assert np.isnan(fb["roas"])  # Meta reports no revenue for a studio's leads
    assert "Run a holdout instead: hold paid social back in a third of your postcodes" \
        in fb["recommended_test"]
    assert f"$32.17 per conversion (90 % range ${fb['cpa_low']:,.0f}" in result.reading


def test_plot_allocation_smoke(sections):
    import matplotlib.pyplot as plt

    ax = budget.plot_allocation(sections["harbor_coffee"][0])
    assert ax.get_title().startswith(r"Move \$690 a month to paid social: about \$")
    assert ax.get_xlabel() == "monthly spend (USD)"
    plt.close(ax.figure)
    ax = budget.plot_allocation(sections["bloom_yoga"][0])
    assert ax.get_title().startswith("No curves yet")
    plt.close(ax.figure)
