"""Step 04: data integration and preparation.

``prepare_tables(plan)`` makes the loaded tables (``plan.table``) ready for analysis, one log row
per change; nothing else is removed, the raw files are never touched. The rules:

- **e-mail**: trimmed and lower-cased (``tables.normalise_email``); a cell that is not an address
  is emptied, since it can be neither mailed nor matched.
- **identity**: customer records with the same normalised e-mail are one person. The record with
  the earliest ``signup_date`` is kept (ties: the first row); the others are merged into it (each
  column keeps the first filled value, kept record first; consent: a "no" on any record wins), and
  orders, e-mail events, web sessions, feedback, experiments and leads are relinked to it.
- **refunds**: rows with negative revenue get ``is_refund`` (linked to their order by the file's
  ``refund_of``); every orders table gets ``net_revenue`` (revenue minus an export's ``refunded``).
- **outliers**: an order's revenue, or a day's spend within its channel, is flagged in ``outlier``
  (never removed) when more than ``outlier_mads`` median absolute deviations (MADs) of the log
  values above the median, unless over 2% of values are that high: then they are a regular part
  of the business (an annual membership) and none is flagged. Fewer than 20 values: no judgement.
- **missing values**: blank region and channel cells become "unknown", their own group in
  breakdowns (rows blank in a required column were already left out by the loader).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import schemas
from helpers.errors import rows_text
from helpers.explore import known
from helpers.plan import money
from helpers.tables import Note, decimal_separator, email_key, normalise_email, parse_money

CUSTOMER_ID, EMAIL, SIGNUP_DATE, REGION, ACQUISITION = known(
    "customers", "customer_id", "email", "signup_date", "region", "acquisition_channel")
CONSENTS = known("customers", "consent_email", "consent_ads")
ORDER_ID, REVENUE, CHANNEL = known("orders", "order_id", "revenue", "channel")
(SPEND,), (UNIT_ID,) = known("marketing_spend", "spend"), known("experiments", "unit_id")
REFUND_OF, REFUNDED, IS_REFUND, NET_REVENUE, OUTLIER = (  # not canonical: export / added columns
    "refund_of", "refunded", "is_refund", "net_revenue", "outlier")
ADDED = (IS_REFUND, NET_REVENUE, OUTLIER)
UNKNOWN, FILL_COLUMNS = "unknown", (REGION, CHANNEL, ACQUISITION)
STEPS = ("types", "dates", "money", "e-mail", "duplicates", "identity", "refunds", "outliers",
         "missing values")
LOG_COLUMNS = ["table", "column", "step", "rows", "example", "action"]
RELINK = {"orders": CUSTOMER_ID, "email_events": CUSTOMER_ID, "web_sessions": CUSTOMER_ID,
          "feedback": CUSTOMER_ID, "experiments": UNIT_ID, "leads": CUSTOMER_ID}
OUTLIERS = {"orders": (REVENUE, None), "marketing_spend": (SPEND, CHANNEL)}
NOTE_WORDS = {"missing values": ("required column", "blank cell"), "refunds": ("cancelled",),
              "duplicates": ("exact cop", "more than one source", "report totals", "the sums"),
              "identity": ("no customer_id",)}  # wordings of the loader's and connectors' notes
_EMAIL_TEXT = re.compile(r"[^@\s'\"(),;:<>]+@[^@\s'\"(),;:<>]+")


@dataclass(frozen=True, eq=False)
class Prepared:
    """What step 04 made: the prepared ``tables``, the ``log`` of changes (LOG_COLUMNS), the
    ``identity`` map (customer_id, resolved_id, email_key, sources), the ``faults`` counted."""

    tables: dict[str, pd.DataFrame]
    log: pd.DataFrame
    identity: pd.DataFrame
    faults: dict


# ---- masking and log rows ----------------------------------------------------------------------
def mask_email(value) -> str:
    """'Stephanie.Gonzales@Example.com' -> 'S•••@E•••': letter case shows, the address not."""
    local, _, domain = ("" if pd.isna(value) else str(value)).strip().partition("@")
    return f"{local[:1]}•••@{domain[:1]}•••" if domain else f"{local[:1]}•••" * bool(local)


def scrub(text) -> str:
    """The text with anything that looks like an e-mail address masked."""
    return _EMAIL_TEXT.sub(lambda m: mask_email(m.group(0)), str(text))


def _row(table, column, step, rows, action, example="") -> dict:
    return {"table": table, "column": column or "", "step": step, "rows": int(rows),
            "example": scrub(example), "action": scrub(action)}


def _kind(note: Note) -> str | None:
    return getattr(schemas.TABLES.get(note.table), "columns", {}).get(note.column)


def notes_log(notes: list[Note]) -> list[dict]:
    """The loader's notes as log rows, step by NOTE_WORDS or the column's kind. Its warning on
    negative revenue is left to the refunds step, which says it with the links: no double count."""
    rows = []
    for n in (n for n in notes if not (n.table == "orders" and n.column == REVENUE
                                       and n.kind == "warning")):
        step = next((s for s, words in NOTE_WORDS.items() if any(w in n.message for w in words)),
                    {schemas.DATE: "dates", schemas.MONEY: "money"}.get(_kind(n), "types"))
        rows.append(_row(n.table, n.column, step, n.count, n.message,
                         rows_text(n.lines) if n.lines else ""))
    return rows


def unparseable_dates(plan, notes: list[Note], *, limit: int = 100) -> list[dict]:
    """The cells the loader could not read as dates (the first ``limit``): table, column, source,
    line, the row's id and the value as written, looked up in ``plan.raw``."""
    out, raws = [], {}
    for n in (n for n in notes if n.kind == "coerced" and _kind(n) == schemas.DATE):
        spec = schemas.TABLES[n.table]
        raw = raws.setdefault(n.table, plan.raw(n.table))
        src = raw[raw["_source"] == n.source].reset_index(drop=True)
        key = spec.key or next(c for c in spec.required if spec.columns[c] == schemas.ID)
        for line in n.lines[: max(limit - len(out), 0)]:
            row = src.iloc[line - 2] if 0 <= line - 2 < len(src) else {}
            out.append(dict(table=n.table, column=n.column, source=scrub(n.source), line=line,
                            id=row.get(key), value=str(row.get(n.column))))
    return out


# ---- e-mail and identity -----------------------------------------------------------------------
def normalise_emails(frame: pd.DataFrame, table: str, column: str) -> tuple[pd.DataFrame, list]:
    """Addresses trimmed and lower-cased, non-addresses emptied; a log row for each."""
    values = frame[column]
    norm = normalise_email(values)
    changed = values.notna() & norm.notna() & (values.astype(str) != norm.astype(str))
    invalid = values.notna() & norm.isna()
    dtype = values.dtype if pd.api.types.is_string_dtype(values) else object
    rows = [_row(table, column, "e-mail", changed.sum(), "trimmed and lower-cased, so one "
                 "address matches across records and sources",
                 f"{mask_email(values[changed.idxmax()])} -> {mask_email(norm[changed.idxmax()])}")
            ] if changed.any() else []
    if invalid.any():
        rows.append(_row(table, column, "e-mail", invalid.sum(), "not a well-formed address; "
                         "emptied, as it can be neither mailed nor matched",
                         mask_email(values[invalid.idxmax()])))
    return frame.assign(**{column: norm.astype(dtype)}), rows


def resolve_identity(customers: pd.DataFrame, *, sources: pd.Series | str = "") -> pd.DataFrame:
    """customer_id -> resolved_id: one normalised e-mail is one person, whose kept record is the
    one with the earliest signup_date (ties: the first row). With the e-mail key (a hash, see
    ``tables.email_key``) and the sources holding each id (``sources``: id -> text, or one text)."""
    ids = customers[CUSTOMER_ID]
    emails = customers.get(EMAIL, pd.Series(None, index=ids.index, dtype=object))
    order = customers.assign(_email=emails, _pos=np.arange(len(customers)))
    if SIGNUP_DATE in customers:
        order = order.sort_values([SIGNUP_DATE, "_pos"], na_position="last", kind="stable")
    kept = order.dropna(subset=["_email"]).groupby("_email", sort=False)[CUSTOMER_ID].first()
    return pd.DataFrame({
        "customer_id": ids.to_numpy(), "resolved_id": emails.map(kept).astype(object).fillna(ids).to_numpy(),
        "email_key": email_key(emails).to_numpy(),
        "sources": ids.map(sources).fillna("").to_numpy() if isinstance(sources, pd.Series)
        else sources})


def merge_customers(customers: pd.DataFrame, resolved: pd.Series) -> pd.DataFrame:
    """One row per person: the kept record, its blanks filled from the person's other records
    (earliest first), consent False when any record said no."""
    frame = customers.assign(_resolved=resolved.to_numpy(), _pos=np.arange(len(customers)),
                             _other=customers[CUSTOMER_ID].ne(resolved).to_numpy())
    several = frame["_resolved"].duplicated(keep=False)
    if not several.any():
        return customers.copy()
    keys = ["_other"] + ([SIGNUP_DATE] if SIGNUP_DATE in frame else []) + ["_pos"]
    group = frame[several].sort_values(keys, kind="stable")
    merged = group.groupby("_resolved", sort=False).first()
    for col in (c for c in CONSENTS if c in frame):
        said_no = group[col].eq(False).groupby(group["_resolved"], sort=False).any()
        merged.loc[said_no[said_no.fillna(False)].index, col] = False
    merged = merged.astype(frame.drop(columns="_resolved").dtypes.to_dict())
    out = pd.concat([frame[~several], merged.reset_index(drop=True)], ignore_index=True)
    return out.sort_values("_pos").drop(columns=["_resolved", "_pos", "_other"]).reset_index(
        drop=True)


def relink(frame: pd.DataFrame, column: str, mapping: dict, *, table: str | None = None
           ) -> tuple[pd.DataFrame, int, int]:
    """Merged-away customer ids in ``column`` replaced by the person's kept id; in a table with
    no key, a row thereby become an exact copy of another (one event recorded under both records)
    is dropped. Returns the table, the rows relinked and the copies dropped."""
    if column not in frame or not mapping or not (hit := frame[column].isin(list(mapping))).any():
        return frame, 0, 0
    frame = frame.copy()
    frame.loc[hit, column] = frame.loc[hit, column].map(mapping)
    if table is None or schemas.spec(table).key:
        return frame, int(hit.sum()), 0
    near = frame[frame[column].isin(list(set(mapping.values())))]
    copies = near.index[near.duplicated()]
    return frame.drop(index=copies).reset_index(drop=True), int(hit.sum()), len(copies)


def _people(plan, tables: dict, faults: dict) -> tuple[list[dict], pd.DataFrame]:
    """E-mail normalisation, identity resolution, merging and relinking."""
    log, customers = [], tables["customers"]
    if EMAIL in customers:
        customers, log = normalise_emails(customers, "customers", EMAIL)
    raw = plan.raw("customers")[[CUSTOMER_ID, "_source"]].astype(str).drop_duplicates()
    sources = scrub(raw["_source"].iloc[0]) if raw["_source"].nunique() == 1 else raw.groupby(
        raw[CUSTOMER_ID].str.strip(), sort=False)["_source"].agg(lambda s: scrub("; ".join(s)))
    identity = resolve_identity(customers, sources=sources)
    mapping = dict(identity.loc[identity.customer_id != identity.resolved_id,
                                ["customer_id", "resolved_id"]].to_numpy())
    tables["customers"] = merge_customers(customers, identity["resolved_id"])
    faults.update(duplicate_customers=len(mapping), people_with_duplicates=len(set(
        mapping.values())), relinked={}, merged_copies={})
    if mapping:
        log.append(_row("customers", CUSTOMER_ID, "identity", len(mapping),
                        "repeat a person already on file (the same e-mail once trimmed and "
                        "lower-cased); merged into that person's earliest record",
                        f"{next(iter(mapping))} -> {next(iter(mapping.values()))}"))
    for table, column in ((t, c) for t, c in RELINK.items() if t in tables):
        tables[table], n, copies = relink(tables[table], column, mapping, table=table)
        faults["relinked"][table] = n
        if n:
            log.append(_row(table, column, "identity", n,
                            "now point to the kept record of the same person"))
        if copies:
            faults["merged_copies"][table] = copies
            log.append(_row(table, None, "duplicates", copies, "exact copies of another row "
                            "once the same person's records were merged (one event recorded "
                            "under both); one of each kept"))
    faults["relinked_orders"] = faults["relinked"].get("orders", 0)
    return log + (_link_leads(tables, faults) if "leads" in tables else []), identity


def _link_leads(tables: dict, faults: dict) -> list[dict]:
    """Leads with an e-mail but no customer_id get the id of the customer with that e-mail."""
    leads, faults["leads_linked"] = tables["leads"], 0
    columns = [c for c in leads.columns if EMAIL in str(c).lower()]
    if CUSTOMER_ID in leads or not columns or EMAIL not in tables["customers"]:
        return []
    leads, log = normalise_emails(leads, "leads", columns[0])
    by_email = tables["customers"].dropna(subset=[EMAIL]).set_index(EMAIL)[CUSTOMER_ID]
    tables["leads"] = leads.assign(**{CUSTOMER_ID: leads[columns[0]].map(by_email)})
    faults["leads_linked"] = n = int(tables["leads"][CUSTOMER_ID].notna().sum())
    return log + ([_row("leads", CUSTOMER_ID, "identity", n, "linked to the customer with the "
                        f"same e-mail (column '{columns[0]}')")] if n else [])


# ---- refunds, outliers, blanks -----------------------------------------------------------------
def mark_refunds(orders: pd.DataFrame, *, currency: str = "USD", decimal: str = "."
                 ) -> tuple[pd.DataFrame, list[dict], dict]:
    """``is_refund`` (negative revenue), ``refund_of`` cleaned (blank -> missing) and
    ``net_revenue`` (revenue minus an export's ``refunded``); the log rows and the counts."""
    refund = orders[REVENUE].lt(0)
    out, log = orders.assign(**{IS_REFUND: refund}), []
    if REFUND_OF in out:
        out[REFUND_OF] = out[REFUND_OF].where(out[REFUND_OF].astype(str).str.strip().ne(""))
    link = out.get(REFUND_OF, pd.Series(None, index=out.index, dtype=object))
    linked = int((refund & link.isin(out.loc[~refund, ORDER_ID].unique())).sum())
    if refund.any():
        first = refund.idxmax()
        log.append(_row("orders", REVENUE, "refunds", refund.sum(),
                        f"negative amounts flagged in '{IS_REFUND}', {linked} linked to the "
                        f"refunded order through '{REFUND_OF}'; they lower '{NET_REVENUE}'",
                        f"{out.at[first, ORDER_ID]}: "
                        f"{money(out.at[first, REVENUE], currency, decimals=2)}"))
    refunded = pd.Series(0.0, index=out.index)
    if REFUNDED in out:
        out[REFUNDED] = refunded = parse_money(out[REFUNDED], decimal=decimal)[0].fillna(0.0)
        if (refunded > 0).any():
            log.append(_row("orders", REFUNDED, "refunds", (refunded > 0).sum(),
                            f"'{NET_REVENUE}' is revenue minus the refunded amount"))
    out[NET_REVENUE] = out[REVENUE] - refunded
    n = int(refund.sum())
    return out, log, {"refunds": n, "refunds_linked": linked, "refunds_unlinked": n - linked,
                      "refunded_orders": int((refunded > 0).sum())}


def outlier_mask(values: pd.Series, *, mads: float = 5.0, share: float = 0.02, min_rows: int = 20
                 ) -> tuple[pd.Series, float | None]:
    """Values above exp(median + ``mads`` x MAD) of the logs of the positive values (the mean
    absolute deviation when the MAD is 0), if at most ``share`` of them (or one) are; and that
    limit (None with fewer than ``min_rows`` values, when nothing is judged)."""
    pos, none = values[values > 0].astype(float), pd.Series(False, index=values.index)
    deviation = (np.log(pos) - np.log(pos).median()).abs()
    if len(pos) < min_rows or not (spread := deviation.median() or deviation.mean()):
        return none, None
    limit = float(np.exp(np.log(pos).median() + mads * spread))
    above = values.gt(limit).fillna(False).astype(bool)
    return (none if above.sum() > max(1.0, share * len(pos)) else above), limit


def flag_outliers(frame: pd.DataFrame, table: str, column: str, *, by: str | None = None,
                  mads: float = 5.0, currency: str = "USD") -> tuple[pd.DataFrame, list, bool]:
    """A boolean ``outlier`` column (judged within each ``by`` group), its log row, and whether
    any group had enough values to be judged (False: every flag is False for want of data)."""
    flags, limits = pd.Series(False, index=frame.index), {}
    groups = frame.groupby(by, dropna=False).groups if by in frame else {None: frame.index}
    for name, index in groups.items():
        flags[index], limits[name] = outlier_mask(frame.loc[index, column], mads=mads)
    if not (frame := frame.assign(**{OUTLIER: flags}))[OUTLIER].any():
        return frame, [], any(limit is not None for limit in limits.values())
    top = frame.loc[flags, column].idxmax()
    group = frame.at[top, by] if by else None
    return frame, [_row(table, column, "outliers", flags.sum(),
                        f"flagged in '{OUTLIER}', not removed: more than {mads:g} MADs of the "
                        "log values above the median, and rare (at most 2% of values)"
                        + (f", within each {by}" if by else ""),
                        f"{money(frame.at[top, column], currency)} (limit"
                        f"{f' for {group}' if by else ''} {money(limits[group], currency)})")], True


def fill_unknown(frame: pd.DataFrame, table: str, blanks: dict) -> tuple[pd.DataFrame, list]:
    """Blank region / channel cells set to 'unknown'; ``blanks`` are the counts before merging."""
    log = []
    for col in (c for c in FILL_COLUMNS if c in frame and blanks.get(c)):
        now = frame[col].isna()
        frame = frame.assign(**{col: frame[col].where(~now, UNKNOWN)})
        merged = blanks[col] - int(now.sum())
        log.append(_row(table, col, "missing values", blanks[col],
                        f"blank; {int(now.sum())} set to '{UNKNOWN}', a group of their own in "
                        "breakdowns" + (f", {merged} gone by merging a person's records"
                                        if merged else "")))
    return frame, log


# ---- the step ----------------------------------------------------------------------------------
def prepare_tables(plan, *, outlier_mads: float = 5.0) -> Prepared:
    """Every available table, prepared, with the log of changes and the faults found.

    ``faults``: duplicate_customers (records merged away), people_with_duplicates, relinked (by
    table), relinked_orders, merged_copies, leads_linked, unparseable_dates (+ _rows),
    dropped_rows, refunds (linked, unlinked), missing_values, missing_region, outliers (and
    outliers_by_column: None where there were too few values to judge).
    """
    tables, notes = {t: plan.table(t) for t in plan.available()}, list(plan.notes)
    blanks = {t: {c: int(f[c].isna().sum()) for c in FILL_COLUMNS if c in f}
              for t, f in tables.items()}
    faults = {"unparseable_dates": sum(n.count for n in notes if n.kind == "coerced"
                                       and _kind(n) == schemas.DATE),
              "unparseable_date_rows": unparseable_dates(plan, notes),
              "dropped_rows": sum(n.count for n in notes if n.kind == "dropped"),
              "duplicate_customers": 0, "relinked_orders": 0, "refunds": 0,
              "outliers_by_column": {}, "merged_across_sources": sum(n.count for n in notes if (
                  n.source, n.table) == ("several sources", "customers"))}
    log, identity = notes_log(notes), pd.DataFrame(columns=["customer_id", "resolved_id",
                                                           "email_key", "sources"])
    if "customers" in tables:
        rows, identity = _people(plan, tables, faults)
        log += rows
    if "orders" in tables:
        tables["orders"], rows, counts = mark_refunds(
            tables["orders"], currency=plan.currency,
            decimal=decimal_separator(plan.settings.business.locale))
        log, faults = log + rows, faults | counts
    for table, (column, by) in ((t, o) for t, o in OUTLIERS.items() if t in tables):
        tables[table], rows, judged = flag_outliers(tables[table], table, column, by=by,
                                                    mads=outlier_mads, currency=plan.currency)
        faults["outliers_by_column"][f"{table}.{column}"] = (
            int(tables[table][OUTLIER].sum()) if judged else None)  # None: too few values
        log += rows
    for table in tables:
        tables[table], rows = fill_unknown(tables[table], table, blanks[table])
        log += rows
    missing = {f"{t}.{c}": n for t, b in blanks.items() for c, n in b.items() if n}
    faults.update(outliers=sum(filter(None, faults["outliers_by_column"].values())),
                  missing_values=missing, missing_region=missing.get(f"customers.{REGION}", 0))
    log = pd.DataFrame(log, columns=LOG_COLUMNS)
    log = log.iloc[np.argsort(log["step"].map(STEPS.index).to_numpy(), kind="stable")]
    return Prepared(tables, log.reset_index(drop=True), identity, faults)


def save_prepared(plan, prepared: Prepared) -> list:
    """Write every prepared table as prepared/<table>.parquet in the run folder (atomically)."""
    return [plan.save(f"prepared/{t}.parquet", frame) for t, frame in prepared.tables.items()]


# ---- readings ----------------------------------------------------------------------------------
def log_summary(log: pd.DataFrame) -> pd.DataFrame:
    """The cleaning log by step (in STEPS order): tables, changes, rows affected."""
    grouped = log.groupby("step", sort=False).agg(
        tables=("table", lambda t: ", ".join(dict.fromkeys(t))), changes=("rows", "size"),
        rows=("rows", "sum"))
    return grouped.reindex([s for s in STEPS if s in grouped.index]).reset_index()


def cleaning_reading(prepared: Prepared) -> str:
    """What the cleaning did, in words, from the log and the faults."""
    f, log = prepared.faults, prepared.log
    if log.empty:
        return "Your data needed no cleaning: nothing was unreadable, repeated or blank."
    text = [f"{len(log)} change(s) in {log.table.nunique()} table(s); rows touched by step: "
            + ", ".join(f"{r.step} {r.rows:,}" for r in log_summary(log).itertuples()) + "."]
    if f["unparseable_dates"]:
        shown = ", ".join(repr(r["value"]) for r in f["unparseable_date_rows"][:3])
        text.append(f"{f['unparseable_dates']} date(s) could not be read ({shown}); a row that "
                    "needs its date was left out, as it cannot be placed in any period.")
    text.append(f"{f['refunds']:,} refund rows are flagged ({f['refunds_linked']:,} linked to "
                "their order): they lower net revenue but do not count as orders."
                if f["refunds"] else "")
    blanks = ", ".join(f"{k} ({n:,})" for k, n in f["missing_values"].items())
    text.append(f"Blanks now read 'unknown', a group of their own: {blanks}." * bool(blanks))
    checked, unjudged = ([k.replace(".", " ") for k, n in f["outliers_by_column"].items()
                          if (n is None) == none] for none in (False, True))
    text.append(f"{f['outliers']:,} value(s) stand far above the rest and are flagged in "
                "'outlier': check them before they sway an average." if f["outliers"] else
                f"No value in {' or '.join(checked)} stands far above the rest." if checked else "")
    text.append(f"Too few values to look for outliers in {' or '.join(unjudged)} (at least 20 "
                "are needed)." if unjudged else "")
    return " ".join(t for t in text if t)
