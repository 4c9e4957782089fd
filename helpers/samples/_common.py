"""Shared pieces of the sample generators: response curves, calendars, ids, formatting, writing.

Everything here is deterministic: given the same inputs (and the same random stream) the same bytes
come out. Formatting is done explicitly (money with two decimals, ISO dates, ``true``/``false``), so
the committed files do not depend on pandas' default float or date rendering.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import io

DAY = np.timedelta64(1, "D")
SECONDS_PER_DAY = 86_400
# Mid-month anchors (day of year, 0-based) for the yearly seasonality curve.
_MONTH_MIDS = np.array([15, 45, 74, 105, 135, 166, 196, 227, 258, 288, 319, 349], dtype=float)


# --------------------------------------------------------------------------- random streams


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream for one part of a generator.

    Each table gets its own stream derived from the business seed and a fixed name, so adding a
    draw in one table never shifts the values of another.

    Parameters
    ----------
    seed : int
        The business seed.
    name : str
        A fixed label such as ``"customers"``.
    """
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


# --------------------------------------------------------------------------- media response


def geometric_adstock(spend: np.ndarray, decay: float) -> np.ndarray:
    """Carry-over of spend: ``a[t] = spend[t] + decay * a[t-1]`` (not normalised).

    A steady daily spend ``x`` gives a steady adstock of ``x / (1 - decay)``.
    """
    x = np.asarray(spend, dtype=float)
    out = np.empty_like(x)
    carry = 0.0
    for t, value in enumerate(x.tolist()):  # a few thousand days: a plain loop is fast enough
        carry = value + decay * carry
        out[t] = carry
    return out


def hill(x: np.ndarray | float, half_saturation: float, shape: float) -> np.ndarray | float:
    """Hill saturation ``x**S / (x**S + K**S)``: 0 at no spend, 0.5 at ``x = K``, 1 at infinity."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    xs = x**shape
    return xs / (xs + half_saturation**shape)


def steady_state_roas(daily_spend: float, decay: float, k: float, s: float, beta: float) -> dict:
    """Average and marginal return on ad spend of a steady daily spend.

    Revenue per day at a steady spend ``x`` is ``beta * Hill(x / (1 - decay))``. The average ROAS
    divides it by ``x``; the marginal ROAS is its derivative in ``x`` (the revenue of one more
    dollar per day, kept up).

    Returns
    -------
    dict
        ``revenue_per_day``, ``average_roas`` and ``marginal_roas``.
    """
    a = daily_spend / (1.0 - decay)
    h = float(hill(a, k, s))
    revenue = beta * h
    # d/dx Hill(x/(1-d)) = S * h * (1 - h) / a * 1/(1-d)
    marginal = beta * s * h * (1.0 - h) / a / (1.0 - decay) if a > 0 else float("inf")
    average = revenue / daily_spend if daily_spend > 0 else float("nan")
    return {"revenue_per_day": revenue, "average_roas": average, "marginal_roas": marginal}


# --------------------------------------------------------------------------- calendars


def channel_spend(campaigns: list[dict], n_days: int, channels) -> dict[str, np.ndarray]:
    """Total daily spend per channel over all campaigns (each a dict with channel and spend)."""
    out = {ch: np.zeros(n_days) for ch in channels}
    for c in campaigns:
        out[c["channel"]] = out[c["channel"]] + c["spend"]
    return out


def scaled_params(media: dict[str, dict], scale: float) -> dict[str, dict]:
    """Planted response parameters at a scale (half-saturation and beta grow with the business)."""
    return {
        ch: {**p, "half_saturation": p["half_saturation"] * scale, "beta": p["beta"] * scale}
        for ch, p in media.items()
    }


def contributions(spend: dict[str, np.ndarray], media: dict[str, dict], scale: float
                  ) -> dict[str, np.ndarray]:
    """Expected media-driven sales per channel and day: ``beta * Hill(adstock(spend))``."""
    out = {}
    for ch, p in scaled_params(media, scale).items():
        ad = geometric_adstock(spend[ch], p["decay"])
        out[ch] = p["beta"] * hill(ad, p["half_saturation"], p["shape"])
    return out


def day_range(start: str, end: str) -> np.ndarray:
    """All days from ``start`` to ``end`` inclusive, as ``datetime64[D]``."""
    return np.arange(np.datetime64(start), np.datetime64(end) + DAY, dtype="datetime64[D]")


def weekday(days: np.ndarray) -> np.ndarray:
    """Day of week, Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday)."""
    return ((days.astype("int64") + 3) % 7).astype(int)


def day_of_year(days: np.ndarray) -> np.ndarray:
    """Day of the year, 0-based."""
    years = days.astype("datetime64[Y]")
    return (days - years.astype("datetime64[D]")).astype(int)


def month_of(days: np.ndarray) -> np.ndarray:
    """Month number 1..12."""
    return days.astype("datetime64[M]").astype(int) % 12 + 1


def yearly_curve(days: np.ndarray, monthly: list[float]) -> np.ndarray:
    """Yearly seasonality: the 12 monthly multipliers placed mid-month, linearly interpolated.

    The curve wraps around the year end, so mid-December flows smoothly into mid-January.
    """
    return np.interp(day_of_year(days), _MONTH_MIDS, np.asarray(monthly, float), period=365)


def trend_curve(days: np.ndarray, start: str, growth_per_year: float) -> np.ndarray:
    """Compound growth ``(1 + g) ** years`` since ``start``."""
    years = (days - np.datetime64(start)).astype(float) / 365.25
    return (1.0 + growth_per_year) ** years


def normalised(values: list[float]) -> list[float]:
    """Values scaled to average 1 (rounded to 4 decimals so they can be recorded exactly)."""
    arr = np.asarray(values, float)
    return [round(v, 4) for v in (arr / arr.mean()).tolist()]


def in_ranges(days: np.ndarray, ranges: list[tuple[str, str]]) -> np.ndarray:
    """Boolean mask of days that fall inside any of the inclusive ``(start, end)`` ranges."""
    mask = np.zeros(len(days), dtype=bool)
    for lo, hi in ranges:
        mask |= (days >= np.datetime64(lo)) & (days <= np.datetime64(hi))
    return mask


def random_times(
    rng: np.random.Generator, days: np.ndarray, hour_weights: list[float]
) -> np.ndarray:
    """A timestamp on each day, its hour drawn from 24 weights and its minute/second uniformly."""
    w = np.asarray(hour_weights, float)
    hours = rng.choice(24, size=len(days), p=w / w.sum())
    secs = hours * 3600 + rng.integers(0, 3600, size=len(days))
    return days.astype("datetime64[s]") + secs.astype("timedelta64[s]")


def email_open_times(
    rng: np.random.Generator,
    sent: np.datetime64,
    hours: np.ndarray,
    noise_sd: float,
    late_share: float,
) -> np.ndarray:
    """When recipients open an e-mail: at their preferred hour, whatever the send time.

    The hour is the preferred one plus ``round(Normal(0, noise_sd))``; the day is the send day if
    that time is still ahead (5 minutes' grace), else the next day; a ``late_share`` of opens come
    1-3 days later still.
    """
    n = len(hours)
    hour = np.clip(hours + np.round(rng.normal(0, noise_sd, n)), 0, 23).astype(int)
    secs = hour * 3600 + rng.integers(0, 3600, n)
    day0 = sent.astype("datetime64[D]")
    sent_secs = int((sent - day0.astype("datetime64[s]")).astype(int))
    offset = np.where(secs <= sent_secs + 300, 1, 0)
    offset += np.where(rng.random(n) < late_share, rng.integers(1, 4, n), 0)
    return day0.astype("datetime64[s]") + (offset * 86400 + secs).astype("timedelta64[s]")


# --------------------------------------------------------------------------- ids and people


def make_ids(prefix: str, numbers: np.ndarray | int, width: int) -> np.ndarray:
    """Ids such as ``C000123`` from integers (or ``1..n`` when given a count)."""
    if np.isscalar(numbers):
        numbers = np.arange(1, int(numbers) + 1)
    digits = np.char.zfill(np.asarray(numbers).astype(str), width)
    return np.char.add(prefix, digits).astype(object)


def make_emails(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, taken: set | None = None
) -> np.ndarray:
    """Unique lower-case e-mail addresses on reserved domains (example.com/.org/.net).

    The local part follows the styles people use (``maria.lopez``, ``mlopez``, ``maria_l84``), and
    a number is appended where an address would repeat (also against the addresses in ``taken``).
    """
    f = np.char.lower(first.astype(str))
    s = np.char.lower(np.char.replace(last.astype(str), "'", ""))
    style = rng.choice(4, size=len(f), p=[0.4, 0.25, 0.2, 0.15])
    year = rng.integers(60, 100, size=len(f)).astype(str)
    initial = np.array([x[:1] for x in f.tolist()], dtype=object)
    local = np.where(style == 0, np.char.add(np.char.add(f, "."), s), "")
    local = np.where(style == 1, np.char.add(initial.astype(str), s), local)
    local = np.where(
        style == 2,
        np.char.add(np.char.add(f, "_"), np.char.add([x[:1] for x in s.tolist()], year)),
        local,
    )
    local = np.where(style == 3, np.char.add(s, f), local)
    domain = rng.choice(
        ["example.com", "example.org", "example.net"], size=len(f), p=[0.6, 0.25, 0.15]
    )
    out, seen = [], set(taken or ())
    for loc, dom in zip(local.tolist(), domain.tolist(), strict=True):
        email, k = f"{loc}@{dom}", 2
        while email in seen:
            email, k = f"{loc}{k}@{dom}", k + 1
        seen.add(email)
        out.append(email)
    return np.array(out, dtype=object)


def fictional_phones(rng: np.random.Generator, n: int, area_code: str) -> np.ndarray:
    """Phone numbers from the 555-0100..555-0199 block reserved for fiction (``312-555-0142``)."""
    tails = rng.integers(100, 200, size=n).astype(str)
    return np.char.add(f"{area_code}-555-0", np.char.zfill(tails, 3)).astype(object)


# --------------------------------------------------------------------------- formatting


def fmt_money(values: np.ndarray) -> np.ndarray:
    """Money with two decimals (``-0.00`` avoided); NaN becomes an empty cell."""
    v = np.round(np.asarray(values, dtype=float), 2) + 0.0
    out = np.char.mod("%.2f", np.nan_to_num(v)).astype(object)
    out[np.isnan(v)] = ""
    return out


def fmt_number(values: np.ndarray, decimals: int = 0) -> np.ndarray:
    """A number with a fixed count of decimals; NaN becomes an empty cell."""
    v = np.round(np.asarray(values, dtype=float), decimals) + 0.0
    out = np.char.mod(f"%.{decimals}f", np.nan_to_num(v)).astype(object)
    out[np.isnan(v)] = ""
    return out


def fmt_date(values: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD``; NaT becomes an empty cell."""
    v = np.asarray(values).astype("datetime64[D]")
    out = np.datetime_as_string(v, unit="D").astype(object)
    out[np.isnat(v)] = ""
    return out


def fmt_datetime(values: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS`` (local, naive); NaT becomes an empty cell."""
    v = np.asarray(values).astype("datetime64[s]")
    out = np.char.replace(np.datetime_as_string(v, unit="s"), "T", " ").astype(object)
    out[np.isnat(v)] = ""
    return out


def fmt_bool(values: np.ndarray) -> np.ndarray:
    """``true`` / ``false``."""
    return np.where(np.asarray(values, dtype=bool), "true", "false").astype(object)


# --------------------------------------------------------------------------- writing


def write_csv(path: Path, columns: dict[str, np.ndarray]) -> Path:
    """Write pre-formatted string columns as UTF-8 CSV with ``\\n`` line ends and no index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        {k: pd.Series(np.asarray(v, dtype=object), dtype=object) for k, v in columns.items()}
    )
    return io.write_atomic(
        path, lambda tmp: frame.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
    )


def write_parquet(
    path: Path, columns: dict[str, np.ndarray], timestamps: tuple[str, ...] = ()
) -> Path:
    """Write columns as Parquet (pyarrow, zstd, no pandas metadata).

    Columns named in ``timestamps`` are stored as naive second-resolution timestamps; the others
    keep the type of their array (strings, booleans, integers).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays, names = [], []
    for name, values in columns.items():
        if name in timestamps:
            arr = pa.array(np.asarray(values).astype("datetime64[s]"), type=pa.timestamp("s"))
        elif np.asarray(values).dtype == object:
            values = np.asarray(values, dtype=object)
            empty = np.equal(values, None) | np.equal(values, "")
            arr = pa.array(np.where(empty, "", values).astype(str), type=pa.string(), mask=empty)
        else:
            arr = pa.array(values)
        arrays.append(arr)
        names.append(name)
    table = pa.Table.from_arrays(arrays, names=names)
    return io.write_atomic(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def plain(obj):
    """Numpy scalars/arrays to built-in Python types, floats rounded to 6 significant digits."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [plain(v) for v in obj.tolist()]
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(f"{float(obj):.6g}")
    return obj


def write_json(path: Path, obj) -> Path:
    """Write JSON with one-space indentation and a final newline (stable key order as given)."""
    return write_text(path, json.dumps(plain(obj), indent=1, ensure_ascii=False) + "\n")


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text with ``\\n`` line ends, atomically."""
    return io.write_atomic(path, lambda tmp: tmp.write_bytes(text.encode("utf-8")))
