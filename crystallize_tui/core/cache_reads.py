"""Which config keys a cached step reads, so conditions that differ only elsewhere share its entry."""

from __future__ import annotations

from typing import Any

from .cache_keys import stable_hash

# A step may read a key the config does not have (config.get("k", default)): that absence
# is part of what it saw, told apart from any value.
_ABSENT = ("crystallize-cache", "absent")


class ConfigReads(dict):  # type: ignore[type-arg]
    """A copy of a replicate's config handed to a cached step, noting the top-level keys it
    reads. Anything that sees the whole mapping (iterating, ``len``, ``copy``, ``dict(c)``,
    ``{**c}``, ``json.dumps``, ``==``, pickling) counts as reading every key, so the entry is
    then keyed by the whole config, as without tracking. Once stopped it is a plain mapping."""

    __slots__ = ("keys_read", "read_all", "on")

    def __init__(self, config: dict[Any, Any]) -> None:
        super().__init__(config)
        self.keys_read: set[Any] = set()
        self.read_all = False
        self.on = True

    def _note(self, key: Any) -> None:
        if self.on:
            self.keys_read.add(key)

    def _everything(self) -> None:
        if self.on:
            self.read_all = True

    def __getitem__(self, key: Any) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._note(key)
        return super().setdefault(key, default)

    def pop(self, key: Any, *default: Any) -> Any:
        self._note(key)
        return super().pop(key, *default)

    def __iter__(self) -> Any:
        self._everything()
        return super().__iter__()

    def keys(self) -> Any:
        self._everything()
        return super().keys()

    def values(self) -> Any:
        self._everything()
        return super().values()

    def items(self) -> Any:
        self._everything()
        return super().items()

    def __len__(self) -> int:
        self._everything()
        return super().__len__()

    def __eq__(self, other: object) -> bool:
        self._everything()
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        self._everything()
        return super().__ne__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        self._everything()
        return super().__repr__()

    def copy(self) -> dict[Any, Any]:
        self._everything()
        return dict(super().items())

    def popitem(self) -> tuple[Any, Any]:
        self._everything()
        return super().popitem()

    def __or__(self, other: Any) -> Any:
        self._everything()
        return dict(super().items()) | other

    def __ror__(self, other: Any) -> Any:
        self._everything()
        return other | dict(super().items())

    def __reduce_ex__(self, protocol: Any) -> Any:
        self._everything()
        return (dict, (dict(super().items()),))  # a plain dict wherever it is unpickled

    def __deepcopy__(self, memo: Any) -> Any:
        import copy

        self._everything()
        return copy.deepcopy(dict(super().items()), memo)

    def read_keys(self) -> list[str] | None:
        """The sorted keys read, or None when the step saw the whole mapping (or read a key
        that is not a string, which the index of read keys cannot hold)."""
        if self.read_all or not all(isinstance(k, str) for k in self.keys_read):
            return None
        return sorted(self.keys_read)


class ConfigDigest:
    """Digests of a config taken before the step runs (it may change the config in place,
    nested values too): of each top-level value of a dict, and of the whole."""

    __slots__ = ("values", "whole")

    def __init__(self, config: Any) -> None:
        if type(config) is dict:
            self.values: dict[Any, str] | None = {k: stable_hash(v) for k, v in config.items()}
            self.whole = stable_hash(("all", sorted((stable_hash(k), d) for k, d in self.values.items())))
        else:
            self.values = None
            self.whole = stable_hash(("all", config))

    def part(self, keys: list[str] | None) -> str:
        """What the step saw: the values of ``keys`` (absent ones marked), or all of it
        when ``keys`` is None."""
        if keys is None or self.values is None:
            return self.whole
        return stable_hash(("keys", [(k, self.values.get(k, _ABSENT)) for k in keys]))
