"""Harbor Coffee's customer feedback: reviews, survey answers and e-mail replies.

Planted truth: every text has a known topic (taste, shipping, price, service) and sentiment
(positive, neutral, negative); the text is assembled from varied phrase pieces (``_text``) and its
rating follows the sentiment (positive 4-5, neutral mostly 3, negative 1-2). Shipping complaints
are the largest negative group and taste praise the largest positive one.
"""

from __future__ import annotations

import numpy as np

from helpers.samples import _text
from helpers.samples._common import fmt_datetime, make_ids

TARGET = 1500
CELLS = {  # share of all feedback by (topic, sentiment)
    ("taste", "positive"): 0.22,
    ("taste", "neutral"): 0.05,
    ("taste", "negative"): 0.04,
    ("shipping", "positive"): 0.08,
    ("shipping", "neutral"): 0.05,
    ("shipping", "negative"): 0.11,
    ("price", "positive"): 0.04,
    ("price", "neutral"): 0.07,
    ("price", "negative"): 0.08,
    ("service", "positive"): 0.14,
    ("service", "neutral"): 0.04,
    ("service", "negative"): 0.08,
}
SOURCES = {
    "taste": {"product_review": 0.6, "post_purchase_survey": 0.4},
    "shipping": {"post_purchase_survey": 0.6, "email_reply": 0.4},
    "price": {"post_purchase_survey": 0.5, "product_review": 0.5},
    "service": {"google_review": 0.6, "email_reply": 0.4},
}
RATINGS = {
    "positive": ([4, 5], [0.3, 0.7]),
    "neutral": ([2, 3, 4], [0.15, 0.7, 0.15]),
    "negative": ([1, 2], [0.55, 0.45]),
}
ANONYMOUS_GOOGLE = 0.7  # share of Google reviews that cannot be tied to a customer


def _orders_for(rng, orders, source: np.ndarray, end: np.datetime64) -> np.ndarray:
    """An order behind each piece of feedback: cafe tickets for Google reviews, else online orders."""
    usable = (orders.kind != "refund") & (orders.when < end - np.timedelta64(14, "D"))
    cafe_pool = np.flatnonzero(usable & orders.cafe)
    web_pool = np.flatnonzero(usable & ~orders.cafe)
    google = source == "google_review"
    pick = np.empty(len(source), dtype=int)
    pick[google] = rng.choice(cafe_pool, size=int(google.sum()))
    pick[~google] = rng.choice(web_pool, size=int((~google).sum()))
    return pick


def build(
    rng: np.random.Generator,
    orders,
    order_ids: np.ndarray,
    cust_ids: np.ndarray,
    scale: float,
    end: np.datetime64,
) -> tuple[dict, dict]:
    """feedback.csv columns and the feedback section of truth.json."""
    n = int(round(TARGET * scale))
    keys = list(CELLS)  # (topic, sentiment) cells
    cell = rng.choice(len(keys), size=n, p=np.array(list(CELLS.values())))
    topic = np.array([keys[c][0] for c in cell], dtype=object)
    sentiment = np.array([keys[c][1] for c in cell], dtype=object)
    source = np.array(
        [rng.choice(list(SOURCES[t]), p=list(SOURCES[t].values())) for t in topic], dtype=object
    )
    row = _orders_for(rng, orders, source, end)
    created = orders.when[row] + (
        rng.integers(2, 13, n) * 86400 + rng.integers(-6 * 3600, 6 * 3600, n)
    ).astype("timedelta64[s]")
    anonymous = (source == "google_review") & (rng.random(n) < ANONYMOUS_GOOGLE)
    rating = np.array([rng.choice(RATINGS[s][0], p=RATINGS[s][1]) for s in sentiment])
    text = np.array(
        [_text.compose(rng, t, s) for t, s in zip(topic, sentiment, strict=True)], dtype=object
    )
    order = np.lexsort((row, created))
    ids = make_ids("F", n, 5)
    columns = {
        "feedback_id": ids,
        "customer_id": np.where(anonymous, "", cust_ids[orders.cust[row]])[order],
        "order_id": np.where(source == "google_review", "", order_ids[row])[order],
        "created_at": fmt_datetime(created[order]),
        "source": source[order],
        "rating": rating[order].astype(str).astype(object),
        "text": text[order],
    }
    return columns, _truth(ids, topic[order], sentiment[order])


def _truth(ids: np.ndarray, topic: np.ndarray, sentiment: np.ndarray) -> dict:
    """The feedback section of truth.json (labels in file order)."""
    return {
        "design": "topic and sentiment drawn per text; text assembled from phrase pieces for that "
        "topic and sentiment; rating: positive 4-5, neutral mostly 3, negative 1-2",
        "counts": {f"{t}/{s}": int(((topic == t) & (sentiment == s)).sum()) for t, s in CELLS},
        "labels": {
            i: [t, s]
            for i, t, s in zip(ids.tolist(), topic.tolist(), sentiment.tolist(), strict=True)
        },
        "what_to_find": "shipping is the main complaint, taste the main praise; a sentiment model "
        "should agree with the labels on most texts",
    }
