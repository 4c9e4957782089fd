"""Harbor Coffee's customers: who joins when, through which channel, and who they are.

Planted truths recorded here: the acquisition process (a seasonal, growing baseline plus the new
customers that paid media brings), the attributes (region, age band, consent), and per customer the
hidden traits that later drive behaviour: how likely they open an e-mail, the hour they usually read
it, how much of their buying happens at the café counter, and how strongly a sale moves them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.samples import harbor_coffee_catalog as catalog
from helpers.samples._common import make_emails
from helpers.samples._names import draw_names
from helpers.samples.harbor_coffee_media import SHARE_NEW
from helpers.samples.harbor_coffee_sim import LIFETIME_DAYS

TARGET_CUSTOMERS = 5000  # at scale 1, before the planted duplicates
LEGACY_SHARE = 0.50  # customers who signed up before the data starts (from LEGACY_START)
LEGACY_START = "2020-10-01"
REGIONS = ("Northeast", "Southeast", "Midwest", "Southwest", "West")
REGION_P = (0.38, 0.18, 0.17, 0.11, 0.16)
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_P = {  # age mix by acquisition channel: social channels skew young
    "default": (0.08, 0.26, 0.25, 0.19, 0.14, 0.08),
    "paid_social": (0.17, 0.36, 0.24, 0.12, 0.07, 0.04),
    "social": (0.20, 0.37, 0.22, 0.11, 0.07, 0.03),
}
BASE_CHANNELS = {"organic": 0.40, "direct": 0.20, "cafe": 0.40}
LEGACY_CHANNELS = {
    "cafe": 0.45,
    "organic": 0.30,
    "direct": 0.15,
    "paid_search": 0.07,
    "social": 0.03,
}
NO_EMAIL_CONSENT = 0.085  # never opted in to marketing e-mail
NO_ADS_CONSENT = 0.045  # refused ad personalisation (plus 30 % of the e-mail refusers)
UNSUBSCRIBE_SHARE = 0.02  # of opted-in customers, who later unsubscribe from an e-mail
OPEN_BETA = (2.2, 5.8)  # open propensity ~ Beta(2.2, 5.8), mean 0.275, before age tilt
OPEN_AGE_TILT = (0.8, 0.95, 1.0, 1.05, 1.15, 1.2)
# Preferred reading hour: a mixture of morning, lunch, afternoon and evening readers.
HOUR_GROUPS = (
    ((6, 7, 8, 9), 0.35),
    ((11, 12, 13), 0.20),
    ((14, 15, 16, 17), 0.10),
    ((18, 19, 20, 21, 22), 0.35),
)


@dataclass
class Customers:
    """Customer arrays (one row per customer, internal index = position)."""

    signup_day: np.ndarray  # day index relative to the data start (negative: before it)
    channel: np.ndarray  # acquisition channel as tagged
    true_source: np.ndarray  # "base" or the media channel that really brought them
    legacy: np.ndarray
    region: np.ndarray
    age: np.ndarray  # index into AGE_BANDS
    first_name: np.ndarray
    email: np.ndarray
    consent_email: np.ndarray  # opted in at sign-up
    consent_ads: np.ndarray
    open_prob: np.ndarray  # true probability of opening a marketing e-mail
    send_hour: np.ndarray
    cafe_affinity: np.ndarray  # share of this customer's orders placed at the café counter
    unsub_day: np.ndarray  # day of unsubscribing (large when never)
    gone_day: np.ndarray  # hidden: the day the customer leaves for good

    @property
    def n(self) -> int:
        return len(self.signup_day)


def expected_new_from_media(
    contrib: dict[str, np.ndarray], december: np.ndarray
) -> dict[str, np.ndarray]:
    """Expected new customers per day won by each media channel (its new-customer revenue / AOV)."""
    value = catalog.expected_order_value(december)
    return {ch: SHARE_NEW[ch] * contrib[ch] / value for ch in contrib if SHARE_NEW[ch] > 0}


def _acquisitions(
    rng, demand, media_new, n_new, attributed
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sign-up day, tagged channel and true source of the customers who join inside the data."""
    expected_media = sum(float(v.sum()) for v in media_new.values())
    base_rate = max(n_new - expected_media, 0.0) / demand.sum()
    days, chans, srcs = [], [], []
    counts = rng.poisson(base_rate * demand)
    d = np.repeat(np.arange(len(demand)), counts)
    days.append(d)
    chans.append(rng.choice(list(BASE_CHANNELS), size=len(d), p=list(BASE_CHANNELS.values())))
    srcs.append(np.full(len(d), "base", dtype=object))
    for ch, lam in media_new.items():
        d = np.repeat(np.arange(len(lam)), rng.poisson(lam))
        tagged = rng.random(len(d)) < attributed[ch]
        other = rng.choice(["organic", "direct"], size=len(d), p=[0.6, 0.4])
        days.append(d)
        chans.append(np.where(tagged, ch, other))
        srcs.append(np.full(len(d), ch, dtype=object))
    return np.concatenate(days), np.concatenate(chans).astype(object), np.concatenate(srcs)


def _legacy(rng, n_legacy: int, start: np.datetime64) -> tuple[np.ndarray, np.ndarray]:
    """Sign-up day (negative) and channel of customers who joined in the year before the data."""
    span = int((start - np.datetime64(LEGACY_START)).astype(int))
    # more recent sign-ups are more numerous (the shop was growing)
    w = np.linspace(0.85, 1.15, span)
    days = rng.choice(span, size=n_legacy, p=w / w.sum()) - span
    chans = rng.choice(list(LEGACY_CHANNELS), size=n_legacy, p=list(LEGACY_CHANNELS.values()))
    return days, chans.astype(object)


def _traits(rng, channel: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, ...]:
    """Age band, open propensity, preferred hour and café affinity."""
    n = len(channel)
    age = np.empty(n, dtype=int)
    for key, p in AGE_P.items():
        sel = channel == key if key != "default" else ~np.isin(channel, ["paid_social", "social"])
        age[sel] = rng.choice(len(AGE_BANDS), size=int(sel.sum()), p=p)
    open_prob = np.clip(rng.beta(*OPEN_BETA, size=n) * np.array(OPEN_AGE_TILT)[age], 0.02, 0.85)
    groups = rng.choice(len(HOUR_GROUPS), size=n, p=[g[1] for g in HOUR_GROUPS])
    hour = np.array([rng.choice(HOUR_GROUPS[g][0]) for g in groups.tolist()])
    local = region == "Northeast"
    cafe = np.where(channel == "cafe", rng.beta(4, 2, size=n), rng.beta(1, 5, size=n))
    cafe = np.where(local, cafe, 0.0)
    return age, open_prob, hour, cafe


def build(
    rng: np.random.Generator,
    demand: np.ndarray,
    contrib: dict[str, np.ndarray],
    december: np.ndarray,
    start: np.datetime64,
    scale: float,
    attributed: dict,
) -> Customers:
    """All customers: legacy ones, a seasonal baseline of sign-ups, and those won by media.

    ``demand`` is the daily seasonal x trend multiplier; baseline sign-ups follow it, and the
    count is set so that the expected total is ``TARGET_CUSTOMERS * scale``.
    """
    total = TARGET_CUSTOMERS * scale
    n_legacy = int(round(total * LEGACY_SHARE))
    media_new = expected_new_from_media(contrib, december)
    day_new, chan_new, src_new = _acquisitions(rng, demand, media_new, total - n_legacy, attributed)
    day_old, chan_old = _legacy(rng, n_legacy, start)
    signup = np.concatenate([day_old, day_new])
    channel = np.concatenate([chan_old, chan_new])
    source = np.concatenate([np.full(n_legacy, "base", dtype=object), src_new])
    n = len(signup)
    region = rng.choice(REGIONS, size=n, p=REGION_P).astype(object)
    region[channel == "cafe"] = "Northeast"
    age, open_prob, hour, cafe = _traits(rng, channel, region)
    first, last = draw_names(rng, n)
    consent_email = rng.random(n) >= NO_EMAIL_CONSENT
    consent_ads = (rng.random(n) >= NO_ADS_CONSENT) & ~(~consent_email & (rng.random(n) < 0.3))
    return Customers(
        signup_day=signup,
        channel=channel,
        true_source=source,
        legacy=np.arange(n) < n_legacy,
        region=region,
        age=age,
        first_name=first,
        email=make_emails(rng, first, last),
        consent_email=consent_email,
        consent_ads=consent_ads,
        open_prob=open_prob,
        send_hour=hour,
        cafe_affinity=cafe,
        unsub_day=np.full(n, 10**6),
        gone_day=signup + np.ceil(rng.exponential(LIFETIME_DAYS, size=n)).astype(int),
    )


def plan_unsubscribes(
    rng: np.random.Generator, cust: Customers, newsletter_days: np.ndarray
) -> None:
    """Pick the opted-in customers who will unsubscribe, and the newsletter they do it on."""
    cand = np.flatnonzero(cust.consent_email)
    chosen = cand[rng.random(len(cand)) < UNSUBSCRIBE_SHARE]
    for i in chosen.tolist():
        later = newsletter_days[newsletter_days > cust.signup_day[i]]
        if len(later):
            cust.unsub_day[i] = later[rng.integers(len(later))]
