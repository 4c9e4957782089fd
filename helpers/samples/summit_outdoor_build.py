"""Build Summit Outdoor's export files from a simulated world, then truth.json and business.yaml.

Every file is written as text with the platform's exact header line (quoting as in the real
export), ``\\n`` line ends and UTF-8 (the Shopify file with a byte-order mark).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from helpers.samples import _business_yaml
from helpers.samples import summit_outdoor_ads as ads
from helpers.samples import summit_outdoor_email as email_mod
from helpers.samples import summit_outdoor_ga4 as ga4
from helpers.samples import summit_outdoor_mailchimp as mailchimp
from helpers.samples import summit_outdoor_media as media_mod
from helpers.samples import summit_outdoor_people as people
from helpers.samples import summit_outdoor_shopify as shopify
from helpers.samples import summit_outdoor_truth as truth_mod
from helpers.samples._common import stream, write_json, write_text

FILES = {
    "shopify": "exports/orders_export_1.csv",
    "meta": "exports/meta_ads_daily.csv",
    "google": "exports/google_ads_campaign_report.csv",
    "subscribed": "exports/mailchimp_subscribed.csv",
    "unsubscribed": "exports/mailchimp_unsubscribed.csv",
    "campaigns": "exports/mailchimp_campaigns.csv",
    "ga4": "exports/ga4_traffic_acquisition.csv",
}
CASE_PAIRS = 8  # customers whose e-mail is typed with other capitals on a later order
MAILCHIMP_CASE = 3  # customers whose Mailchimp address has other capitals than in Shopify


def render(
    header: str, rows: list, *, before: list[str] = (), after: list = (), bom: bool = False
) -> str:
    """A CSV text: lines ``before`` as they are, the header verbatim, then the quoted rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(rows)
    writer.writerows(after)
    head = "".join(line + "\n" for line in before) + header + "\n"
    return ("\ufeff" if bom else "") + head + buf.getvalue()


def _variant(email: str, style: int) -> str:
    local, domain = email.split("@")
    if style == 0:
        parts = [p[:1].upper() + p[1:] for p in local.replace("_", ".").split(".")]
        seps = [c for c in local if c in "._"]
        local = parts[0] + "".join(s + p for s, p in zip(seps, parts[1:], strict=True))
    elif style == 1:
        local = local[:1].upper() + local[1:]
    else:
        return email.upper()
    return f"{local}@{domain}"


def case_variants(rng: np.random.Generator, world: dict) -> tuple[np.ndarray, list, dict]:
    """E-mail of each order (a few typed with other capitals) and the Mailchimp variants."""
    o, cust, aud = world["orders"], world["cust"], world["aud"]
    known = o["cust"] >= 0
    emails = np.where(known, cust.email[np.maximum(o["cust"], 0)], "").astype(object)
    counts = np.bincount(o["cust"][known], minlength=cust.n)
    pick = np.sort(rng.choice(np.flatnonzero(counts >= 2), CASE_PAIRS, replace=False))
    pairs = []
    for k, c in enumerate(pick.tolist()):
        rows = np.flatnonzero(o["cust"] == c)
        r = rows[rng.integers(1, len(rows))]
        emails[r] = _variant(cust.email[c], k % 3)
        pairs.append({"customer": c, "row": int(r), "email": cust.email[c], "variant": emails[r]})
    on_list = np.flatnonzero((aud.customer >= 0) & ~np.isin(aud.customer, pick))
    mc = aud.email.copy()
    chosen = np.sort(rng.choice(on_list, MAILCHIMP_CASE, replace=False))
    for m in chosen.tolist():
        mc[m] = _variant(aud.email[m], 0)
    return emails, pairs, {"emails": mc, "members": chosen}


def online(world: dict) -> dict:
    """The online orders that were not cancelled (what ad platforms and GA4 can see)."""
    o, m = world["orders"], world["money"]
    keep = ~o["store"] & ~m["cancelled"]
    return {
        "index": np.flatnonzero(keep),
        "day": o["day"][keep],
        "driver": np.array(people.DRIVERS, dtype=object)[o["driver"][keep]],
        "subtotal": m["subtotal"][keep],
        "total": m["total"][keep],
    }


def _ads(seed: int, world: dict, web: dict) -> dict:
    media, days = world["media"], world["cal"]["days"]
    rng = stream(seed, "ad_reports")
    g_over = ads.overclaim_matrix(media["google"], ads.GOOGLE_OVERCLAIM, lambda c: c["name"])
    m_over = ads.overclaim_matrix(media["meta"], ads.META_OVERCLAIM, lambda c: c["kind"])
    g_claim = ads.claims(rng, media["google"], web, "paid_search", g_over)
    m_claim = ads.claims(rng, media["meta"], web, "paid_social", m_over)
    g_rows, g_stats = ads.google_rows(rng, media["google"], web, g_claim, days)
    m_rows, m_stats = ads.meta_rows(rng, media["meta"], web, m_claim, days, days[-1])
    return {
        "google_rows": g_rows,
        "google_totals": ads.google_totals(g_stats),
        "meta_rows": m_rows,
        "google": g_stats,
        "meta": m_stats,
        "platforms": ads.platform_truth(g_stats, m_stats, web, g_claim, m_claim),
    }


def _mailchimp(seed: int, world: dict, mc: dict) -> dict:
    aud, sends = world["aud"], world["sends"]
    days = world["cal"]["days"]
    email_mod.report_numbers(stream(seed, "mailchimp_report"), sends)
    o, m = world["orders"], world["money"]
    lo, hi = world["subscribed"]
    keep = ~m["cancelled"]
    email_mod.attribute(
        sends,
        {
            "cust": o["cust"][keep],
            "day": o["day"][keep],
            "subtotal": m["subtotal"][keep],
            "total": m["total"][keep],
        },
        lambda c, d: (lo[c] <= d) & (d <= hi[c]),
    )
    why = email_mod.reasons(stream(seed, "unsub_reasons"), aud, days[0])
    cols = mailchimp.member_columns(stream(seed, "members"), aud, mc["emails"], days[-1] + 1)
    sub_rows, unsub_rows = mailchimp.audience_rows(cols, aud, sends, why)
    return {
        "subscribed": sub_rows,
        "unsubscribed": unsub_rows,
        "campaigns": mailchimp.campaign_rows(sends),
    }


def _ga4(seed: int, world: dict, web: dict, ad: dict, scale: float) -> dict:
    rng = stream(seed, "ga4")
    n = len(world["cal"]["days"])
    paid = {
        "Paid Search": sum(s["clicks"] for s in ad["google"]),
        "Paid Social": sum(s["link_clicks"] for s in ad["meta"]),
    }
    sess = ga4.sessions(rng, world["cal"], paid, world["sends"], scale)
    credited = ga4.purchase_channels(rng, web["driver"])
    rows, totals = ga4.table(rng, world["cal"]["days"], sess, web, credited)
    assert len(sess["Email"]) == n
    return {"rows": rows, "totals": totals}


def build(world: dict, seed: int, scale: float) -> tuple[dict[str, str], dict]:
    """The text of every export file, and the truth."""
    days = world["cal"]["days"]
    emails, pairs, mc = case_variants(stream(seed, "case_variants"), world)
    shop_rows, names = shopify.rows(stream(seed, "shopify"), world, emails)
    web = online(world)
    ad = _ads(seed, world, web)
    mail = _mailchimp(seed, world, mc)
    traffic = _ga4(seed, world, web, ad, scale)
    period = f'"{_long_date(days[0])} - {_long_date(days[-1])}"'
    texts = {
        FILES["shopify"]: render(shopify.HEADER, shop_rows, bom=True),
        FILES["meta"]: render(ads.META_HEADER, ad["meta_rows"]),
        FILES["google"]: render(
            ads.GOOGLE_HEADER,
            ad["google_rows"],
            after=ad["google_totals"],
            before=["Campaign report", period],
        ),
        FILES["subscribed"]: render(mailchimp.COMMON, mail["subscribed"]),
        FILES["unsubscribed"]: render(
            mailchimp.COMMON + "," + mailchimp.UNSUB_EXTRA, mail["unsubscribed"]
        ),
        FILES["campaigns"]: render(mailchimp.CAMPAIGNS_HEADER, mail["campaigns"]),
        FILES["ga4"]: render(ga4.HEADER, traffic["rows"], before=ga4.preamble(days)),
    }
    parts = {
        "names": names,
        "emails": emails,
        "pairs": pairs,
        "mc": mc,
        "web": web,
        "ads": ad,
        "mail": mail,
        "ga4": traffic,
    }
    return texts, parts


def _long_date(day: np.datetime64) -> str:
    import datetime as dt

    d = day.astype(dt.date)
    return f"{d.strftime('%B')} {d.day}, {d.year}"


def write(out_dir: Path, world: dict, seed: int, scale: float) -> Path:
    """Write exports, truth.json and business.yaml into ``out_dir``."""
    texts, parts = build(world, seed, scale)
    for rel, text in texts.items():
        write_text(out_dir / rel, text)
    truth = truth_mod.assemble(world, parts, seed, scale, FILES)
    write_json(out_dir / "truth.json", truth)
    write_text(out_dir / "business.yaml", yaml_text(world))
    return out_dir


DATA = {
    "orders": {"path": FILES["shopify"], "format": "shopify_orders"},
    "order_items": {"path": FILES["shopify"], "format": "shopify_orders"},
    "customers": [
        {"path": FILES["subscribed"], "format": "mailchimp_audience"},
        {"path": FILES["unsubscribed"]},
        {"path": FILES["shopify"], "format": "shopify_orders"},
    ],
    "marketing_spend": [
        {"path": FILES["meta"], "format": "meta_ads"},
        {"path": FILES["google"]},
    ],
    "campaigns": {"path": FILES["campaigns"], "format": "mailchimp_campaigns"},
    "web_traffic": {"path": FILES["ga4"], "format": "ga4_traffic"},
}
# A campaign overlay: `workbook run sample_data/summit_outdoor --campaign spring_gear`.
SPRING_CAMPAIGN = """\
  spring_gear:                 # the March-June push on tents, packs and climbing gear
    objectives:
      - type: grow_sales
        target_change: 0.15
        deadline: 2027-06-30
        note: tents, packs and climbing for the spring season
    budget:
      monthly: 7500
      by_channel: {email: 600, paid_search: 3300, paid_social: 2800, social: 800}
"""
FIXED_BUDGET = {"email": 600, "social": 700}  # Mailchimp plan and content help; no spend file


def yaml_text(world: dict) -> str:
    """Summit Outdoor's business.yaml; paid budgets from the last three months of spend."""
    days, spend = world["cal"]["days"], world["media"]["spend"]
    last = days >= np.datetime64("2026-07-01")
    months = len(np.unique(days[last].astype("datetime64[M]")))
    paid = {ch: round(float(spend[ch][last].sum()) / months / 10) * 10 for ch in media_mod.MEDIA}
    by_channel = {
        "email": FIXED_BUDGET["email"],
        "paid_search": paid["paid_search"],
        "paid_social": paid["paid_social"],
        "social": FIXED_BUDGET["social"],
    }
    return _business_yaml.render(
        use_cases=[
            "customer_segments", "purchase_propensity", "churn_prediction",
            "customer_lifetime_value", "sales_forecast", "product_recommendations",
            "budget_reallocation", "personalised_offers", "performance_monitoring",
            "channel_attribution",
        ],
        ai_costs={"setup_hours": 30, "hours_per_month": 6, "hourly_rate": 45},
        privacy={"retention_months": 36, "region": "ca"},
        sample="summit_outdoor",
        about="Sample business: Summit Outdoor Supply, an outdoor-gear shop in Vancouver "
        "(Shopify online and in store); its data are native platform exports.",
        business={
            "name": "Summit Outdoor Supply",
            "industry": "retail_ecommerce",
            "currency": "CAD",
            "timezone": "America/Vancouver",
            "locale": "en_CA",
            "as_of": str(days[-1]),
        },
        objectives=[
            {"type": "grow_sales", "kpi": None, "target_change": 0.10, "deadline": "2027-06-30"},
            {
                "type": "retention",
                "kpi": "repeat_rate",
                "target_change": 0.05,
                "deadline": "2027-03-31",
            },
        ],
        monthly=sum(by_channel.values()),
        by_channel=by_channel,
        channels=["email", "paid_search", "paid_social", "social"],
        tools=["shopify", "mailchimp", "meta_ads", "google_ads", "ga4"],
        campaigns=SPRING_CAMPAIGN,
        data=DATA,
    )
