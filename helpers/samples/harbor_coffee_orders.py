"""Turn simulated purchases into Harbor Coffee's orders and order lines.

Planted truth (attribution): the ``channel`` of an order is what the shop's last-click tagging
says, not what caused it. Media-driven orders carry their channel only part of the time (see
``harbor_coffee_media.ATTRIBUTED``), and some orders that would have happened anyway are tagged
``paid_search`` (brand searches), ``email`` or ``social``. Platform-reported and last-click numbers
therefore overstate paid search and understate paid social.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.samples import harbor_coffee_catalog as catalog
from helpers.samples._common import DAY, month_of
from helpers.samples.harbor_coffee_media import ATTRIBUTED

# Channel tags of online orders that would have happened without any media.
BASE_TAGS = {"organic": 0.46, "direct": 0.33, "email": 0.08, "paid_search": 0.07, "social": 0.06}
ONLINE_HOURS = [
    0.3,
    0.15,
    0.1,
    0.08,
    0.08,
    0.15,
    0.5,
    1.2,
    1.8,
    2.0,
    1.9,
    1.8,
    2.1,
    2.0,
    1.7,
    1.6,
    1.6,
    1.8,
    2.0,
    2.4,
    2.6,
    2.3,
    1.5,
    0.8,
]
CAFE_HOURS = [0] * 7 + [1.8, 2.6, 2.4, 2.0, 1.6, 1.7, 1.3, 1.1, 0.9, 0.6, 0.3] + [0] * 6


@dataclass
class OrderTable:
    """Orders sorted by time, with their lines (internal indices, not yet formatted)."""

    cust: np.ndarray
    when: np.ndarray  # datetime64[s]
    channel: np.ndarray
    cafe: np.ndarray
    kind: np.ndarray
    source: np.ndarray
    subtotal: np.ndarray
    discount: np.ndarray
    revenue: np.ndarray
    item_rows: np.ndarray
    item_prod: np.ndarray
    item_qty: np.ndarray

    @property
    def day(self) -> np.ndarray:
        return self.when.astype("datetime64[D]")


def _tags(rng, sim: dict, cust) -> np.ndarray:
    """The channel each order is tagged with."""
    n = len(sim["day"])
    tag = rng.choice(list(BASE_TAGS), size=n, p=list(BASE_TAGS.values())).astype(object)
    subscribed = cust.consent_email[sim["cust"]] & (cust.unsub_day[sim["cust"]] >= sim["day"])
    tag[(tag == "email") & ~subscribed] = "direct"
    fallback = rng.choice(["organic", "direct"], size=n, p=[0.6, 0.4])
    credited = rng.random(n)
    for ch, share in ATTRIBUTED.items():
        sel = (sim["kind"] == "media") & (sim["source"] == ch)
        tag[sel] = np.where(credited[sel] < share, ch, fallback[sel])
    first = sim["kind"] == "first"
    tag[first] = cust.channel[sim["cust"][first]]
    treat = (sim["kind"] == "winback") & (sim["source"] == "treatment")
    tag[treat] = np.where(credited[treat] < 0.8, "email", "direct")
    control = (sim["kind"] == "winback") & (sim["source"] == "control")
    tag[control] = fallback[control]
    tag[sim["cafe"]] = "cafe"
    return tag


def _times(rng, days: np.ndarray, cafe: np.ndarray) -> np.ndarray:
    """A time of day for each order: cafe opening hours or the online shop's daily rhythm."""
    secs = np.empty(len(days), dtype=np.int64)
    for mask, weights in ((cafe, CAFE_HOURS), (~cafe, ONLINE_HOURS)):
        w = np.asarray(weights, float)
        hours = rng.choice(24, size=int(mask.sum()), p=w / w.sum())
        secs[mask] = hours * 3600 + rng.integers(0, 3600, size=int(mask.sum()))
    return days.astype("datetime64[s]") + secs.astype("timedelta64[s]")


def _baskets(rng, december: np.ndarray, cafe: np.ndarray) -> tuple[np.ndarray, ...]:
    """Order lines for every order (online baskets and cafe tickets)."""
    online_rows, cafe_rows = np.flatnonzero(~cafe), np.flatnonzero(cafe)
    parts_online = catalog.online_baskets(rng, december[online_rows])
    parts_cafe = catalog.cafe_baskets(rng, len(cafe_rows))
    rows_o, prod_o, qty_o = catalog.assemble_items(parts_online, online_rows)
    rows_c, prod_c, qty_c = catalog.assemble_items(parts_cafe, cafe_rows)
    rows = np.concatenate([rows_o, rows_c])
    order = np.lexsort((np.concatenate([prod_o, prod_c]), rows))
    return (
        rows[order],
        np.concatenate([prod_o, prod_c])[order],
        np.concatenate([qty_o, qty_c])[order],
    )


def build(rng: np.random.Generator, sim: dict, cust, start: np.datetime64) -> OrderTable:
    """Orders with tags, times, lines, discounts and revenue, sorted by time."""
    days = start + sim["day"] * DAY
    when = _times(rng, days, sim["cafe"])
    tag = _tags(rng, sim, cust)
    order = np.lexsort((sim["cust"], when))
    when, tag = when[order], tag[order]
    s = {k: v[order] for k, v in sim.items()}
    december = month_of(when.astype("datetime64[D]")) == 12
    rows, prod, qty = _baskets(rng, december, s["cafe"])
    subtotal = np.bincount(rows, weights=catalog.unit_prices()[prod] * qty, minlength=len(when))
    subtotal = np.round(subtotal, 2)
    discount = np.round(subtotal * s["rate"], 2)
    return OrderTable(
        cust=s["cust"],
        when=when,
        channel=tag,
        cafe=s["cafe"],
        kind=s["kind"],
        source=s["source"],
        subtotal=subtotal,
        discount=discount,
        revenue=np.round(subtotal - discount, 2),
        item_rows=rows,
        item_prod=prod,
        item_qty=qty,
    )


def realised_media_revenue(orders: OrderTable) -> dict[str, float]:
    """Revenue of the orders that media really caused, by channel (first and repeat orders)."""
    out = {}
    caused = np.isin(orders.kind, ["media", "first"])
    for ch in ATTRIBUTED:
        out[ch] = float(orders.revenue[caused & (orders.source == ch)].sum())
    return out
