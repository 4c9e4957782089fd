"""Step 07: when to post, what reaches people, and which words engage or are on the rise.

Times are those of ``posted_at`` in the prepared table: the business's local time (a time written
with an offset is converted to the business's timezone on loading), so "Sat 20:00" is the shop's
Saturday evening. Reach depends on many things at once (network, format, boosts, a growing
following), so the best slots come from one regression of log impressions on weekday, hour and
those, with intervals; the calendar shows the raw averages beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import plots
from helpers.explore import DAY, cap, known, label

POST_ID, POSTED_AT, NETWORK, TEXT, IMPRESSIONS, ENGAGEMENTS = known(
    "social_posts", "post_id", "posted_at", "network", "text", "impressions", "engagements")
FORMAT, BOOST = "format", "boost_spend"  # extra columns, used when the posts have them
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
METRICS = {"engagement_rate": "engagements per impression", "impressions": "impressions per post"}
NO_POSTS = ("The social calendar needs your social posts (a social_posts table: post_id, "
            "posted_at, network, text, impressions, engagements).")
MIN_MODEL_POSTS = 40


def post_table(posts: pd.DataFrame) -> pd.DataFrame:
    """The posts with a date and impressions, plus weekday (0 = Monday), hour, years (since the
    first post) and engagement_rate (engagements / impressions)."""
    p = posts.dropna(subset=[POSTED_AT, IMPRESSIONS])
    p = p[p[IMPRESSIONS] > 0].copy()
    p["weekday"], p["hour"] = p[POSTED_AT].dt.day_of_week, p[POSTED_AT].dt.hour
    p["years"] = (p[POSTED_AT] - p[POSTED_AT].min()).dt.days / 365.25
    p["engagement_rate"] = p[ENGAGEMENTS].fillna(0) / p[IMPRESSIONS]
    return p


# ---- the calendar ----------------------------------------------------------------------------
def posting_calendar_data(posts: pd.DataFrame, *, metric: str = "engagement_rate",
                          min_posts: int = 3) -> pd.DataFrame:
    """Weekday (rows, Mon..Sun) x hour (columns) of ``metric``: "engagement_rate" (all
    engagements / all impressions of the cell's posts) or "impressions" (mean per post). Cells
    with fewer than ``min_posts`` posts are left empty; ``attrs`` holds metric and post counts."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    p = post_table(posts)
    g = p.groupby(["weekday", "hour"])
    value = (g[ENGAGEMENTS].sum() / g[IMPRESSIONS].sum() if metric == "engagement_rate"
             else g[IMPRESSIONS].mean())
    count = g.size().unstack().reindex(range(7))
    out = value.unstack().reindex(range(7)).where(count >= min_posts)
    out.index = pd.Index(WEEKDAYS, name="weekday")
    out.columns = pd.Index([f"{h:02d}:00" for h in out.columns], name="hour")
    out.attrs = {"metric": metric, "posts": count.fillna(0).astype(int).to_numpy().tolist()}
    return out


def plot_posting_calendar(data: pd.DataFrame, ax=None):
    """Heatmap of ``posting_calendar_data`` (empty cells: too few posts to say)."""
    metric = data.attrs.get("metric", "engagement_rate")
    stacked = data.stack()
    if stacked.empty:
        title = "Too few posts in any slot to compare"
    else:
        day, hour = stacked.idxmax()
        n = data.attrs["posts"][WEEKDAYS.index(day)][list(data.columns).index(hour)]
        title = f"{day} {hour} had the most {METRICS[metric]} on average ({n} posts)"
    ax = plots.heatmap(data, title=title, xlabel="Hour posted (local time)", ylabel="",
                       fmt=".1%" if metric == "engagement_rate" else ",.0f", ax=ax)
    ax.grid(False)
    return ax


# ---- reach: weekday, hour and format with intervals -----------------------------------------
def _design(p: pd.DataFrame, min_posts: int):
    """(posts kept, X, column groups) for log impressions: weekday, hour, network x format
    dummies (first level as reference), years and log(1 + boost) when there are boosts."""
    p = p.assign(slot_kind=p[NETWORK].astype(str) + (" " + p[FORMAT].astype(str)
                                                      if FORMAT in p else ""))
    for col in ("weekday", "hour", "slot_kind"):
        keep = p[col].map(p[col].value_counts()) >= min_posts
        p = p[keep]
    groups, parts = {}, [pd.Series(1.0, index=p.index, name="const")]
    for col, name in (("weekday", "weekday"), ("hour", "hour"), ("slot_kind", "format")):
        d = pd.get_dummies(p[col], prefix=name, prefix_sep="=", drop_first=True, dtype=float)
        groups[name] = (sorted(p[col].unique()), list(d.columns))
        parts.append(d)
    parts.append(p["years"])
    if BOOST in p and (boost := pd.to_numeric(p[BOOST], errors="coerce").fillna(0)).gt(0).any():
        parts.append(np.log1p(boost).rename("log_boost"))
    return p, pd.concat(parts, axis=1), groups


def _contrast(x: pd.DataFrame, groups: dict, levels: dict) -> np.ndarray:
    """A row vector: the given levels (e.g. {"weekday": 6, "hour": 20}) against the average
    post's mix of those factors."""
    row = pd.Series(0.0, index=x.columns)
    for name, level in levels.items():
        _, cols = groups[name]
        row[cols] = -x[cols].mean()
        if f"{name}={level}" in cols:  # the reference level has no column of its own
            row[f"{name}={level}"] += 1.0
    return row.to_numpy()


def _fit_reach(posts: pd.DataFrame, min_posts: int):
    """(posts kept, OLS result, X, groups), or None with fewer than MIN_MODEL_POSTS posts."""
    import statsmodels.api as sm

    p, x, groups = _design(post_table(posts), min_posts)
    if len(p) < max(MIN_MODEL_POSTS, x.shape[1] + 10):
        return None
    return p, sm.OLS(np.log(p[IMPRESSIONS]), x).fit(), x, groups


def _effects(fit, rows: list[dict]) -> pd.DataFrame:
    """Multiplier on impressions (and 95 % interval) of each contrast in ``rows``."""
    p, res, x, groups = fit
    matrix = np.vstack([_contrast(x, groups, r) for r in rows])
    test = res.t_test(matrix)
    ci = np.asarray(test.conf_int())
    return pd.DataFrame({"multiplier": np.exp(np.asarray(test.effect).ravel()),
                         "low": np.exp(ci[:, 0]), "high": np.exp(ci[:, 1])})


def reach_effects(posts: pd.DataFrame, *, min_posts: int = 3) -> pd.DataFrame:
    """Each weekday, hour and network/format against the average post: factor, level, posts,
    multiplier on impressions and its 95 % interval, from one OLS of log impressions on all of
    them plus follower growth (years) and boosts. Levels with fewer than ``min_posts`` posts are
    left out. Empty with too few posts."""
    fit = _fit_reach(posts, min_posts)
    if fit is None:
        return pd.DataFrame(columns=["factor", "level", "posts", "multiplier", "low", "high"])
    p, _, _, groups = fit
    col = {"weekday": "weekday", "hour": "hour", "format": "slot_kind"}
    rows = [{"factor": name, "level": lv, "posts": int((p[col[name]] == lv).sum())}
            for name, (levels, _) in groups.items() for lv in levels]
    out = pd.concat([pd.DataFrame(rows), _effects(fit, [{r["factor"]: r["level"]} for r in rows])],
                    axis=1)
    out["level"] = [WEEKDAYS[v] if f == "weekday" else f"{v:02d}:00" if f == "hour" else v
                    for f, v in zip(out.factor, out.level, strict=True)]
    return out


def best_slots(posts: pd.DataFrame, *, n: int = 3, min_posts: int = 3) -> pd.DataFrame:
    """The ``n`` weekday-and-hour slots with the most expected impressions: slot, weekday, hour,
    posts (in that very slot), multiplier against the average post with its 95 % interval, and
    typical_impressions (a post of the average mix of network and format, posted then, now)."""
    fit = _fit_reach(posts, min_posts)
    cols = ["slot", "weekday", "hour", "posts", "multiplier", "low", "high", "typical_impressions"]
    if fit is None:
        return pd.DataFrame(columns=cols)
    p, res, x, groups = fit
    combos = [{"weekday": w, "hour": h} for w in groups["weekday"][0] for h in groups["hour"][0]]
    out = pd.concat([pd.DataFrame(combos), _effects(fit, combos)], axis=1)
    out = out.sort_values("multiplier", ascending=False).head(n).reset_index(drop=True)
    cell = p.groupby(["weekday", "hour"]).size()
    out["posts"] = [int(cell.get((w, h), 0)) for w, h in zip(out.weekday, out.hour, strict=True)]
    base = np.exp(np.log(p[IMPRESSIONS]).mean() + res.params.get("years", 0) *
                  (p.years.max() - p.years.mean()))
    out["typical_impressions"] = out.multiplier * base
    out["slot"] = [f"{WEEKDAYS[w]} {h:02d}:00" for w, h in zip(out.weekday, out.hour, strict=True)]
    out["weekday"] = [WEEKDAYS[w] for w in out.weekday]
    return out[cols]


# ---- words -----------------------------------------------------------------------------------
def _terms(texts: pd.Series, min_posts: int):
    """(terms, posts x terms 0/1 sparse matrix): words and word pairs, English stop words out."""
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(stop_words="english", ngram_range=(1, 2), binary=True,
                          min_df=min_posts)
    try:
        m = vec.fit_transform(texts.fillna("").astype(str))
    except ValueError:  # no term in at least min_posts posts
        return np.array([], dtype=object), None
    return vec.get_feature_names_out(), m.tocsc()


def term_engagement(posts: pd.DataFrame, *, min_posts: int = 8) -> pd.DataFrame:
    """Engagement of the posts that use each term, against what their reach would bring.

    A post's expected engagements are its impressions times its network's engagement rate over
    all posts; a term's ``index`` is its posts' engagements / their expected engagements (1.3:
    30 % more than usual). ``low`` / ``high``: 95 % interval of that ratio (delta method with the
    post as the unit, so posts that vary a lot widen it). Terms in fewer than ``min_posts`` posts
    are left out; sorted by index.
    """
    cols = ["term", "posts", "engagements", "expected", "index", "low", "high"]
    p = post_table(posts)
    terms, m = _terms(p[TEXT], min_posts) if TEXT in p else ([], None)
    if m is None:
        return pd.DataFrame(columns=cols)
    rate = p.groupby(NETWORK)[ENGAGEMENTS].transform("sum") / \
        p.groupby(NETWORK)[IMPRESSIONS].transform("sum")
    e, x = p[ENGAGEMENTS].fillna(0).to_numpy(), (p[IMPRESSIONS] * rate).to_numpy()
    got, exp_ = m.T @ e, m.T @ x
    index = got / exp_
    # The ratio estimator's variance, sum((e - index x)^2) / sum(x)^2, written out: it is two
    # lines, and no library gives it per column of a sparse matrix.
    resid2 = m.T @ (e ** 2) - 2 * index * (m.T @ (e * x)) + index ** 2 * (m.T @ (x ** 2))
    se = np.sqrt(np.maximum(resid2, 0)) / exp_
    out = pd.DataFrame({"term": terms, "posts": np.asarray(m.sum(axis=0)).ravel(),
                        "engagements": got, "expected": exp_, "index": index,
                        "low": index - 1.96 * se, "high": index + 1.96 * se})
    # terms found in exactly the same posts ("latte", "latte art") are one row
    out["_same"] = [m.indices[m.indptr[j]:m.indptr[j + 1]].tobytes() for j in range(m.shape[1])]
    out["_words"] = out.term.str.count(" ")
    out = out.sort_values(["_words", "term"])
    first = out.groupby("_same", sort=False).first()
    first["term"] = out.groupby("_same", sort=False).term.agg(lambda t: ", ".join(t.iloc[:4]))
    return first.sort_values("index", ascending=False).reset_index(drop=True)[cols]


def trending_terms(posts: pd.DataFrame, *, recent_days: int = 90, min_count: int = 3,
                   as_of=None) -> pd.DataFrame:
    """Terms whose share of posts rose in the last ``recent_days`` days (to ``as_of``, default
    the last post) against the posts before.

    ``log_odds``: the log odds ratio of a post using the term, recent vs earlier, smoothed by
    adding 0.5 to each of the four counts (so a term absent before does not rise to infinity);
    ``low`` / ``high``: its 95 % interval. Every term in at least ``min_count`` posts is tested;
    ``rising`` needs ``min_count`` recent posts and a rise that holds after the Benjamini-Hochberg
    correction for testing so many terms (5 % false discovery rate). Sorted by log_odds.
    """
    from scipy.stats import norm
    from statsmodels.stats.multitest import multipletests

    cols = ["term", "recent_posts", "recent_share", "earlier_posts", "earlier_share", "log_odds",
            "low", "high", "p_value", "rising"]
    p = post_table(posts)
    as_of = p[POSTED_AT].max().normalize() if as_of is None else pd.Timestamp(as_of).normalize()
    p = p[p[POSTED_AT] < as_of + DAY]
    recent = (p[POSTED_AT] >= as_of + DAY - recent_days * DAY).to_numpy()
    terms, m = _terms(p[TEXT], min_count) if TEXT in p and recent.any() and (~recent).any() \
        else ([], None)
    if m is None:
        return pd.DataFrame(columns=cols)
    a, b = np.asarray(m[recent].sum(axis=0)).ravel(), np.asarray(m[~recent].sum(axis=0)).ravel()
    n1, n0 = recent.sum(), (~recent).sum()
    lor = np.log((a + .5) / (n1 - a + .5)) - np.log((b + .5) / (n0 - b + .5))
    se = np.sqrt(1 / (a + .5) + 1 / (n1 - a + .5) + 1 / (b + .5) + 1 / (n0 - b + .5))
    pval = 2 * norm.sf(np.abs(lor / se))
    reject = multipletests(pval, alpha=0.05, method="fdr_bh")[0] if len(pval) else pval > 1
    out = pd.DataFrame({"term": terms, "recent_posts": a, "recent_share": a / n1,
                        "earlier_posts": b, "earlier_share": b / n0, "log_odds": lor,
                        "low": lor - 1.96 * se, "high": lor + 1.96 * se, "p_value": pval,
                        "rising": reject & (lor > 0) & (a >= min_count)})
    out = out[out.recent_posts >= min_count]  # the candidates (all were corrected for above)
    return out.sort_values(["rising", "log_odds"], ascending=False).reset_index(drop=True)[cols]


# ---- the notebook section --------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SocialResult:
    """What the social section found (see ``social_section``)."""

    supported: bool
    reason: str = ""
    calendar: pd.DataFrame = field(default_factory=pd.DataFrame)  # impressions per post
    engagement_calendar: pd.DataFrame = field(default_factory=pd.DataFrame)
    best_slots: pd.DataFrame = field(default_factory=pd.DataFrame)
    reach: pd.DataFrame = field(default_factory=pd.DataFrame)
    terms: pd.DataFrame = field(default_factory=pd.DataFrame)
    trending: pd.DataFrame = field(default_factory=pd.DataFrame)
    reading: str = ""
    warnings: list[str] = field(default_factory=list)
    headline: dict = field(default_factory=dict)

    @property
    def files(self) -> dict[str, pd.DataFrame]:
        """The table ``helpers.activation`` writes under actions/: the best posting slots."""
        return {"posting_slots": self.best_slots} if self.supported and len(self.best_slots) else {}

    @property
    def what_to_do(self) -> dict[str, str]:
        return {"posting_slots": "Schedule next month's posts in these weekday and hour slots, in "
                "your business's time zone."}


def _times(r) -> str:
    return f"{r.multiplier:.2f}x ({r.low:.2f} to {r.high:.2f})"


def _reach_text(n_posts: int, slots: pd.DataFrame, reach: pd.DataFrame) -> list[str]:
    if slots.empty:
        return []
    top = slots.iloc[0]
    text = [f"Allowing for network, format, boosts and your growing following, your {n_posts} "
            f"posts reach most on {top.slot}: {top.multiplier:.2f} times the impressions of an "
            f"average post ({top.low:.2f} to {top.high:.2f}), about "
            f"{top.typical_impressions:,.0f} a post today. Next best: "
            f"{', '.join(slots.slot.iloc[1:])}. Below, 1.20x means 20 % more impressions than "
            "an average post."]
    for factor, what in (("weekday", "Days"), ("hour", "Hours"), ("format", "Network and format")):
        f = reach[reach.factor == factor].sort_values("multiplier")
        if len(f) > 1:
            text.append(f"{what}: best {label(f.level.iloc[-1])} at {_times(f.iloc[-1])}, "
                        f"weakest {label(f.level.iloc[0])} at {_times(f.iloc[0])}.")
    return text


def _words_text(terms: pd.DataFrame, trending: pd.DataFrame, recent_days: int) -> list[str]:
    text = []
    up, down = terms[terms.low > 1], terms[terms.high < 1]
    if len(up):
        text.append(f"Posts with the words '{up.term.iloc[0]}' get {up['index'].iloc[0]:.2f} "
                    "times the engagements their reach would bring")
        text[-1] += (f"; posts with '{down.term.iloc[-1]}' only {down['index'].iloc[-1]:.2f} "
                     "times." if len(down) else ".")
    rising = trending[trending.rising] if len(trending) else trending
    text.append(f"Rising in the last {recent_days} days: " + "; ".join(
        f"'{r.term}' ({r.earlier_share:.0%} of posts before, {r.recent_share:.0%} now)"
        for r in rising.head(3).itertuples()) + "." if len(rising) else
        f"No word rose clearly in the last {recent_days} days, beyond what chance would give.")
    return text


def _social_warnings(p: pd.DataFrame, slots: pd.DataFrame, min_posts: int) -> list[str]:
    out = []
    if len(slots) and slots.posts.iloc[0] < min_posts:
        out.append(f"You have posted only {slots.posts.iloc[0]} times on {slots.slot.iloc[0]}: "
                   "the estimate adds up its weekday and its hour, each seen more often; try it "
                   "for a month and compare.")
    rare = [WEEKDAYS[d] for d in range(7) if (p.weekday == d).sum() < min_posts]
    if rare:
        out.append(f"Too few posts on {', '.join(rare)} to say anything about those days.")
    if slots.empty:
        out.append(f"With {len(p)} posts, reach cannot be split by day, hour and format yet "
                   f"(at least {MIN_MODEL_POSTS} needed): the calendar shows raw averages.")
    return out


def social_section(plan, *, n: int = 3, recent_days: int = 90, min_posts: int = 3) -> SocialResult:
    """Step 07's social calendar: reach by weekday, hour and format (``reach_effects``), the
    ``n`` best slots, the calendars, engagement by word and the words on the rise."""
    if not plan.has("social_posts"):
        return SocialResult(False, f"{NO_POSTS} {cap(plan.why_missing('social_posts'))}")
    posts = plan.prepared("social_posts")
    p = post_table(posts)
    if p.empty:
        return SocialResult(False, "None of your social posts has both a date (posted_at) and "
                            "impressions: export them with both.")
    slots = best_slots(posts, n=n, min_posts=min_posts)
    reach = reach_effects(posts, min_posts=min_posts)
    terms = term_engagement(posts)
    trending = trending_terms(posts, recent_days=recent_days, as_of=plan.as_of)
    text = _reach_text(len(p), slots, reach) + _words_text(terms, trending, recent_days)
    headline = {"posts": len(p), "best_slot": slots.slot.iloc[0] if len(slots) else None,
                "best_slot_multiplier": float(slots.multiplier.iloc[0]) if len(slots) else None,
                "engagement_rate": float(p[ENGAGEMENTS].sum() / p[IMPRESSIONS].sum()),
                "rising_terms": int(trending.rising.sum()) if len(trending) else 0}
    return SocialResult(True, "", posting_calendar_data(posts, metric="impressions",
                                                        min_posts=min_posts),
                        posting_calendar_data(posts, min_posts=min_posts), slots, reach, terms,
                        trending, " ".join(text), _social_warnings(p, slots, min_posts), headline)
