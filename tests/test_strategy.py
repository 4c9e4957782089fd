"""Step 05: power and sample sizes against statsmodels, the KPI tree against direct pandas sums on
harbor_coffee, the benchmark file, the budget plan's totals and splits, and the pilot timeline."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import strategy as st
from helpers import testplan as tp
from helpers.errors import UnknownNameError
from helpers.io import to_json_text
from helpers.plan import open_plan
from tests.conftest import write_business

AS_OF = pd.Timestamp("2025-06-30")  # as in conftest.write_business (a Monday)
HARBOR_AS_OF = pd.Timestamp("2026-09-30")


def _uc(uc_id: str, design: str = "none", metric: str = "none", *, weeks: int = 4,
        cost=(0, 0)) -> dict:
    """A hand-made use case with the keys of the step 03 catalogue that step 05 reads."""
    return {"id": uc_id, "name": uc_id.replace("_", " ").capitalize(), "channel": "email",
            "time_to_value_weeks": weeks, "monthly_cost": list(cost),
            "test": {"design": design, "metric": metric, "unit": "customer"}}


def _tiny(tmp_path, files: dict[str, pd.DataFrame], extra: str = ""):
    folder = write_business(tmp_path / "shop", data={t: f"data/{t}.csv" for t in files},
                            files={f"data/{t}.csv": f.to_csv(index=False) for t, f in files.items()},
                            extra_yaml=extra)
    return open_plan(folder, run_dir=tmp_path / "run")


def _orders(start="2023-07-01", end="2025-06-30", *, december: float = 1.0) -> pd.DataFrame:
    """One order a day of 100 (``december`` times that in December), each by a new customer."""
    days = pd.date_range(start, end)
    return pd.DataFrame({"order_id": [f"O{i}" for i in range(len(days))],
                         "customer_id": [f"C{i}" for i in range(len(days))],
                         "order_date": days.strftime("%Y-%m-%d"),
                         "revenue": np.where(days.month == 12, 100.0 * december, 100.0),
                         "channel": "email"})


# ---- power -----------------------------------------------------------------------------------
def test_sample_size_equals_statsmodels_for_equal_and_unequal_groups():
    from statsmodels.stats.power import NormalIndPower, TTestIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = 2 * math.asin(math.sqrt(0.22)) - 2 * math.asin(math.sqrt(0.20))  # Cohen's h by hand
    assert proportion_effectsize(0.22, 0.20) == pytest.approx(h)
    equal = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1.0)
    assert tp.sample_size(0.20, 0.22) == math.ceil(equal) == 6508
    # the textbook normal approximation, 2 ((z_0.975 + z_0.8) / h)^2 per group, gives the same
    assert 2 * ((1.959964 + 0.841621) / h) ** 2 == pytest.approx(equal, rel=1e-4)
    holdout = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=0.25)
    assert tp.sample_size(0.20, 0.22, ratio=0.25) == math.ceil(holdout)
    means = TTestIndPower().solve_power(effect_size=10 / 50, alpha=0.05, power=0.8, ratio=1.0)
    assert tp.sample_size(100.0, 110.0, sd=50.0) == math.ceil(means)


def test_mde_shrinks_with_more_days_and_inverts_the_sample_size():
    per_day = 200
    rel = [tp.mde(0.20, per_day * d)[0] for d in (28, 56, 90)]
    assert rel[0] > rel[1] > rel[2] > 0
    relative, absolute = tp.mde(0.20, 2 * 6507.33)  # the exact n of a +10 % test, both groups
    assert relative == pytest.approx(0.10, abs=1e-4) and absolute == pytest.approx(0.02, abs=1e-5)
    assert np.isnan(tp.mde(0.20, 3)[0])  # one unit per group: nothing can be detected
    rel_mean, abs_mean = tp.mde(100.0, 2 * 393, sd=50.0)  # 393 per group detect d = 0.2
    assert abs_mean == pytest.approx(10.0, rel=0.01) and rel_mean == pytest.approx(0.10, rel=0.01)


def test_tiny_business_is_told_its_test_cannot_reach_significance(tmp_path):
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(60)],
                          "created_at": pd.date_range("2024-07-05", periods=60, freq="6D")
                          .strftime("%Y-%m-%d"), "converted": [i % 5 == 0 for i in range(60)]})
    plan = _tiny(tmp_path, {"leads": leads})
    row = tp.test_plan(plan, [_uc("lead_scoring", "holdout", "lead_conversion_rate")]).iloc[0]
    per_day = 60 / 365
    n1 = tp.sample_size(0.2, 0.22, ratio=0.25)
    n2 = math.ceil(n1 * 0.25)
    assert row["baseline"] == pytest.approx(0.2) and row["units_per_day"] == pytest.approx(per_day)
    assert (row["n_treatment"], row["n_control"]) == (n1, n2)
    assert row["days_needed"] == math.ceil((n1 + n2) / per_day) and not row["feasible"]
    assert row["reading"].startswith(
        "Lead scoring: with about 0.2 leads a day, a holdout (20% held back) on the lead "
        "conversion rate cannot reach significance within 90 days: a 10% rise needs "
        f"{n1 + n2:,} leads, about {row['days_needed']:,} days. In 90 days the smallest rise it "
        f"could detect is {tp.mde(0.2, per_day * 90, share=0.2)[0]:+.0%}.")
    assert np.isnan(row["mde_28d"])  # under 5 leads in 28 days: nothing detectable
    assert "Instead: test a bolder change, pool several weeks or sends into one test" in row["reading"]


# ---- harbor_coffee: the tree against direct pandas -------------------------------------------
@pytest.fixture(scope="module")
def harbor(tmp_path_factory):
    plan = open_plan("harbor_coffee", run_dir=tmp_path_factory.mktemp("run05"))
    tree = st.kpi_tree(plan, st.objectives_for(plan))
    return plan, tree.set_index("node")


def _last_year(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame[(frame[column] >= "2025-10-01") & (frame[column] < "2026-10-01")]


def test_harbor_tree_baselines_equal_direct_pandas(harbor):
    plan, tree = harbor
    orders = _last_year(plan.prepared("orders"), "order_date")
    assert tree.loc["1:revenue", "baseline"] == pytest.approx(orders["revenue"].sum())
    assert tree.loc["1:revenue/orders", "baseline"] == len(orders)
    assert tree.loc["1:revenue/average_order_value", "baseline"] == pytest.approx(
        orders["revenue"].sum() / len(orders))
    assert tree.loc["1:revenue/orders/orders_email", "baseline"] == (orders["channel"] == "email").sum()
    sent = _last_year(plan.prepared("email_events"), "sent_at")
    click = "1:revenue/orders/orders_email/email_click_rate"
    assert tree.loc[f"{click}/email_open_rate", "baseline"] == pytest.approx(
        sent["opened_at"].notna().sum() / len(sent))
    assert tree.loc[click, "baseline"] == pytest.approx(sent["clicked_at"].notna().mean())
    search = _last_year(plan.prepared("marketing_spend"), "date").query("channel == 'paid_search'")
    node = "1:revenue/orders/orders_paid_search"
    assert tree.loc[f"{node}/ctr", "baseline"] == pytest.approx(
        search["clicks"].sum() / search["impressions"].sum())
    assert tree.loc[f"{node}/cpc", "baseline"] == pytest.approx(
        search["spend"].sum() / search["clicks"].sum())


def test_harbor_tree_targets_are_the_growth_each_lever_would_need_alone(harbor):
    plan, tree = harbor
    revenue = tree.loc["1:revenue"]
    assert revenue["change"] == pytest.approx(0.12)  # business.yaml: grow_sales +12 %
    extra = tree.loc["1:revenue/orders", "baseline"] * 0.12  # the orders the growth needs
    email = tree.loc["1:revenue/orders/orders_email"]
    assert email["target"] == pytest.approx(email["baseline"] + extra)
    g = extra / email["baseline"]
    click = tree.loc["1:revenue/orders/orders_email/email_click_rate"]
    assert click["target"] == pytest.approx(click["baseline"] * (1 + g))
    cpc = tree.loc["1:revenue/orders/orders_paid_search/cpc"]  # cheaper clicks: cost / (1 + g)
    search = tree.loc["1:revenue/orders/orders_paid_search"]
    assert cpc["target"] == pytest.approx(cpc["baseline"] / (1 + extra / search["baseline"]))
    assert tree.loc["1:revenue/orders/orders_email/email_click_rate", "benchmark"] == 0.0294
    assert "By channel, orders via organic would need the smallest rise" in \
        st.what_this_means_tree(plan, tree.reset_index())


def test_harbor_where_you_stand_sentences(harbor):
    plan, tree = harbor
    stand = st.where_you_stand(plan, tree.reset_index()).set_index("kpi")
    sent = _last_year(plan.table("email_events"), "sent_at")
    rate = sent["opened_at"].notna().mean()
    assert stand.loc["email_open_rate", "sentence"].startswith(
        f"Your e-mail open rate, {rate:.1%}, is {rate / 0.2331 - 1:.0%} above the 23.3% reported "
        "for agriculture and food services by Mailchimp (2019); read it with care: these open "
        "rates were measured before Apple Mail Privacy Protection (September 2021)")
    items = plan.table("order_items").merge(plan.table("products"), on="product_id")
    margin = 1 - (items["quantity"] * items["cost"]).sum() / (
        items["quantity"] * items["unit_price"]).sum()
    roas = stand.loc["paid_search_roas"]
    assert roas["benchmark"] == pytest.approx(1 / margin)
    assert "is above break-even: at face value" in roas["sentence"]
    assert f"(break-even ROAS {1 / margin:.2f} = 1 / your {margin:.0%} gross margin" in roas["sentence"]


# ---- benchmarks ------------------------------------------------------------------------------
def test_every_benchmark_has_its_source_year_url_and_a_sane_value():
    table = st.benchmark_table()
    assert len(table) >= 30 and not table["kpi"].str.contains("roas").any()  # no invented ROAS
    for _, b in table.iterrows():
        assert b["source"] and b["url"].startswith("http") and 2015 <= b["year"] <= 2026, b["kpi"]
        assert b["industry"] in (*st.INDUSTRIES, "all") and b["unit"] in ("rate", "money")
        if b["unit"] == "rate":
            assert 0 < b["value"] < 1, b["kpi"]
        else:
            assert 0 < b["value"] < 20 and b["currency"] == "USD", b["kpi"]
        if b["metric"] == "open_rate":
            assert "Apple Mail Privacy Protection" in b["caveat"]
        if not b["primary"]:
            assert b["caveat"], f"{b['kpi']} ({b['industry']}) is secondary: it needs a caveat"
    assert not table.duplicated(["kpi", "industry"]).any()


def test_benchmarks_fall_back_to_all_industries():
    food = st.benchmarks("food_beverage").set_index("kpi")
    assert food.loc["email_open_rate", "value"] == 0.2331 and food.loc["email_open_rate", "own_industry"]
    fitness = st.benchmarks("fitness_wellness").set_index("kpi")
    assert fitness.loc["paid_search_ctr", "value"] == 0.0666  # none for fitness: all industries
    assert not fitness.loc["paid_search_ctr", "own_industry"]
    assert food.index.is_unique
    with pytest.raises(UnknownNameError, match="Did you mean 'food_beverage'"):
        st.benchmarks("food_beverages")


# ---- budget ----------------------------------------------------------------------------------
BUDGET = "budget:\n  monthly: 1000\n  by_channel: {email: 200, paid_search: 800}\n"


@pytest.mark.parametrize("seasonal", [True, False])
def test_budget_months_add_up_to_twelve_monthly_budgets_in_the_yaml_split(tmp_path, seasonal):
    plan = _tiny(tmp_path, {"orders": _orders(december=3.0)}, extra=BUDGET)
    budget = tp.budget_plan(plan, seasonal=seasonal)
    assert budget["amount"].sum() == pytest.approx(12_000)
    by_channel = budget.groupby("channel")["amount"].sum()
    assert by_channel.to_dict() == pytest.approx({"email": 2400.0, "paid_search": 9600.0})
    months = budget.groupby("month")["amount"].sum()
    assert list(months.index) == list(pd.date_range("2025-07-01", periods=12, freq="MS"))
    if seasonal:  # December's 3x sales are capped at 1.3 an average month, then renormalised
        index = tp.seasonal_index(plan)
        assert index[12] == 1.3 and index[1] == pytest.approx(100 / (1400 / 12), abs=0.03)
        assert months.idxmax() == pd.Timestamp("2025-12-01")
        assert months.max() / months.min() == pytest.approx(1.3 / index.drop(12).min())
    else:
        assert months.to_numpy() == pytest.approx(1000.0)


def test_budget_without_by_channel_follows_last_year_spend(tmp_path):
    spend = pd.DataFrame({"date": ["2024-08-01", "2025-03-01", "2024-09-15", "2024-05-01"],
                          "channel": ["email", "email", "paid_search", "paid_social"],
                          "spend": [100.0, 200.0, 900.0, 5000.0]})  # paid_social: > 12 months ago
    plan = _tiny(tmp_path, {"orders": _orders(), "marketing_spend": spend},
                 extra="budget:\n  monthly: 1000\nchannels: [email, paid_search, social]\n")
    split, how = tp.channel_split(plan)
    assert split.to_dict() == pytest.approx({"email": 0.25, "paid_search": 0.75})
    assert how == "your spend by channel over the last 12 months"
    budget = tp.budget_plan(plan, seasonal=False)
    assert budget.groupby("channel")["amount"].sum().to_dict() == pytest.approx(
        {"email": 3000.0, "paid_search": 9000.0})


def test_budget_without_split_or_spend_is_even_and_ai_tools_are_a_line_of_their_own(tmp_path):
    plan = _tiny(tmp_path, {"orders": _orders()},
                 extra="budget:\n  monthly: 900\nchannels: [email, social, web]\n")
    uses = [_uc("a", cost=(20, 60)), _uc("b", cost=(0, 0))]
    pilots = pd.DataFrame({"use_case": ["a"], "phase": ["pilot"],
                           "start": [pd.Timestamp("2025-09-15")]})
    budget = tp.budget_plan(plan, seasonal=False, use_cases=uses, timeline=pilots)
    media, tools = budget[budget["kind"] == "media"], budget[budget["kind"] == "ai_tools"]
    assert media.groupby("channel")["amount"].sum().to_dict() == pytest.approx(
        {"email": 3600.0, "social": 3600.0, "web": 3600.0})
    assert tools["month"].min() == pd.Timestamp("2025-09-01") and len(tools) == 10  # Sep-Jun
    assert tools["amount"].eq(40.0).all() and (tools["currency"] == "USD").all()
    assert "AI tools add about $400 over the year" in tp.what_this_means_budget(plan, budget)


# ---- timeline --------------------------------------------------------------------------------
@pytest.mark.parametrize("parallel", [1, 2, 3])
def test_timeline_never_runs_more_pilots_at_once_than_allowed(tmp_path, parallel):
    plan = _tiny(tmp_path, {"orders": _orders()})
    uses = [_uc(f"u{i}", "ab" if i % 2 else "none", weeks=w) for i, w in enumerate([3, 1, 4, 2, 6])]
    tests = pd.DataFrame({"use_case": [u["id"] for u in uses],
                          "test_days": [np.nan, 13.0, np.nan, 90.0, np.nan]})
    tl = tp.timeline(plan, uses, tests, max_parallel_pilots=parallel)
    pilots = tl[tl["phase"] == "pilot"]
    assert pilots["start"].min() == pd.Timestamp("2025-07-07")  # first Monday after 30 Jun 2025
    assert (pilots["start"].dt.day_of_week == 0).all()
    for day in pd.date_range("2025-07-01", "2026-06-30"):
        running = ((pilots["start"] <= day) & (pilots["end"] > day)).sum()
        assert running <= parallel, day
    assert pilots.groupby("start").size().max() <= parallel
    weeks = tl.pivot(index="use_case", columns="phase", values="weeks")
    assert weeks.loc["u1", "test"] == 2 and weeks.loc["u3", "test"] == 13  # days to whole weeks
    assert weeks.loc["u0", "test"] == 4 and (weeks["scale"] == 8).all()  # no test: 4 weeks
    if parallel == 1:  # one at a time: each pilot starts when the one before ends
        assert (pilots["start"].iloc[1:].to_numpy() == pilots["end"].iloc[:-1].to_numpy()).all()


# ---- aggregated reports, and the record ------------------------------------------------------
def test_rates_come_from_aggregated_reports_without_event_tables(tmp_path):
    campaigns = pd.DataFrame({"campaign_id": ["M1", "M2", "M0"], "channel": "email",
                              "start_date": ["2024-09-01", "2025-02-01", "2024-01-01"],
                              "delivered": [1000, 3000, 5000], "unique_opens": [300, 600, 100],
                              "unique_clicks": [40, 80, 1]})  # M0 is older than 12 months
    traffic = pd.DataFrame({"date": ["2024-08-01", "2025-05-01"], "channel_group": "Organic",
                            "sessions": [4000, 6000], "conversions": [80, 170]})
    plan = _tiny(tmp_path, {"orders": _orders(), "campaigns": campaigns, "web_traffic": traffic},
                 extra="objectives:\n  - type: grow_sales\n    target_change: 0.10\n"
                       "    deadline: 2026-06-30\n")
    tree = st.kpi_tree(plan, st.objectives_for(plan)).set_index("kpi")
    assert tree.loc["email_click_rate", "baseline"] == pytest.approx(120 / 4000)
    assert tree.loc["email_open_rate", "baseline"] == pytest.approx(900 / 4000)
    assert tree.loc["web_conversion_rate", "baseline"] == pytest.approx(250 / 10_000)
    volume = tp.metric_volume(plan, "conversion_rate")
    assert volume["per_day"] == pytest.approx(10_000 / 365) and volume["units"] == "website visits"


def test_step_summary_and_artifact_hold_the_plan(tmp_path):
    plan = _tiny(tmp_path, {"orders": _orders()}, extra=BUDGET + (
        "objectives:\n  - type: grow_sales\n    target_change: 0.10\n    deadline: 2026-06-30\n"))
    tree = st.kpi_tree(plan, st.objectives_for(plan))
    stand = st.where_you_stand(plan, tree)
    uses = [_uc("flows", "holdout", "repeat_rate", cost=(10, 30))]  # nobody repeats: no test
    tests = tp.test_plan(plan, uses)
    tl = tp.timeline(plan, uses, tests)
    budget = tp.budget_plan(plan, use_cases=uses, timeline=tl)
    readings = {"tree": st.what_this_means_tree(plan, tree)}
    step = st.step_summary(plan, tree=tree, stand=stand, tests=tests, budget=budget, timeline=tl,
                           readings=readings)
    assert step["status"] == "ok" and step["headline"]["media_budget_12m"] == pytest.approx(12_000)
    assert step["headline"]["first_pilot"] == "07 Jul 2025"
    assert tests["reading"].iloc[0] == ("Flows: cannot plan its test yet: no 12-month baseline "
                                        "above zero to measure a rise on.")
    assert step["summary"][0] == "Revenue: $36,500 → $40,150 (+10.0%)."
    art = st.artifact(plan, tree=tree, stand=stand, tests=tests, budget=budget, timeline=tl,
                      assumptions={"target_lift": 0.1}, readings=readings)
    assert set(art) >= {"kpi_tree", "benchmarks", "where_you_stand", "test_plan", "budget_plan",
                        "timeline", "assumptions", "readings"}
    assert '"kpi": "revenue"' in to_json_text(art)


def test_readings_and_assumptions_hold_what_the_notebook_saves(tmp_path):
    plan = open_plan("harbor_coffee", run_dir=tmp_path / "run")
    tree = st.kpi_tree(plan, st.objectives_for(plan))
    stand = st.where_you_stand(plan, tree)
    tests = tp.test_plan(plan, [])
    budget = tp.budget_plan(plan, seasonal=False)
    pilots = tp.timeline(plan, [], tests)
    texts = st.readings(plan, tree=tree, stand=stand, tests=tests, budget=budget, timeline=pilots)
    assert texts["tree"] == st.what_this_means_tree(plan, tree)
    assert texts["budget"] == tp.what_this_means_budget(plan, budget)
    knobs = st.assumptions(plan, gross_margin=0.5, target_lift=0.1)
    assert knobs["target_lift"] == 0.1 and knobs["holdout_share"] == tp.HOLDOUT_SHARE == 0.2
    # harbor has product costs, so the margin comes from its data, not the 0.5 default
    assert knobs["gross_margin"] == pytest.approx(st.estimate_margin(plan)[0])
    assert knobs["gross_margin"] != 0.5


def test_timeline_reading_names_each_phase_with_its_dates():
    tl = pd.DataFrame({
        "name": ["Lead scoring"] * 3, "phase": ["pilot", "test", "scale"],
        "start": pd.to_datetime(["2026-10-05", "2026-11-16", "2026-12-14"]),
        "end": pd.to_datetime(["2026-11-16", "2026-12-14", "2027-02-08"]), "weeks": [6, 4, 8]})
    assert tp.what_this_means_timeline(tl) == (
        "Lead scoring: pilot from 05 Oct 2026 (6 weeks), test for 4 weeks, scale from "
        "14 Dec 2026 to 08 Feb 2027.")
    assert tp.what_this_means_timeline(tl.iloc[:0]) == (
        "No use case selected yet: choose them in step 03.")
