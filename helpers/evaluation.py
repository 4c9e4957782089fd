"""Step 06: how good a model is, in numbers and charts every model shares.

Metrics (ROC AUC, PR AUC, Brier score, lift and gains in the top tenth) with bootstrap intervals,
the gains and calibration charts, the drivers table (standardised coefficients and permutation
importance), expected profit per threshold for lead calls, a fairness table by group, and the
model card saved beside each model. Pairs of ``*_data()`` / ``plot_*()`` functions: tests check
the numbers, the notebook draws them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import plots
from helpers.features import label

TOP = 0.1  # the "top decile": the tenth of people a model ranks highest
FAIR_RATIO = 0.8  # the four-fifths rule: a group picked at under 80% of the overall rate is flagged


# ---- metrics ---------------------------------------------------------------------------------
def _top(p, share: float = TOP) -> np.ndarray:
    """True for the ``share`` of rows with the highest ``p`` (ties broken by position)."""
    p = np.asarray(p, dtype=float)
    k = max(1, int(round(share * len(p))))
    chosen = np.zeros(len(p), dtype=bool)
    chosen[np.argsort(-p, kind="stable")[:k]] = True
    return chosen


def classification_metrics(y, p, *, top: float = TOP) -> dict:
    """ROC AUC (chance a random positive scores above a random negative; 0.5 = coin toss), PR AUC
    (average precision), Brier score (mean squared error of the probabilities), gains (share of
    all positives found in the ``top`` share ranked highest) and lift (that share's positive rate
    over the overall rate), the positives rate and n. AUCs are NaN when one class is missing."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    both = 0 < y.sum() < len(y)
    chosen, rate = _top(p, top), y.mean() if len(y) else np.nan
    gains = y[chosen].sum() / y.sum() if y.sum() else np.nan
    return {"roc_auc": float(roc_auc_score(y, p)) if both else np.nan,
            "pr_auc": float(average_precision_score(y, p)) if both else np.nan,
            "brier": float(brier_score_loss(y, np.clip(p, 0, 1))) if len(y) else np.nan,
            "gains_top_decile": float(gains), "lift_top_decile": float(y[chosen].mean() / rate)
            if rate else np.nan, "positives_rate": float(rate), "n": int(len(y))}


def auc(y, score) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half). Written out because the bootstrap
    calls it hundreds of times and roc_auc_score's input checks would cost seconds; a test checks
    that both agree."""
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=bool)
    pos = int(y.sum())
    if pos in (0, len(y)):
        return np.nan
    ranks = rankdata(score)
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * (len(y) - pos)))


def bootstrap_auc(y, p, baseline, *, draws: int = 200, seed: int = 42, level: float = 0.95
                  ) -> dict:
    """Percentile intervals for the model's ROC AUC and for its difference from the baseline's,
    resampling people with replacement ``draws`` times (draws with one class only are skipped)."""
    y, p, b = (np.asarray(a, dtype=float) for a in (y, p, baseline))
    rng, model, diff = np.random.default_rng(seed), [], []
    for _ in range(draws):
        i = rng.integers(0, len(y), len(y))
        if 0 < y[i].sum() < len(i):
            model.append(auc(y[i], p[i]))
            diff.append(model[-1] - auc(y[i], b[i]))
    lo, hi = 100 * (1 - level) / 2, 100 * (1 + level) / 2
    if not model:
        return {"auc_low": np.nan, "auc_high": np.nan, "diff_low": np.nan, "diff_high": np.nan}
    return {"auc_low": float(np.percentile(model, lo)), "auc_high": float(np.percentile(model, hi)),
            "diff_low": float(np.percentile(diff, lo)), "diff_high": float(np.percentile(diff, hi))}


# ---- gains and calibration -------------------------------------------------------------------
def gains_data(y, p, *, baseline=None, bins: int = 10) -> pd.DataFrame:
    """Cumulative gains: for the top 10%, 20%... of people ranked by ``p`` (and by ``baseline``
    when given), the share of all positives they hold; ``random`` is what no ranking finds."""
    y = np.asarray(y, dtype=float)
    shares = np.arange(1, bins + 1) / bins
    out = pd.DataFrame({"share_contacted": shares, "random": shares})
    for name, score in (("model", p), ("baseline", baseline)):
        if score is not None:
            order = y[np.argsort(-np.asarray(score, dtype=float), kind="stable")]
            found = np.cumsum(order) / max(order.sum(), 1)
            out[name] = [found[max(1, int(round(s * len(y)))) - 1] for s in shares]
    return out


def plot_gains(data: pd.DataFrame, *, what: str = "buyers", ax=None):
    """Cumulative gains of the model (and the baseline) against random contact."""
    ax = plots.axes(ax)
    x = data.share_contacted
    ax.plot(x, data.model, marker="o", color=plots.ACCENT, label="model")
    if "baseline" in data:
        ax.plot(x, data.baseline, marker="o", color=plots.PALETTE[1], label="simple rule")
    ax.plot(x, data.random, linestyle="--", color=plots.MUTED, label="random")
    first = data.iloc[0]
    ax.set(title=f"The top {first.share_contacted:.0%} the model picks hold "
                 f"{first.model:.0%} of the {what}",
           xlabel="Share of people contacted, highest scores first (%)",
           ylabel=f"Share of all {what} reached (%)")
    ax.legend(frameon=False)
    return plots.percent_axis(plots.percent_axis(ax), axis="x")


def calibration_data(y, p, *, bins: int = 10) -> pd.DataFrame:
    """Predicted against observed rate in ``bins`` groups of equal size (sklearn's
    ``calibration_curve`` with quantile bins): close to the diagonal = probabilities to trust."""
    from sklearn.calibration import calibration_curve

    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="quantile")
    return pd.DataFrame({"predicted": predicted, "observed": observed})


def plot_calibration(data: pd.DataFrame, *, outcome: str = "bought", ax=None):
    """Observed rate against predicted probability, with the diagonal of perfect calibration;
    ``outcome`` says what the people did ('bought', 'stopped buying', 'converted')."""
    ax = plots.axes(ax, figsize=(6, 5))
    top = float(max(data.predicted.max(), data.observed.max(), 0.01)) * 1.05
    ax.plot([0, top], [0, top], linestyle="--", color=plots.MUTED, label="perfectly calibrated")
    ax.plot(data.predicted, data.observed, marker="o", color=plots.ACCENT, label="model")
    gap = float((data.observed - data.predicted).abs().mean())
    ax.set(title=f"Predicted chances are {100 * gap:.1f} percentage points off on average",
           xlabel="Predicted chance (%)", ylabel=f"Share who actually {outcome} (%)")
    ax.legend(frameon=False)
    return plots.percent_axis(plots.percent_axis(ax), axis="x")


# ---- drivers ---------------------------------------------------------------------------------
def drivers_table(model, logistic, X: pd.DataFrame, y, *, seed: int = 42, repeats: int = 3,
                  max_rows: int = 2000) -> pd.DataFrame:
    """One row per input column: ``coefficient`` (the logistic model's, per standard deviation of
    a numeric column; for a category, its largest level's in absolute value, with ``detail``
    naming the levels at both ends), ``importance`` (the drop in validation ROC AUC when the
    column is shuffled, sklearn's ``permutation_importance`` on up to ``max_rows`` rows, mean and
    sd), sorted by it."""
    from sklearn.inspection import permutation_importance

    imp = permutation_importance(model, X, y, scoring="roc_auc", n_repeats=repeats,
                                 random_state=seed, max_samples=min(1.0, max_rows / len(X)))
    coefs = pd.Series(logistic[-1].coef_[0], index=logistic[:-1].get_feature_names_out())
    plain = {n.split("__", 1)[1]: v for n, v in coefs.items() if not n.startswith("cat__")}
    rows = []
    for i, col in enumerate(X.columns):
        row = {"feature": col, "importance": imp.importances_mean[i],
               "importance_sd": imp.importances_std[i], "coefficient": plain.get(col, np.nan),
               "detail": ""}
        prefix = f"cat__{col}_"
        levels = coefs[coefs.index.str.startswith(prefix)]
        if len(levels):
            levels = levels.set_axis(levels.index.str[len(prefix):]).sort_values()
            row["coefficient"] = levels.loc[levels.abs().idxmax()]
            row["detail"] = f"highest: {levels.index[-1]}, lowest: {levels.index[0]}"
        rows.append(row)
    return pd.DataFrame(rows).sort_values("importance", ascending=False, ignore_index=True)


def plot_drivers(drivers: pd.DataFrame, *, top: int = 10, ax=None):
    """How much each input matters (drop in AUC when shuffled), coloured by direction."""
    d = drivers.head(top).iloc[::-1]
    ax = plots.axes(ax, figsize=(8, 0.45 * len(d) + 1.5))
    colors = [plots.MUTED if detail else plots.PALETTE[2] if c > 0 else plots.PALETTE[3]
              for c, detail in zip(d.coefficient.fillna(0), d.detail, strict=True)]
    ax.barh([label(f) for f in d.feature], d.importance, xerr=d.importance_sd, color=colors)
    ax.set(title=f"{label(drivers.feature.iloc[0]).capitalize()} matters most",
           xlabel="Drop in ROC AUC when the input is shuffled (green: more raises the score, "
                  "red: lowers it, grey: a category)")
    return ax


def rate_by_score(score_now, score_then, y_then) -> np.ndarray:
    """For each score today, the rate of positives among people with that score at the test
    cutoff (the overall rate for a score not seen then): a rule's scores as chances."""
    rates = pd.Series(np.asarray(y_then), index=np.asarray(score_then)).groupby(level=0).mean()
    return pd.Series(np.asarray(score_now)).map(rates).fillna(float(np.mean(y_then))).to_numpy()


def deciles(score) -> pd.Series:
    """1-10 by rank of ``score`` (10 = the highest tenth; ties broken by position)."""
    score = pd.Series(score)
    return np.ceil(10 * score.rank(method="first") / max(len(score), 1)).astype(int)


# ---- words -------------------------------------------------------------------------------------
def beats_rule(m: dict) -> bool:
    """A model is used only when it ranks better than its simple rule by more than the noise: its
    AUC is higher and the bootstrap interval of the difference stays above zero (when the
    interval could not be drawn, the higher AUC alone decides)."""
    ahead = m["roc_auc"] > m["baseline_roc_auc"]
    low = m.get("diff_low")
    return bool(ahead and (low is None or np.isnan(low) or low > 0))


def quality_sentences(m: dict, *, people: str, positives: str, rule: str, beats: bool
                      ) -> list[str]:
    """What the test says, from the metrics: AUC with its interval against the rule's, whether
    the model beats the rule (and by more than the noise), and the top tenth's gains and lift."""
    text = [f"The {m['model']} model ranks {positives} with an AUC of {m['roc_auc']:.2f} "
            f"(95% interval {m['auc_low']:.2f} to {m['auc_high']:.2f}; 0.5 is a coin toss, 1 a "
            f"perfect ranking), against {m['baseline_roc_auc']:.2f} for the simple rule ({rule})."]
    diff, lo, hi = m["roc_auc"] - m["baseline_roc_auc"], m["diff_low"], m["diff_high"]
    if beats and lo > 0:
        text.append(f"It beats the rule by {diff:.2f} ({lo:+.2f} to {hi:+.2f}), so its scores "
                    "are used.")
    elif beats:
        text.append(f"It beats the rule by {diff:.2f}, so its scores are used.")
    elif diff > 0:
        text.append(f"It is ahead of the rule by {diff:.2f} only, within the noise ({lo:+.2f} to "
                    f"{hi:+.2f}), so it has not earned its place: the scores come from the rule.")
    else:
        text.append("It does not beat the rule, so the scores come from the rule; a model needs "
                    "more history or more telling data before it earns its keep.")
    text.append(f"The top tenth it picks holds {m['gains_top_decile']:.0%} of the {positives}, "
                f"{m['lift_top_decile']:.1f} times what a random tenth of the {people} would.")
    return text


def driver_sentence(drivers: pd.DataFrame, *, what: str, yes_no=(), top: int = 3) -> str:
    """'What matters most: ...' for the ``top`` inputs whose shuffling hurts the ranking, each
    with its direction (``what``: 'to buy'); '' when none does."""
    def direction(r) -> str:
        if r.detail:
            return r.detail.replace("highest", f"most likely {what}").replace("lowest",
                                                                              "least likely")
        more = "more" if r.coefficient > 0 else "less"
        return f"{'yes' if r.feature in yes_no else 'more'} means {more} likely {what}"

    rows = drivers[drivers.importance > 0].head(top)
    if rows.empty:
        return ""
    return "What matters most: " + "; ".join(
        f"{label(r.feature)} ({direction(r)})" for r in rows.itertuples()) + "."


def metric_warnings(m: dict, *, positives: str, few: int = 30) -> list[str]:
    """Warnings from the test: too few positives for a tight interval, or probabilities no
    better than quoting everyone the average rate (Brier score of the base rate)."""
    out = []
    if m["positives_validation"] < few:
        out.append(f"Only {m['positives_validation']} {positives} in the test period: the AUC "
                   "interval is wide, so read the ranking as rough.")
    base = m["positives_rate"] * (1 - m["positives_rate"])
    if m["brier"] >= base:
        out.append(f"The predicted chances (Brier {m['brier']:.3f}) are no closer than quoting "
                   f"everyone the average rate ({base:.3f}): use the ranking, not the percentages.")
    return out


# ---- leads: profit per threshold ---------------------------------------------------------------
def profit_data(y, p, *, value: float, call_cost: float, thresholds=None) -> pd.DataFrame:
    """For each threshold, contacting every lead with ``p`` at or above it: leads contacted,
    ``expected_profit`` (sum of p * value - call_cost, what the model promises) and
    ``realized_profit`` (sum of y * value - call_cost, what those leads actually brought)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    grid = np.round(np.linspace(0, 1, 51), 2) if thresholds is None else np.asarray(thresholds)
    rows = []
    for t in grid:
        chosen = p >= t
        rows.append({"threshold": float(t), "contacted": int(chosen.sum()),
                     "expected_profit": float((p[chosen] * value - call_cost).sum()),
                     "realized_profit": float((y[chosen] * value - call_cost).sum())})
    return pd.DataFrame(rows)


def call_plan(y, p, *, value: float, call_cost: float) -> tuple[pd.DataFrame, pd.Series | None]:
    """Profit per threshold and its best row; (empty, None) when a conversion's value is not
    known (missing or not positive)."""
    if not (value and value > 0):
        return pd.DataFrame(), None
    profit = profit_data(y, p, value=value, call_cost=call_cost)
    return profit, best_threshold(profit)


def best_threshold(profit: pd.DataFrame) -> pd.Series:
    """The row with the highest expected profit (the highest threshold among ties)."""
    top = profit.expected_profit.max()
    return profit[profit.expected_profit == top].iloc[-1]


def profit_sentence(best: pd.Series, everyone: pd.Series, *, n_test: int, open_leads: int,
                    to_call: int, call_cost: float, value: float, currency: str = "USD") -> str:
    """The threshold in words: when a call pays, what calling above the best threshold promised
    and brought on the test leads against calling every one, and how many open leads qualify."""
    from helpers.plan import money

    even = call_cost / value
    return (f"At {money(call_cost, currency)} a call and {money(value, currency)} per conversion, "
            f"a call pays when a lead's chance is above {even:.{0 if even >= 0.01 else 2}%}. On "
            f"the test leads, calling those scoring {best.threshold:.0%} or more "
            f"({int(best.contacted):,} of {n_test:,}) promised "
            f"{money(best.expected_profit, currency)} and brought "
            f"{money(best.realized_profit, currency)}, against "
            f"{money(everyone.realized_profit, currency)} for calling every one. {to_call:,} of "
            f"the {open_leads:,} open leads score above it.")


def plot_profit(data: pd.DataFrame, *, currency: str = "USD", ax=None):
    """Expected and realised profit of calling leads above each threshold."""
    ax = plots.axes(ax)
    best = best_threshold(data)
    ax.plot(data.threshold, data.expected_profit, color=plots.ACCENT, label="expected (model)")
    ax.plot(data.threshold, data.realized_profit, color=plots.PALETTE[1],
            label="what those leads actually brought")
    ax.axvline(best.threshold, color=plots.MUTED, linestyle=":")
    ax.set(title=f"Call leads scoring {best.threshold:.0%} or more: {int(best.contacted):,} "
                 "calls give the most profit",
           xlabel="Call every lead whose predicted chance is at least (%)",
           ylabel=f"Profit on the test leads ({currency})")
    ax.legend(frameon=False)
    return plots.money_axis(plots.percent_axis(ax, axis="x"), currency)


# ---- fairness and the model card -----------------------------------------------------------------
def fairness_table(validation: pd.DataFrame, *, by=("region", "age_band"), top: float = TOP
                   ) -> pd.DataFrame:
    """Per group of each ``by`` column in ``validation`` (columns y, p): n, positives rate and its
    ratio to the overall rate, ROC AUC (when both classes are present), the share of the group
    in the ``top`` share ranked highest, its ratio to the overall share, and ``flag`` when that
    ratio is under 80% (the four-fifths rule). Rows are people, so the index must be unique."""
    validation = validation.reset_index(drop=True)
    chosen = pd.Series(_top(validation.p, top))
    overall, base, rows = chosen.mean(), validation.y.mean(), []
    for col in [c for c in by if c in validation]:
        for group, g in validation.groupby(validation[col].fillna("unknown")):
            rate = chosen[g.index].mean()
            rows.append({"attribute": col, "group": group, "n": len(g),
                         "positives_rate": g.y.mean(), "positives_ratio": g.y.mean() / base,
                         "roc_auc": auc(g.y, g.p), "selected_share": rate,
                         "selection_ratio": rate / overall,
                         "flag": bool(rate / overall < FAIR_RATIO)})
    return pd.DataFrame(rows, columns=["attribute", "group", "n", "positives_rate",
                                       "positives_ratio", "roc_auc", "selected_share",
                                       "selection_ratio", "flag"])


def fairness_summary(table: pd.DataFrame) -> str:
    """A sentence on which groups the top decile under-selects, for the model card."""
    if table.empty:
        return "No region or age band to compare groups by."
    flagged = table[table.flag]
    if flagged.empty:
        return ("Every region and age band is picked for the top tenth at 80% or more of the "
                "overall rate.")
    names = "; ".join(f"{r.group} ({r.attribute.replace('_', ' ')}: picked at "
                      f"{r.selection_ratio:.0%} of the overall rate, while its actual rate is "
                      f"{r.positives_ratio:.0%} of the average)" for r in flagged.itertuples())
    return (f"Picked for the top tenth at under 80% of the overall rate: {names}. Where the "
            "actual rate is close to average, the model under-serves the group: check before "
            "using the scores to leave people out.")


def json_safe(value):
    """``value`` with numpy numbers as plain ones and NaN as None, for a JSON file."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    return value.item() if isinstance(value, np.generic) else value


def model_card(*, name: str, intended_use: str, not_for: str, data_window: dict,
               population: str, features: list[str], model: str, metrics: dict,
               limitations: list[str], fairness: pd.DataFrame | None = None) -> dict:
    """The model card saved beside a model: what it is for and not for, the data it learned from,
    how it did against the simple rule, its limits and how it treats groups of people."""
    fair = fairness if fairness is not None else pd.DataFrame()
    return {"name": name, "intended_use": intended_use, "not_for": not_for,
            "data_window": {k: ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else
                            str(v) for k, v in data_window.items()},
            "population": population, "features": list(features), "model": model,
            "metrics": metrics, "limitations": list(limitations),
            "fairness": {"summary": fairness_summary(fair),
                         "groups": fair.replace({np.nan: None}).to_dict("records")}}
