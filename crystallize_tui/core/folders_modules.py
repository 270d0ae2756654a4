"""Importing an experiment folder's modules under unique names that worker processes re-import."""

from __future__ import annotations

import builtins
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import string
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

# How a folder's modules are named, and why a spawned worker can import them:
#
# Each experiment folder becomes a package named ROOT.<folder path, encoded>, so the
# module game.py of /w/experiments/mafia is imported as
# "crystallize_tui.core.folders_modules._2fw_2fexperiments_2fmafia.game". Two folders
# that both hold a game.py therefore never collide, and a step function pickles by
# reference under that name. A worker started with "spawn" unpickles it by importing
# the name: Python imports the parent modules first, i.e. this real module, whose import
# installs the finder below (this module has a __path__, so it acts as a package), and
# the finder decodes the folder from the name itself. No registry, environment variable
# or sys.path entry has to reach the child, so any fresh interpreter can import it.
__path__: list[str] = []
ROOT = __name__

_KEEP = frozenset((string.ascii_letters + string.digits).encode())
_HEX = frozenset(string.hexdigits)


def package_name(folder: Path) -> str:
    """The package name of an experiment folder (an absolute, resolved path)."""
    raw = os.fsencode(str(folder))
    # Letters and digits stay readable; every other byte (/, _, ., ...) becomes _xx, so
    # the name has no dots and decodes back to exactly this path.
    return ROOT + "." + "".join(chr(b) if b in _KEEP else f"_{b:02x}" for b in raw)


def _folder_of(encoded: str) -> str | None:
    out = bytearray()
    i = 0
    while i < len(encoded):
        char = encoded[i]
        if char == "_":
            pair = encoded[i + 1 : i + 3]
            if len(pair) != 2 or not set(pair) <= _HEX:
                return None
            out.append(int(pair, 16))
            i += 3
        elif ord(char) in _KEEP:
            out.append(ord(char))
            i += 1
        else:
            return None
    return os.fsdecode(bytes(out))


def _is_local(folder: str, top: str) -> bool:
    return os.path.isfile(os.path.join(folder, top + ".py")) or os.path.isfile(
        os.path.join(folder, top, "__init__.py")
    )


SHARED_NAME = "lib"


def shared_folder(folder: Path | str) -> Path | None:
    """The workspace's shared module folder for experiment folder ``folder``: the nearest
    ``lib/`` among its parents up to ``experiments/`` and the workspace root beside it
    (``experiments/lib/``, ``<workspace>/lib/``; for a folder outside ``experiments/`` only
    its parent's ``lib/``). None when there is none."""
    folder = Path(folder)
    return next((lib for lib in shared_candidates(folder) if lib.is_dir()), None)


def shared_candidates(folder: Path) -> list[Path]:
    """Where ``folder``'s shared ``lib/`` may be, nearest first (by the path alone)."""
    parents = list(folder.parents)
    top = next((i for i, p in enumerate(parents) if p.name == "experiments"), None)
    return [parent / SHARED_NAME for parent in parents[: 1 if top is None else top + 2]
            if parent / SHARED_NAME != folder]


# Experiment folders run from a copy (a Dask worker's): root package -> (the copy of their
# lib/, its package), since the copy's own parents hold no lib/.
_shared_copies: dict[str, tuple[str, str]] = {}


def use_shared_copy(root_pkg: str, lib_copy: str, lib_pkg: str) -> None:
    """Resolve the lib/ imports of the folder package ``root_pkg`` to ``lib_copy``."""
    _shared_copies[root_pkg] = (lib_copy, lib_pkg)


def _local_import(root_pkg: str, folder: str) -> Callable[..., ModuleType]:
    """An ``__import__`` that resolves ``import profiles`` to the folder's own profiles.py.

    Experiment modules are written as scripts beside each other (``from profiles import
    x``), as if their folder were on sys.path. Mapping such absolute imports of a sibling
    to a relative import of the folder's package keeps each folder's helpers apart and out
    of the global module namespace, at module level and inside functions alike.
    """

    shared: list[str | None] = []  # the lib/ folder and its package, looked up on first need

    def __import__(
        name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
    ) -> ModuleType:
        if level == 0:
            top = name.partition(".")[0]
            if _is_local(folder, top):
                anchor = {"__package__": root_pkg, "__spec__": None, "__name__": root_pkg}
                return builtins.__import__(name, anchor, locals, fromlist, 1)
            # Not a sibling: maybe a module of the workspace's lib/ (the folder's own win).
            if not shared:
                lib = shared_folder(folder)
                shared.extend(_shared_copies.get(root_pkg) or (
                    (None, None) if lib is None else (str(lib), package_name(lib.resolve()))))
            if shared[0] is not None and _is_local(shared[0], top):
                anchor = {"__package__": shared[1], "__spec__": None, "__name__": shared[1]}
                return builtins.__import__(name, anchor, locals, fromlist, 1)
        return builtins.__import__(name, globals, locals, fromlist, level)

    return __import__


_builtins_cache: dict[str, dict[str, Any]] = {}


def _builtins_for(root_pkg: str, folder: str) -> dict[str, Any]:
    table = _builtins_cache.get(root_pkg)
    if table is None:
        table = _builtins_cache[root_pkg] = {
            **builtins.__dict__,
            "__import__": _local_import(root_pkg, folder),
        }
    return table


class _SourceLoader(importlib.machinery.SourceFileLoader):
    """Loads a .py file of an experiment folder with the folder-aware ``__import__``."""

    def __init__(self, fullname: str, path: str, root_pkg: str, folder: str) -> None:
        super().__init__(fullname, path)
        self.root_pkg = root_pkg
        self.folder = folder

    def get_code(self, fullname: str) -> Any:
        # Always compile the source: no __pycache__ litter in the user's folder, and an
        # edited file is never shadowed by a .pyc written in the same second.
        path = self.get_filename(fullname)
        return self.source_to_code(self.get_data(path), path)

    def exec_module(self, module: ModuleType) -> None:
        # exec() keeps a __builtins__ already in the globals: every import statement in
        # the module (and in its functions) then goes through _local_import.
        module.__dict__["__builtins__"] = _builtins_for(self.root_pkg, self.folder)
        super().exec_module(module)


class _FolderLoader(importlib.abc.Loader):
    """A package with no __init__.py (the folder itself, or a plain subfolder)."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        pass


def _spec_in(fullname: str, base: str, root_pkg: str, folder: str) -> Any:
    """The spec of ``fullname``'s last part inside directory ``base``, or None."""
    last = fullname.rpartition(".")[2]
    pkg_dir = os.path.join(base, last)
    init = os.path.join(pkg_dir, "__init__.py")
    if os.path.isfile(init):
        return _source_spec(fullname, init, root_pkg, folder, [pkg_dir])
    file = pkg_dir + ".py"
    if os.path.isfile(file):
        return _source_spec(fullname, file, root_pkg, folder, None)
    if os.path.isdir(pkg_dir):
        return _dir_spec(fullname, pkg_dir)
    return None


def _dir_spec(fullname: str, directory: str) -> importlib.machinery.ModuleSpec:
    spec = importlib.machinery.ModuleSpec(fullname, _FolderLoader(), origin=directory, is_package=True)
    spec.submodule_search_locations = [directory]
    return spec


def _source_spec(
    fullname: str, file: str, root_pkg: str, folder: str, search: list[str] | None
) -> importlib.machinery.ModuleSpec:
    loader = _SourceLoader(fullname, file, root_pkg, folder)
    return importlib.util.spec_from_file_location(
        fullname, file, loader=loader, submodule_search_locations=search
    )


class _FolderFinder(importlib.abc.MetaPathFinder):
    """Finds ROOT.<encoded folder>[.module...] by decoding the folder from the name."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not fullname.startswith(ROOT + "."):
            return None
        encoded = fullname[len(ROOT) + 1 :].partition(".")[0]
        folder = _folder_of(encoded)
        if folder is None or not os.path.isdir(folder):
            return None
        root_pkg = f"{ROOT}.{encoded}"
        if fullname == root_pkg:
            return _root_spec(fullname, folder)
        for base in path or ():
            spec = _spec_in(fullname, base, root_pkg, folder)
            if spec is not None:
                return spec
        return None


def _root_spec(fullname: str, folder: str) -> importlib.machinery.ModuleSpec:
    """The folder's own package: its __init__.py if it has one, else an empty package."""
    init = os.path.join(folder, "__init__.py")
    if os.path.isfile(init):
        return _source_spec(fullname, init, fullname, folder, [folder])
    return _dir_spec(fullname, folder)


def _install() -> None:
    # First in line: the check is one startswith for every other import.
    if not any(isinstance(f, _FolderFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _FolderFinder())


_install()


def folder_of_module(name: str) -> Path | None:
    """The experiment folder a module imported by ``import_from`` comes from, else None."""
    if not name.startswith(ROOT + "."):
        return None
    folder = _folder_of(name[len(ROOT) + 1 :].partition(".")[0])
    return Path(folder) if folder else None


def module_file(folder: Path, module: str) -> Path | None:
    """The file that ``module`` ("game", "pkg.mod") names inside ``folder``, or None."""
    base = folder.joinpath(*module.split("."))
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def import_from(folder: Path, module: str) -> ModuleType:
    """Import ``module`` of experiment folder ``folder`` (imported once, then cached)."""
    return importlib.import_module(f"{package_name(folder)}.{module}")


def forget(folder: Path) -> None:
    """Drop the folder's imported modules, so the next import reads the files afresh."""
    pkg = package_name(folder)
    for name in [n for n in sys.modules if n == pkg or n.startswith(pkg + ".")]:
        del sys.modules[name]
