"""Harbor Coffee's win-back holdout test (experiment ``winback_2026_q2``).

Planted truth: on the exposure day, every opted-in customer whose last order is 60 to 730 days old
is randomised, 80 % to treatment (the win-back e-mail with a 15 % code) and 20 % to control (no
e-mail). Within the next 30 days a treated customer orders with probability ``RATE_TREATMENT``, a
control customer with ``RATE_CONTROL``; their usual behaviour is paused for those 30 days so the
rates are exactly the planted ones. ``converted`` and ``revenue`` in experiments.csv are read from
orders.csv (orders placed within 30 days of exposure).
"""

from __future__ import annotations

import numpy as np

from helpers.samples import harbor_coffee_catalog as catalog
from helpers.samples._common import fmt_bool, fmt_datetime, fmt_money
from helpers.samples.harbor_coffee_sim import WINBACK_CODE

EXPERIMENT_ID = "winback_2026_q2"
EXPOSED = "2026-04-07 10:00:00"
TREATMENT_SHARE = 0.80
RATE_CONTROL, RATE_TREATMENT = 0.06, 0.11
WINDOW_DAYS = 30
LAPSED_DAYS = (60, 730)


def hook(rng: np.random.Generator, cust, ctx: dict, result: dict):
    """A simulation hook that randomises the lapsed customers and books their conversions."""

    def start(t, state, frozen_until, out):
        lapsed = t - state.last
        eligible = (
            (state.n >= 1)
            & (lapsed >= LAPSED_DAYS[0])
            & (lapsed <= LAPSED_DAYS[1])
            & cust.consent_email
            & (cust.unsub_day > t)
            & (cust.signup_day < t)
        )
        units = np.flatnonzero(eligible)
        treat = rng.random(len(units)) < TREATMENT_SHARE
        converted = rng.random(len(units)) < np.where(treat, RATE_TREATMENT, RATE_CONTROL)
        # treated customers answer the e-mail early; control customers come back any time
        early = np.minimum(1 + rng.geometric(0.2, size=len(units)), WINDOW_DAYS - 1)
        offset = np.where(treat, early, rng.integers(1, WINDOW_DAYS, size=len(units)))
        frozen_until[units] = t + WINDOW_DAYS - 1
        for u, tr, off in zip(units[converted], treat[converted], offset[converted], strict=True):
            rate = np.array([WINBACK_CODE if tr else 0.0])
            ctx["forced"].setdefault(t + int(off), []).append((np.array([u]), rate))
            ctx["forced_source"][(t + int(off), int(u))] = "treatment" if tr else "control"
        result.update(day=t, units=units, treat=treat, converted=converted)

    return start


def table(result: dict, ids: np.ndarray, orders, exposed: np.datetime64) -> dict[str, np.ndarray]:
    """experiments.csv rows: one per unit, with conversion and revenue read from the orders."""
    units = result["units"]
    end = exposed + np.timedelta64(WINDOW_DAYS, "D")
    in_window = (orders.when >= exposed) & (orders.when < end) & (orders.kind != "refund")
    revenue = np.bincount(
        orders.cust[in_window], weights=orders.revenue[in_window], minlength=len(ids)
    )
    bought = np.bincount(orders.cust[in_window], minlength=len(ids)) > 0
    order = np.argsort(ids[units], kind="stable")
    u = units[order]
    return {
        "experiment_id": np.full(len(u), EXPERIMENT_ID, dtype=object),
        "unit_id": ids[u],
        "variant": np.where(result["treat"][order], "treatment", "control").astype(object),
        "exposed_at": fmt_datetime(np.full(len(u), exposed)),
        "converted": fmt_bool(bought[u]),
        "revenue": fmt_money(revenue[u]),
    }


def truth(result: dict, rows: dict) -> dict:
    """The holdout section of truth.json: design, true rates and what the files show."""
    basket = catalog.expected_online_basket(False)
    conv = rows["converted"] == "true"
    treat = rows["variant"] == "treatment"
    rev = rows["revenue"].astype(float)
    observed = {
        v: {
            "units": int(m.sum()),
            "conversion_rate": round(float(conv[m].mean()), 4),
            "revenue_per_unit": round(float(rev[m].mean()), 3),
        }
        for v, m in (("treatment", treat), ("control", ~treat))
    }
    rpu_t = RATE_TREATMENT * basket * (1 - WINBACK_CODE)
    rpu_c = RATE_CONTROL * basket
    return {
        "experiment_id": EXPERIMENT_ID,
        "unit": "customer_id",
        "exposed_at": EXPOSED,
        "design": f"opted-in customers whose last order was {LAPSED_DAYS[0]}-{LAPSED_DAYS[1]} days "
        f"before exposure; {TREATMENT_SHARE:.0%} treatment (win-back e-mail, 15% code), rest control",
        "window_days": WINDOW_DAYS,
        "true_conversion_rate": {"treatment": RATE_TREATMENT, "control": RATE_CONTROL},
        "true_incremental_conversion_rate": round(RATE_TREATMENT - RATE_CONTROL, 4),
        "true_relative_lift": round(RATE_TREATMENT / RATE_CONTROL - 1, 4),
        "expected_revenue_per_unit": {"treatment": round(rpu_t, 3), "control": round(rpu_c, 3)},
        "true_incremental_revenue_per_unit": round(rpu_t - rpu_c, 3),
        "observed": observed,
        "observed_incremental_conversion_rate": round(
            observed["treatment"]["conversion_rate"] - observed["control"]["conversion_rate"], 4
        ),
        "what_to_find": "a positive incremental conversion rate near the true one; the 95 % "
        "interval of the difference should contain it and exclude zero only narrowly",
    }
