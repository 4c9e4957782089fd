"""One look for every chart of the workbook, and the chart kinds the notebooks share.

Every function takes ``ax=None``, returns the Axes, and never calls ``plt.show()``. Titles state
the finding; axes carry units and the business's currency.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, PercentFormatter

PALETTE = ["#1f5f8b", "#e07a2f", "#3c9d5d", "#b8413d", "#7b5ea7", "#8c6d46", "#4c9fc4", "#9a9a9a"]
ACCENT, MUTED = PALETTE[0], "#9a9a9a"


def apply_theme() -> None:
    """The workbook's look: seaborn's whitegrid style, large type for a projector, one palette.

    matplotlib ships the seaborn style sheets, so importing seaborn itself (over a second, as it
    pulls in scipy.stats) is left to the charts that need it.
    """
    from cycler import cycler

    plt.style.use("seaborn-v0_8-whitegrid")
    plt.rcParams.update({"axes.prop_cycle": cycler(color=PALETTE), "font.size": 11,
                         "figure.figsize": (9, 4.5), "axes.titleweight": "bold",
                         "axes.titlesize": 13, "axes.spines.top": False,
                         "axes.spines.right": False, "figure.dpi": 100})


def axes(ax=None, *, figsize: tuple[float, float] | None = None):
    """``ax`` itself, or a new themed Axes when it is None (every plot function starts here)."""
    if ax is None:
        apply_theme()
        _, ax = plt.subplots(figsize=figsize)
    return ax


def money_axis(ax, currency: str, *, axis: str = "y"):
    """Format an axis as money: $12k, €1.2M, or '12k GBP' when no symbol is known."""
    from helpers.plan import SYMBOLS

    symbol = SYMBOLS.get(currency, "")

    def fmt(v, _pos):
        sign, v = ("-" if v < 0 else ""), abs(v)
        for div, suffix in ((1e6, "M"), (1e3, "k")):
            if v >= div:
                return f"{sign}{symbol}{v / div:,.1f}{suffix}".replace(".0" + suffix, suffix)
        return f"{sign}{symbol}{v:,.0f}"

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(fmt))
    return ax


def percent_axis(ax, *, axis: str = "y", xmax: float = 1.0):
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(PercentFormatter(xmax=xmax))
    return ax


def bar(data, *, x: str, y: str, title: str, xlabel: str = "", ylabel: str = "",
        highlight=None, horizontal: bool = False, ax=None):
    """Bars of ``y`` by ``x``; ``highlight`` (one x value) in the accent colour, others muted."""
    ax = axes(ax)
    colors = [ACCENT if highlight is None or v == highlight else MUTED for v in data[x]]
    if horizontal:
        ax.barh(data[x].astype(str), data[y], color=colors)
        ax.invert_yaxis()
    else:
        ax.bar(data[x].astype(str), data[y], color=colors)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return ax


def line(data, *, x: str, y: str | list[str], title: str, xlabel: str = "", ylabel: str = "",
         ax=None):
    """One line per column in ``y`` against ``x`` (usually a date)."""
    ax = axes(ax)
    for i, col in enumerate([y] if isinstance(y, str) else y):
        ax.plot(data[x], data[col], label=col.replace("_", " "), color=PALETTE[i % len(PALETTE)])
    if not isinstance(y, str):
        ax.legend(frameon=False)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return ax


def heatmap(matrix, *, title: str, xlabel: str = "", ylabel: str = "", fmt: str = ".0%",
            cmap: str = "Blues", ax=None):
    """A labelled heatmap of a DataFrame (rows by columns), annotated when small enough."""
    import seaborn as sns

    ax = axes(ax)
    annotate = matrix.size <= 300
    sns.heatmap(matrix, ax=ax, cmap=cmap, annot=annotate, fmt=fmt, cbar=not annotate,
                linewidths=0.5, annot_kws={"size": 8})
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return ax


def table(frame, *, currency: str = "USD", money=(), percent=(), number=(), drop=(),
          index: str | None = None):
    """A table for the screen: money columns as '$1,234', percent columns as '12.3%', number
    columns to two decimals, ``drop`` left out, ``index`` (a column) as the row labels. Values
    stay in the returned frame as text, so keep the original for any further sums."""
    from helpers.plan import format_value

    out = frame.drop(columns=[c for c in drop if c in frame]).copy().astype(object)
    for columns, unit in ((money, "money"), (percent, "percent"), (number, "number")):
        for col in [c for c in columns if c in out]:
            out[col] = [format_value(v, unit, currency) if v == v else "" for v in frame[col]]
    return out.set_index(index) if index else out
