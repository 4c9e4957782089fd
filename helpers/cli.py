"""The ``workbook`` command: run, new, check, sample."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from helpers.errors import ConfigError, WorkbookError
from helpers.plan import KIT_ROOT

TEMPLATES = KIT_ROOT / "templates"


def _parameter(text: str) -> tuple[str, object]:
    """-p key=value; the value read as YAML so numbers, booleans and dates keep their type."""
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"-p '{text}': write parameters as key=value")
    return key.strip(), yaml.safe_load(value) if value else ""


def cmd_run(args) -> int:
    from helpers.runner import Job, parse_steps, run_many

    steps = parse_steps(args.steps)
    campaigns = [c for c in (args.campaign or "").split(",") if c] or [None]
    jobs = [Job(business=b, campaign=c, steps=steps, out=args.out, parameters=dict(args.param))
            for b in args.business for c in campaigns]
    print(f"Running step{'s' * (len(steps) > 1)} {', '.join(map(str, steps))} for {len(jobs)} job(s) "
          f"with {args.workers} worker(s)...", flush=True)
    results = run_many(jobs, workers=args.workers)
    failed = [r for r in results if not r.get("ok")]
    for record in results:
        run_dir = Path(record.get("run_dir", args.out))
        mark = "ok    " if record.get("ok") else "FAILED"
        print(f"{mark} {run_dir}")
        if record.get("report"):
            print(f"       report: {run_dir / record['report']}")
        if record.get("workbook"):
            print(f"       tables: {run_dir / record['workbook']}; notebooks without code: "
                  f"{run_dir / 'client'}")
        if record.get("error"):
            print(f"       {record['error']}")
    print(f"{len(results) - len(failed)} of {len(results)} run(s) completed without a failed step.")
    return 1 if failed else 0


def _from_exports(folder: Path, target: Path) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Copy the platform exports found in ``folder`` into ``target/exports`` (the originals are
    left as they are): the `data:` entries they give by table, the tools they come from, and the
    files that were not recognised."""
    from helpers import io
    from helpers.connectors import FORMATS, detect_format

    data: dict[str, list[str]] = {}
    tools, unknown = [], []
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
        fmt = detect_format(path) if path.name.lower().endswith(io.CSV_SUFFIXES) else None
        if not fmt:
            unknown.append(path.name)
            continue
        (target / "exports").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / "exports" / path.name)
        for table in FORMATS[fmt].tables:
            data.setdefault(table, []).append(f"{{path: exports/{path.name}, format: {fmt}}}")
        # the tool names of business.yaml: shopify, mailchimp, google_ads, meta_ads, ga4, ...
        tool = fmt if fmt in ("google_ads", "meta_ads") else fmt.split("_")[0]
        tools += [] if tool in tools else [tool]
    return data, tools, unknown


def _data_block(data: dict[str, list[str]]) -> str:
    from helpers.schemas import TABLES

    lines = []
    for table in (t for t in TABLES if t in data):
        entries = data[table]
        lines += ([f"  {table}: {entries[0]}"] if len(entries) == 1 else
                  [f"  {table}:"] + [f"    - {e}" for e in entries])
    return "\n".join(lines) + "\n"


def cmd_new(args) -> int:
    from helpers import io

    target = Path(args.dir) / args.name
    if target.exists() and any(target.iterdir()):
        raise ConfigError(f"{target} already exists and is not empty; choose another name or --dir.")
    if args.exports and not Path(args.exports).is_dir():
        raise ConfigError(f"--exports {args.exports}: not a folder. Give the folder where you saved "
                          "the CSV files downloaded from Shopify, Mailchimp, Google Ads, Meta...")
    text = (TEMPLATES / "business.yaml").read_text(encoding="utf-8")
    text = text.replace("name: My Business ", f"name: {args.name.replace('_', ' ').title()} ", 1)
    if args.exports:
        data, tools, unknown = _from_exports(Path(args.exports), target)
        head, _, rest = text.partition("\ndata:\n")
        text = head + "\ndata:\n" + _data_block(data) + rest[rest.index("\n# Named"):]
        text = text.replace("tools_in_use: []", f"tools_in_use: [{', '.join(tools)}]", 1)
        io.write_text(target / "business.yaml", text)
        print(f"Created {target}: business.yaml reading {sum(map(len, data.values()))} table "
              f"source(s) from the exports copied to {target / 'exports'}.")
        if unknown:
            print(f"Not recognised as a platform export: {', '.join(unknown)}. Add them under "
                  "`data:` with a `mapping:` to the canonical columns (see the data dictionary).")
        print(f"Next: fill in business.yaml, then run `workbook check {target}`.")
        return 0
    (target / "data").mkdir(parents=True, exist_ok=True)
    io.write_text(target / "business.yaml", text)
    from helpers.params import load_settings

    for table, sources in load_settings(target).data.items():
        for source in sources if isinstance(sources, list) else [sources]:
            if source.path and not source.format:
                shutil.copyfile(TEMPLATES / "data" / f"{table}.csv", target / source.path)
    print(f"Created {target}: business.yaml and blank CSVs in {target / 'data'} "
          f"(column headers only).\nNext: fill in business.yaml, paste your data into the CSVs "
          f"(or point `data:` at your own exports), then run `workbook check {target}`.")
    return 0


def cmd_check(args) -> int:
    from helpers.plan import open_plan
    from helpers.schemas import TABLES

    errors = 0
    for business in args.business:
        try:
            plan = open_plan(business)
            plan.use_cache = False  # check reads every file afresh and writes nothing
        except WorkbookError as exc:
            print(f"✗ {business}: {exc}")
            errors += 1
            continue
        print(f"{plan.name} ({plan.business_dir})")
        for table in plan.declared():
            try:
                if plan.has(table):
                    frame = plan.table(table)
                    notes = [n for n in plan.notes if n.table == table]
                    print(f"  ✓ {table:<16} {len(frame):>8,} rows, {frame.shape[1]} columns"
                          + (f", {len(notes)} note(s)" if notes else ""))
                    for note in notes:
                        print(f"      · {note.message}")
                else:
                    print(f"  – {table:<16} {plan.why_missing(table)}")
            except WorkbookError as exc:
                errors += 1
                print(f"  ✗ {table:<16} {exc}")
        absent = [t for t in TABLES if t not in plan.declared()]
        if absent:
            print(f"  Not provided (optional): {', '.join(absent)}")
    print("All sources readable." if not errors else f"{errors} problem(s) to fix (see ✗ above).")
    return 1 if errors else 0


def cmd_sample(args) -> int:
    from helpers.samples import generate

    path = generate(args.name, Path(args.out), scale=args.scale, seed=args.seed)
    print(f"Wrote sample business '{args.name}' at scale {args.scale} to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbook", description="Run the AI campaign optimisation workbook.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute the notebooks for one or more businesses")
    run.add_argument("business", nargs="+", help="business folder(s) holding a business.yaml")
    run.add_argument("--campaign", help="campaign overlay(s) from business.yaml, comma-separated")
    run.add_argument("--steps", help="steps to run, e.g. 1-2 or 1,3-5 (default: all)")
    run.add_argument("--out", default="runs", help="folder for run results (default: runs)")
    run.add_argument("--workers", type=int, default=1, help="businesses run in parallel")
    run.add_argument("-p", "--param", action="append", type=_parameter, default=[],
                     metavar="KEY=VALUE", help="a notebook parameter, e.g. -p seed=7")
    run.set_defaults(func=cmd_run)
    new = sub.add_parser("new", help="create a business folder from the templates")
    new.add_argument("name")
    new.add_argument("--dir", default=".", help="where to create it (default: here)")
    new.add_argument("--exports", metavar="FOLDER",
                     help="a folder of platform exports (Shopify, Mailchimp, Google Ads, Meta, GA4, "
                          "HubSpot, Stripe, Square) to read; they are copied, never changed")
    new.set_defaults(func=cmd_new)
    check = sub.add_parser("check", help="read every data source and report problems")
    check.add_argument("business", nargs="+")
    check.set_defaults(func=cmd_check)
    sample = sub.add_parser("sample", help="write a sample business, optionally scaled up")
    sample.add_argument("name")
    sample.add_argument("--scale", type=float, default=1.0)
    sample.add_argument("--out", required=True)
    sample.add_argument("--seed", type=int, default=None)
    sample.set_defaults(func=cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (WorkbookError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
