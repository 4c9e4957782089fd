"""How the notebooks of steps 06 and 07 run their sections.

A section runs when step 03 shortlisted its use case and the data is ready; otherwise it returns a
``Skipped`` holding the sentence that says why. Every section's result (from ``helpers.models``,
``helpers.forecast``, ``helpers.media`` ...) carries ``supported``, ``reading``, ``warnings`` and
``headline``; ``step_record`` gathers them into the step's summary for the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from helpers import tool_selection as ts


@dataclass(frozen=True)
class Skipped:
    """What a section returns when it does not run: the sentence saying why."""

    reason: str
    supported: bool = False
    warnings: tuple = ()
    headline: dict = field(default_factory=dict)

    @property
    def reading(self) -> str:
        return self.reason


def run_section(plan, use_case_ids: str | list[str], build, /, *args, fallback: bool = False,
                **options):
    """``build(plan, *args, **options)`` when one of ``use_case_ids`` is shortlisted and its data
    is ready, else a ``Skipped`` naming why.

    With ``fallback`` a shortlisted use case runs even when its data is not ready, for sections
    that still have a simpler answer to give (the budget section compares ROAS when the data
    cannot support response curves).
    """
    ids = [use_case_ids] if isinstance(use_case_ids, str) else list(use_case_ids)
    reasons = []
    for uc in ids:
        ok, why = ts.section_status(plan, uc)
        if ok or (fallback and uc in ts.selected(plan)):
            return build(plan, *args, **options)
        reasons.append(why)
    return Skipped(" ".join(dict.fromkeys(reasons)))


def save_figures(plan, figures: dict) -> None:
    """Save each chart ({name: Axes or Figure}) as figures/<name>.png; a section that did not run
    drew nothing (None) and is passed over."""
    for name, chart in figures.items():
        if chart is not None:
            plan.save_figure(getattr(chart, "figure", chart), name)


def ran(result) -> bool:
    """True when a section ran and its data supported it (so it has tables and charts to show)."""
    return bool(getattr(result, "supported", False))


MONEY_WORDS = ("revenue", "gain", "amount", "spend", "value", "clv", "forecast", "profit")


def unit_of(key: str) -> str | None:
    """How to show a headline number the section did not give a unit for, from its name:
    rates and shares as percentages, amounts as money, anything else as a plain number."""
    if "rate" in key or "share" in key:
        return "percent"
    return "money" if any(word in key for word in MONEY_WORDS) else None


def step_record(results: dict, *, units: dict[str, str] | None = None,
                keep: dict[str, list[str]] | None = None) -> dict:
    """The step summary (for ``plan.record_step``) of a notebook's sections.

    ``results`` maps a section's title to its result. The headline holds the numbers ``keep``
    names for each section ({title: [keys]}), as ``<title>_<key>``, or every section's numbers
    when ``keep`` is None; the summary is one line per section (its reading, or why it did not
    run); warnings are gathered in order.
    """
    headline, shown_as, summary, warnings = {}, {}, [], []
    for title, result in results.items():
        for key, value in (getattr(result, "headline", None) or {}).items():
            if isinstance(value, bool) or (keep is not None and key not in keep.get(title, ())):
                continue  # "supported: True" is said by the summary line
            section = title.replace(" ", "_")
            name = (key if keep is None and key not in headline or key.startswith(section)
                    else f"{section}_{key}")  # "forecast_total", not "forecast_forecast_total"
            headline[name] = value
            unit = (units or {}).get(key) or (None if isinstance(value, str) else unit_of(key))
            if unit:
                shown_as[name] = unit
        status = "" if ran(result) else " (not run)"
        summary.append(f"{title}{status}: {result.reading}")
        warnings.extend(f"{title}: {w}" for w in (getattr(result, "warnings", None) or ()))
    return {"headline": headline, "summary": summary, "warnings": warnings, "units": shown_as}


def executive(results: dict, *, order: list[str] | None = None, limit: int = 2) -> list[str]:
    """The sentences a step puts on the report's first screen: the first sentence of the
    reading of each section that ran, in ``order`` (default: the sections' own order), at most
    ``limit`` of them; when none ran, the first section's reason."""
    from helpers.report import first_sentence

    titles = [t for t in (order or []) if t in results] + [t for t in results
                                                           if t not in (order or [])]
    lines = [first_sentence(results[t].reading) for t in titles
             if ran(results[t]) and results[t].reading]
    if not lines and results:
        first = next(iter(results.values()))
        lines = [first_sentence(getattr(first, "reading", "") or "")]
    return [line for line in lines if line][:limit]


@dataclass(frozen=True, eq=False)
class Section:
    """The fields every section result shares: whether it ran (``supported``), why not
    (``reason``), the reading for "What this means", warnings and headline numbers. A step's
    result classes add their tables."""

    supported: bool
    reason: str = ""
    reading: str = ""
    warnings: tuple[str, ...] = ()
    headline: dict = field(default_factory=dict)

    @classmethod
    def unsupported(cls, reason: str):
        """A result that did not run, its reading the reason."""
        return cls(False, reason, reason)
