"""Quitting the UI right after start does not wait for an import of scipy."""

import subprocess
import sys
import textwrap

# The UI in a fresh process whose import of the statistics (scipy) never finishes: the app
# is quit as soon as it shows its experiments, and the process must end regardless.
SCRIPT = textwrap.dedent('''
    import asyncio, importlib.machinery, sys, threading
    from pathlib import Path

    entered = threading.Event()

    class Stuck(importlib.machinery.SourceFileLoader):
        def exec_module(self, module):
            entered.set()
            threading.Event().wait()  # a disk that never answers

    class SlowStatistics:
        """Importing crystallize_tui.stats blocks (its module lock only, as a slow import does)."""
        def find_spec(self, name, path=None, target=None):
            if name != "crystallize_tui.stats":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            spec.loader = Stuck(name, spec.origin)
            return spec

    import importlib.util
    sys.meta_path.insert(0, SlowStatistics())
    from crystallize_tui.tui.app import make_app
    from crystallize_tui.tui.screens.home import HomeScreen

    async def main():
        root = Path(sys.argv[1])
        app = make_app(root, root / ".crystallize" / "crystallize.db", watch=False)
        async with app.run_test(size=(80, 24)) as pilot:
            while not (isinstance(app.screen, HomeScreen) and app.screen.discovery is not None):
                await pilot.pause(0.01)
            await pilot.pause(0.3)
            if len(sys.argv) > 2:  # as when a run starts: the import is under way at quit
                app.preload_statistics()
                while not entered.is_set():
                    await pilot.pause(0.01)
            await pilot.press("q")
        print("quit", flush=True)

    asyncio.run(main())
''')


def quit_ui(root, *extra: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([sys.executable, "-c", SCRIPT, str(root), *extra],
                              capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError("the UI did not quit while scipy was being imported") from exc


def test_quit_right_after_start_does_not_wait_for_the_statistics_import(tmp_path):
    (tmp_path / "experiments").mkdir()
    done = quit_ui(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "quit"


def test_quit_while_the_statistics_are_being_imported_does_not_wait_for_them(tmp_path):
    (tmp_path / "experiments").mkdir()
    done = quit_ui(tmp_path, "preload")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "quit"
