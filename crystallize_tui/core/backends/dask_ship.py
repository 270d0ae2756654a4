"""What travels to a Dask worker: the run's plan as bytes and the experiment folders' modules.

An experiment folder's module is imported under a name that encodes the folder's path
(core/folders_modules.py), so a step function pickles by reference to it; a worker on
another machine, or one that cannot see the folder, could not import that name. So the
run process pickles the plan itself (cloudpickle: steps defined in a script or a closure
travel by value), notes which experiment folders the pickle refers to, and sends those
folders' ``.py`` files along. The worker writes them to its own directory and puts a
finder in front of the folder finder that maps the encoded folder to that copy: the same
module names, so the plan unpickles unchanged, and a step's ``import helpers`` still finds
its sibling. The workspace's shared ``lib/`` of a shipped folder travels with it, and the
copy's ``import shared`` finds the copy of lib/.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
from importlib.abc import MetaPathFinder
from pathlib import Path
from typing import Any

from .. import folders_modules as fm
from ..errors import ConfigError

# The .py files of one folder sent to workers: a folder bigger than this is almost
# certainly data checked in beside the code, which should not travel with every run.
MAX_SHIPPED_BYTES = 32 * 1024 * 1024
_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "artifacts"})


class UserCodeError(RuntimeError):
    """The plan could not be unpickled on a worker: user code it needs is not importable there."""


Folders = dict[str, dict[str, bytes]]  # encoded folder name -> relative path -> file bytes


def pack(plan: Any) -> tuple[bytes, Folders]:
    """The plan's bytes and the sources of the experiment folders it refers to."""
    import cloudpickle

    modules: set[str] = set()
    prefix = fm.ROOT + "."

    class Recorder(cloudpickle.Pickler):
        def persistent_id(self, obj: Any) -> None:
            # Every object pickled passes here: note the folder modules it belongs to.
            name = getattr(obj, "__module__", None)
            if isinstance(name, str) and name.startswith(prefix):
                modules.add(name)
            return None

    buf = io.BytesIO()
    Recorder(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(plan)
    folders: Folders = {}
    for name in modules:
        encoded = name[len(prefix):].partition(".")[0]
        if encoded not in folders:
            folder = fm.folder_of_module(name)
            if folder is not None and folder.is_dir():
                folders[encoded] = folder_sources(folder)
                # Its modules may import the workspace's lib/: that travels too.
                lib = fm.shared_folder(folder)
                lib_encoded = _encoded(lib.resolve()) if lib is not None else None
                if lib is not None and lib_encoded not in folders:
                    folders[lib_encoded] = folder_sources(lib)
    return buf.getvalue(), folders


def _encoded(folder: Path) -> str:
    return fm.package_name(folder)[len(fm.ROOT) + 1:]


def folder_sources(folder: Path) -> dict[str, bytes]:
    """Every ``.py`` file under ``folder`` (hidden folders, caches and artifacts left out)."""
    files: dict[str, bytes] = {}
    total = 0
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            path = Path(root, name)
            data = path.read_bytes()
            total += len(data)
            if total > MAX_SHIPPED_BYTES:
                raise ConfigError(f"experiment folder {folder} holds more than "
                                  f"{MAX_SHIPPED_BYTES // 2**20} MiB of .py files to send to the "
                                  "Dask workers; move data out of .py files")
            files[path.relative_to(folder).as_posix()] = data
    return files


# -- worker side --------------------------------------------------------------------

_SHIPPED: dict[str, str] = {}  # encoded folder -> where this worker wrote its copy
_DIGESTS: dict[str, str] = {}


def install(folders: Folders, base: str) -> None:
    """Write ``folders`` under ``base`` and import their modules from there from now on."""
    for encoded, files in folders.items():
        digest = hashlib.sha256(b"".join(k.encode() + b"\0" + v for k, v in sorted(files.items())))
        digest_hex = digest.hexdigest()[:16]
        if _DIGESTS.get(encoded) == digest_hex:
            continue  # this worker has this version already
        target = os.path.join(base, "crystallize-code", digest_hex)
        for rel, data in files.items():
            path = os.path.join(target, *rel.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(data)
        os.makedirs(target, exist_ok=True)
        # A previous run's copy of the folder may be imported already: read the new one.
        pkg = f"{fm.ROOT}.{encoded}"
        for name in [n for n in sys.modules if n == pkg or n.startswith(pkg + ".")]:
            del sys.modules[name]
        _SHIPPED[encoded] = target
        _DIGESTS[encoded] = digest_hex
    for encoded in folders:
        # The copy's parents hold no lib/: point its imports at the lib/ that came with it.
        origin = fm.folder_of_module(f"{fm.ROOT}.{encoded}")
        libs = [] if origin is None else [_encoded(lib) for lib in fm.shared_candidates(origin)]
        lib = next((lib for lib in libs if lib in folders), None)
        if lib is not None:
            fm.use_shared_copy(f"{fm.ROOT}.{encoded}", _SHIPPED[lib], f"{fm.ROOT}.{lib}")
    if not any(isinstance(f, _ShippedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _ShippedFinder())


def unpack(data: bytes, where: str) -> Any:
    """The plan from its bytes; a UserCodeError saying what could not be imported."""
    try:
        return pickle.loads(data)
    except (ImportError, AttributeError) as exc:
        raise UserCodeError(
            f"user code cannot be imported on Dask worker {where}: {type(exc).__name__}: {exc} "
            "(install the packages the experiment imports on every worker)"
        ) from None


class _ShippedFinder(MetaPathFinder):
    """Finds an experiment folder's modules in the copy the run sent to this worker."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not fullname.startswith(fm.ROOT + "."):
            return None
        encoded = fullname[len(fm.ROOT) + 1:].partition(".")[0]
        local = _SHIPPED.get(encoded)
        if local is None:
            return None
        root_pkg = f"{fm.ROOT}.{encoded}"
        if fullname == root_pkg:
            return fm._root_spec(fullname, local)
        for base in path or ():
            spec = fm._spec_in(fullname, base, root_pkg, local)
            if spec is not None:
                return spec
        return None
