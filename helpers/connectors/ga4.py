"""GA4 report downloads (Reports > Traffic acquisition > Share > Download CSV) into ``web_traffic``.

The file opens with a ``#`` comment block (report name, ``# Start date: 20260701``,
``# End date: ...``), dates are ``YYYYMMDD``, a ``Grand total`` row repeats the sums, and a
download may hold several tables, each after its own ``#`` block (a chart's series and the main
table). The connector reads every table, keeps the one with the most traffic columns (sessions,
engaged sessions, key events, revenue) and notes the others, so sessions are never counted twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from helpers.connectors._common import build, is_comment, line_fields, norm, parse_rows
from helpers.connectors._source import Connector, Header, Signature, Source

TRAFFIC = "web_traffic"
METRICS = (
    "sessions",
    "engaged sessions",
    "key events",
    "conversions",
    "total revenue",
    "purchase revenue",
)
DATE_DIMENSIONS = ("date", "nth day")
START, END = (
    re.compile(r"#\s*start date:\s*(\d{8})", re.I),
    re.compile(r"#\s*end date:\s*(\d{8})", re.I),
)


@dataclass
class Block:
    """One table of the file: the ``#`` lines above it, its header line index and its lines."""

    comments: list[str]
    start: int
    lines: list[str] = field(default_factory=list)


def split_blocks(lines: list[str]) -> list[Block]:
    """The tables of a GA4 download: runs of non-comment lines, each after its comments."""
    blocks, comments, current = [], [], None
    for i, line in enumerate(lines):
        if is_comment(line) or not line.strip():
            if current is not None:
                blocks.append(current)
                current, comments = None, []
            if line.strip():
                comments.append(line)
        elif current is None:
            current = Block(comments, i, [line])
        else:
            current.lines.append(line)
    if current is not None:
        blocks.append(current)
    return blocks


def _score(frame: pd.DataFrame) -> tuple[int, int]:
    names = [norm(c) for c in frame.columns]
    return sum(n in METRICS for n in names), int("date" in names)


def _preamble_date(pattern: re.Pattern, *comment_groups: list[str]) -> pd.Timestamp | None:
    for comments in comment_groups:
        for line in comments:
            found = pattern.search(line)
            if found:
                return pd.to_datetime(found.group(1), format="%Y%m%d")
    return None


def _choose_table(src: Source, blocks: list[Block]) -> Block:
    """Parse every table, keep the best one as the Source's frame, note the others."""
    parsed = []
    for block in blocks:
        delimiter, _ = line_fields(block.lines[0])
        frame = parse_rows(block.lines, delimiter, path=src.path, first_line=block.start + 1)
        parsed.append((block, delimiter, frame))
    best = max(range(len(parsed)), key=lambda i: (_score(parsed[i][2]), -i))
    for i, (block, _, frame) in enumerate(parsed):
        if i != best:
            src.note(
                TRAFFIC,
                None,
                "dropped",
                len(frame),
                f"The GA4 download holds {len(parsed)} tables; the one at line "
                f"{block.start + 1} ({', '.join(frame.columns)}; {len(frame)} row(s)) was "
                "left out, because another table of the file has more traffic columns and "
                "reading both would count the same sessions twice.",
            )
    block, delimiter, frame = parsed[best]
    src.header = Header(src.connector, block.start, delimiter)
    src.use_frame(frame)
    return block


def _dates(src: Source, block: Block) -> tuple[pd.Series, dict]:
    start = _preamble_date(START, block.comments, src.lines[: block.start])
    end = _preamble_date(END, block.comments, src.lines[: block.start])
    date_col, nth = src.col("Date"), src.col("Nth day")
    if date_col:
        return src.date(date_col, table=TRAFFIC, formats=("%Y%m%d",)), {}
    if start is None:
        raise src.missing("Date")
    index = src.frame.index
    if nth:
        offset = pd.to_timedelta(src.number(nth, table=TRAFFIC), unit="D")
        return (start + offset).astype("datetime64[ns]"), {}
    src.note(
        TRAFFIC,
        "date",
        "coerced",
        len(index),
        f"The {src.label} has no Date column: each row covers the report's date range "
        f"({start:%Y-%m-%d} to {end:%Y-%m-%d}), so its date is the first day and "
        "period_end the last."
        if end is not None
        else f"The {src.label} has no Date column: each row is dated {start:%Y-%m-%d}, the "
        "report's start date.",
    )
    extra = {"period_end": pd.Series(end, index=index, dtype="datetime64[ns]")} if end else {}
    return pd.Series(start, index=index, dtype="datetime64[ns]"), extra


def _dimension(src: Source) -> str | None:
    """The first dimension column (e.g. 'Session default channel group'), if any."""
    for col in src.frame.columns:
        if norm(col) not in DATE_DIMENSIONS:
            return None if norm(col) in METRICS else col
    return None


def read(src: Source) -> dict[str, pd.DataFrame]:
    """Web traffic by day (or date range) and channel group from a GA4 download."""
    blocks = split_blocks(src.lines)
    if not blocks:
        raise src.no_rows()
    block = _choose_table(src, blocks)
    sessions = src.need("Sessions")
    if src.frame.empty:
        raise src.no_rows()
    first = src.frame.columns[0]
    src.drop(
        TRAFFIC,
        src.frame[first].str.strip().str.lower().eq("grand total"),
        "repeated the sums ('Grand total') and were left out",
        column=first,
    )
    if src.frame.empty:
        raise src.no_rows()
    date, extra = _dates(src, block)
    dimension = _dimension(src)
    return {
        TRAFFIC: build(
            TRAFFIC,
            {
                "date": date,
                "channel_group": src.text(dimension),
                "sessions": src.number(sessions, table=TRAFFIC),
                "engaged_sessions": src.number(src.col("Engaged sessions"), table=TRAFFIC),
                "conversions": src.number(src.col("Key events", "Conversions"), table=TRAFFIC),
                "revenue": src.number(src.col("Total revenue", "Purchase revenue"), table=TRAFFIC),
            },
            {**extra, "users": src.number(src.col("Total users", "Users"), table=TRAFFIC)},
        )
    }


CONNECTOR = Connector(
    name="ga4_traffic",
    label="GA4 traffic report",
    tables=(TRAFFIC,),
    signature=Signature(
        all=("sessions",),
        any=(
            "engaged sessions",
            "engagement rate",
            "key events",
            "event count",
            "events per session",
            "average engagement time.*",
        ),
    ),
    needs=(
        "Session default channel group (or another dimension)",
        "Date (or # Start date:)",
        "Sessions",
        "Engaged sessions",
        "Key events",
        "Total revenue",
    ),
    reader=read,
    how_to_export="(GA4: Reports > Acquisition > Traffic acquisition > Share > Download CSV)",
)
