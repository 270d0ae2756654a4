"""The step cache on disk: content-addressed entries under .crystallize/cache/, LRU-bounded."""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

LIMIT_ENV = "CRYSTALLIZE_CACHE_LIMIT"
DEFAULT_LIMIT = 1 << 30  # 1 GiB
FOLDER_NAME = "cache"
_SUFFIX = ".pkl"
# A temporary file older than this was left by a process that died while writing it.
_STALE_TMP_S = 3600.0
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40}
# Files the cache holds, one folder per step, so `cache clear STEP` is one folder.
_SLUG = re.compile(r"[^A-Za-z0-9_.-]")


def parse_size(text: Any, what: str = LIMIT_ENV) -> int:
    """Bytes from "1GB", "500 MB", "2g", "1e9" or a plain number; a ConfigError naming
    ``what`` otherwise."""
    if isinstance(text, bool):
        raise ConfigError(f"{what}: expected a size like 500MB or 2GB, got {text!r}")
    if isinstance(text, (int, float)):
        number, unit = float(text), ""
    else:
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?(?:[eE][0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
        if not match or match.group(2).lower() not in _UNITS:
            raise ConfigError(f"{what}: expected a size like 500MB or 2GB, got {text!r}")
        number, unit = float(match.group(1)), match.group(2).lower()
    size = number * _UNITS[unit]
    if not 0 <= size < 1 << 62:
        raise ConfigError(f"{what}: {text!r} is not a usable size")
    return int(size)


def cache_limit(configured: int | None = None) -> int:
    """The cache's size bound in bytes: the experiment's own (YAML ``run: {cache_limit: 500MB}``,
    ``Experiment(cache_limit=...)``), else $CRYSTALLIZE_CACHE_LIMIT, else 1 GB."""
    if configured is not None:
        return configured
    value = os.environ.get(LIMIT_ENV)
    return DEFAULT_LIMIT if value is None or not value.strip() else parse_size(value)


def step_folder_name(step: str) -> str:
    """The folder of a step's entries: its name with anything but letters, digits, ``_``,
    ``-`` and ``.`` replaced, never hidden and never ``..`` (a step name is user text)."""
    slug = _SLUG.sub("_", step)[:80].lstrip(".")
    return slug or "_"


@dataclass
class Entry:
    """What a cached step left: its output, the metrics it recorded, the state of the
    replicate's random generators after it (when it used them), how long it took."""

    output: Any
    metrics: list[tuple[str, Any]] = field(default_factory=list)
    rng_state: Any = None
    np_state: Any = None
    seconds: float = 0.0
    step: str = ""
    config_after: Any = None  # the (dict) config as the step left it, when it changed it
    output_is_config: bool = False  # the step returned its config itself


@dataclass(frozen=True)
class StepUsage:
    """One step's share of the cache, for `crystallize cache`."""

    step: str
    entries: int
    size: int
    last_used: float


class StepCache:
    """Entries in ``root/<step>/<key[:2]>/<key>.pkl``.

    Writes go to a temporary file in the same folder and are renamed into place, so a
    reader in another worker process sees a whole entry or none; two processes that
    compute the same entry write the same bytes, and the last rename wins. Reading an
    entry touches its modification time, which eviction takes as its last use.
    """

    def __init__(self, root: str | os.PathLike[str], limit: int | None = None) -> None:
        self.root = Path(root)
        self.limit = cache_limit(limit)

    def _path(self, step: str, key: str) -> Path:
        return self.root / step_folder_name(step) / key[:2] / (key + _SUFFIX)

    def get(self, step: str, key: str) -> Entry | None:
        """The entry under ``key``, or None (missing, or unreadable: then it is removed)."""
        path = self._path(step, key)
        try:
            with open(path, "rb") as f:
                entry = pickle.load(f)
        except FileNotFoundError:
            return None
        except Exception:  # a damaged entry, or one whose classes are gone: compute afresh
            _unlink(path)
            return None
        if not isinstance(entry, Entry):
            _unlink(path)
            return None
        try:
            os.utime(path)
        except OSError:
            pass
        return entry

    def put(self, step: str, key: str, entry: Entry) -> int | None:
        """Store ``entry`` (pickle errors propagate: the caller decides), then evict the
        least recently used entries while the cache is over its limit. Returns None, or
        the entry's size when it is larger than the whole limit (then it is not kept:
        keeping it would evict everything else)."""
        raw = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        if len(raw) > self.limit:
            return len(raw)
        path = self._path(step, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{key}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(raw)
            os.replace(tmp, path)
        finally:
            _unlink(tmp)
        self.evict()
        return None

    # Which config keys a step read, per code and input (core/cache_reads.py): a lookup
    # tries each set seen, so conditions that differ only in keys the step never reads
    # share its entries. A handful per step; a lost concurrent update only costs a miss.
    MAX_READ_SETS = 16

    def _reads_path(self, step: str, base: str) -> Path:
        return self.root / step_folder_name(step) / "reads" / (base + ".json")

    def read_sets(self, step: str, base: str) -> list[list[str]]:
        """The sets of config keys calls of ``step`` with this code and input have read."""
        try:
            sets = json.loads(self._reads_path(step, base).read_text())
        except (OSError, ValueError):
            return []
        ok = isinstance(sets, list) and all(isinstance(s, list) and all(isinstance(k, str) for k in s)
                                            for s in sets)
        return sets if ok else []

    def add_read_set(self, step: str, base: str, keys: list[str]) -> None:
        """Remember that a call read ``keys`` (sorted) of its config."""
        sets = self.read_sets(step, base)
        if keys in sets:
            return
        sets = [*sets, keys][-self.MAX_READ_SETS:]
        path = self._reads_path(step, base)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{base}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        try:
            tmp.write_text(json.dumps(sets))
            os.replace(tmp, path)
        finally:
            _unlink(tmp)

    def _files(self) -> list[tuple[float, int, Path]]:
        found = []
        now = time.time()
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                path = Path(folder, name)
                try:
                    st = path.stat()
                except OSError:
                    continue
                if name.endswith(".tmp"):
                    if now - st.st_mtime > _STALE_TMP_S:
                        _unlink(path)
                    continue
                if name.endswith(_SUFFIX):
                    found.append((st.st_mtime, st.st_size, path))
        return found

    def evict(self) -> int:
        """Remove the least recently used entries until the cache fits its limit; the
        number removed."""
        files = self._files()
        total = sum(size for _, size, _ in files)
        removed = 0
        for _, size, path in sorted(files):
            if total <= self.limit:
                break
            _unlink(path)
            total -= size
            removed += 1
        return removed

    def usage(self) -> list[StepUsage]:
        """Entries and bytes per step folder, the largest first."""
        per: dict[str, list[tuple[float, int, Path]]] = {}
        for item in self._files():
            per.setdefault(item[2].relative_to(self.root).parts[0], []).append(item)
        rows = [StepUsage(step, len(items), sum(s for _, s, _ in items), max(t for t, _, _ in items))
                for step, items in per.items()]
        return sorted(rows, key=lambda r: (-r.size, r.step))

    def clear(self, step: str | None = None) -> int:
        """Remove every entry (or those of one step); the number of entries removed."""
        if step is None:
            count = len(self._files())
            if self.root.is_dir():
                shutil.rmtree(self.root, ignore_errors=True)
            return count
        folder = self.root / step_folder_name(step)
        count = sum(1 for _, _, p in self._files() if p.is_relative_to(folder))
        shutil.rmtree(folder, ignore_errors=True)
        return count


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:  # already gone (another process evicted it) or never written
        pass
