"""Summit Outdoor Supply's catalogue: products, variants, SKUs, prices and what sells when.

Six categories (tents, packs, footwear, apparel, climbing, camp kitchen) from a handful of
invented brands plus the shop's own label. A basket starts from a category drawn with the month's
weights (tents, packs and climbing in spring and summer; apparel and footwear around the holidays;
camp-kitchen gifts in December) and may add a smaller item (socks, fuel, chalk...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CATEGORIES = ("tents", "packs", "footwear", "apparel", "climbing", "camp_kitchen")
# Relative weight of each category as the first item of a basket, January..December.
MONTH_WEIGHTS = {
    "tents": [0.3, 0.4, 0.8, 1.3, 1.7, 1.8, 1.5, 1.1, 0.7, 0.4, 0.4, 0.5],
    "packs": [0.6, 0.7, 1.0, 1.2, 1.4, 1.4, 1.3, 1.2, 1.1, 0.8, 0.8, 0.9],
    "footwear": [1.0, 0.9, 1.1, 1.3, 1.2, 1.0, 0.9, 0.9, 1.1, 1.2, 1.1, 1.1],
    "apparel": [1.6, 1.3, 1.0, 0.8, 0.7, 0.6, 0.6, 0.7, 1.0, 1.4, 1.6, 1.8],
    "climbing": [0.8, 0.9, 1.1, 1.3, 1.4, 1.3, 1.2, 1.1, 1.0, 0.8, 0.7, 0.7],
    "camp_kitchen": [0.5, 0.5, 0.7, 0.9, 1.2, 1.4, 1.4, 1.2, 0.8, 0.6, 0.9, 1.6],
}
# Share of all baskets whose first item is from the category (before the month's weights).
BASE_SHARE = {
    "tents": 0.10,
    "packs": 0.15,
    "footwear": 0.20,
    "apparel": 0.30,
    "climbing": 0.13,
    "camp_kitchen": 0.12,
}
SHOE_SIZES = ("7", "8", "9", "10", "11", "12")
APPAREL_SIZES = ("XS", "S", "M", "L", "XL")

# (code, title, category, vendor, price, variants) -- prices in CAD.
PRODUCTS = [
    ("TN101", "Glacier Lake 2P Tent", "tents", "Northshore Outfitters", 429.00, ()),
    ("TN102", "Glacier Lake 3P Tent", "tents", "Northshore Outfitters", 529.00, ()),
    ("TN103", "Backcountry 1P Ultralight Tent", "tents", "Cascade Trailworks", 619.00, ()),
    ("TN104", "Basecamp 4P Family Tent", "tents", "Summit House", 389.00, ()),
    ("TN105", "Tent Footprint 2P", "tents", "Northshore Outfitters", 59.00, ()),
    ("TN106", "Rainfly Tarp 3x3", "tents", "Summit House", 89.00, ()),
    ("PK201", "Ridgeline 45L Backpack", "packs", "Cascade Trailworks", 279.00, ("S", "M", "L")),
    ("PK202", "Ridgeline 65L Backpack", "packs", "Cascade Trailworks", 349.00, ("S", "M", "L")),
    ("PK203", "Daytripper 22L Pack", "packs", "Summit House", 119.00, ()),
    ("PK204", "Hydration Vest 8L", "packs", "Coastline Gear", 149.00, ("S", "M", "L")),
    ("PK205", "Roll-Top Dry Bag 20L", "packs", "Coastline Gear", 39.00, ()),
    ("PK206", "Trekking Poles (pair)", "packs", "Cascade Trailworks", 129.00, ()),
    ("FW301", "Switchback Trail Runner", "footwear", "Ridgeback Footwear", 179.00, SHOE_SIZES),
    ("FW302", "Alpine Mid GTX Hiking Boot", "footwear", "Ridgeback Footwear", 259.00, SHOE_SIZES),
    ("FW303", "Approach Shoe", "footwear", "Sea Cliff Climbing", 199.00, SHOE_SIZES),
    ("FW304", "Camp Slide Sandal", "footwear", "Summit House", 59.00, SHOE_SIZES),
    ("FW305", "Winter Trail Boot Insulated", "footwear", "Ridgeback Footwear", 239.00, SHOE_SIZES),
    ("AP401", "Merino Hiking Sock", "apparel", "Fraser Valley Mills", 26.00, ("S", "M", "L")),
    ("AP402", "Merino Base Layer Top", "apparel", "Fraser Valley Mills", 119.00, APPAREL_SIZES),
    ("AP403", "Stormline Rain Jacket", "apparel", "Northshore Outfitters", 289.00, APPAREL_SIZES),
    ("AP404", "Down Sweater Jacket", "apparel", "Northshore Outfitters", 249.00, APPAREL_SIZES),
    ("AP405", "Trail Softshell Pant", "apparel", "Cascade Trailworks", 139.00, APPAREL_SIZES),
    ("AP406", "Fleece Quarter Zip", "apparel", "Summit House", 89.00, APPAREL_SIZES),
    ("AP407", "Sun Hoodie UPF 50", "apparel", "Coastline Gear", 79.00, APPAREL_SIZES),
    ("AP408", "Summit Logo Toque", "apparel", "Summit House", 32.00, ()),
    ("AP409", "Insulated Parka", "apparel", "Northshore Outfitters", 459.00, APPAREL_SIZES),
    ("CL501", "Climbing Harness", "climbing", "Sea Cliff Climbing", 89.00, ("S", "M", "L")),
    ("CL502", "Dynamic Rope 9.8mm 60m", "climbing", "Sea Cliff Climbing", 269.00, ()),
    ("CL503", "Climbing Shoe Performance", "climbing", "Sea Cliff Climbing", 179.00, SHOE_SIZES),
    ("CL504", "Locking Carabiner", "climbing", "Sea Cliff Climbing", 19.00, ()),
    ("CL505", "Chalk Bag with Belt", "climbing", "Summit House", 29.00, ()),
    ("CL506", "Loose Chalk 300g", "climbing", "Sea Cliff Climbing", 14.00, ()),
    ("CL507", "Climbing Helmet", "climbing", "Sea Cliff Climbing", 99.00, ()),
    ("CK601", "Titanium Backpacking Stove", "camp_kitchen", "Alpine Kitchen Co", 89.00, ()),
    ("CK602", "Isobutane Fuel 230g", "camp_kitchen", "Alpine Kitchen Co", 9.00, ()),
    ("CK603", "Nesting Cook Set 2P", "camp_kitchen", "Alpine Kitchen Co", 79.00, ()),
    ("CK604", "Insulated Camp Mug", "camp_kitchen", "Summit House", 29.00, ()),
    ("CK605", "Water Filter Squeeze", "camp_kitchen", "Coastline Gear", 59.00, ()),
    ("CK606", "Freeze-Dried Meal", "camp_kitchen", "Alpine Kitchen Co", 14.00, ()),
    ("CK607", "Pour-Over Coffee Kit", "camp_kitchen", "Alpine Kitchen Co", 45.00, ()),
]
# Small items that join a basket (product code, probability of joining, typical quantity).
ADD_ONS = [
    ("AP401", 0.09, 2),
    ("CK602", 0.05, 3),
    ("CL506", 0.035, 2),
    ("CK606", 0.04, 3),
    ("CL504", 0.03, 2),
    ("AP408", 0.025, 1),
]
# Items cheaper than this never start a basket: nobody orders only a fuel canister online.
MIN_FIRST_PRICE = 25.0
SECOND_ITEM = 0.08  # baskets with a second main item from another category
ON_SALE_SHARE = 0.12  # share of lines sold below a compare-at price
SALE_MARKDOWN = (0.15, 0.30)


@dataclass
class Catalog:
    """The products as arrays: code, title, category index, vendor, price, variant titles."""

    code: np.ndarray
    title: np.ndarray
    category: np.ndarray
    vendor: np.ndarray
    price: np.ndarray
    variants: list[tuple[str, ...]]

    @property
    def n(self) -> int:
        return len(self.code)


def catalog() -> Catalog:
    """The catalogue as arrays (fixed, not random)."""
    cat_index = {c: i for i, c in enumerate(CATEGORIES)}
    return Catalog(
        code=np.array([p[0] for p in PRODUCTS], dtype=object),
        title=np.array([p[1] for p in PRODUCTS], dtype=object),
        category=np.array([cat_index[p[2]] for p in PRODUCTS]),
        vendor=np.array([p[3] for p in PRODUCTS], dtype=object),
        price=np.array([p[4] for p in PRODUCTS], dtype=float),
        variants=[p[5] for p in PRODUCTS],
    )


def month_category_p(month: int) -> np.ndarray:
    """Probability of each category as a basket's first item in ``month`` (1..12)."""
    w = np.array([BASE_SHARE[c] * MONTH_WEIGHTS[c][month - 1] for c in CATEGORIES])
    return w / w.sum()


def _first_item_p(cat: Catalog) -> list[np.ndarray]:
    """Within each category, the chance of each product (cheaper items a little likelier)."""
    out = []
    for k in range(len(CATEGORIES)):
        idx = np.flatnonzero((cat.category == k) & (cat.price >= MIN_FIRST_PRICE))
        w = 1.0 / np.sqrt(cat.price[idx])
        out.append((idx, w / w.sum()))
    return out


def baskets(rng: np.random.Generator, months: np.ndarray) -> dict:
    """Line items for orders placed in ``months`` (one month number 1..12 per order).

    Returns
    -------
    dict
        ``order`` (order index of each line), ``product`` (catalogue index), ``variant`` (variant
        title or ""), ``quantity``, ``price`` (unit price paid before order discounts) and
        ``compare_at`` (NaN unless the line was on sale).
    """
    cat = catalog()
    choice = _first_item_p(cat)
    n = len(months)
    first_cat = np.empty(n, dtype=int)
    for m in range(1, 13):
        sel = np.flatnonzero(months == m)
        first_cat[sel] = rng.choice(len(CATEGORIES), size=len(sel), p=month_category_p(m))
    first = np.empty(n, dtype=int)
    for k, (idx, p) in enumerate(choice):
        sel = np.flatnonzero(first_cat == k)
        first[sel] = rng.choice(idx, size=len(sel), p=p)
    orders, products, qty = [np.arange(n)], [first], [np.ones(n, dtype=int)]
    # A second main item from another category for some baskets.
    second = rng.random(n) < SECOND_ITEM
    other_cat = (first_cat[second] + rng.integers(1, len(CATEGORIES), second.sum())) % len(
        CATEGORIES
    )
    pick = np.array([rng.choice(choice[k][0], p=choice[k][1]) for k in other_cat.tolist()], int)
    orders.append(np.flatnonzero(second))
    products.append(pick)
    qty.append(np.ones(len(pick), dtype=int))
    code_index = {c: i for i, c in enumerate(cat.code.tolist())}
    for code, p, q in ADD_ONS:
        joins = np.flatnonzero(rng.random(n) < p)
        orders.append(joins)
        products.append(np.full(len(joins), code_index[code]))
        qty.append(np.maximum(1, rng.poisson(q - 1, len(joins)) + 1))
    order = np.concatenate(orders)
    product = np.concatenate(products)
    quantity = np.concatenate(qty)
    keep = _drop_repeats(order, product)
    order, product, quantity = order[keep], product[keep], quantity[keep]
    sort = np.lexsort((np.arange(len(order)), order))
    order, product, quantity = order[sort], product[sort], quantity[sort]
    return {"order": order, "product": product, "quantity": quantity, **_prices(rng, cat, product)}


def _drop_repeats(order: np.ndarray, product: np.ndarray) -> np.ndarray:
    """Keep the first line of a product in each order (an add-on may repeat the main item)."""
    key = order.astype(np.int64) * 1000 + product
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(order), dtype=bool)
    keep[first] = True
    return keep


def _prices(rng: np.random.Generator, cat: Catalog, product: np.ndarray) -> dict:
    """Variant titles, unit prices and compare-at prices of the lines."""
    variant = np.array(
        [rng.choice(cat.variants[p]) if cat.variants[p] else "" for p in product.tolist()],
        dtype=object,
    )
    list_price = cat.price[product]
    on_sale = rng.random(len(product)) < ON_SALE_SHARE
    markdown = rng.uniform(*SALE_MARKDOWN, len(product))
    price = np.where(on_sale, np.floor(list_price * (1 - markdown)) + 0.99, list_price)
    compare_at = np.where(on_sale, list_price, np.nan)
    return {"variant": variant, "price": price, "compare_at": compare_at}


def sku(cat: Catalog, product: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """SKUs such as ``SO-FW301-9`` (product code plus the variant)."""
    base = np.char.add("SO-", cat.code[product].astype(str))
    with_variant = np.char.add(np.char.add(base, "-"), variant.astype(str))
    return np.where(variant == "", base, with_variant).astype(object)


def line_names(cat: Catalog, product: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """Shopify line-item names: the product title, then `` - `` and the variant when there is one."""
    title = cat.title[product].astype(str)
    with_variant = np.char.add(np.char.add(title, " - "), variant.astype(str))
    return np.where(variant == "", title, with_variant).astype(object)


def expected_basket_value(month: int) -> float:
    """Mean merchandise value of a basket started in ``month`` (for turning revenue into orders)."""
    cat = catalog()
    choice = _first_item_p(cat)
    pc = month_category_p(month)
    main = sum(pc[k] * float(cat.price[idx] @ p) for k, (idx, p) in enumerate(choice))
    mean_main = float(np.mean([float(cat.price[idx] @ p) for idx, p in choice]))
    code_index = {c: i for i, c in enumerate(cat.code.tolist())}
    add = sum(p * q * cat.price[code_index[c]] for c, p, q in ADD_ONS)
    return (main + SECOND_ITEM * mean_main + add) * (1 - ON_SALE_SHARE * np.mean(SALE_MARKDOWN))
