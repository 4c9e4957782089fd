"""Step 07 social: the calendar and word engagement by hand on tiny post tables, trending terms
by hand, and harbor_coffee's planted best slots, formats and themes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import social as so
from helpers.plan import open_plan


def _posts(rows: list[tuple[str, str, float, float, str]], network: str = "instagram"):
    """(posted_at, text, impressions, engagements, format) rows as social posts."""
    p = pd.DataFrame(rows, columns=["posted_at", "text", "impressions", "engagements", "format"])
    return p.assign(post_id=[f"P{i}" for i in range(len(p))], network=network,
                    posted_at=pd.to_datetime(p.posted_at))


# 2025-06-02 is a Monday, 2025-06-03 a Tuesday.
CAL = _posts([
    ("2025-06-02 09:10", "a", 100, 10, "photo"), ("2025-06-09 09:40", "b", 200, 20, "photo"),
    ("2025-06-16 09:05", "c", 300, 30, "photo"), ("2025-06-03 18:30", "d", 400, 8, "photo"),
    ("2025-06-10 18:15", "e", 600, 12, "photo"),
])


@pytest.fixture(scope="module")
def harbor(tmp_path_factory):
    """harbor_coffee's social section, computed once (run folder shared by the step 07 tests)."""
    plan = open_plan("harbor_coffee", run_dir=tmp_path_factory.getbasetemp() / "harbor_step07")
    return so.social_section(plan)


def test_calendar_numbers_by_hand_and_thin_cells_masked():
    rate = so.posting_calendar_data(CAL, min_posts=3)
    assert rate.loc["Mon", "09:00"] == pytest.approx(60 / 600)  # all engagements / impressions
    assert np.isnan(rate.loc["Tue", "18:00"])  # two posts: fewer than min_posts
    assert rate.loc["Sun"].isna().all() and list(rate.index) == list(so.WEEKDAYS)
    reach = so.posting_calendar_data(CAL, metric="impressions", min_posts=2)
    assert reach.loc["Mon", "09:00"] == pytest.approx(200.0)
    assert reach.loc["Tue", "18:00"] == pytest.approx(500.0)
    assert reach.attrs["posts"][0][0] == 3 and reach.attrs["metric"] == "impressions"
    with pytest.raises(ValueError, match="metric must be one of engagement_rate, impressions"):
        so.posting_calendar_data(CAL, metric="likes")


def test_term_engagement_by_hand():
    posts = _posts([("2025-06-02 09:00", "Latte art today", 1000, 100, "photo"),
                    ("2025-06-03 09:00", "More latte art", 1000, 100, "photo"),
                    ("2025-06-04 09:00", "Sale now on", 1000, 20, "photo"),
                    ("2025-06-05 09:00", "Big sale", 1000, 20, "photo")])
    t = so.term_engagement(posts, min_posts=2).set_index("term")
    # the network's rate is 240 / 4000 = 6 %, so each post is expected to bring 60
    assert t.loc["art, latte, latte art", "index"] == pytest.approx(200 / 120)
    assert t.loc["sale", "index"] == pytest.approx(40 / 120)
    assert t.loc["sale", "expected"] == pytest.approx(120)
    # both posts engage exactly alike, so the interval (delta method over posts) has no width
    assert t.loc["sale", "low"] == pytest.approx(t.loc["sale", "high"])


def test_trending_terms_log_odds_by_hand():
    old = [(f"2025-01-{d:02d} 09:00", "coffee beans roast", 100, 5, "photo") for d in range(1, 21)]
    new = [(f"2025-06-{d:02d} 09:00", "pumpkin spice coffee" if d <= 8 else "coffee beans",
            100, 5, "photo") for d in range(1, 11)]
    t = so.trending_terms(_posts(old + new), recent_days=30).set_index("term")
    lor = math.log(8.5 / 2.5) - math.log(0.5 / 20.5)  # 8 of 10 recent posts, 0 of 20 before
    assert t.loc["pumpkin", "log_odds"] == pytest.approx(lor)
    assert t.loc["pumpkin", "recent_share"] == 0.8 and t.loc["pumpkin", "rising"]
    assert not t.loc["coffee", "rising"]  # in every post, before and now
    assert "roast" not in t.index  # in no recent post: not a candidate


def test_too_few_posts_for_the_reach_model_give_no_slots():
    assert so.best_slots(CAL).empty and so.reach_effects(CAL).empty


def test_harbor_best_slots_are_weekend_evenings(harbor):
    slots = harbor.best_slots
    assert set(slots.weekday) <= {"Sat", "Sun"} and set(slots.hour) <= {19, 20}
    assert slots.hour.iloc[0] == 20  # truth: 20:00 reaches most (1.35), then 19:00 (1.30)
    assert (slots.low > 1).all()
    assert harbor.headline["best_slot"] == slots.slot.iloc[0]
    assert any(w.startswith("You have posted only") for w in harbor.warnings)


def test_harbor_reach_by_day_hour_and_format_matches_the_plant(harbor):
    r = harbor.reach.set_index(["factor", "level"]).multiplier
    days = r["weekday"]
    assert min(days["Sat"], days["Sun"]) > max(days["Mon"], days["Wed"], days["Fri"])
    assert days.idxmin() == "Mon"  # planted 0.90, the lowest
    assert r["hour"].idxmin() == "15:00"  # planted 0.80, the lowest
    assert r["format"].idxmax() == "instagram reel"  # reels reach most (x1.8 on the best network)
    assert r["format"].idxmin() == "facebook link"


def test_harbor_promo_words_engage_least_and_latte_art_most(harbor):
    terms = harbor.terms
    promo = ("sale", "save", "subscri", "15", "20", "bio", "link")
    assert all(any(w in t for w in promo) for t in terms.term.tail(5))
    assert (terms.tail(5).high < 0.8).all()  # planted x0.7 against ~x1.1 on average
    top = terms.head(3)
    assert any("latte" in t or "rosetta" in t or "baristas" in t for t in top.term)
    assert (top.low > 1.1).all()


def test_harbor_has_no_rising_words_as_none_were_planted(harbor):
    assert harbor.headline["rising_terms"] == 0
    assert "No word rose clearly in the last 90 days" in harbor.reading


def test_business_without_posts_is_told_what_to_add(tmp_path):
    res = so.social_section(open_plan("bloom_yoga", run_dir=tmp_path / "run"))
    assert not res.supported
    assert res.reason.startswith("The social calendar needs your social posts (a social_posts")
    assert "There is no social_posts table" in res.reason


def test_plot_posting_calendar_title_states_the_finding_smoke(harbor):
    ax = so.plot_posting_calendar(harbor.calendar)
    assert ax.get_title().endswith("posts)") and "impressions per post" in ax.get_title()
