"""A/A simulations: with no true difference, compare_samples rejects at about alpha."""

import numpy as np

from crystallize_tui.stats import compare_samples

ALPHA = 0.05
EXPERIMENTS = 2000


def rejection_rate(pairs, **kwargs) -> float:
    verdicts = [compare_samples(a, b, alpha=ALPHA, **kwargs).verdict for a, b in pairs]
    return verdicts.count("significant") / len(verdicts)


def test_welch_aa_rejects_at_alpha():
    rng = np.random.default_rng(20240601)
    samples = rng.normal(10.0, 2.0, size=(EXPERIMENTS, 2, 10))
    pairs = [(s[0].tolist(), s[1].tolist()) for s in samples]
    rate = rejection_rate(pairs, paired=False)
    assert abs(rate - ALPHA) <= 0.015, rate


def test_paired_t_aa_rejects_at_alpha():
    # Replicates share a seed-level effect (the reason to pair), plus independent noise.
    rng = np.random.default_rng(20240602)
    shared = rng.normal(0.0, 3.0, size=(EXPERIMENTS, 1, 10))
    samples = shared + rng.normal(0.0, 1.0, size=(EXPERIMENTS, 2, 10))
    pairs = [(s[0].tolist(), s[1].tolist()) for s in samples]
    comparisons = [compare_samples(a, b, alpha=ALPHA, paired=True) for a, b in pairs]
    assert all(c.test == "paired t-test" for c in comparisons)
    rate = sum(c.verdict == "significant" for c in comparisons) / EXPERIMENTS
    assert abs(rate - ALPHA) <= 0.015, rate


def test_fisher_aa_is_not_liberal():
    # Fisher's test is conservative, so only an upper bound is meaningful.
    rng = np.random.default_rng(20240603)
    samples = (rng.random(size=(1000, 2, 20)) < 0.4).astype(int)
    pairs = [(s[0].tolist(), s[1].tolist()) for s in samples]
    rate = rejection_rate(pairs, paired=False)
    assert rate <= 0.065, rate
