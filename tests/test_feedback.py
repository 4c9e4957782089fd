"""Step 09 feedback: masking on hand examples, the metrics and coherence against hand computation
and sklearn, harbor_coffee's planted sentiment and topics recovered (truth.json "feedback"), and
the businesses without feedback told what would enable the section."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from helpers import feedback as fb
from helpers import topics as tp
from helpers.errors import ConfigError
from helpers.io import to_json_text
from helpers.plan import open_plan
from tests.conftest import ROOT, write_business

TRUTH = json.loads((ROOT / "sample_data/harbor_coffee/truth.json").read_text())["feedback"]


# ---- masking ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text, masked", [
    ("Email me at jane.doe+shop@example.co.uk please", "Email me at [email] please"),
    ("See https://shop.example.com/orders/123?x=1. Thanks", "See [link]. Thanks"),
    ("or www.harbor.coffee/help", "or [link]"),
    ("Call 0412 345 678 or +1 (415) 555-0134.", "Call [phone] or [phone]."),
    ("My order #10432, order no. 5531 and ref: AB-123456", "My [order number], [order number] "
     "and [order number]"),
    ("Order O0000033 arrived, see #2291", "[order number] arrived, see [order number]"),
    ("card 4111 1111 1111 1111 was charged twice", "card [number] was charged twice"),
    ("9 days late, $34 for a small bag, delivered 2024-05-03 at 10:30; 12/05/2024",
     "9 days late, $34 for a small bag, delivered 2024-05-03 at 10:30; 12/05/2024"),
])
def test_mask_text_hides_contact_details_and_order_numbers_only(text, masked):
    assert fb.mask_text(text) == masked


def test_mask_text_of_missing_is_empty():
    assert fb.mask_text(None) == "" and fb.mask_text(float("nan")) == ""


# ---- labels and metrics ----------------------------------------------------------------------
def test_labels_from_ratings_and_from_vader_thresholds():
    ratings = pd.Series([5, 4, 3, 2, 1, None, 7, 4.0])
    assert fb.rating_labels(ratings).tolist() == ["positive", "positive", "neutral", "negative",
                                                  "negative", None, None, "positive"]
    assert fb.vader_labels([0.05, 0.049, -0.05, -0.049, 0.9]).tolist() == [
        "positive", "neutral", "negative", "neutral", "positive"]


def test_fast_scores_equal_sklearn():
    from sklearn.metrics import accuracy_score, f1_score

    rng = np.random.default_rng(0)
    y = rng.choice(fb.LABELS, (5, 60)).astype(object)
    p = np.where(rng.random((5, 60)) < 0.6, y, rng.choice(fb.LABELS, (5, 60))).astype(object)
    p[0] = np.where(p[0] == "neutral", "positive", p[0])  # one row never predicts a class
    got = fb._scores(y, p)
    for i in range(5):
        assert got[i, 0] == pytest.approx(accuracy_score(y[i], p[i]))
        assert got[i, 1] == pytest.approx(f1_score(y[i], p[i], average="macro"))


def test_compare_by_hand():
    y = ["positive", "positive", "negative", "neutral"]
    table, gap = fb.compare(y, y, ["positive"] * 4, seed=1, draws=200)
    assert table.accuracy.tolist() == [1.0, 0.5]
    # VADER here: F1 positive = 2*2/(4+2) = 2/3; negative and neutral 0 -> macro 2/9
    assert table.macro_f1.tolist() == pytest.approx([1.0, 2 / 9])
    assert gap["macro_f1_diff"] == pytest.approx(7 / 9)
    assert gap["macro_f1_low"] <= gap["macro_f1_diff"] <= gap["macro_f1_high"]


def test_coherence_is_one_for_words_always_together_and_minus_one_for_never():
    X = sparse.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 1]], dtype=float))
    assert tp.coherence(X, np.array([[1.0, 0.9, 0.0]]), top=2) == pytest.approx(1.0)
    assert tp.coherence(X, np.array([[1.0, 0.0, 0.9]]), top=2) == pytest.approx(-1.0)


def test_now_against_a_year_ago_by_hand():
    dates = (["2025-05-10"] * 20 + ["2025-06-20"] * 10 + ["2024-05-01"] * 25 + ["2024-07-15"] * 5)
    labels = (["negative"] * 5 + ["positive"] * 25 + ["negative"] * 10 + ["neutral"] * 15
              + ["negative"] * 5)
    scored = pd.DataFrame({"created_at": pd.to_datetime(dates), "label": labels})
    c = fb.now_vs_year_ago(scored, as_of="2025-06-30")
    assert (c["n_now"], c["negative_now"], c["n_before"], c["negative_before"]) == (30, 5, 25, 10)
    assert c["now"] == pytest.approx(5 / 30) and c["before"] == pytest.approx(10 / 25)
    assert c["change"] == pytest.approx(5 / 30 - 10 / 25)
    assert c["change_low"] < c["change"] < c["change_high"] < 0.1


# ---- small businesses --------------------------------------------------------------------------
def _feedback_business(tmp_path, rows: int, *, ratings: bool, texts=None):
    rng = np.random.default_rng(3)
    good = ["The coffee tastes fresh and smooth, lovely aroma", "Fresh beans, smooth taste, "
            "lovely coffee", "Friendly staff at the cafe, great latte", "Great latte and "
            "friendly barista in the cafe"]
    bad = ["Delivery was slow and the box arrived damaged", "Slow delivery, damaged box again",
           "The price went up and the bags got smaller", "Too expensive, bags smaller than the "
           "price suggests"]
    texts = texts or [(good if i % 2 else bad)[int(rng.integers(4))] for i in range(rows)]
    stars = [(5 if i % 2 else 1) for i in range(rows)] if ratings is True else ratings or ""
    frame = pd.DataFrame({"feedback_id": [f"F{i}" for i in range(rows)],
                          "created_at": pd.date_range("2024-07-01", "2025-06-25", periods=rows)
                          .strftime("%Y-%m-%d"), "source": "survey", "rating": stars,
                          "text": texts})
    folder = write_business(tmp_path / "shop", data={"feedback": "data/feedback.csv"},
                            files={"data/feedback.csv": frame.to_csv(index=False)})
    return open_plan(folder, run_dir=tmp_path / "runs" / "shop" / "default")


def test_too_few_comments_is_unsupported_with_what_to_collect(tmp_path):
    result = fb.feedback_section(_feedback_business(tmp_path, 30, ratings=True))
    assert not result.supported and result.topics is None
    assert result.reading.startswith("Only 30 comments with text by 30 Jun 2025: with fewer "
                                     "than 50, read them yourself")


def test_without_ratings_vader_scores_and_the_reading_says_why(tmp_path):
    plan = _feedback_business(tmp_path, 80, ratings=False)
    result = fb.feedback_section(plan)
    s, t = result.sentiment, result.topics
    assert result.supported and s.method == "vader" and s.comparison.empty
    assert ("They are scored by VADER, a general-purpose word list, because no comment carries "
            "a 1-5 star rating; a model needs 200") in s.reading
    expected = fb.vader_labels(fb.vader_scores(fb.load_texts(plan)[0]["text"]))
    assert (s.scored["label"].to_numpy() == expected).all()
    assert t.supported and t.n_topics == 3 and t.selection.k.tolist() == [3]  # 80 // 50 < 3
    assert tp.topics(plan, n_topics=2, sentiment_result=s).n_topics == 2
    with pytest.raises(ConfigError, match="n_topics = 1: give a number from 2 to"):
        tp.topics(plan, n_topics=1, sentiment_result=s)


def test_vader_is_kept_when_the_model_does_not_beat_it_by_more_than_chance(tmp_path):
    kinds = [("Great coffee, love it", 5), ("Terrible coffee, awful taste", 1),
             ("The parcel came on Tuesday", 3)]  # VADER reads each exactly as its stars say
    rows = [kinds[i % 3] for i in range(240)]
    plan = _feedback_business(tmp_path, 240, ratings=[r for _, r in rows],
                              texts=[t for t, _ in rows])
    result = fb.feedback_section(plan)
    s = result.sentiment
    assert s.comparison.accuracy.tolist() == [1.0, 1.0] and s.gap["macro_f1_low"] == 0
    assert s.method == "vader" and "not clearly above zero, so the trend below uses the " \
                                   "simpler VADER" in s.reading
    assert not result.topics.supported and result.headline["top_complaint"] is None
    assert result.topics.reading.startswith("Your comments share only")


@pytest.mark.parametrize("business", ["bloom_yoga", "summit_outdoor"])
def test_samples_without_feedback_are_unsupported_with_the_reason(business, tmp_path):
    result = fb.feedback_section(open_plan(business, run_dir=tmp_path / "run"))
    assert not result.supported and result.headline == {"supported": False}
    assert result.reading.startswith("No customer comments to read. There is no feedback table: "
                                     "add `feedback: {path: data/feedback.csv}` under `data:`")
    assert fb.feedback_artifact(result)["supported"] is False
    assert fb.plot_sentiment_trend(result.sentiment).get_title() == "No comments to chart"


# ---- harbor_coffee: the planted truth ----------------------------------------------------------
@pytest.fixture(scope="module")
def harbor(tmp_path_factory):
    plan = open_plan("harbor_coffee", run_dir=tmp_path_factory.mktemp("run09"))
    return plan, fb.feedback_section(plan)


def _truth(ids, part: int) -> pd.Series:
    return pd.Series([TRUTH["labels"][i][part] for i in ids], index=getattr(ids, "index", None))


def test_harbor_sentiment_model_beats_vader_on_the_newest_quarter(harbor):
    _, result = harbor
    s = result.sentiment
    h = s.holdout
    assert len(h) == 375 and h.created_at.min() >= s.scored.created_at.iloc[1124]  # newest 25 %
    truth = _truth(h.feedback_id, 1)
    model_acc, vader_acc = (h.model == truth).mean(), (h.vader == truth).mean()
    # seen: model 1.00, VADER 0.68 against the planted labels on the 375 held-out comments
    assert model_acc >= 0.95 and vader_acc < model_acc - 0.2
    assert s.method == "model" and s.gap["macro_f1_low"] > 0
    assert "so the trend below uses the model" in s.reading
    from sklearn.metrics import accuracy_score

    assert s.comparison.accuracy[0] == pytest.approx(accuracy_score(h.rating_label, h.model))


def test_harbor_trend_and_change_agree_with_the_planted_labels(harbor):
    plan, result = harbor
    s = result.sentiment
    assert s.trend.texts.sum() == 1500
    assert (s.trend.share_negative == s.trend.negative / s.trend.texts).all()
    truth = s.scored.assign(label=_truth(s.scored.feedback_id, 1).to_numpy())
    planted = fb.now_vs_year_ago(truth, as_of=plan.as_of)
    assert s.change["now"] == pytest.approx(planted["now"], abs=0.03)
    assert s.change["before"] == pytest.approx(planted["before"], abs=0.03)
    assert result.headline["share_negative_now"] == s.change["now"]


def test_harbor_topics_recover_the_planted_topics_and_the_top_complaint(harbor):
    _, result = harbor
    t = result.topics
    found = t.assignments.assign(truth=_truth(t.assignments.feedback_id, 0).to_numpy())
    table = pd.crosstab(found.topic, found.truth)
    majority = table.idxmax(axis=1)
    purity = table.max(axis=1).sum() / len(found)  # seen: 0.72 with 11 topics
    assert set(majority) == {"taste", "shipping", "price", "service"} and purity >= 0.65
    counts = TRUTH["counts"]
    worst = max(("taste", "shipping", "price", "service"), key=lambda x: counts[f"{x}/negative"])
    assert (worst, counts[f"{worst}/negative"]) == ("shipping", 163)
    top = t.complaints.iloc[0]
    assert majority[top["name"]] == "shipping" and result.headline["top_complaint"] == top["name"]
    members = found.feedback_id[found.topic == top["name"]]
    labels = result.sentiment.scored.set_index("feedback_id").label
    assert top.negative == (labels[members] == "negative").sum()


def test_harbor_artifact_holds_no_text_but_the_masked_quotes(harbor):
    plan, result = harbor
    art = fb.feedback_artifact(result)
    json.loads(to_json_text(art))
    quotes = {q for row in art["topics"]["table"] for q in (row["quote_1"], row["quote_2"])}
    assert all(q == fb.mask_text(q) for q in quotes) and len(quotes) == 2 * len(
        art["topics"]["table"])

    def strings(obj, key=None):
        if isinstance(obj, dict):
            return [s for k, v in obj.items() for s in strings(v, k)]
        if isinstance(obj, list):
            return [s for v in obj for s in strings(v, key)]
        return [obj] if isinstance(obj, str) and key not in ("quote_1", "quote_2") else []

    texts = set(plan.prepared("feedback")["text"])
    assert not texts & set(strings(art))
    assert art["headline"]["sentiment_method"] == "model trained on your ratings"


def test_harbor_plots_state_the_finding(harbor):
    _, result = harbor
    ax = tp.plot_topics(result.topics)
    top = result.topics.complaints.iloc[0]
    assert ax.get_title() == f"'{top['name']}' draws the most complaints: {top.negative:,} " \
                             "negative comments"
    ax = fb.plot_sentiment_trend(result.sentiment)
    c = result.sentiment.change
    assert ax.get_title() == (f"Negative comments: {c['now']:.0%} in the last 3 months, "
                              f"{c['before']:.0%} a year earlier")
    assert len(tp.topics_data(result.topics)) == result.topics.n_topics
