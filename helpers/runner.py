"""Run the workbook headless with papermill: one business, or many in parallel.

Adding a step to the workbook is one line in ``STEPS``. Each business (or business x campaign) is a
job; jobs run in worker processes, a failing job is reported and the others go on, and each writes
``run.json`` (parameters, versions, per-step status and seconds) in its run folder.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from helpers import io
from helpers.errors import ConfigError, WorkbookError
from helpers.plan import KIT_ROOT, resolve_business

NOTEBOOK_DIR = KIT_ROOT / "notebooks"

# (step number, notebook name): the workbook's steps in order. One line per step.
STEPS: list[tuple[int, str]] = [
    (1, "01_objectives"),
    (2, "02_data_collection_analysis"),
    (3, "03_ai_tool_selection"),
    (4, "04_data_preparation"),
    (5, "05_campaign_strategy"),
    (6, "06_model_training"),
    (7, "07_ai_in_campaigns"),
    (8, "08_monitoring"),
    (9, "09_feedback_loop"),
    (10, "10_compliance"),
    (11, "11_roi_reporting"),
]
VERSIONED = ("helpers", "pandas", "numpy", "scikit-learn", "statsmodels", "papermill", "pandera")


def parse_steps(text: str | None) -> list[int]:
    """'1-2' -> [1, 2]; '1,3-4' -> [1, 3, 4]; None -> every step."""
    known = [n for n, _ in STEPS]
    if not text:
        return known
    chosen: set[int] = set()
    for part in str(text).split(","):
        try:
            lo, _, hi = part.strip().partition("-")
            chosen.update(range(int(lo), int(hi or lo) + 1))
        except ValueError:
            raise ConfigError(f"--steps '{text}': write steps like 1-2 or 1,3-5.") from None
    unknown = sorted(chosen - set(known))
    if unknown:
        raise ConfigError(
            f"--steps '{text}': no step {', '.join(map(str, unknown))} in this workbook; "
            f"steps available: {known[0]}-{known[-1]}."
        )
    return sorted(chosen)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in VERSIONED:
        name = "ai-campaign-workbook" if dist == "helpers" else dist
        try:
            out[dist] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


@dataclass
class Job:
    """One workbook run: a business folder, an optional campaign, the steps and parameters."""

    business: str
    campaign: str | None = None
    steps: list[int] = field(default_factory=lambda: [n for n, _ in STEPS])
    out: str = "runs"
    parameters: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{Path(self.business).name}/{self.campaign or 'default'}"

    def run_dir(self) -> Path:
        return Path(self.out).resolve() / Path(self.business).name / (self.campaign or "default")


def _error_text(exc: BaseException) -> str:
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return f"{exc.__class__.__name__}: {exc}"


def _step_status(run_dir: Path, step: int) -> str:
    record = run_dir / "steps" / f"{step:02d}.json"
    return io.read_json(record).get("status", "ok") if record.exists() else "ok"


@contextmanager
def _stderr_to(path: Path):
    """Send this process's stderr (and so the kernel's, which inherits it) to a log file.

    Kernels print start-up chatter to stderr; in a batch it belongs in the run folder, next to the
    executed notebook, not on the analyst's terminal.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _execute(job: Job, run_dir: Path, step: int, name: str, say: Callable[[str], None]) -> dict:
    import papermill as pm

    params = {"business": str(job.business), "campaign": job.campaign or "",
              "run_dir": str(run_dir), **job.parameters}
    output = run_dir / "notebooks" / f"{name}.ipynb"
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    entry = {"step": step, "notebook": name, "output": str(output.relative_to(run_dir))}
    try:
        with _stderr_to(run_dir / "logs" / f"{name}.log"):
            pm.execute_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"), str(output),
                                parameters=params, kernel_name="python3", progress_bar=False,
                                cwd=str(NOTEBOOK_DIR))
        entry.update(status=_step_status(run_dir, step), error=None)
    except Exception as exc:  # a failing notebook is recorded, the run goes on
        entry.update(status="failed", error=_error_text(exc))
    entry["seconds"] = round(time.perf_counter() - started, 2)
    say(f"{job.label:<32} {name:<34} {entry['status']:<8} {entry['seconds']:6.1f} s"
        + (f"  {entry['error'][:200]}" if entry["error"] else ""))
    return entry


def run_job(job: Job, say: Callable[[str], None] = print) -> dict:
    """Run one job's steps in order and write its run.json; never raises for a failed step."""
    started = time.perf_counter()
    record = {"business": str(job.business), "campaign": job.campaign, "parameters": job.parameters,
              "steps_requested": job.steps, "versions": versions(), "steps": [],
              "started_at": dt.datetime.now().isoformat(timespec="seconds")}
    run_dir = job.run_dir()
    record["run_dir"] = str(run_dir)
    try:
        from helpers.params import load_settings

        job.business = str(resolve_business(job.business))
        load_settings(job.business, job.campaign)
    except WorkbookError as exc:
        record.update(ok=False, error=str(exc), seconds=round(time.perf_counter() - started, 2))
        say(f"{job.label:<32} {'(setup)':<34} {'failed':<8}         {exc}")
        io.write_json(run_dir / "run.json", record)
        return record
    names = dict(STEPS)
    for step in job.steps:
        record["steps"].append(_execute(job, run_dir, step, names[step], say))
        io.write_json(run_dir / "run.json", record)
    record["ok"] = all(s["status"] != "failed" for s in record["steps"])
    try:
        from helpers.report import build_all

        built = build_all(run_dir, record)  # report.html, report.xlsx, client/*.html
        record["report"] = str(built["html"].relative_to(run_dir))
        record["workbook"] = str(built["xlsx"].relative_to(run_dir))
        record["client_copies"] = [str(p.relative_to(run_dir)) for p in built["client"]]
    except Exception:  # the report must not hide the steps' results
        record["report_error"] = traceback.format_exc(limit=3)
        record["ok"] = False
    record["seconds"] = round(time.perf_counter() - started, 2)
    record["finished_at"] = dt.datetime.now().isoformat(timespec="seconds")
    io.write_json(run_dir / "run.json", record)
    return record


def _print_line(line: str) -> None:
    print(line, flush=True)


def _quiet(_line: str) -> None:
    pass


def _run_in_worker(job: Job, progress: bool) -> dict:
    return run_job(job, say=_print_line if progress else _quiet)


def run_many(jobs: list[Job], *, workers: int = 1, progress: bool = True) -> list[dict]:
    """Run many jobs, ``workers`` at a time in separate processes; results in job order.

    With ``progress`` each finished step prints one line (business, notebook, status, seconds).
    """
    say = _print_line if progress else _quiet
    if workers <= 1 or len(jobs) == 1:
        return [run_job(job, say) for job in jobs]
    import multiprocessing

    results: dict[int, dict] = {}
    ctx = multiprocessing.get_context("spawn")  # a clean interpreter per worker, no forked state
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
        futures = {pool.submit(_run_in_worker, job, progress): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except Exception as exc:  # a worker that died: report it, keep the others
                results[i] = {"business": jobs[i].business, "campaign": jobs[i].campaign,
                              "ok": False, "error": _error_text(exc), "steps": []}
                say(f"{jobs[i].label:<32} worker failed: {_error_text(exc)}")
    sys.stdout.flush()
    return [results[i] for i in range(len(jobs))]
