"""Bloom Yoga's small marketing programme: two Meta campaigns and a monthly newsletter.

The Meta spend is nearly constant (about $25 a day, +-3 %) for 26 weeks with no off weeks, so its
effect cannot be told apart from the season; the newsletter goes to members who opted in, and each
member opens at their usual hour (as for Harbor Coffee).
"""

from __future__ import annotations

import numpy as np

from helpers.samples._common import (
    email_open_times,
    fmt_date,
    fmt_money,
    fmt_number,
    stream,
    weekday,
)
from helpers.samples.bloom_yoga import PAID
from helpers.samples.bloom_yoga_members import NEWSLETTER_SUBJECTS

META_CAMPAIGNS = (
    ("Meta - New year, new practice", "2025-11-03", "2026-01-31"),
    ("Meta - Spring intro offer", "2026-02-01", "2026-05-03"),
)
SOCIAL_CPM, SOCIAL_CTR = 8.0, 0.012
PLATFORM_CLAIM = 1.3  # Meta claims 30 % more sign-ups than it causes
EMAIL_FEE = 30.0  # Mailchimp plan per month: the newsletter campaigns' budget
OPEN_BETA = (3.0, 5.0)  # members' open propensity, mean 0.375
SEND_HOURS = (7, 8, 12, 18, 19)
PREFERRED_HOURS = np.arange(6, 23)
PREFERRED_P = np.array([3, 5, 6, 4, 2, 2, 4, 3, 2, 2, 3, 4, 6, 7, 6, 4, 2], float)


def newsletter_days(days: np.ndarray) -> np.ndarray:
    """The first Tuesday of every month."""
    first_tuesday = (weekday(days) == 1) & (
        (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(int) < 7
    )
    return np.flatnonzero(first_tuesday)


def _campaigns(days, spend, sends, scale) -> list[dict]:
    out = []
    for name, lo, hi in META_CAMPAIGNS:
        mask = (days >= np.datetime64(lo)) & (days <= np.datetime64(hi))
        out.append(
            {
                "name": name,
                "channel": "paid_social",
                "start": lo,
                "end": hi,
                "objective": "leads",
                "budget": float(np.ceil(spend[mask].sum() / 100) * 100),
                "subject": "",
                "mask": mask,
            }
        )
    for k, d in enumerate(sends.tolist()):
        out.append(
            {
                "name": f"Studio newsletter {str(days[d])[:7]}",
                "channel": "email",
                "start": str(days[d]),
                "end": str(days[d]),
                "objective": "engagement",
                "budget": EMAIL_FEE * scale,
                "subject": NEWSLETTER_SUBJECTS[k % len(NEWSLETTER_SUBJECTS)],
                "day": d,
            }
        )
    out.sort(key=lambda c: (c["start"], c["channel"], c["name"]))
    for k, c in enumerate(out, start=1):
        c["id"] = f"CMP{k:03d}"
    return out


def _events(rng, camps, days, mem, ld) -> dict:
    """Newsletter events: members active and opted in on the send day."""
    n = len(mem["start"])
    open_p = rng.beta(*OPEN_BETA, size=n)
    hour = rng.choice(PREFERRED_HOURS, size=n, p=PREFERRED_P / PREFERRED_P.sum())
    stop, consent = mem["stop"], mem["consent_email"]
    rows = []
    for c in (c for c in camps if c["channel"] == "email"):
        sent = days[c["day"]].astype("datetime64[s]") + np.timedelta64(
            int(rng.choice(SEND_HOURS)) * 3600, "s"
        )
        who = np.flatnonzero(consent & (mem["start"] < sent) & (stop > sent))
        opened = rng.random(len(who)) < open_p[who]
        open_at = np.full(len(who), np.datetime64("NaT"), dtype="datetime64[s]")
        open_at[opened] = email_open_times(rng, sent, hour[who[opened]], 0.6, 0.15)
        clicked = opened & (rng.random(len(who)) < 0.11)
        click_at = np.full(len(who), np.datetime64("NaT"), dtype="datetime64[s]")
        click_at[clicked] = open_at[clicked] + rng.integers(15, 900, int(clicked.sum())).astype(
            "timedelta64[s]"
        )
        c["stats"] = (len(who), int(clicked.sum()))
        rows.append(
            {
                "campaign_id": np.full(len(who), c["id"], dtype=object),
                "customer_id": mem["ids"][who],
                "sent_at": np.full(len(who), sent),
                "opened_at": open_at,
                "clicked_at": click_at,
                "unsubscribed": np.zeros(len(who), bool),
                "variant": np.full(len(who), None, dtype=object),
            }
        )
    out = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    out["_truth"] = {
        "open_propensity_mean": round(float(open_p.mean()), 4),
        "preferred_hour": {mem["ids"][i]: int(hour[i]) for i in np.argsort(mem["ids"]).tolist()},
    }
    return out


def _spend_rows(rng, camps, days, spend, scale) -> dict:
    """marketing_spend.csv: the daily Meta rows (the only paid media; newsletters cost a flat fee)."""
    rows = []
    for c in (c for c in camps if c["channel"] == "paid_social"):
        for t in np.flatnonzero(c["mask"] & (spend > 0)).tolist():
            imp = round(spend[t] / SOCIAL_CPM * 1000 * rng.lognormal(0, 0.1))
            rows.append(
                (
                    t,
                    "paid_social",
                    c["id"],
                    spend[t],
                    imp,
                    rng.binomial(imp, SOCIAL_CTR),
                    rng.poisson(PLATFORM_CLAIM * PAID["leads_per_dollar"] * spend[t]),
                )
            )
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    col = lambda k: np.array([r[k] for r in rows], dtype=float)  # noqa: E731
    return {
        "date": fmt_date(days[[r[0] for r in rows]]),
        "channel": np.array([r[1] for r in rows], dtype=object),
        "campaign_id": np.array([r[2] for r in rows], dtype=object),
        "spend": fmt_money(col(3)),
        "impressions": fmt_number(col(4)),
        "clicks": fmt_number(col(5)),
        "conversions": fmt_number(col(6)),
        "platform_revenue": fmt_money(np.full(len(rows), np.nan)),
    }


def tables(
    seed: int, days: np.ndarray, spend: np.ndarray, ld: dict, mem: dict, scale: float
) -> dict:
    """campaigns, marketing_spend and email_events (plus an ``_email_truth`` entry, removed by the caller)."""
    camps = _campaigns(days, spend, newsletter_days(days), scale)
    events = _events(stream(seed, "newsletter"), camps, days, mem, ld)
    email_truth = events.pop("_truth")
    spend_table = _spend_rows(stream(seed, "meta_report"), camps, days, spend, scale)
    campaigns = {
        "campaign_id": np.array([c["id"] for c in camps], dtype=object),
        "name": np.array([c["name"] for c in camps], dtype=object),
        "channel": np.array([c["channel"] for c in camps], dtype=object),
        "start_date": np.array([c["start"] for c in camps], dtype=object),
        "end_date": np.array([c["end"] for c in camps], dtype=object),
        "budget": fmt_money(np.array([c["budget"] for c in camps])),
        "objective": np.array([c["objective"] for c in camps], dtype=object),
        "subject": np.array([c["subject"] for c in camps], dtype=object),
    }
    return {
        "marketing_spend": spend_table,
        "campaigns": campaigns,
        "email_events": events,
        "_email_truth": email_truth,
    }
