"""Step 11: the return on the AI work itself, with a range and the month it pays back.

The costs are the tools' subscriptions (``ai_costs:`` in business.yaml, else the middle of each
shortlisted use case's list price) and the hours to set up and run them at the hourly rate. The
gains are the monthly profit each initiative is expected to add, with a low / high range, from
the steps that measured (experiments) or predicted (the budget move) it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import plots
from helpers.activation import saved_section
from helpers.errors import MissingDataError
from helpers.explore import label
from helpers.incrementality import incrementality
from helpers.sections import Section
from helpers.strategy import gross_margin


@dataclass(frozen=True, eq=False)
class AIROIResult(Section):
    """Costs and gains of the AI work over ``months`` months.

    ``costs``: item, monthly, once, source. ``gains``: initiative, low, mid, high (monthly gross
    profit), source, tested. ``monthly``: month, cost (cumulative), gain_low / gain_mid / gain_high
    (cumulative 5th, 50th, 95th percentile), what ``plot_ai_roi`` draws. ``roi`` is (gain - cost) /
    cost over the months at the median, ``roi_low``/``roi_high`` its 90 % range.
    """

    costs: pd.DataFrame = field(default_factory=pd.DataFrame)
    gains: pd.DataFrame = field(default_factory=pd.DataFrame)
    monthly: pd.DataFrame = field(default_factory=pd.DataFrame)
    roi: float = np.nan
    roi_low: float = np.nan
    roi_high: float = np.nan
    p_positive: float = np.nan
    payback_month: int | None = None
    currency: str = "USD"


def _covers(key: str, uc: dict) -> bool:
    """Whether a tool named in ai_costs.tools_monthly does the work of a use case."""
    k = key.strip().lower().replace(" ", "_")
    names = [uc["id"], *uc.get("offered_by", []), *uc.get("tools", {}).get("examples", [])]
    return any(k == n.lower().replace(" ", "_") or k in n.lower() for n in names)


def ai_costs(plan) -> pd.DataFrame:
    """What the AI work costs: the tools of ai_costs.tools_monthly, each shortlisted use case no
    such tool covers at the middle of its list-price range (USD), and the time at hourly_rate."""
    from helpers import tool_selection as ts

    c, rows = plan.settings.ai_costs, []
    rows += [{"item": k, "monthly": float(v), "once": 0.0, "source": "ai_costs.tools_monthly"}
             for k, v in c.tools_monthly.items()]
    for uc in map(ts.use_case, ts.selected(plan)):
        mid = float(np.mean(uc.get("monthly_cost") or [0, 0]))
        if mid > 0 and not any(_covers(k, uc) for k in c.tools_monthly):
            rows.append({"item": uc["name"], "monthly": mid, "once": 0.0,
                         "source": "middle of the catalogue's list price (USD)"})
    if c.setup_hours * c.hourly_rate:
        rows.append({"item": "setting up", "monthly": 0.0, "once": c.setup_hours * c.hourly_rate,
                     "source": f"{c.setup_hours:g} hours x {plan.money(c.hourly_rate)}"})
    if c.hours_per_month * c.hourly_rate:
        rows.append({"item": "running it", "monthly": c.hours_per_month * c.hourly_rate,
                     "once": 0.0, "source": f"{c.hours_per_month:g} hours a month x "
                                            f"{plan.money(c.hourly_rate)}"})
    return pd.DataFrame(rows, columns=["item", "monthly", "once", "source"])


def _tested_revenue(plan) -> list[dict]:
    """Each experiment's incremental revenue with its range: step 09's experiments.json when it
    holds them (its 95 % range), else this step's ``incrementality`` (90 % range)."""
    try:
        found = plan.load("experiments.json").get("experiments", {})
        rows = [{"experiment_id": k, "incremental_revenue": e["incremental_revenue"]["total"],
                 "revenue_low": e["incremental_revenue"]["total_low"],
                 "revenue_high": e["incremental_revenue"]["total_high"]}
                for k, e in found.items() if isinstance(e.get("incremental_revenue"), dict)]
    except (MissingDataError, AttributeError, KeyError, TypeError):
        rows = []
    if not rows:
        inc = incrementality(plan)
        rows = inc.table.to_dict("records") if inc.supported else []
    return [r for r in rows if pd.notna(r.get("incremental_revenue"))]


def _experiment_gains(plan, margin: float, repeats_per_year: float) -> list[dict]:
    """Tested gains: each experiment's incremental revenue as gross profit a month, when the
    campaign is run again ``repeats_per_year`` times a year."""
    scale = margin * repeats_per_year / 12
    return [{"initiative": f"{label(e['experiment_id'])} (repeated)",
             **{k: e[src] * scale for k, src in (("low", "revenue_low"),
                ("mid", "incremental_revenue"), ("high", "revenue_high"))},
             "source": f"holdout test, run {repeats_per_year:g} times a year", "tested": True}
            for e in _tested_revenue(plan)]


def default_gains(plan, *, margin: float, repeats_per_year: float = 4) -> pd.DataFrame:
    """Monthly gross-profit gains the run folder holds: step 07's budget move (a prediction of
    its response curves) and the experiments' measured incremental revenue."""
    rows = []
    try:
        b = saved_section(plan, "budget")
        h = b["headline"]
        if b.get("ran") and pd.notna(h.get("expected_gain")):
            rows.append({"initiative": f"budget move to {label(h.get('moved_to', '?'))}",
                         **{k: h[src] * margin for k, src in (("low", "gain_low"),
                            ("mid", "expected_gain"), ("high", "gain_high"))},
                         "source": "step 07 response curves", "tested": False})
    except (MissingDataError, KeyError, TypeError):
        pass
    rows += _experiment_gains(plan, margin, repeats_per_year)
    return pd.DataFrame(rows, columns=["initiative", "low", "mid", "high", "source", "tested"])


def simulate(gains: pd.DataFrame, costs: pd.DataFrame, *, months: int = 12, seed: int = 42,
             draws: int = 2000) -> tuple[pd.DataFrame, np.ndarray]:
    """Cumulative cost and cumulative gain (5th, 50th, 95th percentile) by month, and the total
    gain of each draw. Each initiative's monthly gain is drawn once per draw from a triangular
    distribution (low, mid, high), then held for every month: the uncertainty is about how big
    the effect is, not noise from month to month. Costs are known: setup in month 1, then the
    monthly amounts."""
    rng = np.random.default_rng(seed)
    g = np.zeros(draws)
    for r in gains.itertuples():
        low, mid, high = sorted((r.low, r.mid, r.high))
        g += rng.triangular(low, mid, high, draws) if high > low else np.full(draws, mid)
    m = np.arange(1, months + 1)
    cost = costs["once"].sum() + m * costs["monthly"].sum()
    cum = np.outer(g, m)
    q = np.percentile(cum, [5, 50, 95], axis=0)
    table = pd.DataFrame({"month": m, "cost": cost, "gain_low": q[0], "gain_mid": q[1],
                          "gain_high": q[2]})
    return table, cum[:, -1]


def ai_roi(plan, *, gains: dict | None = None, months: int = 12, seed: int = 42,
           draws: int = 2000, repeats_per_year: float = 4) -> AIROIResult:
    """Return on the AI work over ``months`` months: costs from ``ai_costs``, monthly gains from
    ``gains`` ({name: (low, mid, high)} in gross profit a month) or ``default_gains``."""
    margin, _ = gross_margin(plan)
    costs = ai_costs(plan)
    g = (pd.DataFrame([{"initiative": k, "low": v[0], "mid": v[1], "high": v[2],
                        "source": "as given", "tested": True} for k, v in gains.items()])
         if gains else default_gains(plan, margin=margin, repeats_per_year=repeats_per_year))
    total = costs["once"].sum() + months * costs["monthly"].sum()
    base = {"costs": costs, "gains": g, "currency": plan.currency}
    if g.empty or total <= 0:
        reason = ("The AI work has no cost on record: add its tools and hours under `ai_costs:` in "
                  "business.yaml." if total <= 0 else
                  "No gain has been measured or predicted yet: step 07's budget move (response "
                  "curves) or a holdout test in the experiments table would give one.")
        return AIROIResult(False, reason, reason, headline={"cost": float(total)}, **base)
    monthly, final = simulate(g, costs, months=months, seed=seed, draws=draws)
    roi = (final - total) / total
    ahead = monthly["gain_mid"] >= monthly["cost"]
    out = dict(roi=float(np.median(roi)), roi_low=float(np.percentile(roi, 5)),
               roi_high=float(np.percentile(roi, 95)), p_positive=float((roi > 0).mean()),
               payback_month=int(monthly.loc[ahead, "month"].iloc[0]) if ahead.any() else None)
    warnings = [f"{r.initiative}: a prediction ({r.source}), not yet tested; run it as a test "
                "before counting on it." for r in g.itertuples() if not r.tested]
    if not gains and g["source"].str.startswith("holdout").any():
        warnings.append(f"A test's gain counts as if the campaign ran {repeats_per_year:g} times a "
                        "year to as many people; set repeats_per_year to how often you run it.")
    if (costs["source"].str.startswith("middle")).any():
        warnings.append(f"Tool costs are list-price guesses in US dollars"
                        f"{'' if plan.currency == 'USD' else f', counted 1:1 as {plan.currency}'}"
                        ": put what you pay under `ai_costs: tools_monthly:` in business.yaml.")
    reading = _roi_reading(plan, g, costs, monthly, out | {"draws": draws}, months, margin)
    headline = {"cost": float(total), "gain": float(monthly["gain_mid"].iloc[-1]), **{
        k: v for k, v in out.items() if v is not None}}
    return AIROIResult(True, "", reading, tuple(warnings), headline, monthly=monthly, **out,
                       **base)


def _roi_reading(plan, g, costs, monthly, out, months, margin) -> str:
    m, last = plan.money, monthly.iloc[-1]
    pays = (f"pays for itself in month {out['payback_month']}" if out["payback_month"]
            else f"does not pay for itself within {months} months")
    text = [f"The AI work returns {out['roi']:.0%} on its {m(last['cost'])} cost over {months} "
            f"months (90 % range {out['roi_low']:.0%} to {out['roi_high']:.0%}) and {pays}.",
            f"Over {months} months the AI work costs {m(last['cost'])} ("
            f"{m(costs['monthly'].sum())} a month" + (f" and {m(costs['once'].sum())} to set up"
                                                     if costs["once"].sum() else "") + ").",
            f"The gains, as gross profit at your {margin:.0%} margin: " + "; ".join(
                f"{r.initiative} {m(r.mid)} a month ({m(r.low)} to {m(r.high)})"
                for r in g.itertuples()) + ".",
            f"Drawing each gain {out['draws']:,} times from a triangle between its low, likely "
            f"and high values, together they bring {m(last['gain_mid'])} (90 % range "
            f"{m(last['gain_low'])} to {m(last['gain_high'])}): a return of {out['roi']:.0%} on "
            f"the cost (90 % range {out['roi_low']:.0%} to {out['roi_high']:.0%}), with a "
            f"{out['p_positive']:.0%} chance of earning more than it costs."]
    text.append(f"It pays for itself in month {out['payback_month']}." if out["payback_month"]
                else f"It does not pay for itself within {months} months.")
    return " ".join(text)


def plot_ai_roi(result: AIROIResult, *, ax=None):
    """Cumulative cost against cumulative gain (median, with its 90 % band), payback marked."""
    ax = plots.axes(ax)
    d = result.monthly
    if d.empty:
        return ax
    ax.fill_between(d["month"], d["gain_low"], d["gain_high"], color=plots.ACCENT, alpha=0.15,
                    label="gain, 90 % range")
    ax.plot(d["month"], d["gain_mid"], color=plots.ACCENT, label="gain (median)")
    ax.plot(d["month"], d["cost"], color=plots.PALETTE[3], label="cost")
    if result.payback_month:
        ax.axvline(result.payback_month, color=plots.MUTED, ls="--", label="pays back")
    title = (f"The AI work pays for itself in month {result.payback_month}" if
             result.payback_month else f"The AI work does not pay back within {len(d)} months")
    ax.set(title=title, xlabel="Months from now",
           ylabel=f"Cumulative amount ({result.currency})")
    plots.money_axis(ax, result.currency)
    ax.legend(frameon=False)
    return ax

