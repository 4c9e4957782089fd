"""Summit Outdoor Supply: an outdoor-gear shop in Vancouver, online and in store (sample business 3).

Unlike the first two samples, this business has no canonical files: everything is a native
platform export, written with the exact header rows of the real ones (see ``exports/``): a Shopify
orders export (online and POS), Mailchimp audience and campaign exports, a Meta Ads Manager
export, a Google Ads campaign report and a GA4 traffic-acquisition report. Two years of history
(2024-10-01 .. 2026-09-30), the day the shop moved to Shopify; currency CAD.

Planted truth (demand): ``F(t) = WEEKLY[weekday] * yearly(MONTHLY) * (1 + TREND) ** years * event``:
a spring and early-summer peak (May-June), a Black Friday / December peak, a January-February
trough, a Saturday store peak, and sale events (``EVENTS``) that lift demand while their discount
code runs. The other truths (media response, e-mail effect, repeat buying, consent, quirks) are
described in the ``summit_outdoor_*`` modules and recorded in truth.json.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.samples import summit_outdoor_catalog as catalog
from helpers.samples import summit_outdoor_email as email_mod
from helpers.samples import summit_outdoor_media as media_mod
from helpers.samples import summit_outdoor_orders as orders_mod
from helpers.samples import summit_outdoor_people as people
from helpers.samples import summit_outdoor_sim as sim_mod
from helpers.samples._common import (
    day_range,
    in_ranges,
    month_of,
    normalised,
    stream,
    trend_curve,
    weekday,
    yearly_curve,
)

NAME = "summit_outdoor"
SEED = 20241003
START, END = "2024-10-01", "2026-09-30"
WEEKLY = normalised([0.92, 0.90, 0.92, 0.97, 1.05, 1.22, 1.02])  # Mon..Sun
MONTHLY = normalised([0.50, 0.58, 0.85, 1.15, 1.40, 1.45, 1.25, 1.05, 0.85, 0.78, 1.00, 1.30])
TREND = 0.08
# Sale events: (first day, last day, demand multiplier, discount code, discount rate).
EVENTS = [
    ("2024-11-29", "2024-12-02", 2.2, "BFCM20", 0.20),
    ("2024-12-26", "2024-12-28", 1.6, "BOXING25", 0.25),
    ("2025-04-25", "2025-04-27", 1.6, "SPRING15", 0.15),
    ("2025-08-21", "2025-08-24", 1.3, "SUMMER20", 0.20),
    ("2025-11-28", "2025-12-01", 2.2, "BFCM20", 0.20),
    ("2025-12-26", "2025-12-28", 1.6, "BOXING25", 0.25),
    ("2026-04-24", "2026-04-26", 1.6, "SPRING15", 0.15),
    ("2026-08-20", "2026-08-23", 1.3, "SUMMER20", 0.20),
]
EXPECTED_DISCOUNT = 0.03  # average share of merchandise value given away in codes


def calendar() -> dict:
    """Days, weekdays, months and the demand multiplier F(t)."""
    days = day_range(START, END)
    event = np.ones(len(days))
    for lo, hi, mult, _code, _rate in EVENTS:
        event[in_ranges(days, [(lo, hi)])] = mult
    demand = (
        np.array(WEEKLY)[weekday(days)]
        * yearly_curve(days, MONTHLY)
        * trend_curve(days, START, TREND)
        * event
    )
    return {
        "days": days,
        "dow": weekday(days),
        "month": month_of(days),
        "demand": demand,
        "event": event,
    }


def basket_value(cal: dict) -> np.ndarray:
    """Expected order Subtotal on each day (turns media sales into orders)."""
    by_month = np.array([catalog.expected_basket_value(m) for m in range(1, 13)])
    return by_month[cal["month"] - 1] * (1 - EXPECTED_DISCOUNT)


def _media(seed: int, cal: dict, scale: float) -> dict:
    days = cal["days"]
    google = media_mod.google_campaigns(stream(seed, "google"), days, scale)
    meta = media_mod.meta_campaigns(stream(seed, "meta"), days, scale)
    spend = media_mod.channel_spend(google + meta, len(days))
    contrib = media_mod.contributions(spend, scale)
    value = basket_value(cal)
    orders = {ch: c / value for ch, c in contrib.items()}
    return {
        "google": google,
        "meta": meta,
        "spend": spend,
        "contrib": contrib,
        "value": value,
        "new": {ch: media_mod.SHARE_NEW[ch] * x for ch, x in orders.items()},
        "repeat": {ch: (1 - media_mod.SHARE_NEW[ch]) * x for ch, x in orders.items()},
    }


def _order_frame(rng, cal: dict, cust, ident: dict, walk: dict) -> dict:
    """Identified and walk-in orders together, in time order, with what the details need."""
    cust_idx = np.concatenate([ident["cust"], walk["cust"]])
    day = np.concatenate([ident["day"], walk["day"]])
    store = np.concatenate([ident["store"], walk["store"]])
    date = cal["days"][day]
    when = orders_mod.timestamps(rng, date, store)
    order = np.lexsort((cust_idx, when))
    cust_idx, day, store, date, when = (a[order] for a in (cust_idx, day, store, date, when))
    driver = np.concatenate([ident["driver"], walk["driver"]])[order]
    known = cust_idx >= 0
    safe = np.where(known, cust_idx, 0)
    first_seen = np.zeros(len(cust_idx), dtype=bool)
    _, first = np.unique(cust_idx[known], return_index=True)
    first_seen[np.flatnonzero(known)[first]] = True
    place = np.where(known, cust.place[safe], 0)  # walk-ins: the store, Vancouver
    province = np.array([people.PLACES[p][1] for p in place.tolist()], dtype=object)
    return {
        "cust": cust_idx,
        "day": day,
        "date": date,
        "when": when,
        "store": store,
        "driver": driver,
        "place": place,
        "province": province,
        "local": np.where(known, cust.local[safe], True),
        "legacy": known & cust.legacy[safe],
        "first_of_popup": first_seen & known & cust.popup_first[safe] & ~cust.legacy[safe],
        "first_seen": first_seen,
    }


def simulate(seed: int, scale: float) -> dict:
    """Run the whole Summit Outdoor world and return its pieces (not yet formatted)."""
    cal = calendar()
    days = cal["days"]
    media = _media(seed, cal, scale)
    arrive = people.arrivals(stream(seed, "arrivals"), cal["demand"], media["new"], scale)
    cust = people.build_customers(stream(seed, "customers"), arrive, scale)
    aud = people.build_audience(stream(seed, "audience"), cust, days, cal["demand"], scale)
    sends = email_mod.plan(stream(seed, "sends"), days)
    email_mod.unsubscribe(stream(seed, "unsubscribes"), aud, sends, days, scale)
    subscribed = people.subscribed_days(aud, cust.n, days[0], len(days))
    boost = email_mod.daily_boost(sends, len(days))
    ident = sim_mod.run(stream(seed, "purchases"), cal, cust, subscribed, boost, media["repeat"])
    walk = sim_mod.walk_ins(stream(seed, "walk_ins"), cal, scale)
    o = _order_frame(stream(seed, "order_times"), cal, cust, ident, walk)
    money, lines = orders_mod.build(stream(seed, "orders"), o, EVENTS)
    return {
        "cal": cal,
        "media": media,
        "cust": cust,
        "aud": aud,
        "sends": sends,
        "subscribed": subscribed,
        "boost": boost,
        "orders": o,
        "money": money,
        "lines": lines,
        "expected_email_orders": sim_mod.expected_email_orders(cal, cust, subscribed, boost),
    }


def generate(out_dir: str | Path, *, scale: float = 1.0, seed: int | None = None) -> Path:
    """Write the Summit Outdoor business folder (see ``helpers.samples.generate``)."""
    from helpers.samples import summit_outdoor_build as build_mod

    seed = SEED if seed is None else int(seed)
    world = simulate(seed, scale)
    return build_mod.write(Path(out_dir), world, seed, scale)
