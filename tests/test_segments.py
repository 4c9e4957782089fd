"""RFM segments and cohort retention: hand-computed examples, invariants, the harbor_coffee sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import segments
from helpers.plan import PII_NAME, open_plan
from tests.conftest import ROOT, write_business

AS_OF = pd.Timestamp("2025-06-30")
HARBOR = ROOT / "sample_data" / "harbor_coffee"


def orders(rows) -> pd.DataFrame:
    """Canonical orders from (order_id, customer_id, order_date, revenue) tuples."""
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "revenue"])
    return frame.astype({"order_id": "str", "customer_id": "str", "order_date": "datetime64[ns]",
                         "revenue": float})


HAND = orders([
    ("1", "A", "2025-01-10", 100.0),
    ("2", "A", "2025-06-01", 50.0),
    ("3", "A", "2025-06-05", -50.0),  # a refund: counts against monetary, not as a purchase
    ("4", "B", "2025-03-01", 80.0),
    ("5", "B", "2025-07-15", 999.0),  # after the analysis date: ignored
    ("6", "C", "2025-06-30 15:30", 20.0),  # on the analysis date: counted
    ("7", "D", "2025-08-01", 10.0),  # D only ordered after the analysis date
    ("8", None, "2025-05-01", 35.0),  # a guest order
])


def random_orders(n_customers: int, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_customers * 3
    frame = orders(zip(
        [str(i) for i in range(n)],
        [f"C{i}" for i in rng.integers(0, n_customers, n)],
        AS_OF - pd.to_timedelta(rng.integers(-30, 900, n), "D"),
        np.round(rng.gamma(2, 30, n) * rng.choice([1, 1, 1, 1, 1, 1, 1, 1, 1, -1], n), 2),
        strict=True))
    frame.loc[frame.index[:5], "customer_id"] = None
    return frame


def test_rfm_matches_hand_computation_with_refund_and_late_order():
    rfm = segments.rfm_table(HAND, as_of=AS_OF).set_index("customer_id")
    assert sorted(rfm.index) == ["A", "B", "C"]
    assert rfm.loc["A", ["recency_days", "frequency", "monetary"]].tolist() == [29, 2, 100.0]
    assert rfm.loc["B", ["recency_days", "frequency", "monetary"]].tolist() == [121, 1, 80.0]
    assert rfm.loc["C", ["recency_days", "frequency", "monetary"]].tolist() == [0, 1, 20.0]


def test_rfm_matches_direct_pandas_computation():
    data = random_orders(300, seed=3)
    rfm = segments.rfm_table(data, as_of=AS_OF).set_index("customer_id")
    seen = data[data.customer_id.notna() & (data.order_date < AS_OF + pd.Timedelta(days=1))]
    buys = seen[seen.revenue >= 0]
    assert rfm.monetary.to_dict() == pytest.approx(seen.groupby("customer_id").revenue.sum().to_dict())
    freq = buys.groupby("customer_id").size().reindex(rfm.index, fill_value=0)
    assert (rfm.frequency == freq).all()
    has_buys = rfm.index.isin(buys.customer_id)
    recency = (AS_OF - buys.groupby("customer_id").order_date.max().dt.normalize()).dt.days
    assert (rfm.recency_days[has_buys] == recency.reindex(rfm.index[has_buys])).all()


def test_every_customer_with_an_order_gets_exactly_one_segment():
    data = random_orders(500, seed=1)
    rfm = segments.rfm_table(data, as_of=AS_OF)
    dated = data.customer_id.notna() & (data.order_date < AS_OF + pd.Timedelta(days=1))
    expected = set(data.customer_id[dated])
    assert set(rfm.customer_id) == expected
    assert rfm.customer_id.is_unique
    assert rfm.segment.isin(segments.SEGMENTS).all()


def test_grid_names_all_eleven_segments_and_every_score_pair():
    assert segments.GRID.shape == (5, 5)
    assert set(segments.GRID.ravel()) == set(segments.SEGMENTS)
    assert set(segments.ACTIONS) == set(segments.SEGMENTS)


def test_scores_are_quintiles_and_ties_share_a_score():
    assert segments.rfm_score(pd.Series(range(10))).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # most customers bought once: they all get F = 1; the one who bought twice is in the top half
    assert segments.rfm_score(pd.Series([1, 1, 1, 2])).tolist() == [1, 1, 1, 4]
    assert segments.rfm_score(pd.Series([7.0])).tolist() == [1]


def test_champions_bought_recently_often_and_much():
    rfm = segments.rfm_table(random_orders(400, seed=2), as_of=AS_OF)
    champions, lost = rfm[rfm.segment == "Champions"], rfm[rfm.segment == "Lost"]
    assert champions.recency_days.max() < lost.recency_days.min()
    assert champions.monetary.mean() > 2 * lost.monetary.mean()


def test_segment_shares_sum_to_one_and_sizes_add_up():
    rfm = segments.rfm_table(random_orders(300, seed=4), as_of=AS_OF)
    summary = segments.segment_summary(rfm)
    assert summary.revenue_share.sum() == pytest.approx(1.0)
    assert summary.customer_share.sum() == pytest.approx(1.0)
    assert summary.customers.sum() == len(rfm)
    assert summary.revenue.sum() == pytest.approx(rfm.monetary.sum())
    assert summary.action.notna().all()


def test_few_customers_are_flagged_as_unreliable():
    finding = segments.rfm_data(HAND, as_of=AS_OF)
    assert "Only 3 customers" in finding.numbers["warning"]
    assert finding.numbers["warning"] in finding.reading
    assert "warning" not in segments.rfm_data(random_orders(200), as_of=AS_OF).numbers


def test_cohort_retention_on_a_three_customer_example():
    data = orders([
        ("1", "X", "2025-01-05", 10.0), ("2", "X", "2025-02-10", 10.0), ("3", "X", "2025-04-02", 10.0),
        ("4", "Y", "2025-01-20", 10.0), ("5", "Y", "2025-02-03", -10.0),  # refund: not a return
        ("6", "Z", "2025-02-14", 10.0), ("7", "Z", "2025-03-01", 10.0),
    ])
    found = segments.cohort_retention_data(data, as_of="2025-04-30", months=3)
    expected = pd.DataFrame([[1.0, 0.5, 0.0, 0.5], [1.0, 1.0, 0.0, np.nan]],
                            index=["2025-01", "2025-02"], columns=range(4))
    pd.testing.assert_frame_equal(found.data, expected, check_names=False, check_dtype=False)
    assert found.numbers["retention"] == pytest.approx({1: 2 / 3, 3: 1 / 2})
    # X and Y first ordered 90+ days before 30 April; only X came back within 90 days
    assert found.numbers["repeat_customers"] == 2
    assert found.numbers["repeat_share"] == 0.5
    assert found.numbers["median_days_to_second"] == 25.5  # X after 36 days, Z after 15
    assert found.title == "50% of first-time buyers order again within 3 months"


def test_cohort_averages_leave_out_customers_who_predate_the_data():
    # ten regulars buy every month from the first month on; two new customers a month never return
    months = pd.date_range("2024-01-01", periods=16, freq="MS")
    rows = [(f"r{i}{m:%y%m}", f"R{i}", m, 10.0) for i in range(10) for m in months]
    rows += [(f"n{j}{m:%y%m}", f"N{j}{m:%y%m}", m + pd.Timedelta(days=9), 10.0)
             for j in range(2) for m in months]
    found = segments.cohort_retention_data(orders(rows), as_of="2025-04-30")
    assert found.numbers["warmup_months"] == 3
    assert found.data.loc["2024-01", 1] == pytest.approx(10 / 12)  # the regulars, seen as new
    assert found.numbers["retention"] == {1: 0.0, 3: 0.0, 6: 0.0}
    assert found.numbers["repeat_share"] == 0.0
    assert "left out of these averages" in found.reading


def test_sections_without_orders_say_what_would_enable_them(tmp_path):
    folder = write_business(tmp_path / "shop", data={"leads": "data/leads.csv"},
                            files={"data/leads.csv": "lead_id,created_at\nL1,2025-01-01\n"})
    plan = open_plan(folder, run_dir=tmp_path / "run")
    for finding in (segments.rfm(plan), segments.cohorts(plan)):
        assert not finding.ok
        assert "needs your orders table" in finding.reading
        assert "add `orders: {path: data/orders.csv}`" in finding.reading


@pytest.mark.skipif(not (HARBOR / "business.yaml").exists(), reason="harbor_coffee not generated")
def test_harbor_coffee_customers_each_get_one_segment_and_no_personal_data(tmp_path):
    plan = open_plan(HARBOR, run_dir=tmp_path)
    data = plan.table("orders")
    finding = segments.rfm(plan)
    table = finding.extra["customers"]
    dated = data[data.customer_id.notna() & (data.order_date < plan.as_of + pd.Timedelta(days=1))]
    assert set(table.customer_id) == set(dated.customer_id) and table.customer_id.is_unique
    assert table.segment.isin(segments.SEGMENTS).all()
    assert list(table.columns) == list(segments.RFM_COLUMNS)
    assert not any(PII_NAME.search(c) for c in table.columns)
    assert finding.data.revenue_share.sum() == pytest.approx(1.0)
