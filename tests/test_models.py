"""Step 06 models: on harbor_coffee the propensity model beats the RFM rule and its drivers have
the planted signs; on bloom_yoga lead scoring finds the planted drivers and the churn window comes
from the studio's rhythm; summit_outdoor (no e-mail events, no age band) still trains; thin or
one-class data gives a result that says why instead of an error."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers import features as ft
from helpers import models as md
from helpers.errors import LeakageError
from helpers.io import to_json_text
from helpers.plan import open_plan
from tests.conftest import ROOT, write_business

TRUTH_NAMES = {"recency_months": "recency_days", "log1p_orders_365": "log1p_orders_365",
               "email_engagement": "email_open_rate", "discount_share_365": "discount_share_365"}


def truth(sample: str) -> dict:
    return json.loads((ROOT / "sample_data" / sample / "truth.json").read_text())


@pytest.fixture(scope="module")
def harbor(tmp_path_factory):
    plan = open_plan("harbor_coffee", run_dir=tmp_path_factory.mktemp("harbor"))
    return plan, md.train_propensity(plan, horizon_days=90, seed=42)


@pytest.fixture(scope="module")
def bloom(tmp_path_factory):
    plan = open_plan("bloom_yoga", run_dir=tmp_path_factory.mktemp("bloom"))
    return plan, md.score_leads(plan, call_cost=20.0, seed=42), md.train_churn(plan, seed=42)


def test_harbor_propensity_beats_the_rfm_rule_with_an_interval(harbor):
    _, r = harbor
    m = r.metrics
    assert r.supported and r.beats_baseline
    assert m["roc_auc"] > m["baseline_roc_auc"] and m["diff_low"] > 0  # beyond the noise
    assert m["auc_low"] <= m["roc_auc"] <= m["auc_high"]
    assert m["lift_top_decile"] > 3 and 0 < m["brier"] < m["positives_rate"]
    assert f"AUC of {m['roc_auc']:.2f} (95% interval {m['auc_low']:.2f}" in r.reading
    assert "It beats the rule by" in r.reading


def test_harbor_propensity_drivers_have_the_planted_signs(harbor):
    _, r = harbor
    coef = r.drivers.set_index("feature").coefficient
    for name, sign in truth("harbor_coffee")["propensity"]["signs"].items():
        ours = coef[TRUTH_NAMES[name]]
        assert (ours > 0 if sign == "positive" else ours < 0), (name, sign, ours)
    assert r.drivers.feature.iloc[0] == "recency_days"  # shuffling it hurts the ranking most


def test_harbor_propensity_is_split_by_time(harbor):
    plan, r = harbor
    m = r.metrics
    end = plan.as_of.normalize() + pd.Timedelta(days=1)
    assert pd.Timestamp(m["validation_cutoff"]) == end - pd.Timedelta(days=90)
    for cutoff in m["train_cutoffs"]:  # every training label window ends by the test cutoff
        assert pd.Timestamp(cutoff) + pd.Timedelta(days=90) <= pd.Timestamp(m["validation_cutoff"])
    assert m["scored_at"] == f"{end:%Y-%m-%d}"
    v = r.validation
    assert len(v) == m["n_validation"] and v.y.sum() == m["positives_validation"]
    assert set(v.columns) >= {"y", "p", "baseline", "region", "age_band"}


def test_harbor_scores_and_saved_artifacts(harbor):
    plan, r = harbor
    assert r.scores.customer_id.is_unique and len(r.scores) == len(plan.prepared("customers"))
    assert r.scores.decile.between(1, 10).all() and r.scores.score.between(0, 1).all()
    table = md.scores_table([r])
    assert list(table.columns) == ["customer_id", "propensity", "propensity_decile"]
    assert not any("email" in c for c in table.columns)
    art = md.metrics_artifact([r, md.unsupported("churn", "no orders")])
    json.loads(to_json_text(art))  # writable as model_metrics.json
    assert art["churn"] == {"supported": False, "reason": "no orders", "beats_baseline": False,
                            "metrics": {}}
    paths = md.save_models(plan, [r])
    assert [p.name for p in paths] == ["propensity.joblib", "propensity_card.json"]
    model = plan.load("models/propensity.joblib")
    assert plan.load("models/propensity_card.json")["metrics"]["roc_auc"] == pytest.approx(
        r.metrics["roc_auc"])
    X = ft.customer_features(plan.prepared("orders"), cutoff=r.metrics["scored_at"],
                             customers=plan.prepared("customers"),
                             email_events=plan.prepared("email_events"))
    p = model.predict_proba(ft.model_inputs(X[r.card["features"]])[0])[:, 1]
    assert p == pytest.approx(r.scores.set_index("customer_id").score.loc[X.index].to_numpy())
    card = r.card
    assert card["intended_use"].startswith("rank customers") and card["fairness"]["groups"]


def test_bloom_lead_scoring_finds_the_planted_drivers(bloom):
    _, leads, _ = bloom
    assert leads.supported and leads.beats_baseline
    signs = truth("bloom_yoga")["leads"]["conversion_model"]["signs"]
    coef = leads.drivers.set_index("feature").coefficient
    for name in ("attended_first_class", "referred_by_member", "distance_km"):
        ours = coef[name]
        assert (ours > 0 if signs[name] == "positive" else ours < 0), (name, ours)
    m = leads.metrics
    assert m["train_to"] <= m["validation_from"]  # older leads train, newer ones test
    assert m["conversion_value"] == 149.0  # the median value of converted leads


def test_bloom_lead_threshold_maximises_expected_profit(bloom):
    _, leads, _ = bloom
    prof, v, m = leads.profit, leads.validation, leads.metrics
    best = prof.loc[prof.expected_profit.idxmax()]
    assert m["threshold"] == best.threshold
    called = v[v.p >= best.threshold]  # by hand from the validation rows
    assert best.expected_profit == pytest.approx((called.p * 149.0 - 20.0).sum())
    assert best.realized_profit == pytest.approx((called.y * 149.0 - 20.0).sum())
    assert (leads.scores.call == (leads.scores.score >= best.threshold)).all()
    assert "a call pays when a lead's chance is above 13%" in leads.reading  # 20 / 149


def test_bloom_churn_window_comes_from_the_studio_rhythm(bloom):
    plan, _, churn = bloom
    assert churn.supported and churn.metrics["horizon_days"] == 60
    assert "9 in 10 of your customers' returns come within 37 days" in churn.reading
    assert churn.metrics["roc_auc"] > churn.metrics["baseline_roc_auc"]
    active = churn.scores.customer_id
    assert active.is_unique and len(active) < len(plan.prepared("customers"))


def test_smoke_summit_propensity_runs_without_email_or_age_band(tmp_path_factory):
    plan = open_plan("summit_outdoor", run_dir=tmp_path_factory.mktemp("summit"))
    r = md.train_propensity(plan)
    assert r.supported, r.reason
    assert "email_open_rate" not in r.drivers.feature.tolist()
    assert "age_band" not in r.validation.columns
    assert np.isfinite(r.metrics["roc_auc"]) and r.headline["scored"] == len(r.scores)


# ---- thin and bad data -------------------------------------------------------------------------
def _tiny(tmp_path, files: dict[str, pd.DataFrame]):
    folder = write_business(tmp_path / "shop", data={t: f"data/{t}.csv" for t in files},
                            files={f"data/{t}.csv": f.to_csv(index=False)
                                   for t, f in files.items()})
    return open_plan(folder, run_dir=tmp_path / "run")


def test_one_class_leads_say_they_cannot_train(tmp_path):
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(60)],
                          "created_at": pd.date_range("2024-07-05", periods=60, freq="6D")
                          .strftime("%Y-%m-%d"), "source": ["web", "ads", "fair"] * 20,
                          "converted": ["false"] * 60})
    r = md.score_leads(_tiny(tmp_path, {"leads": leads}))
    assert not r.supported and r.model is None
    assert r.reason.startswith("Cannot train lead scoring: of the ")
    assert "the `converted` column marks 0 as converted" in r.reason
    assert r.reading == r.reason and r.headline == {"supported": False}


def test_short_history_is_unsupported_not_an_error(tmp_path):
    days = pd.date_range("2025-04-01", "2025-06-30", freq="D")
    orders = pd.DataFrame({"order_id": [f"O{i}" for i in range(len(days))],
                           "customer_id": [f"C{i % 30}" for i in range(len(days))],
                           "order_date": days.strftime("%Y-%m-%d"), "revenue": 20.0})
    r = md.train_propensity(_tiny(tmp_path, {"orders": orders}), horizon_days=90)
    assert not r.supported
    assert r.reason == ("The propensity model needs orders from at least 210 days before 30 Jun "
                        "2025 (two periods of 90 days to learn and test on, plus a month of "
                        "history); yours start 01 Apr 2025. Use a shorter horizon or wait for "
                        "more history.")


def test_a_leaking_feature_builder_stops_training(tmp_path, monkeypatch):
    days = pd.date_range("2024-01-01", "2025-06-30", freq="D")
    orders = pd.DataFrame({"order_id": [f"O{i}" for i in range(len(days))],
                           "customer_id": [f"C{i % 40}" for i in range(len(days))],
                           "order_date": days.strftime("%Y-%m-%d"), "revenue": 20.0})
    plan = _tiny(tmp_path, {"orders": orders})
    honest = ft.customer_features

    def leaky(orders, *, cutoff, **kw):  # a builder that read every order, the future's too
        out = honest(orders, cutoff=cutoff, **kw)
        out.attrs["latest_input"] = orders["order_date"].max()
        return out

    monkeypatch.setattr(ft, "customer_features", leaky)
    with pytest.raises(LeakageError, match=r"orders\.order_date: features for the cutoff "
                                           r"2025-01-02 use 1 value\(s\) dated on or after it "
                                           r"\(up to 2025-06-30\)"):
        md.train_propensity(plan, horizon_days=90)


def test_leads_without_value_still_score_and_say_what_is_missing(tmp_path):
    rng = np.random.default_rng(5)
    n = 240
    attended = rng.random(n) < 0.5
    leads = pd.DataFrame({"lead_id": [f"L{i:03d}" for i in range(n)],
                          "created_at": pd.date_range("2024-01-01", periods=n, freq="2D")
                          .strftime("%Y-%m-%d"),
                          "attended": np.where(attended, "yes", "no"),
                          "converted": np.where(rng.random(n) < np.where(attended, 0.6, 0.1),
                                                "true", "false")})
    r = md.score_leads(_tiny(tmp_path, {"leads": leads}))
    assert r.supported and r.profit.empty and r.metrics["threshold"] is None
    assert md.NO_VALUE in r.reading and not r.scores.call.any()
    assert r.drivers.set_index("feature").coefficient["attended"] > 0
    assert "attended (yes means more likely to convert)" in r.reading
