"""Step 11: what your marketing and the AI work bring back, and how far you are toward your goals.

``channel_economics`` sets each channel's spend against what it brought: sales the ad platform
reports, sales your own orders tag with the channel, new customers and their 12-month value.
``objective_progress`` reads step 08's pacing of each objective; ``roi_artifact`` writes roi.json.
The step's other sections have their own modules: ``helpers.attribution``,
``helpers.incrementality`` and ``helpers.ai_roi`` (what the AI work costs against its gains).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from helpers import plots
from helpers.activation import saved_section
from helpers.attribution import in_window
from helpers.errors import MissingDataError
from helpers.explore import CUSTOMER_ID, cap, known, label
from helpers.model_cards import SCORES
from helpers.sections import Section
from helpers.strategy import gross_margin

DATE, CHANNEL, SPEND, CLICKS, CONVERSIONS, PLATFORM_REVENUE = known(
    "marketing_spend", "date", "channel", "spend", "clicks", "conversions", "platform_revenue")
ORDER_DATE, REVENUE = known("orders", "order_date", "revenue")
(ACQUIRED,) = known("customers", "acquisition_channel")
NET = "net_revenue"  # step 04 adds it to orders: refunds counted against the sale
RULE_OF_THUMB = 3.0  # LTV:CAC of 3:1, a common rule of thumb (not a law) for paid acquisition


@dataclass(frozen=True, eq=False)
class EconomicsResult(Section):
    """One row per channel in ``table``: spend, clicks, conversions, conversion rate, CPA,
    platform-reported revenue and its ROAS, revenue of the orders tagged with the channel and its
    ROAS, new customers, CAC, 12-month value (clv_12m) and LTV:CAC on gross profit."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    margin: float = 0.5
    currency: str = "USD"


def _spend(plan, as_of, months) -> pd.DataFrame:
    """Per channel: spend, clicks, conversions and platform revenue of marketing_spend rows dated
    in the window (a row covering a period counts on its first day), the revenue an e-mail tool
    reports per campaign (a campaigns table with `revenue`, e.g. Mailchimp) standing in for
    platform revenue where marketing_spend has none."""
    cols = [SPEND, CLICKS, CONVERSIONS, PLATFORM_REVENUE]
    if not plan.has("marketing_spend"):
        return pd.DataFrame(columns=cols)
    s = in_window(plan.prepared("marketing_spend"), DATE, as_of, months)
    out = s.groupby(CHANNEL)[[c for c in cols if c in s]].sum(min_count=1).reindex(columns=cols)
    if plan.has("campaigns") and {"revenue", "channel", "start_date"} <= set(
            c := plan.prepared("campaigns")):  # an e-mail tool's campaign report (Mailchimp)
        reported = in_window(c, "start_date", as_of, months).groupby("channel")["revenue"].sum(
            min_count=1)
        out = out.reindex(out.index.union(reported.index))
        out[PLATFORM_REVENUE] = out[PLATFORM_REVENUE].fillna(reported.reindex(out.index))
    return out


def _customers(plan, orders: pd.DataFrame, as_of, months) -> pd.DataFrame:
    """Per customer whose first purchase falls in the window: the channel that won them
    (customers.acquisition_channel, else the first order's channel) and their clv_12m."""
    if CUSTOMER_ID not in orders:
        return pd.DataFrame(columns=["channel", "clv_12m"])
    buys = orders[orders[CUSTOMER_ID].notna() & (orders[REVENUE] >= 0)].sort_values(ORDER_DATE)
    first = buys.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID)
    new = in_window(first, ORDER_DATE, as_of, months)
    channel = new[CHANNEL] if CHANNEL in new else pd.Series(np.nan, index=new.index)
    if plan.has("customers") and ACQUIRED in (c := plan.prepared("customers")):
        channel = c.set_index(CUSTOMER_ID)[ACQUIRED].reindex(new.index).fillna(channel)
    out = pd.DataFrame({"channel": channel}).rename_axis(CUSTOMER_ID)
    try:  # step 06's scores only: training the models here would not give clv_12m either
        scores = plan.load(SCORES).set_index(CUSTOMER_ID)
        out["clv_12m"] = scores["clv_12m"].reindex(out.index) if "clv_12m" in scores else np.nan
    except MissingDataError:
        out["clv_12m"] = np.nan
    return out


def channel_economics(plan, *, months: int = 12, as_of=None) -> EconomicsResult:
    """Spend against results per channel over the ``months`` months to ``as_of``."""
    as_of = pd.Timestamp(as_of or plan.as_of)
    margin, _ = gross_margin(plan)
    spend = _spend(plan, as_of, months)
    if not plan.has("orders"):
        reason = f"Channel economics needs your orders. {cap(plan.why_missing('orders'))}"
        return EconomicsResult(False, reason, reason, margin=margin, currency=plan.currency)
    orders = plan.prepared("orders")
    orders = orders[orders[ORDER_DATE] < as_of.normalize() + pd.Timedelta(days=1)]
    o = in_window(orders, ORDER_DATE, as_of, months)
    value = NET if NET in o else REVENUE
    own = (o.groupby(CHANNEL)[value].sum().rename("order_revenue") if CHANNEL in o
           else pd.Series(dtype=float, name="order_revenue"))
    new = _customers(plan, orders, as_of, months)
    won = new.groupby("channel").agg(new_customers=("clv_12m", "size"), clv_12m=("clv_12m", "mean"))
    t = spend.join(own, how="outer").join(won, how="outer").rename_axis("channel")
    t["conversion_rate"] = t[CONVERSIONS] / t[CLICKS].where(t[CLICKS] > 0)
    paid = t[SPEND].where(t[SPEND] > 0)
    t["cpa"] = paid / t[CONVERSIONS].where(t[CONVERSIONS] > 0)
    t["roas_platform"], t["roas_orders"] = t[PLATFORM_REVENUE] / paid, t["order_revenue"] / paid
    t["cac"] = paid / t["new_customers"].where(t["new_customers"] > 0)
    t["ltv_cac"] = t["clv_12m"] * margin / t["cac"]
    t = t.sort_values([SPEND, "order_revenue"], ascending=False, na_position="last")
    t = t[["spend", "clicks", "conversions", "conversion_rate", "cpa", "platform_revenue",
           "roas_platform", "order_revenue", "roas_orders", "new_customers", "cac", "clv_12m",
           "ltv_cac"]].reset_index()
    supported = bool((t[SPEND] > 0).any())
    reason = "" if supported else "ROAS, CPA and CAC need what each channel cost: " + (
        f"your marketing_spend has no spend in the {months} months to {as_of:%d %b %Y}."
        if plan.has("marketing_spend") else
        f"a marketing_spend table. {cap(plan.why_missing('marketing_spend'))}")
    total = float(o[value].sum())
    reading, warnings = _economics_reading(plan, t, margin, months, as_of, total)
    if CHANNEL not in o:
        warnings.insert(0, "Your orders have no channel column, so no sale can be set against a "
                        "channel's spend: add one, or map yours under `data: orders: mapping:`.")
    return EconomicsResult(supported, reason, reason + (" " if reason else "") + reading,
                           tuple(warnings), _economics_headline(t, total), t, margin, plan.currency)


def _economics_headline(t: pd.DataFrame, total: float) -> dict:
    paid = t[t[SPEND] > 0]
    out = {"spend": float(paid[SPEND].sum()), "order_revenue": total}
    if paid["roas_orders"].notna().any():
        best = paid.loc[paid["roas_orders"].idxmax()]
        out |= {"best_roas_channel": str(best["channel"]), "best_roas": float(best["roas_orders"])}
    return out


def _economics_reading(plan, t, margin, months, as_of, total) -> tuple[str, list[str]]:
    m, paid, warnings = plan.money, t[t[SPEND] > 0], []
    text = [f"Over the {months} months to {as_of:%d %b %Y}, your orders brought "
            f"{m(total)}"]
    if paid.empty:
        return text[0] + ", by channel in the table.", warnings
    text[0] += (f" and you spent {m(paid[SPEND].sum())} on {len(paid)} paid "
                f"channel{'s' if len(paid) > 1 else ''}.")
    text.append(f"At your gross margin of {margin:.0%}, a channel pays for itself when each "
                f"{m(1)} brings back {m(1 / margin, decimals=2)} of sales (break-even ROAS "
                f"{1 / margin:.2f}). 'Platform ROAS' is what the ad platform reports; 'order "
                "ROAS' is what your own orders tagged with the channel add up to.")
    ranked = paid.dropna(subset=["roas_orders"]).sort_values("roas_orders", ascending=False)
    if len(ranked):
        text.append("On your own orders: " + ", ".join(
            f"{label(r.channel)} {r.roas_orders:.2f}" for r in ranked.itertuples()) + ".")
        below = ranked[ranked["roas_orders"] < 1 / margin]["channel"].map(label).tolist()
        if below:
            text.append(f"Below break-even on tagged orders: {', '.join(below)}.")
    warnings += [_platform_warning(plan, r) for r in t[t[PLATFORM_REVENUE].notna()].itertuples()
                 if not r.order_revenue * 1.2 >= r.platform_revenue]  # NaN: no tagged orders
    text += _ltv_sentences(plan, paid)
    text += _budget_move(plan, paid)
    untagged = paid.loc[paid["order_revenue"].isna(), "channel"].tolist()
    if untagged and t["order_revenue"].notna().any():
        warnings.append(f"No order is tagged {', '.join(untagged)}, as marketing_spend names "
                        f"{'that channel' if len(untagged) == 1 else 'those channels'}; if your "
                        "orders call a channel something else, use one name in both files so "
                        "sales and spend meet.")
    return " ".join(text), warnings


def _ltv_sentences(plan, paid: pd.DataFrame) -> list[str]:
    if paid["clv_12m"].isna().all():
        return ["LTV:CAC is left blank: it needs step 06's 12-month customer value (clv_12m in "
                "scores.parquet); run notebook 06 with customer_lifetime_value on the shortlist."]
    r = paid.dropna(subset=["ltv_cac"]).sort_values("ltv_cac", ascending=False)
    if r.empty:
        return []
    best = r.iloc[0]
    return [f"A new customer from {label(best['channel'])} cost {plan.money(best['cac'])} to win "
            f"and is expected to bring {plan.money(best['clv_12m'])} of sales in the next 12 "
            f"months on top of what they bought so far: {best['ltv_cac']:.1f} times the cost in "
            "gross profit. A common rule of thumb asks "
            f"for about {RULE_OF_THUMB:.0f}:1 over a customer's whole life; a 12-month value "
            f"understates that. Under 1:1 within a year: "
            f"{', '.join(map(label, r[r['ltv_cac'] < 1]['channel'])) or 'none'}."]


def _platform_warning(plan, r) -> str:
    m, name = plan.money, label(r.channel)
    own = (f"your orders tagged {name} add up to {m(r.order_revenue)}" if r.order_revenue > 0
           else f"none of your orders is tagged {name} to check it against")
    return (f"{name.capitalize()}: the platform reports {m(r.platform_revenue)} of sales and {own}. "
            "A platform counts every order it can link to an ad or a send, buyers who were coming "
            "anyway included, so read its figure as an upper bound: only a holdout test shows "
            "what the channel caused.")


def _budget_move(plan, paid: pd.DataFrame) -> list[str]:
    """Step 07's move, when its response curves disagree with the ranking on tagged orders."""
    try:
        h = saved_section(plan, "budget")["headline"]
        src, dst = h["moved_from"], h["moved_to"]
        roas = paid.set_index("channel")["roas_orders"]
        if not roas[src] > roas[dst]:
            return []
    except (MissingDataError, KeyError, TypeError):
        return []
    return [f"Step 07's response curves, which follow what sales did when spend changed, moved "
            f"budget from {label(src)} to {label(dst)}, although {label(src)} looks better on "
            f"tagged orders ({roas[src]:.2f} against {roas[dst]:.2f}): tagged sales reward the "
            "channel that catches buyers at the last click, not the one that brought them."]


def economics_data(result: EconomicsResult) -> pd.DataFrame:
    """What ``plot_economics`` draws: per paid channel, order ROAS, platform ROAS and LTV:CAC."""
    t = result.table
    return t[t[SPEND] > 0].set_index("channel")[["roas_orders", "roas_platform", "ltv_cac"]]


def plot_economics(result: EconomicsResult, *, ax=None):
    """Bars of each paid channel's returns, with break-even ROAS (1 / margin) and 3:1 marked."""
    data = economics_data(result)
    ax = plots.axes(ax, figsize=(9, 4.5))
    if data.empty:
        return ax
    y, h = np.arange(len(data)), 0.27
    for i, (col, name) in enumerate((("roas_orders", "ROAS on your tagged orders"),
                                     ("roas_platform", "ROAS the platform reports"),
                                     ("ltv_cac", "LTV:CAC (12-month gross profit)"))):
        ax.barh(y + (i - 1) * h, data[col].fillna(0), h, label=name, color=plots.PALETTE[i])
    ax.axvline(1 / result.margin, color=plots.MUTED, ls="--", label="break-even ROAS")
    ax.axvline(RULE_OF_THUMB, color=plots.MUTED, ls=":", label="3:1 rule of thumb")
    ax.set_yticks(y, [label(c) for c in data.index])
    ax.invert_yaxis()
    cur, title = result.currency, f"What each channel brings back per {result.currency}"
    for col, where in (("roas_orders", "on tagged orders"), ("roas_platform", "by its platform")):
        if data[col].notna().any():
            title = f"{label(data[col].idxmax()).capitalize()} returns the most per {cur} {where}"
            break
    ax.set(xlabel=f"{cur} back per {cur} spent", title=title)
    ax.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax


# ---- progress toward the objectives ----------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ProgressResult(Section):
    """Step 08's pacing of every objective (``table``), read as progress toward its target."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    currency: str = "USD"


def objective_progress(plan, *, as_of=None) -> ProgressResult:
    """Every objective of step 01 against its target, from ``monitoring.objective_pacing``."""
    from helpers.plan import format_value

    try:
        table = importlib.import_module("helpers.monitoring").objective_pacing(plan, as_of=as_of)
    except ImportError:
        reason = "Progress needs step 08's pacing (helpers.monitoring), which is not installed."
        return ProgressResult(False, reason, reason, currency=plan.currency)
    if table.empty:
        reason = "There are no objectives to follow: add them under `objectives:` in business.yaml."
        return ProgressResult(False, reason, reason, currency=plan.currency)
    fmt = lambda v, u: format_value(None if pd.isna(v) else float(v), u, plan.currency)  # noqa: E731
    lines = []
    for r in table.itertuples():
        goal = f"{fmt(r.target, r.unit)} by {pd.Timestamp(r.deadline):%d %b %Y}"
        if r.status == "no data" or pd.isna(r.current):
            lines.append(f"{r.name}: no current value to judge yet (target {goal}).")
        elif r.current == r.baseline == r.expected_now:
            lines.append(f"{r.name}: at its baseline of {fmt(r.baseline, r.unit)}, with {goal} "
                         "to reach: the plan starts now.")
        else:
            way = (f"{r.progress:.0%} of the way" if r.progress >= 0 else
                   "below the baseline, moving away from the target")
            lines.append(f"{r.name}: {fmt(r.current, r.unit)} now, from "
                         f"{fmt(r.baseline, r.unit)} toward {goal}; {way} where the plan "
                         f"expected {fmt(r.expected_now, r.unit)} by now: {r.status}.")
    good = table["status"].isin(["ahead", "on track"]).sum()
    starting = bool(((table["current"] == table["baseline"])
                     & (table["expected_now"] == table["baseline"])).all())
    lines.append("Run this step again in a month or two to see the first progress." if starting
                 else f"{good} of {len(table)} objectives are on track or ahead.")
    headline = {"objectives": len(table), "on_track": int(good),
                "behind": int((table["status"] == "behind").sum()), "starting": starting}
    return ProgressResult(True, "", " ".join(lines), (), headline, table, plan.currency)


def plot_progress(result: ProgressResult, *, ax=None):
    """Each objective's progress toward its target (100 %), where it should be by now marked."""
    ax = plots.axes(ax, figsize=(9, 1.2 + 0.6 * max(len(result.table), 1)))
    t = result.table
    if t.empty:
        return ax
    colors = {"ahead": plots.PALETTE[2], "on track": plots.ACCENT, "behind": plots.PALETTE[3]}
    y = np.arange(len(t))
    ax.barh(y, t["progress"].fillna(0).clip(-0.5, 1.5),
            color=[colors.get(s, plots.MUTED) for s in t["status"]])
    expected = (t["expected_now"] - t["baseline"]) / (t["target"] - t["baseline"])
    ax.scatter(expected.clip(-0.5, 1.5), y, marker="|", s=400, color="black",
               label="where the plan expects you now")
    ax.axvline(1, color=plots.MUTED, ls="--", label="target")
    ax.set_yticks(y, t["name"])
    ax.invert_yaxis()
    h = result.headline
    ax.set(title="The plan starts now: every objective is at its baseline" if h["starting"] else
           f"{h['on_track']} of {h['objectives']} objectives on track or ahead",
           xlabel="Progress from baseline to target (%)", xlim=(min(-0.05, ax.get_xlim()[0]),
                                                                max(1.1, ax.get_xlim()[1])))
    plots.percent_axis(ax, axis="x")
    ax.legend(frameon=False, fontsize=9, loc="lower right")
    return ax


# ---- roi.json --------------------------------------------------------------------------------
def roi_artifact(results: dict) -> dict:
    """roi.json: each section's status, reading, warnings, headline and tables (as records)."""
    from helpers.evaluation import json_safe

    out = {}
    for title, r in results.items():
        entry = {"supported": bool(getattr(r, "supported", False)),
                 "reason": getattr(r, "reason", ""), "reading": getattr(r, "reading", ""),
                 "warnings": list(getattr(r, "warnings", ()) or ()),
                 "headline": dict(getattr(r, "headline", None) or {})}
        for f in fields(r) if hasattr(r, "__dataclass_fields__") else ():
            value = getattr(r, f.name)
            if isinstance(value, pd.DataFrame) and not value.empty:
                frame = value.reset_index() if value.index.name else value
                entry[f.name] = frame.astype(object).where(frame.notna(), None).to_dict("records")
        out[title.replace(" ", "_")] = json_safe(entry)
    return out


# The numbers of step 11's sections that the report's headline keeps, and how to show them.
HEADLINE = {"economics": ["spend", "best_roas_channel", "best_roas"],
            "attribution": ["sales_followed", "top_last_touch", "top_gainer"],
            "incrementality": ["incremental_revenue", "revenue_low", "revenue_high"],
            "ai work": ["cost", "gain", "roi", "roi_low", "roi_high", "payback_month"],
            "objectives": ["objectives", "on_track", "behind"]}
UNITS = {"cost": "money", "roi": "percent", "roi_low": "percent", "roi_high": "percent",
         "best_roas": "number", "payback_month": "count"}
