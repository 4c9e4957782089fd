"""Step 05: campaign strategy: the KPI tree, benchmarks, where you stand and the step's record.

The KPI tree breaks each objective of step 01 down to the channel numbers that move it (revenue =
orders x average order value; orders by channel; e-mail, paid search, paid social and website
rates) with each node's last-12-month baseline, an industry benchmark (templates/benchmarks.yaml)
and the change it would need if the objective's growth came from that lever alone. The test
designs with power, the pilot timeline and the budget plan live in ``helpers.testplan``.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from helpers import objectives as ob
from helpers.errors import MissingDataError, UnknownNameError
from helpers.explore import cap, known, label
from helpers.kpis import baselines
from helpers.plan import format_value
from helpers.testplan import (
    AB_SHARE,
    CONVERSIONS,
    HOLDOUT_SHARE,
    SPEND_METRICS,
    aggregated,
    channel_metrics,
    in_last_year,
    what_this_means_budget,
    what_this_means_timeline,
)

INDUSTRIES = ("retail_ecommerce", "food_beverage", "fitness_wellness", "services", "b2b", "other")
ORDER_DATE, ORDER_CHANNEL = known("orders", "order_date", "channel")
CREATED_AT, LEAD_SOURCE = known("leads", "created_at", "source")
PRICE, COST = known("products", "price", "cost")
QUANTITY, UNIT_PRICE = known("order_items", "quantity", "unit_price")
TREE_KPIS = ["revenue", "orders", "average_order_value", "repeat_rate", "active_customers",
             "email_open_rate", "email_click_rate", "web_sessions", "web_conversion_rate", "leads",
             "lead_conversion_rate"]


# ---- inputs ----------------------------------------------------------------------------------
def objectives_for(plan) -> list[dict]:
    """The objectives of step 01 (objectives.json), or computed the same way when it has not run."""
    try:
        return list(plan.load("objectives.json")["objectives"])
    except MissingDataError:
        return ob.objectives_record(plan, b := baselines(plan, []), ob.smart_targets(plan, b))[
            "objectives"]


def facts(plan) -> dict:
    """The last-12-month numbers of the tree: ``values`` and ``notes`` by KPI (from aggregated
    reports without per-event tables), ``orders_by_channel``, ``leads_by_source``, ``channels``."""
    base = baselines(plan, TREE_KPIS, prepared=True).set_index("kpi")
    values, notes = base["last_12m"].to_dict(), base["note"].to_dict()
    for kpi, (hits, units, _) in aggregated(plan).items():
        if pd.isna(values.get(kpi)) and units:
            values[kpi], notes[kpi] = hits / units, "from your aggregated report"
            if kpi == "web_conversion_rate":
                values["web_sessions"], notes["web_sessions"] = units, notes[kpi]
    count = {t: in_last_year(plan, plan.prepared(t), d)[by].fillna("(not set)").value_counts()
             if plan.has(t) else pd.Series() for t, d, by in (("orders", ORDER_DATE, ORDER_CHANNEL),
                                                              ("leads", CREATED_AT, LEAD_SOURCE))}
    return {"values": values, "notes": notes, "channels": channel_metrics(plan),
            "orders_by_channel": count["orders"], "leads_by_source": count["leads"]}


# ---- benchmarks ------------------------------------------------------------------------------
BENCH_COLUMNS = ["metric", "channel", "industry", "segment", "value", "unit", "currency", "source",
                 "year", "url", "primary", "caveat"]


@cache
def _entries() -> tuple:
    from helpers.io import read_yaml
    from helpers.plan import KIT_ROOT

    return tuple(read_yaml(KIT_ROOT / "templates" / "benchmarks.yaml")["benchmarks"])


def benchmark_table() -> pd.DataFrame:
    """Every entry of templates/benchmarks.yaml, with ``kpi`` (``email_open_rate``, ``paid_search_cpc``...)."""
    t = pd.DataFrame(list(_entries())).reindex(columns=BENCH_COLUMNS)
    t.insert(0, "kpi", np.where(t["channel"] == "all", t["metric"], t["channel"] + "_" + t["metric"]))
    return t.assign(caveat=t["caveat"].fillna(""), currency=t["currency"].fillna(""))


def benchmarks(industry: str) -> pd.DataFrame:
    """One benchmark per metric and channel: this industry's own figure when the file has one,
    else the all-industry figure (``own_industry`` says which)."""
    if industry not in INDUSTRIES:
        raise UnknownNameError.for_name(industry, INDUSTRIES, what="industry",
                                        where="business.industry in business.yaml")
    t = benchmark_table()
    own = t[t["industry"] == industry]
    out = pd.concat([own, t[(t["industry"] == "all") & ~t["kpi"].isin(own["kpi"])]])
    return out.assign(own_industry=out["industry"] == industry).reset_index(drop=True)


# ---- the KPI tree ----------------------------------------------------------------------------
TREE_COLUMNS = ["node", "parent", "level", "kpi", "name", "unit", "baseline", "benchmark",
                "benchmark_source", "target", "change", "note"]
NODES = {"orders": ("Orders", "count"), "average_order_value": ("Average order value", "money"),
         "active_customers": ("Active customers", "count"), "returning_customers":
         ("Returning customers", "count"), "email_open_rate": ("E-mail open rate", "rate"),
         "email_click_rate": ("E-mail click rate", "rate"), "web_sessions": ("Website visits",
         "count"), "web_conversion_rate": ("Website conversion rate", "rate"),
         "lead_conversion_rate": ("Lead conversion rate", "rate")}


class _Tree:
    """Rows of the KPI tree, added parent first."""

    def __init__(self, f: dict, bench: pd.DataFrame):
        self.f, self.rows, self.levels, self.bench = f, [], {}, bench.set_index("kpi")

    def add(self, parent, kpi, baseline=None, change=np.nan, *, key=None, name=None, unit=None,
            direction="up", note="", target=None):
        node = f"{parent}/{key or kpi}" if parent else key
        self.levels[node] = 0 if parent is None else self.levels[parent] + 1
        name, unit = (name, unit) if name else NODES[kpi]
        baseline = self.f["values"].get(kpi, np.nan) if baseline is None else baseline
        if target is None and pd.notna(change) and pd.notna(baseline):
            target = baseline * (1 + change) if direction == "up" else baseline / (1 + change)
        if unit == "rate" and target is not None and target > 1:
            note = "over 100 %: this lever cannot do it alone"
        b = self.bench.loc[kpi] if kpi in self.bench.index else None
        self.rows.append({"node": node, "parent": parent, "level": self.levels[node], "kpi": kpi,
                          "name": name, "unit": unit, "baseline": baseline, "target": target,
                          "change": target / baseline - 1 if target is not None and baseline
                          else np.nan, "benchmark": np.nan if b is None else b["value"],
                          "benchmark_source": "" if b is None else f"{b['source']} ({b['year']})",
                          "note": note or ("" if pd.notna(baseline) else self.f["notes"].get(kpi)
                                           or "no data for the last 12 months")})
        return node

    def share(self, delta, base):  # the relative change a part needs to bring all of ``delta``
        return delta / base if pd.notna(delta) and base and base > 0 else np.nan

    def email(self, parent, g):
        self.add(self.add(parent, "email_click_rate", change=g), "email_open_rate", change=g)

    def spend(self, parent, channel, g):
        m = self.f["channels"].loc[channel]
        for metric, (num, _, unit, direction, name) in SPEND_METRICS.items():
            self.add(parent, f"{channel}_{metric}", m[metric], g, key=metric, unit=unit,
                     name=f"{cap(label(channel))} {name}", direction=direction, note="" if
                     pd.notna(m[metric]) else f"no {num} for {label(channel)} in marketing_spend")

    def parts(self, parent, counts: pd.Series, delta, what: str):
        """A node per channel (or lead source) with its rates below; ad channels without one too."""
        for channel, n in counts.items():
            g = self.share(delta, n)
            node = self.add(parent, f"{what}_{channel}", n, g, unit="count",
                            name=f"{cap(what)} via {label(channel)}")
            if channel == "email" and pd.notna(self.f["values"].get("email_click_rate")):
                self.email(node, g)
            elif channel in self.f["channels"].index:
                self.spend(node, channel, g)
        for channel, m in self.f["channels"].drop(index=counts.index, errors="ignore").iterrows():
            if channel != "email":
                g = self.share(delta, m[CONVERSIONS])
                self.spend(self.add(parent, f"conversions_{channel}", m[CONVERSIONS], g,
                                    unit="count", name=f"Conversions via {label(channel)} "
                                    "(platform-reported)"), channel, g)

    def objective(self, o: dict):
        kpi, v = o["kpi"], self.f["values"]
        g, base = (np.nan if o.get(k) is None else o[k] for k in ("change", "baseline"))
        root = self.add(None, kpi, base, key=f"{o.get('objective', len(self.rows) + 1)}:{kpi}",
                        name=o["name"], unit=o["unit"], target=o.get("target"),
                        note=o.get("reason") or "")
        if kpi in ("revenue", "orders"):
            parent = self.add(root, "orders", change=g) if kpi == "revenue" else root
            if kpi == "revenue":
                self.add(root, "average_order_value", change=g)
            delta = v.get("orders", np.nan) * g
            self.parts(parent, self.f["orders_by_channel"], delta, "orders")
            web = self.share(delta, v.get("web_sessions", np.nan) * v.get("web_conversion_rate",
                                                                          np.nan))
            self.add(parent, "web_sessions", change=web)
            self.add(parent, "web_conversion_rate", change=web)
        elif kpi == "repeat_rate":
            self.add(root, "active_customers", note="everyone who bought in the year: the base")
            self.add(root, "returning_customers", base * v.get("active_customers", np.nan), g)
            if pd.notna(v.get("email_click_rate")):
                self.email(root, np.nan)
        elif kpi == "leads":
            self.parts(root, self.f["leads_by_source"], base * g, "leads")
            self.add(root, "lead_conversion_rate")
        elif kpi == "email_click_rate":
            self.add(root, "email_open_rate", change=g)


def kpi_tree(plan, objectives: list[dict], *, bench: pd.DataFrame | None = None,
             data: dict | None = None) -> pd.DataFrame:
    """The KPI tree of the objectives (records of objectives.json): per node its ``parent``,
    ``level``, last-12-month ``baseline`` (else a ``note`` says why), ``benchmark`` and ``target``:
    the objective's own, or below it the value the node would need if all of the growth came from
    that lever alone. ``data`` is ``facts(plan)`` when the caller already holds it."""
    bench = benchmarks(plan.settings.business.industry) if bench is None else bench
    tree = _Tree(facts(plan) if data is None else data, bench)
    for o in (o for o in objectives if o.get("kpi")):
        tree.objective(o)
    out = pd.DataFrame(tree.rows, columns=TREE_COLUMNS)
    if plan.currency != "USD":  # the benchmarks' money figures are in US dollars
        out.loc[out["unit"] == "money", ["benchmark", "benchmark_source"]] = [np.nan, ""]
    return out


# ---- where you stand -------------------------------------------------------------------------
def estimate_margin(plan, *, default: float = 0.5) -> tuple[float, str]:
    """The gross margin (1 - cost / price) of what sold, from order_items and products (or the
    product list alone), and how it was found; ``default`` when there are no costs."""
    if plan.has("products"):
        p = plan.prepared("products").dropna(subset=[PRICE, COST]).query(f"{PRICE} > 0")
        if plan.has("order_items") and len(p):
            items = plan.prepared("order_items").merge(p, on="product_id")
            sold, cost = ((items[QUANTITY] * items[c]).sum() for c in (UNIT_PRICE, COST))
            if sold > 0:
                return 1 - cost / sold, "from the cost and selling price of the products you sold"
        if len(p):
            return 1 - p[COST].sum() / p[PRICE].sum(), "from the cost and price of your products"
    return default, "an assumption (no product costs in your data): set gross_margin to yours"


def gross_margin(plan) -> tuple[float, str]:
    """The gross margin step 05 settled on (strategy.json assumptions) and how it was found;
    worked out with ``estimate_margin`` when step 05 has not run."""
    try:
        a = plan.load("strategy.json")["assumptions"]
        return float(a["gross_margin"]), str(a.get("gross_margin_source", "step 05"))
    except (MissingDataError, KeyError, TypeError, ValueError):
        return estimate_margin(plan)


def _low(name: str) -> str:
    return name[:1].lower() + name[1:]


def _versus(plan, r, b) -> tuple[str, float, object]:
    """(sentence, gap, better) for one node against its benchmark row ``b``."""
    fmt = lambda v: format_value(v, r["unit"], plan.currency)  # noqa: E731
    what = f"the {format_value(b['value'], r['unit'], b['currency'] or 'USD')} reported for " \
           f"{b['segment']} by {b['source'].split(',')[0]} ({b['year']})"
    what += "" if b["own_industry"] else ", an all-industry figure (none for your industry)"
    care = f"; read it with care: {b['caveat']}" if b["caveat"] else ""
    if r["unit"] == "money" and b["currency"] and b["currency"] != plan.currency:
        return (f"Your {_low(r['name'])} is {fmt(r['baseline'])}; {what} is in US dollars, so "
                f"convert it before comparing{care}.", np.nan, None)
    gap = r["baseline"] / b["value"] - 1
    up = b["metric"] != "cpc"
    side = ("above" if gap > 0 else "below") if up else ("cheaper than" if gap < 0 else "dearer than")
    better = None if abs(gap) < 0.1 else (gap > 0) == up
    how = "close to (within 10 % of)" if better is None else f"{abs(gap):.0%} {side}"
    return f"Your {_low(r['name'])}, {fmt(r['baseline'])}, is {how} {what}{care}.", gap, better


def _roas(plan, r, margin: float, how: str) -> str:
    verdict = ("above break-even: at face value each unit of ad spend brings back more gross margin "
               "than it costs" if r["baseline"] * margin > 1 else "below break-even: at face "
               "value each unit of ad spend brings back less gross margin than it costs")
    return (f"Your {_low(r['name'])}, {r['baseline']:.2f}, is {verdict} (break-even ROAS "
            f"{1 / margin:.2f} = 1 / your {margin:.0%} gross margin, {how}). Platforms count sales that "
            "would have happened anyway, so the true return is lower (step 11 measures it).")


def where_you_stand(plan, tree: pd.DataFrame, *, gross_margin: float = 0.5,
                    bench: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each KPI of the tree that has a benchmark (or, for ROAS, a break-even value from your
    gross margin): yours, the benchmark, the gap, whether it is better, the source and a sentence.
    ``gross_margin`` is used only when your data has no product costs."""
    bench = (benchmarks(plan.settings.business.industry) if bench is None else bench).set_index("kpi")
    margin, how = estimate_margin(plan, default=gross_margin)
    rows = []
    for _, r in tree.drop_duplicates("kpi").dropna(subset=["baseline"]).iterrows():
        row = {"kpi": r["kpi"], "name": r["name"], "unit": r["unit"], "yours": r["baseline"]}
        if r["kpi"].endswith("_roas"):
            rows.append({**row, "benchmark": 1 / margin, "gap": r["baseline"] * margin - 1,
                         "better": bool(r["baseline"] * margin > 1), "source": f"break-even ROAS, "
                         f"gross margin {how}", "sentence": _roas(plan, r, margin, how)})
        elif r["kpi"] in bench.index:
            b = bench.loc[r["kpi"]]
            sentence, gap, better = _versus(plan, r, b)
            rows.append({**row, "benchmark": b["value"], "gap": gap, "better": better,
                         **{k: b[k] for k in ("segment", "source", "year", "url", "primary",
                                              "caveat", "own_industry")}, "sentence": sentence})
    return pd.DataFrame(rows, columns=["kpi", "name", "unit", "yours", "benchmark", "gap", "better",
                                       "segment", "source", "year", "url", "primary", "caveat",
                                       "own_industry", "sentence"]).astype({"year": "Int64"})


# ---- charts and readings ---------------------------------------------------------------------
def _fmt(plan, value, unit) -> str:
    return "–" if value is None or pd.isna(value) else format_value(
        float(value), unit if unit != "number" else None, plan.currency)


def plot_kpi_tree(plan, tree: pd.DataFrame, *, ax=None):
    """The tree as an indented list: one bar per node for the change it would need alone (clipped
    at +200 %), its baseline -> target and benchmark written to the right."""
    from helpers import plots

    ax = plots.axes(ax, figsize=(10, 0.4 * len(tree) + 1.4))
    change, y = tree["change"].astype(float), np.arange(len(tree))
    colors = [plots.MUTED if pd.isna(c) else plots.PALETTE[2] if abs(c) <= 0.15 else
              plots.PALETTE[1] if abs(c) <= 0.5 else plots.PALETTE[3] for c in change]
    ax.barh(y, change.clip(-1, 2).fillna(0), color=colors)
    names = ["    " * int(r.level) + r.name for r in tree.itertuples()]
    ax.set_yticks(y, names, ha="left")  # left-aligned so that the indents show
    ax.tick_params(axis="y", pad=5.6 * max(map(len, names), default=0))
    for tick, level in zip(ax.get_yticklabels(), tree["level"], strict=True):
        tick.set_fontweight("bold" if level == 0 else "normal")
    for yi, r in zip(y, tree.itertuples(), strict=True):
        text = f"{_fmt(plan, r.baseline, r.unit)} → {_fmt(plan, r.target, r.unit)}" + (
            f"   (benchmark {_fmt(plan, r.benchmark, r.unit)})" if pd.notna(r.benchmark) else "")
        ax.text(1.02, yi, text.replace("$", r"\$"), transform=ax.get_yaxis_transform(), va="center",
                fontsize=9)
    ax.axvline(0, color=plots.MUTED, lw=0.8)
    ax.invert_yaxis()
    plots.percent_axis(ax, axis="x")
    parts = tree[tree["kpi"].str.match("(?:orders|leads|conversions)_") & (tree["change"] > 0)]
    best = parts.loc[parts["change"].idxmin()] if len(parts) else None
    ax.set(xlabel="change needed if this lever alone delivered its objective", title=(
        f"On its own, {_low(best['name'])} would need the smallest rise of any channel "
        f"({best['change']:+.0%})" if best is not None else "What has to move to reach your targets"))
    return ax


def what_this_means_tree(plan, tree: pd.DataFrame) -> str:
    """Per objective: baseline to target, then the change each lever would need on its own: the
    first-level levers, and the easiest and hardest channel."""
    lines = []
    for _, root in tree[tree["level"] == 0].iterrows():
        head = f"{root['name']}: {_fmt(plan, root['baseline'], root['unit'])}"
        if pd.isna(root["target"]):
            lines.append(f"{head}, no target to break down: {root['note'] or 'see step 01.'}")
            continue
        lines.append(f"{head} → {_fmt(plan, root['target'], root['unit'])} ({root['change']:+.1%}).")
        below = tree[tree["node"].str.startswith(root["node"] + "/") & tree["change"].notna()]
        part = below["node"].str.contains("/(?:orders|leads|conversions)_")  # channels and below
        kids = below[~part]
        if len(kids):
            lines.append("If one lever carried it alone: " + "; ".join(
                f"{_low(k['name'])} {k['change']:+.0%} (to {_fmt(plan, k['target'], k['unit'])})"
                for _, k in kids.iterrows()) + ".")
        parts = below[below["kpi"].str.match("(?:orders|leads|conversions)_") & below["change"].gt(0)]
        if len(parts) > 1:
            easy, hard = parts.loc[parts["change"].idxmin()], parts.loc[parts["change"].idxmax()]
            lines.append(f"By channel, {_low(easy['name'])} would need the smallest rise ("
                         f"{easy['change']:+.0%}) and {_low(hard['name'])} the largest ("
                         f"{hard['change']:+.0%}): spread the growth over several channels.")
    if len(over := tree[tree["note"].str.startswith("over 100")]):
        lines.append("Cannot carry the target alone (a rate above 100 %): "
                     + ", ".join(dict.fromkeys(_low(n) for n in over["name"])) + ".")
    return "\n".join(lines) or "No objective to break down: set objectives in step 01."


def readable(plan, frame: pd.DataFrame) -> pd.DataFrame:
    """A tree or where-you-stand table for the screen: values in their unit, changes as %."""
    out = frame.copy().astype(object)
    for col in [c for c in ("baseline", "target", "benchmark", "yours") if c in frame]:
        out[col] = [_fmt(plan, v, u) for v, u in zip(frame[col], frame["unit"], strict=True)]
    for col in [c for c in ("change", "gap") if c in frame]:
        out[col] = ["" if pd.isna(v) else f"{v:+.0%}" for v in frame[col]]
    return out.drop(columns="unit").where(out.notna(), "")


def what_this_means_stand(stand: pd.DataFrame) -> str:
    """How many of your numbers beat their benchmark, then one sentence per number."""
    n = stand["better"].value_counts()
    return "\n".join([f"Of {len(stand)} numbers compared, {n.get(True, 0)} are better than their "
                      f"benchmark, {n.get(False, 0)} worse and {len(stand) - n.sum()} close to it "
                      "or not comparable.", *stand["sentence"]]) if len(stand) else \
        "None of your numbers has a benchmark to compare with."


# ---- the record ------------------------------------------------------------------------------
def readings(plan, *, tree, stand, tests, budget, timeline) -> dict:
    """The notebook's "What this means" texts by section, for strategy.json and the report."""
    return {"tree": what_this_means_tree(plan, tree), "stand": what_this_means_stand(stand),
            "tests": "\n".join(tests["reading"]), "budget": what_this_means_budget(plan, budget),
            "timeline": what_this_means_timeline(timeline)}


def assumptions(plan, *, gross_margin: float, **knobs) -> dict:
    """What the strategy assumed: the notebook's knobs, the margin used and where it came from."""
    margin, source = estimate_margin(plan, default=gross_margin)
    return {"baseline_window": "the 12 months to the analysis date", **knobs,
            "holdout_share": HOLDOUT_SHARE, "ab_share": AB_SHARE, "gross_margin": margin,
            "gross_margin_source": source,
            "ai_tool_costs": "midpoint of each list-price range, in US dollars"}


def artifact(plan, *, tree: pd.DataFrame, stand: pd.DataFrame, tests: pd.DataFrame,
             budget: pd.DataFrame, timeline: pd.DataFrame, assumptions: dict,
             readings: dict) -> dict:
    """The content of strategy.json: the tree, the benchmarks used, where you stand, the test
    plan, the budget plan, the timeline, the assumptions and the readings."""
    bench = benchmarks(plan.settings.business.industry)
    return {"business": plan.name, "as_of": plan.as_of.date(), "currency": plan.currency,
            "kpi_tree": tree.to_dict("records"), "benchmarks": bench[bench["kpi"].isin(tree[
                "kpi"])].to_dict("records"),
            "where_you_stand": stand.to_dict("records"), "test_plan": tests.to_dict("records"),
            "budget_plan": budget.to_dict("records"), "timeline": timeline.to_dict("records"),
            "assumptions": assumptions, "readings": readings}


def step_summary(plan, *, tree: pd.DataFrame, stand: pd.DataFrame, tests: pd.DataFrame,
                 budget: pd.DataFrame, timeline: pd.DataFrame, readings: dict) -> dict:
    """``status``, ``reason``, ``headline``, ``units``, ``summary`` and ``warnings`` for
    ``plan.record_step(5, ...)``; skipped when no objective can be broken down."""
    live = (tests[tests["design"].isin(["ab", "holdout"])] if "design" in tests
            else tests.assign(feasible=[], reading=[]))
    spent, better = budget.groupby("kind")["amount"].sum(), stand["better"].value_counts()
    headline = {"kpi_tree_nodes": len(tree), "better_than_benchmark": int(better.get(True, 0)),
                "worse_than_benchmark": int(better.get(False, 0)), "tests_planned": len(live),
                "tests_feasible": int(live["feasible"].sum()), "media_budget_12m": float(
                    spent.get("media", 0.0)), "ai_tools_12m_usd": float(spent.get("ai_tools", 0.0))}
    units = {k: "count" for k in headline} | {"media_budget_12m": "money",
                                              "ai_tools_12m_usd": "number"}
    if len(timeline):
        headline |= {"first_pilot": f"{timeline['start'].min():%d %b %Y}",
                     "all_scaled_by": f"{timeline['end'].max():%d %b %Y}"}
    warnings = [r for r in live["reading"] if "cannot reach significance" in r]
    warnings += [f"{r['name']}: {r['note']}" for _, r in tree.iterrows()
                 if r["note"] and pd.isna(r["baseline"])]
    reason = "" if len(tree) else "no objective with a KPI to break down: run step 01 first"
    summary = [line for k in ("tree", "tests", "budget", "timeline") for line in
               readings.get(k, "").splitlines()]
    return {"status": "skipped" if reason else "ok", "reason": reason, "headline": headline,
            "units": units, "summary": summary, "warnings": list(dict.fromkeys(warnings))}
