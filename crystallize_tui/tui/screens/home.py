"""The experiments screen: every experiment of the workspace, and the selected one's details."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static, Tree

from ...core.chain import describe_sources
from ...core.fingerprint import config_changes
from ..widgets.footer import KeyFooter

STORE_POLL_INTERVAL = 1.0  # how often the visible list checks the store for runs made elsewhere


def store_signature(store_path: Path) -> tuple[tuple[int, int] | None, ...]:
    """What changes when any process commits to the store: the database and its WAL file's
    modification time and size (a stat each; the store itself is not opened)."""
    signature = []
    for path in (store_path, store_path.with_name(store_path.name + "-wal")):
        try:
            stat = os.stat(path)
        except OSError:
            signature.append(None)
        else:
            signature.append((stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


class StoreChanged(Message):
    """The store file changed on disk (a run from the CLI or another window, or ours)."""


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return dt.datetime.fromtimestamp(timestamp).strftime("%m-%d %H:%M")


def _status_text(record: Any) -> Text:
    if record is None:
        return Text("never run", style="dim")
    style = {"completed": "green", "failed": "red", "cancelled": "yellow",
             "running": "cyan"}.get(record.status, "")
    if record.status == "running":
        # A live run from any process using the store (this window, the CLI, --detach):
        # its finished replicates out of all; home re-reads it whenever the store changes.
        return Text(f"running {record.ok + record.failed}/{record.total}", style=style)
    return Text(f"{record.status} {_when(record.started_at)}", style=style)


def describe_experiment(found: Any, record: Any) -> Group:
    """The details pane: description, baseline config, treatments and what they change."""
    exp = found.experiment
    parts: list[Any] = [Text(exp.name, style="bold"), Text(str(found.path), style="dim")]
    if exp.description:
        parts.append(Text(exp.description))
    parts.append(Text.assemble(("last run: ", "bold"), _status_text(record)))
    parts.append(Text.assemble(("replicates: ", "bold"), f"{exp.replicates}    ",
                               ("seed: ", "bold"), str(exp.seed)))
    try:
        configs = exp.resolve_configs()
    except Exception as exc:  # a datasource function that fails: show it, don't crash
        parts.append(Text(f"cannot resolve configs: {exc}", style="bold red"))
        return Group(*parts)
    for line in describe_sources(exp.datasource):  # a chained experiment (core/chain.py)
        parts.append(Text(line, style="cyan"))
    parts.append(Text("\nbaseline config", style="bold underline"))
    parts.append(Text(json.dumps(configs["baseline"], indent=2, default=repr)))
    if exp.treatments:
        table = Table("treatment", "changes against the baseline", box=None, pad_edge=False,
                      title=Text("treatments", style="bold underline"), title_justify="left")
        for t in exp.treatments:
            kind = "whole config swap; " if t.datasource is not None else ""
            changes = config_changes(configs["baseline"], configs[t.name]) or ["(identical)"]
            table.add_row(t.name, kind + "; ".join(changes))
        parts.append(Text(""))
        parts.append(table)
    if exp.hypotheses:
        parts.append(Text("\nhypotheses", style="bold underline"))
        for h in exp.hypotheses:
            parts.append(Text(f"  {h.describe()}"))
    if getattr(exp, "metric_bounds", None):  # what the anytime rows of these metrics assume
        parts.append(Text("\nmetric bounds", style="bold underline"))
        for metric, (low, high, method) in exp.metric_bounds.items():
            parts.append(Text(f"  {metric} in [{low:g}, {high:g}]"
                              + ("" if method == "bounded" else f" ({method})")))
    return Group(*parts)


class HomeScreen(Screen):
    """Browse experiments; launch, debug, history, diff from here."""

    # Below 100 columns the list and the details stack (app.tcss): side by side, the details
    # got 32 columns at 80 and wrapped every line.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    BINDINGS = [
        Binding("enter", "launch", "Launch…", tooltip="Choose replicates, treatments, seed, workers"),
        Binding("r", "run", "Run", tooltip="Run with the experiment's own settings"),
        Binding("d", "debug", "Debug", tooltip="One replicate of a condition, every event shown"),
        Binding("h", "history", "History"),
        Binding("D", "diff", "Diff"),
        Binding("a", "attach", "Attach",
                tooltip="Watch the experiment's live run, from whichever process runs it"),
        Binding("C", "confirm", "Confirm",
                tooltip="Run the declared hypotheses again on seeds no earlier run used, "
                        "locked first"),
    ]

    # Whole names in the command palette where the footer's word is short (80 columns).
    PALETTE_TITLES = {"confirm": "Confirm on fresh seeds"}

    def __init__(self) -> None:
        super().__init__()
        self.discovery: Any = None
        self.last_runs: dict[str, Any] = {}
        self._store_seen: tuple[Any, ...] | None = None
        self._pending: Any = None  # the node to select once the rebuilt tree is laid out

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="home-panes"):
            tree: Tree[Any] = Tree("experiments", id="experiments")
            tree.show_root = False
            yield tree
            with VerticalScroll(id="details-pane"):
                yield Static("loading experiments…", id="details")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Crystallize"
        self.sub_title = str(self.app.workspace.root)
        self.query_one("#experiments").border_title = "experiments"
        self.query_one("#details-pane").border_title = "details"
        self.set_interval(STORE_POLL_INTERVAL, self._poll_store)

    # -- runs made elsewhere --------------------------------------------------------
    def _poll_store(self) -> None:
        if self.app.screen is self:  # nobody reads "last run" while another screen is on top
            self.check_store()

    @work(thread=True, exclusive=True, group="home-store", exit_on_error=False)
    def check_store(self) -> None:
        """The "last run" column follows runs made from the CLI too: the file watcher sees only
        experiments/, so look at the store file itself (a stat, off the UI thread)."""
        seen = store_signature(self.app.workspace.store_path)
        before, self._store_seen = self._store_seen, seen
        if before is not None and seen != before:
            self.post_message(StoreChanged())

    @on(StoreChanged)
    def _store_changed(self) -> None:
        self.app.refresh_home()

    # -- content ------------------------------------------------------------------
    def show_experiments(self, discovery: Any, last_runs: dict[str, Any]) -> None:
        """Fill the tree, keeping the selected experiment selected."""
        if not self.query("#experiments"):
            return  # discovery finished while the app was shutting down
        tree: Tree[Any] = self.query_one("#experiments", Tree)
        # The yaml file is what stays the same when an experiment breaks or is fixed (its
        # name is unknown while it does not load).
        previous = self._selected_path()
        self._pending = None
        self.discovery, self.last_runs = discovery, last_runs
        tree.clear()
        groups: dict[str, Any] = {}
        select_line = None
        for found in discovery.experiments:
            parent = tree.root
            if found.folder:
                if found.folder not in groups:
                    groups[found.folder] = tree.root.add(found.folder, expand=True)
                parent = groups[found.folder]
            label = Text.assemble((found.name, "bold"), "  ", _status_text(last_runs.get(found.name)))
            node = parent.add_leaf(label, data=("experiment", found))
            if previous == found.path:
                select_line = node
        if discovery.errors:
            broken = tree.root.add(Text.assemble((f"failed to load ({len(discovery.errors)})", "bold red")),
                                   expand=True)
            for error in discovery.errors:
                node = broken.add_leaf(Text.assemble((error.path.parent.name, "red")),
                                       data=("error", error))
                if previous == error.path:
                    select_line = node
        if not discovery.experiments and not discovery.errors:
            self.query_one("#details", Static).update(Text(
                f"No experiments under {self.app.workspace.root / 'experiments'}.\n\n"
                "Create experiments/<name>/experiment.yaml (see the README); this list "
                "updates by itself.", style="yellow"))
            return
        tree.root.expand_all()
        target = select_line
        if target is None:
            target = next((n for n in _leaves(tree.root)), None)
        if target is not None:
            # The tree lays out its new lines on the next refresh; move the cursor then.
            # Until then the chosen node is the selection (a second reload in between
            # must not read the cleared tree's cursor and lose it).
            self._pending = target
            tree.call_after_refresh(self._place_cursor, target)
            self._show(target.data)

    def _place_cursor(self, target: Any) -> None:
        if self._pending is target:
            self.query_one("#experiments", Tree).move_cursor(target)
            self._pending = None

    def selected_key(self) -> tuple[str, str] | None:
        data = self._selected_data()
        if data is None:
            return None
        kind, item = data
        return (kind, item.name) if kind == "experiment" else (kind, str(item.path))

    def _selected_path(self) -> Path | None:
        data = self._selected_data()
        return data[1].path if data is not None else None

    def _selected_data(self) -> Any:
        if self._pending is not None:
            return self._pending.data
        tree = self.query_one("#experiments", Tree)
        node = tree.cursor_node
        return node.data if node is not None else None

    def selected_experiment(self) -> Any:
        data = self._selected_data()
        if data is None or data[0] != "experiment":
            if data is not None:
                self.app.notify("this experiment failed to load; fix the file shown", severity="warning")
            return None
        return data[1].experiment

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        if event.node.data is not None:
            self._show(event.node.data)

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected) -> None:
        if event.node.data is not None and event.node.data[0] == "experiment":
            self.action_launch()

    def _show(self, data: Any) -> None:
        self.refresh_bindings()  # "a: Attach" follows the selection's live run
        kind, item = data
        details = self.query_one("#details", Static)
        if kind == "error":
            details.update(Group(Text("This experiment failed to load", style="bold red"),
                                 Text(str(item.path), style="dim"), Text(""), Text(item.message)))
        else:
            details.update(describe_experiment(item, self.last_runs.get(item.name)))

    # -- actions ------------------------------------------------------------------
    def action_launch(self) -> None:
        exp = self.selected_experiment()
        if exp is not None:
            self.app.action_launch(exp)

    def action_run(self) -> None:
        exp = self.selected_experiment()
        if exp is not None:
            self.app.start_run(exp, {})

    def action_debug(self) -> None:
        exp = self.selected_experiment()
        if exp is not None:
            self.app.action_pick_debug(exp)

    def action_history(self) -> None:
        exp = self.selected_experiment()
        if exp is not None:
            self.app.action_open_history(exp)

    def action_diff(self) -> None:
        exp = self.selected_experiment()
        if exp is not None:
            self.app.action_open_diff(exp)

    def action_confirm(self) -> None:
        """The confirm dialog (core/confirm.py says why an experiment cannot be confirmed)."""
        from ...core.confirm import check_confirmable
        from ...core.errors import ConfigError
        from .confirming import ConfirmRunScreen

        exp = self.selected_experiment()
        if exp is None:
            return
        try:
            check_confirmable(exp, {})
        except ConfigError as exc:
            self.app.notify(str(exc), title="cannot confirm", severity="warning", timeout=10)
            return

        def confirmed(choices: dict[str, Any] | None) -> None:
            if choices is not None:
                self.app.start_run(exp, choices)

        self.app.push_screen(ConfirmRunScreen(exp), confirmed)

    def _live_record(self) -> Any:
        """The selected experiment's last run when it is running (in any process)."""
        data = self._selected_data()
        if data is None or data[0] != "experiment":
            return None
        record = self.last_runs.get(data[1].name)
        return record if record is not None and record.status == "running" else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "attach":  # shown only on an experiment with a live run
            return self._live_record() is not None
        return True

    def action_attach(self) -> None:
        exp = self.selected_experiment()
        if exp is None:
            return
        record = self.last_runs.get(exp.name)
        if record is None or record.status != "running":
            self.app.notify(f"{exp.name} has no live run", timeout=3)
            return
        self.app.open_stored_run(exp, record.run_id)


def _leaves(node: Any) -> Any:
    for child in node.children:
        if child.data is not None:
            yield child
        yield from _leaves(child)
