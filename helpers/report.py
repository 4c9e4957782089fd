"""The run's report: one self-contained HTML page built from ``steps/NN.json``.

Figures are embedded as base64 PNG (no external files, no CDN) and every string that comes from the
data is escaped by Jinja2's autoescaping, so a business called ``<script>`` shows as text.
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

from helpers import io
from helpers.plan import KIT_ROOT, format_value

TEMPLATE = "report.html.j2"


def step_records(run_dir: Path) -> list[dict]:
    """The steps/NN.json records of a run folder, in step order."""
    return [io.read_json(p) for p in sorted((Path(run_dir) / "steps").glob("[0-9][0-9].json"))]


def _embed(run_dir: Path, figure: str) -> str | None:
    path = Path(run_dir) / figure
    if not path.exists():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def report_context(run_dir: Path, run: dict | None = None) -> dict:
    """Everything the template shows, as plain data (tests read this, not the HTML)."""
    steps = step_records(run_dir)
    run = run or {}
    for record in steps:
        record["images"] = [img for f in record.get("figures", []) if (img := _embed(run_dir, f))]
        units, currency = record.get("units", {}), record.get("currency", "USD")
        record["headline_text"] = {key.replace("_", " "): format_value(v, units.get(key), currency)
                                   for key, v in record.get("headline", {}).items()}
    business = steps[0]["business"] if steps else Path(run.get("business", "business")).name
    failed = [s for s in run.get("steps", []) if s.get("status") == "failed"]
    return {
        "business": business,
        "campaign": run.get("campaign"),
        "generated": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "steps": steps,
        "failed": failed,
        "counts": {s: sum(r["status"] == s for r in steps) for s in ("ok", "skipped", "failed")},
    }


def render_report(run_dir: str | Path, run: dict | None = None) -> Path:
    """Write report.html into the run folder (atomically) and return its path."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(KIT_ROOT / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    html = env.get_template(TEMPLATE).render(**report_context(Path(run_dir), run))
    return io.write_text(Path(run_dir) / "report.html", html)
