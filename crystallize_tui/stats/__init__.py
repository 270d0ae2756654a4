"""Statistics for comparing experiment conditions: pure functions over plain lists.

Convention throughout: ``a``/``baseline`` is the reference, ``b``/``treatment`` the
condition under test, and every difference is treatment minus baseline.
Rendering (rich) lives in :mod:`crystallize_tui.render.tables`, imported on demand.
"""

from ._data import DataError
from .binary import boschloo, fisher_exact, mcnemar_exact
from .bootstrap import bootstrap_ci
from .compare import TEST_CHOICES, compare_samples
from .comparison import Comparison, adjust_comparisons
from .corrections import adjust_pvalues
from .effects import (
    cohens_dz,
    hedges_g,
    hedges_g_from_summary,
    matched_pairs_rank_biserial,
    rank_biserial,
)
from .parametric import paired_t, welch_t
from .proportions import (
    newcombe_interval,
    newcombe_paired_interval,
    odds_ratio,
    paired_odds_ratio,
    risk_difference,
    wilson_interval,
)
from .rank import mann_whitney, sign_test, wilcoxon_signed_rank
from .results import Effect, TestResult

__all__ = [
    "TEST_CHOICES",
    "Comparison",
    "DataError",
    "Effect",
    "TestResult",
    "adjust_comparisons",
    "adjust_pvalues",
    "boschloo",
    "bootstrap_ci",
    "cohens_dz",
    "compare_samples",
    "fisher_exact",
    "hedges_g",
    "hedges_g_from_summary",
    "mann_whitney",
    "matched_pairs_rank_biserial",
    "mcnemar_exact",
    "newcombe_interval",
    "newcombe_paired_interval",
    "odds_ratio",
    "paired_odds_ratio",
    "paired_t",
    "rank_biserial",
    "risk_difference",
    "sign_test",
    "welch_t",
    "wilcoxon_signed_rank",
    "wilson_interval",
]
