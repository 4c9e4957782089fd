"""Summit Outdoor's paid media: daily spend per campaign, and the planted sales response.

Planted truth (media response): the extra merchandise sales (order Subtotal, CAD, before tax and
shipping) a channel brings on day t are

    beta * Hill(adstock(spend)[t]; K, S),   adstock[t] = spend[t] + decay * adstock[t-1]

Google Ads (paid_search: brand, generic and shopping campaigns) has been pushed far up its curve:
one more dollar a day brings back well under a dollar. Meta (paid_social) runs in seasonal flights
plus a retargeting campaign paused in the winter trough, and each extra dollar still brings back
about two: it is the under-invested channel. Spend is flighted (seasonal pushes, paused weeks, a budget-cut
test on search) so the two curves can be told apart from season and trend.
"""

from __future__ import annotations

import numpy as np

from helpers.samples import _common
from helpers.samples._common import geometric_adstock, hill, in_ranges, steady_state_roas, weekday

# decay: share of adstock carried to the next day; K and beta in CAD (scale 1).
MEDIA = {
    "paid_search": {"decay": 0.30, "half_saturation": 35.0, "shape": 1.2, "beta": 330.0},
    "paid_social": {"decay": 0.60, "half_saturation": 250.0, "shape": 1.1, "beta": 400.0},
}
# Share of a channel's media-driven orders placed by new customers (the rest: existing ones).
SHARE_NEW = {"paid_search": 0.45, "paid_social": 0.65}
PLATFORM = {"paid_search": "google_ads", "paid_social": "meta_ads"}

# Google Ads: (campaign, campaign type, share of the search budget, CPC, CTR).
GOOGLE_CAMPAIGNS = [
    ("Search | Brand", "Search", 0.18, 0.55, 0.110),
    ("Search | Generic - Gear", "Search", 0.47, 1.60, 0.038),
    ("Shopping | All Products", "Shopping", 0.35, 0.90, 0.011),
]
SEARCH_PHASES = [
    ("2024-10-01", 85.0),
    ("2025-03-01", 105.0),
    ("2025-09-01", 115.0),
    ("2026-03-01", 120.0),
]
SEARCH_PUSHES = [  # (start, end, multiplier): holiday and spring pushes
    ("2024-11-15", "2024-12-23", 1.30),
    ("2025-04-15", "2025-06-15", 1.20),
    ("2025-11-14", "2025-12-23", 1.30),
    ("2026-04-15", "2026-06-15", 1.20),
]
SEARCH_OFF = [
    ("2025-01-13", "2025-01-26"),
    ("2025-08-11", "2025-08-17"),
    ("2026-01-12", "2026-01-25"),
]
SEARCH_CUT_TEST = ("2026-02-16", "2026-03-15", 0.5)

# Meta: campaign -> list of flights (start, end, CAD per day); CPM and link-click CTR.
META_CAMPAIGNS = {
    "Prospecting | Spring-Summer Gear": [
        ("2025-03-10", "2025-07-13", 55.0),
        ("2026-03-09", "2026-07-12", 70.0),
    ],
    "Prospecting | Holiday Gifts": [
        ("2024-11-04", "2024-12-22", 60.0),
        ("2025-11-03", "2025-12-21", 75.0),
    ],
    "Prospecting | Fall Layers": [
        ("2025-09-15", "2025-10-26", 35.0),
        ("2026-08-31", "2026-09-30", 40.0),
    ],
    "Retargeting | Site Visitors": [  # paused in the January-February trough
        ("2024-10-01", "2024-12-31", 12.0),
        ("2025-03-01", "2025-12-31", 12.0),
        ("2026-03-01", "2026-09-30", 14.0),
    ],
}
META_CPM = {"Prospecting": 11.5, "Retargeting": 17.0}
META_LINK_CTR = {"Prospecting": 0.0085, "Retargeting": 0.0140}


def _noise(rng: np.random.Generator, days: np.ndarray, sd: float) -> np.ndarray:
    """Week-level (+-10 %) times day-level (lognormal ``sd``) spend noise, mean about 1."""
    week = (days - days[0]).astype(int) // 7
    weekly = rng.uniform(0.9, 1.1, size=week.max() + 1)[week]
    return weekly * rng.lognormal(-(sd**2) / 2, sd, size=len(days))


def google_campaigns(rng: np.random.Generator, days: np.ndarray, scale: float) -> list[dict]:
    """Google Ads campaigns with their daily spend (CAD)."""
    level = np.zeros(len(days))
    for start, value in SEARCH_PHASES:
        level[days >= np.datetime64(start)] = value
    for lo, hi, mult in SEARCH_PUSHES:
        level[in_ranges(days, [(lo, hi)])] *= mult
    level *= np.where(weekday(days) >= 5, 0.9, 1.0)
    level[in_ranges(days, SEARCH_OFF)] = 0.0
    level[in_ranges(days, [SEARCH_CUT_TEST[:2]])] *= SEARCH_CUT_TEST[2]
    total = level * _noise(rng, days, 0.10) * scale
    out = []
    for name, kind, share, cpc, ctr in GOOGLE_CAMPAIGNS:
        jitter = rng.lognormal(-0.0008, 0.04, len(days))
        out.append(
            {
                "name": name,
                "type": kind,
                "channel": "paid_search",
                "spend": np.round(total * share * jitter, 2),
                "cpc": cpc,
                "ctr": ctr,
            }
        )
    return out


def meta_campaigns(rng: np.random.Generator, days: np.ndarray, scale: float) -> list[dict]:
    """Meta campaigns with their daily spend (CAD); zero outside their flights."""
    out = []
    for name, flights in META_CAMPAIGNS.items():
        level = np.zeros(len(days))
        for lo, hi, per_day in flights:
            level[in_ranges(days, [(lo, hi)])] = per_day
        kind = name.split(" |")[0]
        spend = np.round(level * _noise(rng, days, 0.08) * scale, 2)
        out.append(
            {
                "name": name,
                "kind": kind,
                "channel": "paid_social",
                "spend": spend,
                "cpm": META_CPM[kind],
                "ctr": META_LINK_CTR[kind],
                "end": max(np.datetime64(hi) for _, hi, _ in flights),
            }
        )
    return out


def channel_spend(campaigns: list[dict], n_days: int) -> dict[str, np.ndarray]:
    """Total daily spend per channel over all campaigns."""
    return _common.channel_spend(campaigns, n_days, MEDIA)


def params(scale: float) -> dict[str, dict]:
    """The planted response parameters at a given scale."""
    return _common.scaled_params(MEDIA, scale)


def contributions(spend: dict[str, np.ndarray], scale: float) -> dict[str, np.ndarray]:
    """Expected media revenue per channel and day: ``beta * Hill(adstock(spend))``."""
    return _common.contributions(spend, MEDIA, scale)


def _pattern_returns(x: np.ndarray, p: dict) -> tuple[float, float]:
    """Average and marginal return over the last 13 weeks on the actual daily spend pattern."""

    def total(spend):
        ad = geometric_adstock(spend, p["decay"])
        return float((p["beta"] * hill(ad, p["half_saturation"], p["shape"]))[-91:].sum())

    bumped = x.copy()
    bumped[-91:] *= 1.01
    base = float(x[-91:].sum())
    return total(x) / base, (total(bumped) - total(x)) / (0.01 * base)


def media_truth(spend: dict, contrib: dict, scale: float, realised: dict) -> dict:
    """The media section of truth.json: the planted curves and the returns at recent spend."""
    channels = {}
    for ch, p in params(scale).items():
        daily = float(spend[ch][-91:].mean())
        roas = steady_state_roas(daily, p["decay"], p["half_saturation"], p["shape"], p["beta"])
        pattern_avg, pattern_marg = _pattern_returns(spend[ch], p)
        channels[ch] = {
            "platform": PLATFORM[ch],
            **p,
            "half_life_days": round(float(np.log(0.5) / np.log(p["decay"])), 2),
            "mean_daily_spend_last_13_weeks": round(daily, 2),
            "average_roas": round(roas["average_roas"], 3),
            "marginal_roas": round(roas["marginal_roas"], 3),
            "pattern_average_roas": round(pattern_avg, 3),
            "pattern_marginal_roas": round(pattern_marg, 3),
            "total_spend": round(float(spend[ch].sum()), 2),
            "expected_incremental_sales": round(float(contrib[ch].sum()), 2),
            "realised_incremental_sales": round(realised[ch]["sales"], 2),
            "realised_incremental_orders": realised[ch]["orders"],
            "share_of_effect_from_new_customers": SHARE_NEW[ch],
        }
    marginal = {ch: c["marginal_roas"] for ch, c in channels.items()}
    return {
        "functional_form": "incremental_sales[t] = beta * Hill(adstock[t]); adstock[t] = spend[t] "
        "+ decay * adstock[t-1] (daily, CAD, not normalised); Hill(a) = a**S / (a**S + K**S), "
        "K = half_saturation, S = shape; sales = order Subtotal (after discounts, before tax "
        "and shipping)",
        "roas_definition": "at a steady daily spend equal to the mean of the last 13 weeks: "
        "average_roas = beta*Hill(x/(1-decay))/x, marginal_roas = its derivative in x; the "
        "pattern_* figures apply 1 % more spend to each actual day of those 13 weeks",
        "channels": channels,
        "under_invested_channel": max(marginal, key=marginal.get),
        "saturated_channel": min(marginal, key=marginal.get),
        "search_budget_cut_test": {
            "start": SEARCH_CUT_TEST[0],
            "end": SEARCH_CUT_TEST[1],
            "budget_multiplier": SEARCH_CUT_TEST[2],
        },
        "what_to_find": "Meta (paid_social) returns well over CAD 1 per extra dollar: raise it; "
        "Google Ads (paid_search) returns well under CAD 1 per extra dollar: cap or trim it. Both "
        "platforms claim more purchases than they cause (see platform_reports)",
    }
