"""Step 06: what the models learn from, computed as of a cutoff date, and what they predict.

Every customer feature is computed from rows dated strictly before the cutoff (orders, e-mails
sent and opened, sign-ups); labels come from the window that starts at the cutoff. A feature table
records its cutoff and the latest date it used (``frame.attrs``), and ``assert_no_leakage`` refuses
a table that used anything from the cutoff on, so a model is never tested on what it could not
have known. Lead features are a lead's own columns as written when it came in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from helpers.errors import LeakageError
from helpers.explore import known
from helpers.plan import PII_NAME
from helpers.prepare import IS_REFUND, NET_REVENUE
from helpers.segments import rfm_score

CUSTOMER_ID, ORDER_DATE, REVENUE, DISCOUNT = known(
    "orders", "customer_id", "order_date", "revenue", "discount")
SIGNUP_DATE, REGION, AGE_BAND, ACQUISITION = known(
    "customers", "signup_date", "region", "age_band", "acquisition_channel")
SENT_AT, OPENED_AT = known("email_events", "sent_at", "opened_at")
LEAD_ID, CREATED_AT, CONVERTED, CONVERTED_AT, VALUE = known(
    "leads", "lead_id", "created_at", "converted", "converted_at", "value")
DAY, YEAR = pd.Timedelta(days=1), pd.Timedelta(days=365)
# Numeric features the models use (frequency_365 is shown, its log is modelled: the two together
# would split one effect between two coefficients).
NUMERIC = ("recency_days", "log1p_orders_365", "monetary_365", "tenure_days", "avg_gap_days",
           "discount_share_365", "email_open_rate", "emails_received")
CATEGORICAL = (REGION, AGE_BAND, ACQUISITION)
LABELS = {  # names for people
    "recency_days": "days since the last purchase",
    "frequency_365": "purchases in the last year",
    "log1p_orders_365": "purchases in the last year",
    "monetary_365": "net spend in the last year",
    "tenure_days": "days since first seen",
    "avg_gap_days": "days between purchases",
    "discount_share_365": "share of purchases with a discount",
    "email_open_rate": "e-mail open rate",
    "emails_received": "e-mails received",
    ACQUISITION: "acquisition channel",
    AGE_BAND: "age band",
}
# Lead columns that are outcomes, or could be written after the lead came in: never features.
LEAD_OUTCOME = (CONVERTED, CONVERTED_AT, VALUE, CUSTOMER_ID)
LEAD_LATER = r"(^|_)(convert\w*|status|stage|won|lost|closed?|outcome|deal\w*|revenue)($|_)"
TRUE_WORDS = {"true": 1.0, "yes": 1.0, "y": 1.0, "t": 1.0, "1": 1.0,
              "false": 0.0, "no": 0.0, "n": 0.0, "f": 0.0, "0": 0.0}


def label(feature: str) -> str:
    """A feature's name for people: 'days since the last purchase' for recency_days."""
    return LABELS.get(feature, feature.replace("_", " "))


# ---- the leakage guard -----------------------------------------------------------------------
def assert_no_leakage(frame_or_inputs, cutoff) -> None:
    """Raise LeakageError when features used anything dated on or after ``cutoff``.

    ``frame_or_inputs`` is a feature table (its ``attrs`` hold ``latest_input`` and
    ``latest_input_column``, as ``customer_features`` writes them) or a mapping
    ``{"table.column": dates}`` of the date columns a feature function read.

    >>> assert_no_leakage({"orders.order_date": pd.Series(pd.to_datetime(["2025-01-01"]))},
    ...                   "2025-02-01")
    """
    cutoff = pd.Timestamp(cutoff)
    if isinstance(frame_or_inputs, pd.DataFrame):
        attrs = frame_or_inputs.attrs
        if "latest_input" not in attrs:
            raise LeakageError("this feature table does not record the dates it used "
                               "(attrs['latest_input']): build it with "
                               "helpers.features.customer_features, which checks them.")
        inputs = {attrs.get("latest_input_column", "features"):
                  pd.Series([attrs["latest_input"]], dtype="datetime64[ns]")}
    else:
        inputs = frame_or_inputs
    for column, dates in inputs.items():
        dates = pd.to_datetime(pd.Series(dates)).dropna()
        late = dates[dates >= cutoff]
        if len(late):
            raise LeakageError(
                f"{column}: features for the cutoff {cutoff:%Y-%m-%d} use {len(late):,} value(s) "
                f"dated on or after it (up to {late.max():%Y-%m-%d}). A model tested this way "
                f"looks better than it can be in use: keep only rows with {column.split('.')[-1]}"
                f" before {cutoff:%Y-%m-%d} when computing the features.")


def _latest(inputs: Mapping[str, pd.Series]) -> tuple[str, pd.Timestamp]:
    found = {k: pd.to_datetime(v).max() for k, v in inputs.items() if len(v)}
    found = {k: v for k, v in found.items() if pd.notna(v)}
    if not found:
        return "none", pd.Timestamp.min
    column = max(found, key=found.get)
    return column, found[column]


# ---- customer features -----------------------------------------------------------------------
def _order_features(orders: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    buys = orders[~orders[IS_REFUND]] if IS_REFUND in orders else orders[orders[REVENUE] >= 0]
    year = buys[buys[ORDER_DATE] >= cutoff - YEAR]
    days = buys[ORDER_DATE].dt.normalize().groupby(buys[CUSTOMER_ID])
    money = orders[NET_REVENUE] if NET_REVENUE in orders else orders[REVENUE]
    recent = orders[ORDER_DATE] >= cutoff - YEAR
    out = pd.DataFrame({"first_order": orders.groupby(CUSTOMER_ID)[ORDER_DATE].min(),
                        "last_order": days.max(), "order_days": days.nunique()})
    out["frequency_365"] = year.groupby(CUSTOMER_ID).size().reindex(out.index, fill_value=0)
    out["monetary_365"] = money[recent].groupby(orders.loc[recent, CUSTOMER_ID]).sum().reindex(
        out.index, fill_value=0.0)
    out["avg_gap_days"] = ((out.last_order - days.min()).dt.days / (out.order_days - 1)).where(
        out.order_days > 1)
    if DISCOUNT in orders:
        discounted = year[DISCOUNT].fillna(0).gt(0).groupby(year[CUSTOMER_ID]).mean()
        out["discount_share_365"] = discounted.reindex(out.index).fillna(0.0)
    return out


def _email_features(events: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    """emails_received and email_open_rate (an open on or after the cutoff is not known yet) per
    customer from e-mails sent before the cutoff, and the date columns read."""
    e = events[events[SENT_AT].lt(cutoff) & events[CUSTOMER_ID].notna()]
    out = e.groupby(CUSTOMER_ID).size().to_frame("emails_received")
    used = {"email_events.sent_at": e[SENT_AT]}
    if OPENED_AT in e:
        opened = e[OPENED_AT].lt(cutoff)
        out["email_open_rate"] = opened.groupby(e[CUSTOMER_ID]).mean()
        used["email_events.opened_at"] = e[OPENED_AT].where(opened)
    return out, used


def customer_features(orders: pd.DataFrame, *, cutoff, customers: pd.DataFrame | None = None,
                      email_events: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per customer known before ``cutoff`` (signed up, or ordered), indexed by
    customer_id, from rows dated strictly before it.

    Columns: recency_days (since the last purchase, or the sign-up for a customer who never
    bought), frequency_365 (purchases in the 365 days before, refunds left out),
    log1p_orders_365, monetary_365 (net revenue), tenure_days (since first seen), avg_gap_days
    (between purchase days; blank with fewer than two), discount_share_365 (share of those
    purchases with a discount), email_open_rate and emails_received (with e-mail events: opens
    count only when made before the cutoff), and region, age_band, acquisition_channel when the
    customers table has them. ``attrs`` records the cutoff and the latest date used.
    """
    cutoff = pd.Timestamp(cutoff)
    o = orders[orders[ORDER_DATE].lt(cutoff) & orders[CUSTOMER_ID].notna()]
    used = {"orders.order_date": o[ORDER_DATE]}
    f = _order_features(o, cutoff)
    seen = f.first_order
    if customers is not None and SIGNUP_DATE in customers:
        c = customers[customers[SIGNUP_DATE].lt(cutoff)].drop_duplicates(CUSTOMER_ID)
        used["customers.signup_date"] = c[SIGNUP_DATE]
        signup = c.set_index(CUSTOMER_ID)[SIGNUP_DATE]
        f = f.reindex(f.index.union(signup.index))
        seen = pd.concat([f.first_order, signup.reindex(f.index)], axis=1).min(axis=1)
    last = f.last_order.fillna(seen).dt.normalize()
    f["recency_days"] = (cutoff.normalize() - last).dt.days.astype(float)
    f["frequency_365"] = f.frequency_365.fillna(0).astype(int)
    f["log1p_orders_365"] = np.log1p(f.frequency_365)
    f["monetary_365"] = f.monetary_365.fillna(0.0)
    f["tenure_days"] = (cutoff.normalize() - seen.dt.normalize()).dt.days.astype(float)
    if "discount_share_365" in f:
        f["discount_share_365"] = f.discount_share_365.fillna(0.0)
    if email_events is not None:
        emails, read = _email_features(email_events, cutoff)
        f, used = f.join(emails), used | read
        f["emails_received"] = f.emails_received.fillna(0).astype(int)
        if "email_open_rate" in f:
            f["email_open_rate"] = f.email_open_rate.fillna(0.0)
    if customers is not None:
        attrs = [c for c in CATEGORICAL if c in customers]
        f = f.join(customers.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID)[attrs])
    assert_no_leakage(used, cutoff)
    shown = ["recency_days", "frequency_365", *NUMERIC, *CATEGORICAL]
    f = f[list(dict.fromkeys(c for c in shown if c in f))].rename_axis(CUSTOMER_ID)
    f.attrs["latest_input_column"], f.attrs["latest_input"] = _latest(used)
    f.attrs["cutoff"] = cutoff
    return f


# ---- labels ----------------------------------------------------------------------------------
def _buyers(orders: pd.DataFrame, start: pd.Timestamp, days: int) -> pd.Index:
    o = orders[orders[ORDER_DATE].ge(start) & orders[ORDER_DATE].lt(start + days * DAY)]
    o = o[~o[IS_REFUND]] if IS_REFUND in o else o[o[REVENUE] >= 0]
    return pd.Index(o[CUSTOMER_ID].dropna().unique())


def purchase_labels(orders: pd.DataFrame, *, cutoff, horizon_days: int,
                    index: pd.Index | None = None) -> pd.Series:
    """1 for a customer who buys in [cutoff, cutoff + horizon_days), else 0 (refunds are not
    purchases); over ``index`` (e.g. a feature table's) or every customer in ``orders``."""
    buyers = _buyers(orders, pd.Timestamp(cutoff), horizon_days)
    index = pd.Index(orders[CUSTOMER_ID].dropna().unique()) if index is None else index
    return pd.Series(index.isin(buyers).astype(int), index=index, name="label")


def churn_labels(orders: pd.DataFrame, *, cutoff, window_days: int) -> pd.Series:
    """Among customers active at ``cutoff`` (a purchase in the 365 days before it): 1 for those
    with no purchase in [cutoff, cutoff + window_days), 0 for those who bought again."""
    cutoff = pd.Timestamp(cutoff)
    before = _buyers(orders, cutoff - YEAR, 365)
    return pd.Series((~before.isin(_buyers(orders, cutoff, window_days))).astype(int),
                     index=before.rename(CUSTOMER_ID), name="label")


def churn_window(orders: pd.DataFrame, *, quantile: float = 0.9, cap_days: int = 180
                 ) -> tuple[int, dict]:
    """The churn window from your own buying rhythm: the ``quantile`` of the days between one
    purchase day and a customer's next, rounded up to whole 30 days, at least 30 and at most
    ``cap_days`` (two windows must fit in your history). Returns (days, the numbers behind it)."""
    buys = orders[~orders[IS_REFUND]] if IS_REFUND in orders else orders[orders[REVENUE] >= 0]
    visits = pd.DataFrame({"c": buys[CUSTOMER_ID], "d": buys[ORDER_DATE].dt.normalize()})
    visits = visits.dropna().drop_duplicates().sort_values(["c", "d"])
    gaps = visits.groupby("c").d.diff().dt.days.dropna()
    if gaps.empty:
        return 90, {"gaps": 0, "quantile": quantile, "gap_days": None, "capped": False}
    gap = float(gaps.quantile(quantile))
    days = max(30, 30 * math.ceil(gap / 30))
    return min(days, cap_days), {"gaps": int(len(gaps)), "quantile": quantile, "gap_days": gap,
                                 "capped": days > cap_days}


def rfm_baseline(features: pd.DataFrame) -> pd.Series:
    """The simple rule a model must beat: rank customers by recency, then frequency, then
    spend (each a 1-5 quintile score, as in step 02's segments); higher = more likely to buy."""
    r = rfm_score(-features["recency_days"])
    f = rfm_score(features["frequency_365"])
    m = rfm_score(features["monetary_365"])
    return (100 * r + 10 * f + m).rename("baseline")


def model_inputs(X: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """A feature table as a model takes it: numbers as floats, categories as text with 'unknown'
    for blanks; and the names of the numeric and the categorical columns."""
    numeric = [c for c in X if pd.api.types.is_numeric_dtype(X[c])]
    categorical = [c for c in X if c not in numeric]
    X = X.astype({c: float for c in numeric})
    for c in categorical:
        X[c] = X[c].astype(object).where(X[c].notna(), "unknown").astype(str)
    return X, numeric, categorical


# ---- leads -----------------------------------------------------------------------------------
def _as_feature(col: pd.Series, n: int) -> tuple[pd.Series | None, str]:
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        return col.astype(float), "number"
    text = col.astype("string").str.strip().str.lower()
    filled = text.dropna()
    if len(filled) and filled.isin(list(TRUE_WORDS)).all():
        return text.map(TRUE_WORDS).astype(float), "yes/no"
    numbers = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    if len(filled) and numbers.notna().sum() >= 0.9 * len(filled):
        return numbers.astype(float), "number"
    if filled.nunique() <= max(2, min(30, n // 5)):
        return col.astype("string").str.strip().astype(object), "category"
    return None, "free text: too many different values to learn from"


def lead_features(leads: pd.DataFrame) -> pd.DataFrame:
    """The leads' own columns as model features, indexed by lead_id: yes/no text to 1/0, numbers
    as numbers, few-valued text as categories. Left out (and listed in ``attrs['left_out']``):
    the outcome (converted, converted_at, value, customer_id), columns named like a later stage
    (status, stage, won...), dates, personal data (names, e-mail, phone) and free text."""
    frame, left_out = {}, {}
    for name in leads.columns:
        if name in (LEAD_ID, CREATED_AT) or name.startswith("_"):
            continue
        if name in LEAD_OUTCOME or re.search(LEAD_LATER, name, re.IGNORECASE):
            left_out[name] = "outcome, or known only later"
        elif PII_NAME.search(name):
            left_out[name] = "personal data"
        elif pd.api.types.is_datetime64_any_dtype(leads[name]):
            left_out[name] = "a date"
        else:
            values, kind = _as_feature(leads[name], len(leads))
            if values is None:
                left_out[name] = kind
            else:
                frame[name] = values
    out = pd.DataFrame(frame, index=leads.index).set_axis(leads[LEAD_ID].astype(str))
    out.attrs["left_out"] = left_out
    return out


def lead_outcomes(leads: pd.DataFrame, *, as_of, quantile: float = 0.95) -> tuple[pd.Series, int]:
    """Each lead's outcome (1 converted, 0 not, missing while it could still convert) and the
    days a lead is given to convert: the ``quantile`` of converted leads' days to convert,
    rounded up to whole weeks (30 days when converted_at is absent). A lead younger than that
    and not converted yet is undecided, not a negative."""
    converted = leads[CONVERTED].astype("boolean").fillna(False)
    days = 30
    if CONVERTED_AT in leads and converted.any():
        took = (leads[CONVERTED_AT] - leads[CREATED_AT]).dt.days[converted].dropna()
        if len(took):
            days = max(7, 7 * math.ceil(float(took.quantile(quantile)) / 7))
    young = leads[CREATED_AT] > pd.Timestamp(as_of) - days * DAY
    outcome = converted.astype(float).where(~young)
    return outcome.set_axis(leads[LEAD_ID].astype(str)).rename("label"), days


def lead_value(leads: pd.DataFrame) -> float:
    """What a converted lead is worth: the median ``value`` of converted leads (NaN if none)."""
    if VALUE not in leads or CONVERTED not in leads:
        return float("nan")
    won = leads[CONVERTED].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return float(leads.loc[won, VALUE].median())


def lead_dataset(leads: pd.DataFrame, *, as_of, min_class: int = 10):
    """(leads sorted by creation, features of the leads with an outcome, their outcomes, features
    of the open leads, days to convert), or a sentence saying why no model can be trained."""
    leads = leads.sort_values(CREATED_AT, kind="stable")
    if CONVERTED not in leads or leads[CONVERTED].isna().all():
        return ("Cannot train lead scoring: the leads table has no `converted` values. Add a "
                "`converted` column (true / false for each lead) to the leads file.")
    X, (y, days) = lead_features(leads), lead_outcomes(leads, as_of=as_of)
    known = y.dropna().astype(int)
    won = int(known.sum())
    if min(won, len(known) - won) < min_class:
        return (f"Cannot train lead scoring: of the {len(known):,} leads old enough to have an "
                f"outcome, the `converted` column marks {won} as converted and "
                f"{len(known) - won} as not. A model needs at least {min_class} of each: record "
                "converted = true for the leads that became customers, or wait for more leads.")
    if X.empty:
        return ("Cannot train lead scoring: the leads table has no column a model can learn "
                "from (the source, the answers on the sign-up form...).")
    converted = leads[CONVERTED].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return leads, X.loc[known.index], known, X[y.isna().to_numpy() & ~converted], days
