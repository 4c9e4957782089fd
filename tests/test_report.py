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
