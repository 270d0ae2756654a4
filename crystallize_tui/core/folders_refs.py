"""Resolving "module:function" references of experiment.yaml to objects in the folder's modules."""

from __future__ import annotations

import difflib
import inspect
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from .folders_modules import import_from, module_file, shared_folder
from .folders_yaml import Document


def did_you_mean(word: Any, choices: list[str] | tuple[str, ...]) -> str:
    """" (did you mean 'x'?)" when ``word`` is close to one of ``choices``, else ""."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def resolve(doc: Document, folder: Path, ref: Any, what: str, container: Any, key: Any) -> Callable[..., Any]:
    """The callable that ``ref`` ("module:function") names; errors point at ``container[key]``."""
    module_name, attr = _split(doc, ref, what, container, key)
    module = _import(doc, folder, module_name, what, container, key)
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise doc.error(
                f"{what}: module {module_name!r} has no function {attr!r}"
                f"{did_you_mean(attr, _defined(module))}; it defines: {_listing(module)}",
                container, key,
            )
        target = getattr(target, part)
    if not callable(target):
        raise doc.error(
            f"{what}: {ref!r} is a {type(target).__name__}, not a function", container, key
        )
    return target


def _split(doc: Document, ref: Any, what: str, container: Any, key: Any) -> tuple[str, str]:
    module_name, sep, attr = ref.partition(":") if isinstance(ref, str) else ("", "", "")
    dotted_ok = all(p.isidentifier() for p in [*module_name.split("."), *attr.split(".")])
    if isinstance(ref, str) and ("/" in module_name or "\\" in module_name or ".." in module_name):
        raise doc.error(
            f"{what}: {ref!r} is a path; name a module of the experiment's folder or of the "
            "workspace's lib/ as a dotted name (e.g. shared.scoring:score)", container, key
        )
    if not sep or not dotted_ok:
        raise doc.error(
            f"{what}: expected \"module:function\" (e.g. game:run_game), got {ref!r}", container, key
        )
    return module_name, attr


def _import(doc: Document, folder: Path, name: str, what: str, container: Any, key: Any) -> ModuleType:
    file = module_file(folder, name)
    lib = shared_folder(folder)
    if file is None and lib is not None and (shared := module_file(lib, name)) is not None:
        folder, file = lib.resolve(), shared  # the workspace's shared module (the folder's own win)
    if file is None:
        local = sorted(p.stem for p in folder.glob("*.py"))
        where = f"{folder} or {lib}" if lib is not None else str(folder)
        if lib is not None:
            local += sorted(p.stem for p in lib.glob("*.py"))
        raise doc.error(
            f"{what}: no module {name!r} in {where} (looked for "
            f"{name.replace('.', '/')}.py){did_you_mean(name, local)}",
            container, key,
        )
    try:
        return import_from(folder, name)
    except (Exception, SystemExit) as exc:  # the user's module is broken: say how and where
        raise doc.error(
            f"{what}: importing {name!r} ({file.name}) raised {type(exc).__name__}: {exc}"
            f"{_origin(exc, folder)}",
            container, key,
        ) from exc


def _origin(exc: BaseException, folder: Path) -> str:
    """" (at game.py, line 3)": the last frame of the traceback inside the folder."""
    inside = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).is_relative_to(folder)]
    if not inside or isinstance(exc, SyntaxError):  # a SyntaxError names its own line
        return ""
    frame = inside[-1]
    return f" (at {Path(frame.filename).relative_to(folder)}, line {frame.lineno})"


def _defined(module: ModuleType) -> list[str]:
    """Public callables of the module, those defined in it first."""
    own, other = [], []
    for name, value in vars(module).items():
        if name.startswith("_") or not callable(value) or inspect.ismodule(value):
            continue
        (own if getattr(value, "__module__", None) == module.__name__ else other).append(name)
    return sorted(own) + sorted(other)


def _listing(module: ModuleType, limit: int = 8) -> str:
    names = _defined(module)
    if not names:
        return "no functions"
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def required_parameters(fn: Callable[..., Any]) -> list[str]:
    """Parameters ``fn`` cannot be called without (empty when it has no signature)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    varargs = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in params if p.default is p.empty and p.kind not in varargs]
