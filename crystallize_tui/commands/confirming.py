"""``crystallize confirm``: the declared hypotheses again, on fresh seeds, locked first."""

from __future__ import annotations

import json
import sys
from typing import Any

from ..core import interrupts
from ..core.confirm import check_confirmable, describe_run, verdicts_hold
from ..core.store.follow import cancel_requests
from . import pipes
from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Workspace, console, is_tty
from .preload import StatisticsPreload
from .progress import BarProgress, PlainProgress
from .running import _keep_fork, _with_execution, report, result_document


@interrupts.guarded  # Ctrl-C from store creation to the report: a clean cancel, exit 130
def cmd_confirm(args: Any, ws: Workspace) -> int:
    """Exit 0 when every declared hypothesis is supported on the fresh seeds, 1 when one is
    not (or a replicate failed), 2 for an experiment that declares none."""
    if getattr(args, "detach", False):
        from ..core.backends import backend_class
        from .live import start_detached

        if args.backend is not None:
            backend_class(args.backend)  # an unknown name fails here, not in the detached process
        check_confirmable(ws.experiment(args.name), {})  # no hypotheses: exit 2 here, not later
        return start_detached(args, ws, confirm_words(args))
    experiment = ws.experiment(args.name)
    _with_execution(experiment, args.backend, args.workers)
    conditions = [c for c in experiment.conditions
                  if not args.treatment or c == "baseline" or c in args.treatment]
    for name in args.treatment or []:
        experiment.config_for(name)  # unknown names fail here, before any output
    _keep_fork(experiment)
    show_bar = is_tty() and not args.json
    reporter = (BarProgress if show_bar else PlainProgress)(
        conditions, args.replicates or experiment.replicates)
    subscribers: list[Any] = [StatisticsPreload()] + ([] if args.json else [reporter])
    try:
        with (reporter if not args.json else _Quiet(), pipes.when_closed(experiment.cancel),
              cancel_requests(ws.store, experiment.cancel, stop=experiment.stop)):
            result = experiment.confirm(replicates=args.replicates, treatments=args.treatment,
                                        echo=args.verbose and not args.json,
                                        subscribers=subscribers,
                                        run_id=getattr(args, "run_id", None))
    except KeyboardInterrupt:
        print(f"\ncancelled: finished replicates kept in {ws.store_path}; continue with "
              f"`crystallize run {args.name} --resume` (it keeps the fresh seeds)",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    row = ws.store.run_row(result.run_id)
    lines = describe_run(row, experiment)
    held = verdicts_hold(result)
    if args.json:
        doc = result_document(result)
        doc["confirmation"] = {"kind": row["kind"], "seed_stream": row["seed_stream"],
                               "lock": row["lock_fingerprint"], "report": lines,
                               "confirmed": held}
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK if held else EXIT_FAILED
    con = console()
    code = report(result, ws.store_path, con)
    for line in lines:
        con.print(line, markup=False)
    con.print("confirmed: every hypothesis supported on fresh seeds" if held else
              "not confirmed: not every hypothesis was supported on fresh seeds", markup=False)
    return EXIT_OK if held and code == EXIT_OK else EXIT_FAILED


def confirm_words(args: Any) -> list[str]:
    """The arguments of this ``crystallize confirm`` (without --detach): what the detached
    process is started with."""
    from .common import command_words

    words = command_words(args, "confirm", ("-n", args.replicates), ("-w", args.workers),
                          ("--backend", args.backend))
    for name in args.treatment or []:
        words += ["-t", name]
    return words + [flag for flag, on in (("-v", args.verbose), ("--json", args.json)) if on]


class _Quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None
