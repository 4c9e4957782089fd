"""Step 09: what customers talk about, as topics found in their comments.

TF-IDF turns each comment into weights of its distinctive words; non-negative matrix
factorisation (NMF) groups the words that appear together into topics. The number of topics is
chosen from the data: the one whose top words co-occur most in the comments (mean NPMI
coherence). Each topic is named by its top words and shown with two quotes, personal details
masked, and its share of negative comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import plots
from helpers.errors import ConfigError
from helpers.feedback import (
    FEEDBACK_ID,
    NEGATIVE,
    TEXT,
    SentimentResult,
    load_texts,
    mask_text,
    sentiment,
)
from helpers.sections import Section

# Topics: k from 3 to one per 50 comments (so a topic holds enough comments to read), at most 12
# (what a workshop can go through); the k whose top-10 words co-occur most (mean NPMI) wins.
K_MIN, K_MAX, TEXTS_PER_TOPIC, TOP_WORDS = 3, 12, 50, 10


def topic_vectorizer():
    """TF-IDF of words made of letters (prices and day counts left out), English stop words out,
    words in fewer than 3 comments or in more than half of them left out."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(stop_words="english", min_df=3, max_df=0.5, sublinear_tf=True,
                           token_pattern=r"(?u)\b[^\W\d_]{2,}\b")


def coherence(X, components, *, top: int = TOP_WORDS) -> float:
    """Mean NPMI of each topic's ``top`` words, counted over the comments: +1 when two words
    always appear together, 0 when independent, -1 when never together. Written here because the
    library that has it (gensim) is not a dependency, and it is a few lines over the same matrix."""
    present = (X > 0).astype(float).tocsc()
    n, df = X.shape[0], np.asarray(present.sum(axis=0)).ravel()
    scores = []
    for h in components:
        w = np.argsort(-h)[:top]
        i, j = np.triu_indices(len(w), 1)
        both = (present[:, w].T @ present[:, w]).toarray()[i, j] / n
        single = df[w] / n
        with np.errstate(divide="ignore", invalid="ignore"):
            npmi = np.log(both / (single[i] * single[j])) / -np.log(both)
        scores.append(np.where(both > 0, npmi, -1.0).mean())
    return float(np.mean(scores))


def _nmf(X, k: int, seed: int):
    """NMF on one thread: on a matrix this small, more threads only wait on each other."""
    from sklearn.decomposition import NMF
    from threadpoolctl import threadpool_limits

    nmf = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=500)
    with threadpool_limits(1):
        return nmf.fit_transform(X), nmf.components_


@dataclass(frozen=True, eq=False)
class TopicResult(Section):
    """``table``: one row per topic (name, top words, comments, share, negative, share negative,
    two masked quotes); ``complaints``: topics by negative comments; ``selection``: coherence per
    number of topics tried; ``assignments``: feedback_id -> topic (no text)."""

    n_topics: int = 0
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    complaints: pd.DataFrame = field(default_factory=pd.DataFrame)
    selection: pd.DataFrame = field(default_factory=pd.DataFrame)
    assignments: pd.DataFrame = field(default_factory=pd.DataFrame)


def _topic_rows(f: pd.DataFrame, W, H, terms, negative) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per topic, and each comment's topic (-1: it uses none of the topic words)."""
    assign = np.where(W.max(axis=1) > 0, W.argmax(axis=1), -1)
    rows, names = [], set()
    for t, h in enumerate(H):
        words, members = terms[np.argsort(-h)[:TOP_WORDS]], assign == t
        name = " / ".join(words[:3])
        name = f"{name} ({t + 1})" if name in names else name
        names.add(name)
        best = [i for i in np.argsort(-W[:, t], kind="stable") if members[i]]
        quotes = list(dict.fromkeys(mask_text(f[TEXT].iloc[i]) for i in best[:20]))[:2]
        n, neg = int(members.sum()), int((members & negative).sum())
        rows.append({"topic": t, "name": name, "top_words": ", ".join(words[:8]),
                     "texts": n, "share": n / len(f), "negative": neg,
                     "share_negative": neg / n if n else np.nan,
                     "quote_1": (quotes + ["", ""])[0], "quote_2": (quotes + ["", ""])[1]})
    table = pd.DataFrame(rows).sort_values("texts", ascending=False, kind="stable")
    return table.reset_index(drop=True), assign


def topics(plan, *, n_topics: int | None = None, seed: int = 42, as_of=None,
           sentiment_result: SentimentResult | None = None) -> TopicResult:
    """Topics of the comments (TF-IDF + NMF): each comment goes to its strongest topic. With
    ``n_topics`` None, k runs from 3 to one per 50 comments (at most 12) and the most coherent
    wins. Negative comments are counted by ``sentiment_result`` (computed when not given)."""
    f, why = load_texts(plan, as_of=as_of)
    if why:
        return TopicResult(False, why, reading=why, headline={"supported": False})
    s = sentiment_result or sentiment(plan, seed=seed, as_of=as_of)
    vec = topic_vectorizer()
    X = vec.fit_transform(f[TEXT])
    terms = vec.get_feature_names_out()
    k_max = max(K_MIN, min(K_MAX, len(f) // TEXTS_PER_TOPIC, X.shape[1] // 5))
    if X.shape[1] < 5 * K_MIN:
        why = (f"Your comments share only {X.shape[1]} words used in 3 or more of them: too few "
               "to group into topics. Longer answers (an open question in your survey) would do.")
        return TopicResult(False, why, reading=why, headline={"supported": False})
    if n_topics is not None and not 2 <= n_topics <= min(len(f), X.shape[1]):
        raise ConfigError(f"n_topics = {n_topics}: give a number from 2 to "
                          f"{min(len(f), X.shape[1])}, or None to let the data choose.")
    ks = [n_topics] if n_topics else list(range(K_MIN, k_max + 1))
    fits = {k: _nmf(X, k, seed) for k in ks}
    selection = pd.DataFrame({"k": ks, "coherence": [coherence(X, fits[k][1]) for k in ks]})
    k = int(selection.loc[selection.coherence.idxmax(), "k"])
    label = s.scored.set_index(FEEDBACK_ID)["label"].reindex(f[FEEDBACK_ID]).to_numpy()
    table, assign = _topic_rows(f, *fits[k], terms, label == NEGATIVE)
    names = table.set_index("topic")["name"]
    complaints = table[table.negative > 0].sort_values("negative", ascending=False, kind="stable")
    all_negative = max(int((label == NEGATIVE).sum()), 1)
    complaints = complaints.assign(share_of_negatives=complaints.negative / all_negative)
    complaints = complaints[["name", "negative", "share_of_negatives", "share_negative", "texts",
                             "quote_1"]].reset_index(drop=True)
    assignments = pd.DataFrame({FEEDBACK_ID: f[FEEDBACK_ID],
                                "topic": [names.get(a, "(no topic words)") for a in assign]})
    warnings = ([f"{(assign < 0).sum()} comments use none of the topic words and belong to no "
                 "topic."] if (assign < 0).mean() > 0.05 else [])
    head = {"n_topics": k, "top_complaint": complaints.name[0] if len(complaints) else None,
            "top_complaint_negatives": int(complaints.negative[0]) if len(complaints) else 0,
            "top_complaint_share": float(complaints.share_of_negatives[0]) if len(complaints)
            else None}
    return TopicResult(True, "", n_topics=k, table=table, complaints=complaints,
                       selection=selection, assignments=assignments,
                       reading=_topic_reading(table, complaints, n_topics, len(f)),
                       warnings=tuple(warnings), headline=head)


def _topic_reading(table: pd.DataFrame, complaints: pd.DataFrame, fixed, n: int) -> str:
    how = ("as you asked" if fixed else f"with {n:,} comments, more would hold too few each"
           if len(table) == K_MIN and n < (K_MIN + 1) * TEXTS_PER_TOPIC else "the number whose top "
           "words most often appear together in the same comments")
    top = table.iloc[0]
    text = [f"Your {n:,} comments fall into {len(table)} topics ({how}), each named by its top "
            f"words. The largest is '{top['name']}' ({top.share:.0%} of comments)."]
    if len(complaints):
        c = complaints.iloc[0]
        text.append(f"Most complaints are about '{c['name']}': {c.negative:,} negative comments, "
                    f"{c.share_of_negatives:.0%} of all negative ones, and {c.share_negative:.0%} "
                    "of the comments on it are negative.")
        if len(complaints) > 1:
            text.append("Next come " + " and ".join(f"'{r.name}' ({r.negative:,})" for r in
                                                    complaints.iloc[1:3].itertuples()) + ".")
    else:
        text.append("None of the comments read as negative.")
    return " ".join(text)


def topics_data(result: TopicResult) -> pd.DataFrame:
    """What ``plot_topics`` draws: per topic, negative and other comments, most negatives first."""
    if result.table.empty:
        return pd.DataFrame(columns=["name", "negative", "other"])
    t = result.table.sort_values("negative", ascending=False, kind="stable")
    return pd.DataFrame({"name": t["name"], "negative": t["negative"],
                         "other": t["texts"] - t["negative"]}).reset_index(drop=True)


def plot_topics(result: TopicResult, ax=None):
    """Comments per topic, the negative ones in red, the topic with most complaints on top."""
    data = topics_data(result)
    ax = plots.axes(ax, figsize=(9, 0.5 * len(data) + 1.5))
    ax.barh(data["name"], data["negative"], color=plots.PALETTE[3], label="negative")
    ax.barh(data["name"], data["other"], left=data["negative"], color=plots.MUTED,
            label="positive or neutral")
    ax.invert_yaxis()
    ax.legend(frameon=False, loc="lower right")
    c = result.complaints
    title = (f"'{c.name[0]}' draws the most complaints: {c.negative[0]:,} negative comments"
             if len(c) else "No topic draws complaints" if len(data) else result.reading[:80])
    ax.set(title=title, xlabel="Comments (count)", ylabel="Topic (its top words)")
    return ax
