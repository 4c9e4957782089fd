"""The run report: built from the step records, self-contained, every data string escaped."""

from __future__ import annotations

from helpers import io
from helpers.report import render_report, report_context


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
