"""Customer-lifetime models: how often each customer will buy again, and how much per purchase.

BG/NBD (Fader, Hardie & Lee 2005) models repeat purchases: while "alive" a customer buys at their
own steady rate (rates vary as a gamma distribution) and after each repeat purchase leaves for
good with their own probability (a beta distribution). Gamma-Gamma (Fader, Hardie & Lee 2005,
"RFM and CLV") models the average spend per purchase. Both log-likelihoods are written here by
hand and maximised with scipy (L-BFGS-B on log-parameters, two starts): lifetimes (unmaintained)
and pymc-marketing (which brings PyMC) are not dependencies of the workbook.

Time is measured in weeks. ``rfm_summary`` counts purchase days: several orders on one day are one
purchase; refund rows and orders worth nothing are left out. ``helpers.clv`` values customers with
these models (step 06).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.explore import CUSTOMER_ID, ORDER_DATE, REVENUE
from helpers.prepare import IS_REFUND, NET_REVENUE


# ---- the data: one row per customer ---------------------------------------------------------------
def purchase_days(orders: pd.DataFrame) -> pd.DataFrame:
    """customer_id, day, value: one row per customer and day with a purchase (net revenue summed
    over the day's orders); refund rows, orders worth nothing and guest orders are left out."""
    value = orders[NET_REVENUE] if NET_REVENUE in orders else orders[REVENUE]
    refund = orders[IS_REFUND].astype(bool) if IS_REFUND in orders else False
    keep = orders[CUSTOMER_ID].notna() & (value > 0) & ~refund
    days = pd.DataFrame({"customer_id": orders.loc[keep, CUSTOMER_ID],
                         "day": orders.loc[keep, ORDER_DATE].dt.normalize(), "value": value[keep]})
    return days.groupby(["customer_id", "day"], as_index=False)["value"].sum()


def rfm_summary(orders: pd.DataFrame, *, cutoff, holdout_end=None) -> pd.DataFrame:
    """Per customer who bought on or before ``cutoff`` (index ``customer_id``): ``frequency``
    (repeat purchase days), ``recency`` (weeks from the first to the last purchase day), ``T``
    (weeks from the first purchase day to ``cutoff``), ``monetary_value`` (mean value of the repeat
    purchase days, 0 without one) and, with ``holdout_end``, ``holdout_purchases`` and
    ``holdout_spend`` (purchase days after ``cutoff`` up to ``holdout_end``, both days whole)."""
    cutoff = pd.Timestamp(cutoff).normalize()
    days = purchase_days(orders)
    cal = days[days.day <= cutoff]
    g = cal.groupby("customer_id").day
    first, last = g.min(), g.max()
    repeat = cal[cal.day > cal.customer_id.map(first)].groupby("customer_id")["value"]
    out = pd.DataFrame({"frequency": g.size() - 1, "recency": (last - first).dt.days / 7,
                        "T": (cutoff - first).dt.days / 7,
                        "monetary_value": repeat.mean().reindex(first.index, fill_value=0.0)})
    if holdout_end is not None:
        end = pd.Timestamp(holdout_end).normalize()
        held = days[(days.day > cutoff) & (days.day <= end)].groupby("customer_id")["value"]
        out["holdout_purchases"] = held.size().reindex(out.index, fill_value=0)
        out["holdout_spend"] = held.sum().reindex(out.index, fill_value=0.0)
    return out.rename_axis("customer_id")


# ---- the models -------------------------------------------------------------------------------------
def _unpack(params, names: tuple[str, ...]) -> tuple[float, ...]:
    return tuple(params[k] for k in names) if isinstance(params, dict) else tuple(params)


def _fit(nll, starts: list[np.ndarray], bounds: list[tuple[float, float]]):
    """The best of a few L-BFGS-B runs of ``nll`` (a mean negative log-likelihood in log-params),
    and the covariance of the log-params from its numerical Hessian (times the row count)."""
    from scipy.optimize import minimize
    from statsmodels.tools.numdiff import approx_hess3

    best = min((minimize(nll, x0, method="L-BFGS-B", bounds=bounds) for x0 in starts),
               key=lambda res: res.fun)
    try:
        cov = np.linalg.inv(approx_hess3(best.x, nll))
    except np.linalg.LinAlgError:
        cov = np.full((len(best.x), len(best.x)), np.nan)
    return best, cov


def bgnbd_loglik(r, alpha, a, b, frequency, recency, T) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood, its two terms (still active at T, or gone just after
    the last purchase) added in logs for stability."""
    from scipy.special import betaln, gammaln

    x, tx, T = (np.asarray(v, float) for v in (frequency, recency, T))
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    still = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    gone = betaln(a + 1, b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + tx)
    return common + np.logaddexp(still, np.where(x > 0, gone, -np.inf))


class BetaGeo:
    """The BG/NBD model: ``fit(frequency, recency, T)`` learns ``params_`` (r, alpha, a, b) and
    ``cov_`` (covariance of their logs); time in the unit of recency and T (here weeks)."""

    names = ("r", "alpha", "a", "b")

    def __init__(self, *, starts: int = 2):
        self.starts = starts

    def fit(self, frequency, recency, T):
        x, tx, T = (np.asarray(v, float) for v in (frequency, recency, T))
        nll = lambda th: -bgnbd_loglik(*np.exp(th), x, tx, T).mean()  # noqa: E731
        starts = [np.zeros(4), np.log([0.5, max(T.mean(), 1.0), 1.0, 2.0])][:self.starts]
        res, cov = _fit(nll, starts, [(-9.0, 9.0)] * 4)
        self.params_ = dict(zip(self.names, np.exp(res.x).tolist(), strict=True))
        self.theta_, self.cov_, self.converged_ = res.x, cov / len(x), bool(res.success)
        return self

    def expected_purchases(self, t, frequency, recency, T, *, params=None) -> np.ndarray:
        """Expected purchases in the next ``t`` weeks given each customer's history; ``params``
        (a dict or a tuple in the order of ``names``) instead of the fitted ones."""
        from scipy.special import hyp2f1

        r, alpha, a, b = _unpack(params or self.params_, self.names)
        a = a if abs(a - 1) > 1e-9 else 1 + 1e-9
        x, tx, T = (np.asarray(v, float) for v in (frequency, recency, T))
        ahead = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(
            r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        return (a + b + x - 1) / (a - 1) * ahead * self.p_alive(x, tx, T, params=(r, alpha, a, b))

    def p_alive(self, frequency, recency, T, *, params=None) -> np.ndarray:
        """The probability that each customer has not left for good (1 before a repeat
        purchase: in BG/NBD a customer can only leave just after one)."""
        r, alpha, a, b = _unpack(params or self.params_, self.names)
        x, tx, T = (np.asarray(v, float) for v in (frequency, recency, T))
        odds = a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + tx)) ** (r + x)
        return 1 / (1 + np.where(x > 0, odds, 0.0))


def gamma_gamma_loglik(p, q, v, frequency, monetary_value) -> np.ndarray:
    """Each repeat buyer's Gamma-Gamma log-likelihood of their mean spend per purchase."""
    from scipy.special import gammaln

    x, m = np.asarray(frequency, float), np.asarray(monetary_value, float)
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
            + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(x * m + v))


class GammaGamma:
    """Spend per purchase: ``fit(frequency, monetary_value)`` on repeat buyers learns ``params_``
    (p, q, v); q is kept above 1 so that the average spend exists."""

    names = ("p", "q", "v")

    def __init__(self, *, starts: int = 2):
        self.starts = starts

    def fit(self, frequency, monetary_value):
        x, m = np.asarray(frequency, float), np.asarray(monetary_value, float)
        x, m = x[(x > 0) & (m > 0)], m[(x > 0) & (m > 0)]
        nll = lambda th: -gamma_gamma_loglik(*np.exp(th), x, m).mean()  # noqa: E731
        starts = [np.log([1.0, 2.0, m.mean()]), np.log([5.0, 5.0, 4 * m.mean()])][:self.starts]
        res, cov = _fit(nll, starts, [(-9.0, 9.0), (np.log(1.001), 9.0), (-9.0, 14.0)])
        self.params_ = dict(zip(self.names, np.exp(res.x).tolist(), strict=True))
        self.theta_, self.cov_, self.converged_ = res.x, cov / len(x), bool(res.success)
        return self

    def expected_spend(self, frequency, monetary_value, *, params=None) -> np.ndarray:
        """Expected spend per future purchase: each buyer's mean pulled towards the average
        (p v / (q - 1)), the less so the more repeat purchases they made."""
        p, q, v = _unpack(params or self.params_, self.names)
        x, m = np.asarray(frequency, float), np.asarray(monetary_value, float)
        return p * (v + x * m) / (p * x + q - 1)
