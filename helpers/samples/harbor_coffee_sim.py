"""Day-by-day purchase simulation for Harbor Coffee (vectorised over customers).

Planted truth (purchase propensity): on day t, a customer who joined before t buys with probability

    sigmoid(eta) * F(t),
    eta = B0 + B_RECENCY * recency_months + B_FREQUENCY * log(1 + orders_365)
          + B_EMAIL * email_engagement + B_DISCOUNT * discount_share_365 + GAMMA[age_band] * sale_day

where F(t) = weekly x yearly x trend multiplier (mean about 1). Media adds orders on top: each day
each channel's expected media orders are handed to customers in proportion to sigmoid(eta) (times
their open propensity for e-mail, and only to those who allow it), so that the aggregate factor is
seasonal x trend + media. Features, at the start of day t:

* recency_months: days since the customer's last order (or since signup_date before any), / 30;
* orders_365: orders in the previous 365 days (refund rows excluded);
* discount_share_365: share of those orders with a discount (0 when there are none);
* email_engagement: the customer's true open propensity (0 for those who never opted in), which
  email_events reveals as the customer's open rate;
* sale_day: 1 on the site-wide sale days.

The shop's history before 2023-10-01 is not in the export (customers who joined earlier ran
through the same model, with the same yearly sales and a steady level of media), so from 2024-10-01 on every feature can be
computed from the files, except recency for customers whose last order predates the export (more
than a year ago, where the model's probability is practically zero).

Planted truth (customers leave): besides the model above, each customer leaves for good at a hidden
constant rate (mean lifetime LIFETIME_DAYS after sign-up), after which they never buy again. The
logistic model describes customers still around; a model fitted on everyone will find a somewhat
more negative recency coefficient, since gone customers look like long-lapsed ones.

Planted truth (discount sensitivity): on sale days the log-odds rise by GAMMA, which is large for
the young and close to zero for the over-55s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from helpers.samples._common import sigmoid

B0 = -4.2
B_RECENCY = -0.60  # per 30 days since the last order
B_FREQUENCY = 0.40  # per unit of log(1 + orders in the last 365 days)
B_EMAIL = 1.6  # per unit of open propensity (0..1)
B_DISCOUNT = -0.8  # per unit of discount share (0..1): deal-seekers buy less at full price
LIFETIME_DAYS = 450  # mean of the hidden exponential lifetime
GAMMA = (1.25, 0.9, 0.55, 0.3, 0.12, 0.05)  # sale-day lift by age band (18-24 ... 65+)
WELCOME_CODE = (0.35, 0.10)  # share of first online orders with a code, and its rate
EMAIL_CODE = (0.30, 0.10)  # e-mail-driven orders that use the newsletter code
RANDOM_CODE = (0.03, 0.10)  # other orders with a friend or loyalty code
WINBACK_CODE = 0.15
CAFE_DOW = (0.8, 0.8, 0.85, 0.9, 1.0, 1.45, 1.3)  # cafe share tilt by weekday (Mon..Sun)


@dataclass
class Orders:
    """Order events produced by the simulation (one entry per order)."""

    day: list = field(default_factory=list)
    cust: list = field(default_factory=list)
    kind: list = field(default_factory=list)  # first, base, media, winback
    source: list = field(default_factory=list)  # media channel or "" for non-media orders
    cafe: list = field(default_factory=list)
    rate: list = field(default_factory=list)  # discount rate (0 = none)

    def add(self, day, cust, kind, source, cafe, rate):
        n = len(cust)
        self.day.append(np.full(n, day))
        self.cust.append(np.asarray(cust))
        self.kind.append(np.full(n, kind, dtype=object))
        self.source.append(np.full(n, source, dtype=object) if np.isscalar(source) else source)
        self.cafe.append(np.asarray(cafe, dtype=bool))
        self.rate.append(np.asarray(rate, dtype=float))

    def arrays(self) -> dict[str, np.ndarray]:
        cols = ("day", "cust", "kind", "source", "cafe", "rate")
        return {c: np.concatenate(getattr(self, c)) for c in cols}


@dataclass
class State:
    """What the order history shows about each customer at the start of a day.

    ``last`` is the day of the last order (sign-up day before any); ``n`` counts all orders;
    ``n365`` and ``d365`` count the orders, and the discounted orders, of the last 365 days.
    """

    last: np.ndarray
    engagement: np.ndarray
    gamma: np.ndarray
    n: np.ndarray = None
    n365: np.ndarray = None
    d365: np.ndarray = None
    history: dict = field(default_factory=dict)

    def __post_init__(self):
        size = len(self.last)
        self.n, self.n365, self.d365 = np.zeros(size), np.zeros(size), np.zeros(size)

    def eta(self, t: int, sale: bool) -> np.ndarray:
        """Log-odds of buying on day t (before the aggregate factor)."""
        for who, disc in self.history.pop(t - 365, []):
            np.subtract.at(self.n365, who, 1)
            np.subtract.at(self.d365, who, disc)
        recency = (t - self.last) / 30.0
        share = np.divide(self.d365, self.n365, out=np.zeros(len(self.n)), where=self.n365 > 0)
        return (
            B0
            + B_RECENCY * recency
            + B_FREQUENCY * np.log1p(self.n365)
            + B_EMAIL * self.engagement
            + B_DISCOUNT * share
            + self.gamma * sale
        )

    def record(self, t: int, who: np.ndarray, rate: np.ndarray) -> None:
        """Book orders of day t."""
        disc = (np.asarray(rate) > 0).astype(float)
        self.last[who] = t
        np.add.at(self.n, who, 1)
        np.add.at(self.n365, who, 1)
        np.add.at(self.d365, who, disc)
        self.history.setdefault(t, []).append((np.asarray(who), disc))


def _codes(rng, n: int, share_rate: tuple[float, float], sale_rate: float) -> np.ndarray:
    """Discount rate per order: the sale rate on sale days, else a code with some probability."""
    if sale_rate > 0:
        return np.full(n, sale_rate)
    return np.where(rng.random(n) < share_rate[0], share_rate[1], 0.0)


def _media_orders(rng, ctx, t, i, s, taken, out, st):
    """Orders that media brings from existing customers on day t, handed out by propensity."""
    for ch, lam in ctx["media_repeat"].items():
        k = rng.poisson(lam[i])
        if k == 0:
            continue
        cum = np.cumsum(s * ctx["eligible"][ch](t) * ~taken)
        if cum[-1] <= 0:
            continue
        # a handful of draws among thousands: sample by weight, drop the rare repeat
        who = np.unique(np.searchsorted(cum, rng.random(k) * cum[-1], side="right"))
        k = len(who)
        taken[who] = True
        code = EMAIL_CODE if ch == "email" else RANDOM_CODE
        rate = _codes(rng, k, code, ctx["sale_rate"][i])
        out.add(t, who, "media", ch, np.zeros(k, bool), rate)
        st.record(t, who, rate)


def _first_orders(rng, ctx, t, i, out, st):
    """The first order of every customer who joins on day t (cafe sign-ups buy at the counter)."""
    who = ctx["joins"].get(t)
    if who is None:
        return
    cafe = ctx["channel"][who] == "cafe"
    rate = _codes(rng, len(who), WELCOME_CODE, ctx["sale_rate"][i])
    rate = np.where(cafe & (ctx["sale_rate"][i] == 0), 0.0, rate)
    src = np.where(ctx["true_source"][who] == "base", "", ctx["true_source"][who]).astype(object)
    out.add(t, who, "first", src, cafe, rate)
    st.record(t, who, rate)


def run(rng: np.random.Generator, ctx: dict, st: State, hooks: dict) -> Orders:
    """Simulate days ``t0 .. t0 + n_days - 1``; ``hooks[t]`` may start an experiment on day t.

    Day arrays in ``ctx`` (demand, sale_rate, dow, media_repeat) are indexed from ``t0``; the
    state and customer arrays use absolute days (0 = the first day of the export).
    """
    out = Orders()
    n = len(st.n)
    frozen_until = np.full(n, -(10**6))
    t0 = ctx.get("t0", 0)
    for t in range(t0, t0 + ctx["n_days"]):
        i = t - t0
        if t in hooks:
            hooks[t](t, st, frozen_until, out)
        active = (ctx["signup"] < t) & (frozen_until < t) & (ctx["gone"] > t)
        sale = ctx["sale_rate"][i] > 0
        s = sigmoid(st.eta(t, sale)) * active
        buy = np.flatnonzero(rng.random(n) < s * ctx["demand"][i])
        taken = np.zeros(n, bool)
        taken[buy] = True
        cafe = rng.random(len(buy)) < np.minimum(
            ctx["cafe_affinity"][buy] * CAFE_DOW[ctx["dow"][i]], 0.95
        )
        rate = _codes(rng, len(buy), RANDOM_CODE, ctx["sale_rate"][i])
        rate = np.where(cafe & ~sale, 0.0, rate)
        out.add(t, buy, "base", "", cafe, rate)
        st.record(t, buy, rate)
        _media_orders(rng, ctx, t, i, s, taken, out, st)
        _first_orders(rng, ctx, t, i, out, st)
        for who, rate in ctx["forced"].pop(t, []):
            src = ctx["forced_source"][(t, int(who[0]))]
            out.add(t, who, "winback", src, np.zeros(len(who), bool), rate)
            st.record(t, who, rate)
    return out
