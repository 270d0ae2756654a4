"""Looking at a store file without writing to it: permissions, read-only access, damage, identity."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

BUSY_TIMEOUT_S = 30.0


def _mode(path: Path) -> str:
    return stat.filemode(path.stat().st_mode)


def read_problem(path: Path) -> str | None:
    """Why this process cannot read the existing file at ``path`` (None if it can)."""
    if os.access(path, os.R_OK):
        return None
    return f"permission denied: you cannot read the file (mode {_mode(path)}, owner uid {path.stat().st_uid})"


def write_problem(path: Path) -> str | None:
    """Why this process cannot write the store at ``path`` (None if it can).

    SQLite writes beside the file (its -wal and -shm files), so the folder must be
    writable as well as the file; a folder not made yet counts as its nearest parent.
    """
    if path.exists() and not os.access(path, os.W_OK):
        return f"no permission to write the file (mode {_mode(path)})"
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():  # e.g. CRYSTALLIZE_HOME or --store naming a file as its folder
        return f"{folder} is a file, not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (f"no permission to write in the folder {folder} (mode {_mode(folder)}), "
                "where SQLite keeps its journal files")
    return None


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write the file, even where SQLite cannot write beside it."""
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                           isolation_level=None, check_same_thread=False)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            # A pending log must be read through SQLite's shared memory: no shortcut.
            raise sqlite3.OperationalError(
                f"its log {wal.name} holds changes not yet in the file, and reading them "
                "needs write access beside it (a run may be in progress)"
            ) from None
    # A WAL-mode file in a folder we cannot write: SQLite cannot make its shared-memory
    # file there, but with no pending log the file alone is the whole database.
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None,
                           check_same_thread=False)


def damage(conn: sqlite3.Connection) -> str | None:
    """SQLite's first complaint about the file's structure (None when it is sound).

    ``quick_check`` reads every page but checks no index against its table, so it costs
    about one full read of the file (~0.3 s for 80 MB); it runs once before the first write.
    """
    rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    problems = [line for (text,) in rows for line in str(text).splitlines() if line != "ok"]
    problems = [p for p in problems if not p.startswith("***")]
    return problems[0] if problems else None


def is_damage(exc: sqlite3.DatabaseError) -> bool:
    """True when SQLite says the file's content is corrupt (not busy, not permissions)."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    return "malformed" in str(exc) or "not a database" in str(exc)


def identity(path: Path) -> tuple[int, int] | None:
    """The file's (device, inode): it changes when the file is deleted or replaced."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino
