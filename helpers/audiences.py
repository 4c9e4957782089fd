"""Step 07: the e-mail audiences and the ad-platform lists.

Consent comes first: every list is built from ``helpers.consent.eligible`` customers only, so a
customer who said no (or whose consent is unknown) never reaches a file. Ad lists (Meta Custom
Audiences, Google Customer Match) carry SHA-256 hashes of the trimmed, lower-cased e-mail, under
the header each platform documents; the Mailchimp file must hold the addresses themselves
(Mailchimp matches contacts on them), so it is only ever written to a file, never shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.consent import (
    CONSENT_ADS,
    CUSTOMER_ID,
    EMAIL,
    RULES,
    eligibility_table,
    eligible,
    eligible_reading,
    hash_email,
    unsubscribed_ids,
)
from helpers.errors import DataError, UnknownNameError
from helpers.explore import known
from helpers.prepare import NET_REVENUE

ORDER_DATE = known("orders", "order_date")[0]
PLATFORMS = {"meta": "email", "google": "Email"}  # the e-mail column header each one documents
SEEDS = ("high_propensity", "lookalike")
MIN_LIST = 100  # both Meta and Google ask for at least 100 people
MAILCHIMP_EMAIL, MAILCHIMP_TAGS, MAILCHIMP_HOUR = "Email Address", "Tags", "Send Hour"
MAILCHIMP_FILE = "mailchimp_tags_contains_emails"  # written as actions/<name>.csv
MAILCHIMP_TODO = ("Mailchimp > Audience > Add contacts > Import contacts: upload this file, map "
                  "Email Address, Tags (as tags) and Send Hour (a new number field), tick 'update "
                  "existing contacts' and import as Subscribed (everyone in it agreed to e-mail). "
                  "It holds e-mail addresses: delete it after the import and never share it.")
NO_ORDER = "No order on file"
BANDS = ("Likely to buy soon", "Might buy", "Unlikely to buy soon")  # top 20 %, next 30 %, rest
HIGH_CHURN = "High churn risk"
TAG_PREFIX = {"segment": "Segment", "propensity": "Propensity", "churn": "Churn risk",
              "flow": "Flow", "all": "List"}


def check_scores(scores: pd.DataFrame | None) -> pd.DataFrame | None:
    """The scores frame (one row per customer_id), or a DataError naming the missing column."""
    if scores is None:
        return None
    if CUSTOMER_ID not in scores:
        raise DataError(f"the scores table has no `{CUSTOMER_ID}` column (it has "
                        f"{', '.join(map(str, scores.columns))}): pass step 06's scores "
                        "(scores.parquet), one row per customer_id.")
    return scores.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID)


def top(values: pd.Series, share: float) -> pd.Series:
    """Whether each value is among the highest ``share`` (at least one when there are values);
    ties are broken by position, so the list has exactly that size."""
    values = values.dropna()
    n = math.ceil(share * len(values)) if len(values) else 0
    return values.rank(ascending=False, method="first") <= n


def bands(values: pd.Series, *, top_share: float = 0.2) -> pd.Series:
    """Propensity bands: the top ``top_share``, the next 30 %, the rest (``BANDS``)."""
    values = values.dropna()
    first, second = top(values, top_share), top(values, min(top_share + 0.3, 1.0))
    return pd.Series(BANDS[2], index=values.index).mask(second, BANDS[1]).mask(first, BANDS[0])


def email_audiences(customers: pd.DataFrame, *, scores: pd.DataFrame | None = None,
                    segments: pd.DataFrame | None = None, top_share: float = 0.2) -> pd.DataFrame:
    """One row per customer and audience (customer_id, audience, kind), for customers who may be
    e-mailed: the RFM segment (kind "segment"; "No order on file" without orders) when ``segments``
    (customer_id, segment) is given, the propensity band and a high churn-risk audience when
    ``scores`` (customer_id, propensity and/or churn_risk) is given; else one list of everyone."""
    people = eligible(customers, purpose="email")[0][CUSTOMER_ID]
    parts, s = [], check_scores(scores)

    def rows(ids, audience, kind):
        parts.append(pd.DataFrame({CUSTOMER_ID: np.asarray(ids), "audience": np.asarray(
            audience, dtype=object) if not isinstance(audience, str) else audience,
            "kind": kind}))

    if segments is not None:
        seg = segments.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID)["segment"]
        rows(people, seg.reindex(people).fillna(NO_ORDER), "segment")
    if s is not None and "propensity" in s:
        band = bands(s["propensity"].reindex(people), top_share=top_share)
        rows(band.index, band, "propensity")
    if s is not None and "churn_risk" in s:
        risky = top(s["churn_risk"].reindex(people), top_share)
        rows(risky.index[risky.to_numpy()], HIGH_CHURN, "churn")
    if not parts:
        rows(people, "Everyone", "all")
    return pd.concat(parts, ignore_index=True)


SUGGEST = {BANDS[0]: "Your next offer or launch goes here first; no discount needed.",
           BANDS[1]: "A reminder of what they bought, with a reason to come back now.",
           BANDS[2]: "Keep to your regular newsletter; do not spend offers here.",
           HIGH_CHURN: "A personal win-back message before they drift away.",
           NO_ORDER: "Welcome series with a first-order reason.", "Everyone": "Your newsletter."}


def audience_summary(audiences: pd.DataFrame) -> pd.DataFrame:
    """Per audience: kind, customers, their share of the e-mail list and a suggested message."""
    from helpers.segments import ACTIONS

    total = audiences[CUSTOMER_ID].nunique()
    out = audiences.groupby(["kind", "audience"], sort=False).size().rename("customers")
    out = out.reset_index()
    out["share_of_list"] = out["customers"] / total if total else 0.0
    out["suggestion"] = out["audience"].map({**ACTIONS, **SUGGEST}).fillna("")
    order = {k: i for i, k in enumerate(TAG_PREFIX)}
    out = out.sort_values(["kind", "customers"], key=lambda c: c.map(order) if c.name == "kind"
                          else -c, kind="stable")
    return out[["audience", "kind", "customers", "share_of_list", "suggestion"]].reset_index(
        drop=True)


def audience_reading(aud: pd.DataFrame, scores=None) -> str:
    """What the e-mail audiences (``email_audiences``) say, in words, from their sizes."""
    seg = aud[aud["kind"] == "segment"]["audience"].value_counts()
    text, buyers = [], seg.drop(NO_ORDER, errors="ignore")
    if len(buyers):
        champions = ("" if buyers.index[0] == "Champions" else
                     f", and {buyers.get('Champions', 0):,} are Champions")
        text.append(f"Of those who may be e-mailed, {buyers.sum():,} have ordered: the largest "
                    f"segment is {buyers.index[0]} ({buyers.iloc[0]:,}){champions}.")
    if seg.get(NO_ORDER):
        text.append(f"{seg[NO_ORDER]:,} have no order on file (subscribers, or buyers from "
                    "before your order history starts).")
    likely = int((aud["audience"] == BANDS[0]).sum())
    if likely:
        text.append(f"{likely:,} are likely to buy soon by step 06's model: send them your next "
                    "launch first.")
    elif scores is None:
        text.append("With step 06's scores, the list also splits by how likely each customer "
                    "is to buy soon.")
    if (risky := int((aud["audience"] == HIGH_CHURN).sum())):
        text.append(f"{risky:,} have a high churn risk.")
    return " ".join(text)


@dataclass(frozen=True)
class Seed:
    """A list of customers for an ad platform: who (customer_id, email, value), on what basis, and
    whether it could be built (``supported``/``reason``)."""

    customers: pd.DataFrame = field(repr=False)
    basis: str
    supported: bool = True
    reason: str = ""
    value_share: float | None = None  # lookalike: the seed's share of all eligible value


def recent_value(orders: pd.DataFrame, *, as_of, days: int = 365) -> pd.Series:
    """Net revenue per customer over the ``days`` days to ``as_of`` (refunds count against it)."""
    end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    o = orders[(orders[ORDER_DATE] < end) & (orders[ORDER_DATE] >= end - pd.Timedelta(days=days))]
    col = NET_REVENUE if NET_REVENUE in o else "revenue"
    return o.groupby(CUSTOMER_ID)[col].sum()


def _rfm_rank(orders: pd.DataFrame, as_of) -> pd.Series:
    from helpers.segments import rfm_table

    rfm = rfm_table(orders, as_of=as_of).set_index(CUSTOMER_ID)
    return rfm["r"] * 100 + rfm["f"] * 10 + rfm["m"]  # recency first, then frequency, then value


def seed_customers(customers: pd.DataFrame, scores: pd.DataFrame | None = None, *,
                   seed_for: str = "lookalike", top_share: float = 0.2,
                   orders: pd.DataFrame | None = None, as_of=None) -> Seed:
    """The ad-eligible customers for a list: ``high_propensity`` = the top ``top_share`` by
    propensity (by RFM rank when no scores: recent, frequent buyers); ``lookalike`` = the top
    ``top_share`` by value (clv_12m from scores, else net revenue over the last 365 days)."""
    if seed_for not in SEEDS:
        raise UnknownNameError.for_name(seed_for, SEEDS, what="list")
    people = eligible(customers, purpose="ads")[0].set_index(CUSTOMER_ID)
    s, has_orders = check_scores(scores), orders is not None and as_of is not None
    if seed_for == "high_propensity" and s is not None and "propensity" in s:
        rank, basis = s["propensity"], "the step 06 propensity model"
    elif seed_for == "high_propensity" and has_orders:
        rank, basis = _rfm_rank(orders, as_of), ("RFM scores (recent, frequent buyers first), "
                                                 "because no propensity scores were given")
    elif seed_for == "lookalike" and s is not None and "clv_12m" in s:
        rank, basis = s["clv_12m"], "predicted 12-month customer value (step 06)"
    elif seed_for == "lookalike" and has_orders:
        rank, basis = recent_value(orders, as_of=as_of), "net revenue over the last 12 months"
    else:
        need = "propensity scores from step 06" if seed_for == "high_propensity" else \
            "orders (or a clv_12m score from step 06)"
        return Seed(pd.DataFrame(columns=[CUSTOMER_ID, EMAIL, "value"]), "", False,
                    f"the {seed_for.replace('_', '-')} list needs {need}.")
    rank = rank.reindex(people.index).dropna()
    rank = rank[rank > 0] if seed_for == "lookalike" else rank
    chosen = rank[top(rank, top_share)].sort_values(ascending=False)
    frame = pd.DataFrame({CUSTOMER_ID: chosen.index, EMAIL: people[EMAIL].reindex(chosen.index)
                          .to_numpy(), "value": chosen.to_numpy()})
    share = float(chosen.sum() / rank.sum()) if seed_for == "lookalike" and rank.sum() else None
    return Seed(frame, basis, value_share=share)


def match_file(seed: pd.DataFrame, *, platform: str = "meta", with_value: bool = False
               ) -> pd.DataFrame:
    """A customer-match file: the platform's e-mail header holding SHA-256 hashes only (plus
    Meta's ``value`` column for a value-based lookalike); one row per distinct address."""
    if platform not in PLATFORMS:
        raise UnknownNameError.for_name(platform, PLATFORMS, what="platform")
    out = pd.DataFrame({PLATFORMS[platform]: hash_email(seed[EMAIL]).to_numpy()})
    if with_value and platform == "meta":
        out["value"] = pd.to_numeric(seed["value"], errors="coerce").round(2).to_numpy()
    return out.dropna(subset=[PLATFORMS[platform]]).drop_duplicates(PLATFORMS[platform]) \
        .reset_index(drop=True)


def customer_match(customers: pd.DataFrame, scores: pd.DataFrame | None = None, *,
                   platform: str = "meta", top_share: float = 0.2, seed_for: str = "lookalike",
                   orders: pd.DataFrame | None = None, as_of=None) -> pd.DataFrame:
    """The upload file for ``platform`` ("meta" or "google") of the ``seed_for`` list
    ("high_propensity" or "lookalike"; see ``seed_customers``): hashed e-mails only, under the
    platform's documented header. Empty (with the header) when the list cannot be built."""
    seed = seed_customers(customers, scores, seed_for=seed_for, top_share=top_share,
                          orders=orders, as_of=as_of)
    return match_file(seed.customers, platform=platform, with_value=seed_for == "lookalike")


def mailchimp_import(customers: pd.DataFrame, audiences: pd.DataFrame,
                     send_hours: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mailchimp's import layout: "Email Address", "Tags" (the customer's audiences as
    "Kind: audience", comma-separated in one cell) and, with ``send_hours`` (customer_id,
    best_hour), "Send Hour" (0-23, your time zone). Only customers who may be e-mailed.

    The file holds raw e-mail addresses: write it as ``MAILCHIMP_FILE`` and never display it.
    """
    people = eligible(customers, purpose="email")[0]
    a = audiences[audiences[CUSTOMER_ID].isin(people[CUSTOMER_ID])]
    label = a["kind"].map(TAG_PREFIX).fillna("List") + ": " + a["audience"].astype(str)
    label = label.str.replace(",", " ", regex=False).str.slice(0, 100)  # no commas, <= 100 chars
    tags: dict[str, list] = {}
    for cid, tag in dict.fromkeys(zip(a[CUSTOMER_ID], label, strict=True)):  # fast on big lists
        tags.setdefault(cid, []).append(tag)
    out = pd.DataFrame({MAILCHIMP_EMAIL: people[EMAIL].to_numpy(), MAILCHIMP_TAGS: [
        ", ".join(tags.get(cid, [])) for cid in people[CUSTOMER_ID]]})
    if send_hours is not None:
        hours = send_hours.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID)["best_hour"]
        out[MAILCHIMP_HOUR] = hours.reindex(people[CUSTOMER_ID]).astype("Int64").to_numpy()
    return out


# ---- the section of notebook 07 --------------------------------------------------------------
def plan_scores(plan, scores: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """``scores`` as given, else step 06's scores.parquet from the run folder when it is there."""
    from helpers.model_cards import SCORES

    if scores is None and plan.path(SCORES).exists():
        scores = plan.load(SCORES)
    check_scores(scores)
    return scores


@dataclass(frozen=True)
class AudienceResult:
    """Ad-platform lists: counts to show, the files to write ({name: DataFrame}, hashed only;
    ``helpers.activation`` writes each as actions/<name>.csv) with a line each on what to do with
    them, the reading, warnings and headline numbers."""

    supported: bool
    reason: str = ""
    eligibility: pd.DataFrame = field(default_factory=pd.DataFrame)
    lists: pd.DataFrame = field(default_factory=pd.DataFrame)
    files: dict = field(default_factory=dict, repr=False)
    what_to_do: dict = field(default_factory=dict)
    reading: str = ""
    warnings: list = field(default_factory=list)
    headline: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.reading


WHAT_TO_DO = {
    "meta": "Meta Ads Manager > Audiences > Create audience > Custom audience > Customer list: "
            "upload this file (the email column holds SHA-256 hashes, no addresses){extra}.",
    "google": "Google Ads > Tools > Audience manager > Customer lists > Upload e-mails, choosing "
              "hashed data: the Email column holds SHA-256 hashes{extra}.",
}
EXTRA = {"high_propensity": ", then target it with your next offer",
         "lookalike": ", then build a lookalike (Meta: similar audience) from it to find new "
                      "customers like your best ones"}


def _ads_reading(counts: dict, seeds: dict, plan) -> str:
    text = [eligible_reading(counts, purpose="ads")]
    for name, seed in seeds.items():
        if not seed.supported:
            text.append(f"No {name.replace('_', '-')} list: {seed.reason}")
        elif name == "high_propensity":
            text.append(f"The high-propensity list holds {len(seed.customers):,} people, chosen "
                        f"by {seed.basis}.")
        else:
            value = seed.customers["value"].sum()
            text.append(f"The lookalike seed holds your {len(seed.customers):,} best customers "
                        f"by {seed.basis}: {plan.money(value)} together, "
                        f"{seed.value_share:.0%} of the value of everyone on ad lists.")
    return " ".join(text)


def audiences_section(plan, *, scores: pd.DataFrame | None = None,
                      top_share: float = 0.2) -> AudienceResult:
    """Hashed customer-match files for Meta and Google: the high-propensity list and the
    lookalike seed (the top ``top_share`` of ad-eligible customers each), with who was left out.
    ``scores``: step 06's scores (customer_id, propensity, churn_risk, clv_12m), else
    scores.parquet from the run folder, else RFM rank and last-year revenue stand in."""
    if not plan.has("customers"):
        return AudienceResult(False, "Ad lists need your customers table with e-mail and "
                              f"consent_ads. {plan.why_missing('customers')}")
    customers, scores = plan.prepared("customers"), plan_scores(plan, scores)
    orders = plan.prepared("orders") if plan.has("orders") else None
    people, counts = eligible(customers, purpose="ads", unsubscribed=unsubscribed_ids(plan))
    if not counts["eligible"]:
        why = ("your customers table has no consent_ads column: add one (yes/no) saying who "
               "agreed to see your ads" if CONSENT_ADS not in customers else
               "nobody has both agreed to ads and a usable e-mail address")
        return AudienceResult(False, f"No ad list can be made: {why}.",
                              eligibility_table(counts), reading=f"No ad list can be made: "
                              f"{why}. {RULES['ads']}", headline={"ads_eligible": 0})
    seeds = {s: seed_customers(people, scores, seed_for=s, top_share=top_share, orders=orders,
                               as_of=plan.as_of) for s in SEEDS}
    files, todo, rows, warnings = {}, {}, [], []
    for s, seed in seeds.items():
        for platform in PLATFORMS:
            frame = match_file(seed.customers, platform=platform, with_value=s == "lookalike")
            name = f"{platform}_{s}_sha256"  # helpers.activation writes actions/<name>.csv
            rows.append({"list": s.replace("_", "-"), "platform": platform,
                         "file": f"actions/{name}.csv",
                         "people": len(frame), "basis": seed.basis or seed.reason})
            if len(frame):
                files[name] = frame
                todo[name] = WHAT_TO_DO[platform].format(extra=EXTRA[s])
        n = len(seed.customers)
        if seed.supported and n < MIN_LIST:
            warnings.append(f"The {s.replace('_', '-')} list has {n} people: Meta and Google ask "
                            f"for at least {MIN_LIST}, and only part of a list gets matched to "
                            "accounts. Use a larger top_share or wait until it grows.")
    headline = {"ads_eligible": counts["eligible"], "ads_left_out": counts["customers"] -
                counts["eligible"], **{f"{s}_list": len(seed.customers) for s, seed in
                                       seeds.items()}}
    return AudienceResult(True, "", eligibility_table(counts), pd.DataFrame(rows), files, todo,
                          _ads_reading(counts, seeds, plan) + " " + RULES["ads"], warnings,
                          headline)
