"""Step 01: business objectives -> KPIs, baselines, SMART targets and feasibility.

Targets are set on 12-month values: "revenue in the 12 months to the deadline" against the last 12
months, so that seasons cancel out. The KPI arithmetic (catalogue, windows, baselines, feasibility)
lives in ``helpers.kpis``; this module turns it into targets, charts and readings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.errors import UnknownNameError
from helpers.kpis import (
    DAY,
    DAYS_PER_MONTH,
    YEAR,
    add_months,
    baselines,
    default_kpi,
    feasibility,
    kpi_catalogue,
    kpi_events,
    kpi_monthly,
    kpi_spec,
    kpi_status,
    window_values,
)
from helpers.plan import format_value

SMART = ("specific", "measurable", "achievable", "relevant", "time_bound")


# ---- SMART targets ---------------------------------------------------------------------------
def _smart(row: dict, obj, spec: dict | None) -> dict:
    months, verdict = row["months_to_deadline"], row["verdict"]
    target = obj.target_change is not None or obj.target_value is not None
    checks = {
        "specific": (bool(spec) and target,
                     f"one KPI ({row['kpi']}) and a target" if target
                     else "give `target_change` (e.g. 0.10 for +10 %) or `target_value`"),
        "measurable": (pd.notna(row["baseline"]),
                       row["reason"] or "your data gives a 12-month baseline"),
        "achievable": (verdict in ("realistic", "ambitious"),
                       f"feasibility: {verdict or 'not assessed'}"),
        "relevant": (bool(spec) and obj.type in spec["objectives"],
                     f"{row['kpi']} serves: {', '.join(spec['objectives'])}" if spec
                     else "unknown KPI"),
        "time_bound": (pd.notna(months) and months >= 1,
                       "no deadline: add `deadline: YYYY-MM-DD`" if obj.deadline is None
                       else f"{months:.1f} months from {row['as_of']:%d %b %Y}"),
    }
    return {k: v for name, (ok, why) in checks.items() for k, v in ((name, ok), (f"{name}_why", why))}


FEASIBILITY_COLUMNS = ("past_median", "past_best", "past_low", "past_high", "noise", "volatility",
                       "windows", "method")


def _assess(plan, spec: dict, row: dict) -> dict:
    """The feasibility of one target row (a dict of the Feasibility numbers, verdict and text)."""
    events = kpi_events(plan, spec["id"])
    f = feasibility(kpi_monthly(plan, spec["id"], events=events),
                    trailing=kpi_monthly(plan, spec["id"], months=YEAR, events=events)["value"],
                    required_change=row["change"], horizon_months=row["months_to_deadline"],
                    kind=spec["kind"], direction=spec["direction"])
    out = {**{k: getattr(f, k) for k in FEASIBILITY_COLUMNS}, "verdict": f.verdict,
           "feasibility": f.text}
    if spec["unit"] == "rate" and row["target"] > 1:
        out.update(verdict="never achieved", feasibility="A rate cannot go above 100 %.")
    if spec["kind"] == "flow" and row["months_to_deadline"] < YEAR and pd.notna(row["target"]):
        out.update(_still_needed(plan, events, row))
    return out


def _still_needed(plan, events: dict, row: dict) -> dict:
    """For a flow whose deadline is under a year away, part of 'the 12 months to the deadline' is
    already known: what the months left must bring, against the same months a year earlier."""
    deadline, year = pd.Timestamp(row["deadline"]), pd.DateOffset(months=YEAR)
    known, last_year = window_values(events, [deadline - year + DAY, plan.as_of - year + DAY],
                                      [plan.as_of, deadline - year])["value"]
    return {"still_needed": row["target"] - known,
            "still_needed_change": (row["target"] - known) / last_year - 1 if last_year else np.nan}


TARGET_COLUMNS = [
    "objective", "type", "kpi", "name", "unit", "status", "reason", "as_of", "baseline", "target",
    "change", "deadline", "months_to_deadline", "monthly_growth", "verdict", "feasibility",
    "still_needed", "still_needed_change", *FEASIBILITY_COLUMNS,
    *(f"{k}{s}" for k in SMART for s in ("", "_why"))]


def _target_row(plan, i: int, obj, base: pd.DataFrame) -> dict:
    kpi = obj.kpi or default_kpi(plan, obj.type)
    spec = kpi_spec(kpi) if kpi in kpi_catalogue()["kpis"] else None
    why = kpi_status(plan, kpi) if spec else str(UnknownNameError.for_name(
        kpi, kpi_catalogue()["kpis"], what="KPI", where=f"objective {i + 1}"))
    months = ((pd.Timestamp(obj.deadline) - plan.as_of).days / DAYS_PER_MONTH if obj.deadline
              else np.nan)
    row = {**dict.fromkeys(TARGET_COLUMNS, np.nan), "objective": i + 1, "type": obj.type,
           "kpi": kpi, "name": spec["name"] if spec else kpi, "unit": spec["unit"] if spec else "",
           "status": "cannot measure" if why else "ok", "reason": why, "as_of": plan.as_of,
           "deadline": obj.deadline, "months_to_deadline": months, "verdict": "", "feasibility": ""}
    if why:
        return {**row, **_smart(row, obj, spec)}
    hit = base[base["kpi"] == kpi] if kpi in set(base["kpi"]) else baselines(plan, [kpi])
    baseline = row["baseline"] = hit["last_12m"].iloc[0]
    if obj.target_value is not None:
        row.update(target=obj.target_value, change=obj.target_value / baseline - 1
                   if baseline else np.nan)
    elif obj.target_change is not None:
        row.update(target=baseline * (1 + obj.target_change), change=obj.target_change)
    if pd.isna(baseline):
        row.update(status="too little history", reason=hit["note"].iloc[0])
    if (obj.target_value is None and obj.target_change is None) or not months > 0:
        row["status"] = "incomplete"
    elif pd.isna(baseline) or pd.notna(row["change"]):
        if pd.notna(baseline):
            row["monthly_growth"] = (1 + row["change"]) ** (1 / months) - 1
        row.update(_assess(plan, spec, row))
    return {**row, **_smart(row, obj, spec)}


def smart_targets(plan, baselines: pd.DataFrame) -> pd.DataFrame:
    """One row per objective in business.yaml: KPI (the usual one when blank), 12-month baseline,
    target, deadline, months to go, required compounded monthly growth, feasibility verdict and
    the SMART checklist (a boolean and a reason for each letter).

    ``status`` is "ok", "incomplete" (no target or deadline), "too little history" (no 12-month
    baseline yet; ``reason`` says how much there is) or "cannot measure" (``reason`` names
    the data that would enable it).
    """
    rows = [_target_row(plan, i, o, baselines) for i, o in enumerate(plan.settings.objectives)]
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)


def objectives_table(plan) -> pd.DataFrame:
    """The objectives as written in business.yaml, with the KPI that will measure each."""
    rows = [{"objective": i + 1, "type": o.type, "kpi_given": o.kpi or "",
             "kpi_used": o.kpi or default_kpi(plan, o.type), "target_change": o.target_change,
             "target_value": o.target_value, "deadline": o.deadline, "note": o.note or ""}
            for i, o in enumerate(plan.settings.objectives)]
    return pd.DataFrame(rows, columns=["objective", "type", "kpi_given", "kpi_used",
                                       "target_change", "target_value", "deadline", "note"])


# ---- trajectory ------------------------------------------------------------------------------
def trajectory_data(plan, target) -> pd.DataFrame:
    """Month by month, for one row of ``smart_targets``: ``history`` (the KPI's 12-month value),
    ``baseline``, ``path`` (compounded from the baseline to the target at the deadline) and
    ``low``/``high`` (where the 10th and 90th percentile of past growth would lead)."""
    history = kpi_monthly(plan, target["kpi"], months=YEAR)[["value"]].set_axis(["history"], axis=1)
    months, base = target["months_to_deadline"], target["baseline"]
    deadline = pd.Timestamp(target["deadline"])
    dates = [d for d in (add_months(plan.as_of, k) for k in range(int(months) + 1)) if d < deadline]
    dates = pd.DatetimeIndex([*dates, deadline])
    t = (dates - plan.as_of).days.to_numpy() / DAYS_PER_MONTH
    h = max(1, int(round(months)))
    future = pd.DataFrame({"path": base * (1 + target["monthly_growth"]) ** t,
                           "low": base * (1 + target["past_low"]) ** (t / h),
                           "high": base * (1 + target["past_high"]) ** (t / h)}, index=dates)
    out = history.join(future, how="outer").rename_axis("date")
    out["baseline"] = base
    return out


def _fmt(plan, value: float, unit: str) -> str:
    return "n/a" if pd.isna(value) else format_value(value, unit or "count", plan.currency)


def trajectory_title(plan, target) -> str:
    """The finding of a trajectory chart, e.g. 'Revenue over 12 months must grow 1.3% a month
    to reach $324,460 by June 2027'."""
    g = target["monthly_growth"]
    return (f"{target['name']} over 12 months must {'grow' if g >= 0 else 'fall'} {abs(g):.1%} a "
            f"month to reach {_fmt(plan, target['target'], target['unit'])} by "
            f"{pd.Timestamp(target['deadline']):%B %Y}")


def plot_trajectory(plan, target, *, ax=None):
    """Chart the 12-month history, baseline, path to the target and band of past growth."""
    from helpers import plots

    ax = plots.axes(ax)
    data, unit = trajectory_data(plan, target), target["unit"]
    ax.plot(data.index, data["history"], color=plots.ACCENT, lw=2, marker="o", ms=3,
            label="12 months to each date")
    ax.axhline(target["baseline"], color=plots.MUTED, ls=":", label="baseline (last 12 months)")
    ax.fill_between(data.index, data["low"], data["high"], color=plots.PALETTE[1], alpha=0.15,
                    label="where past growth would lead (10th-90th percentile)")
    ax.plot(data.index, data["path"], color=plots.PALETTE[1], ls="--", marker="o", markevery=[-1],
            label=f"path to target: {_fmt(plan, target['target'], unit)}")
    ylabel = f"{target['name']}, 12 months" + (f" ({plan.currency})" if unit == "money" else "")
    ax.set(title=trajectory_title(plan, target), xlabel="", ylabel=ylabel)
    if unit == "money":
        plots.money_axis(ax, plan.currency)
    elif unit == "rate":
        plots.percent_axis(ax)
    else:
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    ax.legend(frameon=False, fontsize=8, loc="best")
    return ax


def plot_trajectories(plan, targets: pd.DataFrame):
    """One trajectory chart per objective that has a baseline, a target and a deadline; returns
    the Figure (a note in words when there is none)."""
    import matplotlib.pyplot as plt

    from helpers import plots

    plots.apply_theme()
    ready = targets[targets["monthly_growth"].notna()] if "monthly_growth" in targets else targets[:0]
    fig, axes = plt.subplots(max(1, len(ready)), 1, figsize=(9, 4.2 * max(1, len(ready))),
                             squeeze=False)
    for ax, (_, row) in zip(axes[:, 0], ready.iterrows(), strict=False):
        plot_trajectory(plan, row, ax=ax)
    if ready.empty:
        axes[0, 0].set_axis_off()
        axes[0, 0].text(0.5, 0.5, "No objective has a measurable baseline, a target and a deadline "
                        "yet", ha="center", va="center", wrap=True)
    fig.tight_layout()
    return fig


# ---- what this means -------------------------------------------------------------------------
ADVICE = {
    "within normal variation": "A change this small hides inside ordinary ups and downs, so you "
    "may never know whether you reached it: aim higher, or measure it with a test (step 05).",
    "realistic": "Your business has done this in a typical stretch before: a fair target.",
    "ambitious": "Reached before only in good stretches: keep it if the plan adds something new, "
    "and watch it every month.",
    "never achieved": "Your business has never moved this fast over this long: lower the target, "
    "move the deadline, or write down what will be different this time.",
    "not enough history": "Check the target against the first months of results (step 08).",
}


def _label(row) -> str:
    return f"Objective {row['objective']} ({row['type'].replace('_', ' ')}, {row['name'].lower()})"


def what_this_means_kpis(menu: pd.DataFrame) -> str:
    """Which KPIs the data can measure, which tables would unlock the others, the defaults."""
    ok = menu[menu["measurable"]]
    lines = [f"Your data can measure {len(ok)} of the {len(menu)} KPIs in the catalogue."]
    for table, names in menu[~menu["measurable"]].groupby("table")["name"].agg(list).items():
        lines.append(f"Adding {table} data would let you measure: {', '.join(names).lower()}.")
    defaults = ok[ok["default_for"] != ""]
    if len(defaults):
        lines.append("A KPI left blank in business.yaml becomes: " + "; ".join(
            f"{r.default_for.replace('_', ' ')} -> {r.name.lower()}" for r in defaults.itertuples()))
    return "\n".join(lines)


def what_this_means_objectives(table: pd.DataFrame) -> str:
    """The objectives in words, or what to add when there are none."""
    if table.empty:
        return ("business.yaml has no objectives yet. Add them under `objectives:` (type, kpi, "
                "target_change, deadline), or with the form at the end of this notebook, then run "
                "it again.")
    lines = [f"You have {len(table)} objective(s)."]
    for r in table.itertuples():
        goal = (f"{r.target_change:+.0%}" if pd.notna(r.target_change) else
                f"reach {r.target_value:,g}" if pd.notna(r.target_value) else "no target yet")
        when = f"by {r.deadline:%d %b %Y}" if pd.notna(r.deadline) else "no deadline yet"
        usual = "" if r.kpi_given else " (kpi left blank: the usual one for this type)"
        lines.append(f"{r.objective}. {r.type.replace('_', ' ')}: {r.kpi_used}{usual}, {goal}, {when}.")
    return "\n".join(lines)


def what_this_means_baselines(plan, base: pd.DataFrame, *, kpis: list[str] | None = None) -> str:
    """Where the (objectives') KPIs stand now, and the warnings about short history."""
    rows = base[base["kpi"].isin(kpis)] if kpis else base.head(3)
    lines = []
    for r in rows[rows["last_90d"].notna()].itertuples():
        name, when = r.name.lower(), f"{plan.as_of:%d %b %Y}"
        was, it = ("were", "they") if name.endswith("s") else ("was", "it")
        if pd.notna(r.last_12m):
            text = f"In the 12 months to {when}, {name} {was} {_fmt(plan, r.last_12m, r.unit)}"
            text += f", {r.change_12m:+.1%} on the 12 months before" if pd.notna(r.change_12m) else ""
            text += f"; over the last 90 days {it} {was} {_fmt(plan, r.last_90d, r.unit)}"
        else:
            text = f"In the 90 days to {when}, {name} {was} {_fmt(plan, r.last_90d, r.unit)}"
        if pd.notna(r.change_90d):
            text += (f", {r.change_90d:+.1%} on the 90 days before (seasons may explain part of "
                     "it)")
        lines.append(text + ".")
    lines += [n for n in rows["note"] if n]
    return "\n".join(lines) or "No KPI could be computed: add data under `data:` in business.yaml."


def what_this_means_targets(plan, targets: pd.DataFrame) -> str:
    """Each objective as a target in numbers, and the SMART letters it misses."""
    if targets.empty:
        return "No objectives, so no targets: add them in business.yaml or with the form below."
    lines = []
    for _, r in targets.iterrows():
        if r["status"] == "cannot measure":
            lines.append(f"{_label(r)} cannot be measured: {r['reason']}")
            continue
        misses = [k.replace("_", "-") + ("" if r[k + "_why"] == r["reason"] else
                                         f" ({r[k + '_why']})") for k in SMART if not r[k]]
        text = (f"{_label(r)}: from {_fmt(plan, r['baseline'], r['unit'])} to "
                f"{_fmt(plan, r['target'], r['unit'])} ({r['change']:+.1%}) over the 12 months to "
                f"{pd.Timestamp(r['deadline']):%d %b %Y}, {r['monthly_growth']:+.1%} a month "
                "compounded." if r["status"] == "ok" else f"{_label(r)}: {r['reason']}"
                if r["reason"] else f"{_label(r)} is incomplete.")
        if pd.notna(r["still_needed"]):
            done = YEAR - int(round(r["months_to_deadline"]))
            text += (f" {done} of those 12 months have already happened, so the months from "
                     f"{plan.as_of + DAY:%b %Y} to {pd.Timestamp(r['deadline']):%b %Y} must bring "
                     f"{_fmt(plan, r['still_needed'], r['unit'])}, {r['still_needed_change']:+.1%}"
                     " on the same months a year earlier.")
        lines.append(f"{text} SMART: {5 - len(misses)} of 5" + (
            f"; missing: {'; '.join(misses)}." if misses else "."))
    return "\n".join(lines)


def what_this_means_feasibility(plan, targets: pd.DataFrame) -> str:
    """The verdict of each target with its numbers, what to do about it, and a realistic
    alternative drawn from the business's own past."""
    lines = []
    for _, r in targets[targets["verdict"].fillna("") != ""].iterrows():
        text = f"{_label(r)}: {r['verdict']}. {r['feasibility']} {ADVICE.get(r['verdict'], '')}"
        best = r["baseline"] * (1 + r["past_best"])
        if r["verdict"] in ("ambitious", "never achieved") and (r["unit"] != "rate" or best <= 1):
            text += (f" A typical stretch would take it to "
                     f"{_fmt(plan, r['baseline'] * (1 + r['past_median']), r['unit'])} and your "
                     f"best to {_fmt(plan, best, r['unit'])}.")
        lines.append(text)
    return "\n".join(lines) or "No target to judge yet."


def what_this_means_trajectory(plan, targets: pd.DataFrame) -> str:
    """Quarterly checkpoints on each path, for monitoring (step 08)."""
    lines = []
    for _, r in targets[targets["monthly_growth"].notna()].iterrows():
        points = [f"{_fmt(plan, r['baseline'] * (1 + r['monthly_growth']) ** k, r['unit'])} by "
                  f"{add_months(plan.as_of, k):%d %b %Y}"
                  for k in range(3, int(r["months_to_deadline"]) + 1, 3)]
        lines.append(f"{_label(r)}: to stay on the path, its 12-month value should be about "
                     + (", ".join(points) or "the target at the deadline") + ".")
    return "\n".join(lines) or "No path to draw yet: give each objective a target and a deadline."


# ---- the record ------------------------------------------------------------------------------
def objectives_record(plan, base: pd.DataFrame, targets: pd.DataFrame) -> dict:
    """The content of objectives.json: each objective with its baseline, target, deadline,
    SMART checklist and feasibility, plus every baseline computed."""
    objectives = []
    for _, r in targets.iterrows():
        keep = ("objective", "type", "kpi", "name", "unit", "status", "reason", "baseline",
                "target", "change", "deadline", "months_to_deadline", "monthly_growth")
        item = {k: r.get(k) for k in keep}
        item["feasibility"] = {k: r.get(k) for k in ("verdict", "feasibility", *FEASIBILITY_COLUMNS)}
        item["smart"] = {k: {"ok": bool(r[k]), "why": r[f"{k}_why"]} for k in SMART if k in r}
        objectives.append(item)
    return {"business": plan.name, "as_of": plan.as_of.date(), "currency": plan.currency,
            "objectives": objectives, "baselines": base.to_dict("records"),
            "warnings": step_summary(plan, base, targets)["warnings"]}


def step_summary(plan, base: pd.DataFrame, targets: pd.DataFrame) -> dict:
    """``status``, ``reason``, ``headline``, ``summary`` and ``warnings`` for
    ``plan.record_step(1, ...)``; skipped when no objective can be measured."""
    measurable = int((targets["status"] != "cannot measure").sum())
    headline = {"objectives": len(targets), "measurable": measurable}
    units = {"objectives": "count", "measurable": "count"}
    for _, r in targets[targets["status"] == "ok"].iterrows():
        headline.update({f"{r['kpi']}_baseline": r["baseline"], f"{r['kpi']}_target": r["target"],
                         f"{r['kpi']}_verdict": r["verdict"]})
        units.update({f"{r['kpi']}_baseline": r["unit"], f"{r['kpi']}_target": r["unit"]})
    summary = what_this_means_targets(plan, targets).splitlines()
    warnings = [n for n, m in zip(base["note"], base["months_of_history"], strict=True) if n and m]
    warnings += [f"{_label(r)}: {r['reason']}" for _, r in targets.iterrows() if r["reason"]]
    reason = ("business.yaml has no objectives: add them under `objectives:`" if targets.empty else
              "" if measurable else "no objective can be measured with the data given")
    return {"status": "skipped" if reason else "ok", "reason": reason, "headline": headline,
            "units": units, "summary": summary, "warnings": list(dict.fromkeys(warnings))}


def readable(plan, frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for the screen: values in the unit of their row (money, count, %), changes as
    signed percentages, blanks for what could not be computed."""
    values = ("last_90d", "prior_90d", "last_12m", "prior_12m", "baseline", "target")
    changes = ("change_90d", "change_12m", "change", "monthly_growth", "past_median",
               "past_best", "still_needed_change")
    out = frame.copy().astype(object)
    for i, row in frame.iterrows():
        for col in (c for c in values if c in frame):
            out.at[i, col] = "" if pd.isna(row[col]) else _fmt(plan, row[col], row["unit"])
        for col in (c for c in changes if c in frame):
            out.at[i, col] = "" if pd.isna(row[col]) else f"{row[col]:+.1%}"
        for col in (c for c in ("noise", "volatility") if c in frame):
            out.at[i, col] = "" if pd.isna(row[col]) else f"±{row[col]:.1%}"
        if "windows" in frame:
            out.at[i, "windows"] = "" if pd.isna(row["windows"]) else int(row["windows"])
    out = out.where(out.notna(), "")
    return out.drop(columns=[c for c in ("unit", "as_of") if c in out])
