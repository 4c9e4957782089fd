"""Benchmark (not a test): seconds per notebook, orchestration overhead, and batch speed-up.

    python bench/bench_workbook.py [--scale K]

Prints a table to paste into the README's performance section. With --scale K it first writes a
K-times larger copy of harbor_coffee (``workbook sample``) and runs on that.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nbformat

from helpers.runner import STEPS, Job, run_job, run_many

ROOT = Path(__file__).resolve().parents[1]


def papermill_floor(tmp: Path) -> float:
    """Seconds papermill needs for a notebook that does nothing: kernel start and bookkeeping."""
    import papermill as pm

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp / "empty.ipynb"
    nbformat.write(nb, src)
    started = time.perf_counter()
    pm.execute_notebook(str(src), str(tmp / "out.ipynb"), progress_bar=False, kernel_name="python3")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        business = ROOT / "sample_data" / "harbor_coffee"
        if args.scale != 1:
            from helpers.samples import generate

            business = generate("harbor_coffee", tmp / "harbor_coffee", scale=args.scale)
        quiet = lambda _line: None  # noqa: E731
        floor = papermill_floor(tmp)
        started = time.perf_counter()
        record = run_job(Job(business=str(business), out=str(tmp / "runs")), say=quiet)
        wall = time.perf_counter() - started
        print(f"harbor_coffee at scale {args.scale:g}, steps {STEPS[0][0]}-{STEPS[-1][0]}")
        print(f"{'notebook':<36}{'seconds':>8}")
        for step in record["steps"]:
            print(f"{step['notebook']:<36}{step['seconds']:>8.1f}  {step['status']}")
        notebooks = sum(s["seconds"] for s in record["steps"])
        print(f"{'papermill + kernel start, empty notebook':<36}{floor:>8.1f}")
        print(f"{'whole workbook (wall clock)':<36}{wall:>8.1f}")
        print(f"{'orchestration outside notebooks':<36}{wall - notebooks:>8.1f}  "
              "(settings check, run.json, report)")
        jobs = [Job(business=str(ROOT / "sample_data" / b), out=str(tmp / f"batch{w}"))
                for w in (1, 2) for b in ("harbor_coffee", "bloom_yoga")]
        timings = {}
        for workers, batch in ((1, jobs[:2]), (2, jobs[2:])):
            started = time.perf_counter()
            run_many(batch, workers=workers, progress=False)
            timings[workers] = time.perf_counter() - started
        print(f"{'batch of 2 businesses, 1 worker':<36}{timings[1]:>8.1f}")
        print(f"{'batch of 2 businesses, 2 workers':<36}{timings[2]:>8.1f}  "
              f"(speed-up {timings[1] / timings[2]:.2f}x)")


if __name__ == "__main__":
    main()
