"""Mailchimp exports: an audience (contacts) export and the campaign reports export.

Audience: Mailchimp exports one file per status (subscribed, unsubscribed, cleaned); the
merge-field columns (names, address, birthday...) differ by account, so only ``Email Address`` is
required and personal fields other than the e-mail are not kept. A file with an ``UNSUB_TIME``
column is an unsubscribed export and one with ``CLEAN_TIME`` a cleaned export: their contacts get
``consent_email = False``; a subscribed export gives ``True``.

Campaigns: one row per sent campaign, rates as ``27.78%`` and missing values as ``n/a``.
"""

from __future__ import annotations

import pandas as pd

from helpers.connectors._common import build
from helpers.connectors._source import Connector, Signature, Source
from helpers.tables import email_key, normalise_email

CUSTOMERS, CAMPAIGNS = "customers", "campaigns"
EMAIL, OPTIN, CONFIRM, REGION, COUNTRY = (
    "Email Address",
    "OPTIN_TIME",
    "CONFIRM_TIME",
    "REGION",
    "CC",
)
UNSUB, CLEAN, RATING, TAGS = "UNSUB_TIME", "CLEAN_TIME", "MEMBER_RATING", "TAGS"
SEND_DATE_FORMATS = ("%b %d, %Y %I:%M %p", "%B %d, %Y %I:%M %p", "%b %d, %Y")
# campaigns table column -> Mailchimp column (numbers); rates are read as fractions
CAMPAIGN_COUNTS = {
    "recipients": "Total Recipients",
    "delivered": "Successful Deliveries",
    "bounces": "Total Bounces",
    "unique_opens": "Unique Opens",
    "unique_clicks": "Unique Clicks",
    "unsubscribes": "Unsubscribes",
    "orders": "Total Orders",
    "revenue": "Total Revenue",
}
CAMPAIGN_RATES = {"open_rate": "Open Rate", "click_rate": "Click Rate"}


def _status(src: Source) -> tuple[str, bool]:
    if src.col(UNSUB):
        return "unsubscribed", False
    if src.col(CLEAN):
        return "cleaned", False
    return "subscribed", True


def _first_filled(first: pd.Series, second: pd.Series) -> pd.Series:
    return first.where(first.notna(), second)


def read_audience(src: Source) -> dict[str, pd.DataFrame]:
    """Customers from a Mailchimp audience export (one status per file)."""
    email_col = src.need(EMAIL)
    if src.frame.empty:
        raise src.no_rows()
    email = normalise_email(src.frame[email_col])
    src.drop(
        CUSTOMERS, email.isna(), "had no valid e-mail address and were left out", column=email_col
    )
    email = normalise_email(src.frame[email_col])
    src.drop(
        CUSTOMERS,
        email.duplicated(),
        "repeated an e-mail address already read; the first row of each address was kept",
        column=email_col,
    )
    status, consent = _status(src)
    n = len(src.frame)
    if not consent:
        src.note(
            CUSTOMERS,
            "consent_email",
            "coerced",
            n,
            f"This is an {status} export: its {n} contact(s) are read with "
            "consent_email = no, so they never reach an e-mail audience.",
        )
    signup = _first_filled(
        src.date(src.col(OPTIN), table=CUSTOMERS), src.date(src.col(CONFIRM), table=CUSTOMERS)
    )
    left = src.col(UNSUB, CLEAN)
    return {
        CUSTOMERS: build(
            CUSTOMERS,
            {
                "customer_id": email_key(src.frame[email_col]),
                "email": normalise_email(src.frame[email_col]).astype(object),
                "signup_date": signup,
                "region": _first_filled(src.text(src.col(REGION)), src.text(src.col(COUNTRY))),
                "consent_email": pd.Series(consent, index=src.frame.index, dtype="boolean"),
            },
            {
                "email_status": pd.Series(status, index=src.frame.index, dtype=object),
                "member_rating": src.number(src.col(RATING), table=CUSTOMERS),
                "left_at": src.date(left, table=CUSTOMERS),
                "tags": src.text(src.col(TAGS)),
            },
        )
    }


def read_campaigns(src: Source) -> dict[str, pd.DataFrame]:
    """Campaigns from a Mailchimp campaign reports export, rates as fractions."""
    id_col, title, send = src.need("Unique Id"), src.need("Title"), src.need("Send Date")
    if src.frame.empty:
        raise src.no_rows()
    sent = src.date(send, table=CAMPAIGNS, formats=SEND_DATE_FORMATS)
    extra = {"subject": src.text(src.col("Subject"))}
    for name, column in CAMPAIGN_COUNTS.items():
        extra[name] = src.number(src.col(column), table=CAMPAIGNS)
    for name, column in CAMPAIGN_RATES.items():
        extra[name] = src.number(src.col(column), table=CAMPAIGNS, percent=True)
    return {
        CAMPAIGNS: build(
            CAMPAIGNS,
            {
                "campaign_id": src.text(id_col),
                "name": src.text(title),
                "channel": pd.Series("email", index=src.frame.index, dtype=object),
                "start_date": sent,
                "end_date": sent,
            },
            extra,
        )
    }


AUDIENCE = Connector(
    name="mailchimp_audience",
    label="Mailchimp audience export",
    tables=(CUSTOMERS,),
    signature=Signature(
        all=("email address",),
        any=(
            "member_rating",
            "optin_time",
            "confirm_time",
            "leid",
            "euid",
            "last_changed",
            "unsub_time",
            "clean_time",
        ),
    ),
    needs=(EMAIL,),
    reader=read_audience,
    how_to_export="(Mailchimp: Audience > All contacts > Export audience)",
)

CAMPAIGN_REPORTS = Connector(
    name="mailchimp_campaigns",
    label="Mailchimp campaign reports export",
    tables=(CAMPAIGNS,),
    signature=Signature(
        all=("title", "send date", "unique id"),
        any=("total recipients", "successful deliveries", "open rate", "unique opens"),
    ),
    needs=("Title", "Send Date", "Unique Id", *CAMPAIGN_COUNTS.values(), *CAMPAIGN_RATES.values()),
    reader=read_campaigns,
    how_to_export="(Mailchimp: Analytics > Reports > Export as CSV)",
)
