"""A subscriber that raises is disabled without costing any other subscriber an event."""

import pytest
from steps import coin_game

from crystallize_tui import Experiment, Plugin, RunFinished, RunStarted


def test_the_subscriber_after_a_raising_one_still_gets_every_event(tmp_path):
    seen = []

    def broken_at_the_end(event):
        if isinstance(event, RunFinished):
            raise RuntimeError("subscriber bug")

    class Counter(Plugin):
        def on_event(self, event):
            seen.append(type(event).__name__)

    exp = Experiment(datasource={"p": 0.5}, pipeline=[coin_game], replicates=2,
                     store=tmp_path / "c.db")
    exp.subscribe(broken_at_the_end)
    exp.subscribe(lambda e: seen.append("second:" + type(e).__name__))
    with pytest.warns(RuntimeWarning, match="subscriber bug.*disabled"):
        result = exp.run()
    assert result.status == "completed"
    assert seen[-1] == "second:RunFinished"
    assert seen.count("second:ReplicateFinished") == 2


def test_a_subscriber_raising_on_the_first_event_does_not_hide_it_from_the_next(tmp_path):
    got = []

    def broken(event):
        raise RuntimeError("broken from the start")

    exp = Experiment(datasource={"p": 0.5}, pipeline=[coin_game], replicates=1,
                     store=tmp_path / "c.db")
    with pytest.warns(RuntimeWarning, match="broken from the start"):
        exp.run(subscribers=[broken, got.append])
    assert isinstance(got[0], RunStarted) and isinstance(got[-1], RunFinished)
