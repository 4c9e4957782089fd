"""Build Harbor Coffee's files from a simulated world: faults, ids, tables, truth, business.yaml."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.samples import _business_yaml
from helpers.samples import harbor_coffee_catalog as catalog
from helpers.samples import harbor_coffee_email as email_mod
from helpers.samples import harbor_coffee_faults as faults
from helpers.samples import harbor_coffee_feedback as feedback_mod
from helpers.samples import harbor_coffee_holdout as holdout_mod
from helpers.samples import harbor_coffee_leads as leads_mod
from helpers.samples import harbor_coffee_marketing as marketing
from helpers.samples import harbor_coffee_tables as tables
from helpers.samples import harbor_coffee_truth as truth_mod
from helpers.samples import harbor_coffee_web as web_mod
from helpers.samples._common import stream, write_csv, write_json, write_parquet, write_text

TIMESTAMPS = ("sent_at", "opened_at", "clicked_at", "started_at")
PARQUET = ("email_events", "web_sessions")
TABLE_ORDER = (
    "customers",
    "orders",
    "order_items",
    "products",
    "marketing_spend",
    "campaigns",
    "email_events",
    "web_sessions",
    "leads",
    "feedback",
    "experiments",
    "social_posts",
)


def _faults(seed: int, world: dict, scale: float) -> dict:
    """Plant the data-quality faults; returns what is needed to write and record them."""
    cust, orders, days = world["cust"], world["orders"], world["cal"]["days"]
    protected = world["holdout"]["units"]
    dups = faults.add_duplicates(
        stream(seed, "duplicates"), cust, orders, protected, scale, days[0]
    )
    refund_of = faults.add_refunds(stream(seed, "refunds"), orders, protected, days[-1])
    bad = faults.pick_bad_dates(
        stream(seed, "bad_dates"), orders, protected, refund_of[refund_of >= 0]
    )
    missing = faults.pick_missing_regions(stream(seed, "regions"), cust.n)
    return {"dups": dups, "refund_of": refund_of, "bad": bad, "missing": missing}


def _fault_truth(fx: dict, world: dict, cust_ids, order_ids) -> dict:
    """The quality_faults section of truth.json (exact ids and values)."""
    cust, orders = world["cust"], world["orders"]
    refunds = np.flatnonzero(fx["refund_of"] >= 0)
    refunds = refunds[np.argsort(order_ids[refunds])]
    bad = fx["bad"][np.argsort(order_ids[fx["bad"]])]
    bad_value = dict(zip(fx["bad"].tolist(), faults.BAD_DATES, strict=True))
    return {
        "duplicate_customers": {
            "what": "a second customer record whose e-mail differs from an existing one only by letter case",
            "pairs": [
                {
                    "customer_id": cust_ids[d["original"]],
                    "duplicate_id": cust_ids[d["duplicate"]],
                    "email": cust.email[d["original"]],
                    "duplicate_email": cust.email[d["duplicate"]],
                    "orders_on_duplicate": sorted(order_ids[d["moved_rows"]].tolist()),
                }
                for d in fx["dups"]
            ],
        },
        "unparseable_order_dates": {
            "what": "order_date cells holding text that is not a date",
            "rows": [
                {
                    "order_id": order_ids[r],
                    "value": bad_value[r],
                    "true_order_date": str(orders.when[r]).replace("T", " "),
                }
                for r in bad.tolist()
            ],
        },
        "refunds": {
            "what": "refunds written as their own rows: id R..., negative revenue, refund_of = the order",
            "count": int(len(refunds)),
            "rows": {order_ids[r]: order_ids[fx["refund_of"][r]] for r in refunds.tolist()},
        },
        "missing_region": {
            "what": "customers with an empty region cell",
            "customer_ids": sorted(cust_ids[fx["missing"]].tolist()),
        },
    }


def _campaigns(world: dict) -> list[dict]:
    days = world["cal"]["days"]
    camps = (
        world["media"]["paid"]
        + marketing.email_campaigns(world["media"]["emails"], days)
        + marketing.social_campaigns(world["media"]["posts"], days)
    )
    marketing.assign_ids(camps)
    return camps


def _events(seed: int, world: dict) -> dict:
    """E-mail events, sent after the purchase history is known (sale e-mails go to recent buyers)."""
    orders, start = world["orders"], world["cal"]["start"]
    real = orders.kind != "refund"
    h = world["holdout"]
    return email_mod.build_events(
        stream(seed, "email_events"),
        world["media"]["emails"],
        world["cust"],
        (orders.day[real] - start).astype(int),
        orders.cust[real],
        h["units"][h["treat"]],
        start,
    )


def _marketing(seed: int, world: dict, camps: list[dict], events: dict, scale: float) -> dict:
    """Social posts, marketing spend and web sessions (which read the clicks of the first two)."""
    days, n_days, orders = world["cal"]["days"], len(world["cal"]["days"]), world["orders"]
    plan = world["media"]["posts"]
    posts, impressions, engagements = web_mod.posts_table(stream(seed, "posts"), plan, days, scale)
    spend, clicks = marketing.spend_table(
        stream(seed, "spend"), camps, plan, (impressions, engagements), orders, days
    )
    opened = events["click"][~np.isnat(events["click"])]
    click_days = (opened.astype("datetime64[D]") - days[0]).astype(int)
    traffic = {
        "paid": clicks,
        "email": np.bincount(click_days[click_days < n_days], minlength=n_days).astype(float),
        "social": np.bincount(plan["day"], weights=engagements, minlength=n_days),
    }
    sessions = web_mod.sessions_table(stream(seed, "web"), world, world["cust_ids"], traffic, scale)
    return {"social_posts": posts, "marketing_spend": spend, "web_sessions": sessions}


def build(world: dict, seed: int, scale: float) -> tuple[dict, dict]:
    """All tables (name -> columns) and the truth of a simulated world."""
    cust, orders, days = world["cust"], world["orders"], world["cal"]["days"]
    fx = _faults(seed, world, scale)
    cust_ids = world["cust_ids"] = tables.customer_ids(cust)
    perm, order_ids = tables.order_ids(orders)
    camps, events = _campaigns(world), _events(seed, world)
    email_ids = marketing.campaign_id_array(camps)
    experiments = holdout_mod.table(
        world["holdout"], cust_ids, orders, np.datetime64(holdout_mod.EXPOSED)
    )
    end = days[-1].astype("datetime64[s]")
    feedback, feedback_truth = feedback_mod.build(
        stream(seed, "feedback"), orders, order_ids, cust_ids, scale, end
    )
    leads, leads_truth = leads_mod.build(stream(seed, "leads"), days, scale)
    out = {
        "customers": tables.customers_table(cust, cust_ids, fx["missing"], days[0], len(days)),
        "orders": tables.orders_table(
            orders, perm, order_ids, cust_ids, fx["refund_of"], fx["bad"]
        ),
        "order_items": tables.items_table(orders, perm, order_ids),
        "products": catalog.products_table(),
        "campaigns": marketing.campaigns_table(stream(seed, "budgets"), camps),
        "email_events": marketing.email_events_columns(events, email_ids, cust_ids),
        "leads": leads,
        "feedback": feedback,
        "experiments": experiments,
        **_marketing(seed, world, camps, events, scale),
    }
    truth = {
        "feedback": feedback_truth,
        "leads": leads_truth,
        "ab_test": email_mod.ab_truth(world["media"]["emails"], events, email_ids),
        "holdout": holdout_mod.truth(world["holdout"], experiments),
        "quality_faults": _fault_truth(fx, world, cust_ids, order_ids),
        "send_hour": truth_mod.send_hours(cust, cust_ids),
        "co_purchase": truth_mod.co_purchase(orders),
        "consent": truth_mod.consent(cust, len(days)),
        "customer_base": truth_mod.customer_base(cust, cust_ids, len(days)),
        "attributes": truth_mod.attributes(cust, fx["missing"]),
        "social_posts": web_mod.posts_truth(),
    }
    return {name: out[name] for name in TABLE_ORDER}, truth


def write(out_dir: Path, tables_: dict, truth: dict, yaml_text: str) -> Path:
    """Write data files, truth.json and business.yaml into ``out_dir``."""
    data = out_dir / "data"
    for name, columns in tables_.items():
        if name in PARQUET:
            write_parquet(data / f"{name}.parquet", columns, timestamps=TIMESTAMPS)
        else:
            write_csv(data / f"{name}.csv", columns)
    write_json(out_dir / "truth.json", truth)
    write_text(out_dir / "business.yaml", yaml_text)
    return out_dir


def data_paths(tables_: dict) -> dict[str, str]:
    """business.yaml ``data:`` entries for the tables written."""
    return {t: f"data/{t}.{'parquet' if t in PARQUET else 'csv'}" for t in tables_}


# A campaign overlay: `workbook run sample_data/harbor_coffee --campaign holiday_gifting`.
HOLIDAY_CAMPAIGN = """\
  holiday_gifting:             # the November-December push on gift sets and subscriptions
    objectives:
      - type: grow_sales
        target_change: 0.20
        deadline: 2026-12-31
        note: gift sets and coffee subscriptions
    budget:
      monthly: 4200
      by_channel: {email: 500, paid_search: 1700, paid_social: 1500, social: 500}
"""


def yaml_text(tables_: dict, spend: dict, days: np.ndarray) -> str:
    """Harbor Coffee's business.yaml, budget from the last three months of spend."""
    last = days >= np.datetime64("2026-07-01")
    months = len(np.unique(days[last].astype("datetime64[M]")))
    by_channel = {
        ch: round(float(spend[ch][last].sum()) / months / 10) * 10
        for ch in ("email", "paid_search", "paid_social", "social")
    }
    return _business_yaml.render(
        use_cases=[
            "customer_segments", "purchase_propensity", "churn_prediction",
            "customer_lifetime_value", "sales_forecast", "product_recommendations",
            "email_personalisation", "send_time_optimisation", "automated_flows",
            "budget_reallocation", "personalised_offers", "social_posting_schedule",
            "social_trend_detection", "lookalike_audiences", "performance_monitoring",
            "subject_line_testing", "experiment_readout", "feedback_sentiment",
            "channel_attribution",
        ],
        ai_costs={"setup_hours": 40, "hours_per_month": 6, "hourly_rate": 35},
        privacy={"retention_months": 36, "region": "us"},
        sample="harbor_coffee",
        about="Sample business: Harbor Coffee Roasters, a coffee roaster with an online shop and one cafe.",
        business={
            "name": "Harbor Coffee Roasters",
            "industry": "food_beverage",
            "currency": "USD",
            "timezone": "America/New_York",
            "locale": "en_US",
            "as_of": "2026-09-30",
        },
        objectives=[
            {"type": "grow_sales", "kpi": None, "target_change": 0.12, "deadline": "2027-06-30"},
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
        tools=["shopify", "mailchimp", "google_ads", "meta_ads", "ga4"],
        campaigns=HOLIDAY_CAMPAIGN,
        data=data_paths(tables_),
    )
