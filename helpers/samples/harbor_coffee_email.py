"""Harbor Coffee's e-mail programme: the send calendar, the subject-line test and every event.

Planted truths recorded here:

* Send hour: each customer reads e-mail at a preferred hour; when they open, ``opened_at`` falls in
  that hour plus a small noise, on the send day if the hour is still ahead, otherwise the next day
  (sometimes a few days later), whatever hour the campaign went out.
* Subject-line A/B test: one newsletter is split 50/50 between subject A and B, with true open
  rates ``P_A`` and ``P_B`` over each arm (each recipient's usual open propensity rescaled so that
  the arm's expected open rate is exactly the planted one).
"""

from __future__ import annotations

import numpy as np

from helpers.samples._common import email_open_times, in_ranges, weekday

NEWSLETTER_PAUSES = [
    ("2024-07-01", "2024-08-15"),
    ("2025-06-16", "2025-07-06"),
    ("2025-12-22", "2026-01-04"),
]
TWICE_WEEKLY = ("2025-09-01", "2025-11-15")  # a cadence test: a second newsletter on Fridays
SEND_HOURS = (7, 9, 10, 11, 13, 16, 18, 20)
AB_TEST = {
    "date": "2026-03-03",
    "hour": 10,
    "p_a": 0.22,
    "p_b": 0.255,
    "subject_a": "New single origins have landed",
    "subject_b": "Ethiopia is back (and it tastes like blueberries)",
}
WINBACK = {"date": "2026-04-07", "hour": 10}
CLICK_GIVEN_OPEN = {"newsletter": 0.12, "promo": 0.17, "winback": 0.20}
OPEN_NOISE_SD = 0.6  # hours, rounded to a whole hour
LATE_OPEN_SHARE = 0.15  # opens that come 1-3 days later than the first chance
_NEWS_SUBJECTS = [
    "Fresh off the roaster: {coffee}",
    "This week at the roastery",
    "{coffee} is back",
    "Brew better: {tip}",
    "What we're drinking this week",
    "Meet the farmers behind {coffee}",
    "Three ways to brew {coffee}",
    "Your weekend coffee plan",
    "Roaster's notes: {coffee}",
    "New at the cafe counter",
    "A quick guide to {tip}",
]
_COFFEES = [
    "Harbor House Blend",
    "Lighthouse Espresso",
    "Colombia Huila",
    "Ethiopia Yirgacheffe",
    "Kenya Nyeri AA",
    "Guatemala Huehuetenango",
    "Fog Line Decaf",
    "Winter Solstice Blend",
]
_TIPS = [
    "grind size",
    "water temperature",
    "cold brew at home",
    "storing beans",
    "the bloom",
    "pour-over ratios",
    "French press timing",
]


def _subject(rng: np.random.Generator) -> str:
    text = _NEWS_SUBJECTS[rng.integers(len(_NEWS_SUBJECTS))]
    return text.format(
        coffee=_COFFEES[rng.integers(len(_COFFEES))], tip=_TIPS[rng.integers(len(_TIPS))]
    )


def _newsletter_days(days: np.ndarray) -> np.ndarray:
    """Tuesdays (Thursdays every fourth week), plus Fridays in the cadence test, minus pauses."""
    dow, week = weekday(days), (days - days[0]).astype(int) // 7
    send = np.where(week % 4 == 3, dow == 3, dow == 1)
    send |= in_ranges(days, [TWICE_WEEKLY]) & (dow == 4)
    send &= ~in_ranges(days, NEWSLETTER_PAUSES)
    send &= days != np.datetime64(AB_TEST["date"])
    return np.flatnonzero(send)


def _send(kind: str, day: int, hour: int, subject: str, cost: float) -> dict:
    return {"kind": kind, "day": day, "hour": hour, "subject": subject, "cost": cost}


def _sale_sends(rng, days: np.ndarray, promo_ranges: list, scale: float) -> list[dict]:
    """An announcement on the first morning of each sale and a reminder on its last afternoon."""
    out = []
    for lo, hi, rate in promo_ranges:
        pct = int(round(rate * 100))
        for when, hour, subject in (
            (lo, 8, f"{pct}% off beans and gear: sale starts"),
            (hi, 17, f"Last day for {pct}% off"),
        ):
            d = int((np.datetime64(when) - days[0]).astype(int))
            if 0 <= d < len(days):
                out.append(_send("promo", d, hour, subject, rng.uniform(90, 150) * scale))
    return out


def plan(
    rng: np.random.Generator, days: np.ndarray, promo_ranges: list, scale: float
) -> list[dict]:
    """Every e-mail campaign: newsletters, sale announcements, the A/B test and the win-back.

    ``cost`` is the design, copy and sending cost of a send, booked as e-mail spend on its day.
    """
    camps = [
        _send(
            "newsletter", d, int(rng.choice(SEND_HOURS)), _subject(rng), rng.uniform(45, 85) * scale
        )
        for d in _newsletter_days(days).tolist()
    ]
    camps += _sale_sends(rng, days, promo_ranges, scale)
    ab = int((np.datetime64(AB_TEST["date"]) - days[0]).astype(int))
    subject = f"A: {AB_TEST['subject_a']} | B: {AB_TEST['subject_b']}"
    camps.append(_send("ab_test", ab, AB_TEST["hour"], subject, 95.0 * scale))
    wb = int((np.datetime64(WINBACK["date"]) - days[0]).astype(int))
    camps.append(
        _send("winback", wb, WINBACK["hour"], "We miss you: 15% off your next bag", 120.0 * scale)
    )
    camps.sort(key=lambda c: (c["day"], c["hour"], c["kind"]))
    return camps


def daily_spend(camps: list[dict], n_days: int) -> np.ndarray:
    """E-mail spend per day (design, copy and sending cost booked on the send day)."""
    out = np.zeros(n_days)
    for c in camps:
        out[c["day"]] += c["cost"]
    return out


def recipients(
    camp: dict, cust, last_order_day: np.ndarray, winback_units: np.ndarray
) -> np.ndarray:
    """Customer indices a campaign goes to.

    Newsletters and the A/B test go to every subscribed customer; sale e-mails to those who bought
    in the last 180 days; the win-back e-mail only to the treatment group of the holdout.
    """
    d = camp["day"]
    if camp["kind"] == "winback":
        return np.sort(winback_units)
    subscribed = cust.consent_email & (cust.signup_day < d) & (cust.unsub_day >= d)
    if camp["kind"] == "promo":
        subscribed &= last_order_day >= d - 180
    return np.flatnonzero(subscribed)


def open_probabilities(camp: dict, who: np.ndarray, cust, rng: np.random.Generator) -> tuple:
    """Per-recipient open probability and, for the A/B test, the variant labels."""
    base = cust.open_prob[who]
    if camp["kind"] != "ab_test":
        factor = rng.uniform(0.85, 1.15) * (1.1 if camp["kind"] == "promo" else 1.0)
        return np.clip(base * factor, 0, 0.95), None
    variant = np.where(rng.random(len(who)) < 0.5, "A", "B").astype(object)
    p = base.copy()
    for v, target in (("A", AB_TEST["p_a"]), ("B", AB_TEST["p_b"])):
        sel = variant == v
        p[sel] = base[sel] * target / base[sel].mean()
    return np.clip(p, 0, 0.95), variant


def _last_order_before(
    order_day: np.ndarray, order_cust: np.ndarray, day: int, n: int
) -> np.ndarray:
    """Each customer's last order day before ``day`` (a large negative number when none)."""
    last = np.full(n, -(10**6))
    sel = order_day < day
    np.maximum.at(last, order_cust[sel], order_day[sel])
    return last


def _campaign_rows(rng, camp, cust, last, winback_units, sent) -> dict:
    """Event rows of one campaign."""
    who = recipients(camp, cust, last, winback_units)
    p, variant = open_probabilities(camp, who, cust, rng)
    unsub = cust.unsub_day[who] == camp["day"]
    opened = (rng.random(len(who)) < p) | unsub
    open_at = np.full(len(who), np.datetime64("NaT"), dtype="datetime64[s]")
    open_at[opened] = email_open_times(
        rng, sent, cust.send_hour[who[opened]], OPEN_NOISE_SD, LATE_OPEN_SHARE
    )
    click_p = CLICK_GIVEN_OPEN.get(camp["kind"], CLICK_GIVEN_OPEN["newsletter"])
    clicked = opened & ~unsub & (rng.random(len(who)) < click_p)
    click_at = np.full(len(who), np.datetime64("NaT"), dtype="datetime64[s]")
    click_at[clicked] = open_at[clicked] + rng.integers(15, 900, int(clicked.sum())).astype(
        "timedelta64[s]"
    )
    return {
        "who": who,
        "sent": np.full(len(who), sent),
        "open": open_at,
        "click": click_at,
        "unsub": unsub,
        "variant": variant if variant is not None else np.full(len(who), None, dtype=object),
    }


def build_events(
    rng: np.random.Generator,
    camps: list[dict],
    cust,
    orders_day: np.ndarray,
    orders_cust: np.ndarray,
    winback_units: np.ndarray,
    start: np.datetime64,
) -> dict:
    """All e-mail events (one row per recipient and campaign), in send order.

    Returns the rows (with customer indices and campaign positions) and, per campaign, the
    recipients, opens and clicks that marketing_spend reports.
    """
    parts = []
    for k, camp in enumerate(camps):
        sent = start.astype("datetime64[s]") + np.timedelta64(
            camp["day"] * 86400 + camp["hour"] * 3600, "s"
        )
        camp["sent_at"] = sent
        last = _last_order_before(orders_day, orders_cust, camp["day"], cust.n)
        rows = _campaign_rows(rng, camp, cust, last, winback_units, sent)
        rows["campaign"] = np.full(len(rows["who"]), k)
        camp["stats"] = {
            "recipients": len(rows["who"]),
            "opens": int((~np.isnat(rows["open"])).sum()),
            "clicks": int((~np.isnat(rows["click"])).sum()),
            "click_days": rows["click"][~np.isnat(rows["click"])].astype("datetime64[D]"),
        }
        parts.append(rows)
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def ab_truth(camps: list[dict], events: dict, campaign_ids: np.ndarray) -> dict:
    """The A/B test section of truth.json."""
    k = next(i for i, c in enumerate(camps) if c["kind"] == "ab_test")
    sel = events["campaign"] == k
    out = {
        "campaign_id": str(campaign_ids[k]),
        "sent_at": str(camps[k]["sent_at"]).replace("T", " "),
        "split": "50/50 at random",
        "metric": "opened (opened_at not empty)",
        "subject_a": AB_TEST["subject_a"],
        "subject_b": AB_TEST["subject_b"],
        "true_open_rate": {"A": AB_TEST["p_a"], "B": AB_TEST["p_b"]},
        "true_lift_absolute": round(AB_TEST["p_b"] - AB_TEST["p_a"], 4),
        "true_lift_relative": round(AB_TEST["p_b"] / AB_TEST["p_a"] - 1, 4),
    }
    for v in ("A", "B"):
        m = sel & (events["variant"] == v)
        out[f"n_{v}"] = int(m.sum())
        out[f"observed_open_rate_{v}"] = round(float((~np.isnat(events["open"][m])).mean()), 4)
    out["what_to_find"] = (
        "subject B opens better; the observed difference should sit inside its "
        "confidence interval around the true 3.5-point lift"
    )
    return out
