"""Step 10: where personal data sits in your files, found by column name and by content.

Each column of every file the business declared is checked by its name (``helpers.plan.PII_NAME``
and a few more names) and by its content, on a sample of at most ``SAMPLE`` non-empty values:
e-mail addresses, phone numbers, street addresses, payment card numbers (13-19 digits passing the
Luhn check), IP addresses (the standard library's ``ipaddress``), people's names, and customer ids
(an indirect identifier). Only column names and shares ever leave this module, never a value.

People's names are hard to tell by content without a list of names, which is not installed, and
a wrong guess would flag product, city and business names. So a column counts as names by content
only when its values look like names (one to three capitalised words of letters) AND, for at least
``MIN_SHARE["person_name"]`` of the rows, one of those words appears in the same row's e-mail
address ("Linda Rivera" beside linda.rivera@...). Without an e-mail column in the file, names are
found by the column's name only.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.errors import DataError, MissingDataError
from helpers.plan import PII_NAME
from helpers.sections import Section

SAMPLE = 2000  # values read per column
LABELS = {"email": "e-mail address", "phone": "phone number", "street_address":
          "street address or postcode", "person_name": "person's name", "card_number":
          "payment card number", "ip_address": "IP address", "customer_id":
          "customer id (points to a person indirectly)"}
PLURALS = {"email": "e-mail addresses", "phone": "phone numbers", "street_address":
           "addresses or postcodes", "person_name": "people's names", "card_number":
           "card numbers", "ip_address": "IP addresses", "customer_id": "customer ids"}
RISK = {"email": "high", "phone": "high", "street_address": "high", "person_name": "high",
        "card_number": "high", "ip_address": "medium", "customer_id": "low"}
# The share of sampled values a kind needs before a column counts as holding it. One e-mail in a
# hundred free-text answers is already personal data; random 13-19 digit ids pass the Luhn check
# one time in ten, so card numbers need nearly every value to pass.
MIN_SHARE = {"email": 0.01, "phone": 0.5, "street_address": 0.5, "person_name": 0.3,
             "card_number": 0.9, "ip_address": 0.5, "customer_id": 0.5}
PERSON_TABLES = ("customers", "leads")  # tables about people: a bare "name" column is a person's
NAME_PATTERNS = (  # (kind, pattern on the lower-cased, underscored column name), first match wins
    ("customer_id", r"^(customer|client|member)_?id$"),
    ("ip_address", r"(^|_)ip(_|$)|ip_?address"),
    ("card_number", r"card_?(number|no|num)|credit_?card|(^|_)pan$"),
    ("email", r"e_?mail"),
    ("phone", r"phone|mobile|(^|_)tel(ephone)?$"),
    ("person_name", r"(first|last|full|contact|billing|shipping|customer|person|sur)_?name"),
    ("street_address", r"address|street|postcode|post_code|postal_code|zip"),
)
STOPPABLE = ("email", "phone", "person_name", "street_address")  # NOT_PERSONAL can overrule
NOT_PERSONAL = re.compile(r"consent|status|opt|subscri|sent|opened|click|bounce|domain|campaign|"
                          r"type|verified|rating|count|rate|flag|source|channel", re.IGNORECASE)
EMAIL = r"[^@\s,;<>\"'()\[\]]+@[^@\s,;<>\"'()\[\]]+\.[A-Za-z]{2,}"
PHONE_IN_TEXT = (r"(?<![\w.+-])(?:\+\d{1,3}(?:[ .-]\d{2,5}){2,5}|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})"
                 r"(?![\w-])")
_PHONE = re.compile(r"\+?[\d\s().-]{8,24}")
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_IP_SHAPE = r"\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}(?:%\w+)?"
_CARD = re.compile(r"\d[\d -]{11,24}\d")
_STREET = re.compile(
    r"\d{1,6}[a-z]?(\s*[-/]\s*\d+)?,?\s+([^\W\d_][\w.'-]*\s+){0,4}"
    r"(street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|terrace|"
    r"crescent|cres|highway|hwy|parkway|pkwy|square|sq|circle|cir|trail|close|row|\w*way)\b.*"
    r"|(p\.?\s?o\.?\s+box|apt|suite|unit)\s*#?\s*\d+.*", re.IGNORECASE)


def luhn_ok(number) -> bool:
    """Whether ``number`` (digits, spaces and dashes allowed) has 13-19 digits and passes the Luhn
    check that every payment card number passes.

    >>> luhn_ok("4111 1111 1111 1111"), luhn_ok("4111 1111 1111 1112")
    (True, False)
    """
    text = str(number).strip()
    if not _CARD.fullmatch(text):
        return False
    digits = [int(d) for d in text if d.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):  # double every second digit from the right
        total += d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d)
    return total % 10 == 0


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_phone(text: str) -> bool:
    """Phone-shaped: digits with separators (or a leading +), 9-15 digits, not a plain number,
    not an IP address."""
    digits = sum(ch.isdigit() for ch in text)
    return bool(9 <= digits <= 15 and _PHONE.fullmatch(text) and not _NUMBER.fullmatch(text)
                and (text.startswith("+") or any(c in text for c in " -().")) and
                not _is_ip(text))


def _name_words(text: str) -> list[str] | None:
    """The words of a name-shaped value (one to three capitalised words of letters), else None."""
    words = text.split()
    if not 1 <= len(words) <= 3:
        return None
    for w in words:
        letters = w.replace("-", "").replace("'", "").replace("’", "")
        if len(letters) < 2 or not letters.isalpha() or not w[0].isupper() or w.isupper():
            return None
    return words


def _in_email(words: list[str] | None, email) -> bool:
    if not words or not isinstance(email, str) or "@" not in email:
        return False
    local = email.split("@")[0].lower()
    return any(len(w) >= 3 and w.lower() in local for w in words)


def _sampled(values: pd.Series, *, sample: int, seed: int) -> pd.Series:
    """At most ``sample`` non-empty values as trimmed text, in a plain object Series (none for
    dates and yes/no columns)."""
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_bool_dtype(values):
        return pd.Series(dtype=object)
    values = values.dropna()
    if len(values) > 3 * sample:  # trim before converting a long column to text
        values = values.sample(n=3 * sample, random_state=seed)
    text = pd.Series([str(v).strip() for v in values.to_numpy(dtype=object)],
                     index=values.index, dtype=object)
    text = text[text != ""]
    return text.sample(n=sample, random_state=seed) if len(text) > sample else text


_PLAIN = re.compile(r"-?[\d.,]*\d%?|\d{4}-\d\d-\d\d([ T].*)?|true|false|yes|no", re.IGNORECASE)


def _kinds(value: str) -> set[str]:
    """The kinds of personal data one value is shaped like (names need the row: see _scan)."""
    if re.fullmatch(_IP_SHAPE, value) and _is_ip(value):
        return {"ip_address"}
    if _PLAIN.fullmatch(value):  # a number, a date or yes/no: only a card number can hide here
        return {"card_number"} if luhn_ok(value) else set()
    return {kind for kind, ok in (
        ("email", re.search(EMAIL, value)), ("phone", _PHONE.fullmatch(value) and _is_phone(value)),
        ("card_number", luhn_ok(value)), ("street_address", _STREET.fullmatch(value))) if ok}


def _scan(text: pd.Series, emails: pd.Series | None, known_ids) -> dict[str, float]:
    """Shares of ``text`` (sampled, trimmed values) holding each kind of personal data; each
    distinct value is checked once."""
    if text.empty:
        return {}
    counts, n = text.value_counts(), len(text)
    hits: dict[str, int] = {}
    for value, k in counts.items():
        for kind in _kinds(value) | ({"customer_id"} if known_ids and value in known_ids
                                     else set()):
            hits[kind] = hits.get(kind, 0) + int(k)
    if emails is not None:
        words = {v: _name_words(v) for v in counts.index if not _PLAIN.fullmatch(v)}
        mail = emails.reindex(text.index).to_numpy(object)
        hits["person_name"] = sum(_in_email(words.get(v), m) for v, m in
                                  zip(text, mail, strict=True))
    shares = {kind: h / n for kind, h in hits.items() if h}
    return dict(sorted(shares.items(), key=lambda x: -x[1]))


def scan_values(values: pd.Series, *, emails: pd.Series | None = None, known_ids=None,
                sample: int = SAMPLE, seed: int = 0) -> dict[str, float]:
    """The share of the column's sampled non-empty values that hold each kind of personal data
    ({kind: share}, kinds found only, highest first).

    ``emails``: the same rows' e-mail addresses (same index), which people's names are matched
    against (see the module note); ``known_ids``: your customer ids, to recognise a column of
    them by content. At most ``sample`` values are read, chosen at random with ``seed``.

    >>> scan_values(pd.Series(["ann@example.com", "+1 773-555-0187", "hello"]))
    {'email': 0.3333333333333333, 'phone': 0.3333333333333333}
    """
    ids = None if known_ids is None else set(map(str, known_ids))
    return _scan(_sampled(values, sample=sample, seed=seed), emails, ids)


def kind_by_name(column: str, *, person_table: bool = False) -> str | None:
    """The kind of personal data a column's name announces, or None.

    A bare "name" is a person's name only in a table about people (customers, leads): elsewhere it
    names a product, a campaign or an order. Names that describe a fact about the data (consent,
    status, opened, rate ...) are not personal data themselves.
    """
    norm = re.sub(r"[\s\-.]+", "_", str(column).strip().lower())
    if norm == "name":
        return "person_name" if person_table else None
    for kind, pattern in NAME_PATTERNS:
        if re.search(pattern, norm):
            return None if kind in STOPPABLE and NOT_PERSONAL.search(norm) else kind
    if NOT_PERSONAL.search(norm):
        return None
    return "street_address" if PII_NAME.search(norm) else None


def frame_findings(frame: pd.DataFrame, *, person_table: bool = False, known_ids=None,
                   sample: int = SAMPLE, seed: int = 0) -> pd.DataFrame:
    """One row per column and kind of personal data found in ``frame``: column, kind, found_by
    (name / content / both), share (of sampled values; 0 when found by name only)."""
    frame = frame.drop(columns=[c for c in frame.columns if str(c).startswith("_")])
    texts = {c: _sampled(frame[c], sample=sample, seed=seed) for c in frame.columns}
    mail_share = {c: t.str.fullmatch(EMAIL).mean() if len(t) else 0.0 for c, t in texts.items()}
    mail = max(mail_share, key=mail_share.get, default=None)
    emails = frame[mail] if mail is not None and mail_share[mail] >= 0.5 else None
    ids, rows = None if known_ids is None else set(map(str, known_ids)), []
    for col in frame.columns:
        shares = _scan(texts[col], None if col == mail else emails, ids)
        empty = texts[col].empty
        by_content = {k for k, s in shares.items() if s >= MIN_SHARE[k]}
        by_name = kind_by_name(col, person_table=person_table)
        if by_name == "email" and not by_content and len(texts[col]) >= 20:
            by_name = None  # named like e-mail, holds none (hashes, yes/no): content decides
        for kind in sorted(by_content | ({by_name} - {None}), key=list(LABELS).index):
            how = "both" if kind == by_name and kind in by_content else (
                "name" if kind == by_name else "content")
            rows.append({"column": str(col), "kind": kind, "found_by": how,
                         "share": round(shares.get(kind, 0.0), 4), "empty": empty})
    return pd.DataFrame(rows, columns=["column", "kind", "found_by", "share", "empty"])


# ---- the map of a business's files -------------------------------------------------------------
@dataclass(frozen=True)
class PIIResult(Section):
    """Where personal data sits: ``table`` has one row per file, column and kind (table, file,
    column, kind, found_by, share, risk, suggestion); no value is ever copied into it."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __str__(self) -> str:
        return self.reading


EMPTY = "drop: the column is empty (no value to protect, but nothing to keep either)"


def suggestion(kind: str, tables: list[str], *, canonical: bool) -> str:
    """What to do with a column holding ``kind`` in a file feeding ``tables``."""
    if kind == "customer_id":
        return "keep: links your tables (it points to a person, so keep the files private)"
    if kind == "card_number":
        return "drop now: payment card numbers never belong in a marketing file"
    if kind == "email" and "customers" in tables and canonical:
        return "keep: needed for e-mail lists and the hashed ad lists of step 07"
    if kind == "email":
        return ("drop, or hash it (helpers.consent.hash_email): no step reads e-mail from "
                f"{', '.join(tables)}")
    return "drop: no step of the workbook uses it"


def _file_frames(plan):
    """(file, tables, frame, export) for every declared source: an export file as the platform
    wrote it (its own headers, read once), any other file as loaded, before coercion."""
    from helpers import connectors

    found, skipped = {}, []
    for table in plan.declared():
        sources = plan.settings.data[table]
        for src in sources if isinstance(sources, list) else [sources]:
            label = str(src.path or f"database query for {table}")
            if label in found:
                found[label][1].append(table)
                continue
            path = plan.business_dir / src.path if src.path else None
            fmt = src.format or (connectors.detect_format(path) if path and not src.mapping
                                 and src.sheet is None else None)
            try:
                if fmt:  # the connector keeps a few columns: the file holds all of them
                    frame = connectors._open(path, fmt, currency=plan.currency,
                                             timezone=plan.settings.business.timezone).frame
                else:
                    raw = plan.raw(table)
                    frame = raw[raw["_source"] == str(src.path or src.url)]
            except (MissingDataError, DataError) as exc:
                skipped.append(f"{label} was not scanned: {exc}")
                continue
            found[label] = (label, [table], frame, bool(fmt))
    return list(found.values()), skipped


def known_ids(plan) -> set | None:
    """Your customer ids (from the loaded customers table, kept in the run folder's cache)."""
    if not plan.has("customers"):
        return None
    return set(plan.table("customers")["customer_id"].dropna().astype(str))


def _read_as(column: str, tables: list[str], *, export: bool) -> bool:
    """Whether the workbook reads this column (a canonical one; an export's e-mail column)."""
    from helpers import schemas

    if export:
        return column.strip().lower() in ("email", "email address")
    return any(column in schemas.TABLES[t].columns for t in tables)


def pii_map(plan, *, sample: int = SAMPLE, seed: int = 0) -> PIIResult:
    """Every column of every declared file that holds personal data, by name and by content,
    with its risk and what to do with it (``suggestion``)."""
    frames, skipped = _file_frames(plan)
    if not frames:
        reason = ("No data file could be read, so there is nothing to map. Declare your files "
                  "under `data:` in business.yaml.")
        return PIIResult(False, reason, reading=reason, warnings=tuple(skipped))
    ids, parts = known_ids(plan), []
    for label, tables, frame, export in frames:
        person = any(t in PERSON_TABLES for t in tables) and not export
        found = frame_findings(frame, person_table=person, known_ids=ids, sample=sample, seed=seed)
        parts.append(found.assign(
            table=", ".join(tables), file=label,
            risk=found["kind"].map(RISK).where(~found["empty"], "low"),
            suggestion=[EMPTY if e else suggestion(k, tables, canonical=_read_as(
                c, tables, export=export)) for k, c, e in
                zip(found["kind"], found["column"], found["empty"], strict=True)]))
    columns = ["table", "file", "column", "kind", "found_by", "share", "risk", "suggestion"]
    table = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(
        columns=columns)
    headline = {"files_scanned": len(frames), "columns_with_pii": int(len(table)),
                "high_risk_columns": int((table["risk"] == "high").sum()),
                "columns_to_drop": int(table["suggestion"].astype(str).str.startswith("drop").sum())}
    return PIIResult(True, "", table=table, reading=map_reading(table, files=len(frames)),
                     warnings=tuple(skipped), headline=headline)


def map_reading(table: pd.DataFrame, *, files: int) -> str:
    """What the PII map says, in words, from its rows."""
    people = table[table["kind"] != "customer_id"]
    if people.empty:
        return (f"No e-mail, phone, name, address, card number or IP address was found in the "
                f"{files} files scanned.")
    counts = people["kind"].value_counts()
    kinds = ", ".join(f"{PLURALS[k]} in {n}" for k, n in counts.items())
    text = [f"Personal data sits in {len(people)} columns of {people['file'].nunique()} of your "
            f"{files} files: {kinds}."]
    drop = people[people["suggestion"].str.startswith("drop")]
    if len(drop):
        where = "; ".join(f"{r.file}: {r.column}" for r in drop.head(6).itertuples())
        more = f" and {len(drop) - 6} more" if len(drop) > 6 else ""
        text.append(f"{len(drop)} of them hold personal data no step of the workbook uses "
                    f"({where}{more}): remove those columns from the files you keep here, or "
                    "keep the files where only your team can open them.")
    if "card_number" in counts:
        text.append("Payment card numbers are in your files: delete them now.")
    if (table["kind"] == "customer_id").any():
        text.append("customer_id links your tables: not a name, but it points to a person, so "
                    "the run folder is personal data too.")
    return " ".join(text)


# ---- personal data in files the workbook wrote ---------------------------------------------------
_IMAGES = re.compile(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=\s]+|\"image/png\": \"[^\"]*\"")


def text_counts(text: str) -> dict[str, int]:
    """How many e-mail addresses and phone numbers a text holds (embedded images left out)."""
    text = _IMAGES.sub("", text)
    return {"emails": len(re.findall(EMAIL, text)), "phones": len(re.findall(PHONE_IN_TEXT, text))}


def frame_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many cells of the text columns hold an e-mail address or a phone number."""
    out = {"emails": 0, "phones": 0}
    for col in frame.columns:
        if pd.api.types.is_object_dtype(frame[col]) or pd.api.types.is_string_dtype(frame[col]):
            text = frame[col].dropna().astype(str)
            out["emails"] += int(text.str.contains(EMAIL, regex=True).sum())
            out["phones"] += int(text.str.contains(PHONE_IN_TEXT, regex=True).sum())
    return out


def file_counts(path: str | Path) -> dict[str, int]:
    """E-mail addresses and phone numbers in a CSV, Parquet, JSON, HTML or notebook file."""
    from helpers import io

    path = Path(path)
    if path.suffix in (".csv", ".parquet"):
        return frame_counts(io.read_source(path))
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":  # the cells' text and text outputs, not the pictures
        cells = json.loads(text).get("cells", [])
        text = "\n".join("".join(c.get("source", "")) + "".join(
            "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")) +
            "".join(o.get("data", {}).get("text/html", "")) for o in c.get("outputs", []))
            for c in cells)
    return text_counts(text)
