"""Experiment folders: load experiments/<name>/experiment.yaml, and discover every one in a workspace."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError
from .experiment import Experiment
from .folders_build import experiment_arguments
from .folders_modules import SHARED_NAME, forget, package_name
from .folders_yaml import parse, shown_path
from .ml_import import LEGACY_FILE, convert_hint, is_legacy_folder

__all__ = [
    "Discovery",
    "DiscoveryCache",
    "FoundExperiment",
    "LoadError",
    "discover",
    "load_experiment",
    "package_name",
]

FILE_NAME = "experiment.yaml"
# Folders never searched for experiments (caches, environments, version control).
_SKIP = {"__pycache__", "node_modules", "venv", "artifacts"}


def load_experiment(path: str | os.PathLike[str], *, reload: bool = False) -> Experiment:
    """The Experiment that ``path`` (an experiment.yaml, or its folder) declares.

    Modules named as "module:function" are imported from the experiment's folder under a
    name unique to that folder (see folders_modules); nothing else runs: datasource
    functions stay uncalled until a run resolves its configs. ``reload=True`` re-imports
    the folder's modules from their files. Every problem is a ConfigError naming the
    file, the line and the key at fault. The Experiment gets ``source`` (the yaml file)
    and ``folder`` (its folder).
    """
    yaml_path = _yaml_file(Path(path))
    doc = parse(yaml_path)
    folder = yaml_path.parent
    if reload:
        forget(folder)
    arguments = experiment_arguments(doc, folder)
    try:
        experiment = Experiment(**arguments)
    except ConfigError as exc:
        raise ConfigError(f"{doc.shown}: {exc}") from None
    experiment.source = yaml_path
    experiment.folder = folder
    return experiment


def _yaml_file(path: Path) -> Path:
    path = path.expanduser().resolve()
    candidate = path / FILE_NAME if path.is_dir() else path
    if not candidate.is_file():
        what = f"no {FILE_NAME} in this folder" if path.is_dir() else "no such file"
        raise ConfigError(f"{shown_path(path)}: {what}")
    return candidate


@dataclass(frozen=True)
class FoundExperiment:
    """A loaded experiment of a workspace. ``folder`` groups it for a tree view: the path
    of its folder's parent relative to experiments/ ("" at the top, else e.g. "games")."""

    name: str
    path: Path
    folder: str
    experiment: Experiment


@dataclass(frozen=True)
class LoadError:
    """An experiment.yaml that could not be loaded, and why (the message names file and line)."""

    path: Path
    message: str


@dataclass
class Discovery:
    """What ``discover`` found: the experiments that loaded, and the files that did not."""

    experiments: list[FoundExperiment] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)

    def get(self, name: str) -> FoundExperiment | None:
        """The experiment called ``name``, if one loaded."""
        return next((f for f in self.experiments if f.name == name), None)


_Stamp = tuple[object, ...]


class DiscoveryCache:
    """Remembers each experiment.yaml's outcome with the state of its folder's files.

    Passed to successive ``discover`` calls, it reloads only experiments whose yaml or
    .py files changed (re-importing their modules), and returns the same Experiment
    objects for the others.
    """

    def __init__(self) -> None:
        self.entries: dict[Path, tuple[_Stamp, Experiment | LoadError]] = {}


def discover(root: str | os.PathLike[str], cache: DiscoveryCache | None = None) -> Discovery:
    """Every ``experiments/**/experiment.yaml`` under the workspace ``root``, sorted by path.

    One broken experiment never hides the others: its problem becomes a LoadError. Two
    experiments with one name both become errors naming both files.
    """
    base = Path(root).expanduser().resolve() / "experiments"
    files, legacy = _scan(base)
    outcomes = [(path, _outcome(path, cache)) for path in files]
    if cache is not None:
        cache.entries = {p: cache.entries[p] for p in files if p in cache.entries}
    found = Discovery()
    for path, outcome in outcomes:
        if isinstance(outcome, LoadError):
            found.errors.append(outcome)
        else:
            group = path.parent.parent.relative_to(base).as_posix()
            found.experiments.append(FoundExperiment(outcome.name, path, "" if group == "." else group, outcome))
    # A crystallize-ml folder is listed with the way to convert it, never silently skipped.
    found.errors += [LoadError(folder / LEGACY_FILE, convert_hint(folder)) for folder in legacy]
    _reject_duplicates(found)
    return found


def experiment_files(base: Path) -> list[Path]:
    """The experiment.yaml files under ``base``, sorted by their path below it."""
    return _scan(base)[0]


def _scan(base: Path) -> tuple[list[Path], list[Path]]:
    """The experiment.yaml files under ``base`` (sorted by their path below it), and the
    crystallize-ml folders (config.yaml, no experiment.yaml) outside any experiment folder."""
    files, legacy = [], []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in _SKIP
                       and not (d == SHARED_NAME and dirpath == str(base))]  # experiments/lib: shared modules
        # experiments/experiment.yaml itself is no experiment folder: each needs its own.
        if FILE_NAME in filenames and Path(dirpath) != base:
            files.append(Path(dirpath) / FILE_NAME)
        elif LEGACY_FILE in filenames and Path(dirpath) != base and is_legacy_folder(Path(dirpath)) \
                and not any(Path(dirpath).is_relative_to(f.parent) for f in files):
            legacy.append(Path(dirpath))
    return sorted(files, key=lambda p: p.relative_to(base).parts), legacy


def _outcome(path: Path, cache: DiscoveryCache | None) -> Experiment | LoadError:
    if cache is None:
        return _load(path, reload=False)
    stamp = _stamp(path)
    previous = cache.entries.get(path)
    if previous is not None and previous[0] == stamp:
        return previous[1]
    # A changed folder re-imports its modules, so edited step code takes effect.
    outcome = _load(path, reload=previous is not None)
    cache.entries[path] = (stamp, outcome)
    return outcome


def _load(path: Path, reload: bool) -> Experiment | LoadError:
    try:
        return load_experiment(path, reload=reload)
    except ConfigError as exc:
        return LoadError(path, str(exc))
    except (Exception, SystemExit) as exc:  # anything else a user's module raised
        return LoadError(path, f"{shown_path(path)}: {type(exc).__name__}: {exc}")


def _stamp(path: Path) -> _Stamp:
    """Modification times and sizes of the yaml and of every .py file of its folder."""
    parts: list[object] = []
    for dirpath, dirnames, filenames in os.walk(path.parent):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP)
        for name in sorted(filenames):
            if name.endswith(".py") or (name == FILE_NAME and dirpath == str(path.parent)):
                stat = os.stat(os.path.join(dirpath, name))
                parts.append((dirpath, name, stat.st_mtime_ns, stat.st_size))
    return tuple(parts)


def _reject_duplicates(found: Discovery) -> None:
    """Experiments sharing a name become errors: none silently wins over the other."""
    by_name: dict[str, list[FoundExperiment]] = {}
    for item in found.experiments:
        by_name.setdefault(item.name, []).append(item)
    for name, items in by_name.items():
        if len(items) < 2:
            continue
        for item in items:
            others = ", ".join(shown_path(o.path) for o in items if o is not item)
            found.errors.append(LoadError(
                item.path,
                f"{shown_path(item.path)}: experiment name {name!r} is also used by {others}; "
                "give each experiment its own `name:`",
            ))
    found.experiments = [f for f in found.experiments if len(by_name[f.name]) == 1]
    found.errors.sort(key=lambda e: e.path)
