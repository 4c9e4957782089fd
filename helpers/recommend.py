"""Step 07: which products to suggest to each customer, from what people buy together.

An item-item recommender: two products are alike when the same baskets hold both (the cosine of
their basket columns, on a scipy sparse matrix). Candidates are scored by their likeness to what
the customer bought (or has in the basket); best-sellers fill the list when nothing is alike, and
nothing the customer already bought is suggested. ``hit_rate_at_k`` tests it on each customer's
last order, on the next order and on completing a basket, against best-sellers for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import consent, plots
from helpers.explore import CUSTOMER_ID, DAY, ORDER_DATE, ORDER_ID, PRODUCT_ID, cap, known, label
from helpers.explore import purchases as _purchases
from helpers.prepare import IS_REFUND

NAME, CATEGORY = known("products", "name", "category")
CO_PURCHASE, POPULAR, POPULARITY = "co-purchase", "popular", "popularity"
REC_COLUMNS = [CUSTOMER_ID, "rank", PRODUCT_ID, NAME, "score", "source"]
EVAL_COLUMNS = ["task", "method", "customers", "hits", "hit_rate", "low", "high", "p_value",
                "test_from"]
MIN_TEST_CUSTOMERS = 30
NO_ITEMS = ("Product suggestions need your order_items table (which products were in each order, "
            "with order_id and product_id).")


# ---- baskets ---------------------------------------------------------------------------------
def product_names(items: pd.DataFrame, products: pd.DataFrame | None = None) -> pd.Series:
    """product_id -> name: from the products table, else the name on the order lines (a Shopify
    export carries one); empty when neither has names."""
    parts = [f.dropna(subset=[NAME]).set_index(PRODUCT_ID)[NAME] for f in (products, items)
             if f is not None and NAME in f]
    names = pd.concat(parts) if parts else pd.Series(dtype=object)
    return names[~names.index.duplicated()].astype(object).rename(NAME)


def basket_table(orders: pd.DataFrame, items: pd.DataFrame, products: pd.DataFrame | None = None,
                 *, as_of=None) -> pd.DataFrame:
    """One row per (order, product) of the purchases up to ``as_of`` (orders with a customer, no
    refunds): order_id, customer_id, order_date, product_id, plus name and category when known."""
    as_of = orders[ORDER_DATE].max() if as_of is None else as_of
    o = _purchases(orders, as_of=as_of)
    if IS_REFUND in o:
        o = o[~o[IS_REFUND].astype(bool)]
    b = (items[[ORDER_ID, PRODUCT_ID]].dropna()
         .merge(o[[ORDER_ID, CUSTOMER_ID, ORDER_DATE]], on=ORDER_ID)
         .drop_duplicates([ORDER_ID, PRODUCT_ID]))
    names = product_names(items, products)
    if len(names):
        b[NAME] = b[PRODUCT_ID].map(names)
    if products is not None and CATEGORY in products:
        b[CATEGORY] = b[PRODUCT_ID].map(products.drop_duplicates(PRODUCT_ID)
                                        .set_index(PRODUCT_ID)[CATEGORY])
    return b.sort_values([ORDER_DATE, ORDER_ID]).reset_index(drop=True)


def _incidence(rows: pd.Series, cols: pd.Series, row_index: pd.Index, col_index: pd.Index):
    """A 0/1 scipy CSR matrix with a 1 at each (row, col) pair; pairs outside the indexes are
    left out."""
    from scipy import sparse

    r, c = row_index.get_indexer(rows), col_index.get_indexer(cols)
    ok = (r >= 0) & (c >= 0)
    m = sparse.csr_matrix((np.ones(ok.sum()), (r[ok], c[ok])),
                          shape=(len(row_index), len(col_index)))
    m.data[:] = 1.0  # a pair listed twice is still one
    return m


def _co_occurrence(baskets: pd.DataFrame, by: str):
    """(keys, baskets holding each key, key x key co-occurrence as COO, number of baskets)."""
    b = baskets.dropna(subset=[ORDER_ID, by]).drop_duplicates([ORDER_ID, by])
    keys = pd.Index(sorted(b[by].unique()))
    x = _incidence(b[ORDER_ID], b[by], pd.Index(b[ORDER_ID].unique()), keys)
    return keys, np.asarray(x.sum(axis=0)).ravel(), (x.T @ x).tocoo(), x.shape[0]


# ---- the model -------------------------------------------------------------------------------
class ItemItemRecommender:
    """Suggest products bought together with what a customer bought, else the best-sellers.

    ``n``: suggestions per customer; ``min_support``: a pair counts as bought together only when
    at least this many baskets hold both (fewer is chance). After ``fit``: items_, similarity_
    (items x items cosine, scipy CSR, zero diagonal), popularity_ (share of baskets holding each
    product), customers_, bought_ (customer_id, product_id), names_, n_baskets_.

    >>> ItemItemRecommender(n=3).fit(baskets).recommend(["C000012"])  # doctest: +SKIP
    """

    def __init__(self, n: int = 3, *, min_support: int = 3):
        self.n, self.min_support = n, min_support

    def fit(self, baskets: pd.DataFrame) -> ItemItemRecommender:
        from scipy import sparse

        b = baskets.dropna(subset=[ORDER_ID, PRODUCT_ID])
        self.items_, counts, co, self.n_baskets_ = _co_occurrence(b, PRODUCT_ID)
        keep = (co.row != co.col) & (co.data >= self.min_support)
        r, c = co.row[keep], co.col[keep]
        sim = co.data[keep] / np.sqrt(counts[r] * counts[c])
        self.similarity_ = sparse.csr_matrix((sim, (r, c)), shape=(len(counts),) * 2)
        self.popularity_ = pd.Series(counts / max(self.n_baskets_, 1), index=self.items_)
        self.bought_ = b.dropna(subset=[CUSTOMER_ID])[[CUSTOMER_ID, PRODUCT_ID]].drop_duplicates()
        self.customers_ = pd.Index(self.bought_[CUSTOMER_ID].unique())
        self.names_ = (b.drop_duplicates(PRODUCT_ID).set_index(PRODUCT_ID)[NAME]
                       if NAME in b else pd.Series(dtype=object))
        return self

    def recommend(self, customer_ids=None, *, popular_only: bool = False) -> pd.DataFrame:
        """Top ``n`` products per customer (REC_COLUMNS), never one the customer bought.

        ``source`` is "co-purchase" (``score``: summed similarity to the customer's products) or
        "popular" (``score``: share of baskets holding it). Unknown customers get best-sellers;
        ``popular_only`` gives everyone best-sellers (the baseline).
        """
        ids = self.customers_ if customer_ids is None else pd.Index(customer_ids).unique()
        bought = self.bought_[self.bought_[CUSTOMER_ID].isin(ids)]
        return self.complete(bought, customer_ids=ids, popular_only=popular_only)

    def complete(self, context: pd.DataFrame, *, exclude: pd.DataFrame | None = None,
                 customer_ids=None, popular_only: bool = False) -> pd.DataFrame:
        """Products to add to a basket: ``context`` (customer_id, product_id: what is in each
        customer's basket) scores the candidates; neither those nor ``exclude`` (customer_id,
        product_id: e.g. what they bought before) are suggested. ``customer_ids``: whom to
        suggest to (default: those in ``context``)."""
        ids = pd.Index(context[CUSTOMER_ID].unique() if customer_ids is None else customer_ids)
        hist = _incidence(context[CUSTOMER_ID], context[PRODUCT_ID], ids, self.items_)
        both = context if exclude is None else pd.concat([context, exclude])
        skip = _incidence(both[CUSTOMER_ID], both[PRODUCT_ID], ids, self.items_)
        return self._rank(ids, hist, skip, popular_only)

    def neighbours(self, n: int | None = None) -> pd.DataFrame:
        """For each product, the ``n`` (default: self.n) products most bought with it:
        product_id, name, rank, goes_with, goes_with_name, similarity. What to show beside a
        product, in the cart or in the order confirmation."""
        sim = self.similarity_.tocoo()
        out = pd.DataFrame({PRODUCT_ID: self.items_[sim.row], "goes_with": self.items_[sim.col],
                            "similarity": sim.data})
        out = out.sort_values([PRODUCT_ID, "similarity"], ascending=[True, False])
        out["rank"] = out.groupby(PRODUCT_ID).cumcount() + 1
        out = out[out["rank"] <= (n or self.n)]
        out.insert(1, NAME, out[PRODUCT_ID].map(self.names_) if len(self.names_) else None)
        out.insert(4, "goes_with_name",
                   out["goes_with"].map(self.names_) if len(self.names_) else None)
        return out[[PRODUCT_ID, NAME, "rank", "goes_with", "goes_with_name", "similarity"]
                   ].reset_index(drop=True)

    def _rank(self, ids: pd.Index, hist, skip, popular_only: bool,
              chunk: int = 2000) -> pd.DataFrame:
        parts = [self._top(ids[i:i + chunk], hist[i:i + chunk], skip[i:i + chunk], popular_only)
                 for i in range(0, len(ids), chunk)]
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=REC_COLUMNS)
        return out[REC_COLUMNS]

    def _top(self, ids: pd.Index, hist, skip, popular_only: bool) -> pd.DataFrame:
        """Suggestions for one chunk of customers (dense customers x items scores)."""
        sim = np.zeros(hist.shape) if popular_only else (hist @ self.similarity_).toarray()
        sim[skip.toarray() > 0] = -1.0
        pop = np.broadcast_to(self.popularity_.to_numpy(), sim.shape)
        top = np.lexsort((-pop, -sim), axis=-1)[:, : self.n]  # by similarity, then popularity
        top_sim = np.take_along_axis(sim, top, axis=1)
        who, rank = np.nonzero(top_sim >= 0)  # a skipped product is never suggested
        item, score = top[who, rank], top_sim[who, rank]
        co = score > 0
        out = pd.DataFrame({CUSTOMER_ID: ids.to_numpy()[who], "rank": rank + 1,
                            PRODUCT_ID: self.items_.to_numpy()[item],
                            "score": np.where(co, score, self.popularity_.to_numpy()[item]),
                            "source": np.where(co, CO_PURCHASE, POPULAR)})
        out[NAME] = out[PRODUCT_ID].map(self.names_) if len(self.names_) else None
        return out


# ---- testing it ------------------------------------------------------------------------------
def _minus(frame: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` whose (customer_id, product_id) is not in ``other``."""
    key = [CUSTOMER_ID, PRODUCT_ID]
    out = frame.merge(other[key].drop_duplicates(), on=key, how="left", indicator=True)
    return out[out["_merge"] == "left_only"].drop(columns="_merge")


def _cases(baskets: pd.DataFrame, cutoff, task: str, min_history_orders: int, seed: int):
    """(training baskets, context, targets, excluded) of the test, each (customer_id,
    product_id) rows; see ``hit_rate_at_k``."""
    train = baskets[baskets[ORDER_DATE] < cutoff]
    before = train[[CUSTOMER_ID, PRODUCT_ID]].drop_duplicates()
    last = baskets.drop_duplicates(ORDER_ID).sort_values([ORDER_DATE, ORDER_ID])
    last = last.groupby(CUSTOMER_ID).tail(1).query(f"{ORDER_DATE} >= @cutoff")[ORDER_ID]
    last = baskets[baskets[ORDER_ID].isin(last)][[CUSTOMER_ID, ORDER_ID, PRODUCT_ID]]
    if task == "next_order":
        history = train.groupby(CUSTOMER_ID)[ORDER_ID].nunique()
        last = last[last[CUSTOMER_ID].map(history).fillna(0) >= min_history_orders]
        target = _minus(last, before)
        return train, before[before[CUSTOMER_ID].isin(target[CUSTOMER_ID])], target, before
    if task != "complete_basket":
        raise ValueError(f"task must be 'next_order' or 'complete_basket', not {task!r}")
    last = last[last[CUSTOMER_ID].map(last.groupby(CUSTOMER_ID).size()) >= 2]
    pick = _minus(last, before)
    pick = pick.assign(_u=np.random.default_rng(seed).random(len(pick)))
    target = pick.loc[pick.groupby(CUSTOMER_ID)["_u"].idxmax()] if len(pick) else pick
    context = _minus(last, target)
    return train, context[context[CUSTOMER_ID].isin(target[CUSTOMER_ID])], target, before


def hit_rate_at_k(baskets: pd.DataFrame, *, k: int = 3, task: str = "next_order",
                  min_history_orders: int = 1, test_days: int = 90, min_support: int = 3,
                  seed: int = 0) -> pd.DataFrame:
    """How often ``k`` suggestions name a product the customer then bought, against best-sellers.

    The customers tested are those whose last order falls in the last ``test_days`` days of
    ``baskets``; the model sees only the baskets before that window (no leakage) and never
    suggests, nor counts as found, a product the customer had bought before it.

    * ``task="next_order"``: from the customer's products before the window (at least
      ``min_history_orders`` orders), a hit is a suggestion found in the last order.
    * ``task="complete_basket"``: one product of the last order (of two or more products) is
      hidden, picked at random with ``seed``; from the rest of that basket, a hit is naming it.

    The best-sellers (``popularity``) get the same customers and exclusions. ``low`` / ``high``
    are 95 % Wilson intervals; ``p_value`` (co-purchase row) is McNemar's exact test of the two
    methods on the same customers.
    """
    from statsmodels.stats.contingency_tables import mcnemar
    from statsmodels.stats.proportion import proportion_confint

    cutoff = baskets[ORDER_DATE].max().normalize() - (test_days - 1) * DAY
    train, context, target, before = _cases(baskets, cutoff, task, min_history_orders, seed)
    customers = pd.Index(target[CUSTOMER_ID].unique())
    if train.empty or customers.empty:
        return pd.DataFrame(columns=EVAL_COLUMNS)
    model = ItemItemRecommender(n=k, min_support=min_support).fit(train)
    hits = {}
    for method, popular_only in ((CO_PURCHASE, False), (POPULARITY, True)):
        recs = model.complete(context, exclude=before, popular_only=popular_only)
        got = recs.merge(target, on=[CUSTOMER_ID, PRODUCT_ID])[CUSTOMER_ID].unique()
        hits[method] = customers.isin(got)
    a, b = hits[CO_PURCHASE], hits[POPULARITY]
    table = [[(a & b).sum(), (a & ~b).sum()], [(~a & b).sum(), (~a & ~b).sum()]]
    rows = []
    for method, hit in hits.items():
        low, high = proportion_confint(hit.sum(), len(hit), method="wilson")
        rows.append({"task": task, "method": method, "customers": len(hit),
                     "hits": int(hit.sum()), "hit_rate": hit.mean(), "low": low, "high": high,
                     "p_value": float(mcnemar(table, exact=True).pvalue)
                     if method == CO_PURCHASE else np.nan, "test_from": cutoff})
    return pd.DataFrame(rows, columns=EVAL_COLUMNS)


# ---- pairs -----------------------------------------------------------------------------------
def top_pairs(baskets: pd.DataFrame, *, by: str = PRODUCT_ID, n: int | None = 10,
              min_support: int = 5) -> pd.DataFrame:
    """Pairs of products (``by=product_id``) or categories (``by=category``) bought together.

    ``together``: baskets holding both; ``expected``: how many would by chance (a x b / baskets);
    ``lift`` = together / expected (above 1: bought together more than chance). Pairs seen in
    fewer than ``min_support`` baskets are left out; sorted by lift, the ``n`` first (None: all).
    """
    keys, counts, co, total = _co_occurrence(baskets, by)
    keep = (co.row < co.col) & (co.data >= min_support)
    r, c, both = co.row[keep], co.col[keep], co.data[keep]
    expected = counts[r] * counts[c] / max(total, 1)
    out = pd.DataFrame({"item_a": keys[r], "item_b": keys[c], "together": both.astype(int),
                        "expected": expected, "lift": both / expected,
                        "share_of_baskets": both / max(total, 1)})
    if by == PRODUCT_ID and NAME in baskets:
        names = baskets.drop_duplicates(PRODUCT_ID).set_index(PRODUCT_ID)[NAME]
        out.insert(2, "name_a", out.item_a.map(names))
        out.insert(3, "name_b", out.item_b.map(names))
    out = out.sort_values(["lift", "together"], ascending=False).reset_index(drop=True)
    return out if n is None else out.head(n)


# ---- the notebook section --------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RecommendResult:
    """What the recommendations section found (see ``recommendations_section``)."""

    supported: bool
    reason: str = ""
    evaluation: pd.DataFrame = field(default_factory=pd.DataFrame)
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    category_pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    goes_with: pd.DataFrame = field(default_factory=pd.DataFrame)
    recommendations: pd.DataFrame = field(default_factory=pd.DataFrame)
    reading: str = ""
    warnings: list[str] = field(default_factory=list)
    headline: dict = field(default_factory=dict)
    uses: str = CO_PURCHASE  # what the per-customer suggestions rest on: co-purchase or popularity

    @property
    def files(self) -> dict[str, pd.DataFrame]:
        """The tables ``helpers.activation`` writes under actions/."""
        tables = {"recommendations": self.recommendations, "goes_with": self.goes_with}
        return {name: t for name, t in tables.items() if self.supported and len(t)}

    @property
    def what_to_do(self) -> dict[str, str]:
        return {"recommendations": "Load each customer's suggested products into your e-mail "
                "tool's product block (or your shop's recommendation app), by customer_id.",
                "goes_with": "Show these bought-together products beside each product, in the "
                "cart and in the order confirmation."}


TASKS = {"next_order": "the next order, from what each customer bought before",
         "complete_basket": "the rest of a basket, from one part of it"}


def _beats(evaluation: pd.DataFrame, task: str) -> bool:
    """Whether co-purchase found clearly more than the best-sellers (McNemar p < 0.05)."""
    e = evaluation[evaluation.task == task].set_index("method")
    return bool(len(e) == 2 and e.hit_rate[CO_PURCHASE] > e.hit_rate[POPULARITY]
                and e.p_value[CO_PURCHASE] < 0.05)


def _pair_text(p: pd.DataFrame, by: str) -> str:
    row = p.iloc[0]
    a, b = (row.name_a, row.name_b) if by == PRODUCT_ID and "name_a" in p else (row.item_a,
                                                                                row.item_b)
    return (f"{label(a)} with {label(b)} ({row.together:,} baskets, {row.lift:.1f} times as "
            "often as chance)")


def _task_text(ev: pd.DataFrame, task: str, k: int) -> str:
    e = ev[ev.task == task].set_index("method")
    if e.empty:
        return ""
    fmt = lambda m: f"{e.hit_rate[m]:.0%} ({e.low[m]:.0%} to {e.high[m]:.0%})"  # noqa: E731
    what = ("named a product they then bought in their last order" if task == "next_order"
            else "named the product hidden from their last basket")
    verdict = ("clearly better" if _beats(ev, task) else
               "no clear gain over simply suggesting your best-sellers")
    return (f"Guessing {TASKS[task]} ({int(e.customers[CO_PURCHASE]):,} customers): {k} "
            f"suggestions from what is bought together {what} for {fmt(CO_PURCHASE)} of them, "
            f"your {k} best-sellers for {fmt(POPULARITY)}; {verdict}.")


def _reading(ev: pd.DataFrame, pairs, cats, k: int) -> str:
    text = []
    if len(ev):
        text.append(f"Each test hides orders from {ev.test_from.iloc[0]:%d %b %Y} on from the "
                    "model, then checks its suggestions against them.")
        text += [t for t in (_task_text(ev, task, k) for task in TASKS) if t]
        text.append("So each customer's list below comes from what is bought together." if
                    _beats(ev, "next_order") else "So each customer's list below suggests "
                    "best-sellers they have not bought yet.")
        if _beats(ev, "complete_basket"):
            text.append("Bought-together pairs do predict baskets: show them beside each product, "
                        "in the cart and in the order confirmation (the goes-with table).")
    if len(cats):
        text.append(f"Categories most often bought together: {_pair_text(cats, CATEGORY)}.")
        low = cats.sort_values("lift").iloc[0]
        if low.lift < 0.5:
            text.append(f"{label(low.item_a).capitalize()} and {label(low.item_b)} rarely share "
                        f"a basket ({low.lift:.2f} times chance): do not suggest one with the "
                        "other.")
    elif len(pairs):
        text.append(f"Products most often bought together: {_pair_text(pairs, PRODUCT_ID)}.")
    return " ".join(text)


def _warnings(ev: pd.DataFrame) -> list[str]:
    out = []
    for task in TASKS:
        n = ev.loc[ev.task == task, "customers"]
        if n.empty or n.iloc[0] < MIN_TEST_CUSTOMERS:
            out.append(f"Only {0 if n.empty else int(n.iloc[0])} customers could be tested on "
                       f"{TASKS[task]}: read that hit rate as rough.")
    return out


def recommendations_section(plan, *, k: int = 3, n: int = 3, seed: int = 0) -> RecommendResult:
    """Step 07's product suggestions: both tests against best-sellers (``hit_rate_at_k``), the
    pairs bought together (by product, and by category when products has one), what goes with
    each product, and ``n`` suggestions per customer."""
    for table in ("orders", "order_items"):
        if not plan.has(table):
            return RecommendResult(False, f"{NO_ITEMS} {cap(plan.why_missing(table))}")
    products = plan.prepared("products") if plan.has("products") else None
    baskets = basket_table(plan.prepared("orders"), plan.prepared("order_items"), products,
                           as_of=plan.as_of)
    if baskets.empty:
        return RecommendResult(False, "None of your order lines matches an order with a "
                               "customer_id, so there is nobody to suggest products to.")
    ev = pd.concat([hit_rate_at_k(baskets, k=k, task=t, seed=seed) for t in TASKS],
                   ignore_index=True)
    uses = CO_PURCHASE if _beats(ev, "next_order") else POPULARITY
    model = ItemItemRecommender(n=n).fit(baskets)
    recs = model.recommend(popular_only=uses == POPULARITY)
    pairs = top_pairs(baskets, by=PRODUCT_ID)
    cats = top_pairs(baskets, by=CATEGORY, n=None) if CATEGORY in baskets else pd.DataFrame()
    headline = {"customers_with_suggestions": int(recs[CUSTOMER_ID].nunique()),
                "suggestions_from": uses}
    for row in ev.itertuples():  # e.g. complete_basket_hit_rate_co_purchase
        headline[f"{row.task}_hit_rate_{row.method.replace('-', '_')}"] = float(row.hit_rate)
    recs, left_out = consent.keep_emailable(plan, recs)
    return RecommendResult(True, "", ev, pairs, cats, model.neighbours(), recs,
                           _reading(ev, pairs, cats, k), _warnings(ev) + [left_out] * bool(left_out),
                           headline, uses)


def plot_hit_rate(result: RecommendResult, ax=None):
    """Hit rate of each method in each test, with its 95 % interval (the evaluation table)."""
    ax = plots.axes(ax, figsize=(8, 3.5))
    ev = result.evaluation
    if ev.empty:
        ax.set(title="Not enough orders to test the suggestions")
        return ax
    names = [f"{'basket' if t == 'complete_basket' else 'next order'}: "
             f"{'bought together' if m == CO_PURCHASE else 'best-sellers'}"
             for t, m in zip(ev.task, ev.method, strict=True)]
    err = np.vstack([ev.hit_rate - ev.low, ev.high - ev.hit_rate])
    colors = [plots.ACCENT if m == CO_PURCHASE else plots.MUTED for m in ev.method]
    ax.barh(names, ev.hit_rate, xerr=err, color=colors, capsize=4)
    ax.invert_yaxis()
    e = ev.set_index(["task", "method"]).hit_rate
    task = "complete_basket" if "complete_basket" in set(ev.task) else "next_order"
    title = (f"Bought-together suggestions were right for {e[task, CO_PURCHASE]:.0%} on "
             f"{'baskets' if task == 'complete_basket' else 'next orders'}, best-sellers "
             f"{e[task, POPULARITY]:.0%}")
    ax.set(title=title, xlabel="Customers for whom a suggestion was right (%)")
    return plots.percent_axis(ax, axis="x")
