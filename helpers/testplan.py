"""Step 05: what your volumes let you test, when each pilot runs, and the budget by month.

Rates and volumes of the last 12 months to ``plan.as_of`` (also from aggregated reports), minimum
detectable effects and sample sizes with statsmodels, the pilot timeline and the budget plan.
``helpers.strategy`` builds the KPI tree and the step's record on these.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers import schemas
from helpers.explore import known, label
from helpers.kpis import DAY, add_months, baselines

DATE, CHANNEL, SPEND, IMPRESSIONS, CLICKS, CONVERSIONS, PLATFORM_REVENUE = known(
    "marketing_spend", "date", "channel", "spend", "impressions", "clicks", "conversions",
    "platform_revenue")
CUSTOMER_ID, REVENUE = known("orders", "customer_id", "revenue")
# channel metrics from marketing_spend: numerator, denominator, unit, direction, name
SPEND_METRICS = {"ctr": (CLICKS, IMPRESSIONS, "rate", "up", "click-through rate"),
                 "cpc": (SPEND, CLICKS, "money", "down", "cost per click"),
                 "conversion_rate": (CONVERSIONS, CLICKS, "rate", "up", "conversion rate per click"),
                 "roas": (PLATFORM_REVENUE, SPEND, "number", "up", "ROAS as the platform reports it")}


# ---- the last 12 months of data: rates and volumes -------------------------------------------
def last_year(plan) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of the 12 months to ``plan.as_of`` (the window of every baseline)."""
    return add_months(plan.as_of, -12) + DAY, plan.as_of


def in_last_year(plan, frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows of ``frame`` dated within the 12 months to ``plan.as_of``, its whole last day included."""
    start, end = last_year(plan)
    return frame[(frame[column] >= start) & (frame[column] < end + DAY)]


def channel_metrics(plan) -> pd.DataFrame:
    """Per marketing_spend channel over the last 12 months: the sums, then CTR, cost per click,
    conversion rate per click and ROAS (blank where a column is empty or a denominator zero)."""
    if not plan.has("marketing_spend"):
        return pd.DataFrame(columns=[SPEND, *SPEND_METRICS])
    s = in_last_year(plan, plan.prepared("marketing_spend"), DATE)
    cols = [SPEND, IMPRESSIONS, CLICKS, CONVERSIONS, PLATFORM_REVENUE]
    out = s.groupby(CHANNEL)[[c for c in cols if c in s]].sum(min_count=1).reindex(columns=cols)
    for metric, (num, den, *_) in SPEND_METRICS.items():
        out[metric] = out[num] / out[den].where(out[den] > 0)
    return out


def aggregated(plan) -> dict[str, tuple[float, float, str]]:
    """(hits, units, what a unit is) of the e-mail and website rates over the last 12 months from
    aggregated reports: campaigns with delivered / unique_opens / unique_clicks (a Mailchimp
    report) and web_traffic (GA4)."""
    out, num = {}, lambda col: pd.to_numeric(col, errors="coerce").sum()  # noqa: E731
    c = plan.prepared("campaigns") if plan.has("campaigns") else pd.DataFrame()
    if {"start_date", "delivered", "unique_opens", "unique_clicks"} <= set(c):
        c = in_last_year(plan, c, "start_date")
        for kpi, col in (("email_open_rate", "unique_opens"), ("email_click_rate", "unique_clicks")):
            out[kpi] = (num(c[col]), num(c["delivered"]), "e-mails delivered")
    if plan.has("web_traffic"):
        w = in_last_year(plan, plan.prepared("web_traffic"), "date")
        out["web_conversion_rate"] = (num(w["conversions"]), num(w["sessions"]), "website visits")
    return out


# ---- power -----------------------------------------------------------------------------------
def _solver(sd):
    from statsmodels.stats.power import NormalIndPower, TTestIndPower

    return NormalIndPower() if sd is None else TTestIndPower()


def sample_size(baseline: float, target: float, *, sd: float | None = None, alpha: float = 0.05,
                power: float = 0.8, ratio: float = 1.0) -> int:
    """Units the treated group needs to tell ``target`` from ``baseline`` (two-sided test); the
    control group needs ``ratio`` times as many.

    A rate (``sd`` None) uses Cohen's h (``proportion_effectsize``) and ``NormalIndPower``; a mean
    (revenue per customer) uses (target - baseline) / sd and ``TTestIndPower``.

    >>> sample_size(0.20, 0.22)
    6508
    """
    from statsmodels.stats.proportion import proportion_effectsize

    effect = abs(proportion_effectsize(target, baseline) if sd is None else (target - baseline) / sd)
    return int(math.ceil(_solver(sd).solve_power(effect_size=effect, nobs1=None, alpha=alpha,
                                                 power=power, ratio=ratio)))


def mde(baseline: float, units: float, *, sd: float | None = None, share: float = 0.5,
        alpha: float = 0.05, power: float = 0.8) -> tuple[float, float]:
    """The minimum detectable effect, (relative, absolute), with ``units`` split between a test
    group and a control group of ``share``; NaN when too few units to detect any rise."""
    n1, ratio = units * (1 - share), share / (1 - share)
    if n1 < 2 or n1 * ratio < 2 or not baseline > 0:
        return np.nan, np.nan
    try:
        effect = _solver(sd).solve_power(effect_size=None, nobs1=n1, alpha=alpha, power=power,
                                         ratio=ratio)
    except (ValueError, RuntimeError):
        return np.nan, np.nan
    if sd is not None:
        return effect * sd / baseline, effect * sd
    phi = math.asin(math.sqrt(baseline)) + float(effect) / 2  # invert Cohen's h
    p1 = math.sin(phi) ** 2 if phi < math.pi / 2 else np.nan
    return p1 / baseline - 1, p1 - baseline


# ---- what each test can detect ---------------------------------------------------------------
METRICS = {"email_open_rate": ("email_events", "e-mail open rate"), "email_click_rate": (
    "email_events", "e-mail click rate"), "conversion_rate": ("web_sessions", "website conversion "
    "rate"), "repeat_rate": ("orders", "repeat rate"), "lead_conversion_rate": ("leads", "lead "
    "conversion rate"), "revenue_per_customer": ("orders", "revenue per customer"), "engagement_rate":
    ("social_posts", "social engagement rate"), "roas": ("marketing_spend", "return on ad spend")}


def _volume(units: float, hits: float, days: int, what: str, sd=None, mean=None, pool=0) -> dict:
    base = (hits / units if units else np.nan) if mean is None else mean
    return {"baseline": base, "sd": sd, "per_day": units / days, "pool": pool, "units": what,
            "note": ""}


def metric_volume(plan, metric: str) -> dict:
    """The metric's last-12-month ``baseline`` (and ``sd`` for a mean), what a unit is
    (``units``), how many come a day (``per_day``) and, for customers, how many can join on day one
    (``pool``: those who bought in the last 12 months), or a ``note`` naming the data to add."""
    start, end = last_year(plan)
    days, (table, name) = (end - start).days + 1, METRICS.get(metric, ("", metric))
    key = "web_conversion_rate" if metric == "conversion_rate" else metric
    if table and not plan.has(table) and (agg := aggregated(plan).get(key)):
        return _volume(agg[1], agg[0], days, agg[2])
    if metric == "roas" or not table:
        return {"baseline": np.nan, "note": f"the {name} is measured on money spent, not on "
                "people or visits: test it by pausing or cutting one channel for a few weeks, or "
                "by comparing regions with and without the ads, then read it in step 11."}
    if not plan.has(table):
        return {"baseline": np.nan, "note": f"the {name} needs your {table} table: "
                f"{plan.why_missing(table)}"}
    f = in_last_year(plan, plan.prepared(table), schemas.TABLES[table].date_column)
    yes = {"email_open_rate": "opened_at", "email_click_rate": "clicked_at"}.get(metric, "converted")
    if table in ("email_events", "web_sessions", "leads"):
        hits = f[yes].notna().sum() if table == "email_events" else f[yes].fillna(False).sum()
        return _volume(len(f), hits, days, {"email_events": "e-mails sent", "leads": "leads"}.get(
            table, "website visits"))
    if table == "social_posts":
        return _volume(f["impressions"].sum(), f["engagements"].sum(), days, "impressions")
    per = f[f[CUSTOMER_ID].notna()].groupby(CUSTOMER_ID)[REVENUE].sum()
    rate, new = baselines(plan, ["repeat_rate", "new_customers"], prepared=True)["last_12m"].fillna(0.0)
    kw = {"sd": per.std(), "mean": per.mean()} if metric == "revenue_per_customer" else {}
    return _volume(new, rate * new, days, "new customers", pool=len(per), **kw)


def _fmt(value, sd) -> str:
    return f"{value:,.2f}" if sd is not None else f"{value:.1%}"


def _rise(value) -> str:
    return f"{value:+.0%}" if pd.notna(value) else "none (too few units)"


def _power_row(v: dict, name: str, metric: str, design: str, *, lift, alpha, power, share,
               max_days, horizons) -> dict:
    base, sd, per_day, units, pool = (v.get(k) for k in ("baseline", "sd", "per_day", "units",
                                                         "pool"))
    what = (f"an A/B test ({1 - share:.0%} / {share:.0%})" if design == "ab" else
            f"a holdout ({share:.0%} held back)") + f" on the {METRICS[metric][1]}"
    ratio, target = share / (1 - share), base * (1 + lift)
    kw = {"sd": sd, "alpha": alpha, "power": power}
    n1 = sample_size(base, target, ratio=ratio, **kw) if sd is not None or target < 1 else np.nan
    n2 = math.ceil(n1 * ratio) if pd.notna(n1) else np.nan
    days = (horizons[0] if n1 + n2 <= pool else math.ceil((n1 + n2 - pool) / per_day)
            if pd.notna(n1) and per_day > 0 else np.nan)
    row = {"baseline": base, "sd": sd, "units": units, "units_per_day": per_day, "pool": pool,
           "control_share": share, "target": target, "n_treatment": n1, "n_control": n2,
           "days_needed": days, "feasible": bool(days <= max_days)}
    for d in (*horizons, max_days):
        row[f"mde_{d}d"], row[f"mde_abs_{d}d"] = mde(base, pool + per_day * d, share=share, **kw)
    best, who = row[f"mde_{max_days}d"], "customers" if pool else units
    flow = f"about {per_day:,.1f} {units} a day" + (f" on top of the {pool:,} customers of the "
                                                    "last 12 months" if pool else "")
    row["test_days"] = days if row["feasible"] else max_days
    row["reading"] = (
        f"{name}: {what}, now {_fmt(base, sd)}, with {flow}. To detect a {lift:.0%} rise (to "
        f"{_fmt(target, sd)}) at {alpha:.0%} significance and {power:.0%} power it needs {n1:,} "
        f"{who} in the test group and {n2:,} in the control group: {days} days. Over "
        f"{horizons[0]} days the smallest rise it could detect is {_rise(row[f'mde_{horizons[0]}d'])}."
        if row["feasible"] else
        f"{name}: with {flow}, {what} cannot reach significance within {max_days} days: a "
        f"{lift:.0%} rise needs " + (f"{n1 + n2:,} {who}, about {days:,} days" if pd.notna(days)
                                    else "a rate above 100 %") + f". In {max_days} days the "
        f"smallest rise it could detect is {_rise(best)}."
        " Instead: test a bolder change, pool several weeks or sends into one test, or compare "
        "before and after against a holdout region.")
    return row


def _backtest_row(plan, name: str, metric: str, need: int) -> dict:
    table = METRICS.get(metric, ("orders", ""))[0]
    if not plan.has(table):
        return {"feasible": False, "reading": f"{name}: a backtest needs your {table} table: "
                f"{plan.why_missing(table)}"}
    have = int((plan.as_of - plan.prepared(table)[schemas.TABLES[table].date_column].min()).days // 7)
    return {"weeks_available": have, "weeks_needed": need, "feasible": (enough := have >= need),
            "reading": (
        f"{name}: a backtest (learn on the past, check on the latest weeks) needs about {need} "
        f"weeks of {table}, a year to learn from and a quarter to check on; you have {have}. "
        + ("Enough to start." if enough else f"Start with a simple rule and backtest from about "
           f"{plan.as_of + pd.Timedelta(weeks=need - have):%b %Y}."))}


HOLDOUT_SHARE, AB_SHARE = 0.2, 0.5  # share held back in a holdout; share shown B in an A/B test
SHOWN = {"units_per_day": "{:,.1f}", "mde_28d": "{:+.0%}", "mde_56d": "{:+.0%}",
         "mde_90d": "{:+.0%}", "n_treatment": "{:,.0f}", "n_control": "{:,.0f}",
         "days_needed": "{:,.0f}"}


def test_plan_table(tests: pd.DataFrame):
    """The test plan for the screen: one row per use case, lifts as percentages."""
    shown = ["name", "design", "metric", "units", *SHOWN, "feasible"]
    return tests.reindex(columns=shown).set_index("name").style.format(SHOWN, na_rep="")


def test_plan(plan, use_cases: list[dict], *, target_lift: float = 0.10, alpha: float = 0.05,
              power: float = 0.8, max_test_days: int = 90, holdout_share: float = HOLDOUT_SHARE,
              ab_share: float = AB_SHARE, horizons: tuple[int, ...] = (28, 56, 90),
              backtest_weeks: int = 65) -> pd.DataFrame:
    """One row per use case (catalogue entries with ``test: {design, metric}``): for an A/B test
    or a holdout, the baseline, units a day, the minimum detectable effect over each horizon
    (``mde_28d`` relative, ``mde_abs_28d`` absolute...), group sizes and days needed for
    ``target_lift``; for a backtest, weeks of history against needed; and a reading."""
    rows, volumes = [], {}
    for uc in use_cases:
        test = uc.get("test") or {}
        design, metric = test.get("design", "none"), test.get("metric", "none")
        row = {"use_case": uc["id"], "name": uc["name"], "design": design, "metric": metric}
        if design in ("ab", "holdout"):
            v = volumes[metric] = volumes.get(metric) or metric_volume(plan, metric)
            if not v["baseline"] > 0 or not (v.get("per_day") or v.get("pool")):
                row |= {"feasible": False, "reading": f"{uc['name']}: cannot plan its test yet: "
                        + (v["note"] or "no 12-month baseline above zero to measure a rise on.")}
            else:
                row |= _power_row(v, uc["name"], metric, design, lift=target_lift, alpha=alpha,
                                  power=power, max_days=max_test_days, horizons=horizons,
                                  share=holdout_share if design == "holdout" else ab_share)
        elif design == "backtest":
            row |= _backtest_row(plan, uc["name"], metric, backtest_weeks)
        else:
            row |= {"feasible": True, "reading": f"{uc['name']}: no test planned; watch its KPI "
                    "against the target every month (step 08)."}
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["use_case", "name", "design", "metric",
                                                         "feasible", "reading"])


# ---- the timeline ----------------------------------------------------------------------------
def timeline(plan, use_cases: list[dict], tests: pd.DataFrame, *, max_parallel_pilots: int = 2,
             scale_weeks: int = 8, no_test_weeks: int = 4) -> pd.DataFrame:
    """Pilot (``time_to_value_weeks``), test (the test plan's days in whole weeks, or
    ``no_test_weeks``) and scale for each use case, in the order given, from the first Monday
    after ``plan.as_of``; a pilot starts only when fewer than ``max_parallel_pilots`` are running."""
    monday = plan.as_of.normalize() + pd.Timedelta(days=7 - plan.as_of.weekday())  # strictly after
    free = [monday] * max(1, max_parallel_pilots)
    days = tests.set_index("use_case")["test_days"] if "test_days" in tests else pd.Series()
    rows = []
    for uc in use_cases:
        slot = int(np.argmin(free))
        start, d = free[slot], days.get(uc["id"], np.nan)
        weeks = {"pilot": math.ceil(uc.get("time_to_value_weeks") or no_test_weeks),
                 "test": math.ceil(d / 7) if pd.notna(d) else no_test_weeks, "scale": scale_weeks}
        free[slot] = start + pd.Timedelta(weeks=weeks["pilot"])
        for phase, n in weeks.items():
            end = start + pd.Timedelta(weeks=n)
            rows.append({"use_case": uc["id"], "name": uc["name"], "phase": phase,
                         "start": start, "end": end, "weeks": n})
            start = end
    return pd.DataFrame(rows, columns=["use_case", "name", "phase", "start", "end", "weeks"])


def plot_timeline(tl: pd.DataFrame, *, ax=None):
    """A Gantt chart: one row per use case, its pilot, test and scale phases as bars."""
    import matplotlib.dates as mdates

    from helpers import plots

    names = list(dict.fromkeys(tl["name"]))
    ax = plots.axes(ax, figsize=(10, 0.7 * len(names) + 1.6))
    for (phase, p), color in zip(tl.groupby("phase", sort=False), plots.PALETTE, strict=False):
        ax.barh([names.index(n) for n in p["name"]], (p["end"] - p["start"]).dt.days,
                left=mdates.date2num(p["start"]), color=color, label=phase, height=0.6)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.set(xlabel="", title=f"{len(names)} pilots, staggered: the last one is scaled up by "
           f"{tl['end'].max():%d %b %Y}" if len(tl) else "No use case shortlisted yet")
    if len(tl):
        ax.legend(frameon=False, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    return ax


def what_this_means_timeline(tl: pd.DataFrame) -> str:
    """When each use case pilots, tests and scales."""
    lines, wk = [], lambda n: f"{n} week{'s' if n != 1 else ''}"  # noqa: E731
    for name, g in tl.groupby("name", sort=False):
        p = g.set_index("phase")
        lines.append(f"{name}: pilot from {p.at['pilot', 'start']:%d %b %Y} ({wk(p.at['pilot', 'weeks'])}"
                     f"), test for {wk(p.at['test', 'weeks'])}, scale from "
                     f"{p.at['scale', 'start']:%d %b %Y} to {p.at['scale', 'end']:%d %b %Y}.")
    return "\n".join(lines) or "No use case selected yet: choose them in step 03."


# ---- the budget plan -------------------------------------------------------------------------
def channel_split(plan) -> tuple[pd.Series, str]:
    """Each channel's share of the budget, and where it came from: budget.by_channel, else the
    spend of the last 12 months, else evenly across `channels`."""
    by = plan.settings.budget.by_channel
    if by:
        s = pd.Series(by, dtype=float)
        return s / s.sum(), "budget.by_channel in business.yaml"
    spend = channel_metrics(plan)[SPEND].dropna()
    if spend.sum() > 0:
        return spend / spend.sum(), "your spend by channel over the last 12 months"
    channels = plan.settings.channels or ["unallocated"]
    return pd.Series(1 / len(channels), index=channels), "an even split across your channels"


def seasonal_index(plan, *, low: float = 0.7, high: float = 1.3) -> pd.Series:
    """Each calendar month's weight (1 = an average month) from your revenue per day, capped to
    ``low``-``high``; flat without 12 complete months of orders."""
    from helpers.trends import month_profile

    prof = month_profile(plan.prepared("orders"), as_of=plan.as_of) if plan.has("orders") else []
    if len(prof) < 12:
        return pd.Series(1.0, index=range(1, 13))
    return pd.Series(prof["vs_average"].to_numpy(), index=range(1, 13)).clip(low, high)


def budget_plan(plan, *, seasonal: bool = True, use_cases: list[dict] = (),
                timeline: pd.DataFrame | None = None, months: int = 12) -> pd.DataFrame:
    """The media budget by month and channel for the ``months`` after ``plan.as_of`` (budget.monthly
    split by ``channel_split``, weighted by ``seasonal_index`` and renormalised so the year
    totals months x monthly), plus the AI tools of ``use_cases`` at the midpoint of their list
    price (USD) from the month their pilot starts, as a line of their own."""
    b = plan.settings.budget
    monthly, (shares, _) = b.monthly or sum(b.by_channel.values()), channel_split(plan)
    periods = pd.period_range(plan.as_of.to_period("M") + 1, periods=months, freq="M")
    w = (seasonal_index(plan) if seasonal else pd.Series(1.0, index=range(1, 13)))[periods.month]
    w = w.to_numpy() / w.mean()
    rows = [{"month": p.to_timestamp(), "channel": c, "item": c, "amount": monthly * s * wi,
             "kind": "media", "currency": plan.currency}
            for p, wi in zip(periods, w, strict=True) for c, s in shares.items()]
    starts = {} if timeline is None or timeline.empty else \
        timeline[timeline["phase"] == "pilot"].set_index("use_case")["start"].to_dict()
    for uc in use_cases:
        cost = float(np.mean(uc.get("monthly_cost") or [0, 0]))
        begin = pd.Timestamp(starts.get(uc["id"], periods[0].to_timestamp())).to_period("M")
        rows += [{"month": p.to_timestamp(), "channel": "AI tools", "item": uc["name"],
                  "amount": cost, "kind": "ai_tools", "currency": "USD"}
                 for p in periods if p >= begin and cost > 0]
    return pd.DataFrame(rows, columns=["month", "channel", "item", "amount", "kind", "currency"])


def plot_budget(plan, budget: pd.DataFrame, *, ax=None):
    """Stacked bars of each month's budget by channel (AI tools only when you budget in USD)."""
    from helpers import plots

    ax = plots.axes(ax, figsize=(10, 4.5))
    shown = budget[budget["currency"] == plan.currency]
    table = shown.pivot_table(index="month", columns="channel", values="amount", aggfunc="sum",
                              sort=False).fillna(0.0)
    bottom = np.zeros(len(table))
    for i, col in enumerate(table.columns):
        ax.bar(table.index.strftime("%b %y"), table[col], bottom=bottom, label=label(col),
               color=plots.PALETTE[i % len(plots.PALETTE)])
        bottom += table[col].to_numpy()
    media = budget[budget["kind"] == "media"].groupby("month")["amount"].sum()
    title = (f"{plan.money(media.sum())} of media over {len(media)} months, most in "
             f"{media.idxmax():%B %Y} ({plan.money(media.max())})" if media.sum() else "No budget yet")
    ax.set(ylabel=f"budget ({plan.currency})", title=title.replace("$", r"\$"))
    plots.money_axis(ax, plan.currency)
    ax.legend(frameon=False, fontsize=9, ncols=2)
    return ax


def what_this_means_budget(plan, budget: pd.DataFrame) -> str:
    """The year's media budget, its split and monthly range, and the AI tools on top."""
    media, b = budget[budget["kind"] == "media"], plan.settings.budget
    if media["amount"].sum() <= 0:
        return "No marketing budget is set: add `budget: monthly:` (and `by_channel:`) to business.yaml."
    m = media.groupby("month")["amount"].sum()
    split = ", ".join(f"{label(c)} {plan.money(v)}" for c, v in
                      media.groupby("channel", sort=False)["amount"].sum().items())
    text = [f"Media budget {m.index[0]:%b %Y} to {m.index[-1]:%b %Y}: {plan.money(m.sum())}, split "
            f"by {channel_split(plan)[1]}: {split}.",
            f"Weighted by your sales season (capped at 0.7-1.3 of an average month), it runs from "
            f"{plan.money(m.min())} in {m.idxmin():%B} to {plan.money(m.max())} in {m.idxmax():%B}."
            if m.max() - m.min() > 0.5 else f"The same {plan.money(m.iloc[0])} every month."]
    if b.by_channel and b.monthly and abs(sum(b.by_channel.values()) - b.monthly) > 0.5:
        text.append(f"budget.by_channel adds up to {plan.money(sum(b.by_channel.values()))}, not "
                    f"the monthly {plan.money(b.monthly)}: the plan keeps the monthly total.")
    if (tools := budget.loc[budget["kind"] == "ai_tools", "amount"].sum()) > 0:
        text.append(f"AI tools add about ${tools:,.0f} over the year at list prices (US dollars, "
                    "midpoint of each range), paid outside the media budget.")
    return "\n".join(text)
