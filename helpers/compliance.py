"""Step 10: compliance and ethics -- consent in every list, retention, minimisation,
pseudonymised files, fair model scores, model cards and the checklist.

Each section reads the run folder of steps 01-07 and the business's data, and returns a frozen
result (``supported``, ``reason``, ``reading``, ``warnings``, ``headline`` and its tables). A
section whose inputs are missing returns an unsupported result that names what would enable it;
none raises on thin data. Where personal data sits is ``helpers.pii``'s job. The checklist
(templates/compliance_checklist.yaml) turns the results into pass / fail / needs review, and
``compliance_artifact`` gathers everything for compliance.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers import consent, pii
from helpers.activation import ACTIONS, ARTIFACT, PERSONAL, raw_emails
from helpers.errors import DataError, MissingDataError
from helpers.tables import normalise_email

CUSTOMER_ID, EMAIL = consent.CUSTOMER_ID, consent.EMAIL
HEX64 = r"[0-9a-f]{64}"  # a SHA-256 hash as the ad platforms take it: 64 lower-case hex digits
PASS, FAIL, REVIEW = "pass", "fail", "needs review"


@dataclass(frozen=True)
class Section:
    """What every section returns: whether it ran, why not, its reading, warnings, headline."""

    supported: bool
    reason: str = ""
    reading: str = ""
    warnings: tuple = ()
    headline: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.reading

    @classmethod
    def unsupported(cls, reason: str):
        return cls(False, reason, reason)


@dataclass(frozen=True)
class ConsentCheckResult(Section):
    """``files``: per file of actions/, who is in it and how many may not be contacted."""

    files: pd.DataFrame = field(default_factory=pd.DataFrame)


def _missing(plan, table: str) -> str:
    """``plan.why_missing`` as a sentence (capitalised)."""
    why = plan.why_missing(table)
    return why[:1].upper() + why[1:]


# ---- consent: nobody who said no is in a list ------------------------------------------------
def blocked(customers: pd.DataFrame, *, purpose: str, unsubscribed=()) -> pd.Series:
    """True for each customer who may not be contacted for ``purpose`` by consent's own rule
    (``helpers.consent.RULES``). A missing or shared address is not a refusal, so the rule is
    applied with every address made valid and unique."""
    probe = customers.assign(**{EMAIL: [f"c{i}@probe.invalid" for i in range(len(customers))]})
    allowed = consent.eligible(probe, purpose=purpose, unsubscribed=unsubscribed)[0]
    return ~customers[CUSTOMER_ID].isin(set(allowed[CUSTOMER_ID]))


def _keys(customers: pd.DataFrame, mask) -> dict[str, set]:
    """The ids, normalised addresses and their hashes of the customers under ``mask``."""
    c = customers[pd.Series(mask, index=customers.index).to_numpy(bool)]
    mail = c[EMAIL] if EMAIL in c else pd.Series(dtype="string")
    return {"id": set(c[CUSTOMER_ID]), "email": set(normalise_email(mail).dropna()),
            "hash": set(consent.hash_email(mail).dropna())}


def _people(frame: pd.DataFrame) -> tuple[str, set] | None:
    """How a file names people ("hash", "email" or "id") and who is in it; None: nobody."""
    for col in frame.columns:
        values = frame[col].astype("string").str.strip()
        if len(frame) and values.str.fullmatch(HEX64).fillna(False).all():
            return "hash", set(values)
    if (cols := raw_emails(frame)):
        return "email", set(normalise_email(frame[cols[0]]).dropna())
    if CUSTOMER_ID in frame:
        return "id", set(frame[CUSTOMER_ID].dropna().astype(str))
    return None


def _purpose(name: str, section: str, how: str | None) -> str:
    if how == "hash":
        return "ads"
    if how == "email" or (how == "id" and (section == "email" or PERSONAL in name)):
        return "email"
    return "content" if how == "id" else "none"


def _listed(plan) -> list[dict]:
    """activation.json's files plus any other CSV under actions/ (section blank)."""
    listed = list(plan.load(ARTIFACT).get("actions", []))
    known = {a["file"] for a in listed}
    listed += [{"file": f"{ACTIONS}/{p.name}", "section": ""} for p in
               sorted(plan.path(ACTIONS).glob("*.csv")) if f"{ACTIONS}/{p.name}" not in known]
    return listed


def _file_row(plan, entry: dict, keys: dict) -> dict:
    from helpers import io

    name = Path(entry["file"]).name
    path = plan.path(entry["file"])
    if not path.exists():
        return {"file": entry["file"], "purpose": "missing", "status": REVIEW, "people": 0,
                "may_not_contact": 0, "unsubscribed": 0, "not_found": 0, "raw_emails": ""}
    frame = io.read_source(path)
    found = _people(frame)
    how, people = found if found else (None, set())
    purpose = _purpose(name, entry.get("section", ""), how)
    target = "email" if purpose == "content" else purpose
    row = {"file": entry["file"], "purpose": purpose, "people": len(people)}
    row["may_not_contact"] = len(people & keys[target]["blocked"][how]) if how else 0
    row["unsubscribed"] = len(people & keys["gone"][how]) if how else 0
    row["not_found"] = len(people - keys["all"][how]) if how else 0
    row["raw_emails"] = "" if PERSONAL in name else ", ".join(raw_emails(frame))
    bad = row["raw_emails"] or (purpose in ("email", "ads") and row["may_not_contact"])
    row["status"] = FAIL if bad else REVIEW if row["may_not_contact"] else (
        PASS if how else "no people in it")
    return row


def consent_check(plan) -> ConsentCheckResult:
    """Every file step 07 wrote, against consent: how many people in it may not be contacted
    for its purpose (e-mail files: consent_email; ad files: consent_ads), how many unsubscribed,
    and whether a file not named *_contains_emails* holds a raw address. Any person who may not
    be contacted in an e-mail or ad list is a fail naming the file."""
    try:
        listed = _listed(plan)
    except MissingDataError:
        return ConsentCheckResult.unsupported(
            "There is no activation.json in the run folder: run step 07 first (it writes the "
            "audience files that this check reads).")
    if not plan.has("customers"):
        return ConsentCheckResult.unsupported(
            f"Consent can be checked only against your customers table. "
            f"{_missing(plan, 'customers')}")
    customers, gone_ids = plan.prepared("customers"), consent.unsubscribed_ids(plan)
    gone = customers[CUSTOMER_ID].isin(gone_ids)
    if "email_status" in customers:
        gone |= customers["email_status"].astype("string").str.strip().str.lower().isin(
            consent.GONE_STATUSES).fillna(False)
    keys = {p: {"blocked": _keys(customers, blocked(customers, purpose=p, unsubscribed=gone_ids))}
            for p in consent.PURPOSES}
    keys |= {"gone": _keys(customers, gone), "all": _keys(customers, True)}
    files = pd.DataFrame([_file_row(plan, e, keys) for e in listed],
                         columns=["file", "purpose", "people", "may_not_contact", "unsubscribed",
                                  "not_found", "raw_emails", "status"])
    lists = files[files["purpose"].isin(consent.PURPOSES)]
    headline = {"files_checked": len(files), "audience_files": len(lists),
                "people_in_lists": int(lists["people"].sum()),
                "violations": int(lists["may_not_contact"].sum()),
                "unsubscribed_in_lists": int(lists["unsubscribed"].sum()),
                "raw_email_files": int((files["raw_emails"] != "").sum())}
    return ConsentCheckResult(True, "", _consent_reading(files, headline),
                              _consent_warnings(files), headline, files)


def _consent_reading(files: pd.DataFrame, h: dict) -> str:
    failed = files[files["status"] == FAIL]
    text = [f"Step 07 wrote {h['files_checked']} files; {h['audience_files']} of them are "
            f"contact lists, holding {h['people_in_lists']:,} people (counted once per list)."]
    if failed.empty:
        text.append("Everyone in them may be contacted for that purpose: no refusal, no blank "
                    "consent and no unsubscribe reached a list, and no file outside "
                    "*_contains_emails* holds a raw e-mail address.")
    for r in failed.itertuples():
        why = (f"raw e-mail addresses in {r.raw_emails}" if r.raw_emails else
               f"{r.may_not_contact:,} people who may not receive {r.purpose} marketing")
        text.append(f"FAIL: {r.file} holds {why}. Remove them before any upload.")
    return " ".join(text)


def _consent_warnings(files: pd.DataFrame) -> tuple:
    out = [f"{r.file} is listed in activation.json but is not in the run folder: run step 07 "
           "again." for r in files[files["purpose"] == "missing"].itertuples()]
    for r in files[(files["status"] == REVIEW) & (files["purpose"] != "missing")].itertuples():
        out.append(f"{r.file} is not a contact list but names {r.may_not_contact:,} customers "
                   "who may not be e-mailed: use it only for people already on your e-mail "
                   "list (or on your website), never to e-mail them.")
    out += [f"{r.file}: {r.not_found:,} people in it are not in your customers table, so their "
            "consent cannot be checked." for r in files[files["not_found"] > 0].itertuples()]
    return tuple(out)


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
    from helpers import io

    used: dict[tuple[str, str], list[str]] = {}
    for path in sorted(plan.path("models").glob("*_card.json")):
        card = io.read_json(path)
        name = card.get("name", path.stem.removesuffix("_card"))
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


# ---- pseudonymisation: what the run folder holds ---------------------------------------------
@dataclass(frozen=True)
class PseudonymisationResult(Section):
    """``files``: each file of the run folder: file, kind, emails, phones, status, note."""

    files: pd.DataFrame = field(default_factory=pd.DataFrame)


ARTIFACTS = ("actions/*.csv", "*.json", "*.parquet", "steps/*.json", "models/*.json",
             "report.html", "notebooks/*.ipynb")
WORKING = ("prepared", "cache")  # copies of the business's own data, personal by design
AD_FILE = ("meta_", "google_")


def _check_file(path: Path, rel: str) -> dict:
    from helpers import io

    counts = pii.file_counts(path)
    row = {"file": rel, "kind": "artifact", **counts, "status": PASS, "note": ""}
    if path.name.startswith(AD_FILE) or "sha256" in path.name:
        frame = io.read_source(path)
        text = [c for c in frame if not pd.to_numeric(frame[c], errors="coerce").notna().all()]
        ok = all(frame[c].astype("string").str.fullmatch(HEX64).fillna(True).all() for c in text)
        row |= {"kind": "ad-platform upload", "status": PASS if ok and text else FAIL,
                "note": "SHA-256 hashes only" if ok and text else "holds values that are not "
                "64-character lower-case SHA-256 hashes"}
    elif PERSONAL in path.name:
        row |= {"kind": "marked personal data", "status": FAIL if counts["phones"] else PASS,
                "note": "holds e-mail addresses by design: delete it after the import"}
    elif counts["emails"] or counts["phones"]:
        row |= {"status": FAIL, "note": "holds raw contact details: it must not"}
    return row


def pseudonymisation(plan) -> PseudonymisationResult:
    """Every file under actions/ and every artifact of the run folder (JSON, Parquet, steps,
    model cards, report.html, executed notebooks): no raw e-mail address or phone number outside
    the files marked *_contains_emails*, and ad-platform files holding SHA-256 hashes only.
    prepared/ and cache/ are working copies of your data and are listed, not scanned."""
    root = plan.run_dir
    paths = sorted({p for pattern in ARTIFACTS for p in root.glob(pattern) if p.is_file()})
    if not paths:
        return PseudonymisationResult.unsupported(
            f"The run folder {root} holds no artifact yet: run steps 01-07 first.")
    rows = [_check_file(p, str(p.relative_to(root))) for p in paths]
    rows += [{"file": f"{d}/", "kind": "working copy", "emails": pd.NA, "phones": pd.NA,
              "status": PASS, "note": f"{sum(1 for _ in (root / d).glob('*'))} files: copies of "
              "your data, personal by design; keep the run folder private"}
             for d in WORKING if (root / d).is_dir()]
    files = pd.DataFrame(rows, columns=["file", "kind", "emails", "phones", "status", "note"]
                         ).astype({"emails": "Int64", "phones": "Int64"})
    failed = files[files["status"] == FAIL]
    ads = files[files["kind"] == "ad-platform upload"]
    headline = {"files_checked": int((files["kind"] != "working copy").sum()),
                "files_failed": len(failed), "ad_files": len(ads),
                "ad_files_hashed_only": int((ads["status"] == PASS).sum())}
    text = [f"{headline['files_checked']} files of the run folder were read"]
    text[0] += (": none holds a raw e-mail address or phone number where it should not." if
                failed.empty else f": {len(failed)} fail ({', '.join(failed['file'])}). Fix the "
                "step that wrote each one and run it again before sharing anything.")
    if len(ads):
        text.append(f"{headline['ad_files_hashed_only']} of the {len(ads)} files for the ad "
                    "platforms hold SHA-256 hashes only.")
    if (files["kind"] == "marked personal data").any():
        text.append("The *_contains_emails* files hold addresses by design, for your e-mail "
                    "tool: delete them once imported.")
    return PseudonymisationResult(True, "", " ".join(text), (), headline, files)


# ---- fairness: who the scores pick ------------------------------------------------------------
@dataclass(frozen=True)
class FairnessResult(Section):
    """``table``: per score, attribute and group: customers, selected, selection_rate,
    ratio_to_best (against the best-served group of at least ``min_group``), status."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)


SCORED = {"propensity": "likely to buy", "churn_risk": "at risk of leaving"}


def fairness_data(scores: pd.DataFrame, customers: pd.DataFrame, *, by=("region", "age_band"),
                  min_group: int = 50, top_share: float = 0.1) -> pd.DataFrame:
    """Selection rates of the top ``top_share`` of each score (``SCORED``) per group of each
    ``by`` column, and each rate over that of the best-served group with at least ``min_group``
    customers (the four-fifths rule: under ``helpers.evaluation.FAIR_RATIO``). A group under the
    ratio is "below four-fifths" only when a one-sided Fisher exact test against the best group
    gives p < 0.05, else "below four-fifths, could be chance"; smaller groups are "too small to
    judge", and customers without a value ("unknown") are listed, never judged."""
    from scipy.stats import fisher_exact

    from helpers.audiences import top
    from helpers.evaluation import FAIR_RATIO

    people = customers.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID)
    s, rows = scores.drop_duplicates(CUSTOMER_ID).set_index(CUSTOMER_ID), []
    for score, attr in [(c, a) for c in SCORED if c in s for a in by if a in people]:
        picked = top(s[score].dropna(), top_share)
        group = people[attr].reindex(picked.index).astype("string").fillna("unknown")
        g = picked.groupby(group).agg(["size", "sum"])
        g["rate"] = g["sum"] / g["size"]
        judged = g[(g["size"] >= min_group) & (g.index != "unknown")]
        best = judged.loc[judged["rate"].idxmax()] if len(judged) else None
        for name, r in g.iterrows():
            ratio = r["rate"] / best["rate"] if best is not None and best["rate"] else float("nan")
            status = ("not a group (value missing)" if name == "unknown" else
                      "too small to judge" if r["size"] < min_group else
                      "ok" if not ratio < FAIR_RATIO else "below four-fifths")
            if status == "below four-fifths" and fisher_exact(
                    [[r["sum"], r["size"] - r["sum"]], [best["sum"], best["size"] - best["sum"]]],
                    alternative="less")[1] >= 0.05:
                status = "below four-fifths, could be chance"
            rows.append({"score": score, "attribute": attr, "group": name,
                         "customers": int(r["size"]), "selected": int(r["sum"]),
                         "selection_rate": r["rate"], "ratio_to_best": ratio, "status": status})
    return pd.DataFrame(rows, columns=["score", "attribute", "group", "customers", "selected",
                                       "selection_rate", "ratio_to_best", "status"])


def _fairness_reading(table: pd.DataFrame, min_group: int) -> str:
    text = ["Each group's chance of landing in the top tenth of a score is compared with that "
            f"of the best-served group of at least {min_group} customers (the four-fifths rule, "
            "with a test of whether the gap could be chance)."]
    for score, t in table.groupby("score", sort=False):
        low = t[t["status"] == "below four-fifths"]
        maybe = t[t["status"] == "below four-fifths, could be chance"]
        names = ", ".join(f"{r.group} ({r.attribute.replace('_', ' ')}, {r.ratio_to_best:.0%})"
                          for r in low.itertuples())
        line = (f"Picked as {SCORED[score]} at under 80% of the best group's rate, beyond chance: "
                f"{names}." if len(low) else f"Picked as {SCORED[score]}: no group falls below "
                "80% of the best group's rate beyond chance.")
        if len(maybe):
            line += (f" {len(maybe)} more {'falls' if len(maybe) == 1 else 'fall'} below 80%, "
                     "but by amounts chance could explain.")
        text.append(line)
    if (table["status"] == "below four-fifths").any():
        text.append("A low ratio is not proof of unfairness (the group may buy or leave less "
                    "often), but check step 06's model card before the scores leave anyone out.")
    return " ".join(text)


def fairness(plan, *, min_group: int = 50) -> FairnessResult:
    """How often each region and age band lands in the top tenth of step 06's propensity and
    churn-risk scores, against the best-served group (the four-fifths rule)."""
    from helpers.model_cards import load_scores

    if not plan.has("customers"):
        return FairnessResult.unsupported(f"Fairness needs your customers table with region or "
                                          f"age_band. {_missing(plan, 'customers')}")
    customers = plan.prepared("customers")
    if not {"region", "age_band"} & set(customers.columns):
        return FairnessResult.unsupported(
            "Your customers table has no region or age_band column, so there are no groups to "
            "compare: add one to check whether the scores treat groups alike.")
    try:
        scores = load_scores(plan)
    except (MissingDataError, DataError) as exc:
        return FairnessResult.unsupported(f"No model scores to check: {exc} Run step 06 first.")
    table = fairness_data(scores, customers, min_group=min_group)
    judged = table[~table["status"].isin(["too small to judge", "not a group (value missing)"])]
    if not len(judged) or judged.groupby(["score", "attribute"]).size().max() < 2:
        return FairnessResult.unsupported(
            f"No score has two groups of at least {min_group} customers to compare: run step 06 "
            f"(propensity, churn) and add region or age_band for more of your customers.")
    small = table[table["status"] == "too small to judge"]
    headline = {"groups_checked": len(judged),
                "groups_flagged": int((table["status"] == "below four-fifths").sum()),
                "groups_too_small": len(small), "worst_ratio": float(judged["ratio_to_best"].min())}
    warnings = (f"Too small to judge (under {min_group} customers): " + ", ".join(
        sorted(set(small["group"].astype(str)))) + ".",) if len(small) else ()
    return FairnessResult(True, "", _fairness_reading(table, min_group), warnings, headline,
                          table)


def model_cards(plan) -> pd.DataFrame:
    """The run folder's model cards (models/*_card.json) side by side: model, use, not for,
    data window, main metric against its rule, whether it beat the rule, fairness summary."""
    from helpers import io
    from helpers.evaluation import beats_rule

    rows = []
    for path in sorted(plan.path("models").glob("*_card.json")):
        card = io.read_json(path)
        m = card.get("metrics", {})
        metric = (f"ROC AUC {m['roc_auc']:.2f} vs rule {m['baseline_roc_auc']:.2f}"
                  if {"roc_auc", "baseline_roc_auc"} <= set(m) else "–")
        rows.append({"model": card.get("name", path.stem).replace("_", " "),
                     "use": card.get("intended_use", ""), "not for": card.get("not_for", ""),
                     "data window": "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in
                                              card.get("data_window", {}).items()),
                     "main metric": metric, "beats rule": ("yes" if beats_rule(m) else "no")
                     if metric != "–" else "–",
                     "fairness": card.get("fairness", {}).get("summary", "")})
    return pd.DataFrame(rows, columns=["model", "use", "not for", "data window", "main metric",
                                       "beats rule", "fairness"])


# ---- the checklist -------------------------------------------------------------------------------
STATUS_ORDER = (FAIL, REVIEW, PASS)


def _h(result, key: str) -> int:
    return int(result.headline.get(key, 0))


def _consent_status(files: pd.DataFrame, violations: int) -> tuple[str, str]:
    """Fail when a contact list holds someone who may not be contacted; needs review when only
    a per-customer file (recommendations, offers) names such people."""
    lists = files[files["purpose"].isin(consent.PURPOSES)]
    if violations:
        bad = lists[lists["may_not_contact"] > 0]
        return FAIL, "; ".join(f"{r.file}: {r.may_not_contact:,}" for r in bad.itertuples())
    review = files[files["status"] == REVIEW]
    text = (f"0 people who may not be contacted in {len(lists)} contact lists" if len(lists)
            else "no contact list in this run")
    if len(review):
        return REVIEW, text + "; but " + ", ".join(review["file"]) + " name customers who may "\
            "not be e-mailed"
    return PASS, text


CHECKS = {  # name: (results key, (result) -> (status, evidence))
    "pii_inventory": ("pii", lambda r: (PASS, f"{_h(r, 'columns_with_pii')} column(s) with "
                                              "personal data mapped in "
                                              f"{_h(r, 'files_scanned')} file(s)")),
    "no_card_numbers": ("pii", lambda r: (FAIL, "card numbers in " + ", ".join(
        r.table.loc[r.table["kind"] == "card_number", "column"])) if (
        r.table["kind"] == "card_number").any() else (PASS, "no card number found")),
    "consent_violations": ("consent", lambda r: _consent_status(r.files, _h(r, "violations"))),
    "unsubscribes_honoured": ("consent", lambda r: (
        FAIL if _h(r, "unsubscribed_in_lists") else PASS,
        f"{_h(r, 'unsubscribed_in_lists')} unsubscribed people in the lists")),
    "raw_emails_in_files": ("consent", lambda r: (
        FAIL if _h(r, "raw_email_files") else PASS, f"{_h(r, 'raw_email_files')} files outside "
        "*_contains_emails* hold raw addresses")),
    "pseudonymised_exports": ("pseudonymisation", lambda r: (
        FAIL if _h(r, "files_failed") else PASS, (f"{_h(r, 'ad_files_hashed_only')} of "
        f"{_h(r, 'ad_files')} ad files hashed only" if _h(r, "ad_files") else "no ad-platform "
        "file in this run") + f"; {_h(r, 'files_failed')} files with raw contact details")),
    "pii_in_report": ("pseudonymisation", lambda r: _report_check(r.files)),
    "retention": ("retention", lambda r: (
        FAIL if _h(r, "past_retention") else PASS, f"{_h(r, 'past_retention')} customers past "
        f"{_h(r, 'retention_months')} months")),
    "unused_pii_columns": ("minimisation", lambda r: (
        FAIL if _h(r, "to_drop") else PASS, f"{_h(r, 'to_drop')} columns of personal data to "
        "drop")),
    "fairness": ("fairness", lambda r: (
        REVIEW if _h(r, "groups_flagged") else PASS, f"{_h(r, 'groups_flagged')} of "
        f"{_h(r, 'groups_checked')} groups picked at under 80% of the best group, beyond chance")),
    "model_cards": ("model_cards", lambda r: (PASS, f"{len(r)} models, each with its card") if
                    len(r) else (PASS, "no model in this run, so none to document")),
}


def _report_check(files: pd.DataFrame) -> tuple[str, str]:
    shared = files[files["file"].str.match(r"report\.html|notebooks/")]
    if shared.empty:
        return REVIEW, "no report or executed notebook in the run folder yet"
    bad = shared[shared["status"] == FAIL]
    return (FAIL, f"contact details in {', '.join(bad['file'])}") if len(bad) else (
        PASS, f"{len(shared)} files checked, none holds contact details")


def checklist_items(*, path: str | Path | None = None) -> list[dict]:
    """The items of templates/compliance_checklist.yaml (or ``path``), each with id, law,
    regions, question and either check or manual + look_at."""
    from helpers import io
    from helpers.plan import KIT_ROOT

    return io.read_yaml(path or KIT_ROOT / "templates" / "compliance_checklist.yaml")["items"]


def _status(item: dict, results: dict, confirmed: set) -> tuple[str, str]:
    if item.get("manual"):
        return (PASS, "confirmed by you (privacy.checked in business.yaml)") if \
            item["id"] in confirmed else (REVIEW, f"look at: {item.get('look_at', '')}")
    key, test = CHECKS[item["check"]]
    result = results.get(key)
    if result is None:
        return REVIEW, f"the {key} check was not run"
    if not getattr(result, "supported", True):
        return REVIEW, f"not checked: {result.reason}"
    return test(result)


def checklist(plan, results: dict, *, checked=None, everywhere: bool = False) -> pd.DataFrame:
    """The checklist for this business's region (privacy.region, plus items for all regions;
    every item with ``everywhere``): id, law, question, how (automated check or by hand),
    status (pass / fail / needs review) and evidence. ``results`` maps the section names of
    ``CHECKS`` ("pii", "consent", "retention", ...) to their results; a manual item passes when
    its id is in privacy.checked or ``checked``."""
    region = plan.settings.privacy.region
    confirmed = set(plan.settings.privacy.checked) | set(checked or ())
    rows = []
    for item in checklist_items():
        if not (everywhere or {"all", region} & set(item["regions"])):
            continue
        status, evidence = _status(item, results, confirmed)
        rows.append({"id": item["id"], "law": item["law"], "question": item["question"],
                     "how": "by hand" if item.get("manual") else f"automated: {item['check']}",
                     "status": status, "evidence": evidence})
    return pd.DataFrame(rows, columns=["id", "law", "question", "how", "status", "evidence"])


def save_checked(business_dir: str | Path, ids) -> Path:
    """Write the manual items a person confirmed as privacy.checked in business.yaml, keeping
    the file's comments and the other privacy keys. An unknown id is a ConfigError naming the
    closest one; nothing is written then."""
    from helpers import io
    from helpers.errors import UnknownNameError
    from helpers.params import BUSINESS_FILE

    manual = [i["id"] for i in checklist_items() if i.get("manual")]
    for item_id in ids:
        if item_id not in manual:
            raise UnknownNameError.for_name(item_id, manual, what="manual checklist item",
                                            where="templates/compliance_checklist.yaml")
    path = Path(business_dir) / BUSINESS_FILE
    privacy = (io.read_yaml(path) or {}).get("privacy")
    if not isinstance(privacy, dict):
        return io.update_yaml(path, "privacy", {"checked": sorted(set(ids))})
    # io.update_yaml sets a whole top-level key, which would drop the comments inside privacy:
    # so only privacy.checked is set here, in ruamel's round-trip mode (as io.update_yaml does)
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedSeq

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    with path.open(encoding="utf-8-sig") as fh:
        data = yaml.load(fh)
    data["privacy"]["checked"] = CommentedSeq(sorted(set(ids)))
    data["privacy"]["checked"].fa.set_flow_style()  # one line, so a comment after it stays put
    return io.write_atomic(path, lambda tmp: yaml.dump(data, tmp))


def checklist_form(plan, table: pd.DataFrame):
    """Tick boxes for the manual items of ``table`` (from ``checklist``); Save writes the ticked
    ids to privacy.checked in business.yaml. Nothing is written until Save is pressed."""
    import html

    import ipywidgets as w

    from helpers.errors import ConfigError

    manual = table[table["how"] == "by hand"]
    boxes = {r.id: w.Checkbox(value=r.status == PASS, indent=False,
                              layout=w.Layout(width="30px")) for r in manual.itertuples()}
    rows = [w.HBox([boxes[r.id], w.HTML(f"<b>{html.escape(r.law)}</b>: "  # long text wraps
                                        f"{html.escape(r.question)}")])
            for r in manual.itertuples()]
    save = w.Button(description="Save to business.yaml", button_style="primary")
    status = w.HTML()

    def on_save(_):
        ticked = [i for i, box in boxes.items() if box.value]
        try:
            path = save_checked(plan.business_dir, ticked)
            status.value = (f"<p>Saved {len(ticked)} confirmed item(s) to "
                            f"{html.escape(str(path))}. Run this notebook again to update the "
                            "checklist.</p>")
        except ConfigError as exc:
            status.value = f"<p>Not saved: {html.escape(str(exc))}</p>"

    save.on_click(on_save)
    return w.VBox([*rows, save, status])


def compliance_artifact(results: dict, checklist: pd.DataFrame) -> dict:
    """compliance.json: each section's status, reading, headline and warnings, its small tables
    (file names, column names, counts and group rates only: never a value of your data), and
    the checklist with its counts per status."""
    from helpers.evaluation import json_safe

    sections = {}
    for name, r in results.items():
        if isinstance(r, pd.DataFrame):
            sections[name] = {"supported": True, "table": json_safe(r.to_dict("records"))}
            continue
        tables = {k: json_safe(v.astype(object).where(v.notna(), None).to_dict("records"))
                  for k, v in vars(r).items() if isinstance(v, pd.DataFrame) and k != "customers"}
        sections[name] = {"supported": r.supported, "reason": r.reason, "reading": r.reading,
                          "headline": json_safe(dict(r.headline)),
                          "warnings": list(r.warnings), **tables}
    counts = checklist["status"].value_counts()
    return {"sections": sections, "checklist": checklist.to_dict("records"),
            "summary": {s: int(counts.get(s, 0)) for s in STATUS_ORDER}}
