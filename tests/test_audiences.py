"""Step 07 audiences: hashing (properties and the documented test vectors), who may receive
marketing and why not (hand-made customers), the ad-platform files (headers and hand-picked
members), the Mailchimp layout, and on harbor_coffee that nobody who said no (truth.json consent
counts) reaches any file."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import audiences as au
from helpers import consent
from helpers.errors import DataError, UnknownNameError
from helpers.plan import open_plan
from helpers.tables import normalise_email, parse_bool

# Meta's documented outputs (shared/outbound_formats.md, "Test vectors")
VECTORS = {"mary@example.com": "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79",
           "john_smith@gmail.com":
               "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"}
HEX64 = re.compile(r"^[0-9a-f]{64}$")
AS_OF = pd.Timestamp("2025-06-30")


_PLANS: dict = {}


def sample_plan(name: str, tmp_path_factory):
    """The sample business, prepared once per session (about 5 s for harbor): every test module
    opens it on the same run folder, so a second plan reads the prepared tables back."""
    if name not in _PLANS:
        _PLANS[name] = open_plan(name, run_dir=tmp_path_factory.getbasetemp() / f"sample_{name}")
        _PLANS[name].prepared("customers")
    return _PLANS[name]


@pytest.fixture
def harbor(tmp_path_factory):
    return sample_plan("harbor_coffee", tmp_path_factory)


@pytest.fixture
def summit(tmp_path_factory):
    return sample_plan("summit_outdoor", tmp_path_factory)


# ---- hashing ---------------------------------------------------------------------------------
local = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-",
                min_size=1, max_size=20)
emails = st.builds(lambda a, b, tld, pad: f"{pad}{a}@{b}.{tld}{pad[::-1]}", local,
                   st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789-",
                           min_size=1, max_size=12),
                   st.sampled_from(["com", "ORG", "Net", "co.uk"]),
                   st.sampled_from(["", " ", "  \t", "\n "]))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(emails, st.text(max_size=30), st.none()), min_size=1, max_size=20))
def test_normalisation_is_idempotent_and_hashes_hide_every_address(values):
    raw = pd.Series(values, dtype="object")
    once = normalise_email(raw)
    pd.testing.assert_series_equal(normalise_email(once), once)
    hashed = consent.hash_email(raw)
    assert len(hashed) == len(raw)
    for value, norm, digest in zip(raw, once, hashed, strict=True):
        if pd.isna(norm):
            assert pd.isna(digest)  # no address, no hash: missing stays missing
            continue
        assert HEX64.match(digest) and "@" not in digest
        assert norm not in digest and str(value).strip() not in digest
        assert digest == hashlib.sha256(norm.encode("utf-8")).hexdigest()


@settings(max_examples=50, deadline=None)
@given(emails)
def test_case_and_spaces_do_not_change_the_hash(email):
    variants = pd.Series([email, email.upper(), f"  {email.lower()}\t"])
    assert consent.hash_email(variants).nunique() == 1


def test_hashes_equal_the_documented_test_vectors():
    got = consent.hash_email(pd.Series([" Mary@Example.com", "mary@example.com", "JOHN_SMITH@gmail.com ",
                                   "mary", None, ""]))
    assert got.iloc[0] == got.iloc[1] == VECTORS["mary@example.com"]
    assert got.iloc[2] == VECTORS["john_smith@gmail.com"]
    assert got.iloc[3:].isna().all()  # "mary" is a first name, not an address


# ---- who may receive marketing ---------------------------------------------------------------
def _customers() -> pd.DataFrame:
    """Eight customers, each left out for one reason or kept (the comment says which)."""
    return pd.DataFrame({
        "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"],
        "email": ["a@shop.com", "b@shop.com", None, "not-an-address", "C@Shop.com", " A@SHOP.COM",
                  "g@shop.com", "h@shop.com"],
        "consent_email": ["yes", "no", "yes", "yes", None, "yes", "yes", "yes"],
        "consent_ads": [True, True, True, True, True, True, False, True],
    })  # C1 kept, C2 said no, C3 no e-mail, C4 bad e-mail, C5 consent blank, C6 = C1, C8 kept


def test_eligible_for_email_drops_and_counts_each_reason_once():
    people, counts = consent.eligible(_customers(), purpose="email", unsubscribed={"C8"})
    assert people["customer_id"].tolist() == ["C1", "C7"]
    assert people["email"].tolist() == ["a@shop.com", "g@shop.com"]  # normalised
    assert counts == {"customers": 8, "said_no": 1, "consent_unknown": 1, "unsubscribed": 1,
                      "no_valid_email": 2, "duplicate_email": 1, "eligible": 2}
    table = consent.eligibility_table(counts)
    assert table["customers"].iloc[0] == 8 and table["customers"].iloc[-1] == 2
    assert table["customers"].iloc[1:-1].sum() == 8 - 2


def test_eligible_for_ads_needs_ads_consent_and_no_email_refusal():
    people, counts = consent.eligible(_customers(), purpose="ads")
    # C2 agreed to ads but said no to e-mail: left out; C7 said no to ads; C5's blank e-mail
    # consent is no refusal, and it agreed to ads
    assert people["customer_id"].tolist() == ["C1", "C5", "C8"]
    assert counts["said_no"] == 1 and counts["said_no_to_email"] == 1
    no_column = _customers().drop(columns="consent_ads")
    people, counts = consent.eligible(no_column, purpose="ads")
    assert people.empty and counts["consent_unknown"] == 8


def test_mailchimp_status_unsubscribed_or_cleaned_rules_out_email():
    c = _customers().assign(email_status=["subscribed", None, None, None, None, None, "cleaned",
                                          "Unsubscribed"])
    people, counts = consent.eligible(c, purpose="email")
    assert people["customer_id"].tolist() == ["C1"] and counts["unsubscribed"] == 2


def test_customers_without_any_email_column_are_counted_not_a_crash():
    people, counts = consent.eligible(_customers().drop(columns="email"), purpose="email")
    assert people.empty and counts["no_valid_email"] == 6  # the other two said no / blank
    with pytest.raises(UnknownNameError, match="unknown purpose 'mail'.*Did you mean 'email'"):
        consent.eligible(_customers(), purpose="mail")


def test_audiences_keeps_the_consent_calls_the_notebooks_use():
    assert au.hash_email is consent.hash_email and au.eligible is consent.eligible


# ---- e-mail audiences ------------------------------------------------------------------------
def _people(n: int = 10) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)],
                         "email": [f"p{i}@shop.com" for i in range(n)], "consent_email": True,
                         "consent_ads": True})


def test_propensity_bands_are_top_20_next_30_rest_and_churn_top_20():
    scores = pd.DataFrame({"customer_id": [f"C{i}" for i in range(10)],
                           "propensity": np.arange(1, 11) / 10, "churn_risk": np.arange(10) / 10})
    aud = au.email_audiences(_people(), scores=scores)
    band = aud[aud.kind == "propensity"].set_index("customer_id")["audience"]
    assert band[["C9", "C8"]].eq(au.BANDS[0]).all() and (band == au.BANDS[0]).sum() == 2
    assert band[["C7", "C6", "C5"]].eq(au.BANDS[1]).all() and (band == au.BANDS[1]).sum() == 3
    assert (band == au.BANDS[2]).sum() == 5
    assert sorted(aud[aud.kind == "churn"]["customer_id"]) == ["C8", "C9"]
    summary = au.audience_summary(aud).set_index("audience")
    assert summary.loc[au.BANDS[0], "customers"] == 2
    assert summary.loc[au.BANDS[2], "share_of_list"] == pytest.approx(0.5)


def test_segments_cover_everyone_and_opted_out_are_not_in_any_audience():
    people = _people(4).assign(consent_email=[True, True, False, True])
    segments = pd.DataFrame({"customer_id": ["C0", "C1", "C2"], "segment": ["Champions",
                                                                          "Lost", "Lost"]})
    aud = au.email_audiences(people, segments=segments)
    assert dict(zip(aud.customer_id, aud.audience, strict=True)) == {
        "C0": "Champions", "C1": "Lost", "C3": au.NO_ORDER}
    with pytest.raises(DataError, match="no `customer_id` column"):
        au.email_audiences(people, scores=pd.DataFrame({"id": ["C0"], "propensity": [0.5]}))


# ---- ad-platform files -----------------------------------------------------------------------
def _orders() -> pd.DataFrame:
    """Last-year net revenue: C0 500, C1 400, C2 300 (+ an old order of 9,999), C3 -20 (refund)."""
    return pd.DataFrame({"customer_id": ["C0", "C1", "C2", "C2", "C3"],
                         "order_date": pd.to_datetime(["2025-06-01", "2025-01-10", "2024-09-01",
                                                       "2023-01-01", "2025-03-03"]),
                         "revenue": [500.0, 400.0, 300.0, 9999.0, -20.0],
                         "net_revenue": [500.0, 400.0, 300.0, 9999.0, -20.0]})


def test_lookalike_seed_is_the_top_share_by_last_year_value_hashed_under_meta_header():
    people = _people(5).assign(consent_ads=[True, True, True, True, False])
    meta = au.customer_match(people, platform="meta", seed_for="lookalike", top_share=0.5,
                             orders=_orders(), as_of=AS_OF)
    # positive last-year value: C0, C1, C2 -> the top half (2 of 3) are C0 and C1
    assert meta.columns.tolist() == ["email", "value"]
    assert meta["email"].tolist() == [hashlib.sha256(b"p0@shop.com").hexdigest(),
                                      hashlib.sha256(b"p1@shop.com").hexdigest()]
    assert meta["value"].tolist() == [500.0, 400.0]
    google = au.customer_match(people, platform="google", seed_for="lookalike", top_share=0.5,
                               orders=_orders(), as_of=AS_OF)
    assert google.columns.tolist() == ["Email"] and google["Email"].tolist() == meta["email"].tolist()
    clv = pd.DataFrame({"customer_id": ["C3", "C4", "C1"], "clv_12m": [900.0, 800.0, 10.0]})
    seed = au.seed_customers(people, clv, seed_for="lookalike", top_share=0.34)
    assert seed.customers["customer_id"].tolist() == ["C3"]  # C4 said no to ads
    assert seed.value_share == pytest.approx(900 / 910)


def test_high_propensity_list_uses_scores_and_never_raw_addresses():
    scores = pd.DataFrame({"customer_id": [f"C{i}" for i in range(10)],
                           "propensity": np.arange(10) / 10})
    people = _people().assign(consent_ads=[True] * 9 + [False])
    out = au.customer_match(people, scores, platform="meta", seed_for="high_propensity")
    assert out.columns.tolist() == ["email"]  # no value column for this list
    expected = {hashlib.sha256(f"p{i}@shop.com".encode()).hexdigest() for i in (7, 8)}
    assert set(out["email"]) == expected  # top 20 % of the 9 who agreed: ceil(1.8) = 2
    assert not out["email"].str.contains("@").any()


def test_a_list_that_cannot_be_built_says_why_and_keeps_the_header():
    seed = au.seed_customers(_people(), seed_for="high_propensity")
    assert not seed.supported and "needs propensity scores from step 06" in seed.reason
    out = au.customer_match(_people(), platform="google", seed_for="high_propensity")
    assert out.empty and out.columns.tolist() == ["Email"]
    with pytest.raises(UnknownNameError, match="unknown platform 'tiktok'"):
        au.customer_match(_people(), platform="tiktok", orders=_orders(), as_of=AS_OF)


def test_mailchimp_file_has_the_import_header_tags_and_only_subscribers():
    people = _people(3).assign(consent_email=[True, False, True],
                               email=["A@Shop.com", "b@shop.com", "c@shop.com"])
    aud = pd.DataFrame({"customer_id": ["C0", "C0", "C1", "C2"],
                        "audience": ["Champions", "win-back", "Lost", "Can't lose, them"],
                        "kind": ["segment", "flow", "segment", "segment"]})
    hours = pd.DataFrame({"customer_id": ["C0", "C2"], "best_hour": [8, 20]})
    out = au.mailchimp_import(people, aud, hours)
    assert out.columns.tolist() == ["Email Address", "Tags", "Send Hour"]
    assert out["Email Address"].tolist() == ["a@shop.com", "c@shop.com"]  # C1 said no
    assert out["Tags"].tolist() == ["Segment: Champions, Flow: win-back",
                                    "Segment: Can't lose  them"]
    assert out["Send Hour"].tolist() == [8, 20]


# ---- harbor_coffee: consent against the ground truth -----------------------------------------
def test_harbor_nobody_who_said_no_reaches_any_file(harbor):
    truth = json.loads((harbor.business_dir / "truth.json").read_text())["consent"]
    raw = harbor.raw("customers")
    said_no_email = parse_bool(raw["consent_email"])[0].eq(False)
    said_no_ads = parse_bool(raw["consent_ads"])[0].eq(False)
    assert said_no_email.sum() == truth["consent_email_false"] == 539
    assert said_no_ads.sum() == truth["consent_ads_false"] == 361
    from helpers.email_plan import email_section

    result = au.audiences_section(harbor)
    assert result.supported and set(result.files) == {
        f"{p}_{s}_sha256" for p in ("meta", "google") for s in au.SEEDS}
    hashed_no = set(au.hash_email(raw.loc[said_no_ads | said_no_email, "email"]).dropna())
    for name, frame in result.files.items():
        column = frame.columns[0]
        assert column == au.PLATFORMS[name.split("_")[0]]
        assert frame[column].str.match(HEX64.pattern).all()
        assert not set(frame[column]) & hashed_no, name
    # the one file with addresses carries the personal-data mark in its name
    assert au.MAILCHIMP_FILE == "mailchimp_tags_contains_emails"
    mail = email_section(harbor).files[au.MAILCHIMP_FILE]
    refused = set(normalise_email(raw.loc[said_no_email, "email"]).dropna())
    # 538 addresses: C003213 and C003400 are one person (same address) who said no twice
    assert len(refused) == 538 and not set(mail["Email Address"]) & refused
    # prepared customers merge 12 duplicate records; a "no" on either record wins
    counts = au.eligible(harbor.prepared("customers"), purpose="ads")[1]
    assert counts["said_no"] == 360 and counts["said_no_to_email"] == 379
    assert result.headline["ads_eligible"] == 5033 - 360 - 379


def test_harbor_lists_and_reading(harbor):
    result = au.audiences_section(harbor)
    lists = result.lists.set_index(["list", "platform"])["people"]
    assert lists["lookalike", "meta"] == lists["lookalike", "google"] == result.headline[
        "lookalike_list"]
    assert lists["high-propensity", "meta"] >= au.MIN_LIST and not result.warnings
    assert result.reading.startswith("4,294 of your 5,033 customers may go on ad lists.")
    assert "360 said no; 379 said no to e-mail" in result.reading
    assert "files" not in repr(result)  # the files stay out of the printed result


def test_summit_has_no_ads_consent_so_no_ad_list(summit):
    result = au.audiences_section(summit)
    assert not result.supported and not result.files
    assert "no consent_ads column" in result.reason
    assert result.eligibility.set_index("reason")["customers"].iloc[-1] == 0
