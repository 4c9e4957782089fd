"""Step 06: what the notebook shows of each model and what the run folder keeps.

The models come from ``helpers.models`` (propensity, churn, lead scores), ``helpers.forecast`` and
``helpers.clv``. This module draws each classifier's test on one figure, lays the model cards side
by side, and saves the step's artifacts: ``models/*.joblib`` with their cards,
``model_metrics.json`` and ``scores.parquet``. ``load_scores`` hands step 07 the scores, from the
run folder or, when step 06 has not run, trained the same way now.
"""

from __future__ import annotations

import pandas as pd

from helpers import evaluation as ev
from helpers import plots, sections
from helpers.errors import MissingDataError

SCORES = "scores.parquet"
METRICS = "model_metrics.json"
UNITS = {"roc_auc": "number", "baseline_roc_auc": "number", "change_vs_last_year": "percent"}
HEADLINE = {"propensity": ["roc_auc", "baseline_roc_auc"], "churn": ["roc_auc", "baseline_roc_auc"],
            "leads": ["roc_auc", "baseline_roc_auc"],
            "forecast": ["forecast_total", "forecast_low_80", "forecast_high_80",
                         "change_vs_last_year"],
            "lifetime value": ["total_value", "top_decile_share"]}
WHAT = {"propensity": ("buyers", "bought"), "churn": ("customers who stop", "stopped buying"),
        "lead_score": ("leads who convert", "converted")}


def _is_model(result) -> bool:
    return hasattr(result, "beats_baseline") and hasattr(result, "validation")


def metrics_table(result) -> pd.DataFrame:
    """The test of one classifier next to its simple rule: ROC AUC (with its 95 % interval),
    PR AUC, Brier score, gains and lift in the top tenth. A section that did not run gives one
    row saying why."""
    if not sections.ran(result):
        return pd.DataFrame({"not run": [result.reading]})
    m = result.metrics
    rows = {"ROC AUC (0.5 = coin toss)": (f"{m['roc_auc']:.3f} ({m['auc_low']:.3f}-"
                                          f"{m['auc_high']:.3f})", f"{m['baseline_roc_auc']:.3f}")}
    for key, label, fmt in (("pr_auc", "PR AUC (precision across the ranking)", "{:.3f}"),
                            ("brier", "Brier score (error of the chances; lower is better)",
                             "{:.3f}"),
                            ("gains_top_decile", "share of all found in the top tenth", "{:.0%}"),
                            ("lift_top_decile", "lift of the top tenth", "{:.1f}x")):
        rule = m.get(f"baseline_{key}")
        rows[label] = (fmt.format(m[key]), "–" if rule is None else fmt.format(rule))
    return pd.DataFrame(rows, index=[f"model ({m['model']})", "simple rule"]).T


def plot_model(result, *, currency: str = "USD"):
    """One figure per classifier: the gains chart (or, for leads, profit per threshold), the
    calibration chart and the drivers. None when the section did not run."""
    if not sections.ran(result):
        return None
    import matplotlib.pyplot as plt

    plots.apply_theme()
    people, outcome = WHAT.get(result.name, ("positives", "happened"))
    v = result.validation
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(17, 4.8))
    if result.name == "lead_score" and not result.profit.empty:
        ev.plot_profit(result.profit, currency=currency, ax=left)
    else:
        ev.plot_gains(ev.gains_data(v["y"], v["p"], baseline=v["baseline"]), what=people,
                      ax=left)
    ev.plot_calibration(ev.calibration_data(v["y"], v["p"]), outcome=outcome, ax=middle)
    ev.plot_drivers(result.drivers, ax=right)
    fig.tight_layout()
    return fig


def plot_clv(result, *, currency: str = "USD"):
    """The lifetime-value holdout check beside the distribution of values. None when the section
    did not run."""
    if not sections.ran(result):
        return None
    import matplotlib.pyplot as plt

    from helpers import clv

    plots.apply_theme()
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 4.8))
    clv.plot_clv_check(result, ax=left)
    clv.plot_clv_distribution(result, currency=currency, ax=right)
    fig.tight_layout()
    return fig


def cards_table(results: list) -> pd.DataFrame:
    """The model cards side by side: what each model is for, the data window, its test against
    the rule, whether it is used, and the fairness check."""
    rows = {}
    for r in results:
        if not (_is_model(r) and r.supported):
            continue
        card, m = r.card, r.metrics
        rows[r.name.replace("_", " ")] = {
            "for": card.get("intended_use", ""), "not for": card.get("not_for", ""),
            "learned from": "; ".join(f"{k} {v}" for k, v in card.get("data_window", {}).items()),
            "AUC: model vs rule": f"{m['roc_auc']:.2f} vs {m['baseline_roc_auc']:.2f}",
            "used": "yes" if r.beats_baseline else "no: the simple rule is used instead",
            "fairness": card.get("fairness", {}).get("summary", ""),
            "limits": " ".join(card.get("limitations", [])),
        }
    return pd.DataFrame(rows)


def what_this_means_cards(results: list) -> str:
    """Which models earned their place, which fell back to the rule, and the fairness flags."""
    trained = [r for r in results if _is_model(r) and r.supported]
    if not trained:
        return ("No model was trained in this step, so there are no cards: each section above "
                "says which data or which shortlist choice would start one.")
    used = [r.name.replace("_", " ") for r in trained if r.beats_baseline]
    not_used = [r.name.replace("_", " ") for r in trained if not r.beats_baseline]
    lines = []
    if used:
        lines.append(f"Beat their simple rule on a later period they never saw, so step 07 uses "
                     f"their scores: {', '.join(used)}.")
    if not_used:
        lines.append(f"Did not beat their rule, so step 07 uses the rule instead: "
                     f"{', '.join(not_used)}.")
    for r in trained:
        summary = r.card.get("fairness", {}).get("summary", "")
        if summary:
            lines.append(f"{r.name.replace('_', ' ').capitalize()}: {summary}")
    return "\n".join(lines)


# ---- what the run folder keeps -------------------------------------------------------------------
def scores_frame(results: dict) -> pd.DataFrame:
    """One row per customer: propensity and churn risk with their deciles (``models``), and the
    lifetime value with its range and the chance the customer is still active (``clv``)."""
    from helpers import models

    scores = models.scores_table([r for r in results.values() if _is_model(r)])
    value = next((r for r in results.values() if hasattr(r, "by_decile")), None)
    if sections.ran(value):
        keep = [c for c in value.customers.columns
                if c == "customer_id" or c.startswith("clv_") or c == "p_alive"]
        scores = scores.merge(value.customers[keep], on="customer_id", how="outer")
    return scores


def metrics_record(results: dict) -> dict:
    """model_metrics.json: each classifier's test next to its rule (``models.metrics_artifact``),
    the forecast's backtest and the lifetime-value holdout check; why any did not run."""
    from helpers import models

    record = models.metrics_artifact([r for r in results.values() if _is_model(r)])
    for title, r in results.items():
        if _is_model(r):
            continue
        entry = {"supported": sections.ran(r), "reason": r.reading if not sections.ran(r) else ""}
        if sections.ran(r) and hasattr(r, "comparison"):
            entry |= {"chosen": r.chosen, "backtest": r.comparison.to_dict("records")}
        if sections.ran(r) and hasattr(r, "params"):
            entry |= {"params": r.params, "holdout_check": r.check.to_dict("records")}
        record[title.replace(" ", "_")] = entry
    return record


def save_step(plan, results: dict, *, figures: dict) -> None:
    """Save the models with their cards, model_metrics.json, scores.parquet and the charts."""
    from helpers import models

    models.save_models(plan, [r for r in results.values() if _is_model(r)])
    plan.save(METRICS, metrics_record(results))
    scores = scores_frame(results)
    if len(scores):
        plan.save(SCORES, scores)
    sections.save_figures(plan, figures)


def step_summary(results: dict) -> dict:
    """The step record for ``plan.record_step(6, ...)``; the first screen of the report says
    which models earned their place and what the forecast expects."""
    step = sections.step_record(results, units=UNITS, keep=HEADLINE)
    cards = what_this_means_cards(list(results.values())).split("\n")[0]
    step["executive"] = [cards, *sections.executive({k: v for k, v in results.items()
                                                     if k == "forecast"})]
    return step


def saved_cards(plan) -> list[dict]:
    """Step 06's model cards in the run folder (models/<name>_card.json), in name order; each
    holds its ``name``. Empty when step 06 has saved none."""
    from helpers import io

    folder = plan.path("models")
    paths = sorted(folder.glob("*_card.json")) if folder.exists() else []
    cards = [({"name": p.stem.removesuffix("_card")} | card) for p in paths
             if isinstance(card := io.read_json(p), dict)]
    return cards


def load_scores(plan) -> pd.DataFrame:
    """Step 06's customer scores from the run folder; when step 06 has not run, the models it
    would train (those shortlisted) are trained now, the same way."""
    try:
        return plan.load(SCORES)
    except MissingDataError:
        pass
    from helpers import models

    results = {"propensity": sections.run_section(plan, "purchase_propensity",
                                                  models.train_propensity),
               "churn": sections.run_section(plan, "churn_prediction", models.train_churn)}
    return scores_frame(results)
