"""The Dask backend on a real 2-worker LocalCluster (processes): the serial metrics, live
events and print output, cancel, resume, a worker killed mid-run, modules sent to workers
that cannot see the experiment folder, and the one-line errors. Most tests share one
cluster passed by address; the ones about a cluster the run starts itself start their own."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cli_support import cli, write, write_experiment
from dask_steps import dies, draw, stops_when_cancelled, wait_for_flag, waits_for_the_stop
from textual.widgets import Static
from tui_support import app_for, start_run, stored, text_of, until

from crystallize_tui import ConfigError, Experiment, Treatment
from crystallize_tui.core import events as ev
from crystallize_tui.core.backends.dask import LOCAL_CONFIG


def wait_for(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A 2-worker LocalCluster started from another working directory, so its workers
    neither run in the test's folder nor have it on their path: its scheduler's address."""
    distributed = pytest.importorskip("distributed")
    import dask

    elsewhere = tmp_path_factory.mktemp("dask-workers-cwd")
    here = os.getcwd()
    os.chdir(elsewhere)
    try:
        # Configured as the backend's own LocalCluster.
        with dask.config.set(LOCAL_CONFIG):
            local = distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, silence_logs=logging.ERROR,
                dashboard_address=None,
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})
    finally:
        os.chdir(here)
    client = distributed.Client(local, set_as_default=False)
    try:
        yield local.scheduler_address, client
    finally:
        client.close()
        local.close()


def build(step=draw, replicates=6, **kwargs):
    return Experiment(name="dasky", datasource={"scale": 1}, pipeline=[step],
                      treatments=[Treatment("big", {"scale": 10})], replicates=replicates,
                      seed=11, store=None, **kwargs)


def values(result, metric):
    return {(o.treatment, o.replicate): o.metrics.get(metric) for o in result.replicate_results}


def on_dask(address, **settings):
    return {"backend": "dask", "address": address, **settings}


def test_a_cluster_the_run_starts_gives_the_serial_metrics_and_is_closed_after():
    pytest.importorskip("distributed")
    import psutil

    serial = build().run()
    handle = build().start(backend="dask", workers=2)
    assert handle.backend == "dask x2"
    result = handle.wait()
    assert result.status == "completed" and len(result.replicate_results) == 12
    assert values(result, "draw") == values(serial, "draw")
    pids = set(values(result, "pid").values())
    assert os.getpid() not in pids and len(pids) == 2

    def gone(pid):
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_for(lambda: all(gone(p) for p in pids), "the run's workers to exit")


def test_a_cluster_at_an_address_runs_the_replicates_and_is_left_running(cluster):
    address, client = cluster
    workers = set(client.run(os.getpid).values())
    serial = build().run()
    experiment = build()
    experiment.execution = on_dask(address)
    handle = experiment.start()
    assert handle.backend == f"dask {address}"
    result = handle.wait()
    assert values(result, "draw") == values(serial, "draw")
    assert set(values(result, "pid").values()) <= workers
    assert set(client.run(os.getpid).values()) == workers  # not shut down by the run
    streamed = list(build().stream(backend="dask", workers=2))  # the stream() API too
    assert {(r.treatment, r.replicate): r.metrics["draw"] for r in streamed} == values(serial, "draw")


def test_events_and_print_output_reach_the_run_while_the_replicate_runs(cluster, tmp_path):
    address, _ = cluster
    flags = tmp_path / "flags"
    flags.mkdir()
    seen: list[ev.Event] = []

    def answer(event):
        seen.append(event)
        if isinstance(event, ev.UserEvent) and event.kind == "waiting":
            (flags / f"{event.treatment}-{event.replicate}").write_text("go")

    experiment = Experiment(name="live", datasource={"flags": str(flags)}, pipeline=[wait_for_flag],
                            treatments=[Treatment("t", {})], replicates=3, seed=5, store=None,
                            execution=on_dask(address))
    experiment.subscribe(answer)
    result = experiment.run(echo=False)
    assert result.status == "completed"
    # Each replicate saw its answer, so its "waiting" event arrived before it ended.
    assert set(values(result, "answered").values()) == {True}
    lines = [(e.treatment, e.replicate, e.text) for e in seen if isinstance(e, ev.Output)]
    expected = [(c, k, f"hello {c} {k}") for c in ("baseline", "t") for k in range(3)]
    assert sorted(lines) == sorted(expected)  # every line once
    waiting = [(e.treatment, e.replicate) for e in seen if isinstance(e, ev.UserEvent)]
    assert sorted(waiting) == sorted((c, k) for c, k, _ in expected)
    for c, k, _ in expected:  # a replicate's events come before its end
        kinds = [type(e).__name__ for e in seen if (e.treatment, e.replicate) == (c, k)]
        assert kinds[0] == "ReplicateStarted" and kinds[-1] == "ReplicateFinished"


def test_cancel_starts_no_new_replicate_and_stops_running_ones_at_a_cancellation_point(
        cluster, tmp_path):
    address, _ = cluster
    stopped = tmp_path / "stopped"
    stopped.mkdir()
    begun: list[tuple[str, int]] = []
    started: list[tuple[str, int]] = []
    experiment = Experiment(name="cancelled", datasource={"stopped": str(stopped)},
                            pipeline=[stops_when_cancelled], replicates=8, seed=1, store=None,
                            execution=on_dask(address, grace=60))

    def watch(event):
        if isinstance(event, ev.ReplicateStarted):
            started.append((event.treatment, event.replicate))
        if isinstance(event, ev.UserEvent) and event.kind == "begin":
            begun.append((event.treatment, event.replicate))
            if len(begun) == 2:  # both workers busy: cancel
                experiment.cancel()

    experiment.subscribe(watch)
    result = experiment.run()
    assert result.status == "cancelled" and result.replicate_results == []
    assert sorted(started) == sorted(begun) and len(started) == 2  # none started after
    # The running ones stopped at a cancellation point (not killed, not run to the end).
    assert sorted(p.name for p in stopped.iterdir()) == sorted(f"{c}-{k}" for c, k in begun)


def test_a_stop_rule_lets_the_replicates_running_on_workers_finish_and_keeps_them(cluster):
    """As with a worker pool: once the rule holds (here after round 0) no new replicate
    starts, and the ones the workers are running finish and are kept, not cancelled."""
    address, _ = cluster
    started: list[tuple[str, int]] = []
    experiment = Experiment(name="stopping", datasource={}, pipeline=[waits_for_the_stop],
                            treatments=[Treatment("lucky", {})], replicates=10, seed=1,
                            store=None, execution=on_dask(address, grace=60))
    experiment.subscribe(lambda e: isinstance(e, ev.ReplicateStarted)
                         and started.append((e.treatment, e.replicate)))
    result = experiment.run(stop="width=5", max_replicates=10)
    kept = sorted((o.treatment, o.replicate) for o in result.replicate_results if o.ok)
    assert result.status == "stopped: width" and result.stop["stopping_replicate"] == 1
    assert kept == sorted(started) and len(kept) > 2  # every one that started, none lost
    assert result.stop["finished_after"] == len(kept) - 2


def test_until_decided_on_dask_keeps_what_runs_past_the_look_small(cluster, tmp_path):
    """Trivial replicates grow Dask chunks to thousands, and a chunk's results come back only
    when it ends: with a stop rule chunks hold a few rounds, so few run past the look."""
    address, _ = cluster
    examples = Path(__file__).resolve().parent.parent / "experiments"
    folder = shutil.copytree(examples / "ab_checkout", tmp_path / "experiments" / "ab_checkout")
    yaml_path = folder / "experiment.yaml"  # a larger effect: decided in ~200 rounds, not ~1,700
    yaml_path.write_text(yaml_path.read_text().replace("conversion_rate: 0.16", "conversion_rate: 0.3")
                         .replace("conversion_rate: 0.11", "conversion_rate: 0.3"))
    out = cli(tmp_path, "run", "ab_checkout", "--until", "decided", "--max-replicates", "20000",
              "--dask", address, "--json")
    assert out.returncode == 0, out.stderr
    stop = json.loads(out.stdout)["stop"]
    assert stop["reason"] == "decided" and stop["stopping_replicate"] < 20000
    # At most 2 chunks per worker thread of 4 rounds of 3 replicates: 2 x 2 x 12 = 48, and
    # the run read thousands here before the chunks were capped.
    assert stop["finished_after"] <= 60, stop["finished_after"]


def test_a_worker_that_dies_fails_only_its_replicate_after_one_retry(tmp_path):
    pytest.importorskip("distributed")
    markers = tmp_path / "markers"
    markers.mkdir()

    def make(die):
        return Experiment(name="dying", datasource={"die": die, "markers": str(markers)},
                          pipeline=[dies], treatments=[Treatment("t", {})], replicates=6,
                          seed=3, store=None)

    serial = make(False).run()
    result = make(True).run(backend="dask", workers=2)
    failed = [(o.treatment, o.replicate) for o in result.replicate_results if o.status == "failed"]
    assert failed == [("baseline", 1)]
    error = next(o.error for o in result.replicate_results if o.status == "failed")
    assert error.startswith("WorkerDied: the Dask worker running this replicate died, on "
                            "attempt 2 of 2 (worker tcp://")
    assert "may be innocent" in error
    assert (markers / "died-3").exists()  # replicate 3 killed its first worker, then passed
    ok = {k: v for k, v in values(result, "draw").items() if k != ("baseline", 1)}
    assert len(ok) == 11 and ok == {k: v for k, v in values(serial, "draw").items() if k in ok}


def test_a_worker_killed_mid_run_loses_nothing_its_replicate_runs_again(tmp_path):
    pytest.importorskip("distributed")
    import signal

    from dask_steps import sleepy

    killed: list[tuple[str, int]] = []
    started: list[tuple[str, int]] = []

    def kill_first(event):
        if isinstance(event, ev.ReplicateStarted):
            started.append((event.treatment, event.replicate))
        if isinstance(event, ev.UserEvent) and event.kind == "pid" and not killed:
            killed.append((event.treatment, event.replicate))
            os.kill(event.data["pid"], signal.SIGKILL)  # as the OOM killer would

    def make():
        return Experiment(name="killed", datasource={}, pipeline=[sleepy], replicates=3, seed=9,
                          treatments=[Treatment("t", {})], store=None)

    serial = make().run()
    experiment = make()
    experiment.subscribe(kill_first)
    result = experiment.run(backend="dask", workers=2)
    assert result.status == "completed" and len(result.replicate_results) == 6
    assert values(result, "draw") == values(serial, "draw")
    # The killed replicate started twice (its second attempt elsewhere), the others once.
    assert sorted(started) == sorted([*killed, *[(c, k) for c in ("baseline", "t") for k in range(3)]])


YAML = """\
pipeline: [steps:step]
replicates: 8
treatments:
  a: {shift: 1}
"""

STEPS = """
import os
import shutil
from helper import bonus

def step(config, ctx):
    if os.path.exists(FLAKY) and ctx.replicate >= 3:
        raise RuntimeError("flaky network")
    import late_helper  # imported on the worker only when the step runs
    ctx.metrics.add("score", ctx.rng.random() + bonus(config.get("shift", 0)) + late_helper.ZERO)
"""


def game(root: Path, flaky: Path) -> Path:
    return write_experiment(root, "game", YAML, {
        "steps.py": f"FLAKY = {str(flaky)!r}\n" + textwrap.dedent(STEPS),
        "helper.py": "def bonus(shift):\n    return 2 * shift\n",
        "late_helper.py": "ZERO = 0\n",
    })


def exported(root: Path, run_id: str) -> dict:
    out = cli(root, "export", run_id, "-f", "json")
    assert out.returncode == 0, out.stderr
    return {(r["treatment"], r["replicate"]): (r["status"], dict(r["values"]).get("score"))
            for r in json.loads(out.stdout)["replicate_results"]}


def test_cli_dask_runs_and_resumes_on_a_cluster_at_an_address(cluster, tmp_path):
    address, _ = cluster
    flaky = tmp_path / "flaky"
    flaky.write_text("on")
    game(tmp_path, flaky)
    first = cli(tmp_path, "run", "game", "--dask", address)
    assert first.returncode == 1, first.stderr
    run_id = first.stdout.strip().splitlines()[-1].split()[1]
    flaky.unlink()
    resumed = cli(tmp_path, "run", "game", "--resume", "--dask", address)
    assert resumed.returncode == 0, resumed.stderr
    assert f"run {run_id} (completed)" in resumed.stdout
    serial = cli(tmp_path, "run", "game")
    serial_id = serial.stdout.strip().splitlines()[-1].split()[1]
    on_dask = exported(tmp_path, run_id)
    assert on_dask == exported(tmp_path, serial_id)
    assert {s for s, _ in on_dask.values()} == {"ok"} and len(on_dask) == 16


def test_folder_modules_travel_to_workers_that_cannot_see_the_folder(cluster, tmp_path,
                                                                     monkeypatch):
    from crystallize_tui.core.backends import dask_ship

    address, _ = cluster
    folder = game(tmp_path, tmp_path / "no-flaky")
    serial = Experiment.from_yaml(folder)
    serial.store = None
    expected = values(serial.run(), "score")
    experiment = Experiment.from_yaml(folder)
    experiment.store = None
    pack = dask_ship.pack

    def pack_then_hide(plan):
        # The run read the folder; now the workers cannot find it by its path (as on
        # another machine), also for the `import late_helper` in the step's body.
        packed = pack(plan)
        folder.rename(tmp_path / "moved")
        return packed

    monkeypatch.setattr(dask_ship, "pack", pack_then_hide)
    experiment.execution = on_dask(address)
    result = experiment.run()
    assert not folder.exists()
    assert result.status == "completed", [o.error for o in result.replicate_results]
    assert values(result, "score") == expected


def test_user_code_a_worker_cannot_import_is_a_clear_error(cluster, tmp_path):
    address, _ = cluster
    (tmp_path / "only_here.py").write_text("def step(config, ctx):\n    ctx.metrics.add('x', 1)\n")
    sys.path.insert(0, str(tmp_path))  # this process only: the workers started before
    try:
        import only_here

        experiment = build(step=only_here.step, execution=on_dask(address))
        with pytest.raises(ConfigError) as caught:
            experiment.run()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("only_here", None)
    message = str(caught.value)
    assert message.startswith("user code cannot be imported on Dask worker tcp://")
    assert "No module named 'only_here'" in message and "\n" not in message


def test_yaml_plugins_dask_and_run_section_choose_the_cluster(cluster, tmp_path):
    address, _ = cluster
    for name, section in (("viaplugin", f"plugins:\n  dask: {{address: '{address}'}}\n"),
                          ("viarun", f"run: {{backend: dask, address: '{address}', timeout: 5}}\n")):
        write_experiment(tmp_path, name, "pipeline: [s:step]\nreplicates: 3\n" + section,
                         {"s.py": "import os\ndef step(config, ctx):\n    ctx.metrics.add('pid', os.getpid())\n"})
        loaded = Experiment.from_yaml(tmp_path / "experiments" / name)
        assert loaded.execution["backend"] == "dask" and loaded.execution["address"] == address
        out = cli(tmp_path, "run", name)
        assert out.returncode == 0, out.stderr
        assert "(completed)" in out.stdout


def test_an_unreachable_scheduler_is_one_line_naming_the_address_and_no_run(tmp_path):
    pytest.importorskip("distributed")
    write_experiment(tmp_path, "far", "pipeline: [s:step]\nreplicates: 2\n",
                     {"s.py": "def step(config, ctx):\n    pass\n"})
    out = cli(tmp_path, "run", "far", "--dask", "tcp://127.0.0.1:1")  # nothing listens on port 1
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == (
        "crystallize: error: cannot reach the Dask scheduler at tcp://127.0.0.1:1: connection "
        "refused (no scheduler listens there)")
    db = tmp_path / ".crystallize" / "crystallize.db"
    assert not db.exists() or sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)


async def test_the_ui_says_an_unreachable_scheduler_and_home_shows_no_failed_run(tmp_path):
    pytest.importorskip("distributed")
    write_experiment(tmp_path, "far", "pipeline: [s:step]\nreplicates: 2\n"
                     "run: {backend: dask, address: 'tcp://127.0.0.1:1'}\n",
                     {"s.py": "def step(config, ctx):\n    pass\n"})
    app = app_for(tmp_path)
    async with app.run_test(size=(180, 48)) as pilot:
        screen = await start_run(app, pilot, "far")
        await until(pilot, lambda: screen.ended)
        status = text_of(screen.query_one("#run-status", Static))
        assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1: connection refused" in status
    assert stored(tmp_path, "SELECT COUNT(*) FROM runs") == [(0,)]


def test_without_the_extra_the_error_gives_the_pip_command(tmp_path):
    code = textwrap.dedent("""
        import sys
        sys.modules["distributed"] = None  # as if the [dask] extra were not installed
        from crystallize_tui.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    write_experiment(tmp_path, "game", "pipeline: [s:step]\nreplicates: 2\n",
                     {"s.py": "def step(config, ctx):\n    pass\n"})
    out = subprocess.run([sys.executable, "-c", code, "run", "game", "--dask"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip() == ("crystallize: error: execution: backend 'dask' needs the Dask extra, which "
                                  "is not installed: pip install 'crystallize-tui[dask]'")


async def test_the_launch_dialog_runs_on_dask_when_chosen(tmp_path):
    pytest.importorskip("distributed")
    from textual.widgets import Select
    from tui_support import app_for, launch_to_end, open_launch, text_of

    write_experiment(tmp_path, "where", "pipeline: [s:step]\nreplicates: 3\ntreatments:\n  t: {}\n",
                     {"s.py": "import os\ndef step(config, ctx):\n    ctx.metrics.add('pid', os.getpid())\n"})
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        dialog = await open_launch(app, pilot, "where")
        backend = dialog.query_one("#backend", Select)
        assert backend.value == "serial"  # the experiment's own
        backend.value = "dask"
        dialog.query_one("#workers").value = "2"
        screen = await launch_to_end(app, pilot, dialog, timeout=120)
        assert "completed" in text_of(screen.query_one("#run-status"))
        pids = {o.metrics["pid"] for o in screen.result.replicate_results}
    assert len(pids) == 2 and os.getpid() not in pids


def test_distributed_is_imported_only_by_a_run_on_dask(tmp_path):
    pytest.importorskip("distributed")
    write_experiment(tmp_path, "lazy", "pipeline: [s:step]\nreplicates: 2\nrun: {backend: dask, workers: 2}\n",
                     {"s.py": "def step(config, ctx):\n    ctx.metrics.add('x', 1)\n"})
    code = textwrap.dedent("""
        import sys
        from crystallize_tui import Experiment
        experiment = Experiment.from_yaml("experiments/lazy")
        assert experiment.execution["backend"] == "dask"
        print("before", "distributed" in sys.modules)
        experiment.store = None
        experiment.run()
        print("after", "distributed" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.split() == ["before", "False", "after", "True"], out.stderr


def test_chunks_last_about_a_quarter_second_and_leave_work_for_every_worker():
    from crystallize_tui.core.backends.dask import chunk_size

    assert chunk_size(None, 10_000, 2) == 1  # nothing measured yet: one replicate a task
    assert chunk_size(1e-5, 10_000, 2) == 2000  # trivial: capped, not one round trip each
    assert chunk_size(0.02, 200, 2) == 12  # ~20 ms: about 0.25 s a task
    assert chunk_size(0.02, 20, 2) == 5  # the tail: a share for each of 2 slots x 2 in flight
    assert chunk_size(0.02, 4, 2) == 3  # ... unless a share would last under 0.05 s
    assert chunk_size(1e-5, 3000, 2) == 2000  # trivial: no tail of tiny tasks
    assert chunk_size(30.0, 500, 8) == 1  # slow replicates: one a task, over every worker


def test_dask_execution_plugin_and_failing_steps_on_workers(cluster):
    from dask_steps import fails_on_odd

    from crystallize_tui import DaskExecution

    address, client = cluster
    workers = set(client.run(os.getpid).values())
    experiment = build(plugins=[DaskExecution(address)])
    assert experiment.execution == {"backend": "dask", "workers": 4, "grace": 2.0, "address": address}
    result = experiment.run()
    assert set(values(result, "pid").values()) <= workers
    experiment = build(step=fails_on_odd, plugins=[DaskExecution(address)])
    result = experiment.run()
    failed = sorted((o.replicate, o.error) for o in result.replicate_results if o.status == "failed")
    assert failed == [(k, f"ValueError: odd replicate {k}") for k in (1, 1, 3, 3, 5, 5)]
    trace = next(o.traceback for o in result.replicate_results if o.status == "failed")
    assert trace.startswith("Traceback") and "dask_steps.py" in trace and "crystallize_tui" not in trace
    with pytest.raises(ConfigError, match="DaskExecution: workers must be a whole number >= 1, got 0"):
        DaskExecution(n_workers=0)


def test_each_event_is_published_once_by_its_key_and_a_later_attempt_starts_afresh():
    pytest.importorskip("distributed")
    import pickle
    from types import SimpleNamespace

    from crystallize_tui.core.backends.dask_run import DaskRun
    from crystallize_tui.core.cancel import CancelToken

    published: list[tuple[int, str]] = []
    run = DaskRun(None, SimpleNamespace(run_id="r", echo=False, capture=True), CancelToken(),
                  lambda e: published.append((e.data["attempt"], e.kind)), 1.0)

    def batch(attempt, *seqs):
        return pickle.dumps([("baseline", 0, attempt, seq,
                              ev.UserEvent("r", "baseline", 0, 0.0, f"e{seq}", {"attempt": attempt}))
                             for seq in seqs])

    run._events(batch(1, 1, 2))
    run._events(batch(1, 1, 2, 3))  # Dask computed the chunk again: 1 and 2 are repeats
    run._events(batch(2, 1, 2))  # our retry: a new attempt, shown from its start
    run._events(batch(1, 4))  # the first attempt, still running somewhere: silenced
    assert published == [(1, "e1"), (1, "e2"), (1, "e3"), (2, "e1"), (2, "e2")]


def test_a_detached_run_keeps_dask_and_its_address(cluster, tmp_path):
    address, client = cluster
    workers = set(client.run(os.getpid).values())
    write_experiment(tmp_path, "away", "pipeline: [s:step]\nreplicates: 3\n",
                     {"s.py": "import os\ndef step(config, ctx):\n    ctx.metrics.add('pid', os.getpid())\n"})
    started = cli(tmp_path, "run", "away", "--dask", address, "--detach")
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.split()[0]
    assert cli(tmp_path, "attach", run_id).returncode == 0  # waits for the run's end
    out = cli(tmp_path, "export", run_id, "-f", "json")
    reps = json.loads(out.stdout)["replicate_results"]
    assert len(reps) == 3 and {dict(r["values"])["pid"] for r in reps} <= workers


def test_a_cli_run_on_its_own_local_cluster_is_quiet(tmp_path):
    pytest.importorskip("distributed")
    write_experiment(tmp_path, "quiet", "pipeline: [s:step]\nreplicates: 4\n",
                     {"s.py": "def step(config, ctx):\n    print('said', ctx.replicate)\n"
                              "    ctx.metrics.add('x', ctx.replicate)\n"})
    out = cli(tmp_path, "run", "quiet", "--dask", "-w", "2")
    assert out.returncode == 0 and out.stderr == ""  # no Dask log lines, no dashboard notice
    assert "said" not in out.stdout  # print output is kept in the store, shown with -v
    shown = cli(tmp_path, "run", "quiet", "--dask", "-w", "2", "-v")
    assert sorted(line for line in shown.stdout.splitlines() if line.startswith("said")) == [
        f"said {k}" for k in range(4)]


def test_a_worker_death_is_in_the_record_not_in_log_lines(tmp_path):
    pytest.importorskip("distributed")
    write_experiment(tmp_path, "dying", "pipeline: [s:step]\nreplicates: 4\n",
                     {"s.py": "import os\ndef step(config, ctx):\n    if ctx.replicate == 1:\n"
                              "        os._exit(3)\n    ctx.metrics.add('x', 1)\n"})
    out = cli(tmp_path, "run", "dying", "--dask", "-w", "2")
    assert out.returncode == 1 and out.stderr == ""
    assert "baseline #1 failed: WorkerDied: the Dask worker running this replicate died" in out.stdout


@pytest.mark.parametrize(("section", "message"), [
    ("plugins:\n  dask: {adress: 'tcp://h:1'}\n", "plugins.dask: unknown key 'adress'"),
    ("plugins:\n  dask: {address: 8786}\n", "plugins.dask.address: expected str or null, got int 8786"),
    ("run: {backend: dask, workers: 0}\n", "run: workers must be a whole number >= 1, got 0"),
    ("run: {backend: dask, timeout: -1}\n", "timeout must be a number of seconds >= 0.1, got -1"),
    ("run: {backend: dask, adress: x}\n", "backend 'dask' has no setting 'adress'; its settings: "
                                         "workers, address, timeout, grace"),
])
def test_bad_dask_settings_in_yaml_are_one_line_naming_them(tmp_path, section, message):
    pytest.importorskip("distributed")
    folder = write_experiment(tmp_path, "bad", "pipeline: [s:step]\nreplicates: 2\n" + section,
                              {"s.py": "def step(config, ctx):\n    pass\n"})
    with pytest.raises(ConfigError) as caught:
        Experiment.from_yaml(folder)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "experiment.yaml" in str(caught.value)


def test_a_resource_is_built_once_on_each_dask_worker(cluster):
    from resource_steps import counted, use_counted

    address, client = cluster
    experiment = Experiment(name="dask-res", pipeline=[use_counted], replicates=8, store=None,
                            resources={"counted": counted}, execution=on_dask(address))
    result = experiment.run()
    assert result.status == "completed"
    outcomes = result.replicate_results
    assert all(o.metrics["built_in"] == o.metrics["pid"] for o in outcomes)  # built where used
    assert {o.metrics["build"] for o in outcomes} == {1}  # once per worker process
    assert set(o.metrics["pid"] for o in outcomes) <= set(client.run(os.getpid).values())


def test_a_lib_module_the_steps_import_travels_to_the_workers(cluster, tmp_path, monkeypatch):
    from crystallize_tui.core.backends import dask_ship

    address, _ = cluster
    write(tmp_path / "experiments" / "lib", {"shared_math.py": "from scale import FACTOR\n\n"
                                             "def scaled(x):\n    return FACTOR * x\n",
                                             "scale.py": "FACTOR = 3\n"})
    folder = write_experiment(tmp_path, "libbed", "pipeline: [steps:step]\nreplicates: 4\n", {
        "steps.py": "from shared_math import scaled\n\n"
                    "def step(config, ctx):\n    ctx.metrics.add('y', scaled(ctx.replicate))\n"})
    pack = dask_ship.pack

    def pack_then_hide(plan):
        packed = pack(plan)  # the workers cannot read the workspace (as on another machine)
        (tmp_path / "experiments").rename(tmp_path / "moved")
        return packed

    monkeypatch.setattr(dask_ship, "pack", pack_then_hide)
    experiment = Experiment.from_yaml(folder)
    experiment.store = None
    experiment.execution = on_dask(address)
    result = experiment.run()
    assert result.status == "completed", [o.error for o in result.replicate_results]
    assert result.metrics["baseline"].metrics["y"] == [0, 3, 6, 9]
