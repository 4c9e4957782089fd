"""HubSpot CRM exports: contacts into ``leads``, deals into ``orders``.

Both start with ``Record ID``; which properties follow depends on the view the export was made
from, so every column is found by its name. Contacts: a contact whose lifecycle stage is
``customer`` counts as converted. Deals: only won deals (``Closed Won``, also as
``Closed Won (Sales Pipeline)`` when there are several pipelines) are orders; the others are left
out with a Note that counts them by stage.
"""

from __future__ import annotations

import re

import pandas as pd

from helpers.connectors._common import build
from helpers.connectors._source import Connector, Signature, Source
from helpers.tables import normalise_email

LEADS, ORDERS = "leads", "orders"
RECORD_ID = "Record ID"
ID_PATTERN = r"record id|contact id|deal id"


def read_contacts(src: Source) -> dict[str, pd.DataFrame]:
    """Leads from a HubSpot contacts export."""
    record = src.need(RECORD_ID, "Contact ID")
    created = src.need("Create Date", "Created Date")
    if src.frame.empty:
        raise src.no_rows()
    stage = src.text(src.col("Lifecycle Stage"))
    converted = stage.str.lower().str.strip().eq("customer").astype("boolean")
    converted[stage.isna()] = pd.NA
    if src.col("Lifecycle Stage") is None:
        src.note(
            LEADS,
            "converted",
            "warning",
            len(src.frame),
            f"The {src.label} has no 'Lifecycle Stage' column, so it cannot say which "
            "contacts became customers: add the property to the export view to get it.",
        )
    email = src.col("Email")
    emails = normalise_email(src.frame[email]).astype(object) if email else src.text(None)
    return {
        LEADS: build(
            LEADS,
            {
                "lead_id": src.text(record),
                "created_at": src.date(created, table=LEADS),
                "source": src.text(src.col("Original Source", "Original source type")),
                "converted": converted,
                "converted_at": src.date(src.col("Became a Customer Date"), table=LEADS),
            },
            {
                "email": emails,
                "stage": stage,
                "lead_status": src.text(src.col("Lead Status")),
                "region": src.text(src.col("Country/Region", "Country")),
            },
        )
    }


def _won(stages: pd.Series) -> pd.Series:
    key = stages.fillna("").map(lambda s: re.sub(r"[^a-z]", "", s.lower()))
    return key.str.startswith("closedwon")


def read_deals(src: Source) -> dict[str, pd.DataFrame]:
    """Orders from the won deals of a HubSpot deals export."""
    record, stage_col = src.need(RECORD_ID, "Deal ID"), src.need("Deal Stage")
    close, amount = src.need("Close Date"), src.need("Amount")
    if src.frame.empty:
        raise src.no_rows()
    currency = src.col("Currency", "Deal currency code")
    if currency:
        src.check_currency(src.text(currency).dropna().unique(), f"its '{currency}' column")
    stage = src.text(stage_col)
    lost = ~_won(stage)
    if lost.any():
        counts = stage[lost].fillna("(no stage)").value_counts()
        by_stage = ", ".join(f"{name} {n}" for name, n in counts.items())
        src.drop(
            ORDERS,
            lost,
            f"were deals not won ({by_stage}) and were left out of orders",
            column=stage_col,
        )
    contacts = src.text(src.col("Associated Contact IDs", "Associated Contact"))
    first_contact = contacts.str.split(r"[;,]", regex=True).str[0].str.strip()
    return {
        ORDERS: build(
            ORDERS,
            {
                "order_id": src.text(record),
                "customer_id": first_contact.astype(object).where(first_contact.notna(), None),
                "order_date": src.date(close, table=ORDERS),
                "revenue": src.number(amount, table=ORDERS),
            },
            {
                "pipeline": src.text(src.col("Pipeline")),
                "deal_created_at": src.date(src.col("Create Date"), table=ORDERS),
            },
        )
    }


CONTACTS = Connector(
    name="hubspot_contacts",
    label="HubSpot contacts export",
    tables=(LEADS,),
    signature=Signature(
        all=(ID_PATTERN,),
        any=(
            "lifecycle stage",
            "lead status",
            "email",
            "first name",
            "contact owner",
            "original source",
        ),
        none=("deal stage", "deal name"),
    ),
    needs=(RECORD_ID, "Create Date", "Original Source", "Lifecycle Stage", "Email"),
    reader=read_contacts,
    how_to_export="(HubSpot: Contacts > Export, CSV)",
)

DEALS = Connector(
    name="hubspot_deals",
    label="HubSpot deals export",
    tables=(ORDERS,),
    signature=Signature(all=(ID_PATTERN, "deal stage"), any=("amount", "close date", "deal name")),
    needs=(RECORD_ID, "Deal Stage", "Amount", "Close Date", "Associated Contact IDs"),
    reader=read_deals,
    how_to_export="(HubSpot: Deals > Export, CSV)",
)
