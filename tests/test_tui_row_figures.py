"""The TUI's row detail (enter on a statistics row) prints p as the table does."""

from __future__ import annotations

from crystallize_tui.stats import compare_samples
from crystallize_tui.tui.widgets.stats_table import comparison_figures


def test_row_detail_never_rounds_p_onto_alpha_beside_significant() -> None:
    c = compare_samples([1.0, 2.0, 3.0, 4.0], [1.5, 2.6, 3.2, 4.9], paired=True)
    figures = dict(comparison_figures(c.with_p_adjusted(0.049996, "holm")))
    assert figures["verdict"] == "significant"
    assert figures["p adjusted (holm)"] == "0.049996"
