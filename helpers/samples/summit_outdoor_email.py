"""Summit Outdoor's e-mail: the Mailchimp send plan, unsubscribes and what a send does to sales.

A weekly newsletter ("Trail Notes", usually Thursday morning, some weeks skipped) and a few promos
around the sales (spring sale, Black Friday / Cyber Monday, gift guide, Boxing Day, summer
clearance).

Planted truth (e-mail effect): on the day of a send and the two days after, a subscribed customer's
chance of buying is multiplied by ``1 + BOOST[kind][k]`` (k = 0, 1, 2 days after the send). Mailchimp
credits a campaign with every order its recipients place within ``ATTRIBUTION_DAYS`` days, so its
reported revenue is several times the true extra revenue (recorded in truth.json).
"""

from __future__ import annotations

import numpy as np

from helpers.samples._common import weekday

BOOST = {"newsletter": (0.80, 0.35, 0.15), "promo": (1.50, 0.60, 0.25)}
ATTRIBUTION_DAYS = 4
UNSUB_P = {"newsletter": 0.0011, "promo": 0.0016}
OUTSIDE_UNSUBS = 40  # unsubscribes from the hosted form / by the shop, not from a campaign
PRE_EXPORT_UNSUB = 0.06  # share of the old list that had already left before 2024-10-01
NEWSLETTER_SKIP = 0.15
OPEN_RATE = {"newsletter": (0.40, 0.03), "promo": (0.45, 0.03)}
CLICK_RATE = {"newsletter": (0.022, 0.004), "promo": (0.038, 0.006)}
REASONS = [
    ("I no longer want to receive these emails", 0.62),
    ("I never signed up for this mailing list", 0.08),
    ("The emails are inappropriate", 0.03),
    ("The emails are spam and should be reported", 0.04),
    ("Other (fill in reason below)", 0.23),
]
OTHER_REASONS = [
    "Too many emails",
    "Moved away from BC",
    "Only wanted the discount code",
    "Not hiking much these days",
    "Getting these twice",
]
ADMIN_REASON = "N/A (Unsubscribed by an admin)"

# (date, local send time, title, subject)
PROMOS = [
    ("2024-11-29", "06:00", "Black Friday 2024", "Black Friday: 20% off everything with BFCM20"),
    ("2024-12-02", "07:00", "Cyber Monday 2024", "Last call: BFCM20 ends tonight"),
    ("2024-12-05", "10:00", "Gift Guide 2024", "Gifts for the people who'd rather be outside"),
    ("2024-12-26", "08:00", "Boxing Day 2024", "Boxing Day: 25% off with BOXING25"),
    ("2025-04-25", "07:00", "Spring Sale 2025", "Spring Sale: 15% off packs, tents and boots"),
    ("2025-04-27", "09:00", "Spring Sale 2025 - last day", "Last day of the Spring Sale"),
    ("2025-08-21", "09:00", "Summer Clearance 2025", "Summer clearance: make room for fall"),
    ("2025-11-28", "06:00", "Black Friday 2025", "Black Friday: 20% off everything with BFCM20"),
    ("2025-12-01", "07:00", "Cyber Monday 2025", "Last call: BFCM20 ends tonight"),
    ("2025-12-04", "10:00", "Gift Guide 2025", "Gifts for the people who'd rather be outside"),
    ("2025-12-26", "08:00", "Boxing Day 2025", "Boxing Day: 25% off with BOXING25"),
    ("2026-04-24", "07:00", "Spring Sale 2026", "Spring Sale: 15% off packs, tents and boots"),
    ("2026-04-26", "09:00", "Spring Sale 2026 - last day", "Last day of the Spring Sale"),
    ("2026-08-20", "09:00", "Summer Clearance 2026", "Summer clearance: make room for fall"),
]
SUBJECTS = {  # newsletter subjects by season (months)
    (12, 1, 2): [
        "Winter trail picks",
        "How to layer for wet cold",
        "Snowshoe routes near the city",
        "Waxing, waterproofing and other winter chores",
        "New arrivals: insulated boots",
    ],
    (3, 4, 5): [
        "Shoulder-season packing list",
        "Our staff's favourite spring hikes",
        "Tent check: is yours ready?",
        "Climbing season is open",
        "New arrivals: packs",
    ],
    (6, 7, 8): [
        "Five overnight trips from Vancouver",
        "Stay cool on the trail",
        "Camp kitchen upgrades",
        "Water filters, explained",
        "Long weekend checklist",
    ],
    (9, 10, 11): [
        "Fall colours, fewer crowds",
        "Rain gear that actually works",
        "Layering 101",
        "Headlamp season",
        "Our store events this month",
    ],
}


def _subject(rng: np.random.Generator, month: int) -> str:
    for months, options in SUBJECTS.items():
        if month in months:
            return str(rng.choice(options))
    raise ValueError(month)


def plan(rng: np.random.Generator, days: np.ndarray) -> list[dict]:
    """Every campaign sent, in send order: kind, day index, send time, title, subject."""
    promo_days = {np.datetime64(d): p for d, *p in PROMOS}
    sends = []
    for d, (hhmm, title, subject) in promo_days.items():
        sends.append({"kind": "promo", "date": d, "time": hhmm, "title": title, "subject": subject})
    number = 0
    for d in days[weekday(days) == 3]:  # Thursdays
        near = any(abs(int((d - p).astype(int))) <= 2 for p in promo_days)
        if near or rng.random() < NEWSLETTER_SKIP:
            continue
        number += 1
        hhmm = str(rng.choice(["09:30", "09:30", "09:30", "07:00", "12:15", "18:00"]))
        month = int(str(d)[5:7])
        sends.append(
            {
                "kind": "newsletter",
                "date": d,
                "time": hhmm,
                "title": f"Trail Notes #{number}",
                "subject": _subject(rng, month),
            }
        )
    sends.sort(key=lambda s: (s["date"], s["time"]))
    for k, s in enumerate(sends):
        h, m = (int(x) for x in s["time"].split(":"))
        s["sent"] = s["date"].astype("datetime64[s]") + np.timedelta64(h * 3600 + m * 60, "s")
        s["day"] = int((s["date"] - days[0]).astype(int))
        s["uid"] = f"{rng.integers(0, 16**10):010x}"
        s["index"] = k
    return sends


def subscribed_at(aud, when: np.datetime64) -> np.ndarray:
    """Members subscribed at ``when`` (joined before, not yet unsubscribed)."""
    return (aud.joined <= when) & (np.isnat(aud.unsub) | (aud.unsub > when))


def unsubscribe(rng: np.random.Generator, aud, sends: list[dict], days: np.ndarray, scale: float):
    """Plant the unsubscribes in ``aud`` (times, campaign) and the recipients of each send."""
    start = days[0].astype("datetime64[s]")
    old = (aud.source == "legacy") & (aud.joined < start)
    early = np.flatnonzero(old & (rng.random(aud.n) < PRE_EXPORT_UNSUB))
    span = (start - aud.joined[early]).astype(int)
    aud.unsub[early] = aud.joined[early] + (rng.random(len(early)) * span).astype("timedelta64[s]")
    n_out = int(round(OUTSIDE_UNSUBS * scale))
    when = start + rng.integers(0, (len(days) - 1) * 86400, n_out).astype("timedelta64[s]")
    for w in np.sort(when):
        on = np.flatnonzero(subscribed_at(aud, w))
        pick = on[rng.integers(0, len(on))]
        aud.unsub[pick] = w
    for s in sends:
        on = np.flatnonzero(subscribed_at(aud, s["sent"]))
        s["recipients"] = len(on)
        leave = on[(rng.random(len(on)) < UNSUB_P[s["kind"]]) & np.isnat(aud.unsub[on])]
        delay = rng.exponential(8 * 3600, len(leave)).astype(int) + 60
        aud.unsub[leave] = s["sent"] + delay.astype("timedelta64[s]")
        aud.unsub_campaign[leave] = s["index"]
    for s in sends:  # unsubscribes recorded against a campaign happen after it was sent
        s["unsubscribes"] = int((aud.unsub_campaign == s["index"]).sum())


def reasons(rng: np.random.Generator, aud, start: np.datetime64) -> tuple[np.ndarray, np.ndarray]:
    """UNSUB_REASON and UNSUB_REASON_OTHER for every member (empty for the subscribed).

    Members who left through a campaign (or before the export, from campaigns not in it) give a
    survey reason; those removed by the shop during the export show the admin reason.
    """
    labels = np.array([r for r, _ in REASONS], dtype=object)
    p = np.array([w for _, w in REASONS])
    reason = labels[rng.choice(len(labels), size=aud.n, p=p)]
    by_member = (aud.unsub_campaign >= 0) | (aud.unsub < start.astype("datetime64[s]"))
    reason = np.where(by_member, reason, ADMIN_REASON).astype(object)
    other = np.array(OTHER_REASONS, dtype=object)[rng.integers(0, len(OTHER_REASONS), aud.n)]
    other = np.where(reason == REASONS[-1][0], other, "").astype(object)
    gone = ~np.isnat(aud.unsub)
    return np.where(gone, reason, ""), np.where(gone, other, "")


def daily_boost(sends: list[dict], n_days: int) -> np.ndarray:
    """The multiplier ``1 + boost`` minus one, per day, for customers subscribed that day."""
    boost = np.zeros(n_days)
    for s in sends:
        for k, b in enumerate(BOOST[s["kind"]]):
            if s["day"] + k < n_days:
                boost[s["day"] + k] = max(boost[s["day"] + k], b)
    return boost


def report_numbers(rng: np.random.Generator, sends: list[dict]) -> None:
    """Deliveries, bounces, opens and clicks of every send (added to each send's dict)."""
    for s in sends:
        n = s["recipients"]
        soft, hard = rng.binomial(n, 0.004), rng.binomial(n, 0.0015)
        delivered = n - soft - hard
        mu, sd = OPEN_RATE[s["kind"]]
        opens = rng.binomial(delivered, np.clip(rng.normal(mu, sd), 0.2, 0.7))
        mu, sd = CLICK_RATE[s["kind"]]
        clicks = rng.binomial(delivered, np.clip(rng.normal(mu, sd), 0.005, 0.1))
        s.update(
            {
                "soft": int(soft),
                "hard": int(hard),
                "delivered": int(delivered),
                "unique_opens": int(opens),
                "total_opens": int(opens + rng.poisson(0.6 * opens)),
                "unique_clicks": int(clicks),
                "total_clicks": int(clicks + rng.poisson(0.35 * clicks)),
                "forwarded": int(rng.poisson(1.2)),
                "forwarded_opens": 0,
                "abuse": int(rng.binomial(n, 0.0002)),
            }
        )
        s["forwarded_opens"] = int(rng.binomial(s["forwarded"], 0.6))


def attribute(sends: list[dict], orders: dict, subscribed) -> None:
    """Mailchimp's own credit: orders by a recipient within ATTRIBUTION_DAYS of the last send.

    ``subscribed(customer_indices, day)`` says which of those customers were on the list that
    day; ``orders`` holds ``cust``, ``day``, ``subtotal`` and ``total`` (cancelled orders dropped).
    """
    days = np.array([s["day"] for s in sends])
    which = np.searchsorted(days, orders["day"], side="right") - 1
    ok = (which >= 0) & (orders["cust"] >= 0)
    ok[ok] &= orders["day"][ok] - days[which[ok]] < ATTRIBUTION_DAYS
    ok[ok] &= subscribed(orders["cust"][ok], days[which[ok]])
    for s in sends:
        mine = ok & (which == s["index"])
        s["orders"] = int(mine.sum())
        s["gross_sales"] = round(float(orders["total"][mine].sum()), 2)
        s["revenue"] = round(float(orders["subtotal"][mine].sum()), 2)
