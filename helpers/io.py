"""All file access of the workbook: reading sources as they come, writing artifacts atomically.

Sources are read as text (every cell a string) so that ``helpers.tables`` can coerce values by the
business's locale and count what it had to change. Raw input files are only ever opened for reading.
"""

from __future__ import annotations

import csv
import gzip
import io as _io
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from helpers.errors import DataError, MissingDataError

CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# Encodings tried in order. UTF-8 with or without a byte-order mark covers modern exports;
# cp1252 is what Excel on Windows writes; latin-1 accepts any byte, so reading never fails on
# encoding alone. (A detector library would guess among dozens of encodings; small-business
# exports come in these few, so an ordered list is both faster and more predictable.)
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
DELIMITERS = ",;\t|"


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".csv.gz" if name.endswith(".csv.gz") else path.suffix.lower()


def decode(raw: bytes) -> tuple[str, str]:
    """Decode file bytes with the first encoding that fits; returns (text, encoding)."""
    for enc in ENCODINGS:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def sniff_delimiter(text: str) -> str:
    """The column delimiter of a CSV text: `,` `;` tab or `|`.

    csv.Sniffer looks at a sample; when it cannot decide, the delimiter that appears most often
    in the header line wins (a `;` file from European Excel has more `;` than `,` there).
    """
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = text.splitlines()[0] if text.strip() else ""
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def read_csv_text(path: Path, *, delimiter: str | None = None) -> pd.DataFrame:
    """Read a CSV (any of ENCODINGS, any of DELIMITERS, gzip or not) as strings.

    Raises MissingDataError for an empty file. A header-only file gives a frame with no rows.
    """
    raw = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        raw = gzip.decompress(raw)
    text, _ = decode(raw)
    if not text.strip():
        raise MissingDataError(
            f"{path.name} is empty (0 rows, no header). Export the file again from your tool, "
            "or delete its line under `data:` in business.yaml if you do not have this table."
        )
    sep = delimiter or sniff_delimiter(text)
    frame = pd.read_csv(
        _io.StringIO(text),
        sep=sep,
        dtype=str,
        keep_default_na=False,
        skipinitialspace=True,
        skip_blank_lines=True,
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def read_source(path: str | Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read one data file into a DataFrame of strings (Parquet keeps its own types).

    Supports CSV/TSV/TXT (delimiter and encoding sniffed, optionally gzipped), Excel, Parquet and
    JSON records. The file is never modified.
    """
    path = Path(path)
    if not path.exists():
        raise MissingDataError(
            f"{path} does not exist. Check the `path:` under `data:` in business.yaml "
            f"(it is relative to the business folder), or put the file there."
        )
    suffix = _suffix(path)
    if suffix in CSV_SUFFIXES:
        return read_csv_text(path)
    if suffix in EXCEL_SUFFIXES:
        frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".json":
        return pd.read_json(path, orient="records", dtype=False)
    raise DataError(
        f"{path.name}: the workbook cannot read '{suffix}' files. Save it as CSV, Excel (.xlsx) "
        "or Parquet, or declare a platform `format:` for it in business.yaml."
    )


def read_sql(url: str, query: str) -> pd.DataFrame:
    """Run ``query`` against a SQLAlchemy database URL and return the result."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(sqlalchemy.text(query), conn)
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise DataError(
            f"the SQL source {engine.url.render_as_string(hide_password=True)} failed: "
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}. Check `url:` and `query:`."
        ) from exc
    finally:
        engine.dispose()


# ---- artifacts -------------------------------------------------------------------------------


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Write a file through ``write(tmp_path)`` then move it into place in one step.

    A crash midway leaves the previous good file, never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _json_default(value):
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _finite(obj):
    """Replace NaN and infinities (not valid JSON) with None, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if hasattr(obj, "item") and not hasattr(obj, "__len__"):  # numpy scalar
        return _finite(obj.item())
    return obj


def to_json_text(obj) -> str:
    """JSON text with dates, numpy numbers and paths converted; NaN written as null."""
    return json.dumps(_finite(obj), indent=2, default=_json_default, ensure_ascii=False)


def write_json(path: str | Path, obj) -> Path:
    text = to_json_text(obj)
    return write_atomic(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


def read_json(path: str | Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_parquet(path: str | Path, frame: pd.DataFrame) -> Path:
    return write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_text(path: str | Path, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_figure(path: str | Path, fig) -> Path:
    return write_atomic(
        path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    )


def write_joblib(path: str | Path, obj) -> Path:
    """A fitted model (or any picklable object) with joblib, atomically."""
    import joblib

    return write_atomic(path, lambda tmp: joblib.dump(obj, tmp))


def read_joblib(path: str | Path):
    import joblib

    return joblib.load(path)


def newest_change(paths) -> float:
    """When the most recently changed of ``paths`` changed (0 when none exists)."""
    return max((Path(p).stat().st_mtime for p in paths if Path(p).exists()), default=0.0)


def write_cache(stem: str | Path, frame: pd.DataFrame, meta: dict) -> None:
    """Keep a table for later readers: ``stem``.parquet and its ``meta`` in ``stem``.json."""
    write_parquet(f"{stem}.parquet", frame)
    write_json(f"{stem}.json", meta)


def read_cache(stem: str | Path, *, key: str, since: float) -> tuple[pd.DataFrame, dict] | None:
    """The table kept by ``write_cache`` and its meta, or None when it is missing, older than
    ``since`` (its inputs changed after it was written) or made with another ``key``."""
    frame_path, meta_path = Path(f"{stem}.parquet"), Path(f"{stem}.json")
    if not (frame_path.exists() and meta_path.exists()) or frame_path.stat().st_mtime < since:
        return None
    meta = read_json(meta_path)
    return (pd.read_parquet(frame_path), meta) if meta.get("key") == key else None


def read_yaml(path: str | Path):
    """The content of a YAML file (comments are not kept; use ``update_yaml`` to write)."""
    import yaml

    return yaml.safe_load(Path(path).read_text(encoding="utf-8-sig"))


def _commented(value):
    """Plain lists and dicts as ruamel's commented containers, so comments can attach to them."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict):
        return CommentedMap((k, _commented(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return CommentedSeq(_commented(v) for v in value)
    return value


def _last_slot(node):
    """(container, key) of the innermost last item of a block list or mapping, or None."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap) and len(node):
        key = list(node)[-1]
        return _last_slot(node[key]) or (node, key)
    if isinstance(node, CommentedSeq) and len(node):
        return _last_slot(node[-1]) or (node, len(node) - 1)
    return None


def update_yaml(path: str | Path, key: str, value) -> Path:
    """Set one top-level ``key`` of a YAML file, keeping its comments, order and other keys.

    Uses ruamel.yaml's round-trip mode (PyYAML drops comments). ruamel attaches the lines that
    follow a block (a blank line, the comment introducing the next key) to the block's innermost
    last item, so they are moved onto the new value's last item. Written atomically.
    """
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    path = Path(path)
    with path.open(encoding="utf-8-sig") as fh:
        data = yaml.load(fh)
    new = _commented(value)
    old_slot, new_slot = _last_slot(data.get(key)), _last_slot(new)
    if old_slot and new_slot:
        token = old_slot[0].ca.items.get(old_slot[1])
        if token and len(token) > 2 and token[2] is not None:
            new_slot[0].ca.items[new_slot[1]] = [None, None, token[2], None]
    elif old_slot and not new_slot:  # an empty list or mapping: keep the comment on the key
        token = old_slot[0].ca.items.get(old_slot[1])
        if token and len(token) > 2 and token[2] is not None:
            data.ca.items[key] = [None, None, token[2], None]
    data[key] = new
    return write_atomic(path, lambda tmp: yaml.dump(data, tmp))
