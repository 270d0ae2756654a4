"""Worker processes start whatever the host program put in sys.stderr (a terminal UI
replaces it with a stream whose fileno() is -1)."""

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent('''
    import io, sys
    sys.path.insert(0, sys.argv[1])
    from steps import coin_game
    from crystallize_tui import Experiment, ParallelExecution

    class NoFdStream(io.StringIO):
        """As Textual's replacement for sys.stderr: writable, with fileno() -1."""
        def fileno(self):
            return -1

    if __name__ == "__main__":
        experiment = Experiment(datasource={"p": 0.5}, pipeline=[coin_game], replicates=4,
                                store=None,
                                plugins=[ParallelExecution(max_workers=2, start_method="spawn")])
        sys.stderr = NoFdStream()
        try:
            result = experiment.run(echo=False)
        finally:
            sys.stderr = sys.__stderr__  # so that a traceback reaches the test
        print(result.status, len(result.replicate_results))
''')


def test_process_workers_start_when_sys_stderr_has_no_file_descriptor(tmp_path):
    script = tmp_path / "host.py"  # a file, so that spawned workers can import __main__
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(Path(__file__).parent)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["completed", "4"]
