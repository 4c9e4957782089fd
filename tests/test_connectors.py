"""Platform exports into canonical tables: each connector on a hand-made fixture that keeps the
real layout's quirks (totals against hand sums), detection from the header, the Notes, bad input
with the message it must give, and exports loaded through the Plan."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import schemas
from helpers.connectors import FORMATS, detect_format, read_export
from helpers.connectors._common import numbers, percents
from helpers.errors import DataError, MissingDataError, UnknownNameError
from helpers.plan import open_plan
from helpers.tables import email_key
from tests.conftest import BAD_INPUT, ROOT, write_business

EXPORTS = ROOT / "tests" / "fixtures" / "exports"
TZ = "America/New_York"


def read(name: str, fmt: str | None = None, **kw):
    return read_export(
        EXPORTS / name,
        fmt,
        currency=kw.pop("currency", "USD"),
        timezone=kw.pop("timezone", TZ),
        **kw,
    )


def notes_with(export, text: str):
    return [n for n in export.notes if text in n.message]


# ---- the catalogue and detection -------------------------------------------------------------
def test_every_format_has_a_label_and_canonical_tables():
    assert set(FORMATS) == {
        "shopify_orders",
        "mailchimp_audience",
        "mailchimp_campaigns",
        "google_ads",
        "meta_ads",
        "ga4_traffic",
        "hubspot_contacts",
        "hubspot_deals",
        "stripe_payments",
        "square_transactions",
    }
    for name, connector in FORMATS.items():
        assert connector.name == name and connector.label and connector.needs
        assert set(connector.tables) <= set(schemas.TABLES), name


@pytest.mark.parametrize(
    "fixture,expected",
    [
        ("shopify_orders.csv", "shopify_orders"),
        ("shopify_renamed_total.csv", "shopify_orders"),
        ("mailchimp_subscribed.csv", "mailchimp_audience"),
        ("mailchimp_unsubscribed.csv", "mailchimp_audience"),
        ("mailchimp_campaigns.csv", "mailchimp_campaigns"),
        ("google_ads.csv", "google_ads"),
        ("google_ads_daily.csv", "google_ads"),
        ("meta_ads.csv", "meta_ads"),
        ("ga4_traffic.csv", "ga4_traffic"),
        ("ga4_two_tables.csv", "ga4_traffic"),
        ("ga4_daily.csv", "ga4_traffic"),
        ("hubspot_contacts.csv", "hubspot_contacts"),
        ("hubspot_deals.csv", "hubspot_deals"),
        ("stripe_unified.csv", "stripe_payments"),
        ("stripe_legacy.csv", "stripe_payments"),
        ("square_transactions.csv", "square_transactions"),
        ("square_old.csv", "square_transactions"),
    ],
)
def test_format_is_detected_from_the_header(fixture, expected):
    assert detect_format(EXPORTS / fixture) == expected
    assert read(fixture.replace("renamed_total", "orders")).format == expected


def test_ordinary_files_are_not_taken_for_exports(tmp_path):
    canonical = [p for p in (ROOT / "sample_data").glob("*/data/*") if p.is_file()]
    assert len(canonical) >= 10
    pd.DataFrame({"order_id": ["O1"], "revenue": [1.0]}).to_parquet(tmp_path / "o.parquet")
    pd.DataFrame({"order_id": ["O1"]}).to_excel(tmp_path / "o.xlsx", index=False)
    (tmp_path / "o.json").write_text(json.dumps([{"order_id": "O1"}]))
    (tmp_path / "empty.csv").write_bytes(b"")
    others = [tmp_path / n for n in ("o.parquet", "o.xlsx", "o.json", "empty.csv", "nope.csv")]
    for path in [
        *canonical,
        *others,
        tmp_path,
        BAD_INPUT / "money_us.csv",
        BAD_INPUT / "latin1.csv",
        BAD_INPUT / "money_eu_semicolon.csv",
    ]:
        assert detect_format(path) is None, path


def test_reading_never_changes_the_files():
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in EXPORTS.glob("*.csv")}
    for path in before:
        try:
            read_export(path, currency="USD", timezone=TZ)
        except DataError:
            pass
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in before}


# ---- Shopify ---------------------------------------------------------------------------------
def test_shopify_orders_items_and_customers_against_hand_sums():
    export = read("shopify_orders.csv")
    orders, items, people = (export.tables[t] for t in ("orders", "order_items", "customers"))
    # 4 orders / 6 line items in the file; #1004 is cancelled
    assert orders.order_id.tolist() == ["#1001", "#1002", "#1003"]
    assert orders.revenue.sum() == pytest.approx(59.00 + 27.00 + 45.50)
    assert orders.refunded.tolist() == [0.0, 10.0, 0.0]
    assert orders.discount.tolist() == [0.0, 3.0, 0.0]
    assert orders.channel.tolist() == ["web", "pos", "web"]
    assert orders.order_date.iloc[2] == pd.Timestamp("2024-03-10 18:30", tz=TZ)
    assert str(orders.order_date.dt.tz) == TZ
    ann = email_key(pd.Series(["ann@example.com"])).iloc[0]
    assert orders.customer_id.tolist() == [ann, orders.customer_id[1], ann]  # ANN@Example.com
    assert len(items) == 5 and items.quantity.sum() == 6
    assert (items.quantity * items.unit_price).sum() == pytest.approx(30 + 20 + 30 + 25.5 + 20)
    assert items.product_id.tolist() == ["BEAN-1KG", "MUG-01", "Espresso Blend", "TEA-S", "GIFT"]
    people = people.set_index("email")
    assert sorted(people.index) == ["ann@example.com", "bob@example.com", "cara@example.com"]
    assert people.loc["ann@example.com", "consent_email"] == False  # noqa: E712 (latest order)
    assert people.loc["cara@example.com", "consent_email"] == True  # noqa: E712
    assert people.loc["ann@example.com", "signup_date"] == pd.Timestamp(
        "2024-03-05 14:02:11", tz=TZ
    )
    assert people.region.tolist() == ["New York", "Ontario", "US"]
    (cancelled,) = notes_with(export, "cancelled")
    assert cancelled.count == 1 and "with their 1 line item(s)" in cancelled.message
    assert notes_with(export, "6 line-item row(s) were grouped into 4 order(s)")


def test_shopify_export_resaved_by_european_excel(tmp_path):
    """Semicolons, decimal commas and cp1252 (Excel in de/fr/es re-saving the file)."""
    with (EXPORTS / "shopify_orders.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    comma = [
        [re.sub(r"^(\d+)\.(\d\d)$", r"\1,\2", cell).replace("Mug", "Café mug") for cell in row]
        for row in rows
    ]
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(comma)
    (tmp_path / "orders_export.csv").write_bytes(out.getvalue().encode("cp1252"))
    assert detect_format(tmp_path / "orders_export.csv") == "shopify_orders"
    export = read_export(tmp_path / "orders_export.csv", currency="USD")
    assert export.tables["orders"].revenue.sum() == pytest.approx(131.50)
    assert export.tables["order_items"].name[1] == "Café mug"


def test_shopify_renamed_total_names_file_column_and_header():
    with pytest.raises(DataError) as err:
        read("shopify_renamed_total.csv")
    message = str(err.value)
    assert "shopify_renamed_total.csv: this Shopify orders export has no 'Total' column" in message
    assert (
        "reads these columns of a shopify_orders export: Name, Email, Total, Created at, "
        "Lineitem name, Lineitem quantity, Lineitem price"
    ) in message
    assert "Order Total" in message and "rename the column back to 'Total'" in message


def test_truncated_export_says_it_is_cut_off():
    with pytest.raises(
        DataError,
        match=r"shopify_truncated.csv: line 7 has 4 field\(s\) where the "
        r"header has 79, so the file looks cut off\. Export it",
    ):
        read("shopify_truncated.csv")


def test_export_cut_inside_a_quoted_cell(tmp_path):
    text = (EXPORTS / "shopify_orders.csv").read_text(encoding="utf-8")
    (tmp_path / "orders.csv").write_text(text[: text.index("Leave at the door") + 5])
    with pytest.raises(
        DataError,
        match=r"orders.csv: line 2 cannot be read as CSV \(unexpected "
        r"end of data\)\. The file may be cut off",
    ):
        read_export(tmp_path / "orders.csv")


def test_header_only_export_is_missing_data():
    with pytest.raises(
        MissingDataError, match="is a Shopify orders export with its header but no rows"
    ):
        read("shopify_header_only.csv")


# ---- Mailchimp -------------------------------------------------------------------------------
def test_mailchimp_subscribed_audience():
    export = read("mailchimp_subscribed.csv")
    people = export.tables["customers"]
    assert people.email.tolist() == ["ann@example.com", "dan@example.com"]
    assert people.consent_email.tolist() == [True, True]
    # Dan has no OPTIN_TIME: CONFIRM_TIME; no REGION: CC
    assert people.signup_date.tolist() == [
        pd.Timestamp("2023-01-05 10:00"),
        pd.Timestamp("2023-02-01 08:00"),
    ]
    assert people.region.tolist() == ["NY", "GB"]
    assert "first_name" not in people and "First Name" not in people
    assert [n.count for n in notes_with(export, "no valid e-mail")] == [1]
    assert [n.count for n in notes_with(export, "repeated an e-mail")] == [1]


def test_mailchimp_unsubscribed_export_means_no_consent():
    export = read("mailchimp_unsubscribed.csv")
    people = export.tables["customers"]
    assert people.consent_email.tolist() == [False, False]
    assert people.left_at.tolist() == [
        pd.Timestamp("2024-01-10 08:00"),
        pd.Timestamp("2024-02-11 09:30"),
    ]
    assert [n.count for n in notes_with(export, "unsubscribed export")] == [2]


def test_mailchimp_campaigns_rates_as_fractions_and_na_as_missing():
    campaigns = read("mailchimp_campaigns.csv").tables["campaigns"]
    assert campaigns.campaign_id.tolist() == ["a1b2c3d4e5", "f6e5d4c3b2", "0a9b8c7d6e"]
    assert campaigns.open_rate.tolist() == pytest.approx([0.25, 0.20, 0.2752])
    assert campaigns.click_rate.tolist() == pytest.approx([0.051, 0.039, 0.055])
    assert campaigns.revenue.sum() == pytest.approx(340.50 + 120.00)
    assert campaigns.revenue.isna().tolist() == [False, True, False]
    assert campaigns.start_date[1] == pd.Timestamp("2024-04-07 18:15")
    assert (campaigns.start_date == campaigns.end_date).all()
    assert set(campaigns.channel) == {"email"} and campaigns.recipients.sum() == 630


# ---- Google Ads and Meta ---------------------------------------------------------------------
def test_google_ads_report_without_days_uses_the_date_range():
    export = read("google_ads.csv")
    spend = export.tables["marketing_spend"]
    assert spend.campaign_id.tolist() == ["Brand Search", "Display Remarketing", "Video Launch"]
    assert spend.spend.sum() == pytest.approx(444.15 + 231.00 + 1025.50)
    assert spend.impressions.sum() == 12345 + 45000 + 8000
    assert spend.clicks.isna().tolist() == [False, False, True]  # "--"
    assert spend.platform_revenue.sum() == pytest.approx(1750.00)
    assert spend.channel.tolist() == ["paid_search", "display", "video"]
    assert set(spend.date) == {pd.Timestamp("2026-09-01")}
    assert set(spend.period_end) == {pd.Timestamp("2026-09-30")}
    assert [n.count for n in notes_with(export, "report totals")] == [3]
    assert [n.count for n in notes_with(export, "above the header")] == [2]


def test_google_ads_report_by_day():
    export = read("google_ads_daily.csv")
    spend = export.tables["marketing_spend"]
    assert spend.date.dt.strftime("%Y-%m-%d").tolist() == ["2026-09-01"] * 2 + ["2026-09-02"] * 2
    assert spend.spend.sum() == pytest.approx(125.50) and "period_end" not in spend
    assert [n.count for n in notes_with(export, "report totals")] == [1]


def test_google_ads_in_utf16_with_tabs(tmp_path):
    text = (EXPORTS / "google_ads.csv").read_text(encoding="utf-8")
    rows = pd.read_csv(EXPORTS / "google_ads.csv", skiprows=2, dtype=str, keep_default_na=False)
    tabbed = "\n".join(text.splitlines()[:2]) + "\n" + rows.to_csv(sep="\t", index=False)
    (tmp_path / "report.csv").write_bytes(tabbed.encode("utf-16"))
    assert detect_format(tmp_path / "report.csv") == "google_ads"
    spend = read_export(tmp_path / "report.csv", currency="USD").tables["marketing_spend"]
    assert spend.spend.sum() == pytest.approx(1700.65)


def test_google_ads_in_another_currency_is_refused():
    with pytest.raises(DataError) as err:
        read("google_ads_eur.csv")
    assert str(err.value).startswith(
        f"{EXPORTS / 'google_ads_eur.csv'}: this Google Ads report is in EUR (its 'Currency "
        "code' column), but the business's currency is USD (business.currency in business.yaml)."
        " Export the report in USD, or set `currency: EUR` under `business:`"
    )


def test_meta_ads_spend_and_purchase_results():
    export = read("meta_ads.csv")
    spend = export.tables["marketing_spend"]
    assert spend.spend.sum() == pytest.approx(306.00 + 94.50 + 120.25)
    assert spend.conversions.tolist()[0::2] == [12.0, 5.0] and pd.isna(spend.conversions[1])
    assert spend.results.tolist() == [12.0, 150.0, 5.0]
    assert spend.result_indicator[1] == "actions:like"
    assert spend.platform_revenue.sum() == pytest.approx(780.00 + 310.50)
    assert spend.clicks.tolist() == [250.0, 0.0, 90.0]  # Meta leaves a zero blank
    assert set(spend.channel) == {"paid_social"}
    assert set(spend.period_end) == {pd.Timestamp("2026-09-30")}
    assert [n.count for n in notes_with(export, "were read as 0")] == [1]
    (other,) = notes_with(export, "something other than a purchase")
    assert other.count == 1 and "actions:like" in other.message


def test_meta_ads_in_another_currency_is_refused(tmp_path):
    text = (EXPORTS / "meta_ads.csv").read_text(encoding="utf-8").replace("(USD)", "(EUR)")
    (tmp_path / "meta.csv").write_text(text, encoding="utf-8")
    with pytest.raises(
        DataError,
        match=r"meta\.csv: this Meta Ads Manager export is in EUR \(in "
        r"column names such as 'Amount spent \(EUR\)'\), but the "
        r"business's currency is USD",
    ):
        read_export(tmp_path / "meta.csv", currency="USD")


# ---- GA4 -------------------------------------------------------------------------------------
def test_ga4_traffic_without_dates_uses_the_preamble():
    export = read("ga4_traffic.csv")
    web = export.tables["web_traffic"]
    assert web.channel_group.tolist() == ["Organic Search", "Direct", "Paid Social"]
    assert web.sessions.sum() == 1000 and web.engaged_sessions.sum() == 620
    assert web.conversions.sum() == 40 and web.revenue.sum() == pytest.approx(2500.75)
    assert set(web.date) == {pd.Timestamp("2026-07-01")}
    assert set(web.period_end) == {pd.Timestamp("2026-09-28")}
    assert [n.count for n in notes_with(export, "Grand total")] == [1]
    assert [n.count for n in notes_with(export, "above the header")] == [5]


def test_ga4_file_with_two_tables_keeps_the_traffic_table():
    export = read("ga4_two_tables.csv")
    web = export.tables["web_traffic"]
    assert web.sessions.sum() == 70 + 55  # not doubled by the "Nth day" chart table
    assert web.revenue.sum() == pytest.approx(230.00)
    (other,) = notes_with(export, "holds 2 tables")
    assert other.count == 3 and "line 10 (Nth day, Sessions; 3 row(s)) was left out" in (
        other.message
    )


def test_ga4_daily_table_with_older_conversions_column():
    web = read("ga4_daily.csv").tables["web_traffic"]
    assert web.date.dt.strftime("%Y-%m-%d").tolist() == ["2026-07-01"] * 2 + ["2026-07-02"] * 2
    assert web.conversions.sum() == 4 and web.sessions.sum() == 80
    assert "period_end" not in web


# ---- HubSpot ---------------------------------------------------------------------------------
def test_hubspot_contacts_become_leads():
    leads = read("hubspot_contacts.csv").tables["leads"]
    assert leads.lead_id.tolist() == ["101", "102", "103", "104"]
    assert leads.converted.tolist()[:3] == [True, False, True] and pd.isna(leads.converted[3])
    assert leads.source.tolist() == ["Organic Search", "Paid Social", "Referrals", "Direct Traffic"]
    assert leads.created_at[1] == pd.Timestamp("2024-02-10 14:30")
    assert leads.email[2] == "cara@example.com" and "Phone Number" not in leads


def test_hubspot_contacts_with_other_properties_in_another_order(tmp_path):
    (tmp_path / "contacts.csv").write_text(
        "Email,Record ID,Lead Status,Create Date,Lifecycle Stage\n"
        "zoe@example.com,7,New,2024-05-01,customer\nyan@example.com,8,Open,2024-05-02,lead\n"
    )
    leads = read_export(tmp_path / "contacts.csv").tables["leads"]
    assert leads.lead_id.tolist() == ["7", "8"] and leads.converted.tolist() == [True, False]
    assert "source" not in leads  # not in the file: absent, not blank


def test_hubspot_won_deals_become_orders():
    export = read("hubspot_deals.csv")
    orders = export.tables["orders"]
    assert orders.order_id.tolist() == ["201", "204"]
    assert orders.revenue.sum() == 3500 and orders.customer_id[0] == "101"
    assert orders.order_date.tolist() == [
        pd.Timestamp("2024-03-01 12:00"),
        pd.Timestamp("2024-03-20 12:00"),
    ]
    (lost,) = notes_with(export, "deals not won")
    assert lost.count == 2 and "(Closed Lost 1, Appointment Scheduled 1)" in lost.message


# ---- Stripe and Square -----------------------------------------------------------------------
def test_stripe_unified_layout_keeps_payments_that_went_through():
    export = read("stripe_unified.csv")
    orders, people = export.tables["orders"], export.tables["customers"]
    assert orders.order_id.tolist() == ["ch_001", "ch_002", "ch_005"]
    assert orders.revenue.sum() == pytest.approx(25.00 + 40.00 + 12.25)
    assert orders.refunded.sum() == pytest.approx(40.00)
    assert orders.order_date[0] == pd.Timestamp("2024-03-05 14:02:11", tz=TZ)  # 19:02:11 UTC
    dan = email_key(pd.Series(["dan@example.com"])).iloc[0]
    assert orders.customer_id.tolist() == ["cus_A", "cus_B", dan]
    assert people.customer_id.tolist() == ["cus_A", "cus_B", dan]
    assert [n.count for n in notes_with(export, "did not go through (failed 1)")] == [1]
    assert [n.count for n in notes_with(export, "never captured")] == [1]


def test_stripe_legacy_layout_leaves_out_test_mode():
    export = read("stripe_legacy.csv")
    orders = export.tables["orders"]
    assert orders.order_id.tolist() == ["ch_a", "ch_c", "ch_d"]
    assert orders.revenue.sum() == pytest.approx(45.50) and orders.refunded.sum() == 30
    assert orders.order_date[0] == pd.Timestamp("2019-06-01 06:00", tz=TZ)
    assert pd.isna(orders.customer_id[1])
    assert [n.count for n in notes_with(export, "test-mode")] == [1]


def test_stripe_charges_in_another_currency(tmp_path):
    frame = pd.read_csv(EXPORTS / "stripe_unified.csv", dtype=str, keep_default_na=False)
    frame.loc[0, ["Currency", "Amount", "Converted Amount"]] = ["eur", "20.00", "21.70"]
    frame.to_csv(tmp_path / "stripe.csv", index=False)
    export = read_export(tmp_path / "stripe.csv", currency="USD")
    assert export.tables["orders"].revenue.sum() == pytest.approx(21.70 + 40.00 + 12.25)
    assert [n.count for n in notes_with(export, "'Converted Amount'")] == [1]
    frame["Converted Currency"] = "eur"
    frame.to_csv(tmp_path / "stripe.csv", index=False)
    with pytest.raises(
        DataError,
        match=r"is in EUR \(its 'Currency' column\), but the "
        r"business's currency is USD",
    ):
        read_export(tmp_path / "stripe.csv", currency="USD")


def test_square_transactions_money_refunds_and_time_zones():
    export = read("square_transactions.csv")
    orders = export.tables["orders"]
    assert orders.order_id.tolist() == ["T1", "T2"]
    assert orders.revenue.sum() == pytest.approx(11.50 + 1150.00)
    assert orders.discount.tolist() == [1.0, 50.0]  # "-$1.00" and "($50.00)"
    assert orders.refunded.tolist() == [5.0, 0.0]
    assert orders.channel.tolist() == ["Point of Sale", "Online Store"]
    assert orders.order_date[0] == pd.Timestamp("2025-03-05 14:02:11", tz=TZ)
    assert [n.count for n in notes_with(export, "matched to their sale")] == [1]


def test_square_older_layout_found_by_column_names():
    orders = read("square_old.csv").tables["orders"]
    assert orders.revenue.sum() == pytest.approx(8.00 + 18.00)
    assert orders.discount.tolist() == [0.0, 2.0]
    assert orders.channel.tolist() == ["Register", "Register"]
    # 08:05 in Pacific time is 11:05 in the business's time zone
    assert orders.order_date[0] == pd.Timestamp("2021-01-15 11:05", tz=TZ)


def test_square_day_first_dates_and_unknown_time_zone_names(tmp_path):
    text = (EXPORTS / "square_old.csv").read_text(encoding="utf-8")
    text = text.replace("01/15/2021", "15/01/2021").replace("01/16/2021", "03/02/2021")
    (tmp_path / "square.csv").write_text(text.replace("Pacific Time (US & Canada)", "Mars"))
    export = read_export(tmp_path / "square.csv", timezone=TZ)
    orders = export.tables["orders"]
    # 15/01 shows the column is day first, so 03/02 is 3 February; times stay the shop's
    assert orders.order_date.tolist() == [
        pd.Timestamp("2021-01-15 08:05"),
        pd.Timestamp("2021-02-03 17:40"),
    ]
    assert [
        n.count for n in notes_with(export, "time zones the workbook does not know (Mars)")
    ] == [2]


def test_mailchimp_cleaned_export_means_no_consent(tmp_path):
    (tmp_path / "cleaned.csv").write_text(
        '"Email Address",MEMBER_RATING,OPTIN_TIME,CLEAN_TIME,CC\n'
        "old@example.com,1,2020-01-01 10:00:00,2023-05-05 09:00:00,US\n"
    )
    people = read_export(tmp_path / "cleaned.csv").tables["customers"]
    assert people.consent_email.tolist() == [False] and people.email_status[0] == "cleaned"


# ---- names and formats -----------------------------------------------------------------------
def test_unknown_format_name_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as err:
        read_export(EXPORTS / "shopify_orders.csv", "shopify_order")
    message = str(err.value)
    assert "unknown export format 'shopify_order'. Did you mean 'shopify_orders'?" in message
    assert all(name in message for name in FORMATS)


def test_unrecognised_file_without_format_lists_the_known_ones():
    with pytest.raises(DataError) as err:
        read_export(BAD_INPUT / "money_us.csv")
    message = str(err.value)
    assert "does not recognise this file as a platform export" in message
    assert "shopify_orders (Shopify orders export)" in message
    assert "square_transactions (Square transactions export)" in message


def test_a_declared_format_that_does_not_match_the_header():
    with pytest.raises(
        DataError,
        match=r"declared as `format: google_ads` \(Google Ads report\) "
        r"in business.yaml, but its header is that of a Meta Ads "
        r"Manager export \(meta_ads\)\. Change `format:` to "
        "meta_ads",
    ):
        read("meta_ads.csv", "google_ads")


# ---- value parsing (property tests) ----------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=10**7, places=2), min_size=1, max_size=10))
def test_quoted_thousands_and_blanks_round_trip(values):
    cells = pd.Series([f"{v:,.2f}" for v in values] + ["--", "n/a"])
    parsed, bad = numbers(cells)
    assert parsed.tolist()[:-2] == pytest.approx([float(v) for v in values])
    assert parsed[-2:].isna().all() and not bad.any()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=100, places=2), min_size=1, max_size=10))
def test_percentages_become_fractions(values):
    parsed, _ = percents(pd.Series([f"{v}%" for v in values]))
    assert parsed.tolist() == pytest.approx([float(v) / 100 for v in values])


# ---- through the Plan ------------------------------------------------------------------------
def _export_business(tmp_path, yaml: str, files: dict[str, str]):
    folder = write_business(
        tmp_path / "shop",
        data={},
        extra_yaml=yaml,
        files={f"exports/{k}": EXPORTS / v for k, v in files.items()},
    )
    return open_plan(folder, run_dir=tmp_path / "run")


def test_plan_loads_meta_and_google_spend_declared_with_and_without_format(tmp_path):
    plan = _export_business(
        tmp_path,
        (
            "  marketing_spend:\n"
            "    - {path: exports/meta.csv, format: meta_ads}\n"
            "    - {path: exports/google.csv}\n"
        ),
        {"meta.csv": "meta_ads.csv", "google.csv": "google_ads.csv"},
    )
    spend = plan.table("marketing_spend")
    assert len(spend) == 6
    assert spend.spend.sum() == pytest.approx(306.00 + 94.50 + 120.25 + 444.15 + 231.00 + 1025.50)
    assert spend.groupby("channel").spend.sum().round(2).to_dict() == {
        "display": 231.00,
        "paid_search": 444.15,
        "paid_social": 520.75,
        "video": 1025.50,
    }
    assert any("report totals" in n.message for n in plan.notes)


def test_plan_reads_one_shopify_export_for_three_tables_and_merges_consent(tmp_path):
    plan = _export_business(
        tmp_path,
        (
            "  orders: {path: exports/shopify.csv}\n"
            "  order_items: {path: exports/shopify.csv}\n"
            "  customers:\n"
            "    - {path: exports/shopify.csv}\n"
            "    - {path: exports/unsubscribed.csv, format: mailchimp_audience}\n"
        ),
        {"shopify.csv": "shopify_orders.csv", "unsubscribed.csv": "mailchimp_unsubscribed.csv"},
    )
    orders = plan.table("orders")
    assert orders.revenue.sum() == pytest.approx(131.50)
    assert orders.order_date[0] == pd.Timestamp("2024-03-05 14:02:11")  # business time, naive
    assert plan.table("order_items").quantity.sum() == 6
    people = plan.table("customers").set_index("email")
    assert len(people) == 4  # ann, bob, cara from Shopify; eve from Mailchimp; bob in both
    assert people.loc["bob@example.com", "consent_email"] == False  # noqa: E712
    assert sum("cancelled order" in n.message for n in plan.notes) == 1  # read once
