"""The repository's own rules: notebook structure (STYLE.md), dependency lists in sync, templates."""

from __future__ import annotations

import ast
import re
import tomllib

import nbformat
import pytest
import yaml

from helpers.runner import NOTEBOOK_DIR, STEPS
from helpers.schemas import TABLES
from tests.conftest import ROOT

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
SHARED = ("business", "campaign", "run_dir", "seed")


def test_every_runner_step_has_its_notebook():
    for number, name in STEPS:
        assert (NOTEBOOK_DIR / f"{name}.ipynb").exists(), name
        assert name.startswith(f"{number:02d}_")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_structure(path):
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    number = path.name[:2]
    assert cells[0].cell_type == "markdown"
    assert re.match(rf"# {number} · \S", cells[0].source), "first cell: '# NN · Title'"
    assert "You need" in cells[1].source and "You will produce" in cells[1].source
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert cells[2] is tagged[0], "the parameters cell comes right after You need / You will produce"
    assert any(c.cell_type == "markdown" and c.source.startswith("## What to do next")
               for c in cells)
    assert any(c.cell_type == "markdown" and c.source.startswith("## Setup") for c in cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_holds_typed_literals_with_comments(path):
    cell = next(c for c in nbformat.read(path, as_version=4).cells
                if "parameters" in c.get("metadata", {}).get("tags", []))
    tree = ast.parse(cell.source)
    names = []
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign), f"'{ast.unparse(node)}' needs a type hint"
        ast.literal_eval(node.value)  # literals only: derived values go in the next cell
        names.append(node.target.id)
    assert tuple(names[:4]) == SHARED
    for line in cell.source.splitlines():
        assert "#" in line, f"parameter without a comment: {line}"


@pytest.mark.parametrize("path", sorted(NOTEBOOK_DIR.glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_notebooks_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


def _requirements(items):
    out = {}
    for item in items:
        if not isinstance(item, str) or item.startswith("python") or item == "pip":
            continue
        name, _, bound = item.partition(">=")
        out[name.strip().lower().replace("_", "-")] = bound.strip()
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = _requirements(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_deps = _requirements(env["dependencies"])
    assert conda_deps == pip_deps, (
        f"only in pyproject: {set(pip_deps.items()) - set(conda_deps.items())}; "
        f"only in environment.yml: {set(conda_deps.items()) - set(pip_deps.items())}")


def test_blank_csv_templates_match_the_canonical_columns():
    for name, spec in TABLES.items():
        header = (ROOT / "templates" / "data" / f"{name}.csv").read_text().strip().split(",")
        assert header == list(spec.columns), name


def test_data_dictionary_by_table_lists_every_table_with_its_required_columns():
    from helpers.schemas import data_dictionary

    by_table = data_dictionary(by_table=True)
    assert list(by_table.index) == list(TABLES)
    assert by_table.loc["orders", "required"] == "order_id, order_date, revenue"
    assert by_table.loc["orders", "columns"].startswith("order_id, customer_id, order_date")
