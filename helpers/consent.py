"""Who may receive your marketing, and why the others may not: the consent rules every list of
step 07 is built on (and step 10's compliance checks reuse), and the hashing the ad platforms ask
for.

A customer who said no, or whose consent is unknown, never reaches a list: a blank consent counts
as no, and so does an unsubscribe in the e-mail history or a Mailchimp status of unsubscribed or
cleaned. Ad lists carry SHA-256 hashes of the trimmed, lower-cased e-mail, never the address.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from helpers.errors import UnknownNameError
from helpers.explore import known
from helpers.tables import normalise_email, parse_bool

CUSTOMER_ID, EMAIL, CONSENT_EMAIL, CONSENT_ADS = known(
    "customers", "customer_id", "email", "consent_email", "consent_ads")
PURPOSES = ("email", "ads")
GONE_STATUSES = {"unsubscribed", "cleaned"}  # Mailchimp statuses that rule out e-mail
REASONS = {"said_no": "said no", "consent_unknown": "consent not recorded (counted as no)",
           "said_no_to_email": "said no to e-mail (kept off ad lists too)",
           "unsubscribed": "unsubscribed (e-mail history or Mailchimp status)",
           "no_valid_email": "no usable e-mail address", "duplicate_email": "same e-mail as "
           "another customer (kept once)"}
RULES = {
    "email": "E-mail lists hold only customers whose consent_email is yes. A blank consent counts "
             "as no, because you cannot show they agreed; so does an unsubscribe in your e-mail "
             "history or a Mailchimp status of unsubscribed or cleaned.",
    "ads": "Ad lists hold only customers whose consent_ads is yes; a blank or absent consent_ads "
           "counts as no. Anyone who said no to e-mail is left out too: they asked you to stop "
           "marketing to them.",
}


def hash_email(values: pd.Series) -> pd.Series:
    """SHA-256 (lower-case hex) of each e-mail after trimming and lower-casing; missing (or not an
    address) stays missing.

    >>> hash_email(pd.Series([" Mary@Example.com"])).iloc[0][:12]
    'f1904cf1a9d7'
    """
    norm = normalise_email(values)
    digest = {e: hashlib.sha256(e.encode("utf-8")).hexdigest() for e in norm.dropna().unique()}
    return norm.map(digest).astype("string")


def _consent(customers: pd.DataFrame, column: str) -> pd.Series:
    """The column as a nullable boolean (all missing when the table lacks it)."""
    if column not in customers:
        return pd.Series(pd.NA, index=customers.index, dtype="boolean")
    return parse_bool(customers[column])[0]


def eligible(customers: pd.DataFrame, *, purpose: str = "email",
             unsubscribed=None) -> tuple[pd.DataFrame, dict]:
    """The customers who may receive marketing of this ``purpose`` ("email" or "ads"), with their
    e-mail normalised, and how many were left out and why (see ``RULES`` for the consent rule).

    ``unsubscribed``: customer ids who unsubscribed in your e-mail history (left out of both).
    Each customer left out is counted once, under the first reason that applies (the order of
    ``REASONS``); ``counts`` also holds "customers" (all) and "eligible".
    """
    if purpose not in PURPOSES:
        raise UnknownNameError.for_name(purpose, PURPOSES, what="purpose")
    reason = pd.Series(None, index=customers.index, dtype="object")

    def mark(mask, why):
        reason[mask.fillna(False).to_numpy(bool) & reason.isna().to_numpy()] = why

    said = _consent(customers, CONSENT_EMAIL if purpose == "email" else CONSENT_ADS)
    mark(said.eq(False), "said_no")
    mark(said.isna(), "consent_unknown")
    if purpose == "ads":
        mark(_consent(customers, CONSENT_EMAIL).eq(False), "said_no_to_email")
    gone = customers[CUSTOMER_ID].isin(set(unsubscribed if unsubscribed is not None else ()))
    if "email_status" in customers:
        gone |= customers["email_status"].astype("string").str.strip().str.lower().isin(
            GONE_STATUSES).fillna(False)
    mark(gone, "unsubscribed")
    email = normalise_email(customers[EMAIL]) if EMAIL in customers else pd.Series(
        pd.NA, index=customers.index, dtype="string")
    mark(email.isna(), "no_valid_email")
    mark(email.where(reason.isna()).duplicated() & reason.isna(), "duplicate_email")
    keep = reason.isna().to_numpy()
    out = customers[keep].assign(**{EMAIL: email[keep]}).reset_index(drop=True)
    counts = {"customers": len(customers), **{r: int((reason == r).sum()) for r in REASONS},
              "eligible": len(out)}
    if purpose == "email":
        counts.pop("said_no_to_email")
    return out, counts


def eligibility_table(counts: dict) -> pd.DataFrame:
    """The counts of ``eligible`` as a table to show: reason, customers."""
    rows = [("all customers", counts["customers"])]
    rows += [(f"left out: {text}", counts[r]) for r, text in REASONS.items() if r in counts]
    rows.append(("may receive it", counts["eligible"]))
    return pd.DataFrame(rows, columns=["reason", "customers"])


def eligible_reading(counts: dict, *, purpose: str = "email") -> str:
    """'4,495 of your 5,033 customers may be e-mailed. Left out: 538 said no.' from the counts."""
    text = (f"{counts['eligible']:,} of your {counts['customers']:,} customers "
            + ("may be e-mailed (a blank consent_email counts as no)." if purpose == "email"
               else "may go on ad lists."))
    out = [f"{counts[r]:,} {REASONS[r]}" for r in REASONS if counts.get(r)]
    return text + (" Left out: " + "; ".join(out) + "." if out else "")


def unsubscribed_ids(plan) -> set:
    """Customer ids with an unsubscribe in the e-mail history (empty without email_events)."""
    if not plan.has("email_events"):
        return set()
    e = plan.prepared("email_events")
    if "unsubscribed" not in e:
        return set()
    return set(e.loc[parse_bool(e["unsubscribed"])[0].fillna(False).to_numpy(bool), CUSTOMER_ID])


def keep_emailable(plan, frame: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The rows of a per-customer file (by customer_id) whose customer may be e-mailed, and a
    warning counting those left out; without a customers table nobody's consent is known, so
    nobody is kept. For files meant for the e-mail tool (suggestions, offers by customer)."""
    if frame.empty or CUSTOMER_ID not in frame:
        return frame, None
    allowed = (eligible(plan.prepared("customers"), purpose="email",
                        unsubscribed=unsubscribed_ids(plan))[0][CUSTOMER_ID]
               if plan.has("customers") else pd.Series(dtype=object))
    keep = frame[CUSTOMER_ID].isin(set(allowed))
    left = frame.loc[~keep, CUSTOMER_ID].nunique()
    if not left:
        return frame, None
    return frame[keep].reset_index(drop=True), (
        f"{left:,} customers are left out of the file for your e-mail tool because they have not "
        "agreed to e-mail (or unsubscribed)" + ("" if plan.has("customers") else
                                                 ": without a customers table, consent is unknown"))
