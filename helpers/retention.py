"""Step 10: records kept longer than the business said, and columns no step needs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from helpers import pii
from helpers.compliance import CUSTOMER_ID, EMAIL, _missing
from helpers.sections import Section

# ---- retention: customers kept longer than you said ------------------------------------------
ACTIVITY = {"customers": ("signup_date",), "orders": ("order_date",),
            "email_events": ("opened_at", "clicked_at"),  # what they did, not what you sent
            "leads": ("created_at", "converted_at"), "feedback": ("created_at",)}


@dataclass(frozen=True)
class RetentionResult(Section):
    """``by_table``: rows belonging to people past the retention period, per table;
    ``customers``: customer_id, last_activity, seen_in, past_retention."""

    by_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    customers: pd.DataFrame = field(default_factory=pd.DataFrame)


def _naive(values: pd.Series) -> pd.Series:
    values = pd.to_datetime(values, errors="coerce")
    return values.dt.tz_localize(None) if values.dt.tz is not None else values


def last_activity(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per customer (of ``tables["customers"]``, else of any table): the date of the latest thing
    they did (``ACTIVITY``: signed up, ordered, opened or clicked an e-mail, enquired, gave
    feedback) and the table it is in; NaT when no table dates them."""
    parts = []
    for table, columns in ACTIVITY.items():
        frame = tables.get(table)
        if frame is None or CUSTOMER_ID not in frame:
            continue
        for col in [c for c in columns if c in frame]:
            when = _naive(frame[col]).groupby(frame[CUSTOMER_ID].astype(str)).max().dropna()
            parts.append(pd.DataFrame({"last_activity": when, "seen_in": table}))
    if "customers" in tables:
        ids = tables["customers"][CUSTOMER_ID].dropna().astype(str).unique()
    else:
        ids = pd.unique(pd.concat([p.index.to_series() for p in parts])) if parts else []
    out = pd.DataFrame(index=pd.Index(ids, name=CUSTOMER_ID))
    if parts:
        latest = pd.concat(parts).rename_axis(CUSTOMER_ID).sort_values("last_activity")
        out = out.join(latest[~latest.index.duplicated(keep="last")])
    return out.reindex(columns=["last_activity", "seen_in"]).reset_index()


def retention_table(tables: dict[str, pd.DataFrame], *, as_of, months: int
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers, by_table): each customer's last activity and whether it is older than
    ``months`` before ``as_of``; per table, its rows and those of people past retention (leads
    not linked to a customer count by their own dates)."""
    cutoff = pd.Timestamp(as_of) - pd.DateOffset(months=months)
    people = last_activity(tables)
    people["past_retention"] = people["last_activity"] < cutoff
    stale, rows = set(people.loc[people["past_retention"], CUSTOMER_ID]), []
    for table, frame in tables.items():
        if CUSTOMER_ID not in frame and table != "leads":
            continue
        ids = frame.get(CUSTOMER_ID, pd.Series(pd.NA, index=frame.index)).astype("string")
        past = ids.isin(stale).fillna(False)
        if table == "leads":  # a lead who never became a customer counts by its own dates
            dates = [_naive(frame[c]) for c in ACTIVITY["leads"] if c in frame]
            own = pd.concat(dates, axis=1).max(axis=1) if dates else pd.Series(pd.NaT)
            past |= ids.isna() & (own < cutoff)
        rows.append({"table": table, "rows": len(frame), "rows_past_retention": int(past.sum()),
                     "share": float(past.mean()) if len(frame) else 0.0})
    return people, pd.DataFrame(rows, columns=["table", "rows", "rows_past_retention", "share"])


def retention(plan, *, months: int | None = None) -> RetentionResult:
    """Customers whose last activity is older than ``months`` (default privacy.retention_months
    in business.yaml) before as_of: how many, their share, their rows per table, what to do."""
    months = int(months or plan.settings.privacy.retention_months)
    tables = {t: plan.prepared(t) for t in ACTIVITY if plan.has(t)}
    if "customers" not in tables and "orders" not in tables:
        return RetentionResult.unsupported(
            "Retention needs your customers or orders table, which date each person's last "
            f"activity. {_missing(plan, 'customers')}")
    people, by_table = retention_table(tables, as_of=plan.as_of, months=months)
    n, past = len(people), int(people["past_retention"].sum())
    undated = int(people["last_activity"].isna().sum())
    cutoff = (plan.as_of - pd.DateOffset(months=months)).date()
    headline = {"retention_months": months, "customers": n, "past_retention": past,
                "share_past_retention": past / n if n else 0.0, "no_date": undated}
    text = [f"Your retention period is {months} months (privacy.retention_months in "
            f"business.yaml), so anyone whose last activity is before {cutoff:%d %b %Y} is past "
            f"it: {past:,} of your {n:,} customers ({headline['share_past_retention']:.1%})."]
    if by_table["rows_past_retention"].any():
        held = "; ".join(f"{r.rows_past_retention:,} rows of {r.table}" for r in
                         by_table[by_table["rows_past_retention"] > 0].itertuples())
        text.append(f"Past the period (with leads that never became customers): {held}. Delete "
                    "them, or anonymise them: remove e-mail and name and keep orders under the "
                    "customer_id only as long as your accounts need them.")
    else:
        text.append("Nothing to delete yet.")
    warnings = [f"{undated:,} customers have no date in any table: check them by hand."
                ] if undated else []
    if "email_events" not in tables:
        warnings.append("Without your e-mail history (email_events), opening or clicking an "
                        "e-mail cannot count as activity: subscribers who only read your e-mails "
                        "look inactive here. Check them in your e-mail tool before deleting.")
    warnings = tuple(warnings)
    return RetentionResult(True, "", " ".join(text), warnings, headline, by_table, people)


# ---- minimisation: columns no step needs ------------------------------------------------------
@dataclass(frozen=True)
class MinimisationResult(Section):
    """``columns``: each column outside the canonical tables: table, column, personal_data,
    used_by (models that learn from it), action (drop / review / keep), why."""

    columns: pd.DataFrame = field(default_factory=pd.DataFrame)


MODEL_TABLE = {"lead_score": "leads"}  # the table a model learns from; the others: customers


def model_features(plan) -> dict[tuple[str, str], list[str]]:
    """{(table, feature): [models]} from the run folder's model cards (models/*_card.json)."""
    from helpers.model_cards import saved_cards

    used: dict[tuple[str, str], list[str]] = {}
    for card in saved_cards(plan):
        name = card["name"]
        for feature in card.get("features", []):
            used.setdefault((MODEL_TABLE.get(name, "customers"), feature), []).append(name)
    return used


def _extra_rows(table: str, frame: pd.DataFrame, features: dict) -> list[dict]:
    from helpers import schemas

    extra = [c for c in frame.columns if c not in schemas.TABLES[table].columns]
    if not extra:
        return []
    found = pii.frame_findings(frame[extra + [EMAIL] * (EMAIL in frame and EMAIL not in extra)],
                               person_table=table in pii.PERSON_TABLES)
    found = found[found["kind"] != "customer_id"].drop_duplicates("column").set_index("column")
    rows = []
    for col in extra:
        kind, models = found["kind"].get(col, ""), features.get((table, col), [])
        action, why = (("drop", f"holds {pii.PLURALS[kind]} and no step reads it") if kind else
                       ("keep", f"the {' and '.join(models).replace('_', ' ')} model"
                        f"{'s' * (len(models) > 1)} "
                        f"learn{'s' * (len(models) == 1)} from it") if models else
                       ("review", "no step reads it by name: remove it unless you need it"))
        models = ", ".join(models)
        rows.append({"table": table, "column": col, "personal_data": pii.LABELS.get(kind, ""),
                     "used_by": models, "action": action, "why": why})
    return rows


def minimisation(plan) -> MinimisationResult:
    """The columns of your files outside the canonical tables (``helpers.schemas.TABLES``), as
    loaded: "drop" when they hold personal data (found by ``helpers.pii``), "keep" when a model
    of step 06 learns from them, "review" otherwise."""
    features, rows = model_features(plan), []
    for table in plan.available():  # as loaded, before preparation: extra columns are kept
        rows += _extra_rows(table, plan.table(table), features)
    skipped = [f"{t} was not checked: {plan.why_missing(t)}" for t in plan.declared()
               if not plan.has(t)]
    if not plan.available():
        return MinimisationResult.unsupported(
            "No data file could be read, so there is nothing to check. Declare your files under "
            "`data:` in business.yaml.")
    cols = pd.DataFrame(rows, columns=["table", "column", "personal_data", "used_by", "action",
                                       "why"])
    drop, review = cols[cols["action"] == "drop"], cols[cols["action"] == "review"]
    headline = {"extra_columns": len(cols), "to_drop": len(drop), "to_review": len(review)}
    text = [f"Your files hold {len(cols)} columns beyond what the workbook needs."]
    if len(drop):
        text.append(f"Drop the {len(drop)} that hold personal data: " + ", ".join(
            f"{r.table}.{r.column}" for r in drop.itertuples()) + ". No step reads them, and "
            "every copy of a name or phone number is one more to protect and to delete.")
    if len(review):
        which = f"the other {len(review)}" if len(drop) else "them"
        text.append(f"Review {which} (" + ", ".join(
            f"{r.table}.{r.column}" for r in review.head(8).itertuples()) +
            (" ..." if len(review) > 8 else "") + "): keep one only if you use it.")
    if not len(cols):
        text = ["Every column of your files is one the workbook uses: nothing to drop."]
    return MinimisationResult(True, "", " ".join(text), tuple(skipped), headline, cols)
