"""Step 10: the compliance checklist (templates/compliance_checklist.yaml) marked pass, fail or
needs review from the checks' results, the by-hand ticks, and compliance.json."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers import consent
from helpers.compliance import FAIL, PASS, REVIEW

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


def checklist_reading(table: pd.DataFrame) -> str:
    """The checklist in words: how many items pass, fail and need a person, and the fails."""
    counts = table["status"].value_counts()
    text = (f"Of {len(table)} checklist items, {counts.get(PASS, 0)} pass, "
            f"{counts.get(FAIL, 0)} fail and {counts.get(REVIEW, 0)} need a person's review.")
    fails = table[table["status"] == FAIL]
    if len(fails):
        text += " Fix first: " + "; ".join(f"{r.question} ({r.evidence})"
                                           for r in fails.itertuples()) + "."
    return text


HEADLINE = {"consent": ["violations"], "retention": ["past_retention"],
            "minimisation": ["to_drop"], "pseudonymisation": ["files_failed"],
            "fairness": ["groups_flagged", "groups_checked"]}


def step_summary(results: dict, table: pd.DataFrame) -> dict:
    """The record for ``plan.record_step(10, ...)``: the checklist counts and each check's key
    number as the headline, each check's reading as the summary, the fails first on the report's
    first screen."""
    from helpers.sections import step_record

    checks = {k: v for k, v in results.items() if not isinstance(v, pd.DataFrame)}
    record = step_record(checks, keep=HEADLINE)
    counts = table["status"].value_counts()
    record["headline"] = {"checklist_pass": int(counts.get(PASS, 0)),
                          "checklist_fail": int(counts.get(FAIL, 0)),
                          "checklist_review": int(counts.get(REVIEW, 0)), **record["headline"]}
    reading = checklist_reading(table)
    record["summary"] = [f"checklist: {reading}", *record["summary"]]
    record["executive"] = [reading]
    return record
