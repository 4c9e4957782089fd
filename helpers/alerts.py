"""Step 08: the alerts -- rule-based actions from pacing, unusual days and model drift.

Each rule of RULES says when it fires, how severe it is and what to do; ``alerts`` applies them at
``as_of`` to the results of ``helpers.monitoring.pacing``, ``helpers.anomalies.anomalies`` and
``helpers.drift.drift`` (computed here when not given) and to your e-mail campaigns, and
``save_alerts`` writes alerts.json, which step 09 reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import anomalies as an
from helpers import drift as dr
from helpers import monitoring as mo
from helpers.activation import saved_section
from helpers.errors import MissingDataError
from helpers.explore import known
from helpers.monitoring import CPA_FACTOR, OFF_BUDGET, PREVIOUS_DAYS, PacingResult
from helpers.plan import format_value
from helpers.sections import Section
from helpers.strategy import gross_margin

DATE, CHANNEL, CAMPAIGN_ID, SPEND, CONVERSIONS, PLATFORM_REVENUE = known(
    "marketing_spend", "date", "channel", "campaign_id", "spend", "conversions", "platform_revenue")
START = known("campaigns", "start_date")[0]
DAY = pd.Timedelta(days=1)
ARTIFACT = "alerts.json"

RULES = [  # when each alert fires and what to do; "{best}" and "{cause}" are filled in
    {"id": "cpa_above_target", "severity": "high",
     "when": "a channel's daily cost per conversion is above its target on 7 spending days in a "
             "row; the target is its own cost per conversion over the 90 days before the "
             "window x 1.2 (a day with spend and no conversion counts as above)",
     "action": "Move part of this channel's budget to {best} and check its targeting and bids."},
    {"id": "roas_below_break_even", "severity": "high",
     "when": "a channel's daily ROAS (platform revenue / spend) is below break-even (1 / gross "
             "margin) on 14 spending days in a row",
     "action": "Pause its weakest campaigns or cut its budget until the return is back above "
               "break-even."},
    {"id": "open_rate_drop", "severity": "medium",
     "when": "the last 3 e-mail campaigns' open rate (opens within 3 days of the send) is at "
             "least 20 % below the previous 10 campaigns' and over 2 binomial standard errors "
             "below it",
     "action": "Check your list's health: bounces, unsubscribes and spam complaints; remove "
               "addresses that have not opened in six months and test a new subject line."},
    {"id": "unsubscribe_spike", "severity": "medium",
     "when": "the last 3 e-mail campaigns' unsubscribe rate is at least 20 % above the previous "
             "10 campaigns' and over 2 binomial standard errors above it",
     "action": "Look at what changed in the last sends (how often, to whom, what) and e-mail "
               "people who rarely open less often."},
    {"id": "anomaly", "severity": "medium or low",
     "when": "a day's number is further from its expected value than the threshold (robust z); "
             "medium when it is at least 50 % off or zero, low otherwise",
     "action": "Investigate that day: {cause}."},
    {"id": "drift_major", "severity": "high",
     "when": "the scores of a step-06 model, or one of its inputs, moved by a PSI over 0.25 "
             "since the model was tested (an input that grows with time for everyone, such as "
             "e-mails received, counts only when the scores moved too)",
     "action": "Retrain the model in step 06 before using its scores for the next campaign."},
    {"id": "drift_moderate", "severity": "low",
     "when": "any other shift of a step-06 model's inputs or scores (PSI over 0.1)",
     "action": "Watch it: check again next month and retrain if it keeps moving."},
    {"id": "objective_behind", "severity": "medium",
     "when": "an objective's KPI is behind the path to its target by more than its ordinary "
             "variation",
     "action": "Review the step-05 plan for this KPI: which lever (traffic, conversion, order "
               "value, repeat buying) is short, and move effort there."},
    {"id": "overspend", "severity": "medium",
     "when": "a channel spent more than 15 % over its budget in the window",
     "action": "Lower the channel's daily budget in its ad platform to the monthly plan."},
    {"id": "underspend", "severity": "low",
     "when": "a channel spent more than 15 % under its budget in the window",
     "action": "Check that its campaigns run (approved ads, payment, daily caps), or move the "
               "unused budget to {best}."},
]
RULE = {r["id"]: r for r in RULES}
SEVERITY = ("high", "medium", "low")
OPEN_DAYS, RECENT, PREVIOUS, RELATIVE, STANDARD_ERRORS = 3, 3, 10, 0.2, 2.0
CPA_DAYS, ROAS_DAYS = 7, 14  # spending days in a row that fire the two daily rules
MIN_EVENTS = 5  # fewer opens or unsubscribes than this: the standard error is not to be trusted
ALERT_COLUMNS = ["id", "rule", "severity", "what", "evidence", "action", "section"]


def streak(flags) -> int:
    """How many of the last values are True in a row."""
    run = 0
    for flag in reversed(list(flags)):
        if not flag:
            break
        run += 1
    return run


def channel_streaks(daily: pd.DataFrame, *, as_of, window_days: int = 28,
                    break_even: float = np.nan, factor: float = CPA_FACTOR) -> pd.DataFrame:
    """Per channel, from daily rows (date, channel, spend, conversions, platform_revenue):
    ``cpa_target`` (CPA over the 90 days before the window x ``factor``), ``days_cpa_above`` and
    ``days_roas_below`` (spending days in a row up to ``as_of`` above the target / below
    ``break_even``) and ``last_cpa`` / ``last_roas`` over those days."""
    as_of = pd.Timestamp(as_of)
    first = as_of - (window_days - 1) * DAY
    before = daily[(daily[DATE] < first) & (daily[DATE] >= first - PREVIOUS_DAYS * DAY)]
    b = before.groupby(CHANNEL)[[SPEND, CONVERSIONS]].sum()
    target = factor * b[SPEND] / b[CONVERSIONS].where(b[CONVERSIONS] > 0)
    recent = daily[(daily[DATE] >= first) & (daily[DATE] <= as_of) & (daily[SPEND] > 0)]
    rows = []
    for ch, d in recent.sort_values(DATE).groupby(CHANNEL):
        conv = d[CONVERSIONS] if CONVERSIONS in d else pd.Series(np.nan, index=d.index)
        cpa = np.where(conv > 0, d[SPEND] / conv.where(conv > 0),
                       np.where(conv == 0, np.inf, np.nan))
        roas = d[PLATFORM_REVENUE] / d[SPEND] if PLATFORM_REVENUE in d else conv * np.nan
        n_cpa, n_roas = streak(cpa > target.get(ch, np.nan)), streak(roas < break_even)
        run_cpa, run_roas = d.iloc[len(d) - n_cpa:], d.iloc[len(d) - n_roas:]
        conv_sum = run_cpa[CONVERSIONS].sum() if CONVERSIONS in d else np.nan
        rows.append({CHANNEL: ch, "cpa_target": target.get(ch, np.nan), "days_cpa_above": n_cpa,
                     "last_cpa": (run_cpa[SPEND].sum() / conv_sum if conv_sum > 0 else np.inf)
                     if n_cpa else np.nan, "days_roas_below": n_roas,
                     "last_roas": run_roas[PLATFORM_REVENUE].sum() / run_roas[SPEND].sum()
                     if n_roas else np.nan})
    return pd.DataFrame(rows, columns=[CHANNEL, "cpa_target", "days_cpa_above", "last_cpa",
                                       "days_roas_below", "last_roas"])


def email_campaigns(plan, *, as_of=None) -> pd.DataFrame:
    """One row per e-mail campaign whose opens are complete at ``as_of`` (sent 3+ days before
    its end): campaign_id, sent_at, sent, opens (within 3 days of the send), unsubscribes; from
    email_events, else from a campaign report with delivered / unique_opens (e.g. Mailchimp)."""
    end = an.resolve_as_of(plan, as_of) + DAY
    cols = ["campaign_id", "sent_at", "sent", "opens", "unsubscribes"]
    if plan.has("email_events"):
        e = plan.prepared("email_events")
        e = e[e["sent_at"] < end]
        opened = e["opened_at"].lt(end) & (e["opened_at"] - e["sent_at"]).le(OPEN_DAYS * DAY)
        out = pd.DataFrame({"sent_at": e.groupby("campaign_id")["sent_at"].min(),
                            "sent": e.groupby("campaign_id").size(),
                            "opens": opened.groupby(e["campaign_id"]).sum(),
                            "unsubscribes": e["unsubscribed"].fillna(False).astype(int).groupby(
                                e["campaign_id"]).sum()}).reset_index()
    elif plan.has("campaigns") and {"delivered", "unique_opens"} <= set(plan.prepared("campaigns")):
        c = plan.prepared("campaigns")
        c = c[c[START] < end].reindex(columns=[CAMPAIGN_ID, START, "delivered", "unique_opens",
                                               "unsubscribes"])
        out = c.set_axis(cols, axis=1)
        for col in ("sent", "opens", "unsubscribes"):  # an extra column may be read as text
            out[col] = pd.to_numeric(out[col], errors="coerce")
        out = out.dropna(subset=["sent"])
    else:
        return pd.DataFrame(columns=cols)
    out = out[(out["sent"] > 0) & (out["sent_at"] + OPEN_DAYS * DAY <= end)]
    return out.sort_values("sent_at", ignore_index=True)[cols]


def email_checks(campaigns: pd.DataFrame, *, recent: int = RECENT, previous: int = PREVIOUS,
                 relative: float = RELATIVE, z: float = STANDARD_ERRORS) -> list[dict]:
    """open_rate_drop and unsubscribe_spike (see RULES) on campaigns sorted by send time: the
    last ``recent`` pooled against the ``previous`` before them."""
    if len(campaigns) < recent + previous:
        return []
    last, before, out = campaigns.iloc[-recent:], campaigns.iloc[-recent - previous:-recent], []
    for rule, col, up in (("open_rate_drop", "opens", False),
                          ("unsubscribe_spike", "unsubscribes", True)):
        if col not in campaigns or before[col].isna().all() or last[col].isna().all():
            continue
        p0, p1 = before[col].sum() / before["sent"].sum(), last[col].sum() / last["sent"].sum()
        se = math.sqrt(p0 * (1 - p0) / last["sent"].sum())
        gap = (p1 - p0) if up else (p0 - p1)
        if gap > relative * p0 and gap > z * se and last[col].sum() >= MIN_EVENTS:
            what = "open rate" if col == "opens" else "unsubscribe rate"
            out.append({"rule": rule, "what": f"E-mail {what} {'up' if up else 'down'} "
                        f"{gap / p0:.0%} over the last {recent} campaigns", "evidence":
                        f"{p1:.2%} of {last['sent'].sum():,.0f} e-mails against {p0:.2%} over the "
                        f"{previous} campaigns before: {gap / se:.1f} standard errors."})
    return out


@dataclass(frozen=True, eq=False)
class AlertsResult(Section):
    """The alerts (ALERT_COLUMNS, most severe first), the drift rows for alerts.json, the rules."""

    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ALERT_COLUMNS))
    drift: tuple[dict, ...] = ()
    rules: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(RULES))
    as_of: pd.Timestamp | None = None


def _fmt(value, unit: str, currency: str) -> str:
    return "n/a" if pd.isna(value) else format_value(float(value), unit or "count", currency)


def _alert(rule: str, subject: str, what: str, evidence: str, section: str, *,
           severity: str | None = None, **fill) -> dict:
    return {"id": f"{rule}:{subject}", "rule": rule, "severity": severity or RULE[rule]["severity"],
            "what": what, "evidence": evidence, "action": RULE[rule]["action"].format(**fill),
            "section": section}


def _best_channel(plan, channels: pd.DataFrame, exclude: str) -> str:
    """Where an extra unit of spend returns most: step 07's budget move, else the best ROAS."""
    try:
        moved_to = saved_section(plan, "budget").get("headline", {}).get("moved_to")
    except (MissingDataError, KeyError, TypeError, AttributeError):
        moved_to = None
    if moved_to and moved_to != exclude:
        return f"{moved_to} (step 07's budget plan moves money there)"
    others = channels[(channels[CHANNEL] != exclude) & channels["roas"].notna()]
    if len(others):
        best = others.loc[others["roas"].idxmax()]
        return f"{best[CHANNEL]} (the best platform-reported ROAS, {best['roas']:.2f})"
    return "your best-returning channel"


def _pacing_alerts(plan, p: PacingResult, as_of) -> list[dict]:
    out, fmt = [], lambda v, u: _fmt(v, u, plan.currency)  # noqa: E731
    for r in p.objectives[p.objectives["status"] == "behind"].itertuples():
        out.append(_alert("objective_behind", r.kpi, f"{r.name} is behind the path to its "
                          "target", f"{fmt(r.current, r.unit)} over the 12 months to "
                          f"{as_of:%d %b %Y} against {fmt(r.expected_now, r.unit)} expected by "
                          f"now; {r.progress:.0%} of the way to {fmt(r.target, r.unit)}.",
                          "pacing"))
    for r in p.channels.itertuples():
        if abs(r.spend_vs_budget) > OFF_BUDGET:
            rule = "overspend" if r.spend_vs_budget > 0 else "underspend"
            out.append(_alert(rule, r.channel, f"{r.channel} spent {r.spend_vs_budget:+.0%} "
                              f"against its budget", f"{plan.money(r.spend)} in the last "
                              f"{p.window_days} days against {plan.money(r.budget)} budgeted "
                              f"({r.budget_source}).", "pacing",
                              best=_best_channel(plan, p.channels, r.channel)))
    return out


def streak_alerts(streaks: pd.DataFrame, *, break_even: float, money=str,
                  best=lambda channel: "your best-returning channel") -> list[dict]:
    """cpa_above_target (7+ days in a row) and roas_below_break_even (14+) from
    ``channel_streaks``; ``money`` formats an amount, ``best(channel)`` names where to move."""
    out = []
    for r in streaks[streaks["days_cpa_above"] >= CPA_DAYS].itertuples():
        cost = money(r.last_cpa) if np.isfinite(r.last_cpa) else "no conversion at all"
        out.append(_alert("cpa_above_target", r.channel, f"{r.channel}'s cost per conversion is "
                          "above its target", f"above {money(r.cpa_target)} (its previous-90-day "
                          f"cost x {CPA_FACTOR}) on the last {r.days_cpa_above} spending days; "
                          f"over them: {cost}.", "pacing", best=best(r.channel)))
    for r in streaks[streaks["days_roas_below"] >= ROAS_DAYS].itertuples():
        out.append(_alert("roas_below_break_even", r.channel, f"{r.channel} returns less than "
                          "it costs", f"ROAS {r.last_roas:.2f} over the last {r.days_roas_below} "
                          f"spending days, each below break-even {break_even:.2f}.", "pacing"))
    return out


def _daily_alerts(plan, p: PacingResult, as_of) -> list[dict]:
    if not plan.has("marketing_spend"):
        return []
    break_even = 1 / gross_margin(plan)[0]
    daily, _ = an.daily_spend(plan, as_of=as_of)
    streaks = channel_streaks(daily, as_of=as_of, window_days=p.window_days,
                              break_even=break_even)
    return streak_alerts(streaks, break_even=break_even,
                         money=lambda v: plan.money(v, decimals=2),
                         best=lambda ch: _best_channel(plan, p.channels, ch))


def _change_alerts(result_a, result_d) -> list[dict]:
    out = []
    if result_a is not None and result_a.supported:
        for day, t in result_a.table.groupby("date", sort=False):
            big = (t["change"].abs() >= 0.5).any() or (t["actual"] == 0).any()
            out.append(_alert("anomaly", f"{day:%Y-%m-%d}", f"Unusual {day:%a %d %b %Y}: " + ", "
                              .join(f"{m} {c:+.0%}" if pd.notna(c) else m for m, c in
                                    zip(t["metric"], t["change"], strict=True)), "; ".join(
                                  f"{r.metric} {r.actual:,.0f} against about {r.expected:,.0f} "
                                  f"expected (robust z {r.robust_z:+.1f})" for r in t.itertuples()),
                              "anomalies", severity="medium" if big else "low",
                              cause=t["likely_cause"].iloc[0]))
    if result_d is not None and result_d.supported:
        for model, t in result_d.table.groupby("model", sort=False):
            rule = {"retrain": "drift_major", "watch": "drift_moderate"}.get(dr.verdict(t))
            hit = t[t["band"] != "stable"].sort_values("psi", ascending=False)
            if rule:
                out.append(_alert(rule, model, f"The {model.replace('_', ' ')} model sees "
                                  f"different people from those it was tested on", "; ".join(
                                      f"{r.label}: PSI {r.psi:.2f} ({r.band})"
                                      for r in hit.itertuples()), "drift"))
    return out


def alerts(plan, *, pacing=None, anomalies=None, drift=None, as_of=None) -> AlertsResult:
    """Every alert the RULES raise at ``as_of``; the sections not given are computed here."""
    as_of = an.resolve_as_of(plan, as_of)
    p = pacing if pacing is not None else mo.pacing(plan, as_of=as_of)
    a = anomalies if anomalies is not None else an.anomalies(plan, as_of=as_of)
    d = drift if drift is not None else dr.drift(plan, as_of=as_of)
    found = _pacing_alerts(plan, p, as_of) + _daily_alerts(plan, p, as_of) if p.supported else []
    found += [_alert(c["rule"], "email", c["what"], c["evidence"], "email")
              for c in email_checks(email_campaigns(plan, as_of=as_of))]
    found += _change_alerts(a, d)
    table = pd.DataFrame(found, columns=ALERT_COLUMNS)
    table = table.sort_values("severity", key=lambda s: s.map(SEVERITY.index), kind="stable",
                              ignore_index=True)
    counts = {k: int((table["severity"] == k).sum()) for k in SEVERITY}
    rows = d.table[["model", "feature", "psi", "band"]].to_dict("records") if d.supported else []
    skipped = [f"{name}: {r.reason}" for name, r in (("pacing", p), ("unusual days", a),
                                                      ("drift", d)) if not r.supported]
    return AlertsResult(True, "", table=table, drift=tuple(rows), rules=pd.DataFrame(RULES),
                        reading=_alerts_reading(table, counts, as_of), warnings=tuple(skipped),
                        headline=counts, as_of=as_of)


def _alerts_reading(table: pd.DataFrame, counts: dict, as_of) -> str:
    if table.empty:
        return (f"No rule fired on {as_of:%d %b %Y}: spend, returns, e-mail health, daily "
                "numbers and the models are within their usual range. Nothing needs action.")
    lines = [f"{len(table)} alert(s) on {as_of:%d %b %Y}: " + ", ".join(
        f"{n} {k}" for k, n in counts.items() if n) + ". Most pressing:"]
    lines += [f"[{r.severity}] {r.what}. {r.action}" for r in table.head(3).itertuples()]
    return "\n".join(lines)


def alerts_record(result: AlertsResult) -> dict:
    """The content of alerts.json: as_of, the alerts, the drift rows and the counts by severity."""
    return {"as_of": f"{result.as_of:%Y-%m-%d}",
            "alerts": result.table[ALERT_COLUMNS].to_dict("records"),
            "drift": [{k: r[k] for k in ("model", "feature", "psi", "band")} for r in result.drift],
            "counts": {k: int(result.headline.get(k, 0)) for k in SEVERITY}}


def save_alerts(plan, result: AlertsResult):
    """Write alerts.json in the run folder; returns its path."""
    return plan.save(ARTIFACT, alerts_record(result))
