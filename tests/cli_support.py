"""The real ``crystallize`` command in a subprocess, and the experiment folders it runs, for
the tests of the command line."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

COMMAND = (sys.executable, "-m", "crystallize_tui.cli")

# A step whose replicates 1 and 2 end the way a careless step might: SystemExit(5) and
# KeyboardInterrupt raised by the step itself (only that replicate may fail).
EXITS_STEP = '''
def exits(config, ctx):
    if ctx.replicate == 1:
        raise SystemExit(5)
    if ctx.replicate == 2:
        raise KeyboardInterrupt
    ctx.metrics.add("x", ctx.replicate)
'''


# A step whose baseline replicate 2 segfaults, calls os._exit(3) or hangs (not at a
# cancellation point) while the file named by the "marker" config key says so: without the
# marker, a resume finishes the run as an uninterrupted one would.
CRASHING_STEP = '''
import ctypes, os, pathlib, time

def play(config, ctx):
    ctx.metrics.add("score", ctx.rng.random() + config["p"])
    print(f"playing {ctx.treatment} #{ctx.replicate}")
    time.sleep(config.get("delay", 0))
    marker = pathlib.Path(config["marker"])
    if ctx.treatment == "baseline" and ctx.replicate == 2 and marker.exists():
        what = marker.read_text()
        if what == "segfault":
            ctypes.string_at(0)
        elif what == "exit":
            os._exit(3)
        elif what == "hang":
            while True:
                time.sleep(0.05)
'''

CRASHING_YAML = '''
pipeline: [game:play]
datasource: {{p: 0.3, marker: "{marker}", delay: {delay}}}
replicates: {replicates}
seed: 7
treatments:
  better: {{p: 0.5}}
'''


def crashing_experiment(folder: Path, marker: Path, replicates: int = 5,
                        delay: float = 0.0) -> None:
    """An experiment ("game" files in ``folder``) running CRASHING_STEP."""
    write(folder, {"game.py": CRASHING_STEP, "experiment.yaml": CRASHING_YAML.format(
        marker=marker, replicates=replicates, delay=delay)})


def cli_env(**extra: str) -> dict[str, str]:
    """This environment without CRYSTALLIZE_HOME, so the store is the workspace's own
    ``.crystallize/crystallize.db`` (or --store), plus ``extra``."""
    return {**{k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}, **extra}


def cli(root: Path, *args: str, timeout: float = 120, prefix: tuple[str, ...] = (),
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``crystallize ARGS`` in ``root`` to its end, output captured; ``prefix`` runs it under
    another command (setpriv), ``env`` adds variables. The timeout only turns a hang into a
    failure."""
    return subprocess.run([*prefix, *COMMAND, *args], cwd=root, env=cli_env(**(env or {})),
                          capture_output=True, text=True, timeout=timeout)


def start_cli(root: Path, *args: str, env: dict[str, str] | None = None,
              **popen: Any) -> subprocess.Popen[str]:
    """``crystallize ARGS`` started in ``root`` with stdout and stderr piped (unless
    ``popen`` says otherwise), for a test that signals it or reads it as it runs."""
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.Popen([*COMMAND, *args], cwd=root, env=cli_env(**(env or {})), text=True,
                            **options)


def write(folder: Path, files: dict[str, str]) -> None:
    """Create ``folder`` with these files (their text dedented)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))


def write_experiment(root: Path, name: str, yaml_text: str, modules: dict[str, str]) -> Path:
    """``root/experiments/NAME`` holding ``experiment.yaml`` and the step modules."""
    folder = root / "experiments" / name
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text(yaml_text)
    write(folder, modules)
    return folder


def stored_replicates(db: Path) -> int:
    """Replicates committed to the store file so far (0 before it exists)."""
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM replicates").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def interrupt_once_stored(root: Path, replicates: int, *args: str) -> tuple[int, str, str]:
    """``crystallize ARGS`` in ``root``, sent SIGINT (Ctrl-C) once ``replicates`` are in the
    workspace's store: its exit code, stdout and stderr."""
    proc = start_cli(root, *args)
    db = root / ".crystallize" / "crystallize.db"
    deadline = time.monotonic() + 60
    while stored_replicates(db) < replicates and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def damage_middle_page(db: Path) -> None:
    """Overwrite part of the middle page of a SQLite file (no journal left beside it): its
    schema stays readable, SQLite's quick_check does not pass."""
    with sqlite3.connect(db) as conn:
        page_size, pages = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_size", "page_count"))
    data = bytearray(db.read_bytes())
    middle = pages // 2 * page_size
    data[middle + 100 : middle + 400] = b"\xa5" * 300
    db.write_bytes(bytes(data))
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:  # the premise
        assert conn.execute("PRAGMA quick_check").fetchone() != ("ok",)


def on_a_terminal(root: Path, *words: str, columns: int = 200) -> str:
    """What ``crystallize WORDS`` shows on a terminal ``columns`` wide (a pseudo-terminal)."""
    import fcntl
    import pty
    import re
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in cli_env(TERM="xterm", NO_COLOR="1").items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([*COMMAND, *words], cwd=root, env=env, stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the command ended and closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=60) == 0
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode()).replace("\r", "")
