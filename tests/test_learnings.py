"""Step 09 learnings log (one CSV per business, idempotent, atomic) and retrain triggers from a
hand-made alerts.json and hand-made model cards."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import learnings as lr
from helpers.errors import ConfigError, UnknownNameError
from helpers.plan import open_plan
from tests.conftest import write_business

ORDER_DATES = ["2025-05-20", "2025-05-31", "2025-06-01", "2025-06-10", "2025-06-30", "2025-07-02"]
ENTRIES = [
    {"date": "2025-06-15", "step": 9, "source": "experiments", "id": "subject_line_test",
     "hypothesis": "A question in the subject line lifts opens", "result": "+2.1 points (0.4 to "
     "3.8)", "decision": "Use questions in subject lines"},
    {"step": 9, "source": "feedback", "id": "top_complaint", "hypothesis": "Shipping drives "
     "complaints", "result": "days / emails / order: 163 negative comments", "decision": "Review "
     "the courier, reply to delivery e-mails within a day"},
]


def _plan(tmp_path, run: str = "runs/shop/default"):
    orders = pd.DataFrame({"order_id": [f"O{i}" for i in range(len(ORDER_DATES))],
                           "customer_id": "C1", "order_date": ORDER_DATES, "revenue": 10.0})
    folder = write_business(tmp_path / "shop", data={"orders": "data/orders.csv"},
                            files={"data/orders.csv": orders.to_csv(index=False)})
    return open_plan(folder, run_dir=tmp_path / run)


# ---- the learnings log -----------------------------------------------------------------------
def test_log_sits_beside_the_campaign_runs_and_never_in_the_data_folder(tmp_path):
    plan = _plan(tmp_path)
    assert lr.learnings_path(plan) == (tmp_path / "runs" / "shop" / "learnings.csv").resolve()
    inside = open_plan(tmp_path / "shop", run_dir=tmp_path / "shop" / "runs" / "default")
    with pytest.raises(ConfigError, match="inside the business folder"):
        lr.learnings_path(inside)


def test_rerunning_leaves_the_file_byte_identical_and_keeps_the_first_logged_at(tmp_path):
    plan = _plan(tmp_path)
    path = lr.learnings_path(plan)
    first = lr.log_learnings(plan, ENTRIES)
    assert len(first) == 2 and first.columns.tolist() == list(lr.COLUMNS)
    assert first.date.tolist() == ["2025-06-15", "2025-06-30"]  # missing date: the plan's as_of
    # an earlier run logged them long ago: a rerun with the same content keeps that stamp
    path.write_text(path.read_text().replace(first.logged_at[0], "2020-01-01T00:00:00"))
    before = path.read_bytes()
    again = lr.log_learnings(plan, ENTRIES)
    assert path.read_bytes() == before and len(again) == 2
    assert again.logged_at.tolist() == ["2020-01-01T00:00:00"] * 2
    lr.log_learnings(open_plan(tmp_path / "shop", campaign=None,
                               run_dir=tmp_path / "runs" / "shop" / "spring"), ENTRIES)
    assert path.read_bytes() == before  # another campaign run of the business: same log


def test_a_changed_entry_replaces_its_row_and_a_new_one_is_appended(tmp_path):
    plan = _plan(tmp_path)
    lr.log_learnings(plan, ENTRIES)
    path = lr.learnings_path(plan)
    path.write_text(path.read_text().replace(lr.read_learnings(plan).logged_at[0],
                                             "2020-01-01T00:00:00"))
    changed = dict(ENTRIES[0], decision="Keep testing: the lift did not hold in June")
    log = lr.log_learnings(plan, [changed, {"source": "retrain", "id": "churn"}])
    assert log.id.tolist() == ["subject_line_test", "top_complaint", "churn"]
    assert log.decision[0] == "Keep testing: the lift did not hold in June"
    assert log.logged_at[0] != "2020-01-01T00:00:00"  # it changed, so it is logged anew
    assert log.hypothesis[2] == "" and log.step[0] == "9"
    assert lr.read_learnings(plan).equals(log)
    assert path.read_text() == lr.learnings_csv(log)
    # a column the owner added in a spreadsheet survives the next logging
    path.write_text(path.read_text().replace("logged_at\n", "logged_at,owner\n", 1))
    log = lr.log_learnings(plan, [{"source": "retrain", "id": "propensity"}])
    assert log.columns.tolist() == [*lr.COLUMNS, "owner"] and log.owner.tolist() == [""] * 4


def test_bad_entries_name_the_key_and_the_fix(tmp_path):
    plan = _plan(tmp_path)
    with pytest.raises(UnknownNameError, match="Did you mean 'decision'"):
        lr.log_learnings(plan, [{"source": "a", "id": "b", "decison": "go"}])
    with pytest.raises(ConfigError, match="entry 1 has no id: give each learning a source"):
        lr.log_learnings(plan, [{"source": "a", "id": "b"}, {"source": "a"}])
    assert not lr.learnings_path(plan).exists()  # nothing half-written


# ---- retrain triggers ------------------------------------------------------------------------
def _card(name: str, scored_at: str, features: list[str]) -> dict:
    return {"name": name, "data_window": {"validation_cutoff": "2025-04-01",
                                          "scored_at": scored_at}, "features": features}


CARDS = [_card("propensity", "2025-06-01", ["recency_days", "monetary_365"]),
         _card("churn", "2025-06-01", ["recency_days", "monetary_365", "tenure_days"]),
         _card("winback", "2025-06-01", ["recency_days", "region"]),
         _card("single", "2025-06-01", ["recency_days", "region"]),
         _card("old", "2025-03-01", ["recency_days"]),
         _card("fresh", "2025-06-20", ["recency_days"])]
DRIFT = [
    {"model": "propensity", "feature": "score", "psi": 0.31, "band": "major"},
    {"model": "propensity", "feature": "recency_days", "psi": 0.05, "band": "stable"},
    {"model": "churn", "feature": "recency_days", "psi": 0.40, "band": "major"},
    {"model": "churn", "feature": "monetary_365", "psi": 0.27, "band": "major shift"},
    {"model": "churn", "feature": "score", "psi": 0.12, "band": "moderate"},
    {"model": "winback", "feature": "region", "psi": 0.15, "band": "moderate"},
    {"model": "winback", "feature": "score", "psi": 0.02, "band": "stable"},
    {"model": "single", "feature": "region", "psi": 0.60, "band": "major"},
    {"model": "old", "feature": "recency_days", "psi": 0.01, "band": "stable"},
]


def _with_cards(tmp_path, *, alerts: dict | None):
    plan = _plan(tmp_path)
    for card in CARDS:
        path = plan.path(f"models/{card['name']}_card.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(card))
    if alerts is not None:
        plan.path("alerts.json").write_text(json.dumps(alerts))
    return plan


def test_drift_and_age_decide_when_each_model_is_retrained(tmp_path):
    alerts = {"as_of": "2025-06-30", "alerts": [], "drift": DRIFT,
              "counts": {"high": 1, "medium": 0, "low": 0}}
    result = lr.retrain_triggers(_with_cards(tmp_path, alerts=alerts), max_age_days=90)
    t = result.table
    when = t.groupby("model")["when"].agg(lambda s: min(s, key=lr.URGENCY.get)).to_dict()
    assert when == {"propensity": "now", "churn": "now", "old": "now",
                    "winback": "at the next scheduled refresh",
                    "single": "at the next scheduled refresh", "fresh": "not yet"}
    assert t.trigger[t.model == "old"].tolist() == ["age"]  # 121 days > 90, no drift
    ev = t.set_index(["model", "trigger"]).evidence
    assert ev["propensity", "drift"] == "its scores shifted (major, PSI 0.31)"
    assert ev["churn", "drift"] == ("its scores shifted (moderate, PSI 0.12); major shift in "
                                    "days since the last purchase (PSI 0.40) and net spend in "
                                    "the last year (PSI 0.27)")
    assert ev["winback", "drift"] == "moderate shift in region (PSI 0.15)"
    assert ev["old", "age"] == "learned from data to 01 Mar 2025, 121 days ago: past the " \
                               "90-day limit"
    # new orders since scoring, counted by hand from ORDER_DATES up to as_of 2025-06-30
    new = t.drop_duplicates("model").set_index("model").new_since
    assert (new["propensity"], new["old"], new["fresh"]) == (3, 5, 1)
    assert result.headline == {"models": 6, "retrain_now": 3, "retrain_next_refresh": 2,
                               "oldest_model_days": 121, "step08_ran": True}
    assert result.reading.startswith("Drift is measured by PSI (population stability index: "
                                     "under 0.1 stable, 0.1-0.25 a moderate shift, above 0.25 a "
                                     "major one). Retrain now: churn: its scores shifted")
    assert result.reading.endswith("Since fresh learned from data to 20 Jun 2025, 1 new order "
                                   "has come in.")
    assert t["when"].map(lr.URGENCY).is_monotonic_increasing and result.warnings == ()


def test_without_step_08_only_age_is_judged_and_the_reading_says_so(tmp_path):
    result = lr.retrain_triggers(_with_cards(tmp_path, alerts=None), max_age_days=90)
    assert not result.step08_ran
    assert result.reading.startswith("Step 08 has not run in this run folder (no alerts.json), "
                                     "so the models are judged by age only. Retrain now: old: "
                                     "learned from data to 01 Mar 2025, 121 days ago")
    assert set(result.table.trigger) == {"age", "none"}
    assert result.headline["retrain_now"] == 1


def test_stale_or_foreign_alerts_are_warned_about(tmp_path):
    alerts = {"as_of": "2025-05-31", "alerts": [], "counts": {},
              "drift": [{"model": "lead_score", "feature": "source", "psi": 0.3, "band": "major"}]}
    result = lr.retrain_triggers(_with_cards(tmp_path, alerts=alerts))
    assert result.warnings == (
        "alerts.json has drift for lead_score, which has no model card here: rerun step 08 after "
        "step 06.", "Step 08 checked drift as of 2025-05-31, not 2025-06-30: rerun it to judge "
        "today's data.")


def test_no_model_cards_is_unsupported_with_the_reason(tmp_path):
    result = lr.retrain_triggers(_plan(tmp_path))
    assert not result.supported and result.reading.startswith(
        "Step 06 has saved no model in this run folder (models/*_card.json)")


def test_inputs_that_grow_with_time_alone_do_not_call_for_retraining_now():
    from helpers.learnings import NEXT, NOW, drift_triggers

    grown = [{"feature": "emails_received", "psi": 1.8, "band": "major shift"},
             {"feature": "tenure_days", "psi": 0.4, "band": "major shift"}]
    [trigger] = drift_triggers("propensity", grown, ["emails_received", "tenure_days"])
    assert trigger["when"] == NEXT
    real = grown + [{"feature": "recency_days", "psi": 0.3, "band": "major shift"},
                    {"feature": "monetary_365", "psi": 0.5, "band": "major shift"}]
    assert drift_triggers("propensity", real, ["recency_days", "monetary_365"])[0]["when"] == NOW
