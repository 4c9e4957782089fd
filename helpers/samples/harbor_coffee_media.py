"""Harbor Coffee's paid media: daily spend by campaign, and the planted revenue response.

Planted truth (media response): the extra revenue a channel brings on day t is

    beta * Hill(adstock(spend)[t]; K, S),   adstock[t] = spend[t] + decay * adstock[t-1]

with spend in dollars per day and K in the same units as the adstock. Spend is flighted (on and off
weeks, budget changes, a budget cut test, a high-spend test) so that the curves can be told apart
from trend and season. Paid search has long been pushed far up its curve: its marginal return is well
below one dollar per dollar. Paid social runs in short, modest flights although each extra dollar
still brings back two to three dollars: it is the under-invested channel.
"""

from __future__ import annotations

import numpy as np

from helpers.samples import _common
from helpers.samples._common import in_ranges, steady_state_roas, weekday

# decay: share of adstock carried to the next day; half_saturation K and beta in dollars (scale 1).
MEDIA = {
    "email": {"decay": 0.45, "half_saturation": 20.0, "shape": 0.6, "beta": 95.0},
    "paid_search": {"decay": 0.30, "half_saturation": 22.0, "shape": 1.2, "beta": 150.0},
    "paid_social": {"decay": 0.60, "half_saturation": 110.0, "shape": 1.1, "beta": 250.0},
    "social": {"decay": 0.70, "half_saturation": 90.0, "shape": 0.8, "beta": 52.0},
}
# Share of a channel's media-driven orders placed by new customers (the rest are repeat buyers).
SHARE_NEW = {"email": 0.0, "paid_search": 0.5, "paid_social": 0.6, "social": 0.5}
# Share of media-driven orders that the shop's last-click tagging credits to the channel.
ATTRIBUTED = {"email": 0.8, "paid_search": 0.85, "paid_social": 0.55, "social": 0.45}
# Ad platforms over-report: Meta counts view-through conversions, Google a few brand clicks twice.
PLATFORM_INFLATION = {"paid_search": 1.08, "paid_social": 1.6, "email": 1.0, "social": 1.0}
# Cost per click and click-through rate used for impressions and clicks.
SEARCH_CAMPAIGNS = {  # name: (share of search budget, CPC, CTR)
    "Search - Brand": (0.22, 0.45, 0.070),
    "Search - Coffee beans (generic)": (0.78, 0.95, 0.020),
}
SOCIAL_CPM, SOCIAL_CTR = 9.0, 0.011

# Paid search: daily budget by phase, then off weeks, a holiday push and a budget-cut test.
SEARCH_PHASES = [
    ("2023-10-01", 14.0),
    ("2024-02-01", 30.0),
    ("2024-07-01", 42.0),
    ("2025-02-01", 50.0),
    ("2025-09-01", 57.0),
]
SEARCH_OFF = [
    ("2024-03-04", "2024-03-17"),
    ("2024-08-12", "2024-08-18"),
    ("2025-04-07", "2025-04-20"),
    ("2025-08-18", "2025-08-24"),
    ("2026-02-09", "2026-02-15"),
]
SEARCH_CUT_TEST = ("2026-05-04", "2026-05-31", 0.45)
HOLIDAY_SEARCH = [
    ("2023-11-15", "2023-12-22"),
    ("2024-11-15", "2024-12-22"),
    ("2025-11-15", "2025-12-22"),
]

# Paid social flights: (start, end, dollars per day, theme, objective).
SOCIAL_FLIGHTS = [
    ("2023-10-09", "2023-11-05", 18, "Fall roast launch", "conversions"),
    ("2023-11-13", "2023-12-17", 45, "Holiday gift guide", "conversions"),
    ("2024-01-08", "2024-02-04", 15, "New year, new brew", "traffic"),
    ("2024-02-19", "2024-03-24", 30, "Single-origin spotlight", "conversions"),
    ("2024-04-08", "2024-05-05", 12, "Spring subscriptions", "conversions"),
    ("2024-05-20", "2024-06-30", 40, "Cold brew season", "conversions"),
    ("2024-07-15", "2024-08-11", 20, "Summer iced coffee", "traffic"),
    ("2024-08-26", "2024-09-29", 55, "Brew gear bundle", "conversions"),
    ("2024-10-07", "2024-11-03", 25, "Fall roast launch", "conversions"),
    ("2024-11-11", "2024-12-22", 60, "Holiday gift guide", "conversions"),
    ("2025-01-06", "2025-02-02", 10, "New year, new brew", "awareness"),
    ("2025-02-17", "2025-03-30", 35, "Subscription push", "conversions"),
    ("2025-04-14", "2025-05-11", 70, "Spring origins test", "conversions"),
    ("2025-05-26", "2025-06-29", 22, "Cold brew season", "conversions"),
    ("2025-07-14", "2025-08-17", 15, "Cafe summer menu", "awareness"),
    ("2025-09-01", "2025-10-05", 45, "Fall roast launch", "conversions"),
    ("2025-10-20", "2025-11-09", 30, "Subscription push", "conversions"),
    ("2025-11-17", "2025-12-21", 65, "Holiday gift guide", "conversions"),
    ("2026-01-12", "2026-02-15", 20, "New year, new brew", "traffic"),
    ("2026-03-02", "2026-04-05", 35, "Single-origin spotlight", "conversions"),
    ("2026-04-20", "2026-05-24", 25, "Brew gear bundle", "conversions"),
    ("2026-06-08", "2026-06-28", 40, "Cold brew season", "conversions"),
    ("2026-07-06", "2026-08-16", 28, "Summer subscriptions", "conversions"),
    ("2026-08-31", "2026-09-30", 28, "Fall roast launch", "conversions"),
]


def _noise(rng: np.random.Generator, days: np.ndarray, sd: float) -> np.ndarray:
    """Week-level (+-10 %) times day-level (lognormal ``sd``) spend noise, mean about 1."""
    week = (days - days[0]).astype(int) // 7
    weekly = rng.uniform(0.9, 1.1, size=week.max() + 1)[week]
    return weekly * rng.lognormal(-(sd**2) / 2, sd, size=len(days))


def search_campaigns(rng: np.random.Generator, days: np.ndarray, scale: float) -> list[dict]:
    """Paid search campaigns with their daily spend arrays (brand, generic, holiday gifts)."""
    level = np.zeros(len(days))
    for start, value in SEARCH_PHASES:
        level[days >= np.datetime64(start)] = value
    level *= np.where(weekday(days) >= 5, 0.88, 1.0)  # ad schedule bids down at weekends
    level[in_ranges(days, SEARCH_OFF)] = 0.0
    level[in_ranges(days, [SEARCH_CUT_TEST[:2]])] *= SEARCH_CUT_TEST[2]
    total = level * _noise(rng, days, 0.12) * scale
    out = []
    for name, (share, cpc, ctr) in SEARCH_CAMPAIGNS.items():
        out.append(
            {
                "name": name,
                "channel": "paid_search",
                "objective": "conversions",
                "start": days[0],
                "end": None,
                "spend": total * share,
                "cpc": cpc,
                "ctr": ctr,
            }
        )
    for lo, hi in HOLIDAY_SEARCH:
        mask = in_ranges(days, [(lo, hi)]) & (total > 0)
        extra = np.where(mask, total * 0.35, 0.0)
        out.append(
            {
                "name": f"Search - Holiday gifts {lo[:4]}",
                "channel": "paid_search",
                "objective": "conversions",
                "start": np.datetime64(lo),
                "end": np.datetime64(hi),
                "spend": extra,
                "cpc": 0.90,
                "ctr": 0.024,
            }
        )
    return out


def social_campaigns(rng: np.random.Generator, days: np.ndarray, scale: float) -> list[dict]:
    """Paid social (Meta) flights with their daily spend arrays."""
    out = []
    for lo, hi, per_day, theme, objective in SOCIAL_FLIGHTS:
        mask = in_ranges(days, [(lo, hi)])
        spend = np.where(mask, per_day * _noise(rng, days, 0.08) * scale, 0.0)
        out.append(
            {
                "name": f"Meta - {theme} {lo[:7]}",
                "channel": "paid_social",
                "objective": objective,
                "start": np.datetime64(lo),
                "end": np.datetime64(hi),
                "spend": spend,
                "cpc": None,
                "ctr": SOCIAL_CTR,
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


def media_truth(
    spend: dict[str, np.ndarray],
    contrib: dict[str, np.ndarray],
    scale: float,
    realised: dict[str, float],
) -> dict:
    """The media section of truth.json: form, parameters and returns at recent spend."""
    last = slice(-91, None)  # the last 13 weeks
    channels = {}
    for ch, p in params(scale).items():
        daily = float(spend[ch][last].mean())
        roas = steady_state_roas(daily, p["decay"], p["half_saturation"], p["shape"], p["beta"])
        channels[ch] = {
            **p,
            "half_life_days": round(float(np.log(0.5) / np.log(p["decay"])), 2),
            "mean_weekly_spend_last_13_weeks": round(daily * 7, 2),
            "marginal_roas": round(roas["marginal_roas"], 3),
            "average_roas": round(roas["average_roas"], 3),
            "total_spend": round(float(spend[ch].sum()), 2),
            "expected_incremental_revenue": round(float(contrib[ch].sum()), 2),
            "realised_incremental_revenue": round(realised.get(ch, 0.0), 2),
            "share_of_effect_from_new_customers": SHARE_NEW[ch],
            "share_of_effect_tagged_with_channel": ATTRIBUTED[ch],
            "platform_overreporting_factor": PLATFORM_INFLATION[ch],
        }
    marginal = {ch: c["marginal_roas"] for ch, c in channels.items()}
    return {
        "functional_form": "incremental_revenue[t] = beta * Hill(adstock[t]); adstock[t] = spend[t] + "
        "decay * adstock[t-1] (daily, dollars, not normalised); Hill(a) = a**S / (a**S + K**S) with "
        "K = half_saturation and S = shape",
        "roas_definition": "at the steady daily spend equal to the mean of the last 13 weeks: "
        "average_roas = beta*Hill(x/(1-decay))/x, marginal_roas = d(beta*Hill(x/(1-decay)))/dx",
        "note": "beta*Hill is the short-term effect; customers won by media also come back later, a "
        "longer effect that a media-mix model will partly see as baseline",
        "channels": channels,
        "under_invested_channel": max(marginal, key=marginal.get),
        "saturated_channel": min(marginal, key=marginal.get),
        "search_budget_cut_test": {
            "start": SEARCH_CUT_TEST[0],
            "end": SEARCH_CUT_TEST[1],
            "budget_multiplier": SEARCH_CUT_TEST[2],
        },
    }
