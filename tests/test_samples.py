"""The sample businesses: reproducible, small, well-formed, and true to their recorded truths.

The data-versus-truth tests read the committed files in sample_data/ and check each planted effect
against truth.json within a stated tolerance, the way an analyst's result would be checked. Samples
made of canonical files (``data/``) get the schema tests here; samples made only of platform exports
(``exports/``, summit_outdoor) are checked against their own truths in tests/test_summit_sample.py.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.samples import SAMPLES, generate, regenerate_all
from helpers.schemas import TABLES

ROOT = Path(__file__).resolve().parents[1] / "sample_data"
MAX_TOTAL_BYTES = 15 * 1024 * 1024
REGENERATE_SECONDS = 30
# Samples written as canonical tables (data/) and samples written as native exports (exports/).
CANONICAL = tuple(name for name in SAMPLES if (ROOT / name / "data").is_dir())
EXPORT_ONLY = tuple(name for name in SAMPLES if name not in CANONICAL)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _read(name: str, table: str) -> pd.DataFrame:
    folder = ROOT / name / "data"
    if (folder / f"{table}.parquet").exists():
        return pd.read_parquet(folder / f"{table}.parquet")
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def _truth(name: str) -> dict:
    return json.loads((ROOT / name / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """Every sample regenerated from scratch, with the time it took."""
    out = tmp_path_factory.mktemp("samples")
    started = time.perf_counter()
    regenerate_all(out)
    return out, time.perf_counter() - started


# --------------------------------------------------------------------------- reproducibility, size


def test_regeneration_is_byte_identical_and_fast(regenerated):
    out, seconds = regenerated
    assert seconds < REGENERATE_SECONDS, f"regenerating the samples took {seconds:.1f} s"
    for name in SAMPLES:
        committed, fresh = ROOT / name, out / name
        assert _files(fresh) == _files(committed), f"{name}: different set of files"
        for rel in _files(committed):
            a, b = (committed / rel).read_bytes(), (fresh / rel).read_bytes()
            if a != b and rel.endswith(".parquet"):
                import pyarrow.parquet as pq

                meta = pq.ParquetFile(committed / rel).metadata.created_by
                assert meta != pq.ParquetFile(fresh / rel).metadata.created_by, (
                    f"{name}/{rel} differs"
                )
                # another pyarrow release writes other bytes: the content must still match
                assert pq.read_table(committed / rel).equals(pq.read_table(fresh / rel)), rel
            else:
                assert a == b, f"{name}/{rel} differs from a fresh regeneration"


def test_sample_data_stays_small():
    total = sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file())
    assert total < MAX_TOTAL_BYTES, f"sample_data/ holds {total / 1e6:.1f} MB"


def test_scale_two_roughly_doubles_customers_and_leads(tmp_path):
    for name, tables in (("harbor_coffee", ("customers",)), ("bloom_yoga", ("customers", "leads"))):
        generate(name, tmp_path / name, scale=2)
        for table in tables:
            base = len(_read(name, table))
            scaled = len(pd.read_csv(tmp_path / name / "data" / f"{table}.csv"))
            assert abs(scaled / base - 2) < 0.2, f"{name}.{table}: {base} -> {scaled} at scale 2"


def test_unknown_sample_name_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError) as err:
        generate("corner_bakery", tmp_path)
    for name in SAMPLES:
        assert name in str(err.value)


# --------------------------------------------------------------------------- well-formed files


@pytest.mark.parametrize("name", SAMPLES)
def test_business_yaml_lists_exactly_the_files_written(name):
    from helpers.params import load_settings

    text = (ROOT / name / "business.yaml").read_text(encoding="utf-8")
    assert "truth" not in text
    assert text.startswith("# business.yaml")
    settings = load_settings(ROOT / name)
    sources = [s for v in settings.data.values() for s in (v if isinstance(v, list) else [v])]
    listed = sorted({src.path for src in sources})
    assert listed == [f for f in _files(ROOT / name) if f.startswith(("data/", "exports/"))]
    assert str(settings.business.as_of) == _truth(name)["period"]["as_of"]


@pytest.mark.parametrize("name", CANONICAL)
def test_every_file_has_the_required_columns(name):
    for path in sorted((ROOT / name / "data").iterdir()):
        table = path.name.split(".")[0]
        columns = set(_read(name, table).columns)
        missing = set(TABLES[table].required) - columns
        assert not missing, f"{name}/{path.name} lacks {sorted(missing)}"


@pytest.mark.parametrize("name", CANONICAL)
def test_ids_link_up(name):
    customers = _read(name, "customers")
    orders = _read(name, "orders")
    assert customers.customer_id.is_unique and orders.order_id.is_unique
    assert orders.customer_id.isin(customers.customer_id).all()
    events = _read(name, "email_events")
    assert events.customer_id.isin(customers.customer_id).all()
    campaigns = _read(name, "campaigns")
    assert _read(name, "marketing_spend").campaign_id.isin(campaigns.campaign_id).all()
    assert events.campaign_id.isin(campaigns.campaign_id).all()
    if name == "harbor_coffee":
        items = _read(name, "order_items")
        assert items.product_id.isin(_read(name, "products").product_id).all()
        assert items.order_id.isin(orders.order_id).all()


def _export_emails(name: str) -> pd.Series:
    """Every e-mail address in an export-only sample (Shopify orders and Mailchimp audiences)."""
    folder = ROOT / name / "exports"
    orders = pd.read_csv(folder / "orders_export_1.csv", dtype=str, encoding="utf-8-sig").Email
    audience = [
        pd.read_csv(folder / f"mailchimp_{kind}.csv", dtype=str)["Email Address"]
        for kind in ("subscribed", "unsubscribed")
    ]
    return pd.concat([orders.dropna(), *audience])


@pytest.mark.parametrize("name", SAMPLES)
def test_people_are_fictional(name):
    if name in EXPORT_ONLY:
        emails = _export_emails(name)
    else:
        emails = pd.concat(
            [_read(name, "customers").email]
            + ([_read(name, "leads").email] if name == "bloom_yoga" else [])
        )
    assert len(emails) > 100
    assert emails.str.lower().str.fullmatch(r"[^@\s]+@example\.(com|org|net)").all()
    if name == "bloom_yoga":
        assert _read(name, "leads").phone.str.fullmatch(r"\d{3}-555-01\d\d").all()


# --------------------------------------------------------------------------- harbor_coffee vs truth


def test_consent_counts_match_truth():
    truth, customers = _truth("harbor_coffee")["consent"], _read("harbor_coffee", "customers")
    assert (customers.consent_email == "false").sum() == truth["consent_email_false"]
    assert (customers.consent_ads == "false").sum() == truth["consent_ads_false"]
    assert 0.08 <= truth["share_consent_email_false"] <= 0.12
    assert 0.05 <= truth["share_consent_ads_false"] <= 0.08


def test_subject_line_test_open_rates_sit_in_binomial_99_interval():
    truth = _truth("harbor_coffee")["ab_test"]
    events = _read("harbor_coffee", "email_events")
    test = events[events.campaign_id == truth["campaign_id"]]
    assert set(test.variant) == {"A", "B"}
    for arm in ("A", "B"):
        opened = test[test.variant == arm].opened_at.notna()
        n, k, p = len(opened), int(opened.sum()), truth["true_open_rate"][arm]
        assert n == truth[f"n_{arm}"]
        lo, hi = stats.binom.ppf([0.005, 0.995], n, p)
        assert lo <= k <= hi, f"arm {arm}: {k}/{n} opens, true rate {p}"
    assert abs(truth["n_A"] / (truth["n_A"] + truth["n_B"]) - 0.5) < 0.03


def test_holdout_lift_is_consistent_with_truth():
    truth = _truth("harbor_coffee")["holdout"]
    rows = _read("harbor_coffee", "experiments")
    rows = rows[rows.experiment_id == truth["experiment_id"]]
    conv = rows.converted == "true"
    treat = rows.variant == "treatment"
    assert abs(treat.mean() - 0.8) < 0.03
    p_t, p_c = conv[treat].mean(), conv[~treat].mean()
    se = np.sqrt(p_t * (1 - p_t) / treat.sum() + p_c * (1 - p_c) / (~treat).sum())
    assert abs((p_t - p_c) - truth["true_incremental_conversion_rate"]) < 2.58 * se
    revenue = rows.revenue.astype(float)
    se_rev = np.sqrt(revenue[treat].var() / treat.sum() + revenue[~treat].var() / (~treat).sum())
    observed = revenue[treat].mean() - revenue[~treat].mean()
    assert abs(observed - truth["true_incremental_revenue_per_unit"]) < 2.58 * se_rev


def test_holdout_outcomes_are_read_from_orders():
    rows = _read("harbor_coffee", "experiments")
    orders = _read("harbor_coffee", "orders")
    when = pd.to_datetime(orders.order_date, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    exposed = pd.Timestamp(_truth("harbor_coffee")["holdout"]["exposed_at"])
    window = orders[
        (when >= exposed)
        & (when < exposed + pd.Timedelta(days=30))
        & ~orders.order_id.str.startswith("R")
    ]
    bought = rows.unit_id.isin(window.customer_id)
    assert (bought == (rows.converted == "true")).all()


def test_quality_faults_are_present_exactly_as_listed():
    faults = _truth("harbor_coffee")["quality_faults"]
    customers = _read("harbor_coffee", "customers").set_index("customer_id")
    orders = _read("harbor_coffee", "orders")
    pairs = faults["duplicate_customers"]["pairs"]
    assert 10 <= len(pairs) <= 15
    for pair in pairs:
        a, b = customers.loc[pair["customer_id"]], customers.loc[pair["duplicate_id"]]
        assert (a.email, b.email) == (pair["email"], pair["duplicate_email"])
        assert a.email != b.email and a.email.lower() == b.email.lower()
        assert (orders.customer_id == pair["customer_id"]).any()
        on_dup = orders.loc[orders.customer_id == pair["duplicate_id"], "order_id"]
        assert sorted(on_dup[~on_dup.str.startswith("R")]) == pair["orders_on_duplicate"]
    lowered = customers.email.str.lower()
    assert lowered.duplicated().sum() == len(pairs)
    bad = faults["unparseable_order_dates"]["rows"]
    parsed = pd.to_datetime(orders.order_date, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    assert sorted(orders.order_id[parsed.isna()]) == sorted(r["order_id"] for r in bad)
    by_id = orders.set_index("order_id")
    for r in bad:
        assert by_id.loc[r["order_id"], "order_date"] == r["value"]
    refunds = orders[orders.order_id.str.startswith("R")]
    assert len(refunds) == faults["refunds"]["count"] == len(faults["refunds"]["rows"])
    assert dict(zip(refunds.order_id, refunds.refund_of, strict=True)) == faults["refunds"]["rows"]
    assert (refunds.revenue.astype(float) < 0).all()
    assert (orders.revenue.astype(float) < 0).sum() == len(refunds)
    assert refunds.refund_of.isin(orders.order_id).all()
    assert (
        sorted(customers.index[customers.region == ""]) == faults["missing_region"]["customer_ids"]
    )


def test_media_truth_names_one_under_invested_and_one_saturated_channel():
    media = _truth("harbor_coffee")["media"]
    channels = media["channels"]
    assert media["under_invested_channel"] == "paid_social"
    assert media["saturated_channel"] == "paid_search"
    for key in ("marginal_roas", "pattern_marginal_roas"):
        assert channels["paid_social"][key] > 1.5
        assert channels["paid_search"][key] < 0.7
    for channel, c in channels.items():
        assert 1.2 < c["average_roas"] < 6, channel


def test_paid_spend_varies_enough_for_response_curves():
    spend = _read("harbor_coffee", "marketing_spend")
    spend["week"] = pd.to_datetime(spend.date).dt.to_period("W")
    weekly = spend.assign(spend=spend.spend.astype(float)).pivot_table(
        index="week", columns="channel", values="spend", aggfunc="sum", fill_value=0
    )
    for channel in ("paid_search", "paid_social", "email"):
        assert weekly[channel].std() / weekly[channel].mean() > 0.3, channel
        assert (weekly[channel] == 0).sum() >= 2, f"{channel} never pauses"


def test_opens_happen_at_the_preferred_hour():
    hours = _truth("harbor_coffee")["send_hour"]["by_customer"]
    events = _read("harbor_coffee", "email_events")
    opened = events[events.opened_at.notna()]
    diff = (opened.opened_at.dt.hour - opened.customer_id.map(hours)).abs()
    assert (diff <= 1).mean() > 0.9
    sent_hours = events.groupby("campaign_id").sent_at.first().dt.hour
    assert sent_hours.nunique() >= 5, (
        "send times should vary so the preferred hour can be told apart"
    )


def test_sales_move_young_customers_far_more_than_older_ones():
    truth = _truth("harbor_coffee")
    orders = _read("harbor_coffee", "orders")
    orders = orders[~orders.order_id.str.startswith("R")].copy()
    orders["day"] = pd.to_datetime(
        orders.order_date, format="%Y-%m-%d %H:%M:%S", errors="coerce"
    ).dt.normalize()
    sale = pd.Series(False, index=pd.date_range("2023-10-01", "2026-09-30"))
    for s in truth["demand"]["sale_days"]:
        sale[s["start"] : s["end"]] = True
    age = _read("harbor_coffee", "customers").set_index("customer_id").age_band
    orders["age"] = orders.customer_id.map(age)
    orders["sale"] = orders.day.map(sale)
    per_day = orders.groupby(["age", "sale"]).size().unstack() / [(~sale).sum(), sale.sum()]
    lift = per_day[True] / per_day[False]
    assert lift["18-24"] > 1.5 * lift["65+"]
    assert lift["18-24"] > 2


def test_co_purchase_lifts_in_truth_match_the_files():
    pairs = _truth("harbor_coffee")["co_purchase"]["pairs"]
    items = _read("harbor_coffee", "order_items")
    orders = _read("harbor_coffee", "orders").set_index("order_id")
    category = _read("harbor_coffee", "products").set_index("product_id").category
    items = items[items.order_id.map(orders.source) == "online"]
    baskets = pd.crosstab(items.order_id, items.product_id.map(category)) > 0
    for pair, t in pairs.items():
        a, b = pair.split("+")
        lift = (baskets[a] & baskets[b]).mean() / (baskets[a].mean() * baskets[b].mean())
        assert lift == pytest.approx(t["observed_support_lift"], abs=0.002)
        assert (lift > 1.5) == (t["planted_join_multiplier"] > 1)


def test_feedback_labels_and_ratings_agree():
    truth = _truth("harbor_coffee")["feedback"]
    feedback = _read("harbor_coffee", "feedback")
    assert list(truth["labels"]) == feedback.feedback_id.tolist()
    sentiment = feedback.feedback_id.map(lambda i: truth["labels"][i][1])
    rating = feedback.rating.astype(int)
    assert rating[sentiment == "positive"].min() >= 4
    assert rating[sentiment == "negative"].max() <= 2
    assert sum(truth["counts"].values()) == len(feedback)
    assert feedback.text.nunique() > 0.8 * len(feedback), "texts should vary"


def test_web_sessions_convert_like_a_real_shop():
    sessions = _read("harbor_coffee", "web_sessions")
    assert 0.02 <= sessions.converted.mean() <= 0.04
    events = _read("harbor_coffee", "email_events")
    assert 0.2 <= events.opened_at.notna().mean() <= 0.35


# --------------------------------------------------------------------------- bloom_yoga vs truth


def test_bloom_leads_peak_in_january():
    leads = _read("bloom_yoga", "leads")
    month = leads.created_at.str[:7]
    counts = month.value_counts()
    january = counts[counts.index.str.endswith("-01")]
    assert (january > 1.5 * counts.median()).all()
    assert counts.to_dict() == _truth("bloom_yoga")["leads"]["monthly_counts"]


def test_bloom_converted_leads_are_the_new_members():
    leads = _read("bloom_yoga", "leads")
    customers = _read("bloom_yoga", "customers")
    won = leads[leads.converted == "true"]
    assert sorted(won.lead_id) == sorted(customers.lead_id[customers.lead_id != ""])
    assert (won.converted_at > won.created_at).all()
    assert (leads.converted_at[leads.converted == "false"] == "").all()
    assert abs(len(won) / len(leads) - _truth("bloom_yoga")["leads"]["conversion_rate"]) < 1e-3


def test_bloom_media_mix_is_declared_unsupported():
    media = _truth("bloom_yoga")["media"]
    assert media["mmm_supported"] is False and media["reason"]
    spend = _read("bloom_yoga", "marketing_spend")
    paid = spend[spend.channel == "paid_social"]
    assert set(spend.channel) == {"paid_social"}
    weekly = paid.spend.astype(float).groupby(pd.to_datetime(paid.date).dt.to_period("W")).sum()
    assert len(weekly) <= 27 and weekly.iloc[1:-1].std() / weekly.iloc[1:-1].mean() < 0.05


def test_bloom_churn_truth_matches_payments():
    churn = _truth("bloom_yoga")["churn"]
    assert 0.03 < churn["true_monthly_churn_rate"] < 0.1
    orders = _read("bloom_yoga", "orders")
    last = pd.to_datetime(orders.groupby("customer_id").order_date.max())
    left = pd.Series(churn["members_left_by_as_of"])
    monthly = _read("bloom_yoga", "customers").set_index("customer_id").plan == "monthly_unlimited"
    gone = left.index[left.index.map(monthly).astype(bool)]
    # a monthly member who left paid last about a month before leaving
    gap = (pd.to_datetime(left[gone]) - last.reindex(gone)).dt.days.dropna()
    assert gap.between(27, 32).mean() > 0.95
    assert re.fullmatch(r"no payment.*45 days.*", churn["definition"].split("when ")[1])
