"""Step 10: whether the model scores pick some regions or age bands far less than others."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from helpers.compliance import CUSTOMER_ID, _missing
from helpers.errors import DataError, MissingDataError
from helpers.sections import Section


# ---- fairness: who the scores pick ------------------------------------------------------------
@dataclass(frozen=True)
class FairnessResult(Section):
    """``table``: per score, attribute and group: customers, selected, selection_rate,
    ratio_to_best (against the best-served group of at least ``min_group``), status."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)


SCORED = {"propensity": "likely to buy", "churn_risk": "at risk of leaving"}


def fairness_data(scores: pd.DataFrame, customers: pd.DataFrame, *, by=("region", "age_band"),
                  min_group: int = 50, top_share: float = 0.1) -> pd.DataFrame:
    """Selection rates of the top ``top_share`` of each score (``SCORED``) per group of each
    ``by`` column, and each rate over that of the best-served group with at least ``min_group``
    customers (the four-fifths rule: under ``helpers.evaluation.FAIR_RATIO``). A group under the
    ratio is "below four-fifths" only when a one-sided Fisher exact test against the best group
    gives p < 0.05, else "below four-fifths, could be chance"; smaller groups are "too small to
    judge", and customers without a value ("unknown") are listed, never judged."""
    from scipy.stats import fisher_exact

    from helpers.audiences import top
    from helpers.evaluation import FAIR_RATIO

    people = customers.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID)
    s, rows = scores.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID), []
    for score, attr in [(c, a) for c in SCORED if c in s for a in by if a in people]:
        picked = top(s[score].dropna(), top_share)
        group = people[attr].reindex(picked.index).astype("string").fillna("unknown")
        g = picked.groupby(group).agg(["size", "sum"])
        g["rate"] = g["sum"] / g["size"]
        judged = g[(g["size"] >= min_group) & (g.index != "unknown")]
        best = judged.loc[judged["rate"].idxmax()] if len(judged) else None
        for name, r in g.iterrows():
            ratio = r["rate"] / best["rate"] if best is not None and best["rate"] else float("nan")
            status = ("not a group (value missing)" if name == "unknown" else
                      "too small to judge" if r["size"] < min_group else
                      "ok" if not ratio < FAIR_RATIO else "below four-fifths")
            if status == "below four-fifths" and fisher_exact(
                    [[r["sum"], r["size"] - r["sum"]], [best["sum"], best["size"] - best["sum"]]],
                    alternative="less")[1] >= 0.05:
                status = "below four-fifths, could be chance"
            rows.append({"score": score, "attribute": attr, "group": name,
                         "customers": int(r["size"]), "selected": int(r["sum"]),
                         "selection_rate": r["rate"], "ratio_to_best": ratio, "status": status})
    return pd.DataFrame(rows, columns=["score", "attribute", "group", "customers", "selected",
                                       "selection_rate", "ratio_to_best", "status"])


def _fairness_reading(table: pd.DataFrame, min_group: int) -> str:
    text = ["Each group's chance of landing in the top tenth of a score is compared with that "
            f"of the best-served group of at least {min_group} customers (the four-fifths rule, "
            "with a test of whether the gap could be chance)."]
    for score, t in table.groupby("score", sort=False):
        low = t[t["status"] == "below four-fifths"]
        maybe = t[t["status"] == "below four-fifths, could be chance"]
        names = ", ".join(f"{r.group} ({r.attribute.replace('_', ' ')}, {r.ratio_to_best:.0%})"
                          for r in low.itertuples())
        line = (f"Picked as {SCORED[score]} at under 80% of the best group's rate, beyond chance: "
                f"{names}." if len(low) else f"Picked as {SCORED[score]}: no group falls below "
                "80% of the best group's rate beyond chance.")
        if len(maybe):
            line += (f" {len(maybe)} more {'falls' if len(maybe) == 1 else 'fall'} below 80%, "
                     "but by amounts chance could explain.")
        text.append(line)
    if (table["status"] == "below four-fifths").any():
        text.append("A low ratio is not proof of unfairness (the group may buy or leave less "
                    "often), but check step 06's model card before the scores leave anyone out.")
    return " ".join(text)


def fairness(plan, *, min_group: int = 50) -> FairnessResult:
    """How often each region and age band lands in the top tenth of step 06's propensity and
    churn-risk scores, against the best-served group (the four-fifths rule)."""
    from helpers.model_cards import load_scores

    if not plan.has("customers"):
        return FairnessResult.unsupported(f"Fairness needs your customers table with region or "
                                          f"age_band. {_missing(plan, 'customers')}")
    customers = plan.prepared("customers")
    if not {"region", "age_band"} & set(customers.columns):
        return FairnessResult.unsupported(
            "Your customers table has no region or age_band column, so there are no groups to "
            "compare: add one to check whether the scores treat groups alike.")
    try:
        scores = load_scores(plan)
    except (MissingDataError, DataError) as exc:
        return FairnessResult.unsupported(f"No model scores to check: {exc} Run step 06 first.")
    table = fairness_data(scores, customers, min_group=min_group)
    judged = table[~table["status"].isin(["too small to judge", "not a group (value missing)"])]
    if not len(judged) or judged.groupby(["score", "attribute"]).size().max() < 2:
        return FairnessResult.unsupported(
            f"No score has two groups of at least {min_group} customers to compare: run step 06 "
            f"(propensity, churn) and add region or age_band for more of your customers.")
    small = table[table["status"] == "too small to judge"]
    headline = {"groups_checked": len(judged),
                "groups_flagged": int((table["status"] == "below four-fifths").sum()),
                "groups_too_small": len(small), "worst_ratio": float(judged["ratio_to_best"].min())}
    warnings = (f"Too small to judge (under {min_group} customers): " + ", ".join(
        sorted(set(small["group"].astype(str)))) + ".",) if len(small) else ()
    return FairnessResult(True, "", _fairness_reading(table, min_group), warnings, headline,
                          table)


def model_cards(plan) -> pd.DataFrame:
    """The run folder's model cards (models/*_card.json) side by side: model, use, not for,
    data window, main metric against its rule, whether it beat the rule, fairness summary."""
    from helpers.evaluation import beats_rule
    from helpers.model_cards import saved_cards

    rows = []
    for card in saved_cards(plan):
        m = card.get("metrics", {})
        metric = (f"ROC AUC {m['roc_auc']:.2f} vs rule {m['baseline_roc_auc']:.2f}"
                  if {"roc_auc", "baseline_roc_auc"} <= set(m) else "–")
        rows.append({"model": card["name"].replace("_", " "),
                     "use": card.get("intended_use", ""), "not for": card.get("not_for", ""),
                     "data window": "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in
                                              card.get("data_window", {}).items()),
                     "main metric": metric, "beats rule": ("yes" if beats_rule(m) else "no")
                     if metric != "–" else "–",
                     "fairness": card.get("fairness", {}).get("summary", "")})
    return pd.DataFrame(rows, columns=["model", "use", "not for", "data window", "main metric",
                                       "beats rule", "fairness"])


def fairness_chart_data(result: FairnessResult) -> pd.DataFrame:
    """The groups ``plot_fairness`` draws: each judged group's selection ratio to the best group,
    for the first score (propensity when there is one)."""
    t = result.table
    t = t[t["score"] == t["score"].iloc[0]] if len(t) else t
    t = t[~t["status"].str.startswith("not a group")]
    return t.assign(label=t["attribute"].str.replace("_", " ") + ": " + t["group"].astype(str))


def plot_fairness(result: FairnessResult, ax=None):
    """Each group's rate of being picked against the best-served group, the four-fifths line
    drawn; groups below it in the warning colour."""
    from helpers import plots
    from helpers.evaluation import FAIR_RATIO

    data = fairness_chart_data(result)
    ax = plots.axes(ax)
    below = data["ratio_to_best"] < FAIR_RATIO
    ax.barh(data["label"], data["ratio_to_best"],
            color=[plots.PALETTE[3] if b else plots.PALETTE[0] for b in below])
    ax.axvline(FAIR_RATIO, color="black", linestyle="--", linewidth=1)
    ax.invert_yaxis()
    score = data["score"].iloc[0] if len(data) else "score"
    n = int(below.sum())
    ax.set_title(f"{n} group(s) picked at under four-fifths of the best group's rate ({score})"
                 if n else f"Every group picked at four-fifths or more of the best rate ({score})")
    ax.set_xlabel("Rate of being picked for the top tenth, relative to the best group")
    return ax


def fairness_display(result: FairnessResult):
    """``table`` for the screen: selection rates as percentages, ratios to two decimals."""
    from helpers import plots

    return plots.table(result.table, percent=["selection_rate"], number=["ratio_to_best"])
