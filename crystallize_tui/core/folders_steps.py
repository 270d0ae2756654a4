"""One entry of experiment.yaml's pipeline: "module:function" or {step: ..., with: {fixed keyword arguments}}."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .folders_refs import did_you_mean, resolve
from .folders_yaml import Document
from .pipeline import with_arguments

STEP_KEYS = ("step", "with")


def pipeline_entry(doc: Document, folder: Path, steps: list[Any], i: int) -> Callable[..., Any]:
    """The step that ``steps[i]`` names, with its ``with:`` arguments bound and checked
    against the function's signature; errors name the file, line, step and key."""
    entry, where = steps[i], f"pipeline[{i}]"
    if not isinstance(entry, dict):
        return resolve(doc, folder, entry, where, steps, i)
    for key in entry:
        if key not in STEP_KEYS:
            raise doc.error(f"{where}: unknown key {key!r}{did_you_mean(key, STEP_KEYS)}; allowed "
                            f"keys: {', '.join(STEP_KEYS)}", entry, key)
    if "step" not in entry:
        raise doc.error(f"{where}: missing key 'step' (the step's \"module:function\")", steps, i)
    fn = resolve(doc, folder, entry["step"], f"{where}.step", entry, "step")
    arguments = entry.get("with")
    if arguments is None:
        return fn
    if not isinstance(arguments, dict):
        raise doc.error(f"{where}.with: expected a mapping of keyword: value, got "
                        f"{type(arguments).__name__} {arguments!r}", entry, "with")
    _check_arguments(doc, fn, entry["step"], arguments, f"{where}.with")
    return with_arguments(fn, arguments)


def _check_arguments(doc: Document, fn: Callable[..., Any], ref: str, arguments: dict[Any, Any],
                     where: str) -> None:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # no signature to check against (a builtin)
        return
    kinds = inspect.Parameter
    open_ended = any(p.kind is kinds.VAR_KEYWORD for p in params.values())
    positional = [p.name for p in params.values() if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)]
    data = positional[:1]
    # The ctx is the parameter named ctx, else the next positional one left without a value.
    rest = [n for n in positional[1:] if n not in arguments and params[n].default is kinds.empty]
    ctx = ["ctx"] if "ctx" in positional else rest[:1]
    allowed = [n for n, p in params.items()
               if n not in data + ctx and p.kind not in (kinds.VAR_POSITIONAL, kinds.VAR_KEYWORD)]
    for key in arguments:
        if not isinstance(key, str) or not key.isidentifier():
            raise doc.error(f"{where}: a keyword must be a name, got {key!r}", arguments, key)
        if key in data or key in ctx:
            role = "data" if key in data else "ctx"
            raise doc.error(f"{where}.{key}: step {ref!r} receives {key!r} from the pipeline (its "
                            f"{role}); it cannot be fixed here", arguments, key)
        if key in params and params[key].kind is kinds.POSITIONAL_ONLY:
            raise doc.error(f"{where}.{key}: {key!r} of step {ref!r} is positional-only", arguments, key)
        if key not in params and not open_ended:
            takes = ", ".join(allowed) or "no other arguments"
            raise doc.error(f"{where}.{key}: step {ref!r} takes no argument {key!r}"
                            f"{did_you_mean(key, allowed)}; it takes: {takes}", arguments, key)
        if ctx and key in positional and positional.index(key) < positional.index(ctx[0]):
            raise doc.error(f"{where}.{key}: step {ref!r} has {key!r} before its {ctx[0]!r}; put the "
                            "ctx right after the data parameter to fix the ones after it", arguments, key)
    missing = [n for n in allowed if params[n].default is kinds.empty and n not in arguments]
    if missing:
        raise doc.error(f"{where}: step {ref!r} needs {', '.join(repr(n) for n in missing)}; give "
                        f"{'it' if len(missing) == 1 else 'them'} under with:", arguments)
