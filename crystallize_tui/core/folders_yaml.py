"""Reading experiment.yaml while remembering the line of every key and list item, for errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .yaml_limits import check_size, load_checked

# libyaml's parser when present (several times faster); the constructor stays Python either way.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


class _MarkLoader(_Base):  # type: ignore[misc, valid-type]
    """A safe loader that records where each mapping key and sequence item starts."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # id(container) -> (container, its own line, {key: line} or [item line, ...]).
        # The container is kept so that an id can never be reused by another object.
        self.lines: dict[int, tuple[Any, int, Any]] = {}

    def construct_marked_map(self, node: yaml.MappingNode) -> Any:
        data: dict[Any, Any] = {}
        yield data
        lines = self._key_lines(node)  # before construct_mapping flattens merge keys
        data.update(self.construct_mapping(node))
        self.lines[id(data)] = (data, node.start_mark.line + 1, lines)

    def _key_lines(self, node: yaml.MappingNode) -> dict[Any, int]:
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = lines.get(key)
            except TypeError:  # an unhashable key: construct_mapping reports it
                continue
            if first is not None:
                # PyYAML would silently keep the last value; a repeated key is a mistake.
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {first})", key_node.start_mark
                )
            lines[key] = key_node.start_mark.line + 1
        return lines

    def construct_marked_seq(self, node: yaml.SequenceNode) -> Any:
        data: list[Any] = []
        yield data
        data.extend(self.construct_sequence(node))
        self.lines[id(data)] = (data, node.start_mark.line + 1, [n.start_mark.line + 1 for n in node.value])


_MarkLoader.add_constructor("tag:yaml.org,2002:map", _MarkLoader.construct_marked_map)
_MarkLoader.add_constructor("tag:yaml.org,2002:seq", _MarkLoader.construct_marked_seq)


def shown_path(path: Path) -> str:
    """``path`` as messages show it: relative to the current folder when inside it."""
    try:
        return os.path.relpath(path) if path.is_absolute() and path.is_relative_to(Path.cwd()) else str(path)
    except (OSError, ValueError):
        return str(path)


class Document:
    """A parsed experiment.yaml: its data, and how to point at any part of it."""

    def __init__(self, path: Path, data: Any, lines: dict[int, tuple[Any, int, Any]]) -> None:
        self.path = path
        self.shown = shown_path(path)
        self.data = data
        self._lines = lines

    def line(self, container: Any = None, key: Any = None) -> int | None:
        """The line of ``container[key]`` (a mapping key or a list index), else of the container."""
        entry = self._lines.get(id(container))
        if entry is None or entry[0] is not container:
            return None
        own, marks = entry[1], entry[2]
        if isinstance(marks, dict):
            return marks.get(key, own)
        if isinstance(key, int) and 0 <= key < len(marks):
            return marks[key]
        return own

    def error(self, message: str, container: Any = None, key: Any = None) -> ConfigError:
        """A ConfigError "file:line: message" pointing at ``container[key]``."""
        line = self.line(container, key)
        where = f"{self.shown}:{line}" if line is not None else self.shown
        return ConfigError(f"{where}: {message}")


def load_value(shown: str, text: str) -> Any:
    """A YAML value given on the command line or in a form (``--set key=VALUE``), read like
    experiment.yaml (its limits; a repeated key is an error); a problem is a ConfigError
    naming ``shown``."""
    return load_checked(shown, _MarkLoader(text), text, lines=False)


def parse(path: Path) -> Document:
    """Read and parse ``path``; any problem is a ConfigError naming the file and line."""
    shown = shown_path(path)
    try:
        check_size(shown, path.stat().st_size)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: cannot read the file: {exc}") from None
    # Bounded before parsing: deep nesting crashes or overflows the parsers, and an
    # alias bomb is cheap to parse but hangs whatever walks the expanded config.
    loader = _MarkLoader(text)
    data = load_checked(shown, loader, text)
    if data is None:
        raise ConfigError(
            f"{shown}: the file is empty; it needs at least `pipeline: [module:function]`"
        )
    return Document(path, data, loader.lines)
