"""Assemble Harbor Coffee's truth.json: every planted effect with its parameters and ids.

Each section says what was planted, with which numbers, and what a correct analysis should find;
numbers computed from the generated files (observed rates, realised totals) are labelled as such.
"""

from __future__ import annotations

import numpy as np

from helpers.samples import harbor_coffee_catalog as catalog
from helpers.samples import harbor_coffee_customers as customers_mod
from helpers.samples import harbor_coffee_email as email_mod
from helpers.samples import harbor_coffee_media as media_mod
from helpers.samples import harbor_coffee_orders as orders_mod
from helpers.samples import harbor_coffee_sim as sim_mod
from helpers.samples._common import geometric_adstock, hill


def demand(world: dict, spec) -> dict:
    """Seasonality, trend and sales calendar, with the realised totals of each Oct-Sep year."""
    orders = world["orders"]
    real = orders.kind != "refund"
    year = (orders.day - np.datetime64(spec.START)).astype(int) // 365
    labels = {y: f"{2023 + y}-10..{2024 + y}-09" for y in range(3)}
    return {
        "form": "F(t) = weekly[weekday] * yearly(t) * (1 + trend) ** years_since_2023-10-01; yearly(t) "
        "interpolates the monthly multipliers placed mid-month",
        "weekly_multipliers_mon_to_sun": spec.WEEKLY,
        "monthly_multipliers_jan_to_dec": spec.MONTHLY,
        "trend_per_year": spec.TREND,
        "cafe_share_weekday_tilt_mon_to_sun": list(sim_mod.CAFE_DOW),
        "sale_days": [{"start": lo, "end": hi, "discount_rate": r} for lo, hi, r in spec.SALES],
        "realised_orders_by_year": {
            label: int(((year == y) & real).sum()) for y, label in labels.items()
        },
        "realised_revenue_by_year": {
            label: round(float(orders.revenue[year == y].sum()), 2) for y, label in labels.items()
        },
        "what_to_find": "a December peak (about 1.4-1.5x an average month), a January/February and "
        "high-summer lull, Saturday as the busiest day, and a rising trend: the planted 4 % a year in "
        "demand, compounded by repeat buying and the growing paid budget into the realised growth "
        "above (faster in revenue than in orders, as online baskets replace cafe tickets)",
    }


def media(world: dict, scale: float) -> dict:
    """The media section, with returns also computed on the actual last-13-weeks spend pattern."""
    spend, contrib = world["media"]["spend"], world["media"]["contrib"]
    out = media_mod.media_truth(
        spend, contrib, scale, orders_mod.realised_media_revenue(world["orders"])
    )
    for ch, p in media_mod.params(scale).items():

        def total(x, p=p):
            ad = geometric_adstock(x, p["decay"])
            return float((p["beta"] * hill(ad, p["half_saturation"], p["shape"]))[-91:].sum())

        x = spend[ch]
        bumped = x.copy()
        bumped[-91:] *= 1.01
        base = x[-91:].sum()
        out["channels"][ch]["pattern_average_roas"] = round(total(x) / base, 3)
        out["channels"][ch]["pattern_marginal_roas"] = round(
            (total(bumped) - total(x)) / (0.01 * base), 3
        )
    out["pattern_definition"] = (
        "the same returns computed on the actual daily spend of the last 13 "
        "weeks (flights, send days): 1 % more spend on every day of those weeks"
    )
    out["what_to_find"] = (
        "paid_social earns well over $1 per extra dollar (raise it), paid_search well under $1 "
        "(cap or cut it); last-click tagging and Google's own numbers overstate paid search, while "
        "paid social does more than its tagged orders show; e-mail and organic social are small "
        "effects against daily noise, so expect wide intervals for them"
    )
    return out


def propensity() -> dict:
    """The purchase-propensity section."""
    return {
        "model": "P(buy on day t) = sigmoid(eta) * F(t) (+ media orders handed out in proportion to "
        "sigmoid(eta)); eta = intercept + b_recency*recency_months + b_frequency*ln(1 + orders_365) "
        "+ b_email*email_engagement + b_discount*discount_share_365 + gamma[age_band]*sale_day",
        "coefficients": {
            "intercept": sim_mod.B0,
            "recency_months": sim_mod.B_RECENCY,
            "log1p_orders_365": sim_mod.B_FREQUENCY,
            "email_engagement": sim_mod.B_EMAIL,
            "discount_share_365": sim_mod.B_DISCOUNT,
        },
        "signs": {
            "recency_months": "negative",
            "log1p_orders_365": "positive",
            "email_engagement": "positive",
            "discount_share_365": "negative",
        },
        "features": {
            "recency_months": "(day - last order day) / 30; before any order, from signup_date",
            "log1p_orders_365": "ln(1 + orders in the previous 365 days), refund rows excluded",
            "email_engagement": "true open propensity (0 if never opted in); estimate it as the "
            "customer's open rate in email_events",
            "discount_share_365": "share of the orders of the previous 365 days with discount > 0",
            "sale_day": "1 on the site-wide sale days listed under demand.sale_days",
        },
        "hidden_lifetime": {
            "form": "each customer leaves for good after an exponential lifetime",
            "mean_days": sim_mod.LIFETIME_DAYS,
        },
        "computable_from": "2024-10-01 (orders before 2023-10-01 are not in the export)",
        "what_to_find": "a model on these features ranks buyers well above chance; recency negative "
        "(somewhat more negative than planted, because customers who left look like lapsed ones), "
        "frequency and e-mail engagement positive, discount share negative",
    }


def discount_sensitivity(world: dict) -> dict:
    """The segment discount-sensitivity section."""
    gamma = dict(zip(customers_mod.AGE_BANDS, sim_mod.GAMMA, strict=True))
    return {
        "segment": "age_band",
        "form": "on sale days the purchase log-odds rise by gamma[age_band]",
        "gamma": gamma,
        "odds_multiplier": {k: round(float(np.exp(v)), 3) for k, v in gamma.items()},
        "most_sensitive": "18-24",
        "least_sensitive": "65+",
        "what_to_find": "sales lift purchases of under-35s strongly (2.5-3.5x on a sale day) and "
        "barely move the over-55s",
    }


def send_hours(cust, ids: np.ndarray) -> dict:
    """Per-customer preferred reading hour."""
    order = np.argsort(ids, kind="stable")
    return {
        "form": "when a recipient opens, opened_at's hour = preferred hour + round(Normal(0, "
        f"{email_mod.OPEN_NOISE_SD})) on the first day the hour comes after the send; "
        f"{email_mod.LATE_OPEN_SHARE:.0%} of opens come 1-3 days later, at the same hour",
        "hour_mixture": {
            "-".join(map(str, (h[0], h[-1]))): p for h, p in customers_mod.HOUR_GROUPS
        },
        "by_customer": {ids[i]: int(cust.send_hour[i]) for i in order.tolist()},
    }


def co_purchase(orders) -> dict:
    """The category co-purchase section."""
    online = np.flatnonzero(~orders.cafe & (orders.kind != "refund"))
    return {
        "form": "an online basket starts from a primary category; each other category joins with its "
        "base probability times the planted lift of the pair",
        "base_join_probability": dict(zip(catalog.ONLINE, catalog.SECONDARY.tolist(), strict=True)),
        "pairs": catalog.observed_lifts(orders.item_rows, orders.item_prod, online),
        "what_to_find": "brewing gear with whole bean and with single origin, and merch with gifts, "
        "bought together far more than chance; whole bean and ground rarely together",
    }


def consent(cust, n_days: int) -> dict:
    """Consent counts as written in customers.csv."""
    unsub = cust.consent_email & (cust.unsub_day < n_days)
    return {
        "customers": int(cust.n),
        "consent_email_false": int((~cust.consent_email | unsub).sum()),
        "never_opted_in": int((~cust.consent_email).sum()),
        "unsubscribed_via_email": int(unsub.sum()),
        "consent_ads_false": int((~cust.consent_ads).sum()),
        "share_consent_email_false": round(float((~cust.consent_email | unsub).mean()), 4),
        "share_consent_ads_false": round(float((~cust.consent_ads).mean()), 4),
    }


def attributes(cust, missing: np.ndarray) -> dict:
    """Region and age-band mix."""
    region = cust.region.copy()
    region[missing] = ""
    return {
        "region_counts": {r: int((region == r).sum()) for r in customers_mod.REGIONS},
        "region_missing": int(len(missing)),
        "age_band_counts": {
            a: int((cust.age == i).sum()) for i, a in enumerate(customers_mod.AGE_BANDS)
        },
        "note": "cafe customers all live in the Northeast; paid and organic social bring younger customers",
    }


def customer_base(cust, ids: np.ndarray, n_days: int) -> dict:
    """Who the customers are in time: joined before or during the export, and who is still around."""
    around = (cust.gone_day > n_days - 1) & (cust.signup_day <= n_days - 1)
    return {
        "joined_before_export": int(cust.legacy.sum()),
        "joined_during_export": int((~cust.legacy).sum()),
        "hidden_lifetime_mean_days": sim_mod.LIFETIME_DAYS,
        "still_around_at_as_of": int(around.sum()),
        "still_around_ids": sorted(ids[around].tolist()),
        "what_to_find": "a churn or CLV model should rank these customers as the likeliest to buy "
        "again; the others have left for good even if their last order looks recent",
    }
