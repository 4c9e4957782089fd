"""Step 07: what each paid channel brings back for one more unit of spend (response curves).

Weekly revenue = a baseline (level, trend, yearly season, sale weeks) + for each channel
``beta * Hill(adstock(spend))``. Adstock carries part of a week's spend into later weeks
(``decay``); it is normalised, so a steady weekly spend ``x`` has adstock ``x`` and
``half_saturation`` is money per week. Hill flattens the effect as spend grows (half of ``beta``
at ``half_saturation``, steepness ``shape``). The fit is penalised least squares with scipy: the
baseline and the betas are solved exactly inside the objective (variable projection), so scipy
searches only decay, half-saturation and shape, from a few seeded starts, in a fraction of a
second. The curves read the weekly frame of ``helpers.media``; ``helpers.budget`` builds the
budget advice on them.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from helpers import plots
from helpers.explore import label
from helpers.media import (
    HOLDOUT_WEEKS,
    LEVEL,
    MIN_WEEKS,
    PREFIX,
    REVENUE,
    WEEK,
    assemble,
    control_columns,
    controls,
    spend_columns,
)

# Bounds of (decay per week, half-saturation / mean weekly spend, shape). scipy searches
# (decay, log K, log shape), pulled weakly towards a middle curve (a prior): weekly data rarely
# pins K and shape apart, and without the pull they run to their bounds.
LOWER, UPPER = np.array([0.0, 0.1, 0.5]), np.array([0.9, 3.0, 3.0])
LO, HI = np.r_[LOWER[0], np.log(LOWER[1:])], np.r_[UPPER[0], np.log(UPPER[1:])]
PRIOR_MEAN, PRIOR_SD = np.array([0.2, 0.0, 0.0]), np.array([0.35, 0.7, 0.35])


# ---- the transforms (the estimator's own; the sample generator keeps its daily form) ----------
def adstock(x: np.ndarray, decay: float) -> np.ndarray:
    """Normalised geometric carry-over: ``a[t] = (1 - decay) x[t] + decay a[t-1]``."""
    from scipy.signal import lfilter

    return lfilter([1.0 - decay], [1.0, -decay], np.asarray(x, dtype=float), axis=0)


def hill(a, half_saturation, shape):
    """Hill saturation ``a**S / (a**S + K**S)``: 0 at no spend, 0.5 at ``K``, 1 far beyond."""
    p = (np.maximum(np.asarray(a, dtype=float), 0.0) / half_saturation) ** shape
    return p / (1.0 + p)


def _natural(theta: np.ndarray) -> np.ndarray:
    """(decay, K / mean spend, shape) rows from the searched (decay, log K, log shape)."""
    t = np.asarray(theta, dtype=float).reshape(-1, 3).copy()
    t[:, 1:] = np.exp(t[:, 1:])
    return t


def _gradients(theta: np.ndarray, x: np.ndarray, *, grads: bool = True):
    """Hill(adstock) of each channel of the scaled spend ``x``, (n, C), and (with ``grads``) its
    derivatives in (decay, log K, log shape), (n, C, 3)."""
    from scipy.signal import lfilter

    feats, out = [], []
    for c, (d, k, s) in enumerate(_natural(theta)):
        a = adstock(x[:, c], d)
        feats.append(h := hill(a, k, s))
        if grads:
            slope, pos = s * h * (1 - h), a > 0  # slope: dh / dlog a
            da = lfilter([1.0], [1.0, -d], np.r_[0.0, a[:-1]] - x[:, c])  # da / d decay
            safe = np.where(pos, a, 1.0)
            out.append(np.column_stack([np.where(pos, slope * da / safe, 0.0), -slope,
                                        np.where(pos, slope * np.log(safe / k), 0.0)]))
    return (np.column_stack(feats), np.stack(out, axis=1)) if grads else np.column_stack(feats)


def _features(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return _gradients(theta, x, grads=False)


class _Problem:
    """Whitened residuals of the scaled model with the baseline and betas projected out
    (variable projection), the prior's pull as extra residuals, and their exact Jacobian."""

    def __init__(self, x: np.ndarray, base: np.ndarray, y: np.ndarray):
        u, sv, _ = np.linalg.svd(base, full_matrices=False)
        self.u = u[:, sv > sv.max() * 1e-10]  # an orthonormal basis of the baseline's columns
        self.x, self.base, self.y, self.y_perp = x, base, y, self.perp(y)
        # the noise that whitens the residuals: left over by the baseline plus each channel's
        # spend and its square root (a rough concave curve), so the prior weighs against noise
        rough = np.column_stack([base, x, np.sqrt(x)])
        left = y - rough @ np.linalg.lstsq(rough, y, rcond=None)[0]
        self.sigma = float(np.sqrt(left @ left / max(len(y) - rough.shape[1], 1))) or 1.0
        self.mean, self.sd = np.tile(PRIOR_MEAN, x.shape[1]), np.tile(PRIOR_SD, x.shape[1])
        self.lo, self.hi = np.tile(LO, x.shape[1]), np.tile(HI, x.shape[1])

    def perp(self, v: np.ndarray) -> np.ndarray:
        return v - self.u @ (self.u.T @ v)

    def betas(self, h: np.ndarray):
        """Non-negative betas (scipy's nnls), the residuals and the projected features."""
        from scipy.optimize import nnls

        h_perp = self.perp(h)
        beta = nnls(h_perp, self.y_perp)[0]
        return beta, self.y_perp - h_perp @ beta, h_perp

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        r = self.betas(_features(theta, self.x))[1]
        return np.r_[r / self.sigma, (theta - self.mean) / self.sd]

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """Golub and Pereyra's: -P dH beta - pinv(H_A)' dH' r per parameter, P projecting out
        the baseline and the channels with an effect (H_A). Written by hand: scipy has no
        variable projection, and finite differences cost a fit per parameter."""
        h, dh = _gradients(theta, self.x)
        beta, r, h_perp = self.betas(h)
        act = np.flatnonzero(beta > 0)
        q, rr = np.linalg.qr(h_perp[:, act])
        cols = self.perp((dh * beta[None, :, None]).reshape(len(h), -1))
        cols -= q @ (q.T @ cols)
        for row, c in zip(np.linalg.solve(rr, q.T) if len(act) else [], act, strict=True):
            cols[:, 3 * c:3 * c + 3] += np.outer(row, dh[:, c].T @ r)
        return np.vstack([-cols / self.sigma, np.diag(1 / self.sd)])

    def fit(self, starts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(theta, beta, gamma) of the lowest penalised sum of squares over the starts."""
        from scipy.optimize import least_squares

        best = min((least_squares(self.residuals, np.clip(x0, self.lo, self.hi),
                                  jac=self.jacobian, bounds=(self.lo, self.hi), ftol=1e-6,
                                  x_scale=self.hi - self.lo, xtol=1e-6, max_nfev=100)
                    for x0 in starts), key=lambda got: got.cost)
        h = _features(best.x, self.x)
        beta = self.betas(h)[0]
        return best.x, beta, np.linalg.lstsq(self.base, self.y - h @ beta, rcond=None)[0]

    def covariance(self, theta, beta, gamma) -> np.ndarray:
        """Covariance of (theta, beta, gamma): inverse of J'J / sigma^2 plus the prior's
        precision (a Laplace approximation), widened by (1 + rho) / (1 - rho) for the
        week-to-week correlation rho of the residuals."""
        h, dh = _gradients(theta, self.x)
        resid = self.y - self.base @ gamma - h @ beta
        jac = np.column_stack([(dh * beta[None, :, None]).reshape(len(h), -1), h, self.base])
        sigma2 = max(resid @ resid / max(len(resid) - jac.shape[1], 1), 1e-12)
        rho = float(np.clip(np.nan_to_num(np.corrcoef(resid[1:], resid[:-1])[0, 1]), 0.0, 0.9))
        prior = np.r_[1 / self.sd**2, np.zeros(jac.shape[1] - len(theta))]
        return np.linalg.pinv(jac.T @ jac / sigma2 + np.diag(prior)) * (1 + rho) / (1 - rho)


def _bound_notes(channels: list[str], natural: np.ndarray, beta: np.ndarray) -> list[str]:
    """A sentence per parameter that ended on a bound, and per channel without an effect. No
    carry-over beyond the week (decay 0) is a finding, not a bound to warn about."""
    notes = []
    for ch, row, b in zip(channels, natural, beta, strict=True):
        for i, name in enumerate(("carry-over", "half-saturation", "shape")):
            near = 1e-3 * (UPPER[i] - LOWER[i])
            if row[i] >= UPPER[i] - near or (i and row[i] <= LOWER[i] + near):
                side = "upper" if row[i] >= UPPER[i] - near else "lower"
                notes.append(f"{label(ch)}: its {name} ended on the {side} bound")
        if b <= 0:
            notes.append(f"{label(ch)}: no measurable effect (its effect ended at zero)")
    return notes


def _scores(y: np.ndarray, fitted: np.ndarray) -> tuple[float, float]:
    """R^2 and the mean absolute percentage error (over weeks with positive revenue)."""
    sst, pos = ((y - y.mean()) ** 2).sum(), y > 0
    r2 = 1 - ((y - fitted) ** 2).sum() / sst if sst > 0 else np.nan
    return float(r2), float(np.mean(np.abs(y - fitted)[pos] / y[pos])) if pos.any() else np.nan


class ResponseCurves:
    """Response curves of a weekly media frame's channels (sklearn-style).

    Parameters
    ----------
    n_starts : scipy starts: the middle curve, then seeded random ones within the bounds.
    holdout_weeks : final weeks held out to check the forecast against a baseline without media.
    n_draws : parameter draws (from the fit's covariance) behind every range.
    seed : seeds the starts and the draws.

    Attributes after ``fit``: ``channels_``; ``params_`` (decay per week, half_saturation and
    beta in money per week, shape); ``controls_`` (baseline coefficients, money per week);
    ``fit_quality_``; ``on_bounds_`` (sentences); ``covariance_``; ``current_spend_`` and
    ``max_spend_`` (weekly: mean of the last 13 weeks, highest week); ``seconds_``.

    >>> curves = ResponseCurves(seed=1).fit(weekly_media_frame(plan))  # doctest: +SKIP
    >>> curves.marginal_roas("paid_social", 200.0)  # doctest: +SKIP
    """

    def __init__(self, *, n_starts: int = 4, holdout_weeks: int = HOLDOUT_WEEKS,
                 n_draws: int = 400, seed: int = 42):
        self.n_starts, self.holdout_weeks = n_starts, holdout_weeks
        self.n_draws, self.seed = n_draws, seed

    def _arrays(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        x = frame[[PREFIX + c for c in self.channels_]].to_numpy(dtype=float) / self.scale_
        return x, np.column_stack([np.ones(len(frame)), frame[self.control_names_].to_numpy(float)])

    def fit(self, frame: pd.DataFrame, *, channels=None) -> ResponseCurves:
        """Fit the curves of ``channels`` (default: every spend column of the frame)."""
        from helpers.errors import DataError, UnknownNameError

        started, cols = time.perf_counter(), spend_columns(frame)
        for ch in channels or ():
            if ch not in cols:
                raise UnknownNameError.for_name(ch, cols, what="channel", where="ResponseCurves")
        self.channels_ = list(channels or cols)
        raw = frame[[cols[c] for c in self.channels_]].to_numpy(dtype=float)
        if not len(frame) or (raw.mean(axis=0) <= 0).any():
            raise DataError("ResponseCurves.fit: a channel has no spend in the frame; leave it "
                            "out (channel_support says which channels can be fitted).")
        self.scale_, self.control_names_ = raw.mean(axis=0), control_columns(frame)
        x, base = self._arrays(frame)
        y = frame[REVENUE].to_numpy(dtype=float)
        self.y_scale_, rng = abs(y.mean()) or 1.0, np.random.default_rng(self.seed)
        problem, n = _Problem(x, base, y / self.y_scale_), len(self.channels_)
        starts = [np.tile(PRIOR_MEAN, n)] + [rng.uniform(problem.lo, problem.hi)
                                             for _ in range(self.n_starts - 1)]
        self.theta_, self.beta_, self.gamma_ = problem.fit(starts)
        self.covariance_ = problem.covariance(self.theta_, self.beta_, self.gamma_)
        d = rng.multivariate_normal(np.r_[self.theta_, self.beta_, self.gamma_], self.covariance_,
                                    size=self.n_draws, method="eigh", check_valid="ignore")
        self.draws_theta_ = np.clip(d[:, :3 * n], problem.lo, problem.hi)
        self.draws_beta_ = np.clip(d[:, 3 * n:4 * n], 0.0, None)
        self._describe(raw, y, problem)
        self.seconds_ = time.perf_counter() - started
        return self

    def _describe(self, raw: np.ndarray, y: np.ndarray, problem: _Problem) -> None:
        t, ch = _natural(self.theta_), self.channels_
        self.params_ = pd.DataFrame({"decay": t[:, 0], "half_saturation": t[:, 1] * self.scale_,
                                     "shape": t[:, 2], "beta": self.beta_ * self.y_scale_},
                                    index=pd.Index(ch, name="channel"))
        self.controls_ = pd.Series(self.gamma_ * self.y_scale_,
                                   index=["intercept", *self.control_names_])
        self.current_spend_ = pd.Series(raw[-HOLDOUT_WEEKS:].mean(axis=0), index=ch)
        self.max_spend_ = pd.Series(raw.max(axis=0), index=ch)
        self.on_bounds_ = _bound_notes(ch, t, self.beta_)
        self.fit_quality_ = self._quality(problem, y)

    def _quality(self, problem: _Problem, y: np.ndarray) -> dict:
        """R^2 and MAPE in sample and over the held-out final weeks (refitted without them),
        against a baseline without media fitted on the same weeks."""
        fitted = problem.base @ self.gamma_ + _features(self.theta_, problem.x) @ self.beta_
        r2, mape = _scores(y, fitted * self.y_scale_)
        out = {"weeks": len(y), "r2": r2, "mape": mape, "holdout_weeks": 0, "holdout_r2": np.nan,
               "holdout_mape": np.nan, "baseline_holdout_mape": np.nan, "beats_baseline": None}
        cut = len(y) - self.holdout_weeks
        if self.holdout_weeks <= 0 or cut < 0.75 * MIN_WEEKS:
            return out
        train = _Problem(problem.x[:cut], problem.base[:cut], problem.y[:cut])
        theta, beta, gamma = train.fit([self.theta_])
        pred = problem.base @ gamma + _features(theta, problem.x) @ beta
        plain = problem.base @ np.linalg.lstsq(train.base, train.y, rcond=None)[0]
        (hr2, hmape), (_, bmape) = (_scores(y[cut:], p[cut:] * self.y_scale_)
                                    for p in (pred, plain))
        return out | {"holdout_weeks": self.holdout_weeks, "holdout_r2": hr2,
                      "holdout_mape": hmape, "baseline_holdout_mape": bmape,
                      "beats_baseline": bool(hmape < bmape)}

    # ---- reading the curves --------------------------------------------------------------
    def _curve(self, channel: str, weekly_spend, kind: str, theta, beta) -> np.ndarray:
        """``kind`` (response, marginal or average) at the weekly spends for parameter rows
        ``theta`` (m, 3C) and ``beta`` (m, C): an (m, spends) array in money."""
        from helpers.errors import UnknownNameError

        if channel not in self.channels_:
            raise UnknownNameError.for_name(channel, self.channels_, what="channel",
                                            where="ResponseCurves")
        c = self.channels_.index(channel)
        w = np.atleast_1d(np.asarray(weekly_spend, dtype=float))[None, :]
        k, s = np.exp(theta[:, 3 * c + 1, None]), np.exp(theta[:, 3 * c + 2, None])
        b, h = beta[:, c, None] * self.y_scale_, hill(w / self.scale_[c], k, s)
        safe = np.maximum(w, 1e-6 * self.scale_[c])
        return {"response": b * h, "average": b * h / safe,
                "marginal": b * s * h * (1 - h) / safe}[kind]

    def _point(self, channel, weekly_spend, kind):
        out = self._curve(channel, weekly_spend, kind, self.theta_[None], self.beta_[None])[0]
        return out if np.ndim(weekly_spend) else float(out[0])

    def response(self, channel: str, weekly_spend):
        """Steady-state extra revenue per week at a constant weekly spend."""
        return self._point(channel, weekly_spend, "response")

    def marginal_roas(self, channel: str, weekly_spend):
        """Revenue from one more unit of weekly spend, kept up, at that weekly spend."""
        return self._point(channel, weekly_spend, "marginal")

    def average_roas(self, channel: str, weekly_spend):
        """Extra revenue per unit of spend at a constant weekly spend."""
        return self._point(channel, weekly_spend, "average")

    def draws(self, channel: str, weekly_spend, *, kind: str = "response") -> np.ndarray:
        """``kind`` (response, marginal, average) under each parameter draw: (draws, spends)."""
        return self._curve(channel, weekly_spend, kind, self.draws_theta_, self.draws_beta_)

    def interval(self, channel: str, weekly_spend, *, kind: str = "response",
                 level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
        """Low and high ends of the ``level`` range of ``kind`` at the weekly spends."""
        d = self.draws(channel, weekly_spend, kind=kind)
        return tuple(np.quantile(d, [(1 - level) / 2, (1 + level) / 2], axis=0))

    def contribution(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each channel's fitted extra revenue in every week of the frame (money per week)."""
        h = _features(self.theta_, self._arrays(frame)[0]) * self.beta_ * self.y_scale_
        return pd.DataFrame(h, columns=self.channels_).assign(**{WEEK: frame[WEEK].to_numpy()})

    def summary(self, *, level: float = LEVEL) -> pd.DataFrame:
        """Per channel at its current weekly spend (mean of the last 13 weeks): average and
        marginal ROAS with their ``level`` ranges, the highest week seen, and the parameters."""
        rows = []
        for ch in self.channels_:
            now = self.current_spend_[ch]
            row = {"channel": ch, "current_weekly_spend": now,
                   "max_weekly_spend": self.max_spend_[ch]}
            for kind in ("average", "marginal"):
                lo, hi = self.interval(ch, now, kind=kind, level=level)
                row |= {f"{kind}_roas": self._point(ch, now, kind), f"{kind}_roas_low": lo[0],
                        f"{kind}_roas_high": hi[0]}
            rows.append(row | self.params_.loc[ch].to_dict())
        return pd.DataFrame(rows)


# ---- simulated data with known curves (for recovery tests) -----------------------------------
def simulate_media(params: dict[str, dict], *, weeks: int = 156, seed: int = 0,
                   base: float = 10_000.0, trend: float = 0.2, season: float = 0.15,
                   noise: float = 0.03, start: str = "2023-01-02") -> pd.DataFrame:
    """A weekly media frame (``weekly_media_frame``'s layout) from known curves.

    ``params`` maps each channel to ``decay`` (per week), ``half_saturation`` and ``beta``
    (money per week), ``shape`` and ``mean_spend``. Spend runs in flights of 2-8 weeks, a quarter
    of them off, the rest at 0.3-1.8 x ``mean_spend``. Revenue is ``base * (1 + trend * t +
    season * sin(yearly))`` + each ``beta * Hill(adstock(spend))`` + noise of sd ``noise * base``.
    """
    rng, weeks_at = np.random.default_rng(seed), pd.date_range(start, periods=weeks, freq="7D")
    spend = {}
    for ch, p in params.items():
        levels = []
        while len(levels) < weeks:
            on = rng.random() >= 0.25
            levels += [on * p["mean_spend"] * rng.uniform(0.3, 1.8)] * int(rng.integers(2, 9))
        spend[ch] = np.array(levels[:weeks]) * rng.uniform(0.9, 1.1, weeks)
    ctrl = controls(weeks_at)
    revenue = base * (1 + trend * ctrl["trend"] + season * ctrl["sin_1"])
    revenue += sum(p["beta"] * hill(adstock(spend[ch], p["decay"]), p["half_saturation"],
                                    p["shape"]) for ch, p in params.items())
    revenue += rng.normal(0.0, noise * base, weeks)
    return assemble(revenue, pd.DataFrame(spend, index=weeks_at))


# ---- the curves on a chart -------------------------------------------------------------------
def response_curves_data(curves: ResponseCurves, frame: pd.DataFrame | None = None, *,
                         channels=None, points: int = 60) -> pd.DataFrame:
    """Per channel (default all), weekly spend from 0 to 1.5 x its highest week: extra revenue
    per week with its range, whether such a spend was ever seen, and the current spend (mean of
    the last 13 weeks of ``frame``, default of the fitted frame)."""
    now = curves.current_spend_ if frame is None else pd.Series(
        {ch: frame[PREFIX + ch].tail(HOLDOUT_WEEKS).mean() for ch in curves.channels_})
    parts = []
    for ch in channels or curves.channels_:
        grid = np.linspace(0.0, 1.5 * curves.max_spend_[ch], points)
        low, high = curves.interval(ch, grid)
        parts.append(pd.DataFrame({"channel": ch, "weekly_spend": grid,
                                   "revenue": curves.response(ch, grid), "low": low, "high": high,
                                   "observed": grid <= curves.max_spend_[ch],
                                   "current_spend": now[ch]}))
    return pd.concat(parts, ignore_index=True)


def plot_response_curves(curves: ResponseCurves, frame: pd.DataFrame | None = None, *,
                         currency: str = "USD", channels=None, ax=None):
    """Extra revenue per week against weekly spend per channel (default all): the 90 % range
    shaded, the current spend marked, dashed beyond the highest week seen."""
    from helpers.plan import SYMBOLS

    data, ax = response_curves_data(curves, frame, channels=channels), plots.axes(ax)
    for i, (ch, d) in enumerate(data.groupby("channel", sort=False)):
        color, seen = plots.PALETTE[i % len(plots.PALETTE)], d["observed"]
        ax.plot(d["weekly_spend"][seen], d["revenue"][seen], color=color, label=label(ch))
        ax.plot(d["weekly_spend"][~seen], d["revenue"][~seen], color=color, ls="--")
        ax.fill_between(d["weekly_spend"], d["low"], d["high"], color=color, alpha=0.08)
        now = d["current_spend"].iloc[0]
        ax.plot([now], [curves.response(ch, now)], "o", color=color, ms=8)
    m = {ch: curves.marginal_roas(ch, curves.current_spend_[ch]) for ch in channels or
         curves.channels_}
    best, worst = max(m, key=m.get), min(m, key=m.get)
    sym = SYMBOLS.get(currency, currency + " ").replace("$", r"\$")
    ax.set(xlabel=f"weekly spend ({currency})", ylabel=f"extra revenue per week ({currency})",
           title=f"One more {sym}1 a week brings back {sym}{m[best]:.2f} on {label(best)}"
           + (f", {sym}{m[worst]:.2f} on {label(worst)}" if worst != best else ""))
    plots.money_axis(ax, currency)
    plots.money_axis(ax, currency, axis="x")
    ax.legend(frameon=False)
    return ax
