"""Step 08, pacing (helpers.monitoring) and alerts (helpers.alerts): the rules on tiny hand-made
frames (7 days above target fires, 6 does not), objective pacing against hand arithmetic and step
01's own numbers on a copy of harbor_coffee whose targets were set six months earlier, channel
pacing against direct sums of the CSV, and the exact shape of alerts.json."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from helpers import alerts as al
from helpers import drift as dr
from helpers import kpis as kp
from helpers import monitoring as mo
from helpers import objectives as ob
from helpers.plan import SAMPLE_DIR, open_plan
from tests.conftest import write_business
from tests.test_drift import _copy

AS_OF = pd.Timestamp("2026-09-30")
SET_ON = "2026-03-31"  # when step 01 set the targets in the copy
REVENUE_12M = 509498.54  # step 01's revenue baseline of harbor_coffee at 30 Sep 2026


# ---- the rules on hand-made frames -------------------------------------------------------------
def _daily(k: int, *, conversions: float = 5, revenue: float = 300, window: int = 28):
    """paid_search: 90 days before the window at CPA 10 and ROAS 3, then a 28-day window whose
    last ``k`` days have ``conversions`` and ``revenue`` on a spend of 100."""
    days = pd.date_range(end=AS_OF, periods=90 + window)
    conv = np.where(np.arange(len(days)) >= len(days) - k, conversions, 10.0)
    rev = np.where(np.arange(len(days)) >= len(days) - k, revenue, 300.0)
    return pd.DataFrame({"date": days, "channel": "paid_search", "spend": 100.0,
                         "conversions": conv, "platform_revenue": rev})


def _fired(daily: pd.DataFrame) -> list[str]:
    streaks = al.channel_streaks(daily, as_of=AS_OF, break_even=2.0)
    return [a["id"] for a in al.streak_alerts(streaks, break_even=2.0)]


def test_streak_counts_the_last_run():
    assert al.streak([True, False, True, True]) == 2
    assert al.streak([False]) == 0 and al.streak([]) == 0 and al.streak([True] * 3) == 3


def test_cpa_rule_fires_on_seven_days_above_target_not_six():
    streaks = al.channel_streaks(_daily(7), as_of=AS_OF)
    # target: the previous 90 days' CPA (100 / 10) x 1.2; the last 7 days cost 100 / 5 = 20
    assert streaks.loc[0, "cpa_target"] == pytest.approx(12.0)
    assert streaks.loc[0, "days_cpa_above"] == 7 and streaks.loc[0, "last_cpa"] == 20.0
    assert _fired(_daily(7)) == ["cpa_above_target:paid_search"]
    assert _fired(_daily(6)) == []


def test_a_day_without_conversions_counts_as_above_and_a_day_without_spend_is_skipped():
    daily = _daily(7)
    daily.loc[daily.index[-1], "conversions"] = 0  # spend, no conversion: CPA infinite
    daily.loc[daily.index[-3], "spend"] = 0  # no spend that day: no CPA, the run goes on
    streaks = al.channel_streaks(daily, as_of=AS_OF)
    assert streaks.loc[0, "days_cpa_above"] == 6  # 7 days, one of them without spend
    daily = pd.concat([daily, daily.tail(1).assign(date=AS_OF + pd.Timedelta(days=1))])
    assert al.channel_streaks(daily, as_of=AS_OF + pd.Timedelta(days=1)).loc[
        0, "days_cpa_above"] == 7


def test_roas_rule_fires_on_fourteen_days_below_break_even_not_thirteen():
    # ROAS 150 / 100 = 1.5 below break-even 2 (a 50 % margin); CPA unchanged at 10
    assert _fired(_daily(14, conversions=10, revenue=150)) == ["roas_below_break_even:paid_search"]
    assert _fired(_daily(13, conversions=10, revenue=150)) == []
    streaks = al.channel_streaks(_daily(14, conversions=10, revenue=150), as_of=AS_OF,
                                 break_even=2.0)
    assert streaks.loc[0, "last_roas"] == pytest.approx(1.5)


def _campaigns(recent_opens: int, *, recent_sent: int = 1000, unsubs: int = 2,
               recent_unsubs: int = 2) -> pd.DataFrame:
    sent = [1000] * 10 + [recent_sent] * 3
    return pd.DataFrame({"campaign_id": [f"C{i}" for i in range(13)],
                         "sent_at": pd.date_range("2026-06-01", periods=13, freq="7D"),
                         "sent": sent, "opens": [300] * 10 + [recent_opens] * 3,
                         "unsubscribes": [unsubs] * 10 + [recent_unsubs] * 3})


def test_open_rate_drop_needs_both_twenty_percent_and_two_standard_errors():
    found = al.email_checks(_campaigns(200))  # 20 % against 30 %: 33 % down, 11.9 SE
    assert [f["rule"] for f in found] == ["open_rate_drop"]
    se = math.sqrt(0.3 * 0.7 / 3000)
    assert f"{0.1 / se:.1f} standard errors" in found[0]["evidence"]
    assert "20.00% of 3,000 e-mails against 30.00%" in found[0]["evidence"]
    assert al.email_checks(_campaigns(270)) == []  # 10 % down: within the 20 %
    # 25 % down on 3 x 40 e-mails: 0.075 below, but a standard error is 0.042 (1.8 SE)
    assert al.email_checks(_campaigns(9, recent_sent=40, recent_unsubs=0)) == []
    assert al.email_checks(_campaigns(200).head(12)) == []  # fewer than 3 + 10 campaigns


def test_unsubscribe_spike_and_its_minimum_count():
    found = al.email_checks(_campaigns(300, recent_unsubs=6))  # 0.6 % against 0.2 %
    assert [f["rule"] for f in found] == ["unsubscribe_spike"]
    assert "up 200%" in found[0]["what"]
    few = _campaigns(300, recent_sent=100, unsubs=1, recent_unsubs=1)  # 1 % against 0.1 %
    assert al.email_checks(few) == []  # 3 unsubscribes: too few to trust the error


# ---- objective pacing by hand ------------------------------------------------------------------
OBJ = {"objective": 1, "kpi": "revenue", "name": "Revenue", "unit": "money", "status": "ok",
       "baseline": 100.0, "target": 120.0, "monthly_growth": 1.2 ** (1 / 12) - 1,
       "deadline": "2027-03-31", "feasibility": {"noise": 0.04}}


@pytest.mark.parametrize("current, status", [(113.5, "ahead"), (109.0, "on track"),
                                             (106.0, "behind")])
def test_pace_against_the_compounded_path_and_the_noise(current, status):
    start, as_of = pd.Timestamp("2026-03-31"), pd.Timestamp("2026-09-30")
    row = mo.pace_row(OBJ, start, as_of, current)
    months = 183 / kp.DAYS_PER_MONTH
    assert row["expected_now"] == pytest.approx(100 * 1.2 ** (months / 12))  # about 109.6
    assert row["progress"] == pytest.approx((current - 100) / 20)
    # ordinary variation: the noise over the 12-month horizon (4 %) x sqrt(share of it gone),
    # about 2.8 %: 113.5 is 3.6 % above the path, 109 0.5 % below, 106 3.2 % below
    assert row["tolerance"] == pytest.approx(0.04 * math.sqrt(months / (365 / kp.DAYS_PER_MONTH)))
    assert row["gap"] == pytest.approx(current / row["expected_now"] - 1)
    assert row["status"] == status


def test_pace_at_the_start_and_before_it():
    start = pd.Timestamp("2026-03-31")
    now = mo.pace_row(OBJ, start, start, 100.0)
    assert now["status"] == "on track" and now["progress"] == 0 and now["expected_now"] == 100
    assert mo.pace_row(OBJ, start, start - pd.Timedelta(days=30), 98.0)["status"] == "no data"
    unmeasured = {**OBJ, "status": "cannot measure"}
    assert mo.pace_row(unmeasured, start, AS_OF, 110.0)["status"] == "no data"


# ---- a copy of harbor_coffee whose targets were set on 31 Mar 2026 -----------------------------
@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    """The copy with harbor's two objectives, whose objectives.json step 01 wrote on SET_ON."""
    base = tmp_path_factory.mktemp("harbor")
    folder, run = _copy(base / "shop", planted=False), base / "run"
    text = (folder / "business.yaml").read_text()
    (folder / "business.yaml").write_text(text + (
        "objectives:\n  - {type: grow_sales, target_change: 0.12, deadline: 2027-06-30}\n"
        "  - {type: retention, kpi: repeat_rate, target_change: 0.05, deadline: 2027-03-31}\n"))
    early = open_plan(folder, run_dir=run, **{"business.as_of": SET_ON})
    base = kp.baselines(early, ["revenue", "repeat_rate"])
    early.save("objectives.json", ob.objectives_record(early, base, ob.smart_targets(early, base)))
    return open_plan(folder, run_dir=run)


def test_objective_pacing_six_months_on(plan):
    table = mo.objective_pacing(plan)
    assert list(table.columns) == mo.PACING_COLUMNS
    step01 = json.loads(plan.path("objectives.json").read_text())["objectives"]
    revenue = table.set_index("kpi").loc["revenue"]
    # current: the same 12-month revenue step 01 reports for 30 Sep 2026 on the full sample
    assert revenue["current"] == pytest.approx(REVENUE_12M, abs=0.01)
    assert revenue["baseline"] == pytest.approx(step01[0]["baseline"])
    months = (AS_OF - pd.Timestamp(SET_ON)).days / kp.DAYS_PER_MONTH
    assert revenue["expected_now"] == pytest.approx(
        step01[0]["baseline"] * (1 + step01[0]["monthly_growth"]) ** months)
    assert revenue["status"] == "ahead"  # the sample grows about 24 % a year against a 12 % path
    assert table["status"].tolist() == ["ahead", "ahead"]


def test_a_day_past_the_end_of_the_data_is_no_data_not_behind(plan):
    late = mo.objective_pacing(plan, as_of=AS_OF + pd.Timedelta(days=120))
    assert late["status"].tolist() == ["no data", "no data"]
    assert late["current"].isna().all()


def test_pacing_reads_the_start_and_an_earlier_day(plan):
    start = mo.pacing(plan, as_of=SET_ON)
    assert start.objectives["status"].tolist() == ["on track", "on track"]
    assert (start.objectives["current"] == start.objectives["baseline"]).all()
    assert start.reading.startswith("The plan starts now: step 01 set the targets on 31 Mar 2026")
    before = mo.pacing(plan, as_of="2026-01-31")
    assert before.objectives["status"].tolist() == ["no data", "no data"]
    assert "is before step 01 set the targets (31 Mar 2026)" in before.reading


def test_channel_pacing_against_the_csv(plan):
    spend = pd.read_csv(SAMPLE_DIR / "harbor_coffee/data/marketing_spend.csv", parse_dates=["date"])
    search = spend[spend["channel"] == "paid_search"]
    window = search[search["date"].between("2026-09-03", "2026-09-30")]
    before = search[search["date"].between("2026-06-05", "2026-09-02")]
    row = mo.channel_pacing(plan).set_index("channel").loc["paid_search"]
    assert row["spend"] == pytest.approx(window["spend"].sum())
    assert row["budget"] == pytest.approx(1730 * 28 / 30)  # the window lies in September
    assert row["budget_source"] == "business.yaml"
    assert row["cpa"] == pytest.approx(window["spend"].sum() / window["conversions"].sum())
    assert row["cpa_prev_90d"] == pytest.approx(before["spend"].sum() / before["conversions"].sum())
    assert row["break_even_roas"] == pytest.approx(2.0)  # no product costs in the copy: 50 %


def test_step05_budget_plan_wins_where_it_covers_the_month(plan, tmp_path):
    plan.save("strategy.json", {"budget_plan": [
        {"month": "2026-09-01", "channel": "paid_search", "amount": 3000.0, "kind": "media"},
        {"month": "2026-09-01", "channel": "tools", "amount": 99.0, "kind": "ai_tools"}],
        "assumptions": {"gross_margin": 0.6, "gross_margin_source": "test"}})
    try:
        t = mo.channel_pacing(plan).set_index("channel")
        assert t.loc["paid_search", "budget"] == pytest.approx(2800.0)
        assert t.loc["paid_search", "budget_source"] == "step 05 budget plan"
        assert t.loc["email", "budget_source"] == "business.yaml" and "tools" not in t.index
        assert t.loc["paid_search", "break_even_roas"] == pytest.approx(1 / 0.6)
    finally:
        plan.path("strategy.json").unlink()


def test_alerts_json_has_the_agreed_shape(plan):
    drift = dr.DriftResult(False, "no model")
    result = al.alerts(plan, drift=drift)
    path = al.save_alerts(plan, result)
    record = json.loads(path.read_text())
    assert set(record) == {"as_of", "alerts", "drift", "counts"}
    assert record["as_of"] == "2026-09-30" and record["drift"] == []
    assert set(record["counts"]) == {"high", "medium", "low"}
    assert all(set(a) == {"id", "rule", "severity", "what", "evidence", "action", "section"}
               for a in record["alerts"])
    for level in ("high", "medium", "low"):
        assert record["counts"][level] == sum(a["severity"] == level for a in record["alerts"])
    over = {a["id"]: a for a in record["alerts"]}["overspend:paid_social"]
    assert over["evidence"] == ("$763 in the last 28 days against $644 budgeted "
                                "(business.yaml).")
    assert over["severity"] == "medium" and over["section"] == "pacing"
    assert [a["severity"] for a in record["alerts"]] == sorted(
        (a["severity"] for a in record["alerts"]), key=al.SEVERITY.index)
    assert any(w.startswith("drift: no model") for w in result.warnings)


def test_alerts_name_the_drift_of_each_model(plan):
    table = pd.DataFrame({"model": "churn", "feature": ["region", "score"],
                          "label": ["region", "the model's scores"], "psi": [0.4, 0.02],
                          "band": ["major shift", "stable"]})
    result = al.alerts(plan, drift=dr.DriftResult(True, table=table))
    hit = result.table[result.table["rule"] == "drift_major"]
    assert hit["id"].tolist() == ["drift_major:churn"] and hit["severity"].tolist() == ["high"]
    assert hit["evidence"].iloc[0] == "region: PSI 0.40 (major shift)"
    assert result.drift[0] == {"model": "churn", "feature": "region", "psi": 0.4,
                               "band": "major shift"}


def test_nothing_to_pace_is_unsupported_with_the_reason(tmp_path):
    leads = "lead_id,created_at\nL1,2025-06-01\n"
    folder = write_business(tmp_path / "shop", data={"leads": "data/leads.csv"},
                            files={"data/leads.csv": leads})
    result = mo.pacing(open_plan(folder, run_dir=tmp_path / "run"))
    assert not result.supported
    assert result.reason.startswith("Nothing to pace: business.yaml has no objectives")
    assert mo.pacing_chart_data(result).empty


def test_email_health_from_a_campaign_report_without_email_events(tmp_path):
    # a Mailchimp-style report: 10 campaigns at 40 % opens, 3 at 25 %, one too recent to judge
    days = pd.date_range("2025-03-01", periods=14, freq="7D").append(
        pd.DatetimeIndex(["2025-06-29"]))
    report = pd.DataFrame({"campaign_id": [f"M{i}" for i in range(15)],
                           "start_date": days.strftime("%Y-%m-%d"), "channel": "email",
                           "delivered": 2000, "unique_opens": [800] * 11 + [500] * 3 + [10],
                           "unsubscribes": 2})
    folder = write_business(tmp_path / "shop", data={"campaigns": "data/campaigns.csv"},
                            files={"data/campaigns.csv": report.to_csv(index=False)})
    plan = open_plan(folder, run_dir=tmp_path / "run")
    campaigns = al.email_campaigns(plan)
    assert campaigns["campaign_id"].tolist() == [f"M{i}" for i in range(14)]  # M14: 1 day old
    assert campaigns["opens"].iloc[-1] == 500 and campaigns["sent"].iloc[0] == 2000
    found = al.email_checks(campaigns)
    assert [f["rule"] for f in found] == ["open_rate_drop"]
    assert found[0]["what"] == "E-mail open rate down 38% over the last 3 campaigns"
    assert al.email_checks(al.email_campaigns(plan, as_of="2025-05-20")) == []  # 12 campaigns


def test_campaign_budget_is_the_share_of_its_days_in_the_window(plan):
    t = mo.campaign_pacing(plan).set_index("campaign_id")
    fall = t.loc["CMP0223"]  # Meta - Fall roast launch: 900 over 31 Aug - 30 Sep, 28 days in
    assert fall["name"] == "Meta - Fall roast launch 2026-08" and fall["channel"] == "paid_social"
    assert fall["budget"] == pytest.approx(900 * 28 / 31)
    assert pd.isna(t.loc["CMP0002", "budget"])  # an always-on campaign has no end date
    assert len(t) <= 10 and t["spend"].is_monotonic_decreasing


def test_plot_pacing_names_the_channel_furthest_off_smoke(plan):
    import matplotlib.pyplot as plt

    result = mo.pacing(plan)
    data = mo.pacing_chart_data(result)
    assert data.columns.tolist() == ["channel", "budget", "spend"]
    ax = mo.plot_pacing(result)
    assert ax.get_title() == "social spent -26% against its budget (last 28 days)"  # the furthest
    plt.close("all")
