"""ipywidgets forms that write the choices made in a workshop back into business.yaml.

The forms are optional: every notebook runs to the end with its parameters alone. Building a form
has no side effect; only its Save button writes, through ``save_objectives``, which validates
first and keeps the comments and the other keys of business.yaml.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from pydantic import ValidationError

from helpers.errors import ConfigError, UnknownNameError
from helpers.params import BUSINESS_FILE, OBJECTIVE_TYPES, Objective


def objective_from_form(objective_type: str, kpi: str | None, change_percent: float | None,
                        deadline: dt.date | None, *, note: str = "") -> dict:
    """One objective as business.yaml holds it, from the values of the form's fields.

    >>> objective_from_form("grow_sales", "revenue", 12, dt.date(2027, 6, 30))
    {'type': 'grow_sales', 'kpi': 'revenue', 'target_change': 0.12, 'deadline': datetime.date(2027, 6, 30)}
    """
    item = {"type": objective_type, "kpi": kpi or None,
            "target_change": None if change_percent is None else round(change_percent / 100, 6),
            "deadline": deadline, "note": note or None}
    return {k: v for k, v in item.items() if v is not None}


def _check(i: int, item: dict | Objective) -> dict:
    """A validated objective as a plain dict (blank fields left out), or a ConfigError naming
    the objective and the key."""
    from helpers.kpis import kpi_catalogue

    data = item.model_dump() if isinstance(item, Objective) else dict(item)
    if data.get("type") not in OBJECTIVE_TYPES:
        raise UnknownNameError.for_name(str(data.get("type")), OBJECTIVE_TYPES,
                                        what="objective type", where=f"objective {i}")
    try:
        obj = Objective.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"objective {i}: '{key}': {err['msg']} (got {err.get('input')!r}).") \
            from None
    kpis = kpi_catalogue()["kpis"]
    if obj.kpi and obj.kpi not in kpis:
        raise UnknownNameError.for_name(obj.kpi, kpis, what="KPI", where=f"objective {i}")
    return obj.model_dump(exclude_none=True)


def save_objectives(business_dir: str | Path, objectives: list[dict | Objective]) -> Path:
    """Validate ``objectives`` and write them as the `objectives:` list of business.yaml.

    Comments, key order and every other key of the file are kept. Nothing is written when any
    objective is invalid; the ConfigError names it (e.g. an unknown type and the closest valid one).
    """
    from helpers import io

    path = Path(business_dir) / BUSINESS_FILE
    clean = [_check(i, item) for i, item in enumerate(objectives, start=1)]
    return io.update_yaml(path, "objectives", clean)


def _listing(objectives: list[dict]) -> str:
    lines = []
    for i, o in enumerate(objectives, start=1):
        change = f", {o['target_change']:+.0%}" if o.get("target_change") is not None else ""
        lines.append(f"{i}. {o['type'].replace('_', ' ')}: {o.get('kpi') or 'usual KPI'}{change}"
                     f" by {o.get('deadline', 'no deadline')}")
    return "\n".join(lines) or "No objectives in the list yet."


def objectives_form(plan):
    """A form to set the business's objectives: type, KPI (only the ones its data can measure),
    target change in %, deadline; Add puts one in the list, Save writes the list to business.yaml.

    Returns the ipywidgets container; nothing is written until Save is pressed.
    """
    import ipywidgets as w

    from helpers.kpis import add_months, kpi_options

    pending = [o.model_dump(exclude_none=True) for o in plan.settings.objectives]
    kind = w.Dropdown(options=[(t.replace("_", " "), t) for t in OBJECTIVE_TYPES],
                      description="Objective")
    kpi = w.Dropdown(description="KPI")
    change = w.FloatText(value=10.0, description="Change %", step=1.0)
    deadline = w.DatePicker(description="Deadline", value=add_months(plan.as_of, 9).date())
    add, clear = w.Button(description="Add to list"), w.Button(description="Start over")
    save = w.Button(description="Save to business.yaml", button_style="primary")
    status = w.HTML()  # messages (an HTML widget, not an Output one: nothing to capture)

    def refresh(*_):
        kpi.options = kpi_options(plan, kind.value) or [("(no data measures this yet)", None)]
        kpi.value = kpi.options[0][1]

    def show(message: str):
        status.value = f"<pre>{html.escape(message + chr(10) + _listing(pending))}</pre>"

    def on_add(_):
        pending.append(objective_from_form(kind.value, kpi.value, change.value, deadline.value))
        show("Added. Press Save to write the list into business.yaml.")

    def on_clear(_):
        pending.clear()
        show("The list is empty: add objectives, then Save.")

    def on_save(_):
        try:
            path = save_objectives(plan.business_dir, pending)
            show(f"Saved {len(pending)} objective(s) to {path}. Run this notebook again to see "
                 "their baselines and targets.")
        except ConfigError as exc:
            show(f"Not saved: {exc}")

    kind.observe(refresh, names="value")
    refresh()
    add.on_click(on_add)
    clear.on_click(on_clear)
    save.on_click(on_save)
    show("Current objectives:")
    return w.VBox([w.HBox([kind, kpi]), w.HBox([change, deadline]), w.HBox([add, clear, save]),
                   status])
