"""``crystallize screenshots``: SVGs of the terminal UI's main screens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import EXIT_OK, Workspace


def cmd_screenshots(args: Any, ws: Workspace) -> int:
    from ..tui.screenshots import export_screenshots

    for path in export_screenshots(Path(args.out)):
        print(path)
    return EXIT_OK
