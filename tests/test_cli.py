"""The workbook command: new, check, run (end to end on the sample businesses)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from helpers.cli import main
from helpers.errors import ConfigError
from helpers.params import load_settings
from helpers.runner import parse_steps
from tests.conftest import ROOT, write_business


def test_new_scaffolds_a_folder_that_check_reads(tmp_path, capsys):
    assert main(["new", "corner_shop", "--dir", str(tmp_path)]) == 0
    folder = tmp_path / "corner_shop"
    assert "name: Corner Shop" in (folder / "business.yaml").read_text()
    assert "# business.yaml" in (folder / "business.yaml").read_text()  # comments kept
    assert (folder / "data" / "orders.csv").read_text().startswith("order_id,customer_id")
    capsys.readouterr()
    assert main(["check", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "orders" in out and "has column names but no rows" in out


def test_new_from_a_folder_of_exports_declares_each_and_check_reads_them(tmp_path, capsys):
    exports = tmp_path / "downloads"
    shutil.copytree(ROOT / "sample_data" / "summit_outdoor" / "exports", exports)
    (exports / "notes.txt").write_text("my own notes")
    before = {p.name: p.read_bytes() for p in exports.iterdir()}
    assert main(["new", "gear", "--dir", str(tmp_path), "--exports", str(exports)]) == 0
    out = capsys.readouterr().out
    assert "Not recognised as a platform export: notes.txt" in out
    folder = tmp_path / "gear"
    settings = load_settings(folder)
    formats = {t: sorted(s.format for s in (v if isinstance(v, list) else [v]))
               for t, v in settings.data.items()}
    assert formats["customers"] == ["mailchimp_audience", "mailchimp_audience", "shopify_orders"]
    assert formats["marketing_spend"] == ["google_ads", "meta_ads"]
    assert formats["web_traffic"] == ["ga4_traffic"]
    assert settings.tools_in_use == ["ga4", "google_ads", "mailchimp", "meta_ads", "shopify"]
    assert {p.name: p.read_bytes() for p in exports.iterdir()} == before  # originals untouched
    # The template says USD; the exports are in CAD, and check says how to fix it.
    assert main(["check", str(folder)]) == 1
    assert "set `currency: CAD` under `business:`" in capsys.readouterr().out
    yaml_path = folder / "business.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("currency: USD", "currency: CAD"))
    assert main(["check", str(folder)]) == 0
    assert "6,315 rows" in capsys.readouterr().out  # orders, cancelled ones left out


def test_new_refuses_to_overwrite(tmp_path, capsys):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "x").write_text("mine")
    assert main(["new", "shop", "--dir", str(tmp_path)]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err


def test_check_reports_a_broken_file_and_fails(tmp_path, capsys):
    folder = write_business(tmp_path / "s", data={"orders": "o.csv"},
                            files={"o.csv": "order_id,order_date,amount\nO1,2025-01-01,3\n"})
    assert main(["check", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "✗ orders" in out and "needs the column(s) 'revenue'" in out


def test_parse_steps():
    assert parse_steps("1-2") == [1, 2]
    assert parse_steps("2,1") == [1, 2]
    with pytest.raises(ConfigError, match="no step 99"):
        parse_steps("99")


def _run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "helpers.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=900)


STEP_FILES = {1: ("objectives.json",), 2: ("insights.json", "segments.parquet"),
              3: ("use_cases.json",), 4: ("data_quality.json", "prepared/orders.parquet"),
              5: ("strategy.json",), 6: ("model_metrics.json", "scores.parquet"),
              7: ("activation.json",), 8: ("alerts.json",),
              9: ("experiments.json", "feedback.json"), 10: ("compliance.json",),
              11: ("roi.json", "report.xlsx", "client/11_roi_reporting.html")}


def test_run_three_sample_businesses_through_step_11_in_parallel(tmp_path):
    out = tmp_path / "runs"
    names = ("harbor_coffee", "bloom_yoga", "summit_outdoor")
    result = _run("run", *(f"sample_data/{n}" for n in names), "--workers", "2",
                  "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in names:
        run_dir = out / name / "default"
        for step, files in STEP_FILES.items():
            for artifact in (*files, f"steps/{step:02d}.json"):
                assert (run_dir / artifact).exists(), f"{name}: {artifact}"
        for artifact in ("notebooks/04_data_preparation.ipynb", "run.json", "report.html"):
            assert (run_dir / artifact).exists(), f"{name}: {artifact}"
        run = json.loads((run_dir / "run.json").read_text())
        assert [s["status"] for s in run["steps"]] == ["ok"] * 11
        assert all(s["seconds"] > 0 for s in run["steps"])
        assert (run_dir / "logs" / "01_objectives.log").exists()  # kernel chatter kept off screen
        assert run["versions"]["pandas"] and run["ok"] is True
        use_cases = json.loads((run_dir / "use_cases.json").read_text())
        ranked = {r["id"]: r for r in use_cases["ranked"]}
        not_ready = [i for i in use_cases["shortlist"] if not ranked[i]["ready"]]
        # bloom_yoga chose budget reallocation for its ROAS fallback, without a year of spend
        assert not_ready == (["budget_reallocation"] if name == "bloom_yoga" else [])
        strategy = json.loads((run_dir / "strategy.json").read_text())
        assert strategy["kpi_tree"] and strategy["budget_plan"]
        html = (run_dir / "report.html").read_text()
        assert all(f'id="step-{n:02d}"' in html for n in STEP_FILES)
        _assert_no_personal_data(run_dir)
    # summit_outdoor is made of exports only: its prepared tables come through the connectors.
    summit = out / "summit_outdoor" / "default"
    quality = json.loads((summit / "data_quality.json").read_text())
    assert {s["table"] for s in quality["sources"]} >= {"orders", "customers", "marketing_spend",
                                                         "web_traffic", "campaigns"}
    spend = pd.read_parquet(summit / "prepared" / "marketing_spend.parquet")
    assert set(spend["channel"]) >= {"paid_social", "paid_search"}
    _assert_steps_6_and_7_find_the_planted_truths(out)
    _assert_steps_9_to_11_find_the_planted_truths(out)
    _assert_a_browser_renders_every_section(out / "harbor_coffee" / "default")
    assert "report:" in result.stdout


EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"\b\d{3}[-. ]\d{3}[-. ]\d{4}\b|\(\d{3}\) ?\d{3}-\d{4}")


def _assert_steps_6_and_7_find_the_planted_truths(out):
    """Models beat their rules, the budget moves toward the under-invested channel, and nobody
    who said no reaches an action file."""
    for name, under, saturated in (("harbor_coffee", "paid_social", "paid_search"),
                                   ("summit_outdoor", "paid_social", "paid_search")):
        run_dir = out / name / "default"
        metrics = json.loads((run_dir / "model_metrics.json").read_text())
        assert metrics["propensity"]["beats_baseline"] is True
        split = pd.read_csv(run_dir / "actions" / "budget_split.csv").set_index("channel")
        assert split.at[under, "change"] > 0 > split.at[saturated, "change"]
    harbor = out / "harbor_coffee" / "default"
    activation = json.loads((harbor / "activation.json").read_text())
    assert all(a["what_to_do"] for a in activation["actions"])
    customers = pd.read_csv(ROOT / "sample_data" / "harbor_coffee" / "data" / "customers.csv")
    said_no = customers[customers["consent_email"].astype(str).str.lower().isin(["false", "no"])]
    mailchimp = pd.read_csv(harbor / "actions" / "mailchimp_tags_contains_emails.csv")
    assert not set(mailchimp["Email Address"].str.lower()) & set(said_no["email"].str.lower())
    bloom = json.loads((out / "bloom_yoga" / "default" / "activation.json").read_text())
    assert bloom["sections"]["budget"]["ran"] is False  # 26 weeks of flat spend: the fallback
    assert "Response curves cannot be fitted" in bloom["sections"]["budget"]["reading"]


def _assert_steps_9_to_11_find_the_planted_truths(out):
    """The true lifts sit inside the tests' intervals, nobody who said no is in a list, and
    every attribution model hands out exactly the sales followed."""
    harbor = out / "harbor_coffee" / "default"
    truth = json.loads((ROOT / "sample_data" / "harbor_coffee" / "truth.json").read_text())
    rows = {k: e["headline"] for k, e in json.loads((harbor / "experiments.json").read_text())[
        "experiments"].items()}
    for exp_id, true_lift in (("CMP0187", truth["ab_test"]["true_lift_absolute"]),
                              ("winback_2026_q2",
                               truth["holdout"]["true_incremental_conversion_rate"])):
        low, high = rows[exp_id]["lift_low_points"], rows[exp_id]["lift_high_points"]
        assert low < 100 * true_lift < high, (exp_id, low, high)
    feedback = json.loads((harbor / "feedback.json").read_text())
    top = feedback["topics"]["complaints"][0]  # the planted worst topic is shipping
    assert re.search(r"arriv|ship|deliver|took \d+ days", top["quote_1"].lower()), top
    checks = json.loads((harbor / "compliance.json").read_text())
    assert checks["sections"]["consent"]["headline"]["violations"] == 0
    roi = json.loads((harbor / "roi.json").read_text())
    credits = pd.DataFrame(roi["attribution"]["credits"]).select_dtypes("number")
    followed = json.loads((harbor / "steps" / "11.json").read_text())["headline"][
        "attribution_sales_followed"]
    assert credits.sum().round(6).eq(followed).all()
    log = (out / "harbor_coffee" / "learnings.csv").read_text().splitlines()
    assert sum(",winback_2026_q2," in line for line in log) == 1


def _assert_a_browser_renders_every_section(run_dir):
    from tests.conftest import browser_dom

    dom = browser_dom(run_dir / "report.html")
    if dom is None:  # no Chromium on this machine: the HTML checks above still ran
        return
    assert all(f'id="step-{n:02d}"' in dom for n in range(1, 12))
    figures = sum(len(json.loads(p.read_text())["figures"])
                  for p in (run_dir / "steps").glob("*.json"))
    assert dom.count('<img src="data:image/png;base64,') == figures


def _assert_no_personal_data(run_dir):
    """Executed notebooks and the report show no raw email address or phone number."""
    for path in [*run_dir.glob("notebooks/*.ipynb"), *run_dir.glob("client/*.html"),
                 run_dir / "report.html"]:
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
        assert not EMAIL.search(text), f"{path.name}: {EMAIL.search(text).group()}"
        assert not PHONE.search(text), f"{path.name}: {PHONE.search(text).group()}"


def test_a_failing_business_does_not_stop_the_others(tmp_path):
    broken = write_business(tmp_path / "broken", data={}, extra_yaml="budgt: {}\n")
    out = tmp_path / "runs"
    result = _run("run", str(broken), "sample_data/bloom_yoga", "--steps", "1",
                  "--workers", "2", "--out", str(out))
    assert result.returncode == 1
    assert "unknown key 'budgt'. Did you mean 'budget'?" in result.stdout
    good = json.loads((out / "bloom_yoga" / "default" / "run.json").read_text())
    assert good["ok"] is True
    bad = json.loads((out / "broken" / "default" / "run.json").read_text())
    assert bad["ok"] is False and "budgt" in bad["error"]


def test_sample_writes_a_scaled_business_that_check_accepts(tmp_path, capsys):
    assert main(["sample", "bloom_yoga", "--scale", "0.25", "--out", str(tmp_path / "b")]) == 0
    assert "at scale 0.25" in capsys.readouterr().out
    committed = (ROOT / "sample_data" / "bloom_yoga" / "data" / "leads.csv").read_text()
    scaled = (tmp_path / "b" / "data" / "leads.csv").read_text()
    ratio = (scaled.count("\n") - 1) / (committed.count("\n") - 1)
    assert 0.2 < ratio < 0.3
    assert main(["check", str(tmp_path / "b")]) == 0


def test_sample_with_an_unknown_name_lists_the_valid_ones(tmp_path, capsys):
    assert main(["sample", "bloom_yog", "--out", str(tmp_path)]) == 2
    assert "harbor_coffee, bloom_yoga" in capsys.readouterr().err


def test_a_campaign_overlay_runs_into_its_own_folder_with_its_objectives(tmp_path):
    out = tmp_path / "runs"
    result = _run("run", "sample_data/harbor_coffee", "--campaign", "holiday_gifting",
                  "--steps", "1", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads((out / "harbor_coffee" / "holiday_gifting" / "objectives.json").read_text())
    (objective,) = record["objectives"]
    assert objective["deadline"] == "2026-12-31"
    assert objective["target"] == pytest.approx(objective["baseline"] * 1.20)
    run = json.loads((out / "harbor_coffee" / "holiday_gifting" / "run.json").read_text())
    assert run["campaign"] == "holiday_gifting"


def test_plain_papermill_runs_a_notebook_with_a_business_parameter(tmp_path):
    output = tmp_path / "out.ipynb"
    result = subprocess.run(
        [sys.executable, "-m", "papermill", "notebooks/01_objectives.ipynb", str(output),
         "-p", "business", "sample_data/bloom_yoga", "-p", "run_dir", str(tmp_path / "run"),
         "--log-level", "ERROR"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    step = json.loads((tmp_path / "run" / "steps" / "01.json").read_text())
    assert step["business"] == "Bloom Yoga" and step["status"] == "ok"


SINGLE_TABLES = {  # a business holding one table, taken from a sample
    "only_orders": ("orders", "harbor_coffee/data/orders.csv"),
    "only_leads": ("leads", "bloom_yoga/data/leads.csv"),
    "only_feedback": ("feedback", "harbor_coffee/data/feedback.csv"),
    "only_experiments": ("experiments", "harbor_coffee/data/experiments.csv"),
}


def test_a_business_with_a_single_table_runs_all_steps_and_gets_a_report(tmp_path):
    folders = []
    for name, (table, source) in SINGLE_TABLES.items():
        folders.append(write_business(
            tmp_path / name, data={table: f"data/{table}.csv"},
            files={f"data/{table}.csv": ROOT / "sample_data" / source},
            extra_yaml="objectives:\n  - {type: grow_sales, target_change: 0.1, "
                       "deadline: 2027-06-30}\n"))
        yaml_file = folders[-1] / "business.yaml"  # the samples' data run to 30 Sep 2026
        yaml_file.write_text(yaml_file.read_text().replace("as_of: 2025-06-30",
                                                           "as_of: 2026-09-30"))
    out = tmp_path / "runs"
    result = _run("run", *map(str, folders), "--workers", "2", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in SINGLE_TABLES:
        run_dir = out / name / "default"
        steps = {s["step"]: s for s in json.loads((run_dir / "run.json").read_text())["steps"]}
        assert sorted(steps) == list(range(1, 12)), name
        assert all(s["status"] in ("ok", "skipped") for s in steps.values()), name
        records = [json.loads((run_dir / "steps" / f"{n:02d}.json").read_text())
                   for n in range(1, 12)]
        for record in records:  # every step says in words what it did or why it could not
            assert record["summary"] or record["reason"], (name, record["step"])
        html = (run_dir / "report.html").read_text()
        assert all(f'id="step-{n:02d}"' in html for n in range(1, 12)), name
        assert (run_dir / "report.xlsx").exists()
        _assert_no_personal_data(run_dir)
    feedback = json.loads((out / "only_feedback" / "default" / "steps" / "09.json").read_text())
    assert any("sentiment" in line.lower() for line in feedback["summary"])
    experiments = json.loads((out / "only_experiments" / "default" / "experiments.json")
                             .read_text())
    assert experiments["experiments"]["winback_2026_q2"]["verdict"] == "roll_out"
