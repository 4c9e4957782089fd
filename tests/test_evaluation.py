"""Step 06 evaluation: metrics, gains, calibration, profit per threshold and fairness by hand."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers import evaluation as ev  # noqa: E402

Y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
P = np.array([0.9, 0.8, 0.7, 0.3, 0.3, 0.2, 0.2, 0.1, 0.1, 0.05])


def test_classification_metrics_by_hand():
    m = ev.classification_metrics(Y, P)
    # pairs (positive, negative) where the positive scores higher: 0.9 beats 7, 0.7 beats 6,
    # 0.05 beats none: 13 of 3 x 7 = 21
    assert m["roc_auc"] == pytest.approx(13 / 21)
    assert m["brier"] == pytest.approx(np.mean((P - Y) ** 2))
    # the top tenth is one person (0.9), a buyer: a third of the buyers, 1 / 0.3 times the rate
    assert m["gains_top_decile"] == pytest.approx(1 / 3)
    assert m["lift_top_decile"] == pytest.approx(1 / 0.3)
    assert m["positives_rate"] == 0.3 and m["n"] == 10
    # average precision: precision at each buyer found, 1/1, 2/3 and 3/10, averaged
    assert m["pr_auc"] == pytest.approx((1 + 2 / 3 + 3 / 10) / 3)
    assert np.isnan(ev.classification_metrics([0, 0, 0], [0.1, 0.2, 0.3])["roc_auc"])


def test_auc_by_hand_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y, s = rng.integers(0, 2, 300), rng.integers(0, 5, 300)  # many ties
    assert ev.auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert np.isnan(ev.auc([1, 1], [0.2, 0.3]))


def test_bootstrap_interval_holds_the_estimate_and_repeats_with_the_seed():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    p = y * 0.3 + rng.random(400)
    a = ev.bootstrap_auc(y, p, p, seed=3)
    assert a["auc_low"] < ev.auc(y, p) < a["auc_high"]
    assert a["diff_low"] == a["diff_high"] == 0.0  # the same scores as the baseline
    assert ev.bootstrap_auc(y, p, p, seed=3) == a


def test_gains_by_hand():
    g = ev.gains_data(Y, P, baseline=P[::-1], bins=5)
    # top 2 of 10 by P: 0.9 (buyer), 0.8 -> 1 of 3 buyers; top 4: 2 of 3; all 10: 3 of 3
    assert g.model.tolist() == pytest.approx([1 / 3, 2 / 3, 2 / 3, 2 / 3, 1.0])
    assert g.random.tolist() == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert g.baseline.iloc[0] == pytest.approx(1 / 3)  # reversed: 0.05 (a buyer) comes first
    ax = ev.plot_gains(g)
    assert ax.get_title() == "The top 20% the model picks hold 33% of the buyers"


def test_calibration_by_hand():
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    p = np.array([0.1, 0.1, 0.2, 0.2, 0.7, 0.7, 0.8, 0.8])
    c = ev.calibration_data(y, p, bins=2)
    assert c.predicted.tolist() == pytest.approx([0.15, 0.75])
    assert c.observed.tolist() == pytest.approx([0.25, 0.75])
    ax = ev.plot_calibration(c)
    assert ax.get_title() == "Predicted chances are 5.0 percentage points off on average"


def test_profit_per_threshold_by_hand():
    y, p = [1, 0, 1, 0], [0.9, 0.6, 0.3, 0.1]
    prof = ev.profit_data(y, p, value=100, call_cost=20, thresholds=[0.0, 0.5, 0.95])
    row = prof.set_index("threshold").loc[0.5]
    assert row.contacted == 2
    assert row.expected_profit == pytest.approx((90 - 20) + (60 - 20))  # 110
    assert row.realized_profit == pytest.approx((100 - 20) + (0 - 20))  # 60
    assert prof.set_index("threshold").loc[0.0].expected_profit == pytest.approx(
        90 + 60 + 30 + 10 - 4 * 20)  # 110 too: calling the 0.3 and 0.1 leads adds 10 - 10
    assert prof.set_index("threshold").loc[0.95].contacted == 0
    assert ev.best_threshold(prof).threshold == 0.5  # a tie: the higher threshold, fewer calls
    sentence = ev.profit_sentence(ev.best_threshold(prof), prof.iloc[0], n_test=4, open_leads=3,
                                  to_call=2, call_cost=20, value=100)
    assert sentence == ("At $20 a call and $100 per conversion, a call pays when a lead's "
                        "chance is above 20%. On the test leads, calling those scoring 50% or "
                        "more (2 of 4) promised $110 and brought $60, against $120 for calling "
                        "every one. 2 of the 3 open leads score above it.")


def test_fairness_flags_groups_picked_under_four_fifths_of_the_overall_rate():
    v = pd.DataFrame({"y": Y, "p": P, "region": ["N", "N", "S", "S", "S", "S", "S", "S", "N", "N"],
                      "age_band": ["a"] * 10})
    f = ev.fairness_table(v).set_index(["attribute", "group"])
    # top tenth = the 0.9 person, in N: N picked 1 of 4 = 25%, S 0 of 6; overall 10%
    assert f.loc[("region", "N"), "selected_share"] == 0.25
    assert f.loc[("region", "N"), "selection_ratio"] == pytest.approx(2.5)
    assert f.loc[("region", "S"), "flag"] and not f.loc[("region", "N"), "flag"]
    assert f.loc[("region", "S"), "positives_rate"] == pytest.approx(1 / 6)
    assert f.loc[("region", "S"), "positives_ratio"] == pytest.approx((1 / 6) / 0.3)
    assert f.loc[("region", "N"), "roc_auc"] == pytest.approx(ev.auc([1, 0, 0, 1],
                                                                     [0.9, 0.8, 0.1, 0.05]))
    assert not f.loc[("age_band", "a"), "flag"]
    assert "S (region: picked at 0% of the overall rate, while its actual rate is 56% of the " \
           "average)" in ev.fairness_summary(f.reset_index())


def test_model_card_keeps_lists_and_summarises_fairness():
    v = pd.DataFrame({"y": Y, "p": P, "region": ["N"] * 5 + ["S"] * 5})
    card = ev.model_card(name="propensity", intended_use="rank", not_for="credit",
                         data_window={"train_cutoffs": ["2025-01-01", "2024-10-01"]},
                         population="customers", features=["recency_days"], model="logistic",
                         metrics={"roc_auc": np.float64(0.7), "brier": np.nan},
                         limitations=["few buyers"], fairness=ev.fairness_table(v))
    assert card["data_window"]["train_cutoffs"] == "2025-01-01, 2024-10-01"
    assert card["fairness"]["summary"].startswith("Picked for the top tenth at under 80%")
    assert ev.json_safe(card["metrics"]) == {"roc_auc": 0.7, "brier": None}


def test_deciles_and_rule_rates():
    assert ev.deciles([0.1, 0.5, 0.3, 0.9, 0.7]).tolist() == [2, 6, 4, 10, 8]
    rates = ev.rate_by_score([3, 1, 7], score_then=[1, 1, 3, 3], y_then=[0, 1, 1, 1])
    assert rates.tolist() == [1.0, 0.5, 0.75]  # 7 was not seen: the overall rate


def test_quality_sentences_say_when_the_model_loses_to_the_rule():
    m = {"model": "logistic regression", "roc_auc": 0.70, "auc_low": 0.65, "auc_high": 0.75,
         "baseline_roc_auc": 0.72, "diff_low": -0.05, "diff_high": 0.01,
         "gains_top_decile": 0.25, "lift_top_decile": 2.5}
    text = " ".join(ev.quality_sentences(m, people="customers", positives="buyers",
                                         rule="recency", beats=False))
    assert "AUC of 0.70 (95% interval 0.65 to 0.75" in text
    assert "against 0.72 for the simple rule (recency)" in text
    assert "It does not beat the rule, so the scores come from the rule" in text
    assert "holds 25% of the buyers, 2.5 times" in text


def test_a_model_is_used_only_when_it_beats_the_rule_by_more_than_the_noise():
    m = {"roc_auc": 0.941, "baseline_roc_auc": 0.938, "diff_low": -0.002, "diff_high": 0.008}
    assert not ev.beats_rule(m)  # harbor's churn model: ahead, but within the noise
    assert ev.beats_rule(m | {"diff_low": 0.001})
    assert not ev.beats_rule(m | {"roc_auc": 0.93, "diff_low": 0.001})  # behind the rule
    assert ev.beats_rule(m | {"diff_low": float("nan")})  # no interval: the higher AUC decides
    text = ev.quality_sentences(m | {"model": "logistic regression", "auc_low": 0.93,
                                     "auc_high": 0.95, "gains_top_decile": 0.13,
                                     "lift_top_decile": 1.3}, people="active customers",
                                positives="customers who stopped", rule="least recent first",
                                beats=ev.beats_rule(m))
    assert text[1] == ("It is ahead of the rule by 0.00 only, within the noise (-0.00 to +0.01), "
                       "so it has not earned its place: the scores come from the rule.")
