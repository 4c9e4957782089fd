"""Step 04's data-quality scorecard (five dimensions per table, before and after cleaning) and
the readings of its notebook. Each dimension is a share between 0 and 1, "before" on the sources
as read (``plan.raw``), "after" on the prepared tables (``helpers.prepare``):

- **completeness**: filled cells in the table's known columns, leaving out the columns where a
  blank is an answer (``opened_at``: not opened; ``customer_id`` on a web session: an anonymous
  visit). A region or channel set to "unknown" still counts as missing.
- **validity**: filled values readable as their kind and within simple rules: dates not after the
  analysis date, amounts readable, counts, quantities, spend, budgets, prices and costs not
  negative, e-mails well-formed.
- **uniqueness**: rows that do not repeat the table's key (customers: nor a normalised e-mail);
  in a table without a key, rows that are not exact copies of another.
- **consistency**: references that resolve (an order's customer_id is in customers, ...); 1.0,
  marked n/a, when the table refers to nothing the business has.
- **timeliness**: 1 when the latest date is within 7 days of the analysis date, falling in a
  straight line to 0 at 365 days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import schemas, tables
from helpers.explore import known
from helpers.prepare import ADDED, Prepared
from helpers.tables import BLANKS, normalise_email

DIMENSIONS = ("completeness", "validity", "uniqueness", "consistency", "timeliness")
FRESH_DAYS, STALE_DAYS = 7, 365
CUSTOMER_ID, EMAIL = known("customers", "customer_id", "email")
ORDER_ID, PRODUCT_ID = known("order_items", "order_id", "product_id")
CAMPAIGN_ID = known("marketing_spend", "campaign_id")[0]
ANSWER_BLANKS = {  # a blank here says something happened or not, it is not a gap
    "email_events": known("email_events", "opened_at", "clicked_at", "variant"),
    "web_sessions": known("web_sessions", "customer_id"),
    "feedback": known("feedback", "customer_id", "text"),
    "leads": known("leads", "converted_at", "value"),
    "campaigns": known("campaigns", "end_date"),
    "marketing_spend": known("marketing_spend", "platform_revenue", "period_end"),
    "web_traffic": known("web_traffic", "period_end")}
PLACEHOLDER_COLUMNS = ("region", "channel", "acquisition_channel")  # "unknown" = missing
NON_NEGATIVE_MONEY = ("spend", "budget", "price", "cost")
FOREIGN_KEYS = (  # (table, column, referenced table); the referenced column is its key
    ("orders", CUSTOMER_ID, "customers"), ("order_items", ORDER_ID, "orders"),
    ("order_items", PRODUCT_ID, "products"), ("email_events", CUSTOMER_ID, "customers"),
    ("email_events", CAMPAIGN_ID, "campaigns"), ("marketing_spend", CAMPAIGN_ID, "campaigns"),
    ("web_sessions", CUSTOMER_ID, "customers"), ("feedback", CUSTOMER_ID, "customers"),
)


def _filled(values: pd.Series) -> pd.Series:
    """Cells holding a value: not missing, and (text) not a blank word such as 'n/a'."""
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values.notna()
    return values.notna() & ~values.astype(str).str.strip().str.lower().isin(BLANKS)


def _ids(values: pd.Series) -> pd.Series:
    """Ids as the loader writes them (text, trimmed; 123.0 -> '123'), blanks missing."""
    if pd.api.types.is_float_dtype(values):
        values = values.map(lambda v: v if pd.isna(v) else f"{v:.0f}" if v == int(v) else str(v))
    text = values.astype(str).str.strip()
    return text.where(values.notna() & ~text.str.lower().isin(BLANKS))


def _found(refs: pd.Series, pool: pd.Series) -> np.ndarray:
    """Which ``refs`` are among ``pool`` (pyarrow's is_in: far faster than pandas on text)."""
    import pyarrow.compute

    text = [pyarrow.array(x.astype(str), from_pandas=True).cast(pyarrow.large_string())
            for x in (refs, pool)]
    return pyarrow.compute.is_in(text[0], value_set=text[1]).to_numpy(zero_copy_only=False)


# ---- the five dimensions: each returns (score or None for n/a, what pulls it down) -----------
def _fills(frame: pd.DataFrame, table: str) -> dict[str, pd.Series]:
    return {c: _filled(frame[c]) for c in schemas.spec(table).columns if c in frame}


def completeness(frame: pd.DataFrame, table: str, *, fills: dict | None = None
                 ) -> tuple[float | None, str]:
    """Share of filled cells (score, or None for n/a) and the emptiest column."""
    fills = _fills(frame, table) if fills is None else fills
    cols = [c for c in fills if c not in ANSWER_BLANKS.get(table, ())]
    if not cols or frame.empty:
        return None, "n/a: no known columns"
    filled = pd.DataFrame({c: fills[c] & ~(frame[c].astype(str).eq("unknown") if c in
                                           PLACEHOLDER_COLUMNS else False) for c in cols})
    empty = (~filled).mean().sort_values(ascending=False)
    detail = (f"'{empty.index[0]}' is empty in {empty.iloc[0]:.1%} of rows" if empty.iloc[0] > 0
              else "no empty cells")
    return float(filled.to_numpy().mean()), detail


def _column_validity(values, filled, kind, col, *, end, locale, timezone) -> tuple[int, str]:
    """(invalid, why) for one column: why = '1 could not be read, 2 dated after ...'."""
    problems = {}
    if kind == schemas.DATE:
        parsed, bad = tables.parse_dates(values, dayfirst=tables.day_first(locale),
                                         timezone=timezone)
        problems = {"could not be read": bad, "dated after the analysis date": parsed >= end}
    elif kind in (schemas.MONEY, schemas.NUMBER, schemas.INT):
        parsed, bad = tables.parse_money(values, decimal=tables.decimal_separator(locale))
        problems = {"could not be read": bad, "negative": (parsed < 0) & (
            kind != schemas.MONEY or col in NON_NEGATIVE_MONEY)}
    elif kind == schemas.BOOL:
        problems = {"could not be read": tables.parse_bool(values)[1]}
    elif col == EMAIL:
        problems = {"not well-formed e-mail addresses": normalise_email(values).isna()}
    counts = {why: int((filled & mask).sum()) for why, mask in problems.items()}
    invalid = filled & np.logical_or.reduce([*problems.values(), np.zeros(len(values), bool)])
    return int(invalid.sum()), ", ".join(f"{n:,} {why}" for why, n in counts.items() if n)


def validity(frame: pd.DataFrame, table: str, *, as_of, locale: str = "en_US",
             timezone: str | None = None, fills: dict | None = None) -> tuple[float | None, str]:
    """Share of filled values that are valid, and the column with the most invalid ones."""
    end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    fills, kinds = _fills(frame, table) if fills is None else fills, schemas.spec(table).columns
    total, bad, worst = 0, 0, (0, "", "")
    for col, filled in fills.items():
        b, why = (0, "") if kinds[col] in (schemas.ID, schemas.TEXT, schemas.CATEGORY) and \
            col != EMAIL else _column_validity(frame[col], filled, kinds[col], col, end=end,
                                               locale=locale, timezone=timezone)
        total, bad, worst = total + int(filled.sum()), bad + b, max(worst, (b, col, why))
    if not total:
        return None, "n/a: no filled values"
    detail = f"'{worst[1]}': {worst[2]}" if worst[0] else "every value valid"
    return 1 - bad / total, detail


def uniqueness(frame: pd.DataFrame, table: str) -> tuple[float | None, str]:
    """Share of rows that repeat no key (nor, for customers, an e-mail), and the repeats."""
    spec = schemas.spec(table)
    if frame.empty:
        return None, "n/a: no rows"
    if spec.key and spec.key in frame:
        ids = _ids(frame[spec.key])
        repeat = ids.notna() & ids.duplicated()
        parts = [f"{int(repeat.sum()):,} row(s) repeat a {spec.key}"] if repeat.any() else []
        if table == "customers" and EMAIL in frame:
            emails = normalise_email(frame[EMAIL])
            same = emails.notna() & emails.duplicated() & ~repeat
            repeat |= same
            parts += [f"{int(same.sum()):,} row(s) repeat an e-mail address (letter case and "
                      "spaces aside)"] if same.any() else []
    else:
        repeat = frame[[c for c in spec.columns if c in frame]].duplicated()
        parts = [f"{int(repeat.sum()):,} row(s) are exact copies of another"] * bool(repeat.any())
    return 1 - float(repeat.mean()), ", ".join(parts) or "no repeats"


def consistency(frames: dict, table: str) -> tuple[float | None, str]:
    """Share of references to other ``frames`` that resolve (None: nothing to check)."""
    checked, found, worst = 0, 0, (0, "")
    for child, col, parent in FOREIGN_KEYS:
        key = schemas.spec(parent).key
        if child != table or col not in frames[table] or parent not in frames \
                or key not in frames[parent]:
            continue
        rows = frames[table]
        if "channel" in rows and "channel" in frames[parent]:
            # Ad campaigns are not expected among e-mail campaigns: check a reference only where
            # the other table covers its channel.
            rows = rows[rows["channel"].isin(frames[parent]["channel"].dropna().unique())]
        refs = _ids(rows[col]).dropna()
        hit = _found(refs, _ids(frames[parent][key]).dropna().drop_duplicates())
        checked, found = checked + len(refs), found + int(hit.sum())
        worst = max(worst, (int((~hit).sum()), f"'{col}' value(s) not found in {parent}"))
    if not checked:
        return None, "n/a: refers to no table you have"
    return found / checked, f"{worst[0]:,} {worst[1]}" if worst[0] else "every reference found"


def timeliness(frame: pd.DataFrame, table: str, *, as_of, locale: str = "en_US",
               timezone: str | None = None) -> tuple[float | None, str]:
    """1 up to FRESH_DAYS after the latest date, linearly down to 0 at STALE_DAYS."""
    col = schemas.spec(table).date_column
    if col not in frame:
        return None, "n/a: no date column"
    latest = tables.parse_dates(frame[col], dayfirst=tables.day_first(locale),
                                timezone=timezone)[0].max()
    if pd.isna(latest):
        return 0.0, f"no readable '{col}'"
    days = max((pd.Timestamp(as_of).normalize() - latest.normalize()).days, 0)
    score = float(np.clip(1 - (days - FRESH_DAYS) / (STALE_DAYS - FRESH_DAYS), 0, 1))
    return score, f"latest {col} {latest:%d %b %Y}, {days} day(s) before the analysis date"


def measure(frames: dict, table: str, *, as_of, locale: str = "en_US",
            timezone: str | None = None) -> dict[str, tuple[float | None, str]]:
    """The five dimensions of one table among ``frames`` (all raw, or all prepared)."""
    frame, dates = frames[table], {"as_of": as_of, "locale": locale, "timezone": timezone}
    fills = _fills(frame, table)
    return dict(zip(DIMENSIONS, (completeness(frame, table, fills=fills),
                                 validity(frame, table, fills=fills, **dates),
                                 uniqueness(frame, table), consistency(frames, table),
                                 timeliness(frame, table, **dates)), strict=True))


# ---- the scorecard -----------------------------------------------------------------------------
def scorecard(plan, prepared) -> pd.DataFrame:
    """table, dimension, before, after (n/a scored 1.0 with ``checked`` False), and what pulls
    each score down (``before_detail``, ``after_detail``), for every prepared table."""
    raw, rows = {t: plan.raw(t) for t in prepared.tables}, []
    dates = {"as_of": plan.as_of, "locale": plan.settings.business.locale,
             "timezone": plan.settings.business.timezone}
    for table in prepared.tables:
        before, after = measure(raw, table, **dates), measure(prepared.tables, table, **dates)
        rows += [{"table": table, "dimension": dim, "before": 1.0 if b is None else b,
                  "after": 1.0 if a is None else a, "checked": a is not None or b is not None,
                  "before_detail": b_why, "after_detail": a_why}
                 for dim, ((b, b_why), (a, a_why)) in zip(DIMENSIONS, zip(
                     before.values(), after.values(), strict=True), strict=True)]
    return pd.DataFrame(rows, columns=["table", "dimension", "before", "after", "checked",
                                       "before_detail", "after_detail"]).astype({"checked": bool})


def _pct(x: float) -> str:
    return "100%" if x == 1 else f"{min(x, 0.999):.1%}" if x >= 0.99 else f"{x:.0%}"


def _labels(card: pd.DataFrame) -> list[str]:
    return ["n/a" if not c else _pct(a) if _pct(a) == _pct(b) else f"{_pct(b)}→{_pct(a)}"
            for b, a, c in zip(card.before, card.after, card.checked, strict=True)]


def scorecard_data(card: pd.DataFrame) -> pd.DataFrame:
    """The grid ``plot_scorecard`` draws: tables by dimensions, under "after" the score after
    cleaning (NaN where n/a), under "label" its text ('99.8%→100%' where cleaning changed it)."""
    wide = card.assign(after=card.after.where(card.checked), label=_labels(card)).pivot(
        index="table", columns="dimension", values=["after", "label"])
    return wide.reindex(index=list(dict.fromkeys(card.table))).reindex(columns=DIMENSIONS, level=1)


def scorecard_title(card: pd.DataFrame) -> str:
    """A title stating the finding: the biggest gain from cleaning and the weakest score left."""
    changed = card[["→" in x for x in _labels(card)]]
    weak = card[card.checked].nsmallest(1, "after")
    gain = (changed.after - changed.before).sort_values()
    head = (f"Cleaning lifted {changed.table[gain.index[-1]]} {changed.dimension[gain.index[-1]]} "
            f"to {_pct(changed.after[gain.index[-1]])}" if len(gain) and gain.iloc[-1] > 0
            else "Cleaning changed no score")
    return head + (f"; weakest: {weak.table.iloc[0]} {weak.dimension.iloc[0]} "
                   f"{_pct(weak.after.iloc[0])}" if len(weak) and weak.after.iloc[0] < 0.95 else "")


def plot_scorecard(card: pd.DataFrame, ax=None):
    """A heatmap of the scores after cleaning (red at 80% or less, green at 100%, grey n/a),
    each cell written 'before→after' where cleaning changed it. Returns the Axes."""
    import matplotlib.ticker

    from helpers.plots import axes

    data, ax = scorecard_data(card), axes(ax, figsize=(9, 0.45 * card.table.nunique() + 1.6))
    if data.empty:
        ax.set_title("No table could be read, so there is nothing to score")
        return ax
    cmap = matplotlib.colors.ListedColormap(  # light part of RdYlGn, so text stays legible
        matplotlib.colormaps["RdYlGn"](np.linspace(0.2, 0.75, 256))).with_extremes(bad="#eeeeee")
    image = ax.imshow(np.ma.masked_invalid(data["after"].to_numpy(dtype=float)), cmap=cmap,
                      vmin=0.8, vmax=1.0, aspect="auto")
    for (i, j), text in np.ndenumerate(data["label"].to_numpy()):
        ax.text(j, i, text, ha="center", va="center", fontsize=9)
    ax.set_xticks(range(len(DIMENSIONS)), DIMENSIONS)
    ax.set_yticks(range(len(data)), list(data.index))
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, format=matplotlib.ticker.PercentFormatter(xmax=1.0),
                       shrink=0.8, label="score after cleaning")
    ax.set(title=scorecard_title(card), xlabel="quality dimension (share that passes)",
           ylabel="table")
    return ax


# ---- readings ----------------------------------------------------------------------------------
def _why_changed(row, faults: dict) -> str:
    if (row.table, row.dimension) == ("customers", "uniqueness") and (
            n := faults.get("duplicate_customers")):
        return (f"{n} customer record(s) were a second record of someone already on file (the "
                "same e-mail apart from letter case or spaces); each person is now one record")
    if (row.table, row.dimension) == ("customers", "uniqueness") and (
            n := faults.get("merged_across_sources")):
        return (f"{n:,} people appear in more than one of your sources (e.g. the shop and the "
                "mailing list); each is now one record")
    return f"before, {row.before_detail}" if row.after > row.before else (
        f"now {row.after_detail}")


def scorecard_reading(card: pd.DataFrame, prepared, *, sentences: bool = False) -> str | list:
    """What cleaning changed ('table: dimension before -> after: why'), then the weakest scores
    left with what pulls them down; one paragraph, or a list of ``sentences``."""
    text = [f"{r.table}: {r.dimension} {_pct(r.before)} -> {_pct(r.after)}: "
            f"{_why_changed(r, prepared.faults)}."
            for r in card[["→" in x for x in _labels(card)]].itertuples()]
    weak = card[card.checked & (card.after < 0.95)].sort_values("after", kind="stable").head(3)
    text = (text or ["Cleaning changed no score by a visible amount."]) + [
        "Weakest after cleaning: " + "; ".join(
            f"{r.table} {r.dimension} {_pct(r.after)} ({r.after_detail})"
            for r in weak.itertuples()) + "." if len(weak)
        else "Every table scores 95% or more on every dimension after cleaning."]
    return text if sentences else " ".join(text)


def step_summary(prepared, card: pd.DataFrame) -> dict:
    """headline / units / summary / warnings for ``plan.record_step(4, ...)``."""
    f, checked = prepared.faults, card[card.checked]
    headline = {"tables": len(prepared.tables),
                "rows": sum(len(t) for t in prepared.tables.values()),
                "quality_before": float(checked.before.mean()) if len(checked) else None,
                "quality_after": float(checked.after.mean()) if len(checked) else None,
                **{k: f.get(k, 0) for k in ("duplicate_customers", "merged_across_sources",
                                            "relinked_orders", "unparseable_dates")},
                # refund rows (negative revenue) and orders an export marks as refunded
                "refunds": f.get("refunds", 0) + f.get("refunded_orders", 0),
                "outliers": f.get("outliers", 0)}
    units = {k: "percent" if k.startswith("quality") else "count" for k in headline}
    weak = checked[checked.after < 0.9]
    return {"status": "ok" if len(card) else "skipped", "units": units, "headline": headline,
            "reason": "" if len(card) else "No data table could be read; see the sources above.",
            "summary": scorecard_reading(card, prepared, sentences=True)[:6],
            "warnings": [f"{r.table} {r.dimension} is {_pct(r.after)} after cleaning: "
                         f"{r.after_detail}." for r in weak.itertuples()]}


# ---- the notebook's other readings -------------------------------------------------------------
def sources_reading(sources: pd.DataFrame) -> str:
    """Where the tables came from and what the loader kept, from ``plan.sources()``."""
    if sources.empty:
        return "No data source is declared under `data:` in business.yaml."
    fmt = sources.format.str.replace(" (detected)", "", regex=False)
    text = [f"Your {sources.table.nunique()} table(s) come from {len(sources)} source(s): "
            + ", ".join(f"{n} {k}" for k, n in fmt.value_counts().items()) + "."]
    exports = sources[~fmt.isin(("csv", "excel", "parquet", "json", "sql"))].groupby(
        fmt, sort=False).table.unique()
    text.append("Read through a platform connector: " + "; ".join(
        f"{f} ({', '.join(t)})" for f, t in exports.items()) + "." if len(exports) else
        "None is a platform export, so each was read as a file of your own.")
    read, kept = int(sources.rows_read.sum()), int(sources.rows_kept.sum())
    lost = sources[sources.rows_kept < sources.rows_read]
    text.append(f"The loader kept {kept:,} of the {read:,} rows it read" + (
        "; it left out " + ", ".join(f"{r.rows_read - r.rows_kept:,} in {r.table}"
                                     for r in lost.itertuples()) + "." if len(lost) else "."))
    if (empty := sources[sources.rows_read == 0]).shape[0]:
        text.append("Nothing could be read from: " + ", ".join(empty.file) + ".")
    return " ".join(text)


def identity_summary(prepared: Prepared) -> dict:
    """Customer records, people, records merged, rows relinked and copies dropped per table."""
    ident, f = prepared.identity, prepared.faults
    return {"customer_records": len(ident), "people": int(ident.resolved_id.nunique()),
            "records_merged": f["duplicate_customers"], "relinked": f.get("relinked", {}),
            "across_sources": f["merged_across_sources"], "leads_linked": f.get("leads_linked", 0),
            "copies_dropped": f.get("merged_copies", {})}


def identity_reading(prepared: Prepared) -> str:
    """How many records were one person, and what now points to them."""
    s = identity_summary(prepared)
    if not s["customer_records"]:
        return "There is no customers table, so there are no customer records to match."
    moved = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in s["relinked"].items() if n)
    copies = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in s["copies_dropped"].items())
    joined = (f"{s['across_sources']:,} customers were in more than one of your sources and were "
              "joined into one record each by their e-mail. " if s["across_sources"] else "")
    text = joined + (
            f"{s['records_merged']:,} of your {s['customer_records']:,} customer records were a "
            "second record of someone already on file (the same e-mail apart from letter case or "
            f"spaces), so you have {s['people']:,} customers. {moved or 'No rows'} now point to "
            "the kept record. Left apart, one person's repeat orders and value would be split "
            "between two lighter customers." + (
                f" Events recorded under both records are kept once ({copies} copies dropped)."
                if copies else "") if s["records_merged"] else
            f"{'Beyond that, e' if joined else 'E'}ach of your {s['customer_records']:,} customer "
            "records is a different person: no two share an e-mail, even ignoring letter case.")
    return text + (f" {s['leads_linked']:,} leads share an e-mail with a customer and now "
                   "carry that customer's id." if s["leads_linked"] else "")


def tables_overview(prepared: Prepared) -> pd.DataFrame:
    """Each prepared table: rows, columns, first and last date, columns added by step 04."""
    rows = []
    for name, frame in prepared.tables.items():
        col = schemas.spec(name).date_column
        dates = frame[col] if col in frame else pd.Series(dtype="datetime64[ns]")
        rows.append({"table": name, "rows": len(frame), "columns": frame.shape[1],
                     "first_date": dates.min(), "last_date": dates.max(),
                     "added": ", ".join(c for c in ADDED if c in frame)})
    return pd.DataFrame(rows)


def tables_reading(overview: pd.DataFrame) -> str:
    """The prepared tables in a sentence or two."""
    added = overview[overview.added != ""]
    return (f"{len(overview)} prepared table(s), {int(overview.rows.sum()):,} rows in all, saved "
            "as prepared/<table>.parquet; later steps read them with `plan.prepared(name)`."
            + f" {', '.join(added.table)} gained flag columns (see 'added')." * bool(len(added)))


def data_quality_record(plan, prepared: Prepared, card: pd.DataFrame, sources: pd.DataFrame
                        ) -> dict:
    """The content of data_quality.json: scorecard, log, faults, identity summary, sources."""
    from helpers import prepare

    rules = {name: " ".join(next(p for p in doc.split("\n\n") if p.startswith("- **")).split())
             for name, doc in (("scorecard", __doc__), ("cleaning", prepare.__doc__))}
    return {"business": plan.name, "as_of": plan.as_of.date().isoformat(), "rules": rules,
            "scorecard": card.to_dict("records"), "log": prepared.log.to_dict("records"),
            "faults": prepared.faults, "identity": identity_summary(prepared),
            "sources": sources.to_dict("records")}
