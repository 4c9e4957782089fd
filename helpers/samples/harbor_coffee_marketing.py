"""Harbor Coffee's campaigns and marketing_spend tables, and the e-mail events file.

What the ad platforms report (impressions, clicks, conversions, platform revenue) is derived from
spend (cost per click or per thousand impressions) and from the orders tagged with the channel,
inflated by each platform's over-reporting factor; e-mail rows report the recipients, clicks and
tagged orders of each send.
"""

from __future__ import annotations

import numpy as np

from helpers.samples._common import DAY, fmt_date, fmt_money, fmt_number
from helpers.samples.harbor_coffee_media import PLATFORM_INFLATION, SOCIAL_CPM
from helpers.samples.harbor_coffee_web import BOOST_QUARTERS

EMAIL_OBJECTIVE = {
    "newsletter": "engagement",
    "promo": "sales",
    "ab_test": "engagement",
    "winback": "retention",
}


def social_campaigns(posts: dict, days: np.ndarray) -> list[dict]:
    """One organic-social content campaign per quarter, carrying the content and boost spend."""
    quarter = days[posts["day"]].astype("datetime64[M]").astype(int) // 3
    out = []
    for q in np.unique(quarter).tolist():
        start = np.datetime64(f"{1970 + q // 4}-{q % 4 * 3 + 1:02d}-01")
        end = (start.astype("datetime64[M]") + np.timedelta64(3, "M")).astype("datetime64[D]") - DAY
        spend = np.zeros(len(days))
        sel = quarter == q
        np.add.at(spend, posts["day"][sel], posts["cost"][sel])
        boosted = str(start)[:7] in BOOST_QUARTERS
        out.append(
            {
                "name": f"Social content {start.astype(object).year} Q{q % 4 + 1}"
                + (" (with boosts)" if boosted else ""),
                "channel": "social",
                "objective": "engagement",
                "start": max(start, days[0]),
                "end": min(end, days[-1]),
                "spend": spend,
            }
        )
    return out


def email_campaigns(camps: list[dict], days: np.ndarray) -> list[dict]:
    """Campaign records for the e-mail sends (cost booked on the send day)."""
    out = []
    for c in camps:
        d = days[c["day"]]
        label = {
            "newsletter": f"Newsletter {d}",
            "promo": f"Sale e-mail {d}",
            "ab_test": f"Newsletter {d} (subject test)",
            "winback": "Win-back spring 2026",
        }[c["kind"]]
        spend = np.zeros(len(days))
        spend[c["day"]] = c["cost"]
        out.append(
            {
                "name": label,
                "channel": "email",
                "objective": EMAIL_OBJECTIVE[c["kind"]],
                "start": d,
                "end": d,
                "spend": spend,
                "subject": c["subject"],
                "email": c,
            }
        )
    return out


def assign_ids(campaigns: list[dict]) -> None:
    """Campaign ids CMP0001... in order of start date, channel and name."""
    order = sorted(
        range(len(campaigns)),
        key=lambda i: (str(campaigns[i]["start"]), campaigns[i]["channel"], campaigns[i]["name"]),
    )
    for k, i in enumerate(order, start=1):
        campaigns[i]["id"] = f"CMP{k:04d}"


def campaigns_table(rng: np.random.Generator, campaigns: list[dict]) -> dict:
    """campaigns.csv: planned budget = actual spend plus some headroom, rounded up to $50."""
    rows = sorted(campaigns, key=lambda c: c["id"])
    spend = np.array([c["spend"].sum() for c in rows])
    headroom = np.where(
        [c["channel"] == "email" for c in rows], 1.0, rng.uniform(1.0, 1.12, len(rows))
    )
    budget = np.where(spend > 0, np.ceil(spend * headroom / 50) * 50, 0.0)
    budget = np.where([c["channel"] == "email" for c in rows], np.round(spend, 2), budget)
    return {
        "campaign_id": np.array([c["id"] for c in rows], dtype=object),
        "name": np.array([c["name"] for c in rows], dtype=object),
        "channel": np.array([c["channel"] for c in rows], dtype=object),
        "start_date": fmt_date(np.array([c["start"] for c in rows], dtype="datetime64[D]")),
        "end_date": fmt_date(
            np.array(
                [c["end"] if c["end"] is not None else np.datetime64("NaT") for c in rows],
                dtype="datetime64[D]",
            )
        ),
        "budget": fmt_money(budget),
        "objective": np.array([c["objective"] for c in rows], dtype=object),
        "subject": np.array([c.get("subject", "") for c in rows], dtype=object),
    }


def _tagged(
    orders, channel: str, n_days: int, start: np.datetime64
) -> tuple[np.ndarray, np.ndarray]:
    """Orders tagged with a channel, and their revenue, per day."""
    sel = (orders.channel == channel) & (orders.kind != "refund")
    d = (orders.day[sel] - start).astype(int)
    return (
        np.bincount(d, minlength=n_days).astype(float),
        np.bincount(d, weights=orders.revenue[sel], minlength=n_days),
    )


def _paid_rows(rng, camps: list[dict], orders, start, n_days: int) -> list[dict]:
    """Daily rows of the paid search and paid social campaigns."""
    rows = []
    for channel in ("paid_search", "paid_social"):
        mine = [c for c in camps if c["channel"] == channel]
        spend = np.stack([c["spend"] for c in mine])
        if channel == "paid_search":
            clicks = rng.poisson(
                spend / np.array([[c["cpc"]] for c in mine]) * rng.lognormal(0, 0.1, spend.shape)
            )
            impressions = np.round(
                clicks / np.array([[c["ctr"]] for c in mine]) * rng.lognormal(0, 0.15, spend.shape)
            )
        else:
            impressions = np.round(spend / SOCIAL_CPM * 1000 * rng.lognormal(0, 0.12, spend.shape))
            clicks = rng.binomial(impressions.astype(np.int64), mine[0]["ctr"])
        n_tag, rev_tag = _tagged(orders, channel, n_days, start)
        conv_total = rng.poisson(n_tag * PLATFORM_INFLATION[channel]) * (spend.sum(axis=0) > 0)
        share = np.where(
            clicks.sum(axis=0) > 0, clicks / np.maximum(clicks.sum(axis=0), 1), 1 / len(mine)
        )
        conv = np.floor(share * conv_total + rng.random(spend.shape) * (share > 0))
        aov = np.where(n_tag > 0, rev_tag / np.maximum(n_tag, 1), 42.0)
        for k, c in enumerate(mine):
            for t in np.flatnonzero(spend[k] > 0).tolist():
                rows.append(
                    {
                        "day": t,
                        "channel": channel,
                        "id": c["id"],
                        "spend": spend[k, t],
                        "impressions": impressions[k, t],
                        "clicks": clicks[k, t],
                        "conversions": conv[k, t],
                        "revenue": conv[k, t] * aov[t] * rng.uniform(0.95, 1.05),
                    }
                )
    return rows


def _between_sends(send_days: list[int], orders, channel: str, n_days: int, start) -> list[tuple]:
    """Tagged orders and revenue from each send day up to the next (at most 7 days)."""
    n_tag, rev_tag = _tagged(orders, channel, n_days, start)
    out = []
    for k, d in enumerate(send_days):
        end = min(send_days[k + 1] if k + 1 < len(send_days) else n_days, d + 7)
        out.append((n_tag[d:end].sum(), rev_tag[d:end].sum()))
    return out


def _owned_rows(
    email_camps: list[dict],
    social_camps: list[dict],
    posts: dict,
    post_stats: tuple,
    orders,
    start,
    n_days: int,
) -> list[dict]:
    """Rows of e-mail sends and of organic-social posting days."""
    rows = []
    email_days = [c["email"]["day"] for c in email_camps]
    for c, (conv, rev) in zip(
        email_camps, _between_sends(email_days, orders, "email", n_days, start), strict=True
    ):
        st = c["email"]["stats"]
        rows.append(
            {
                "day": c["email"]["day"],
                "channel": "email",
                "id": c["id"],
                "spend": c["email"]["cost"],
                "impressions": st["recipients"],
                "clicks": st["clicks"],
                "conversions": conv,
                "revenue": rev,
            }
        )
    impressions, engagements = post_stats
    imp_day = np.bincount(posts["day"], weights=impressions, minlength=n_days)
    eng_day = np.bincount(posts["day"], weights=engagements, minlength=n_days)
    post_days = np.unique(posts["day"]).tolist()
    social = _between_sends(post_days, orders, "social", n_days, start)
    for t, (conv, rev) in zip(post_days, social, strict=True):
        c = next(c for c in social_camps if c["spend"][t] > 0)
        rows.append(
            {
                "day": t,
                "channel": "social",
                "id": c["id"],
                "spend": c["spend"][t],
                "impressions": imp_day[t],
                "clicks": np.round(eng_day[t] * 0.08),
                "conversions": conv,
                "revenue": rev,
            }
        )
    return rows


def spend_table(
    rng, campaigns: list[dict], posts: dict, post_stats: tuple, orders, days: np.ndarray
) -> tuple:
    """marketing_spend.csv, and the paid clicks per channel and day (for web sessions)."""
    start, n_days = days[0], len(days)
    paid = [c for c in campaigns if c["channel"] in ("paid_search", "paid_social")]
    rows = _paid_rows(rng, paid, orders, start, n_days)
    rows += _owned_rows(
        [c for c in campaigns if c["channel"] == "email"],
        [c for c in campaigns if c["channel"] == "social"],
        posts,
        post_stats,
        orders,
        start,
        n_days,
    )
    rows.sort(key=lambda r: (r["day"], r["channel"], r["id"]))
    clicks = {ch: np.zeros(n_days) for ch in ("paid_search", "paid_social")}
    for r in rows:
        if r["channel"] in clicks:
            clicks[r["channel"]][r["day"]] += r["clicks"]
    col = lambda key: np.array([r[key] for r in rows], dtype=float)  # noqa: E731
    table = {
        "date": fmt_date(days[[r["day"] for r in rows]]),
        "channel": np.array([r["channel"] for r in rows], dtype=object),
        "campaign_id": np.array([r["id"] for r in rows], dtype=object),
        "spend": fmt_money(col("spend")),
        "impressions": fmt_number(col("impressions")),
        "clicks": fmt_number(col("clicks")),
        "conversions": fmt_number(col("conversions")),
        "platform_revenue": fmt_money(col("revenue")),
    }
    return table, clicks


def email_events_columns(events: dict, campaign_ids: np.ndarray, cust_ids: np.ndarray) -> dict:
    """email_events columns (for Parquet: timestamps stay datetime64)."""
    rank = np.empty(len(cust_ids), dtype=int)
    rank[np.argsort(cust_ids, kind="stable")] = np.arange(len(cust_ids))
    order = np.lexsort((rank[events["who"]], events["campaign"]))
    return {
        "campaign_id": campaign_ids[events["campaign"][order]].astype(object),
        "customer_id": cust_ids[events["who"][order]].astype(object),
        "sent_at": events["sent"][order],
        "opened_at": events["open"][order],
        "clicked_at": events["click"][order],
        "unsubscribed": events["unsub"][order].astype(bool),
        "variant": events["variant"][order],
    }


def campaign_id_array(campaigns: list[dict]) -> np.ndarray:
    """Campaign ids of the e-mail sends, in send-plan order."""
    return np.array([c["id"] for c in campaigns if c["channel"] == "email"], dtype=object)
