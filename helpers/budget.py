"""Step 07: where the next unit of ad money should go, from the response curves of
``helpers.curves``; or, when the data cannot support curves, what the platforms report and the
test that would settle it (``helpers.media_fallback``).

All amounts here are per month (a month is 52 / 12 weeks of the curves' steady weekly response).
Ranges are 90 % ranges over the curves' parameter draws, taken jointly across channels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import media, plots
from helpers.curves import ResponseCurves
from helpers.errors import ConfigError, UnknownNameError
from helpers.explore import label
from helpers.media_fallback import fallback_reading, money_range, plot_fallback, roas_fallback
from helpers.plan import money

WPM = 52 / 12  # weeks per month
LOW_SHARE, HIGH_SHARE, SEEN_CAP = 0.5, 2.0, 1.5  # band around today's spend; cap x top week


# ---- the optimiser ---------------------------------------------------------------------------
def _amounts(value, channels, what: str) -> dict[str, float]:
    """{channel: amount} from None, one number for all, or a dict (names checked)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return dict.fromkeys(channels, float(value))
    for ch in value:
        if ch not in channels:
            raise UnknownNameError.for_name(ch, channels, what="channel", where=what)
    return {ch: float(v) for ch, v in value.items()}


def default_bounds(curves: ResponseCurves, current: dict[str, float]) -> pd.DataFrame:
    """Per channel, monthly: half to twice its current spend, and never above 1.5 x the highest
    week it ever had (a channel not running now may go back up to its average week)."""
    rows = {}
    for ch, now in current.items():
        cap = SEEN_CAP * curves.max_spend_[ch] * WPM
        high = min(HIGH_SHARE * now, cap) if now > 0 else curves.scale_[
            curves.channels_.index(ch)] * WPM
        rows[ch] = {"low": min(LOW_SHARE * now, high), "high": max(high, LOW_SHARE * now)}
    return pd.DataFrame.from_dict(rows, orient="index")


def _bounds(curves, current, total, min_spend, max_spend, locked):
    names = list(current)
    b = default_bounds(curves, current)
    for col, given in (("low", _amounts(min_spend, names, "min_spend")),
                       ("high", _amounts(max_spend, names, "max_spend"))):
        for ch, v in given.items():
            b.loc[ch, col] = v
    for ch in locked:
        if ch not in names:
            raise UnknownNameError.for_name(ch, names, what="channel", where="locked")
        b.loc[ch, ["low", "high"]] = current[ch]
    bad = b[b["low"] > b["high"] + 1e-9]
    if len(bad):
        raise ConfigError("optimise_budget: the minimum is above the maximum for " + ", ".join(
            f"{ch} ({r.low:,.0f} > {r.high:,.0f} a month)" for ch, r in bad.iterrows())
            + ": lower min_spend or raise max_spend for them (without max_spend a channel may "
            "grow to twice its current spend, and at most 1.5 times its highest week).")
    for side, word, fix in (("low", "minimum", "lower min_spend, unlock a channel or raise the "
                             "total"), ("high", "maximum", "raise max_spend or lower the total")):
        s = b[side].sum()
        if (side == "low" and s > total + 1e-6) or (side == "high" and s < total - 1e-6):
            parts = ", ".join(f"{ch} {v:,.0f}" + (" (locked)" if ch in locked else "")
                              for ch, v in b[side].items())
            raise ConfigError(f"optimise_budget: the {word} spends per channel ({parts}) add up "
                              f"to {s:,.0f} a month, {'above' if side == 'low' else 'below'} the "
                              f"total of {total:,.0f}: {fix}.")
    return b


def _fill(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float) -> np.ndarray:
    """``x`` shifted by one amount and clipped to [lo, hi] so that it sums to ``total``."""
    from scipy.optimize import brentq

    def gap(shift):
        return np.clip(x + shift, lo, hi).sum() - total

    a, b = (lo - x).min() - 1.0, (hi - x).max() + 1.0
    out = np.clip(x + brentq(gap, a, b, xtol=1e-12 * max(total, 1.0)), lo, hi)
    slack = np.flatnonzero((out > lo) & (out < hi)) if out.sum() != total else []
    if len(slack):  # the last few cents of rounding go to one channel with room
        out[slack[0]] = np.clip(out[slack[0]] + total - out.sum(), lo[slack[0]], hi[slack[0]])
    return out


def _monthly(curves, channels, spend, draws: bool = False) -> np.ndarray:
    """Monthly extra revenue of each channel at monthly spends: (C,) or, with draws, (D, C)."""
    if draws:
        return np.column_stack([curves.draws(ch, s / WPM)[:, 0] * WPM
                                for ch, s in zip(channels, spend, strict=True)])
    return np.array([curves.response(ch, s / WPM) * WPM for ch, s in zip(channels, spend,
                                                                          strict=True)])


def _maximise(curves, channels, lo, hi, total, starts) -> np.ndarray:
    """The split of ``total`` within [lo, hi] with the most extra revenue (scipy's SLSQP)."""
    from scipy.optimize import minimize

    scale = max(total, 1.0)
    norm = max(float(_monthly(curves, channels, hi).sum()), 1e-9)

    def loss(u):
        return -_monthly(curves, channels, u * scale).sum() / norm

    def grad(u):
        return -np.array([curves.marginal_roas(ch, v * scale / WPM)
                          for ch, v in zip(channels, u, strict=True)]) * scale / norm

    best = None
    for x0 in starts:
        got = minimize(loss, _fill(x0, lo, hi, total) / scale, jac=grad, method="SLSQP",
                       bounds=list(zip(lo / scale, hi / scale, strict=True)),
                       constraints=[{"type": "eq", "fun": lambda u: u.sum() - total / scale,
                                     "jac": lambda u: np.ones_like(u)}],
                       options={"ftol": 1e-10, "maxiter": 200})
        x = _fill(got.x * scale, lo, hi, total)
        if best is None or loss(x / scale) < loss(best / scale):
            best = x
    return best


def optimise_budget(curves: ResponseCurves, *, total: float, current: dict[str, float],
                    min_spend=None, max_spend=None, locked=(), seed: int = 42) -> pd.DataFrame:
    """The monthly split of ``total`` over the channels of ``current`` ({channel: monthly
    spend now}) that the curves expect to bring the most extra revenue.

    Each channel stays within ``min_spend``/``max_spend`` (one amount or {channel: amount}),
    by default half to twice its current spend and at most 1.5 x its highest week (the curves
    are not to be trusted far from what was tried); ``locked`` channels stay at current. Returns
    one row per channel and a ``total`` row: current, recommended, change, and the expected
    monthly extra revenue at each (``revenue_current``, ``revenue_recommended``) and the
    ``gain``, each with ``_low``/``_high`` ends. ConfigError when the limits cannot meet the total.
    """
    channels, lock = list(current), set(locked)
    b = _bounds(curves, current, float(total), min_spend, max_spend, lock)
    now = np.array([current[ch] for ch in channels], dtype=float)
    lo, hi = b.loc[channels, "low"].to_numpy(), b.loc[channels, "high"].to_numpy()
    rng = np.random.default_rng(seed)
    starts = [now, lo + (hi - lo) / 2] + [lo + (hi - lo) * rng.random(len(now)) for _ in range(2)]
    best = _maximise(curves, channels, lo, hi, float(total), starts)
    table = pd.DataFrame({"channel": [*channels, "total"], "current": np.r_[now, now.sum()],
                          "recommended": np.r_[best, best.sum()],
                          "locked": [ch in lock for ch in channels] + [False]})
    table.insert(3, "change", table["recommended"] - table["current"])
    (rc, dc), (rr, dr) = ((_monthly(curves, channels, v), _monthly(curves, channels, v, True))
                          for v in (now, best))
    for name, point, d in (("revenue_current", rc, dc), ("revenue_recommended", rr, dr),
                           ("gain", rr - rc, dr - dc)):
        table[name], table[f"{name}_low"], table[f"{name}_high"] = _ranged(point, d)
    return table


def _ranged(point: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per channel and in total: the point and the 90 % ends of the draws (joint)."""
    both = np.column_stack([draws, draws.sum(axis=1)])
    lo, hi = np.quantile(both, media.LEVEL_ENDS, axis=0)
    return np.r_[point, point.sum()], lo, hi


def scenario(curves: ResponseCurves, *, monthly_total: float, months: int = 3,
             allocation: dict[str, float] | None = None, current: dict[str, float] | None = None,
             locked=()) -> pd.DataFrame:
    """"If I spend ``monthly_total`` a month": the split (``allocation`` as given, else the
    optimal one around ``current``, default the last 13 weeks' spend) and the extra revenue
    expected over ``months`` months per channel and in total, with its range."""
    if allocation is None:
        current = current or {ch: v * WPM for ch, v in curves.current_spend_.items()}
        best = optimise_budget(curves, total=monthly_total, current=current, locked=locked)
        allocation = dict(zip(best["channel"][:-1], best["recommended"][:-1], strict=True))
    channels = list(allocation)
    spend = np.array([allocation[ch] for ch in channels], dtype=float)
    out = pd.DataFrame({"channel": [*channels, "total"], "monthly_spend": np.r_[spend, spend.sum()],
                        "spend": np.r_[spend, spend.sum()] * months, "months": months})
    point, draws = (_monthly(curves, channels, spend, d) * months for d in (False, True))
    out["revenue"], out["revenue_low"], out["revenue_high"] = _ranged(point, draws)
    return out


# ---- the section -----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class BudgetResult:
    """Step 07's budget section: the tables to show, the reading, warnings and headline."""

    supported: bool
    reason: str
    frame: pd.DataFrame | None = None
    curves: ResponseCurves | None = None
    allocation: pd.DataFrame = field(default_factory=pd.DataFrame)
    scenarios: pd.DataFrame = field(default_factory=pd.DataFrame)
    fallback: pd.DataFrame = field(default_factory=pd.DataFrame)
    reading: str = ""
    warnings: list[str] = field(default_factory=list)
    headline: dict = field(default_factory=dict)
    currency: str = "USD"

    @property
    def files(self) -> dict[str, pd.DataFrame]:
        """The table ``helpers.activation`` writes under actions/: the monthly split."""
        cols = ["channel", "current", "recommended", "change", "gain", "gain_low", "gain_high"]
        return {"budget_split": self.allocation[cols]} if self.supported else {}

    @property
    def free_channels(self) -> list[str]:
        """Channels whose budget the curves may move (for ``curves.plot_response_curves``)."""
        a = self.allocation
        return [] if a.empty else [c for c in a.loc[~a["locked"], "channel"] if c != "total"]

    @property
    def what_to_do(self) -> dict[str, str]:
        return {"budget_split": "Set each channel's monthly budget in its ad platform to the "
                "recommended amount, a quarter of the change a month, and compare each month's "
                "sales with the expected gain."}


def _current(plan, curves, frame) -> tuple[dict[str, float], dict[str, float]]:
    """Monthly spend now of the channels with curves and of the others (held fixed): budget.
    by_channel in business.yaml where it names the channel, else the last 13 weeks' spend."""
    by, recent = plan.settings.budget.by_channel, {
        ch: frame[col].tail(media.HOLDOUT_WEEKS).mean() * WPM
        for ch, col in media.spend_columns(frame).items()}
    now = {ch: float(by.get(ch, recent[ch])) for ch in curves.channels_}
    fixed = {ch: float(v) for ch, v in {**recent, **by}.items() if ch not in now}
    return now, fixed


def _limits(total, names, min_share, max_share):
    return ({ch: v * total for ch, v in _amounts(min_share, names, "min_share").items()} or None,
            {ch: v * total for ch, v in _amounts(max_share, names, "max_share").items()} or None)


def budget_section(plan, *, monthly_total: float | None = None, locked=(), min_share=None,
                   max_share=None, seed: int = 42, events=()) -> BudgetResult:
    """Response curves, the best split of the monthly budget, next-quarter scenarios and the
    platform-reported ROAS / CPA with the test that would check them.

    ``monthly_total``: default budget.monthly in business.yaml, else the recent spend. Channels
    without curves (spend that never varies, or missing from the spend table) and channels whose
    spend follows the calendar too closely are held at their current spend, with ``locked``.
    ``min_share`` / ``max_share`` (one share for all or {channel: share} of the total for the
    channels with curves) replace the default band of half to twice the current spend.
    """
    cur = plan.currency
    if not (plan.has("marketing_spend") and plan.has("orders")):
        why = " ".join(plan.why_missing(t) for t in ("marketing_spend", "orders")
                       if not plan.has(t))
        return BudgetResult(False, why, reading=f"No budget advice yet: {why}", currency=cur)
    frame = media.weekly_media_frame(plan, events=events)
    fallback = roas_fallback(plan, frame, seed=seed)
    ok, reason = media.support_check(frame)
    if not ok:
        return BudgetResult(False, reason, frame, fallback=fallback, currency=cur,
                            reading=fallback_reading(fallback, reason, cur),
                            warnings=[reason], headline={"supported": False, "weeks": len(frame)})
    support = media.channel_support(frame)
    curves = ResponseCurves(seed=seed).fit(frame, channels=list(
        support.loc[support["usable"], "channel"]))
    current, fixed = _current(plan, curves, frame)
    for ch in locked:
        if ch not in {**current, **fixed}:
            raise UnknownNameError.for_name(ch, {**current, **fixed}, what="channel",
                                            where="budget_section(locked=...)")
    lock = (set(locked) & set(current)) | set(support.loc[support["confounded"], "channel"])
    wanted = (monthly_total or plan.settings.budget.monthly or
              sum(current.values()) + sum(fixed.values())) - sum(fixed.values())
    warnings = list(curves.on_bounds_)
    total = wanted if min_share is not None or max_share is not None else _placeable(
        curves, current, lock, wanted, cur, warnings)
    lo, hi = _limits(total, current, min_share, max_share)
    try:
        allocation = optimise_budget(curves, total=total, current=current, min_spend=lo,
                                     max_spend=hi, locked=lock, seed=seed)
    except ConfigError as exc:  # name the section's own keys
        raise ConfigError(str(exc).replace("optimise_budget", "budget_section").replace(
            "min_spend", "min_share").replace("max_spend", "max_share")) from exc
    allocation = _with_fixed(allocation, fixed)
    scenarios = _scenarios(curves, current, lock, total, lo, hi)
    return _supported(plan, frame, curves, support, allocation, scenarios, fallback, lock,
                      warnings, reason)


def _placeable(curves, current, lock, wanted: float, cur: str, warnings: list[str]) -> float:
    """The part of ``wanted`` the default limits can place (a warning when it is not all)."""
    b = default_bounds(curves, current).assign(now=pd.Series(current))
    b.loc[list(lock & set(b.index)), ["low", "high"]] = b["now"]
    total = float(np.clip(wanted, b["low"].sum(), b["high"].sum()))
    if abs(total - wanted) > 0.5:
        warnings.append(f"The curves can only place {money(total, cur)} a month of the "
                        f"{money(wanted, cur)} within half to twice today's spend per channel; "
                        "the plan uses that. Set min_share / max_share to go further.")
    return total


def _with_fixed(allocation: pd.DataFrame, fixed: dict[str, float]) -> pd.DataFrame:
    """The allocation with the channels held fixed outside the curves, before the total row."""
    if not fixed:
        return allocation
    rows = pd.DataFrame({"channel": list(fixed), "current": list(fixed.values()),
                         "recommended": list(fixed.values()), "change": 0.0, "locked": True})
    out = pd.concat([allocation.iloc[:-1], rows], ignore_index=True)
    total = allocation.iloc[-1].copy()
    total[["current", "recommended"]] = out[["current", "recommended"]].sum()
    return pd.concat([out, total.to_frame().T], ignore_index=True).astype(
        {"locked": bool}).infer_objects()


def _scenarios(curves, current, lock, total, lo, hi) -> pd.DataFrame:
    """Next quarter at 80 %, 100 % and 120 % of the monthly total (within what the limits allow):
    the total rows of ``scenario``, with the split in words."""
    rows = []
    for factor in (0.8, 1.0, 1.2):
        try:
            best = optimise_budget(curves, total=total * factor, current=current, locked=lock,
                                   min_spend=lo, max_spend=hi)
        except ConfigError:
            continue
        alloc = dict(zip(best["channel"][:-1], best["recommended"][:-1], strict=True))
        s = scenario(curves, monthly_total=total * factor, allocation=alloc)
        split = ", ".join(f"{label(ch)} {v:,.0f}" for ch, v in alloc.items())
        rows.append(s.iloc[-1].drop("channel").to_dict() | {"vs_today": factor, "split": split})
    return pd.DataFrame(rows)


# ---- readings and the chart ------------------------------------------------------------------
def _fit_sentences(frame, q: dict, warnings: list[str]) -> list[str]:
    text = [f"From {len(frame)} weeks of spend and sales, the curves explain {q['r2']:.0%} of the "
            "ups and downs of your weekly revenue, together with trend, season and sale weeks."]
    if q["holdout_weeks"]:
        better = "better" if q["beats_baseline"] else "no better"
        text.append(f"Refitted without the last {q['holdout_weeks']} weeks, they forecast them "
                    f"within {q['holdout_mape']:.0%} on average, {better} than a forecast "
                    f"without the ads ({q['baseline_holdout_mape']:.0%}).")
        if not q["beats_baseline"]:
            warnings.append("The curves forecast the held-out weeks no better than a baseline "
                            "without ads: treat the split as a hypothesis and test it.")
    return text


def _supported(plan, frame, curves, support, allocation, scenarios, fallback, lock, warnings,
               reason) -> BudgetResult:
    cur, s = plan.currency, curves.summary().set_index("channel")
    a = allocation.set_index("channel")
    moved, gain = a.drop(index="total")["change"], a.loc["total"]
    up, down = moved.idxmax(), moved.idxmin()
    text = _fit_sentences(frame, curves.fit_quality_, warnings)
    free = sorted((ch for ch in curves.channels_ if ch not in lock),
                  key=lambda c: -s.at[c, "marginal_roas"])
    text.append(f"At today's spend, one more {money(1, cur)} a week brings back " + "; ".join(
        f"{money(s.at[ch, 'marginal_roas'], cur, decimals=2)} on {label(ch)} (90 % range "
        f"{money_range(s.at[ch, 'marginal_roas_low'], s.at[ch, 'marginal_roas_high'], cur, 2)})"
        for ch in free) + ".")
    if moved.max() > 0.02 * gain["current"]:
        text.append(f"Moving about {money(moved.max(), cur)} a month from {label(down)} to "
                    f"{label(up)} is expected to bring {money(gain['gain'], cur)} more revenue a "
                    f"month (90 % range {money_range(gain['gain_low'], gain['gain_high'], cur)}).")
    else:
        text.append("Your split is already close to the best the curves can find.")
    text.append("Each channel stays between half and twice its current spend and under 1.5 times "
                "its highest week: the curves are not to be trusted far from what you have tried.")
    if gain["gain_low"] <= 0:
        warnings.append("The 90 % range of the gain reaches down to no gain or a loss: move in "
                        "steps (a quarter of the shift a month) and check the results each month.")
    flat = [label(ch) for ch in free if s.at[ch, "beta"] <= 0]
    if flat:
        text.append(f"No effect of {', '.join(flat)} shows in your sales, so the plan trims it to "
                    "the lowest allowed; test it before cutting further.")
    share = support.set_index("channel")["calendar_share"]
    for ch in support.loc[support["confounded"], "channel"]:
        warnings.append(f"{label(ch).capitalize()} is held at its current spend: {share[ch]:.0%} "
                        "of its ups and downs follow your season and sales, so its own effect "
                        "cannot be told apart.")
        text.append(warnings[-1])
    if held := [label(ch) for ch in a.index if ch not in curves.channels_ and ch != "total"]:
        text.append(f"Held at their current budget, without a curve: {', '.join(held)}.")
    q = curves.fit_quality_
    headline = {"supported": True, "weeks": len(frame), "fit_r2": q["r2"],
                "holdout_mape": q["holdout_mape"],
                "baseline_holdout_mape": q["baseline_holdout_mape"], "moved_from": down,
                "moved_to": up, "moved_amount": float(moved.max()),
                "expected_gain": float(gain["gain"]), "gain_low": float(gain["gain_low"]),
                "gain_high": float(gain["gain_high"]), "monthly_total": float(gain["recommended"]),
                "fit_seconds": curves.seconds_}
    return BudgetResult(True, reason, frame, curves, allocation, scenarios, fallback,
                        " ".join(text), warnings, headline, cur)


def plot_allocation(result: BudgetResult, ax=None):
    """Current and recommended monthly spend per channel (fixed channels included); without
    curves, the platform-reported cost per conversion with its range."""
    if result.allocation.empty:
        return plot_fallback(result.fallback, currency=result.currency, ax=ax)
    ax, cur, h = plots.axes(ax), result.currency, result.headline
    a = result.allocation[result.allocation["channel"] != "total"]
    y = np.arange(len(a))
    ax.barh(y - 0.2, a["current"], height=0.4, color=plots.MUTED, label="today")
    ax.barh(y + 0.2, a["recommended"], height=0.4, color=plots.ACCENT, label="recommended")
    ax.set_yticks(y, [label(c) for c in a["channel"]])
    ax.invert_yaxis()
    title = (f"Move {money(h['moved_amount'], cur)} a month to {label(h['moved_to'])}: about "
             f"{money(h['expected_gain'], cur)} more revenue a month"
             if h["moved_amount"] > 0.02 * a["current"].sum() else "Your split is close to best")
    ax.set(title=title.replace("$", r"\$"), xlabel=f"monthly spend ({cur})")
    plots.money_axis(ax, cur, axis="x")
    ax.legend(frameon=False)
    return ax
