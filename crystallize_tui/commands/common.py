"""What every subcommand shares: the workspace, the store, finding experiments, exit codes."""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError, StoreError
from ..core.store import Store, default_store_path, workspace_root

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass
class Workspace:
    """The folder holding ``experiments/`` and the store runs go to."""

    root: Path
    store_path: Path
    _store: Store | None = None

    @classmethod
    def from_args(cls, args: Any) -> Workspace:
        root = Path(args.root).resolve() if args.root else workspace_root()
        if args.root and not root.is_dir():
            raise ConfigError(f"--root {args.root}: no such folder")
        store = Path(args.store) if args.store else default_store_path(root)
        return cls(root=root, store_path=store)

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.store_path)
        return self._store

    def store_holding(self, run_id: str) -> Store:
        """The store, checked whole, to read all of ``run_id`` from: a missing file is not
        created (a mistyped --store leaves nothing behind), a damaged one is refused rather
        than read short."""
        if not self.store_path.exists():
            raise StoreError(f"store {self.store_path}: no run {run_id!r}: there is no such "
                             "file, no run was recorded there")
        self.store.verify()
        return self.store

    def discover(self) -> Any:
        from ..core.folders import discover

        return discover(self.root)

    def experiment(self, name: str, with_store: bool = True) -> Any:
        """The experiment called ``name``, with this workspace's store (opened, so created
        when missing) unless ``with_store`` is False."""
        found = self.discover()
        match = found.get(name)
        if match is not None:
            if with_store:
                match.experiment.store = self.store
            return match.experiment
        for error in found.errors:
            if Path(error.path).parent.name == name or f"'{name}'" in error.message:
                raise ConfigError(error.message)
        _refuse_legacy(self.root / name)
        names = sorted(f.name for f in found.experiments)
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else (
            f"; found: {', '.join(names)}" if names else "")
        raise ConfigError(f"no experiment named {name!r} under {self.root / 'experiments'}{hint}")


def _refuse_legacy(folder: Path) -> None:
    """A crystallize-ml folder named like the experiment asked for, outside experiments/:
    say how to convert it rather than "no experiment named"."""
    from ..core.ml_import import is_legacy_folder

    if is_legacy_folder(folder):
        shown = os.path.relpath(folder) if folder.is_relative_to(Path.cwd()) else str(folder)
        raise ConfigError(f"{shown} is a crystallize-ml experiment (config.yaml); convert it with "
                          f"`crystallize import {shown}` and move it to experiments/{folder.name}/")


def is_tty() -> bool:
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def console(stderr: bool = False) -> Any:
    """A rich console. On a terminal it fits the terminal; into a pipe or file it is the
    plain layout: no colour, no line ever wrapped (a table takes its natural width, so a
    value is never split across lines) and no trailing padding."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, highlight=False, soft_wrap=False)
    return Console(file=_Unpadded(stream), width=PLAIN_WIDTH, color_system=None, highlight=False,
                   soft_wrap=False, legacy_windows=False)


PLAIN_WIDTH = 100_000  # "unlimited": rich wraps at the console width


class _Unpadded:
    """A file that drops the spaces rich pads table lines with up to the table's width."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(_TRAILING.sub("\n", text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False


_TRAILING = re.compile(r"[ \t]+\n")


def command_words(args: Any, command: str, *flags: tuple[str, Any]) -> list[str]:
    """``[--root R] [--store S] COMMAND NAME`` and each ``(flag, value)`` whose value is
    set: how a detached process is started with the arguments this command was given."""
    words: list[str] = []
    for flag, value in (("--root", args.root), ("--store", args.store)):
        if value:
            words += [flag, value]
    words += [command, args.name]
    for flag, value in flags:
        if value is not None:
            words += [flag, str(value)]
    return words
