"""What step 06 shows of each model and what the run folder keeps (helpers.model_cards), and the
step-07 pieces around the action files (helpers.activation, helpers.sections, plots.table)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers import activation as act  # noqa: E402
from helpers import model_cards as mc  # noqa: E402
from helpers import plots, sections  # noqa: E402
from helpers.clv import CLVResult  # noqa: E402
from helpers.models import ModelResult  # noqa: E402
from helpers.offers import OffersResult  # noqa: E402
from helpers.social import SocialResult  # noqa: E402
from tests.test_tool_selection import _orders, _plan  # noqa: E402

METRICS = {"model": "logistic regression", "roc_auc": 0.9, "auc_low": 0.88, "auc_high": 0.92,
           "baseline_roc_auc": 0.8, "pr_auc": 0.5, "baseline_pr_auc": 0.3, "brier": 0.05,
           "gains_top_decile": 0.6, "baseline_gains_top_decile": 0.4, "lift_top_decile": 6.0,
           "baseline_lift_top_decile": 4.0}


def _model(name, beats=True, fairness=""):
    scores = pd.DataFrame({"customer_id": ["C1", "C2"], "score": [0.9, 0.1], "decile": [10, 1]})
    card = {"intended_use": "rank customers", "not_for": "credit", "limitations": ["thin"],
            "data_window": {"train_cutoffs": "2026-01-01"}, "fairness": {"summary": fairness}}
    return ModelResult(name, True, model=None, metrics=METRICS, scores=scores, card=card,
                       reading=f"{name} read", headline={"roc_auc": 0.9, "model": "lr"},
                       beats_baseline=beats)


def _value():
    customers = pd.DataFrame({"customer_id": ["C2", "C3"], "p_alive": [0.5, 0.9],
                              "clv_12m": [10.0, 30.0], "clv_low": [5.0, 20.0],
                              "clv_high": [15.0, 40.0], "expected_purchases": [1.0, 2.0]})
    return CLVResult(True, "", {"r": 0.2}, pd.DataFrame({"group": ["0"], "actual": [3]}),
                     customers, pd.DataFrame(), "worth $40", headline={"total_value": 40.0})


def test_metrics_table_sets_the_model_beside_its_rule_and_says_why_a_section_did_not_run():
    table = mc.metrics_table(_model("propensity"))
    assert table.loc["ROC AUC (0.5 = coin toss)"].tolist() == ["0.900 (0.880-0.920)", "0.800"]
    assert table.loc["Brier score (error of the chances; lower is better)"].tolist() == ["0.050",
                                                                                        "–"]
    assert table.loc["lift of the top tenth"].tolist() == ["6.0x", "4.0x"]
    assert mc.metrics_table(sections.Skipped("No leads.")).to_dict("list") == {
        "not run": ["No leads."]}


def test_cards_say_which_models_are_used_and_carry_the_fairness_summary():
    results = [_model("propensity", fairness="Every group is picked fairly."),
               _model("churn", beats=False), sections.Skipped("no leads")]
    cards = mc.cards_table(results)
    assert list(cards.columns) == ["propensity", "churn"]
    assert cards.at["used", "churn"] == "no: the simple rule is used instead"
    assert mc.what_this_means_cards(results).splitlines() == [
        "Beat their simple rule on a later period they never saw, so step 07 uses their scores: "
        "propensity.", "Did not beat their rule, so step 07 uses the rule instead: churn.",
        "Propensity: Every group is picked fairly."]
    assert mc.what_this_means_cards([sections.Skipped("x")]).startswith("No model was trained")


def test_the_run_folder_keeps_scores_metrics_and_models(tmp_path):
    plan = _plan(tmp_path, tables={"orders": _orders(10, 0)})
    results = {"propensity": _model("propensity"), "leads": sections.Skipped("No leads table."),
               "lifetime value": _value()}
    scores = mc.scores_frame(results)
    assert scores.set_index("customer_id").loc["C2", ["propensity", "clv_12m"]].tolist() == [
        0.1, 10.0]
    assert set(scores["customer_id"]) == {"C1", "C2", "C3"}  # outer join: scored by either
    assert "expected_purchases" not in scores
    record = mc.metrics_record(results)
    assert record["propensity"]["beats_baseline"] is True
    assert record["leads"] == {"supported": False, "reason": "No leads table."}
    assert record["lifetime_value"]["params"] == {"r": 0.2}
    mc.save_step(plan, results, figures={"06_none": None})
    assert mc.load_scores(plan).equals(pd.read_parquet(plan.run_dir / mc.SCORES))
    assert not (plan.run_dir / "figures").exists()  # nothing drawn, nothing saved
    step = mc.step_summary(results)
    assert step["headline"] == {"propensity_roc_auc": 0.9, "lifetime_value_total_value": 40.0}
    assert step["units"] == {"propensity_roc_auc": "number",
                             "lifetime_value_total_value": "money"}


def test_sections_that_keep_tables_as_attributes_hand_them_over_as_files():
    offers = OffersResult(True, offers=pd.DataFrame({"segment": ["a"], "offer": [0.1]}),
                          customers=pd.DataFrame({"customer_id": ["C1"], "offer": [0.1]}))
    social = SocialResult(True, best_slots=pd.DataFrame())  # nothing to schedule: no file
    actions = act.collect({"offers": offers, "social": social,
                           "ads": sections.Skipped("not shortlisted")})
    assert [(a.section, a.name) for a in actions] == [("offers", "offer_plan"),
                                                       ("offers", "offers_by_customer")]
    assert all(a.what_to_do for a in actions)


def test_the_files_reading_counts_rows_and_names_the_personal_ones():
    listed = [{"file": "actions/a.csv", "section": "email", "rows": 3, "what_to_do": "x",
               "personal_data": True},
              {"file": "actions/b.csv", "section": "offers", "rows": 1200, "what_to_do": "y",
               "personal_data": False}]
    social = SocialResult(True, reading="post at 8")
    assert act.what_this_means(listed, {"social": social}).splitlines() == [
        "2 files are ready in actions/ from 2 sections (email, offers), 1,203 rows in all.",
        "One of them holds e-mail addresses for your own e-mail tool (actions/a.csv): import, "
        "then delete after the import.",
        "These sections ran but have nothing to upload, only findings to act on: social."]
    assert act.what_this_means([], {}).startswith("No file was written")
    step = act.step_summary(listed, {"social": SocialResult(True, reading="r", headline={
        "best_slot": "Sun 20:00", "posts": 9})})
    assert step["headline"] == {"files": 2, "social_best_slot": "Sun 20:00"}


def test_table_formats_money_percent_and_numbers_for_the_screen():
    frame = pd.DataFrame({"channel": ["search", "social"], "spend": [1730.0, 12.5],
                          "share": [0.25, float("nan")], "r2": [0.8421, 1.0], "weeks": [3, 4]})
    out = plots.table(frame, currency="EUR", money=["spend"], percent=["share"], number=["r2"],
                      drop=["weeks"], index="channel")
    assert out.to_dict("index") == {"search": {"spend": "€1,730", "share": "25.0%",
                                               "r2": "0.84"},
                                    "social": {"spend": "€12.50", "share": "", "r2": "1.00"}}
    assert frame["spend"].tolist() == [1730.0, 12.5]  # the original is left as it was


@pytest.mark.parametrize("key,unit", [("hit_rate", "percent"), ("top_decile_share", "percent"),
                                      ("expected_gain", "money"), ("posts", None)])
def test_headline_units_follow_the_name_when_not_given(key, unit):
    assert sections.unit_of(key) == unit


def test_saved_cards_reads_each_card_once_with_its_name(tmp_path):
    from types import SimpleNamespace

    from helpers import io
    from helpers.model_cards import saved_cards

    plan = SimpleNamespace(path=lambda name: tmp_path / name)
    assert saved_cards(plan) == []  # step 06 has not run
    io.write_json(tmp_path / "models" / "propensity_card.json", {"name": "propensity", "n": 1})
    io.write_json(tmp_path / "models" / "churn_card.json", {"features": ["recency_days"]})
    io.write_json(tmp_path / "models" / "odd_card.json", ["not", "a", "card"])
    assert saved_cards(plan) == [{"name": "churn", "features": ["recency_days"]},
                                 {"name": "propensity", "n": 1}]
