"""The UI's own settings file (the chosen theme), read so that a damaged file never stops the app."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FILE_NAME = "settings.json"


def settings_path(workspace_root: Path) -> Path:
    """Where the UI keeps its settings: beside the workspace's store, in .crystallize/."""
    return workspace_root / ".crystallize" / FILE_NAME


def read_settings(path: Path) -> tuple[dict[str, Any], str | None]:
    """The settings in ``path`` and, when they cannot be used, one line saying why (the
    caller then runs on defaults). A missing file is no problem: nothing was chosen yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError) as exc:
        return {}, f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc}); using defaults"
    try:
        data = json.loads(text)
    except ValueError as exc:
        return {}, f"{path}: not valid JSON ({exc}); using defaults"
    if not isinstance(data, dict):
        return {}, f"{path}: expected a JSON object like {{\"theme\": \"textual-light\"}}; using defaults"
    return data, None


def write_setting(path: Path, key: str, value: Any) -> str | None:
    """Set one setting, keeping the others; a problem comes back as one line, not raised.
    A file that could not be read is kept beside the new one (``.broken``), never lost."""
    data, problem = read_settings(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if problem is not None and path.exists():
            os.replace(path, path.with_name(path.name + ".broken"))
        data[key] = value
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)  # whole or not at all, whatever happens during the write
    except OSError as exc:
        return f"{path}: cannot save the {key} ({exc.strerror or exc})"
    return None
