"""Step 08: are you on plan? Objectives, channels and campaigns against their targets and budgets.

Pacing compares each objective's KPI with the path step 01 drew from its baseline to its target,
and each channel's spend, cost per conversion (CPA) and return on ad spend (ROAS) with its budget,
its own previous 90 days and break-even. The rest of step 08: unusual days
(``helpers.anomalies``), model drift (``helpers.drift``) and the alerts that turn all three into
actions (``helpers.alerts``). Every function takes ``as_of`` ("today", default the plan's date)
and ignores data after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import anomalies as an
from helpers import kpis as kp
from helpers import plots
from helpers.errors import MissingDataError
from helpers.explore import known
from helpers.plan import format_value
from helpers.sections import Section
from helpers.strategy import gross_margin

DATE, CHANNEL, CAMPAIGN_ID, SPEND, CONVERSIONS, PLATFORM_REVENUE = known(
    "marketing_spend", "date", "channel", "campaign_id", "spend", "conversions", "platform_revenue")
NAME, START, END, BUDGET = known("campaigns", "name", "start_date", "end_date", "budget")
PACING_COLUMNS = ["objective", "kpi", "name", "unit", "baseline", "target", "deadline", "current",
                  "expected_now", "progress", "status"]
DAY, PREVIOUS_DAYS = pd.Timedelta(days=1), 90
OFF_BUDGET = 0.15  # spend more than 15 % over (or under) budget is called out
UNITS = {"spend_window": "money", "budget_window": "money"}  # for the headline
CPA_FACTOR = 1.2  # a channel's CPA target: its own previous-90-day CPA x 1.2
FALLBACK_NOISE = 0.05  # when step 01 could not measure a KPI's noise: +-5 % over the horizon


# ---- objectives --------------------------------------------------------------------------------
def _step01(plan) -> tuple[list[dict], pd.Timestamp]:
    """Step 01's objectives (objectives.json, else computed now the same way) and its date."""
    try:
        record = plan.load("objectives.json")
        return record.get("objectives", []), pd.Timestamp(record["as_of"])
    except MissingDataError:
        from helpers import objectives as ob

        wanted = [o.kpi or kp.default_kpi(plan, o.type) for o in plan.settings.objectives]
        base = kp.baselines(plan, [k for k in dict.fromkeys(wanted)
                                   if k in kp.kpi_catalogue()["kpis"]])
        record = ob.objectives_record(plan, base, ob.smart_targets(plan, base))
        return record["objectives"], plan.as_of


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


STALE_DAYS = 7  # data ending more than a week before "today" cannot show today's 12-month value


def pace_row(obj: dict, start: pd.Timestamp, as_of: pd.Timestamp, current: float) -> dict:
    """One objective of objectives.json paced: its row (PACING_COLUMNS) plus ``months`` gone
    since ``start``, ``gap`` (current against expected_now, signed so that above is good) and
    ``tolerance`` (its ordinary variation at this point)."""
    base, target, growth = (_num(obj.get(k)) for k in ("baseline", "target", "monthly_growth"))
    deadline = pd.Timestamp(obj["deadline"]) if obj.get("deadline") else pd.NaT
    months = (as_of - start).days / kp.DAYS_PER_MONTH
    horizon = (deadline - start).days / kp.DAYS_PER_MONTH if pd.notna(deadline) else np.nan
    expected = base * (1 + growth) ** min(max(months, 0), horizon)
    row = {**{k: obj.get(k) for k in PACING_COLUMNS[:4]}, "baseline": base, "target": target,
           "deadline": deadline, "current": current, "expected_now": expected,
           "progress": (current - base) / (target - base) if target != base else np.nan,
           "months": months, "gap": np.nan, "tolerance": np.nan}
    if obj.get("status") != "ok" or months < 0 or not np.isfinite([current, expected]).all():
        return {**row, "status": "no data"}
    if months == 0:
        return {**row, "status": "on track"}  # the plan starts now: on its path by definition
    noise = _num((obj.get("feasibility") or {}).get("noise"))
    row["tolerance"] = (noise if noise > 0 else FALLBACK_NOISE) * math.sqrt(
        min(months, horizon) / horizon)  # past changes over the horizon, scaled to the time gone
    sign = -1 if kp.kpi_spec(obj["kpi"]).get("direction") == "down" else 1
    row["gap"] = sign * (current / expected - 1) if expected else np.nan
    status = ("ahead" if row["gap"] > row["tolerance"] else "behind"
              if row["gap"] < -row["tolerance"] else "on track")
    return {**row, "status": status}


def _pacing_rows(plan, as_of) -> tuple[list[dict], pd.Timestamp]:
    objectives, start = _step01(plan)
    wanted = [o["kpi"] for o in objectives if o.get("kpi") in kp.kpi_catalogue()["kpis"]]
    now = kp.baselines(an.plan_at(plan, as_of), list(dict.fromkeys(wanted))) if wanted else None
    current = {} if now is None else dict(zip(now["kpi"], now["last_12m"], strict=True))
    for kpi in current:  # a 12-month value cut short by the end of the data is no measurement
        if _data_end(plan, kpi) < as_of - pd.Timedelta(days=STALE_DAYS):
            current[kpi] = np.nan
    rows = [pace_row(o, start, as_of, current.get(o.get("kpi"), np.nan)) for o in objectives]
    return rows, start


def _data_end(plan, kpi: str) -> pd.Timestamp:
    """The latest date in the table a KPI is measured from (NaT when unknown)."""
    from helpers.schemas import TABLES

    table = kp.kpi_spec(kpi).get("table")
    column = TABLES[table].date_column if table in TABLES else None
    if not (column and plan.has(table)):
        return pd.NaT
    return plan.prepared(table)[column].max()


def objective_pacing(plan, *, as_of=None) -> pd.DataFrame:
    """One row per objective of step 01: its KPI's 12-month value at ``as_of`` (``current``)
    against the path from the baseline (at step 01's date) to the target at the deadline
    (``expected_now``); ``progress`` = (current - baseline) / (target - baseline); ``status``
    "ahead", "on track" or "behind" beyond the KPI's own noise (objectives.json
    feasibility.noise, scaled by the square root of the share of the horizon gone), or "no data".
    """
    rows, _ = _pacing_rows(plan, an.resolve_as_of(plan, as_of))
    return pd.DataFrame(rows, columns=PACING_COLUMNS)


def _fmt(value, unit: str, currency: str) -> str:
    return "n/a" if pd.isna(value) else format_value(float(value), unit or "count", currency)


def _objectives_reading(plan, rows: list[dict], start, as_of) -> list[str]:
    if not rows:
        return ["No objectives to pace: add them under `objectives:` in business.yaml and run "
                "step 01."]
    if as_of < start:
        return [f"{as_of:%d %b %Y} is before step 01 set the targets ({start:%d %b %Y}): pacing "
                "starts on that day."]
    if as_of == start:
        return [f"The plan starts now: step 01 set the targets on {start:%d %b %Y}, so every KPI "
                "is at its baseline. Run this step again in a month to see the first pacing."]
    lines = []
    for r in rows:
        fmt = lambda v, unit=r["unit"]: _fmt(v, unit, plan.currency)  # noqa: E731
        head = f"Objective {r['objective']} ({str(r['name']).lower()})"
        if r["status"] == "no data":
            lines.append(f"{head}: no 12-month value to compare at {as_of:%d %b %Y}.")
            continue
        lines.append(f"{head}: {fmt(r['current'])} over the 12 months to {as_of:%d %b %Y}, "
                     f"against {fmt(r['expected_now'])} on the path to {fmt(r['target'])} by "
                     f"{r['deadline']:%b %Y} ({r['gap']:+.1%}; ordinary variation at this point "
                     f"±{r['tolerance']:.1%}): {r['status']}, " + (
                         f"{r['progress']:.0%} of the way." if r["progress"] < 1 else
                         "already past the target."))
    return lines


# ---- channels and campaigns ----------------------------------------------------------------------
def _budget(plan, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Each channel's budget over ``days``: a month's amount from strategy.json's budget plan
    (step 05) where it covers the month, else business.yaml's budget.by_channel; pro-rated by
    day."""
    by_channel, planned = plan.settings.budget.by_channel, {}
    try:
        planned = {(pd.Timestamp(r["month"]).to_period("M"), r["channel"]): r["amount"]
                   for r in plan.load("strategy.json").get("budget_plan", [])
                   if r.get("kind") == "media"}
    except MissingDataError:
        pass
    rows = []
    for ch in dict.fromkeys([*by_channel, *(c for _, c in planned)]):
        amounts, sources = [], set()
        for month, n in zip(days.to_period("M"), days.days_in_month, strict=True):
            if (month, ch) in planned:
                amounts.append(planned[(month, ch)] / n)
                sources.add("step 05 budget plan")
            elif ch in by_channel:
                amounts.append(by_channel[ch] / n)
                sources.add("business.yaml")
        rows.append({CHANNEL: ch, "budget": sum(amounts) if amounts else np.nan,
                     "budget_source": " + ".join(sorted(sources))})
    return pd.DataFrame(rows, columns=[CHANNEL, "budget", "budget_source"])


def _ratios(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    cols = [c for c in (SPEND, CONVERSIONS, PLATFORM_REVENUE) if c in frame]
    out = frame.groupby(by)[cols].sum(min_count=1).reindex(columns=[SPEND, CONVERSIONS,
                                                                    PLATFORM_REVENUE])
    return out.assign(cpa=out[SPEND] / out[CONVERSIONS].where(out[CONVERSIONS] > 0),
                      roas=out[PLATFORM_REVENUE] / out[SPEND].where(out[SPEND] > 0))


def _windows(plan, as_of, window_days: int, by: str) -> pd.DataFrame:
    """Spend, conversions, CPA and ROAS per ``by`` over the window and the 90 days before it."""
    spend, _ = an.daily_spend(plan, as_of=as_of, spread=True, by=dict.fromkeys([CHANNEL, by]))
    first = as_of - (window_days - 1) * DAY
    now = _ratios(spend[spend[DATE] >= first], by)
    before = _ratios(spend[(spend[DATE] < first) & (spend[DATE] >= first - PREVIOUS_DAYS * DAY)],
                     by)[["cpa", "roas"]].add_suffix("_prev_90d")
    return now.join(before, how="left").reset_index()


def channel_pacing(plan, *, as_of=None, window_days: int = 28) -> pd.DataFrame:
    """Per channel over the last ``window_days``: budget (and where it comes from), spend,
    spend_vs_budget, conversions, CPA and ROAS with their previous-90-day values, break-even ROAS
    (1 / gross margin) and a status in words."""
    as_of = an.resolve_as_of(plan, as_of)
    days = pd.date_range(end=as_of, periods=window_days)
    t = _budget(plan, days)
    if plan.has("marketing_spend"):
        t = t.merge(_windows(plan, as_of, window_days, CHANNEL), on=CHANNEL, how="outer")
    for col in (SPEND, CONVERSIONS, PLATFORM_REVENUE, "cpa", "roas", "cpa_prev_90d",
                "roas_prev_90d"):
        t[col] = t[col] if col in t else np.nan
    ever = (set(plan.prepared("marketing_spend").loc[lambda f: f[DATE] <= as_of, CHANNEL])
            if plan.has("marketing_spend") else set())
    t[SPEND] = t[SPEND].fillna(0.0).where(t[CHANNEL].isin(ever))  # blank: no spend data at all
    t["spend_vs_budget"] = t[SPEND] / t["budget"].where(t["budget"] > 0) - 1
    t["break_even_roas"] = 1 / gross_margin(plan)[0]
    t["status"] = [_status(r) for r in t.itertuples()]
    keep = [CHANNEL, "budget", "budget_source", SPEND, "spend_vs_budget", CONVERSIONS, "cpa",
            "cpa_prev_90d", "roas", "roas_prev_90d", "break_even_roas", "status"]
    return t[keep].sort_values(SPEND, ascending=False, ignore_index=True, na_position="last")


def _status(r) -> str:
    if pd.isna(r.spend):
        return "no spend data"
    words = (["over budget"] if r.spend_vs_budget > OFF_BUDGET else ["under budget"]
             if r.spend_vs_budget < -OFF_BUDGET else ["no budget set"] if pd.isna(r.budget) else [])
    words += ["CPA worse than its usual"] if r.cpa > CPA_FACTOR * r.cpa_prev_90d else []
    words += ["ROAS below break-even"] if r.roas < r.break_even_roas else []
    return ", ".join(words) or "on plan"


def campaign_pacing(plan, *, as_of=None, window_days: int = 28, top: int = 10) -> pd.DataFrame:
    """The ``top`` campaigns by spend over the last ``window_days``: their spend against the share
    of their budget for those days (campaigns with a budget, a start and an end date), CPA and
    ROAS against their previous 90 days."""
    as_of = an.resolve_as_of(plan, as_of)
    if not plan.has("marketing_spend"):
        return pd.DataFrame(columns=[CAMPAIGN_ID, CHANNEL, SPEND])
    t = _windows(plan, as_of, window_days, CAMPAIGN_ID).nlargest(top, SPEND)
    s = plan.prepared("marketing_spend")
    t[CHANNEL] = t[CAMPAIGN_ID].map(s.groupby(CAMPAIGN_ID)[CHANNEL].first())
    if plan.has("campaigns"):
        c = plan.prepared("campaigns").drop_duplicates(CAMPAIGN_ID).set_index(CAMPAIGN_ID)
        c = c.reindex(columns=[NAME, START, END, BUDGET]).reindex(t[CAMPAIGN_ID])
        first = as_of - (window_days - 1) * DAY
        overlap = ((c[END].clip(upper=as_of) - c[START].clip(lower=first)).dt.days + 1).clip(0)
        share = overlap / ((c[END] - c[START]).dt.days + 1)
        t[NAME], t["budget"] = c[NAME].to_numpy(), (c[BUDGET] * share).to_numpy()
        t["spend_vs_budget"] = t[SPEND] / t["budget"].where(t["budget"] > 0) - 1
    return t.reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class PacingResult(Section):
    """Objectives (PACING_COLUMNS), channels and campaigns against their plan over the window."""

    objectives: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PACING_COLUMNS))
    channels: pd.DataFrame = field(default_factory=pd.DataFrame)
    campaigns: pd.DataFrame = field(default_factory=pd.DataFrame)
    as_of: pd.Timestamp | None = None
    window_days: int = 28
    currency: str = "USD"


def pacing(plan, *, as_of=None, window_days: int = 28) -> PacingResult:
    """Objectives, channels and campaigns against their plan at ``as_of`` (see the module
    docstring); unsupported when there is neither an objective nor a budget nor any spend."""
    as_of = an.resolve_as_of(plan, as_of)
    rows, start = _pacing_rows(plan, as_of)
    objectives = pd.DataFrame(rows, columns=PACING_COLUMNS)
    channels = channel_pacing(plan, as_of=as_of, window_days=window_days)
    if objectives.empty and channels.empty:
        why = ("Nothing to pace: business.yaml has no objectives and no budget.by_channel, and "
               "there is no marketing_spend. Add objectives (step 01) or a budget by channel.")
        return PacingResult(False, why, reading=why, headline={"supported": False}, as_of=as_of)
    warnings = [f"Objective {r['objective']} ({r['name']}): no 12-month value at "
                f"{as_of:%d %b %Y}." for r in rows if r["status"] == "no data" and as_of >= start]
    if not plan.has("marketing_spend"):
        warnings.append(f"No spend to pace: {plan.why_missing('marketing_spend')}")
    counts = objectives["status"].value_counts()
    paced = channels[channels[SPEND].notna()]  # channels with spend data
    spent, budget = paced[SPEND].sum(), paced["budget"].sum(min_count=1)
    headline = {"objectives_ahead": int(counts.get("ahead", 0)),
                "objectives_on_track": int(counts.get("on track", 0)),
                "objectives_behind": int(counts.get("behind", 0)), "spend_window": float(spent),
                "budget_window": None if pd.isna(budget) else float(budget),
                "channels_off_budget": int(channels["spend_vs_budget"].abs().gt(OFF_BUDGET).sum())}
    reading = _objectives_reading(plan, rows, start, as_of) + _channels_reading(
        plan, channels, as_of, window_days)
    return PacingResult(True, "", objectives=objectives, channels=channels,
                        campaigns=campaign_pacing(plan, as_of=as_of, window_days=window_days),
                        reading="\n".join(reading), warnings=tuple(warnings), headline=headline,
                        as_of=as_of, window_days=window_days, currency=plan.currency)


def _channels_reading(plan, t: pd.DataFrame, as_of, window_days: int) -> list[str]:
    if t.empty:
        return []
    money, known_ = plan.money, t[t[SPEND].notna()]
    total, budget = known_[SPEND].sum(), known_["budget"].sum(min_count=1)
    head = f"Over the {window_days} days to {as_of:%d %b %Y} you spent {money(total)}"
    lines = [head + (f" against a budget of {money(budget)} ({total / budget - 1:+.0%})."
                     if budget > 0 else " (no budget by channel in business.yaml to compare "
                     "with).")]
    for r in known_.itertuples():
        if r.status == "on plan":
            continue
        parts = [f"{money(r.spend)} spent against {money(r.budget)} budgeted "
                 f"({r.spend_vs_budget:+.0%})" if pd.notna(r.spend_vs_budget) else
                 f"{money(r.spend)} spent, no budget set"]
        if "CPA" in r.status:
            parts.append(f"cost per conversion {money(r.cpa, decimals=2)}, "
                         f"{r.cpa / r.cpa_prev_90d - 1:+.0%} on its previous 90 days")
        if "break-even" in r.status:
            parts.append(f"ROAS {r.roas:.2f} as the platform reports it, below break-even "
                         f"{r.break_even_roas:.2f}")
        lines.append(f"{r.channel}: {'; '.join(parts)}: {r.status}.")
    if len(lines) == 1:
        lines.append(f"Every channel is within {OFF_BUDGET:.0%} of its budget, with its cost per "
                     "conversion in line with its previous 90 days.")
    if len(missing := t[t[SPEND].isna()]):
        lines.append(f"{', '.join(missing[CHANNEL])}: a budget in business.yaml but no spend in "
                     "your marketing_spend data, so it cannot be paced: add its costs there (a "
                     "tool's fee, a boost, an agency invoice).")
    return lines


def pacing_chart_data(result: PacingResult) -> pd.DataFrame:
    """What ``plot_pacing`` draws: channel, budget and spend over the window (channels with
    spend data)."""
    if not result.supported or result.channels.empty:
        return pd.DataFrame(columns=[CHANNEL, "budget", SPEND])
    t = result.channels
    return t.loc[t[SPEND].notna(), [CHANNEL, "budget", SPEND]].reset_index(drop=True)


def plot_pacing(result: PacingResult, ax=None):
    """Spend against budget by channel over the window; the title names the furthest off."""
    ax = plots.axes(ax)
    data = pacing_chart_data(result)
    if data.empty:
        ax.set_axis_off()
        ax.text(0.5, 0.5, result.reading or "No channel to pace", ha="center", va="center",
                wrap=True)
        return ax
    x = np.arange(len(data))
    ax.bar(x - 0.2, data["budget"].fillna(0), 0.4, color=plots.MUTED, label="budget")
    ax.bar(x + 0.2, data[SPEND], 0.4, color=plots.ACCENT, label="spend")
    ax.set_xticks(x, data[CHANNEL])
    off = (data[SPEND] / data["budget"].where(data["budget"] > 0) - 1)
    worst = off.abs().idxmax() if off.notna().any() else None
    title = (f"{data.at[worst, CHANNEL]} spent {off[worst]:+.0%} against its budget"
             if worst is not None and abs(off[worst]) > OFF_BUDGET
             else f"Every channel within {OFF_BUDGET:.0%} of its budget")
    ax.set(title=f"{title} (last {result.window_days} days)", xlabel="",
           ylabel=f"spend over {result.window_days} days ({result.currency})")
    plots.money_axis(ax, result.currency)
    ax.legend(frameon=False)
    return ax


# The numbers of step 08's sections that the report's headline keeps.
HEADLINE = {"pacing": ["objectives_on_track", "objectives_behind", "spend_window",
                       "budget_window"],
            "unusual days": ["unusual_days", "series_checked"],
            "drift": ["inputs_major", "max_psi", "max_psi_input"],
            "alerts": ["high", "medium", "low"]}
