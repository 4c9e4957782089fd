"""Summit Outdoor's GA4 report: Traffic acquisition by session default channel group and date.

Sessions come from what drove them: Google Ads clicks land as Paid Search (the shopping campaign
too, in this property's grouping), Meta link clicks as Paid Social, Mailchimp clicks as Email, and
the rest (organic search, direct, organic social, referral) follows the demand calendar. Each
online order is a purchase key event in the channel of its session (ad-driven orders mostly in
their channel, the others spread over organic search and direct); a few purchases are not tracked
(consent banner, blockers).

Layout: a ``#`` preamble with the start and end date, a blank line, the header (``Session default
channel group``, ``Date`` as YYYYMMDD, then the metrics), a ``Grand total`` row right under the
header (as GA4 shows totals above the rows), then one row per channel group and day with sessions.
"""

from __future__ import annotations

import numpy as np

HEADER = (
    "Session default channel group,Date,Sessions,Engaged sessions,Engagement rate,"
    "Average engagement time per session,Events per session,Event count,Key events,Total revenue"
)
# Organic sessions per day at average demand (scale 1).
ORGANIC = {"Organic Search": 115.0, "Direct": 70.0, "Organic Social": 14.0, "Referral": 8.0}
CHANNELS = (
    "Organic Search",
    "Direct",
    "Paid Search",
    "Paid Social",
    "Email",
    "Organic Social",
    "Referral",
)
ENGAGED = {
    "Organic Search": 0.62,
    "Direct": 0.55,
    "Paid Search": 0.58,
    "Paid Social": 0.42,
    "Email": 0.68,
    "Organic Social": 0.48,
    "Referral": 0.60,
}
SECONDS = {
    "Organic Search": 62,
    "Direct": 70,
    "Paid Search": 55,
    "Paid Social": 31,
    "Email": 75,
    "Organic Social": 38,
    "Referral": 58,
}
EVENTS_PER_SESSION = {
    "Organic Search": 11.0,
    "Direct": 12.5,
    "Paid Search": 10.0,
    "Paid Social": 7.5,
    "Email": 13.0,
    "Organic Social": 8.0,
    "Referral": 10.5,
}
# Where an online order's session is credited, by the order's true driver.
PURCHASE_CHANNEL = {
    "paid_search": {"Paid Search": 0.88, "Direct": 0.07, "Organic Search": 0.05},
    "paid_social": {"Paid Social": 0.55, "Direct": 0.25, "Organic Search": 0.20},
    "email": {"Email": 0.85, "Direct": 0.15},
    "base": {
        "Organic Search": 0.45,
        "Direct": 0.36,
        "Paid Search": 0.08,
        "Organic Social": 0.04,
        "Referral": 0.03,
        "Email": 0.04,
    },
}
TRACKED = 0.92  # share of purchases GA4 records
PAID_LANDING = {"Paid Search": (0.85, 0.95), "Paid Social": (0.70, 0.80)}
EMAIL_CLICK_DAYS = (0.7, 0.2, 0.1)
EMAIL_BASELINE = 2.0


def sessions(
    rng: np.random.Generator, cal: dict, paid_clicks: dict, sends: list, scale: float
) -> dict[str, np.ndarray]:
    """Sessions per channel group and day."""
    n = len(cal["days"])
    out = {}
    for ch, level in ORGANIC.items():
        out[ch] = rng.poisson(level * scale * cal["demand"] * rng.lognormal(-0.005, 0.1, n))
    for ch, (lo, hi) in PAID_LANDING.items():
        out[ch] = rng.binomial(paid_clicks[ch].astype(int), rng.uniform(lo, hi, n))
    email = rng.poisson(np.full(n, EMAIL_BASELINE * scale))
    for s in sends:
        for k, share in enumerate(EMAIL_CLICK_DAYS):
            if s["day"] + k < n:
                email[s["day"] + k] += int(round(s["unique_clicks"] * 1.15 * share))
    out["Email"] = email
    return {ch: out[ch].astype(int) for ch in CHANNELS}


def purchase_channels(rng: np.random.Generator, drivers: np.ndarray) -> np.ndarray:
    """The channel group GA4 credits each online order to ("" when not tracked)."""
    out = np.full(len(drivers), "", dtype=object)
    for driver, split in PURCHASE_CHANNEL.items():
        sel = np.flatnonzero(drivers == driver)
        names = np.array(list(split), dtype=object)
        p = np.array(list(split.values()))
        out[sel] = names[rng.choice(len(names), size=len(sel), p=p / p.sum())]
    out[rng.random(len(drivers)) > TRACKED] = ""
    return out


def _channel(rng, ch: str, sess: np.ndarray, web: dict, credited: np.ndarray, n: int) -> dict:
    """Daily metrics of one channel group."""
    mine = credited == ch
    key = np.bincount(web["day"][mine], minlength=n)
    revenue = np.bincount(web["day"][mine], weights=web["total"][mine], minlength=n)
    s = np.maximum(sess, key)  # a purchase needs a session
    return {
        "sessions": s,
        "engaged": rng.binomial(s, ENGAGED[ch]),
        "seconds": np.round(np.maximum(5.0, rng.normal(SECONDS[ch], SECONDS[ch] * 0.12, n)), 2),
        "events": np.round(s * rng.normal(EVENTS_PER_SESSION[ch], 0.8, n)).astype(int),
        "key": key,
        "revenue": np.round(revenue, 2),
    }


def _row(label: str, date: str, sessions, engaged, seconds, events, key, revenue) -> list[str]:
    return [
        label, date, str(sessions), str(engaged), _plain(engaged / sessions, 4),
        f"{seconds:.2f}", f"{events / sessions:.2f}", str(events), str(key), _money(revenue),
    ]  # fmt: skip


def table(
    rng: np.random.Generator, days: np.ndarray, sess: dict, web: dict, credited: np.ndarray
) -> tuple[list[list[str]], dict]:
    """The report rows (Grand total first) and the per-channel totals."""
    n = len(days)
    date = np.char.replace(np.datetime_as_string(days, unit="D"), "-", "")
    rows, totals = [], {}
    for ch in CHANNELS:
        m = _channel(rng, ch, sess[ch], web, credited, n)
        totals[ch] = {k: m[k].sum() for k in ("sessions", "engaged", "events", "key", "revenue")}
        totals[ch]["time"] = float((m["seconds"] * m["sessions"]).sum())
        for t in np.flatnonzero(m["sessions"] > 0).tolist():
            values = [m[k][t] for k in ("sessions", "engaged", "seconds", "events", "key")]
            rows.append((t, CHANNELS.index(ch), _row(ch, date[t], *values, m["revenue"][t])))
    rows.sort(key=lambda r: (r[0], r[1]))
    g = {k: sum(t[k] for t in totals.values()) for k in totals[CHANNELS[0]]}
    grand = _row("Grand total", "", g["sessions"], g["engaged"], g["time"] / g["sessions"],
                 g["events"], g["key"], g["revenue"])  # fmt: skip
    summary = {
        ch: {"sessions": int(t["sessions"]), "key_events": int(t["key"]),
             "revenue": f"{float(t['revenue']):.2f}"}
        for ch, t in totals.items()
    }  # fmt: skip
    return [grand] + [r[2] for r in rows], summary


def _plain(x: float, decimals: int) -> str:
    """A ratio with up to ``decimals`` decimals, trailing zeros dropped (GA4 style)."""
    return f"{x:.{decimals}f}".rstrip("0").rstrip(".")


def _money(x: float) -> str:
    """GA4's revenue cells: ``0`` or the amount with up to two decimals."""
    return "0" if round(x, 2) == 0 else f"{x:.2f}".rstrip("0").rstrip(".")


def preamble(days: np.ndarray) -> list[str]:
    """The comment lines above the header (and the blank line after them)."""
    fmt = lambda d: str(d).replace("-", "")  # noqa: E731
    return [
        "# ----------------------------------------",
        "# Traffic acquisition: Session default channel group",
        f"# Start date: {fmt(days[0])}",
        f"# End date: {fmt(days[-1])}",
        "# ----------------------------------------",
        "",
    ]
