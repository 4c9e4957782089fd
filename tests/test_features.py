"""Step 06 features: customer features and labels by hand on tiny tables, the leakage guard, the
churn window, the RFM rule and the lead features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import features as ft
from helpers.errors import LeakageError

CUTOFF = pd.Timestamp("2025-06-01")


def _orders(rows) -> pd.DataFrame:
    """Orders as step 04 prepares them: is_refund for negative revenue, net_revenue = revenue."""
    o = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "revenue",
                                    "discount"])
    o["order_date"] = pd.to_datetime(o.order_date, format="mixed")
    return o.assign(is_refund=o.revenue < 0, net_revenue=o.revenue)


ORDERS = _orders([
    ("O1", "A", "2025-01-10 09:00", 40.0, 5.0),
    ("O2", "A", "2025-03-01 10:00", 60.0, 0.0),
    ("O3", "A", "2025-05-20 18:30", 50.0, 0.0),
    ("O4", "A", "2025-06-15 12:00", 70.0, 0.0),   # after the cutoff: never a feature
    ("O5", "B", "2024-03-01 08:00", 80.0, 10.0),  # more than 365 days before the cutoff
    ("O6", "B", "2025-04-02 08:00", -20.0, 0.0),  # a refund: not a purchase
])
CUSTOMERS = pd.DataFrame({
    "customer_id": ["A", "B", "C", "D"],
    "signup_date": pd.to_datetime(["2024-12-01", "2024-02-20", "2025-04-01", "2025-07-01"]),
    "region": ["North", "South", None, "North"],
})
EMAILS = pd.DataFrame({
    "customer_id": ["A", "A", "A", "C"],
    "sent_at": pd.to_datetime(["2025-05-01", "2025-05-30", "2025-06-05", "2025-05-10"]),
    "opened_at": pd.to_datetime(["2025-05-02", "2025-06-02", "2025-06-05", None]),
})


@pytest.fixture(scope="module")
def frame():
    return ft.customer_features(ORDERS, cutoff=CUTOFF, customers=CUSTOMERS, email_events=EMAILS)


def test_features_by_hand(frame):
    assert list(frame.index) == ["A", "B", "C"]  # D signed up after the cutoff
    a, b, c = frame.loc["A"], frame.loc["B"], frame.loc["C"]
    assert a.recency_days == 12  # 20 May -> 1 Jun; the 15 Jun order is not seen
    assert a.frequency_365 == 3 and a.log1p_orders_365 == pytest.approx(np.log(4))
    assert a.monetary_365 == 150.0
    assert a.discount_share_365 == pytest.approx(1 / 3)
    assert a.avg_gap_days == pytest.approx((pd.Timestamp("2025-05-20")
                                            - pd.Timestamp("2025-01-10")).days / 2)
    assert a.tenure_days == (CUTOFF - pd.Timestamp("2024-12-01")).days
    # two e-mails before the cutoff; the second was opened after it, so it is not an open yet
    assert a.emails_received == 2 and a.email_open_rate == 0.5
    assert b.recency_days == (CUTOFF - pd.Timestamp("2024-03-01")).days  # the refund is no purchase
    assert b.frequency_365 == 0 and b.discount_share_365 == 0.0
    assert b.monetary_365 == -20.0 and np.isnan(b.avg_gap_days)
    assert c.recency_days == 61 and c.tenure_days == 61  # never bought: since sign-up
    assert c.emails_received == 1 and c.email_open_rate == 0.0
    assert frame.loc["A", "region"] == "North"


def test_features_record_their_cutoff_and_latest_input(frame):
    assert frame.attrs["cutoff"] == CUTOFF
    assert frame.attrs["latest_input"] == pd.Timestamp("2025-05-30")
    assert frame.attrs["latest_input_column"] == "email_events.sent_at"
    ft.assert_no_leakage(frame, CUTOFF)  # passes


def test_leakage_guard_names_the_column_and_dates():
    with pytest.raises(LeakageError, match=r"orders\.order_date: features for the cutoff "
                                           r"2025-06-01 use 1 value\(s\) dated on or after it "
                                           r"\(up to 2025-06-15\)"):
        ft.assert_no_leakage({"orders.order_date": ORDERS.order_date}, CUTOFF)


def test_a_feature_function_that_forgets_to_filter_fails():
    def sloppy(orders, cutoff):  # computes recency from every order, the cutoff's future too
        last = orders.groupby("customer_id").order_date.max()
        out = (cutoff - last).dt.days.to_frame("recency_days")
        out.attrs.update(latest_input=orders.order_date.max(),
                         latest_input_column="orders.order_date")
        return out

    with pytest.raises(LeakageError, match="orders.order_date"):
        ft.assert_no_leakage(sloppy(ORDERS, CUTOFF), CUTOFF)
    unstamped = pd.DataFrame({"recency_days": [3.0]})
    with pytest.raises(LeakageError, match="does not record the dates it used"):
        ft.assert_no_leakage(unstamped, CUTOFF)


def test_purchase_labels_window_is_half_open():
    o = _orders([("1", "A", "2025-06-01 00:00", 10.0, 0), ("2", "B", "2025-07-01 00:00", 10.0, 0),
                 ("3", "C", "2025-06-10", -5.0, 0), ("4", "D", "2025-05-31 23:59", 10.0, 0)])
    y = ft.purchase_labels(o, cutoff=CUTOFF, horizon_days=30,
                           index=pd.Index(["A", "B", "C", "D", "E"]))
    # A buys on the cutoff (in), B exactly 30 days later (out), C only a refund, D the day before
    assert y.to_dict() == {"A": 1, "B": 0, "C": 0, "D": 0, "E": 0}


def test_churn_labels_only_for_customers_active_in_the_year_before():
    o = _orders([("1", "A", "2025-05-01", 10.0, 0), ("2", "A", "2025-06-20", 10.0, 0),
                 ("3", "B", "2025-01-01", 10.0, 0), ("4", "C", "2024-01-01", 10.0, 0)])
    y = ft.churn_labels(o, cutoff=CUTOFF, window_days=60)
    assert y.to_dict() == {"A": 0, "B": 1}  # C last bought over a year before: not active


def test_churn_window_from_the_gaps_between_purchase_days():
    days = ["2025-01-01", "2025-01-11", "2025-01-31", "2025-03-12", "2025-05-01"]
    o = _orders([(str(i), "A", d, 10.0, 0) for i, d in enumerate(days)])
    window, why = ft.churn_window(o)  # gaps 10, 20, 40, 50 days
    assert why["gap_days"] == pytest.approx(pd.Series([10, 20, 40, 50]).quantile(0.9))  # 47
    assert window == 60 and not why["capped"]
    assert ft.churn_window(o, cap_days=45)[0] == 45
    short = _orders([(str(i), "A", f"2025-01-{d:02d}", 10.0, 0) for i, d in enumerate([1, 3, 5])])
    assert ft.churn_window(short)[0] == 30  # at least 30 days


def test_rfm_rule_ranks_recency_first(frame):
    rule = ft.rfm_baseline(frame)
    assert rule["A"] > rule["C"] > rule["B"]  # C is more recent (sign-up) than B


def test_lead_features_coerce_and_leave_out():
    n = 10
    leads = pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(n)],
        "created_at": pd.to_datetime(["2025-01-01"] * n),
        "source": ["web", "referral"] * 5,
        "attended": ["true", "false", "TRUE", None, "false"] * 2,
        "distance_km": ["1.5", "3", "2,000", "4", "x", "1", "2", "3", "4", "5"],
        "notes": [f"note {i}" for i in range(n)],
        "email": ["a@x.com"] * n, "stage": ["won"] * n,
        "converted": [True, False] * 5, "value": [100.0, None] * 5,
    })
    X = ft.lead_features(leads)
    assert list(X.columns) == ["source", "attended", "distance_km"]
    assert X.attended.tolist()[:3] == [1.0, 0.0, 1.0] and np.isnan(X.attended["L3"])
    # 9 in 10 read as numbers ("2,000" is 2000): a number column, the odd one blank
    assert X.distance_km.tolist()[:4] == [1.5, 3.0, 2000.0, 4.0] and np.isnan(X.distance_km["L4"])
    left = X.attrs["left_out"]
    assert left["email"] == "personal data" and left["stage"] == "outcome, or known only later"
    assert left["converted"] == left["value"] == "outcome, or known only later"
    assert left["notes"].startswith("free text")


def test_lead_outcomes_leave_young_unconverted_leads_undecided():
    leads = pd.DataFrame({
        "lead_id": ["L1", "L2", "L3", "L4"],
        "created_at": pd.to_datetime(["2025-01-01", "2025-01-05", "2025-06-20", "2025-06-25"]),
        "converted": [True, False, False, True],
        "converted_at": pd.to_datetime(["2025-01-11", None, None, "2025-06-28"]),
    })
    y, days = ft.lead_outcomes(leads, as_of="2025-06-30")
    assert days == 14  # the 95th percentile of 10 and 3 days, rounded up to whole weeks
    assert y["L1"] == 1 and y["L2"] == 0
    assert np.isnan(y["L3"]) and np.isnan(y["L4"])  # younger than 14 days: still open


def test_one_class_leads_cannot_train_and_say_why():
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(40)],
                          "created_at": pd.date_range("2024-01-01", periods=40, freq="5D"),
                          "source": ["web", "ads"] * 20, "converted": [False] * 40})
    reason = ft.lead_dataset(leads, as_of="2025-06-30")
    assert isinstance(reason, str)
    assert "the `converted` column marks 0 as converted and 40 as not" in reason
    assert "at least 10 of each" in reason
