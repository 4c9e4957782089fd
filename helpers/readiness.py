"""The catalogue of AI use cases and whether a business's data is ready for each of them.

``catalogue()`` reads templates/ai_use_cases.yaml and checks every entry against the canonical
tables (``helpers.schemas``), so a misspelt key, table or column is caught by name. ``readiness``
measures each requirement of a use case on the business's own (prepared) tables and says in words
what is there and what is missing: "lead scoring: 37 converted leads, needs at least 50".
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from helpers import schemas
from helpers.errors import ConfigError, UnknownNameError
from helpers.params import OBJECTIVE_TYPES

CATALOGUE_FILE = Path(__file__).resolve().parents[1] / "templates" / "ai_use_cases.yaml"
ENTRY_KEYS = ("id", "name", "channel", "what", "objectives", "requires", "impact", "effort",
              "monthly_cost", "time_to_value_weeks", "privacy_risk", "tools", "offered_by",
              "kit_section", "test")
CHANNELS = ("email", "social", "content", "paid_ads", "website", "customer_service", "sales_crm",
            "retention", "measurement")
LEVELS = ("high", "medium", "low")
DESIGNS = ("ab", "holdout", "backtest", "none")
METRICS = ("email_open_rate", "email_click_rate", "conversion_rate", "repeat_rate",
           "lead_conversion_rate", "revenue_per_customer", "engagement_rate", "roas", "none")
OUTSIDE = "outside the kit"
KIT_SECTIONS = {
    "02": ("Segments", "Cohorts", "Trends", "Funnel"),
    "06": ("Purchase propensity", "Churn risk", "Lead scoring", "Sales forecast",
           "Customer lifetime value"),
    "07": ("Product recommendations", "Email audiences", "Send-time", "Automated flows",
           "Budget reallocation", "Offers and pricing", "Social posting calendar", "Trending terms",
           "Hashed ad audiences"),
    "08": ("Monitoring", "Anomalies", "Alerts"),
    "09": ("A/B test analysis", "Feedback sentiment and topics"),
    "11": ("Attribution", "ROI"),
}
VALID_SECTIONS = (*(f"{nb} · {name}" for nb, names in KIT_SECTIONS.items() for name in names),
                  OUTSIDE)
# Checks on a column: {column, count, label?}; min_groups also takes weeks.
COUNTS = ("min_positive", "min_filled", "min_distinct", "min_repeat", "min_sum", "min_groups")
REQUIREMENT_KEYS = ("table", "min_rows", "min_history_days", "within_days", *COUNTS)
NUMERIC = (schemas.MONEY, schemas.NUMBER, schemas.INT)
NOUNS = {"customers": "customers", "orders": "orders", "order_items": "order lines",
         "products": "products", "marketing_spend": "ad spend records",
         "web_traffic": "website traffic records", "campaigns": "campaigns",
         "email_events": "emails sent", "web_sessions": "website sessions", "leads": "leads",
         "feedback": "feedback messages", "experiments": "experiment records",
         "social_posts": "social posts"}
DAY = pd.Timedelta(days=1)


# ---- the catalogue -----------------------------------------------------------------------------
def _fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"{where}: {message}")


def _positive_int(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(where, f"must be a whole number of 1 or more (got {value!r}).")
    return value


def _check_count(table: str, key: str, value, where: str) -> None:
    spec, here = schemas.TABLES[table], f"{where}.{key}"
    allowed = ("column", "count", "label", *(("weeks",) if key == "min_groups" else ()))
    if not isinstance(value, dict) or not {"column", "count"} <= set(value):
        raise _fail(here, "write it as {column: NAME, count: N}.")
    for name in value:
        if name not in allowed:
            raise UnknownNameError.for_name(name, allowed, what="key", where=here)
    if value["column"] not in spec.columns:
        raise UnknownNameError.for_name(value["column"], spec.columns, what=f"{table} column",
                                        where=here)
    _positive_int(value["count"], f"{here}.count")
    kind = spec.columns[value["column"]]
    if key == "min_positive" and kind not in (schemas.BOOL, *NUMERIC):
        raise _fail(here, f"'{value['column']}' is a {kind} column; min_positive needs a yes/no "
                          "or number column (use min_filled).")
    if key == "min_sum" and kind not in NUMERIC:
        raise _fail(here, f"'{value['column']}' is a {kind} column; min_sum needs numbers.")
    if "weeks" in value:
        _positive_int(value["weeks"], f"{here}.weeks")


def check_requirement(item, where: str) -> None:
    """ConfigError naming ``where`` and the key when a requirement item is malformed."""
    if isinstance(item, dict) and set(item) == {"any_of"}:
        if not isinstance(item["any_of"], list) or len(item["any_of"]) < 2:
            raise _fail(f"{where}.any_of", "list two or more alternative requirements.")
        for i, alt in enumerate(item["any_of"]):
            check_requirement(alt, f"{where}.any_of[{i}]")
        return
    if not isinstance(item, dict) or "table" not in item:
        raise _fail(where, "each requirement names a `table:` (or is `any_of: [...]`).")
    for key in item:
        if key not in REQUIREMENT_KEYS:
            raise UnknownNameError.for_name(str(key), REQUIREMENT_KEYS, what="key", where=where)
    table = item["table"]
    if table not in schemas.TABLES:
        raise UnknownNameError.for_name(str(table), schemas.TABLES, what="table",
                                        where=f"{where}.table")
    dated = schemas.TABLES[table].date_column
    for key in ("min_rows", "min_history_days", "within_days"):
        if key in item:
            _positive_int(item[key], f"{where}.{key}")
    for key in ("min_history_days", "within_days"):
        if key in item and not dated:
            raise _fail(f"{where}.{key}", f"the {table} table has no date column.")
    if "min_history_days" in item and "within_days" in item:
        raise _fail(where, "min_history_days and within_days cannot be combined.")
    for key in COUNTS:
        if key in item:
            _check_count(table, key, item[key], where)
    if "weeks" in item.get("min_groups", {}) and not dated:
        raise _fail(f"{where}.min_groups.weeks", f"the {table} table has no date column.")


def _check_choice(entry: dict, key: str, valid, where: str) -> None:
    values = entry[key] if isinstance(entry[key], list) else [entry[key]]
    for value in values:
        if value not in valid:
            raise UnknownNameError.for_name(str(value), valid, what=key.rstrip("s"),
                                            where=f"{where}.{key}")


def check_entry(entry, where: str) -> None:
    """ConfigError naming the entry and the key when a catalogue entry is malformed."""
    if not isinstance(entry, dict):
        raise _fail(where, "each use case is a mapping of keys (id, name, channel, ...).")
    where = f"{where} '{entry.get('id', '?')}'"
    for key in entry:
        if key not in ENTRY_KEYS:
            raise UnknownNameError.for_name(str(key), ENTRY_KEYS, what="key", where=where)
    missing = [k for k in ENTRY_KEYS if k not in entry]
    if missing:
        raise _fail(where, f"missing key(s): {', '.join(missing)}.")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", str(entry["id"])):
        raise _fail(f"{where}.id", "use snake_case: lower-case letters, digits and _.")
    for key, valid in (("channel", CHANNELS), ("objectives", OBJECTIVE_TYPES), ("impact", LEVELS),
                       ("effort", LEVELS), ("privacy_risk", LEVELS),
                       ("kit_section", VALID_SECTIONS)):
        _check_choice(entry, key, valid, where)
    cost = entry["monthly_cost"]
    if (not isinstance(cost, list) or len(cost) != 2
            or not all(isinstance(c, (int, float)) and c >= 0 for c in cost) or cost[0] > cost[1]):
        raise _fail(f"{where}.monthly_cost", f"write [low, high] in USD a month (got {cost!r}).")
    if not isinstance(entry["time_to_value_weeks"], (int, float)) or entry["time_to_value_weeks"] <= 0:
        raise _fail(f"{where}.time_to_value_weeks", "give a number of weeks above 0.")
    tools = entry["tools"]
    if not isinstance(tools, dict) or set(tools) != {"category", "examples"}:
        raise _fail(f"{where}.tools", "write {category: ..., examples: [...]}.")
    test = entry["test"]
    if not isinstance(test, dict) or set(test) != {"design", "metric", "unit"}:
        raise _fail(f"{where}.test", "write {design: ..., metric: ..., unit: ...}.")
    _check_choice(test, "design", DESIGNS, f"{where}.test")
    _check_choice(test, "metric", METRICS, f"{where}.test")
    if not isinstance(entry["requires"], list):
        raise _fail(f"{where}.requires", "list the requirements (an empty list means none).")
    for i, item in enumerate(entry["requires"]):
        check_requirement(item, f"{where}.requires[{i}]")


@cache
def _load(path: str) -> tuple:
    from helpers.io import read_yaml

    entries = read_yaml(path) or []
    if not isinstance(entries, list):
        raise ConfigError(f"{path} must hold a list of use cases (each starting with `- id:`).")
    seen = set()
    for i, entry in enumerate(entries):
        check_entry(entry, f"{path}, use case {i + 1}")
        if entry["id"] in seen:
            raise ConfigError(f"{path}: use case id '{entry['id']}' appears twice; ids must be "
                              "unique.")
        seen.add(entry["id"])
    return tuple(entries)


def catalogue(path: str | Path | None = None) -> list[dict]:
    """The AI use cases of templates/ai_use_cases.yaml (or ``path``), checked, as a list of dicts.

    Raises ConfigError naming the entry and the key for an unknown key, table or column, a value
    outside its list (channel, objectives, impact, kit_section, test metric...) or a repeated id.
    """
    return copy.deepcopy(list(_load(str(path or CATALOGUE_FILE))))


# ---- readiness ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Readiness:
    """Whether the business's data supports a use case.

    ``score`` is the share of requirements met (0-1), with partial credit for counts (37 of 50
    converted leads counts 0.74); ``reason`` says in one sentence what is missing (or that all is
    there); ``checks`` has one line per check, marked ✓ or ✗; ``missing_tables`` names the absent
    tables that block it ("web_sessions or web_traffic" for alternatives).
    """

    ready: bool
    score: float
    reason: str
    checks: list[str]
    missing_tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Result:
    met: bool
    credit: float
    checks: tuple[str, ...]
    fails: tuple[str, ...]
    missing_table: str | None = None


def _an(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _rows(plan, table: str, tables: dict) -> pd.DataFrame | None:
    """The table as of the analysis date, prepared by step 04; None when absent."""
    if table not in tables:
        frame = plan.prepared(table) if plan.has(table) else None
        date = schemas.TABLES[table].date_column
        if frame is not None and date in frame:
            frame = frame[frame[date].isna() | (frame[date] < plan.as_of.normalize() + DAY)]
        tables[table] = frame
    return tables[table]


def _measure(frame: pd.DataFrame, key: str, check: dict, date: str | None) -> tuple[float, str]:
    """The count of a column check, and a detail for min_groups."""
    values = frame[check["column"]]
    if key == "min_positive":
        hits = (values.fillna(False).astype(bool) if values.dtype.kind == "b"
                else pd.to_numeric(values, errors="coerce") > 0)
        return float(hits.sum()), ""
    if key == "min_filled":
        return float((values.notna() & values.astype(str).str.strip().ne("")).sum()), ""
    if key == "min_distinct":
        return float(values.nunique()), ""
    if key == "min_repeat":
        return float((values.value_counts() >= 2).sum()), ""
    if key == "min_sum":
        return float(pd.to_numeric(values, errors="coerce").sum()), ""
    weeks = frame.dropna(subset=[date]).groupby(check["column"])[date].agg(
        lambda d: d.dt.to_period("W").nunique()).sort_values(ascending=False)
    detail = ", ".join(f"{g}: {n} weeks" for g, n in weeks.head(4).items())
    return float((weeks >= check.get("weeks", 1)).sum()), detail


def _count_check(n: float, need: int, label: str, detail: str = "") -> tuple[float, str]:
    """(credit, text): full credit from ``need`` on, partial below it."""
    extra = f" ({detail})" if detail else ""
    if n >= need:
        return 1.0, f"✓ {n:,.0f} {label}{extra} (needs {need:,})"
    return max(n, 0) / need, f"✗ {n:,.0f} {label}{extra}, needs at least {need:,}"


def _table_checks(plan, item: dict, tables: dict) -> _Result:
    table, spec = item["table"], schemas.TABLES[item["table"]]
    frame = _rows(plan, table, tables)
    if frame is None:
        why = plan.why_missing(table) if table in plan.settings.data else ""
        text = (f"needs {_an(table)} table: {why}" if why else
                f"needs {_an(table)} table ({spec.purpose}); add it under `data:` in business.yaml")
        return _Result(False, 0.0, (f"✗ {text}",), (text,), missing_table=table)
    date, noun, whole = spec.date_column, NOUNS[table], frame
    window = ""
    if "within_days" in item:
        frame = frame[frame[date] > plan.as_of.normalize() + DAY - item["within_days"] * DAY]
        window = f" in the last {item['within_days']} days"
    results = []  # (credit, check text)
    if "min_rows" in item:
        results.append(_count_check(len(frame), item["min_rows"], noun + window))
    if "min_history_days" in item:
        first = frame[date].min()
        days = (plan.as_of.normalize() - first.normalize()).days + 1 if pd.notna(first) else 0
        results.append(_count_check(days, item["min_history_days"], f"days of {noun}"))
    for key in (k for k in COUNTS if k in item):
        check = item[key]
        label = check.get("label") or f"{key.removeprefix('min_')} {check['column']}"
        col = check["column"]
        if col not in whole or whole[col].isna().all():
            text = (f"your {table} table has no filled `{col}` column: add it to the file, or map "
                    f"your own column to it with `mapping:` under data.{table} in business.yaml")
            results.append((0.0, f"✗ {text}"))
            continue
        n, detail = _measure(frame, key, check, date)
        results.append(_count_check(n, check["count"], label + window, detail))
    if not results:
        results.append((1.0, f"✓ {_an(table)} table with {len(frame):,} {noun}"))
    credit = sum(r[0] for r in results) / len(results)
    fails = tuple(r[1][2:] for r in results if r[0] < 1)
    return _Result(not fails, credit, tuple(r[1] for r in results), fails)


def _any_of(plan, alternatives: list[dict], tables: dict) -> _Result:
    results = [_table_checks(plan, alt, tables) for alt in alternatives]
    met = [r for r in results if r.met]
    if met:
        return met[0]
    best = max(results, key=lambda r: r.credit)
    if all(r.missing_table for r in results):
        names = " or ".join(r.missing_table for r in results)
        text = f"needs {_an(names)} table; add one under `data:` in business.yaml"
        return _Result(False, 0.0, (f"✗ {text}",), (text,), missing_table=names)
    fails = " or ".join("; ".join(r.fails) for r in results if not r.missing_table)
    return _Result(False, best.credit, ("✗ one of: " + fails,), (fails,))


def lower_name(name: str) -> str:
    """A name for the middle of a sentence: 'Lead scoring' -> 'lead scoring', 'SEO ...' kept."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def readiness(plan, use_case: dict, *, tables: dict | None = None) -> Readiness:
    """Whether this business's data supports ``use_case`` (an entry of ``catalogue()``).

    Every requirement is measured on ``plan.prepared(table)`` up to the analysis date. A missing
    table or a count below its threshold makes the use case not ready; ``score`` is the mean of
    the requirements' credits. ``tables`` is an optional cache shared across calls.

    >>> readiness(plan, uc).reason  # doctest: +SKIP
    'lead scoring: 37 converted leads, needs at least 50'
    """
    tables = {} if tables is None else tables
    results = [_any_of(plan, item["any_of"], tables) if "any_of" in item
               else _table_checks(plan, item, tables) for item in use_case["requires"]]
    name = lower_name(use_case["name"])
    checks = [c for r in results for c in r.checks]
    if not results:
        return Readiness(True, 1.0, f"{name}: ready, it needs no data of yours", [])
    ready = all(r.met for r in results)
    score = 1.0 if ready else min(sum(r.credit for r in results) / len(results), 0.99)
    if ready:
        shown = [c[2:].split(" (needs")[0] for c in checks]
        reason = f"{name}: ready ({'; '.join(shown)})"
    else:
        reason = f"{name}: " + "; ".join(f for r in results for f in r.fails)
    missing = tuple(dict.fromkeys(r.missing_table for r in results if r.missing_table))
    return Readiness(ready, round(score, 3), reason, checks, missing)


__all__ = ["Readiness", "catalogue", "readiness", "CHANNELS", "KIT_SECTIONS", "VALID_SECTIONS",
           "METRICS", "DESIGNS", "OUTSIDE"]
