"""Harbor Coffee's wholesale enquiries from cafes, offices, restaurants, grocers and hotels.

Planted truth (lead scoring): an enquiry becomes a wholesale account with probability
sigmoid(eta), eta = INTERCEPT + BUSINESS_TYPE[type] + B_VOLUME * ln(est_weekly_lbs)
+ B_SAMPLE * requested_sample + SOURCE[source] + B_LOCAL * (region == Northeast). Enquiries whose
conversion would fall after the as-of date are still open (converted = false) and are counted.
"""

from __future__ import annotations

import numpy as np

from helpers.samples._common import (
    fmt_bool,
    fmt_datetime,
    fmt_money,
    fmt_number,
    make_emails,
    make_ids,
    sigmoid,
    weekday,
)
from helpers.samples._names import draw_names

TARGET = 300
INTERCEPT = -3.8
BUSINESS_TYPE = {"cafe": 0.9, "restaurant": 0.3, "office": 0.0, "grocery": -0.4, "hotel": -0.2}
TYPE_P = (0.35, 0.2, 0.25, 0.1, 0.1)
MEDIAN_LBS = {"cafe": 25, "restaurant": 12, "office": 8, "grocery": 30, "hotel": 15}
B_VOLUME, B_SAMPLE, B_LOCAL = 0.5, 1.1, 0.7
SOURCE = {
    "website_form": 0.0,
    "referral": 0.8,
    "trade_show": 0.3,
    "instagram": 0.0,
    "email": 0.0,
    "cold_outreach": -0.9,
}
SOURCE_P = (0.4, 0.2, 0.12, 0.13, 0.08, 0.07)
REGIONS = ("Northeast", "Southeast", "Midwest", "Southwest", "West")
REGION_P = (0.55, 0.12, 0.13, 0.08, 0.12)  # the roastery delivers locally; most enquiries are near
TRADE_SHOWS = ("2024-03-22", "2025-03-21", "2026-03-20")
PRICE_PER_LB = 11.5
_WORDS = (
    [
        "Blue Door",
        "Maple Street",
        "Harborview",
        "Copper Kettle",
        "Northside",
        "Little Owl",
        "Greenline",
        "Old Mill",
        "Lantern",
        "Tidewater",
        "Red Brick",
        "Juniper",
        "Cedar",
        "Summit",
        "Bayside",
        "Foundry",
    ],
    {
        "cafe": "Cafe",
        "restaurant": "Kitchen",
        "office": "Partners",
        "grocery": "Market",
        "hotel": "Inn",
    },
)


def _created(rng, days: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Enquiry timestamps: weekdays in office hours, trade-show leads in the days after a show."""
    weekdays = days[weekday(days) < 5]
    w = np.linspace(0.8, 1.2, len(weekdays))
    day = weekdays[rng.choice(len(weekdays), size=len(source), p=w / w.sum())]
    show = source == "trade_show"
    show_day = np.array(TRADE_SHOWS, dtype="datetime64[D]")[
        rng.integers(0, len(TRADE_SHOWS), int(show.sum()))
    ]
    day[show] = show_day + rng.integers(0, 4, int(show.sum())).astype("timedelta64[D]")
    secs = rng.integers(8 * 3600, 18 * 3600, len(source))
    return day.astype("datetime64[s]") + secs.astype("timedelta64[s]")


def _draw(rng: np.random.Generator, days: np.ndarray, n: int) -> dict:
    """Attributes and outcome of every enquiry (unsorted)."""
    a = {
        "type": rng.choice(list(BUSINESS_TYPE), size=n, p=TYPE_P).astype(object),
        "source": rng.choice(list(SOURCE), size=n, p=SOURCE_P).astype(object),
    }
    a["lbs"] = np.round(
        np.array([MEDIAN_LBS[b] for b in a["type"]]) * rng.lognormal(0, 0.5, n)
    ).clip(2)
    a["sample"] = rng.random(n) < 0.45
    a["region"] = rng.choice(REGIONS, size=n, p=REGION_P).astype(object)
    eta = (
        INTERCEPT
        + np.array([BUSINESS_TYPE[b] for b in a["type"]])
        + B_VOLUME * np.log(a["lbs"])
        + B_SAMPLE * a["sample"]
        + np.array([SOURCE[s] for s in a["source"]])
        + B_LOCAL * (a["region"] == "Northeast")
    )
    won = rng.random(n) < sigmoid(eta)
    a["created"] = _created(rng, days, a["source"])
    a["won_at"] = a["created"] + (rng.integers(7, 61, n) * 86400).astype("timedelta64[s]")
    a["still_open"] = won & (
        a["won_at"] > days[-1].astype("datetime64[s]") + np.timedelta64(86399, "s")
    )
    a["converted"] = won & ~a["still_open"]
    a["first"], a["last"] = draw_names(rng, n)
    a["email"] = make_emails(rng, a["first"], a["last"])
    pick = rng.integers(0, len(_WORDS[0]), n)
    a["name"] = np.array(
        [f"{_WORDS[0][i]} {_WORDS[1][b]}" for i, b in zip(pick, a["type"], strict=True)],
        dtype=object,
    )
    a["locations"] = 1 + rng.poisson(0.4, n)
    return a


def build(rng: np.random.Generator, days: np.ndarray, scale: float) -> tuple[dict, dict]:
    """leads.csv columns and the leads section of truth.json."""
    n = int(round(TARGET * scale))
    a = _draw(rng, days, n)
    o = np.argsort(a["created"], kind="stable")
    value = np.where(a["converted"], np.round(a["lbs"] * 52 * PRICE_PER_LB, -1), np.nan)
    columns = {
        "lead_id": make_ids("L", n, 4),
        "created_at": fmt_datetime(a["created"][o]),
        "source": a["source"][o],
        "business_name": a["name"][o],
        "business_type": a["type"][o],
        "contact_name": a["first"][o],
        "contact_email": a["email"][o],
        "region": a["region"][o],
        "locations": a["locations"][o].astype(str).astype(object),
        "est_weekly_lbs": fmt_number(a["lbs"][o]),
        "requested_sample": fmt_bool(a["sample"][o]),
        "converted": fmt_bool(a["converted"][o]),
        "converted_at": fmt_datetime(
            np.where(a["converted"], a["won_at"], np.datetime64("NaT"))[o]
        ),
        "value": fmt_money(value[o]),
    }
    truth = {
        "model": "P(converted) = sigmoid(intercept + business_type + b_volume*ln(est_weekly_lbs) + "
        "b_sample*requested_sample + source + b_local*(region == Northeast))",
        "intercept": INTERCEPT,
        "business_type": BUSINESS_TYPE,
        "b_volume_per_ln_lb": B_VOLUME,
        "b_requested_sample": B_SAMPLE,
        "source": SOURCE,
        "b_region_northeast": B_LOCAL,
        "value": f"annual contract value = est_weekly_lbs * 52 * {PRICE_PER_LB} (converted leads only)",
        "conversion_rate": round(float(a["converted"].mean()), 4),
        "still_open_at_as_of": int(a["still_open"].sum()),
    }
    return columns, truth
