"""The debug of one replicate in a process of its own, for the TUI's debug screen.

``python -m crystallize_tui.commands.debug_child --root R --store S NAME TREATMENT K
[--run-id ID] [--seed N] [--overrides B64] --channel-fd FD`` loads experiment NAME from the
workspace the way ``crystallize run-once`` does, reproduces replicate K of TREATMENT (the
stored run's config and base seed when ``--run-id`` is given) and sends, on the channel:
``("source", DebugSource)`` once the config is known, every event of the replicate as it
happens, then ``("done", TREATMENT, ReplicateResult)`` or ``("failed", DebugFailure)``
in a batch of its own.
A step that segfaults or hangs takes down only this process. No textual here: the screen
waits on this process's start-up.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pickle
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..core.child import CHANNEL_FLAG, parent_channel
from ..core.errors import ConfigError
from ..core.fingerprint import canonical_json
from ..core.overrides import apply_overrides
from ..core.replicate import user_frames

MODULE = "crystallize_tui.commands.debug_child"
PARENT_POLL_S = 0.25


@dataclass
class DebugSource:
    """What the debug of one replicate runs with: the config and base seed of the run it
    reproduces (None: the experiment's own), and how the screen names that."""

    config: dict[str, Any] | None
    seed: int | None
    stored_seed: int | None  # the replicate's seed as the store has it, to check against
    note: str
    seed_stream: int = 0  # a confirmatory run's fresh-seed stream (core/confirm.py)


@dataclass
class DebugFailure:
    """A debug replicate that raised, as the screen shows it: the one-line error, the
    traceback from the user's first frame (rich's picklable ``Trace``), and the exception
    itself pickled when it can be (the parent may not be able to import its class)."""

    summary: str
    trace: Any = None
    error: bytes | None = None

    def exception(self) -> BaseException:
        """The exception the step raised, or a RuntimeError saying it when it does not
        travel between processes."""
        if self.error is not None:
            try:
                exc = pickle.loads(self.error)
                if isinstance(exc, BaseException):
                    return exc
            except Exception:  # its class lives in a module only the child imported
                pass
        return RuntimeError(self.summary)


def debug_source(experiment: Any, treatment: str, replicate: int, run_id: str | None,
                 overrides: dict[str, Any] | None, seed: int | None) -> DebugSource:
    """The config and seed replicate ``replicate`` of ``treatment`` ran with in run ``run_id``
    (read from the store: what the run recorded, overrides applied), or, without a run, the
    experiment's config with ``overrides`` and base ``seed``. Reads files and runs user code
    (datasources)."""
    store = getattr(experiment, "store", None)
    row = None
    if run_id is not None and store is not None:
        try:
            row = store.run_row(run_id)
        except Exception:  # a live run not yet written, or gone: fall back to its options
            row = None
    current = experiment.resolve_configs([treatment])[treatment]
    if row is None:
        config = apply_overrides({treatment: current}, overrides)[treatment] if overrides else None
        shown = " ".join(f"{k}={v!r}" for k, v in (overrides or {}).items())
        note = f"config of the experiment{' with ' + shown if shown else ''}"
        return DebugSource(config, seed, None, note)
    recorded = json.loads(row["configs"]).get(treatment)
    if recorded is None:
        raise ConfigError(f"run {run_id} has no condition {treatment!r}")
    stored_seed = next((r.seed for r in store.replicates(run_id)
                        if r.treatment == treatment and r.replicate == replicate), None)
    # The store keeps configs as JSON (other values as their repr): when today's resolution,
    # with the run's overrides, gives what the run recorded, run with those exact objects.
    candidates = [current]
    if overrides:
        candidates.insert(0, apply_overrides({treatment: current}, overrides)[treatment])
    config = next((c for c in candidates if canonical_json(c) == canonical_json(recorded)),
                  recorded)
    return DebugSource(config, int(row["base_seed"]), stored_seed, f"config and seed of run {run_id}",
                       int(row.get("seed_stream") or 0))


def failure_of(exc: BaseException) -> DebugFailure:
    """What the screen shows of ``exc``: its line, its traceback from the user's code."""
    from rich.traceback import Traceback

    trace = Traceback.extract(type(exc), exc, user_frames(exc.__traceback__), show_locals=False)
    try:
        error: bytes | None = pickle.dumps(exc)
        pickle.loads(error)  # some exceptions pickle but cannot be rebuilt (required args)
    except Exception:
        error = None
    return DebugFailure(f"{type(exc).__name__}: {exc}", trace, error)


def child_args(root: Path, store: Path, name: str, treatment: str, replicate: int, *,
               run_id: str | None = None, overrides: dict[str, Any] | None = None,
               seed: int | None = None) -> list[str]:
    """The ``-m`` arguments of a debug child (ChildProcess.spawn adds the channel)."""
    words = [MODULE, "--root", str(root), "--store", str(store), name, treatment, str(replicate)]
    if run_id is not None:
        words += ["--run-id", run_id]
    if seed is not None:
        words += ["--seed", str(seed)]
    if overrides:
        # Pickled, not JSON: the values reach the child as the dialog parsed them.
        words += ["--overrides", base64.b64encode(pickle.dumps(dict(overrides))).decode()]
    return words


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}")
    parser.add_argument("--root", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("name")
    parser.add_argument("treatment")
    parser.add_argument("replicate", type=int)
    parser.add_argument("--run-id")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--overrides")
    parser.add_argument(CHANNEL_FLAG, dest="channel_fd", type=int, required=True)
    return parser.parse_args(argv)


def _end_with_parent(parent: int) -> None:
    """Kill this process's group once its parent (the UI) is gone, however it went (even
    SIGKILL): a debug does not outlive its window, and a hung step would never notice."""
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != parent:
            os.killpg(os.getpgid(0), signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    """Run the debug replicate and send what it does to the parent; 0 once it is sent."""
    from .common import Workspace

    args = _parse(sys.argv[1:] if argv is None else argv)
    channel = parent_channel(args.channel_fd)
    threading.Thread(target=_end_with_parent, args=(os.getppid(),), daemon=True,
                     name="end-with-parent").start()
    try:
        overrides = pickle.loads(base64.b64decode(args.overrides)) if args.overrides else None
        ws = Workspace(root=Path(args.root), store_path=Path(args.store))
        experiment = ws.experiment(args.name)
        source = debug_source(experiment, args.treatment, args.replicate, args.run_id,
                              overrides, args.seed)
        channel.send_now(("source", replace(source, config=None)))  # the config stays here
        rep = experiment.debug(treatment=args.treatment, replicate=args.replicate, verbose=False,
                               echo=False, subscribers=[channel.emit], seed=source.seed,
                               config=source.config, seed_stream=source.seed_stream)
    except BaseException as exc:  # the user's exception (SystemExit too): shown by the screen
        channel.send_now(("events", None))
        channel.send_now(("failed", failure_of(exc)))
    else:
        rep.output = None  # the step's return value: may be large or unpicklable; unused there
        # The events first, in a batch of their own: one the parent cannot unpickle (an
        # object of a class only this process has) must not take the outcome with it.
        channel.send_now(("events", None))
        channel.send_now(("done", args.treatment, rep))
    channel.close()
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy's: what it pickles must name
    # classes the parent can find (crystallize_tui.commands.debug_child.DebugSource).
    from crystallize_tui.commands.debug_child import main as imported_main

    code = imported_main()
    # The replicate's threads (a step may leave some running) must not keep a finished
    # debug alive: what the screen needs is sent.
    sys.stdout.flush()
    os._exit(code)
