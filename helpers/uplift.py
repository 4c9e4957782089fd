"""Step 09: for whom a test worked.

Uplift by segment: the observed difference per band of customers with an interval, and a
two-model (T-learner) estimate per customer, with the honest check of whether targeting by it
beats random. The overall statistics of a test are ``helpers.abtest``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.abtest import compare_rates, points
from helpers.errors import UnknownNameError
from helpers.explore import cap

# ---- uplift by segment -------------------------------------------------------------------------
MIN_POSITIVES = 10  # conversions (and non-conversions) each arm needs before a model learns from it
RECENCY = ([-1, 30, 90, 180, 365, np.inf], ["0-30 days before", "31-90 days before",
           "91-180 days before", "181-365 days before", "over a year before"])
FREQUENCY = ([-1, 0, 1, 3, np.inf], ["no purchase", "1 purchase", "2-3 purchases",
                                     "4 or more purchases"])
SEGMENT_BY = {"recency": "customers last seen (a purchase or sign-up) {}",
              "frequency": "customers with {} in the year before",
              "age_band": "customers aged {}", "region": "customers in region {}"}


@dataclass(frozen=True, eq=False)
class UpliftResult:
    """For whom a test worked. ``segments``: per attribute and segment the units and rates per
    arm, the observed uplift with its interval, the mean predicted uplift and ``too_small``.
    ``scores``: unit_id, variant and out-of-fold predicted uplift (no personal data).
    ``targeting``: the top half by predicted uplift against a random half."""

    id: str
    supported: bool
    reason: str = ""
    control: str = ""
    treatment: str = ""
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    targeting: dict = field(default_factory=dict)
    model_supported: bool = False
    reading: str = ""
    warnings: tuple[str, ...] = ()
    headline: dict = field(default_factory=dict)


def _not_segmented(units, reason: str) -> UpliftResult:
    return UpliftResult(str(units.attrs.get("id", "")), False, reason, reading=reason,
                        headline={"supported": False})


def unit_features(plan, units: pd.DataFrame) -> pd.DataFrame:
    """Customer features (helpers.features.customer_features) as of the day of the first
    exposure, one row per unit in the order of ``units``, with recency and frequency bands."""
    from helpers.features import customer_features

    cutoff = units["exposed_at"].min().normalize()
    f = customer_features(
        plan.prepared("orders"), cutoff=cutoff,
        customers=plan.prepared("customers") if plan.has("customers") else None,
        email_events=plan.prepared("email_events") if plan.has("email_events") else None)
    X = f.reindex(units["unit_id"].to_numpy())
    X["recency"] = pd.cut(X["recency_days"], RECENCY[0], labels=RECENCY[1])
    X["frequency"] = pd.cut(X["frequency_365"], FREQUENCY[0], labels=FREQUENCY[1])
    for col, unseen in (("recency", "never before"), ("frequency", "no history")):
        X[col] = X[col].cat.add_categories(unseen).fillna(unseen)
    X.attrs["cutoff"] = cutoff
    return X


def segment_uplift(frame: pd.DataFrame, by, *, control: str, treatment: str,
                   alpha: float = 0.05, min_per_arm: int = 100) -> pd.DataFrame:
    """Per attribute in ``by`` and segment (columns of ``frame``, which also holds variant,
    converted and optionally predicted_uplift): units and rate per arm, the observed uplift
    (treatment - control) with its Newcombe interval, and ``too_small`` when an arm has fewer
    than ``min_per_arm`` units. Intervals are per segment, not adjusted for how many there are."""
    rows = []
    for col in by:
        values = frame[col] if isinstance(frame[col].dtype, pd.CategoricalDtype) else \
            frame[col].astype(object).where(frame[col].notna(), "unknown").astype(str)
        for seg, g in frame.groupby(values, sort=True, observed=True):
            c, t = g.loc[g.variant == control, "converted"], g.loc[g.variant == treatment,
                                                                    "converted"]
            row = {"attribute": col, "segment": str(seg), "n_control": len(c),
                   "n_treatment": len(t), "rate_control": c.mean() if len(c) else np.nan,
                   "rate_treatment": t.mean() if len(t) else np.nan}
            if len(c) and len(t):
                d = compare_rates(int(t.sum()), len(t), int(c.sum()), len(c), alpha=alpha)
                row |= {"uplift": d["diff"], "low": d["diff_low"], "high": d["diff_high"]}
            if "predicted_uplift" in g:
                row["predicted_uplift"] = g["predicted_uplift"].mean()
            row["too_small"] = min(len(c), len(t)) < min_per_arm
            rows.append(row)
    return pd.DataFrame(rows).reindex(columns=[
        "attribute", "segment", "n_control", "n_treatment", "rate_control", "rate_treatment",
        "uplift", "low", "high", "predicted_uplift", "too_small"])


def t_learner_uplift(X: pd.DataFrame, treated, y, *, seed: int = 42, folds: int = 5):
    """Out-of-fold predicted uplift p(convert | treated) - p(convert | control) per row: one
    logistic regression per arm on helpers.models' inputs (scaled numbers, durations on a log
    scale, one-hot categories), both fitted on the other folds (stratified by arm and outcome),
    so no row is scored by a model that saw it. The inputs are prepared once per fold."""
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    from helpers.features import model_inputs
    from helpers.models import candidates

    # The two-model learner by hand on scikit-learn: the uplift libraries (scikit-uplift,
    # causalml) are not dependencies of the kit, and this is a few lines around two pipelines.
    Xm, numeric, categorical = model_inputs(X)
    base = candidates(numeric, categorical, seed=seed)["logistic regression"]
    treated, y = np.asarray(treated, bool), np.asarray(y, int)
    out = np.full(len(Xm), np.nan)
    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    with threadpool_limits(limits=1):  # small fits: threads wait more than they help
        for train, test in split.split(Xm, 2 * treated + y):
            out[test] = _fold_uplift(base, Xm, y, treated, train, test)
    return out


def _fold_uplift(base, Xm, y, treated, train, test):
    """Predicted uplift on the ``test`` rows from one model per arm fitted on ``train``."""
    from sklearn.base import clone

    prep = clone(base.named_steps["prep"]).fit(Xm.iloc[train])
    z_train, z_test = prep.transform(Xm.iloc[train]), prep.transform(Xm.iloc[test])
    arm = treated[train]
    p = [clone(base.named_steps["model"]).fit(z_train[a], y[train][a]).predict_proba(
        z_test)[:, 1] for a in (~arm, arm)]
    return p[1] - p[0]


def targeting_check(predicted, treated, y, *, seed: int = 42, draws: int = 1000,
                    alpha: float = 0.05) -> dict:
    """Would treating the half with the highest predicted uplift have gained more than a random
    half? The observed uplift in that top half against the overall uplift (what a random half
    gets on average), with a percentile bootstrap interval on the gap (units resampled within
    each arm, ``draws`` times, seeded). ``beats_random`` when the interval is above zero."""
    predicted, treated, y = (np.asarray(predicted, float), np.asarray(treated, bool),
                             np.asarray(y, float))
    top = np.zeros(len(y), bool)
    top[np.argsort(-predicted, kind="stable")[: len(y) // 2]] = True
    # Bootstrap by hand, vectorised: each unit carries two values (outcome, in the top half),
    # which scipy.stats.bootstrap's one-array-per-sample interface does not fit well.
    rng = np.random.default_rng(seed)
    arms = []  # per arm: (draws + 1) x units resampled; row 0 is the data as observed
    for arm in (np.flatnonzero(treated), np.flatnonzero(~treated)):
        pick = arm[rng.integers(0, len(arm), (draws, len(arm)))]
        pick = np.vstack([arm, pick])
        hit = top[pick]
        with np.errstate(invalid="ignore", divide="ignore"):
            arms.append(((y[pick] * hit).sum(1) / hit.sum(1), y[pick].mean(1)))
    top_lift, overall = arms[0][0] - arms[1][0], arms[0][1] - arms[1][1]
    gap = top_lift - overall
    low, high = np.nanpercentile(gap[1:], [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return {"top_half_uplift": float(top_lift[0]), "overall_uplift": float(overall[0]),
            "gain": float(gap[0]), "gain_low": float(low), "gain_high": float(high),
            "beats_random": bool(low > 0)}


def _model_check(units, treated) -> str:
    """Why a per-arm model cannot learn here ('' when it can)."""
    y = units["converted"].to_numpy(bool)
    for name, arm in (("treatment", treated), ("control", ~treated)):
        pos, neg = int(y[arm].sum()), int((~y[arm]).sum())
        if min(pos, neg) < MIN_POSITIVES:
            return (f"the {name} arm has {pos} conversions and {neg} non-conversions; a model "
                    f"per arm needs at least {MIN_POSITIVES} of each, so no uplift model was "
                    "fitted")
    return ""


def uplift_by_segment(plan, units: pd.DataFrame, *, by=None, min_per_arm: int = 100,
                      seed: int = 42) -> UpliftResult:
    """For whom the challenger worked, on customers described as of the day of the first
    exposure: the observed uplift per segment (``by``: among recency, frequency, age_band,
    region and acquisition_channel; default the first four present), segments with fewer than
    ``min_per_arm`` units in an arm flagged too small to act on; a T-learner's out-of-fold
    uplift per customer; and whether targeting its top half beats a random half. With more
    than two variants the challenger with the highest rate is taken. Unsupported when the units
    are not customers, there are no orders to describe them, or no exposure dates."""
    a = units.attrs
    if not a.get("customers"):
        return _not_segmented(units, f"The units of {a.get('name', 'this test')} are not your "
                              "customers (their ids are not customer_ids), so there is nothing "
                              "to segment them by.")
    if not plan.has("orders"):
        return _not_segmented(units, "Uplift by segment describes customers by their orders: "
                              + plan.why_missing("orders"))
    if units["exposed_at"].isna().all():
        return _not_segmented(units, f"{a.get('name', 'This test')} has no exposure dates "
                              "(exposed_at), so customers cannot be described as they were "
                              "before it.")
    control = a.get("control") or sorted(units["variant"].unique())[0]
    rates = units[units.variant != control].groupby("variant")["converted"].mean()
    treatment = str(rates.idxmax())
    units = units[units["variant"].isin([control, treatment])].reset_index(drop=True)
    X = unit_features(plan, units)
    treated = units["variant"].eq(treatment).to_numpy()
    frame = X.reset_index(drop=True).assign(variant=units["variant"],
                                            converted=units["converted"].to_numpy())
    why_not = _model_check(units, treated)
    scores, targeting = pd.DataFrame(), {}
    if not why_not:
        modelled = [c for c in X if c not in ("recency", "frequency", "frequency_365")
                    and X[c].notna().any()]
        pred = t_learner_uplift(X[modelled].reset_index(drop=True), treated,
                                units["converted"], seed=seed)
        frame["predicted_uplift"] = pred
        scores = pd.DataFrame({"unit_id": units["unit_id"], "variant": units["variant"],
                               "predicted_uplift": pred})
        targeting = targeting_check(pred, treated, units["converted"], seed=seed)
    valid = [c for c in (*SEGMENT_BY, "acquisition_channel") if c in frame]
    for name in by or ():
        if name not in valid:
            raise UnknownNameError.for_name(name, valid, what="segment attribute", where="by")
    by = by or [c for c in SEGMENT_BY if c in frame]
    segs = segment_uplift(frame, by, control=control, treatment=treatment,
                          min_per_arm=min_per_arm)
    return _uplift_result(a, segs, scores, targeting, why_not, control=control,
                          treatment=treatment, min_per_arm=min_per_arm, many=len(rates) > 1)


def _uplift_result(a, segs, scores, targeting, why_not, *, control, treatment, min_per_arm,
                   many) -> UpliftResult:
    words, warn = _segment_words(segs, min_per_arm), []
    if many:
        words.insert(0, f"Of several challengers, {treatment} (the highest rate) is compared "
                        f"with {control}.")
    small = int(segs["too_small"].sum())
    if small:
        warn.append(f"{small} of {len(segs)} segments have fewer than {min_per_arm} units in an "
                    "arm: too small to act on.")
    if why_not:
        warn.append(cap(why_not) + ".")
    else:
        words.append(_targeting_words(targeting))
    headline = {"segments": len(segs), "small_segments": small}
    headline |= {f"{k}_points": 100 * v for k, v in targeting.items() if k != "beats_random"}
    if targeting:
        headline["targeting_beats_random"] = "yes" if targeting["beats_random"] else "no"
    return UpliftResult(str(a.get("id", "")), True, control=control, treatment=treatment,
                        segments=segs, scores=scores, targeting=targeting,
                        model_supported=not why_not, reading=" ".join(words),
                        warnings=tuple(warn), headline=headline)


def _segment_words(segs: pd.DataFrame, min_per_arm: int) -> list[str]:
    big = segs[~segs["too_small"] & segs["uplift"].notna()]
    if big.empty:
        return [f"No segment has {min_per_arm} units in each arm, so the test cannot say for "
                "whom it worked: treat its effect as the same for everyone."]
    hi, lo = big.loc[big["uplift"].idxmax()], big.loc[big["uplift"].idxmin()]
    clear = big[(big["low"] > 0) | (big["high"] < 0)]

    def seg(r):
        who = SEGMENT_BY.get(r.attribute, r.attribute.replace("_", " ") + " {}")
        return (f"{who.format(r.segment)} ({points(r.uplift)} points, interval "
                f"{points(r.low)} to {points(r.high)})")

    if len(big) == 1:
        return [f"Only one segment has at least {min_per_arm} units per arm: {seg(hi)}."]
    return [f"Among segments with at least {min_per_arm} units per arm, the lift was largest "
            f"for {seg(hi)} and smallest for {seg(lo)}; {len(clear)} of {len(big)} exclude "
            "zero. Each interval stands alone: with this many segments, one may exclude zero "
            "by chance."]


def _targeting_words(t: dict) -> str:
    pts = (f"the half the model ranks highest gained {points(t['top_half_uplift'])} points, "
           f"against {points(t['overall_uplift'])} for a random half (gap {points(t['gain'])}, "
           f"interval {points(t['gain_low'])} to {points(t['gain_high'])})")
    if t["beats_random"]:
        return f"Targeting by predicted uplift pays: {pts}, on customers it had not seen."
    return (f"Targeting by predicted uplift does not beat picking at random: {pts}. Do not "
            "choose who gets it by the model yet; treat the effect as the same for everyone.")


def segments_display(result: UpliftResult):
    """``segments`` for the screen: rates, uplifts and their interval as percentages."""
    from helpers import plots

    shares = ["rate_control", "rate_treatment", "uplift", "low", "high", "predicted_uplift"]
    return plots.table(result.segments, percent=shares)
