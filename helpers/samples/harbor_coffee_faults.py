"""Harbor Coffee's planted data-quality faults, each recorded with its exact ids.

* Duplicate customers: the same person checked out again with the e-mail typed in another letter
  case, so the shop created a second customer record; the later orders sit on the second id.
* Refunds as negative revenue: a refund is its own row in orders.csv (id ``R...``), negative
  revenue, the refunded order's id in ``refund_of``.
* Unparseable order dates: a handful of orders whose date cell holds text no parser should accept.
* Missing region: some customers have an empty region cell.
"""

from __future__ import annotations

import numpy as np

BAD_DATES = ("31/02/2026", "2026-13-01", "not recorded", "2026-02-30", "13/13/2025")
DUPLICATES = 12  # at scale 1
REFUND_SHARE = 0.01
MISSING_REGION_SHARE = 0.03


def _case_variant(email: str, style: int) -> str:
    """The same address in another letter case (``Maria.Lopez@Example.com`` and the like)."""
    local, domain = email.split("@")
    if style == 0:
        return ".".join(p.capitalize() for p in local.split(".")) + "@" + domain
    if style == 1:
        return local + "@" + domain.capitalize()
    return email.upper()


def add_duplicates(
    rng: np.random.Generator,
    cust,
    orders,
    protected: np.ndarray,
    scale: float,
    start: np.datetime64,
) -> list[dict]:
    """Split some customers in two: a case-variant e-mail record takes over their later orders."""
    counts = np.bincount(orders.cust, minlength=cust.n)
    pool = np.flatnonzero((counts >= 4) & ~np.isin(np.arange(cust.n), protected))
    chosen = np.sort(rng.choice(pool, size=max(1, round(DUPLICATES * scale)), replace=False))
    records = []
    for k, orig in enumerate(chosen.tolist()):
        rows = np.flatnonzero(orders.cust == orig)
        moved = rows[-max(1, int(len(rows) * rng.uniform(0.25, 0.5))) :]
        dup = cust.n
        for name, arr in vars(cust).items():
            if isinstance(arr, np.ndarray):
                setattr(cust, name, np.append(arr, arr[orig : orig + 1]))
        cust.email[dup] = _case_variant(cust.email[orig], k % 3)
        cust.signup_day[dup] = int((orders.day[moved[0]] - start).astype(int))
        cust.channel[dup] = orders.channel[moved[0]]
        cust.legacy[dup] = False
        orders.cust[moved] = dup
        records.append({"original": orig, "duplicate": dup, "moved_rows": moved})
    return records


def add_refunds(
    rng: np.random.Generator, orders, protected: np.ndarray, last_day: np.datetime64
) -> np.ndarray:
    """Append refund rows (negative revenue) and return, per row, the refunded row (-1 if none)."""
    ok = (
        (~orders.cafe)
        & ~np.isin(orders.cust, protected)
        & (orders.day < last_day - np.timedelta64(21, "D"))
    )
    pool = np.flatnonzero(ok)
    src = np.sort(rng.choice(pool, size=int(round(len(orders.cust) * REFUND_SHARE)), replace=False))
    delay = rng.integers(2, 22, len(src)) * 86400 + rng.integers(9 * 3600, 17 * 3600, len(src))
    when = orders.when[src].astype("datetime64[D]").astype("datetime64[s]") + delay.astype(
        "timedelta64[s]"
    )
    full = rng.random(len(src)) < 0.7
    amount = np.where(
        full,
        orders.revenue[src],
        np.round(orders.revenue[src] * rng.uniform(0.3, 0.6, len(src)), 2),
    )
    n0 = len(orders.cust)
    for name, extra in (
        ("cust", orders.cust[src]),
        ("when", when),
        ("channel", orders.channel[src]),
        ("cafe", orders.cafe[src]),
        ("kind", np.full(len(src), "refund", dtype=object)),
        ("source", np.full(len(src), "", dtype=object)),
        ("subtotal", np.zeros(len(src))),
        ("discount", np.zeros(len(src))),
        ("revenue", -amount),
    ):
        setattr(orders, name, np.concatenate([getattr(orders, name), extra]))
    refund_of = np.full(len(orders.cust), -1)
    refund_of[n0:] = src
    return refund_of


def pick_bad_dates(
    rng: np.random.Generator, orders, protected: np.ndarray, refunded: np.ndarray
) -> np.ndarray:
    """Rows whose order_date will hold unparseable text (ordinary orders only)."""
    ok = (
        (orders.kind != "refund")
        & ~np.isin(orders.cust, protected)
        & ~np.isin(np.arange(len(orders.cust)), refunded)
    )
    return np.sort(rng.choice(np.flatnonzero(ok), size=len(BAD_DATES), replace=False))


def pick_missing_regions(rng: np.random.Generator, n: int) -> np.ndarray:
    """Customers whose region cell is left empty."""
    return np.sort(rng.choice(n, size=int(round(n * MISSING_REGION_SHARE)), replace=False))
