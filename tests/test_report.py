"""The run report: built from the step records, self-contained, every data string escaped."""

from __future__ import annotations

import pytest

from helpers import io
from helpers.report import format_value, render_report, report_context


def _step(run_dir, step, **fields):
    record = {"step": step, "title": f"Step {step}", "business": "Shop", "campaign": None,
              "status": "ok", "reason": "", "headline": {}, "summary": [], "warnings": [],
              "figures": [], "artifacts": []}
    record.update(fields)
    io.write_json(run_dir / "steps" / f"{step:02d}.json", record)


def test_business_name_with_markup_is_shown_as_text(tmp_path):
    evil = "<script>alert(1)</script>"
    _step(tmp_path, 1, business=evil, summary=[f"Revenue grew for {evil}"],
          headline={"note": "<b>bold</b>"})
    html = render_report(tmp_path).read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_report_counts_statuses_and_embeds_figures(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2])
    io.write_figure(tmp_path / "figures" / "01_a.png", fig)
    _step(tmp_path, 1, figures=["figures/01_a.png"])
    _step(tmp_path, 2, status="skipped", reason="No orders table: add data/orders.csv.")
    context = report_context(tmp_path)
    assert context["counts"] == {"ok": 1, "skipped": 1, "failed": 0}
    html = render_report(tmp_path).read_text()
    assert "data:image/png;base64," in html
    assert "No orders table: add data/orders.csv." in html
    assert "http://" not in html and "https://" not in html


@pytest.mark.parametrize("value,unit,currency,expected", [
    (509498.54000000004, "money", "USD", "$509,499"), (-1200.4, "money", "EUR", "-€1,200"),
    (1500, "money", "SEK", "1,500 SEK"), (0.52673, "percent", "USD", "52.7%"),
    (2908, "count", "USD", "2,908"), (2908, None, "USD", "2,908"), (0.8282, "number", "USD", "0.83"),
    ("December", None, "USD", "December"), (None, "money", "USD", "–"), (True, None, "USD", "True"),
])
def test_headline_values_are_formatted_by_their_unit(value, unit, currency, expected):
    assert format_value(value, unit, currency) == expected


def test_report_shows_headlines_in_their_units(tmp_path):
    _step(tmp_path, 1, headline={"revenue_baseline": 509498.54, "repeat_rate": 0.3349},
          units={"revenue_baseline": "money", "repeat_rate": "percent"}, currency="GBP")
    html = render_report(tmp_path).read_text()
    assert "£509,499" in html and "33.5%" in html and "509498.54" not in html


def test_first_screen_shows_each_steps_executive_sentences_or_the_first_of_its_summary(tmp_path):
    _step(tmp_path, 1, summary=["Revenue is up 12.0% on last year. The rest is detail."])
    _step(tmp_path, 2, executive=["Move $690 a month to paid social."], summary=["Long text."])
    _step(tmp_path, 3, status="skipped", reason="No orders table: add data/orders.csv.")
    context = report_context(tmp_path)
    assert [s["executive_lines"] for s in context["steps"]] == [
        ["Revenue is up 12.0% on last year."], ["Move $690 a month to paid social."],
        ["No orders table: add data/orders.csv."]]
    html = render_report(tmp_path).read_text()
    assert html.index("Move $690 a month") < html.index('id="step-01"')


def test_steps_missing_from_a_run_say_why(tmp_path):
    from helpers.runner import STEPS

    _step(tmp_path, 1)
    context = report_context(tmp_path, {"steps_requested": [1], "steps": []})
    missing = {n["step"]: n["reason"] for n in context["not_run"]}
    assert sorted(missing) == [n for n, _ in STEPS if n != 1]
    assert "not among the steps asked for in this run" in missing[11]
    assert "`workbook run <business> --steps 11`" in missing[11]


def test_workbook_has_the_summary_and_one_sheet_per_list_of_records(tmp_path):
    import pandas as pd

    from helpers.report import write_workbook

    io.write_json(tmp_path / "roi.json", {"currency": "USD", "channels": [
        {"channel": "email", "spend": 370.0, "roas": 4.2, "notes": ["a", "b"]},
        {"channel": "paid_search", "spend": 1730.0, "roas": 2.1, "notes": []}]})
    io.write_json(tmp_path / "run.json", {"steps": [{"step": 1}]})
    _step(tmp_path, 11, summary=["ROI is positive."], artifacts=["roi.json", "run.json"])
    book = pd.read_excel(write_workbook(tmp_path), sheet_name=None)
    assert list(book) == ["Summary", "roi channels"]
    assert book["Summary"].loc[0, "what it found"] == "ROI is positive."
    assert book["roi channels"]["spend"].sum() == 2100.0
    assert book["roi channels"].loc[0, "notes"] == '["a", "b"]'


def test_client_copies_hold_outputs_but_no_code_and_load_nothing_from_the_web(tmp_path):
    import nbformat

    from helpers.report import client_copies

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · Objectives"),
                nbformat.v4.new_code_cell("secret_code = 1\nprint('Revenue grew 12%')", outputs=[
                    nbformat.v4.new_output("stream", name="stdout", text="Revenue grew 12%\n")])]
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "01_objectives.ipynb")
    [copy] = client_copies(tmp_path)
    html = copy.read_text()
    assert copy.name == "01_objectives.html"
    assert "Revenue grew 12%" in html and "secret_code" not in html
    assert "<script" not in html and 'src="http' not in html


def test_a_real_browser_renders_every_section_and_figure(tmp_path):
    import matplotlib.pyplot as plt

    from tests.conftest import browser_dom

    fig, ax = plt.subplots()
    ax.plot([1, 2])
    io.write_figure(tmp_path / "figures" / "01_a.png", fig)
    _step(tmp_path, 1, business="<script>alert(1)</script>", figures=["figures/01_a.png"])
    _step(tmp_path, 2, status="skipped", reason="No leads table.")
    dom = browser_dom(render_report(tmp_path))
    if dom is None:
        pytest.skip("no Chromium on this machine (Debian package `chromium`)")
    assert 'id="step-01"' in dom and 'id="step-02"' in dom and "No leads table." in dom
    assert dom.count('<img src="data:image/png;base64,') == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # shown as text, never run
