"""ArtifactPlugin: files a replicate saves, under a versioned folder per run."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from .. import events as ev
from ..context import StepContext
from ..errors import ConfigError
from .base import Plugin, RunInfo

_VERSION = re.compile(r"^v(\d+)$")
RUN_MARKER = ".run_id"  # names the run that wrote a version folder, so resume finds it


class ArtifactWriter:
    """``ctx.artifacts``: saves files into this replicate's folder."""

    def __init__(self, folder: Path, ctx: StepContext) -> None:
        self.folder = folder
        self._ctx = ctx

    def path(self, name: str) -> Path:
        """Where ``name`` would be written; refuses names that leave the folder."""
        if not isinstance(name, str) or not name or name.startswith(("/", "\\")) or ":" in name:
            raise ValueError(f"artifact name {name!r} must be a relative file name")
        target = (self.folder / name).resolve()
        if not target.is_relative_to(self.folder.resolve()) or target == self.folder.resolve():
            raise ValueError(f"artifact name {name!r} would be written outside {self.folder}")
        return target

    def save(self, name: str, data: Any) -> Path:
        """Write ``data`` as ``name``: bytes and str as they are, a ``Path`` is copied,
        anything else is written as JSON. Returns the written path."""
        target = self.path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, os.PathLike):
            shutil.copyfile(data, target)
        elif isinstance(data, bytes):
            target.write_bytes(data)
        elif isinstance(data, str):
            target.write_text(data, encoding="utf-8")
        else:
            try:
                target.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
            except (TypeError, ValueError) as exc:
                raise TypeError(f"artifact {name!r}: cannot write a {type(data).__name__}: {exc}") from exc
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        emit = self._ctx._emit
        if emit is not None:
            ctx = self._ctx
            emit(ev.ArtifactSaved(ctx.run_id, ctx.treatment, ctx.replicate, time.monotonic(),
                                  name, str(target), target.stat().st_size, digest))
        return target


def _inside(root: Path, name: str, what: str) -> Path:
    """``root / name``, refused unless it is a folder strictly inside ``root``: names are
    checked where they are declared, this is the last guard before a file is written.
    The check is on the path's text, so a folder the user symlinked elsewhere still works."""
    target = os.path.normpath(os.path.join(root, name))
    if os.path.dirname(target) != os.path.normpath(root):
        raise ConfigError(f"{what} {name!r} would put artifacts outside {root}")
    return Path(target)


class ArtifactPlugin(Plugin):
    """Give steps ``ctx.artifacts.save(name, data_or_path)``.

    Files go to ``root_dir/<experiment>/v<N>/<treatment>/replicate_<k>/``; with
    ``versioned=True`` every run gets the next ``N``, otherwise ``N`` is always 0.
    """

    def __init__(self, root_dir: str | os.PathLike[str] = "artifacts", versioned: bool = True) -> None:
        self.root_dir = Path(root_dir)
        self.versioned = versioned
        self.run_dir: Path | None = None

    def before_run(self, run: RunInfo) -> None:
        base = _inside(self.root_dir.resolve(), run.name, "experiment name")
        versions = sorted(
            (int(m.group(1)), p) for p in (base.iterdir() if base.is_dir() else ())
            if (m := _VERSION.match(p.name))
        )
        if run.resumed:  # a resumed run keeps writing into its own version folder
            for _, folder in versions:
                marker = folder / RUN_MARKER
                if marker.is_file() and marker.read_text().strip() == run.run_id:
                    self.run_dir = folder
                    return
        version = versions[-1][0] + 1 if self.versioned and versions else 0
        self.run_dir = base / f"v{version}"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / RUN_MARKER).write_text(run.run_id + "\n")

    def before_replicate(self, ctx: StepContext) -> None:
        if self.run_dir is None:
            raise ConfigError("ArtifactPlugin was not set up for this run")
        folder = _inside(self.run_dir, ctx.treatment, "treatment name") / f"replicate_{ctx.replicate}"
        ctx._artifacts = ArtifactWriter(folder, ctx)
        ctx.artifacts_root = folder

    def __repr__(self) -> str:
        return f"ArtifactPlugin(root_dir={str(self.root_dir)!r}, versioned={self.versioned})"
