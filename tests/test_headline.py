"""A run's verdict in a few words (History's verdict column): hypotheses, else significant
comparisons, else the first metric's mean; nothing for a run without a finished replicate."""

from steps import coin_game

from crystallize_tui import Experiment, Hypothesis, Treatment
from crystallize_tui.watch.headline import headline


def coin(**options):
    return Experiment(name="coin", datasource={"p": 0.1}, pipeline=[coin_game], store=None,
                      replicates=20, seed=3, **options)


def test_a_hypothesis_then_comparisons_then_a_mean():
    treated = [Treatment("sure", {"p": 1.0})]
    one = coin(treatments=treated, hypotheses=[Hypothesis("win", direction="greater")]).run(echo=False)
    assert headline(one) == "supported: win"
    assert headline(coin(treatments=treated).run(echo=False)) == "1 of 2 signif."  # win yes, score no
    alone = coin().run(echo=False)
    wins = sum(r.metrics["win"] for r in alone.replicate_results)
    assert headline(alone) == f"win mean {wins / 20:.3g}"
