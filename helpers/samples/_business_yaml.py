"""The business.yaml of a sample business, written as text so the template's comments survive.

The layout and comments follow templates/business.yaml; only the values (and a two-line header
naming the sample) differ.
"""

from __future__ import annotations

_TEMPLATE = """\
# business.yaml: what the workbook needs to know about your business.
# {about}
# Written by `workbook sample {sample}`; regenerate it rather than edit it by hand.
# Dates are written YYYY-MM-DD. Money is in the currency below.

business:
  name: {name:<25}# shown on every chart and in the report
  industry: {industry:<21}# retail_ecommerce, food_beverage, fitness_wellness, services, b2b, other
  currency: {currency:<21}# ISO code: USD, EUR, GBP, ...
  timezone: {timezone:<21}# used to read timestamps and pick send hours
  locale: {locale:<23}# how your files write numbers and dates: en_US (03/25/2025, 1,234.50),
                                 # en_GB (25/03/2025, 1,234.50), de_DE / fr_FR / nl_NL (25.03.2025, 1.234,50)
  as_of: {as_of:<24}# "today" for the analysis; blank = the latest date in your data

# What you want marketing to achieve. type: grow_sales, engagement, reach, retention or leads.
# kpi: leave blank for the usual one, or pick from templates/kpis.yaml.
# target_change: +0.15 means 15 % above the baseline (the last 12 months); or set target_value instead.
objectives:
{objectives}
budget:
  monthly: {monthly:<22}# total marketing budget per month
  by_channel: {by_channel}   # per channel, per month

channels: [{channels}]   # where you market: email, paid_search, paid_social, social, web, store
tools_in_use: [{tools}]   # the tools your data comes from
{use_cases}
# What the AI work costs you, for the return on investment in step 11.
ai_costs:
  tools_monthly: {{}}            # subscriptions a month, e.g. {{klaviyo: 45}}; tools left out are costed
                               # at the middle of their list-price range in templates/ai_use_cases.yaml
  setup_hours: {setup_hours:<16}# hours to set everything up, once
  hours_per_month: {hours_per_month:<12}# hours a month to run it
  hourly_rate: {hourly_rate:<16}# what an hour of your (or your staff's) time costs

# Privacy, for the compliance checks of step 10.
privacy:
  retention_months: {retention_months:<11}# keep customer records this long after their last activity
  region: {region:<21}# us, eu, uk, ca, au or other: whose rules the checklist stresses
  checked: []                  # checklist items you have confirmed by hand (step 10 fills this in)

# Your data files, one per table. path is relative to this folder.
# Add `format: shopify_orders` (etc.) for a platform export, or `mapping: {{your_column: canonical_column}}`
# for a file of your own whose column names differ. Delete the tables you do not have.
data:
{data}
# Named variations for one campaign; `workbook run . --campaign spring_sale` applies them on top.
campaigns:{campaigns}
"""


def _objective(obj: dict) -> str:
    lines = [
        f"  - type: {obj['type']}",
        f"    kpi: {obj.get('kpi') or ''}".rstrip(),
        f"    target_change: {obj['target_change']:.2f}",
        f"    deadline: {obj['deadline']}",
    ]
    if obj.get("note"):
        lines.append(f"    note: {obj['note']}")
    return "\n".join(lines)


def _source(entry: str | dict) -> str:
    """One data source as a YAML flow mapping: ``{path: ..., format: ...}``."""
    if isinstance(entry, str):
        entry = {"path": entry}
    return "{" + ", ".join(f"{k}: {v}" for k, v in entry.items()) + "}"


def _data_lines(data: dict) -> str:
    """The ``data:`` entries: one line per table, or a list of sources under the table."""
    width = max(len(t) for t in data) + 1
    lines = []
    for table, entry in data.items():
        if isinstance(entry, list):
            lines.append(f"  {table}:")
            lines.extend(f"    - {_source(e)}" for e in entry)
        else:
            lines.append(f"  {(table + ':'):<{width}} {_source(entry)}")
    return "\n".join(lines) + "\n"


def _use_cases(ids) -> str:
    if not ids:
        return ""
    return ("\n# The AI uses this business chose in its step-03 workshop (ids from "
            "templates/ai_use_cases.yaml).\n# Delete the list and step 03 picks the best-scoring "
            "ones your data is ready for.\nuse_cases:\n" + "".join(f"  - {i}\n" for i in ids))


def render(
    *,
    sample: str,
    about: str,
    business: dict,
    objectives: list[dict],
    monthly: float,
    by_channel: dict[str, float],
    channels: list[str],
    tools: list[str],
    data: dict[str, str | dict | list[dict]],
    campaigns: str = "",
    use_cases: list[str] = (),
    ai_costs: dict | None = None,
    privacy: dict | None = None,
) -> str:
    """The text of business.yaml.

    Parameters
    ----------
    business : dict
        ``name, industry, currency, timezone, locale, as_of``.
    data : dict
        Canonical table name -> its source: a path relative to the business folder, a mapping
        (``{"path": ..., "format": ...}``), or a list of such mappings (several sources).
    use_cases : list of str
        The AI use cases the sample business chose (ids of templates/ai_use_cases.yaml); empty
        lets step 03 pick.
    ai_costs : dict
        ``setup_hours, hours_per_month, hourly_rate`` (zeros when None).
    privacy : dict
        ``retention_months, region`` (36 months, "us" when None).
    campaigns : str
        The YAML lines of the named campaign overlays (indented two spaces), or "" for none.
    """
    return _TEMPLATE.format(
        about=about,
        sample=sample,
        **business,
        objectives="\n".join(_objective(o) for o in objectives) + "\n",
        monthly=f"{monthly:.0f}",
        by_channel="{" + ", ".join(f"{k}: {v:.0f}" for k, v in by_channel.items()) + "}",
        channels=", ".join(channels),
        tools=", ".join(tools),
        use_cases=_use_cases(use_cases),
        **({"setup_hours": 0, "hours_per_month": 0, "hourly_rate": 0} | (ai_costs or {})),
        **({"retention_months": 36, "region": "us"} | (privacy or {})),
        data=_data_lines(data),
        campaigns="\n" + campaigns.rstrip() if campaigns else " {}",
    )
