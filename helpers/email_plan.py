"""Step 07: when to e-mail each customer, which automated e-mails (flows) to switch on, and the
Mailchimp file that carries it all.

Send times come from each customer's own opens (the hour, in your time zone, around which they open
most); with fewer than ``min_opens`` opens, their segment's hour, else everyone's. Flows are trigger
rules on your orders: welcome (new sign-ups who have not ordered), win-back (lapsed or high churn
risk) and replenishment (a reminder before a regular's next order is due). Only customers who
agreed to e-mail appear anywhere (``helpers.consent.eligible``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import consent, plots
from helpers.audiences import (
    MAILCHIMP_FILE,
    MAILCHIMP_TODO,
    audience_reading,
    audience_summary,
    check_scores,
    email_audiences,
    mailchimp_import,
    plan_scores,
    top,
)
from helpers.explore import CUSTOMER_ID, ORDER_DATE, known, purchases

OPENED_AT = known("email_events", "opened_at")[0]
SIGNUP_DATE = known("customers", "signup_date")[0]
HOURS = np.arange(24)
MIN_SEGMENT_CUSTOMERS = 30  # a segment's own hour needs this many customers with their own hour
SOURCES = ("own history", "segment", "everyone")


# ---- send times ------------------------------------------------------------------------------
def local_hour(stamps: pd.Series, timezone: str) -> pd.Series:
    """The hour of each timestamp in the business's time zone. Prepared timestamps are already
    naive local times (``helpers.tables.parse_dates``); aware ones are converted first."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_convert(timezone)
    return stamps.dt.hour


def peak_hour(counts: pd.DataFrame) -> pd.Series:
    """Per row of opens by hour (columns 0-23), the hour around which opens peak: each hour's
    count plus half of each neighbour's (around midnight too), so 7, 8, 8, 9 gives 8; ties go
    to the hour with more opens of its own, then the earlier one. Written by hand: no library
    does a circular mode."""
    arr = counts.reindex(columns=HOURS, fill_value=0).to_numpy(float)
    smooth = arr + 0.5 * (np.roll(arr, 1, axis=1) + np.roll(arr, -1, axis=1)) + 1e-6 * arr
    return pd.Series(smooth.argmax(axis=1), index=counts.index)


def _opens(email_events: pd.DataFrame, timezone: str, as_of=None) -> pd.DataFrame:
    o = email_events[email_events[OPENED_AT].notna()]
    if as_of is not None:
        o = o[o[OPENED_AT] < pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)]
    return pd.DataFrame({CUSTOMER_ID: o[CUSTOMER_ID].to_numpy(),
                         "hour": local_hour(o[OPENED_AT], timezone).to_numpy()})


def segment_hours(own_best: pd.Series, segment: pd.Series, *, alpha: float = 0.05
                  ) -> pd.Series:
    """The hour of each segment whose readers keep different hours from everyone else's: the
    commonest best hour among its customers with their own hour (``own_best``), kept only when a
    chi-square test of its 3-hour blocks against the rest's has p < ``alpha`` / segments (a
    Bonferroni correction) and it has ``MIN_SEGMENT_CUSTOMERS`` such customers."""
    from scipy.stats import chi2_contingency

    seg = segment.reindex(own_best.index)
    blocks = pd.crosstab(seg, own_best // 3).reindex(columns=range(8), fill_value=0)
    blocks = blocks[blocks.sum(axis=1) >= MIN_SEGMENT_CUSTOMERS]
    keep = {}
    for name, row in blocks.iterrows():
        table = np.vstack([row.to_numpy(), blocks.sum().to_numpy() - row.to_numpy()])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] > 1 and chi2_contingency(table)[1] < alpha / len(blocks):
            hours = own_best[seg == name].value_counts().reindex(HOURS, fill_value=0)
            keep[name] = int(peak_hour(hours.to_frame().T).iloc[0])
    return pd.Series(keep, dtype="float")


def send_times(email_events: pd.DataFrame, customers: pd.DataFrame, *, timezone: str,
               min_opens: int = 3, segments: pd.DataFrame | None = None,
               as_of=None) -> pd.DataFrame:
    """Best send hour per customer: customer_id, best_hour (0-23, business time), opens_used and
    source: "own history" with ``min_opens`` opens or more; else "segment" when ``segments``
    (customer_id, segment) is given and the customer's segment keeps hours of its own
    (``segment_hours``); else "everyone" (the hour when most e-mails are opened). best_hour is
    missing for all when nobody has opened an e-mail yet."""
    opens = _opens(email_events, timezone, as_of)
    counts = pd.crosstab(opens[CUSTOMER_ID], opens["hour"]).reindex(columns=HOURS, fill_value=0)
    ids = customers[CUSTOMER_ID].drop_duplicates()
    n = counts.sum(axis=1).reindex(ids, fill_value=0)
    out = pd.DataFrame({CUSTOMER_ID: ids.to_numpy(), "best_hour": pd.NA,
                        "opens_used": n.to_numpy(), "source": "everyone"})
    if counts.empty:
        return out.assign(best_hour=pd.array([pd.NA] * len(out), dtype="Int64"))
    own_best = peak_hour(counts)[counts.sum(axis=1) >= max(min_opens, 1)]
    best = pd.Series(int(peak_hour(counts.sum().to_frame().T).iloc[0]), index=ids.to_numpy())
    if segments is not None:
        seg = segments.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID)["segment"]
        seg_best = segment_hours(own_best, seg).reindex(seg.reindex(ids).to_numpy())
        has = seg_best.notna().to_numpy()
        best[has], out.loc[has, "source"] = seg_best[has].to_numpy(), "segment"
    own = ids.isin(own_best.index).to_numpy()
    best[own] = own_best.reindex(ids[own]).to_numpy()
    out.loc[own, "source"] = "own history"
    return out.assign(best_hour=pd.array(best.to_numpy(), dtype="Int64"))


def send_time_data(email_events: pd.DataFrame, *, timezone: str, as_of=None,
                   times: pd.DataFrame | None = None) -> pd.DataFrame:
    """Opens by hour of the day (business time): hour, opens, share_of_opens and, with ``times``
    (``send_times``'s table), customers_best: how many customers read best at that hour."""
    opens = _opens(email_events, timezone, as_of)
    out = opens["hour"].value_counts().reindex(HOURS, fill_value=0).rename("opens")
    out = out.rename_axis("hour").reset_index()
    out["share_of_opens"] = out["opens"] / max(out["opens"].sum(), 1)
    if times is not None:
        own = times[times["source"] == "own history"]["best_hour"].astype(int)
        out["customers_best"] = own.value_counts().reindex(HOURS, fill_value=0).to_numpy()
    return out


def plot_send_times(data: pd.DataFrame, *, timezone: str = "", ax=None):
    """Share of opens by hour of the day, the peak hour highlighted."""
    peak = int(data.loc[data["opens"].idxmax(), "hour"])
    title = f"Opens peak at {peak:02d}:00 ({data['share_of_opens'].max():.0%} of all opens)"
    if "customers_best" in data and data["customers_best"].sum():
        near = data["hour"].isin([(peak - 1) % 24, peak, (peak + 1) % 24])
        other = 1 - data.loc[near, "customers_best"].sum() / data["customers_best"].sum()
        title += f", yet {other:.0%} of your readers open most at another time"
    ax = plots.bar(data.assign(label=data["hour"].map("{:02d}".format)), x="label",
                   y="share_of_opens", highlight=f"{peak:02d}", title=title, ax=ax,
                   xlabel=f"Hour of the day ({timezone or 'your time zone'})",
                   ylabel="Share of all opens (%)")
    return plots.percent_axis(ax)


def campaign_hours(campaigns: pd.DataFrame) -> pd.DataFrame:
    """From campaign reports (no per-person opens): per send hour, campaigns, delivered, opens and
    open_rate. It mixes each campaign's content in with its hour: a hint, not a measurement."""
    need = {"start_date", "delivered", "unique_opens"}
    if not need <= set(campaigns):
        return pd.DataFrame(columns=["hour", "campaigns", "delivered", "opens", "open_rate"])
    c = campaigns.dropna(subset=list(need))
    g = c.groupby(c["start_date"].dt.hour)
    out = pd.DataFrame({"campaigns": g.size(), "delivered": g["delivered"].sum(),
                        "opens": g["unique_opens"].sum()}).rename_axis("hour").reset_index()
    out["open_rate"] = out["opens"] / out["delivered"].where(out["delivered"] > 0)
    return out


# ---- automated flows -------------------------------------------------------------------------
@dataclass(frozen=True)
class FlowRules:
    """The numbers behind the flows' triggers (the defaults suit most small shops)."""

    welcome_days: int = 30      # welcome: signed up within this many days, no order yet
    lapse_factor: float = 2.0   # win-back: no order for this many times the usual gap ...
    lookback_days: int = 365    # ... and last order within this many days (older: one-off only)
    churn_share: float = 0.2    # win-back with scores: the top share by churn risk
    min_orders: int = 3         # replenishment: customers with at least this many order days ...
    min_gap_days: int = 14      # ... who reorder no more often than this
    due_within: int = 14        # ... whose next order is due within this many days
    lead_days: int = 3          # ... reminded this many days before it is due


def cadence(orders: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """Per customer with a purchase by ``as_of``: first, last (days), days (distinct order days)
    and gap (median days between order days; missing with one order day)."""
    buys = purchases(orders, as_of=as_of)
    days = pd.DataFrame({CUSTOMER_ID: buys[CUSTOMER_ID].to_numpy(),
                         "day": buys[ORDER_DATE].dt.normalize().to_numpy()}).drop_duplicates()
    days = days.sort_values([CUSTOMER_ID, "day"])
    days["step"] = days.groupby(CUSTOMER_ID)["day"].diff().dt.days
    g = days.groupby(CUSTOMER_ID)
    return pd.DataFrame({"first": g["day"].min(), "last": g["day"].max(), "days": g.size(),
                         "gap": g["step"].median()})


def _frame(ids, flow: str, when) -> pd.DataFrame:
    ids = np.asarray(ids)
    when = [when] * len(ids) if isinstance(when, pd.Timestamp) else np.asarray(when)
    return pd.DataFrame({CUSTOMER_ID: ids, "flow": flow, "trigger_date": pd.DatetimeIndex(when)})


def flow_members(orders: pd.DataFrame, customers: pd.DataFrame, *, as_of,
                 scores: pd.DataFrame | None = None, rules: FlowRules = FlowRules()
                 ) -> pd.DataFrame:
    """Who is in each flow today (customer_id, flow, trigger_date: when the rule first held, or
    for replenishment the day to send), among customers who may be e-mailed. A customer in
    win-back is not also sent a replenishment reminder."""
    as_of = pd.Timestamp(as_of).normalize()
    people = consent.eligible(customers, purpose="email")[0].set_index(CUSTOMER_ID)
    every = cadence(orders, as_of=as_of)  # the typical gap is everyone's, opted out or not
    c = every.reindex(people.index).dropna(subset=["last"])
    signup = people[SIGNUP_DATE].dt.normalize() if SIGNUP_DATE in people else pd.Series(
        pd.NaT, index=people.index)
    new = signup[(signup > as_of - pd.Timedelta(days=rules.welcome_days)) & (signup <= as_of)]
    new = new[~new.index.isin(c.index)]
    s = check_scores(scores)
    if s is not None and "churn_risk" in s:
        risky = top(s["churn_risk"].reindex(people.index), rules.churn_share)  # as audiences
        risky = risky[risky.to_numpy() & risky.index.isin(c.index)]  # ... who have ordered
        back = _frame(risky.index, "win-back", as_of)
    else:
        gap = c["gap"].fillna(every["gap"].median())
        due = c["last"] + pd.to_timedelta(rules.lapse_factor * gap, unit="D")
        lapsed = (due <= as_of) & (c["last"] > as_of - pd.Timedelta(days=rules.lookback_days))
        back = _frame(c.index[lapsed], "win-back", due[lapsed].dt.normalize())
    regular = c[(c["days"] >= rules.min_orders) & (c["gap"] >= rules.min_gap_days)]
    regular = regular[~regular.index.isin(back[CUSTOMER_ID])]
    nxt = regular["last"] + pd.to_timedelta(regular["gap"].round(), unit="D")
    soon = (nxt > as_of) & (nxt <= as_of + pd.Timedelta(days=rules.due_within))
    remind = _frame(regular.index[soon], "replenishment",
                    nxt[soon] - pd.Timedelta(days=rules.lead_days))
    return pd.concat([_frame(new.index, "welcome", new), back, remind], ignore_index=True)


def flows(orders: pd.DataFrame, customers: pd.DataFrame, *, as_of,
          scores: pd.DataFrame | None = None, rules: FlowRules = FlowRules(),
          members: pd.DataFrame | None = None) -> pd.DataFrame:
    """The flows as trigger rules: flow, trigger (plain words, with your numbers), audience_today
    (customers who qualify today; ``members`` from ``flow_members`` if already computed), timing
    and goal."""
    if members is None:
        members = flow_members(orders, customers, as_of=as_of, scores=scores, rules=rules)
    size = members["flow"].value_counts()
    gap = cadence(orders, as_of=as_of)["gap"].median()
    s = check_scores(scores)
    r = rules
    back = (f"Churn risk among the top {r.churn_share:.0%} of your scored customers (step 06)"
            if s is not None and "churn_risk" in s else
            f"No order for more than {r.lapse_factor:g}x their own usual gap between orders "
            f"(one-time buyers: {r.lapse_factor:g}x your customers' typical {gap:.0f} days), "
            f"with a last order in the past {r.lookback_days} days")
    rows = [
        ("welcome", f"Signed up in the last {r.welcome_days} days and has not ordered yet",
         "On sign-up, then 3 and 7 days later (3 e-mails)",
         "A first order: show your best sellers and how to choose"),
        ("win-back", back, "Once when the rule first holds, one reminder a week later, then stop",
         "Bring them back before they forget you; ask what went wrong"),
        ("replenishment", f"{r.min_orders}+ orders, reordering every {r.min_gap_days}+ days, next "
         f"order due within {r.due_within} days by their own median gap",
         f"{r.lead_days} days before the order is due, every cycle",
         "Make the next order easy: their usual product, one click away"),
    ]
    out = pd.DataFrame(rows, columns=["flow", "trigger", "timing", "goal"])
    out.insert(2, "audience_today", out["flow"].map(size).fillna(0).astype(int))
    return out


# ---- the section of notebook 07 --------------------------------------------------------------
@dataclass(frozen=True)
class EmailResult:
    """E-mail audiences, send times and flows for step 07. ``files`` ({name: DataFrame}, written
    by ``helpers.activation`` as actions/<name>.csv) holds the Mailchimp import file with raw
    addresses, under a name marked as personal data: write it, never show it."""

    supported: bool
    reason: str = ""
    eligibility: pd.DataFrame = field(default_factory=pd.DataFrame)
    audiences: pd.DataFrame = field(default_factory=pd.DataFrame)
    send_times: pd.DataFrame = field(default_factory=pd.DataFrame)
    hours: pd.DataFrame = field(default_factory=pd.DataFrame)  # what plot_send_times draws;
    # without per-person opens (send_times_supported False): open rate by campaign send hour
    send_times_supported: bool = False
    flows: pd.DataFrame = field(default_factory=pd.DataFrame)
    files: dict = field(default_factory=dict, repr=False)
    what_to_do: dict = field(default_factory=dict)
    reading: str = ""
    warnings: list = field(default_factory=list)
    headline: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.reading


def _send_reading(times: pd.DataFrame, hours: pd.DataFrame, min_opens: int) -> str:
    own = times[times["source"] == "own history"]
    peak = int(hours.loc[hours["opens"].idxmax(), "hour"])
    if own.empty:
        return (f"Nobody has opened {min_opens} e-mails yet, so everyone gets the hour when most "
                f"of your e-mails are opened, {peak:02d}:00.")
    gap = (own["best_hour"].astype(int) - peak).abs()
    near = float((np.minimum(gap, 24 - gap) <= 1).mean())
    by_seg = int((times["source"] == "segment").sum())
    rest = (f"{by_seg:,} get their segment's hour and the others everyone's ({peak:02d}:00)"
            if by_seg else f"the others get the hour when most e-mails are opened, {peak:02d}:00")
    return (f"{len(own):,} customers ({len(own) / len(times):.0%}) have opened at least "
            f"{min_opens} e-mails, enough to pick their own hour; {rest}. One send at {peak:02d}:00"
            f" would reach only {near:.0%} of those {len(own):,} readers within an hour of their "
            "usual time.")


def _campaign_reading(c: pd.DataFrame) -> str:
    text = ("Your e-mail data are campaign reports (opens counted per campaign, not per person), "
            "so no customer's own hour can be found: export each recipient's opens with their "
            "times (email_events) to get one.")
    solid = c[c["campaigns"] >= 5].set_index("hour")["open_rate"]
    if len(solid) < 2:
        return text
    low, high = solid.min(), solid.max()
    text += (f" Among the hours you sent 5 or more campaigns at "
             f"({', '.join(f'{h:02d}:00' for h in solid.index)}), ")
    if high - low < 0.03:
        return text + (f"open rates hardly differ ({low:.0%} to {high:.0%}): the hour matters "
                       "less than what you send.")
    return text + (f"{solid.idxmax():02d}:00 had the best open rate ({high:.0%}, against {low:.0%}"
                   f" at {solid.idxmin():02d}:00); content differs too, so treat it as a hint.")


def _flow_reading(table: pd.DataFrame, people: pd.DataFrame, as_of, days: int) -> str:
    n = dict(zip(table["flow"], table["audience_today"], strict=True))
    text = (f"Today {n['welcome']:,} customers qualify for the welcome flow, {n['win-back']:,} "
            f"for win-back and {n['replenishment']:,} for a replenishment reminder.")
    if not n["welcome"] and SIGNUP_DATE in people:
        recent = people[people[SIGNUP_DATE] > pd.Timestamp(as_of) - pd.Timedelta(days=days)]
        if len(recent):
            text += (f" All {len(recent):,} who signed up in the last {days} days have already "
                     "ordered: keep the welcome flow for future sign-ups who have not.")
    return text


def _email_warnings(counts: dict, times: pd.DataFrame, timed: bool) -> list[str]:
    out = []
    if counts.get("consent_unknown"):
        out.append(f"{counts['consent_unknown']:,} customers have no consent_email recorded and "
                   "are left out: ask them to opt in (a sign-up form or a checkout tick box).")
    if counts.get("no_valid_email"):
        out.append(f"{counts['no_valid_email']:,} customers have a blank or malformed e-mail "
                   "address: correct them where your customer list is kept.")
    if timed and len(times):
        own = float((times["source"] == "own history").mean())
        if own < 0.2:
            out.append(f"Only {own:.0%} of your customers have opened enough e-mails for an hour "
                       "of their own; the others share their segment's or everyone's hour.")
    return out


def _send_part(plan, people, segments, min_opens) -> tuple:
    """(send_times, hours, supported, reading) for the section."""
    tz = plan.settings.business.timezone
    if plan.has("email_events"):
        events = plan.prepared("email_events")
        times = send_times(events, people, timezone=tz, min_opens=min_opens, segments=segments,
                           as_of=plan.as_of)
        hours = send_time_data(events, timezone=tz, as_of=plan.as_of, times=times)
        if hours["opens"].sum():
            return times, hours, True, _send_reading(times, hours, min_opens)
        return times, hours, False, "Nobody has opened one of your e-mails yet."
    if plan.has("campaigns") and not (c := campaign_hours(plan.prepared("campaigns"))).empty:
        return pd.DataFrame(), c, False, _campaign_reading(c)
    return pd.DataFrame(), pd.DataFrame(), False, ("Send times need per-person e-mail history. "
                                                   + plan.why_missing("email_events"))


def email_section(plan, *, scores: pd.DataFrame | None = None, min_opens: int = 3,
                  rules: FlowRules = FlowRules()) -> EmailResult:
    """E-mail audiences (RFM segments, propensity bands), send times, flows and the Mailchimp
    import file, for the customers who may be e-mailed only. ``scores``: step 06's scores, else
    scores.parquet from the run folder when it is there."""
    if not plan.has("customers"):
        return EmailResult(False, "E-mail audiences need your customers table with e-mail and "
                           f"consent_email. {plan.why_missing('customers')}")
    from helpers.segments import rfm_table

    scores = plan_scores(plan, scores)
    people, counts = consent.eligible(plan.prepared("customers"), purpose="email",
                                      unsubscribed=consent.unsubscribed_ids(plan))
    if not counts["eligible"]:
        why = ("nobody has both agreed to e-mail and a usable address"
               if consent.CONSENT_EMAIL in plan.prepared("customers") else
               "your customers table has no consent_email column: add one (yes/no) saying who "
               "agreed to your e-mails")
        return EmailResult(False, f"No e-mail audience can be made: {why}.",
                           consent.eligibility_table(counts), reading="No e-mail audience can be "
                           f"made: {why}.", headline={"email_eligible": 0})
    orders = plan.prepared("orders") if plan.has("orders") else None
    segments = rfm_table(orders, as_of=plan.as_of) if orders is not None else None
    aud = email_audiences(people, scores=scores, segments=segments)
    times, hours, timed, send_text = _send_part(plan, people, segments, min_opens)
    text = [consent.eligible_reading(counts), audience_reading(aud, scores)]
    table = pd.DataFrame()
    if orders is not None:
        members = flow_members(orders, people, as_of=plan.as_of, scores=scores, rules=rules)
        table = flows(orders, people, as_of=plan.as_of, scores=scores, rules=rules,
                      members=members)
        aud = pd.concat([aud, members[[CUSTOMER_ID, "flow"]].rename(columns={"flow": "audience"})
                         .assign(kind="flow")], ignore_index=True)
        text.append(_flow_reading(table, people, plan.as_of, rules.welcome_days))
    mailchimp = mailchimp_import(people, aud, times if timed else None)
    files = {MAILCHIMP_FILE: mailchimp} if len(mailchimp) else {}
    warnings = _email_warnings(counts, times, timed)
    headline = {"email_eligible": counts["eligible"],
                "email_left_out": counts["customers"] - counts["eligible"],
                "own_send_hour": int((times["source"] == "own history").sum()) if timed else 0}
    if len(table):
        headline |= {f"{f.replace('-', '_')}_flow": int(n) for f, n in
                     table.set_index("flow")["audience_today"].items()}
    return EmailResult(True, "", consent.eligibility_table(counts), audience_summary(
        aud[aud["kind"] != "flow"]), times, hours, timed, table, files,
        {MAILCHIMP_FILE: MAILCHIMP_TODO} if files else {},
        " ".join(text[:2] + [send_text] + text[2:]), warnings, headline)
