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
from helpers.errors import MissingDataError
from helpers.explore import cap
from helpers.sections import Section
from helpers.tables import normalise_email

CUSTOMER_ID, EMAIL = consent.CUSTOMER_ID, consent.EMAIL
HEX64 = r"[0-9a-f]{64}"  # a SHA-256 hash as the ad platforms take it: 64 lower-case hex digits
PASS, FAIL, REVIEW = "pass", "fail", "needs review"


@dataclass(frozen=True)
class ConsentCheckResult(Section):
    """``files``: per file of actions/, who is in it and how many may not be contacted."""

    files: pd.DataFrame = field(default_factory=pd.DataFrame)


def _missing(plan, table: str) -> str:
    """``plan.why_missing`` as a sentence (capitalised)."""
    return cap(plan.why_missing(table))


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
