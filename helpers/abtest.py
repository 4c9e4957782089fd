"""Step 09: how big a lift is and how sure you can be of it.

The statistics behind ``helpers.experiments``: per variant the rate with its Wilson interval;
challenger against control a two-proportion z-test (statsmodels), a Newcombe interval on the
difference, a Welch interval on revenue per unit, the Bayesian chance of being better (Beta(1, 1)
priors, seeded Monte Carlo), a sample ratio mismatch check and the sample a lift needs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.errors import ConfigError, UnknownNameError

DESIGNS = ((50, 50), (60, 40), (67, 33), (70, 30), (75, 25), (80, 20), (90, 10))
SRM_ALPHA = 0.001  # the usual bar for a sample ratio mismatch: it must be very unlikely by chance
POWER, MIN_DAYS = 0.8, 7  # the power a test needs to be big enough; days to observe it


def points(share: float) -> str:
    """A difference in rates as signed percentage points for a sentence: 0.0312 -> '+3.1'
    (never '-0.0')."""
    return f"{round(100 * share, 1) + 0.0:+.1f}"


def variant_table(units: pd.DataFrame, *, control: str, alpha: float = 0.05) -> pd.DataFrame:
    """Per variant (control first): n, conversions, rate and its Wilson interval, revenue and
    revenue per unit; clicks and click rate when the units have them."""
    from statsmodels.stats.proportion import proportion_confint

    g = units.groupby("variant", sort=True)
    t = pd.DataFrame({"n": g.size(), "conversions": g["converted"].sum().astype(int)})
    t["rate"] = t.conversions / t.n
    t["rate_low"], t["rate_high"] = proportion_confint(t.conversions, t.n, alpha=alpha,
                                                       method="wilson")
    if "clicked" in units:
        t["clicks"] = g["clicked"].sum().astype(int)
        t["click_rate"] = t.clicks / t.n
    t["revenue"] = g["revenue"].sum()
    t["revenue_per_unit"] = t.revenue / t.n
    order = [control] + [v for v in t.index if v != control]
    t = t.reindex(order).rename_axis("variant").reset_index()
    t.insert(1, "role", ["control"] + ["challenger"] * (len(t) - 1))
    return t


def bayes_beats(x_t: int, n_t: int, x_c: int, n_c: int, *, draws: int = 20000,
                seed: int = 42) -> tuple[float, float]:
    """Chance that the challenger's true rate is above the control's, and the expected loss of
    choosing it (the average shortfall, in rate, over the draws where it is worse): Beta(1, 1)
    priors, ``draws`` Monte Carlo draws from each posterior."""
    # Written out: the Beta-Binomial comparison is three lines of numpy, and no installed
    # library offers it (statsmodels and scipy stop at the frequentist tests).
    rng = np.random.default_rng(seed)
    p_t = rng.beta(1 + x_t, 1 + n_t - x_t, draws)
    p_c = rng.beta(1 + x_c, 1 + n_c - x_c, draws)
    return float((p_t > p_c).mean()), float(np.maximum(p_c - p_t, 0.0).mean())


def compare_rates(x_t: int, n_t: int, x_c: int, n_c: int, *, alpha: float = 0.05) -> dict:
    """Challenger (t) against control (c): difference in rates, its Newcombe interval (Wilson
    score intervals combined: better than Wald for small counts), relative lift, and the pooled
    two-proportion z-test (two-sided)."""
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    r_t, r_c = x_t / n_t, x_c / n_c
    if x_t + x_c in (0, n_t + n_c):  # no variance: every unit did the same
        z, p = 0.0, 1.0
    else:
        z, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="newcombe",
                                           compare="diff", alpha=alpha)
    return {"diff": r_t - r_c, "diff_low": float(low), "diff_high": float(high),
            "relative_lift": (r_t - r_c) / r_c if r_c else np.nan, "z": float(z), "p": float(p)}


def compare_revenue(rev_t, rev_c, *, alpha: float = 0.05) -> dict:
    """Difference in revenue per unit with Welch's t interval (unequal variances)."""
    from scipy.stats import ttest_ind

    rev_t, rev_c = np.asarray(rev_t, float), np.asarray(rev_c, float)
    diff = float(rev_t.mean() - rev_c.mean())
    if rev_t.std() == 0 and rev_c.std() == 0:
        return {"revenue_diff": diff, "revenue_low": diff, "revenue_high": diff, "revenue_p": 1.0}
    res = ttest_ind(rev_t, rev_c, equal_var=False)
    ci = res.confidence_interval(1 - alpha)
    return {"revenue_diff": diff, "revenue_low": float(ci.low), "revenue_high": float(ci.high),
            "revenue_p": float(res.pvalue)}


def _expected_shares(counts: pd.Series, expected_split) -> tuple[pd.Series, str, bool]:
    """The intended share of each variant, its name ('80/20') and whether it was assumed."""
    if expected_split is not None:
        if isinstance(expected_split, dict):
            for key in expected_split:
                if key not in counts.index:
                    raise UnknownNameError.for_name(str(key), counts.index, what="variant",
                                                    where="expected_split")
            shares = pd.Series(expected_split, dtype=float).reindex(counts.index).fillna(0.0)
        elif len(expected_split) != len(counts):
            raise ConfigError(f"expected_split has {len(expected_split)} shares for "
                              f"{len(counts)} variants ({', '.join(counts.index)}): give one "
                              "share per variant, control first, or a {variant: share} mapping.")
        else:
            shares = pd.Series(list(expected_split), index=counts.index, dtype=float)
        assumed = False
    elif len(counts) == 2:
        seen = counts.iloc[0] / counts.sum()
        options = [a / 100 for pair in DESIGNS for a in pair]
        first = min(options, key=lambda s: abs(s - seen))
        shares, assumed = pd.Series([first, 1 - first], index=counts.index), True
    else:
        shares, assumed = pd.Series(1 / len(counts), index=counts.index), True
    shares = shares / shares.sum()
    return shares, " / ".join(f"{v} {100 * s:.0f}%" for v, s in shares.items()), assumed


def sample_ratio(counts: pd.Series, *, expected_split=None) -> dict:
    """Sample ratio mismatch: a chi-square test of the units per variant (``counts``, control
    first) against the intended split. Without ``expected_split`` (a {variant: share} mapping
    or shares in the order of ``counts``) the nearest common design (50/50, 60/40, 67/33, 70/30,
    75/25, 80/20, 90/10, either way round) is assumed for two variants, an even split for more.
    ``mismatch`` when p < 0.001."""
    from scipy.stats import chisquare

    shares, design, assumed = _expected_shares(counts, expected_split)
    chi2, p = chisquare(counts.to_numpy(float), f_exp=shares.to_numpy() * counts.sum())
    return {"design": design, "assumed": assumed, "expected": shares.round(4).to_dict(),
            "observed": counts.astype(int).to_dict(), "chi2": float(chi2), "p": float(p),
            "mismatch": bool(p < SRM_ALPHA)}


def needed_per_group(r_c: float, r_t: float, *, ratio: float = 1.0, alpha: float = 0.05,
                     power: float = POWER) -> tuple[float, float]:
    """Units needed in control and challenger for a test with this baseline and lift to reach
    ``power`` (statsmodels NormalIndPower on Cohen's h; ``ratio`` = challenger / control units).
    (inf, inf) when the rates are equal: no sample detects a zero lift."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = abs(float(proportion_effectsize(r_t, r_c)))
    if not h > 1e-9:
        return np.inf, np.inf
    n_c = float(NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power,
                                             ratio=ratio))
    return n_c, float(n_c * ratio)


def compare_variants(units, table, *, alpha: float, seed: int, draws: int) -> pd.DataFrame:
    """Each challenger against the control on the main metric (and clicks), Holm-corrected
    p-values and Bonferroni-widened intervals when there is more than one challenger."""
    from statsmodels.stats.multitest import multipletests

    c, m = table.iloc[0], len(table) - 1
    level = alpha / m  # one challenger: the plain interval
    rows = []
    for metric, count in (("main", "conversions"), ("clicked", "clicks")):
        if count not in table:
            continue
        for i, t in enumerate(table.iloc[1:].itertuples(index=False), start=1):
            x_t, x_c = int(getattr(t, count)), int(c[count])
            row = {"metric": metric, "variant": t.variant, "control": c.variant,
                   **compare_rates(x_t, t.n, x_c, int(c.n), alpha=level)}
            row["prob_beats"], row["expected_loss"] = bayes_beats(
                x_t, t.n, x_c, int(c.n), draws=draws, seed=seed + i)
            if units.attrs.get("has_revenue") and metric == "main":
                row |= compare_revenue(units.loc[units.variant == t.variant, "revenue"],
                                       units.loc[units.variant == c.variant, "revenue"],
                                       alpha=level)
            rows.append(row)
    out = pd.DataFrame(rows)
    for idx in out.groupby("metric").groups.values():
        out.loc[idx, "p_adjusted"] = multipletests(out.loc[idx, "p"], method="holm")[1]
    out["significant"] = out["p_adjusted"] < alpha
    return out


def stopping_checks(units, table, best, *, alpha: float) -> tuple[dict, list[str]]:
    """Units needed for the observed baseline and lift at 80 % power, days observed, and the
    early-stopping warnings."""
    c, t = table.iloc[0], table.set_index("variant").loc[best.variant]
    need_c, need_t = needed_per_group(c.rate, t.rate, ratio=t.n / c.n, alpha=alpha)
    first, last = units.exposed_at.min(), units.exposed_at.max()
    until = pd.Timestamp(units.attrs.get("observed_until") or last)
    days = int((until.normalize() - first.normalize()).days) if pd.notna(first) else None
    power = {"needed_control": need_c, "needed_challenger": need_t, "days_observed": days,
             "underpowered": bool(np.isfinite(need_c) and (c.n < need_c or t.n < need_t))}
    warn = []
    if power["underpowered"]:  # no difference at all has no sample size to speak of
        warn.append(f"To detect a change this size ({points(best['diff'])} points on "
                    f"{c.rate:.1%}) 8 times in 10 takes about {need_c:,.0f} units with "
                    f"{c.variant} and {need_t:,.0f} with {best.variant}; this test had "
                    f"{int(c.n):,} and {int(t.n):,}, so its result may be chance or overstate "
                    "the effect.")
    if days is None:
        warn.append("No exposure dates: how long the test ran cannot be checked.")
    elif days < MIN_DAYS:
        warn.append(f"It has been observed for only {days} day(s) since the first exposure: "
                    f"give it at least {MIN_DAYS} days, so that late conversions and every "
                    "weekday are counted.")
    if best.diff_low < 0 < best.diff_high:
        warn.append(f"The interval on the difference ({points(best.diff_low)} to "
                    f"{points(best.diff_high)} points) still includes zero: if the test has "
                    "stopped, it stopped before telling the variants apart.")
    return power, warn
