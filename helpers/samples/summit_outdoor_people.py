"""Summit Outdoor's people: the shop's customers and the Mailchimp audience.

Customers arrive with their first order: a daily baseline that follows demand, plus the new
customers that paid search and paid social bring. Some store regulars (``LEGACY``) bought before the
shop moved to Shopify (2024-10-01); their earlier orders are not in the export. Local customers
(Vancouver area) buy in the store about 60 % of the time; the rest of Canada buys online.

Planted truth (consent): Shopify's ``Accepts Marketing`` is a property of the customer (the same on
all their orders). Most customers who accept marketing are synced to Mailchimp at their first order;
some subscribed through the website pop-up before buying (and got WELCOME10); a few of those, and a
few store regulars from the old list, untick the box at checkout, so Mailchimp says subscribed while
Shopify says no. Mailchimp also holds people who never bought. An opt-out anywhere wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.samples._common import make_emails
from helpers.samples._names import draw_names

NEW_BASE = 1.55  # baseline new identified customers per day at average demand (scale 1)
LEGACY = 600  # store regulars who bought before the Shopify export starts
LIST_NON_BUYERS = 450  # old-list subscribers who never buy on Shopify
POPUP_NON_BUYERS = 500  # pop-up sign-ups during the export who never buy
LEGACY_LIST_START = np.datetime64("2019-03-01")
LIFETIME_DAYS = 650.0
REPEAT_PER_YEAR = {"new": 0.9, "legacy": 1.3}
LOCAL_SHARE = {"base": 0.40, "paid_search": 0.25, "paid_social": 0.25, "legacy": 0.75}
POS_SHARE_LOCAL = 0.6
ACCEPTS_MARKETING = 0.55
POPUP_FIRST = 0.20  # new online customers who joined the list through the pop-up first
POPUP_ACCEPTS = 0.80  # ... and of those, who also tick "accept marketing" at checkout
SYNC_RATE = 0.90  # customers accepting marketing who reach Mailchimp through the Shopify sync
LEGACY_IN_LIST = {True: 0.70, False: 0.15}  # store regulars on the old list, by accepts marketing
DRIVERS = ("base", "paid_search", "paid_social", "email")

# (city, province, postal prefix, weight); the first five are the "local" area.
PLACES = [
    ("Vancouver", "BC", "V6K", 0.55),
    ("Burnaby", "BC", "V5H", 0.15),
    ("North Vancouver", "BC", "V7L", 0.12),
    ("Richmond", "BC", "V6Y", 0.10),
    ("Squamish", "BC", "V8B", 0.08),
    ("Victoria", "BC", "V8W", 0.14),
    ("Kelowna", "BC", "V1Y", 0.08),
    ("Whistler", "BC", "V8E", 0.06),
    ("Calgary", "AB", "T2P", 0.14),
    ("Edmonton", "AB", "T5J", 0.09),
    ("Toronto", "ON", "M5V", 0.16),
    ("Ottawa", "ON", "K1P", 0.07),
    ("Montréal", "QC", "H2X", 0.12),
    ("Winnipeg", "MB", "R3C", 0.07),
    ("Saskatoon", "SK", "S7K", 0.07),
]
N_LOCAL_PLACES = 5


@dataclass
class Customers:
    """One entry per identified Shopify customer (arrays of equal length)."""

    signup_day: np.ndarray  # day index of the first order in the export; -1 for store regulars
    legacy: np.ndarray
    first_driver: np.ndarray  # index into DRIVERS for the first order (new customers)
    local: np.ndarray
    place: np.ndarray  # index into PLACES
    first: np.ndarray
    last: np.ndarray
    email: np.ndarray
    accepts: np.ndarray  # Shopify Accepts Marketing
    rate: np.ndarray  # baseline repeat orders per year
    gone_day: np.ndarray  # leaves for good after this day (hidden)
    popup_first: np.ndarray

    @property
    def n(self) -> int:
        return len(self.signup_day)


@dataclass
class Audience:
    """One entry per Mailchimp member (customers on the list and people who never bought)."""

    email: np.ndarray
    first: np.ndarray
    last: np.ndarray
    customer: np.ndarray  # index into Customers, -1 for a non-buyer
    source: np.ndarray  # "legacy" (imported list), "popup" (website form), "shopify" (sync)
    joined: np.ndarray  # datetime64[s]
    place: np.ndarray
    unsub: np.ndarray  # datetime64[s], NaT while subscribed (set by the e-mail module)
    unsub_campaign: np.ndarray  # index of the campaign unsubscribed from, -1 for none

    @property
    def n(self) -> int:
        return len(self.email)


def arrivals(rng: np.random.Generator, demand: np.ndarray, new_media: dict, scale: float) -> dict:
    """Day and driver of each new customer's first order.

    ``new_media`` holds, per paid channel, the expected new customers it brings per day.
    """
    counts = [rng.poisson(NEW_BASE * scale * demand)]
    counts += [rng.poisson(new_media[ch]) for ch in DRIVERS[1:3]]
    day = np.concatenate([np.repeat(np.arange(len(demand)), c) for c in counts])
    driver = np.concatenate([np.full(c.sum(), k) for k, c in enumerate(counts)])
    order = np.argsort(day, kind="stable")
    return {"day": day[order], "driver": driver[order]}


def _places(rng: np.random.Generator, local: np.ndarray) -> np.ndarray:
    w = np.array([p[3] for p in PLACES])
    near = np.arange(len(PLACES)) < N_LOCAL_PLACES
    p_local = np.where(near, w, 0) / w[near].sum()
    p_far = np.where(near, 0, w) / w[~near].sum()
    out = rng.choice(len(PLACES), size=len(local), p=p_far)
    out[local] = rng.choice(len(PLACES), size=int(local.sum()), p=p_local)
    return out


def build_customers(rng: np.random.Generator, arrive: dict, scale: float) -> Customers:
    """The customers: store regulars first, then the new ones in order of their first order."""
    n_legacy = int(round(LEGACY * scale))
    n = n_legacy + len(arrive["day"])
    legacy = np.arange(n) < n_legacy
    signup = np.concatenate([np.full(n_legacy, -1), arrive["day"]])
    driver = np.concatenate([np.zeros(n_legacy, dtype=int), arrive["driver"]])
    key = np.where(legacy, "legacy", np.array(DRIVERS)[driver])
    local = rng.random(n) < np.vectorize(LOCAL_SHARE.get)(key)
    first, last = draw_names(rng, n)
    rate = np.where(legacy, REPEAT_PER_YEAR["legacy"], REPEAT_PER_YEAR["new"])
    rate = rate * rng.gamma(0.8, 1 / 0.8, n)
    popup = ~legacy & (rng.random(n) < POPUP_FIRST)
    accepts = np.where(popup, rng.random(n) < POPUP_ACCEPTS, rng.random(n) < ACCEPTS_MARKETING)
    return Customers(
        signup_day=signup,
        legacy=legacy,
        first_driver=driver,
        local=local,
        place=_places(rng, local),
        first=first,
        last=last,
        email=make_emails(rng, first, last),
        accepts=accepts,
        rate=rate,
        gone_day=np.maximum(signup, 0) + rng.exponential(LIFETIME_DAYS, n),
        popup_first=popup,
    )


def _seconds(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """A daytime moment (07:00-23:00) on each of ``days`` (datetime64[D])."""
    secs = rng.integers(7 * 3600, 23 * 3600, len(days))
    return days.astype("datetime64[s]") + secs.astype("timedelta64[s]")


def _list_join(rng: np.random.Generator, n: int, start: np.datetime64) -> np.ndarray:
    span = int((start - LEGACY_LIST_START).astype(int))
    return _seconds(rng, LEGACY_LIST_START + rng.integers(0, span, n).astype("timedelta64[D]"))


def build_audience(
    rng: np.random.Generator, cust: Customers, days: np.ndarray, demand: np.ndarray, scale: float
) -> Audience:
    """Mailchimp members: customers on the list, then old-list and pop-up non-buyers."""
    start = days[0]
    first_day = start + np.maximum(cust.signup_day, 0).astype("timedelta64[D]")
    in_list_p = np.where(cust.accepts, LEGACY_IN_LIST[True], LEGACY_IN_LIST[False])
    legacy_in = cust.legacy & (rng.random(cust.n) < in_list_p)
    synced = ~cust.legacy & ~cust.popup_first & cust.accepts & (rng.random(cust.n) < SYNC_RATE)
    ids = np.flatnonzero(legacy_in | synced | cust.popup_first)
    source = np.where(
        cust.legacy[ids], "legacy", np.where(cust.popup_first[ids], "popup", "shopify")
    )
    joined = np.where(
        source == "legacy",
        _list_join(rng, len(ids), start),
        np.where(
            source == "popup",
            _seconds(rng, first_day[ids] - rng.integers(1, 46, len(ids)).astype("timedelta64[D]")),
            # the Shopify sync runs in a nightly batch, shortly after midnight
            (first_day[ids] + 1).astype("datetime64[s]")
            + rng.integers(20 * 60, 80 * 60, len(ids)).astype("timedelta64[s]"),
        ),
    )
    n_list = int(round(LIST_NON_BUYERS * scale))
    w = demand / demand.sum()
    n_pop = int(round(POPUP_NON_BUYERS * scale))
    pop_days = days[rng.choice(len(days), size=n_pop, p=w)]
    f, s = draw_names(rng, n_list + n_pop)
    emails = make_emails(rng, f, s, taken=set(cust.email.tolist()))
    local = rng.random(n_list + n_pop) < 0.55
    return Audience(
        email=np.concatenate([cust.email[ids], emails]),
        first=np.concatenate([cust.first[ids], f]),
        last=np.concatenate([cust.last[ids], s]),
        customer=np.concatenate([ids, np.full(n_list + n_pop, -1)]),
        source=np.concatenate([source, np.repeat(["legacy", "popup"], [n_list, n_pop])]).astype(
            object
        ),
        joined=np.concatenate([joined, _list_join(rng, n_list, start), _seconds(rng, pop_days)]),
        place=np.concatenate([cust.place[ids], _places(rng, local)]),
        unsub=np.full(len(ids) + n_list + n_pop, np.datetime64("NaT"), dtype="datetime64[s]"),
        unsub_campaign=np.full(len(ids) + n_list + n_pop, -1),
    )


def subscribed_days(aud: Audience, n_customers: int, start: np.datetime64, n_days: int):
    """Per customer, the first and the last day index on which they are subscribed.

    Returns two integer arrays (``first``, ``last``); a customer never on the list has ``first``
    after the export ends.
    """
    lo = np.full(n_customers, n_days + 1)
    hi = np.full(n_customers, n_days + 1)
    on = aud.customer >= 0
    join = (aud.joined[on].astype("datetime64[D]") - start).astype(int)
    leave = np.where(
        np.isnat(aud.unsub[on]),
        n_days + 1,
        (aud.unsub[on].astype("datetime64[D]") - start).astype(int),
    )
    lo[aud.customer[on]] = np.maximum(join, 0)
    hi[aud.customer[on]] = leave - 1
    return lo, hi
