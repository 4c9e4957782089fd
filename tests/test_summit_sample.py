"""Summit Outdoor Supply: the sample made only of native platform exports.

The files are read here with plain pandas/csv (not through the connectors), and every truth in
truth.json is recomputed from the raw files: counts, money, the rows a parser must drop, consent,
platform numbers, seasonality. Header rows are compared with the reference layouts in
/work/shared/export_formats (copied below; a separate test checks the copies when that folder is
present).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1] / "sample_data" / "summit_outdoor"
EXPORTS = ROOT / "exports"
LAYOUTS = Path("/work/shared/export_formats")
MAX_BYTES = 5 * 1024 * 1024

# Header rows of the reference layouts (file name in LAYOUTS -> header line as written there).
REFERENCE = {
    "shopify_orders_export_header.csv": (
        "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
        "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
        "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
        "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
        "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,"
        "Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,"
        "Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,"
        "Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,"
        "Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,"
        "Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,"
        "Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,"
        "Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,"
        "Billing Province Name,Shipping Province Name,Payment ID,Payment Terms Name,"
        "Next Payment Due At,Payment References"
    ),
    "meta_ads_manager_export_header.csv": (
        "Reporting starts,Reporting ends,Campaign name,Campaign delivery,Attribution setting,"
        "Results,Result indicator,Reach,Frequency,Cost per results,Amount spent (USD),"
        'Impressions,"CPM (cost per 1,000 impressions) (USD)",Link clicks,'
        "CPC (cost per link click) (USD),CTR (link click-through rate),Clicks (all),CTR (all),"
        "CPC (all) (USD),Landing page views,Cost per landing page view (USD)"
    ),
    "google_ads_campaign_report_layout.csv": (
        "Campaign status,Campaign,Campaign type,Impr.,Clicks,CTR,Currency code,Avg. CPC,Cost,"
        "Search impr. share,Conversions,Cost / conv.,Conv. rate,Conv. value"
    ),
    "mailchimp_audience_export_header.csv": (
        '"Email Address","First Name","Last Name",Address,"Phone Number",Birthday,MEMBER_RATING,'
        "OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,"
        "CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS"
    ),
    "mailchimp_campaigns_aggregated_export_sample.csv": (
        'Title,Subject,List,"Send Date","Send Weekday","Total Recipients",'
        '"Successful Deliveries","Soft Bounces","Hard Bounces","Total Bounces",'
        '"Times Forwarded","Forwarded Opens","Unique Opens","Open Rate","Total Opens",'
        '"Unique Clicks","Click Rate","Total Clicks",Unsubscribes,"Abuse Complaints",'
        '"Times Liked on Facebook","Folder Id","Unique Id","Total Orders","Total Gross Sales",'
        '"Total Revenue","Analytics ROI","Campaign Cost","Revenue Created",Visits,"New Visits",'
        'Pages/Visit,"Bounce Rate","Time on Site","Goal Conversion Rate","Per Visit Goal Value",'
        'Transactions,"Ecommerce Conversion Rate","Per Visit Value","Average Value"'
    ),
    "ga4_traffic_acquisition_export_layout.csv": (
        "Session default channel group,Sessions,Engaged sessions,Engagement rate,"
        "Average engagement time per session,Events per session,Event count,Key events,"
        "Total revenue"
    ),
}
UNSUB_COLUMNS = [
    "UNSUB_TIME",
    "UNSUB_CAMPAIGN_TITLE",
    "UNSUB_CAMPAIGN_ID",
    "UNSUB_REASON",
    "UNSUB_REASON_OTHER",
]


def _columns(line: str) -> list[str]:
    return next(csv.reader([line]))


def _header(name: str, *, skip: int = 0, encoding: str = "utf-8") -> list[str]:
    with open(EXPORTS / name, encoding=encoding, newline="") as fh:
        for _ in range(skip):
            fh.readline()
        return _columns(fh.readline())


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((ROOT / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    """The Shopify export as written: one row per line item, every cell a string."""
    return pd.read_csv(
        EXPORTS / "orders_export_1.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )


@pytest.fixture(scope="module")
def orders(lines) -> pd.DataFrame:
    """One row per order (its first line-item row), money as floats."""
    first = lines[~lines.Name.duplicated()].copy()
    for col in ("Subtotal", "Shipping", "Taxes", "Total", "Discount Amount", "Refunded Amount"):
        first[col] = first[col].astype(float)
    return first.set_index("Name", drop=False)


def _audience(kind: str) -> pd.DataFrame:
    return pd.read_csv(EXPORTS / f"mailchimp_{kind}.csv", dtype=str, keep_default_na=False)


def _google() -> pd.DataFrame:
    return pd.read_csv(EXPORTS / "google_ads_campaign_report.csv", skiprows=2, dtype=str)


def _number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.str.replace(",", "").replace("--", np.nan))


def _ga4() -> pd.DataFrame:
    return pd.read_csv(
        EXPORTS / "ga4_traffic_acquisition.csv", comment="#", skip_blank_lines=True, dtype=str
    )


# --------------------------------------------------------------------------- reproducibility


def test_workbook_sample_command_writes_a_byte_identical_copy(tmp_path, capsys):
    from helpers.cli import main

    assert main(["sample", "summit_outdoor", "--out", str(tmp_path / "s")]) == 0
    assert "Wrote sample business 'summit_outdoor'" in capsys.readouterr().out
    committed = sorted(p.relative_to(ROOT) for p in ROOT.rglob("*") if p.is_file())
    fresh = sorted(
        p.relative_to(tmp_path / "s") for p in (tmp_path / "s").rglob("*") if p.is_file()
    )
    assert fresh == committed
    for rel in committed:
        assert (ROOT / rel).read_bytes() == (tmp_path / "s" / rel).read_bytes(), str(rel)


def test_half_scale_halves_the_customers(tmp_path, truth):
    from helpers.samples import generate

    generate("summit_outdoor", tmp_path, scale=0.5)
    small = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert small["scale"] == 0.5
    for key in ("customers", "orders"):
        ratio = small["shopify"][key] / truth["shopify"][key]
        assert 0.4 < ratio < 0.6, f"{key}: ratio {ratio:.2f} at scale 0.5"


def test_folder_stays_small_and_business_sized(truth):
    total = sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file())
    assert total < MAX_BYTES, f"sample_data/summit_outdoor holds {total / 1e6:.2f} MB"
    shop = truth["shopify"]
    assert 2500 <= shop["customers"] <= 3500
    assert 6000 <= shop["orders"] <= 9000


# --------------------------------------------------------------------------- layouts


@pytest.mark.skipif(not LAYOUTS.is_dir(), reason="reference layouts not on this machine")
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_copies_match_the_layout_files(name):
    text = (LAYOUTS / name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    header = next(line for line in lines if len(_columns(line)) > 2)  # past title/date lines
    assert header == REFERENCE[name]


def test_headers_equal_the_reference_layouts():
    ref = {k: _columns(v) for k, v in REFERENCE.items()}
    assert (
        _header("orders_export_1.csv", encoding="utf-8-sig")
        == ref["shopify_orders_export_header.csv"]
    )
    meta = [c.replace("(USD)", "(CAD)") for c in ref["meta_ads_manager_export_header.csv"]]
    assert _header("meta_ads_daily.csv") == meta
    google = ["Day"] + ref["google_ads_campaign_report_layout.csv"]
    assert _header("google_ads_campaign_report.csv", skip=2) == google
    audience = ref["mailchimp_audience_export_header.csv"]
    assert _header("mailchimp_subscribed.csv") == audience
    assert _header("mailchimp_unsubscribed.csv") == audience + UNSUB_COLUMNS
    campaigns = ref["mailchimp_campaigns_aggregated_export_sample.csv"]
    assert _header("mailchimp_campaigns.csv") == campaigns
    ga4 = ref["ga4_traffic_acquisition_export_layout.csv"]
    assert _header("ga4_traffic_acquisition.csv", skip=6) == ga4[:1] + ["Date"] + ga4[1:]


def test_header_lines_are_written_as_the_platforms_write_them():
    """Quoting, preambles and the byte-order mark, byte for byte."""
    shop = (EXPORTS / "orders_export_1.csv").read_bytes()
    assert shop.startswith(b"\xef\xbb\xbfName,Email,")
    meta = (EXPORTS / "meta_ads_daily.csv").read_text(encoding="utf-8")
    assert '"CPM (cost per 1,000 impressions) (CAD)"' in meta.splitlines()[0]
    audience = (EXPORTS / "mailchimp_subscribed.csv").read_text(encoding="utf-8")
    assert audience.startswith('"Email Address","First Name","Last Name",Address,')
    google = (EXPORTS / "google_ads_campaign_report.csv").read_text(encoding="utf-8")
    assert google.splitlines()[:2] == ["Campaign report", '"October 1, 2024 - September 30, 2026"']
    ga4 = (EXPORTS / "ga4_traffic_acquisition.csv").read_text(encoding="utf-8").splitlines()
    assert ga4[2:4] == ["# Start date: 20241001", "# End date: 20260930"]
    assert all(line.startswith("#") for line in ga4[:5]) and ga4[5] == ""


# --------------------------------------------------------------------------- Shopify orders


def test_order_level_fields_are_blank_on_following_line_item_rows(lines, truth):
    following = lines[lines.Name.duplicated()]
    assert len(following) == truth["shopify"]["line_items"] - truth["shopify"]["orders"] > 1000
    for col in truth["shopify"]["order_level_columns_blank_on_following_rows"]:
        assert (following[col] == "").all(), col
    assert (following["Lineitem name"] != "").all() and (following["Lineitem sku"] != "").all()
    first = lines[~lines.Name.duplicated()]
    for col in ("Created at", "Total", "Financial Status", "Currency", "Source"):
        assert (first[col] != "").all(), col


def test_shopify_counts_match_truth(lines, orders, truth):
    shop = truth["shopify"]
    assert len(orders) == shop["orders"] and len(lines) == shop["line_items"]
    assert (orders.Name.iloc[0], orders.Name.iloc[-1]) == (shop["first_order"], shop["last_order"])
    assert orders.Source.value_counts().to_dict() == shop["orders_by_source"]
    assert (orders.Email == "").sum() == shop["orders_without_email"]
    assert (orders.Email[orders.Email == ""].index.map(orders.Source) == "pos").all()
    per_person = orders.Email[orders.Email != ""].str.lower().value_counts()
    assert len(per_person) == shop["customers"]
    assert (per_person >= 2).sum() == shop["customers_with_2plus_orders"]
    assert (orders.Currency == "CAD").all()


def test_cancellations_refunds_and_net_revenue_match_truth(orders, truth):
    shop = truth["shopify"]
    cancelled = orders["Cancelled at"] != ""
    assert sorted(orders.Name[cancelled]) == sorted(shop["cancelled"]["names"])
    status = orders["Financial Status"]
    assert (status[cancelled] == "voided").sum() == shop["cancelled"]["voided"]
    assert ((status == "refunded") & ~cancelled).sum() == shop["refunded_not_cancelled"]
    assert (status == "partially_refunded").sum() == shop["partially_refunded"]
    assert (orders["Fulfillment Status"][cancelled] == "unfulfilled").all()
    refunded = orders["Refunded Amount"]
    assert refunded.sum() == pytest.approx(float(shop["refunded_amount_total"]), abs=0.005)
    assert (refunded[status == "refunded"] == orders.Total[status == "refunded"]).all()
    partial = status == "partially_refunded"
    assert ((refunded[partial] > 0) & (refunded[partial] < orders.Total[partial])).all()
    net = (orders.Total - refunded)[~cancelled].sum()
    assert net == pytest.approx(float(shop["net_revenue"]), abs=0.005)
    assert orders.Total.sum() == pytest.approx(float(shop["gross_total"]), abs=0.005)


def test_money_adds_up_on_every_order(lines, orders):
    assert np.allclose(orders.Total, orders.Subtotal + orders.Shipping + orders.Taxes, atol=0.005)
    tax2 = pd.to_numeric(orders["Tax 2 Value"].replace("", "0"))
    assert np.allclose(orders.Taxes, orders["Tax 1 Value"].astype(float) + tax2, atol=0.005)
    value = lines["Lineitem quantity"].astype(int) * lines["Lineitem price"].astype(float)
    merch = value.groupby(lines.Name, sort=False).sum()
    freeship = orders["Discount Code"] == "FREESHIP"
    expected = merch - np.where(freeship, 0.0, orders["Discount Amount"])
    assert np.allclose(orders.Subtotal, expected, atol=0.005)
    shipped = orders["Shipping Method"].isin(["Standard Shipping", "Express Shipping"])
    assert (orders.Shipping[freeship] == 0).all() and (orders.Shipping[~shipped] == 0).all()


def test_discount_codes_match_truth(orders, truth):
    codes = orders["Discount Code"][orders["Discount Code"] != ""].value_counts().to_dict()
    assert codes == truth["shopify"]["discount_codes"]
    bfcm = orders[orders["Discount Code"] == "BFCM20"]["Created at"].str[:10]
    assert bfcm.isin(["2024-11-29", "2024-11-30", "2024-12-01", "2024-12-02", "2025-11-28",
                      "2025-11-29", "2025-11-30", "2025-12-01"]).all()  # fmt: skip


def test_timestamps_carry_the_vancouver_offset(orders):
    created = orders["Created at"]
    assert created.str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d -0[78]00").all()
    assert (created[created.str[5:7] == "07"].str[-5:] == "-0700").all()
    assert (created[created.str[5:7] == "01"].str[-5:] == "-0800").all()
    parsed = pd.to_datetime(created, format="%Y-%m-%d %H:%M:%S %z", utc=True)
    assert parsed.is_monotonic_increasing


def test_case_only_duplicate_emails_are_present_as_recorded(orders, truth):
    pairs = truth["shopify"]["case_only_duplicate_emails"]
    assert 5 <= len(pairs) <= 12
    emails = orders.Email[orders.Email != ""]
    assert emails.nunique() - emails.str.lower().nunique() == len(pairs)
    for p in pairs:
        assert p["written_as"] != p["email"] and p["written_as"].lower() == p["email"]
        assert orders.Email[p["order"]] == p["written_as"]
        mine = orders.Email[orders.Email.str.lower() == p["email"]]
        assert sorted(mine.index) == sorted(p["orders_of_customer"])


# --------------------------------------------------------------------------- consent, Mailchimp


def test_an_opt_out_in_either_source_wins(orders, truth):
    consent = truth["consent"]
    shop = orders[orders.Email != ""].assign(email=lambda d: d.Email.str.lower())
    accepts = shop.groupby("email")["Accepts Marketing"].agg(set)
    assert (accepts.map(len) == 1).all(), "Accepts Marketing is a customer property"
    says_no = set(accepts.index[accepts.map(lambda s: s == {"no"})])
    sub = set(_audience("subscribed")["Email Address"].str.lower())
    unsub = set(_audience("unsubscribed")["Email Address"].str.lower())
    assert not sub & unsub
    persons = set(accepts.index) | sub | unsub
    allowed = persons - unsub - says_no
    assert len(persons) == consent["persons"]
    assert len(allowed) == consent["consent_email_true"]
    yes = set(accepts.index) - says_no
    assert sorted(unsub & yes) == consent["unsubscribed_in_mailchimp_but_accepts_in_shopify"]
    assert sorted(sub & says_no) == consent["subscribed_in_mailchimp_but_not_accepting_in_shopify"]
    assert len(consent["unsubscribed_in_mailchimp_but_accepts_in_shopify"]) >= 20
    assert len(consent["subscribed_in_mailchimp_but_not_accepting_in_shopify"]) >= 20


def test_mailchimp_and_shopify_overlap_mostly_but_not_entirely(orders, truth):
    consent = truth["consent"]
    shop_yes = set(orders.Email[orders["Accepts Marketing"] == "yes"].str.lower())
    audience = pd.concat([_audience("subscribed"), _audience("unsubscribed")])
    on_list = set(audience["Email Address"].str.lower())
    assert len(shop_yes & on_list) / len(shop_yes) > 0.8
    assert consent["only_in_mailchimp"] > 500 and consent["only_in_shopify"] > 500
    as_written = set(audience["Email Address"])
    for v in consent["mailchimp_case_variants"]:
        assert v["mailchimp"] in as_written and v["mailchimp"] != v["shopify"]
        assert (orders.Email == v["shopify"]).any()


def test_unsubscribes_are_recorded_against_their_campaigns(truth):
    unsub = _audience("unsubscribed")
    campaigns = pd.read_csv(EXPORTS / "mailchimp_campaigns.csv", dtype=str)
    assert len(campaigns) == truth["email"]["campaigns"]
    counted = unsub.UNSUB_CAMPAIGN_ID[unsub.UNSUB_CAMPAIGN_ID != ""].value_counts()
    listed = campaigns.set_index("Unique Id").Unsubscribes.astype(int)
    assert counted.reindex(listed.index, fill_value=0).equals(listed)
    assert listed.sum() == truth["email"]["unsubscribes_via_campaigns"]
    titles = campaigns.set_index("Unique Id").Title
    by_id = unsub[unsub.UNSUB_CAMPAIGN_ID != ""]
    assert (by_id.UNSUB_CAMPAIGN_TITLE.values == titles[by_id.UNSUB_CAMPAIGN_ID].values).all()
    assert (unsub.UNSUB_TIME == unsub.LAST_CHANGED).all()


def test_campaign_report_cells_look_like_mailchimps(truth):
    rows = pd.read_csv(EXPORTS / "mailchimp_campaigns.csv", dtype=str, keep_default_na=False)
    assert rows["Send Date"].str.fullmatch(r"[A-Z][a-z]{2} \d\d, \d{4} \d\d:\d\d [ap]m").all()
    assert rows["Open Rate"].str.fullmatch(r"\d+\.\d\d%").all()
    opens = rows["Unique Opens"].astype(int) / rows["Successful Deliveries"].astype(int)
    assert np.allclose(opens * 100, rows["Open Rate"].str.rstrip("%").astype(float), atol=0.006)
    assert (rows[["Analytics ROI", "Visits", "Average Value"]] == "n/a").all().all()
    assert rows["Total Orders"].astype(int).sum() == truth["email"]["mailchimp_reported_orders"]
    assert truth["email"]["overstatement_factor"] > 3


def test_email_sends_lift_subscribers_orders_for_a_few_days(orders, truth):
    """Subscribers buy more often on a send day and the two days after than on other days,
    compared with the same ratio for people not on the list (which absorbs the weekday and
    season of the send days)."""
    audience = pd.concat([
        _audience("subscribed").assign(UNSUB_TIME="2100-01-01 00:00:00"),
        _audience("unsubscribed"),
    ])  # fmt: skip
    start = pd.Series(pd.to_datetime(audience.CONFIRM_TIME).values,
                      index=audience["Email Address"].str.lower())  # fmt: skip
    end = pd.Series(pd.to_datetime(audience.UNSUB_TIME).values, index=start.index)
    sends = pd.read_csv(EXPORTS / "mailchimp_campaigns.csv", dtype=str)["Send Date"]
    sent = pd.to_datetime(sends, format="%b %d, %Y %I:%M %p").dt.normalize()
    window = pd.Series(False, index=pd.date_range("2024-10-01", "2026-09-30"))
    for day in sent:
        window[day : day + pd.Timedelta(days=2)] = True
    kept = orders[(orders.Email != "") & (orders["Cancelled at"] == "")]
    email = kept.Email.str.lower()
    day = pd.to_datetime(kept["Created at"].str[:10])
    on_list = (email.map(start) <= day) & (day < email.map(end))
    in_window = day.map(window)

    def ratio(group):
        inside, outside = in_window[group].sum(), (~in_window[group]).sum()
        return (inside / window.sum()) / (outside / (~window).sum())

    assert ratio(on_list) / ratio(~on_list) > 1.15
    assert truth["email"]["realised_incremental_orders"] > 150


# --------------------------------------------------------------------------- ads and web traffic


def test_google_ads_total_rows_are_present_and_add_up(truth):
    report = _google()
    is_total = report.Day.str.startswith("Total: ")
    totals = report[is_total].set_index("Day")
    parsing = truth["parsing"]["exports/google_ads_campaign_report.csv"]
    assert list(totals.index) == parsing["total_rows"] == ["Total: Account", "Total: Search",
                                                           "Total: Shopping"]  # fmt: skip
    body = report[~is_total]
    assert len(body) == parsing["data_rows"]
    assert body["Currency code"].eq("CAD").all() and (body == "--").any().any()
    assert any("," in v for v in body["Impr."])  # thousands separators
    cost, clicks = _number(body.Cost), _number(body.Clicks)
    google = truth["platform_reports"]["google_ads"]
    assert cost.sum() == pytest.approx(float(google["spend"]), abs=0.005)
    assert clicks.sum() == google["clicks"] == _number(totals.Clicks)["Total: Account"]
    assert _number(totals.Cost)["Total: Account"] == pytest.approx(cost.sum(), abs=0.005)
    assert _number(body.Conversions).sum() == google["reported_conversions"]
    search = body["Campaign type"] == "Search"
    assert _number(totals.Cost)["Total: Search"] == pytest.approx(cost[search].sum(), abs=0.005)
    value = _number(body["Conv. value"]).sum()
    assert value == pytest.approx(float(google["reported_conversion_value"]), abs=0.005)


def test_meta_export_has_one_row_per_campaign_and_day(truth):
    meta = pd.read_csv(EXPORTS / "meta_ads_daily.csv", dtype=str, keep_default_na=False)
    assert (meta["Reporting starts"] == meta["Reporting ends"]).all()
    assert not meta.duplicated(["Reporting starts", "Campaign name"]).any()
    assert 2 <= meta["Campaign name"].nunique() <= 4
    assert (meta["Result indicator"] == "actions:offsite_conversion.fb_pixel_purchase").all()
    facts = truth["platform_reports"]["meta_ads"]
    spent = meta["Amount spent (CAD)"].astype(float).sum()
    assert spent == pytest.approx(float(facts["spend"]), abs=0.005)
    results = pd.to_numeric(meta.Results.replace("", "0"))
    assert results.sum() == facts["reported_conversions"]
    assert pd.to_numeric(meta["Link clicks"].replace("", "0")).sum() == facts["clicks"]
    assert (meta.Results == "").any(), "zero results are written as blank cells"


def test_platforms_claim_more_purchases_than_they_cause(truth):
    reports = truth["platform_reports"]
    for platform in ("google_ads", "meta_ads"):
        r = reports[platform]
        assert r["reported_conversions"] > r["true_online_orders_caused"]
        assert r["claimed_orders_it_did_not_cause"] > 0
    assert reports["meta_ads"]["overclaim_factor"] > reports["google_ads"]["overclaim_factor"]


def test_ga4_grand_total_row_and_sessions_fit_the_orders(orders, truth):
    ga4 = _ga4()
    grand = ga4[ga4["Session default channel group"] == "Grand total"]
    assert len(grand) == 1 and grand.index[0] == 0
    body = ga4.drop(grand.index)
    assert len(body) == truth["parsing"]["exports/ga4_traffic_acquisition.csv"]["data_rows"]
    assert body.Date.str.fullmatch(r"20\d{6}").all()
    for col in ("Sessions", "Engaged sessions", "Event count", "Key events"):
        assert body[col].astype(int).sum() == int(grand[col].iloc[0]), col
    sessions = body.Sessions.astype(int).sum()
    assert sessions == truth["web_traffic"]["sessions"]
    online = ((orders.Source == "web") & (orders["Cancelled at"] == "")).sum()
    assert 0.015 <= online / sessions <= 0.025
    by_group = body.assign(s=body.Sessions.astype(int)).groupby("Session default channel group").s
    meta_clicks = truth["platform_reports"]["meta_ads"]["clicks"]
    google_clicks = truth["platform_reports"]["google_ads"]["clicks"]
    assert 0.6 < by_group.sum()["Paid Social"] / meta_clicks < 0.9
    assert 0.8 < by_group.sum()["Paid Search"] / google_clicks < 1.0


# --------------------------------------------------------------------------- planted effects


def test_media_truth_names_paid_social_under_invested_and_paid_search_saturated(truth):
    media = truth["media"]
    assert media["under_invested_channel"] == "paid_social"
    assert media["saturated_channel"] == "paid_search"
    social, search = media["channels"]["paid_social"], media["channels"]["paid_search"]
    for key in ("marginal_roas", "pattern_marginal_roas"):
        assert social[key] > 1.5 and search[key] < 0.7
    for channel in (social, search):
        assert 1.5 < channel["average_roas"] < 5
    spend = truth["platform_reports"]
    assert search["total_spend"] == pytest.approx(float(spend["google_ads"]["spend"]), rel=1e-5)
    assert social["total_spend"] == pytest.approx(float(spend["meta_ads"]["spend"]), rel=1e-5)


def test_seasonality_peaks_in_spring_summer_and_december(orders, truth):
    month = orders["Created at"].str[:7]
    assert month.value_counts().sort_index().to_dict() == truth["shopify"]["orders_by_month"]
    per = truth["demand"]["mean_orders_per_calendar_month"]
    assert set(truth["demand"]["trough_months"]) == {1, 2}
    assert {5, 6} <= set(truth["demand"]["peak_months"])
    assert min(per["5"], per["6"]) > 1.8 * max(per["1"], per["2"])
    assert per["12"] > 1.2 * per["10"]
    daily = pd.to_datetime(orders["Created at"].str[:10]).value_counts()
    for event in truth["demand"]["events"]:
        if event["code"] == "BFCM20":
            start = pd.Timestamp(event["start"])
            during = daily.reindex(pd.date_range(start, event["end"]), fill_value=0).mean()
            before = daily.reindex(pd.date_range(start - pd.Timedelta(days=14), periods=14),
                                   fill_value=0).mean()  # fmt: skip
            assert during > 1.5 * before, event


def test_business_yaml_declares_the_exports_with_and_without_format():
    from helpers.params import load_settings

    settings = load_settings(ROOT)
    assert settings.business.currency == "CAD" and settings.business.locale == "en_CA"
    assert str(settings.business.as_of) == "2026-09-30"
    assert [o.type for o in settings.objectives] == ["grow_sales", "retention"]
    assert 5500 <= settings.budget.monthly <= 6500
    assert sum(settings.budget.by_channel.values()) == settings.budget.monthly
    customers = settings.data["customers"]
    assert [s.format for s in customers] == ["mailchimp_audience", None, "shopify_orders"]
    assert [s.format for s in settings.data["marketing_spend"]] == ["meta_ads", None]
    assert settings.data["web_traffic"].format == "ga4_traffic"
    text = (ROOT / "business.yaml").read_text(encoding="utf-8")
    assert re.search(r"^tools_in_use: \[shopify, mailchimp, meta_ads, google_ads, ga4\]", text,
                     re.M)  # fmt: skip
