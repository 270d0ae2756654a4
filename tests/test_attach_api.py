"""Store.attach(run_id) from Python: a read-only handle on a run another process records
(a `crystallize run --detach` run), killed with -9, or finished."""

from __future__ import annotations

import os
import queue
import signal
import threading

from cli_support import cli
from test_live_runs import WAIT_S, alive, db, detach, run_pid, stored, wait_for
from test_live_runs import workspace as workspace  # noqa: F401 - the fixture, shared

from crystallize_tui.core.store.store import Store


def counts(run) -> list[tuple[str, int, int, int]]:
    return [(c.condition, c.done, c.failed, c.total) for c in run.progress.conditions]


def test_attach_sees_progress_grow_and_lines_arrive_then_cancels_and_waits(workspace):
    # Each replicate takes 0.3 s once the hold file goes: the run is still going when the
    # test cancels it.
    run_id = detach(workspace, env={"PAUSE": "0.3"})
    wait_for(lambda: stored(workspace, run_id) == 6, "replicates 0-2 of both conditions")
    run = Store(db(workspace)).attach(run_id)
    assert run.run_id == run_id and run.status == "running" and not run.done
    # A watcher attaching late first sees the state: the 6 replicates already committed.
    assert counts(run) == [("baseline", 3, 0, 8), ("fast", 3, 0, 8)]
    assert not run.progress.ended and run.progress.elapsed > 0

    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in run.lines():
            lines.put(line.text)
        lines.put(None)  # the iterator ended: the run is over

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    # Stored lines first, then a line printed by a replicate that is still held.
    while "[baseline #3] line of 3" not in seen:
        seen.append(lines.get(timeout=WAIT_S))
    assert seen[:2] == ["[baseline #0] line of 0", "[fast #0] line of 0"]
    assert "[fast #2] line of 2" in seen

    (workspace / "experiments" / "slow" / "hold").unlink()  # the run goes on
    wait_for(lambda: run.progress.done > 7, "progress to grow past 7")
    assert run.progress.conditions[0].eta is not None  # an ETA once replicates finished
    run.cancel()
    result = run.wait(timeout=WAIT_S)
    assert result.status == "cancelled" and run.status == "cancelled"
    assert 8 <= len(result.replicate_results) < 16  # finished replicates kept, the rest not run
    assert run.progress.ended and run.progress.done == len(result.replicate_results)
    reader.join(WAIT_S)
    while (line := lines.get(timeout=WAIT_S)) is not None:
        seen.append(line)
    assert "[baseline #4] line of 4" in seen  # the live tail reached the watcher


def test_attach_to_a_killed_run_process_reads_interrupted(workspace):
    run_id = detach(workspace)
    pid = run_pid(workspace, run_id)
    wait_for(lambda: stored(workspace, run_id) == 6, "replicates 0-2 of both conditions")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), "the killed process to go")

    run = Store(db(workspace)).attach(run_id)
    assert run.status == "interrupted" and run.done
    assert counts(run) == [("baseline", 3, 0, 8), ("fast", 3, 0, 8)]
    assert run.progress.ended and all(c.eta is None for c in run.progress.conditions)
    result = run.wait(timeout=0)  # returns at once: the run is over
    assert result.status == "interrupted" and len(result.replicate_results) == 6
    texts = [line.text for line in run.lines()]  # ends: nothing more will come
    assert texts[:6] == [f"[{c} #{r}] line of {r}" for r in range(3) for c in ("baseline", "fast")]
    run.cancel()  # nothing to cancel: no request is left behind for a resume
    (workspace / "experiments" / "slow" / "hold").unlink()
    resumed = cli(workspace, "run", "slow", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert run.status == "completed" and run.wait(timeout=0).status == "completed"


def test_attach_to_a_finished_run_returns_at_once(workspace):
    (workspace / "experiments" / "slow" / "hold").unlink()
    done = cli(workspace, "run", "slow")
    assert done.returncode == 0, done.stderr
    (run_id,) = [line.split()[1] for line in done.stdout.splitlines()
                 if line.startswith("run ")][:1] or [None]
    store = Store(db(workspace))
    run_id = run_id if run_id and run_id in {r.run_id for r in store.runs()} else \
        store.runs("slow")[0].run_id
    run = store.attach(run_id)
    assert run.status == "completed"
    result = run.wait(timeout=0)
    assert result.status == "completed" and len(result.replicate_results) == 16
    assert counts(run) == [("baseline", 8, 0, 8), ("fast", 8, 0, 8)]
    assert all(c.eta == 0.0 for c in run.progress.conditions)
    texts = [line.text for line in run.lines()]
    assert len([t for t in texts if "line of" in t]) == 16


def test_attach_to_an_unknown_run_names_it(workspace):
    (workspace / "experiments" / "slow" / "hold").unlink()
    assert cli(workspace, "run", "slow").returncode == 0
    try:
        Store(db(workspace)).attach("nope")
    except Exception as exc:  # noqa: BLE001 - the message is what a user reads
        assert "no run 'nope'" in str(exc)
    else:
        raise AssertionError("attach to an unknown run id did not fail")
