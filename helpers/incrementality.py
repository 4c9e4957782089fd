"""Step 11: what a holdout or an experiment says a campaign caused, beyond what attribution credits.

Attribution only re-divides the sales that were tracked. A test with a control group that got
nothing says what would have happened anyway: the treated group's conversions and revenue beyond
the control's, times the units treated, is what the campaign added, and divided by its cost it
is the incremental return on ad spend (iROAS).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.experiments import pick_control
from helpers.explore import cap, known, label
from helpers.kpis import DAY
from helpers.sections import Section

EXPERIMENT_ID, UNIT_ID, VARIANT, EXPOSED_AT, EXP_CONVERTED, EXP_REVENUE = known(
    "experiments", "experiment_id", "unit_id", "variant", "exposed_at", "converted", "revenue")

NO_TEST = ("Incrementality needs a test with a control group: an experiments table (experiment_id, "
           "unit_id, variant, exposed_at, converted, revenue) where a random 10-20 % of the "
           "customers a campaign would reach are held back and get nothing; what they buy in the "
           "same weeks is what would have happened anyway.")


@dataclass(frozen=True, eq=False)
class IncrementalityResult(Section):
    """One row per experiment (each treated variant against its control) in ``table``: units,
    rates, incremental conversions and revenue with their bootstrap ranges, cost, iROAS and the
    platform's own figure when one is known."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)


def difference_range(treated, control, *, seed: int = 42, draws: int = 2000,
                     level: float = 0.9) -> tuple[float, float]:
    """Percentile bootstrap range of mean(treated) - mean(control), each group resampled on its
    own (scipy.stats.bootstrap); NaN when a group has fewer than two units."""
    import warnings

    from scipy.stats import bootstrap

    t, c = np.asarray(treated, float), np.asarray(control, float)
    if len(t) < 2 or len(c) < 2:
        return np.nan, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-equal groups: the range is the point itself
        ci = bootstrap((t, c), lambda a, b, axis: a.mean(axis) - b.mean(axis), vectorized=True,
                       n_resamples=draws, confidence_level=level, method="percentile",
                       rng=np.random.default_rng(seed)).confidence_interval
    diff = t.mean() - c.mean()
    return (diff, diff) if np.isnan(ci.low) else (float(ci.low), float(ci.high))


COST_SOURCES = (("marketing_spend", "spend", "spend in marketing_spend"),
                ("campaigns", "budget", "budget in campaigns"))
PLATFORM_SOURCES = (("marketing_spend", "platform_revenue", ""), ("campaigns", "revenue", ""))


def _campaign_total(plan, exp_id: str, sources) -> tuple[float, str]:
    """The first positive total of ``sources`` ((table, column, label)) over the rows of the
    campaign whose campaign_id is the experiment's id, and its label."""
    for table, col, where in sources:
        if plan.has(table) and col in (f := plan.prepared(table)):
            total = f.loc[f["campaign_id"].astype(str) == exp_id, col].sum()
            if total > 0:
                return float(total), where
    return np.nan, ""


def _experiment_rows(plan, exp_id: str, units: pd.DataFrame, cost, seed, draws) -> list[dict]:
    revenue = units[EXP_REVENUE].fillna(0.0) if EXP_REVENUE in units else None
    won = (units[EXP_CONVERTED].fillna(False).astype(bool) if EXP_CONVERTED in units
           else revenue > 0)
    control, _ = pick_control(units[VARIANT].dropna().unique())
    is_c = (units[VARIANT] == control).to_numpy()
    spent, source = ((float(cost[exp_id]), "as given") if cost and exp_id in cost
                     else _campaign_total(plan, exp_id, COST_SOURCES))
    rows = []
    for variant in sorted(set(units[VARIANT].dropna()) - {control}, key=str):
        is_t = (units[VARIANT] == variant).to_numpy()
        n_t = int(is_t.sum())
        row = {"experiment_id": exp_id, "variant": variant, "control": control,
               "treated_units": n_t, "control_units": int(is_c.sum()),
               "treated_rate": won[is_t].mean(), "control_rate": won[is_c].mean(),
               "last_exposed": units[EXPOSED_AT].max() if EXPOSED_AT in units else pd.NaT}
        row["incremental_conversions"] = (row["treated_rate"] - row["control_rate"]) * n_t
        low, high = difference_range(won[is_t], won[is_c], seed=seed, draws=draws)
        row |= {"conversions_low": low * n_t, "conversions_high": high * n_t}
        if revenue is not None:
            per = revenue[is_t].mean() - revenue[is_c].mean()
            low, high = difference_range(revenue[is_t], revenue[is_c], seed=seed, draws=draws)
            row |= {"incremental_revenue_per_unit": per, "incremental_revenue": per * n_t,
                    "revenue_low": low * n_t, "revenue_high": high * n_t}
        row |= {"cost": spent, "cost_source": source,
                "platform_revenue": _campaign_total(plan, exp_id, PLATFORM_SOURCES)[0]}
        for key, src in (("iroas", "incremental_revenue"), ("iroas_low", "revenue_low"),
                         ("iroas_high", "revenue_high")):
            row[key] = row.get(src, np.nan) / spent if spent and spent > 0 else np.nan
        rows.append(row)
    return rows


def incrementality(plan, *, experiments: list[str] | None = None, cost: dict | None = None,
                   seed: int = 42, draws: int = 2000) -> IncrementalityResult:
    """Incremental conversions and revenue of each experiment (treated minus control, times the
    treated units) with seeded 90 % bootstrap ranges, and iROAS where its cost is known
    (``cost`` {experiment_id: amount}, else its campaign's spend or budget)."""
    if not plan.has("experiments"):
        reason = f"{NO_TEST} {cap(plan.why_missing('experiments'))}"
        return IncrementalityResult(False, reason, reason)
    e = plan.prepared("experiments")
    if EXPOSED_AT in e:
        e = e[~(e[EXPOSED_AT] >= plan.as_of.normalize() + DAY)]  # none after the analysis date
    if experiments is not None:
        e = e[e[EXPERIMENT_ID].isin(experiments)]
    rows, warnings = [], []
    for exp_id, units in e.groupby(EXPERIMENT_ID, sort=True):
        if units[VARIANT].nunique() < 2:
            warnings.append(f"{exp_id} has one variant only, so there is nothing to compare.")
            continue
        rows.extend(_experiment_rows(plan, str(exp_id), units, cost, seed, draws))
    if not rows:
        reason = f"{NO_TEST} None of your experiments has a control group next to a treated one."
        return IncrementalityResult(False, reason, reason, tuple(warnings))
    table = pd.DataFrame(rows)
    for r in table.itertuples():
        if min(r.treated_units, r.control_units) < 100:
            warnings.append(f"{r.experiment_id}: under 100 units in a group, so the range is wide.")
    first = table.iloc[0]
    headline = {"experiments": int(table["experiment_id"].nunique()),
                **{k: float(first[k]) for k in ("incremental_conversions", "incremental_revenue",
                                                "revenue_low", "revenue_high", "iroas")
                   if k in first and pd.notna(first[k])}}
    reading = " ".join(_incrementality_sentence(plan, r) for _, r in table.iterrows())
    return IncrementalityResult(True, "", reading, tuple(warnings), headline, table)


def _incrementality_sentence(plan, r: pd.Series) -> str:
    m = plan.money
    text = [f"{label(r.experiment_id).capitalize()}: {r.treated_units:,} got '{r.variant}' and "
            f"{r.control_units:,} were held back ('{r.control}'). {r.treated_rate:.1%} of the "
            f"treated converted against {r.control_rate:.1%} of the control: about "
            f"{r.incremental_conversions:,.0f} conversions the campaign caused (90 % range "
            f"{r.conversions_low:,.0f} to {r.conversions_high:,.0f})"]
    if pd.notna(r.get("incremental_revenue", np.nan)):
        text[-1] += (f" and {m(r.incremental_revenue)} of extra revenue (90 % range "
                     f"{m(r.revenue_low)} to {m(r.revenue_high)}), "
                     f"{m(r.incremental_revenue_per_unit, decimals=2)} per treated unit.")
        if r.revenue_low <= 0:
            text.append("That range reaches zero: the test cannot rule out that it changed nothing.")
    else:
        text[-1] += "; the table has no revenue column, so the extra revenue is not known."
    if pd.notna(r.cost) and pd.notna(r.get("iroas", np.nan)):
        text.append(f"It cost {m(r.cost)} ({r.cost_source}): {m(r.iroas, decimals=2)} of extra "
                    f"revenue per {m(1)} (90 % range {m(r.iroas_low, decimals=2)} to "
                    f"{m(r.iroas_high, decimals=2)}).")
    else:
        text.append(f"Its cost is not known: pass cost={{'{r.experiment_id}': amount}}, or add a "
                    f"campaign with campaign_id {r.experiment_id} and a budget, to get the return "
                    "per dollar.")
    if pd.notna(r.platform_revenue) and r.get("incremental_revenue", 0) > 0:
        text.append(f"The platform reported {m(r.platform_revenue)} for this campaign, "
                    f"{r.platform_revenue / r.incremental_revenue:.1f} times what the test shows "
                    "it caused.")
    return " ".join(text)
