"""Summit Outdoor's purchases, day by day: who buys, why (the hidden driver) and where.

Planted truth (repeat buying): an existing customer buys on day t with probability

    rate_i / 365 * F(t) * (1 + email_boost[t] * subscribed_i(t) + media_repeat[t] / B(t))

where ``rate_i`` is the customer's baseline orders per year (gamma-distributed around
``people.REPEAT_PER_YEAR``, higher for store regulars), ``F(t)`` the demand calendar,
``email_boost`` the lift on the day of a Mailchimp send and the two days after, and ``media_repeat`` the paid-media orders that go to
existing customers (shared in proportion to ``B(t)``, the day's baseline). Each customer leaves
for good after an exponential lifetime (mean ``LIFETIME_DAYS``).

Local (Vancouver-area) customers buy in the store (Shopify POS) about 60 % of the time when they
come on their own; orders that ads bring are online. Walk-in shoppers who give no e-mail make up
the anonymous POS orders.
"""

from __future__ import annotations

import numpy as np

from helpers.samples import summit_outdoor_people as people

WALK_INS = 0.6  # anonymous store orders per day at average demand (scale 1)
STORE_WEEKDAY = np.array([0.8, 0.75, 0.8, 0.9, 1.05, 1.6, 1.1])  # Mon..Sun, store traffic
EMAIL_IN_STORE = 0.3  # share of e-mail-driven orders of local customers placed in the store
MAX_DAILY_P = 0.5


def _drivers(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One driver index per row of ``weights`` (rows: base, paid_search, paid_social, email)."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return (u[:, None] > cum).sum(axis=1)


def run(
    rng: np.random.Generator,
    cal: dict,
    cust: people.Customers,
    subscribed: tuple[np.ndarray, np.ndarray],
    boost: np.ndarray,
    media_repeat: dict[str, np.ndarray],
) -> dict:
    """All identified orders: customer, day index, driver index (people.DRIVERS), in store."""
    demand, n_days = cal["demand"], len(cal["days"])
    lo, hi = subscribed
    out_c, out_d, out_k = [], [], []
    first = np.flatnonzero(cust.signup_day >= 0)
    for t in range(n_days):
        active = np.flatnonzero((cust.signup_day < t) & (cust.gone_day > t))
        base = cust.rate[active] / 365.0 * demand[t]
        on_list = (lo[active] <= t) & (t <= hi[active])
        e = boost[t] * on_list
        total_base = base.sum()
        m_s = media_repeat["paid_search"][t] / total_base
        m_m = media_repeat["paid_social"][t] / total_base
        p = np.minimum(base * (1 + e + m_s + m_m), MAX_DAILY_P)
        hit = rng.random(len(active)) < p
        w = np.column_stack(
            [np.ones(hit.sum()), np.full(hit.sum(), m_s), np.full(hit.sum(), m_m), e[hit]]
        )
        out_c.append(active[hit])
        out_d.append(np.full(hit.sum(), t))
        out_k.append(_drivers(rng, w))
    cust_idx = np.concatenate([first, *out_c])
    day = np.concatenate([cust.signup_day[first], *out_d])
    driver = np.concatenate([cust.first_driver[first], *out_k])
    store = _in_store(rng, cust, cust_idx, driver)
    # a pop-up subscriber's first order is online (they came for the welcome code)
    first_rows = np.arange(len(first))
    store[first_rows[cust.popup_first[first]]] = False
    order = np.lexsort((cust_idx, day))
    return {
        "cust": cust_idx[order],
        "day": day[order],
        "driver": driver[order],
        "store": store[order],
    }


def _in_store(rng, cust, cust_idx, driver) -> np.ndarray:
    """Whether each order is placed in the store (local customers only, never ad-driven)."""
    local = cust.local[cust_idx]
    u = rng.random(len(cust_idx))
    store = local & (driver == 0) & (u < people.POS_SHARE_LOCAL)
    return store | (local & (driver == 3) & (u < EMAIL_IN_STORE))


def walk_ins(rng: np.random.Generator, cal: dict, scale: float) -> dict:
    """Anonymous store orders (no e-mail): day indices."""
    lam = WALK_INS * scale * cal["demand"] * STORE_WEEKDAY[cal["dow"]] / STORE_WEEKDAY.mean()
    counts = rng.poisson(lam)
    day = np.repeat(np.arange(len(counts)), counts)
    n = len(day)
    return {
        "cust": np.full(n, -1),
        "day": day,
        "driver": np.zeros(n, dtype=int),
        "store": np.ones(n, dtype=bool),
    }


def expected_email_orders(
    cal: dict, cust: people.Customers, subscribed: tuple, boost: np.ndarray
) -> float:
    """Expected extra orders the e-mail sends cause (sum over days of base * boost)."""
    lo, hi = subscribed
    total = 0.0
    for t in np.flatnonzero(boost > 0).tolist():
        active = (cust.signup_day < t) & (cust.gone_day > t) & (lo <= t) & (t <= hi)
        total += float((cust.rate[active] / 365.0 * cal["demand"][t]).sum() * boost[t])
    return total
