"""Settings: business.yaml, campaign overlays, overrides, and the messages for mistakes."""

from __future__ import annotations

import datetime as dt

import pytest

from helpers.errors import ConfigError
from helpers.params import load_settings
from tests.conftest import write_business

CAMPAIGNS = """\
budget:
  monthly: 1000
  by_channel: {email: 200, paid_search: 800}
campaigns:
  spring_sale:
    budget: {monthly: 3000}
    objectives:
      - {type: grow_sales, target_change: 0.3, deadline: 2025-05-31}
"""


def test_campaign_overlay_replaces_only_what_it_names(tmp_path):
    folder = write_business(tmp_path / "s", data={}, extra_yaml=CAMPAIGNS)
    base = load_settings(folder)
    spring = load_settings(folder, "spring_sale")
    assert base.budget.monthly == 1000 and spring.budget.monthly == 3000
    assert spring.budget.by_channel == {"email": 200, "paid_search": 800}
    assert spring.objectives[0].target_change == 0.3
    assert spring.business.name == "Test Shop"


def test_unknown_campaign_suggests_the_closest(tmp_path):
    folder = write_business(tmp_path / "s", data={}, extra_yaml=CAMPAIGNS)
    with pytest.raises(ConfigError, match=r"unknown campaign 'spring_sal'\. Did you mean "
                                          r"'spring_sale'\?"):
        load_settings(folder, "spring_sal")


def test_overrides_by_dotted_key(tmp_path):
    folder = write_business(tmp_path / "s", data={})
    settings = load_settings(folder, overrides={"business.as_of": "2025-03-31"})
    assert settings.business.as_of == dt.date(2025, 3, 31)


def test_a_bad_value_names_the_key_and_the_value(tmp_path):
    folder = write_business(tmp_path / "s", data={}, extra_yaml=(
        "objectives:\n  - {type: leads, deadline: soon}\n"))
    with pytest.raises(ConfigError, match=r"'objectives\.0\.deadline': .*date.*\(got 'soon'\)"):
        load_settings(folder)


def test_broken_yaml_gives_the_line(tmp_path):
    folder = write_business(tmp_path / "s", data={})
    (folder / "business.yaml").write_text("business:\n  name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"is not valid YAML at line \d+"):
        load_settings(folder)


def test_data_shorthand_and_source_without_location(tmp_path):
    folder = write_business(tmp_path / "s", data={}, extra_yaml="")
    text = (folder / "business.yaml").read_text().replace("data:\n", "data:\n  orders: o.csv\n")
    (folder / "business.yaml").write_text(text)
    assert load_settings(folder).data["orders"].path == "o.csv"
    (folder / "business.yaml").write_text(text.replace("orders: o.csv", "orders: {format: x}"))
    with pytest.raises(ConfigError, match=r"'data\.orders': give either `path:`"):
        load_settings(folder)


def _data_yaml(folder, block: str):
    text = (folder / "business.yaml").read_text().replace("data:\n", "data:\n" + block)
    (folder / "business.yaml").write_text(text)


def test_a_table_may_list_several_sources(tmp_path):
    folder = write_business(tmp_path / "s", data={})
    _data_yaml(folder, "  marketing_spend:\n    - {path: meta.csv, format: meta_ads}\n"
                       "    - google.csv\n")
    sources = load_settings(folder).data["marketing_spend"]
    assert [(s.path, s.format) for s in sources] == [("meta.csv", "meta_ads"), ("google.csv", None)]


@pytest.mark.parametrize("block, key", [
    ("  orders: {path: o.csv, fomat: shopify_orders}\n", "data.orders.fomat"),
    ("  marketing_spend:\n    - {path: a.csv}\n    - {path: b.csv, fomat: x}\n",
     "data.marketing_spend.1.fomat"),
])
def test_a_misspelt_source_key_is_named_with_the_valid_ones(tmp_path, block, key):
    folder = write_business(tmp_path / "s", data={})
    _data_yaml(folder, block)
    with pytest.raises(ConfigError) as info:
        load_settings(folder)
    message = str(info.value)
    assert f"unknown key '{key}'. Did you mean 'format'?" in message
    assert "Valid keys there: format, mapping, path, query, sheet, url." in message
    assert "list[" not in message and "valid dictionary" not in message
