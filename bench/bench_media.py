"""Benchmark (not a test): seconds per response-curve fit on each sample business, and for the
whole budget section of step 07.

    python bench/bench_media.py [--repeats N]

Each business is prepared once first (step 04, not timed). A fit includes its scipy starts, the
held-out refit and the parameter draws. bloom_yoga cannot support curves (the section falls back
to platform ROAS / CPA); its fit is timed anyway on the weeks it has, for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from helpers import budget, curves, media
from helpers.plan import open_plan

SAMPLES = ("harbor_coffee", "summit_outdoor", "bloom_yoga")


def _seconds(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def bench(name: str, run_dir: Path, repeats: int) -> dict:
    plan = open_plan(name, run_dir=run_dir / name)
    started = time.perf_counter()
    plan.prepared("orders")
    prepare = time.perf_counter() - started
    frame = media.weekly_media_frame(plan)
    supported, _ = media.support_check(frame)
    table = media.channel_support(frame)
    channels = list(table.loc[table["usable"], "channel"]) or list(table["channel"])
    holdout = media.HOLDOUT_WEEKS if supported else 0
    fits = _seconds(lambda: curves.ResponseCurves(holdout_weeks=holdout).fit(
        frame, channels=channels), repeats)
    section = _seconds(lambda: budget.budget_section(plan), repeats)
    return {"business": name, "weeks": len(frame), "channels": len(channels),
            "supported": supported, "prepare_s": prepare,
            "frame_s": min(_seconds(lambda: media.weekly_media_frame(plan), repeats)),
            "fit_median_s": statistics.median(fits), "fit_max_s": max(fits),
            "section_median_s": statistics.median(section)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    curves.ResponseCurves().fit(curves.simulate_media({"a": {"decay": 0.2, "half_saturation": 1.0,
                                                             "shape": 1.0, "beta": 1.0,
                                                             "mean_spend": 1.0}}))  # imports
    with tempfile.TemporaryDirectory() as tmp:
        rows = [bench(name, Path(tmp), args.repeats) for name in SAMPLES]
    head = ("business", "weeks", "channels", "supported", "prepare_s", "frame_s", "fit_median_s",
            "fit_max_s", "section_median_s")
    print(" | ".join(head))
    for r in rows:
        print(" | ".join(f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for k in head))


if __name__ == "__main__":
    main()
