"""The plan: the one object a notebook holds.

``open_plan`` finds the business folder, reads its settings, and gives access to its tables
(read, coerced and checked on first use, then cached), to the run folder where every step saves its
artifacts atomically, and to the step records (``steps/NN.json``) that the report reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import io, schemas
from helpers.errors import ConfigError, MissingDataError
from helpers.params import BUSINESS_FILE, Settings, load_settings
from helpers.tables import Note, coerce_table, combine_sources, match_columns

KIT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = KIT_ROOT / "sample_data"
PII_NAME = re.compile(r"(e-?mail|phone|mobile|first_?name|last_?name|full_?name|^name$|address|"
                      r"street|postcode|zip)", re.IGNORECASE)


SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}


def money(value: float, currency: str, *, decimals: int = 0) -> str:
    """An amount for a sentence: '$12,340', '-€5' or '12,340 SEK' (no symbol known)."""
    sym, text = SYMBOLS.get(currency), f"{abs(value):,.{decimals}f}"
    sign = "-" if value < 0 else ""
    return f"{sign}{sym}{text}" if sym else f"{sign}{text} {currency}"


def format_value(value, unit: str | None = None, currency: str = "USD") -> str:
    """A value for people by its unit: '$509,499', '$43.98', '52.7%', '2,908', '0.83', or the
    text as is. ``unit`` is "money", "percent" (or "rate", as the KPI catalogue says), "count" or
    "number"."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if unit == "money":
        return money(value, currency, decimals=2 if abs(value) < 100 else 0)
    if unit in ("percent", "rate"):
        return f"{value:.1%}"
    if unit == "count" or isinstance(value, int):
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"


def resolve_business(business: str | Path) -> Path:
    """The folder of a business: a path (absolute, or relative to the current folder or the kit),
    or the name of a sample business."""
    candidates = [Path(business).expanduser()]
    if not candidates[0].is_absolute():
        candidates += [KIT_ROOT / business, SAMPLE_DIR / str(business)]
    for path in candidates:
        if (path / BUSINESS_FILE).exists():
            return path.resolve()
    samples = sorted(p.name for p in SAMPLE_DIR.glob("*") if (p / BUSINESS_FILE).exists())
    raise ConfigError(
        f"business folder '{business}' not found (looked in {', '.join(map(str, candidates))}). "
        f"Give the path of a folder holding a business.yaml, one of the samples "
        f"({', '.join(samples)}), or create a new one with `workbook new NAME`."
    )


def default_run_dir(business_dir: Path, campaign: str | None) -> Path:
    """runs/<business>/<campaign or default> in the kit (or $WORKBOOK_RUNS_DIR when set)."""
    base = Path(os.environ.get("WORKBOOK_RUNS_DIR") or KIT_ROOT / "runs")
    return base / business_dir.name / (campaign or "default")


def mask_pii(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with columns named like personal data (email, phone, names, address) masked."""
    out = frame.copy()
    for col in out.columns:
        if PII_NAME.search(str(col)):
            out[col] = out[col].where(out[col].isna(), "•••")
    return out


@dataclass
class Plan:
    """Settings, tables and the run folder of one business (and optionally one campaign)."""

    business_dir: Path
    settings: Settings
    run_dir: Path
    campaign: str | None = None
    use_cache: bool = True  # keep loaded tables in the run folder for the next notebook
    notes: list[Note] = field(default_factory=list)
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _missing: dict[str, str] = field(default_factory=dict, repr=False)
    _exports: dict[tuple, Any] = field(default_factory=dict, repr=False)
    _read_prepared: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _detected: dict[str, str | None] = field(default_factory=dict, repr=False)
    _saved: list[str] = field(default_factory=list, repr=False)
    _figures: list[str] = field(default_factory=list, repr=False)
    _prepared: Any = field(default=None, repr=False)  # step 04's Prepared, made on first use
    _raw: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)  # Plan.raw, read once
    _started: float = field(default_factory=time.perf_counter, repr=False)

    # ---- the business ------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.settings.business.name

    @property
    def currency(self) -> str:
        return self.settings.business.currency

    @cached_property
    def as_of(self) -> pd.Timestamp:
        """'Today' for the analysis: business.as_of, else the latest order or event date.

        Worked out once: it loads every declared table, so nothing later can change it."""
        if self.settings.business.as_of:
            return pd.Timestamp(self.settings.business.as_of)
        latest = []
        for table in self.available():
            spec = schemas.TABLES[table]
            if spec.date_column and spec.date_column in self._tables[table]:
                latest.append(self._tables[table][spec.date_column].max())
        latest = [d for d in latest if pd.notna(d)]
        return max(latest).normalize() if latest else pd.Timestamp(dt.date.today())

    def money(self, value: float, *, decimals: int = 0) -> str:
        """An amount in the business's currency for a sentence: '$12,340' or '12,340 SEK'."""
        return money(value, self.currency, decimals=decimals)

    # ---- tables ------------------------------------------------------------------------------
    def declared(self) -> list[str]:
        """Tables named under `data:` in business.yaml, in canonical order."""
        return [t for t in schemas.TABLES if t in self.settings.data]

    def _sources(self, table: str) -> list:
        source = self.settings.data[table]
        return source if isinstance(source, list) else [source]

    def _load(self, table: str) -> None:
        if table in self._tables or table in self._missing:
            return
        if table not in self.settings.data:
            self._missing[table] = (
                f"there is no {table} table: add `{table}: {{path: data/{table}.csv}}` under "
                f"`data:` in {self.business_dir / BUSINESS_FILE} ({schemas.TABLES[table].purpose})."
            )
            return
        if self._from_cache(table):
            return
        before = len(self.notes)
        parts, notes, empty = [], [], []
        for source in self._sources(table):
            label = str(source.path or source.url)
            try:
                raw = self._read(table, source)
                if source.mapping:
                    raw = raw.rename(columns=source.mapping)
                frame, found = coerce_table(raw, table, source=label,
                                            locale=self.settings.business.locale,
                                            timezone=self.settings.business.timezone)
            except MissingDataError as exc:
                empty.append(str(exc))
                continue
            parts.append(frame)
            notes.extend(found)
        if not parts:
            self._missing[table] = " ".join(empty)
            return
        frame, merged = combine_sources(parts, table)
        self._tables[table] = frame
        self.notes.extend(notes + merged)
        self._to_cache(table, self.notes[before:])

    # Every notebook of a run loads the same tables: the first one keeps each coerced table in
    # the run folder (cache/), the others read it back, unless business.yaml or a file has changed
    # since. Database sources are always read afresh (their changes cannot be seen from here).
    def _cache_key(self, table: str) -> str | None:
        """What the coerced table depends on besides the files (None: do not cache it)."""
        if not self.use_cache or any(s.url for s in self._sources(table)):
            return None
        b = self.settings.business
        return repr((b.locale, b.timezone, b.currency, [s.model_dump() for s in self._sources(table)]))

    def _from_cache(self, table: str) -> bool:
        key = self._cache_key(table)
        got = key and io.read_cache(self.path(f"cache/{table}"), key=key,
                                    since=self._inputs_changed_at())
        if got:
            self._tables[table] = got[0]
            self.notes.extend(Note(**{**n, "lines": tuple(n["lines"])}) for n in got[1]["notes"])
        return bool(got)

    def _to_cache(self, table: str, notes: list[Note]) -> None:
        if key := self._cache_key(table):
            io.write_cache(self.path(f"cache/{table}"), self._tables[table],
                           {"key": key, "notes": [dataclasses.asdict(n) for n in notes]})

    def _export_format(self, source) -> tuple[str | None, bool]:
        """The platform export a file source is (declared, or found from its header once per
        file: a file of the business's own with a mapping or a sheet is never sniffed), and
        whether it was detected. (None, False) for an ordinary file or a database."""
        if source.format or source.url:
            return source.format, False
        if source.mapping or source.sheet is not None:
            return None, False
        path = str(self.business_dir / source.path)
        if path not in self._detected:
            from helpers import connectors

            self._detected[path] = connectors.detect_format(path)
        return self._detected[path], self._detected[path] is not None

    def _read(self, table: str, source) -> pd.DataFrame:
        if source.url:
            url = source.url
            if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
                url = f"sqlite:///{(self.business_dir / url[len('sqlite:///'):]).resolve()}"
            return io.read_sql(url, source.query)
        from helpers import connectors

        path = self.business_dir / source.path
        fmt, _ = self._export_format(source)
        if not fmt:
            return io.read_source(path, sheet=source.sheet)
        key = (str(path), fmt)
        if key not in self._exports:
            export = connectors.read_export(path, fmt, currency=self.currency,
                                            timezone=self.settings.business.timezone)
            self._exports[key] = export
            self.notes.extend(export.notes)
        export = self._exports[key]
        if table not in export.tables:
            raise ConfigError(
                f"{self.business_dir / BUSINESS_FILE}: data.{table} points to {source.path}, a "
                f"`{fmt}` export, which holds {', '.join(export.tables) or 'no table'}, not {table}."
                f" Point data.{table} to a file that holds it, or remove it."
            )
        return export.tables[table].copy()

    def has(self, table: str) -> bool:
        """Whether the business has this table with at least one usable row."""
        schemas.spec(table)
        self._load(table)
        return table in self._tables

    def available(self) -> list[str]:
        """The declared tables that loaded with rows."""
        return [t for t in self.declared() if self.has(t)]

    def why_missing(self, table: str) -> str:
        """A sentence saying why a table is not available and how to add it."""
        self._load(table)
        return self._missing.get(table, "")

    def table(self, table: str) -> pd.DataFrame:
        """The canonical, coerced table (a copy); MissingDataError says how to provide it."""
        if not self.has(table):
            raise MissingDataError(self._missing[table])
        return self._tables[table].copy()

    def prepared(self, table: str) -> pd.DataFrame:
        """Step 04's cleaned table: prepared/<table>.parquet in the run folder if it exists, else
        ``prepare.prepare_tables`` runs once for the plan (kept) and writes every prepared table
        there. MissingDataError (``why_missing``'s sentence) for a table the business lacks."""
        if not self.has(table):
            raise MissingDataError(self._missing[table])
        path = self.path(f"prepared/{table}.parquet")
        if table in self._read_prepared:
            return self._read_prepared[table].copy()
        if path.exists() and path.stat().st_mtime >= self._inputs_changed_at():
            self._read_prepared[table] = pd.read_parquet(path)
            return self._read_prepared[table].copy()
        from helpers import prepare

        if self._prepared is None:
            self._prepared = prepare.prepare_tables(self)
            prepare.save_prepared(self, self._prepared)
        return self._prepared.tables[table].copy()

    def _inputs_changed_at(self) -> float:
        """When business.yaml or a data file last changed: a prepared table older than that is
        stale (prepared from data since edited) and is prepared again."""
        return io.newest_change([self.business_dir / BUSINESS_FILE] + [
            self.business_dir / s.path for t in self.declared() for s in self._sources(t) if s.path])

    def raw(self, table: str) -> pd.DataFrame:
        """The table's sources as read (once per plan), before coercion, stacked: canonical column
        names (after `mapping:` or the export's connector), values as in the file; for the
        "before" of step 04's scorecard. `_source` names each row's file (or database); rows keep
        their order in it, so row i of a CSV source is line i + 2."""
        schemas.spec(table)
        if table not in self.settings.data:
            raise MissingDataError(self.why_missing(table))
        if table in self._raw:
            return self._raw[table].copy(deep=False)
        parts, empty = [], []
        for source in self._sources(table):
            try:
                frame = self._read(table, source)
            except MissingDataError as exc:
                empty.append(str(exc))
                continue
            if source.mapping:
                frame = frame.rename(columns=source.mapping)
            frame = match_columns(frame, table).reset_index(drop=True)
            parts.append(frame.assign(_source=str(source.path or source.url)))
        if not parts:
            raise MissingDataError(" ".join(empty))
        self._raw[table] = pd.concat(parts, ignore_index=True)
        return self._raw[table].copy(deep=False)

    def sources(self) -> pd.DataFrame:
        """One row per declared source: table, file (its path, or the database URL without its
        password), format (as declared, or detected: "shopify_orders (detected)", else csv /
        excel / parquet / json / sql), rows_read (after an export's connector), rows_kept (minus
        those the loader left out), notes (what the connector and loader changed or noticed)."""
        kinds = (("excel", io.EXCEL_SUFFIXES), ("parquet", ".parquet"), ("json", ".json"))
        rows = []
        for table in self.declared():
            read = self.raw(table)["_source"].value_counts() if self.has(table) else {}
            for source in self._sources(table):
                label = str(source.path or source.url)
                if source.url:
                    from sqlalchemy.engine import make_url

                    label_shown = make_url(source.url).render_as_string(hide_password=True)
                    fmt = "sql"
                else:
                    label_shown, (fmt, detected) = label, self._export_format(source)
                    fmt = f"{fmt} (detected)" if detected else fmt
                    fmt = fmt or next((kind for kind, ends in kinds
                                       if label.lower().endswith(ends)), "csv")
                notes = [n for n in self.notes if n.table == table and n.source in
                         (label, str(self.business_dir / label), Path(label).name)]
                n_read = int(read.get(label, 0))
                dropped = sum(n.count for n in notes if n.kind == "dropped" and n.source == label)
                rows.append({"table": table, "file": label_shown, "format": fmt,
                             "rows_read": n_read, "rows_kept": max(n_read - dropped, 0),
                             "notes": len(notes)})
        return pd.DataFrame(rows, columns=["table", "file", "format", "rows_read", "rows_kept",
                                           "notes"])

    def preview(self, table: str, n: int = 5) -> pd.DataFrame:
        """The first rows of a table with personal data masked, for showing on screen."""
        return mask_pii(self.table(table).head(n))

    # ---- the run folder ----------------------------------------------------------------------
    def path(self, name: str) -> Path:
        return self.run_dir / name

    def save(self, name: str, obj: Any) -> Path:
        """Save an artifact in the run folder, atomically: .json (dict/list), .parquet
        (DataFrame), .png (matplotlib Figure), .csv (DataFrame), .joblib (a fitted model) or text."""
        path = self.path(name)
        if name.startswith("prepared/"):  # a prepared table kept in memory is now out of date
            self._read_prepared.pop(Path(name).stem, None)
        if name.endswith(".json"):
            io.write_json(path, obj)
        elif name.endswith(".parquet"):
            io.write_parquet(path, obj)
        elif name.endswith(".csv"):
            io.write_atomic(path, lambda tmp: obj.to_csv(tmp, index=False))
        elif name.endswith(".joblib"):
            io.write_joblib(path, obj)
        elif name.endswith(".png"):
            io.write_figure(path, getattr(obj, "figure", obj))
            self._figures.append(name)
        else:
            io.write_text(path, str(obj))
        if not name.endswith(".png"):
            self._saved.append(name)
        return path

    def save_figure(self, fig, name: str) -> Path:
        """Save a chart as figures/<name>.png for the report."""
        return self.save(f"figures/{name}.png", fig)

    def load(self, name: str) -> Any:
        """Read an artifact saved earlier in this run folder."""
        path = self.path(name)
        if not path.exists():
            raise MissingDataError(f"{path} has not been written yet: run the step that makes it.")
        if name.endswith(".json"):
            return io.read_json(path)
        if name.endswith(".parquet"):
            return pd.read_parquet(path)
        if name.endswith(".joblib"):
            return io.read_joblib(path)
        return path.read_text(encoding="utf-8")

    def record_step(self, step: int, title: str, *, status: str = "ok", reason: str = "",
                    headline: dict | None = None, summary: list[str] | None = None,
                    warnings: list[str] | None = None, units: dict[str, str] | None = None,
                    executive: list[str] | None = None) -> Path:
        """Write steps/NN.json: what the step concluded, for the report and the portfolio.

        ``headline`` holds plain numbers (or short texts); ``units`` says how to show each one:
        "money", "percent", "count" or "number" (see ``helpers.report.format_value``).
        ``executive`` holds the one or two sentences the report's first screen shows for the step
        (default: the first sentence of the summary).
        """
        if status not in ("ok", "skipped", "failed"):
            raise ValueError(f"status must be ok, skipped or failed, not {status!r}")
        record = {
            "step": step,
            "title": title,
            "business": self.name,
            "campaign": self.campaign,
            "status": status,
            "reason": reason,
            "headline": headline or {},
            "units": units or {},
            "currency": self.currency,
            "summary": summary or [],
            "executive": executive or [],
            "warnings": warnings or [],
            "figures": sorted(set(self._figures)),
            "artifacts": sorted(set(self._saved)),
            "data_notes": [n.message for n in self.notes],
            "seconds": round(time.perf_counter() - self._started, 2),
            "finished_at": dt.datetime.now().isoformat(timespec="seconds"),
        }
        return io.write_json(self.path(f"steps/{step:02d}.json"), record)


def open_plan(business: str | Path, campaign: str | None = None,
              run_dir: str | Path | None = None, **overrides: Any) -> Plan:
    """Open a business for a notebook or a script.

    Parameters
    ----------
    business : a business folder (holding business.yaml) or a sample business name.
    campaign : optional name of a campaign overlay under `campaigns:` in business.yaml.
    run_dir : where artifacts go; default ``runs/<business>/<campaign or default>``.
    overrides : settings by dotted key, e.g. ``**{"business.as_of": "2026-06-30"}``.

    Examples
    --------
    >>> plan = open_plan("harbor_coffee")
    >>> plan.table("orders").revenue.sum()  # doctest: +SKIP
    """
    business_dir = resolve_business(business)
    settings = load_settings(business_dir, campaign or None, overrides or None)
    run = Path(run_dir) if run_dir else default_run_dir(business_dir, campaign or None)
    return Plan(business_dir=business_dir, settings=settings, run_dir=run.resolve(),
                campaign=campaign or None)


__all__ = ["Plan", "open_plan", "resolve_business", "mask_pii", "money", "format_value"]
