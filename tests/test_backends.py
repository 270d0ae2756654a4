"""Execution backends chosen by name (run option, YAML ``run:``, ``--backend``), the same
results from each, and a backend added from outside through the interface alone."""

from __future__ import annotations

import json
import os
import threading

import pytest
from cli_support import cli, write
from steps import where_it_ran

from crystallize_tui import ConfigError, Experiment, ParallelExecution, Treatment
from crystallize_tui.core import backends
from crystallize_tui.core.backends import Backend, backend_for, register_backend
from crystallize_tui.core.plan import ReplicateHooks
from crystallize_tui.core.replicate import replicate_runner


def build(**kwargs):
    return Experiment(name="where", datasource={"scale": 1}, pipeline=[where_it_ran],
                      treatments=[Treatment("big", {"scale": 10})], replicates=6, seed=11,
                      **kwargs)


def draws(result):
    return {c: result.metrics[c].metrics["draw"] for c in result.conditions}


def ran(result, metric):
    return {v for c in result.conditions for v in result.metrics[c].metrics[metric]}


@pytest.mark.parametrize("name", ["threads", "processes"])
def test_each_backend_by_name_gives_the_serial_metrics(name):
    serial = build().run(backend="serial")
    other = build().run(backend=name, workers=2)
    assert other.status == serial.status == "completed"
    assert draws(other) == draws(serial)
    assert ran(serial, "pid") == {os.getpid()} and ran(serial, "worker_thread") == {False}
    if name == "threads":
        assert ran(other, "pid") == {os.getpid()} and ran(other, "worker_thread") == {True}
    else:
        assert os.getpid() not in ran(other, "pid") and ran(other, "ppid") == {os.getpid()}
        assert len(ran(other, "pid")) <= 2


def test_start_and_stream_take_the_backend_option_too():
    handle = build().start(backend="threads", workers=2)
    assert handle.backend == "threads x2"
    assert ran(handle.wait(), "worker_thread") == {True}
    streamed = list(build().stream(backend="processes", workers=2))
    assert len(streamed) == 12 and os.getpid() not in {r.metrics["pid"] for r in streamed}


def test_workers_alone_mean_processes_or_serial():
    assert os.getpid() not in ran(build().run(workers=2), "pid")
    parallel = build(plugins=[ParallelExecution(2, "thread")])
    assert ran(parallel.run(), "worker_thread") == {True}  # the plugin still works
    assert ran(parallel.run(workers=3), "worker_thread") == {True}  # its kind is kept
    assert ran(parallel.run(workers=1), "pid") == {os.getpid()}
    assert ran(parallel.run(workers=1), "worker_thread") == {False}


def test_the_plugin_and_the_experiment_option_are_the_same_setting():
    assert build(plugins=[ParallelExecution(3, "process", grace=1.0)]).execution == {
        "backend": "processes", "workers": 3, "grace": 1.0, "start_method": None}
    assert build(execution={"backend": "threads", "workers": 2}).execution == {
        "backend": "threads", "workers": 2}
    assert build().execution == {"backend": "serial"}
    assert ran(build(execution={"workers": 2}).run(), "ppid") == {os.getpid()}


@pytest.mark.parametrize(("options", "message"), [
    ({"backend": "nope"}, "unknown backend 'nope'; backends: serial, threads, processes, dask"),
    ({"backend": "serial", "workers": 3}, "backend 'serial' runs one replicate at a time"),
    ({"workers": 0}, "workers must be a whole number >= 1, got 0"),
    ({"backend": "threads", "start_method": "fork"}, "backend 'threads' has no setting 'start_method'"),
    ({"backend": "processes", "start_method": "nope"}, "start_method must be one of"),
])
def test_a_bad_backend_option_is_a_one_line_config_error_before_anything_runs(options, message):
    experiment = build()
    with pytest.raises(ConfigError) as caught:
        experiment.run(**options)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert experiment.last_result is None
    with pytest.raises(ConfigError, match="^execution: "):
        build(execution=options)


YAML_STEPS = '''
import os
import threading


def where(config, ctx):
    ctx.metrics.add("pid", os.getpid())
    ctx.metrics.add("ppid", os.getppid())
    ctx.metrics.add("worker_thread", threading.current_thread() is not threading.main_thread())
'''


def workspace(root, run_section):
    write(root / "experiments" / "where", {
        "experiment.yaml": f"pipeline: [steps:where]\nreplicates: 4\n{run_section}",
        "steps.py": YAML_STEPS,
    })
    return root


def stored_metrics(root, *args):
    proc = cli(root, "run", "where", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    reps = json.loads(proc.stdout)["replicate_results"]
    return [dict(r["values"]) for r in reps]


def test_yaml_run_section_runs_on_threads(tmp_path):
    root = workspace(tmp_path, "run: {backend: threads, workers: 2}\n")
    metrics = stored_metrics(root)
    assert len(metrics) == 4 and all(m["worker_thread"] for m in metrics)
    assert len({m["pid"] for m in metrics}) == 1  # threads of the crystallize process
    assert all(not m["worker_thread"] for m in stored_metrics(root, "--backend", "serial"))


def test_cli_backend_processes_with_two_workers(tmp_path):
    root = workspace(tmp_path, "")
    serial = stored_metrics(root)
    assert len({m["pid"] for m in serial}) == 1
    metrics = stored_metrics(root, "--backend", "processes", "--workers", "2")
    pids = {m["pid"] for m in metrics}
    assert 1 <= len(pids) <= 2 and not pids & {m["pid"] for m in serial}
    # worker processes, all children of the one crystallize process (whose parent is us)
    parents = {m["ppid"] for m in metrics}
    assert len(parents) == 1 and not parents & pids and os.getpid() not in parents


def test_a_detached_run_keeps_the_backend(tmp_path):
    root = workspace(tmp_path, "")
    started = cli(root, "run", "where", "--backend", "threads", "-w", "2", "--detach")
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.split()[0]
    assert cli(root, "attach", run_id).returncode == 0  # waits for the run's end
    exported = cli(root, "export", run_id, "-f", "json")
    reps = json.loads(exported.stdout)["replicate_results"]
    assert len(reps) == 4 and all(dict(r["values"])["worker_thread"] for r in reps)


def test_cli_unknown_backend_exits_2_naming_it(tmp_path):
    root = workspace(tmp_path, "")
    proc = cli(root, "run", "where", "--backend", "ray")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("crystallize: error: unknown backend 'ray'; backends: "
                                   "serial, threads, processes, dask, async")
    assert not (root / ".crystallize" / "crystallize.db").exists()  # nothing ran


@pytest.mark.parametrize(("run_section", "message"), [
    ("run: {backend: thread}\n", ":3: run.backend: unknown backend 'thread'; backends: "
                                 "serial, threads, processes, dask, async"),
    ("run: {backend: serial, workers: 2}\n", ":3: run: backend 'serial' runs one replicate"),
    ("run: {workers: two}\n", ":3: run.workers: expected int, got str 'two'"),
    ("run: {workers: 2}\nplugins: {parallel: {max_workers: 2}}\n",
     "run: and plugins.parallel both say where replicates run"),
])
def test_a_bad_yaml_run_section_names_the_file_line_and_key(tmp_path, run_section, message):
    root = workspace(tmp_path, run_section)
    proc = cli(root, "run", "where")
    assert proc.returncode == 2
    assert "experiment.yaml" in proc.stderr and message in proc.stderr, proc.stderr


# -- a backend from outside: what the next issue's Dask backend has to do -------------


class ToyBackend(Backend):
    """Runs the replicates last-first on one helper thread, handing events over through a
    list: only the interface (plan, token, publish) and the replicate runner."""

    name = "toy"
    SETTINGS = ("workers", "reverse")
    used: list[ToyBackend] = []

    def __init__(self, *, workers: int = 1, reverse: bool = True) -> None:
        super().__init__(workers=workers)
        self.reverse = reverse
        self.started: list[tuple[str, int]] = []
        ToyBackend.used.append(self)

    def run(self, plan, token, publish):
        tasks = list(plan.tasks)
        for task in reversed(tasks) if self.reverse else tasks:
            if token.cancelled:
                return
            events: list = []
            out: list = []
            runner = replicate_runner(plan, events.append, token, ReplicateHooks.of(plan.plugins))
            helper = threading.Thread(target=self._one, args=(runner, task, out))
            helper.start()
            helper.join()
            for event in events:  # published in the caller's thread, as the contract says
                publish(event)
            self.started.append(task)
            yield out[0]

    @staticmethod
    def _one(runner, task, out):
        out.append(runner(*task))


@pytest.fixture
def toy():
    register_backend("toy", ToyBackend)
    ToyBackend.used.clear()
    yield ToyBackend
    backends._REGISTRY.pop("toy", None)


def test_a_backend_registered_from_outside_runs_an_experiment_through_the_interface(toy):
    heard = []
    serial = build().run()
    result = build().run(backend="toy", subscribers=[heard.append])
    assert result.status == "completed" and draws(result) == draws(serial)
    (used,) = toy.used
    assert used.started[0] == ("big", 5) and len(used.started) == 12
    assert sum(type(e).__name__ == "ReplicateFinished" for e in heard) == 12
    assert ran(result, "worker_thread") == {True}
    # its own settings come from the same options, and are checked by name
    assert backend_for("toy", reverse=False).reverse is False
    assert build(execution={"backend": "toy", "reverse": False}).execution["reverse"] is False
    with pytest.raises(ConfigError, match="backend 'toy' has no setting 'grace'"):
        build().run(backend="toy", grace=1.0)
