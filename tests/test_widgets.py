"""The objectives form: its pure part writes business.yaml safely; building it writes nothing."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from helpers.errors import ConfigError
from helpers.params import load_settings
from helpers.plan import open_plan
from helpers.widgets import objective_from_form, objectives_form, save_objectives
from tests.conftest import ROOT, write_business

NEW = [objective_from_form("reach", "", 30, dt.date(2027, 1, 31)),
       {"type": "leads", "kpi": "leads", "target_change": 0.2}]


@pytest.fixture
def folder(tmp_path):
    """The business.yaml template, with a comment between the objectives and the next key."""
    shutil.copy(ROOT / "templates" / "business.yaml", tmp_path / "business.yaml")
    path = tmp_path / "business.yaml"
    path.write_text(path.read_text().replace("\nbudget:", "\n# money, per month\nbudget:"))
    return tmp_path


def _outside_objectives(text: str) -> tuple[list[str], list[str]]:
    lines = text.splitlines()
    start = lines.index("objectives:")
    end = next(i for i, line in enumerate(lines) if i > start and line.startswith("# money"))
    return lines[:start], lines[end:]


def test_form_values_become_a_business_yaml_objective():
    assert objective_from_form("grow_sales", "revenue", 12.5, dt.date(2027, 6, 30)) == {
        "type": "grow_sales", "kpi": "revenue", "target_change": 0.125,
        "deadline": dt.date(2027, 6, 30)}
    assert objective_from_form("reach", None, None, None) == {"type": "reach"}


def test_save_keeps_comments_and_other_keys(folder):
    before = (folder / "business.yaml").read_text()
    save_objectives(folder, NEW)
    after = (folder / "business.yaml").read_text()
    assert _outside_objectives(after) == _outside_objectives(before)
    assert "# What you want marketing to achieve" in after
    objectives = load_settings(folder).objectives
    assert [(o.type, o.kpi, o.target_change, o.deadline) for o in objectives] == [
        ("reach", None, 0.3, dt.date(2027, 1, 31)), ("leads", "leads", 0.2, None)]


def test_an_invalid_type_is_rejected_by_name_and_nothing_is_written(folder):
    before = (folder / "business.yaml").read_text()
    with pytest.raises(ConfigError, match="objective 2: unknown objective type 'sales'. "
                                          "Did you mean 'grow_sales'?"):
        save_objectives(folder, [NEW[0], {"type": "sales", "target_change": 0.1}])
    with pytest.raises(ConfigError, match="unknown KPI 'revnue'. Did you mean 'revenue'?"):
        save_objectives(folder, [{"type": "grow_sales", "kpi": "revnue"}])
    with pytest.raises(ConfigError, match="objective 1: 'deadline'"):
        save_objectives(folder, [{"type": "grow_sales", "deadline": "next spring"}])
    assert (folder / "business.yaml").read_text() == before


def test_building_the_form_writes_nothing_and_offers_only_measurable_kpis(tmp_path):
    orders = "order_id,customer_id,order_date,revenue\nO1,C1,2025-06-01,10\n"
    folder = write_business(tmp_path / "shop", data={"orders": "data/orders.csv"},
                            files={"data/orders.csv": orders})
    before = (folder / "business.yaml").read_text()
    form = objectives_form(open_plan(folder, run_dir=tmp_path / "run"))
    kind, kpi = form.children[0].children
    kind.value = "reach"
    assert [value for _, value in kpi.options] == ["new_customers", "active_customers"]
    kind.value = "leads"
    assert [value for _, value in kpi.options] == [None]  # no leads table: nothing to pick
    assert (folder / "business.yaml").read_text() == before


def test_add_then_save_in_the_form_appends_to_business_yaml(tmp_path):
    orders = "order_id,customer_id,order_date,revenue\nO1,C1,2025-06-01,10\n"
    folder = write_business(tmp_path / "shop", data={"orders": "data/orders.csv"},
                            files={"data/orders.csv": orders},
                            extra_yaml="objectives:\n  - type: grow_sales\n    target_change: 0.1\n")
    form = objectives_form(open_plan(folder, run_dir=tmp_path / "run"))
    (kind, kpi), (change, deadline), (add, _clear, save) = (b.children for b in form.children[:3])
    kind.value, change.value, deadline.value = "retention", 5.0, dt.date(2026, 3, 31)
    assert kpi.value == "repeat_rate"  # the usual KPI is preselected
    add.click()
    save.click()
    assert "Saved 2 objective(s)" in form.children[3].value
    saved = load_settings(folder).objectives
    assert [(o.type, o.kpi, o.target_change) for o in saved] == [
        ("grow_sales", None, 0.1), ("retention", "repeat_rate", 0.05)]
