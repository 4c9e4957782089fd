"""Step 07 product suggestions: cosine similarity and lift by hand on tiny baskets, hit rates by
hand with no leakage from the test window, and the planted co-purchase pairs of harbor_coffee."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from helpers import recommend as rc
from helpers.plan import SAMPLE_DIR, open_plan


def _baskets(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """(order_id, customer_id, order_date, product_id) rows as a basket table."""
    b = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "product_id"])
    return b.assign(order_date=pd.to_datetime(b.order_date))


TINY = _baskets([
    ("O1", "C1", "2025-01-01", "A"), ("O1", "C1", "2025-01-01", "B"),
    ("O2", "C2", "2025-01-02", "A"), ("O2", "C2", "2025-01-02", "B"),
    ("O3", "C3", "2025-01-03", "A"), ("O3", "C3", "2025-01-03", "C"),
    ("O4", "C4", "2025-01-04", "B"),
    ("O5", "C5", "2025-01-05", "D"),
])


@pytest.fixture(scope="module")
def harbor(tmp_path_factory):
    """harbor_coffee's section, computed once (the run folder is shared by the step 07 tests)."""
    plan = open_plan("harbor_coffee", run_dir=tmp_path_factory.getbasetemp() / "harbor_step07")
    return plan, rc.recommendations_section(plan)


def test_similarity_is_the_cosine_of_basket_columns_by_hand():
    model = rc.ItemItemRecommender(n=3, min_support=1).fit(TINY)
    sim = pd.DataFrame(model.similarity_.toarray(), index=model.items_, columns=model.items_)
    # A is in 3 baskets, B in 3, C in 1; A and B share 2, A and C share 1, B and C none
    assert sim.loc["A", "B"] == pytest.approx(2 / math.sqrt(3 * 3))
    assert sim.loc["A", "C"] == pytest.approx(1 / math.sqrt(3 * 1))
    assert sim.loc["B", "C"] == 0 and sim.loc["A", "A"] == 0
    assert model.popularity_["A"] == pytest.approx(3 / 5)


def test_recommend_ranks_by_similarity_fills_with_best_sellers_and_skips_what_was_bought():
    model = rc.ItemItemRecommender(n=3, min_support=1).fit(TINY)
    got = model.recommend(["C3", "NEW"]).set_index(["customer_id", "rank"])
    # C3 bought A and C: B scores 2/3 (from A) + 0 (from C); D only fills in, as a best-seller
    assert list(got.loc["C3"].product_id) == ["B", "D"]
    assert list(got.loc["C3"].source) == ["co-purchase", "popular"]
    assert got.loc[("C3", 1), "score"] == pytest.approx(2 / 3)
    assert got.loc[("C3", 2), "score"] == pytest.approx(1 / 5)  # D's share of baskets
    # an unknown customer gets the best-sellers: A and B (3 baskets each), then C / D (1 each)
    assert list(got.loc["NEW"].product_id)[:2] == ["A", "B"]
    assert set(got.loc["NEW"].source) == {"popular"}


def test_min_support_drops_pairs_seen_too_rarely():
    model = rc.ItemItemRecommender(n=2, min_support=2).fit(TINY)
    sim = pd.DataFrame(model.similarity_.toarray(), index=model.items_, columns=model.items_)
    assert sim.loc["A", "B"] > 0 and sim.loc["A", "C"] == 0  # A+C is in one basket only


def test_top_pairs_lift_by_hand():
    pairs = rc.top_pairs(TINY, min_support=1, n=None).set_index(["item_a", "item_b"])
    # 5 baskets: A+B together 2, by chance 3 x 3 / 5 = 1.8; A+C together 1, by chance 3 x 1 / 5
    assert pairs.loc[("A", "B"), "expected"] == pytest.approx(1.8)
    assert pairs.loc[("A", "B"), "lift"] == pytest.approx(2 / 1.8)
    assert pairs.loc[("A", "C"), "lift"] == pytest.approx(1 / 0.6)
    assert list(pairs.index) == [("A", "C"), ("A", "B")]  # sorted by lift


def _hit_rate_world() -> pd.DataFrame:
    """Ten customers buy C alone, five buy A with B, before 2025-03-01; after it T1 (who had
    bought A) buys B, T2 (new) buys A with B, and T3 buys E, a product sold only after it."""
    rows = [(f"Y{i}", f"Y{i}", "2025-01-10", "C") for i in range(10)]
    rows += [(f"X{i}", f"X{i}", "2025-01-20", p) for i in range(5) for p in ("A", "B")]
    rows += [("T1a", "T1", "2025-02-01", "A"), ("T1b", "T1", "2025-03-05", "B"),
             ("T2a", "T2", "2025-03-06", "A"), ("T2a", "T2", "2025-03-06", "B"),
             ("T3a", "T3", "2025-02-02", "C"), ("T3b", "T3", "2025-03-07", "E")]
    return _baskets(rows)


def test_next_order_hit_rate_by_hand_without_leakage():
    ev = rc.hit_rate_at_k(_hit_rate_world(), k=1, test_days=10).set_index("method")
    assert ev.test_from.iloc[0] == pd.Timestamp("2025-02-26")
    # T1 (history A) and T3 (history C) are tested. Co-purchase: T1 gets B (bought with A): hit;
    # T3 gets A, the best-seller it lacks (C has no partner): miss, since E was never seen before
    # the window. Best-sellers: T1 gets C (miss), T3 gets A (miss).
    assert ev.loc["co-purchase", ["customers", "hits"]].tolist() == [2, 1]
    assert ev.loc["popularity", ["customers", "hits"]].tolist() == [2, 0]
    low, high = ev.loc["co-purchase", ["low", "high"]]
    from statsmodels.stats.proportion import proportion_confint

    assert (low, high) == pytest.approx(proportion_confint(1, 2, method="wilson"))


def test_complete_basket_hides_one_product_and_names_its_partner():
    ev = rc.hit_rate_at_k(_hit_rate_world(), k=1, test_days=10, task="complete_basket")
    ev = ev.set_index("method")
    # only T2's last order has two products: whichever is hidden, its partner is in the basket
    assert ev.loc["co-purchase", ["customers", "hits"]].tolist() == [1, 1]
    assert ev.loc["popularity", ["customers", "hits"]].tolist() == [1, 0]


def test_unknown_task_is_named():
    with pytest.raises(ValueError, match="next_order' or 'complete_basket'"):
        rc.hit_rate_at_k(_hit_rate_world(), task="next_basket")


def test_harbor_bought_together_beats_best_sellers_on_baskets(harbor):
    _, res = harbor
    ev = res.evaluation.set_index(["task", "method"])
    co, pop = ev.loc[("complete_basket", "co-purchase")], ev.loc[("complete_basket", "popularity")]
    assert co.hit_rate > pop.hit_rate and co.low > pop.high  # intervals apart
    assert co.p_value < 0.001 and co.customers >= 100
    assert res.headline["complete_basket_hit_rate_co_purchase"] == pytest.approx(co.hit_rate)


def test_harbor_next_order_is_honestly_no_better_than_best_sellers(harbor):
    # The generator draws each online basket afresh (truth: co-purchase is within a basket), so
    # history does not predict the next basket's products: the section must say so and fall back.
    _, res = harbor
    ev = res.evaluation.set_index(["task", "method"])
    assert ev.loc[("next_order", "co-purchase"), "hit_rate"] <= \
        ev.loc[("next_order", "popularity"), "high"]
    assert res.uses == "popularity" and set(res.recommendations.source) == {"popular"}
    assert "best-sellers they have not bought yet" in res.reading
    assert "Bought-together pairs do predict baskets" in res.reading


def test_harbor_planted_category_pairs_come_first(harbor):
    _, res = harbor
    truth = json.loads((SAMPLE_DIR / "harbor_coffee" / "truth.json").read_text())["co_purchase"]
    planted = {frozenset(k.split("+")) for k, v in truth["pairs"].items()
               if v["planted_join_multiplier"] > 1}
    cats = res.category_pairs
    top3 = {frozenset(p) for p in zip(cats.item_a.head(3), cats.item_b.head(3), strict=True)}
    assert top3 == planted
    lowest = cats.sort_values("lift").iloc[0]
    assert {lowest.item_a, lowest.item_b} == {"ground", "whole_bean"} and lowest.lift < 0.2
    assert "Ground and whole bean rarely share a basket" in res.reading


def test_harbor_suggestions_never_repeat_a_purchase_and_carry_no_personal_data(harbor):
    plan, res = harbor
    recs = res.recommendations
    baskets = rc.basket_table(plan.prepared("orders"), plan.prepared("order_items"),
                              plan.prepared("products"), as_of=plan.as_of)
    bought = recs.merge(baskets[["customer_id", "product_id"]].drop_duplicates())
    assert bought.empty
    assert list(recs.columns) == rc.REC_COLUMNS and recs.groupby("customer_id").size().max() == 3
    assert recs.name.notna().all()


def test_summit_names_come_from_the_order_lines(tmp_path_factory):
    plan = open_plan("summit_outdoor", run_dir=tmp_path_factory.getbasetemp() / "summit_step07")
    res = rc.recommendations_section(plan)
    items = plan.prepared("order_items").drop_duplicates("product_id").set_index("product_id")
    recs = res.recommendations
    assert res.supported and len(recs) > 1000 and res.category_pairs.empty
    assert (recs.name == recs.product_id.map(items["name"])).all()


def test_business_without_order_lines_is_told_what_to_add(tmp_path):
    plan = open_plan("bloom_yoga", run_dir=tmp_path / "run")
    res = rc.recommendations_section(plan)
    assert not res.supported
    assert res.reason.startswith("Product suggestions need your order_items table")
    assert "There is no order_items table: add `order_items:" in res.reason


def test_plot_hit_rate_title_states_the_finding_smoke(harbor):
    _, res = harbor
    ax = rc.plot_hit_rate(res)
    assert ax.get_title().startswith("Bought-together suggestions were right for")
