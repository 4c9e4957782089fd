"""Step 09: what your A/B tests and holdouts say, and what to do about each.

Every experiment your data holds is read the same way: the experiments table (one row per unit:
who saw which variant, whether they converted, what they spent) and every e-mail campaign whose
sends carry a ``variant`` (an A/B test per campaign: the unit is the customer, success is an open,
clicks are a second metric). Per variant: units, conversions, the rate with its Wilson interval,
revenue per unit. Challenger against control: a two-proportion z-test, a Newcombe interval on the
difference in rates, the relative lift, a Welch interval on revenue per unit, the Bayesian chance
that the challenger is better and the expected loss of picking it, a sample ratio mismatch check
(those statistics live in ``helpers.uplift``, with uplift by segment); warnings when the test was
stopped too early; and the decision in words. ``experiments_section`` reads every experiment for
the notebook and keeps a learnings log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import plots
from helpers.abtest import (
    compare_variants,
    points,
    sample_ratio,
    stopping_checks,
    variant_table,
)
from helpers.explore import cap, known
from helpers.plan import money
from helpers.sections import Section

EXPERIMENT_ID, UNIT_ID, VARIANT, EXPOSED_AT, CONVERTED, REVENUE = known(
    "experiments", "experiment_id", "unit_id", "variant", "exposed_at", "converted", "revenue")
CAMPAIGN_ID, CUSTOMER_ID, SENT_AT, OPENED_AT, CLICKED_AT = known(
    "email_events", "campaign_id", "customer_id", "sent_at", "opened_at", "clicked_at")
CONTROL_NAMES = ("control", "a", "baseline", "original", "holdout")  # in order of preference
MIN_UNITS = 30  # units per variant to read a test
REACHABLE = 10  # "keep testing" only when the sample needed is at most this many times the current
NO_EXPERIMENTS = (
    "There is no experiment to read. {why} An experiments table needs experiment_id, unit_id, "
    "variant, exposed_at, converted and revenue; an e-mail A/B test needs a `variant` column "
    "(A or B) in your email_events export. Run an A/B test or a holdout first (step 05 plans "
    "one).")


# ---- the units of every experiment -----------------------------------------------------------
def pick_control(variants) -> tuple[str, str]:
    """The control among ``variants`` and why it was taken: the first named like a control
    (control, a, baseline, original, holdout; case does not matter), else the first in sort
    order.

    >>> pick_control(["B", "A"])
    ('A', "'A' is named like a control")
    """
    names = sorted(str(v) for v in variants)
    lowered = {n.strip().lower(): n for n in names}
    for word in CONTROL_NAMES:
        if word in lowered:
            return lowered[word], f"'{lowered[word]}' is named like a control"
    return names[0], (f"no variant is named control, A, baseline, original or holdout, so "
                      f"'{names[0]}', the first in alphabetical order, was taken as the control")


def _one_per_unit(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per unit (first exposure, converted if any row converted, revenue summed), and
    the number of units dropped because they saw more than one variant."""
    mixed = frame.groupby("unit_id")["variant"].nunique()
    mixed = mixed[mixed > 1].index
    frame = frame[~frame["unit_id"].isin(mixed)]
    agg = {"variant": "first", "exposed_at": "min", "converted": "max", "revenue": "sum"}
    if "clicked" in frame:
        agg["clicked"] = "max"
    out = frame.groupby("unit_id", sort=True).agg(agg).reset_index()
    return out.astype({"converted": bool, "revenue": float}), len(mixed)


def _customer_ids(plan) -> set:
    ids = set()
    for table in ("customers", "orders"):
        if plan.has(table):
            ids |= set(plan.prepared(table)[CUSTOMER_ID].dropna().astype(str))
    return ids


def _finish_units(frame: pd.DataFrame, plan, ids: set, **attrs) -> pd.DataFrame:
    frame, mixed = _one_per_unit(frame)
    control, why = pick_control(frame["variant"].unique())
    frame.attrs.update(attrs, control=control, control_reason=why, mixed_units=mixed,
                       observed_until=plan.as_of, currency=plan.currency,
                       customers=bool(len(frame)) and frame["unit_id"].isin(ids).mean() >= 0.5)
    return frame


def _table_experiments(plan, ids: set) -> dict[str, pd.DataFrame]:
    x = plan.prepared("experiments")
    x = x[x[UNIT_ID].notna() & x[VARIANT].notna()]
    found = {}
    for eid, g in x.groupby(EXPERIMENT_ID, sort=True):
        unknown = int(g[CONVERTED].isna().sum()) if CONVERTED in g else 0
        g = g[g[CONVERTED].notna()] if unknown else g  # an unknown outcome is not a "no"
        revenue = g[REVENUE].fillna(0.0) if REVENUE in g else pd.Series(0.0, index=g.index)
        converted = g[CONVERTED] if CONVERTED in g else revenue > 0
        frame = pd.DataFrame({"unit_id": g[UNIT_ID].astype(str),
                              "variant": g[VARIANT].astype(str).str.strip(),
                              "exposed_at": g[EXPOSED_AT] if EXPOSED_AT in g else pd.NaT,
                              "converted": converted.astype(bool),
                              "revenue": revenue.astype(float)})
        if frame["variant"].nunique() < 2:
            continue
        found[str(eid)] = _finish_units(
            frame, plan, ids, id=str(eid), source="experiments", metric="conversion",
            verb="converted", second_metric=None, has_revenue=REVENUE in g, label="group",
            name=str(eid), unknown_outcome=unknown)
    return found


def _email_experiments(plan, ids: set) -> dict[str, pd.DataFrame]:
    raw = plan.table("email_events")  # cheap: prepare only when some send carries a variant
    if "variant" not in raw or raw["variant"].isna().all():
        return {}
    e = plan.prepared("email_events")
    e = e[e["variant"].notna() & e[CUSTOMER_ID].notna()]
    names = (plan.prepared("campaigns").set_index(CAMPAIGN_ID) if plan.has("campaigns")
             else pd.DataFrame())
    found = {}
    for cid, g in e.groupby(CAMPAIGN_ID, sort=True):
        frame = pd.DataFrame({"unit_id": g[CUSTOMER_ID].astype(str),
                              "variant": g["variant"].astype(str).str.strip(),
                              "exposed_at": g[SENT_AT], "converted": g[OPENED_AT].notna(),
                              "revenue": 0.0})
        if CLICKED_AT in g:
            frame["clicked"] = g[CLICKED_AT].notna()
        if frame["variant"].nunique() < 2:
            continue
        row = names.loc[cid] if cid in names.index else pd.Series(dtype=object)
        row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
        name = str(row.get("name")) if pd.notna(row.get("name")) else ""
        subject = pd.notna(row.get("subject")) or "subject" in name.lower()
        found[str(cid)] = _finish_units(
            frame, plan, ids, id=str(cid), source="email_events", metric="open",
            verb="opened", second_metric="clicked" if CLICKED_AT in g else None,
            has_revenue=False, label="subject" if subject else "version",
            name=f"e-mail {cid}" + (f" ({name})" if name else ""))
    return found


def experiment_units(plan) -> dict[str, pd.DataFrame]:
    """Every experiment the data holds, keyed by id: one frame per experiment with one row per
    unit (unit_id, variant, exposed_at, converted, revenue; ``clicked`` too for e-mail tests).

    From the experiments table, one per experiment_id; from email_events, one per campaign_id
    whose sends carry two or more variants (unit = customer, converted = opened, revenue 0).
    A unit that saw more than one variant is dropped (``attrs['mixed_units']`` counts them).
    ``attrs`` also hold source, metric, verb, control and why it was taken, whether the units
    are customers, has_revenue, observed_until (the plan's today) and the currency.
    """
    ids = _customer_ids(plan)
    found = _table_experiments(plan, ids) if plan.has("experiments") else {}
    if plan.has("email_events"):
        for key, frame in _email_experiments(plan, ids).items():
            found[f"email {key}" if key in found else key] = frame
    return found


# ---- one experiment --------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """What one experiment says. ``variants``: per variant n, conversions, rate (interval),
    revenue per unit. ``comparisons``: one row per challenger and metric against the control.
    ``srm``: the split check; ``power``: units needed against units had. ``verdict``: roll_out,
    keep_testing, keep_control or check_split; ``decision`` says it in words."""

    id: str
    supported: bool
    reason: str = ""
    source: str = ""
    metric: str = ""
    control: str = ""
    challenger: str = ""
    hypothesis: str = ""
    variants: pd.DataFrame = field(default_factory=pd.DataFrame)
    comparisons: pd.DataFrame = field(default_factory=pd.DataFrame)
    srm: dict = field(default_factory=dict)
    power: dict = field(default_factory=dict)
    verdict: str = ""
    decision: str = ""
    first_exposure: pd.Timestamp | None = None
    last_exposure: pd.Timestamp | None = None
    reading: str = ""
    warnings: tuple[str, ...] = ()
    headline: dict = field(default_factory=dict)


def _pick_best(comparisons: pd.DataFrame) -> pd.Series:
    """The challenger the decision is about: the largest significant gain, else the most
    likely to beat the control."""
    main = comparisons[comparisons.metric == "main"]
    wins = main[main.significant & (main["diff"] > 0)]
    return (wins.loc[wins["diff"].idxmax()] if len(wins) else
            main.loc[main["prob_beats"].idxmax()])


def _chance(p: float) -> str:
    """A probability for a sentence, never rounded up to a certainty: '97%', 'over 99%'."""
    return "over 99%" if p > 0.99 else "under 1%" if p < 0.01 else f"{p:.0%}"


def _named(units, variant: str) -> str:
    label = units.attrs.get("label", "version")
    return f"the {variant} group" if label == "group" else f"{label} {variant}"


def _decision(units, table, best, srm: dict, power: dict, *, alpha: float) -> tuple[str, str]:
    """The verdict and the sentence that says what to do, from the numbers."""
    c, t = table.iloc[0], table.set_index("variant").loc[best.variant]
    a, b, verb = _named(units, c.variant), _named(units, best.variant), units.attrs["verb"]
    level = 100 * (1 - alpha / (len(table) - 1))  # Bonferroni-widened with 2+ challengers
    span = f"{level:g}% interval {points(best.diff_low)} to {points(best.diff_high)} points"
    rates = f"{t.rate:.1%} against {c.rate:.1%}"
    if srm["mismatch"]:
        seen = " and ".join(f"{n:,} with {v}" for v, n in srm["observed"].items())
        return "check_split", (
            f"Do not act on this test yet: it holds {seen}, far from the {srm['design']} split "
            f"{'assumed' if srm['assumed'] else 'intended'} (chi-square p = {srm['p']:.1g}). "
            "Something in how units were assigned or counted went wrong: find it, then run the "
            "test again.")
    if best.significant and best["diff"] > 0:
        act = (f"Send {b} from now on" if units.attrs["source"] == "email_events" else
               f"Roll out what {b} got")
        return "roll_out", (
            f"{act}: it {verb} {100 * best['diff']:.1f} points more than {a} ({rates}; {span})"
            + (f", {best.relative_lift:+.0%} in relative terms"
               if pd.notna(best.relative_lift) else "")
            + f"; the chance that it is truly better is {_chance(best.prob_beats)}.")
    if best.significant:
        return "keep_control", (f"Keep {a}: {b} {verb} {-100 * best['diff']:.1f} points less "
                                f"({rates}; {span}).")
    need = power["needed_control"] + power["needed_challenger"]
    have = int(c.n + t.n)
    if best["diff"] > 0 and np.isfinite(need) and have < need <= REACHABLE * have:
        return "keep_testing", (
            f"Keep testing: {b} {verb} {100 * best['diff']:.1f} points more than {a} so far "
            f"({rates}; {span}), which may still be chance ({_chance(best.prob_beats)} chance it "
            f"is better). About {need - have:,.0f} more units would settle a difference this "
            "size.")
    if best["diff"] <= 0:
        return "keep_control", (f"Keep {a}: {b} did no better ({rates}; {span}); at best it "
                                f"is {100 * best.diff_high:.1f} points better.")
    return "keep_control", (
        f"Keep {a}: {b} is not clearly better ({rates}; {span}), and confirming a difference "
        f"this small would take about {need:,.0f} units, more than is practical: test a "
        "bolder change instead.")


def _extra_sentences(units, table, comparisons, best, *, alpha: float) -> list[str]:
    """Revenue per unit and clicks against the control, in words."""
    cur, out = units.attrs.get("currency", "USD"), []
    c, t = table.iloc[0], table.set_index("variant").loc[best.variant]
    a, b = _named(units, c.variant), _named(units, best.variant)
    if "revenue_diff" in best and pd.notna(best.revenue_diff):
        out.append(f"Revenue per unit: {money(t.revenue_per_unit, cur, decimals=2)} with {b} "
                   f"against {money(c.revenue_per_unit, cur, decimals=2)} with {a}, "
                   f"{money(best.revenue_diff, cur, decimals=2)} a unit ({1 - alpha:.0%} Welch "
                   f"interval {money(best.revenue_low, cur, decimals=2)} to "
                   f"{money(best.revenue_high, cur, decimals=2)}).")
    clicks = comparisons[(comparisons.metric == "clicked") & (comparisons.variant == best.variant)]
    if len(clicks):
        k = clicks.iloc[0]
        out.append(f"Clicks: {t.click_rate:.1%} with {b} against {c.click_rate:.1%} with {a} "
                   f"({points(k['diff'])} points, interval {points(k.diff_low)} to "
                   f"{points(k.diff_high)}): "
                   + ("a clear difference." if k.significant else "no clear difference."))
    return out


def _hypothesis(units, control: str, challenger: str) -> str:
    a, b = _named(units, control), _named(units, challenger)
    what = "opens" if units.attrs["metric"] == "open" else "conversions"
    return f"{cap(b)} gets more {what} than {a} in {units.attrs['name']}"


def _unsupported(units, reason: str) -> ExperimentResult:
    return ExperimentResult(str(units.attrs.get("id", "")), False, reason,
                            source=units.attrs.get("source", ""), reading=reason,
                            last_exposure=units["exposed_at"].max() if len(units) else None,
                            headline={"supported": False})


def _too_thin(units, table) -> str:
    name = units.attrs.get("name", "this experiment")
    if len(table) < 2:
        return f"{name} has only one variant, so there is nothing to compare."
    small = table[table.n < MIN_UNITS]
    if len(small):
        have = ", ".join(f"{n} units with {v}" for v, n in zip(small.variant, small.n, strict=True))
        return f"{name} has only {have}: read a test from at least {MIN_UNITS} units per variant."
    if table.conversions.sum() == 0:
        return f"No unit of {name} converted in any variant, so the variants cannot be compared."
    return ""


def read_experiment(units: pd.DataFrame, *, alpha: float = 0.05, expected_split=None,
                    seed: int = 42, draws: int = 20000) -> ExperimentResult:
    """Read one experiment (a frame of ``experiment_units``): per variant n, conversions, rate
    and revenue per unit; each challenger against the control (z-test, Newcombe interval, Welch
    interval on revenue, chance of being better; Holm-corrected with more than one challenger);
    the sample ratio check against ``expected_split`` (or the nearest common design, said to be
    assumed); early-stopping warnings; and the decision in words.

    Unsupported, with the reason, when a variant has fewer than 30 units or nothing converted.
    """
    control = units.attrs.get("control") or pick_control(units["variant"].unique())[0]
    table = variant_table(units, control=control, alpha=alpha)
    if why := _too_thin(units, table):
        return _unsupported(units, why)
    comparisons = compare_variants(units, table, alpha=alpha, seed=seed, draws=draws)
    best = _pick_best(comparisons)
    srm = sample_ratio(table.set_index("variant")["n"], expected_split=expected_split)
    power, warn = stopping_checks(units, table, best, alpha=alpha)
    verdict, decision = _decision(units, table, best, srm, power, alpha=alpha)
    notes = _extra_sentences(units, table, comparisons, best, alpha=alpha)
    if len(table) > 2:
        notes.append(f"{len(table) - 1} variants were each compared with {control}: p-values "
                     "are Holm-corrected and intervals widened (Bonferroni) for that.")
    if srm["assumed"] and not srm["mismatch"]:
        notes.append(f"The split was checked against an assumed {srm['design']} design; pass "
                     "expected_split if yours was different.")
    a = units.attrs
    if not a.get("control_reason", "").endswith("named like a control"):
        notes.append(f"Control: {a.get('control_reason', control)}.")
    if a.get("mixed_units"):
        warn.append(f"{a['mixed_units']:,} units saw more than one variant and were left out.")
    if a.get("unknown_outcome"):
        warn.append(f"{a['unknown_outcome']:,} units have no converted value and were left "
                    "out (a blank is not a no).")
    t, c = table.set_index("variant").loc[best.variant], table.iloc[0]
    headline = {"n_control": int(c.n), "n_challenger": int(t.n), "rate_control": float(c.rate),
                "rate_challenger": float(t.rate), "lift_points": 100 * float(best["diff"]),
                "lift_low_points": 100 * float(best.diff_low),
                "lift_high_points": 100 * float(best.diff_high),
                "p_value": float(best.p_adjusted), "prob_beats": float(best.prob_beats),
                "srm_p": srm["p"], "verdict": verdict}
    if "revenue_diff" in best and pd.notna(best.revenue_diff):
        headline["revenue_per_unit_diff"] = float(best.revenue_diff)
    return ExperimentResult(
        str(a.get("id", "")), True, source=a.get("source", ""), metric=a.get("metric", ""),
        control=control, challenger=str(best.variant),
        hypothesis=_hypothesis(units, control, best.variant), variants=table,
        comparisons=comparisons, srm=srm, power=power, verdict=verdict, decision=decision,
        first_exposure=units.exposed_at.min(), last_exposure=units.exposed_at.max(),
        reading=" ".join([decision, *notes]), warnings=tuple(warn), headline=headline)


def experiment_data(result: ExperimentResult) -> pd.DataFrame:
    """What ``plot_experiment`` draws: per variant its rate and the interval around it."""
    return result.variants[["variant", "role", "n", "rate", "rate_low", "rate_high"]].copy()


def plot_experiment(result: ExperimentResult, *, ax=None):
    """Each variant's rate as a bar with its interval; the control grey, the others blue."""
    ax = plots.axes(ax, figsize=(7, 4))
    data = experiment_data(result)
    if not result.supported:
        ax.set_axis_off()
        ax.set_title("No experiment to show")
        return ax
    err = [data.rate - data.rate_low, data.rate_high - data.rate]
    colors = [plots.MUTED if r == "control" else plots.ACCENT for r in data.role]
    ax.bar(data.variant.astype(str), data.rate, yerr=err, capsize=6, color=colors)
    what = "open" if result.metric == "open" else "conversion"
    h = result.headline
    ax.set(title=f"{result.id}: {result.challenger} {h['rate_challenger']:.1%} against "
                 f"{result.control} {h['rate_control']:.1%} ({points(h['lift_points'] / 100)} "
                 "points)",
           xlabel="Variant and its number of units",
           ylabel=f"{what.capitalize()} rate (%), with interval")
    ax.set_xticks(range(len(data)),
                  [f"{v}\n(n = {n:,})" for v, n in zip(data.variant, data.n, strict=True)])
    ax.grid(False, axis="x")
    return plots.percent_axis(ax)


# ---- every experiment, for the notebook --------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ExperimentsResult(Section):
    """Every experiment read: ``experiments`` and ``uplift`` by id, ``summary`` (one row per
    experiment), ``learnings`` (one dict per experiment: date, source, id, hypothesis, result,
    decision) and the reading, warnings and headline for the report."""

    experiments: dict = field(default_factory=dict)
    uplift: dict = field(default_factory=dict)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    learnings: list = field(default_factory=list)


SUMMARY = ("n_control", "n_challenger", "rate_control", "rate_challenger", "lift_points",
           "lift_low_points", "lift_high_points", "p_value", "prob_beats",
           "revenue_per_unit_diff")


def _summary_row(r: ExperimentResult) -> dict:
    return {"experiment": r.id, "source": r.source, "metric": r.metric, "control": r.control,
            "challenger": r.challenger, **{k: r.headline.get(k, np.nan) for k in SUMMARY},
            "split_ok": not r.srm["mismatch"], "verdict": r.verdict}


def learning(r: ExperimentResult) -> dict:
    """One entry of the learnings log: the date of the last exposure, where the test came from,
    the hypothesis, the result in numbers and the decision."""
    date = f"{r.last_exposure:%Y-%m-%d}" if pd.notna(r.last_exposure) else ""
    if not r.supported:
        return {"date": date, "source": r.source, "id": r.id, "hypothesis": "",
                "result": r.reason, "decision": "Not read: " + r.reason}
    h = r.headline
    lift, low, high = (points(h[k] / 100) for k in ("lift_points", "lift_low_points",
                                                     "lift_high_points"))
    result = (f"{r.challenger} {h['rate_challenger']:.1%} against {r.control} "
              f"{h['rate_control']:.1%}: {lift} points (interval {low} to {high}), p = "
              f"{h['p_value']:.3f}, {_chance(h['prob_beats'])} chance {r.challenger} is better")
    return {"date": date, "source": r.source, "id": r.id, "hypothesis": r.hypothesis,
            "result": result + ("; split off design" if r.srm["mismatch"] else ""),
            "decision": r.decision}


def experiments_section(plan, *, alpha: float = 0.05, seed: int = 42) -> ExperimentsResult:
    """Every experiment of the plan read (``read_experiment``), its uplift by segment
    (``helpers.uplift.uplift_by_segment``), a summary table and the learnings log. Unsupported
    when the data holds no experiment: the reason names the experiments table and the e-mail
    variant column that would enable it."""
    from helpers.uplift import uplift_by_segment

    units = experiment_units(plan)
    if not units:
        why = plan.why_missing("experiments") or "your experiments table holds no two variants."
        why += (" Your e-mail events carry no variant." if plan.has("email_events") else "")
        reason = NO_EXPERIMENTS.format(why=cap(why))
        return ExperimentsResult(False, reason, reading=reason,
                                 headline={"supported": False, "experiments": 0})
    read = {k: read_experiment(u, alpha=alpha, seed=seed) for k, u in units.items()}
    lifts = {k: uplift_by_segment(plan, u, seed=seed) for k, u in units.items()
             if read[k].supported}
    ok = [r for r in read.values() if r.supported]
    summary = pd.DataFrame([_summary_row(r) for r in ok])
    verdicts = [r.verdict for r in ok]
    headline = {"supported": True, "experiments": len(read), "read": len(ok),
                "roll_out": verdicts.count("roll_out"),
                "keep_testing": verdicts.count("keep_testing"),
                "keep_control": verdicts.count("keep_control"),
                "split_problems": verdicts.count("check_split")}
    reading = [f"Your data holds {_count(len(read), 'experiment')}"
               f" ({_count(headline['roll_out'], 'clear winner')}, "
               f"{_count(headline['keep_testing'], 'to keep testing')})."]
    reading += [f"{r.id}: {r.decision or r.reading}" for r in read.values()]
    reading += [f"{k}: {u.reading}" for k, u in lifts.items()]
    warnings = [f"{r.id}: {w}" for r in read.values() for w in r.warnings]
    warnings += [f"{k} uplift: {w}" for k, u in lifts.items() for w in u.warnings]
    return ExperimentsResult(True, experiments=read, uplift=lifts, summary=summary,
                             learnings=[learning(r) for r in read.values()],
                             reading=" ".join(reading), warnings=tuple(warnings),
                             headline=headline)


def _count(n: int, what: str) -> str:
    if what.startswith("to "):
        return f"{n} {what}"
    return f"{n} {what}{'' if n == 1 else 's'}"


def experiments_table(result: ExperimentsResult, *, currency: str = "USD") -> pd.DataFrame:
    """The summary for the screen: rates as percentages, lifts in points, money as money."""
    s = result.summary.copy()
    for col in ("lift_points", "lift_low_points", "lift_high_points"):
        if col in s:
            s[col] = s[col].map(lambda v: points(v / 100))
    if "p_value" in s:
        s["p_value"] = s["p_value"].map(lambda v: f"{v:.3f}")
    return plots.table(s, currency=currency, percent=("rate_control", "rate_challenger",
                                                      "prob_beats"),
                       money=("revenue_per_unit_diff",), index="experiment")


def experiments_artifact(result: ExperimentsResult) -> dict:
    """experiments.json: per experiment its numbers, split check, decision and, for a test with
    revenue, the incremental revenue over the challenger's units (with its interval); the
    learnings log; the headline. JSON-safe (no NaN, no numpy types)."""
    from helpers.evaluation import json_safe

    out = {"supported": result.supported, "reason": result.reason,
           "headline": result.headline, "learnings": result.learnings, "experiments": {}}
    for key, r in result.experiments.items():
        entry = {"supported": r.supported, "reason": r.reason, "source": r.source,
                 "metric": r.metric, "control": r.control, "challenger": r.challenger,
                 "hypothesis": r.hypothesis, "verdict": r.verdict, "decision": r.decision,
                 "headline": r.headline, "srm": r.srm,
                 "power": {k: None if isinstance(v, float) and not np.isfinite(v) else v
                           for k, v in r.power.items()},  # no sample detects a zero lift
                 "variants": r.variants.to_dict("records")}
        if "revenue_per_unit_diff" in r.headline:
            best = r.comparisons[(r.comparisons.metric == "main")
                                 & (r.comparisons.variant == r.challenger)].iloc[0]
            n = r.headline["n_challenger"]
            entry["incremental_revenue"] = {
                "units": n, "per_unit": best.revenue_diff, "per_unit_low": best.revenue_low,
                "per_unit_high": best.revenue_high, "total": best.revenue_diff * n,
                "total_low": best.revenue_low * n, "total_high": best.revenue_high * n}
        if key in result.uplift:
            entry["uplift"] = result.uplift[key].headline
        out["experiments"][key] = entry
    return json_safe(out)
