"""How steps 06-07 run their sections, and the action files of step 07 (helpers.sections,
helpers.activation)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd
import pytest

from helpers import activation as act
from helpers import sections
from helpers.errors import DataError
from tests.test_tool_selection import _leads, _orders, _plan


@dataclass(frozen=True)
class Result:
    reading: str
    supported: bool = True
    headline: dict = field(default_factory=dict)
    warnings: tuple = ()
    files: dict = field(default_factory=dict)
    what_to_do: dict = field(default_factory=dict)


def build(plan, value, *, scale=1):
    return Result(reading=f"built {value * scale}", headline={"n": value * scale})


@pytest.fixture
def plan(tmp_path):
    plan = _plan(tmp_path, tables={"leads": _leads(250, 37), "orders": _orders(600, 150)})
    plan.save("use_cases.json", {"shortlist": ["lead_scoring", "purchase_propensity"]})
    return plan


def test_a_section_runs_only_when_shortlisted_and_ready(plan):
    assert sections.run_section(plan, "purchase_propensity", build, 2, scale=3).reading == "built 6"
    skipped = sections.run_section(plan, "churn_prediction", build, 2)
    assert isinstance(skipped, sections.Skipped) and not sections.ran(skipped)
    assert skipped.reading.startswith("Churn risk was not shortlisted in step 03")
    # shortlisted, data not ready (37 converted leads): skipped, unless the section has a fallback
    assert sections.run_section(plan, "lead_scoring", build, 1).reading == (
        "Lead scoring is on your shortlist, but its data is not ready: lead scoring: 37 converted "
        "leads, needs at least 50.")
    assert sections.run_section(plan, "lead_scoring", build, 1, fallback=True).reading == "built 1"
    # several use cases behind one section: the first shortlisted one runs it
    assert sections.run_section(plan, ["churn_prediction", "purchase_propensity"], build,
                                5).reading == "built 5"


def test_step_record_gathers_headlines_readings_and_warnings():
    results = {"forecast": Result("up 4%", headline={"n": 1, "gain": 0.04, "supported": True,
                                                     "hit_rate": 0.5}, warnings=("thin",)),
               "clv": Result("worth $80", headline={"n": 2}),
               "leads": sections.Skipped("No leads table.")}
    record = sections.step_record(results, units={"gain": "percent", "other": "money"})
    assert record["headline"] == {"n": 1, "gain": 0.04, "hit_rate": 0.5, "clv_n": 2}
    assert record["summary"] == ["forecast: up 4%", "clv: worth $80",
                                 "leads (not run): No leads table."]
    assert record["warnings"] == ["forecast: thin"]
    assert record["units"] == {"gain": "percent", "hit_rate": "percent"}  # given, then by name
    kept = sections.step_record(results, keep={"forecast": ["gain"], "clv": ["n"]})["headline"]
    assert kept == {"forecast_gain": 0.04, "clv_n": 2}
    results["forecast"] = Result("r", headline={"forecast_total": 9.0})  # named once, not twice
    assert sections.step_record(results, keep={"forecast": ["forecast_total"]})["headline"] == {
        "forecast_total": 9.0}


def test_actions_are_written_with_what_to_do_and_raw_emails_are_refused(plan):
    hashed = pd.DataFrame({"email": ["f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"]})
    raw = pd.DataFrame({"Email Address": ["mary@example.com", "x"], "Tags": ["a", "b"]})
    ok = Result("r", files={"meta_audience": hashed}, what_to_do={"meta_audience": "Upload it."})
    listed = act.write_actions(plan, act.collect({"ads": ok}))
    assert listed == [{"file": "actions/meta_audience.csv", "section": "ads", "rows": 1,
                       "what_to_do": "Upload it.", "personal_data": False}]
    assert pd.read_csv(plan.run_dir / "actions/meta_audience.csv").shape == (1, 1)

    leaky = Result("r", files={"tags": raw, "other": hashed})
    with pytest.raises(DataError, match=r"actions/tags.csv would hold raw e-mail addresses in "
                                        r"column\(s\) Email Address"):
        act.write_actions(plan, act.collect({"email": leaky}))
    assert not (plan.run_dir / "actions/other.csv").exists()  # nothing written before the check

    marked = Result("r", files={"tags_contains_emails": raw}, what_to_do={})
    listed = act.write_actions(plan, act.collect({"email": marked}))
    assert listed[0]["personal_data"] is True
    record = act.artifact(plan, listed, {"email": marked, "budget": sections.Skipped("no spend")})
    assert record["sections"]["budget"] == {"ran": False, "reading": "no spend", "headline": {},
                                            "warnings": []}
    json.dumps(record)


def test_the_budget_move_is_one_sentence_for_the_first_screen():
    from types import SimpleNamespace

    from helpers.activation import budget_line

    moved = SimpleNamespace(supported=True, currency="USD", headline={
        "moved_amount": 690.0, "moved_from": "paid_search", "moved_to": "paid_social",
        "expected_gain": 3713.27, "gain_low": -395.4, "gain_high": 6447.3})
    assert budget_line(moved) == [
        "Move about $690 a month from paid search to paid social: about $3,713 more revenue a "
        "month expected (90 % range -$395 to $6,447)."]
    assert budget_line(SimpleNamespace(supported=True, headline={"moved_amount": 0})) == []


def test_saved_section_reads_one_section_of_step_07_or_nothing(tmp_path):
    from types import SimpleNamespace

    from helpers import io
    from helpers.activation import saved_section
    from helpers.plan import Plan

    plan = SimpleNamespace(load=lambda name: Plan.load(SimpleNamespace(path=lambda n: tmp_path / n),
                                                       name))
    assert saved_section(plan, "budget") == {}  # step 07 has not run
    io.write_json(tmp_path / "activation.json", {"sections": {"budget": {
        "ran": True, "headline": {"moved_to": "paid_social"}}}})
    assert saved_section(plan, "budget")["headline"] == {"moved_to": "paid_social"}
    assert saved_section(plan, "offers") == {}
