"""Drive the real TUI over a demo workspace and save SVG screenshots of its main screens."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BUNDLED_EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
DEFAULT_SIZE = (160, 48)
SHOTS = ("home.svg", "home-live.svg", "run-live.svg", "run-final.svg", "debug-failure.svg", "history.svg", "diff.svg",
         "charts-regularisation.svg", "charts-social.svg", "history-chart.svg")
# The bundled examples whose charts are shot: the loss curves, and the game's win rates.
CHART_EXAMPLES = ("ml_regularisation", "social_deception")

# The experiment whose treatment fails on purpose, for the debug screenshot. The error is
# raised in the user's own frame (no list comprehension frame) so its code fits the pane.
FAILING_NAME = "data_cleaning"
FAILING_TREATMENT = "strict_parse"
FAILING_YAML = """\
# Fails on purpose: strict_parse does not skip the malformed row every export has.
name: data_cleaning
description: Does dropping outliers move the mean? (strict_parse fails on purpose)
pipeline: [clean:load_rows, clean:summarise]
datasource: {rows: 40, outlier_cut: 3.0, strict: false}
replicates: 4
seed: 7
treatments:
  drop_outliers: {outlier_cut: 1.5}
  strict_parse: {strict: true}
"""
FAILING_MODULE = '''\
"""Load rows of a noisy export and summarise them; one row is malformed."""


def load_rows(config, ctx):
    rows = [f"{ctx.rng.gauss(10.0, 2.0):.2f}" for _ in range(config["rows"])]
    rows[17] = "n/a"  # the malformed row
    print(f"loaded {len(rows)} rows")
    return rows


def summarise(rows, ctx):
    config = ctx.config
    values = []
    for row in rows:
        if row == "n/a" and not config["strict"]:
            continue
        values.append(float(row))
    mean = sum(values) / len(values)
    kept = [v for v in values if abs(v - mean) <= config["outlier_cut"] * 2.0]
    ctx.metrics.add("mean", sum(kept) / len(kept))
    print(f"kept {len(kept)} of {len(rows)} rows")
'''

# Used when the bundled experiments/ folder is not there (an installed package).
FALLBACK_YAML = """\
name: coin_bias
description: Does a weighted coin land heads more often?
pipeline: [coin:toss]
datasource: {p_heads: 0.5, tosses: 20, delay: 0}
replicates: 12
seed: 3
treatments:
  weighted: {p_heads: 0.65}
hypotheses:
  - {metric: heads, direction: greater}
"""
FALLBACK_MODULE = '''\
"""Toss a coin a few times and count heads."""

import time


def toss(config, ctx):
    time.sleep(config["delay"])  # seconds per replicate, to watch a run live
    heads = sum(ctx.rng.random() < config["p_heads"] for _ in range(config["tosses"]))
    print(f"{heads} heads in {config['tosses']} tosses")
    ctx.metrics.add("heads", heads / config["tosses"])
'''


def build_workspace(root: Path) -> Path:
    """A workspace at ``root``: the bundled experiments (or a small generated one) plus
    the failing one. Returns ``root``."""
    experiments = root / "experiments"
    if BUNDLED_EXPERIMENTS.is_dir():
        shutil.copytree(BUNDLED_EXPERIMENTS, experiments,
                        ignore=shutil.ignore_patterns("__pycache__", ".crystallize", "artifacts"))
    else:
        _write_experiment(experiments / "coin_bias", FALLBACK_YAML, "coin.py", FALLBACK_MODULE)
    _write_experiment(experiments / FAILING_NAME, FAILING_YAML, "clean.py", FAILING_MODULE)
    return root


def _write_experiment(folder: Path, yaml_text: str, module: str, source: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "experiment.yaml").write_text(yaml_text)
    (folder / module).write_text(source)


async def wait_until(pilot: Any, condition: Callable[[], Any], what: str,
                     timeout: float = 20.0) -> Any:
    """Let the app work until ``condition()`` is truthy; fail naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"screenshots: gave up waiting for {what} after {timeout:.0f}s")
        await pilot.pause(0.05)


async def settle(pilot: Any) -> None:
    """Every worker done, every message they posted handled, every table sized."""
    from textual.widgets import DataTable
    from textual.worker import WorkerCancelled

    for _ in range(50):  # bounded: a cancelled worker the manager still lists ends it too
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            # An exclusive worker replaced by a newer one (the experiments loaded again):
            # it is over; wait for the rest and for the one that replaced it.
            await pilot.pause()
    await pilot.pause()
    # A DataTable sizes its columns to new rows only when it next goes idle: prompt every
    # table so a shot never shows fresh rows in columns still as wide as their headers.
    for table in pilot.app.screen.query(DataTable):
        table.check_idle()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    # A following log scrolls to its end once its new lines are measured, which may be a
    # refresh after the last write: settle it there so a shot never catches it mid-way.
    from textual.widgets import Log

    for log in pilot.app.screen.query(Log):
        if log.auto_scroll:
            log.scroll_end(animate=False, immediate=True)
    await pilot.pause()


def experiment_named(app: Any, name: str) -> Any:
    return next(f.experiment for f in app.discovery.experiments if f.name == name)


def select_experiment(app: Any, name: str) -> None:
    """Move the home screen's tree cursor to ``name`` (which shows its details)."""
    from textual.widgets import Tree

    from .screens.home import HomeScreen

    home = next(s for s in app.screen_stack if isinstance(s, HomeScreen))
    tree = home.query_one("#experiments", Tree)
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        data = node.data if node is not None else None
        if data is not None and data[0] == "experiment" and data[1].name == name:
            tree.move_cursor(node)
            tree.focus()
            return
    raise LookupError(f"screenshots: no experiment {name!r} in the home tree")


def start_run(app: Any, experiment: Any, options: dict[str, Any]) -> Any:
    """Like app.start_run, but passing any Experiment.run options (a fixed run_id, say)
    and returning the run screen."""
    from .screens.run import RunScreen

    screen = RunScreen(experiment, options=options)
    app.run_screens = [s for s in app.run_screens if s.running] + [screen]
    app.push_screen(screen)
    return screen


def _pick_demo(app: Any) -> tuple[str, dict[str, Any]]:
    """The demo experiment (it prints output, so no panel stays empty) and the override
    that slows it down enough to be caught mid-run."""
    names = {f.name for f in app.discovery.experiments}
    if "social_deception" in names:
        return "social_deception", {"turn_delay": 0.2}
    return "coin_bias", {"delay": 0.15}


async def _shoot(app: Any, pilot: Any, out_dir: Path) -> list[Path]:
    saved: list[Path] = []

    def save(name: str) -> None:
        saved.append(Path(app.save_screenshot(name, str(out_dir))))

    await wait_until(pilot, lambda: app.discovery is not None, "the experiments to load")
    await settle(pilot)
    demo_name, slow_down = _pick_demo(app)

    # A slowed-down game so the shot catches it part way, output still streaming; a few
    # replicates per condition first, so the live statistics have numbers to show.
    live = experiment_named(app, demo_name)
    wanted = min(3 * len(live.conditions), live.replicates * len(live.conditions) - 1)
    screen = start_run(app, live, {"overrides": slow_down})
    await wait_until(pilot, lambda: screen.started is not None, "the live run to start")
    # Live statistics refresh at most once a second: shoot once they have caught up with
    # every replicate the progress table counts, so the two panes agree.
    seen = {"count": -1, "at": 0.0}

    def caught_up() -> bool:
        count = screen.query_one("#progress").finished_count
        if count != seen["count"]:
            seen.update(count=count, at=time.monotonic())
        return count >= wanted and screen.query_one("#stats").updated_at > seen["at"]

    await wait_until(pilot, caught_up, "the live run to get part way, statistics caught up")
    save("run-live.svg")
    screen.action_cancel_run()
    await settle(pilot)
    await wait_until(pilot, lambda: not screen.running, "the live run to stop")
    app.pop_screen()

    # Two full-speed runs (different seeds) for the final statistics and the history.
    final = experiment_named(app, demo_name)
    for seed in (final.seed + 1, final.seed):
        screen = start_run(app, final, {"seed": seed, "replicates": 20})
        await settle(pilot)
        await wait_until(pilot, lambda screen=screen: not screen.running,
                         f"the {demo_name} run to finish")
        await settle(pilot)
        if seed == final.seed:
            save("run-final.svg")
            if demo_name in CHART_EXAMPLES:
                await _show_charts(pilot, screen)
                save("charts-social.svg")
        app.pop_screen()

    failing = experiment_named(app, FAILING_NAME)
    app.action_debug_condition(failing, FAILING_TREATMENT, 0)
    await settle(pilot)
    await wait_until(pilot, lambda: app.screen.error is not None, "the debugged replicate to fail")
    await settle(pilot)
    # The pane is shorter than the traceback: show its end, the failing line and the error.
    app.screen.query_one("#traceback-pane").scroll_end(animate=False, immediate=True)
    await settle(pilot)
    save("debug-failure.svg")
    app.pop_screen()

    app.action_open_history(final)
    await settle(pilot)
    save("history.svg")
    if demo_name in CHART_EXAMPLES:
        await _shoot_history_chart(app, pilot, save)
    app.pop_screen()

    if "ml_regularisation" in {f.name for f in app.discovery.experiments}:
        screen = start_run(app, experiment_named(app, "ml_regularisation"), {})
        await wait_until(pilot, lambda: screen.result is not None, "the regularisation run", 60)
        await _show_charts(pilot, screen)
        save("charts-regularisation.svg")
        app.pop_screen()

    app.action_open_diff(final)
    await settle(pilot)
    conditions = final.conditions
    if len(conditions) > 2:  # the bundled demo's last treatment swaps the whole config
        from textual.widgets import Select

        app.screen.query_one("#side-b", Select).value = conditions[-1]
        await settle(pilot)
    save("diff.svg")
    app.pop_screen()

    select_experiment(app, demo_name)
    await settle(pilot)
    save("home.svg")

    await _shoot_home_live(app, pilot, demo_name, slow_down, save)
    return saved


async def _show_charts(pilot: Any, screen: Any) -> None:
    """The run screen's charts view (g), built and on screen."""
    from .widgets.chart_pane import ChartsPane

    screen.show_charts(True)
    pane = screen.query_one("#charts", ChartsPane)
    await wait_until(pilot, lambda: pane.pair is not None and pane.builds > 0, "the charts")
    await settle(pilot)


async def _shoot_history_chart(app: Any, pilot: Any, save: Callable[[str], None]) -> None:
    """History's chart (g): the hypothesis metric's mean and CI across the runs."""
    from .screens.charts_history import ChartScreen
    from .widgets.chart import ChartView

    await pilot.press("g")
    await wait_until(pilot, lambda: isinstance(app.screen, ChartScreen)
                     and app.screen.query_one("#chart", ChartView).drawing is not None,
                     "the history chart")
    await settle(pilot)
    save("history-chart.svg")
    app.pop_screen()


async def _shoot_home_live(app: Any, pilot: Any, name: str, slow_down: dict[str, Any],
                           save: Callable[[str], None]) -> None:
    """Home while a run started by ``crystallize run --detach`` in another process goes on."""
    import subprocess

    from .screens.home import HomeScreen

    root = app.workspace.root
    words = [sys.executable, "-m", "crystallize_tui.cli", "--root", str(root), "--store",
             str(app.workspace.store_path), "run", name, "--detach", "--replicates", "40"]
    for key, value in slow_down.items():
        words += ["--set", f"{key}={value}"]
    started = subprocess.run(words, capture_output=True, text=True, cwd=root, timeout=60)
    if started.returncode != 0:
        raise RuntimeError(f"screenshots: could not start a detached run: {started.stderr}")
    run_id = started.stdout.strip()
    try:
        home = next(s for s in app.screen_stack if isinstance(s, HomeScreen))

        def live_on_home() -> bool:
            record = home.last_runs.get(name)
            return (record is not None and record.run_id == run_id
                    and record.status == "running" and record.ok >= 2)
        # Home polls the store once a second, off the UI thread.
        await wait_until(pilot, live_on_home, "home to list the detached run as live", 60)
        select_experiment(app, name)
        await settle(pilot)
        save("home-live.svg")
    finally:
        subprocess.run([*words[:7], "cancel", run_id], capture_output=True, cwd=root, timeout=60)


async def _export(out_dir: Path, size: tuple[int, int]) -> list[Path]:
    from .app import make_app

    with tempfile.TemporaryDirectory(prefix="crystallize-demo-") as tmp:
        root = build_workspace(Path(tmp) / "workspace")
        app = make_app(root, root / ".crystallize" / "crystallize.db", watch=False)
        async with app.run_test(size=size) as pilot:
            saved = await _shoot(app, pilot, out_dir)
        app.workspace.store.close()
    order = {name: i for i, name in enumerate(SHOTS)}
    return sorted(saved, key=lambda p: order.get(p.name, len(order)))


def export_screenshots(out_dir: Path, *, size: tuple[int, int] = DEFAULT_SIZE) -> list[Path]:
    """Write home, run-live, run-final, debug-failure, history and diff SVGs, and the charts
    of the bundled examples when they are there, to ``out_dir`` (created if missing);
    returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_export(out_dir, size))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0]) if args else Path.cwd() / "screenshots"
    for path in export_screenshots(out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
