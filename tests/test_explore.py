"""Step 02 analyses: inventory, trend and seasonality, funnels, product mix, insights, skipping."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers import explore, funnels, schemas, segments, trends  # noqa: E402
from helpers.plan import open_plan  # noqa: E402
from tests.conftest import write_business  # noqa: E402

AS_OF = pd.Timestamp("2025-06-30")  # the as_of of conftest.write_business
ORDERS_CSV = """order_id,customer_id,order_date,revenue,channel
1,A,2025-01-03,10.00,web
2,,2025-03-04,20.00,
3,B,2025-06-20,-5.00,store
4,C,not a date,7.00,web
"""
CUSTOMERS_CSV = "customer_id,email,signup_date\nA,ann@example.com,2024-12-01\nB,,2025-01-01\n"


@pytest.fixture
def small_plan(tmp_path):
    folder = write_business(
        tmp_path / "shop",
        data={"customers": "data/customers.csv", "orders": "data/orders.csv",
              "leads": "data/leads.csv"},  # declared, but the file is not there
        files={"data/orders.csv": ORDERS_CSV, "data/customers.csv": CUSTOMERS_CSV})
    return open_plan(folder, run_dir=tmp_path / "run")


def daily_orders(start: str, days: int, *, growth: float = 0.10, december: float = 2.0,
                 seed: int = 0) -> pd.DataFrame:
    """One order a day: revenue grows ``growth`` a year and is ``december`` x in December."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    years = np.arange(days) / 365.25
    revenue = 100 * (1 + growth * years) * np.where(dates.month == 12, december, 1.0)
    return pd.DataFrame({"order_id": [str(i) for i in range(days)],
                         "customer_id": [f"C{i}" for i in rng.integers(0, 400, days)],
                         "order_date": dates, "revenue": revenue * rng.normal(1, 0.05, days)})


# ---- 1. what data you have -----------------------------------------------------------------------
def test_inventory_rows_dates_and_missing_share_equal_direct_computation(small_plan):
    inv = explore.inventory(small_plan).set_index("table")
    assert list(inv.index) == list(schemas.TABLES)
    orders = inv.loc["orders"]
    assert orders.rows == 3  # the row with an unreadable date was dropped by the loader
    assert orders.columns == 5
    assert orders.first_date == pd.Timestamp("2025-01-03")
    assert orders.last_date == pd.Timestamp("2025-06-20")
    assert orders.freshness_days == 10
    assert orders.missing_pct == round(100 * 2 / 15, 1)  # customer_id and channel, 5 known columns
    frame = small_plan.table("orders")
    known = [c for c in schemas.TABLES["orders"].columns if c in frame]
    assert orders.missing_pct == round(100 * frame[known].isna().to_numpy().mean(), 1)
    assert inv.loc["customers", "missing_pct"] == round(100 / 6, 1)
    assert orders.enables_steps.startswith("01, 02")


def test_inventory_says_what_an_absent_table_would_enable(small_plan):
    inv = explore.inventory(small_plan).set_index("table")
    web = inv.loc["web_sessions"]
    assert not web.declared and not web.available
    assert web.note == small_plan.why_missing("web_sessions")
    assert "visits to your website" in web.note
    leads = inv.loc["leads"]
    assert leads.declared and not leads.available and "does not exist" in leads.note
    reading = explore.inventory_reading(explore.inventory(small_plan))
    assert reading.startswith("You have 2 of the 13 tables")


def test_quality_notes_count_what_the_loader_changed(small_plan):
    notes = explore.quality_notes(small_plan)
    counts = notes.set_index("kind")["count"].to_dict()
    assert counts == {"coerced": 1, "dropped": 1, "warning": 1}
    assert "refunds" in notes.loc[notes.kind == "warning", "message"].iloc[0]


def test_data_legend_masks_personal_data(small_plan):
    legend = explore.data_legend(small_plan, "customers").set_index("column")
    assert legend.loc["email", "example"] == "•••"
    assert legend.loc["email", "filled_pct"] == 50.0
    assert "ann@example.com" not in legend.to_string()


# ---- 2. trend and seasonality --------------------------------------------------------------------
def test_weekly_revenue_has_complete_weeks_ending_on_the_analysis_weekday():
    data = daily_orders("2025-01-01", 181, growth=0, december=1)  # 1 Jan .. 30 Jun 2025
    weekly = trends.weekly_revenue(data, as_of=AS_OF)
    assert (weekly.week_end.dt.day_of_week == AS_OF.day_of_week).all()
    assert weekly.week_end.iloc[-1] == AS_OF
    assert len(weekly) == 25  # 181 days = 25 whole weeks + 6 days; the partial first week is left out
    last = data[data.order_date > AS_OF - pd.Timedelta(days=7)].revenue.sum()
    assert weekly.revenue.iloc[-1] == pytest.approx(last)


def test_trend_recovers_known_growth_and_december_peak():
    data = daily_orders("2022-07-01", 365 * 3, growth=0.10, december=2.0)
    found = trends.trend_data(data, as_of="2025-06-29")
    n = found.numbers
    assert n["method"].startswith("STL")
    assert n["peak_month"] == "December" and n["peak_month_index"] > 1.7
    assert n["yearly_strength"] > 0.6
    # trend grows 10 points a year on 100: from 1.20x to 1.30x over the last year = +8.3 %
    assert n["trend_change"] == pytest.approx(0.1 / 1.2, abs=0.03)
    assert found.title == f"Weekly revenue trend up {n['trend_change']:.0%} on a year ago"
    assert "December is the busiest month" in found.reading


def test_seasonality_insight_value_matches_direct_computation(tmp_path):
    data = daily_orders("2024-06-01", 395)  # 13 complete months: no trend line is taken out
    found = trends.trend_data(data, as_of=AS_OF)
    monthly = data.groupby(data.order_date.dt.to_period("M")).revenue.sum()
    per_day = monthly / monthly.index.days_in_month
    by_month = per_day.groupby(per_day.index.month).mean()
    plan = open_plan(write_business(tmp_path / "s", data={}), run_dir=tmp_path / "r")
    insight = next(i for i in explore.insights(plan, found) if i["topic"] == "seasonality")
    assert insight["value"] == pytest.approx(by_month[12] / by_month.mean())
    assert insight["finding"] == f"December revenue is {by_month[12] / by_month.mean():.1f}x an average month"


def test_trend_with_under_two_years_falls_back_and_says_so():
    found = trends.trend_data(daily_orders("2024-10-01", 273), as_of=AS_OF)
    assert found.ok and found.numbers["yearly_strength"] is None
    assert found.numbers["method"] == "13-week moving average"
    assert "needs two full years (104 weeks)" in found.reading


def test_trend_with_too_little_data_says_so_without_error():
    found = trends.trend_data(daily_orders("2025-05-20", 42), as_of=AS_OF)
    assert not found.ok
    assert found.reading.startswith("There are only 6 complete weeks of orders")


# ---- 3. funnels ----------------------------------------------------------------------------------
def test_web_funnel_counts_equal_hand_counts():
    sessions = pd.DataFrame({
        "session_id": list("123456"),
        "started_at": pd.to_datetime(["2025-06-01"] * 5 + ["2025-07-02"]),  # the last is too late
        "source": ["google", "google", "email", "email", None, "email"],
        "medium": ["cpc", "cpc", "newsletter", "newsletter", None, "newsletter"],
        "pages": [1.0, 3.0, 2.0, 1.0, 5.0, 9.0],
        "converted": pd.array([False, True, True, False, None, True], dtype="boolean")})
    found = funnels.web_funnel_data(sessions, as_of=AS_OF)
    assert found.data["count"].tolist() == [5, 3, 2]
    assert found.data.of_previous.tolist() == pytest.approx([1, 3 / 5, 2 / 3])
    by = found.extra["by"]
    assert by.loc["google / cpc", ["sessions", "engaged", "converted"]].tolist() == [2, 1, 1]
    assert by.loc["email / newsletter", "conversion_rate"] == 0.5
    assert by.loc["(not set) / (not set)", "sessions"] == 1
    assert found.title == "40.0% of website sessions end in a purchase"


def test_email_funnel_counts_and_orders_within_three_days_of_a_click():
    ts = pd.to_datetime
    events = pd.DataFrame({
        "campaign_id": ["E1", "E1", "E1", "E2", "E2"],
        "customer_id": ["A", "B", "C", "A", "D"],
        "sent_at": ts(["2025-06-01 08:00", "2025-06-01 08:00", "2025-06-01 08:00",
                       "2025-06-10 08:00", "2025-06-10 08:00"]),
        "opened_at": ts(["2025-06-01 09:00", None, "2025-06-02 10:00", "2025-06-10 09:00", None]),
        "clicked_at": ts(["2025-06-01 10:00", None, None, None, None]),
        "unsubscribed": pd.array([False, False, True, False, False], dtype="boolean")})
    events.loc[4, "clicked_at"] = ts("2025-06-10 12:00")  # D clicks E2 without a recorded open
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5"],
        "customer_id": ["A", "A", "A", "D", "C"],
        "order_date": ts(["2025-06-01", "2025-06-04", "2025-06-05", "2025-06-09", "2025-06-02"]),
        "revenue": [30.0, 20.0, 99.0, 50.0, 40.0]})
    found = funnels.email_funnel_data(events, orders, as_of=AS_OF, days=3)
    # A's orders on the click day and 3 days later count; 4 days later, before a click, or
    # without a click do not
    assert found.data["count"].tolist() == [5, 3, 2, 2]
    assert found.numbers["order_revenue"] == 50.0 and found.numbers["unsubscribed"] == 1
    by = found.extra["by"]
    assert by.loc["E1", ["sent", "opened", "clicked", "orders"]].tolist() == [3, 2, 1, 2]
    assert found.numbers["click_rate"] == 2 / 5


def test_lead_funnel_ignores_conversions_after_the_analysis_date():
    leads = pd.DataFrame({
        "lead_id": list("12345"), "source": ["ads", "ads", "referral", "referral", "referral"],
        "created_at": pd.to_datetime(["2025-05-01"] * 5),
        "converted": pd.array([True, False, True, True, False], dtype="boolean"),
        "converted_at": pd.to_datetime(["2025-05-11", None, "2025-05-05", "2025-07-10", None]),
        "value": [100.0, None, 50.0, 70.0, None]})
    found = funnels.lead_funnel_data(leads, as_of=AS_OF)
    assert found.data["count"].tolist() == [5, 2]
    assert found.extra["by"].loc["referral", ["leads", "converted", "value"]].tolist() == [3, 1, 50]
    assert found.numbers["median_days"] == 7.0


# ---- 4. product mix ------------------------------------------------------------------------------
def test_product_mix_revenue_is_quantity_times_unit_price_by_category():
    items = pd.DataFrame({"order_id": ["1", "1", "2", "3"], "product_id": ["P1", "P2", "P1", "P3"],
                          "quantity": [2.0, 1.0, 1.0, 4.0], "unit_price": [10.0, None, 12.0, 5.0]})
    products = pd.DataFrame({"product_id": ["P1", "P2", "P3"], "name": ["Beans", "Mug", "Filter"],
                             "category": ["coffee", "gear", "gear"], "price": [11.0, 8.0, 5.0]})
    orders = pd.DataFrame({"order_id": ["1", "2", "3"],
                           "order_date": pd.to_datetime(["2025-06-01", "2025-06-02", "2025-07-09"])})
    found = funnels.product_mix_data(items, products, orders, as_of=AS_OF)
    cats = found.data.set_index("category")
    assert cats.revenue.to_dict() == {"coffee": 32.0, "gear": 8.0}  # order 3 is after as_of
    assert cats.share.sum() == pytest.approx(1.0)
    assert found.numbers["top_product"] == "Beans" and found.numbers["top_product_share"] == 0.8
    assert found.title == "Coffee brings 80% of product revenue"


# ---- 5. insights and skipped sections -------------------------------------------------------------
def test_segment_insight_number_matches_direct_computation(tmp_path):
    rng = np.random.default_rng(5)
    data = daily_orders("2023-01-01", 900, seed=5).assign(revenue=lambda d: rng.gamma(2, 40, len(d)))
    plan = open_plan(write_business(tmp_path / "s", data={}), run_dir=tmp_path / "r")
    found = segments.rfm_data(data, as_of=AS_OF)
    insight = explore.insights(plan, found)[0]
    rfm = found.extra["customers"]
    champions = rfm.segment == "Champions"
    share = rfm.monetary[champions].sum() / rfm.monetary.sum()
    assert insight["value"] == pytest.approx(share)
    assert insight["finding"] == (f"Champions are {champions.mean():.0%} of customers and bring "
                                  f"{share:.0%} of revenue")
    assert f"{champions.sum():,} customers" in insight["so_what"]


def test_absent_tables_skip_their_sections_with_the_enabling_sentence(small_plan):
    web, email, mix = (funnels.web_funnel(small_plan), funnels.email_funnel(small_plan),
                       funnels.product_mix(small_plan))
    assert not web.ok and web.reading.startswith("The website funnel needs your web_sessions table.")
    assert "add `web_sessions: {path: data/web_sessions.csv}` under `data:`" in web.reading
    assert "visits to your website" in web.reading
    assert email.reading.startswith("The email funnel needs your email_events table.")
    assert mix.reading.startswith("The product mix needs your order_items table.")
    leads = funnels.lead_funnel(small_plan)  # declared, file missing: the loader's sentence
    assert "needs your leads table (enquiries" in leads.reading and "does not exist" in leads.reading
    assert explore.insights(small_plan, web, email, mix, leads) == []
    record = explore.step_summary([web, email, mix, leads], [])
    assert record["status"] == "skipped" and record["reason"] == web.reading
    assert record["warnings"] == [web.reading, email.reading, mix.reading, leads.reading]


def test_chart_titles_state_the_finding():
    data = daily_orders("2022-07-01", 365 * 3)
    trend = trends.trend_data(data, as_of="2025-06-29")
    seg = segments.rfm_data(data, as_of="2025-06-29")
    cohorts = segments.cohort_retention_data(data, as_of="2025-06-29")
    for plot, finding in [(trends.plot_trend, trend), (segments.plot_segments, seg),
                          (segments.plot_cohorts, cohorts)]:
        assert plot(finding).get_title() == finding.title
    assert trends.plot_seasonality(trend).get_title().startswith("December revenue is")
    leads = funnels.lead_funnel_data(pd.DataFrame({
        "lead_id": list("1234"), "source": ["ads", "ads", "referral", "referral"],
        "created_at": pd.to_datetime(["2025-05-01"] * 4),
        "converted": pd.array([False, False, True, True], dtype="boolean")}), as_of=AS_OF)
    ax = funnels.plot_breakdown(leads)
    assert ax.get_title() == "Referral leads convert best: 100% vs 50% overall"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ads", "referral"]
    plt.close("all")


def test_join_and_lists_words_as_a_sentence_does():
    from helpers.explore import join_and

    assert [join_and(w) for w in ([], ["a"], ["a", "b"], ["a", "b", "c"])] == [
        "", "a", "a and b", "a, b and c"]
