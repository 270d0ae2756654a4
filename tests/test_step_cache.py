"""Step caching: @pipeline_step(cache=True) skips a step whose code, input and config were seen."""

from __future__ import annotations

import os
import pickle

import pytest
from cache_steps import (
    after_mutate,
    bump,
    measure,
    mutate,
    noisy,
    prepare,
    read_input,
    score,
    seeded_prep,
    unhashable_input,
    uses_lock,
    whole_config,
)
from cli_support import cli, write

from crystallize_tui import Experiment, Treatment, pipeline_step
from crystallize_tui.core.cache import Entry, StepCache, parse_size
from crystallize_tui.core.errors import ConfigError
from crystallize_tui.core.folders import load_experiment
from crystallize_tui.core.store import Store


def _experiment(tmp_path, pipeline, treatments=(), **config):
    counter = tmp_path / "counter.txt"
    counter.touch()
    return Experiment(pipeline=pipeline, datasource={"counter": str(counter), "size": 2, **config},
                      replicates=3, name="cached", store=tmp_path / ".crystallize" / "crystallize.db",
                      treatments=list(treatments))


def _calls(tmp_path, step):
    return (tmp_path / "counter.txt").read_text().split().count(step)


def test_second_run_skips_cached_steps_and_restores_metrics_and_random_state(tmp_path):
    exp = _experiment(tmp_path, [prepare, noisy, score])
    first = exp.run(echo=False)
    # prepare does not draw: one entry serves every replicate; noisy draws: one per replicate
    assert (_calls(tmp_path, "prepare"), _calls(tmp_path, "noisy")) == (1, 3)
    second = exp.run(echo=False)
    assert (_calls(tmp_path, "prepare"), _calls(tmp_path, "noisy")) == (1, 3)
    # the cached metric comes back, and the uncached step after it draws the same numbers
    assert second.to_rows() == [dict(r) for r in first.to_rows()]
    assert second.metrics["baseline"].metrics["noise"] == first.metrics["baseline"].metrics["noise"]
    lines = Store(exp.store.path).output_lines_starting(second.run_id, "cache hit: ")
    assert len(lines) == 6 and lines[0].startswith("cache hit: prepare (saved ")
    printed = [e["text"] for e in Store(exp.store.path).events(second.run_id) if e["kind"] == "output"]
    assert "preparing" not in printed  # a hit does not replay the step's prints


def test_a_step_that_changes_its_config_does_so_again_on_a_hit(tmp_path):
    exp = _experiment(tmp_path, [mutate, after_mutate], nested={})
    first = exp.run(echo=False)
    second = exp.run(echo=False)
    assert _calls(tmp_path, "mutate") == 1 and second.errors == []
    assert second.metrics["baseline"].metrics == first.metrics["baseline"].metrics == {
        "same": [True] * 3, "added": [3] * 3, "nested": [True] * 3}
    # a step that changes a key it read is keyed by the value it was given, not the one it
    # left: size 2 (bumped to 3) and size 3 are two entries with their own outputs
    two = _experiment(tmp_path, [bump, score]).run(echo=False)
    three = _experiment(tmp_path, [bump, score], size=3).run(echo=False)
    assert _calls(tmp_path, "bump") == 2
    assert [int(v) for v in three.metrics["baseline"].metrics["score"]] != [
        int(v) for v in two.metrics["baseline"].metrics["score"]]


def test_config_and_input_changes_invalidate(tmp_path):
    source = tmp_path / "input.txt"
    source.write_text("abc")
    exp = _experiment(tmp_path, [read_input, measure], input=str(source))
    exp.run(echo=False)
    assert _calls(tmp_path, "measure") == 1  # three replicates, one computation
    source.write_text("abcdef")  # same config, new input
    result = exp.run(echo=False)
    assert _calls(tmp_path, "measure") == 2
    assert result.metrics["baseline"].metrics["length"] == [6, 6, 6]
    unread = _experiment(tmp_path, [read_input, measure], input=str(source), extra=1)
    unread.run(echo=False)
    assert _calls(tmp_path, "measure") == 2  # a key the step never reads changed: still a hit
    read = _experiment(tmp_path, [read_input, measure], input=str(source), scale=2)
    assert read.run(echo=False).metrics["baseline"].metrics["length"] == [12, 12, 12]
    assert _calls(tmp_path, "measure") == 3  # same input, a key it reads changed


def test_conditions_share_entries_unless_the_step_reads_what_differs(tmp_path):
    exp = _experiment(tmp_path, [prepare, noisy, score], treatments=[Treatment("other", {"lr": 0.5})])
    result = exp.run(echo=False)
    # neither step reads lr: one prepare for both conditions, one noisy per seed
    assert (_calls(tmp_path, "prepare"), _calls(tmp_path, "noisy")) == (1, 3)
    assert result.metrics["other"].metrics == result.metrics["baseline"].metrics
    whole = _experiment(tmp_path, [whole_config, score], treatments=[Treatment("other", {"lr": 0.5})])
    whole.run(echo=False)
    assert _calls(tmp_path, "whole_config") == 2  # it saw every key: one entry per condition


def test_code_change_invalidates_and_cli_lists_and_clears(tmp_path):
    folder = tmp_path / "experiments" / "prep"
    step = ("from crystallize_tui import pipeline_step\n\n@pipeline_step(cache=True)\n"
            "def load(config, ctx):\n    open(config['counter'], 'a').write('load\\n')\n"
            "    ctx.metrics.add('v', {value})\n")
    counter = tmp_path / "counter.txt"
    write(folder, {"steps.py": step.format(value=1), "experiment.yaml":
                   f"pipeline: [steps:load]\ndatasource: {{counter: '{counter}'}}\nreplicates: 2\n"})
    store = tmp_path / ".crystallize" / "crystallize.db"  # where the CLI keeps it too
    experiment = load_experiment(folder)
    experiment.store = store
    experiment.run(echo=False)
    again = cli(tmp_path, "run", "prep")
    assert "cache: 2 steps skipped (saved " in again.stdout, again.stdout + again.stderr
    assert counter.read_text().split() == ["load"]
    (folder / "steps.py").write_text(step.format(value=2))
    edited = load_experiment(folder, reload=True)
    edited.store = store
    assert edited.run(echo=False).metrics["baseline"].metrics["v"] == [2, 2]
    assert counter.read_text().split() == ["load", "load"]
    listing = cli(tmp_path, "cache")
    assert listing.returncode == 0 and "2 entries" in listing.stdout and "load" in listing.stdout
    wrong = cli(tmp_path, "cache", "clear", "lod")
    assert wrong.returncode == 2 and "no cached step 'lod' (did you mean 'load'?)" in wrong.stderr
    cleared = cli(tmp_path, "cache", "clear", "load")
    assert cleared.returncode == 0 and "removed 2 cache entries of load" in cleared.stdout
    assert not list((tmp_path / ".crystallize" / "cache").rglob("*.pkl"))


def test_worker_processes_share_the_cache(tmp_path):
    exp = _experiment(tmp_path, [prepare, noisy, score])
    first = exp.run(echo=False, backend="processes", workers=2)
    # two workers may both compute an entry neither has yet; never more
    assert _calls(tmp_path, "prepare") <= 2 and _calls(tmp_path, "noisy") == 3
    second = exp.run(echo=False, backend="processes", workers=2)
    assert _calls(tmp_path, "prepare") <= 2 and _calls(tmp_path, "noisy") == 3
    assert second.metrics["baseline"].metrics == first.metrics["baseline"].metrics
    serial = exp.run(echo=False)  # the serial run reads what the workers wrote
    assert serial.metrics["baseline"].metrics == first.metrics["baseline"].metrics
    assert _calls(tmp_path, "noisy") == 3


def test_unhashable_input_runs_uncached_with_one_warning(tmp_path):
    exp = _experiment(tmp_path, [unhashable_input, uses_lock])
    result = exp.run(echo=False)
    assert _calls(tmp_path, "uses_lock") == 3 and result.metrics["baseline"].metrics["size"] == [2, 2, 2]
    warnings = [e["text"] for e in exp.store.events(result.run_id) if "runs uncached" in e.get("text", "")]
    assert len(warnings) == 1 and "uses_lock" in warnings[0] and "lock" in warnings[0]


def test_size_limit_evicts_the_least_recently_used(tmp_path):
    big = Entry(output=b"x" * 1000)
    size = len(pickle.dumps(big, protocol=pickle.HIGHEST_PROTOCOL))
    cache = StepCache(tmp_path / "cache", limit=2 * size + 10)
    cache.put("s", "a" * 40, big)
    cache.put("s", "b" * 40, big)
    old = os.path.getmtime(next((tmp_path / "cache").rglob("b*.pkl"))) - 100
    for path in (tmp_path / "cache").rglob("*.pkl"):  # a and b were used long ago...
        os.utime(path, (old, old))
    assert cache.get("s", "a" * 40) is not None  # ...then a again
    cache.put("s", "c" * 40, big)
    assert cache.get("s", "b" * 40) is None
    assert cache.get("s", "a" * 40) is not None and cache.get("s", "c" * 40) is not None
    assert [(u.step, u.entries) for u in cache.usage()] == [("s", 2)]
    # a step name is user text: it never names a folder outside the cache
    for hostile in ("..", "../..", "/", "s/../.."):
        assert cache.clear(hostile) == 0
    assert [(u.step, u.entries) for u in cache.usage()] == [("s", 2)]


def test_seeded_steps_keep_one_entry_per_seed_and_bad_options_are_refused(tmp_path):
    exp = _experiment(tmp_path, [seeded_prep, score])
    first = exp.run(echo=False)
    assert _calls(tmp_path, "seeded_prep") == 3
    assert exp.run(echo=False).metrics["baseline"].metrics == first.metrics["baseline"].metrics
    assert _calls(tmp_path, "seeded_prep") == 3
    with pytest.raises(ConfigError, match="pipeline_step: cache must be True, False or \"seeded\", got 'yes'"):
        pipeline_step(cache="yes")


def test_bad_cache_limit_is_refused_before_the_run(tmp_path, monkeypatch):
    assert parse_size("1.5 GB") == 3 << 29 and parse_size("200kb") == 200 << 10
    monkeypatch.setenv("CRYSTALLIZE_CACHE_LIMIT", "lots")
    with pytest.raises(ConfigError, match="CRYSTALLIZE_CACHE_LIMIT: expected a size like 500MB"):
        _experiment(tmp_path, [prepare, score]).run(echo=False)


async def test_the_run_screen_shows_cache_hits(tmp_path):
    from textual.widgets import Log
    from tui_support import app_for, run_to_end

    folder = tmp_path / "experiments" / "prep"
    write(folder, {"steps.py": "from crystallize_tui import pipeline_step\n\n@pipeline_step(cache=True)\n"
                               "def load(config):\n    return config['n']\n\n"
                               "def score(n, ctx):\n    ctx.metrics.add('v', n)\n",
                   "experiment.yaml": "pipeline: [steps:load, steps:score]\ndatasource: {n: 3}\nreplicates: 2\n"})
    experiment = load_experiment(folder)
    experiment.store = tmp_path / ".crystallize" / "crystallize.db"
    experiment.run(echo=False)  # fills the cache: the run from the UI hits it
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await run_to_end(app, pilot, "prep")
        await pilot.pause()
        lines = list(app.screen.query_one("#output", Log).lines)
    assert any(line.startswith("[baseline #1] cache hit: load (saved ") for line in lines), lines


def test_the_async_backend_skips_cached_steps_too(tmp_path):
    exp = _experiment(tmp_path, [prepare, noisy, score])
    first = exp.run(echo=False, backend="async", concurrency=3)
    # the three replicates start together, so each may miss the entry the others are making
    ran = (_calls(tmp_path, "prepare"), _calls(tmp_path, "noisy"))
    assert ran[1] == 3 and 1 <= ran[0] <= 3
    second = exp.run(echo=False, backend="async", concurrency=3)
    assert (_calls(tmp_path, "prepare"), _calls(tmp_path, "noisy")) == ran  # every step a hit
    assert second.to_rows() == [dict(r) for r in first.to_rows()]
    assert second.to_rows() == [dict(r) for r in exp.run(echo=False).to_rows()]  # serial agrees
    lines = Store(exp.store.path).output_lines_starting(second.run_id, "cache hit: ")
    assert len(lines) == 6


def test_the_yaml_run_section_sets_the_cache_limit_and_a_bad_one_names_file_and_key(tmp_path, monkeypatch):
    monkeypatch.setenv("CRYSTALLIZE_CACHE_LIMIT", "1GB")  # the experiment's own bound wins
    folder = tmp_path / "experiments" / "bounded"
    write(folder, {"experiment.yaml": "pipeline: [steps:big, steps:use]\nreplicates: 2\n"
                                      "run: {cache_limit: 1KB}\n",
                   "steps.py": "from crystallize_tui import pipeline_step\n\n"
                               "@pipeline_step(cache=True)\ndef big(config, ctx):\n"
                               "    print('computing')\n    return 'x' * 5000\n\n"
                               "def use(data, ctx):\n    ctx.metrics.add('n', len(data))\n"})
    experiment = load_experiment(folder)
    first = experiment.run(echo=False)
    assert first.metrics["baseline"].metrics["n"] == [5000, 5000]
    said = [e.get("text", "") for e in experiment.store.events(first.run_id)]
    assert any("is larger than the cache limit (1,024 bytes" in line for line in said), said
    second = load_experiment(folder).run(echo=False)
    printed = [e.get("text", "") for e in experiment.store.events(second.run_id)]
    assert printed.count("computing") == 2  # 5 kB is over the 1 kB bound: never kept, computed again
    (folder / "experiment.yaml").write_text("pipeline: [steps:big, steps:use]\nrun: {cache_limit: lots}\n")
    ran = cli(tmp_path, "run", "bounded")
    assert ran.returncode == 2 and len(ran.stderr.strip().splitlines()) == 1, ran.stderr
    assert "experiment.yaml:2" in ran.stderr
    assert "run.cache_limit: expected a size like 500MB or 2GB, got 'lots'" in ran.stderr
