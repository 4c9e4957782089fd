"""Harbor Coffee's catalogue and the basket model that fills each order with products.

Planted truth (category co-purchase): an online basket starts from one *primary* category; every
other category then joins the basket with a base probability times a planted *lift* for the pair.
Brewing gear is bought with whole beans and with single origins far more often than chance, merch
goes with gifts and subscriptions, and whole bean and ground coffee rarely share a basket (people
own a grinder or they do not). Café tickets are drinks and pastries, sometimes with a bag of beans.
"""

from __future__ import annotations

import numpy as np

from helpers.samples._common import fmt_money, make_ids

CATEGORIES = (
    "whole_bean",
    "ground",
    "single_origin",
    "brewing_gear",
    "merch",
    "gifts_subscriptions",
    "cafe",
)
ONLINE = CATEGORIES[:6]

# (name, category, price, cost, popularity weight within its category)
PRODUCTS = [
    ("Harbor House Blend, whole bean 12 oz", "whole_bean", 16.00, 5.90, 10),
    ("Lighthouse Espresso, whole bean 12 oz", "whole_bean", 17.00, 6.20, 8),
    ("Fog Line Decaf, whole bean 12 oz", "whole_bean", 17.50, 6.60, 3),
    ("Morning Tide Breakfast Blend, whole bean 12 oz", "whole_bean", 15.50, 5.60, 5),
    ("Dark Harbor French Roast, whole bean 12 oz", "whole_bean", 16.00, 5.80, 4),
    ("Harbor House Blend, whole bean 2 lb", "whole_bean", 38.00, 14.20, 4),
    ("Lighthouse Espresso, whole bean 2 lb", "whole_bean", 40.00, 15.10, 3),
    ("Winter Solstice Blend, whole bean 12 oz", "whole_bean", 18.00, 6.40, 2),
    ("Harbor House Blend, ground 12 oz", "ground", 16.00, 5.90, 10),
    ("Morning Tide Breakfast Blend, ground 12 oz", "ground", 15.50, 5.60, 6),
    ("Dark Harbor French Roast, ground 12 oz", "ground", 16.00, 5.80, 5),
    ("Fog Line Decaf, ground 12 oz", "ground", 17.50, 6.60, 3),
    ("Cold Brew Coarse Grind, 2 lb", "ground", 34.00, 12.80, 2),
    ("Lighthouse Espresso, fine grind 12 oz", "ground", 17.00, 6.20, 3),
    ("Ethiopia Yirgacheffe, 10 oz", "single_origin", 21.00, 8.40, 8),
    ("Colombia Huila, 10 oz", "single_origin", 19.00, 7.30, 9),
    ("Guatemala Huehuetenango, 10 oz", "single_origin", 19.50, 7.50, 6),
    ("Kenya Nyeri AA, 10 oz", "single_origin", 23.00, 9.60, 4),
    ("Costa Rica Tarrazu, 10 oz", "single_origin", 20.00, 7.80, 4),
    ("Sumatra Mandheling, 10 oz", "single_origin", 19.00, 7.20, 4),
    ("Rwanda Nyamasheke, 10 oz", "single_origin", 22.00, 8.90, 3),
    ("Panama Geisha, 4 oz", "single_origin", 34.00, 17.50, 1),
    ("Ceramic pour-over dripper", "brewing_gear", 28.00, 13.50, 6),
    ("Paper filters, pack of 100", "brewing_gear", 7.50, 2.60, 9),
    ("Gooseneck kettle", "brewing_gear", 69.00, 38.00, 3),
    ("Conical burr grinder", "brewing_gear", 129.00, 78.00, 2),
    ("French press, 8 cup", "brewing_gear", 39.00, 19.50, 4),
    ("Digital brew scale", "brewing_gear", 45.00, 24.00, 3),
    ("Cold brew kit", "brewing_gear", 32.00, 15.00, 3),
    ("Harbor logo mug", "merch", 16.00, 5.20, 6),
    ("Enamel camp mug", "merch", 22.00, 8.10, 4),
    ("Canvas tote bag", "merch", 18.00, 6.30, 4),
    ("Roastery T-shirt", "merch", 26.00, 10.40, 3),
    ("Knit beanie", "merch", 24.00, 8.80, 2),
    ("Gift box: three origins", "gifts_subscriptions", 54.00, 24.50, 5),
    ("Mug and bag gift set", "gifts_subscriptions", 38.00, 15.80, 4),
    ("Coffee subscription, 3 months", "gifts_subscriptions", 51.00, 19.80, 4),
    ("Coffee subscription, 6 months", "gifts_subscriptions", 96.00, 38.00, 2),
    ("Gift card, $50", "gifts_subscriptions", 50.00, 50.00, 3),
    ("Drip coffee", "cafe", 3.25, 0.70, 8),
    ("Latte", "cafe", 5.25, 1.30, 9),
    ("Cappuccino", "cafe", 4.95, 1.20, 5),
    ("Cold brew", "cafe", 4.75, 1.00, 5),
    ("Almond croissant", "cafe", 4.25, 1.60, 5),
    ("Blueberry muffin", "cafe", 3.75, 1.20, 4),
    ("Breakfast sandwich", "cafe", 7.50, 2.90, 3),
]
CAFE_FOOD = {"Almond croissant", "Blueberry muffin", "Breakfast sandwich"}

# Share of online baskets whose primary category is each of ONLINE (outside December).
PRIMARY = np.array([0.36, 0.26, 0.16, 0.08, 0.05, 0.09])
# December gifting: gifts x3.5, merch x1.8, gear x1.5 (before renormalising).
DECEMBER_TILT = np.array([1.0, 1.0, 1.0, 1.5, 1.8, 3.5])
# Base chance that a non-primary category joins the basket.
SECONDARY = np.array([0.05, 0.04, 0.06, 0.015, 0.02, 0.02])
# Planted pair multipliers (symmetric) on that base chance; pairs not listed have 1. Whole bean is
# in ~40 % of baskets, so even a large multiplier shows as a support lift of about 1.8.
PAIR_LIFTS = {
    ("brewing_gear", "whole_bean"): 20.0,
    ("brewing_gear", "single_origin"): 16.0,
    ("gifts_subscriptions", "merch"): 18.0,
    ("ground", "whole_bean"): 0.2,
}
# Quantity distributions: coffee bags 1/2/3, everything else mostly 1.
QTY_COFFEE = ([1, 2, 3], [0.62, 0.29, 0.09])
QTY_OTHER = ([1, 2], [0.92, 0.08])
NET_SHARE = 0.965  # average share of list value paid after sale discounts and codes


def products_table() -> dict[str, np.ndarray]:
    """The products file: id, name, category, price and unit cost."""
    ids = make_ids("P", len(PRODUCTS), 3)
    return {
        "product_id": ids,
        "name": np.array([p[0] for p in PRODUCTS], dtype=object),
        "category": np.array([p[1] for p in PRODUCTS], dtype=object),
        "price": fmt_money(np.array([p[2] for p in PRODUCTS])),
        "cost": fmt_money(np.array([p[3] for p in PRODUCTS])),
    }


def lift_matrix() -> np.ndarray:
    """The planted 6x6 lift matrix over ONLINE categories (1 where no pair is planted)."""
    lift = np.ones((len(ONLINE), len(ONLINE)))
    for (a, b), v in PAIR_LIFTS.items():
        i, j = ONLINE.index(a), ONLINE.index(b)
        lift[i, j] = lift[j, i] = v
    return lift


def primary_probs(december: bool) -> np.ndarray:
    """Primary-category probabilities of an online basket."""
    p = PRIMARY * (DECEMBER_TILT if december else 1.0)
    return p / p.sum()


def _category_stats() -> tuple[np.ndarray, np.ndarray]:
    """Expected unit price (popularity-weighted) and expected quantity per ONLINE category."""
    price, qty = [], []
    for cat in ONLINE:
        rows = [p for p in PRODUCTS if p[1] == cat]
        w = np.array([r[4] for r in rows], float)
        price.append(float(np.dot(w / w.sum(), [r[2] for r in rows])))
        q = QTY_COFFEE if cat in ("whole_bean", "ground", "single_origin") else QTY_OTHER
        qty.append(float(np.dot(*q)))
    return np.array(price), np.array(qty)


def expected_online_basket(december: bool = False) -> float:
    """Expected list value of an online basket (before discounts), from the model above."""
    p = primary_probs(december)
    join = np.clip(SECONDARY[None, :] * lift_matrix(), 0, 1)
    np.fill_diagonal(join, 0.0)
    inclusion = p + p @ join
    price, qty = _category_stats()
    return float(np.sum(inclusion * price * qty))


def expected_order_value(december: np.ndarray) -> np.ndarray:
    """Expected net value of an online order on each day: list value less typical discounts."""
    value = np.where(december, expected_online_basket(True), expected_online_basket(False))
    return value * NET_SHARE


def _pick_products(rng: np.random.Generator, cat: str, n: int) -> np.ndarray:
    """``n`` product indices of category ``cat``, drawn by popularity."""
    idx = np.array([i for i, p in enumerate(PRODUCTS) if p[1] == cat])
    w = np.array([PRODUCTS[i][4] for i in idx], float)
    return idx[rng.choice(len(idx), size=n, p=w / w.sum())]


def _quantities(rng: np.random.Generator, cat: str, n: int) -> np.ndarray:
    q = QTY_COFFEE if cat in ("whole_bean", "ground", "single_origin") else QTY_OTHER
    return rng.choice(q[0], size=n, p=q[1])


def online_baskets(
    rng: np.random.Generator, december: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Items of online orders: per category, (order positions, product indices, quantities).

    Parameters
    ----------
    december : ndarray of bool
        One flag per order; December baskets lean to gifts, merch and gear.
    """
    n = len(december)
    cum = np.stack([np.cumsum(primary_probs(False)), np.cumsum(primary_probs(True))])
    primary = (rng.random(n)[:, None] > cum[december.astype(int)]).sum(axis=1)
    primary = np.minimum(primary, len(ONLINE) - 1)
    join = np.clip(SECONDARY[None, :] * lift_matrix()[primary], 0, 1)
    member = rng.random((n, len(ONLINE))) < join
    member[np.arange(n), primary] = True
    parts = []
    for c, cat in enumerate(ONLINE):
        pos = np.flatnonzero(member[:, c])
        parts.append((pos, _pick_products(rng, cat, len(pos)), _quantities(rng, cat, len(pos))))
    return parts


def cafe_baskets(
    rng: np.random.Generator, n: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Items of café tickets: a drink (sometimes two), a pastry 45 %, beans 10 %, merch 2 %."""
    drinks = [i for i, p in enumerate(PRODUCTS) if p[1] == "cafe" and p[0] not in CAFE_FOOD]
    food = [i for i, p in enumerate(PRODUCTS) if p[0] in CAFE_FOOD]
    wd = np.array([PRODUCTS[i][4] for i in drinks], float)
    wf = np.array([PRODUCTS[i][4] for i in food], float)
    pos = np.arange(n)
    parts = [
        (
            pos,
            np.array(drinks)[rng.choice(len(drinks), n, p=wd / wd.sum())],
            rng.choice([1, 2, 3], size=n, p=[0.7, 0.25, 0.05]),
        )
    ]
    has_food = np.flatnonzero(rng.random(n) < 0.45)
    parts.append(
        (
            has_food,
            np.array(food)[rng.choice(len(food), len(has_food), p=wf / wf.sum())],
            rng.choice([1, 2], size=len(has_food), p=[0.85, 0.15]),
        )
    )
    for cat, share in (("whole_bean", 0.10), ("merch", 0.02)):
        sel = np.flatnonzero(rng.random(n) < share)
        parts.append((sel, _pick_products(rng, cat, len(sel)), np.ones(len(sel), int)))
    return parts


def assemble_items(
    parts: list, order_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack basket parts into item rows (order row, product index, quantity), sorted by order."""
    rows = np.concatenate([order_rows[p[0]] for p in parts])
    prod = np.concatenate([p[1] for p in parts])
    qty = np.concatenate([p[2] for p in parts])
    order = np.lexsort((prod, rows))
    return rows[order], prod[order], qty[order]


def observed_lifts(item_rows: np.ndarray, item_prod: np.ndarray, online_rows: np.ndarray) -> dict:
    """Support lift ``P(A and B) / (P(A) P(B))`` over online orders for each planted pair."""
    cat_index = {c: i for i, c in enumerate(CATEGORIES)}
    prod_cat = np.array([cat_index[p[1]] for p in PRODUCTS])
    online = np.isin(item_rows, online_rows)
    rows, inv = np.unique(item_rows[online], return_inverse=True)
    has = np.zeros((len(rows), len(CATEGORIES)), dtype=bool)
    has[inv, prod_cat[item_prod[online]]] = True
    out = {}
    for (a, b), planted in PAIR_LIFTS.items():
        ia, ib = cat_index[a], cat_index[b]
        pa, pb, pab = has[:, ia].mean(), has[:, ib].mean(), (has[:, ia] & has[:, ib]).mean()
        out[f"{a}+{b}"] = {
            "planted_join_multiplier": planted,
            "observed_support_lift": round(float(pab / (pa * pb)), 3),
            "baskets_with_both": int((has[:, ia] & has[:, ib]).sum()),
        }
    return out


def unit_prices() -> np.ndarray:
    """List price of every product (index aligned with PRODUCTS)."""
    return np.array([p[2] for p in PRODUCTS])
