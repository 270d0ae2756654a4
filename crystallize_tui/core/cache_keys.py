"""Stable hashes for step caching: of a step's code, of the data it gets and of its config."""

from __future__ import annotations

import functools
import hashlib
import inspect
import math
import pickle
import struct
from collections.abc import Callable
from typing import Any

# Bumped when the key's recipe changes, so old entries are never read with a new meaning.
KEY_VERSION = b"crystallize-cache-1"


class Unhashable(Exception):
    """The value cannot be hashed stably (it does not pickle, or it refers to itself)."""


def stable_hash(value: Any) -> str:
    """A hex digest that is the same for equal data in any process and any run.

    Plain pickles are not stable for this: a set of strings pickles in an order that
    changes with each interpreter's hash seed, and a dict in its insertion order. So
    containers and numbers are hashed by their content (dicts and sets in sorted order of
    their members' digests), numpy arrays by dtype, shape and bytes, and anything else by
    its pickle. Raises Unhashable when that fails.
    """
    h = hashlib.blake2b(digest_size=20)
    try:
        _feed(h, value)
    except Unhashable:
        raise
    except RecursionError:
        raise Unhashable("it is nested too deeply or contains itself") from None
    except Exception as exc:  # pickling the user's object failed, in whatever way
        raise Unhashable(f"{type(exc).__name__}: {exc}") from None
    return h.hexdigest()


def _digest(value: Any) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    _feed(h, value)
    return h.digest()


def _feed(h: Any, value: Any) -> None:
    kind = type(value)
    if value is None:
        h.update(b"N")
    elif kind is bool:
        h.update(b"T" if value else b"F")
    elif kind is int:
        text = str(value).encode()
        h.update(b"i" + struct.pack("<Q", len(text)) + text)
    elif kind is float:
        # repr tells -0.0 from 0.0 and keeps every digit; all NaNs are one NaN
        h.update(b"f" + (b"nan" if math.isnan(value) else repr(value).encode()) + b";")
    elif kind is str:
        raw = value.encode("utf-8", "surrogatepass")
        h.update(b"s" + struct.pack("<Q", len(raw)) + raw)
    elif kind is bytes:
        h.update(b"b" + struct.pack("<Q", len(value)) + value)
    elif kind in (list, tuple):
        h.update((b"l" if kind is list else b"t") + struct.pack("<Q", len(value)))
        for item in value:
            _feed(h, item)
    elif kind is dict:
        pairs = sorted((_digest(k), _digest(v)) for k, v in value.items())
        h.update(b"d" + struct.pack("<Q", len(pairs)))
        for k, v in pairs:
            h.update(k + v)
    elif kind in (set, frozenset):
        members = sorted(_digest(item) for item in value)
        h.update(b"S" + struct.pack("<Q", len(members)) + b"".join(members))
    elif kind.__module__ == "numpy" and kind.__name__ == "ndarray" and value.dtype.kind != "O":
        h.update(b"a" + value.dtype.str.encode() + repr(value.shape).encode())
        h.update(value.tobytes())  # tobytes copies a non-contiguous array into C order
    else:
        try:
            raw = pickle.dumps(value, protocol=4)
        except Exception as exc:
            raise Unhashable(f"a {kind.__name__} does not pickle ({type(exc).__name__}: {exc})") from None
        h.update(b"p" + kind.__module__.encode() + b"." + kind.__qualname__.encode() + b";" + raw)


@functools.lru_cache(maxsize=256)
def _code_key(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__qualname__
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        # No source file (defined in a REPL or exec'd): the compiled code stands in for it.
        code = getattr(fn, "__code__", None)
        source = repr((code.co_code, code.co_consts, code.co_names)) if code is not None else repr(fn)
    h = hashlib.blake2b(digest_size=20)
    h.update(KEY_VERSION + b"\0" + module.encode() + b"\0" + name.encode() + b"\0" + source.encode())
    return h.hexdigest()


def code_key(fn: Callable[..., Any]) -> str:
    """A digest of a step's source text and its module's qualified name; for a step with
    fixed keyword arguments (YAML ``with:``) the arguments count too."""
    if isinstance(fn, functools.partial):
        inner = code_key(fn.func)
        try:
            return stable_hash((inner, fn.args, fn.keywords))
        except Unhashable:
            return inner + ":" + repr((fn.args, sorted(fn.keywords.items())))
    try:
        return _code_key(fn)
    except TypeError:  # an unhashable callable object: not worth remembering
        return _code_key.__wrapped__(fn)


def combine(*parts: Any) -> str:
    """One digest of several digests and plain values."""
    return stable_hash(parts)
