"""Harbor Coffee Roasters: an online shop and cafe of a small coffee roaster (sample business 1).

Three years of daily data (2023-10-01 .. 2026-09-30) with planted truths for every step of the
workbook. ``simulate`` runs the world (calendar, media, customers, purchases, e-mail, social, web);
``generate`` writes the business folder. The truths are described in each module's docstring and
recorded in truth.json by ``harbor_coffee_truth``.

Planted truth (demand): purchase propensity and baseline sign-ups follow
``WEEKLY[weekday] * yearly(MONTHLY) * (1 + TREND) ** years``: a December gifting peak, a January and
high-summer lull, a Saturday cafe peak, and a 4 % yearly rise in demand. Because buying more
raises a customer's propensity (the frequency feature) and the ad budget grew, realised revenue
grows faster than that (recorded in truth.json).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.samples import harbor_coffee_customers as customers_mod
from helpers.samples import harbor_coffee_email as email_mod
from helpers.samples import harbor_coffee_holdout as holdout_mod
from helpers.samples import harbor_coffee_media as media_mod
from helpers.samples import harbor_coffee_orders as orders_mod
from helpers.samples import harbor_coffee_sim as sim_mod
from helpers.samples import harbor_coffee_web as web_mod
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

NAME = "harbor_coffee"
SEED = 20231001
START, END = "2023-10-01", "2026-09-30"
WEEKLY = normalised([0.93, 0.95, 0.96, 0.98, 1.02, 1.13, 1.03])  # Mon..Sun
MONTHLY = normalised([0.86, 0.90, 0.95, 0.97, 0.96, 0.92, 0.88, 0.90, 0.98, 1.02, 1.12, 1.48])
TREND = 0.04
# Site-wide sales (first day, last day, discount rate): also the "sale days" of the propensity model.
SALES = [
    ("2023-10-13", "2023-10-15", 0.15),
    ("2023-11-24", "2023-11-27", 0.20),
    ("2023-12-08", "2023-12-10", 0.15),
    ("2024-03-15", "2024-03-17", 0.15),
    ("2024-07-10", "2024-07-14", 0.15),
    ("2024-10-11", "2024-10-13", 0.15),
    ("2024-11-29", "2024-12-02", 0.20),
    ("2024-12-06", "2024-12-08", 0.15),
    ("2025-03-14", "2025-03-16", 0.15),
    ("2025-07-09", "2025-07-13", 0.15),
    ("2025-10-10", "2025-10-12", 0.15),
    ("2025-11-28", "2025-12-01", 0.20),
    ("2025-12-05", "2025-12-07", 0.15),
    ("2026-03-13", "2026-03-15", 0.15),
    ("2026-07-08", "2026-07-12", 0.15),
]


def calendar() -> dict:
    """Days, weekdays, the demand multiplier F(t) and the sale-day discount rate."""
    days = day_range(START, END)
    demand = (
        np.array(WEEKLY)[weekday(days)]
        * yearly_curve(days, MONTHLY)
        * trend_curve(days, START, TREND)
    )
    sale_rate = np.zeros(len(days))
    for lo, hi, rate in SALES:
        sale_rate[in_ranges(days, [(lo, hi)])] = rate
    return {
        "days": days,
        "dow": weekday(days),
        "demand": demand,
        "sale_rate": sale_rate,
        "december": month_of(days) == 12,
        "start": days[0],
    }


def _media(seed: int, cal: dict, scale: float) -> dict:
    """Every campaign with its spend, the e-mail plan, the social plan and media contributions."""
    days = cal["days"]
    paid = media_mod.search_campaigns(
        stream(seed, "search"), days, scale
    ) + media_mod.social_campaigns(stream(seed, "meta"), days, scale)
    emails = email_mod.plan(stream(seed, "email_plan"), days, SALES, scale)
    posts = web_mod.plan_posts(stream(seed, "social_plan"), days, scale)
    spend = media_mod.channel_spend(paid, len(days))
    spend["email"] = email_mod.daily_spend(emails, len(days))
    spend["social"] = web_mod.social_spend(posts, len(days))
    contrib = media_mod.contributions(spend, scale)
    return {"paid": paid, "emails": emails, "posts": posts, "spend": spend, "contrib": contrib}


def _eligibility(cust, consent_ads: np.ndarray) -> dict:
    """Who each channel's media-driven repeat orders may go to on day t."""
    email_w = cust.open_prob * cust.consent_email
    return {
        "email": lambda t: email_w * (cust.unsub_day >= t),
        "paid_search": lambda t: np.ones(cust.n),
        "paid_social": lambda t: consent_ads.astype(float),
        "social": lambda t: np.ones(cust.n),
    }


def _joins(cust) -> dict[int, np.ndarray]:
    """Customers grouped by sign-up day (their first order happens that day)."""
    order = np.argsort(cust.signup_day, kind="stable")
    uniq, first = np.unique(cust.signup_day[order], return_index=True)
    return dict(zip(uniq.tolist(), np.split(order, first[1:]), strict=True))


def _sim_context(cal: dict, media_repeat: dict, eligible: dict, cust, t0: int = 0) -> dict:
    """Everything the daily loop reads, for the days of ``cal`` starting at day ``t0``."""
    return {
        "t0": t0,
        "n_days": len(cal["days"]),
        "dow": cal["dow"],
        "demand": cal["demand"],
        "sale_rate": cal["sale_rate"],
        "signup": cust.signup_day,
        "gone": cust.gone_day,
        "cafe_affinity": cust.cafe_affinity,
        "channel": cust.channel,
        "true_source": cust.true_source,
        "media_repeat": media_repeat,
        "eligible": eligible,
        "joins": _joins(cust),
        "forced": {},
        "forced_source": {},
    }


def _repeat_media(cal: dict, contrib: dict) -> dict[str, np.ndarray]:
    """Expected media-driven orders by existing customers per channel and day."""
    value = orders_mod.catalog.expected_order_value(cal["december"])
    return {ch: (1 - media_mod.SHARE_NEW[ch]) * c / value for ch, c in contrib.items()}


def _history(seed: int, cust, state, first_quarter_media: float) -> None:
    """Run the customers who joined before the export through the same model (orders not kept)."""
    days = day_range(customers_mod.LEGACY_START, START)[:-1]
    years_back = [
        (f"{int(lo[:4]) - k}{lo[4:]}", f"{int(hi[:4]) - k}{hi[4:]}", rate)
        for lo, hi, rate in SALES
        for k in (1, 2, 3)
    ]
    sale_rate = np.zeros(len(days))
    for lo, hi, rate in years_back:
        sale_rate[in_ranges(days, [(lo, hi)])] = rate
    cal = {
        "days": days,
        "dow": weekday(days),
        "sale_rate": sale_rate,
        "demand": np.array(WEEKLY)[weekday(days)]
        * yearly_curve(days, MONTHLY)
        * trend_curve(days, START, TREND),
    }
    media = {"earlier": np.full(len(days), first_quarter_media)}
    ctx = _sim_context(cal, media, {"earlier": lambda t: np.ones(cust.n)}, cust, t0=-len(days))
    sim_mod.run(stream(seed, "history"), ctx, state, {})


def simulate(seed: int, scale: float) -> dict:
    """Run the whole Harbor Coffee world and return its pieces (not yet formatted)."""
    cal = calendar()
    media = _media(seed, cal, scale)
    cust = customers_mod.build(
        stream(seed, "customers"),
        cal["demand"],
        media["contrib"],
        cal["december"],
        cal["start"],
        scale,
        media_mod.ATTRIBUTED,
    )
    news_days = np.array([c["day"] for c in media["emails"] if c["kind"] == "newsletter"])
    customers_mod.plan_unsubscribes(stream(seed, "unsubscribes"), cust, news_days)
    repeat = _repeat_media(cal, media["contrib"])
    state = sim_mod.State(
        last=cust.signup_day.copy(),
        engagement=cust.open_prob * cust.consent_email,
        gamma=np.array(sim_mod.GAMMA)[cust.age],
    )
    _history(seed, cust, state, float(sum(v[:91].mean() for v in repeat.values())))
    ctx = _sim_context(cal, repeat, _eligibility(cust, cust.consent_ads), cust)
    holdout = {}
    t_exp = int((np.datetime64(holdout_mod.EXPOSED[:10]) - cal["start"]).astype(int))
    hooks = {t_exp: holdout_mod.hook(stream(seed, "holdout"), cust, ctx, holdout)}
    events = sim_mod.run(stream(seed, "purchases"), ctx, state, hooks).arrays()
    orders = orders_mod.build(stream(seed, "orders"), events, cust, cal["start"])
    return {
        "cal": cal,
        "media": media,
        "cust": cust,
        "orders": orders,
        "holdout": holdout,
        "state": state,
    }


def generate(out_dir: str | Path, *, scale: float = 1.0, seed: int | None = None) -> Path:
    """Write the Harbor Coffee business folder (see ``helpers.samples.generate``)."""
    import sys

    from helpers.samples import harbor_coffee_build as build_mod
    from helpers.samples import harbor_coffee_truth as truth_mod

    seed = SEED if seed is None else int(seed)
    world = simulate(seed, scale)
    files, parts = build_mod.build(world, seed, scale)
    big = {k: parts.pop(k) for k in ("quality_faults", "feedback", "send_hour")}
    truth = {
        "business": NAME,
        "generator": "helpers.samples.harbor_coffee",
        "seed": seed,
        "scale": scale,
        "period": {"start": START, "end": END, "as_of": END},
        "counts": {name: len(next(iter(cols.values()))) for name, cols in files.items()},
        "demand": truth_mod.demand(world, sys.modules[__name__]),
        "media": truth_mod.media(world, scale),
        "propensity": truth_mod.propensity(),
        "discount_sensitivity": truth_mod.discount_sensitivity(world),
        **parts,
        **big,
    }
    text = build_mod.yaml_text(files, world["media"]["spend"], world["cal"]["days"])
    return build_mod.write(Path(out_dir), files, truth, text)
