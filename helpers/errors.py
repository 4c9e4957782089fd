"""The workbook's one family of exceptions.

Every message names what is wrong (file, column, key, rows) and says how to fix it, because the
person reading it is often a business owner, not a programmer.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class WorkbookError(Exception):
    """Base of every error the workbook raises on purpose."""


class ConfigError(WorkbookError):
    """business.yaml, a campaign overlay or a parameter is wrong."""


class DataError(WorkbookError):
    """A data file cannot be read or does not hold what the table needs."""


class MissingDataError(DataError):
    """A table the step asked for is not there (not declared, file missing, or no rows)."""


class LeakageError(DataError):
    """A model feature uses information from after its cutoff date, so its scores would look better
    in testing than they can be in use."""


class StepFailed(WorkbookError):
    """A notebook failed during `workbook run`."""


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The closest valid spelling of ``name`` among ``choices``, or None when nothing is close."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


class UnknownNameError(ConfigError):
    """A key, table or campaign name that does not exist; the message suggests the closest one."""

    @classmethod
    def for_name(cls, name: str, valid: Iterable[str], *, what: str, where: str = ""):
        valid = sorted(valid)
        guess = closest(name, valid)
        hint = f" Did you mean '{guess}'?" if guess else ""
        place = f"{where}: " if where else ""
        return cls(
            f"{place}unknown {what} '{name}'.{hint} Valid {what}s: {', '.join(valid) or '(none)'}."
        )


def rows_text(line_numbers: Iterable[int], *, limit: int = 5) -> str:
    """'lines 3, 7 and 12' or 'lines 3, 7, 12, 15, 20 and 38 more' for a message."""
    lines = list(line_numbers)
    if not lines:
        return "no lines"
    shown = ", ".join(str(n) for n in lines[:limit])
    if len(lines) == 1:
        return f"line {shown}"
    if len(lines) <= limit:
        head, _, last = shown.rpartition(", ")
        return f"lines {head} and {last}"
    return f"lines {shown} and {len(lines) - limit} more"
