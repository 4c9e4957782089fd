"""Step 11: which channels get the credit for a sale, and what a test says they really caused.

Attribution follows each known visitor's website sessions (``web_sessions`` rows with a
customer_id) into journeys: a journey ends with a converting session, or with the visitor's last
session when they have not bought since. A converting journey keeps the sessions of the
``lookback_days`` before and including the sale. Five rules share each sale between the channels
of its journey (first touch, last touch, linear, time decay, position based), and a first-order
Markov chain gives each channel the share of sales that would be lost without it (its removal
effect). Every model hands out exactly the number of sales the journeys hold.

Attribution only re-divides what was tracked; ``helpers.incrementality`` reads holdouts and
experiments, where what the treated group did beyond its control group is what the campaign caused.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import plots
from helpers.explore import CONVERTED, CUSTOMER_ID, MEDIUM, SOURCE, STARTED_AT, known, label
from helpers.kpis import DAY
from helpers.sections import Section

CHANNEL, ORDER_DATE, REVENUE = known("orders", "channel", "order_date", "revenue")
NET = "net_revenue"  # step 04 adds it to orders: revenue with refunds counted against it
EXPERIMENT_ID, UNIT_ID, VARIANT, EXPOSED_AT, EXP_CONVERTED, EXP_REVENUE = known(
    "experiments", "experiment_id", "unit_id", "variant", "exposed_at", "converted", "revenue")
MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based", "markov")
MODEL_NAMES = {"last_touch": "last touch", "first_touch": "first touch", "linear": "linear",
               "time_decay": "time decay", "position_based": "position based (40/20/40)",
               "markov": "Markov (removal effect)"}

# Source / medium -> channel, read top to bottom: the first row that matches wins. A row matches
# when the medium is one of its media, or (for rows that list sources) the source is one of them.
SOCIAL_SOURCES = {"facebook", "instagram", "meta", "fb", "ig", "tiktok", "linkedin", "pinterest",
                  "twitter", "x", "youtube", "snapchat", "reddit", "t.co", "l.facebook.com"}
PAID_MEDIA = {"cpc", "ppc", "paid", "paid search", "paidsearch", "paid_search", "paid social",
              "paidsocial", "paid_social", "cpm", "cpv", "sem"}
CHANNEL_RULES = (  # (channel, media, sources)
    ("email", {"email", "e-mail", "newsletter"}, {"newsletter", "mailchimp", "klaviyo"}),
    ("social", {"social", "social-network", "social media", "sm", "organic social"}, SOCIAL_SOURCES),
    ("organic", {"organic"}, set()),
    ("direct", {"(none)", "none", ""}, {"(direct)", "direct"}),
    ("referral", {"referral"}, set()),
)


def channel_of(source, medium) -> str:
    """The channel of one session from its source and medium: paid search, paid social, social,
    email, organic, direct, referral, else other.

    >>> channel_of("google", "cpc"), channel_of("facebook", "paid"), channel_of("(direct)", "(none)")
    ('paid_search', 'paid_social', 'direct')
    """
    s = "" if pd.isna(source) else str(source).strip().lower()
    m = "" if pd.isna(medium) else str(medium).strip().lower()
    if m in PAID_MEDIA or "paid" in m:
        return "paid_social" if s in SOCIAL_SOURCES or "social" in m else "paid_search"
    for channel, media, sources in CHANNEL_RULES:
        if m in media or s in sources:
            return channel
    return "other"


def in_window(frame: pd.DataFrame, column: str, as_of, months: int) -> pd.DataFrame:
    """Rows dated in the ``months`` months to ``as_of``, its whole last day included (the window
    of step 05's baselines: 12 months to 30 Sep start on 1 Oct)."""
    from helpers.kpis import add_months

    end = pd.Timestamp(as_of).normalize()
    return frame[(frame[column] >= add_months(end, -months) + DAY) & (frame[column] < end + DAY)]


# ---- journeys --------------------------------------------------------------------------------
def journeys(sessions: pd.DataFrame, *, lookback_days: int = 30) -> pd.DataFrame:
    """One row per journey of a known visitor: ``path`` (channels in order), ``times``
    (timestamps), ``converted`` and ``customer_id``. A converting journey keeps the sessions within
    ``lookback_days`` before its sale; an open journey those within ``lookback_days`` before its
    last session. Sessions without a customer_id cannot be linked and are left out."""
    s = sessions[sessions[CUSTOMER_ID].notna()].sort_values([CUSTOMER_ID, STARTED_AT])
    pairs = s[[SOURCE, MEDIUM]].astype(object).fillna("")
    names = {p: channel_of(*p) for p in set(zip(pairs[SOURCE], pairs[MEDIUM], strict=True))}
    s = s.assign(channel=[names[p] for p in zip(pairs[SOURCE], pairs[MEDIUM], strict=True)],
                 conv=s[CONVERTED].fillna(False).astype(bool).to_numpy())
    # sales before this session, per visitor: a journey is everything since the previous sale
    s["journey"] = s.groupby(CUSTOMER_ID)["conv"].cumsum() - s["conv"]
    end = s.groupby([CUSTOMER_ID, "journey"])[STARTED_AT].transform("max")
    s = s[s[STARTED_AT] >= end - lookback_days * DAY]
    # rows are sorted by visitor and time, so each journey is one run of rows: split at the edges
    who, n = s[CUSTOMER_ID].to_numpy(), s["journey"].to_numpy()
    starts = np.flatnonzero(np.r_[True, (who[1:] != who[:-1]) | (n[1:] != n[:-1])])
    return pd.DataFrame({CUSTOMER_ID: who[starts],
                         "path": [list(p) for p in np.split(s["channel"].to_numpy(), starts[1:])],
                         "times": np.split(s[STARTED_AT].to_numpy(), starts[1:]),
                         "converted": s["conv"].to_numpy()[np.r_[starts[1:] - 1, len(s) - 1]]})


# ---- the rules: pure functions over converting paths ------------------------------------------
def _share(paths, weights) -> dict[str, float]:
    """Sum each path's weights (one per touch, summing to 1) into credits per channel."""
    credit: dict[str, float] = defaultdict(float)
    for path in paths:
        for channel, w in zip(path, weights(path), strict=True):
            credit[channel] += w
    return dict(credit)


def first_touch(paths) -> dict[str, float]:
    """All the credit of each sale to the first channel of its journey."""
    return _share(paths, lambda p: [1.0] + [0.0] * (len(p) - 1))


def last_touch(paths) -> dict[str, float]:
    """All the credit of each sale to the last channel before it."""
    return _share(paths, lambda p: [0.0] * (len(p) - 1) + [1.0])


def linear(paths) -> dict[str, float]:
    """Each touch of a journey gets an equal share of its sale."""
    return _share(paths, lambda p: [1.0 / len(p)] * len(p))


def position_based(paths, *, ends: float = 0.4) -> dict[str, float]:
    """``ends`` (40 %) to the first and to the last touch, the rest split over the middle ones;
    one touch takes it all, two touches split 50/50."""
    def weights(p):
        if len(p) <= 2:
            return [1.0 / len(p)] * len(p)
        middle = (1 - 2 * ends) / (len(p) - 2)
        return [ends] + [middle] * (len(p) - 2) + [ends]
    return _share(paths, weights)


def time_decay(paths, times, *, half_life_days: float = 7.0) -> dict[str, float]:
    """A touch ``d`` days before the sale weighs 0.5 ** (d / half_life_days); each sale's weights
    are scaled to sum to 1. ``times`` holds each path's timestamps (the last one is the sale)."""
    sizes = np.array([len(p) for p in paths], dtype=int)
    if not sizes.sum():
        return {}
    sale = np.repeat(np.arange(len(paths)), sizes)  # which sale each touch belongs to
    t = np.concatenate([np.asarray(x, dtype="datetime64[ns]") for x in times])
    days = ((t[np.cumsum(sizes) - 1][sale] - t) / np.timedelta64(1, "D")).astype(float)
    w = 0.5 ** (days / half_life_days)
    w /= np.bincount(sale, weights=w)[sale]
    return {str(k): float(v) for k, v in pd.Series(w).groupby(np.concatenate(paths)).sum().items()}


def markov_removal(paths, converted) -> dict[str, float]:
    """Credits from a first-order Markov chain: each channel's removal effect (the share of sales
    lost when its visits lead nowhere), scaled so the credits sum to the number of sales.

    States are start, each channel, conversion and null (a journey that ends without a sale);
    transition probabilities are counted from every journey. Written by hand with numpy (no
    library we use fits a removal-effect chain): the chance of reaching conversion from start is
    solved exactly as an absorbing chain, (I - Q) x = r, with no simulation.
    """
    converted = [bool(c) for c in converted]
    channels = sorted({c for p in paths for c in p})
    if not channels or not any(converted):
        return {c: 0.0 for c in channels}
    idx = {c: i + 1 for i, c in enumerate(channels)}  # 0 = start
    n = len(channels) + 1
    counts, ends = np.zeros((n, n)), np.zeros((n, 2))  # ends: to conversion, to null
    for path, conv in zip(paths, converted, strict=True):
        states = [0] + [idx[c] for c in path]
        for a, b in zip(states[:-1], states[1:], strict=True):
            counts[a, b] += 1
        ends[states[-1], 0 if conv else 1] += 1
    out = counts.sum(axis=1) + ends.sum(axis=1)  # every departure from each state
    total = np.where(out > 0, out, 1.0)
    q, r = counts / total[:, None], ends[:, 0] / total

    def p_conversion(removed: int | None = None) -> float:
        qq, rr = q.copy(), r.copy()
        if removed is not None:  # visits to the removed channel fall to null
            qq[:, removed], qq[removed, :], rr[removed] = 0.0, 0.0, 0.0
        return float(np.linalg.solve(np.eye(n) - qq, rr)[0])

    full = p_conversion()
    effect = np.array([1 - p_conversion(idx[c]) / full for c in channels]).clip(0, None)
    scale = sum(converted) / effect.sum() if effect.sum() > 0 else 0.0
    return {c: float(e * scale) for c, e in zip(channels, effect, strict=True)}


def credits_table(paths_frame: pd.DataFrame, *, half_life_days: float = 7.0) -> pd.DataFrame:
    """Sales credited to each channel (rows) by each model (columns) from ``journeys``."""
    won = paths_frame[paths_frame["converted"]]
    paths, times = list(won["path"]), list(won["times"])
    credits = {"last_touch": last_touch(paths), "first_touch": first_touch(paths),
               "linear": linear(paths),
               "time_decay": time_decay(paths, times, half_life_days=half_life_days),
               "position_based": position_based(paths),
               "markov": markov_removal(list(paths_frame["path"]), paths_frame["converted"])}
    return pd.DataFrame(credits).fillna(0.0).rename_axis("channel").sort_values(
        "last_touch", ascending=False)[list(MODELS)]


# ---- the section -----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class AttributionResult(Section):
    """Sales credited to each channel by each model.

    ``credits``: channel x model (sales credited); ``shares``: the same as shares of all sales;
    ``coverage``: how much of the website's visits and sales the journeys hold. ``method`` is
    "multi-touch", or "last touch from orders" when no session data with customer ids exists
    (then ``supported`` is False and only the last_touch column is filled).
    """

    credits: pd.DataFrame = field(default_factory=pd.DataFrame)
    shares: pd.DataFrame = field(default_factory=pd.DataFrame)
    coverage: dict = field(default_factory=dict)
    method: str = "multi-touch"


def attribution(plan, *, lookback_days: int = 30, half_life_days: float = 7.0,
                min_sales: int = 100) -> AttributionResult:
    """Credits per channel under six models, from the website sessions of known visitors up to
    ``plan.as_of``; last touch from ``orders.channel`` when there are none."""
    if not plan.has("web_sessions"):
        return last_touch_from_orders(plan, "you have no web_sessions table")
    s = plan.prepared("web_sessions")
    s = s[s[STARTED_AT] < plan.as_of.normalize() + DAY]
    if CUSTOMER_ID not in s or s[CUSTOMER_ID].isna().all():
        return last_touch_from_orders(plan, "your web_sessions carry no customer_id")
    j = journeys(s, lookback_days=lookback_days)
    sales = int(j["converted"].sum())
    if sales == 0:
        return last_touch_from_orders(plan, "no session with a customer_id ended in a sale")
    credits = credits_table(j, half_life_days=half_life_days)
    won = j[j["converted"]]
    all_sales = int(s[CONVERTED].fillna(False).astype(bool).sum())
    cov = {"sessions": len(s), "sessions_with_id_share": float(s[CUSTOMER_ID].notna().mean()),
           "sales": sales, "sales_covered_share": sales / all_sales if all_sales else 0.0,
           "journeys": len(j), "visitors": int(j[CUSTOMER_ID].nunique()),
           "touches_per_sale": float(won["path"].str.len().mean()),
           "lookback_days": lookback_days, "start": s[STARTED_AT].min(), "end": s[STARTED_AT].max()}
    warnings = []
    if sales < min_sales:
        warnings.append(f"Only {sales} sales can be followed back to their visits: with fewer "
                        f"than {min_sales}, the shares move a lot with a few journeys.")
    if cov["sales_covered_share"] < 0.5:
        warnings.append(f"Only {cov['sales_covered_share']:.0%} of the website's sales come from "
                        "visitors with a customer id; the rest are in no model here.")
    shares = credits / sales
    return AttributionResult(True, "", _reading(credits, shares, cov, plan), tuple(warnings),
                             _headline(shares, cov), credits, shares, cov)


def _headline(shares: pd.DataFrame, cov: dict) -> dict:
    gain = (shares["markov"] - shares["last_touch"]).sort_values()
    return {"sales_followed": cov["sales"], "journeys": cov["journeys"],
            "sessions_with_id_share": cov["sessions_with_id_share"],
            "sales_covered_share": cov["sales_covered_share"],
            "top_last_touch": str(shares["last_touch"].idxmax()),
            "top_gainer": str(gain.index[-1]), "top_gainer_gain_share": float(gain.iloc[-1]),
            "top_loser": str(gain.index[0])}


def _role(shares: pd.DataFrame, channel: str) -> str:
    first, last = shares.at[channel, "first_touch"], shares.at[channel, "last_touch"]
    if first > 1.1 * last:
        return (f"it opens journeys that other channels close ({first:.0%} of sales start with "
                f"it, {last:.0%} end with it)")
    if last > 1.1 * first:
        return (f"it tends to close journeys that other channels opened ({last:.0%} of sales end "
                f"with it, {first:.0%} start with it)")
    return f"it starts and ends about as many journeys ({first:.0%} and {last:.0%})"


def _reading(credits: pd.DataFrame, shares: pd.DataFrame, cov: dict, plan) -> str:
    text = [f"{cov['sales']:,} sales by {cov['visitors']:,} known visitors were followed back "
            f"over the {cov['lookback_days']} days before each sale ({cov['start']:%b %Y} to "
            f"{cov['end']:%b %Y}). Visits with a customer id are {cov['sessions_with_id_share']:.0%}"
            f" of all visits but hold {cov['sales_covered_share']:.0%} of the website's sales; a "
            f"journey to a sale has {cov['touches_per_sale']:.1f} visits on average."]
    top = shares["last_touch"].idxmax()
    text.append(f"Last touch, what most ad platforms and analytics tools report, gives "
                f"{label(top)} the most credit ({shares.at[top, 'last_touch']:.0%}).")
    gain = (shares["markov"] - shares["last_touch"]).sort_values()
    if gain.abs().max() < 0.01:
        text.append("The other models agree within a point: most journeys stay in one channel, so "
                    "last touch is a fair shortcut for this business.")
    else:
        up, down = gain.index[-1], gain.index[0]
        if gain[up] >= 0.01:
            text.append(f"{label(up).capitalize()} gains most when every visit counts: "
                        f"{shares.at[up, 'last_touch']:.0%} of sales under last touch, "
                        f"{shares.at[up, 'markov']:.0%} in the Markov model; {_role(shares, up)}.")
        if gain[down] <= -0.01:
            text.append(f"{label(down).capitalize()} loses most ({shares.at[down, 'last_touch']:.0%}"
                        f" to {shares.at[down, 'markov']:.0%}); {_role(shares, down)}.")
    text.append("Attribution only shares out the sales that were tracked; it cannot tell what a "
                "channel caused. A holdout test can (see incrementality).")
    return " ".join(text)


def last_touch_from_orders(plan, why: str, *, months: int = 12) -> AttributionResult:
    """The fallback: each order's own channel (last touch) over the last ``months`` months."""
    need = (f"Multi-touch attribution needs website sessions with a customer id (a web_sessions "
            f"table: session_id, customer_id, started_at, source, medium, converted), and {why}.")
    if not plan.has("orders") or CHANNEL not in plan.prepared("orders"):
        return AttributionResult(False, need, need, method="none")
    o = in_window(plan.prepared("orders"), ORDER_DATE, plan.as_of, months)
    o = o[o[REVENUE] >= 0]
    counts = o[CHANNEL].fillna("(not set)").value_counts()
    if counts.empty:
        return AttributionResult(False, need, need, method="none")
    credits = counts.rename("last_touch").rename_axis("channel").to_frame().astype(float)
    shares = credits / counts.sum()
    top = shares["last_touch"].idxmax()
    reading = (f"{need} Until then, each order's own channel stands in for last touch: "
               f"{label(top)} holds {shares.at[top, 'last_touch']:.0%} of the {counts.sum():,} "
               f"orders of the last {months} months. This says which channel a sale came through "
               "last, not which channels started the journey.")
    return AttributionResult(False, need, reading, (), {"top_last_touch": str(top),
                             "orders": int(counts.sum())}, credits, shares, {},
                             "last touch from orders")


def attribution_data(result: AttributionResult) -> pd.DataFrame:
    """The shares that ``plot_attribution`` draws: channel x model, readable model names."""
    return result.shares.rename(columns=MODEL_NAMES)


def plot_attribution(result: AttributionResult, *, ax=None):
    """A heatmap of each channel's share of sales under each model."""
    data = attribution_data(result)
    if data.empty:
        return plots.axes(ax)
    h = result.headline
    if result.method == "multi-touch" and h.get("top_gainer_gain_share", 0) >= 0.01:
        title = (f"{label(h['top_gainer']).capitalize()} earns more credit once every visit "
                 "counts")
    else:
        title = f"{label(h['top_last_touch']).capitalize()} takes the most last-touch credit"
    data.index = [label(c) for c in data.index]
    ax = plots.heatmap(data, title=title, xlabel="Attribution model",
                       ylabel="Channel (share of sales, %)", ax=ax)
    ax.grid(False)
    ax.tick_params(axis="x", rotation=20)
    return ax
