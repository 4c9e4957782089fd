"""The run's report: one self-contained HTML page, an Excel workbook and code-free notebook copies.

Everything is built from the run folder: ``steps/NN.json`` for the page, the JSON artifacts for the
workbook, the executed notebooks for the copies. Figures are embedded as base64 PNG (no external
files, no CDN) and every string that comes from the data is escaped by Jinja2's autoescaping, so a
business called ``<script>`` shows as text.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd

from helpers import io
from helpers.plan import KIT_ROOT, format_value

TEMPLATE = "report.html.j2"
WORKBOOK = "report.xlsx"
CLIENT_DIR = "client"  # code-free copies of the executed notebooks
MAX_ROWS = 5000  # rows per Excel sheet: the workbook holds summaries, not customer lists
# Artifacts whose tables are not for the client's workbook: row-level or internal.
NOT_IN_WORKBOOK = ("run.json", "data_quality.json")
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


def step_records(run_dir: Path) -> list[dict]:
    """The steps/NN.json records of a run folder, in step order."""
    return [io.read_json(p) for p in sorted((Path(run_dir) / "steps").glob("[0-9][0-9].json"))]


def _embed(run_dir: Path, figure: str) -> str | None:
    path = Path(run_dir) / figure
    if not path.exists():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def first_sentence(text: str, *, limit: int = 260) -> str:
    """The first sentence of a reading, cut at ``limit`` characters, for the first screen."""
    sentence = SENTENCE_END.split(text.strip(), maxsplit=1)[0] if text else ""
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def executive_lines(record: dict) -> list[str]:
    """What the first screen says for one step: the step's own ``executive`` sentences, else the
    first sentence of its summary, else why it did not run."""
    if record.get("status") != "ok":
        return [record.get("reason") or f"The step {record.get('status')}."]
    if record.get("executive"):
        return list(record["executive"])[:3]
    summary = record.get("summary") or []
    return [first_sentence(summary[0])] if summary else []


def not_run(steps: list[dict], run: dict) -> list[dict]:
    """Steps of the workbook with no record in this run folder, with the reason in words."""
    from helpers.runner import STEPS

    done = {s["step"] for s in steps}
    requested = run.get("steps_requested") or []
    out = []
    for number, name in STEPS:
        if number in done:
            continue
        why = ("it was not among the steps asked for in this run"
               if requested and number not in requested else "it has not been run yet")
        out.append({"step": number, "notebook": name,
                    "reason": f"Step {number:02d} ({name}) has no result here: {why}. Run "
                              f"`workbook run <business> --steps {number}` or notebook {name}."})
    return out


def report_context(run_dir: Path, run: dict | None = None) -> dict:
    """Everything the template shows, as plain data (tests read this, not the HTML)."""
    steps = step_records(run_dir)
    run = run or {}
    for record in steps:
        record["images"] = [img for f in record.get("figures", []) if (img := _embed(run_dir, f))]
        units, currency = record.get("units", {}), record.get("currency", "USD")
        record["headline_text"] = {key.replace("_", " "): format_value(v, units.get(key), currency)
                                   for key, v in record.get("headline", {}).items()}
        record["executive_lines"] = executive_lines(record)
    business = steps[0]["business"] if steps else Path(run.get("business", "business")).name
    failed = [s for s in run.get("steps", []) if s.get("status") == "failed"]
    return {
        "business": business,
        "campaign": run.get("campaign"),
        "generated": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "steps": steps,
        "failed": failed,
        "not_run": not_run(steps, run) if run else [],
        "counts": {s: sum(r["status"] == s for r in steps) for s in ("ok", "skipped", "failed")},
    }


def render_report(run_dir: str | Path, run: dict | None = None) -> Path:
    """Write report.html into the run folder (atomically) and return its path."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(KIT_ROOT / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    html = env.get_template(TEMPLATE).render(**report_context(Path(run_dir), run))
    return io.write_text(Path(run_dir) / "report.html", html)


# ---- report.xlsx ------------------------------------------------------------------------------
def _sheet_name(stem: str, key: str, taken: set) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", f"{stem} {key}".replace("_", " ")).strip()[:31]
    base, i = name, 2
    while name.lower() in taken:
        name = f"{base[:28]} {i}"
        i += 1
    taken.add(name.lower())
    return name


def _flat(rows: list[dict]) -> pd.DataFrame:
    """A list of records as a frame; nested values become short text so Excel can hold them."""
    frame = pd.json_normalize(rows, max_level=1)
    for col in frame.columns:
        if frame[col].map(lambda v: isinstance(v, (list, dict))).any():
            frame[col] = frame[col].map(
                lambda v: json.dumps(v, default=str) if isinstance(v, (list, dict)) else v)
    return frame.head(MAX_ROWS)


def workbook_tables(run_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The key tables of a run, one per sheet: the step summary, then every list of records in
    the run's JSON artifacts (objectives, KPI tree, budget plan, model metrics, actions, alerts,
    experiments, checklist, channel economics ...), in step order."""
    run_dir = Path(run_dir)
    steps = step_records(run_dir)
    summary = pd.DataFrame([{"step": s["step"], "title": s["title"], "status": s["status"],
                             "reason": s.get("reason", ""),
                             "what it found": " ".join(executive_lines(s))} for s in steps])
    tables, taken = {"Summary": summary}, {"summary"}
    artifacts = dict.fromkeys(a for s in steps for a in s.get("artifacts", [])
                              if a.endswith(".json") and not a.startswith("steps/"))
    for artifact in artifacts:
        path = run_dir / artifact
        if Path(artifact).name in NOT_IN_WORKBOOK or not path.exists():
            continue
        data = io.read_json(path)
        items = data.items() if isinstance(data, dict) else [("", data)]
        for key, value in items:
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                tables[_sheet_name(Path(artifact).stem, key, taken)] = _flat(value)
    return tables


def write_workbook(run_dir: str | Path) -> Path:
    """Write report.xlsx (atomically): one sheet per key table, headers bold and columns sized."""
    tables = workbook_tables(run_dir)

    def write(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            for name, frame in tables.items():
                frame.to_excel(xl, sheet_name=name, index=False)
                sheet = xl.sheets[name]
                sheet.freeze_panes = "A2"
                for cells in sheet.columns:
                    width = max((len(str(c.value)) for c in cells[:200] if c.value is not None),
                                default=8)
                    sheet.column_dimensions[cells[0].column_letter].width = min(60, width + 2)

    return io.write_atomic(Path(run_dir) / WORKBOOK, write)


# ---- code-free notebook copies ----------------------------------------------------------------
def client_copies(run_dir: str | Path) -> list[Path]:
    """An HTML copy of each executed notebook without its code (client/NN_name.html): the
    narrative, tables and charts only, images embedded and no script fetched from the web."""
    from nbconvert import HTMLExporter

    run_dir = Path(run_dir)
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    for trait in ("mathjax_url", "require_js_url", "jquery_url", "widget_renderer_url"):
        if exporter.has_trait(trait):
            setattr(exporter, trait, "")
    written = []
    for notebook in sorted((run_dir / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        body, _ = exporter.from_filename(str(notebook))
        body = SCRIPT.sub("", body)  # a static copy needs no script (some would load from a CDN)
        body = re.sub(r"<link[^>]+href=\"https?://[^\"]*\"[^>]*>", "", body)
        written.append(io.write_text(run_dir / CLIENT_DIR / f"{notebook.stem}.html", body))
    return written


def build_all(run_dir: str | Path, run: dict | None = None) -> dict[str, Path | list[Path]]:
    """report.html, report.xlsx and the code-free notebook copies of a run folder."""
    return {"html": render_report(run_dir, run), "xlsx": write_workbook(run_dir),
            "client": client_copies(run_dir)}
