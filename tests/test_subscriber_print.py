"""A subscriber that prints (the README's ``experiment.subscribe(lambda e: print(e))``)."""

from __future__ import annotations

from crystallize_tui import Experiment, Output


def _step(config, ctx):
    print("game over")
    ctx.metrics.add("win", 1)


def test_a_printing_subscriber_is_not_captured_as_the_replicates_output(capsys) -> None:
    outputs: list[str] = []
    printed = 0

    def watcher(event) -> None:
        nonlocal printed
        if isinstance(event, Output):
            outputs.append(event.text)
        if printed < 200:  # bounded, so that the feedback loop this guards against ends
            printed += 1
            print(f"watcher saw {type(event).__name__}")

    experiment = Experiment(name="printing_watcher", datasource={"x": 1}, pipeline=[_step], replicates=3, store=None)
    experiment.subscribe(watcher)
    result = experiment.run()

    assert not result.errors
    # Only the step's own line, once per replicate: the watcher's prints are not its output.
    assert outputs == ["game over"] * 3
    out = capsys.readouterr().out
    assert "watcher saw ReplicateFinished" in out
    assert out.count("game over") == 3
