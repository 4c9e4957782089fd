"""Step 09 experiments: the test statistics against hand computation, the sample ratio check, the
early-stopping warnings and decisions on hand-made tests, and recovery of harbor_coffee's planted
A/B test (CMP0187) and holdout (winback_2026_q2) from truth.json; bloom_yoga and summit_outdoor
have no experiment and are told what would enable one."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from helpers import abtest as ab
from helpers import experiments as ex
from helpers import uplift as up
from helpers.errors import ConfigError, UnknownNameError
from helpers.plan import SAMPLE_DIR, open_plan
from tests.conftest import write_business

TRUTH = json.loads((SAMPLE_DIR / "harbor_coffee" / "truth.json").read_text())


def _units(groups: dict, *, days: int = 14, revenue: dict | None = None, **attrs) -> pd.DataFrame:
    """A hand-made experiment: {variant: (units, conversions)}, exposures spread over ``days``
    days from 2025-01-01, observed until 60 days after; revenue per converted unit by variant."""
    rows = []
    for variant, (n, x) in groups.items():
        for i in range(n):
            rows.append({"unit_id": f"{variant}{i}", "variant": variant,
                         "exposed_at": pd.Timestamp("2025-01-01") + pd.Timedelta(days=i % days),
                         "converted": i < x,
                         "revenue": float((revenue or {}).get(variant, 0.0)) * (i < x)})
    frame = pd.DataFrame(rows)
    control, why = ex.pick_control(groups)
    frame.attrs.update({"id": "T1", "source": "experiments", "metric": "conversion",
                        "verb": "converted", "has_revenue": revenue is not None, "label": "group",
                        "name": "T1", "control": control, "control_reason": why,
                        "observed_until": pd.Timestamp("2025-01-01") + pd.Timedelta(days=60),
                        "currency": "USD", "customers": False} | attrs)
    return frame


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def _wilson(x: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    p = x / n
    mid, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (mid - half) / (1 + z * z / n), (mid + half) / (1 + z * z / n)


# ---- statistics against hand computation -------------------------------------------------------
def test_z_test_and_newcombe_interval_match_hand_computation():
    got = ab.compare_rates(250, 1000, 200, 1000)
    pooled = 450 / 2000
    z = 0.05 / math.sqrt(pooled * (1 - pooled) * (2 / 1000))  # 2.6774
    assert got["z"] == pytest.approx(z, rel=1e-6) and got["z"] == pytest.approx(2.6774, abs=1e-4)
    assert got["p"] == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-6)  # two-sided, 0.0074
    (l1, u1), (l2, u2) = _wilson(250, 1000), _wilson(200, 1000)
    assert got["diff_low"] == pytest.approx(0.05 - math.hypot(0.25 - l1, u2 - 0.20), abs=1e-6)
    assert got["diff_high"] == pytest.approx(0.05 + math.hypot(u1 - 0.25, 0.20 - l2), abs=1e-6)
    assert got["relative_lift"] == pytest.approx(0.25)


def test_welch_interval_matches_hand_computation():
    from scipy.stats import t as student

    a, b = np.array([0, 0, 10, 20, 0, 5.0]), np.array([0, 0, 0, 4, 0, 2, 0, 0.0])
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = student.ppf(0.975, df) * math.sqrt(va + vb)
    got = ab.compare_revenue(a, b)
    d = a.mean() - b.mean()
    assert got["revenue_diff"] == pytest.approx(d)
    assert (got["revenue_low"], got["revenue_high"]) == pytest.approx((d - half, d + half))


def test_bayesian_chance_is_close_to_the_normal_approximation_on_a_large_test():
    prob, loss = ab.bayes_beats(2100, 10_000, 2000, 10_000, draws=20000, seed=1)
    mu = 0.01
    sd = math.sqrt(0.21 * 0.79 / 10_000 + 0.2 * 0.8 / 10_000)
    assert prob == pytest.approx(_phi(mu / sd), abs=0.01)  # 0.960
    density = math.exp(-0.5 * (mu / sd) ** 2) / math.sqrt(2 * math.pi)
    normal_loss = sd * density - mu * _phi(-mu / sd)  # E[max(-D, 0)], D ~ N(mu, sd)
    assert loss == pytest.approx(normal_loss, rel=0.1)
    assert ab.bayes_beats(2100, 10_000, 2000, 10_000, seed=1) == (prob, loss)  # seeded


def test_sample_size_needed_equals_the_normal_power_formula():
    r_c, r_t = 0.20, 0.26
    h = 2 * math.asin(math.sqrt(r_t)) - 2 * math.asin(math.sqrt(r_c))
    need_c, need_t = ab.needed_per_group(r_c, r_t)
    assert need_c == pytest.approx(2 * ((1.959964 + 0.841621) / h) ** 2, rel=1e-4)
    assert need_t == pytest.approx(need_c)
    assert ab.needed_per_group(0.2, 0.2) == (np.inf, np.inf)


# ---- sample ratio mismatch ---------------------------------------------------------------------
def test_srm_fires_on_1000_against_1200_in_a_50_50_test():
    counts = pd.Series({"A": 1000, "B": 1200})
    for split in ((0.5, 0.5), {"A": 1, "B": 1}, None):
        srm = ab.sample_ratio(counts, expected_split=split)
        assert srm["chi2"] == pytest.approx(2 * 100 ** 2 / 1100)  # 18.18
        assert srm["p"] < 0.001 and srm["mismatch"]
        assert srm["assumed"] is (split is None) and srm["design"] == "A 50% / B 50%"
    r = ex.read_experiment(_units({"A": (1000, 100), "B": (1200, 150)}))
    assert r.verdict == "check_split"
    assert r.decision.startswith("Do not act on this test yet: it holds 1,000 with A and 1,200 "
                                 "with B, far from the A 50% / B 50% split assumed")


def test_srm_assumes_the_nearest_common_design_and_says_so():
    srm = ab.sample_ratio(pd.Series({"control": 282, "treatment": 1088}))
    assert srm["design"] == "control 20% / treatment 80%" and srm["assumed"]
    assert not srm["mismatch"]
    three = ab.sample_ratio(pd.Series({"A": 100, "B": 100, "C": 130}))
    assert three["expected"] == {"A": 0.3333, "B": 0.3333, "C": 0.3333}


def test_expected_split_errors_name_the_variants():
    counts = pd.Series({"A": 10, "B": 12})
    with pytest.raises(UnknownNameError, match="unknown variant 'b'. Did you mean 'B'"):
        ab.sample_ratio(counts, expected_split={"A": 0.5, "b": 0.5})
    with pytest.raises(ConfigError, match="expected_split has 3 shares for 2 variants"):
        ab.sample_ratio(counts, expected_split=(0.3, 0.3, 0.4))


# ---- decisions and warnings on hand-made tests --------------------------------------------------
def test_pick_control_by_name_else_first_in_sort_order():
    assert ex.pick_control(["treatment", "Holdout"])[0] == "Holdout"
    assert ex.pick_control(["b", "a", "control"])[0] == "control"  # control before a
    name, why = ex.pick_control(["new", "old"])
    assert name == "new" and "the first in alphabetical order" in why


def test_small_short_test_is_told_to_keep_testing_with_every_warning():
    units = _units({"A": (150, 30), "B": (150, 39)}, days=3)
    units.attrs["observed_until"] = pd.Timestamp("2025-01-04")
    r = ex.read_experiment(units)
    assert r.verdict == "keep_testing" and r.decision.startswith(
        "Keep testing: the B group converted 6.0 points more than the A group so far (26.0% "
        "against 20.0%; 95% interval")
    assert r.power["days_observed"] == 3 and r.power["underpowered"]
    text = " ".join(r.warnings)
    assert "observed for only 3 day(s)" in text
    assert "still includes zero" in text
    need = ab.needed_per_group(0.2, 0.26)[0]
    assert f"takes about {need:,.0f} units with A" in text


def test_clear_loser_keeps_the_control():
    r = ex.read_experiment(_units({"A": (2000, 500), "B": (2000, 400)}))
    assert r.verdict == "keep_control"
    assert r.decision.startswith("Keep the A group: the B group converted 5.0 points less")


def test_three_variants_are_each_compared_with_control_holm_corrected():
    r = ex.read_experiment(_units({"A": (1000, 200), "B": (1000, 250), "C": (1000, 210)}))
    main = r.comparisons[r.comparisons.metric == "main"].set_index("variant")
    p_b, p_c = main.p["B"], main.p["C"]
    assert main.p_adjusted["B"] == pytest.approx(min(1, 2 * p_b))  # smallest p times 2
    assert main.p_adjusted["C"] == pytest.approx(max(2 * p_b, p_c))  # then times 1, monotone
    wide = ab.compare_rates(250, 1000, 200, 1000, alpha=0.025)  # Bonferroni-widened interval
    assert main.diff_low["B"] == pytest.approx(wide["diff_low"])
    assert r.challenger == "B" and "Holm-corrected" in r.reading


def test_too_few_units_is_unsupported_with_the_reason():
    r = ex.read_experiment(_units({"A": (20, 5), "B": (200, 50)}))
    assert not r.supported
    assert r.reading == ("T1 has only 20 units with A: read a test from at least 30 units per "
                         "variant.")


# ---- harbor_coffee: the planted A/B test and holdout --------------------------------------------
@pytest.fixture(scope="module")
def harbor(tmp_path_factory):
    plan = open_plan("harbor_coffee", run_dir=tmp_path_factory.mktemp("harbor"))
    return plan, ex.experiments_section(plan)


def test_harbor_ab_test_recovers_the_true_lift(harbor):
    _, result = harbor
    truth, r = TRUTH["ab_test"], result.experiments["CMP0187"]
    v = r.variants.set_index("variant")
    mixed = 2  # two customers were sent both subjects; they are left out of both groups
    assert (v.n["A"] + mixed, v.n["B"] + mixed) == (truth["n_A"], truth["n_B"])
    assert "2 units saw more than one variant" in " ".join(r.warnings)
    h = r.headline
    assert h["lift_low_points"] < 100 * truth["true_lift_absolute"] < h["lift_high_points"]
    assert h["rate_challenger"] == pytest.approx(truth["observed_open_rate_B"], abs=0.001)
    assert not r.srm["mismatch"] and r.srm["design"] == "A 50% / B 50%"
    assert r.verdict == "roll_out" and r.decision.startswith(
        "Send subject B from now on: it opened 3.0 points more than subject A (25.0% against "
        "22.0%; 95% interval +0.4 to +5.6 points)")
    assert "Clicks: 2.4% with subject B against 2.4% with subject A" in r.reading


def test_harbor_holdout_recovers_the_true_incremental_rate_and_revenue(harbor):
    _, result = harbor
    truth, r = TRUTH["holdout"], result.experiments["winback_2026_q2"]
    v = r.variants.set_index("variant")
    assert (v.n["control"], v.n["treatment"]) == (truth["observed"]["control"]["units"],
                                                  truth["observed"]["treatment"]["units"])
    h = r.headline
    assert h["lift_low_points"] < 100 * truth["true_incremental_conversion_rate"] < \
        h["lift_high_points"]
    assert h["lift_low_points"] > 0
    best = r.comparisons[r.comparisons.metric == "main"].iloc[0]
    assert best.revenue_low < truth["true_incremental_revenue_per_unit"] < best.revenue_high
    assert not r.srm["mismatch"] and r.srm["assumed"]
    assert r.srm["design"] == "control 20% / treatment 80%"
    assert "assumed control 20% / treatment 80% design" in r.reading
    assert r.verdict == "roll_out" and not r.power["underpowered"]


def test_harbor_learnings_and_artifact(harbor):
    _, result = harbor
    log = {e["id"]: e for e in result.learnings}
    assert set(log) == {"CMP0187", "winback_2026_q2"}
    assert log["CMP0187"]["date"] == "2026-03-03" and log["winback_2026_q2"]["date"] == "2026-04-07"
    assert log["CMP0187"]["hypothesis"] == ("Subject B gets more opens than subject A in e-mail "
                                            "CMP0187 (Newsletter 2026-03-03 (subject test))")
    assert log["winback_2026_q2"]["source"] == "experiments"
    assert log["CMP0187"]["result"].startswith("B 25.0% against A 22.0%: +3.0 points")
    assert log["winback_2026_q2"]["decision"] == result.experiments["winback_2026_q2"].decision
    art = ex.experiments_artifact(result)
    json.dumps(art, allow_nan=False)
    inc = art["experiments"]["winback_2026_q2"]["incremental_revenue"]
    assert inc["units"] == 1088 and inc["total"] == pytest.approx(inc["per_unit"] * 1088)
    assert inc["total_low"] < 1.607 * 1088 < inc["total_high"]
    assert result.headline == {"supported": True, "experiments": 2, "read": 2, "roll_out": 2,
                               "keep_testing": 0, "keep_control": 0, "split_problems": 0}
    assert result.reading.startswith("Your data holds 2 experiments (2 clear winners")


def test_harbor_uplift_segments_add_up_and_match_hand_counts(harbor):
    plan, result = harbor
    u = result.uplift["CMP0187"]
    seg = u.segments
    for _, g in seg.groupby("attribute"):
        assert (g.n_control.sum(), g.n_treatment.sum()) == (1981, 2047)
    assert (seg.too_small == (seg[["n_control", "n_treatment"]].min(axis=1) < 100)).all()
    units = ex.experiment_units(plan)["CMP0187"]
    region = plan.prepared("customers").set_index("customer_id")["region"]
    ne = units[units.unit_id.map(region).eq("Northeast")]
    rates = ne.groupby("variant").converted.mean()
    row = seg[(seg.attribute == "region") & (seg.segment == "Northeast")].iloc[0]
    assert row.uplift == pytest.approx(rates["B"] - rates["A"])
    assert u.model_supported and u.scores["predicted_uplift"].notna().all()
    assert list(u.scores.columns) == ["unit_id", "variant", "predicted_uplift"]
    t = u.targeting
    assert t["gain"] == pytest.approx(t["top_half_uplift"] - t["overall_uplift"])
    assert t["overall_uplift"] == pytest.approx(result.experiments["CMP0187"].headline[
        "lift_points"] / 100)
    said = "Targeting by predicted uplift does not beat picking at random" in u.reading
    assert said is (not t["beats_random"])


def test_harbor_holdout_uplift_flags_small_segments(harbor):
    _, result = harbor
    u = result.uplift["winback_2026_q2"]
    small = u.segments[u.segments.too_small]
    assert len(small) == u.headline["small_segments"] > 0
    assert f"{len(small)} of {len(u.segments)} segments have fewer than 100 units in an arm: " \
           "too small to act on." in u.warnings


def test_harbor_plot_data_is_the_variant_rates(harbor):
    _, result = harbor
    r = result.experiments["CMP0187"]
    data = ex.experiment_data(r)
    assert list(data.variant) == ["A", "B"] and (data.rate_low < data.rate).all()
    ax = ex.plot_experiment(r)
    assert ax.get_title() == "CMP0187: B 25.0% against A 22.0% (+3.0 points)"
    assert [p.get_height() for p in ax.patches] == pytest.approx(list(data.rate))


# ---- businesses without experiments --------------------------------------------------------------
@pytest.mark.parametrize("business", ["bloom_yoga", "summit_outdoor"])
def test_samples_without_experiments_are_unsupported_with_the_reason(business, tmp_path):
    plan = open_plan(business, run_dir=tmp_path / "run")
    result = ex.experiments_section(plan)
    assert not result.supported and result.reading == result.reason
    assert result.reason.startswith("There is no experiment to read. There is no experiments "
                                    "table: add `experiments: {path: data/experiments.csv}`")
    assert "an e-mail A/B test needs a `variant` column (A or B) in your email_events" \
        in result.reason
    assert ("Your e-mail events carry no variant." in result.reason) is (business == "bloom_yoga")


def test_units_that_are_not_customers_get_no_segments(tmp_path):
    n = 200
    exp = pd.DataFrame({"experiment_id": "landing_page", "unit_id": [f"S{i}" for i in range(n)],
                        "variant": ["original", "new"] * (n // 2), "exposed_at": "2025-05-01",
                        "converted": [i % 5 == 0 for i in range(n)], "revenue": 0.0})
    orders = pd.DataFrame({"order_id": ["O1"], "customer_id": ["C1"],
                           "order_date": ["2025-01-02"], "revenue": [10.0], "channel": ["web"]})
    folder = write_business(tmp_path / "shop", data={"experiments": "data/experiments.csv",
                                                     "orders": "data/orders.csv"},
                            files={"data/experiments.csv": exp.to_csv(index=False),
                                   "data/orders.csv": orders.to_csv(index=False)})
    result = ex.experiments_section(open_plan(folder, run_dir=tmp_path / "run"))
    r, u = result.experiments["landing_page"], result.uplift["landing_page"]
    assert r.control == "original" and r.headline["n_control"] == 100
    assert not u.supported and u.reason.startswith("The units of landing_page are not your "
                                                   "customers")


def test_tiny_email_ab_test_and_blank_outcomes(tmp_path):
    n = 120
    sends = pd.DataFrame({"campaign_id": "CMP1", "customer_id": [f"C{i}" for i in range(2 * n)],
                          "sent_at": "2025-05-01 09:00", "variant": ["A", "B"] * n,
                          "opened_at": ["2025-05-01 10:00" if i % 4 == 0 or (i % 2 and i % 3 == 0)
                                        else "" for i in range(2 * n)]})
    exp = pd.DataFrame({"experiment_id": "promo", "unit_id": [f"C{i}" for i in range(80)],
                        "variant": ["holdout", "promo"] * 40, "exposed_at": "2025-05-02",
                        "converted": ["" if i < 4 else str(i % 3 == 0).lower()
                                      for i in range(80)], "revenue": 0.0})
    customers = pd.DataFrame({"customer_id": [f"C{i}" for i in range(2 * n)],
                              "signup_date": "2024-01-01"})
    orders = pd.DataFrame({"order_id": ["O1"], "customer_id": ["C1"],
                           "order_date": ["2025-01-02"], "revenue": [10.0], "channel": ["web"]})
    files = {"email_events": sends, "experiments": exp, "customers": customers, "orders": orders}
    folder = write_business(tmp_path / "shop", data={t: f"data/{t}.csv" for t in files},
                            files={f"data/{t}.csv": f.to_csv(index=False)
                                   for t, f in files.items()})
    result = ex.experiments_section(open_plan(folder, run_dir=tmp_path / "run"))
    email, promo = result.experiments["CMP1"], result.experiments["promo"]
    v = email.variants.set_index("variant")
    # A (even i): opened when i % 4 == 0 -> 60 of 120; B (odd i): when i % 3 == 0 -> 40 of 120
    assert (v.conversions["A"], v.conversions["B"]) == (60, 40)
    assert email.hypothesis == "Version B gets more opens than version A in e-mail CMP1"
    assert email.verdict == "keep_control" and email.decision.startswith(
        "Keep version A: version B opened 16.7 points less")
    assert promo.control == "holdout" and promo.headline["n_control"] == 38
    assert "4 units have no converted value and were left out" in " ".join(promo.warnings)


def test_uplift_by_an_unknown_attribute_names_the_valid_ones(harbor):
    plan, _ = harbor
    units = ex.experiment_units(plan)["CMP0187"]
    with pytest.raises(UnknownNameError, match="by: unknown segment attribute 'regoin'. Did you "
                                               "mean 'region'"):
        up.uplift_by_segment(plan, units, by=["regoin"])


def test_uplift_segments_show_rates_and_intervals_as_percentages():
    from helpers.uplift import UpliftResult, segments_display

    segments = pd.DataFrame({"attribute": ["region"], "segment": ["West"], "n_control": [120],
                             "n_treatment": [480], "rate_control": [0.05],
                             "rate_treatment": [0.112], "uplift": [0.062], "low": [0.026],
                             "high": [0.091], "predicted_uplift": [0.06], "too_small": [False]})
    shown = segments_display(UpliftResult("x", True, segments=segments)).iloc[0]
    assert (shown["rate_treatment"], shown["uplift"], shown["low"], shown["n_control"]) == (
        "11.2%", "6.2%", "2.6%", 120)
