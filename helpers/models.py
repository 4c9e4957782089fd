"""Step 06: who will buy, who is drifting away, which leads to call.

Customer models never split at random across time. With a horizon h, the test cutoff is T2 =
today - h (labels from [T2, today]); the model learns from up to three earlier cutoffs T1 = T2 - h,
T2 - 2h... pooled (a rolling origin: each label window ends by T2, and one odd season does not set
the model). It is then refitted on the newest cutoffs, T2 included, and scores everyone today.
Two candidates, logistic regression and gradient boosting (scikit-learn Pipelines with calibrated
probabilities), compete on the test cutoff's PR AUC; the winner is used only if it ranks better
than a simple rule (recency, then frequency). Leads are split by creation date: the oldest 70 % of
leads with a known outcome train, the newest 30 % test.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from helpers import evaluation as ev
from helpers import features as ft

MIN_CLASS = 10  # fewer positives (or negatives) than this in a split: the model is not trained
LOG_SCALE = ("recency_days", "tenure_days")  # durations, modelled on a log scale
TRAIN_CUTOFFS = 3  # earlier cutoffs pooled to learn from
WORDS = {  # name: (people, positives, what a positive did, the rule, what a high score means)
    "propensity": ("customers", "buyers", "bought", "recency, then frequency and spend",
                   "to buy"),
    "churn": ("active customers", "customers who stopped", "stopped buying",
              "least recent, then least frequent first", "to stop"),
    "lead_score": ("leads", "converted leads", "converted",
                   "the conversion rate of the lead's source", "to convert"),
}
USES = {
    "propensity": ("rank customers for a campaign or an offer by their chance to buy in the next "
                   "{h} days", "setting prices or credit, or judging any single person"),
    "churn": ("find active customers likely to stop buying within {h} days, for a win-back or a "
              "check-in", "cutting service to anyone, or judging any single person"),
    "lead_score": ("decide which new leads get a sales call first", "turning leads away"),
}


@dataclass(frozen=True, eq=False)
class ModelResult:
    """One trained model, its test on a later period, and what it means.

    ``metrics``: the model's and the baseline's ROC AUC (with bootstrap intervals), PR AUC, Brier
    score, lift and gains in the top tenth, positives rate, sizes and cutoffs. ``validation``:
    the test rows (y, p, baseline, region / age band). ``scores``: today's scores (id, score,
    decile 10 = highest). ``profit`` (leads): profit per threshold on the test leads.
    """

    name: str
    supported: bool
    reason: str = ""
    model: Any = None
    metrics: dict = field(default_factory=dict)
    validation: pd.DataFrame = field(default_factory=pd.DataFrame)
    drivers: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    card: dict = field(default_factory=dict)
    reading: str = ""
    warnings: list[str] = field(default_factory=list)
    headline: dict = field(default_factory=dict)
    beats_baseline: bool = False
    profit: pd.DataFrame = field(default_factory=pd.DataFrame)


def unsupported(name: str, reason: str) -> ModelResult:
    return ModelResult(name, False, reason, reading=reason, headline={"supported": False})


# ---- the candidates --------------------------------------------------------------------------
def candidates(numeric: list[str], categorical: list[str], *, seed: int = 42,
               class_weight: str | None = None) -> dict:
    """Logistic regression and gradient boosting on the same inputs: numbers imputed by the
    median and scaled, durations on a log scale (the first weeks without a purchase say more
    than day 400 against day 430), categories one-hot with rare ones pooled. No missing-value
    flag: for the gap between purchases it would mean "bought once", a copy of frequency.

    Imbalance is handled by picking on PR AUC, judging by lift and gains, calibrating on a
    stratified split and refusing splits with few positives. ``class_weight`` is off by
    default: it does not improve a ranking, calibration undoes it, and it bent the linear
    model toward the rare class (on harbor_coffee it turned the sign of purchase frequency);
    sample weights also make boosting's binning several times slower.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    logged = [c for c in numeric if c in LOG_SCALE]

    def prep():
        return ColumnTransformer([
            ("log", make_pipeline(SimpleImputer(strategy="median"), FunctionTransformer(
                _log1p, feature_names_out="one-to-one"), StandardScaler()), logged),
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
             [c for c in numeric if c not in logged]),
            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=10,
                                  sparse_output=False), categorical)])

    boost = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15,
                                           min_samples_leaf=30, early_stopping=False,
                                           class_weight=class_weight, random_state=seed)
    return {"logistic regression": Pipeline([("prep", prep()), ("model", LogisticRegression(
                class_weight=class_weight, max_iter=2000))]),
            "gradient boosting": Pipeline([("prep", prep()), ("model", boost)])}


def _log1p(x):
    return np.log1p(np.clip(x, 0, None))


def calibrated(pipeline, X: pd.DataFrame, y, *, seed: int = 42, share: float = 0.25):
    """``pipeline`` fitted on 75 % of the training people, its probabilities Platt-scaled
    (CalibratedClassifierCV on the frozen fit) on the other 25 %: never on the test cutoff.
    A person seen at several cutoffs stays on one side, so calibration sees new people."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    ever = pd.Series(y).groupby(X.index.to_numpy()).max()
    _, held = train_test_split(ever.index.to_numpy(), test_size=share, stratify=ever.to_numpy(),
                               random_state=seed)
    cal = X.index.isin(held)
    pipeline.fit(X[~cal], y[~cal])
    return CalibratedClassifierCV(FrozenEstimator(pipeline), method="sigmoid").fit(X[cal], y[cal])


def _fit_and_compare(train, valid, baseline, *, seed: int) -> dict:
    """Fit both candidates on ``train`` (X, y), test on ``valid``, pick by PR AUC; metrics with
    bootstrap intervals and the drivers of the pick."""
    (Xt, yt), (Xv, yv) = train, valid
    Xt, numeric, categorical = ft.model_inputs(Xt)
    Xv = ft.model_inputs(Xv)[0]
    fits, p = {}, {}
    for label, pipe in candidates(numeric, categorical, seed=seed).items():
        fits[label] = calibrated(pipe, Xt, yt, seed=seed)
        p[label] = fits[label].predict_proba(Xv)[:, 1]
    pr = {k: ev.classification_metrics(yv, v)["pr_auc"] for k, v in p.items()}
    chosen = max(pr, key=pr.get)
    m, base = ev.classification_metrics(yv, p[chosen]), ev.classification_metrics(yv, baseline)
    m |= {f"baseline_{k}": base[k] for k in ("roc_auc", "pr_auc", "gains_top_decile",
                                             "lift_top_decile")}
    m |= ev.bootstrap_auc(yv, p[chosen], baseline, seed=seed)
    m |= {"model": chosen, "candidates_pr_auc": pr, "n_train": len(yt), "n_validation": len(yv),
          "positives_train": int(np.sum(yt)), "positives_validation": int(np.sum(yv))}
    logistic = fits["logistic regression"].estimator.estimator
    return {"metrics": m, "p": p[chosen], "chosen": chosen, "features": numeric + categorical,
            "drivers": ev.drivers_table(fits[chosen], logistic, Xv, yv, seed=seed),
            "yes_no": [c for c in numeric if Xv[c].dropna().isin([0, 1]).all()]}


def _refit(chosen: str, X: pd.DataFrame, y, *, seed: int):
    X, numeric, categorical = ft.model_inputs(X)
    return calibrated(candidates(numeric, categorical, seed=seed)[chosen], X, y, seed=seed)


def _finish(name, h, fit, model, valid, scores, setup, *, population, warnings=(),
            extra_reading="", profit=None) -> ModelResult:
    """The result: card, reading, warnings and headline from the test's numbers."""
    m = fit["metrics"]
    beats = ev.beats_rule(m)
    people, positives, _, rule, what = WORDS[name]
    warnings = ev.metric_warnings(m, positives=positives) + list(warnings)
    use, not_for = (s.format(h=h) for s in USES[name])
    card = ev.model_card(
        name=name, intended_use=use, not_for=not_for, population=population,
        data_window={k: v for k, v in m.items() if k.endswith(("cutoff", "cutoffs", "_at",
                                                                "_from", "_to"))},
        features=fit["features"], model=m["model"], metrics=ev.json_safe(m),
        limitations=warnings + ["Region and age band are as your files say today, not as they "
                                "were at each cutoff."], fairness=ev.fairness_table(valid))
    text = [setup, *ev.quality_sentences(m, people=people, positives=positives, rule=rule,
                                         beats=beats),
            ev.driver_sentence(fit["drivers"], what=what, yes_no=fit["yes_no"]), extra_reading]
    headline = {"supported": True, "model": m["model"], "roc_auc": round(m["roc_auc"], 3),
                "baseline_roc_auc": round(m["baseline_roc_auc"], 3),
                "lift_top_decile": round(m["lift_top_decile"], 2), "scored": len(scores),
                "beats_baseline": beats}
    return ModelResult(name, True, "", model, m, valid, fit["drivers"], scores, card,
                       " ".join(t for t in text if t), warnings, headline, beats,
                       profit if profit is not None else pd.DataFrame())


def _one_thread(section):
    """Run a section with one thread per numeric library: on a few thousand rows, spreading a
    fit over cores costs more in waiting than it saves (on a busy 2-core machine gradient
    boosting took five times longer with two threads than with one)."""
    @functools.wraps(section)
    def run(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return section(*args, **kwargs)

    return run


# ---- customer models -------------------------------------------------------------------------
def _at(orders, inputs: dict, cutoff, labels):
    """Features at ``cutoff`` (checked for leakage) and their labels (None: to score)."""
    X = ft.customer_features(orders, cutoff=cutoff, **inputs)
    ft.assert_no_leakage(X, cutoff)
    y = labels(orders, cutoff, X) if labels else None
    return (X.loc[y.index], y) if y is not None else (X, None)


def _too_few(name: str, y: pd.Series, when: str) -> str | None:
    if min(y.sum(), len(y) - y.sum()) >= MIN_CLASS:
        return None
    people, _, did, _, _ = WORDS[name]
    return (f"Cannot train the {name} model: {when}, {int(y.sum())} of {len(y):,} {people} "
            f"{did}; it needs at least {MIN_CLASS} who did and {MIN_CLASS} who did not. Use a "
            "longer horizon or more history.")


def _history(plan, name: str, h: int):
    """(orders, other inputs, training cutoffs newest first, test cutoff, scoring day) or an
    unsupported result when orders are missing or too short."""
    if not plan.has("orders"):
        return unsupported(name, f"The {name} model needs orders: {plan.why_missing('orders')}")
    orders = plan.prepared("orders")
    if ft.CUSTOMER_ID not in orders or orders[ft.CUSTOMER_ID].isna().all():
        return unsupported(name, f"The {name} model follows customers, but your orders have no "
                           "customer_id: export orders with the customer's id, or map that "
                           "column to customer_id under `data: orders: mapping:` in business.yaml.")
    end = plan.as_of.normalize() + ft.DAY
    test, first = end - h * ft.DAY, orders[ft.ORDER_DATE].min()
    train = [t for k in range(1, TRAIN_CUTOFFS + 1)
             if (t := test - k * h * ft.DAY) >= first + 30 * ft.DAY]
    if not train:
        return unsupported(name, f"The {name} model needs orders from at least {2 * h + 30} days "
                           f"before {plan.as_of:%d %b %Y} (two periods of {h} days to learn and "
                           f"test on, plus a month of history); yours start {first:%d %b %Y}. "
                           "Use a shorter horizon or wait for more history.")
    inputs = {t: plan.prepared(t) if plan.has(t) else None for t in ("customers", "email_events")}
    return orders, inputs, train, test, end


def _customer_model(plan, name: str, h: int, labels, *, seed: int, setup_extra: str = ""
                    ) -> ModelResult:
    """The shared path of propensity and churn (see the module docstring);
    ``labels(orders, cutoff, X)`` gives the labels at a cutoff."""
    found = _history(plan, name, h)
    if isinstance(found, ModelResult):
        return found
    orders, inputs, train_at, t2, end = found
    train = [_at(orders, inputs, t, labels) for t in train_at]
    (X2, y2), (X3, _) = _at(orders, inputs, t2, labels), _at(orders, inputs, end, None)
    X1, y1 = pd.concat([x for x, _ in train]), pd.concat([y for _, y in train])
    span = f"at the cutoffs from {train_at[-1]:%d %b %Y} to {train_at[0]:%d %b %Y}"
    if reason := (_too_few(name, y1, span) or _too_few(name, y2, f"at {t2:%d %b %Y}")):
        return unsupported(name, reason)
    X3 = X3[X3.frequency_365 > 0] if name == "churn" else X3
    sign = -1 if name == "churn" else 1
    b2, b3 = sign * ft.rfm_baseline(X2), sign * ft.rfm_baseline(X3)
    cols = [c for c in ft.NUMERIC + ft.CATEGORICAL if c in X1]
    fit = _fit_and_compare((X1[cols], y1), (X2[cols], y2), b2.to_numpy(), seed=seed)
    m = fit["metrics"]
    m |= {"horizon_days": h, "train_cutoffs": [f"{t:%Y-%m-%d}" for t in train_at],
          "validation_cutoff": f"{t2:%Y-%m-%d}", "scored_at": f"{end:%Y-%m-%d}"}
    recent = [(X2, y2)] + train[:-1]
    model = _refit(fit["chosen"], pd.concat([x[cols] for x, _ in recent]),
                   pd.concat([y for _, y in recent]), seed=seed)
    p_now = (model.predict_proba(ft.model_inputs(X3[cols])[0])[:, 1]
             if ev.beats_rule(m) else ev.rate_by_score(b3, b2, y2))
    valid = pd.DataFrame({"y": y2, "p": fit["p"], "baseline": b2}).join(
        X2[[c for c in (ft.REGION, ft.AGE_BAND) if c in X2]])
    scores = pd.DataFrame({"score": p_now}, index=X3.index).reset_index()
    scores["decile"] = ev.deciles(scores.score).to_numpy()
    people, _, did, _, _ = WORDS[name]
    setup = (f"The model learned from what {people} did in the {h} days after each of "
             f"{len(train_at)} cutoffs from {train_at[-1]:%d %b %Y} to {train_at[0]:%d %b %Y} "
             f"({len(y1):,} cases), and was tested on the {h} days after {t2:%d %b %Y}, when "
             f"{m['positives_rate']:.1%} of {len(y2):,} {people} {did}. {setup_extra}").strip()
    return _finish(name, h, fit, model, valid, scores, setup,
                   warnings=_history_warnings(name, h, orders, train_at[-1], X3),
                   population=f"{people} known before each cutoff")


def _history_warnings(name: str, h: int, orders, first_cutoff, X3) -> list[str]:
    """Less than a year of orders before the first cutoff; for churn, many customers whose usual
    gap between purchases is longer than the window."""
    short, out = (first_cutoff - orders[ft.ORDER_DATE].min()).days, []
    if short < 365:
        out.append(f"At the earliest cutoff ({first_cutoff:%d %b %Y}) your orders go back only "
                   f"{short} days, so the 365-day features there rest on less than a year.")
    slow = int((X3.avg_gap_days > h).sum()) if name == "churn" else 0
    if slow > 0.05 * len(X3):
        out.append(f"{slow:,} active customers usually buy less often than every {h} days (an "
                   "annual plan, a seasonal purchase): for them a quiet window is normal, so "
                   "read their churn risk as 'not due yet', not as leaving.")
    return out


@_one_thread
def train_propensity(plan, *, horizon_days: int = 90, seed: int = 42) -> ModelResult:
    """Each customer's chance to buy in the next ``horizon_days`` days."""
    def labels(orders, cutoff, X):
        return ft.purchase_labels(orders, cutoff=cutoff, horizon_days=horizon_days, index=X.index)

    return _customer_model(plan, "propensity", horizon_days, labels, seed=seed)


@_one_thread
def train_churn(plan, *, horizon_days: int | None = None, seed: int = 42) -> ModelResult:
    """Each active customer's risk of no purchase within the churn window: ``horizon_days``, or
    by default a window drawn from your customers' usual gaps between purchases
    (``features.churn_window``), explained in the reading."""
    if not plan.has("orders"):
        return unsupported("churn", f"The churn model needs orders: {plan.why_missing('orders')}")
    days, why = ((horizon_days, None) if horizon_days else
                 ft.churn_window(plan.prepared("orders")))
    how = "" if why is None or why["gap_days"] is None else (
        f"A customer counts as stopped after {days} days without a purchase: 9 in 10 of your "
        f"customers' returns come within {why['gap_days']:.0f} days, rounded up to whole months"
        + (", capped so that two windows fit in your history." if why["capped"] else "."))

    def labels(orders, cutoff, X):
        y = ft.churn_labels(orders, cutoff=cutoff, window_days=days)
        return y[y.index.isin(X.index)]

    return _customer_model(plan, "churn", days, labels, seed=seed, setup_extra=how)


# ---- leads -----------------------------------------------------------------------------------
NO_VALUE = ("Your converted leads have no `value`, so the score above which a call pays cannot be "
            "worked out: pass conversion_value (what a new customer is worth to you).")


@_one_thread
def score_leads(plan, *, call_cost: float = 20.0, conversion_value: float | None = None,
                seed: int = 42) -> ModelResult:
    """Each open lead's chance to convert, and the score above which a sales call pays.

    Trained on the oldest 70 % of leads with a known outcome, tested on the newest 30 %. A
    conversion is worth ``conversion_value`` (default: the median value of converted leads); a
    call costs ``call_cost`` (in your currency). Expected profit at a threshold = sum over the
    test leads scoring at or above it of p x value - call_cost; the threshold maximises it.
    """
    if not plan.has("leads"):
        return unsupported("lead_score", f"Lead scoring needs leads: {plan.why_missing('leads')}")
    found = ft.lead_dataset(plan.prepared("leads"), as_of=plan.as_of, min_class=MIN_CLASS)
    if isinstance(found, str):
        return unsupported("lead_score", found)
    leads, X, y, open_, days = found
    cut = int(round(0.7 * len(y)))
    (Xt, yt), (Xv, yv) = (X.iloc[:cut], y.iloc[:cut]), (X.iloc[cut:], y.iloc[cut:])
    if min(yv.sum(), len(yv) - yv.sum()) < 3:
        return unsupported("lead_score", f"Cannot test lead scoring: the newest {len(yv)} leads "
                           f"with an outcome hold {int(yv.sum())} conversions in `converted`; at "
                           "least 3 of each outcome are needed to test on.")
    rates = yt.groupby(Xt["source"]).mean() if "source" in Xt else pd.Series(dtype=float)
    baseline = (Xv["source"].map(rates) if "source" in Xt else pd.Series(0.0, Xv.index)
                ).fillna(yt.mean()).astype(float)
    fit = _fit_and_compare((Xt, yt), (Xv, yv), baseline.to_numpy(), seed=seed)
    value = float(conversion_value or ft.lead_value(leads))
    use_model = ev.beats_rule(fit["metrics"])  # otherwise the source's rate is each lead's chance
    profit, best = ev.call_plan(yv, fit["p"] if use_model else baseline.to_numpy(), value=value,
                                call_cost=call_cost)
    created = leads.set_index(leads[ft.LEAD_ID].astype(str))[ft.CREATED_AT]
    fit["metrics"] |= {
        "days_to_convert": days, "train_from": f"{created[Xt.index].min():%Y-%m-%d}",
        "train_to": f"{created[Xt.index].max():%Y-%m-%d}",
        "validation_from": f"{created[Xv.index].min():%Y-%m-%d}",
        "validation_to": f"{created[Xv.index].max():%Y-%m-%d}", "call_cost": float(call_cost),
        "conversion_value": value, "threshold": None if best is None else float(best.threshold)}
    model = _refit(fit["chosen"], X, y, seed=seed)
    if not len(open_):
        p_open = np.array([])
    elif use_model:
        p_open = model.predict_proba(ft.model_inputs(open_)[0])[:, 1]
    else:
        rule = y.groupby(X["source"]).mean() if "source" in X else pd.Series(dtype=float)
        p_open = (open_["source"].map(rule) if "source" in open_ else pd.Series(
            np.nan, open_.index)).fillna(y.mean()).to_numpy(dtype=float)
    scores = pd.DataFrame({ft.LEAD_ID: open_.index, "score": p_open})
    scores["decile"] = ev.deciles(scores.score).to_numpy()
    scores["call"] = scores.score >= (best.threshold if best is not None else np.inf)
    calls = NO_VALUE if best is None else ev.profit_sentence(
        best, profit.iloc[0], n_test=len(yv), open_leads=len(scores),
        to_call=int(scores.call.sum()), call_cost=call_cost, value=value, currency=plan.currency)
    valid = pd.DataFrame({"y": yv, "p": fit["p"], "baseline": baseline}).join(
        Xv[[c for c in (ft.REGION, ft.AGE_BAND) if c in Xv]])
    return _finish("lead_score", days, fit, model, valid, scores, _lead_setup(
        leads, X, y, len(yt), days), warnings=_left_out(X), extra_reading=calls,
        population="leads with a known outcome", profit=profit)


def _lead_setup(leads, X, y, n_train: int, days: int) -> str:
    n_test = len(y) - n_train
    return (f"{len(y):,} of your {len(leads):,} leads are old enough to have an outcome (a lead "
            f"gets {days} days to convert). The model learned from the oldest {n_train:,} and "
            f"was tested on the newest {n_test:,}, of whom {y.iloc[n_train:].mean():.0%} "
            "converted.")


def _left_out(X) -> list[str]:
    left = {k: v for k, v in X.attrs.get("left_out", {}).items() if k not in ft.LEAD_OUTCOME}
    return [f"Left out of the lead features: {'; '.join(f'{k} ({v})' for k, v in left.items())}."
            ] if left else []


# ---- what the notebook saves -----------------------------------------------------------------
COLUMN = {"propensity": "propensity", "churn": "churn_risk"}


def scores_table(results) -> pd.DataFrame:
    """One row per customer: a column per customer model (propensity, churn_risk) and its decile
    (10 = highest); blank where a customer was not scored (churn scores active customers only)."""
    parts = [r.scores.set_index(ft.CUSTOMER_ID)[["score", "decile"]].set_axis(
        [COLUMN[r.name], f"{COLUMN[r.name]}_decile"], axis=1)
        for r in results if r.supported and r.name in COLUMN]
    if not parts:
        return pd.DataFrame(columns=[ft.CUSTOMER_ID])
    out = pd.concat(parts, axis=1)
    return out.astype({c: "Int64" for c in out if c.endswith("_decile")}).reset_index()


def metrics_artifact(results) -> dict:
    """model_metrics.json: per model, whether it trained (or why not), its metrics and whether
    it beat the simple rule."""
    return {r.name: {"supported": r.supported, "reason": r.reason,
                     "beats_baseline": r.beats_baseline, "metrics": ev.json_safe(r.metrics)}
            for r in results}


def save_models(plan, results) -> list:
    """models/<name>.joblib and models/<name>_card.json for every trained model; the paths."""
    paths = []
    for r in results:
        if r.supported:
            paths.append(plan.save(f"models/{r.name}.joblib", r.model))
            paths.append(plan.save(f"models/{r.name}_card.json", r.card))
    return paths
