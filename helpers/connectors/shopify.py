"""Shopify orders export (Admin > Orders > Export, "CSV for Excel" or plain CSV).

One row per line item; the order's own fields (Email, Total, Created at...) are filled only on
the order's first row. The connector makes three tables:

- ``orders``: one row per order (order_id = Name, customer_id from the e-mail, order_date from
  ``Created at`` with its UTC offset, revenue = Total, discount, channel = Source, refunded =
  Refunded Amount, financial_status). Cancelled orders are left out with a Note. A refunded order
  keeps its Total as revenue; step 04 nets ``refunded`` out.
- ``order_items``: one row per line item of the kept orders (product_id = SKU, else the line
  item's name).
- ``customers``: one row per e-mail address, from every order including cancelled ones (the
  person still gave an address and a marketing choice): consent is the choice on their latest
  order, region the billing province (or country), signup_date their first order.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from helpers.connectors._common import blank, build
from helpers.connectors._source import Connector, Signature, Source
from helpers.tables import email_key, normalise_email

ORDERS, ITEMS, CUSTOMERS = "orders", "order_items", "customers"
NAME, EMAIL, TOTAL, CREATED = "Name", "Email", "Total", "Created at"
ITEM_NAME, ITEM_QTY, ITEM_PRICE, ITEM_SKU = (
    "Lineitem name",
    "Lineitem quantity",
    "Lineitem price",
    "Lineitem sku",
)
CANCELLED, CURRENCY, MARKETING = "Cancelled at", "Currency", "Accepts Marketing"
CONSENT = {"yes": True, "true": True, "no": False, "false": False}
REGION_COLUMNS = ("Billing Province Name", "Billing Province", "Billing Country")
# Filled on an order's first row only; read once per order.
ORDER_LEVEL = (
    EMAIL,
    "Financial Status",
    MARKETING,
    CURRENCY,
    "Subtotal",
    "Shipping",
    "Taxes",
    TOTAL,
    "Discount Code",
    "Discount Amount",
    CREATED,
    CANCELLED,
    "Refunded Amount",
    "Source",
    *REGION_COLUMNS,
)


def _order_level(src: Source) -> tuple[pd.DataFrame, Source]:
    """One row per order (index: Name), each column its first filled value in the order; and
    the same rows as a Source whose row labels are each order's first line-item row."""
    frame = src.frame
    names = frame[src.need(NAME)].str.strip()
    present = {src.col(n): n for n in ORDER_LEVEL if src.col(n) is not None}
    values = frame[list(present)].where(~frame[list(present)].apply(blank))
    orders = values.groupby(names, sort=False).first().rename(columns=present)
    orders = orders.reindex(columns=list(ORDER_LEVEL))
    first_row = frame.index.to_series().groupby(names, sort=False).first()
    level = replace(src, _frame=orders.fillna("").set_axis(first_row.to_numpy()))
    return orders, level


def _orders_table(level: Source, order_ids: pd.Index) -> pd.DataFrame:
    """The orders table from the order-level rows (see :func:`_order_level`)."""
    return build(
        ORDERS,
        {
            "order_id": pd.Series(order_ids, index=level.frame.index, dtype=object),
            "customer_id": email_key(level.frame[EMAIL]),
            "order_date": level.timestamp(CREATED, table=ORDERS),
            "revenue": level.number(TOTAL, table=ORDERS),
            "discount": level.number("Discount Amount", table=ORDERS),
            "channel": level.text("Source"),
        },
        {
            "refunded": level.number("Refunded Amount", table=ORDERS).fillna(0.0),
            "financial_status": level.text("Financial Status"),
            "subtotal": level.number("Subtotal", table=ORDERS),
            "shipping": level.number("Shipping", table=ORDERS),
            "taxes": level.number("Taxes", table=ORDERS),
            "discount_code": level.text("Discount Code"),
        },
    )


def _items_table(src: Source, name_col: str) -> pd.DataFrame:
    """One row per line item: product_id is the SKU, else the line item's name."""
    sku = src.text(src.col(ITEM_SKU))
    item_name = src.text(src.need(ITEM_NAME))
    return build(
        ITEMS,
        {
            "order_id": src.text(name_col),
            "product_id": sku.where(sku.notna(), item_name),
            "quantity": src.number(src.need(ITEM_QTY), table=ITEMS),
            "unit_price": src.number(src.need(ITEM_PRICE), table=ITEMS),
        },
        {"name": item_name},
    )


def _customers_table(orders: pd.DataFrame, order_dates: pd.Series) -> pd.DataFrame:
    """One row per e-mail: first order date, latest consent and region."""
    orders = orders.reset_index(drop=True)
    region = orders[REGION_COLUMNS[0]]
    for col in REGION_COLUMNS[1:]:
        region = region.fillna(orders[col])
    consent = orders[MARKETING].astype(str).str.strip().str.lower()
    people = (
        pd.DataFrame(
            {
                "customer_id": email_key(orders[EMAIL]),
                "email": normalise_email(orders[EMAIL]).astype(object),
                "signup_date": order_dates.reset_index(drop=True),
                "consent_email": consent.map(CONSENT).astype("boolean"),
                "region": region.astype(object),
            }
        )
        .dropna(subset=["customer_id"])
        .sort_values("signup_date", kind="stable")
    )
    grouped = people.groupby("customer_id", sort=False)
    first, latest = grouped.first(), grouped.last()  # first / last filled value by order date
    return build(
        CUSTOMERS,
        {
            "customer_id": pd.Series(first.index, dtype=object),
            "email": first["email"].reset_index(drop=True),
            "signup_date": first["signup_date"].reset_index(drop=True),
            "consent_email": latest["consent_email"].reset_index(drop=True),
            "region": latest["region"].reset_index(drop=True),
        },
    )


def read(src: Source) -> dict[str, pd.DataFrame]:
    """Orders, line items and customers from a Shopify orders export (see the module text)."""
    for column in (NAME, TOTAL, CREATED, ITEM_NAME, ITEM_QTY, ITEM_PRICE):
        src.need(column)
    if src.frame.empty:
        raise src.no_rows()
    name_col = src.need(NAME)
    src.drop(
        ORDERS, blank(src.frame[name_col]), "had no order Name and were left out", column=name_col
    )
    orders, level = _order_level(src)
    if src.col(CURRENCY):
        src.check_currency(orders[CURRENCY].dropna().unique(), f"its '{CURRENCY}' column")
    src.note(
        ORDERS,
        None,
        "coerced",
        len(src.frame),
        f"The {src.label}'s {len(src.frame)} line-item row(s) were grouped into "
        f"{len(orders)} order(s); each order's own fields (e-mail, total, date...) come from "
        "its first row.",
    )
    table = _orders_table(level, orders.index)
    customers = _customers_table(orders, table["order_date"])
    cancelled = orders[CANCELLED].notna().to_numpy()
    if cancelled.any():
        rows = src.frame[name_col].str.strip().isin(set(orders.index[cancelled])).to_numpy()
        src.note(
            ORDERS,
            CANCELLED,
            "dropped",
            int(cancelled.sum()),
            f"{int(cancelled.sum())} cancelled order(s) ('{CANCELLED}' filled) were left "
            f"out of orders, with their {int(rows.sum())} line item(s).",
        )
        src.use_frame(src.frame[~rows])
        table = table[~cancelled].reset_index(drop=True)
    no_email = int(table["customer_id"].isna().sum())
    if no_email:
        src.note(
            ORDERS,
            "customer_id",
            "warning",
            no_email,
            f"{no_email} order(s) have no e-mail address (e.g. in-store or guest sales), "
            "so they have no customer_id and do not count towards repeat purchases.",
        )
    return {ORDERS: table, ITEMS: _items_table(src, name_col), CUSTOMERS: customers}


CONNECTOR = Connector(
    name="shopify_orders",
    label="Shopify orders export",
    tables=(ORDERS, ITEMS, CUSTOMERS),
    signature=Signature(
        all=("name", "lineitem name", "lineitem quantity"),
        any=("created at", "financial status", "lineitem price", "total"),
    ),
    needs=(NAME, EMAIL, TOTAL, CREATED, ITEM_NAME, ITEM_QTY, ITEM_PRICE),
    reader=read,
    how_to_export="(Shopify admin: Orders > Export > All orders, CSV)",
)
