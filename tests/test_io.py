"""Reading and writing: money and date coercion (property tests), sniffing, atomic writes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import io
from helpers.tables import parse_bool, parse_dates, parse_money

amounts = st.decimals(min_value=-10**7, max_value=10**7, places=2, allow_nan=False)


def _us(value) -> str:
    text = f"${abs(value):,.2f}"
    return f"-{text}" if value < 0 else text


def _eu(value) -> str:
    text = f"{abs(value):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"-{text} €" if value < 0 else f"{text} €"


@settings(max_examples=200, deadline=None)
@given(st.lists(amounts, min_size=1, max_size=20))
def test_us_money_strings_round_trip(values):
    parsed, bad = parse_money(pd.Series([_us(v) for v in values], dtype="str"), decimal=".")
    assert not bad.any()
    assert parsed.tolist() == pytest.approx([float(v) for v in values])


@settings(max_examples=200, deadline=None)
@given(st.lists(amounts, min_size=1, max_size=20))
def test_european_money_strings_round_trip(values):
    parsed, bad = parse_money(pd.Series([_eu(v) for v in values], dtype="str"), decimal=",")
    assert not bad.any()
    assert parsed.tolist() == pytest.approx([float(v) for v in values])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31)),
                min_size=1, max_size=20), st.sampled_from(["%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d"]))
def test_day_first_dates_round_trip(dates, fmt):
    text = pd.Series([d.strftime(fmt) for d in dates], dtype="str")
    parsed, bad = parse_dates(text, dayfirst=True)
    assert not bad.any()
    assert [t.date() for t in parsed] == dates


def test_month_first_dates_and_offsets_convert_to_business_time():
    text = pd.Series(["03/04/2025", "2024-03-05 14:02:11 -0500", "2024-07-01T12:00:00Z"])
    parsed, bad = parse_dates(text, dayfirst=False, timezone="America/New_York")
    assert not bad.any()
    assert parsed.tolist() == [pd.Timestamp("2025-03-04"), pd.Timestamp("2024-03-05 14:02:11"),
                               pd.Timestamp("2024-07-01 08:00:00")]


def test_ambiguous_single_separator_follows_locale():
    text = pd.Series(["1,234", "1.234", "12,5"])
    assert parse_money(text, decimal=".")[0].tolist() == [1234.0, 1.234, 12.5]
    assert parse_money(text, decimal=",")[0].tolist() == [1.234, 1234.0, 12.5]


def test_booleans_from_exports():
    values, bad = parse_bool(pd.Series(["yes", "No", "TRUE", "subscribed", "maybe", ""]))
    assert values.tolist()[:4] == [True, False, True, True]
    assert bad.tolist() == [False, False, False, False, True, False]


@pytest.mark.parametrize("text,expected", [("a,b\n1,2\n", ","), ("a;b\n1;2\n", ";"),
                                           ("a\tb\n1\t2\n", "\t"), ("a|b\n1|2\n", "|")])
def test_delimiter_sniffing(text, expected):
    assert io.sniff_delimiter(text) == expected


def test_atomic_write_keeps_the_previous_file_when_writing_fails(tmp_path):
    target = tmp_path / "artifact.json"
    io.write_json(target, {"good": 1})

    def crash(tmp):
        tmp.write_text("half written")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        io.write_atomic(target, crash)
    assert io.read_json(target) == {"good": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["artifact.json"]


def test_json_writes_nan_as_null_and_keeps_text_with_nan_in_it(tmp_path):
    path = io.write_json(tmp_path / "a.json", {"x": float("nan"), "label": "NaN-free Nancy"})
    assert io.read_json(path) == {"x": None, "label": "NaN-free Nancy"}


def test_update_yaml_keeps_comments_and_other_keys(tmp_path):
    path = tmp_path / "business.yaml"
    path.write_text("# top comment\nbusiness:\n  name: Shop  # the name\nobjectives: []\n")
    io.update_yaml(path, "objectives", [{"type": "leads", "target_change": 0.2}])
    text = path.read_text()
    assert "# top comment" in text and "name: Shop  # the name" in text
    assert "type: leads" in text


def test_sql_source_reads_a_real_sqlite_file(tmp_path):
    import sqlite3

    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table orders (order_id text, order_date text, revenue real)")
        conn.executemany("insert into orders values (?, ?, ?)",
                         [("O1", "2025-01-02", 10.5), ("O2", "2025-01-03", 4.5)])
    frame = io.read_sql(f"sqlite:///{db}", "select * from orders order by order_id")
    assert frame.revenue.sum() == pytest.approx(15.0)


def test_update_yaml_keeps_the_comment_that_follows_the_replaced_block(tmp_path):
    path = tmp_path / "business.yaml"
    path.write_text("objectives:\n  - type: leads\n    target_change: 0.1\n\n"
                    "# What you spend each month.\nbudget:\n  monthly: 100\n")
    io.update_yaml(path, "objectives", [{"type": "grow_sales", "target_change": 0.2}])
    assert "\n\n# What you spend each month.\nbudget:" in path.read_text()
    io.update_yaml(path, "objectives", [])
    assert "# What you spend each month.\nbudget:" in path.read_text()
    assert io.read_yaml(path) == {"objectives": [], "budget": {"monthly": 100}}


def test_sources_of_one_table_merge_by_key_and_a_no_to_consent_wins():
    from helpers.tables import combine_sources

    shop = pd.DataFrame({"customer_id": ["E1", "E2"], "email": ["a@x.com", "b@x.com"],
                         "region": [None, "BC"],
                         "consent_email": pd.array([True, True], dtype="boolean")})
    mailing = pd.DataFrame({"customer_id": ["E1", "E3"], "email": ["a@x.com", "c@x.com"],
                            "region": ["ON", "AB"],
                            "consent_email": pd.array([False, True], dtype="boolean")})
    merged, notes = combine_sources([shop, mailing], "customers")
    merged = merged.set_index("customer_id")
    assert sorted(merged.index) == ["E1", "E2", "E3"]
    assert merged.loc["E1", "region"] == "ON"           # first filled value
    assert not merged.loc["E1", "consent_email"]        # the mailing list's "no" wins
    assert notes[0].count == 1 and "appear in more than one source" in notes[0].message


def test_sources_without_a_key_are_stacked():
    from helpers.tables import combine_sources

    meta = pd.DataFrame({"channel": ["paid_social"], "spend": [10.0]})
    google = pd.DataFrame({"channel": ["paid_search", "paid_search"], "spend": [5.0, 7.5]})
    frame, notes = combine_sources([meta, google], "marketing_spend")
    assert frame["spend"].sum() == 22.5 and len(frame) == 3 and notes == []
