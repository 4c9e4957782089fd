"""Shared chart pieces: money axes read like the business's currency."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from helpers import plots


@pytest.mark.parametrize("currency,value,expected", [
    ("USD", 12000, "$12k"), ("EUR", 1_250_000, "€1.2M"), ("USD", 950, "$950"),
    ("SEK", 4500, "4.5k"), ("GBP", -3000, "-£3k"),
])
def test_money_axis_labels(currency, value, expected):
    _, ax = plt.subplots()
    plots.money_axis(ax, currency)
    assert ax.yaxis.get_major_formatter()(value, 0) == expected
    plt.close("all")


def test_bar_highlights_one_value_and_keeps_the_finding_as_title():
    import pandas as pd

    data = pd.DataFrame({"channel": ["email", "search"], "revenue": [3.0, 5.0]})
    ax = plots.bar(data, x="channel", y="revenue", title="Search brings most revenue",
                   highlight="search")
    colors = [patch.get_facecolor() for patch in ax.patches]
    assert colors[0] != colors[1] and ax.get_title() == "Search brings most revenue"
    plt.close("all")
