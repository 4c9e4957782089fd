"""Summit Outdoor's orders in detail: times, baskets, discount codes, shipping, taxes, refunds.

Money follows Shopify: ``Subtotal`` is the merchandise after discounts, ``Taxes`` are charged on
subtotal plus shipping at the billing province's rates (GST/PST, HST or GST/QST), and ``Total`` =
Subtotal + Shipping + Taxes. Planted quirks (exact rows in truth.json): a few online orders
cancelled (half voided before payment was captured, half refunded in full), some returns refunded
in full or in part, discount codes (site-wide sale codes, WELCOME10 for pop-up subscribers,
LOYALTY15 for store regulars, FREESHIP).
"""

from __future__ import annotations

import numpy as np

from helpers.samples import summit_outdoor_catalog as catalog
from helpers.samples._common import random_times

FREE_SHIPPING_FROM = 99.0
SHIPPING = {"Standard Shipping": 12.0, "Express Shipping": 24.0}
EXPRESS_SHARE, PICKUP_SHARE_LOCAL = 0.08, 0.25
SALE_CODE_USE = {"web": 0.7, "store": 0.5}
WELCOME_USE, LOYALTY_USE, FREESHIP_USE = 0.7, 0.04, 0.04
CANCEL_SHARE = 0.012  # online orders cancelled
REFUND_FULL = {"web": 0.02, "store": 0.008}
REFUND_PARTIAL = {"web": 0.035, "store": 0.012}
# Tax lines by province: (name, rate) pairs.
TAXES = {
    "BC": (("GST 5%", 0.05), ("BC PST 7%", 0.07)),
    "AB": (("GST 5%", 0.05),),
    "ON": (("HST 13%", 0.13),),
    "QC": (("GST 5%", 0.05), ("QC QST 9.975%", 0.09975)),
    "MB": (("GST 5%", 0.05), ("MB RST 7%", 0.07)),
    "SK": (("GST 5%", 0.05), ("SK PST 6%", 0.06)),
}
WEB_HOURS = [
    1,
    0.5,
    0.3,
    0.2,
    0.2,
    0.3,
    0.6,
    1.2,
    2,
    2.5,
    2.8,
    3,
    3,
    2.8,
    2.7,
    2.6,
    2.6,
    2.8,
    3.2,
    3.6,
    3.8,
    3.4,
    2.5,
    1.6,
]
STORE_HOURS = [0] * 10 + [2, 3, 3.5, 3.5, 3.2, 3, 3, 2.5, 1.5] + [0] * 5


def timestamps(rng: np.random.Generator, days: np.ndarray, store: np.ndarray) -> np.ndarray:
    """Local order times: online around the clock, in store during opening hours."""
    web = random_times(rng, days, WEB_HOURS)
    shop = random_times(rng, days, STORE_HOURS)
    return np.where(store, shop, web)


def _allocate(amount: np.ndarray, lines: dict, line_value: np.ndarray) -> np.ndarray:
    """Split each order's discount over its lines in proportion to value (cents add up)."""
    order = lines["order"]
    share = line_value / np.bincount(order, weights=line_value)[order]
    alloc = np.round(amount[order] * share, 2)
    diff = np.round(amount - np.bincount(order, weights=alloc, minlength=len(amount)), 2)
    last = np.r_[order[1:] != order[:-1], True]
    alloc[last] += diff[order[last]]
    return np.round(alloc, 2)


def discounts(rng, o: dict, lines: dict, events: list, merch: np.ndarray) -> tuple:
    """Discount code and amount per order (before FREESHIP, which depends on shipping)."""
    n = len(o["day"])
    code = np.full(n, "", dtype=object)
    rate = np.zeros(n)
    for lo, hi, _mult, name, r in events:
        inside = (o["date"] >= np.datetime64(lo)) & (o["date"] <= np.datetime64(hi))
        use = np.where(o["store"], SALE_CODE_USE["store"], SALE_CODE_USE["web"])
        take = inside & (rng.random(n) < use)
        code[take], rate[take] = name, r
    free = code == ""
    welcome = free & o["first_of_popup"] & (rng.random(n) < WELCOME_USE)
    code[welcome], rate[welcome] = "WELCOME10", 0.10
    loyal = (code == "") & o["legacy"] & (rng.random(n) < LOYALTY_USE)
    code[loyal], rate[loyal] = "LOYALTY15", 0.15
    return code, np.round(merch * rate, 2)


def shipping(rng, o: dict, subtotal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shipping method and charge (store orders: none; local pickup is free)."""
    n = len(subtotal)
    method = np.where(subtotal >= FREE_SHIPPING_FROM, "Free Shipping", "Standard Shipping")
    method = np.where(rng.random(n) < EXPRESS_SHARE, "Express Shipping", method)
    method = np.where(o["local"] & (rng.random(n) < PICKUP_SHARE_LOCAL), "Local Pickup", method)
    method = np.where(o["store"], "", method).astype(object)
    charge = np.array([SHIPPING.get(m, 0.0) for m in method.tolist()])
    return method, charge


def taxes(province: np.ndarray, taxable: np.ndarray) -> tuple[list, list]:
    """Per order, the tax lines (name, value) for the province (up to two)."""
    names, values = [], []
    for k in range(2):
        nm = np.array(
            [TAXES[p][k][0] if len(TAXES[p]) > k else "" for p in province.tolist()], dtype=object
        )
        rt = np.array([TAXES[p][k][1] if len(TAXES[p]) > k else 0.0 for p in province.tolist()])
        names.append(nm)
        values.append(np.round(taxable * rt, 2))
    return names, values


def build(rng: np.random.Generator, o: dict, events: list) -> tuple[dict, dict]:
    """Money, discounts, shipping, taxes and status of every order; and the line items.

    ``o`` holds per order: ``day``, ``date``, ``store``, ``local``, ``province``, ``legacy``,
    ``first_of_popup``. Returns (orders, lines) with unformatted values.
    """
    months = o["date"].astype("datetime64[M]").astype(int) % 12 + 1
    lines = catalog.baskets(rng, months)
    value = lines["price"] * lines["quantity"]
    merch = np.bincount(lines["order"], weights=value, minlength=len(months))
    code, amount = discounts(rng, o, lines, events, merch)
    subtotal = np.round(merch - amount, 2)
    method, ship = shipping(rng, o, subtotal)
    freeship = (code == "") & (ship > 0) & ~o["store"] & (rng.random(len(ship)) < FREESHIP_USE)
    code[freeship] = "FREESHIP"
    amount = np.where(freeship, ship, amount)
    charged = np.where(freeship, 0.0, ship)
    tax_names, tax_values = taxes(o["province"], subtotal + charged)
    tax = np.round(tax_values[0] + tax_values[1], 2)
    total = np.round(subtotal + charged + tax, 2)
    line_disc = _allocate(np.where(freeship, 0.0, amount), lines, value)
    out = {
        "merch": merch,
        "code": code,
        "discount": amount,
        "subtotal": subtotal,
        "method": method,
        "shipping": ship,
        "shipping_charged": charged,
        "tax_names": tax_names,
        "tax_values": tax_values,
        "taxes": tax,
        "total": total,
    }
    out.update(status(rng, o, out, lines, line_disc))
    lines["discount"] = line_disc
    return out, lines


def status(rng, o: dict, m: dict, lines: dict, line_disc: np.ndarray) -> dict:
    """Cancellations and refunds: financial status, refunded amount, cancelled flag."""
    n = len(m["total"])
    u = rng.random(n)
    web = ~o["store"]
    cancelled = web & (u < CANCEL_SHARE)
    voided = cancelled & (rng.random(n) < 0.5)
    u2 = rng.random(n)
    full_p = np.where(web, REFUND_FULL["web"], REFUND_FULL["store"])
    part_p = np.where(web, REFUND_PARTIAL["web"], REFUND_PARTIAL["store"])
    full = ~cancelled & (u2 < full_p)
    partial = ~cancelled & ~full & (u2 < full_p + part_p)
    tax_rate = np.where(
        m["subtotal"] + m["shipping_charged"] > 0,
        m["taxes"] / np.maximum(m["subtotal"] + m["shipping_charged"], 0.01),
        0.0,
    )
    net_line = lines["price"] * lines["quantity"] - line_disc
    top = np.zeros(n)
    np.maximum.at(top, lines["order"], net_line)
    n_lines = np.bincount(lines["order"], minlength=n)
    part_base = np.where(n_lines > 1, top, m["subtotal"] * rng.uniform(0.15, 0.4, n))
    part_amount = np.round(np.minimum(part_base * (1 + tax_rate), m["total"] * 0.9), 2)
    refunded = np.where(full | (cancelled & ~voided), m["total"], 0.0)
    refunded = np.where(partial, part_amount, refunded)
    fin = np.full(n, "paid", dtype=object)
    fin[full | (cancelled & ~voided)] = "refunded"
    fin[partial] = "partially_refunded"
    fin[voided] = "voided"
    return {
        "financial": fin,
        "refunded": np.round(refunded, 2),
        "cancelled": cancelled,
        "voided": voided,
        "full_refund": full,
        "partial_refund": partial,
    }
