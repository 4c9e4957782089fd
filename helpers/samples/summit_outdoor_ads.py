"""Summit Outdoor's ad-platform exports: the Google Ads campaign report and the Meta Ads export.

Clicks and impressions follow from each day's spend (cost per click, CTR, CPM with noise). The
conversions each platform reports are *claims*, built from the actual online orders: most of the
orders the channel really caused (``CAPTURE``), plus orders that would have happened anyway and
that the platform also takes credit for (brand-search clicks by people already looking for the
shop; Meta's view-through and retargeting credit). Both platforms therefore claim more purchases
than they cause, Meta by more; truth.json records claimed and true numbers side by side.

Google report layout: line 1 ``Campaign report``, line 2 the quoted date range, then the header
with a leading ``Day`` column; numbers with thousands separators; ``--`` for values that do not
apply; ``Total: ...`` rows at the end. Meta layout: one row per campaign and day with delivery,
``(CAD)`` in the money columns, blank cells where the value is zero or undefined.
"""

from __future__ import annotations

import numpy as np

from helpers.samples import summit_outdoor_media as media_mod

GOOGLE_HEADER = (
    "Day,Campaign status,Campaign,Campaign type,Impr.,Clicks,CTR,Currency code,Avg. CPC,Cost,"
    "Search impr. share,Conversions,Cost / conv.,Conv. rate,Conv. value"
)
META_HEADER = (
    "Reporting starts,Reporting ends,Campaign name,Campaign delivery,Attribution setting,Results,"
    "Result indicator,Reach,Frequency,Cost per results,Amount spent (CAD),Impressions,"
    '"CPM (cost per 1,000 impressions) (CAD)",Link clicks,CPC (cost per link click) (CAD),'
    "CTR (link click-through rate),Clicks (all),CTR (all),CPC (all) (CAD),Landing page views,"
    "Cost per landing page view (CAD)"
)
CAPTURE = {"paid_search": 0.85, "paid_social": 0.80}
# Share of the other online orders each Google campaign claims (someone clicked an ad first).
GOOGLE_OVERCLAIM = {
    "Search | Brand": 0.10,
    "Shopping | All Products": 0.04,
    "Search | Generic - Gear": 0.01,
}
META_OVERCLAIM = {"Prospecting": 0.05, "Retargeting": 0.07}
IMPRESSION_SHARE = {
    "Search | Brand": (0.82, 0.95),
    "Search | Generic - Gear": (0.22, 0.42),
    "Shopping | All Products": (0.30, 0.55),
}
RESULT_INDICATOR = "actions:offsite_conversion.fb_pixel_purchase"
ATTRIBUTION = "7-day click or 1-day view"


def thousands(values: np.ndarray, decimals: int = 0) -> np.ndarray:
    """``1,234`` / ``1,234.56`` (Google's number style)."""
    return np.array(
        [f"{v:,.{decimals}f}" for v in np.round(values, decimals).tolist()], dtype=object
    )


def percent(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``3.81%``, or ``--`` where the denominator is zero."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(den > 0, num / np.maximum(den, 1e-12), np.nan)
    return np.array(["--" if np.isnan(x) else f"{100 * x:.2f}%" for x in r.tolist()], dtype=object)


def _pick(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One column per row of ``weights`` in proportion to it; -1 where a row is all zero."""
    total = weights.sum(axis=1)
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * total
    pick = (u[:, None] > cum).sum(axis=1)
    return np.where(total > 0, np.minimum(pick, weights.shape[1] - 1), -1)


def claims(
    rng: np.random.Generator, campaigns: list[dict], web: dict, channel: str, overclaim: np.ndarray
) -> np.ndarray:
    """The campaign (index, -1 for none) that claims each online order.

    ``web`` holds the online, not-cancelled orders: ``day``, ``driver`` (name) and ``subtotal``;
    ``overclaim`` is, per campaign, the chance of claiming an order the channel did not cause.
    """
    spend = np.column_stack([c["spend"] for c in campaigns])[web["day"]]
    mine = (web["driver"] == channel) & (rng.random(len(web["day"])) < CAPTURE[channel])
    out = np.where(mine, _pick(rng, spend), -1)
    other = web["driver"] != channel
    u = rng.random(len(web["day"]))
    edges = np.cumsum(np.where(spend > 0, overclaim, 0.0), axis=1)
    extra = (u[:, None] >= edges).sum(axis=1)
    ok = other & (extra < len(campaigns))
    out[ok] = extra[ok]
    return out


def _per_day(values: np.ndarray, days: np.ndarray, n_days: int) -> np.ndarray:
    return np.bincount(days, weights=values, minlength=n_days)


def _google_stats(rng, c: dict, mine: np.ndarray, web: dict, n_days: int) -> dict:
    """Daily impressions, clicks, claimed conversions and their value of one campaign."""
    spend = c["spend"]
    on = spend > 0
    cpc = c["cpc"] * rng.lognormal(0, 0.10, n_days)
    clicks = np.where(on, np.maximum(1, np.round(spend / cpc)), 0)
    seen = rng.poisson(clicks / (c["ctr"] * rng.lognormal(0, 0.12, n_days)))
    return {
        "name": c["name"],
        "type": c["type"],
        "spend": spend,
        "clicks": clicks,
        "impressions": np.where(on, np.maximum(clicks, seen), 0),
        "conversions": _per_day(np.ones(mine.sum()), web["day"][mine], n_days),
        "value": _per_day(web["subtotal"][mine], web["day"][mine], n_days),
        "share": rng.uniform(*IMPRESSION_SHARE[c["name"]], n_days),
    }


def _google_row(st: dict, t: int, day) -> list[str]:
    spend, clicks, impr = st["spend"][t], st["clicks"][t], st["impressions"][t]
    conv = st["conversions"][t]
    return [
        str(day), "Enabled", st["name"], st["type"], f"{impr:,.0f}", f"{clicks:,.0f}",
        f"{100 * clicks / impr:.2f}%", "CAD", f"{spend / clicks:,.2f}", f"{spend:,.2f}",
        f"{100 * st['share'][t]:.2f}%" if impr >= 100 else "--", f"{conv:,.2f}",
        f"{spend / conv:,.2f}" if conv else "--", f"{100 * conv / clicks:.2f}%",
        f"{st['value'][t]:,.2f}",
    ]  # fmt: skip


def google_rows(rng, campaigns: list[dict], web: dict, claim: np.ndarray, days: np.ndarray):
    """Rows of the Google Ads report body and the numbers behind them (for totals and truth)."""
    stats = [_google_stats(rng, c, claim == k, web, len(days)) for k, c in enumerate(campaigns)]
    body = [
        (t, k, _google_row(st, t, days[t]))
        for k, st in enumerate(stats)
        for t in np.flatnonzero(st["spend"] > 0).tolist()
    ]
    body.sort(key=lambda r: (r[0], r[1]))
    return [r[2] for r in body], stats


def google_totals(stats: list[dict]) -> list[list[str]]:
    """The ``Total: ...`` rows: the account, then one per campaign type."""
    groups = {"Account": stats}
    for kind in dict.fromkeys(s["type"] for s in stats):
        groups[kind] = [s for s in stats if s["type"] == kind]
    rows = []
    for label, members in groups.items():
        tot = {
            k: sum(float(s[k].sum()) for s in members)
            for k in ("spend", "clicks", "impressions", "conversions", "value")
        }
        rows.append(
            [
                f"Total: {label}",
                "--",
                "--",
                "--",
                f"{tot['impressions']:,.0f}",
                f"{tot['clicks']:,.0f}",
                f"{100 * tot['clicks'] / tot['impressions']:.2f}%",
                "CAD",
                f"{tot['spend'] / tot['clicks']:,.2f}",
                f"{tot['spend']:,.2f}",
                "--",
                f"{tot['conversions']:,.2f}",
                f"{tot['spend'] / tot['conversions']:,.2f}",
                f"{100 * tot['conversions'] / tot['clicks']:.2f}%",
                f"{tot['value']:,.2f}",
            ]
        )
    return rows


def _num(x: float, decimals: int) -> str:
    """Meta's plain numbers: no separators, trailing zeros dropped; blank for zero."""
    if not x:
        return ""
    text = f"{x:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _meta_stats(rng, c: dict, mine: np.ndarray, web: dict, n_days: int) -> dict:
    """Daily delivery, clicks and claimed purchases of one Meta campaign."""
    spend = c["spend"]
    on = spend > 0
    impr = np.where(on, rng.poisson(spend / c["cpm"] * 1000 * rng.lognormal(0, 0.1, n_days)), 0)
    link = rng.binomial(impr, np.minimum(c["ctr"] * rng.lognormal(0, 0.15, n_days), 0.2))
    return {
        "name": c["name"],
        "spend": spend,
        "impressions": impr,
        "reach": np.maximum(1, np.round(impr / rng.uniform(1.04, 1.35, n_days))),
        "link_clicks": link,
        "clicks_all": link + rng.binomial(impr, c["ctr"] * 0.9),
        "landing_page_views": rng.binomial(link, 0.78),
        "results": _per_day(np.ones(mine.sum()), web["day"][mine], n_days),
    }


def _meta_row(st: dict, t: int, day, delivery: str) -> list[str]:
    s, res, reach = st["spend"][t], st["results"][t], st["reach"][t]
    impr, link = max(st["impressions"][t], 1), st["link_clicks"][t]
    every, lpv = st["clicks_all"][t], st["landing_page_views"][t]

    def per(x):
        return _num(s / x, 6) if x else ""

    return [
        str(day), str(day), st["name"], delivery, ATTRIBUTION, _num(res, 0), RESULT_INDICATOR,
        str(int(reach)), _num(impr / reach, 6), per(res), _num(s, 2), str(int(impr)),
        _num(1000 * s / impr, 6), _num(link, 0), per(link), _num(100 * link / impr, 6),
        _num(every, 0), _num(100 * every / impr, 6), per(every), _num(lpv, 0), per(lpv),
    ]  # fmt: skip


def meta_rows(rng, campaigns: list[dict], web: dict, claim, days: np.ndarray, end):
    """Rows of the Meta export (days with delivery only) and the numbers behind them."""
    stats = [_meta_stats(rng, c, claim == k, web, len(days)) for k, c in enumerate(campaigns)]
    body = []
    for k, (c, st) in enumerate(zip(campaigns, stats, strict=True)):
        delivery = "active" if c["end"] >= end else "completed"
        body += [
            (t, k, _meta_row(st, t, days[t], delivery))
            for t in np.flatnonzero(st["spend"] > 0).tolist()
        ]
    body.sort(key=lambda r: (r[0], r[1]))
    return [r[2] for r in body], stats


def overclaim_matrix(campaigns: list[dict], table: dict, key) -> np.ndarray:
    """Per campaign, its over-claim probability (looked up by name or by kind)."""
    return np.array([table[key(c)] for c in campaigns])


def platform_truth(google: list[dict], meta: list[dict], web: dict, g_claim, m_claim) -> dict:
    """Claimed versus true purchases per platform."""
    out = {}
    for channel, stats, claim, spend_key in (
        ("paid_search", google, g_claim, "spend"),
        ("paid_social", meta, m_claim, "spend"),
    ):
        caused = web["driver"] == channel
        claimed = claim >= 0
        out[media_mod.PLATFORM[channel]] = {
            "channel": channel,
            "spend": f"{sum(float(s[spend_key].sum()) for s in stats):.2f}",
            "clicks": int(
                sum(s["clicks"].sum() if "clicks" in s else s["link_clicks"].sum() for s in stats)
            ),
            "impressions": int(sum(s["impressions"].sum() for s in stats)),
            "reported_conversions": int(claimed.sum()),
            "reported_conversion_value": f"{float(web['subtotal'][claimed].sum()):.2f}",
            "true_online_orders_caused": int(caused.sum()),
            "claimed_orders_it_caused": int((claimed & caused).sum()),
            "claimed_orders_it_did_not_cause": int((claimed & ~caused).sum()),
            "overclaim_factor": round(float(claimed.sum() / max(caused.sum(), 1)), 3),
        }
    out["google_ads"]["clicks_definition"] = "Clicks column"
    out["meta_ads"]["clicks_definition"] = "Link clicks column"
    out["meta_ads"]["note"] = (
        "Meta's export header has no conversion-value column, so revenue "
        "is left out of meta_ads_daily.csv"
    )
    return out
