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


def test_what_a_subscriber_prints_starts_on_a_line_of_its_own(capsys) -> None:
    """print("game over") writes the text and its newline separately; the subscriber hears the
    line between the two, so its own print must not land in the middle of the echoed line."""
    experiment = Experiment(name="printing_watcher", datasource={"x": 1}, pipeline=[_step], replicates=2, store=None)
    experiment.subscribe(lambda event: print(type(event).__name__))
    experiment.run()
    lines = capsys.readouterr().out.splitlines()
    assert lines.count("game over") == 2
    assert "Output" in lines and not any(line.startswith("game over") and line != "game over" for line in lines)
