"""Step 07 offers: sale days and sale-day rate ratios by hand, the margin guardrail on a tiny
table, and harbor_coffee's planted discount sensitivity by age band."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from helpers import offers as of
from helpers.errors import ConfigError, UnknownNameError
from helpers.plan import SAMPLE_DIR, open_plan


def _orders(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    """(customer_id, order_date, revenue, discount) rows as orders."""
    o = pd.DataFrame(rows, columns=["customer_id", "order_date", "revenue", "discount"])
    return o.assign(order_id=[f"O{i}" for i in range(len(o))],
                    order_date=pd.to_datetime(o.order_date))


# Two customers over 1-10 January 2025, a sale on the 5th.
TINY = _orders([
    ("a1", "2025-01-01", 10, 0), ("a1", "2025-01-05", 9, 1), ("a1", "2025-01-07", 10, 0),
    ("a1", "2025-01-10", 10, 0),
    ("b1", "2025-01-02", 10, 0), ("b1", "2025-01-05", 9, 1), ("b1", "2025-01-09", 10, 0),
])
TINY_CUSTOMERS = pd.DataFrame({"customer_id": ["a1", "b1"], "age_band": ["18-24", "65+"]})
SALE = pd.DataFrame({"day": [pd.Timestamp("2025-01-05")], "depth": [0.1], "sale": [1]})


@pytest.fixture(scope="module")
def harbor(tmp_path_factory):
    """harbor_coffee's offers section, computed once (run folder shared by the step 07 tests)."""
    plan = open_plan("harbor_coffee", run_dir=tmp_path_factory.getbasetemp() / "harbor_step07")
    return plan, of.offers_section(plan)


def test_sale_days_are_days_with_far_more_discounted_orders():
    rows = [(f"c{i}", f"2025-02-{d:02d}", 10, 1 if (d == 3 or (d == 4 and i < 3)) else 0)
            for d in range(1, 6) for i in range(6)]
    rows += [("c0", "2025-02-05", 10, 1)]  # 1 of 7 orders: the usual share, not a sale
    days = of.sale_days(_orders(rows))
    # 10 of 31 orders carry a discount (32 %): the bar is max(50 %, 3 x 32 %) = 97 %. Day 3 (6 of
    # 6) passes; day 4 (3 of 6 = 50 %) does not.
    assert list(days.day) == [pd.Timestamp("2025-02-03")]
    assert days.discounted_share.iloc[0] == 1 and days.depth.iloc[0] == pytest.approx(1 / 11)


def test_no_discounts_means_no_sale_days():
    assert of.sale_days(TINY.assign(discount=0.0)).empty


def test_rate_ratio_by_hand_against_all_other_days():
    s = of.discount_sensitivity(TINY, TINY_CUSTOMERS, sales=SALE, window_days=None)
    s = s.set_index("segment")
    # a1 counts from 2 Jan to 10 Jan: 1 sale day (1 order), 8 other days (2 orders): 1 / (2/8)
    assert s.loc["18-24", ["sale_customer_days", "other_customer_days"]].tolist() == [1, 8]
    assert s.loc["18-24", ["sale_orders", "other_orders"]].tolist() == [1, 2]
    assert s.loc["18-24", "rate_ratio"] == pytest.approx(4.0)
    half = 1.959964 * math.sqrt(1 / 1 + 1 / 2)  # Wald interval on the log rate ratio
    assert s.loc["18-24", "low"] == pytest.approx(4 * math.exp(-half), rel=1e-4)
    assert s.loc["18-24", "high"] == pytest.approx(4 * math.exp(half), rel=1e-4)
    # b1 counts from 3 Jan: 1 sale day (1 order), 7 other days (1 order)
    assert s.loc["65+", "rate_ratio"] == pytest.approx(7.0)
    assert s.loc["18-24", "discounted_share"] == pytest.approx(1 / 4)


def test_comparison_days_near_the_sale_only():
    s = of.discount_sensitivity(TINY, TINY_CUSTOMERS, sales=SALE, window_days=2)
    s = s.set_index("segment")
    # within 2 days of the 5th: the 3rd, 4th, 6th and 7th; a1 ordered on the 7th
    assert s.loc["18-24", ["other_customer_days", "other_orders"]].tolist() == [4, 1]
    assert s.loc["18-24", "rate_ratio"] == pytest.approx(4.0)
    assert s.loc["65+", "other_orders"] == 0 and np.isnan(s.loc["65+", "rate_ratio"])


def test_unknown_segment_column_is_named():
    with pytest.raises(UnknownNameError, match="unknown segment column 'age'.*age_band"):
        of.discount_sensitivity(TINY, TINY_CUSTOMERS, by="age", sales=SALE)


def _sens(lows: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"segment": list(lows), "rate_ratio": [x + 0.5 for x in lows.values()],
                         "low": list(lows.values()), "high": [x + 1 for x in lows.values()]})


def test_offer_never_goes_deeper_than_the_margin_allows():
    plan = of.offer_plan(_sens({"keen": 5.0, "mild": 1.2, "flat": 0.9}), margin=0.30,
                         min_margin=0.15).set_index("segment")
    # deepest discount keeping 15 % margin: 1 - 0.70 / 0.85 = 17.6 %, so 15 % from the ladder
    assert plan.margin_cap.iloc[0] == pytest.approx(1 - 0.70 / 0.85)
    # keen: pays up to 0.30 x (1 - 1/5) = 24 %, capped by the margin at 15 %
    assert plan.loc["keen", "pays_up_to"] == pytest.approx(0.24)
    assert plan.loc["keen", "offer"] == 0.15
    assert plan.loc["keen", "margin_after"] == pytest.approx(1 - 0.70 / 0.85)
    assert plan.loc["keen", "margin_after"] >= 0.15
    # mild: pays only up to 0.30 x (1 - 1/1.2) = 5 %, under the smallest step (10 %)
    assert plan.loc["mild", "offer"] == 0 and plan.loc["mild", "pays_up_to"] == pytest.approx(0.05)
    assert plan.loc["flat", "offer"] == 0
    assert plan.loc["flat", "why"] == "a sale does not clearly lift this segment's buying"


def test_no_room_in_the_margin_means_no_discount_and_bad_settings_are_refused():
    plan = of.offer_plan(_sens({"keen": 5.0}), margin=0.10, min_margin=0.15)
    assert plan.offer.tolist() == [0.0] and plan.margin_cap.tolist() == [0.0]
    capped = of.offer_plan(_sens({"keen": 5.0}), margin=0.6, max_depth=0.12)
    assert capped.offer.tolist() == [0.10]  # never deeper than any sale that was measured
    with pytest.raises(ConfigError, match="min_margin must be between 0 and 1"):
        of.offer_plan(_sens({"keen": 5.0}), margin=0.5, min_margin=-0.1)


def test_full_price_buyers_have_several_orders_and_no_discount():
    o = _orders([("x", "2025-01-01", 10, 0), ("x", "2025-01-02", 10, 0), ("x", "2025-01-03", 10, 0),
                 ("y", "2025-01-01", 10, 0), ("y", "2025-01-02", 10, 0), ("y", "2025-01-03", 9, 1),
                 ("z", "2025-01-01", 10, 0), ("z", "2025-01-02", 10, 0)])
    assert list(of.full_price_buyers(o)) == ["x"]


def test_harbor_sensitivity_by_age_band_matches_the_planted_ordering(harbor):
    _, res = harbor
    truth = json.loads((SAMPLE_DIR / "harbor_coffee" / "truth.json").read_text())
    odds = truth["discount_sensitivity"]["odds_multiplier"]
    s = res.sensitivity.set_index("segment").loc[list(odds)]
    assert res.by == "age_band"
    hi, lo = s.loc[truth["discount_sensitivity"]["most_sensitive"]], s.loc["65+"]
    assert hi.rate_ratio > lo.rate_ratio and hi.low > lo.high  # intervals apart
    # Tolerance: rank correlation with the planted multipliers at least 0.94 (one swap of
    # neighbours at most) and the planted value inside the 95 % interval for 5 of the 6 bands.
    from scipy.stats import spearmanr

    assert spearmanr(s.rate_ratio, list(odds.values()))[0] >= 0.94
    inside = [(r.low <= odds[k] <= r.high) for k, r in s.iterrows()]
    assert sum(inside) >= 5
    assert res.headline["most_sensitive"] == "18-24" and res.headline["least_sensitive"] == "65+"


def test_harbor_offers_follow_sensitivity_and_respect_the_margin(harbor):
    plan, res = harbor
    offers = res.offers.set_index("segment")
    assert offers.offer.is_monotonic_decreasing  # 18-24 first, 65+ last
    assert offers.loc["65+", "offer"] == 0 and offers.loc["18-24", "offer"] > 0
    assert (offers.offer <= offers.margin_cap).all() and (offers.margin_after >= 0.15).all()
    assert offers.offer.max() <= res.sale_days.depth.max() + 1e-9
    # customers with 3+ orders and not one discounted get nothing, whatever their segment
    o = plan.prepared("orders")
    o = o[~o.is_refund & (o.order_date < plan.as_of + pd.Timedelta(days=1))]
    per = (o.discount > 0).groupby(o.customer_id).agg(["size", "sum"])
    full = per.index[(per["size"] >= 3) & (per["sum"] == 0)]
    cust = res.customers.set_index("customer_id")
    full = full.intersection(cust.index)  # only customers who may be e-mailed are in the file
    assert len(full) > 100 and (cust.loc[full, "offer"] == 0).all()
    assert res.headline["full_price_buyers"] == len(full)
    assert "never with a discount: they get none" in res.reading


def test_harbor_sale_days_are_the_planted_sales(harbor):
    _, res = harbor
    truth = json.loads((SAMPLE_DIR / "harbor_coffee" / "truth.json").read_text())
    planted = set().union(*[set(pd.date_range(s["start"], s["end"]))
                            for s in truth["demand"]["sale_days"]])
    found = set(res.sale_days.day)
    assert planted <= found and len(found - planted) <= 2  # every sale found, little else


def test_summit_uses_rfm_segments_and_says_its_margin_is_assumed(tmp_path_factory):
    plan = open_plan("summit_outdoor", run_dir=tmp_path_factory.getbasetemp() / "summit_step07")
    res = of.offers_section(plan)
    assert res.supported and res.by == "segment"
    assert any("the offers assume 50%" in w for w in res.warnings)
    assert any(w.startswith("RFM segments are drawn from the same purchases") for w in res.warnings)


def test_business_without_sales_gets_no_blanket_discount(tmp_path):
    res = of.offers_section(open_plan("bloom_yoga", run_dir=tmp_path / "run"))
    assert not res.supported and res.reason.startswith("No sale days found")
    assert res.offers.empty


def test_plot_sensitivity_title_states_the_finding_smoke(harbor):
    _, res = harbor
    assert of.plot_sensitivity(res).get_title().startswith("A sale lifts buying 3.")


def test_offers_file_holds_only_customers_who_may_be_emailed(harbor):
    _, harbor_offers = harbor
    customers = pd.read_csv(SAMPLE_DIR / "harbor_coffee" / "data" / "customers.csv")
    said_no = set(customers.loc[customers["consent_email"].astype(str).str.lower()
                                .isin(["false", "no"]), "customer_id"])
    assert said_no and not said_no & set(harbor_offers.customers["customer_id"])
    assert any("have not agreed to e-mail" in w for w in harbor_offers.warnings)
