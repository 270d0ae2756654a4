"""``crystallize import PATH``: convert a crystallize-ml experiment folder (config.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.folders_yaml import shown_path
from ..core.ml_import import import_folder
from .common import EXIT_OK, Workspace


def cmd_import(args: Any, ws: Workspace) -> int:
    target, conversion = import_folder(Path(args.path))
    folder = target.parent.resolve()
    print(f"wrote {shown_path(target)}")
    if conversion.notes:
        print(f"{len(conversion.notes)} thing(s) to finish by hand:")
        for note in conversion.notes:
            print(f"  - {note}")
    base = ws.root / "experiments"
    if folder.parent == base:
        # Experiments are found by their folder's name (the YAML's name is what history shows).
        print(f"then: crystallize run-once {folder.name}  (one replicate, every event shown)")
    else:
        print(f"then move the folder to {shown_path(base / folder.name)} and run "
              f"`crystallize run-once {folder.name}`")
    return EXIT_OK
