"""Step 09: what the business has learned, and when step 06's models need retraining.

The learnings log is one CSV per business (``runs/<business>/learnings.csv``, beside its campaign
runs, never in the business's data folder): one row per test or finding, with the hypothesis, the
result and the decision taken. Logging the same (source, id) again replaces its row, so rerunning a
notebook never duplicates it, and leaves the file byte-identical when nothing changed.

Retrain triggers read step 08's alerts.json (drift of each model's inputs and scores) and each
model card's date: a model whose scores or several inputs moved a lot, or that is older than
``max_age_days``, is due for retraining.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io as _io
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers import io
from helpers.alerts import ARTIFACT as ALERTS
from helpers.errors import ConfigError, UnknownNameError
from helpers.explore import join_and
from helpers.model_cards import saved_cards
from helpers.sections import Section

COLUMNS = ("date", "step", "source", "id", "hypothesis", "result", "decision", "logged_at")
KEY = ("source", "id")
NOW, NEXT, NOT_YET = "now", "at the next scheduled refresh", "not yet"
URGENCY = {NOW: 0, NEXT: 1, NOT_YET: 2}
# The data each model learns from, to count what came in since it was scored: (table, date column).
NEW_DATA = {"lead_score": ("leads", "created_at")}
DEFAULT_DATA = ("orders", "order_date")
# When a model last learned, from its card: when it scored, else where its test data ends.
TRAINED_AT = ("scored_at", "validation_to", "validation_cutoff", "train_to")


# ---- the learnings log -----------------------------------------------------------------------
def learnings_path(plan) -> Path:
    """runs/<business>/learnings.csv: the parent of the run folder, shared by the business's
    campaign runs. ConfigError when that would sit inside the business's data folder."""
    path = Path(plan.run_dir).resolve().parent / "learnings.csv"
    data = Path(plan.business_dir).resolve()
    if path.parent == data or data in path.parents:
        raise ConfigError(
            f"the learnings log would be written to {path}, inside the business folder {data}, "
            "where the kit never writes. Open the plan with a run_dir outside that folder (the "
            "default, runs/<business>/<campaign>, is).")
    return path


def _text(value) -> str:
    """A cell as the CSV keeps it: '' for missing, dates as YYYY-MM-DD, whole floats without .0."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        ts = pd.Timestamp(value)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value.item() if hasattr(value, "item") else value).strip()


def _entry(plan, raw, n: int) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ConfigError(f"log_learnings: entry {n} is a {type(raw).__name__}, not a dict with "
                          f"the keys {', '.join(COLUMNS[:-1])}.")
    for key in raw:
        if key not in COLUMNS[:-1]:
            raise UnknownNameError.for_name(key, COLUMNS[:-1], what="learnings column",
                                            where=f"log_learnings entry {n}")
    entry = {c: _text(raw.get(c)) for c in COLUMNS[:-1]}
    missing = [k for k in KEY if not entry[k]]
    if missing:
        raise ConfigError(f"log_learnings: entry {n} has no {' or '.join(missing)}: give each "
                          "learning a source (e.g. 'experiments') and an id unique within it, so "
                          "a rerun replaces it instead of adding it again.")
    entry["date"] = entry["date"] or plan.as_of.date().isoformat()
    return entry


def read_learnings(plan) -> pd.DataFrame:
    """The business's learnings log (every column as text), empty when nothing is logged yet.
    Columns someone added to the file by hand are kept, after the log's own."""
    path = learnings_path(plan)
    if not path.exists():
        return pd.DataFrame(columns=list(COLUMNS), dtype=str)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.reindex(columns=[*COLUMNS, *(c for c in frame if c not in COLUMNS)],
                         fill_value="")


@contextlib.contextmanager
def _locked(folder: Path):
    """Hold an exclusive lock on ``folder`` while the log is read and rewritten, so two campaign
    runs of one business logging at once do not lose each other's rows (POSIX; elsewhere the
    write stays atomic but unlocked)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def log_learnings(plan, entries: list[dict]) -> pd.DataFrame:
    """Add ``entries`` (dicts with source and id, and any of date, step, hypothesis, result,
    decision) to the business's learnings log and return the whole log.

    An entry whose (source, id) is already logged replaces that row in place; its ``logged_at``
    stays that of the first logging when nothing else changed, so rerunning a notebook leaves the
    file byte-identical. ``date`` defaults to the plan's as_of. Written atomically.
    """
    path = learnings_path(plan)
    new = [_entry(plan, e, n) for n, e in enumerate(entries or [])]
    with _locked(path.parent):
        old = read_learnings(plan)
        rows = old.to_dict("records")
        where = {(r["source"], r["id"]): i for i, r in enumerate(rows)}
        stamp = dt.datetime.now().isoformat(timespec="seconds")
        for entry in new:
            key = (entry["source"], entry["id"])
            if key in where:
                before = rows[where[key]]
                same = all(before[c] == entry[c] for c in COLUMNS[:-1])
                rows[where[key]] = entry | {"logged_at": before["logged_at"] if same else stamp}
            else:
                where[key] = len(rows)
                rows.append(entry | {"logged_at": stamp})
        log = pd.DataFrame(rows, columns=old.columns).fillna("").astype(str)
        text = learnings_csv(log)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            io.write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return log


def learnings_csv(log: pd.DataFrame) -> str:
    """The log as the CSV text ``log_learnings`` writes (for a download or a test)."""
    buffer = _io.StringIO()
    log.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


# ---- retrain triggers ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RetrainResult(Section):
    """``table``: model, trigger, evidence, when (now / at the next scheduled refresh / not yet),
    trained_to (when its data ends: the card's scored_at, else its test window's end), age_days,
    new_since (rows of ``new_what`` dated since); ``step08_ran``: whether alerts.json was read."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    step08_ran: bool = False


def _band(value) -> str:
    """'major', 'moderate' or 'stable' from a band as step 08 writes it ('major shift' too)."""
    words = str(value or "").lower().split()
    return words[0] if words else "stable"


def drift_triggers(name: str, rows: list[dict], inputs: list[str]) -> list[dict]:
    """Triggers from one model's drift rows ({feature, psi, band}): a major shift of its scores or
    of 2+ inputs (not counting those that grow with time for everyone) -> retrain now; a moderate shift, or a major one of a single input -> at the next
    scheduled refresh. A row whose feature is not one of the card's ``inputs`` and is named like
    a score ('score', '<model>_score') is the model's scores."""
    def is_score(r):
        f = str(r.get("feature", ""))
        return f not in inputs and "score" in f.lower()

    def said(rs):
        from helpers.features import label

        return join_and([f"{label(str(r.get('feature')))} (PSI {float(r.get('psi') or 0):.2f})"
                     for r in rs])

    score = [r for r in rows if is_score(r) and _band(r.get("band")) != "stable"]
    moved = [r for r in rows if not is_score(r) and _band(r.get("band")) != "stable"]
    major = [r for r in moved if _band(r.get("band")) == "major"]
    score_major = [r for r in score if _band(r.get("band")) == "major"]
    if not (score or moved):
        return []
    parts = ([f"its scores shifted ({_band(score[0].get('band'))}, PSI "
              f"{float(score[0].get('psi') or 0):.2f})"] if score else [])
    parts += [f"major shift in {said(major)}"] if major else []
    parts += [f"moderate shift in {said([r for r in moved if r not in major])}"] if len(
        moved) > len(major) else []
    from helpers.drift import GROWS_WITH_TIME  # inputs that count up for everyone as time passes

    real = [r for r in major if r.get("feature") not in GROWS_WITH_TIME]
    when = NOW if score_major or len(real) >= 2 else NEXT
    return [{"model": name, "trigger": "drift", "evidence": "; ".join(parts), "when": when}]


def _new_since(plan, name: str, since: pd.Timestamp, as_of: pd.Timestamp) -> tuple[int, str]:
    table, column = NEW_DATA.get(name, DEFAULT_DATA)
    if pd.isna(since) or not plan.has(table):
        return 0, table
    dates = plan.prepared(table)[column]
    return int(((dates >= since) & (dates < as_of + pd.Timedelta(days=1))).sum()), table


def _model_rows(plan, card: dict, drift: list[dict] | None, as_of, max_age_days: int) -> list:
    name = card["name"]
    window = card.get("data_window", {})
    dated = next((k for k in TRAINED_AT if window.get(k)), None)
    scored = pd.to_datetime(window.get(dated), errors="coerce")
    age = max(0, (as_of - scored.normalize()).days) if pd.notna(scored) else None
    new, table = _new_since(plan, name, scored, as_of)
    rows = drift_triggers(name, [d for d in drift or [] if d.get("model") == name],
                          list(card.get("features", [])))
    if age is None:
        rows.append({"model": name, "trigger": "age", "when": NEXT, "evidence":
                     "its card does not say when it was trained; retrain to know what it knows"})
    elif age > max_age_days:
        rows.append({"model": name, "trigger": "age", "when": NOW, "evidence":
                     f"learned from data to {scored:%d %b %Y}, {age} days ago: past the "
                     f"{max_age_days}-day limit"})
    if not rows:
        seen = "no drift in step 08's check" if drift is not None else "step 08 has not run"
        rows.append({"model": name, "trigger": "none", "when": NOT_YET,
                     "evidence": f"learned from data to {scored:%d %b %Y}, {age} days ago "
                                 f"(limit {max_age_days}); {seen}"})
    context = {"trained_to": scored.date().isoformat() if pd.notna(scored) else "",
               "age_days": age, "new_since": new, "new_what": table}
    return [r | context for r in rows]


def retrain_triggers(plan, *, max_age_days: int = 90, as_of=None) -> RetrainResult:
    """Whether step 06's models (models/<name>_card.json in the run folder) need retraining: by
    step 08's drift (alerts.json) when it has run, and by age; new data since each was scored is
    given as context. Unsupported when step 06 has saved no model card in this run folder."""
    as_of = pd.Timestamp(as_of or plan.as_of).normalize()
    cards = saved_cards(plan)
    if not cards:
        why = ("Step 06 has saved no model in this run folder (models/*_card.json), so there is "
               "nothing to retrain. Run notebook 06 first; its models are then checked here.")
        return RetrainResult(False, why, reading=why, headline={"supported": False})
    alerts, warnings = None, []
    if plan.path(ALERTS).exists():
        alerts = io.read_json(plan.path(ALERTS))
        names = {c["name"] for c in cards}
        stray = sorted({d.get("model") for d in alerts.get("drift", [])} - names)
        if stray:
            warnings.append(f"alerts.json has drift for {', '.join(map(str, stray))}, which has "
                            "no model card here: rerun step 08 after step 06.")
        if alerts.get("as_of") and pd.Timestamp(alerts["as_of"]) != as_of:
            warnings.append(f"Step 08 checked drift as of {alerts['as_of']}, not "
                            f"{as_of:%Y-%m-%d}: rerun it to judge today's data.")
    drift = alerts.get("drift", []) if alerts is not None else None
    rows = [r for c in cards for r in _model_rows(plan, c, drift, as_of, max_age_days)]
    table = pd.DataFrame(rows, columns=["model", "trigger", "evidence", "when", "trained_to",
                                        "age_days", "new_since", "new_what"])
    order = table["when"].map(URGENCY)
    table = table.iloc[order.argsort(kind="stable")].reset_index(drop=True)
    due = table.groupby("model")["when"].agg(lambda s: min(s, key=URGENCY.get))
    head = {"models": len(cards), "retrain_now": int((due == NOW).sum()),
            "retrain_next_refresh": int((due == NEXT).sum()),
            "oldest_model_days": int(pd.to_numeric(table["age_days"]).max())
            if table["age_days"].notna().any() else None, "step08_ran": alerts is not None}
    return RetrainResult(True, "", table=table, step08_ran=alerts is not None,
                         reading=_retrain_reading(table, due, alerts is not None, max_age_days, as_of),
                         warnings=tuple(warnings), headline=head)


def _retrain_reading(table: pd.DataFrame, due: pd.Series, ran: bool, max_age: int, as_of) -> str:
    text = ["Drift is measured by PSI (population stability index: under 0.1 stable, 0.1-0.25 "
            "a moderate shift, above 0.25 a major one)."] if ran else [
        "Step 08 has not run in this run folder (no alerts.json), so the models are judged by age "
        "only."]
    for when, words in ((NOW, "Retrain now"), (NEXT, "Retrain at the next scheduled refresh")):
        names = list(due[due == when].index)
        if names:
            why = "; ".join(f"{m}: {r.evidence}" for m in names
                            for r in table[(table.model == m) & (table.when == when)].itertuples())
            text.append(f"{words}: {why}.")
    fine = table[table.model.isin(due[due == NOT_YET].index)].drop_duplicates("model")
    if len(fine):
        text.append("No need to retrain yet: " + ", ".join(
            f"{r.model} (due by {pd.Timestamp(r.trained_to) + pd.Timedelta(days=max_age):%d %b %Y}"
            f" unless step 08 "
            "flags drift first)" for r in fine.itertuples()) + ".")
    new = table.drop_duplicates("model").groupby(["trained_to", "new_what"], sort=False)
    text += [f"Since {join_and(list(g.model))} learned from data to {pd.Timestamp(day):%d %b %Y}, "
             f"{g.new_since.iloc[0]:,} new {what if g.new_since.iloc[0] != 1 else what[:-1]} "
             f"{'has' if g.new_since.iloc[0] == 1 else 'have'} come in." for (day, what), g in new
             if day and pd.Timestamp(day) <= as_of]
    return " ".join(text)


# The numbers of step 09's sections that the report's headline keeps.
HEADLINE = {"tests": ["experiments", "roll_out", "keep_testing"],
            "feedback": ["texts", "share_negative_now", "share_negative_year_ago",
                         "top_complaint"],
            "retraining": ["models", "retrain_now", "retrain_next_refresh"]}
