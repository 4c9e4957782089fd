"""Step 10's PII map: the Luhn check on hand examples, each kind of personal data on hand-made
columns (with the false positives it must not raise: product, city and business names, ids,
numbers, dates), column names, and the ground truth of bloom_yoga (truth.json pii_columns) and
the native exports of summit_outdoor."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import pii
from helpers.consent import hash_email
from helpers.plan import SAMPLE_DIR, open_plan
from tests.conftest import write_business


# ---- the Luhn check -----------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["4111 1111 1111 1111", "5555-5555-5555-4444",
                                    "378282246310005", "6011111111111117", "4012888888881881"])
def test_luhn_accepts_published_test_card_numbers(number):
    assert pii.luhn_ok(number)


@pytest.mark.parametrize("number", [
    "4111 1111 1111 1112",  # last digit changed: the sum is 31, not a multiple of 10
    "1234567812345678",  # sum 64
    "79927398713",  # passes Luhn (the textbook example) but has 11 digits: no card is that short
    "41111111111111111111",  # 20 digits
    "4111-1111-1111-111a", "", "hello"])
def test_luhn_rejects_wrong_checksums_lengths_and_text(number):
    assert not pii.luhn_ok(number)


def test_luhn_by_hand_on_a_13_digit_number():
    # 4222222222222: from the right 2,2x2=4,2,4,2,4,2,4,2,4,2,4, 4x2=8 -> 2*6 + 4*5... = 40
    digits = [4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    total = sum(d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d)
                for i, d in enumerate(reversed(digits)))
    assert total == 40 and pii.luhn_ok("4222222222222")


# ---- kinds by content ---------------------------------------------------------------------------
def test_emails_anywhere_in_a_value_count():
    shares = pii.scan_values(pd.Series(["ann@example.com", "write to bob@shop.co.uk please",
                                        "n/a", "@harborcoffee on instagram"]))
    assert shares == {"email": 0.5}


def test_phone_numbers_but_not_money_dates_ids_or_ip_addresses():
    values = pd.Series(["773-555-0187", "(773) 555-0131", "+44 20 7946 0958", "12.50",
                        "2024-10-01", "1234567.89", "310000229", "203.0.113.5"])
    shares = pii.scan_values(values)
    assert shares["phone"] == pytest.approx(3 / 8)
    assert shares["ip_address"] == pytest.approx(1 / 8)


def test_ip_addresses_v4_and_v6_by_the_standard_library():
    shares = pii.scan_values(pd.Series(["192.0.2.1", "2001:db8::1", "::1", "999.1.1.1",
                                        "08:36:02"]))
    assert shares == {"ip_address": pytest.approx(3 / 5)}


def test_street_addresses_but_not_cities_or_product_names():
    values = pd.Series(["4825 Kingsway", "2606 Lonsdale Ave", "336 Main St", "Richmond",
                        "Harbor House Blend, whole bean 12 oz", "Ridgeline 65L Backpack - M"])
    assert pii.scan_values(values) == {"street_address": pytest.approx(3 / 6)}


def test_card_numbers_need_nearly_every_value_to_pass_luhn():
    cards = pd.Series(["4111 1111 1111 1111", "5555555555554444", "378282246310005"] * 10)
    ids = pd.Series([str(5800053128180 + i) for i in range(1000)])  # Shopify-like order ids
    frame = pd.DataFrame({"paid_with": cards, "order": ids[:30]})
    found = pii.frame_findings(frame)
    assert found[["column", "kind", "found_by", "share"]].to_dict("records") == [
        {"column": "paid_with", "kind": "card_number", "found_by": "content", "share": 1.0}]
    # consecutive numbers pass the Luhn check exactly one time in ten: far below the bar
    assert pii.scan_values(ids)["card_number"] == pytest.approx(0.1)


def test_people_names_are_found_beside_matching_emails_only():
    emails = ["linda.rivera@example.com", "nyoung@example.org", "patricia_r85@example.com",
              "james.edwards@example.net", "brian.m@example.com"]
    frame = pd.DataFrame({
        "email": emails,
        "who": ["Linda Rivera", "Nancy Young", "Patricia Reynolds", "James Edwards",
                "Brian Miller"],
        "city": ["Richmond", "Vancouver", "North Vancouver", "Calgary", "Victoria"],
        "product": ["Trail Mug", "Rain Jacket", "Summit Pack", "Camp Stove", "Dry Bag"],
        "company": ["Tidewater Cafe", "Northshore Outfitters", "Harbor Partners",
                    "Coastline Gear", "Alpine Kitchen Co"]})
    found = pii.frame_findings(frame)
    assert set(zip(found["column"], found["kind"], strict=True)) == {
        ("email", "email"), ("who", "person_name")}
    assert found.set_index("column").at["who", "share"] == 1.0  # a word of each name in its row
    # without an e-mail column nothing says these are people: found by name only, or not at all
    assert pii.frame_findings(frame[["who", "city"]]).empty


def test_customer_ids_by_content_in_a_column_named_otherwise():
    frame = pd.DataFrame({"unit_id": ["C1", "C2", "C3", "X9"], "variant": ["a", "b", "a", "b"]})
    found = pii.frame_findings(frame, known_ids={"C1", "C2", "C3", "C4"})
    assert found[["column", "kind", "found_by", "share"]].to_dict("records") == [
        {"column": "unit_id", "kind": "customer_id", "found_by": "content", "share": 0.75}]


def test_a_column_named_email_holding_hashes_is_not_raw_email():
    hashed = hash_email(pd.Series([f"p{i}@example.com" for i in range(30)]))
    assert pii.frame_findings(pd.DataFrame({"email": hashed})).empty


def test_sampling_caps_the_values_read():
    values = pd.Series(["a@example.com"] * 3000 + ["x"] * 3000)
    assert pii.scan_values(values, sample=100, seed=1)["email"] == pytest.approx(0.5, abs=0.15)


# ---- kinds by name ------------------------------------------------------------------------------
@pytest.mark.parametrize("column, person_table, kind", [
    ("Email Address", False, "email"), ("contact_email", False, "email"),
    ("consent_email", False, None), ("email_status", False, None),
    ("Billing Name", False, "person_name"), ("First Name", False, "person_name"),
    ("name", True, "person_name"), ("name", False, None), ("Lineitem name", False, None),
    ("Phone Number", False, "phone"), ("OPTIN_IP", False, "ip_address"),
    ("Billing Zip", False, "street_address"), ("Billing City", False, None),
    ("customer_id", False, "customer_id"), ("card_number", False, "card_number"),
    ("revenue", False, None)])
def test_kind_by_name(column, person_table, kind):
    assert pii.kind_by_name(column, person_table=person_table) == kind


# ---- the sample businesses ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def bloom_map(tmp_path_factory):
    return pii.pii_map(open_plan("bloom_yoga", run_dir=tmp_path_factory.mktemp("bloom")))


def test_bloom_pii_columns_of_truth_json_are_all_found(bloom_map):
    truth = json.loads((SAMPLE_DIR / "bloom_yoga" / "truth.json").read_text())["pii_columns"]
    t = bloom_map.table
    found = {(table, col) for table, col, kind in zip(t["table"], t["column"], t["kind"],
                                                      strict=True) if kind != "customer_id"}
    assert found == {(table, col) for table, cols in truth.items() for col in cols}
    assert set(t.loc[t["kind"] != "customer_id", "found_by"]) == {"both"}
    to_drop = t[t["suggestion"].str.startswith("drop")][["table", "column"]]
    assert set(map(tuple, to_drop.to_numpy())) == {("customers", "first_name"),
                                                   ("leads", "first_name"), ("leads", "email"),
                                                   ("leads", "phone")}
    assert bloom_map.headline["columns_to_drop"] == 4
    assert "4 of them hold personal data no step of the workbook uses" in bloom_map.reading


def test_the_map_never_holds_a_value(bloom_map):
    text = bloom_map.table.to_csv() + bloom_map.reading
    leads = pd.read_csv(SAMPLE_DIR / "bloom_yoga" / "data" / "leads.csv", dtype=str)
    assert "@" not in text
    assert not any(p in text for p in leads["phone"].dropna().head(50))
    assert not any(f" {n}," in text for n in leads["first_name"].dropna().head(50))


@pytest.fixture(scope="module")
def summit_map(tmp_path_factory):
    return pii.pii_map(open_plan("summit_outdoor", run_dir=tmp_path_factory.mktemp("summit")))


def test_summit_exports_are_read_with_their_own_headers(summit_map):
    t = summit_map.table.set_index(["file", "column"])
    shop, chimp = "exports/orders_export_1.csv", "exports/mailchimp_subscribed.csv"
    assert t.loc[(shop, "Billing Name"), "found_by"] == "both"
    assert t.loc[(shop, "Billing Street"), "kind"] == "street_address"
    assert t.loc[(chimp, "OPTIN_IP"), ["kind", "found_by", "share"]].tolist() == [
        "ip_address", "both", 1.0]
    # the columns that hold the e-mail the workbook needs are kept; names are not
    assert t.loc[(chimp, "Email Address"), "suggestion"].startswith("keep")
    assert t.loc[(chimp, "First Name"), "suggestion"].startswith("drop")
    # empty columns named like personal data are low risk: nothing to protect
    assert t.loc[(chimp, "Phone Number"), ["share", "risk"]].tolist() == [0.0, "low"]
    # no false positives: cities, provinces, product names, vendors, order numbers
    for col in ("Billing City", "Billing Province", "Lineitem name", "Vendor", "Name",
                "Shipping Method", "TIMEZONE"):
        assert (shop, col) not in t.index and (chimp, col) not in t.index


# ---- files the workbook wrote -------------------------------------------------------------------
def test_file_counts_skip_pictures_and_read_notebook_outputs(tmp_path):
    page = tmp_path / "report.html"
    page.write_text('<img src="data:image/png;base64,QUJD+773/555/0187=="> mail ann@example.com, '
                    "call 773-555-0187; revenue 2026-09-30 was 1,234.50", encoding="utf-8")
    assert pii.file_counts(page) == {"emails": 1, "phones": 1}
    nb = tmp_path / "07.ipynb"
    nb.write_text(json.dumps({"cells": [{"source": ["x = 1"], "outputs": [
        {"data": {"text/plain": ["bob@example.org"], "image/png": "ann@example.com"}}]}]}))
    assert pii.file_counts(nb) == {"emails": 1, "phones": 0}


def test_a_business_whose_files_hold_no_personal_data_gets_an_empty_map(tmp_path):
    """An experiment log alone: unit ids are not personal on their own, so nothing is flagged."""
    from helpers.pii import pii_map

    business = write_business(tmp_path / "tests_only", data={"experiments": "data/e.csv"}, files={
        "data/e.csv": "experiment_id,unit_id,variant,exposed_at,converted,revenue\n"
                      + "".join(f"x1,u{i},{'AB'[i % 2]},2025-05-01,{i % 3 == 0},0\n"
                                for i in range(40))})
    result = pii_map(open_plan(business, run_dir=tmp_path / "run"))
    assert result.headline["columns_with_pii"] == 0 and result.headline["columns_to_drop"] == 0
