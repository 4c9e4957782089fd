"""Step 03 in words and in a chart: what the scores of ``helpers.tool_selection`` mean for the
business, the impact-versus-effort chart and the step record.

Every function reads the ``scored`` table (``tool_selection.score_use_cases``) and the shortlist
(a list of ids); the sentences are written from their numbers.
"""

from __future__ import annotations

import math

import pandas as pd

from helpers.readiness import OUTSIDE, catalogue, lower_name

LEVEL_X = {"low": 1, "medium": 2, "high": 3}
NOTEBOOKS = {"02": "02 · Data collection and analysis", "06": "06 · Model training and testing",
             "07": "07 · Implementing AI in campaigns", "08": "08 · Continuous monitoring",
             "09": "09 · Feedback loop", "11": "11 · ROI and reporting"}


def _cases(scored: pd.DataFrame) -> dict:
    return scored.attrs.get("catalogue") or {uc["id"]: uc for uc in catalogue()}


CHANNEL_LABELS = {"paid_ads": "paid ads", "sales_crm": "sales and CRM",
                  "customer_service": "customer service"}


def _names(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'; semicolons when a name holds 'and' itself."""
    items = list(items)
    if len(items) == 1:
        return items[0]
    sep = "; " if any(" and " in i for i in items) else ", "
    last = "; and " if sep == "; " and len(items) > 2 else " and "
    return f"{sep.join(items[:-1])}{last}{items[-1]}"


def _lowered(names) -> list[str]:
    return [lower_name(n) for n in names]


def _without_name(reason: str) -> str:
    return reason.split(": ", 1)[1] if ": " in reason else reason


def _cost_band(scored: pd.DataFrame, picks: list[str]) -> tuple[float, float]:
    costs = scored.set_index("id").loc[picks, "monthly_cost"] if picks else []
    return sum(c[0] for c in costs), sum(c[1] for c in costs)


# ---- readings ----------------------------------------------------------------------------------
def reading_catalogue(cases: list[dict]) -> str:
    """How big the catalogue is, how many uses the kit builds and which need an outside tool."""
    outside = [uc["name"] for uc in cases if uc["kit_section"] == OUTSIDE]
    channels = pd.Series([uc["channel"] for uc in cases]).value_counts()
    inside = len(cases) - len(outside)
    counts = ", ".join(f"{CHANNEL_LABELS.get(c, c)} {n}" for c, n in channels.items())
    text = (f"The catalogue holds {len(cases)} ways to use AI across {len(channels)} channels "
            f"({counts}). This kit "
            f"builds {inside} of them in later notebooks;")
    if outside:
        text += (f" the other {len(outside)} ({_names(_lowered(outside))}) need an "
                 "outside tool, and the catalogue names the kind of tool and examples.")
    return text


def reading_readiness(scored: pd.DataFrame) -> str:
    """How many use cases the data supports, what blocks the nearest ones, and which missing
    tables would unlock the most."""
    ready, missing = scored[scored["ready"]], missing_tables(scored)
    lines = [f"Your data is ready for {len(ready)} of the {len(scored)} use cases."]
    blocked_by_table = scored["_missing"].map(len) > 0
    near = scored[~scored["ready"] & (scored["readiness"] > 0) & ~blocked_by_table].sort_values(
        ["readiness", "rank"], ascending=[False, True])
    for r in near.head(4).itertuples():
        lines.append(f"- Close ({r.readiness:.0%} of the way): {r.reason}.")
    for table, ids in sorted(missing.items(), key=lambda kv: -len(kv[1]))[:3]:
        names = _lowered(scored.set_index("id").loc[ids, "name"])
        lines.append(f"- {len(ids)} use case(s) need {table} data, which you do not have yet: "
                     f"{_names(names)}.")
    return "\n".join(lines)


def reading_ranking(scored: pd.DataFrame) -> str:
    """The top three with what lifts each, and the best one the data cannot support yet."""
    objectives = scored.attrs.get("objectives", 1)
    lines = [] if objectives else ["business.yaml lists no objectives, so every use case gets the "
                                   "same objective fit (0.5); add them (notebook 01) to rank by them."]
    for r in scored.sort_values("rank").head(3).itertuples():
        stack = "; a tool you already use offers it" if r.stack_fit else ""
        lines.append(f"{r.rank}. {r.name} (score {r.score:.2f}): objective fit {r.objective_fit:.0%}"
                     f", data {r.readiness:.0%} ready, {r.impact} impact for {r.effort} effort"
                     f"{stack}.")
    blocked = scored[~scored["ready"]].sort_values("rank")
    if len(blocked):
        b = blocked.iloc[0]
        lines.append(f"The best-ranked use case your data cannot support yet is {lower_name(b['name'])}"
                     f" (rank {b['rank']}): {_without_name(b['reason'])}.")
    return "\n".join(lines)


def reading_shortlist(scored: pd.DataFrame, picks: list[str], *, by: str = "top_n") -> str:
    """The shortlist: how chosen, what it costs in tools, when results come, where it is built."""
    if not picks:
        return ("Nothing is shortlisted: no use case has the data it needs yet. The section above "
                "says which data would open the nearest ones.")
    rows, cases = scored.set_index("id").loc[picks], _cases(scored)
    low, high = _cost_band(scored, picks)
    how = ("the `use_cases:` list in business.yaml" if by == "business.yaml" else
           "the best-ranked use case your data supports" if len(picks) == 1 else
           f"the {len(picks)} best-ranked use cases your data supports")
    first, last = rows["time_to_value_weeks"].min(), rows["time_to_value_weeks"].max()
    weeks = (f"{first:g} week" + ("s" if first != 1 else "") if first == last
             else f"{first:g} to {last:g} weeks")
    cost = f"${low:,.0f}" if low == high else f"${low:,.0f}-{high:,.0f}"
    lines = [f"Your shortlist is {how}: {_names(_lowered(rows['name']))}.",
             f"Tools for the shortlist cost about {cost} a month in USD list "
             f"prices (less where a plan you pay for covers them); first results in {weeks}."]
    inside = rows[rows["kit_section"] != OUTSIDE]
    for nb, group in inside.groupby(inside["kit_section"].str[:2]):
        lines.append(f"Notebook {NOTEBOOKS.get(nb, nb)} builds {_names(_lowered(group['name']))}.")
    for uc, r in rows[rows["kit_section"] == OUTSIDE].iterrows():
        tools = cases[uc]["tools"]
        lines.append(f"{r['name']} needs an outside tool ({tools['category'].replace(' (outside the kit)', '')}"
                     f", e.g. {_names(tools['examples'])}).")
    return "\n".join(lines)


def next_steps(scored: pd.DataFrame, picks: list[str]) -> str:
    """Which notebook comes next, and which data would unlock the best use case not ready yet."""
    notebooks = sorted({s[:2] for s in scored.set_index("id").loc[picks, "kit_section"]
                        if s != OUTSIDE})
    lines = ["Next: notebook 04 · Data preparation cleans the tables these use cases read, then "
             "notebook 05 · Campaign strategy plans a test for each one."]
    if notebooks:
        lines.append("Your shortlist is built in notebook(s) "
                     f"{_names([NOTEBOOKS.get(n, n) for n in notebooks])}.")
    blocked = scored[~scored["ready"]].sort_values("rank")
    if blocked.empty:
        lines.append("Your data supports every use case in the catalogue.")
    else:
        b = blocked.iloc[0]
        lines.append(f"{b['name']} is the best-ranked use case your data cannot support yet. "
                     f"What it lacks: {_without_name(b['reason'])}.")
    return "\n".join(lines)


def missing_tables(scored: pd.DataFrame) -> dict[str, list[str]]:
    """Absent table (or 'a or b' for alternatives) -> ids of the use cases it blocks."""
    out: dict[str, list[str]] = {}
    for uc, tables in scored.loc[~scored["ready"], ["id", "_missing"]].itertuples(index=False):
        for table in tables:
            out.setdefault(table, []).append(uc)
    return out


def reading_chart(scored: pd.DataFrame, picks: list[str]) -> str:
    """The chart's finding, the high-impact ready uses left off the shortlist, and the heavy
    lifts on it."""
    data = impact_effort_data(scored, shortlist=picks)
    lines = [impact_effort_title(data) + "."]
    left = data[data["ready"] & ~data["shortlisted"] & (data["impact"] == "high")]
    if len(left):
        lines.append("Also ready and high impact, but ranked below your shortlist: " + _names(
            [f"{lower_name(r.name)} (rank {r.rank})" for r in left.itertuples()]) + ".")
    heavy = data[data["shortlisted"] & (data["effort"] == "high")]
    if len(heavy):
        lines.append("High effort on your shortlist: " + _names(_lowered(heavy["name"])) +
                     "; give it more weeks and a named owner.")
    return "\n".join(lines)


def readings(plan, scored: pd.DataFrame, shortlist: list[str]) -> dict[str, str]:
    """Every reading of step 03, by section: catalogue, readiness, ranking, chart, shortlist,
    next."""
    from helpers.tool_selection import selected_by

    return {"catalogue": reading_catalogue(list(_cases(scored).values())),
            "readiness": reading_readiness(scored),
            "ranking": reading_ranking(scored),
            "chart": reading_chart(scored, shortlist),
            "shortlist": reading_shortlist(scored, shortlist, by=selected_by(plan)),
            "next": next_steps(scored, shortlist)}


def step_summary(plan, scored: pd.DataFrame, shortlist: list[str]) -> dict:
    """``status``, ``reason``, ``headline``, ``units``, ``summary`` and ``warnings`` for
    ``plan.record_step(3, ...)``; skipped when nothing could be shortlisted."""
    from helpers.tool_selection import selected_by

    rows = scored.set_index("id")
    low, high = _cost_band(scored, shortlist)
    headline = {"use_cases": len(scored), "ready": int(scored["ready"].sum()),
                "shortlisted": len(shortlist),
                "first_choice": rows.at[shortlist[0], "name"] if shortlist else "none",
                "tool_cost_usd_per_month": f"${low:,.0f}-{high:,.0f}"}
    units = {"use_cases": "count", "ready": "count", "shortlisted": "count"}
    warnings = [f"{rows.at[uc, 'name']} is shortlisted but its data is not ready: "
                f"{_without_name(rows.at[uc, 'reason'])}." for uc in shortlist
                if not rows.at[uc, "ready"]]
    warnings += [f"{rows.at[uc, 'name']} uses personal data heavily (privacy risk high): check it "
                 "against notebook 10 before you start." for uc in shortlist
                 if rows.at[uc, "privacy_risk"] == "high"]
    reason = "" if shortlist else "no use case has the data it needs yet"
    summary = reading_shortlist(scored, shortlist, by=selected_by(plan)).splitlines()
    summary += next_steps(scored, shortlist).splitlines()[-1:]
    return {"status": "ok" if shortlist else "skipped", "reason": reason, "headline": headline,
            "units": units, "summary": summary, "warnings": warnings}


# ---- the chart ---------------------------------------------------------------------------------
def impact_effort_data(scored: pd.DataFrame, *, shortlist: list[str] | None = None) -> pd.DataFrame:
    """What ``plot_impact_effort`` draws: per use case its effort (x, 1-3) and impact (y, 1-3),
    spread around the grid point when several share it, a bubble size from readiness, and
    whether it is shortlisted."""
    picks = list(shortlist or [])
    data = scored.sort_values("rank")[["id", "name", "rank", "impact", "effort", "readiness",
                                       "ready", "score"]].copy()
    data["shortlisted"] = data["id"].isin(picks)
    data["x"] = data["effort"].map(LEVEL_X).astype(float)
    data["y"] = data["impact"].map(LEVEL_X).astype(float)
    for _, cell in data.groupby(["x", "y"]):
        n = len(cell)
        for k, i in enumerate(cell.index):  # a deterministic ring, the best-ranked on top
            angle = math.pi / 2 + 2 * math.pi * k / n
            radius = 0 if n == 1 else 0.3
            data.loc[i, "x"] += radius * math.cos(angle)
            data.loc[i, "y"] += radius * math.sin(angle) * 0.8
    data["size"] = 60 + 440 * data["readiness"]
    return data.reset_index(drop=True)


def impact_effort_title(data: pd.DataFrame) -> str:
    """The chart's finding: how many shortlisted uses are high impact for low or medium effort."""
    picked = data[data["shortlisted"]]
    n = len(picked)
    quick = len(picked[(picked["impact"] == "high") & picked["effort"].isin(["low", "medium"])])
    end = "high impact for low or medium effort"
    if n == 0:
        return "No use case is shortlisted yet: none has the data it needs"
    if n == 1:
        return f"Your one shortlisted use {'promises' if quick else 'does not promise'} {end}"
    if quick == 0:
        return f"None of your {n} shortlisted uses promises {end}"
    share = f"All {n} of your" if quick == n else f"{quick} of your {n}"
    return f"{share} shortlisted uses promise {end}"


def plot_impact_effort(scored: pd.DataFrame, *, shortlist: list[str], ax=None):
    """Bubbles of expected impact against effort; size = data readiness; the shortlist in colour
    and labelled, other ready uses in grey, not-ready ones hollow. Returns the Axes."""
    from matplotlib.lines import Line2D

    from helpers import plots

    ax = plots.axes(ax, figsize=(10, 6.5))
    data = impact_effort_data(scored, shortlist=shortlist)
    ax.axhspan(2.5, 3.5, xmin=0, xmax=2 / 3, color=plots.PALETTE[2], alpha=0.07)
    ax.text(0.55, 3.45, "high impact, low or medium effort", fontsize=9, va="top",
            color=plots.PALETTE[2])
    groups = [(~data["ready"], dict(facecolors="none", edgecolors=plots.MUTED)),
              (data["ready"] & ~data["shortlisted"], dict(color=plots.MUTED, alpha=0.55)),
              (data["shortlisted"], dict(color=plots.ACCENT, alpha=0.9))]
    for mask, style in groups:
        part = data[mask]
        ax.scatter(part["x"], part["y"], s=part["size"], linewidths=1.2, **style)
    picked = data[data["shortlisted"]]
    for r in picked.itertuples():
        ax.text(r.x, r.y, str(r.rank), ha="center", va="center", fontsize=8, color="white",
                fontweight="bold")
    listing = "\n".join(f"{r.rank}. {r.name}" for r in picked.itertuples())
    ax.text(1.02, 1.0, f"Shortlist (by rank)\n{listing}" if listing else "Nothing shortlisted",
            transform=ax.transAxes, va="top", fontsize=9, color=plots.ACCENT, linespacing=1.5)
    ticks, labels = [1, 2, 3], ["low", "medium", "high"]
    ax.set(xticks=ticks, xticklabels=labels, yticks=ticks, yticklabels=labels, xlim=(0.5, 3.5),
           ylim=(0.5, 3.5), xlabel="Effort to set up and run", ylabel="Expected impact",
           title=impact_effort_title(data))
    ax.grid(False)
    handles = [Line2D([], [], marker="o", ls="", color=plots.ACCENT, label="shortlisted"),
               Line2D([], [], marker="o", ls="", color=plots.MUTED, alpha=0.55,
                      label="data ready"),
               Line2D([], [], marker="o", ls="", markerfacecolor="none", color=plots.MUTED,
                      label="data not ready (size: how close)")]
    ax.legend(handles=handles, frameon=False, fontsize=9, loc="lower right")
    return ax
