"""The canonical tables of the workbook and their columns.

Every module takes column names from here. A table spec says which columns a file must have
(``required``), which the kit knows how to use (``columns``), and the kind of each column, which
decides how raw values are coerced (see ``helpers.io.coerce_table``). Extra columns in a file are
kept as they are.

The pandera schemas are built on demand (``pandera_schema``) so that importing this module stays
cheap for the notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

# Column kinds: how a raw value is read.
ID, TEXT, CATEGORY, DATE, MONEY, NUMBER, INT, BOOL = (
    "id",
    "text",
    "category",
    "date",
    "money",
    "number",
    "int",
    "bool",
)


@dataclass(frozen=True)
class TableSpec:
    """One canonical table: its key, its known columns with their kinds, and what it is for."""

    name: str
    key: str | None
    columns: dict[str, str]
    required: tuple[str, ...]
    date_column: str | None
    purpose: str
    steps: tuple[int, ...] = field(default=())

    @property
    def date_columns(self) -> list[str]:
        return [c for c, kind in self.columns.items() if kind == DATE]


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in [
        TableSpec(
            "customers",
            "customer_id",
            {
                "customer_id": ID,
                "email": TEXT,
                "signup_date": DATE,
                "acquisition_channel": CATEGORY,
                "region": CATEGORY,
                "age_band": CATEGORY,
                "consent_email": BOOL,
                "consent_ads": BOOL,
            },
            ("customer_id",),
            "signup_date",
            "who your customers are, where they came from and what they agreed to",
            (2, 6, 7, 10),
        ),
        TableSpec(
            "orders",
            "order_id",
            {
                "order_id": ID,
                "customer_id": ID,
                "order_date": DATE,
                "revenue": MONEY,
                "discount": MONEY,
                "channel": CATEGORY,
            },
            ("order_id", "order_date", "revenue"),
            "order_date",
            "what was sold, when, to whom and through which channel",
            (1, 2, 5, 6, 7, 8, 9, 10, 11),
        ),
        TableSpec(
            "order_items",
            None,
            {"order_id": ID, "product_id": ID, "quantity": NUMBER, "unit_price": MONEY},
            ("order_id", "product_id", "quantity"),
            None,
            "the products inside each order",
            (2, 7),
        ),
        TableSpec(
            "products",
            "product_id",
            {
                "product_id": ID,
                "name": TEXT,
                "category": CATEGORY,
                "price": MONEY,
                "cost": MONEY,
            },
            ("product_id",),
            None,
            "your catalogue with prices and costs",
            (2, 7, 11),
        ),
        TableSpec(
            "marketing_spend",
            None,
            {
                "date": DATE,
                "channel": CATEGORY,
                "campaign_id": ID,
                "spend": MONEY,
                "impressions": NUMBER,
                "clicks": NUMBER,
                "conversions": NUMBER,
                "platform_revenue": MONEY,
                "period_end": DATE,
            },
            ("date", "channel", "spend"),
            "date",
            "what each channel cost and what the ad platforms report back",
            (1, 5, 7, 8, 11),
        ),
        TableSpec(
            "web_traffic",
            None,
            {
                "date": DATE,
                "channel_group": CATEGORY,
                "sessions": NUMBER,
                "engaged_sessions": NUMBER,
                "conversions": NUMBER,
                "revenue": MONEY,
                "period_end": DATE,
            },
            ("date", "sessions"),
            "date",
            "website visits counted by day and traffic source (e.g. a GA4 traffic report)",
            (2, 5, 11),
        ),
        TableSpec(
            "campaigns",
            "campaign_id",
            {
                "campaign_id": ID,
                "name": TEXT,
                "channel": CATEGORY,
                "start_date": DATE,
                "end_date": DATE,
                "budget": MONEY,
                "objective": CATEGORY,
                # e-mail campaign reports (a Mailchimp export) count what happened to each send
                "delivered": NUMBER,
                "unique_opens": NUMBER,
                "unique_clicks": NUMBER,
            },
            ("campaign_id",),
            "start_date",
            "the campaigns you ran, with dates and budgets",
            (5, 8, 11),
        ),
        TableSpec(
            "email_events",
            None,
            {
                "campaign_id": ID,
                "customer_id": ID,
                "sent_at": DATE,
                "opened_at": DATE,
                "clicked_at": DATE,
                "unsubscribed": BOOL,
                "variant": CATEGORY,
            },
            ("campaign_id", "customer_id", "sent_at"),
            "sent_at",
            "who received each email and who opened, clicked or unsubscribed",
            (1, 2, 7, 9),
        ),
        TableSpec(
            "web_sessions",
            "session_id",
            {
                "session_id": ID,
                "customer_id": ID,
                "started_at": DATE,
                "source": CATEGORY,
                "medium": CATEGORY,
                "pages": NUMBER,
                "converted": BOOL,
            },
            ("session_id", "started_at"),
            "started_at",
            "visits to your website and whether they led to a purchase",
            (1, 2, 11),
        ),
        TableSpec(
            "leads",
            "lead_id",
            {
                "lead_id": ID,
                "created_at": DATE,
                "source": CATEGORY,
                "converted": BOOL,
                "converted_at": DATE,
                "value": MONEY,
            },
            ("lead_id", "created_at"),
            "created_at",
            "enquiries and trial sign-ups, and which of them became customers",
            (1, 2, 6),
        ),
        TableSpec(
            "feedback",
            "feedback_id",
            {
                "feedback_id": ID,
                "customer_id": ID,
                "created_at": DATE,
                "source": CATEGORY,
                "rating": NUMBER,
                "text": TEXT,
            },
            ("feedback_id", "created_at"),
            "created_at",
            "reviews, survey answers and comments in your customers' words",
            (9,),
        ),
        TableSpec(
            "experiments",
            None,
            {
                "experiment_id": ID,
                "unit_id": ID,
                "variant": CATEGORY,
                "exposed_at": DATE,
                "converted": BOOL,
                "revenue": MONEY,
            },
            ("experiment_id", "unit_id", "variant"),
            "exposed_at",
            "A/B tests and holdouts: who saw which version and what they did",
            (9, 11),
        ),
        TableSpec(
            "social_posts",
            "post_id",
            {
                "post_id": ID,
                "posted_at": DATE,
                "network": CATEGORY,
                "text": TEXT,
                "impressions": NUMBER,
                "engagements": NUMBER,
            },
            ("post_id", "posted_at"),
            "posted_at",
            "your social media posts and how people engaged with them",
            (1, 7),
        ),
    ]
}


def spec(table: str) -> TableSpec:
    """The spec of a canonical table, or a DataError naming the closest table name."""
    from helpers.errors import UnknownNameError

    try:
        return TABLES[table]
    except KeyError:
        raise UnknownNameError.for_name(table, TABLES, what="table") from None


@cache
def pandera_schema(table: str):
    """A pandera ``DataFrameSchema`` for a coerced canonical table.

    Checks types and simple value rules (ids present, quantities and spend not negative). Columns
    the kit knows but the file lacks are optional (``required=False``); extra columns are allowed.
    """
    import pandera.pandas as pa

    s = spec(table)
    dtypes = {
        ID: pa.Column(str, nullable=True),
        TEXT: pa.Column(str, nullable=True),
        CATEGORY: pa.Column(str, nullable=True),
        DATE: pa.Column("datetime64[ns]", nullable=True, coerce=False),
        MONEY: pa.Column(float, nullable=True),
        NUMBER: pa.Column(float, nullable=True),
        INT: pa.Column(float, nullable=True),
        BOOL: pa.Column("boolean", nullable=True),
    }
    columns = {}
    for col, kind in s.columns.items():
        base = dtypes[kind]
        checks = []
        if col in ("quantity", "spend", "impressions", "clicks", "pages"):
            checks.append(pa.Check.ge(0, error=f"{col} must not be negative"))
        columns[col] = pa.Column(
            base.dtype,
            checks=checks,
            nullable=col not in s.required,
            required=col in s.required,
            name=col,
        )
    return pa.DataFrameSchema(columns, strict=False, name=table)


def data_dictionary(table: str | None = None, *, by_table: bool = False):
    """The canonical columns as a table (table, column, kind, required, what the table is for).

    With ``by_table``, one row per table: its columns, the required ones and its purpose.
    """
    import pandas as pd

    if by_table:
        return pd.DataFrame(
            [{"table": s.name, "columns": ", ".join(s.columns), "required": ", ".join(s.required),
              "what the table is for": s.purpose}
             for s in TABLES.values() if table in (None, s.name)]
        ).set_index("table")

    rows = [
        {"table": s.name, "column": col, "kind": kind, "required": col in s.required,
         "what the table is for": s.purpose}
        for s in TABLES.values() if table in (None, s.name)
        for col, kind in s.columns.items()
    ]
    return pd.DataFrame(rows)
