"""Step 03: the use-case catalogue, data readiness in numbers, objective fit, weighted ranking,
the shortlist and what later steps read from it."""

from __future__ import annotations

import json
import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml

from helpers import readiness as rd
from helpers import tool_selection as ts
from helpers.errors import ConfigError, UnknownNameError
from helpers.params import OBJECTIVE_TYPES, load_settings
from helpers.plan import open_plan
from helpers.schemas import TABLES
from tests.conftest import ROOT, write_business

AS_OF = pd.Timestamp("2025-06-30")  # as in conftest.write_business


def _leads(n: int, converted: int, *, start: str = "2024-06-01") -> str:
    """``n`` leads, one a day from ``start``; the first ``converted`` of them converted."""
    days = pd.date_range(start, periods=n, freq="D")
    return pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)],
                         "created_at": days.strftime("%Y-%m-%d"),
                         "converted": ["yes"] * converted + ["no"] * (n - converted)}).to_csv(
        index=False)


def _orders(n_customers: int, repeaters: int, *, start: str = "2024-01-01") -> str:
    """One order per customer, plus a second one for the first ``repeaters`` customers."""
    ids = [f"C{i}" for i in range(n_customers)] + [f"C{i}" for i in range(repeaters)]
    days = pd.date_range(start, periods=len(ids), freq="h")
    return pd.DataFrame({"order_id": [f"O{i}" for i in range(len(ids))], "customer_id": ids,
                         "order_date": days.strftime("%Y-%m-%d %H:%M"),
                         "revenue": 20.0}).to_csv(index=False)


def _plan(tmp_path, *, tables: dict[str, str], extra_yaml: str = ""):
    data = {t: f"data/{t}.csv" for t in tables}
    files = {f"data/{t}.csv": text for t, text in tables.items()}
    folder = write_business(tmp_path / "shop", data=data, files=files, extra_yaml=extra_yaml)
    return open_plan(folder, run_dir=tmp_path / "run")


@pytest.fixture(scope="module")
def cases():
    return {uc["id"]: uc for uc in ts.catalogue()}


# ---- the catalogue -----------------------------------------------------------------------------
def test_catalogue_covers_every_channel_and_touchpoint_the_plan_names(cases):
    assert len(cases) >= 22
    assert {uc["channel"] for uc in cases.values()} == set(rd.CHANNELS)
    named = {"email_personalisation", "send_time_optimisation", "subject_line_testing",
             "automated_flows", "social_trend_detection", "social_sentiment",
             "social_posting_schedule", "content_recommendations", "seo_keywords",
             "ai_copywriting", "lookalike_audiences", "budget_reallocation",
             "performance_monitoring", "product_recommendations", "website_chatbot",
             "layout_testing", "faq_chatbot", "ticket_routing", "feedback_sentiment",
             "lead_scoring", "sales_forecast", "personalised_offers", "churn_prediction",
             "customer_lifetime_value", "purchase_propensity"}
    assert named <= set(cases)


def test_every_entry_uses_valid_sections_metrics_and_canonical_columns(cases):
    def tables_of(item):
        return [t for alt in item.get("any_of", [item]) for t in [alt["table"]]]

    for uc in cases.values():
        assert uc["kit_section"] in rd.VALID_SECTIONS, uc["id"]
        assert uc["test"]["metric"] in rd.METRICS and uc["test"]["design"] in rd.DESIGNS
        assert set(uc["objectives"]) <= set(OBJECTIVE_TYPES)
        assert all(t in TABLES for item in uc["requires"] for t in tables_of(item)), uc["id"]
    outside = {k for k, uc in cases.items() if uc["kit_section"] == rd.OUTSIDE}
    assert {"website_chatbot", "faq_chatbot", "ai_copywriting", "seo_keywords", "ticket_routing",
            "layout_testing"} <= outside
    for uc in (cases[k] for k in outside):
        assert "outside the kit" in uc["tools"]["category"] and uc["tools"]["examples"]


def test_thresholds_are_the_documented_ones(cases):
    lead = cases["lead_scoring"]["requires"][0]
    assert (lead["min_rows"], lead["min_history_days"], lead["min_positive"]["count"]) == (
        200, 180, 50)
    prop = cases["purchase_propensity"]["requires"][0]
    assert prop["min_distinct"]["count"] == 500 and prop["min_repeat"]["count"] == 100
    curves = cases["budget_reallocation"]["requires"][0]["min_groups"]
    assert (curves["column"], curves["count"], curves["weeks"]) == ("channel", 2, 52)
    text = (ROOT / "templates" / "ai_use_cases.yaml").read_text()
    assert text.count("#") > 60  # each threshold says where it comes from


@pytest.mark.parametrize("change, message", [
    ({"channels": "email"}, r"use case 1 'x'.*unknown key 'channels'.*Did you mean 'channel'"),
    ({"requires": [{"table": "lead"}]}, r"'x'.requires\[0\].table: unknown table 'lead'.*'leads'"),
    ({"requires": [{"table": "leads", "min_positive": {"column": "convert", "count": 5}}]},
     r"'x'.requires\[0\].min_positive: unknown leads column 'convert'.*'converted'"),
    ({"requires": [{"table": "leads", "min_rowz": 5}]},
     r"'x'.requires\[0\]: unknown key 'min_rowz'.*'min_rows'"),
    ({"kit_section": "06 · Lead scorng"}, r"'x'.kit_section: unknown kit_section"),
    ({"test": {"design": "ab", "metric": "open_rate", "unit": "customer"}},
     r"'x'.test.metric: unknown metric 'open_rate'"),
])
def test_a_bad_entry_is_named_with_its_key(tmp_path, cases, change, message):
    entry = {**cases["lead_scoring"], "id": "x", **change}
    path = tmp_path / "cat.yaml"
    path.write_text(yaml.safe_dump([entry], allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        ts.catalogue(path)


# ---- readiness ---------------------------------------------------------------------------------
def test_a_missing_table_is_never_ready_and_its_reason_names_the_table(tmp_path, cases):
    plan = _plan(tmp_path, tables={"orders": _orders(50, 5)})
    result = ts.readiness(plan, cases["lead_scoring"])
    assert not result.ready and result.score == 0
    assert result.reason == ("lead scoring: needs a leads table (enquiries and trial sign-ups, and "
                             "which of them became customers); add it under `data:` in "
                             "business.yaml")
    assert result.missing_tables == ("leads",)


def test_a_threshold_reason_shows_the_real_count(tmp_path, cases):
    plan = _plan(tmp_path, tables={"leads": _leads(250, 37)})
    result = ts.readiness(plan, cases["lead_scoring"])
    assert not result.ready
    assert result.reason == "lead scoring: 37 converted leads, needs at least 50"
    # 250 rows >= 200 and 395 days (2024-06-01 to as_of) >= 180 count 1 each; 37 of 50 counts 0.74
    assert result.score == pytest.approx((1 + 1 + 37 / 50) / 3, abs=1e-3)
    assert "✓ 250 leads (needs 200)" in result.checks
    assert "✓ 395 days of leads (needs 180)" in result.checks


def test_rows_after_the_analysis_date_do_not_count(tmp_path, cases):
    # 400 daily leads from 2024-06-01: only the 395 up to 2025-06-30 count, 60 converted among them
    plan = _plan(tmp_path, tables={"leads": _leads(400, 60)})
    result = ts.readiness(plan, cases["lead_scoring"])
    assert result.ready and result.score == 1
    assert "✓ 395 leads (needs 200)" in result.checks


def test_propensity_counts_buyers_and_repeat_buyers(tmp_path, cases):
    plan = _plan(tmp_path, tables={"orders": _orders(520, 80, start="2024-03-01")})
    result = ts.readiness(plan, cases["purchase_propensity"])
    assert "✓ 520 customers with orders (needs 500)" in result.checks
    assert "✓ 487 days of orders (needs 365)" in result.checks  # 2024-03-01 to 2025-06-30
    assert result.reason == "purchase propensity: 80 repeat buyers, needs at least 100"
    assert result.score == pytest.approx((1 + 1 + 80 / 100) / 3, abs=1e-3)


def test_one_of_two_alternative_tables_is_enough(tmp_path, cases):
    traffic = pd.DataFrame({"date": pd.date_range("2024-11-01", "2025-06-30").strftime("%Y-%m-%d"),
                            "sessions": 100}).to_csv(index=False)
    ready = ts.readiness(_plan(tmp_path / "a", tables={"web_traffic": traffic}),
                         cases["seo_keywords"])
    assert ready.ready and "✓ 242 days of website traffic records (needs 180)" in ready.checks
    none = ts.readiness(_plan(tmp_path / "b", tables={"orders": _orders(10, 0)}),
                        cases["seo_keywords"])
    assert not none.ready and "needs a web_sessions or web_traffic table" in none.reason


# ---- objective fit and weights -----------------------------------------------------------------
OBJECTIVES = ("objectives:\n  - type: leads\n    target_change: 0.1\n"
              "  - type: grow_sales\n    target_change: 0.1\n")


def test_objective_fit_follows_the_objectives_and_their_order(tmp_path, cases):
    plan = _plan(tmp_path / "a", tables={"orders": _orders(10, 0)}, extra_yaml=OBJECTIVES)
    assert ts.objective_fit(plan, cases["lead_scoring"]) == 1.0  # leads and grow_sales
    assert ts.objective_fit(plan, cases["sales_forecast"]) == pytest.approx(1 / 3)  # grow_sales
    assert ts.objective_fit(plan, cases["churn_prediction"]) == 0.0  # retention only
    swapped = OBJECTIVES.replace("leads", "TMP").replace("grow_sales", "leads").replace(
        "TMP", "grow_sales")
    plan = _plan(tmp_path / "b", tables={"orders": _orders(10, 0)}, extra_yaml=swapped)
    assert ts.objective_fit(plan, cases["sales_forecast"]) == pytest.approx(2 / 3)
    none = _plan(tmp_path / "c", tables={"orders": _orders(10, 0)})
    assert ts.objective_fit(none, cases["churn_prediction"]) == 0.5
    assert ts.reading_ranking(ts.score_use_cases(none, use_cases=MINI)).startswith(
        "business.yaml lists no objectives, so every use case gets the same objective fit (0.5)")


def _mini(id_, objectives, impact, effort, offered_by=(), requires=()):
    return {"id": id_, "name": id_.upper(), "channel": "email", "what": "-",
            "objectives": list(objectives), "requires": list(requires), "impact": impact,
            "effort": effort, "monthly_cost": [0, 10], "time_to_value_weeks": 2,
            "privacy_risk": "low", "tools": {"category": "c", "examples": ["e"]},
            "offered_by": list(offered_by), "kit_section": "outside the kit",
            "test": {"design": "none", "metric": "none", "unit": "none"}}


MINI = [_mini("a", ["leads"], "low", "high"),
        _mini("b", ["grow_sales"], "high", "low", offered_by=["Shopify"]),
        _mini("c", ["leads"], "medium", "medium", requires=[{"table": "leads"}])]


@pytest.fixture
def mini_plan(tmp_path):
    return _plan(tmp_path, tables={"orders": _orders(10, 0)},
                 extra_yaml="objectives:\n  - type: leads\ntools_in_use: [shopify]\n")


@pytest.mark.parametrize("weights, scores, order", [
    # a: .3*1 + .3*1 + .2*.3 + .1*.3 = .69; b: .3 + .2 + .1 + .1 = .70; c: .3 + .2*.6 + .1*.6 = .48
    (None, {"a": 0.69, "b": 0.70, "c": 0.48}, ["b", "a", "c"]),
    # objective fit alone: a and c tie at 1, a wins on readiness
    ({"objective_fit": 1}, {"a": 1.0, "b": 0.0, "c": 1.0}, ["a", "c", "b"]),
    # impact and ease, half each: a (.3+.3)/2, b 1, c (.6+.6)/2
    ({"impact": 2, "ease": 2}, {"a": 0.3, "b": 1.0, "c": 0.6}, ["b", "c", "a"]),
])
def test_weights_change_the_ranking_as_computed_by_hand(mini_plan, weights, scores, order):
    scored = ts.score_use_cases(mini_plan, weights=weights, use_cases=MINI)
    assert scored["id"].tolist() == order and scored["rank"].tolist() == [1, 2, 3]
    assert scored.set_index("id")["score"].to_dict() == pytest.approx(scores)
    assert scored.set_index("id").loc["b", "stack_fit"] == 1.0  # tools_in_use is case-blind
    again = ts.rescore(ts.score_use_cases(mini_plan, use_cases=MINI), weights=weights)
    assert again["id"].tolist() == order


def test_unknown_or_empty_weights_are_refused(mini_plan):
    with pytest.raises(UnknownNameError, match="unknown weight 'impct'. Did you mean 'impact'?"):
        ts.score_use_cases(mini_plan, weights={"impct": 1}, use_cases=MINI)
    with pytest.raises(ConfigError, match="the weights add up to 0"):
        ts.score_use_cases(mini_plan, weights={"impact": 0}, use_cases=MINI)


# ---- the shortlist -----------------------------------------------------------------------------
def test_top_n_takes_only_ready_use_cases(mini_plan):
    scored = ts.score_use_cases(mini_plan, weights={"objective_fit": 1}, top_n=2, use_cases=MINI)
    assert ts.shortlist(mini_plan, scored) == ["a", "b"]  # c ranks 2nd but has no leads table
    assert ts.shortlist(mini_plan, scored, top_n=1) == ["a"]


def test_business_yaml_use_cases_win_and_a_misspelt_one_gets_a_suggestion(tmp_path):
    tables = {"orders": _orders(10, 0)}
    plan = _plan(tmp_path / "a", tables=tables, extra_yaml="use_cases: [c, a]\n")
    scored = ts.score_use_cases(plan, use_cases=MINI)
    with pytest.warns(UserWarning, match="'c' is on your shortlist .* not ready: C: needs a leads"):
        assert ts.shortlist(plan, scored) == ["c", "a"]
    assert ts.artifact(plan, scored, ["c", "a"])["selected_by"] == "business.yaml"
    summary = ts.step_summary(plan, scored, ["c", "a"])["summary"]
    assert summary[0].startswith("Your shortlist is the `use_cases:` list in business.yaml: ")
    plan = _plan(tmp_path / "b", tables=tables, extra_yaml="use_cases: [lead_scorng]\n")
    scored = ts.score_use_cases(plan)
    with pytest.raises(UnknownNameError, match="unknown use case 'lead_scorng'. Did you mean "
                                               "'lead_scoring'?"):
        ts.shortlist(plan, scored)


def test_artifact_holds_exactly_the_agreed_keys(mini_plan):
    scored = ts.score_use_cases(mini_plan, top_n=2, use_cases=MINI)
    picks = ts.shortlist(mini_plan, scored)
    record = ts.artifact(mini_plan, scored, picks)
    assert set(record) == {"weights", "top_n", "selected_by", "shortlist", "ranked", "skipped",
                           "catalogue_size"}
    assert record["weights"] == ts.WEIGHTS and record["top_n"] == 2
    assert (record["selected_by"], record["shortlist"], record["catalogue_size"]) == (
        "top_n", ["b", "a"], 3)
    assert [r["id"] for r in record["ranked"]] == ["b", "a", "c"]
    assert list(record["ranked"][0]) == ts.COLUMNS
    assert record["skipped"] == [{"id": "c", "reason": "C: needs a leads table (enquiries and "
                                  "trial sign-ups, and which of them became customers); add it "
                                  "under `data:` in business.yaml"}]
    path = mini_plan.save("use_cases.json", record)
    assert json.loads(path.read_text())["ranked"][1]["monthly_cost"] == [0.0, 10.0]


def test_selected_and_section_status_read_the_saved_shortlist(tmp_path):
    plan = _plan(tmp_path, tables={"leads": _leads(250, 37), "orders": _orders(600, 150)},
                 extra_yaml=OBJECTIVES)
    computed = ts.selected(plan)  # step 03 has not run: the default choice
    # the only two with their data: 600 buyers, 150 repeat buyers, 547 days of orders
    assert computed == ["purchase_propensity", "customer_segments"]
    plan.save("use_cases.json", {"shortlist": ["lead_scoring", "purchase_propensity"]})
    assert ts.selected(plan) == ["lead_scoring", "purchase_propensity"]
    assert ts.section_status(plan, "purchase_propensity") == (True, "")
    ok, why = ts.section_status(plan, "lead_scoring")
    assert not ok and why == ("Lead scoring is on your shortlist, but its data is not ready: lead "
                              "scoring: 37 converted leads, needs at least 50.")
    ok, why = ts.section_status(plan, "churn_prediction")
    assert not ok and why.startswith("Churn risk was not shortlisted in step 03 (your shortlist: "
                                     "lead_scoring, purchase_propensity).")
    with pytest.raises(UnknownNameError, match="Did you mean 'churn_prediction'"):
        ts.section_status(plan, "churn_predicton")


def test_save_use_cases_writes_business_yaml_and_refuses_unknown_ids(tmp_path):
    plan = _plan(tmp_path, tables={"orders": _orders(10, 0)})
    before = (plan.business_dir / "business.yaml").read_text()
    with pytest.raises(UnknownNameError, match="Did you mean 'lead_scoring'"):
        ts.save_use_cases(plan.business_dir, ["lead_scorin"])
    assert (plan.business_dir / "business.yaml").read_text() == before
    ts.save_use_cases(plan.business_dir, ["lead_scoring", "churn_prediction"])
    assert load_settings(plan.business_dir).use_cases == ["lead_scoring", "churn_prediction"]
    assert "# a test business" in (plan.business_dir / "business.yaml").read_text()


def test_weights_form_smoke_builds_without_writing(mini_plan):
    before = (mini_plan.business_dir / "business.yaml").read_text()
    form = ts.weights_form(mini_plan, ts.score_use_cases(mini_plan, use_cases=MINI))
    assert "1. B" in form.children[-1].value
    assert (mini_plan.business_dir / "business.yaml").read_text() == before


# ---- the chart ---------------------------------------------------------------------------------
def test_impact_effort_data_places_each_use_case_by_its_levels(mini_plan):
    scored = ts.score_use_cases(mini_plan, use_cases=MINI)
    data = ts.impact_effort_data(scored, shortlist=["b"]).set_index("id")
    assert data.loc["a", ["x", "y"]].tolist() == [3.0, 1.0]  # high effort, low impact
    assert data.loc["b", ["x", "y"]].tolist() == [1.0, 3.0]
    assert data.loc["c", "size"] == 60 and data.loc["b", "size"] == 500
    assert data["shortlisted"].tolist() == [True, False, False]
    ax = ts.plot_impact_effort(scored, shortlist=["b"])
    assert ax.get_title() == "Your one shortlisted use promises high impact for low or medium effort"
    title = ts.impact_effort_data(scored, shortlist=["b", "a"])
    assert ts.reading_chart(scored, ["b", "a"]).startswith(
        "1 of your 2 shortlisted uses promise high impact for low or medium effort.")
    assert len(title) == 3
    plt.close(ax.figure)


# ---- the sample businesses ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def harbor(tmp_path_factory):
    plan = open_plan("harbor_coffee", run_dir=tmp_path_factory.mktemp("harbor"))
    scored = ts.score_use_cases(plan)
    return plan, scored


def test_harbor_coffee_shortlists_only_ready_use_cases(harbor):
    plan, scored = harbor
    picks = ts.shortlist(plan, scored)  # the sample lists its choice under use_cases:
    rows = scored.set_index("id")
    assert picks == plan.settings.use_cases and len(picks) == 19 and rows.loc[picks, "ready"].all()
    top = ts.top_ready(scored, 5)  # what step 03 would pick without the list
    assert len(top) == 5 and top == scored[scored["ready"]].head(5)["id"].tolist()
    leads = pd.read_csv(ROOT / "sample_data" / "harbor_coffee" / "data" / "leads.csv")
    converted = int(leads["converted"].astype(str).str.lower().eq("true").sum())
    assert f"{converted} converted leads" in rows.at["lead_scoring", "reason"]
    step = ts.step_summary(plan, scored, picks)
    assert step["status"] == "ok" and step["headline"]["shortlisted"] == 19
    assert step["headline"]["ready"] == int(scored["ready"].sum())


def test_harbor_coffee_readings_speak_of_its_numbers(harbor):
    plan, scored = harbor
    picks = ts.shortlist(plan, scored)
    text = ts.readings(plan, scored, picks)
    assert text["readiness"].startswith(
        f"Your data is ready for {int(scored['ready'].sum())} of the {len(scored)} use cases.")
    low = sum(scored.set_index("id").loc[picks, "monthly_cost"].map(lambda c: c[0]))
    high = sum(scored.set_index("id").loc[picks, "monthly_cost"].map(lambda c: c[1]))
    assert f"about ${low:,.0f}-{high:,.0f} a month" in text["shortlist"]
    assert set(text) == {"catalogue", "readiness", "ranking", "chart", "shortlist", "next"}


def test_bloom_yoga_is_not_ready_for_product_recommendations(tmp_path):
    plan = open_plan("bloom_yoga", run_dir=tmp_path / "run")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scored = ts.score_use_cases(plan)
    row = scored.set_index("id").loc["product_recommendations"]
    assert not row["ready"] and row["readiness"] < 1
    assert "needs an order_items table" in row["reason"]
    assert "order_items" in ts.readings(plan, scored, ts.shortlist(plan, scored))["readiness"]
    with pytest.warns(UserWarning, match="'budget_reallocation' is on your shortlist .* not "
                                         "ready: budget and bid reallocation: 0 channels with 52"):
        picks = ts.shortlist(plan, scored)  # chosen for its ROAS fallback in step 07
    ready = scored.set_index("id").loc[picks, "ready"]
    assert ready[~ready].index.tolist() == ["budget_reallocation"]


def test_a_business_with_only_an_experiment_log_gets_the_test_readout(tmp_path):
    folder = write_business(tmp_path / "lab", data={"experiments": "data/experiments.csv"},
                            files={"data/experiments.csv":
                                   ROOT / "sample_data/harbor_coffee/data/experiments.csv"})
    plan = open_plan(folder, run_dir=tmp_path / "run", **{"business.as_of": "2026-09-30"})
    scored = ts.score_use_cases(plan)
    picks = ts.shortlist(plan, scored)
    assert picks == ["experiment_readout"]
    text = ts.reading_shortlist(scored, picks)
    assert "cost about $0 a month" in text and "first results in 1 week." in text


def test_subject_line_testing_can_be_measured_on_a_mailchimp_campaign_report(tmp_path):
    # summit_outdoor has no per-recipient e-mail events, only Mailchimp's campaign report.
    plan = open_plan("summit_outdoor", run_dir=tmp_path / "run")
    report = pd.read_csv(ROOT / "sample_data/summit_outdoor/exports/mailchimp_campaigns.csv")
    sent = pd.to_datetime(report["Send Date"], format="%b %d, %Y %I:%M %p")
    recent = (sent >= pd.Timestamp("2026-07-03")) & (sent < pd.Timestamp("2026-10-01"))  # 90 days
    delivered = int(report.loc[recent, "Successful Deliveries"].sum())
    found = ts.readiness(plan, ts.use_case("subject_line_testing"))
    assert found.ready
    assert f"{delivered:,} e-mails delivered in the last 90 days" in found.reason


def test_catalogue_reading_counts_channels_and_outside_tools():
    cases = [{"name": "Lead scoring", "channel": "sales_crm", "kit_section": "06 · Lead scoring"},
             {"name": "SEO keywords", "channel": "content", "kit_section": rd.OUTSIDE},
             {"name": "Churn risk", "channel": "retention", "kit_section": "06 · Churn risk"}]
    text = ts.reading_catalogue(cases)
    assert text.startswith("The catalogue holds 3 ways to use AI across 3 channels (")
    assert "sales and CRM 1" in text
    assert "builds 2 of them in later notebooks; the other 1 (SEO keywords) need an outside tool" \
        in text
