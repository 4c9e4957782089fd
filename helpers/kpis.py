"""KPIs: the catalogue, their values over any window, baselines and feasibility.

A KPI (templates/kpis.yaml) is computed from one canonical table as a numerator and, for rates, a
denominator. Each part is kept as dated rows so that any window aggregates correctly: a flow is a
sum over the window, a rate is sum(numerator) / sum(denominator) over the window (never a mean of
daily rates), and a level (distinct customers) is counted once per window.

Feasibility compares a required change with the changes the business has already made over windows
of the same length. Step 01 sets targets with these; later steps pace against them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from helpers import schemas
from helpers.errors import UnknownNameError

DAYS_PER_MONTH = 30.4375
DAY = pd.Timedelta(days=1)
YEAR = 12  # months in a baseline window
LOOKBACK = 12  # months looked back to call a buyer returning; also history needed for "new"
ADDITIVE = ("count", "sum", "present", "true", "first")  # parts that add up day by day
VERDICTS = ("within normal variation", "realistic", "ambitious", "never achieved",
            "not enough history")


# ---- the catalogue ---------------------------------------------------------------------------
@cache
def _catalogue() -> dict:
    from helpers.io import read_yaml
    from helpers.plan import KIT_ROOT

    return read_yaml(KIT_ROOT / "templates" / "kpis.yaml")


def kpi_catalogue() -> dict:
    """The KPI catalogue: ``{"defaults": {type: [kpi, ...]}, "kpis": {id: spec}}`` (a copy)."""
    return copy.deepcopy(_catalogue())


def kpi_spec(kpi: str) -> dict:
    """One KPI's spec with its ``id``; UnknownNameError names the closest KPI."""
    kpis = _catalogue()["kpis"]
    if kpi not in kpis:
        raise UnknownNameError.for_name(kpi, kpis, what="KPI", where="templates/kpis.yaml")
    return {"id": kpi, **kpis[kpi]}


def _parts(spec: dict) -> list[str]:
    return [p for p in (spec["numerator"], spec.get("denominator")) if p]


def kpi_status(plan, kpi: str, *, frame: pd.DataFrame | None = None) -> str:
    """'' when the business can measure ``kpi``, else a sentence saying which data would enable it.
    ``frame``: the KPI's table when the caller already holds it."""
    spec = kpi_spec(kpi)
    table = spec["table"]
    if not plan.has(table):
        return f"{spec['name']} is computed from the {table} table; {plan.why_missing(table)}"
    frame = plan.table(table) if frame is None else frame
    for col in (p.partition(":")[2] for p in _parts(spec)):
        if col and (col not in frame or frame[col].isna().all()):
            return (f"{spec['name']} needs a filled `{col}` column in your {table} table: add it to "
                    f"the file, or map your own column to it with `mapping:` under data.{table} "
                    "in business.yaml.")
    return ""


def default_kpi(plan, objective_type: str) -> str:
    """The usual KPI of an objective type: the first of its defaults that the business can measure
    (the first default when none can, so that the message names the data to add)."""
    choices = _catalogue()["defaults"][objective_type]
    return next((k for k in choices if not kpi_status(plan, k)), choices[0])


def kpi_options(plan, objective_type: str) -> list[tuple[str, str]]:
    """(label, id) of the KPIs serving ``objective_type`` that the business can measure,
    the default first; for a dropdown."""
    ids = [k for k, s in _catalogue()["kpis"].items() if objective_type in s["objectives"]]
    ids = sorted((k for k in ids if not kpi_status(plan, k)),
                 key=lambda k: k != default_kpi(plan, objective_type))
    return [(_catalogue()["kpis"][k]["name"], k) for k in ids]


def kpi_menu(plan) -> pd.DataFrame:
    """Every KPI of the catalogue: what it serves, its table, whether this business can measure it
    and, if not, why; ``default_for`` lists the objective types it is the usual KPI of."""
    defaults = {t: default_kpi(plan, t) for t in _catalogue()["defaults"]}
    rows = []
    for kpi, spec in _catalogue()["kpis"].items():
        why = kpi_status(plan, kpi)
        rows.append({"kpi": kpi, "name": spec["name"], "serves": ", ".join(spec["objectives"]),
                     "table": spec["table"], "unit": spec["unit"], "measurable": not why,
                     "default_for": ", ".join(t for t, k in defaults.items() if k == kpi and not why),
                     "why_not": why})
    return pd.DataFrame(rows)


# ---- computing a KPI -------------------------------------------------------------------------
def _part_rows(frame: pd.DataFrame, part: str, date_col: str, as_of: pd.Timestamp) -> pd.DataFrame:
    how, _, col = part.partition(":")
    rows = pd.DataFrame({"date": frame[date_col].dt.normalize(), "value": 1.0})
    if how == "sum":
        rows["value"] = pd.to_numeric(frame[col], errors="coerce").fillna(0.0)
    elif how == "present":
        rows["value"] = frame[col].notna().astype(float)
    elif how == "true":
        rows["value"] = frame[col].fillna(False).astype(float)
    elif how in ("first", "distinct", "returning"):
        rows = rows.assign(who=frame[col]).dropna(subset=["who", "date"])
        if how == "first":  # one row per customer, on the day of their first purchase
            rows = rows.sort_values("date", kind="stable").drop_duplicates("who")
    rows = rows.dropna(subset=["date"])
    return rows[rows["date"] <= as_of].sort_values("date", kind="stable")


def kpi_events(plan, kpi: str, *, frame: pd.DataFrame | None = None) -> dict:
    """{"numerator": (how, rows), "denominator": ...}: the dated rows of each part of the KPI."""
    spec = kpi_spec(kpi)
    frame = plan.table(spec["table"]) if frame is None else frame
    date_col = schemas.TABLES[spec["table"]].date_column
    return {name: (part.partition(":")[0], _part_rows(frame, part, date_col, plan.as_of))
            for name, part in zip(("numerator", "denominator"), _parts(spec), strict=False)}


def _part_windows(how: str, rows: pd.DataFrame, starts, ends) -> np.ndarray:
    starts, ends = pd.DatetimeIndex(starts), pd.DatetimeIndex(ends)
    if how in ADDITIVE:
        daily = rows.groupby("date")["value"].sum()
        cum = np.concatenate([[0.0], daily.cumsum().to_numpy()])
        days = pd.DatetimeIndex(daily.index)
        return cum[days.searchsorted(ends, side="right")] - cum[days.searchsorted(starts)]
    days, (codes, names) = pd.DatetimeIndex(rows["date"]), pd.factorize(rows["who"])
    out = []
    for start, end in zip(starts, ends, strict=True):  # rows are sorted by date
        lo, hi = days.searchsorted(start), days.searchsorted(end, side="right")
        buyers = np.unique(codes[lo:hi])
        if how == "returning":  # also bought in the LOOKBACK months before the window
            seen = np.zeros(len(names), dtype=bool)
            seen[codes[days.searchsorted(start - pd.DateOffset(months=LOOKBACK)):lo]] = True
            buyers = buyers[seen[buyers]]
        out.append(len(buyers))
    return np.asarray(out, dtype=float)


def window_values(events: dict, starts, ends) -> pd.DataFrame:
    out = pd.DataFrame({"start": pd.DatetimeIndex(starts)}, index=pd.DatetimeIndex(ends))
    for name, (how, rows) in events.items():
        out[name] = _part_windows(how, rows, starts, ends)
    den = out.get("denominator")
    out["value"] = out["numerator"] if den is None else out["numerator"] / den.where(den > 0)
    return out


def _daily_part(how: str, rows: pd.DataFrame) -> pd.Series:
    if how in ADDITIVE:
        return rows.groupby("date")["value"].sum()
    days = rows[["who", "date"]].drop_duplicates().sort_values(["who", "date"])
    if how == "returning":  # the customer's previous purchase day is within LOOKBACK months
        previous = days.groupby("who")["date"].shift(1)
        days = days[previous >= days["date"] - pd.DateOffset(months=LOOKBACK)]
    return days.groupby("date")["who"].size().astype(float)


def kpi_daily(plan, kpi: str) -> pd.DataFrame:
    """The KPI day by day up to ``plan.as_of``: ``numerator`` (and ``denominator`` for a rate) and
    ``value``. Aggregate a rate over a window as sum(numerator) / sum(denominator), never as the
    mean of daily values; levels (distinct customers) do not add up across days at all."""
    events = kpi_events(plan, kpi)
    start = events["numerator"][1]["date"].min()
    days = pd.date_range(start, plan.as_of, freq="D") if pd.notna(start) else pd.DatetimeIndex([])
    out = pd.DataFrame({name: _daily_part(how, rows).reindex(days, fill_value=0.0)
                        for name, (how, rows) in events.items()}, index=days)
    den = out.get("denominator")
    out["value"] = out["numerator"] if den is None else out["numerator"] / den.where(den > 0)
    return out


def _history_days(events: dict, as_of: pd.Timestamp) -> int:
    dates = events["numerator"][1]["date"]
    return int((as_of - dates.min()).days + 1) if len(dates) else 0


def _months(days: float) -> int:
    return int(round(days / DAYS_PER_MONTH))


def _usable_months(events: dict, as_of: pd.Timestamp) -> int:
    """Months of history a window can use: a KPI about first or returning customers first needs
    LOOKBACK months to know who bought before (otherwise everyone looks new at the start)."""
    lookback = LOOKBACK if any(how in ("first", "returning") for how, _ in events.values()) else 0
    return max(0, _months(_history_days(events, as_of)) - lookback)


def _month_ends(as_of: pd.Timestamp, n: int) -> pd.DatetimeIndex:
    """The ends of the n months up to ``as_of``, oldest first (calendar months when as_of is a
    month end, otherwise months ending on as_of's day)."""
    if as_of.is_month_end:
        return pd.date_range(end=as_of, periods=n, freq="ME")
    return pd.DatetimeIndex([as_of - pd.DateOffset(months=k) for k in range(n - 1, -1, -1)])


def add_months(day: pd.Timestamp, k: int) -> pd.Timestamp:
    """``day`` + k months, staying on month ends (30 Sep + 3 months = 31 Dec)."""
    return day + (pd.offsets.MonthEnd(k) if day.is_month_end else pd.DateOffset(months=k))


def kpi_monthly(plan, kpi: str, *, months: int = 1, events: dict | None = None) -> pd.DataFrame:
    """The KPI over windows of ``months`` months ending at each month end up to ``plan.as_of``
    (``months=12`` gives trailing-12-month values); only windows the history fully covers."""
    events = events or kpi_events(plan, kpi)
    n = _usable_months(events, plan.as_of) - months + 1
    if n <= 0:
        return window_values(events, [], [])
    ends = _month_ends(plan.as_of, n + months)
    return window_values(events, ends[:n] + pd.Timedelta(days=1), ends[months:])


# ---- baselines -------------------------------------------------------------------------------
def _baseline_row(plan, kpi: str, frames: dict) -> dict:
    spec, as_of = kpi_spec(kpi), plan.as_of
    row = {"kpi": kpi, "name": spec["name"], "unit": spec["unit"]}
    why = kpi_status(plan, kpi, frame=frames.get(spec["table"]))
    if why:
        return {**row, "months_of_history": 0, "note": why}
    events = kpi_events(plan, kpi, frame=frames[spec["table"]])
    hist = _usable_months(events, as_of)
    day, e = DAY, _month_ends(as_of, 2 * YEAR + 1)
    windows = {"last_90d": (as_of - 89 * day, as_of, 3), "prior_90d": (as_of - 179 * day,
               as_of - 90 * day, 6), "last_12m": (e[YEAR] + day, as_of, YEAR),
               "prior_12m": (e[0] + day, e[YEAR], 2 * YEAR)}
    values = window_values(events, [w[0] for w in windows.values()],
                            [w[1] for w in windows.values()])["value"].to_numpy()
    for (name, (_, _, need)), value in zip(windows.items(), values, strict=True):
        row[name] = value if hist >= need else np.nan
    for span in ("90d", "12m"):
        prior = row[f"prior_{span}"]
        row[f"change_{span}"] = row[f"last_{span}"] / prior - 1 if prior else np.nan
    early = (f" (the first {LOOKBACK} only tell new buyers from returning ones)"
             if hist < _months(_history_days(events, as_of)) else "")
    note = (f"{spec['name']}: only {hist} months of usable history{early}, so no 12-month "
            "baseline yet (it needs 12) and no comparison with the year before (24)."
            if hist < YEAR else f"{spec['name']}: {hist} months of usable history{early}, so the "
            "last 12 months cannot be compared with the 12 before yet (that needs 24)."
            if hist < 2 * YEAR else "")
    return {**row, "months_of_history": hist, "note": note}


def baselines(plan, kpis: list[str] | None = None, *, prepared: bool = False) -> pd.DataFrame:
    """Each KPI over the last and prior 90 days and 12 months, windows ending at ``plan.as_of``.

    Flows are sums over the window, rates a ratio of sums, levels counted once per window. A
    window the history does not cover is NaN and ``note`` says so. ``kpis`` defaults to the
    objectives' KPIs, then every other KPI the business can measure. ``prepared`` reads the
    cleaned tables of step 04 (steps 05 on) instead of the tables as loaded (steps 01-02).
    """
    catalogue = _catalogue()["kpis"]
    tables = {s["table"] for k, s in catalogue.items() if kpis is None or k in kpis}
    read = plan.prepared if prepared else plan.table
    frames = {t: read(t) for t in tables if plan.has(t)}  # one copy of each table
    if kpis is None:
        wanted = [o.kpi or default_kpi(plan, o.type) for o in plan.settings.objectives]
        wanted += [k for k, s in catalogue.items()
                   if not kpi_status(plan, k, frame=frames.get(s["table"]))]
        kpis = [k for k in dict.fromkeys(wanted) if k in catalogue]
    cols = ["kpi", "name", "unit", "last_90d", "prior_90d", "change_90d", "last_12m", "prior_12m",
            "change_12m", "months_of_history", "note"]
    return pd.DataFrame([_baseline_row(plan, k, frames) for k in kpis], columns=cols)


# ---- feasibility -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Feasibility:
    """How a required change compares with the KPI's own past changes over the same horizon."""

    verdict: str
    required_change: float
    horizon_months: int
    past_median: float = np.nan  # typical past change over the horizon
    past_best: float = np.nan  # best sustained change over the horizon
    past_low: float = np.nan  # 10th percentile
    past_high: float = np.nan  # 90th percentile
    noise: float = np.nan  # spread (std) of past changes: smaller targets cannot be told apart
    volatility: float = np.nan  # std of month-to-month log changes
    windows: int = 0
    method: str = ""
    text: str = ""


def _level(series: pd.DataFrame | pd.Series, window: int, kind: str) -> pd.Series:
    if isinstance(series, pd.DataFrame):
        if "denominator" in series and series["denominator"].notna().any():
            num, den = (series[c].rolling(window).sum() for c in ("numerator", "denominator"))
            return num / den.where(den > 0)
        series = series["value"]
    roll = series.rolling(window)
    return roll.sum() if kind == "flow" else roll.mean()


def _past_growth(series, h: int, trailing, kind: str) -> tuple[pd.Series, str]:
    level = trailing if trailing is not None else _level(series, YEAR, kind)
    growth = level / level.shift(h).where(level.shift(h) > 0) - 1
    if growth.count() >= 3:
        return growth, "12-month value"
    level3 = _level(series, 3, kind)
    level3 = level3.where(level3 > 0)
    yoy = level3 / level3.shift(YEAR) - 1
    if yoy.count() >= 3:
        return (1 + yoy) ** (h / YEAR) - 1, "3-month value, from its change on a year earlier"
    return level3 / level3.shift(h) - 1, "3-month value (seasons not removed: under 2 years of data)"


def feasibility(series: pd.DataFrame | pd.Series, *, required_change: float, horizon_months: float,
                trailing: pd.Series | None = None, kind: str = "flow",
                direction: str = "up") -> Feasibility:
    """Judge a required change against the KPI's monthly history.

    Parameters
    ----------
    series : monthly values, oldest first (a Series, or a frame with ``numerator``/``denominator``
        so that windows of a rate are ratios of sums).
    required_change : relative change needed, e.g. 0.12 for +12 %.
    horizon_months : months to the deadline.
    trailing : exact 12-month values per month (from ``kpi_monthly(months=12)``); else built from
        ``series`` (sums for a flow, ratios or means otherwise).
    kind, direction : from the catalogue; ``direction="down"`` means a fall is the goal.

    Returns
    -------
    Feasibility with verdict "within normal variation" (smaller than the spread of past changes),
    "realistic" (at most the median past change), "ambitious" (at most the best), "never achieved"
    or "not enough history" (under 12 months, or under 3 comparable windows).
    """
    h = max(1, int(round(horizon_months)))
    values = series["value"] if isinstance(series, pd.DataFrame) else series
    logs = np.log(values.where(values > 0).astype(float))
    base = {"required_change": float(required_change), "horizon_months": h,
            "volatility": float(logs.diff().std())}
    if values.count() < YEAR:
        return Feasibility("not enough history", **base, text=(
            f"Only {values.count()} months of history: at least 12 are needed to see what change "
            f"over {h} months is normal. Treat the target as a guess and review it in 3 months."))
    growth, method = _past_growth(series, h, trailing, kind)
    sign = 1 if direction == "up" else -1
    past, need = sign * growth.dropna(), sign * required_change
    if len(past) < 3:
        return Feasibility("not enough history", **base, windows=len(past), method=method, text=(
            f"Only {len(past)} past stretch{'es' * (len(past) != 1)} of {h} months to compare "
            "with; at least 3 are needed."))
    q = (sign * past).quantile([0.1, 0.9])
    stats = {"past_median": sign * past.median(), "past_best": sign * past.max(),
             "past_low": q.iloc[0], "past_high": q.iloc[1], "noise": past.std()}
    verdict = ("within normal variation" if abs(need) < stats["noise"] else "realistic"
               if need <= past.median() else "ambitious" if need <= past.max() else "never achieved")
    text = (f"The target needs {required_change:+.1%} in {h} months. In {len(past)} past "
            f"stretches of {h} months, the {method} changed by {stats['past_median']:+.1%} in a "
            f"typical stretch and {stats['past_best']:+.1%} at best; ordinary variation is about "
            f"±{stats['noise']:.1%}. Month to month, seasons included, the KPI moves by about "
            f"±{base['volatility']:.1%}. Verdict: {verdict}.")
    return Feasibility(verdict, **base, **{k: float(v) for k, v in stats.items()},
                       windows=len(past), method=method, text=text)
