"""Step 04 scorecard: each dimension against hand computation on a tiny business, the planted
duplicates of harbor_coffee seen before and gone after, the chart's data and the readings."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers import prepare as prep
from helpers import quality as q
from helpers.io import to_json_text
from helpers.plan import open_plan
from tests.conftest import write_business

AS_OF = pd.Timestamp("2025-06-30")  # as in conftest.write_business
FILES = {
    "data/customers.csv": ("customer_id,email,signup_date,region\n"
                           "C1,a@x.com,2024-01-01,North\n"
                           "C2,B@x.com,2024-02-01,\n"
                           "C3,b@x.com,2024-03-01,South\n"
                           "C4,not-an-email,2025-06-02,West\n"),
    "data/orders.csv": ("order_id,customer_id,order_date,revenue\n"
                        "O1,C1,2025-06-01,10.00\n"
                        "O2,C3,2025-06-02,20.00\n"
                        "O3,C9,2025-06-03,5.00\n"
                        "O4,C2,not a date,7.00\n"
                        "O5,C1,2025-07-15,3.00\n"),
    "data/order_items.csv": ("order_id,product_id,quantity\n"
                             "O1,P1,2\nO1,P1,2\nO4,P2,1\nO3,P3,1\n"),
    "data/email_events.csv": ("campaign_id,customer_id,sent_at,opened_at,clicked_at,unsubscribed\n"
                              "K1,C3,2025-06-01 10:00,,,no\n"
                              "K1,C2,2025-06-01 10:00,2025-06-01 11:00,,no\n"
                              "K1,C7,2025-06-01 10:00,,,maybe\n"),
}


def _linear(days: int) -> float:
    return 1 - (days - 7) / (365 - 7)


# (table, dimension): (before, after), worked out by hand from FILES above
EXPECTED = {
    # 16 cells, C2's region blank | after the merge C2 has C3's region, C4's e-mail is emptied
    ("customers", "completeness"): (15 / 16, 11 / 12),
    ("customers", "validity"): (14 / 15, 1.0),  # 'not-an-email' is not an address
    ("customers", "uniqueness"): (3 / 4, 1.0),  # C3 repeats C2's e-mail, letter case aside
    ("customers", "timeliness"): (_linear(28), _linear(28)),  # latest signup 2 Jun 2025
    ("orders", "completeness"): (1.0, 1.0),
    ("orders", "validity"): (18 / 20, 15 / 16),  # O4 unreadable (dropped after), O5 after as_of
    ("orders", "uniqueness"): (1.0, 1.0),
    ("orders", "consistency"): (4 / 5, 3 / 4),  # C9 unknown; C3 merged away, O2 relinked, O4 gone
    ("orders", "timeliness"): (1.0, 1.0),  # O5 is after the analysis date
    ("order_items", "completeness"): (1.0, 1.0),
    ("order_items", "validity"): (1.0, 1.0),
    ("order_items", "uniqueness"): (3 / 4, 3 / 4),  # one exact copy, kept: no key to judge by
    ("order_items", "consistency"): (1.0, 3 / 4),  # O4 was left out for its unreadable date
    # opened_at and clicked_at are left out of completeness: a blank there means "not opened"
    ("email_events", "completeness"): (1.0, 11 / 12),  # 'maybe' is not a yes/no
    ("email_events", "validity"): (12 / 13, 1.0),
    ("email_events", "uniqueness"): (1.0, 1.0),
    ("email_events", "consistency"): (2 / 3, 2 / 3),  # C7 is nobody
    ("email_events", "timeliness"): (_linear(29), _linear(29)),
}
NOT_CHECKED = {("customers", "consistency"), ("order_items", "timeliness")}


@pytest.fixture
def tiny(tmp_path):
    folder = write_business(tmp_path / "shop", files=FILES,
                            data={t: f"data/{t}.csv" for t in
                                  ("customers", "orders", "order_items", "email_events")})
    plan = open_plan(folder, run_dir=tmp_path / "run")
    prepared = prep.prepare_tables(plan)
    return plan, prepared, q.scorecard(plan, prepared)


def test_every_dimension_matches_the_hand_computation(tiny):
    _, _, card = tiny
    got = card.set_index(["table", "dimension"])
    assert len(card) == 4 * len(q.DIMENSIONS)
    for key, (before, after) in EXPECTED.items():
        assert got.loc[key, "before"] == pytest.approx(before), key
        assert got.loc[key, "after"] == pytest.approx(after), key
        assert got.loc[key, "checked"], key
    for key in NOT_CHECKED:
        assert got.loc[key, ["before", "after", "checked"]].tolist() == [1.0, 1.0, False]
        assert got.loc[key, "after_detail"].startswith("n/a")


def test_details_name_what_pulls_a_score_down(tiny):
    _, _, card = tiny
    got = card.set_index(["table", "dimension"])
    assert got.loc[("customers", "uniqueness"), "before_detail"] == \
        "1 row(s) repeat an e-mail address (letter case and spaces aside)"
    assert got.loc[("orders", "consistency"), "after_detail"] == \
        "1 'customer_id' value(s) not found in customers"
    assert got.loc[("customers", "completeness"), "after_detail"] == \
        "'email' is empty in 33.3% of rows"
    assert got.loc[("email_events", "timeliness"), "after_detail"] == \
        "latest sent_at 01 Jun 2025, 29 day(s) before the analysis date"


def test_single_rules_on_frames():
    spend = pd.DataFrame({"date": ["2025-01-01", "2025-08-01", "2025-02-01"],
                          "channel": ["a", "b", "n/a"], "spend": ["10", "-3", "$4.50"]})
    score, detail = q.validity(spend, "marketing_spend", as_of=AS_OF)
    assert score == pytest.approx(6 / 8)  # 8 filled ('n/a' is blank): a future date, a negative
    assert q.completeness(spend, "marketing_spend")[0] == pytest.approx(8 / 9)
    for days, expected in ((3, 1.0), (7, 1.0), (186, 0.5), (365, 0.0), (900, 0.0)):
        frame = pd.DataFrame({"date": [AS_OF - pd.Timedelta(days=days)]})
        assert q.timeliness(frame, "marketing_spend", as_of=AS_OF)[0] == pytest.approx(expected)
    assert q.timeliness(pd.DataFrame({"order_id": ["O1"]}), "order_items", as_of=AS_OF)[0] is None
    ids = pd.DataFrame({"product_id": [1.0, 2.0, 1.0], "name": ["a", "b", "c"]})
    assert q.uniqueness(ids, "products") == (pytest.approx(2 / 3), "1 row(s) repeat a product_id")


def test_reading_and_title_say_what_changed_and_why(tiny):
    _, prepared, card = tiny
    text = q.scorecard_reading(card, prepared)
    assert ("customers: uniqueness 75% -> 100%: 1 customer record(s) were a second record of "
            "someone already on file") in text
    assert "orders: consistency 80% -> 75%: now 1 'customer_id' value(s) not found" in text
    assert text.endswith(
        "Weakest after cleaning: email_events consistency 67% (1 'customer_id' value(s) not found "
        "in customers); orders consistency 75% (1 'customer_id' value(s) not found in customers);"
        " order_items uniqueness 75% (1 row(s) are exact copies of another).")
    assert q.scorecard_title(card) == ("Cleaning lifted customers uniqueness to 100%; weakest: "
                                       "email_events consistency 67%")


def test_scorecard_data_is_what_the_chart_draws(tiny):
    _, _, card = tiny
    data = q.scorecard_data(card)
    assert list(data["after"].columns) == list(q.DIMENSIONS)
    assert list(data.index) == ["customers", "orders", "order_items", "email_events"]
    assert np.isnan(data["after"].at["customers", "consistency"])
    assert data["after"].at["orders", "validity"] == pytest.approx(15 / 16)
    assert data["label"].at["customers", "uniqueness"] == "75%→100%"
    assert data["label"].at["customers", "consistency"] == "n/a"
    assert data["label"].at["orders", "completeness"] == "100%"
    ax = q.plot_scorecard(card)
    assert ax.get_title() == q.scorecard_title(card)
    assert [t.get_text() for t in ax.texts][:5] == data["label"].iloc[0].tolist()
    plt.close(ax.figure)


def test_step_summary_and_record(tiny):
    plan, prepared, card = tiny
    step = q.step_summary(prepared, card)
    checked = card[card.checked]
    assert step["headline"]["quality_before"] == pytest.approx(checked.before.mean())
    assert step["headline"]["quality_after"] == pytest.approx(checked.after.mean())
    assert step["headline"]["duplicate_customers"] == 1
    assert step["headline"]["unparseable_dates"] == 1
    assert step["units"]["quality_after"] == "percent" and step["units"]["rows"] == "count"
    assert step["warnings"] == [
        "orders consistency is 75% after cleaning: 1 'customer_id' value(s) not found in "
        "customers.",
        "order_items uniqueness is 75% after cleaning: 1 row(s) are exact copies of another.",
        "order_items consistency is 75% after cleaning: 1 'order_id' value(s) not found in orders.",
        "email_events consistency is 67% after cleaning: 1 'customer_id' value(s) not found in "
        "customers."]
    record = json.loads(to_json_text(q.data_quality_record(plan, prepared, card, plan.sources())))
    assert set(record) >= {"scorecard", "log", "faults", "identity", "sources", "rules"}
    assert record["identity"]["records_merged"] == 1 and record["identity"]["people"] == 3
    assert "7 days" in record["rules"]["scorecard"] and "MADs" in record["rules"]["cleaning"]
    assert "@x.com" not in json.dumps(record["log"])


def test_other_readings(tiny):
    plan, prepared, _ = tiny
    assert q.sources_reading(plan.sources()) == (
        "Your 4 table(s) come from 4 source(s): 4 csv. None is a platform export, so each was "
        "read as a file of your own. The loader kept 15 of the 16 rows it read; it left out 1 "
        "in orders.")
    text = q.identity_reading(prepared)
    assert text.startswith("1 of your 4 customer records were a second record")
    assert "so you have 3 customers. 1 orders, 1 email events now point to the kept record" in text
    overview = q.tables_overview(prepared).set_index("table")
    assert overview.loc["orders", ["rows", "added"]].tolist() == [
        4, "is_refund, net_revenue, outlier"]
    assert overview.loc["orders", "last_date"] == pd.Timestamp("2025-07-15")
    assert q.tables_reading(overview.reset_index()).startswith(
        "4 prepared table(s), 14 rows in all")


@pytest.fixture(scope="module")
def harbor(tmp_path_factory):
    plan = open_plan("harbor_coffee", run_dir=tmp_path_factory.mktemp("run"))
    prepared = prep.prepare_tables(plan)
    return plan, prepared, q.scorecard(plan, prepared)


def test_harbor_duplicates_lower_customer_uniqueness_before_and_not_after(harbor):
    _, prepared, card = harbor
    got = card.set_index(["table", "dimension"])
    assert got.loc[("customers", "uniqueness"), "before"] == pytest.approx(1 - 12 / 5045)
    assert got.loc[("customers", "uniqueness"), "after"] == 1.0
    # six known order columns, all filled; five dates unreadable
    assert got.loc[("orders", "validity"), "before"] == pytest.approx(1 - 5 / (29567 * 6))
    assert got.loc[("orders", "validity"), "after"] == 1.0
    assert ("customers: uniqueness 99.8% -> 100%: 12 customer record(s) were a second record"
            in q.scorecard_reading(card, prepared))
    assert set(card.table) == set(prepared.tables) and len(card) == 12 * 5


def test_a_business_with_no_readable_table_is_skipped_with_a_reason(tmp_path):
    folder = write_business(tmp_path / "shop", data={"orders": "data/orders.csv"},
                            files={"data/orders.csv": "order_id,order_date,revenue\n"})
    plan = open_plan(folder, run_dir=tmp_path / "run")
    prepared = prep.prepare_tables(plan)
    card = q.scorecard(plan, prepared)
    assert prepared.tables == {} and card.empty
    step = q.step_summary(prepared, card)
    assert step["status"] == "skipped" and step["reason"].startswith("No data table could be read")
    ax = q.plot_scorecard(card)
    assert ax.get_title() == "No table could be read, so there is nothing to score"
    plt.close(ax.figure)
    assert q.sources_reading(plan.sources()).endswith(
        "The loader kept 0 of the 0 rows it read. Nothing could be read from: data/orders.csv.")
