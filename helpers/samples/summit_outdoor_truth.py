"""Assemble Summit Outdoor's truth.json: what a correct reading of the exports must find.

Counts and totals are computed from the same values the files were written from, with the
definitions stated next to them, so a test (or an analyst) can recompute each from the raw files.
"""

from __future__ import annotations

import numpy as np

from helpers.samples import summit_outdoor_email as email_mod
from helpers.samples import summit_outdoor_media as media_mod
from helpers.samples import summit_outdoor_people as people
from helpers.samples import summit_outdoor_shopify as shopify
from helpers.samples import summit_outdoor_sim as sim_mod

ORDER_LEVEL = [
    c
    for c in shopify.COLUMNS
    if c
    not in (
        "Name",
        "Lineitem quantity",
        "Lineitem name",
        "Lineitem price",
        "Lineitem compare at price",
        "Lineitem sku",
        "Lineitem requires shipping",
        "Lineitem taxable",
        "Lineitem fulfillment status",
        "Vendor",
        "Lineitem discount",
    )
]


def cad(x) -> str:
    """A money total as text with two decimals: truth.json keeps every cent of it (plain numbers
    there are rounded to six significant digits)."""
    return f"{round(float(np.sum(x)), 2):.2f}"


def shopifycad(world: dict, names: np.ndarray) -> dict:
    """Cancellations, refunds, totals, discounts and the monthly series of the Shopify export."""
    o, m = world["orders"], world["money"]
    keep = ~m["cancelled"]
    net = m["total"] - m["refunded"]
    codes, code_n = np.unique(m["code"][m["code"] != ""], return_counts=True)
    months = o["date"].astype("datetime64[M]").astype(str)
    return {
        "cancelled": {
            "count": int(m["cancelled"].sum()),
            "voided": int(m["voided"].sum()),
            "refunded_in_full": int((m["cancelled"] & ~m["voided"]).sum()),
            "names": names[m["cancelled"]].tolist(),
        },
        "refunded_not_cancelled": int(m["full_refund"].sum()),
        "partially_refunded": int(m["partial_refund"].sum()),
        "refunded_amount_total": cad(m["refunded"]),
        "gross_total": cad(m["total"]),
        "net_revenue": cad(net[keep]),
        "net_revenue_definition": "sum of Total minus Refunded Amount over orders whose Cancelled "
        "at is blank (taxes and shipping included)",
        "total_not_cancelled": cad(m["total"][keep]),
        "subtotal_not_cancelled": cad(m["subtotal"][keep]),
        "discount_codes": dict(zip(codes.tolist(), code_n.tolist(), strict=True)),
        "discount_amount_total": cad(m["discount"]),
        "orders_by_month": dict(zip(*np.unique(months, return_counts=True), strict=True)),
        "net_revenue_by_month": {
            mo: cad(net[keep & (months == mo)]) for mo in np.unique(months).tolist()
        },
    }


def shopify_truth(world: dict, parts: dict) -> dict:
    """Counts, money and quirks of orders_export_1.csv."""
    o, lines = world["orders"], world["lines"]
    names, emails = parts["names"], parts["emails"]
    lower = np.char.lower(emails.astype(str))
    known = lower != ""
    e, c = np.unique(lower[known], return_counts=True)
    return {
        "orders": len(names),
        "line_items": len(lines["order"]),
        "first_order": names[0],
        "last_order": names[-1],
        "orders_by_source": {"web": int((~o["store"]).sum()), "pos": int(o["store"].sum())},
        "orders_without_email": int((~known).sum()),
        "customers": len(e),
        "customers_definition": "distinct e-mail addresses, compared in lower case",
        "customers_with_2plus_orders": int((c >= 2).sum()),
        **shopifycad(world, names),
        "case_only_duplicate_emails": [
            {
                "email": p["email"],
                "written_as": p["variant"],
                "order": names[p["row"]],
                "orders_of_customer": names[o["cust"] == p["customer"]].tolist(),
            }
            for p in parts["pairs"]
        ],
        "order_level_columns_blank_on_following_rows": ORDER_LEVEL,
        "file_starts_with_bom": True,
    }


def consent_truth(world: dict, parts: dict) -> dict:
    """Who may be e-mailed: an opt-out in either source wins."""
    aud, cust, o = world["aud"], world["cust"], world["orders"]
    shop = {}
    for e, c in zip(parts["emails"].tolist(), o["cust"].tolist(), strict=True):
        if e:
            shop[e.lower()] = bool(cust.accepts[c])
    gone = ~np.isnat(aud.unsub)
    mc = {
        e.lower(): ("unsubscribed" if g else "subscribed")
        for e, g in zip(parts["mc"]["emails"].tolist(), gone.tolist(), strict=True)
    }
    persons = sorted(set(shop) | set(mc))
    consent = {p: not (mc.get(p) == "unsubscribed" or shop.get(p) is False) for p in persons}
    a = sorted(p for p in persons if mc.get(p) == "unsubscribed" and shop.get(p) is True)
    b = sorted(p for p in persons if mc.get(p) == "subscribed" and shop.get(p) is False)
    return {
        "rule": "a person (e-mail compared in lower case) may be e-mailed only if no source says "
        "no: not in mailchimp_unsubscribed.csv and not 'Accepts Marketing = no' in Shopify",
        "persons": len(persons),
        "consent_email_true": sum(consent.values()),
        "consent_email_false": len(persons) - sum(consent.values()),
        "in_shopify": len(shop),
        "in_mailchimp": len(mc),
        "in_both": len(set(shop) & set(mc)),
        "only_in_mailchimp": len(set(mc) - set(shop)),
        "only_in_shopify": len(set(shop) - set(mc)),
        "mailchimp_subscribed": sum(v == "subscribed" for v in mc.values()),
        "mailchimp_unsubscribed": sum(v == "unsubscribed" for v in mc.values()),
        "shopify_accepts_yes": sum(shop.values()),
        "shopify_accepts_no": len(shop) - sum(shop.values()),
        "unsubscribed_in_mailchimp_but_accepts_in_shopify": a,
        "subscribed_in_mailchimp_but_not_accepting_in_shopify": b,
        "mailchimp_case_variants": [
            {"mailchimp": parts["mc"]["emails"][i], "shopify": aud.email[i]}
            for i in parts["mc"]["members"].tolist()
        ],
    }


def email_truth(world: dict, parts: dict) -> dict:
    """The planted e-mail effect next to what Mailchimp reports."""
    sends, o, m = world["sends"], world["orders"], world["money"]
    caused = (o["driver"] == people.DRIVERS.index("email")) & ~m["cancelled"]
    reported = sum(s["orders"] for s in sends)
    return {
        "campaigns": len(sends),
        "newsletters": sum(s["kind"] == "newsletter" for s in sends),
        "promos": sum(s["kind"] == "promo" for s in sends),
        "boost_by_day_after_send": {k: list(v) for k, v in email_mod.BOOST.items()},
        "form": "a subscribed customer's daily purchase probability is multiplied by 1 + boost "
        "on the send day and the two days after (the larger boost when sends overlap)",
        "expected_incremental_orders": round(world["expected_email_orders"], 1),
        "realised_incremental_orders": int(caused.sum()),
        "realised_incremental_sales": cad(m["subtotal"][caused]),
        "mailchimp_reported_orders": reported,
        "mailchimp_reported_revenue": cad(sum(s["revenue"] for s in sends)),
        "mailchimp_attribution": f"orders by a recipient within {email_mod.ATTRIBUTION_DAYS} "
        "days of the latest send (Total Revenue = Subtotal, Total Gross Sales = Total)",
        "overstatement_factor": round(reported / max(int(caused.sum()), 1), 2),
        "unsubscribes_via_campaigns": sum(s["unsubscribes"] for s in sends),
        "what_to_find": "e-mail sends lift sales for a few days, but Mailchimp's reported "
        "revenue counts every recipient's order and overstates the effect several times",
    }


def demand_truth(world: dict, spec) -> dict:
    """Seasonality and events, with realised orders by calendar month."""
    o = world["orders"]
    month = o["date"].astype("datetime64[M]").astype(int) % 12 + 1
    n_years = {
        m: len(np.unique(o["date"][month == m].astype("datetime64[Y]"))) for m in range(1, 13)
    }
    per_month = {m: round(int((month == m).sum()) / n_years[m], 1) for m in range(1, 13)}
    ranked = sorted(per_month, key=per_month.get)
    return {
        "form": "F(t) = weekly[weekday] * yearly(t) * (1 + trend) ** years * event(t)",
        "weekly_multipliers_mon_to_sun": spec.WEEKLY,
        "monthly_multipliers_jan_to_dec": spec.MONTHLY,
        "trend_per_year": spec.TREND,
        "events": [
            {"start": lo, "end": hi, "demand_multiplier": mult, "code": code, "rate": r}
            for lo, hi, mult, code, r in spec.EVENTS
        ],
        "mean_orders_per_calendar_month": {str(k): v for k, v in per_month.items()},
        "peak_months": sorted(ranked[-3:]),
        "trough_months": sorted(ranked[:2]),
        "what_to_find": "a May-June peak and a second, sharper November-December peak (Black "
        "Friday / Cyber Monday), a January-February trough, Saturday as the busiest store day",
    }


def customer_truth(world: dict) -> dict:
    cust = world["cust"]
    return {
        "store_regulars_before_export": int(cust.legacy.sum()),
        "new_customers_during_export": int((~cust.legacy).sum()),
        "repeat_rate_per_year_mean": people.REPEAT_PER_YEAR,
        "hidden_lifetime_mean_days": people.LIFETIME_DAYS,
        "local_customers_store_share": people.POS_SHARE_LOCAL,
        "walk_in_orders_per_day": sim_mod.WALK_INS,
        "note": "store regulars' earlier purchases predate Shopify, so their first order in the "
        "export is not their first purchase",
    }


def parsing_truth(parts: dict, files: dict) -> dict:
    """The rows a parser must skip or drop, file by file."""
    ga4_rows = parts["ga4"]["rows"]
    return {
        files["google"]: {
            "lines_before_header": 2,
            "total_rows": [r[0] for r in parts["ads"]["google_totals"]],
            "data_rows": len(parts["ads"]["google_rows"]),
        },
        files["ga4"]: {
            "comment_lines": 5,
            "blank_lines_before_header": 1,
            "grand_total_row": "first row under the header",
            "data_rows": len(ga4_rows) - 1,
        },
        files["meta"]: {
            "data_rows": len(parts["ads"]["meta_rows"]),
            "blank_cells": {
                "Results": "zero purchases",
                "Link clicks": "zero clicks",
                "Cost per results": "undefined (no purchases that day)",
            },
        },
        files["shopify"]: {"byte_order_mark": True},
        files["subscribed"]: {"data_rows": len(parts["mail"]["subscribed"])},
        files["unsubscribed"]: {"data_rows": len(parts["mail"]["unsubscribed"])},
        files["campaigns"]: {"data_rows": len(parts["mail"]["campaigns"])},
    }


def assemble(world: dict, parts: dict, seed: int, scale: float, files: dict) -> dict:
    """The whole truth.json."""
    from helpers.samples import summit_outdoor as spec

    o, m = world["orders"], world["money"]
    realised = {}
    for ch in media_mod.MEDIA:
        hit = (o["driver"] == people.DRIVERS.index(ch)) & ~m["cancelled"]
        realised[ch] = {"sales": float(m["subtotal"][hit].sum()), "orders": int(hit.sum())}
    web = parts["web"]
    sessions = sum(t["sessions"] for t in parts["ga4"]["totals"].values())
    return {
        "business": spec.NAME,
        "generator": "helpers.samples.summit_outdoor",
        "seed": seed,
        "scale": scale,
        "period": {"start": spec.START, "end": spec.END, "as_of": spec.END},
        "files": files,
        "money": "CAD; totals a parser must reproduce to the cent are written as text with two "
        "decimals, rates and returns as numbers",
        "shopify": shopify_truth(world, parts),
        "consent": consent_truth(world, parts),
        "email": email_truth(world, parts),
        "platform_reports": parts["ads"]["platforms"],
        "media": media_mod.media_truth(
            world["media"]["spend"], world["media"]["contrib"], scale, realised
        ),
        "web_traffic": {
            "sessions": sessions,
            "by_channel_group": parts["ga4"]["totals"],
            "online_orders_not_cancelled": len(web["day"]),
            "online_orders_per_session": round(len(web["day"]) / sessions, 4),
        },
        "demand": demand_truth(world, spec),
        "customers": customer_truth(world),
        "parsing": parsing_truth(parts, files),
    }
