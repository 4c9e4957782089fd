"""Bloom Yoga: a single yoga studio in Chicago that lives on trial sign-ups (sample business 2).

Two years (2024-10-01 .. 2026-09-30) of trial sign-ups (leads), the members they became, and
their membership payments until they leave. Little paid media: one short, flat Meta campaign.

Planted truths (recorded in truth.json):

* Lead seasonality: sign-ups follow ``WEEKLY[weekday] * yearly(MONTHLY)`` with a New Year peak
  (January about 2.4x an average month) and a smaller back-to-routine bump in September.
* Lead conversion: a trial becomes a membership with probability sigmoid(eta) on the lead's
  attributes (``CONVERSION``); attending the first class is itself more likely for those who live
  close, chose the intro month or were referred (``ATTENDANCE``).
* Paid social adds a few Instagram sign-ups a day while it runs, but its spend is so flat and so
  short that no media-mix model can separate it from the January peak: ``mmm_supported: false``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.samples import _business_yaml
from helpers.samples._common import (
    day_range,
    fictional_phones,
    fmt_bool,
    fmt_datetime,
    fmt_money,
    fmt_number,
    make_emails,
    make_ids,
    normalised,
    random_times,
    sigmoid,
    stream,
    weekday,
    write_csv,
    write_json,
    write_parquet,
    write_text,
    yearly_curve,
)
from helpers.samples._names import draw_names

NAME = "bloom_yoga"
SEED = 20241001
START, END = "2024-10-01", "2026-09-30"
TARGET_LEADS = 3000
MONTHLY = normalised([2.6, 1.3, 1.1, 1.0, 0.95, 0.8, 0.75, 0.85, 1.25, 1.0, 0.85, 0.7])
WEEKLY = normalised([1.35, 1.1, 1.0, 0.95, 0.8, 0.8, 1.0])
SOURCES = {
    "instagram": 0.24,
    "google": 0.22,
    "referral": 0.15,
    "walk_in": 0.12,
    "website": 0.15,
    "classpass": 0.12,
}
TRIAL_P = {
    "instagram": (0.5, 0.2, 0.3),
    "classpass": (0.1, 0.85, 0.05),
    "default": (0.45, 0.3, 0.25),
}
TRIALS = ("free_week", "single_class", "intro_month")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_P = (0.14, 0.34, 0.25, 0.14, 0.09, 0.04)
ATTENDANCE = {"intercept": 1.4, "distance_km": -0.15, "intro_month": 0.6, "referred_by_member": 0.5}
CONVERSION = {
    "intercept": -1.9,
    "attended_first_class": 1.8,
    "referred_by_member": 0.8,
    "distance_km": -0.12,
    "trial_type": {"free_week": 0.0, "single_class": -0.5, "intro_month": 0.7},
    "age_band": {
        "18-24": -0.5,
        "25-34": 0.0,
        "35-44": 0.35,
        "45-54": 0.25,
        "55-64": 0.0,
        "65+": -0.3,
    },
    "source": {
        "instagram": 0.0,
        "google": 0.0,
        "referral": 0.0,
        "walk_in": 0.3,
        "website": 0.0,
        "classpass": -0.9,
    },
}
# Paid social: flat spend for 26 weeks; each dollar a day adds 0.024 Instagram sign-ups a day.
PAID = {
    "start": "2025-11-03",
    "end": "2026-05-03",
    "per_day": 25.0,
    "noise_sd": 0.03,
    "leads_per_dollar": 0.024,
}
LEAD_HOURS = [
    0.1,
    0.05,
    0.02,
    0.02,
    0.05,
    0.3,
    0.9,
    1.4,
    1.2,
    1.0,
    0.9,
    0.9,
    1.1,
    1.0,
    0.8,
    0.8,
    0.9,
    1.2,
    1.5,
    1.7,
    1.8,
    1.5,
    0.9,
    0.4,
]


def paid_spend(rng: np.random.Generator, days: np.ndarray, scale: float) -> np.ndarray:
    """Daily Meta spend: about $25 a day, +-3 %, only inside the campaign weeks."""
    on = (days >= np.datetime64(PAID["start"])) & (days <= np.datetime64(PAID["end"]))
    return np.where(on, PAID["per_day"] * scale * rng.normal(1.0, PAID["noise_sd"], len(days)), 0.0)


def _lead_days(
    rng, days: np.ndarray, spend: np.ndarray, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Day index and source of every sign-up (seasonal baseline plus paid Instagram sign-ups)."""
    shape = np.array(WEEKLY)[weekday(days)] * yearly_curve(days, MONTHLY)
    paid = PAID["leads_per_dollar"] * spend
    base = (TARGET_LEADS * scale - paid.sum()) / shape.sum() * shape
    d_base = np.repeat(np.arange(len(days)), rng.poisson(base))
    src = rng.choice(list(SOURCES), size=len(d_base), p=list(SOURCES.values())).astype(object)
    d_paid = np.repeat(np.arange(len(days)), rng.poisson(paid))
    day = np.concatenate([d_base, d_paid])
    source = np.concatenate([src, np.full(len(d_paid), "instagram", dtype=object)])
    order = np.argsort(day, kind="stable")
    return day[order], source[order]


def _attributes(rng, source: np.ndarray) -> dict:
    """Trial type, age band, distance, referral and first-class attendance of each lead."""
    n = len(source)
    trial = np.empty(n, dtype=object)
    for key, p in TRIAL_P.items():
        sel = source == key if key != "default" else ~np.isin(source, ["instagram", "classpass"])
        trial[sel] = rng.choice(TRIALS, size=int(sel.sum()), p=p)
    age = rng.choice(AGE_BANDS, size=n, p=AGE_P).astype(object)
    distance = np.round(np.where(source == "walk_in", 1.5, 3.5) * rng.lognormal(0, 0.7, n), 1).clip(
        0.2, 30
    )
    referred = np.where(source == "referral", rng.random(n) < 0.95, rng.random(n) < 0.04)
    a = ATTENDANCE
    attended = rng.random(n) < sigmoid(
        a["intercept"]
        + a["distance_km"] * distance
        + a["intro_month"] * (trial == "intro_month")
        + a["referred_by_member"] * referred
    )
    return {
        "trial_type": trial,
        "age_band": age,
        "distance_km": distance,
        "referred": referred,
        "attended": attended,
    }


def conversion_logit(attr: dict, source: np.ndarray) -> np.ndarray:
    """The planted log-odds that a trial becomes a membership."""
    c = CONVERSION
    return (
        c["intercept"]
        + c["attended_first_class"] * attr["attended"]
        + c["referred_by_member"] * attr["referred"]
        + c["distance_km"] * attr["distance_km"]
        + np.array([c["trial_type"][t] for t in attr["trial_type"]])
        + np.array([c["age_band"][a] for a in attr["age_band"]])
        + np.array([c["source"][s] for s in source])
    )


def leads(seed: int, days: np.ndarray, spend: np.ndarray, scale: float) -> dict:
    """Every trial sign-up with its attributes, PII and outcome (internal arrays)."""
    rng = stream(seed, "leads")
    day, source = _lead_days(rng, days, spend, scale)
    created = random_times(rng, days[day], LEAD_HOURS)
    attr = _attributes(rng, source)
    won = rng.random(len(day)) < sigmoid(conversion_logit(attr, source))
    wait = np.where(
        attr["trial_type"] == "intro_month",
        rng.integers(25, 36, len(day)),
        rng.integers(3, 22, len(day)),
    )
    won_at = created + (wait * 86400 + rng.integers(-3 * 3600, 3 * 3600, len(day))).astype(
        "timedelta64[s]"
    )
    censored = won & (won_at > np.datetime64(END + "T23:59:59"))
    first, last = draw_names(rng, len(day))
    return {
        "day": day,
        "source": source,
        "created": created,
        **attr,
        "won": won & ~censored,
        "censored": censored,
        "won_at": won_at,
        "first_name": first,
        "email": make_emails(rng, first, last),
        "phone": fictional_phones(rng, len(day), "773"),
        "consent_email": rng.random(len(day)) < 0.86,
        "consent_ads": rng.random(len(day)) < 0.93,
        "id": make_ids("L", len(day), 5),
    }


def leads_table(ld: dict, value: np.ndarray) -> dict:
    """leads.csv columns (PII included: first name, e-mail, phone)."""
    return {
        "lead_id": ld["id"],
        "created_at": fmt_datetime(ld["created"]),
        "source": ld["source"],
        "first_name": ld["first_name"],
        "email": ld["email"],
        "phone": ld["phone"],
        "trial_type": ld["trial_type"],
        "age_band": ld["age_band"],
        "distance_km": fmt_number(ld["distance_km"], 1),
        "attended_first_class": fmt_bool(ld["attended"]),
        "referred_by_member": fmt_bool(ld["referred"]),
        "converted": fmt_bool(ld["won"]),
        "converted_at": fmt_datetime(np.where(ld["won"], ld["won_at"], np.datetime64("NaT"))),
        "value": fmt_money(value),
    }


def generate(out_dir: str | Path, *, scale: float = 1.0, seed: int | None = None) -> Path:
    """Write the Bloom Yoga business folder (see ``helpers.samples.generate``)."""
    from helpers.samples import (
        bloom_yoga_marketing as marketing,
    )
    from helpers.samples import (
        bloom_yoga_members as members,
    )
    from helpers.samples import (
        bloom_yoga_truth as truth_mod,
    )

    seed = SEED if seed is None else int(seed)
    days = day_range(START, END)
    spend = paid_spend(stream(seed, "meta"), days, scale)
    ld = leads(seed, days, spend, scale)
    mem = members.simulate(seed, ld, days, scale)
    files = {
        "leads": leads_table(ld, mem["lead_value"]),
        "customers": members.customers_table(mem),
        "orders": members.orders_table(mem),
    }
    files.update(marketing.tables(seed, days, spend, ld, mem, scale))
    email_truth = files.pop("_email_truth")
    truth = truth_mod.truth(seed, scale, ld, mem, spend, days, files, email_truth)
    out = Path(out_dir)
    for name, columns in files.items():
        if name == "email_events":
            write_parquet(
                out / "data" / f"{name}.parquet",
                columns,
                timestamps=("sent_at", "opened_at", "clicked_at"),
            )
        else:
            write_csv(out / "data" / f"{name}.csv", columns)
    write_json(out / "truth.json", truth)
    write_text(out / "business.yaml", _yaml(files, spend))
    return out


def _yaml(files: dict, spend: np.ndarray) -> str:
    """Bloom Yoga's business.yaml: budget is the average monthly spend of the last 12 months."""
    paid = round(float(spend[-365:].sum()) / 12 / 10) * 10
    by_channel = {"paid_social": paid, "email": 30}
    return _business_yaml.render(
        use_cases=[
            "customer_segments", "lead_scoring", "churn_prediction",
            "purchase_propensity", "sales_forecast", "email_personalisation",
            "send_time_optimisation", "automated_flows", "budget_reallocation",
            "lookalike_audiences",
        ],
        ai_costs={"setup_hours": 20, "hours_per_month": 4, "hourly_rate": 30},
        privacy={"retention_months": 24, "region": "us"},
        sample=NAME,
        about="Sample business: Bloom Yoga, a single yoga studio that grows through trial sign-ups.",
        business={
            "name": "Bloom Yoga",
            "industry": "fitness_wellness",
            "currency": "USD",
            "timezone": "America/Chicago",
            "locale": "en_US",
            "as_of": END,
        },
        objectives=[
            {"type": "leads", "kpi": "leads", "target_change": 0.20, "deadline": "2027-01-31"},
            {"type": "retention", "kpi": None, "target_change": 0.05, "deadline": "2027-06-30"},
        ],
        monthly=sum(by_channel.values()),
        by_channel=by_channel,
        channels=["social", "paid_social", "email", "referral"],
        tools=["mailchimp", "instagram", "meta_ads", "stripe"],
        data={t: f"data/{t}.{'parquet' if t == 'email_events' else 'csv'}" for t in files},
    )
