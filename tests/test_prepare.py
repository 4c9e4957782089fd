"""Step 04 cleaning: the planted faults of harbor_coffee found and counted as truth.json says,
identity resolution, refunds, outliers and blanks on tiny businesses, and Plan.raw / sources /
prepared."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd
import pytest

from helpers import prepare as prep
from helpers import quality
from helpers.errors import MissingDataError
from helpers.plan import SAMPLE_DIR, open_plan
from tests.conftest import write_business

HARBOR = SAMPLE_DIR / "harbor_coffee"
TRUTH = json.loads((HARBOR / "truth.json").read_text())["quality_faults"]
EMAIL_SHAPE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _hashes(folder) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def harbor(tmp_path_factory):
    """harbor_coffee prepared and saved once for the module; the input hashes before that."""
    before = _hashes(HARBOR)
    plan = open_plan("harbor_coffee", run_dir=tmp_path_factory.mktemp("run"))
    prepared = prep.prepare_tables(plan)
    prep.save_prepared(plan, prepared)
    return plan, prepared, before


# ---- harbor_coffee: the planted faults -------------------------------------------------------
def test_every_duplicate_customer_resolves_to_the_original_and_its_orders_follow(harbor):
    _, prepared, _ = harbor
    pairs = TRUTH["duplicate_customers"]["pairs"]
    resolved = prepared.identity.set_index("customer_id")["resolved_id"]
    orders = prepared.tables["orders"].set_index("order_id")["customer_id"]
    for pair in pairs:
        assert resolved[pair["duplicate_id"]] == pair["customer_id"]
        assert resolved[pair["customer_id"]] == pair["customer_id"]
        assert (orders[pair["orders_on_duplicate"]] == pair["customer_id"]).all()
    customers = prepared.tables["customers"]
    assert not customers.customer_id.isin([p["duplicate_id"] for p in pairs]).any()
    assert len(customers) == 5045 - len(pairs)
    assert (resolved != resolved.index).sum() == len(pairs) == 12
    assert prepared.faults["duplicate_customers"] == 12
    assert prepared.faults["relinked_orders"] == sum(len(p["orders_on_duplicate"]) for p in pairs)


def test_merged_customers_keep_the_earliest_record_and_normalised_emails(harbor):
    _, prepared, _ = harbor
    customers = prepared.tables["customers"].set_index("customer_id")
    for pair in TRUTH["duplicate_customers"]["pairs"]:
        assert customers.at[pair["customer_id"], "email"] == pair["email"].lower()
    assert customers.email.str.lower().eq(customers.email).all()
    assert customers.email.duplicated().sum() == 0


def test_the_five_unparseable_order_dates_are_counted_with_their_order_ids(harbor):
    _, prepared, _ = harbor
    truth = {r["order_id"]: r["value"] for r in TRUTH["unparseable_order_dates"]["rows"]}
    found = prepared.faults["unparseable_date_rows"]
    assert prepared.faults["unparseable_dates"] == 5
    assert {r["id"]: r["value"] for r in found} == truth
    assert {(r["table"], r["column"]) for r in found} == {("orders", "order_date")}
    assert not prepared.tables["orders"].order_id.isin(list(truth)).any()
    dates = prepared.log[(prepared.log.step == "dates") & (prepared.log.table == "orders")]
    assert dates.rows.tolist() == [5]


def test_refunds_are_flagged_and_linked_to_their_order(harbor):
    _, prepared, _ = harbor
    orders = prepared.tables["orders"]
    refunds = orders[orders.is_refund].set_index("order_id")["refund_of"]
    assert prepared.faults["refunds"] == TRUTH["refunds"]["count"] == len(refunds) == 293
    assert refunds.to_dict() == TRUTH["refunds"]["rows"]
    assert prepared.faults["refunds_linked"] == 293 and prepared.faults["refunds_unlinked"] == 0
    assert (orders.revenue[orders.is_refund] < 0).all()
    assert np.allclose(orders.net_revenue, orders.revenue)  # no `refunded` column here
    assert prepared.log[prepared.log.step == "refunds"].rows.tolist() == [293]


def test_the_151_blank_regions_are_counted_and_set_to_unknown(harbor):
    _, prepared, _ = harbor
    missing = set(TRUTH["missing_region"]["customer_ids"])
    pairs = {p["customer_id"]: p["duplicate_id"] for p in TRUTH["duplicate_customers"]["pairs"]}
    # a kept record stays blank when it and its merged duplicate (if any) were both blank
    still_blank = {c for c in missing if c not in pairs.values()
                   and (c not in pairs or pairs[c] in missing)}
    customers = prepared.tables["customers"]
    assert prepared.faults["missing_region"] == len(missing) == 151
    assert customers.region.notna().all()
    assert set(customers.customer_id[customers.region == "unknown"]) == still_blank
    row = prepared.log[(prepared.log.table == "customers") & (prepared.log.column == "region")]
    assert row.rows.tolist() == [151] and row.step.tolist() == ["missing values"]


def test_email_events_relinked_and_copies_recorded_under_both_records_kept_once(harbor):
    plan, prepared, _ = harbor
    dups = {p["duplicate_id"]: p["customer_id"] for p in TRUTH["duplicate_customers"]["pairs"]}
    raw = plan.table("email_events")
    moved = raw.assign(customer_id=raw.customer_id.replace(dups))
    copies = int(moved.duplicated().sum())
    events = prepared.tables["email_events"]
    assert prepared.faults["relinked"]["email_events"] == int(raw.customer_id.isin(dups).sum())
    assert prepared.faults["merged_copies"].get("email_events", 0) == copies
    assert len(events) == len(raw) - copies
    assert not events.customer_id.isin(dups).any() and not events.duplicated().any()


def test_no_order_or_spend_is_an_outlier_in_harbor_and_the_columns_exist(harbor):
    _, prepared, _ = harbor
    assert prepared.faults["outliers"] == 0
    assert prepared.tables["orders"].outlier.dtype == bool
    assert prepared.faults["outliers_by_column"] == {"orders.revenue": 0,
                                                     "marketing_spend.spend": 0}
    assert "outlier" in prepared.tables["marketing_spend"]


def test_the_log_never_holds_a_raw_email(harbor):
    _, prepared, _ = harbor
    emails = pd.read_csv(HARBOR / "data" / "customers.csv", dtype=str)["email"].str.strip()
    text = " ".join(prepared.log.astype(str).to_numpy().ravel())
    assert not EMAIL_SHAPE.search(text)
    assert not any(e.lower() in text.lower() for e in emails)
    assert "S•••@e••• -> s•••@e•••" in set(prepared.log.example)


def test_raw_input_files_are_unchanged(harbor):
    plan, _, before = harbor
    plan.sources()
    assert _hashes(HARBOR) == before


def test_prepared_reads_the_parquet_once_the_step_has_run(harbor):
    plan, prepared, _ = harbor
    path = plan.path("prepared/products.parquet")
    saved = pd.read_parquet(path)
    saved.drop(columns=["cost"]).to_parquet(path, index=False)
    try:
        got = plan.prepared("products")
        assert "cost" not in got and len(got) == len(prepared.tables["products"])
    finally:
        saved.to_parquet(path, index=False)


def test_a_prepared_table_saved_again_replaces_the_one_already_read(tmp_path):
    plan = _tiny(tmp_path)
    orders = plan.prepared("orders")
    assert plan.prepared("orders").equals(orders)  # read once, kept
    plan.save("prepared/orders.parquet", orders.head(1))
    assert len(plan.prepared("orders")) == 1


# ---- tiny businesses ---------------------------------------------------------------------------
CUSTOMERS = (
    "customer_id,email,signup_date,region,consent_email\n"
    "C1, Ann@Example.COM ,2024-01-05,,yes\n"
    "C2,bob@example.com,2024-02-01,North,yes\n"
    "C3,ann@example.com,2024-03-01,South,no\n"
    "C4,not an address,2024-04-01,West,yes\n"
    "C5,cy@example.com,2024-05-01,East,yes\n"
    "C6,CY@example.com,2024-05-01,,yes\n"
)
ORDERS = (
    "order_id,customer_id,order_date,revenue,channel\n"
    "O1,C1,2025-01-10,30.00,email\n"
    "O2,C3,2025-02-10,40.00,\n"
    "O3,C6,2025-03-10,50.00,search\n"
    "O4,C2,someday,20.00,email\n"
    "R1,C3,2025-02-20,-15.00,email\n"
)


def _tiny(tmp_path, *, orders=ORDERS, customers=CUSTOMERS, extra="", files=None):
    folder = write_business(
        tmp_path / "shop", data={"customers": "data/customers.csv", "orders": "data/orders.csv"},
        files={"data/customers.csv": customers, "data/orders.csv": orders, **(files or {})},
        extra_yaml=extra)
    return open_plan(folder, run_dir=tmp_path / "run")


def test_identity_merges_by_normalised_email_keeping_the_earliest_record(tmp_path):
    prepared = prep.prepare_tables(_tiny(tmp_path))
    ident = prepared.identity.set_index("customer_id")
    assert ident.resolved_id.to_dict() == {"C1": "C1", "C2": "C2", "C3": "C1", "C4": "C4",
                                           "C5": "C5", "C6": "C5"}  # C5/C6: same day, first row
    assert ident.email_key["C1"] == ident.email_key["C3"] and ident.email_key["C1"].startswith("E")
    customers = prepared.tables["customers"].set_index("customer_id")
    assert list(customers.index) == ["C1", "C2", "C4", "C5"]
    assert customers.at["C1", "region"] == "South"  # blank on the kept record, filled from C3
    assert not customers.at["C1", "consent_email"]  # C3 said no: a no on any record wins
    assert customers.at["C1", "email"] == "ann@example.com"
    assert pd.isna(customers.at["C4", "email"])  # not an address: emptied
    orders = prepared.tables["orders"].set_index("order_id")
    assert orders.customer_id.to_dict() == {"O1": "C1", "O2": "C1", "O3": "C5", "R1": "C1"}
    assert prepared.faults["duplicate_customers"] == 2
    assert prepared.faults["relinked"]["orders"] == 3


def test_email_log_counts_changed_and_invalid_addresses_masked(tmp_path):
    log = prep.prepare_tables(_tiny(tmp_path)).log
    email = log[log.step == "e-mail"].set_index("action")
    assert email.rows.tolist() == [2, 1]  # ' Ann@Example.COM ' and 'CY@...' changed; one invalid
    assert email.example.iloc[0] == "A•••@E••• -> a•••@e•••"
    assert email.example.iloc[1] == "n•••"


def test_refunds_without_refund_of_and_a_refunded_column_give_net_revenue(tmp_path):
    orders = ("order_id,customer_id,order_date,revenue,refunded\n"
              "O1,C1,2025-01-10,30.00,$5.00\n"
              "O2,C2,2025-02-10,40.00,\n"
              "R1,C2,2025-02-20,-15.00,\n")
    prepared = prep.prepare_tables(_tiny(tmp_path, orders=orders))
    out = prepared.tables["orders"].set_index("order_id")
    assert out.is_refund.to_dict() == {"O1": False, "O2": False, "R1": True}
    assert out.net_revenue.to_dict() == {"O1": 25.0, "O2": 40.0, "R1": -15.0}
    assert prepared.faults["refunds"] == 1 and prepared.faults["refunds_unlinked"] == 1
    assert prepared.faults["refunded_orders"] == 1


def test_blank_channels_become_unknown_and_the_loader_drop_is_logged_once(tmp_path):
    prepared = prep.prepare_tables(_tiny(tmp_path))
    assert prepared.tables["orders"].channel.tolist().count("unknown") == 1
    assert prepared.faults["missing_values"] == {"customers.region": 2, "orders.channel": 1}
    # C1's blank region was filled from C3 while merging; C6 went into C5 (East)
    assert (prepared.tables["customers"].region == "unknown").sum() == 0
    dropped = prepared.log[(prepared.log.step == "missing values") & (prepared.log.column == "")]
    assert dropped.rows.tolist() == [1] and "left out" in dropped.action.iloc[0]
    assert prepared.faults["unparseable_date_rows"][0] | {"source": ""} == {
        "table": "orders", "column": "order_date", "source": "", "line": 5, "id": "O4",
        "value": "someday"}


def _orders_with(revenues) -> str:
    rows = [f"O{i},C1,2025-01-{1 + i % 28:02d},{r:.2f}" for i, r in enumerate(revenues)]
    return "order_id,customer_id,order_date,revenue\n" + "\n".join(rows) + "\n"


def test_a_planted_extreme_order_is_flagged_not_removed(tmp_path):
    rng = np.random.default_rng(4)
    revenues = list(rng.gamma(4.0, 10.0, 60).round(2)) + [5000.0]
    prepared = prep.prepare_tables(_tiny(tmp_path, orders=_orders_with(revenues)))
    orders = prepared.tables["orders"]
    assert orders.order_id[orders.outlier].tolist() == ["O60"]
    assert len(orders) == 61 and prepared.faults["outliers"] == 1
    row = prepared.log[prepared.log.step == "outliers"]
    assert row.rows.tolist() == [1] and row.example.iloc[0].startswith("$5,000 (limit $")


def test_a_regular_price_point_is_no_outlier_and_few_orders_are_not_judged():
    annual = pd.Series([139.0] * 90 + [1290.0] * 10)
    assert not prep.outlier_mask(annual)[0].any()
    flags, limit = prep.outlier_mask(pd.Series([10.0] * 5 + [9000.0]))
    assert not flags.any() and limit is None
    values = pd.Series([20.0, 21, 22, 23, 24, 25, 26, 27, 28, 29] * 3 + [400.0])
    logs = np.log(values)
    mad = (logs - logs.median()).abs().median()
    flags, limit = prep.outlier_mask(values, mads=5)
    assert limit == pytest.approx(np.exp(logs.median() + 5 * mad))
    assert flags.tolist() == [False] * 30 + [True]
    # a second campaign at four times the spend, 10% of the days: a regular part, not outliers
    assert not prep.outlier_mask(pd.Series([20.0, 21, 22, 23, 24] * 18 + [90.0] * 10))[0].any()


def test_mask_and_scrub_hide_addresses():
    assert prep.mask_email("Stephanie.Gonzales@Example.com") == "S•••@E•••"
    assert prep.scrub("write to a.b@c.org or (x@y.com)") == "write to a•••@c••• or (x•••@y•••)"


# ---- Plan.raw, Plan.sources, Plan.prepared ---------------------------------------------------
def test_raw_keeps_values_as_written_with_mapped_names_and_source(tmp_path):
    extra = "  order_items: {path: data/items.csv, mapping: {Qty: quantity}}\n"
    items = 'order_id,product_id,Qty,Unit Price\nO1,P1,2,"$1,234.50"\nO2,P2,1,3\n'
    plan = _tiny(tmp_path, extra=extra, files={"data/items.csv": items})
    raw = plan.raw("orders")
    assert raw.order_date.tolist()[3] == "someday" and raw.revenue.tolist()[0] == "30.00"
    assert set(raw._source) == {"data/orders.csv"} and len(raw) == 5
    items = plan.raw("order_items")
    assert items.quantity.tolist() == ["2", "1"] and items.unit_price.tolist() == ["$1,234.50", "3"]
    with pytest.raises(MissingDataError, match="there is no products table"):
        plan.raw("products")


def test_sources_count_rows_read_kept_and_notes(tmp_path):
    import sqlite3

    with sqlite3.connect(tmp_path / "shop.db") as conn:
        conn.execute("create table products (product_id text, price real)")
        conn.executemany("insert into products values (?, ?)", [("P1", 3.0), ("P2", 4.5)])
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    extra = f"  products: {{url: '{url}', query: 'select * from products'}}\n"
    sources = _tiny(tmp_path, extra=extra).sources().set_index("table")
    assert sources.loc["orders", ["file", "format", "rows_read", "rows_kept", "notes"]].tolist() \
        == ["data/orders.csv", "csv", 5, 4, 3]  # unreadable date, its row dropped, refund
    assert sources.loc["customers", ["rows_read", "rows_kept", "notes"]].tolist() == [6, 6, 0]
    assert sources.loc["products", ["format", "rows_read"]].tolist() == ["sql", 2]


def test_prepared_prepares_on_first_use_and_writes_every_table(tmp_path):
    plan = _tiny(tmp_path)
    assert not plan.path("prepared/orders.parquet").exists()
    orders = plan.prepared("orders")
    assert {"is_refund", "net_revenue", "outlier"} <= set(orders.columns)
    assert plan.path("prepared/customers.parquet").exists()
    again = open_plan(plan.business_dir, run_dir=plan.run_dir).prepared("customers")
    assert again.customer_id.tolist() == ["C1", "C2", "C4", "C5"]
    with pytest.raises(MissingDataError, match="there is no leads table"):
        plan.prepared("leads")


def test_prepared_tables_older_than_the_data_are_prepared_again(tmp_path):
    import os

    plan = _tiny(tmp_path)
    plan.prepared("customers")
    stamp = plan.path("prepared/customers.parquet").stat().st_mtime
    data = plan.business_dir / "data" / "customers.csv"
    # The owner fixes a file after step 04 ran: a new plan must not read the stale table.
    data.write_text("".join(line for line in data.read_text().splitlines(keepends=True)
                            if not line.startswith("C2,")))
    os.utime(data, (stamp + 10, stamp + 10))
    fresh = open_plan(plan.business_dir, run_dir=plan.run_dir).prepared("customers")
    assert len(fresh) == len(plan.prepared("customers")) - 1


def test_a_second_notebook_reads_the_loaded_tables_back_until_a_file_changes(tmp_path):
    import os

    first = _tiny(tmp_path)
    orders = first.table("orders")
    assert first.path("cache/orders.parquet").exists()
    second = open_plan(first.business_dir, run_dir=first.run_dir)
    pd.testing.assert_frame_equal(second.table("orders"), orders, check_dtype=False)
    assert [n.message for n in second.notes] == [n.message for n in first.notes]  # notes kept
    data = first.business_dir / "data" / "orders.csv"
    data.write_text(data.read_text() + "O9,C2,03/04/2025,10.00,email\n")
    stamp = first.path("cache/orders.parquet").stat().st_mtime
    os.utime(data, (stamp + 10, stamp + 10))
    third = open_plan(first.business_dir, run_dir=first.run_dir)
    dates = third.table("orders").set_index("order_id")["order_date"]
    assert len(dates) == len(orders) + 1 and dates["O9"] == pd.Timestamp("2025-03-04")
    # Read by another locale the same file gives other values: the cache is not used.
    other = open_plan(first.business_dir, run_dir=first.run_dir, **{"business.locale": "en_GB"})
    assert other.table("orders").set_index("order_id").at["O9", "order_date"] == \
        pd.Timestamp("2025-04-03")


def test_log_summary_and_cleaning_reading_come_from_the_numbers(tmp_path):
    prepared = prep.prepare_tables(_tiny(tmp_path))
    summary = prep.log_summary(prepared.log).set_index("step")
    assert list(summary.index) == [s for s in prep.STEPS if s in set(prepared.log.step)]
    assert summary.loc["identity", "rows"] == 2 + 3  # records merged, orders relinked
    text = prep.cleaning_reading(prepared)
    assert "1 date(s) could not be read ('someday')" in text
    assert "1 refund rows are flagged (0 linked to their order)" in text
    assert "a group of their own: customers.region (2), orders.channel (1)" in text
    assert text.endswith("Too few values to look for outliers in orders revenue (at least 20 "
                         "are needed).")
    assert prepared.faults["outliers_by_column"] == {"orders.revenue": None}


def test_a_customer_in_two_sources_is_one_record_naming_both(tmp_path):
    from helpers import quality as q

    shop = ("customer_id,email,signup_date,region\n"
            "C1,ann@example.com,2024-01-05,\nC2,b@x.org,2024-02-01,West\n")
    mail = "customer_id,email,consent_email\nC1,ann@example.com,no\n"
    extra = "  customers:\n    - {path: data/shop.csv}\n    - {path: data/mail.csv}\n"
    folder = write_business(tmp_path / "shop", data={}, extra_yaml=extra,
                            files={"data/shop.csv": shop, "data/mail.csv": mail})
    prepared = prep.prepare_tables(open_plan(folder, run_dir=tmp_path / "run"))
    ident = prepared.identity.set_index("customer_id")
    assert ident.sources.to_dict() == {"C1": "data/shop.csv; data/mail.csv", "C2": "data/shop.csv"}
    assert prepared.faults["merged_across_sources"] == 1
    assert not prepared.tables["customers"].set_index("customer_id").at["C1", "consent_email"]
    assert q.identity_reading(prepared).startswith(
        "1 customers were in more than one of your sources and were joined into one record each "
        "by their e-mail. Beyond that, each of your 2 customer records is a different person")


def test_summit_exports_come_through_connectors_and_people_are_joined_across_sources(tmp_path):
    truth = json.loads((SAMPLE_DIR / "summit_outdoor" / "truth.json").read_text())
    plan = open_plan("summit_outdoor", run_dir=tmp_path / "run")
    sources = plan.sources().set_index("file")
    orders = sources.loc["exports/orders_export_1.csv"].set_index("table")
    assert orders.loc["orders", ["format", "rows_read", "rows_kept"]].tolist() == [
        "shopify_orders", truth["shopify"]["orders"] - truth["shopify"]["cancelled"]["count"],
        truth["shopify"]["orders"] - truth["shopify"]["cancelled"]["count"]]
    assert sources.at["exports/mailchimp_unsubscribed.csv", "format"] == \
        "mailchimp_audience (detected)"
    prepared = prep.prepare_tables(plan)
    assert prepared.faults["merged_across_sources"] == truth["consent"]["in_both"]
    customers = prepared.tables["customers"]
    assert len(customers) == truth["consent"]["persons"]
    assert int((~customers.consent_email.astype(bool)).sum()) == truth["consent"][
        "consent_email_false"]
    steps = prepared.log.set_index("column").step
    assert steps["Cancelled at"] == "refunds" and steps["Day"] == "duplicates"
    # The step's headline counts Shopify's refunded orders and the people found in two sources.
    shopify = truth["shopify"]
    headline = quality.step_summary(prepared, quality.scorecard(plan, prepared))["headline"]
    assert headline["refunds"] == shopify["refunded_not_cancelled"] + shopify["partially_refunded"]
    assert headline["merged_across_sources"] == truth["consent"]["in_both"]
