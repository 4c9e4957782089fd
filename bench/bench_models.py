"""Benchmark (not a test): seconds per model fit of step 06 on each sample business.

    python bench/bench_models.py [--repeat N]

Prints one row per sample: the weeks and customers modelled, then the seconds of the sales
forecast (backtest and final fit, ``forecast_sales``), of one BG/NBD and one Gamma-Gamma fit on all
customers, and of the whole customer-value section (holdout check, fits, 100 parameter draws,
``customer_value``). Each figure is the best of N runs, after a first untimed run that prepares the
tables and imports statsmodels and scipy (that one-off cost is printed on its own line).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

from helpers import clv, forecast, lifetime
from helpers.plan import open_plan

SAMPLES = ("harbor_coffee", "bloom_yoga", "summit_outdoor")


def best_of(repeat: int, func) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return min(times)


def bench(name: str, run_dir: Path, repeat: int) -> dict:
    plan = open_plan(name, run_dir=run_dir)
    started = time.perf_counter()
    orders = plan.prepared("orders")
    prepare = time.perf_counter() - started
    data = lifetime.rfm_summary(orders, cutoff=plan.as_of)
    weeks = len(forecast.weekly_revenue(orders, as_of=plan.as_of))
    return {
        "sample": name, "prepare": prepare, "weeks": weeks, "customers": len(data),
        "forecast": best_of(repeat, lambda: forecast.forecast_sales(plan)),
        "bgnbd": best_of(repeat, lambda: lifetime.BetaGeo().fit(data.frequency, data.recency,
                                                                 data["T"])),
        "gamma_gamma": best_of(repeat, lambda: lifetime.GammaGamma().fit(data.frequency,
                                                                         data.monetary_value)),
        "clv_section": best_of(repeat, lambda: clv.customer_value(plan)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    import scipy.optimize  # noqa: F401
    import statsmodels.api  # noqa: F401
    first_import = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        rows = [bench(name, Path(tmp) / name, args.repeat) for name in SAMPLES]
    print(f"step 06 model fits, best of {args.repeat} runs (seconds)")
    head = ["sample", "weeks", "customers", "prepare", "forecast", "bgnbd", "gamma_gamma",
            "clv_section"]
    print(f"{head[0]:<16}" + "".join(f"{h:>12}" for h in head[1:]))
    for row in rows:
        print(f"{row['sample']:<16}{row['weeks']:>12}{row['customers']:>12}"
              + "".join(f"{row[h]:>12.2f}" for h in head[3:]))
    print(f"{'first import of statsmodels + scipy, once per kernel':<52}{first_import:>8.2f}")


if __name__ == "__main__":
    main()
