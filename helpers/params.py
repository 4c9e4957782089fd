"""Settings of a run: business.yaml, then a campaign overlay, then explicit overrides.

Validated with pydantic; every error names the key as it is written in business.yaml and, for a
misspelt key, suggests the closest valid one.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from helpers import io, schemas
from helpers.errors import ConfigError, UnknownNameError, closest

BUSINESS_FILE = "business.yaml"
OBJECTIVE_TYPES = ("grow_sales", "engagement", "reach", "retention", "leads")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusinessInfo(_Strict):
    name: str = "My Business"
    industry: str = "other"
    currency: str = "USD"
    timezone: str = "UTC"
    locale: str = "en_US"
    as_of: dt.date | None = None


class Objective(_Strict):
    type: Literal["grow_sales", "engagement", "reach", "retention", "leads"]
    kpi: str | None = None
    target_change: float | None = None
    target_value: float | None = None
    deadline: dt.date | None = None
    note: str | None = None


class Budget(_Strict):
    monthly: float = 0.0
    by_channel: dict[str, float] = {}


class AICosts(_Strict):
    """What the AI work costs, for step 11's return on investment. Tools left out are costed at
    the middle of the catalogue's list-price range."""

    tools_monthly: dict[str, float] = {}
    setup_hours: float = 0.0
    hours_per_month: float = 0.0
    hourly_rate: float = 0.0


class Privacy(_Strict):
    """How long customer records are kept, and whose rules the compliance checklist stresses."""

    retention_months: int = 36
    region: Literal["us", "eu", "uk", "ca", "au", "other"] = "us"
    checked: list[str] = []  # checklist items a person has confirmed (ids of compliance_checklist.yaml)


class DataSource(_Strict):
    path: str | None = None
    format: str | None = None
    mapping: dict[str, str] = {}
    sheet: str | int | None = None
    url: str | None = None
    query: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _path_shorthand(cls, value):
        # `orders: data/orders.csv` is the same as `orders: {path: data/orders.csv}`.
        return {"path": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _has_location(self):
        if not self.path and not (self.url and self.query):
            raise ValueError("give either `path:` (a file) or both `url:` and `query:` (a database)")
        return self


class Settings(_Strict):
    business: BusinessInfo = BusinessInfo()
    objectives: list[Objective] = []
    budget: Budget = Budget()
    channels: list[str] = []
    tools_in_use: list[str] = []
    use_cases: list[str] = []
    ai_costs: AICosts = AICosts()
    privacy: Privacy = Privacy()
    data: dict[str, DataSource | list[DataSource]] = {}
    campaigns: dict[str, dict[str, Any]] = {}

    @field_validator("data")
    @classmethod
    def _known_tables(cls, value):
        for name in value:
            if name not in schemas.TABLES:
                raise UnknownNameError.for_name(name, schemas.TABLES, what="table", where="data")
        return value


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that holds the last key of ``loc`` (for listing valid keys)."""
    import typing

    current = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part)
        if field is None:  # a key of a dict of models (a table name under `data:`)
            continue
        ann = field.annotation
        args = [a for a in typing.get_args(ann) if isinstance(a, type)] or [ann]
        current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if current is None:  # a dict or list of models: look one level in
            inner = [a for a in typing.get_args(ann) for a in (a, *typing.get_args(a))]
            current = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)),
                           None)
    return current


def _branch_errors(exc: ValidationError, raw: dict) -> list[dict]:
    """The errors of the branch the user meant: a `data:` entry may be one source or a list of
    sources, and pydantic reports a failure under both readings; keep the one matching the input."""
    kept = []
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) > 2 and loc[0] == "data":
            is_list = isinstance((raw.get("data") or {}).get(loc[1]), list)
            says_list = isinstance(loc[2], str) and loc[2].startswith("list[")
            if is_list != says_list:
                continue
        kept.append(err)
    return kept


def _explain(exc: ValidationError, source: str, raw: dict | None = None) -> ConfigError:
    lines = []
    for err in _branch_errors(exc, raw or {}):
        loc = tuple(p for p in err["loc"]
                    if not (isinstance(p, str) and (p.startswith(("function", "list[")))))
        key = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            holder = _model_at(Settings, loc)
            valid = sorted(holder.model_fields) if holder else []
            guess = closest(str(loc[-1]), valid)
            hint = f" Did you mean '{guess}'?" if guess else ""
            lines.append(f"unknown key '{key}'.{hint} Valid keys there: {', '.join(valid)}.")
        else:
            got = err.get("input")
            shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})"
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"'{key}': {message}{shown}.")
    return ConfigError(f"{source}: " + " ".join(lines))


def _merge(base: dict, overlay: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _apply_overrides(raw: dict, overrides: dict[str, Any]) -> dict:
    out = copy.deepcopy(raw)
    for dotted, value in overrides.items():
        node = out
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def read_business_yaml(business_dir: Path) -> dict:
    """The raw mapping of a business folder's business.yaml (ConfigError when absent or broken)."""
    import yaml

    path = Path(business_dir) / BUSINESS_FILE
    if not path.exists():
        raise ConfigError(
            f"{path} does not exist. A business folder needs a business.yaml; create one with "
            f"`workbook new {Path(business_dir).name}` or copy templates/business.yaml."
        )
    try:
        raw = io.read_yaml(path) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}. Check the "
            "indentation (spaces, not tabs) and that every `key: value` has a space after the colon."
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold keys such as `business:` and `data:` at the top level.")
    # A section written but left empty (`data:` with nothing under it) means "use the default".
    return {key: value for key, value in raw.items() if value is not None}


def load_settings(
    business_dir: str | Path, campaign: str | None = None, overrides: dict[str, Any] | None = None
) -> Settings:
    """Validated settings of a business folder, with a campaign overlay and overrides applied.

    ``overrides`` takes dotted keys, e.g. ``{"business.as_of": "2026-06-30"}``.
    """
    business_dir = Path(business_dir)
    raw = read_business_yaml(business_dir)
    source = str(business_dir / BUSINESS_FILE)
    if campaign:
        overlays = raw.get("campaigns") or {}
        if campaign not in overlays:
            raise UnknownNameError.for_name(campaign, overlays, what="campaign", where=source)
        overlay = {k: v for k, v in (overlays[campaign] or {}).items()}
        raw = _merge(raw, overlay)
    if overrides:
        raw = _apply_overrides(raw, overrides)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise _explain(exc, source, raw) from None
    except UnknownNameError as exc:
        raise UnknownNameError(f"{source}: {exc}") from None
