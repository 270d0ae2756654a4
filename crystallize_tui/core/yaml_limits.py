"""Limits that keep hostile YAML (experiment.yaml, --set values) from hanging or crashing us."""

from __future__ import annotations

import re
from typing import Any

import yaml

from .errors import ConfigError

MAX_BYTES = 1 << 20  # 1 MiB: a config that big is data; load data in a datasource function
MAX_DEPTH = 100  # configs nest a handful of levels; deepcopy and json recurse per level
MAX_ALIAS_VALUES = 100_000  # values that *aliases may add when expanded ("billion laughs")

_FLOW = re.compile(r"[\[\]{}]")
# Leading indentation, then any compact block indicators ("- - - x", "? key").
_BLOCK = re.compile(r"[ \t]*((?:[-?][ \t]+)*)")
# A line that opens a literal or folded block scalar: "key: |", "- >-", "text: |2  # note".
_SCALAR_START = re.compile(r"(?:^|[:\-][ \t])[|>][-+0-9]*(?:[ \t]+#.*)?$")


def check_size(shown: str, size: int) -> None:
    """Refuse a file larger than MAX_BYTES before reading it."""
    if size > MAX_BYTES:
        raise ConfigError(
            f"{shown}: the file is {size / (1 << 20):.1f} MiB; experiment.yaml is limited to "
            f"{MAX_BYTES >> 20} MiB (load large data in a datasource function instead)"
        )


def check_text(shown: str, text: str, *, lines: bool = True) -> None:
    """Refuse text nested deeper than MAX_DEPTH, before a parser recurses into it.

    A quick estimate from indentation, "- " items and [ { brackets (also those inside
    strings), generous for ordinary files; only the parsers must be kept from deep
    recursion here, the exact check on the parsed nodes (``check_nodes``) decides the rest.
    """
    flow = _flow_depths(text)
    stack: list[int] = []  # indentations of the open block levels
    scalar_indent = -1  # inside a | or > block scalar: lines indented deeper are its text
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        if indent > scalar_indent >= 0:
            continue
        scalar_indent = indent if _SCALAR_START.search(stripped) else -1
        while stack and stack[-1] > indent:
            stack.pop()
        if not stack or stack[-1] < indent:
            stack.append(indent)
        match = _BLOCK.match(line)
        dashes = match.group(1).count("-") + match.group(1).count("?") if match else 0
        depth = len(stack) + dashes + flow.get(number, 0)
        if depth > MAX_DEPTH:
            raise _too_deep(_at(shown, number, lines))


def _flow_depths(text: str) -> dict[int, int]:
    """Line number -> deepest [ { nesting reached on it (only when it can exceed the limit)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return {}
    depths: dict[int, int] = {}
    depth, line, pos = 0, 1, 0
    for match in _FLOW.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        if match.group() in "[{":
            depth += 1
            if depth > depths.get(line, 0):
                depths[line] = depth
        else:
            depth = max(0, depth - 1)
    return depths


def check_nodes(shown: str, root: yaml.Node, *, lines: bool = True) -> None:
    """Refuse a parsed document nested deeper than MAX_DEPTH, whose aliases refer to
    themselves, or whose aliases expand to more than MAX_ALIAS_VALUES extra values.

    Walks the node graph without recursion; a node reached through several aliases is
    measured once and counted each time it is reached.
    """
    sizes: dict[int, int] = {}  # id(node) -> values in it once every alias is expanded
    depths: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            depths[key] = 1 + max((depths[id(c)] for c in children), default=0)
            if depths[key] > MAX_DEPTH:
                raise _too_deep(_at(shown, node.start_mark.line + 1, lines))
            if sizes[key] - len(sizes) > MAX_ALIAS_VALUES:
                raise ConfigError(
                    f"{_at(shown, node.start_mark.line + 1, lines)}: aliases (*name) expand this value to "
                    f"{sizes[key]:,} values; at most {MAX_ALIAS_VALUES:,} more than written are allowed"
                )
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise ConfigError(f"{_at(shown, node.start_mark.line + 1, lines)}: an alias (*name) "
                              "refers to the value that contains it")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _at(shown: str, line: int, lines: bool) -> str:
    """Where a problem is: file:line, or only the name for a one-line value."""
    return f"{shown}:{line}" if lines else shown


def _too_deep(where: str) -> ConfigError:
    return ConfigError(f"{where}: nested more than {MAX_DEPTH} levels deep; flatten the config")


def load_checked(shown: str, loader: Any, text: str, *, lines: bool = True) -> Any:
    """Parse ``text`` with ``loader`` (made for that text) under the limits. Every problem
    is one ConfigError line naming ``shown`` (and the line, when ``lines``)."""
    try:
        check_text(shown, text, lines=lines)
        node = loader.get_single_node()
        if node is None:
            return None
        check_nodes(shown, node, lines=lines)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error_line(shown, exc, lines=lines)) from None
    except RecursionError:  # a last resort: check_text bounds what it can see
        raise ConfigError(f"{shown}: nested too deeply to read") from None
    finally:
        loader.dispose()


def yaml_error_line(shown: str, exc: yaml.YAMLError, *, lines: bool = True) -> str:
    """Where and what a YAML syntax or construction error is, in one line."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return f"{shown}: YAML error: {exc or 'invalid YAML'}"
    mark = exc.problem_mark or exc.context_mark
    where = _at(shown, mark.line + 1, lines) if mark is not None else shown
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context and "duplicate" not in problem else ""
    return f"{where}: YAML error: {problem}{context}"
