"""The engine never imports textual: importing the package and a whole run stay TUI-free."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys
import crystallize_tui
assert "textual" not in sys.modules, "import crystallize_tui pulled in textual"
from crystallize_tui import Experiment, Treatment, ParallelExecution
def step(config, ctx):
    print("hi")
    ctx.emit("tick")
    ctx.metrics.add("x", 1)
exp = Experiment(pipeline=[step], replicates=2, treatments=[Treatment("t", {})])
exp.subscribe(lambda e: None)
exp.run(echo=False)
Experiment(pipeline=[step], replicates=2, plugins=[ParallelExecution(2, kind="thread")]).run(echo=False)
leaked = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
assert not leaked, leaked
print("clean")
"""


def test_import_and_headless_run_do_not_import_textual():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("clean")


def test_core_sources_never_mention_the_tui():
    core = ROOT / "crystallize_tui" / "core"
    for path in core.rglob("*.py"):
        text = path.read_text()
        assert "import textual" not in text and "from textual" not in text, path
        assert "crystallize_tui.tui" not in text and "from ..tui" not in text, path


def test_the_watch_layer_never_imports_textual_or_rich():
    """watch/ is shared by the TUI, the CLI and any future view: plain strings only."""
    for path in (ROOT / "crystallize_tui" / "watch").rglob("*.py"):
        text = path.read_text()
        for banned in ("textual", "rich"):
            assert f"import {banned}" not in text and f"from {banned}" not in text, path
        assert "crystallize_tui.tui" not in text and "from ..tui" not in text, path
    script = ("import sys, crystallize_tui.watch.format, crystallize_tui.watch.progress, "
              "crystallize_tui.watch.live_stats, crystallize_tui.watch.footnotes, crystallize_tui.core.child, "
              "crystallize_tui.core.handle, crystallize_tui.core.backends.async_loop, "
              "crystallize_tui.core.resources; "
              "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')); "
              "assert not bad, bad; print('clean')")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_core_and_statistics_leave_terminal_rendering_to_the_edges():
    """Rich tables live in crystallize_tui.render; core/ and stats/ stay plain (DESIGN.md)."""
    for folder in ("core", "stats"):
        for path in (ROOT / "crystallize_tui" / folder).rglob("*.py"):
            text = path.read_text()
            for banned in ("textual", "rich"):
                assert f"import {banned}" not in text and f"from {banned}" not in text, path
    script = ("import sys, crystallize_tui.stats, crystallize_tui.core.compare, "
              "crystallize_tui.stats.cells; "
              "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')); "
              "assert not bad, bad; print('clean')")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_the_chart_engine_stays_plain():
    """charts/ (model, builders, canvas, SVG) is shared by the CLI, the TUI and files: no
    terminal library; colour is an index, the edges (render/, tui/) turn it into a style."""
    for path in (ROOT / "crystallize_tui" / "charts").rglob("*.py"):
        text = path.read_text()
        for banned in ("textual", "rich"):
            assert f"import {banned}" not in text and f"from {banned}" not in text, path
        assert "crystallize_tui.tui" not in text and "from ..tui" not in text, path
    script = ("import sys, crystallize_tui.charts.model, crystallize_tui.charts.data, "
              "crystallize_tui.charts.canvas, crystallize_tui.charts.svg, crystallize_tui.charts.runs, "
              "crystallize_tui.render.palette; "
              "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')); "
              "assert not bad, bad; print('clean')")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
