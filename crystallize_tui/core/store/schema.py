"""The store's schema, its version, and the forward migrations from the first release on."""

from __future__ import annotations

import sqlite3

APP_ID = "crystallize"
SCHEMA_VERSION = 6

# MIGRATIONS[v] takes a store from version v-1 to v. Never edit a released entry: add one.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        """CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            experiment TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at REAL NOT NULL,
            finished_at REAL,
            base_seed INTEGER NOT NULL,
            replicates INTEGER NOT NULL,
            conditions TEXT NOT NULL,
            configs TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            fingerprint_parts TEXT NOT NULL,
            versions TEXT NOT NULL,
            git_commit TEXT,
            resumes INTEGER NOT NULL DEFAULT 0,
            events_dropped INTEGER NOT NULL DEFAULT 0,
            hypotheses TEXT NOT NULL DEFAULT '[]',
            host TEXT,
            pid INTEGER,
            note TEXT
        )""",
        "CREATE INDEX runs_by_experiment ON runs (experiment, started_at)",
        """CREATE TABLE replicates (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            condition TEXT NOT NULL,
            replicate INTEGER NOT NULL,
            seed INTEGER NOT NULL,
            status TEXT NOT NULL,
            duration REAL NOT NULL,
            error TEXT,
            traceback TEXT,
            finished_at REAL NOT NULL,
            PRIMARY KEY (run_id, condition, replicate)
        ) WITHOUT ROWID""",
        # value has no declared type so SQLite keeps ints as ints and floats as floats;
        # kind restores bools and NaN (which SQLite would turn into NULL).
        """CREATE TABLE metrics (
            run_id TEXT NOT NULL,
            condition TEXT NOT NULL,
            replicate INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            name TEXT NOT NULL,
            value,
            kind TEXT NOT NULL,
            PRIMARY KEY (run_id, condition, replicate, seq)
        ) WITHOUT ROWID""",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            condition TEXT,
            replicate INTEGER,
            time REAL NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL
        )""",
        "CREATE INDEX events_by_run ON events (run_id, id)",
        """CREATE TABLE artifacts (
            run_id TEXT NOT NULL,
            condition TEXT NOT NULL,
            replicate INTEGER NOT NULL,
            name TEXT NOT NULL,
            path TEXT NOT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            PRIMARY KEY (run_id, condition, replicate, name)
        ) WITHOUT ROWID""",
    ],
    # A watcher in another process (`crystallize cancel`) asks the run's process to stop:
    # the time of the request; the run process polls it (only the run process writes a run
    # otherwise).
    2: [
        "ALTER TABLE runs ADD COLUMN cancel_requested REAL",
    ],
    # Confirm on fresh seeds (core/confirm.py): a run is "exploratory" (every run before)
    # or "confirmatory"; the seed stream its replicates' seeds come from (0: the ordinary
    # one); a confirmatory run's lock, the fingerprint of its configs, code and hypotheses
    # taken before its first replicate.
    3: [
        "ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'exploratory'",
        "ALTER TABLE runs ADD COLUMN seed_stream INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE runs ADD COLUMN lock_fingerprint TEXT",
    ],
    # A run with a stop rule (core/stopping.py): JSON of the rule, the reason it ended, the
    # stopping replicate and the anytime-valid rows there; NULL for a run without one.
    4: [
        "ALTER TABLE runs ADD COLUMN stop TEXT",
    ],
    # Chained experiments (core/chain.py): the producer runs a run read its datasource from
    # (lineage), with the producer run's fingerprint then and which condition each read.
    5: [
        """CREATE TABLE lineage (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            upstream_run TEXT NOT NULL,
            upstream_experiment TEXT NOT NULL,
            upstream_fingerprint TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (run_id, upstream_run)
        ) WITHOUT ROWID""",
        "CREATE INDEX lineage_by_upstream ON lineage (upstream_run)",
    ],
    # Bounds declared for metrics by the experiment (``metric_bounds``), with or without a
    # hypothesis: JSON metric -> {"bounds": [low, high], "anytime": method}; NULL: none. A
    # column of its own: ``hypotheses`` is a list of hypothesis records (a confirmatory lock
    # fingerprints it) and ``stop`` is NULL for a run without a stop rule.
    6: [
        "ALTER TABLE runs ADD COLUMN metric_bounds TEXT",
    ],
}


def tables(conn: sqlite3.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]


def stored_version(conn: sqlite3.Connection) -> int | None:
    """The schema version of a Crystallize store; None for an empty database.

    Raises ValueError (with what was found) when the database is something else.
    """
    found = tables(conn)
    if not found:
        return None
    if "meta" not in found:
        raise ValueError(f"it is a SQLite database of something else (tables: {', '.join(found)})")
    rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if rows.get("app") != APP_ID:
        raise ValueError(f"it is a SQLite database of something else (tables: {', '.join(found)})")
    return int(rows.get("schema_version", "0"))


def migrate(conn: sqlite3.Connection, current: int | None) -> None:
    """Bring the schema to SCHEMA_VERSION, one migration per transaction."""
    start = 0 if current is None else current
    for version in range(start + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            now = stored_version(conn)
            if now is not None and now >= version:
                conn.execute("COMMIT")
                continue
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('app', ?)", (APP_ID,))
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(version),)
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
