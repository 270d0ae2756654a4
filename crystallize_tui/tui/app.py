"""The Crystallize app: screens, the workers that discover experiments and watch their files,
and the actions every screen shares."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..commands.common import Workspace
from ..core.folders import DiscoveryCache, discover
from .messages import ExperimentFilesChanged, ExperimentsLoaded, RerunOptionsFound
from .rerun import describe_choices, options_of_run
from .screens.attached import AttachedRunScreen
from .screens.debug import DebugScreen, PickConditionScreen
from .screens.dialogs import HelpScreen, LaunchScreen, QuitScreen
from .screens.diff import DiffScreen
from .screens.history import HistoryScreen
from .screens.home import HomeScreen
from .screens.run import RunScreen
from .settings import settings_path
from .theme import remember_theme

SWITCH_INTERVAL_S = 0.001  # GIL hand-over between threads (default 0.005)
HELP_TOOLTIPS_FROM = (100, 32)  # columns, rows: from this size the help gives each key's tooltip


class CrystallizeApp(App[int]):
    """Browse the workspace's experiments, launch and watch runs, debug, compare."""

    CSS_PATH = "app.tcss"
    TITLE = "Crystallize"
    BINDINGS = [
        Binding("q", "quit", "Quit", tooltip="Quit (asks first while a run is live)"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    def __init__(self, workspace: Workspace, *, watch: bool = True) -> None:
        super().__init__()
        self.workspace = workspace
        self.watch_files = watch
        self.cache = DiscoveryCache()
        self.run_screens: list[RunScreen] = []
        self.run_choices: dict[str, dict[str, Any]] = {}  # run id -> its launch choices (this session)
        self._stop_watching = threading.Event()
        self._preloading = False
        self.discovery: Any = None

    # -- start-up and discovery ---------------------------------------------------------
    def on_mount(self) -> None:
        # Worker threads (live statistics, the run's pipe reader) hold the GIL for up to the
        # switch interval at a time; the default 5 ms, taken several times while a key is
        # handled, showed as 58 ms key p99 with short replicates (bench/tui.py). 1 ms slices
        # keep keys prompt; the workers lose nothing measurable.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        freeze_imports()
        remember_theme(self, settings_path(self.workspace.root))
        self.push_screen(HomeScreen())
        self.load_experiments()
        if self.watch_files:
            self.watch_experiments()

    @work(thread=True, exclusive=True, group="discovery", exit_on_error=False)
    def load_experiments(self) -> None:
        discovery = discover(self.workspace.root, cache=self.cache)
        last: dict[str, Any] = {}
        store = None
        try:
            store = self.workspace.store
            if self.workspace.store_path.exists():
                for record in store.runs():
                    last.setdefault(record.experiment, record)
        except Exception as exc:  # noqa: BLE001 - a damaged store: list the experiments anyway
            # Without this the worker died and home stayed empty (which page of a damaged
            # file the runs table sits on varies from run to run); a run then says why.
            self.call_from_thread(
                self.notify, str(exc), title="store unreadable",
                severity="error", timeout=15)
        for found in discovery.experiments:
            if store is not None:
                found.experiment.store = store
        self.post_message(ExperimentsLoaded(discovery, last))

    def preload_statistics(self) -> None:
        """Import scipy in the background once a run starts, before its first live
        statistics are due.

        Not at start-up: the import holds the GIL for a second or more, and a UI quit
        meanwhile crawls (every await waits for the GIL). A daemon thread, not a Textual
        worker, since the app waits for its workers when it quits."""
        if self._preloading or "crystallize_tui.stats" in sys.modules:
            return
        self._preloading = True
        threading.Thread(target=_import_statistics, name="crystallize-preload",
                         daemon=True).start()

    @on(ExperimentsLoaded)
    def _loaded(self, message: ExperimentsLoaded) -> None:
        self.discovery = message.discovery
        home = self._home()
        if home is not None:
            home.show_experiments(message.discovery, message.last_runs)

    def _home(self) -> HomeScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                return screen
        return None

    @work(thread=True, group="watch", exit_on_error=False)
    def watch_experiments(self) -> None:
        import watchfiles

        folder = self.workspace.root / "experiments"
        if not folder.is_dir():
            return
        # rust_timeout bounds how long the thread takes to notice the stop event at exit.
        for changes in watchfiles.watch(folder, stop_event=self._stop_watching, debounce=300,
                                        rust_timeout=500):
            self.post_message(ExperimentFilesChanged(sorted(path for _, path in changes)))

    @on(ExperimentFilesChanged)
    def _files_changed(self) -> None:
        self.load_experiments()

    def refresh_home(self) -> None:
        """Re-read last-run statuses (after a run ends)."""
        self.load_experiments()

    # -- runs ---------------------------------------------------------------------------
    def current_experiment(self, experiment: Any) -> Any:
        """The experiment as its files are now: the one discovery loaded last with the same
        name (files may have changed since ``experiment`` was loaded), else ``experiment``."""
        found = getattr(self.discovery, "experiments", None) or []
        return next((f.experiment for f in found if f.experiment.name == experiment.name),
                    experiment)

    def live_run_screen(self, experiment: Any) -> Screen | None:
        """The screen of ``experiment``'s live run: this window's run screen, or one attached
        to a run another process runs (the CLI, --detach, another window), as home knows it."""
        own = next((s for s in self.run_screens
                    if s.experiment.name == experiment.name and s.running), None)
        if own is not None:
            return own
        home = self._home()
        record = home.last_runs.get(experiment.name) if home is not None else None
        ours = {s.started.run_id for s in self.run_screens if s.started is not None}
        if record is not None and record.status == "running" and record.run_id not in ours:
            return AttachedRunScreen(experiment, record.run_id)
        return None

    def start_run(self, experiment: Any, choices: dict[str, Any]) -> None:
        """Open a run screen and start the run (or show the one already running)."""
        live = self.live_run_screen(experiment)
        if live is not None:
            self.notify(f"{experiment.name} is already running: showing it", timeout=3)
            self.push_screen(live)
            return
        options: dict[str, Any] = {}
        if "replicates" in choices:
            options["replicates"] = choices["replicates"]
        if "seed" in choices:
            options["seed"] = choices["seed"]
        if "treatments" in choices:
            options["treatments"] = choices["treatments"]
        if choices.get("overrides"):
            options["overrides"] = choices["overrides"]
        if "workers" in choices:
            options["workers"] = choices["workers"]
        if "backend" in choices:
            options["backend"] = choices["backend"]
        # stop when decided (the launch dialog); a confirmatory run (the confirm dialog)
        for key in ("until", "max_replicates", "correction", "confirm"):
            if key in choices:
                options[key] = choices[key]
        self.open_run_screen(RunScreen(experiment, options=options, choices=choices))

    def open_run_screen(self, screen: RunScreen) -> None:
        """Show ``screen`` and keep it (its run goes on when you leave it)."""
        self.run_screens = [s for s in self.run_screens if s.running] + [screen]
        name = f"run-{id(screen)}"
        self.install_screen(screen, name=name)  # installed: it lives on when you leave it
        self.push_screen(name)

    @work(thread=True, group="resume", exit_on_error=False)
    def resume_run(self, experiment: Any, run_id: str) -> None:
        """Resume ``run_id`` (interrupted in another process) in a run process of this
        window; the engine resumes an experiment's latest run, so it must be that one."""
        try:
            latest = experiment.store.runs(experiment.name)[0].run_id
        except Exception as exc:  # noqa: BLE001 - the store went away: say so
            self.call_from_thread(self.notify, str(exc), title="cannot resume", severity="error")
            return
        if latest != run_id:
            self.call_from_thread(self.notify, f"run {run_id} is not the latest run of "
                                  f"{experiment.name} ({latest} is): only the latest resumes",
                                  title="cannot resume", severity="warning", timeout=8)
            return
        self.call_from_thread(self.open_run_screen, RunScreen(experiment, resume=True))

    def run_again(self, experiment: Any, run: Any) -> None:
        """A new run with the options run ``run`` (a Result or a run id) ran with."""
        live = self.live_run_screen(experiment)
        if live is not None:
            self.notify(f"{experiment.name} is already running: showing it", timeout=3)
            self.push_screen(live)
            return
        self._find_rerun_options(experiment, run)

    @work(thread=True, group="rerun", exit_on_error=False)
    def _find_rerun_options(self, experiment: Any, run: Any) -> None:
        try:
            result = experiment.store.load(run) if isinstance(run, str) else run
            choices, notes = options_of_run(experiment, result, self.run_choices.get(result.run_id))
        except Exception as exc:  # the experiment no longer loads, a treatment is gone...
            self.call_from_thread(self.notify, f"{type(exc).__name__}: {exc}",
                                  title="cannot run it again", severity="error", timeout=10)
            return
        self.post_message(RerunOptionsFound(experiment, choices, notes))

    @on(RerunOptionsFound)
    def _rerun(self, message: RerunOptionsFound) -> None:
        text = "running again: " + describe_choices(message.choices)
        if message.notes:
            text += "\n" + "\n".join(message.notes)
        self.notify(text, severity="warning" if message.notes else "information", timeout=6)
        self.start_run(message.experiment, message.choices)

    def action_launch(self, experiment: Any) -> None:
        def launch(choices: dict[str, Any] | None) -> None:
            if choices is not None:
                self.start_run(experiment, choices)

        self.push_screen(LaunchScreen(experiment), launch)

    @work(thread=True, group="open-run", exit_on_error=False)
    def open_stored_run(self, experiment: Any, run_id: str) -> None:
        """Load a stored run off the UI thread and show it (attached, while it runs). The store is checked whole first
        (as `crystallize show` does): a damaged page must not show a run cut short."""
        own = next((s for s in self.run_screens if s.running and s.started is not None
                    and s.started.run_id == run_id), None)
        if own is not None:  # this window runs it: its own screen, not a second view
            self.call_from_thread(self.push_screen, own)
            return
        try:
            if experiment.store.live_status(run_id)[0] == "running":
                # Another process runs it (the CLI, --detach, another window): attach.
                self.call_from_thread(self.push_screen, AttachedRunScreen(experiment, run_id))
                return
            experiment.store.verify()
            result = experiment.store.load(run_id)
        except Exception as exc:
            self.call_from_thread(self.notify, str(exc), title="cannot open run",
                                  severity="error", timeout=10)
            return
        self.call_from_thread(self.push_screen, RunScreen(experiment, stored=result))

    # -- debug, history, diff -----------------------------------------------------------
    def action_pick_debug(self, experiment: Any) -> None:
        def chosen(condition: str | None) -> None:
            if condition is not None:
                self.action_debug_condition(experiment, condition, 0)

        self.push_screen(PickConditionScreen(experiment), chosen)

    def action_debug_condition(self, experiment: Any, treatment: str, replicate: int, *,
                               run_id: str | None = None, overrides: dict[str, Any] | None = None,
                               seed: int | None = None) -> None:
        """Debug one replicate; of run ``run_id`` (its stored config and seed) when given."""
        self.push_screen(DebugScreen(experiment, treatment, replicate, run_id=run_id,
                                     overrides=overrides, seed=seed))

    def action_open_history(self, experiment: Any) -> None:
        self.push_screen(HistoryScreen(experiment))

    def action_open_diff(self, experiment: Any) -> None:
        self.push_screen(DiffScreen(experiment))

    # -- help, palette, quit, errors ----------------------------------------------------
    def _bindings_of(self, screen: Screen) -> list[Binding]:
        seen: dict[str, Binding] = {}
        for binding in [*screen.BINDINGS, *self.BINDINGS]:
            # Keys that do not apply where the user is (check_action False) are not offered.
            if (isinstance(binding, Binding) and binding.description
                    and screen.check_action(binding.action, ()) is not False):
                seen.setdefault(binding.action, binding)
        return list(seen.values())

    def action_help(self) -> None:
        screen = self.screen
        # A small terminal (80x24): a line per key, so that every key and Close stay in sight;
        # the palette (ctrl+p) still gives each key's whole tooltip.
        brief = self.size.width < HELP_TOOLTIPS_FROM[0] or self.size.height < HELP_TOOLTIPS_FROM[1]
        titles = getattr(screen, "PALETTE_TITLES", {})  # whole names where the footer's are short
        rows = [(b.key_display or b.key, titles.get(b.action, b.description) if brief
                 else b.description + (f" — {b.tooltip}" if b.tooltip else ""))
                for b in self._bindings_of(screen)]
        rows.append(("ctrl+p", "Command palette"))
        self.push_screen(HelpScreen(rows))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self._bindings_of(screen):
            if binding.action in ("quit", "help"):
                continue
            target = screen if binding in screen.BINDINGS else self
            # The footer's word may be short ("Confirm"); the palette is searched by its
            # title, so a screen may give the whole name ("Confirm on fresh seeds").
            title = getattr(screen, "PALETTE_TITLES", {}).get(binding.action, binding.description)
            yield SystemCommand(
                title, binding.tooltip or f"key: {binding.key_display or binding.key}",
                lambda t=target, a=binding.action: t.run_action(a),
            )
        yield SystemCommand("Help", "Every key of this screen", self.action_help)

    async def action_quit(self) -> None:
        live = [s for s in self.run_screens if s.running]
        if not live:
            self._stop_watchers()
            self.exit(0)
            return

        def answer(choice: str | None) -> None:
            if choice == "leave":  # the run processes go on; home shows them live next time
                self._quit_now()
            elif choice == "cancel":  # quit once every one has stopped (finished ones kept)
                for screen in live:
                    if not screen.cancelling:
                        screen.action_cancel_run()
                self.notify("cancelling: the app quits once the run(s) stopped", timeout=5)
                self.set_interval(0.1, lambda: None if any(s.running for s in live)
                                  else self._quit_now())

        # A chain's consumer waits for its producer: named after it ("chain_data, then
        # chain_summary"), not as if it ran already.
        waiting = {id(s.upstream_for) for s in live if s.upstream_for is not None}
        names = ", ".join(
            f"{s.experiment.name}, then {s.upstream_for.experiment.name}" if s.upstream_for is not None
            else s.experiment.name for s in live if id(s) not in waiting)
        self.push_screen(QuitScreen(names), answer)

    def _quit_now(self) -> None:
        self._stop_watchers()
        self.exit(0)

    def _stop_watchers(self) -> None:
        self._stop_watching.set()

    def on_unmount(self) -> None:
        self._stop_watchers()  # however the app ends, the watcher thread must end too
        for screen in self.run_screens:  # their runs go on; the threads reading them end
            screen.detach()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(f"{type(error).__name__}: {error}", title=f"{event.worker.name} failed",
                        severity="error", timeout=10)


def _import_statistics() -> None:
    try:
        import crystallize_tui.stats  # noqa: F401
    except Exception:  # noqa: S110 - the live statistics import it again and report the error
        pass


def freeze_imports() -> None:
    """Move what exists at the first app's start (modules, classes, functions: ~55,000
    objects, ~93,000 once scipy is in) out of the garbage collector's reach, once per process.

    A full collection scans every tracked object: with a run streaming short replicates it
    came every second or so and took 70-200 ms of the UI thread (bench/RESULTS.md, "Key
    latency with short replicates"), most of it rescanning imports that never die. Once:
    a later freeze would also pin live screens, and their runs with them."""
    if gc.get_freeze_count() == 0:
        gc.freeze()


def make_app(root: str | Path, store: str | Path | None = None, *, watch: bool = True) -> CrystallizeApp:
    """The app for the workspace at ``root`` (tests and benchmarks build it this way)."""
    from ..core.store import default_store_path

    root = Path(root).resolve()
    return CrystallizeApp(
        Workspace(root=root, store_path=Path(store) if store else default_store_path(root)),
        watch=watch,
    )


def run_app(workspace: Workspace) -> int:
    app = CrystallizeApp(workspace)
    app.run()
    return app.return_code or 0
