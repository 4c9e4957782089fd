"""Step 09: what customers say in their own words: sentiment over time and the topics they raise.

Sentiment comes from VADER (a general-purpose lexicon shipped with vaderSentiment, no download)
or, where enough comments carry a star rating, from a TF-IDF + logistic regression model trained on
the ratings of the oldest 75 % of comments and tested against VADER on the newest 25 %. The one
that reads the held-out ratings better (by more than the noise) draws the monthly trend. Topics
come from TF-IDF + NMF, with the number of topics chosen by their coherence. Quotes are shown with
e-mail addresses, phone numbers, links and order numbers masked (``mask_text``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import plots
from helpers.explore import cap, known
from helpers.sections import Section

FEEDBACK_ID, CREATED_AT, RATING, TEXT = known("feedback", "feedback_id", "created_at", "rating",
                                              "text")
POSITIVE, NEUTRAL, NEGATIVE = "positive", "neutral", "negative"
LABELS = (NEGATIVE, NEUTRAL, POSITIVE)
VADER_CUT = 0.05  # VADER's own cut-offs on the compound score: >= 0.05 positive, <= -0.05 negative
MIN_TEXTS = 50  # below this, reading the comments yourself is quicker and surer than any model
# A model learns from ratings only with 200+ rated comments, 10+ of each kind among the training
# ones: the newest quarter (50+) is held back to test, and on fewer than 50 comments an accuracy
# gap of 10 points is within chance (its standard error is about 7 points).
MIN_RATED, MIN_CLASS, TEST_SHARE, DRAWS = 200, 10, 0.25, 1000
PATTERNS = (  # (what, regex, mask), applied in this order
    ("email", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "[email]"),
    ("link", r"(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)]", "[link]"),
    ("order", r"(?i)\b(?:order|invoice|ref)\s*(?:no\.?|number|#)?\s*[:#]?\s*[a-z]{0,3}-?\d{3,}\b",
     "[order number]"),
    ("order", r"#\s?\d{3,}\b|\b[A-Z]{1,3}-?\d{5,}\b", "[order number]"),
)
DIGITS = re.compile(r"(?<![\w@\[])\+?\(?\d[\d\s().-]{5,}\d(?![\w\]])")
DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")


def mask_text(text) -> str:
    """``text`` with e-mail addresses, links, order numbers and phone (or card) numbers replaced.

    >>> mask_text("Order #10432 never came, call me on +1 (415) 555-0134 or a@b.com")
    '[order number] never came, call me on [phone] or [email]'
    """
    if text is None or text != text:
        return ""
    out = str(text)
    for _, pattern, mask in PATTERNS:
        out = re.sub(pattern, mask, out)

    def number(m: re.Match) -> str:
        digits = sum(ch.isdigit() for ch in m.group())
        if digits < 7 or DATE_LIKE.fullmatch(m.group().strip()):
            return m.group()
        return "[phone]" if digits <= 15 else "[number]"

    return DIGITS.sub(number, out)


# ---- sentiment -------------------------------------------------------------------------------
def vader_scores(texts) -> np.ndarray:
    """VADER's compound score (-1 most negative .. +1 most positive) of each text."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return np.array([analyzer.polarity_scores(str(t))["compound"] for t in texts], dtype=float)


def vader_labels(scores) -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    return np.where(s >= VADER_CUT, POSITIVE, np.where(s <= -VADER_CUT, NEGATIVE, NEUTRAL))


def rating_labels(ratings: pd.Series) -> pd.Series:
    """4-5 stars positive, 3 neutral, 1-2 negative; None where a rating is missing or off 1-5."""
    r = pd.to_numeric(ratings, errors="coerce").round()
    out = pd.Series([None] * len(r), index=ratings.index, dtype=object)
    out[r.between(4, 5)], out[r == 3], out[r.between(1, 2)] = POSITIVE, NEUTRAL, NEGATIVE
    return out


def sentiment_model(*, seed: int = 42):
    """TF-IDF of words and word pairs + logistic regression (classes balanced, as 5-star comments
    usually outnumber the rest)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                         LogisticRegression(max_iter=2000, class_weight="balanced",
                                            random_state=seed))


def _scores(y, pred, classes=LABELS) -> np.ndarray:
    """(accuracy, macro-F1) of each row of ``pred`` (draws x texts) against ``y`` (same shape).
    Written with numpy because the bootstrap needs thousands of them; a test checks it against
    sklearn's accuracy_score and f1_score."""
    acc, f1 = (y == pred).mean(axis=1), []
    for c in classes:
        tp, p, t = ((y == c) & (pred == c)).sum(1), (pred == c).sum(1), (y == c).sum(1)
        f1.append(np.where(p + t > 0, 2 * tp / np.maximum(p + t, 1), 0.0))
    present = np.stack([(y == c).any(1) | (pred == c).any(1) for c in classes])
    return np.stack([acc, (np.stack(f1) * present).sum(0) / np.maximum(present.sum(0), 1)], 1)


def compare(y, model, vader, *, seed: int = 42, draws: int = DRAWS) -> tuple[pd.DataFrame, dict]:
    """Accuracy and macro-F1 of the model and of VADER against the held-out rating labels ``y``,
    and 95 % bootstrap intervals of the model's lead on each (resampling comments)."""
    code = {c: i for i, c in enumerate(LABELS)}  # small integers compare fast
    y, model, vader = (np.array([code[v] for v in a]) for a in (y, model, vader))
    point = _scores(np.stack([y, y]), np.stack([model, vader]), range(3))
    rows = np.random.default_rng(seed).integers(0, len(y), (draws, len(y)))
    diff = _scores(y[rows], model[rows], range(3)) - _scores(y[rows], vader[rows], range(3))
    lo, hi = np.percentile(diff, [2.5, 97.5], axis=0)
    table = pd.DataFrame({"method": ["model (TF-IDF + logistic regression)", "VADER lexicon"],
                          "accuracy": point[:, 0], "macro_f1": point[:, 1], "n_test": len(y)})
    gap = {"accuracy_diff": point[0, 0] - point[1, 0], "accuracy_low": lo[0],
           "accuracy_high": hi[0], "macro_f1_diff": point[0, 1] - point[1, 1],
           "macro_f1_low": lo[1], "macro_f1_high": hi[1]}
    return table, {k: float(v) for k, v in gap.items()}


@dataclass(frozen=True, eq=False)
class SentimentResult(Section):
    """``scored``: feedback_id, created_at, label, score (-1..1) by the method used, no text.
    ``comparison``/``gap``/``holdout``: the model against VADER on the newest rated comments."""

    method: str = "vader"
    scored: pd.DataFrame = field(default_factory=pd.DataFrame)
    trend: pd.DataFrame = field(default_factory=pd.DataFrame)
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    gap: dict = field(default_factory=dict)
    holdout: pd.DataFrame = field(default_factory=pd.DataFrame)
    change: dict = field(default_factory=dict)


def load_texts(plan, *, as_of=None) -> tuple[pd.DataFrame, str]:
    """Comments with text written by ``as_of`` (default plan.as_of), oldest first, and why the
    data cannot support step 09's text sections ("" when it can)."""
    if not plan.has("feedback"):
        return pd.DataFrame(), (f"No customer comments to read. {cap(plan.why_missing('feedback'))}"
                                " Export reviews, survey answers or e-mail replies with a date "
                                "and, if you have one, the star rating.")
    as_of = pd.Timestamp(as_of or plan.as_of)
    f = plan.prepared("feedback")
    f = f[f[TEXT].fillna("").str.strip().ne("") & (f[CREATED_AT] < as_of + pd.Timedelta(days=1))]
    f = f.sort_values([CREATED_AT, FEEDBACK_ID], kind="stable").reset_index(drop=True)
    if len(f) < MIN_TEXTS:
        return f, (f"Only {len(f)} comments with text by {as_of:%d %b %Y}: with fewer than "
                   f"{MIN_TEXTS}, read them yourself; sentiment and topics need more. Collect "
                   "reviews or post-purchase survey answers and run this step again.")
    return f, ""


def _rated_split(f: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The oldest 75 % / newest 25 % of rated comments, or why there are too few to learn from."""
    rated = f.assign(y=rating_labels(f[RATING]) if RATING in f else None).dropna(subset=["y"])
    cut = int(round(len(rated) * (1 - TEST_SHARE)))
    train, test = rated.iloc[:cut], rated.iloc[cut:]
    few = train["y"].value_counts().reindex(list(LABELS), fill_value=0)
    if len(rated) < MIN_RATED:
        some = f"only {len(rated)} comments carry" if len(rated) else "no comment carries"
        why = (f"{some} a 1-5 star rating; a model needs {MIN_RATED} (a quarter held back to "
               "test it, and a smaller test cannot tell it from VADER)")
    elif few.min() < MIN_CLASS:
        why = (f"the older rated comments hold only {few.min()} {few.idxmin()} ones; a model "
               f"needs {MIN_CLASS} of each kind to learn it")
    else:
        why = ""
    return train, test, why


def sentiment(plan, *, seed: int = 42, as_of=None) -> SentimentResult:
    """Sentiment of every comment and its monthly trend, by the better of VADER and a model
    trained on star ratings (the model is refitted on every rated comment before scoring)."""
    f, why = load_texts(plan, as_of=as_of)
    if why:
        return SentimentResult(False, why, reading=why, headline={"supported": False})
    as_of = pd.Timestamp(as_of or plan.as_of)
    compound, warnings = vader_scores(f[TEXT]), []
    train, test, no_model = _rated_split(f)
    table, gap, holdout, method = pd.DataFrame(), {}, pd.DataFrame(), "vader"
    if not no_model:
        model = sentiment_model(seed=seed).fit(train[TEXT], train["y"])
        predicted = model.predict(test[TEXT])
        table, gap = compare(test["y"], predicted, vader_labels(compound[test.index]), seed=seed)
        holdout = pd.DataFrame({FEEDBACK_ID: test[FEEDBACK_ID].to_numpy(),
                                CREATED_AT: test[CREATED_AT].to_numpy(),
                                "rating_label": test["y"].to_numpy(), "model": predicted,
                                "vader": vader_labels(compound[test.index])})
        method = "model" if gap["macro_f1_low"] > 0 else "vader"
    if method == "model":
        rated = pd.concat([train, test])
        final = sentiment_model(seed=seed).fit(rated[TEXT], rated["y"])
        proba, classes = final.predict_proba(f[TEXT]), list(final.classes_)
        score = proba[:, classes.index(POSITIVE)] - proba[:, classes.index(NEGATIVE)]
        label = np.array(classes)[proba.argmax(axis=1)]
    else:
        score, label = compound, vader_labels(compound)
    scored = pd.DataFrame({FEEDBACK_ID: f[FEEDBACK_ID], CREATED_AT: f[CREATED_AT], "label": label,
                           "score": score})
    trend, change = monthly_trend(scored, as_of=as_of), now_vs_year_ago(scored, as_of=as_of)
    if trend["texts"].min() < 10:
        warnings.append(f"{(trend['texts'] < 10).sum()} months have fewer than 10 comments: "
                        "their share negative swings by chance.")
    head = {"texts": len(f), "method": method, "share_negative": float((label == NEGATIVE).mean()),
            "share_negative_now": change.get("now"),
            "share_negative_year_ago": change.get("before")}
    if len(table):
        head |= {"model_accuracy": float(table.accuracy[0]),
                 "vader_accuracy": float(table.accuracy[1])}
    return SentimentResult(True, "", method=method, scored=scored, trend=trend, comparison=table,
                           gap=gap, holdout=holdout, change=change,
                           reading=_sentiment_reading(head, gap, change, no_model, len(test)),
                           warnings=tuple(warnings), headline=head)


def monthly_trend(scored: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """Per calendar month: comments, negative ones, share negative, the share over the 3 months
    to it (steadier: sums of 3 months), mean score (-1..1)."""
    month = scored[CREATED_AT].dt.to_period("M").dt.to_timestamp()
    g = scored.assign(month=month, negative=scored["label"].eq(NEGATIVE)).groupby("month")
    out = pd.DataFrame({"texts": g.size(), "negative": g["negative"].sum(),
                        "share_negative": g["negative"].mean(), "mean_score": g["score"].mean()})
    out = out.reindex(pd.date_range(out.index.min(), out.index.max(), freq="MS"))
    out[["texts", "negative"]] = out[["texts", "negative"]].fillna(0).astype(int)
    roll = out[["negative", "texts"]].rolling(3, min_periods=1).sum()
    out["share_negative_3m"] = roll.negative / roll.texts.where(roll.texts > 0)
    return out.rename_axis("month").reset_index()


def now_vs_year_ago(scored: pd.DataFrame, *, as_of, months: int = 3) -> dict:
    """Share negative in the ``months`` to ``as_of`` and in the same months a year before, with a
    95 % interval of the change (Newcombe's method, statsmodels); None where too few comments."""
    end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    windows = {"now": (end - pd.DateOffset(months=months), end),
               "before": (end - pd.DateOffset(months=12 + months), end - pd.DateOffset(months=12))}
    out = {"months": months}
    for key, (start, stop) in windows.items():
        part = scored[(scored[CREATED_AT] >= start) & (scored[CREATED_AT] < stop)]
        out[key], out[f"n_{key}"] = (float(part["label"].eq(NEGATIVE).mean()) if len(part) >= 20
                                     else None), len(part)
        out[f"negative_{key}"] = int(part["label"].eq(NEGATIVE).sum())
    if out["now"] is not None and out["before"] is not None:
        from statsmodels.stats.proportion import confint_proportions_2indep

        lo, hi = confint_proportions_2indep(out["negative_now"], out["n_now"],
                                            out["negative_before"], out["n_before"],
                                            method="newcomb")
        out |= {"change": out["now"] - out["before"], "change_low": float(lo),
                "change_high": float(hi)}
    return out


def _sentiment_reading(head: dict, gap: dict, change: dict, no_model: str, n_test: int) -> str:
    text = [f"Of your {head['texts']:,} comments, {head['share_negative']:.0%} read as negative."]
    if no_model:
        text.append(f"They are scored by VADER, a general-purpose word list, because {no_model}.")
    else:
        better = head["method"] == "model"
        text.append(
            f"On the newest {n_test:,} rated comments, a model trained on your older star ratings "
            f"matched the stars on {head['model_accuracy']:.0%}, VADER (a general word list) on "
            f"{head['vader_accuracy']:.0%}; the model's lead in macro-F1 (the average over "
            f"positive, neutral and negative) is {gap['macro_f1_diff']:+.2f} (95 % interval "
            f"{gap['macro_f1_low']:+.2f} to {gap['macro_f1_high']:+.2f}), "
            + ("so the trend below uses the model." if better else
               "not clearly above zero, so the trend below uses the simpler VADER."))
    if "change" in change:
        moved = change["change_low"] > 0 or change["change_high"] < 0
        text.append(f"In the last {change['months']} months {change['now']:.0%} of comments were "
                    f"negative, against {change['before']:.0%} in the same months a year earlier "
                    + ("(a real change, beyond chance)." if moved else "(within chance: no clear "
                                                                       "change)."))
    else:
        text.append(f"There are too few comments (under 20) in the last {change['months']} months "
                    "or a year before them to compare the two.")
    return " ".join(text)


def sentiment_trend_data(result: SentimentResult) -> pd.DataFrame:
    """What ``plot_sentiment_trend`` draws: the monthly trend."""
    return result.trend


def plot_sentiment_trend(result: SentimentResult, ax=None):
    """Share of negative comments per month (bars sized by comments are left to the table)."""
    ax = plots.axes(ax)
    data = sentiment_trend_data(result)
    if data.empty:
        ax.set(title="No comments to chart")
        return ax
    ax.plot(data["month"], data["share_negative"], marker="o", linestyle="", alpha=0.5,
            color=plots.PALETTE[3], label="each month")
    ax.plot(data["month"], data["share_negative_3m"], color=plots.PALETTE[3],
            label="over the last 3 months")
    ax.legend(frameon=False)
    c = result.change
    title = (f"Negative comments: {c['now']:.0%} in the last {c['months']} months, "
             f"{c['before']:.0%} a year earlier" if "change" in c else
             f"{result.headline['share_negative']:.0%} of comments are negative")
    ax.set(title=title, xlabel="Month the comment was written",
           ylabel="Comments read as negative (%)", ylim=(0, max(0.05, data.share_negative.max()
                                                                * 1.15)))
    return plots.percent_axis(ax)


# ---- the section -----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FeedbackResult(Section):
    """Step 09's feedback section: ``sentiment`` and ``topics`` with one reading."""

    sentiment: SentimentResult | None = None
    topics: object = None  # a helpers.topics.TopicResult


def feedback_section(plan, *, seed: int = 42, as_of=None) -> FeedbackResult:
    """Sentiment and topics of the customers' comments; unsupported (saying what would enable
    it) without a feedback table or with fewer than 50 comments."""
    from helpers.topics import topics  # topics builds on this module

    s = sentiment(plan, seed=seed, as_of=as_of)
    if not s.supported:
        return FeedbackResult(False, s.reason, sentiment=s, topics=None, reading=s.reading,
                              warnings=(), headline={"supported": False})
    t = topics(plan, seed=seed, as_of=as_of, sentiment_result=s)
    head = {"texts": s.headline["texts"], "share_negative_now": s.headline["share_negative_now"],
            "share_negative_year_ago": s.headline["share_negative_year_ago"],
            "top_complaint": t.headline.get("top_complaint"),
            "sentiment_method": "model trained on your ratings" if s.method == "model" else "VADER"}
    return FeedbackResult(True, "", sentiment=s, topics=t, reading=f"{s.reading} {t.reading}",
                          warnings=s.warnings + t.warnings, headline=head)


def feedback_artifact(result: FeedbackResult) -> dict:
    """feedback.json: the numbers, the trend, the topics with their masked quotes; no other text
    and no per-comment rows."""
    from helpers.evaluation import json_safe

    out = {"supported": result.supported, "reason": result.reason, "reading": result.reading,
           "warnings": list(result.warnings), "headline": result.headline}
    s, t = result.sentiment, result.topics
    if s is not None and s.supported:
        trend = s.trend.assign(month=s.trend["month"].dt.strftime("%Y-%m"))
        out["sentiment"] = {"method": s.method, "comparison": s.comparison.to_dict("records"),
                            "gap": s.gap, "change": s.change, "trend": trend.to_dict("records")}
    if t is not None and t.supported:
        out["topics"] = {"n_topics": t.n_topics, "selection": t.selection.to_dict("records"),
                         "table": t.table.drop(columns="topic").to_dict("records"),
                         "complaints": t.complaints.to_dict("records")}
    return json_safe(out)
