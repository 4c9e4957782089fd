"""Step 07: putting AI into campaigns -- the files a business uploads, and what to do with each.

The sections of step 07 live in their own modules (``recommend``, ``email_plan``, ``audiences``,
``media`` and ``budget``, ``offers``, ``social``); each result's ``files`` and ``what_to_do`` say
which tables to write and what to do with each. This
module writes them as ``actions/*.csv`` and lists them in ``activation.json`` with one line each
saying what to do with the file, and it refuses to write a raw e-mail address into any file that
is not marked as holding personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import pandas as pd

from helpers.errors import DataError
from helpers.explore import label
from helpers.plan import format_value
from helpers.sections import ran as sections_ran

ARTIFACT = "activation.json"
ACTIONS = "actions"
PERSONAL = "_contains_emails"  # the file-name mark of a file that holds raw e-mail addresses
EMAIL_PATTERN = r"[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}"


@dataclass(frozen=True)
class Action:
    """One file to upload or act on: its name under actions/, its rows and what to do with it."""

    name: str
    frame: pd.DataFrame
    what_to_do: str
    section: str = ""

    @property
    def personal(self) -> bool:
        return PERSONAL in self.name


def raw_emails(frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` that hold something shaped like an e-mail address."""
    found = []
    for column in frame.columns:
        values = frame[column]
        if (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)) and \
                values.astype("string").str.contains(EMAIL_PATTERN, regex=True, na=False).any():
            found.append(str(column))
    return found


def collect(results: dict) -> list[Action]:
    """The actions of every section that ran: each result's ``files`` ({name: frame}) with its
    ``what_to_do`` ({name: sentence})."""
    actions = []
    for section, result in results.items():
        if not getattr(result, "supported", False):
            continue
        files, todo = result.files, result.what_to_do
        for name, frame in files.items():
            actions.append(Action(name=name, frame=frame, section=section,
                                  what_to_do=todo.get(name, "")))
    return actions


def write_actions(plan, actions: list[Action]) -> list[dict]:
    """Write each action as actions/<name>.csv and return the list for activation.json.

    A file whose name lacks the personal-data mark must not hold a raw e-mail address: the check
    runs before anything is written, so a mistake never reaches the run folder.
    """
    for action in actions:
        leaked = [] if action.personal else raw_emails(action.frame)
        if leaked:
            raise DataError(
                f"actions/{action.name}.csv would hold raw e-mail addresses in column(s) "
                f"{', '.join(leaked)}. Hash them (helpers.audiences.hash_email) or name the file "
                f"with '{PERSONAL}' so it is marked as personal data.")
    listed = []
    for action in actions:
        path = f"{ACTIONS}/{action.name}.csv"
        plan.save(path, action.frame)
        listed.append({"file": path, "section": action.section, "rows": int(len(action.frame)),
                       "what_to_do": action.what_to_do, "personal_data": action.personal})
    return listed


def actions_table(listed: list[dict]) -> pd.DataFrame:
    """The files written, for the notebook: file, rows, what to do with it."""
    columns = ["file", "rows", "what_to_do", "personal_data"]
    return pd.DataFrame(listed, columns=["section", *columns]).set_index("section")


def artifact(plan, listed: list[dict], results: dict) -> dict:
    """activation.json: the files, and each section's headline numbers, reading and warnings."""
    return {
        "business": plan.name,
        "as_of": plan.as_of.date().isoformat(),
        "actions": listed,
        "sections": {
            title: {"ran": bool(getattr(r, "supported", False)), "reading": r.reading,
                    "headline": dict(getattr(r, "headline", None) or {}),
                    "warnings": list(getattr(r, "warnings", None) or ())}
            for title, r in results.items()
        },
    }


def what_this_means(listed: list[dict], results: dict) -> str:
    """How many files are ready, which hold personal data, and which sections gave none."""
    if not listed:
        return ("No file was written: no section of this step ran. Each section above says which "
                "shortlist choice or which data would start it.")
    personal = [a["file"] for a in listed if a["personal_data"]]
    sections_with = {a["section"] for a in listed}
    quiet = [t for t, r in results.items()
             if getattr(r, "supported", False) and t not in sections_with]
    lines = [f"{len(listed)} files are ready in {ACTIONS}/ from {len(sections_with)} sections "
             f"({', '.join(sorted(sections_with))}), {sum(a['rows'] for a in listed):,} rows in "
             "all."]
    if personal:
        which = "One of them holds" if len(personal) == 1 else f"{len(personal)} of them hold"
        lines.append(f"{which} e-mail addresses for your own e-mail tool "
                     f"({', '.join(personal)}): import, then delete after the import.")
    if quiet:
        lines.append(f"These sections ran but have nothing to upload, only findings to act on: "
                     f"{', '.join(quiet)}.")
    return "\n".join(lines)


UNITS = {"moved_amount": "money", "expected_gain": "money", "gain_low": "money",
         "gain_high": "money"}
HEADLINE = {"recommendations": ["complete_basket_hit_rate_co_purchase",
                                "complete_basket_hit_rate_popularity"],
            "email": ["email_eligible", "own_send_hour", "win_back_flow"],
            "budget": ["moved_to", "moved_amount", "expected_gain", "gain_low", "gain_high"],
            "offers": ["most_sensitive", "customers_with_offer"],
            "social": ["best_slot"],
            "ad audiences": ["high_propensity_list", "lookalike_list"]}


def step_summary(listed: list[dict], results: dict) -> dict:
    """The step record for ``plan.record_step(7, ...)``: each section's headline numbers and
    reading, and how many files were written."""
    from helpers import sections

    step = sections.step_record(results, units=UNITS, keep=HEADLINE)
    step["headline"] = {"files": len(listed), **step["headline"]}
    step["units"] = {"files": "count", **step["units"]}
    step["executive"] = [what_this_means(listed, results).split("\n")[0],
                         *budget_line(results.get("budget"))]
    return step


def saved_section(plan, name: str) -> dict:
    """One section's record in this run's activation.json (ran, reading, headline, warnings);
    empty when step 07 has not run or wrote no such section."""
    from helpers.errors import MissingDataError

    try:
        record = plan.load(ARTIFACT)["sections"][name]
    except (MissingDataError, KeyError, TypeError):
        return {}
    return record if isinstance(record, dict) else {}


def budget_line(result) -> list[str]:
    """The budget move in one sentence for the report's first screen (none when no move)."""
    h = getattr(result, "headline", None) or {}
    if not (sections_ran(result) and h.get("moved_amount")):
        return []
    money = partial(format_value, unit="money", currency=getattr(result, "currency", "USD"))
    return [f"Move about {money(h['moved_amount'])} a month from {label(h['moved_from'])} to "
            f"{label(h['moved_to'])}: about {money(h['expected_gain'])} more revenue a month "
            f"expected (90 % range {money(h['gain_low'])} to {money(h['gain_high'])})."]
