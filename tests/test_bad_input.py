"""Broken and awkward input files: each gives a clear message or a counted coercion."""

from __future__ import annotations

import hashlib

import pytest

from helpers import open_plan
from helpers.errors import ConfigError, DataError, MissingDataError
from tests.conftest import BAD_INPUT, write_business


def _orders(folder):
    plan = open_plan(folder)
    return plan, plan.table("orders")


def test_missing_required_column_names_file_column_and_mapping_fix(orders_business):
    with pytest.raises(DataError) as err:
        _orders(orders_business("missing_column.csv"))
    message = str(err.value)
    assert "data/orders.csv" in message
    assert "the orders table needs the column(s) 'revenue'" in message
    assert "Its columns are: order_id, customer_id, order_date, amount" in message
    assert "mapping:" in message


def test_unparseable_dates_are_counted_with_lines_and_rows_left_out(orders_business):
    plan, orders = _orders(orders_business("unparseable_dates.csv"))
    assert list(orders.order_id) == ["O1", "O4"]
    coerced = [n for n in plan.notes if n.column == "order_date"]
    assert coerced[0].count == 2
    assert "'31/02/2025', 'not recorded'" in coerced[0].message
    assert "lines 3 and 4" in coerced[0].message


def test_a_column_of_no_dates_at_all_is_an_error_naming_locale(orders_business):
    with pytest.raises(DataError, match=r"none of the 2 values in column 'order_date' could be read"
                                        r".*'January'.*locale: en_US"):
        _orders(orders_business("unreadable_dates.csv"))


def test_a_column_of_no_numbers_at_all_is_an_error(orders_business):
    with pytest.raises(DataError, match=r"none of the 2 values in column 'revenue'.*'ten'"):
        _orders(orders_business("unreadable_money.csv"))


def test_us_money_strings_are_read(orders_business):
    _, orders = _orders(orders_business("money_us.csv"))
    assert orders.revenue.tolist() == [1234.50, 12.00, -5.00]


def test_european_money_dates_and_semicolons_are_read_by_locale(orders_business):
    _, orders = _orders(orders_business("money_eu_semicolon.csv", locale="de_DE"))
    assert orders.revenue.tolist() == [1234.50, 12.00, 7.50]
    assert orders.order_date.dt.strftime("%Y-%m-%d").tolist() == [
        "2025-01-03", "2025-01-04", "2025-01-25"]


def test_latin1_file_is_read_without_mangling(orders_business):
    _, orders = _orders(orders_business("latin1.csv"))
    assert orders.channel.tolist() == ["Café", "München"]


def test_bom_does_not_leak_into_the_first_column_name(orders_business):
    _, orders = _orders(orders_business("bom.csv"))
    assert orders.columns[0] == "order_id"
    assert orders.order_id.tolist() == ["O1", "O2"]


def test_empty_file_says_so_and_how_to_fix(orders_business):
    plan = open_plan(orders_business("empty.csv"))
    assert not plan.has("orders")
    assert "orders.csv is empty" in plan.why_missing("orders")
    with pytest.raises(MissingDataError, match="Export the file again"):
        plan.table("orders")


def test_header_only_file_is_absent_data_not_a_crash(orders_business):
    plan = open_plan(orders_business("header_only.csv"))
    assert not plan.has("orders")
    assert "has column names but no rows" in plan.why_missing("orders")


def test_duplicate_ids_with_different_content_name_the_ids_and_lines(orders_business):
    with pytest.raises(DataError) as err:
        _orders(orders_business("duplicate_ids.csv"))
    message = str(err.value)
    assert "1 order_id value(s) appear on more than one row" in message
    assert "'O2'" in message and "lines 3 and 4" in message
    assert "Each order_id must appear once" in message


def test_exact_duplicate_rows_are_dropped_and_counted(tmp_path):
    text = "order_id,order_date,revenue\nO1,2025-01-03,10\nO1,2025-01-03,10\nO2,2025-01-04,5\n"
    folder = write_business(tmp_path / "s", data={"orders": "o.csv"}, files={"o.csv": text})
    plan, orders = _orders(folder)
    assert len(orders) == 2
    assert any("1 row(s) were exact copies" in n.message and "line 3" in n.message
               for n in plan.notes)


def test_negative_revenue_is_kept_as_refund_and_noted(orders_business):
    plan, orders = _orders(orders_business("negative_revenue.csv"))
    assert orders.revenue.sum() == pytest.approx(20.0)
    note = next(n for n in plan.notes if n.column == "revenue")
    assert note.kind == "warning" and note.count == 1
    assert "read as refunds" in note.message and "line 3" in note.message


def test_unknown_business_yaml_key_suggests_the_closest(tmp_path):
    folder = write_business(tmp_path / "s", data={}, extra_yaml="objectivs: []\n")
    with pytest.raises(ConfigError, match=r"unknown key 'objectivs'\. Did you mean 'objectives'\?"):
        open_plan(folder)


def test_unknown_table_name_suggests_the_closest(tmp_path):
    folder = write_business(tmp_path / "s", data={"order": "o.csv"})
    with pytest.raises(ConfigError, match=r"unknown table 'order'\. Did you mean 'orders'\?"):
        open_plan(folder)


def test_missing_business_folder_lists_samples_and_workbook_new(tmp_path):
    with pytest.raises(ConfigError) as err:
        open_plan(tmp_path / "nowhere")
    assert "business folder" in str(err.value) and "not found" in str(err.value)
    assert "harbor_coffee" in str(err.value) and "workbook new NAME" in str(err.value)


def test_missing_data_file_names_the_path_and_the_fix(tmp_path):
    folder = write_business(tmp_path / "s", data={"orders": "data/orders.csv"})
    plan = open_plan(folder)
    assert not plan.has("orders")
    assert "data/orders.csv does not exist" in plan.why_missing("orders")
    assert "relative to the business folder" in plan.why_missing("orders")


def test_raw_input_files_are_never_modified(orders_business):
    folder = orders_business("unparseable_dates.csv")
    before = hashlib.sha256((folder / "data/orders.csv").read_bytes()).hexdigest()
    _orders(folder)
    assert hashlib.sha256((folder / "data/orders.csv").read_bytes()).hexdigest() == before
    assert (BAD_INPUT / "unparseable_dates.csv").read_bytes() == (folder / "data/orders.csv").read_bytes()


def test_excel_source_is_read_with_money_and_dates(tmp_path):
    import pandas as pd

    folder = write_business(tmp_path / "s", data={"orders": "data/orders.xlsx"})
    (folder / "data").mkdir()
    pd.DataFrame({"Order ID": ["O1", "O2"], "order_date": ["2025-01-03", "01/04/2025"],
                  "revenue": ["$1,200.00", "15.5"]}).to_excel(folder / "data/orders.xlsx",
                                                               index=False)
    _, orders = _orders(folder)
    assert orders.order_id.tolist() == ["O1", "O2"]
    assert orders.revenue.tolist() == [1200.0, 15.5]
    assert orders.order_date.dt.strftime("%Y-%m-%d").tolist() == ["2025-01-03", "2025-01-04"]
