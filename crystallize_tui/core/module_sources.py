"""The source files a run's code lives in: each step's module and the folder modules it imports."""

from __future__ import annotations

import ast
import functools
import inspect
import sysconfig
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .folders_modules import folder_of_module


@functools.cache
def _installed() -> tuple[Path, ...]:
    # Installed code (the standard library, site-packages, Crystallize itself) is versioned
    # by its package; only the user's own files are followed.
    paths = sysconfig.get_paths()
    return (*{Path(paths[k]).resolve() for k in ("stdlib", "purelib", "platlib")},
            Path(__file__).resolve().parents[1])


def _is_installed(path: Path) -> bool:
    return any(path.is_relative_to(base) for base in _installed())


def _home(fn: Callable[..., Any]) -> tuple[Path, Path, bool] | None:
    """(module file, folder its sibling imports resolve in, is it the main script) of a
    step, if it has a file."""
    fn = inspect.unwrap(fn)
    # The code's own file name: the module may have left sys.modules (folders reload).
    file = getattr(getattr(fn, "__code__", None), "co_filename", "")
    if not file.endswith(".py") or not Path(file).is_file():
        return None
    path = Path(file).resolve()
    if _is_installed(path):
        return None
    module = getattr(fn, "__module__", None) or ""
    folder = folder_of_module(module)  # an experiment folder: imports resolve there
    return path, (folder.resolve() if folder is not None else path.parent), module == "__main__"


def _local_file(folder: Path, dotted: str) -> Path | None:
    base = folder.joinpath(*dotted.split("."))
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.resolve()
    return None


def _imports(path: Path, folder: Path) -> list[Path]:
    """The files of ``folder`` that ``path`` imports, anywhere in it (also inside functions)."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError, OSError):
        return []
    here = path.parent
    found: list[Path | None] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [_local_file(folder, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the importing file's package upwards
                base = here
                for _ in range(node.level - 1):
                    base = base.parent
            else:
                base = folder
            module = node.module or ""
            if module:
                found.append(_local_file(base, module))
            # ``from pkg import mod`` may name a submodule rather than an attribute.
            found += [_local_file(base, f"{module}.{a.name}" if module else a.name)
                      for a in node.names]
    return [f for f in found if f is not None and f.is_relative_to(folder)]


def module_sources(fns: Iterable[Callable[..., Any]]) -> dict[str, bytes]:
    """Relative path -> content of every user file the steps' code comes from: each step's
    module and, transitively, the modules of its folder that it imports."""
    out: dict[str, bytes] = {}
    for fn in fns:
        home = _home(fn)
        if home is None:
            continue
        start, folder, script = home
        todo = [start]
        seen: set[Path] = set()
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            try:
                name = path.relative_to(folder).as_posix()
            except ValueError:
                name = path.name
            # The script that runs the experiment also declares it (replicates, treatments):
            # editing those must not block a resume, so only the modules it imports count.
            if not (script and path == start):
                out[name] = path.read_bytes()
            todo += _imports(path, folder)
    return dict(sorted(out.items()))
