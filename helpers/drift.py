"""Step 08: whether the people the models of step 06 score today still look like those they
were tested on.

The population stability index (PSI) compares each model input, and the model's scores, between
the day the model was tested (its card's validation cutoff; for lead scores, the leads it learned
from) and today. Bands: under 0.1 stable, 0.1-0.25 moderate shift, over 0.25 major shift.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import features as ft
from helpers import plots
from helpers.anomalies import DAY, resolve_as_of
from helpers.errors import MissingDataError
from helpers.explore import cap, known, until
from helpers.model_cards import saved_cards
from helpers.sections import Section

CREATED_AT = known("leads", "created_at")[0]
EPSILON = 1e-4  # the share given to an empty bin, so that its logarithm stays finite
BANDS = ((0.1, "stable"), (0.25, "moderate shift"), (np.inf, "major shift"))
GROWS_WITH_TIME = ("tenure_days", "emails_received")  # count up for everyone as time passes


# ---- drift -------------------------------------------------------------------------------------
def band(value: float) -> str:
    """'stable' (PSI under 0.1), 'moderate shift' (0.1-0.25) or 'major shift' (over 0.25)."""
    return next(name for top, name in BANDS if value < top) if pd.notna(value) else "not known"


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _bins(reference: pd.Series, current: pd.Series, bins: int) -> tuple[pd.Series, pd.Series]:
    """Each value's bin: for numbers, quantile bins of the reference after rounding both sides
    to 1 % of the reference's spread (1st to 99th percentile), so that moves smaller than that
    (a 30-day renewal gap becoming 30.2 days) are no shift; for text, the category itself. A
    blank is its own bin, "missing"."""
    if _numeric(reference) and _numeric(current):
        known_ = reference.dropna().astype(float)
        step = 0.01 * float(np.subtract(*np.quantile(known_, [0.99, 0.01]))) if len(known_) else 0

        def snap(s):
            s = s.astype(float)
            return np.round(s / step) * step if step > 0 else s

        edges = (np.unique(np.quantile(snap(known_), np.linspace(0, 1, bins + 1)[1:-1]))
                 if len(known_) else np.array([]))

        def label(s):  # bin i holds (edges[i-1], edges[i]]
            out = pd.Series(np.searchsorted(edges, snap(s), side="left"), index=s.index)
            return out.astype(object).where(s.notna(), "missing")
    else:
        def label(s):
            return s.astype(object).where(s.notna(), "missing").astype(str)
    return label(reference), label(current)


def psi(reference, current, *, bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference``:
    sum over bins of (q - p) x ln(q / p), p and q the two shares of each bin.

    Numbers are binned at the reference's quantiles (ties merge bins; values are first rounded
    to 1 % of the reference's spread), text by category; a blank is a bin of its own; an empty
    bin gets a share of EPSILON (0.0001) so that the logarithm stays finite. NaN when either side
    is empty.

    >>> round(psi([1, 2, 3, 4], [1, 2, 3, 4]), 4)
    0.0
    """
    ref, cur = _bins(pd.Series(reference), pd.Series(current), bins)
    if ref.empty or cur.empty:
        return float("nan")
    p, q = ref.value_counts(normalize=True).align(cur.value_counts(normalize=True), fill_value=0)
    p, q = p.clip(lower=EPSILON), q.clip(lower=EPSILON)
    return float(((q - p) * np.log(q / p)).sum())


def _moved(ref: pd.Series, cur: pd.Series) -> tuple[str, str]:
    """The two sides in words: the mean for numbers, the category whose share moved most."""
    if _numeric(ref) and _numeric(cur):
        return f"mean {ref.mean():,.2f}", f"mean {cur.mean():,.2f}"
    p, q = (s.astype(object).where(s.notna(), "missing").value_counts(normalize=True)
            for s in (ref, cur))
    p, q = p.align(q, fill_value=0.0)
    top = (q - p).abs().idxmax()
    return f"{top}: {p[top]:.0%}", f"{top}: {q[top]:.0%}"


@dataclass(frozen=True, eq=False)
class DriftResult(Section):
    """``table``: one row per model input and one per model's scores (feature "score"): model,
    feature, label, psi, band, reference, current (in words), n_reference, n_current, and the
    two dates compared."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)


def _customer_frames(plan, card: dict, as_of, cache: dict):
    """(reference, current, reference date) of a customer model's features, or a reason."""
    ref_day = pd.Timestamp(card["data_window"]["validation_cutoff"])
    if as_of + DAY <= ref_day:
        return (f"{card['name']}: {as_of:%d %b %Y} is before the model was tested "
                f"({ref_day:%d %b %Y}).")
    for day in (ref_day, as_of + DAY):  # features use the days strictly before the cutoff
        if day not in cache:
            extra = {t: plan.prepared(t) if plan.has(t) else None
                     for t in ("customers", "email_events")}
            cache[day] = ft.customer_features(plan.prepared("orders"), cutoff=day, **extra)
    ref, cur = cache[ref_day], cache[as_of + DAY]
    if card["name"] == "churn":  # churn scores active customers only
        ref, cur = ref[ref["frequency_365"] > 0], cur[cur["frequency_365"] > 0]
    return ref, cur, ref_day, (f"customers at {ref_day:%d %b %Y}, when it was tested, against "
                               f"{as_of:%d %b %Y}")


def _lead_frames(plan, card: dict, as_of, window_days: int = 90):
    """Leads the model learned from against the leads of the last ``window_days`` days."""
    leads = until(plan.prepared("leads"), CREATED_AT, as_of)
    X = ft.lead_features(leads)
    created = pd.Series(leads[CREATED_AT].to_numpy(), index=X.index)
    w = card["data_window"]
    now = created > as_of - window_days * DAY
    learned = (created >= pd.Timestamp(w["train_from"])) & (
        created < pd.Timestamp(w["validation_to"]) + DAY) & ~now
    if now.sum() == 0:
        return f"lead_score: no lead came in during the {window_days} days to {as_of:%d %b %Y}."
    return X[learned.to_numpy()], X[now.to_numpy()], pd.Timestamp(w["validation_to"]), (
        f"the leads it learned from, to {pd.Timestamp(w['validation_to']):%d %b %Y}, against the "
        f"{int(now.sum())} of the {window_days} days to {as_of:%d %b %Y}")


def _scores(model, X: pd.DataFrame, features: list[str], like: pd.DataFrame):
    X = X[features].astype({c: object for c in features if not _numeric(like[c])})
    return model.predict_proba(ft.model_inputs(X)[0])[:, 1]


def _model_rows(plan, card: dict, as_of, cache: dict, warnings: list) -> list[dict]:
    name = card.get("name", "a model")
    try:
        found = (_lead_frames(plan, card, as_of) if name == "lead_score"
                 else _customer_frames(plan, card, as_of, cache))
    except MissingDataError as exc:
        found = f"{name}: its data is missing now. {exc}"
    except KeyError as exc:
        found = (f"{name}: its card has no {exc} in data_window, so there is no reference day to "
                 "compare with; run step 06 again.")
    if isinstance(found, str):
        warnings.append(found)
        return []
    ref, cur, ref_day, compared = found
    inputs = [f for f in card.get("features", []) if f in ref and f in cur]
    pairs = {f: (ref[f], cur[f]) for f in inputs}
    try:
        model = plan.load(f"models/{card['name']}.joblib")
        pairs["score"] = tuple(pd.Series(_scores(model, x, inputs, ref)) for x in (ref, cur))
    except Exception as exc:  # an old or foreign model file: report it, check the inputs anyway
        warnings.append(f"{card['name']}: its scores could not be recomputed ({exc}); run step 06 "
                        "again to save a model that matches its card.")
    if len(cur) < 100:
        warnings.append(f"{card['name']}: only {len(cur)} people to compare today, so the PSI "
                        "figures are rough.")
    rows = []
    for f, (r, c) in pairs.items():
        value, (then, now) = psi(r, c), _moved(r, c)
        rows.append({"model": card["name"], "feature": f, "label": "the model's scores" if
                     f == "score" else ft.label(f), "psi": value, "band": band(value),
                     "reference": then, "current": now, "n_reference": len(r), "n_current": len(c),
                     "reference_date": ref_day, "current_date": as_of, "compared": compared})
    return rows


def drift(plan, *, as_of=None) -> DriftResult:
    """PSI of each input of each step-06 model (models/<name>_card.json) and of its scores,
    between the model's test and ``as_of``. Unsupported without model cards."""
    as_of = resolve_as_of(plan, as_of)
    cards = saved_cards(plan)
    if not cards:
        why = (f"No model of step 06 to watch: {plan.path('models')} holds no model card. Run "
               "notebook 06 (model training) with orders or leads, then come back to compare "
               "what the models learned from with today's customers.")
        return DriftResult(False, why, reading=why, headline={"supported": False})
    rows, warnings, cache = [], [], {}
    for card in cards:
        rows += _model_rows(plan, card, as_of, cache, warnings)
    if not rows:
        why = "No model could be compared: " + " ".join(warnings)
        return DriftResult(False, why, reading=why, warnings=tuple(warnings),
                           headline={"supported": False})
    table = pd.DataFrame(rows)
    inputs = table[table["feature"] != "score"]
    worst = inputs.loc[inputs["psi"].idxmax()] if inputs["psi"].notna().any() else None
    headline = {"models_checked": int(table["model"].nunique()),
                "inputs_major": int((inputs["band"] == "major shift").sum()),
                "inputs_moderate": int((inputs["band"] == "moderate shift").sum()),
                "max_psi": None if worst is None else round(float(worst["psi"]), 3),
                "max_psi_input": None if worst is None else f"{worst['model']}: {worst['feature']}"}
    return DriftResult(True, "", table=table, reading=_drift_reading(table),
                       warnings=tuple(warnings), headline=headline)


def verdict(t: pd.DataFrame) -> str:
    """One model's rows -> "retrain" (a major shift in its scores, or in an input that does not
    grow with time by construction, or in one whose scores moved too), "watch" (any other
    shift) or "stable"."""
    score = t.loc[t["feature"] == "score", "band"]
    scores_moved = bool(len(score)) and score.iloc[0] != "stable"
    major = t[t["band"] == "major shift"]
    if len(major) and (scores_moved or (~major["feature"].isin(GROWS_WITH_TIME)).any()):
        return "retrain"
    return "watch" if (t["band"] != "stable").any() else "stable"


def _drift_reading(table: pd.DataFrame) -> str:
    lines = ["PSI (population stability index) measures how far a distribution has moved: under "
             "0.1 is ordinary, 0.1-0.25 a moderate shift, over 0.25 a major one."]
    for model, t in table.groupby("model", sort=False):
        moved = t[(t["feature"] != "score") & (t["band"] != "stable")]
        score = t[t["feature"] == "score"]
        text = (f"{model.replace('_', ' ').capitalize()} ({t['compared'].iloc[0]}): " + (
                "every input is stable" if moved.empty else
                f"{len(moved)} of {len(t) - len(score)} inputs moved: "
                + "; ".join(f"{r.label} ({r.reference} -> {r.current}, PSI {r.psi:.2f}, {r.band})"
                            for r in moved.sort_values("psi", ascending=False).itertuples())))
        if len(score):
            text += f". Its scores: PSI {score['psi'].iloc[0]:.2f} ({score['band'].iloc[0]})"
        grows = moved[moved["feature"].isin(GROWS_WITH_TIME)]
        if len(grows):
            names = " and ".join(grows["label"])
            text += (f". {cap(names)} grow{'s' * (len(grows) == 1)} with time "
                     "for everyone (each day, each send), so some shift there is built in")
        text += {"retrain": ". Retrain it in step 06: it now scores people unlike those it "
                            "learned from" + (" (its scores have not moved yet)." if len(score)
                                              and score["band"].iloc[0] == "stable" else "."),
                 "watch": ". Keep an eye on it; no need to retrain yet.",
                 "stable": "."}[verdict(t)]
        lines.append(text)
    return "\n".join(lines)


def drift_chart_data(result: DriftResult) -> pd.DataFrame:
    """What ``plot_drift`` draws: one bar per model input and score (name, psi, band)."""
    if not result.supported:
        return pd.DataFrame(columns=["name", "psi", "band"])
    t = result.table.sort_values("psi", ascending=False)
    return pd.DataFrame({"name": t["model"].str.replace("_", " ") + ": " + t["label"],
                         "psi": t["psi"].to_numpy(), "band": t["band"].to_numpy()})


def plot_drift(result: DriftResult, ax=None):
    """PSI per model input (and score) with the 0.1 and 0.25 band lines."""
    data = drift_chart_data(result)
    ax = plots.axes(ax, figsize=(9, max(3.0, 0.3 * len(data) + 1)))
    if data.empty:
        ax.set_axis_off()
        ax.text(0.5, 0.5, result.reading, ha="center", va="center", wrap=True)
        return ax
    colors = {"stable": plots.MUTED, "moderate shift": plots.PALETTE[1],
              "major shift": plots.PALETTE[3]}
    ax.barh(data["name"], data["psi"].fillna(0), color=[colors.get(b, plots.MUTED)
                                                        for b in data["band"]])
    ax.invert_yaxis()
    for x, name in ((0.1, "moderate"), (0.25, "major")):
        ax.axvline(x, color="black", ls=":", lw=1)
        ax.text(x, -0.6, f" {name}", fontsize=8, va="bottom")
    top = data.iloc[0]
    title = ("No model input has shifted since the models were tested" if top["psi"] < 0.1 else
             f"{top['name']} shifted most (PSI {top['psi']:.2f}, {top['band']})")
    ax.set(title=title, xlabel="PSI (population stability index)", ylabel="")
    return ax
