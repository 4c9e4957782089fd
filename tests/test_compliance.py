"""Step 10: consent in every file of step 07 (harbor_coffee's finished run: 0 violations, then k
after k opted-out people are slipped into a copy), the consent rule against truth.json, retention
on a hand-made table, minimisation against bloom_yoga's truth, pseudonymised files, selection
rates by hand, the checklist's statuses and what its form writes to business.yaml."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import checklist as ck
from helpers import compliance as cp
from helpers import fairness as fa
from helpers import io
from helpers import retention as rt
from helpers.consent import hash_email
from helpers.errors import UnknownNameError
from helpers.plan import SAMPLE_DIR, open_plan
from tests.conftest import write_business

REF = Path("/tmp/ref")  # finished runs of steps 01-07 (see the workbook's bench/CI set-up)
META = "actions/meta_high_propensity_sha256.csv"
MAILCHIMP = "actions/mailchimp_tags_contains_emails.csv"


def _copy_run(sample: str, dest: Path) -> Path:
    src = REF / sample / "default"
    if not (src / "activation.json").exists():
        pytest.skip(f"{src} holds no finished run of steps 01-07")
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("activation.json", "scores.parquet"):
        shutil.copy2(src / name, dest / name)
    for folder in ("actions", "prepared", "cache", "models"):
        shutil.copytree(src / folder, dest / folder)
    # the reference run prepared these data files; a later edit of business.yaml (its privacy
    # keys) would make them look stale and prepare everything again, for nothing
    for path in [*(dest / "prepared").iterdir(), *(dest / "cache").iterdir()]:
        os.utime(path)
    return dest


@pytest.fixture(scope="module")
def harbor_run(tmp_path_factory):
    return _copy_run("harbor_coffee", tmp_path_factory.mktemp("run") / "harbor")


@pytest.fixture(scope="module")
def harbor(harbor_run):
    return open_plan("harbor_coffee", run_dir=harbor_run)


@pytest.fixture(scope="module")
def harbor_consent(harbor):
    return cp.consent_check(harbor)


# ---- consent ----------------------------------------------------------------------------------
def test_consent_rule_matches_truth_json(harbor):
    truth = json.loads((SAMPLE_DIR / "harbor_coffee" / "truth.json").read_text())["consent"]
    customers = harbor.table("customers")  # as loaded: every row of the file
    assert len(customers) == truth["customers"]
    assert int(cp.blocked(customers, purpose="email").sum()) == truth["consent_email_false"]
    # ads: anyone who said no to ads, or to e-mail (they asked you to stop marketing to them)
    no_ads, no_email = customers["consent_ads"].eq(False), customers["consent_email"].eq(False)
    assert int(cp.blocked(customers, purpose="ads").sum()) == int((no_ads | no_email).sum())
    assert int(no_ads.sum()) == truth["consent_ads_false"]


def test_harbor_run_has_no_consent_violation(harbor_consent):
    r = harbor_consent
    assert r.supported and r.headline["violations"] == 0
    assert r.headline["unsubscribed_in_lists"] == 0 and r.headline["raw_email_files"] == 0
    files = r.files.set_index("file")
    assert files.at[MAILCHIMP, "purpose"] == "email" and files.at[META, "purpose"] == "ads"
    activation = io.read_json(REF / "harbor_coffee" / "default" / "activation.json")
    rows = {a["file"]: a["rows"] for a in activation["actions"]}
    assert files.at[MAILCHIMP, "people"] == rows[MAILCHIMP]
    assert files.at[META, "people"] == rows[META]
    assert set(files.loc[files["purpose"].isin(["email", "ads"]), "status"]) == {"pass"}
    assert "Everyone in them may be contacted for that purpose" in r.reading


def test_per_customer_files_naming_opted_out_people_need_review(harbor, harbor_consent):
    files = harbor_consent.files.set_index("file")
    recs = pd.read_csv(harbor.path("actions/recommendations.csv"), dtype=str)
    customers = harbor.prepared("customers")
    no = set(customers.loc[cp.blocked(customers, purpose="email"), "customer_id"])
    expected = len(set(recs["customer_id"]) & no)
    assert files.at["actions/recommendations.csv", "may_not_contact"] == expected > 0
    assert files.at["actions/recommendations.csv", "status"] == "needs review"
    assert any(w.startswith(f"actions/recommendations.csv is not a contact list but names "
                            f"{expected:,} customers") for w in harbor_consent.warnings)


def test_k_opted_out_people_slipped_into_copies_give_k_violations(harbor, harbor_run, tmp_path):
    k, run = 7, tmp_path / "run"
    shutil.copytree(harbor_run, run)
    customers = harbor.prepared("customers")
    out = customers[cp.blocked(customers, purpose="ads")].head(k)
    meta = pd.read_csv(run / META, dtype=str)
    extra = pd.DataFrame({"email": hash_email(out["email"]).to_numpy()})
    pd.concat([meta, extra]).to_csv(run / META, index=False)
    chimp = pd.read_csv(run / MAILCHIMP, dtype=str)
    no_email = customers[cp.blocked(customers, purpose="email")].tail(k)
    extra = pd.DataFrame({"Email Address": no_email["email"].str.upper().to_numpy()})
    pd.concat([chimp, extra]).to_csv(run / MAILCHIMP, index=False)
    (run / "actions" / "budget_split.csv").write_text("channel,owner\nemail,ann@example.com\n")
    r = cp.consent_check(open_plan("harbor_coffee", run_dir=run))
    files = r.files.set_index("file")
    assert files.at[META, "may_not_contact"] == k and files.at[MAILCHIMP, "may_not_contact"] == k
    assert files.at[META, "status"] == files.at[MAILCHIMP, "status"] == "fail"
    assert r.headline["violations"] == 2 * k
    assert f"FAIL: {META} holds {k:,} people who may not receive ads marketing" in r.reading
    status, evidence = ck.CHECKS["consent_violations"][1](r)
    assert status == "fail" and f"{META}: {k}" in evidence
    # and a raw e-mail address in a file not marked *_contains_emails*
    row = files.loc["actions/budget_split.csv"]
    assert (row["raw_emails"], row["status"]) == ("owner", "fail")
    assert r.headline["raw_email_files"] == 1


def test_no_activation_json_is_unsupported(tmp_path):
    r = cp.consent_check(open_plan("bloom_yoga", run_dir=tmp_path / "empty"))
    assert not r.supported and "run step 07 first" in r.reading


# ---- retention ----------------------------------------------------------------------------------
def test_retention_on_a_hand_made_table():
    tables = {
        "customers": pd.DataFrame({"customer_id": ["A", "B", "C", "D", "E"],
                                   "signup_date": pd.to_datetime(
                                       ["2020-01-01", "2020-01-01", "2024-09-01", "2020-01-01",
                                        None])}),
        "orders": pd.DataFrame({"customer_id": ["A", "A", "B"], "order_date": pd.to_datetime(
            ["2021-01-01", "2024-08-01", "2023-01-01"])}),
        # D was sent an e-mail last month but opened nothing for years: sending is not activity
        "email_events": pd.DataFrame({"customer_id": ["D", "D"], "sent_at": pd.to_datetime(
            ["2025-05-01", "2022-05-01"]), "opened_at": pd.to_datetime([None, "2022-05-02"])}),
        "leads": pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "customer_id": [None, None, "B"],
                               "created_at": pd.to_datetime(["2022-01-01", "2025-01-01",
                                                             "2019-12-01"])})}
    people, by_table = rt.retention_table(tables, as_of="2025-06-30", months=24)  # 2023-06-30
    got = people.set_index("customer_id")
    assert got["past_retention"].to_dict() == {"A": False, "B": True, "C": False, "D": True,
                                               "E": False}
    assert got.at["D", "last_activity"] == pd.Timestamp("2022-05-02")
    assert got.at["A", "seen_in"] == "orders" and pd.isna(got.at["E", "last_activity"])
    rows = by_table.set_index("table")["rows_past_retention"].to_dict()
    # customers B, D; B's order; D's two events; leads: L1 (not a customer, 2022) and L3 (B's)
    assert rows == {"customers": 2, "orders": 1, "email_events": 2, "leads": 2}


def test_retention_section_reads_business_yaml_and_months(tmp_path):
    customers = pd.DataFrame({"customer_id": ["A", "B", "C", "D"], "email": [
        "a@example.com", "b@example.com", "c@example.com", "d@example.com"],
        "signup_date": ["2020-01-01", "2022-01-01", "2024-01-01", "2025-01-01"]})
    folder = write_business(tmp_path / "shop", data={"customers": "data/customers.csv"},
                            files={"data/customers.csv": customers.to_csv(index=False)},
                            extra_yaml="privacy:\n  retention_months: 36\n")
    plan = open_plan(folder, run_dir=tmp_path / "run")
    r = rt.retention(plan)  # as_of 2025-06-30: before 2022-06-30 is past 36 months
    assert (r.headline["past_retention"], r.headline["customers"]) == (2, 4)
    assert "2 of your 4 customers (50.0%)" in r.reading and "before 30 Jun 2022" in r.reading
    assert rt.retention(plan, months=12).headline["past_retention"] == 3
    assert any("email_events" in w for w in r.warnings)


# ---- minimisation, pseudonymisation -----------------------------------------------------------
def test_bloom_minimisation_drops_exactly_the_unused_pii_of_truth(tmp_path):
    truth = json.loads((SAMPLE_DIR / "bloom_yoga" / "truth.json").read_text())["pii_columns"]
    r = rt.minimisation(open_plan("bloom_yoga", run_dir=tmp_path / "run"))
    drop = r.columns[r.columns["action"] == "drop"]
    expected = {(t, c) for t, cols in truth.items() for c in cols} - {("customers", "email")}
    assert set(zip(drop["table"], drop["column"], strict=True)) == expected
    assert r.headline["to_drop"] == 4
    assert "customers.first_name, leads.first_name, leads.email, leads.phone" in r.reading


def test_pseudonymisation_passes_and_fails_per_file(tmp_path):
    run = tmp_path / "run"
    (run / "actions").mkdir(parents=True)
    (run / "steps").mkdir()
    hashes = hash_email(pd.Series(["a@example.com", "b@example.com"]))
    pd.DataFrame({"email": hashes, "value": [10.0, 2.5]}).to_csv(
        run / "actions/meta_lookalike_sha256.csv", index=False)
    pd.DataFrame({"Email": ["c@example.com"]}).to_csv(
        run / "actions/google_high_propensity_sha256.csv", index=False)
    pd.DataFrame({"Email Address": ["a@example.com"]}).to_csv(
        run / "actions/mailchimp_tags_contains_emails.csv", index=False)
    (run / "steps/07.json").write_text('{"summary": ["call Ann on (773) 555-0187"]}')
    (run / "insights.json").write_text('{"best": "Champions"}')
    r = cp.pseudonymisation(open_plan("bloom_yoga", run_dir=run))
    status = r.files.set_index("file")["status"].to_dict()
    assert status == {"actions/google_high_propensity_sha256.csv": "fail",
                      "actions/mailchimp_tags_contains_emails.csv": "pass",
                      "actions/meta_lookalike_sha256.csv": "pass", "insights.json": "pass",
                      "steps/07.json": "fail"}
    assert r.headline == {"files_checked": 5, "files_failed": 2, "ad_files": 2,
                          "ad_files_hashed_only": 1}


def test_harbor_run_folder_holds_no_raw_contact_detail(harbor):
    r = cp.pseudonymisation(harbor)
    assert r.headline["files_failed"] == 0 and r.headline["ad_files_hashed_only"] == 4
    assert set(r.files.loc[r.files["kind"] == "working copy", "file"]) == {"prepared/", "cache/"}


# ---- fairness and model cards -------------------------------------------------------------------
def test_selection_rates_against_the_best_group_by_hand():
    from scipy.stats import fisher_exact

    ids = [f"C{i}" for i in range(220)]
    region = ["A"] * 100 + ["B"] * 100 + ["C"] * 10 + [None] * 10
    score = np.full(220, 0.1)
    score[:15] = 0.9  # 15 of A
    score[100:106] = 0.8  # 6 of B
    score[200:201] = 0.7  # 1 of C
    scores = pd.DataFrame({"customer_id": ids, "propensity": score})
    table = fa.fairness_data(scores, pd.DataFrame({"customer_id": ids, "region": region}))
    got = table.set_index("group")  # the top 22 (10% of 220) = 15 A + 6 B + 1 C
    assert got["selected"].to_dict() == {"A": 15, "B": 6, "C": 1, "unknown": 0}
    assert got.at["B", "ratio_to_best"] == pytest.approx(0.06 / 0.15)
    p = fisher_exact([[6, 94], [15, 85]], alternative="less")[1]
    assert p < 0.05 and got.at["B", "status"] == "below four-fifths"
    assert got.at["A", "status"] == "ok"
    assert got.at["C", "status"] == "too small to judge"
    assert got.at["unknown", "status"] == "not a group (value missing)"
    small = fa.fairness_data(scores, pd.DataFrame({"customer_id": ids, "region": region}),
                             min_group=5, top_share=0.1)
    # C, picked at 1 in 10 (0.67 of A's rate), is under four-fifths by an amount chance explains
    assert small.set_index("group").at["C", "status"] == "below four-fifths, could be chance"


def test_harbor_fairness_and_cards(harbor):
    r = fa.fairness(harbor)
    assert r.supported and set(r.table["score"]) == {"propensity", "churn_risk"}
    judged = r.table[r.table["status"] != "not a group (value missing)"]
    top = judged.groupby(["score", "attribute"])["ratio_to_best"].max()
    assert (top == 1.0).all()  # each comparison has its best group at 100%
    assert r.headline["groups_flagged"] == int((r.table["status"] == "below four-fifths").sum())
    cards = fa.model_cards(harbor).set_index("model")
    metrics = io.read_json(harbor.path("models/propensity_card.json"))["metrics"]
    assert cards.at["propensity", "main metric"] == (
        f"ROC AUC {metrics['roc_auc']:.2f} vs rule {metrics['baseline_roc_auc']:.2f}")


# ---- the checklist ------------------------------------------------------------------------------
LAWS = {"GDPR", "UK GDPR", "CCPA/CPRA", "CAN-SPAM", "CASL", "general good practice"}


def test_checklist_template_items_are_complete():
    items = ck.checklist_items()
    assert 15 <= len(items) <= 20 and len({i["id"] for i in items}) == len(items)
    for item in items:
        assert item["law"] in LAWS and item["question"].endswith("?")
        assert set(item["regions"]) <= {"us", "eu", "uk", "ca", "au", "other", "all"}
        assert (item.get("check") in ck.CHECKS) != bool(item.get("manual") and item["look_at"])


def _results() -> dict:
    files = pd.DataFrame({"file": [META], "purpose": ["ads"], "may_not_contact": [3],
                          "status": ["fail"]})
    return {"consent": cp.ConsentCheckResult(True, headline={
                "violations": 3, "audience_files": 1, "unsubscribed_in_lists": 0,
                "raw_email_files": 0}, files=files),
            "retention": rt.RetentionResult(True, headline={"past_retention": 0,
                                                            "retention_months": 36}),
            "fairness": fa.FairnessResult.unsupported("no scores: run step 06 first")}


def test_checklist_statuses(tmp_path):
    folder = write_business(tmp_path / "shop", data={}, extra_yaml=(
        "privacy:\n  region: us\n  checked: [email_footer]\n"))
    plan = open_plan(folder, run_dir=tmp_path / "run")
    table = ck.checklist(plan, _results(), checked=["files_kept_safe"]).set_index("id")
    assert table.at["consent_in_lists", "status"] == "fail"
    assert table.at["consent_in_lists", "evidence"] == f"{META}: 3"
    assert table.at["unsubscribes_honoured", "status"] == "pass"
    assert table.at["retention_period", "status"] == "pass"
    assert table.at["fair_scores", "status"] == "needs review"
    assert table.at["fair_scores", "evidence"] == "not checked: no scores: run step 06 first"
    assert table.at["minimal_columns", "evidence"] == "the minimisation check was not run"
    assert table.at["email_footer", "status"] == "pass"  # ticked in business.yaml
    assert table.at["files_kept_safe", "status"] == "pass"  # ticked now
    assert table.at["requests_answered", "status"] == "needs review"
    assert "casl_consent_records" not in table.index and "soft_opt_in" not in table.index
    everywhere = ck.checklist(plan, _results(), everywhere=True)
    assert len(everywhere) == len(ck.checklist_items())
    artifact = ck.compliance_artifact(_results(), table.reset_index())
    counts = table["status"].value_counts().to_dict()
    assert artifact["summary"] == {s: counts.get(s, 0) for s in ("fail", "needs review", "pass")}
    assert artifact["sections"]["fairness"]["reason"] == "no scores: run step 06 first"
    io.to_json_text(artifact)  # plain JSON


def test_fairness_flags_need_review_not_fail():
    r = replace(fa.FairnessResult(True), headline={"groups_flagged": 2, "groups_checked": 9})
    assert ck.CHECKS["fairness"][1](r) == (
        "needs review", "2 of 9 groups picked at under 80% of the best group, beyond chance")


def test_save_checked_keeps_the_other_keys_and_refuses_unknown_ids(tmp_path):
    folder = write_business(tmp_path / "shop", data={}, extra_yaml=(
        "privacy:\n  retention_months: 24   # two years\n  region: uk\n"))
    ck.save_checked(folder, ["soft_opt_in", "lawful_basis", "soft_opt_in"])
    text = (folder / "business.yaml").read_text()
    assert "# two years" in text and "# a test business" in text
    privacy = io.read_yaml(folder / "business.yaml")["privacy"]
    assert privacy == {"retention_months": 24, "region": "uk",
                       "checked": ["lawful_basis", "soft_opt_in"]}
    with pytest.raises(UnknownNameError, match="Did you mean 'soft_opt_in'"):
        ck.save_checked(folder, ["soft_optin"])
    with pytest.raises(UnknownNameError):
        ck.save_checked(folder, ["consent_in_lists"])  # automated, not ticked by hand
    assert io.read_yaml(folder / "business.yaml")["privacy"]["checked"] == [
        "lawful_basis", "soft_opt_in"]


def test_checklist_form_writes_the_ticked_items(tmp_path):
    folder = write_business(tmp_path / "shop", data={}, extra_yaml="privacy:\n  region: eu\n")
    plan = open_plan(folder, run_dir=tmp_path / "run")
    table = ck.checklist(plan, {})
    form = ck.checklist_form(plan, table)
    *rows, save, status = form.children
    assert len(rows) == int((table["how"] == "by hand").sum())
    manual = table.loc[table["how"] == "by hand", "id"].tolist()
    box, label = rows[manual.index("processor_agreements")].children
    assert "data processing agreement" in label.value and not box.value
    box.value = True
    save.click()
    assert "Saved 1 confirmed item(s)" in status.value
    assert io.read_yaml(folder / "business.yaml")["privacy"]["checked"] == [
        "processor_agreements"]


def test_fairness_shows_selection_rates_as_percentages():
    table = pd.DataFrame({"score": ["propensity"], "attribute": ["region"], "group": ["West"],
                          "customers": [622], "selected": [78], "selection_rate": [0.125402],
                          "ratio_to_best": [0.909164], "status": ["ok"]})
    shown = fa.fairness_display(fa.FairnessResult(True, table=table)).iloc[0]
    assert (shown["selection_rate"], shown["ratio_to_best"], shown["customers"]) == (
        "12.5%", "0.91", 622)
