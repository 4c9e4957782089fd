"""Bloom Yoga's members: plans, membership payments, churn, and the small marketing programme.

Planted truths (recorded in truth.json):

* Churn: at the end of each membership month a member leaves with probability sigmoid(eta),
  eta = CHURN intercept + plan + b_cpw * classes_per_week + b_tenure * ln(months) + age_band
  + b_distance * distance_km. Annual members can only leave at their renewal date (leaving in any
  month of the year means no renewal). The business definition of churned: no payment for more
  than 45 days after the paid-up period ends (monthly plans pay every month, packs last at most 40
  days, annual plans 365 days).
* Payments: monthly plans pay on the same day each month, packs are bought again when used up
  (10 classes / classes_per_week, 21 to 40 days), annual plans pay once a year; prices rose on
  2026-01-01; referred members get a $20 credit on their first payment.
"""

from __future__ import annotations

import numpy as np

from helpers.samples import bloom_yoga as by
from helpers.samples._common import (
    fmt_bool,
    fmt_date,
    fmt_datetime,
    fmt_money,
    fmt_number,
    make_emails,
    make_ids,
    sigmoid,
    stream,
)
from helpers.samples._names import draw_names

PLANS = ("monthly_unlimited", "ten_class_pack", "annual")
PRICE = {"monthly_unlimited": 139.0, "ten_class_pack": 175.0, "annual": 1290.0}
PRICE_FROM_2026 = {"monthly_unlimited": 149.0, "ten_class_pack": 185.0, "annual": 1290.0}
PRICE_RISE = "2026-01-01"
PLAN_P = {
    "intro_month": (0.7, 0.15, 0.15),
    "free_week": (0.55, 0.3, 0.15),
    "single_class": (0.35, 0.55, 0.10),
}
CPW = {
    "monthly_unlimited": (1.0, 0.7),
    "ten_class_pack": (1.0, 0.35),
    "annual": (1.5, 0.8),
}  # base + Gamma(2, s)
CHURN = {
    "intercept": -1.3,
    "plan": {"monthly_unlimited": 0.0, "ten_class_pack": 0.5, "annual": -1.0},
    "classes_per_week": -0.45,
    "log_tenure_months": -0.25,
    "distance_km": 0.06,
    "age_band": {
        "18-24": 0.4,
        "25-34": 0.15,
        "35-44": 0.0,
        "45-54": -0.15,
        "55-64": -0.2,
        "65+": -0.1,
    },
}
REFERRAL_CREDIT = 20.0
LEGACY_START = "2022-04-01"  # members who joined before the export signed up from here on
LEGACY_CANDIDATES = 1100  # at scale 1; only those still active on the export's first day remain
CHURN_GAP_DAYS = 45
NEIGHBOURHOODS = (
    (2, ["Logan Square"]),
    (4, ["Avondale", "Bucktown", "Humboldt Park"]),
    (6, ["Wicker Park", "Irving Park", "Albany Park"]),
    (9, ["West Town", "Lincoln Park", "Lakeview"]),
    (99, ["Other Chicago area"]),
)
NEWSLETTER_SUBJECTS = [
    "This month at Bloom",
    "New class: slow flow Sundays",
    "Meet our new teacher",
    "Your practice, your pace",
    "Workshop: hips and hamstrings",
    "Summer schedule is here",
    "Bring a friend week",
    "Breathwork for busy days",
]


def add_months(when: np.ndarray, k: int) -> np.ndarray:
    """Timestamps ``k`` months later, on the same day of month (the month's last day if shorter)."""
    day = when.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    offset = (day - month.astype("datetime64[D]")).astype(int)
    target = month + np.timedelta64(k, "M")
    length = (
        (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")
    ).astype(int)
    new_day = target.astype("datetime64[D]") + np.minimum(offset, length - 1).astype(
        "timedelta64[D]"
    )
    return new_day.astype("datetime64[s]") + (when - day.astype("datetime64[s]"))


def _plans(rng, m: dict) -> tuple[np.ndarray, np.ndarray]:
    """Plan (by trial type; older members lean to annual) and classes per week of each member."""
    plan = np.array([rng.choice(PLANS, p=PLAN_P[t]) for t in m["trial_type"]], dtype=object)
    older = np.isin(m["age_band"], ["45-54", "55-64", "65+"])
    upgrade = older & (plan == "monthly_unlimited") & (rng.random(len(plan)) < 0.2)
    plan[upgrade] = "annual"
    base = np.array([CPW[p][0] for p in plan])
    scale = np.array([CPW[p][1] for p in plan])
    cpw = np.clip(np.round((base + rng.gamma(2.0, scale)) * 2) / 2, 1.0, 6.0)
    return plan, cpw


def churn_logit(plan, cpw, months, age, distance) -> np.ndarray:
    """The planted log-odds of leaving at the end of membership month ``months``."""
    c = CHURN
    return (
        c["intercept"]
        + np.array([c["plan"][p] for p in plan])
        + c["classes_per_week"] * cpw
        + c["log_tenure_months"] * np.log(months)
        + np.array([c["age_band"][a] for a in age])
        + c["distance_km"] * distance
    )


def _churn_month(rng, plan, cpw, age, distance, horizon: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Month at whose end each member leaves (annual: the next anniversary), and the mean hazard."""
    n = len(plan)
    leave = np.full(n, 10**6)
    hazards = []
    for m in range(1, horizon + 1):
        h = sigmoid(churn_logit(plan, cpw, np.full(n, m), age, distance))
        hazards.append(h)
        hit = (leave == 10**6) & (rng.random(n) < h)
        leave[hit] = m
    annual = plan == "annual"
    leave[annual & (leave < 10**6)] = np.ceil(leave[annual & (leave < 10**6)] / 12) * 12
    return leave, np.array(hazards)


def _payments(
    rng, start: np.ndarray, plan: np.ndarray, cpw: np.ndarray, leave: np.ndarray, end
) -> list:
    """(member, timestamp, payment number) of every payment made up to the as-of date."""
    out = []
    for i in range(len(start)):
        stop = add_months(start[i : i + 1], int(min(leave[i], 60)))[0]
        if plan[i] == "ten_class_pack":
            gap = int(np.clip(round(70 / cpw[i]), 21, 40))
            times, t = [], start[i]
            while t < stop and t <= end:
                times.append(t)
                t = t + np.timedelta64(int(gap + rng.integers(-2, 3)) * 86400, "s")
        else:
            step = 12 if plan[i] == "annual" else 1
            times = [add_months(start[i : i + 1], k)[0] for k in range(0, 61, step)]
            times = [t for t in times if t < stop and t <= end]
        out.extend((i, t, k) for k, t in enumerate(times))
    return out


def _legacy(rng, days: np.ndarray, n_candidates: int, taken: set) -> dict:
    """Members who joined before the export (from leads not in it), kept if still active at its start."""
    span = int((days[0] - np.datetime64(LEGACY_START)).astype(int))
    start = (
        np.datetime64(LEGACY_START) + rng.integers(0, span, n_candidates).astype("timedelta64[D]")
    ).astype("datetime64[s]") + rng.integers(7 * 3600, 21 * 3600, n_candidates).astype(
        "timedelta64[s]"
    )
    age = rng.choice(by.AGE_BANDS, size=n_candidates, p=by.AGE_P).astype(object)
    trial = rng.choice(by.TRIALS, size=n_candidates, p=(0.45, 0.3, 0.25)).astype(object)
    first, last = draw_names(rng, n_candidates)
    return {
        "start": start,
        "age_band": age,
        "trial_type": trial,
        "distance_km": np.round(3.0 * rng.lognormal(0, 0.7, n_candidates), 1).clip(0.2, 30),
        "channel": rng.choice(
            list(by.SOURCES), size=n_candidates, p=list(by.SOURCES.values())
        ).astype(object),
        "first_name": first,
        "email": make_emails(rng, first, last, taken),
        "referred": np.zeros(n_candidates, bool),
        "consent_email": rng.random(n_candidates) < 0.86,
        "consent_ads": rng.random(n_candidates) < 0.93,
        "lead_id": np.full(n_candidates, "", dtype=object),
    }


def _members(rng, ld: dict, days: np.ndarray, scale: float) -> dict:
    """Attributes of every member: legacy ones still active at the start, then converted leads."""
    who = np.flatnonzero(ld["won"])
    who = who[np.argsort(ld["won_at"][who], kind="stable")]
    new = {
        "start": ld["won_at"][who],
        "age_band": ld["age_band"][who],
        "trial_type": ld["trial_type"][who],
        "distance_km": ld["distance_km"][who],
        "channel": ld["source"][who],
        "first_name": ld["first_name"][who],
        "email": ld["email"][who],
        "referred": ld["referred"][who],
        "consent_email": ld["consent_email"][who],
        "consent_ads": ld["consent_ads"][who],
        "lead_id": ld["id"][who],
    }
    old = _legacy(rng, days, int(round(LEGACY_CANDIDATES * scale)), set(ld["email"].tolist()))
    m = {k: np.concatenate([old[k], new[k]]) for k in new}
    m["legacy"] = np.arange(len(m["start"])) < len(old["start"])
    m["plan"], m["cpw"] = _plans(rng, m)
    m["leave"], m["hazards"] = _churn_month(
        rng, m["plan"], m["cpw"], m["age_band"], m["distance_km"]
    )
    stop = np.array(
        [
            add_months(m["start"][i : i + 1], int(min(m["leave"][i], 60)))[0]
            for i in range(len(m["start"]))
        ]
    )
    keep = ~m["legacy"] | (stop > days[0].astype("datetime64[s]"))
    m = {k: (v[:, keep] if k == "hazards" else v[keep]) for k, v in m.items()}
    m["stop"] = stop[keep]
    m["lead_of_new"] = who
    return m


def simulate(seed: int, ld: dict, days: np.ndarray, scale: float) -> dict:
    """Members (legacy ones and converted leads), their plans, churn and payments in the export."""
    rng = stream(seed, "members")
    m = _members(rng, ld, days, scale)
    end = days[-1].astype("datetime64[s]") + np.timedelta64(86399, "s")
    pays = _payments(rng, m["start"], m["plan"], m["cpw"], m["leave"], end)
    member, when, number = (np.array(x) for x in zip(*pays, strict=True))
    inside = when >= days[0].astype("datetime64[s]")
    member, when, number = member[inside], when[inside], number[inside]
    renew = number > 0
    when = np.where(
        renew,
        when.astype("datetime64[D]").astype("datetime64[s]")
        + rng.integers(6 * 3600, 7 * 3600, len(when)).astype("timedelta64[s]"),
        when,
    )
    after = when >= np.datetime64(PRICE_RISE)
    price = np.array(
        [
            (PRICE_FROM_2026 if a else PRICE)[p]
            for p, a in zip(m["plan"][member], after, strict=True)
        ]
    )
    discount = np.where(~renew & m["referred"][member], REFERRAL_CREDIT, 0.0)
    first_month = np.array(
        [
            (PRICE_FROM_2026 if s >= np.datetime64(PRICE_RISE) else PRICE)[p]
            for p, s in zip(m["plan"], m["start"], strict=True)
        ]
    )
    first_month = np.where(m["plan"] == "annual", first_month / 12, first_month)
    lead_value = np.full(len(ld["won"]), np.nan)
    lead_value[m["lead_of_new"]] = first_month[~m["legacy"]]
    order = np.argsort(m["start"], kind="stable")
    ids = np.empty(len(order), dtype=object)
    ids[order] = make_ids("C", len(order), 5)
    return {
        **m,
        "end": end,
        "pay_member": member,
        "pay_when": when,
        "pay_renew": renew,
        "pay_price": price,
        "pay_discount": discount,
        "lead_value": lead_value,
        "ids": ids,
    }


def _region(distance: np.ndarray) -> np.ndarray:
    """Neighbourhood from the distance to the studio (by distance band; the decimal picks one)."""
    out = []
    for d in distance.tolist():
        names = next(n for limit, n in NEIGHBOURHOODS if d < limit)
        out.append(names[int(round(d * 10)) % len(names)])
    return np.array(out, dtype=object)


def customers_table(mem: dict) -> dict:
    """customers.csv: one row per member, by customer id (sign-up order)."""
    o = np.argsort(mem["ids"], kind="stable")
    return {
        "customer_id": mem["ids"][o],
        "email": mem["email"][o],
        "first_name": mem["first_name"][o],
        "signup_date": fmt_date(mem["start"][o]),
        "acquisition_channel": mem["channel"][o],
        "region": _region(mem["distance_km"][o]),
        "age_band": mem["age_band"][o],
        "consent_email": fmt_bool(mem["consent_email"][o]),
        "consent_ads": fmt_bool(mem["consent_ads"][o]),
        "plan": mem["plan"][o],
        "classes_per_week": fmt_number(mem["cpw"][o], 1),
        "distance_km": fmt_number(mem["distance_km"][o], 1),
        "lead_id": mem["lead_id"][o],
    }


def orders_table(mem: dict) -> dict:
    """orders.csv: membership payments in time order."""
    order = np.lexsort((mem["ids"][mem["pay_member"]], mem["pay_when"]))
    m = mem["pay_member"][order]
    renew = mem["pay_renew"][order]
    return {
        "order_id": make_ids("O", len(order), 6),
        "customer_id": mem["ids"][m],
        "order_date": fmt_datetime(mem["pay_when"][order]),
        "revenue": fmt_money(mem["pay_price"][order] - mem["pay_discount"][order]),
        "discount": fmt_money(mem["pay_discount"][order]),
        "channel": np.where(renew, "renewal", mem["channel"][m]).astype(object),
        "plan": mem["plan"][m],
        "payment_type": np.where(renew, "renewal", "first").astype(object),
    }
