"""Format Harbor Coffee's customers, orders and order lines as the files hold them.

Ids are assigned here: customers by sign-up date (``C000123``), orders by time (``O0001234``),
refunds by time (``R000123``). Dates are written ISO; the planted unparseable dates replace the
order_date cell of their rows and nothing else.
"""

from __future__ import annotations

import numpy as np

from helpers.samples import harbor_coffee_catalog as catalog
from helpers.samples._common import fmt_bool, fmt_date, fmt_datetime, fmt_money, make_ids
from helpers.samples.harbor_coffee_customers import AGE_BANDS
from helpers.samples.harbor_coffee_faults import BAD_DATES


def customer_ids(cust) -> np.ndarray:
    """``C`` ids numbered by sign-up day (ties by internal order), aligned with internal indices."""
    order = np.lexsort((np.arange(cust.n), cust.signup_day))
    ids = np.empty(cust.n, dtype=object)
    ids[order] = make_ids("C", cust.n, 6)
    return ids


def customers_table(
    cust, ids: np.ndarray, missing_region: np.ndarray, start: np.datetime64, n_days: int
) -> dict:
    """customers.csv columns, sorted by customer id."""
    order = np.argsort(ids, kind="stable")
    region = cust.region.copy()
    region[missing_region] = ""
    subscribed = cust.consent_email & (cust.unsub_day >= n_days)
    return {
        "customer_id": ids[order],
        "email": cust.email[order],
        "first_name": cust.first_name[order],
        "signup_date": fmt_date(start + cust.signup_day[order].astype("timedelta64[D]")),
        "acquisition_channel": cust.channel[order],
        "region": region[order],
        "age_band": np.array(AGE_BANDS, dtype=object)[cust.age[order]],
        "consent_email": fmt_bool(subscribed[order]),
        "consent_ads": fmt_bool(cust.consent_ads[order]),
    }


def order_ids(orders) -> tuple[np.ndarray, np.ndarray]:
    """Row order of orders.csv (by time) and the id of every internal row."""
    refund = orders.kind == "refund"
    perm = np.lexsort((np.arange(len(refund)), orders.cust, orders.when))
    ids = np.empty(len(refund), dtype=object)
    normal_rows, refund_rows = perm[~refund[perm]], perm[refund[perm]]
    ids[normal_rows] = make_ids("O", len(normal_rows), 7)
    ids[refund_rows] = make_ids("R", len(refund_rows), 6)
    return perm, ids


def orders_table(
    orders,
    perm: np.ndarray,
    ids: np.ndarray,
    cust_ids: np.ndarray,
    refund_of: np.ndarray,
    bad_rows: np.ndarray,
) -> dict:
    """orders.csv columns in time order, with the planted bad date cells."""
    date = fmt_datetime(orders.when)
    date[bad_rows] = list(BAD_DATES)
    refund_id = np.where(refund_of >= 0, ids[np.maximum(refund_of, 0)], "")
    return {
        "order_id": ids[perm],
        "customer_id": cust_ids[orders.cust[perm]],
        "order_date": date[perm],
        "revenue": fmt_money(orders.revenue[perm]),
        "discount": fmt_money(orders.discount[perm]),
        "channel": orders.channel[perm],
        "source": np.where(orders.cafe[perm], "cafe", "online").astype(object),
        "refund_of": refund_id[perm].astype(object),
    }


def items_table(orders, perm: np.ndarray, ids: np.ndarray) -> dict:
    """order_items.csv: lines grouped by order, orders in file order."""
    position = np.empty(len(perm), dtype=int)
    position[perm] = np.arange(len(perm))
    rows = orders.item_rows
    order = np.lexsort((orders.item_prod, position[rows]))
    product_ids = make_ids("P", len(catalog.PRODUCTS), 3)
    return {
        "order_id": ids[rows[order]],
        "product_id": product_ids[orders.item_prod[order]],
        "quantity": orders.item_qty[order].astype(str).astype(object),
        "unit_price": fmt_money(catalog.unit_prices()[orders.item_prod[order]]),
    }
