"""Step 03: selecting the right AI tools.

Every use case of the catalogue (templates/ai_use_cases.yaml, read by ``helpers.readiness``) is
scored on five things: how well it serves the business's objectives (``objective_fit``), whether
its data is ready (``readiness``), its expected ``impact``, its ``ease`` (the opposite of effort)
and whether a tool already in use offers it (``stack_fit``). The weighted sum ranks them; the
shortlist is the ``use_cases:`` list of business.yaml when set, otherwise the best ready ones.
Later steps call ``selected`` and ``section_status`` to know which sections to run.

The readings, the chart and the step record live in ``helpers.tool_readings``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from helpers.errors import ConfigError, MissingDataError, UnknownNameError
from helpers.params import BUSINESS_FILE
from helpers.readiness import Readiness, catalogue, readiness

WEIGHTS = {"objective_fit": 0.30, "readiness": 0.30, "impact": 0.20, "ease": 0.10,
           "stack_fit": 0.10}
IMPACT = {"high": 1.0, "medium": 0.6, "low": 0.3}
EASE = {"low": 1.0, "medium": 0.6, "high": 0.3}  # by effort: low effort is easy
NO_OBJECTIVES_FIT = 0.5  # every use case fits equally when business.yaml lists no objectives
COLUMNS = ["id", "name", "channel", "objective_fit", "readiness", "ready", "reason", "impact",
           "effort", "stack_fit", "monthly_cost", "time_to_value_weeks", "privacy_risk",
           "kit_section", "score", "rank"]
ARTIFACT = "use_cases.json"
TOP_N = 5


# ---- the parts of the score --------------------------------------------------------------------
def objective_weights(plan) -> dict[str, float]:
    """How much each objective type counts: by order in business.yaml, the first most.

    With n objectives, the k-th (from 0) weighs (n - k) / (1 + 2 + ... + n): two objectives
    count 2/3 and 1/3; a type listed twice adds up.
    """
    types = [o.type for o in plan.settings.objectives]
    total = sum(range(1, len(types) + 1))
    out: dict[str, float] = {}
    for k, kind in enumerate(types):
        out[kind] = out.get(kind, 0.0) + (len(types) - k) / total
    return out


def objective_fit(plan, use_case: dict) -> float:
    """The share of the business's objectives (weighted by order) that ``use_case`` serves, 0-1;
    0.5 for every use case when business.yaml has no objectives."""
    weights = objective_weights(plan)
    if not weights:
        return NO_OBJECTIVES_FIT
    return round(sum(w for kind, w in weights.items() if kind in use_case["objectives"]), 6)


def stack_fit(plan, use_case: dict) -> float:
    """1 when a tool listed in business.yaml `tools_in_use` offers the use case, else 0."""
    in_use = {t.strip().lower() for t in plan.settings.tools_in_use}
    return 1.0 if in_use & {t.lower() for t in use_case["offered_by"]} else 0.0


def normalise_weights(weights: dict[str, float] | None = None) -> dict[str, float]:
    """The weights scaled to sum to 1. ``None`` gives the defaults (objective_fit 0.30, readiness
    0.30, impact 0.20, ease 0.10, stack_fit 0.10); in a dict given, a name left out weighs 0."""
    weights = dict(WEIGHTS if weights is None else weights)
    for name, value in weights.items():
        if name not in WEIGHTS:
            raise UnknownNameError.for_name(name, WEIGHTS, what="weight")
        if not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"weight '{name}' must be a number of 0 or more (got {value!r}).")
    total = sum(weights.values())
    if total <= 0:
        raise ConfigError(f"the weights add up to 0: give at least one of {', '.join(WEIGHTS)} a "
                          "value above 0.")
    return {name: weights.get(name, 0.0) / total for name in WEIGHTS}


# ---- scoring and ranking -----------------------------------------------------------------------
def _row(plan, uc: dict, ready: Readiness) -> dict:
    return {"id": uc["id"], "name": uc["name"], "channel": uc["channel"],
            "objective_fit": objective_fit(plan, uc), "readiness": ready.score,
            "ready": ready.ready, "reason": ready.reason, "impact": uc["impact"],
            "effort": uc["effort"], "stack_fit": stack_fit(plan, uc),
            "monthly_cost": list(uc["monthly_cost"]),
            "time_to_value_weeks": uc["time_to_value_weeks"], "privacy_risk": uc["privacy_risk"],
            "kit_section": uc["kit_section"], "score": float("nan"), "rank": 0,
            "_missing": ready.missing_tables}


def rescore(scored: pd.DataFrame, *, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """``scored`` with ``score`` and ``rank`` worked out again for other weights (nothing is
    measured again), sorted by rank. Ties go to the readier, then to catalogue order."""
    w = normalise_weights(weights)
    out = scored.copy()
    parts = {"objective_fit": out["objective_fit"], "readiness": out["readiness"],
             "impact": out["impact"].map(IMPACT), "ease": out["effort"].map(EASE),
             "stack_fit": out["stack_fit"]}
    out["score"] = sum(w[name] * parts[name].astype(float) for name in WEIGHTS).round(6)
    order = out.get("_order", pd.Series(range(len(out)), index=out.index))
    out = out.assign(_order=order).sort_values(["score", "readiness", "_order"],
                                                ascending=[False, False, True], kind="stable")
    out["rank"] = range(1, len(out) + 1)
    out = out.reset_index(drop=True)
    out.attrs.update(scored.attrs)
    out.attrs["weights"] = w
    return out


def score_use_cases(plan, *, weights: dict[str, float] | None = None, top_n: int = TOP_N,
                    use_cases: list[dict] | None = None) -> pd.DataFrame:
    """One row per use case: id, name, channel, objective_fit, readiness, ready, reason, impact,
    effort, stack_fit, monthly_cost, time_to_value_weeks, privacy_risk, kit_section, score, rank;
    sorted by rank.

    ``score`` is the weighted sum of objective_fit, readiness, impact (high/medium/low ->
    1/0.6/0.3), ease (effort low/medium/high -> 1/0.6/0.3) and stack_fit, with the weights
    normalised (see ``normalise_weights``). ``use_cases`` replaces the catalogue (for tests or a
    catalogue of your own). ``top_n`` and the weights are kept in ``.attrs`` for ``shortlist``
    and ``artifact``.
    """
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ConfigError(f"top_n must be a whole number of 1 or more (got {top_n!r}).")
    cases = catalogue() if use_cases is None else use_cases
    tables: dict = {}
    rows = [_row(plan, uc, readiness(plan, uc, tables=tables)) for uc in cases]
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "_missing"]).assign(_order=range(len(rows)))
    frame.attrs.update(top_n=top_n, catalogue_size=len(cases),
                       objectives=len(plan.settings.objectives),
                       catalogue={uc["id"]: uc for uc in cases})
    return rescore(frame, weights=weights)


# ---- the shortlist -----------------------------------------------------------------------------
def top_ready(scored: pd.DataFrame, top_n: int) -> list[str]:
    """The ids of the ``top_n`` best-ranked use cases whose data is ready."""
    return scored[scored["ready"]].sort_values("rank")["id"].head(top_n).tolist()


def shortlist(plan, scored: pd.DataFrame, *, top_n: int | None = None) -> list[str]:
    """The use cases to carry forward, as ids.

    The `use_cases:` list of business.yaml wins when it is set (a misspelt id raises
    UnknownNameError with the closest one; a use case whose data is not ready is kept, with a
    warning saying why). Otherwise the ``top_n`` best-ranked ready ones (``top_n`` defaults to
    the one given to ``score_use_cases``).
    """
    top_n = scored.attrs.get("top_n", TOP_N) if top_n is None else top_n
    explicit = list(dict.fromkeys(plan.settings.use_cases))
    if not explicit:
        return top_ready(scored, top_n)
    rows = scored.set_index("id")
    where = f"{plan.business_dir / BUSINESS_FILE}: use_cases"
    for uc in explicit:
        if uc not in rows.index:
            raise UnknownNameError.for_name(uc, rows.index, what="use case", where=where)
        if not rows.at[uc, "ready"]:
            warnings.warn(f"'{uc}' is on your shortlist (use_cases: in business.yaml) but its data "
                          f"is not ready: {rows.at[uc, 'reason']}.", UserWarning, stacklevel=2)
    return explicit


def selected_by(plan) -> str:
    """"business.yaml" when its `use_cases:` list sets the shortlist, else "top_n"."""
    return "business.yaml" if plan.settings.use_cases else "top_n"


def artifact(plan, scored: pd.DataFrame, shortlist: list[str],
             weights: dict[str, float] | None = None) -> dict:
    """The content of use_cases.json: weights, top_n, selected_by, shortlist, every use case
    ranked, the ones skipped because their data is not ready (with why) and the catalogue size."""
    w = normalise_weights(weights) if weights is not None else scored.attrs.get(
        "weights", normalise_weights())
    ranked = []
    for row in scored.sort_values("rank")[COLUMNS].to_dict("records"):
        row.update(ready=bool(row["ready"]), rank=int(row["rank"]),
                   monthly_cost=[float(c) for c in row["monthly_cost"]])
        ranked.append(row)
    return {"weights": {k: round(v, 6) for k, v in w.items()},
            "top_n": int(scored.attrs.get("top_n", TOP_N)),
            "selected_by": selected_by(plan), "shortlist": list(shortlist), "ranked": ranked,
            "skipped": [{"id": r["id"], "reason": r["reason"]} for r in ranked if not r["ready"]],
            "catalogue_size": int(scored.attrs.get("catalogue_size", len(scored)))}


# ---- for later steps ---------------------------------------------------------------------------
def selected(plan) -> list[str]:
    """The shortlist saved by step 03 (use_cases.json in the run folder), or, when step 03 has
    not run, the one it would choose with the default weights."""
    try:
        return list(plan.load(ARTIFACT)["shortlist"])
    except MissingDataError:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # step 03 itself shows these warnings
            return shortlist(plan, score_use_cases(plan))


def use_case(use_case_id: str) -> dict:
    """One entry of the catalogue; UnknownNameError names the closest id."""
    cases = {uc["id"]: uc for uc in catalogue()}
    if use_case_id not in cases:
        raise UnknownNameError.for_name(use_case_id, cases, what="use case",
                                        where="templates/ai_use_cases.yaml")
    return cases[use_case_id]


def section_status(plan, use_case_id: str) -> tuple[bool, str]:
    """(True, "") when ``use_case_id`` is shortlisted and its data is ready; otherwise False and a
    sentence saying why, for a later notebook to print when it skips the section."""
    uc = use_case(use_case_id)
    picks, ready = selected(plan), readiness(plan, uc)
    if use_case_id not in picks:
        data = "" if ready.ready else f" Its data is not ready either: {ready.reason}."
        return False, (f"{uc['name']} was not shortlisted in step 03 (your shortlist: "
                       f"{', '.join(picks) or 'empty'}). To run it, add `{use_case_id}` to "
                       f"`use_cases:` in business.yaml and run notebook 03 again.{data}")
    if not ready.ready:
        return False, f"{uc['name']} is on your shortlist, but its data is not ready: {ready.reason}."
    return True, ""


# ---- tables for the notebook -------------------------------------------------------------------
def catalogue_table(cases: list[dict] | None = None) -> pd.DataFrame:
    """The catalogue, compact: id, channel, name, what it does, where it is built."""
    cases = catalogue() if cases is None else cases
    return pd.DataFrame([{"id": uc["id"], "channel": uc["channel"], "use case": uc["name"],
                          "what it does": uc["what"], "where": uc["kit_section"]}
                         for uc in cases]).set_index("id")


def readiness_table(scored: pd.DataFrame) -> pd.DataFrame:
    """Use case, whether its data is ready, the readiness score and the reason; not-ready ones
    first, the nearest to ready at the top."""
    out = scored.sort_values(["ready", "readiness", "rank"], ascending=[True, False, True])
    return out.set_index("id")[["name", "ready", "readiness", "reason"]]


def ranked_table(scored: pd.DataFrame) -> pd.DataFrame:
    """The ranking with its parts, by rank."""
    cols = ["name", "channel", "score", "objective_fit", "readiness", "ready", "impact", "effort",
            "stack_fit", "kit_section"]
    return scored.sort_values("rank").set_index("rank")[["id", *cols]].round(2)


def cost_text(cost) -> str:
    """'$0-60 a month (USD)' from a [low, high] band."""
    low, high = (int(round(c)) for c in cost)
    return f"${low:,} a month (USD)" if low == high else f"${low:,}-{high:,} a month (USD)"


def shortlist_table(scored: pd.DataFrame, picks: list[str]) -> pd.DataFrame:
    """The shortlist in order: channel, monthly tool cost, weeks to a first result, example
    tools, where it is built and how it will be tested."""
    rows = scored.set_index("id")
    cases = scored.attrs.get("catalogue") or {uc["id"]: uc for uc in catalogue()}
    out = []
    for uc in picks:
        r, entry = rows.loc[uc], cases[uc]
        test = entry["test"]
        out.append({"id": uc, "use case": r["name"], "ready": bool(r["ready"]),
                    "monthly cost": cost_text(r["monthly_cost"]),
                    "weeks to value": r["time_to_value_weeks"],
                    "tools": f"{entry['tools']['category']}: "
                             f"{', '.join(entry['tools']['examples'])}",
                    "where": r["kit_section"],
                    "test": "none planned" if test["design"] == "none"
                    else f"{test['design']} on {test['metric']} per {test['unit']}"})
    return pd.DataFrame(out, columns=["id", "use case", "ready", "monthly cost", "weeks to value",
                                      "tools", "where", "test"]).set_index("id")


# ---- the workshop form -------------------------------------------------------------------------
def save_use_cases(business_dir: str | Path, ids: list[str]) -> Path:
    """Write ``ids`` as the `use_cases:` list of business.yaml, keeping its comments and other
    keys; UnknownNameError (nothing written) for an id the catalogue does not have."""
    from helpers import io

    known = [uc["id"] for uc in catalogue()]
    path = Path(business_dir) / BUSINESS_FILE
    for uc in ids:
        if uc not in known:
            raise UnknownNameError.for_name(uc, known, what="use case", where=str(path))
    return io.update_yaml(path, "use_cases", list(dict.fromkeys(ids)))


def weights_form(plan, scored: pd.DataFrame | None = None):
    """Sliders for the five weights and top_n; the ranking of the ready use cases updates as they
    move, and Save writes the resulting shortlist as `use_cases:` in business.yaml.

    Returns the ipywidgets container; nothing is written until Save is pressed.
    """
    import html

    import ipywidgets as w

    scored = score_use_cases(plan) if scored is None else scored
    current = scored.attrs.get("weights", normalise_weights())
    sliders = {name: w.FloatSlider(value=round(current[name], 2), min=0, max=1, step=0.05,
                                   description=name.replace("_", " "), continuous_update=False)
               for name in WEIGHTS}
    top = w.IntSlider(value=scored.attrs.get("top_n", TOP_N), min=1, max=10, description="top n",
                      continuous_update=False)
    save = w.Button(description="Save shortlist to business.yaml", button_style="primary")
    status, picks = w.HTML(), []

    def refresh(*_):
        try:
            ranked = rescore(scored, weights={k: s.value for k, s in sliders.items()})
        except ConfigError as exc:
            status.value = f"<pre>{html.escape(str(exc))}</pre>"
            return
        picks[:] = top_ready(ranked, top.value)
        lines = [f"{i}. {ranked.set_index('id').at[p, 'name']}" for i, p in enumerate(picks, 1)]
        status.value = f"<pre>{html.escape(chr(10).join(lines) or 'No use case is ready.')}</pre>"

    def on_save(_):
        try:
            path = save_use_cases(plan.business_dir, picks)
            status.value += f"<p>Saved {len(picks)} use case(s) to {html.escape(str(path))}.</p>"
        except ConfigError as exc:
            status.value += f"<p>Not saved: {html.escape(str(exc))}</p>"

    for widget in (*sliders.values(), top):
        widget.observe(refresh, names="value")
    save.on_click(on_save)
    refresh()
    return w.VBox([*sliders.values(), top, save, status])


# The readings, the chart and the step record, importable from here as the brief names them.
from helpers.tool_readings import (  # noqa: E402
    impact_effort_data,
    missing_tables,
    next_steps,
    plot_impact_effort,
    reading_catalogue,
    reading_chart,
    reading_ranking,
    reading_readiness,
    reading_shortlist,
    readings,
    step_summary,
)

__all__ = ["WEIGHTS", "catalogue", "readiness", "objective_fit", "score_use_cases", "rescore",
           "shortlist", "weights_form", "impact_effort_data", "plot_impact_effort", "readings",
           "step_summary", "artifact", "selected", "section_status", "save_use_cases",
           "missing_tables", "next_steps", "reading_catalogue", "reading_chart", "reading_ranking",
           "reading_readiness", "reading_shortlist", "catalogue_table", "readiness_table",
           "ranked_table", "shortlist_table", "selected_by"]
