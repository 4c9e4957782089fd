"""Harbor Coffee's social posts and website sessions.

Planted truths recorded here:

* Social posts: reach = followers (growing 18 %/year) x weekday x hour x format multipliers x a
  boost factor (paid boosts from the small content budget) x noise; engagement = reach x an
  engagement rate set by network and theme. Weekend mornings and weekday evenings do best; reels
  beat photos; promotional posts engage least.
* Web sessions (GA4 keeps 14 months, so the export starts 2025-08-01): every online order has one
  converting session whose source/medium matches the order's channel; paid sessions follow the ad
  clicks in marketing_spend, newsletter sessions the e-mail clicks, and organic and direct visits
  follow the season.
"""

from __future__ import annotations

import numpy as np

from helpers.samples import _text
from helpers.samples._common import (
    fmt_datetime,
    fmt_number,
    in_ranges,
    make_ids,
    trend_curve,
    weekday,
)

NETWORK_P = {"instagram": 0.65, "facebook": 0.35}
FORMATS = {
    "instagram": {"reel": 1.8, "carousel": 1.25, "photo": 1.0},
    "facebook": {"video": 1.4, "photo": 1.0, "link": 0.7},
}
WEEKDAY_REACH = (0.9, 0.95, 1.0, 1.0, 1.05, 1.2, 1.25)
HOUR_REACH = {
    7: 1.15,
    8: 1.2,
    9: 1.05,
    11: 0.95,
    12: 1.1,
    13: 1.0,
    15: 0.8,
    17: 0.9,
    18: 1.1,
    19: 1.3,
    20: 1.35,
    21: 1.15,
}
THEME_ENGAGEMENT = {
    "new_roast": 1.0,
    "brew_guide": 1.1,
    "behind_the_scenes": 1.3,
    "latte_art": 1.35,
    "cafe_event": 1.2,
    "promo": 0.7,
    "customer_story": 1.25,
}
BASE_REACH = {"instagram": 1600.0, "facebook": 800.0}
BASE_ENGAGEMENT = {"instagram": 0.045, "facebook": 0.025}
FOLLOWER_GROWTH = 0.18
CONTENT_COST = 15.0  # photography and design per post, dollars
BOOST_QUARTERS = [
    "2023-10",
    "2024-04",
    "2024-10",
    "2025-01",
    "2025-07",
    "2025-10",
    "2026-04",
    "2026-07",
]
BOOST_AMOUNTS = (10, 20, 30, 50)
WEB_START = "2025-08-01"
SOURCE_MEDIUM = {
    "paid_search": ("google", "cpc"),
    "paid_social": ("facebook", "paid"),
    "social": ("instagram", "social"),
    "email": ("newsletter", "email"),
    "organic": ("google", "organic"),
    "direct": ("(direct)", "(none)"),
}
VISIT_HOURS = np.array(
    [
        0.4,
        0.2,
        0.1,
        0.1,
        0.1,
        0.2,
        0.6,
        1.3,
        1.8,
        2.0,
        1.9,
        1.8,
        2.0,
        1.9,
        1.7,
        1.6,
        1.6,
        1.8,
        2.0,
        2.3,
        2.5,
        2.2,
        1.5,
        0.9,
    ]
)
DAILY_VISITS = {"organic": 380.0, "direct": 200.0, "social": 30.0}  # non-converting, scale 1


def plan_posts(rng: np.random.Generator, days: np.ndarray, scale: float) -> dict[str, np.ndarray]:
    """About three posts a week with network, hour, format, theme and boost spend."""
    dow = weekday(days)
    base = np.isin(dow, [0, 2, 4]) & (rng.random(len(days)) > 0.1)
    extra = np.isin(dow, [5, 6]) & (rng.random(len(days)) < 0.14)
    idx = np.flatnonzero(base | extra)
    n = len(idx)
    network = rng.choice(list(NETWORK_P), size=n, p=list(NETWORK_P.values())).astype(object)
    fmt = np.array([rng.choice(list(FORMATS[net])) for net in network.tolist()], dtype=object)
    theme = rng.choice(list(THEME_ENGAGEMENT), size=n).astype(object)
    hour = rng.choice(list(HOUR_REACH), size=n)
    quarters = [
        (q + "-01", str(np.datetime64(q) + np.timedelta64(3, "M")) + "-01") for q in BOOST_QUARTERS
    ]
    boosting = in_ranges(days[idx], quarters) & (days[idx] < days[-1])
    boost = (
        np.where(boosting & (rng.random(n) < 0.45), rng.choice(BOOST_AMOUNTS, size=n), 0) * scale
    )
    return {
        "day": idx,
        "network": network,
        "format": fmt,
        "theme": theme,
        "hour": hour,
        "boost": boost.astype(float),
        "cost": CONTENT_COST * scale + boost,
    }


def social_spend(posts: dict, n_days: int) -> np.ndarray:
    """Social spend per day: content cost plus boosts, booked on the posting day."""
    return np.bincount(posts["day"], weights=posts["cost"], minlength=n_days)


def posts_table(rng: np.random.Generator, posts: dict, days: np.ndarray, scale: float) -> tuple:
    """social_posts.csv columns, with the impressions and engagements of each post."""
    d = days[posts["day"]]
    followers = trend_curve(d, str(days[0]), FOLLOWER_GROWTH) * scale
    reach = (
        np.array([BASE_REACH[x] for x in posts["network"]])
        * followers
        * np.array(WEEKDAY_REACH)[weekday(d)]
        * np.array([HOUR_REACH[h] for h in posts["hour"]])
        * np.array([FORMATS[n][f] for n, f in zip(posts["network"], posts["format"], strict=True)])
        * (1 + posts["boost"] / (12.0 * scale))
        * rng.lognormal(-0.06, 0.35, len(d))
    )
    impressions = np.round(reach).astype(int)
    rate = np.array([BASE_ENGAGEMENT[x] for x in posts["network"]]) * np.array(
        [THEME_ENGAGEMENT[t] for t in posts["theme"]]
    )
    engagements = rng.binomial(impressions, np.clip(rate, 0, 1))
    when = d.astype("datetime64[s]") + (
        posts["hour"] * 3600 + rng.integers(0, 3600, len(d))
    ).astype("timedelta64[s]")
    text = np.array([_text.post_text(rng, t) for t in posts["theme"].tolist()], dtype=object)
    return (
        {
            "post_id": make_ids("SP", len(d), 4),
            "posted_at": fmt_datetime(when),
            "network": posts["network"],
            "format": posts["format"],
            "text": text,
            "impressions": impressions.astype(str).astype(object),
            "engagements": engagements.astype(str).astype(object),
            "boost_spend": fmt_number(posts["boost"], 2),
        },
        impressions,
        engagements,
    )


def posts_truth() -> dict:
    """The social-post section of truth.json."""
    return {
        "model": "impressions = base_reach[network] * followers(t) * weekday * hour * format * "
        "(1 + boost_spend/12) * lognormal noise; engagements ~ Binomial(impressions, "
        "base_engagement[network] * theme)",
        "base_reach": BASE_REACH,
        "base_engagement": BASE_ENGAGEMENT,
        "follower_growth_per_year": FOLLOWER_GROWTH,
        "weekday_multipliers_mon_to_sun": list(WEEKDAY_REACH),
        "hour_multipliers": {str(k): v for k, v in HOUR_REACH.items()},
        "format_multipliers": FORMATS,
        "theme_engagement_multipliers": THEME_ENGAGEMENT,
        "best_slots": "weekend posts and 19:00-20:00 posts reach most; reels reach most; promo posts "
        "engage least, behind-the-scenes and latte art most",
    }


def _visits(rng, days, t0, demand, paid_clicks, email_clicks, engagement, scale) -> tuple:
    """Day index and channel of the sessions that did not end in an order."""
    t = np.arange(t0, len(days))
    expected = {
        "paid_search": 0.9 * paid_clicks["paid_search"][t],
        "paid_social": 0.85 * paid_clicks["paid_social"][t],
        "email": 0.95 * email_clicks[t],
        "social": DAILY_VISITS["social"]
        * scale
        * trend_curve(days[t], str(days[0]), FOLLOWER_GROWTH)
        + 0.02 * engagement[t],
        "organic": DAILY_VISITS["organic"] * scale * demand[t],
        "direct": DAILY_VISITS["direct"] * scale * demand[t],
    }
    day_parts, chan_parts = [], []
    for ch, lam in expected.items():
        counts = rng.poisson(np.maximum(lam, 0))
        day_parts.append(np.repeat(t, counts))
        chan_parts.append(np.full(int(counts.sum()), ch, dtype=object))
    return np.concatenate(day_parts), np.concatenate(chan_parts)


def _visitors(rng, day: np.ndarray, signup_day: np.ndarray, share: float) -> np.ndarray:
    """Customer index for the ~``share`` of visits by a known (logged-in) customer, else -1."""
    order = np.argsort(signup_day, kind="stable")
    joined = np.searchsorted(signup_day[order], day, side="left")
    known = (rng.random(len(day)) < share) & (joined > 0)
    pick = (rng.random(len(day)) * np.maximum(joined, 1)).astype(int)
    return np.where(known, order[np.minimum(pick, len(order) - 1)], -1)


def _converting(rng, orders) -> dict:
    """One converting session per online order since WEB_START, tagged like the order."""
    conv = (~orders.cafe) & (orders.kind != "refund") & (orders.when >= np.datetime64(WEB_START))
    lead_time = rng.integers(120, 2400, int(conv.sum())).astype("timedelta64[s]")
    return {
        "who": orders.cust[conv],
        "chan": orders.channel[conv],
        "start": orders.when[conv] - lead_time,
    }


def _browsing(rng, world: dict, traffic: dict, scale: float) -> dict:
    """The sessions that did not end in an order, with times and (sometimes) a known customer."""
    days = world["cal"]["days"]
    t0 = int(np.flatnonzero(days >= np.datetime64(WEB_START))[0])
    day, chan = _visits(
        rng,
        days,
        t0,
        world["cal"]["demand"],
        traffic["paid"],
        traffic["email"],
        traffic["social"],
        scale,
    )
    h = rng.choice(24, size=len(day), p=VISIT_HOURS / VISIT_HOURS.sum())
    start = days[day].astype("datetime64[s]") + (h * 3600 + rng.integers(0, 3600, len(day))).astype(
        "timedelta64[s]"
    )
    return {
        "who": _visitors(rng, day, world["cust"].signup_day, 0.15),
        "chan": chan,
        "start": start,
    }


def _lookup(channel: np.ndarray, part: int) -> np.ndarray:
    """GA4 source (part 0) or medium (part 1) of each channel."""
    names, inverse = np.unique(channel.astype(str), return_inverse=True)
    return np.array([SOURCE_MEDIUM[n][part] for n in names], dtype=object)[inverse]


def sessions_table(rng, world: dict, ids: np.ndarray, traffic: dict, scale: float) -> dict:
    """web_sessions columns: converting sessions from online orders plus the other visits.

    ``traffic`` holds the paid clicks per channel and day, e-mail clicks per day and social
    engagements per day, which drive the matching visits.
    """
    conv, other = _converting(rng, world["orders"]), _browsing(rng, world, traffic, scale)
    who = np.concatenate([conv["who"], other["who"]])
    chan = np.concatenate([conv["chan"], other["chan"]])
    start = np.concatenate([conv["start"], other["start"]])
    converted = np.arange(len(who)) < len(conv["who"])
    pages = np.where(converted, 3 + rng.poisson(4, len(chan)), rng.geometric(0.42, len(chan)))
    order = np.lexsort((who, start))
    return {
        "session_id": make_ids("S", len(order), 7),
        "customer_id": np.where(who[order] >= 0, ids[np.maximum(who[order], 0)], "").astype(object),
        "started_at": start[order],
        "source": _lookup(chan[order], 0),
        "medium": _lookup(chan[order], 1),
        "pages": pages[order].astype(np.int32),
        "converted": converted[order],
    }
