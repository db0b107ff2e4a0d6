"""One registry per kind of named thing (models, tasks, datasets, experiments, figures, ...).

A registry answers "which names exist" in one place and looks a name up with a did-you-mean
error. jaxdl's own entries are registered through the same `register` a user calls. An entry
may be given lazily as "module:attribute", imported on first use, so listing names (for
`jaxdl list` or a parser's help) imports nothing heavy.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _origin(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    while isinstance(obj, functools.partial):  # a partial's own module is functools
        obj = obj.func
    module = getattr(obj, "__module__", None) or type(obj).__module__
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}:{name}"


def _resolve(target: str) -> Any:
    module, _, attribute = target.partition(":")
    value: Any = importlib.import_module(module)
    for part in attribute.split(".") if attribute else ():
        value = getattr(value, part)
    return value


class UnknownNameError(KeyError, ValueError):
    """A name no registry entry has: a ValueError for users (one line, exit 2), a KeyError for Mapping code."""

    def __str__(self) -> str:
        return str(self.args[0])


def unknown_name_error(kind: str, plural: str, name: str, valid: Iterable[str]) -> UnknownNameError:
    """The error for a `name` not among `valid`, with the closest valid names as a hint."""
    valid = list(valid)
    close = difflib.get_close_matches(str(name), valid, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return UnknownNameError(f"unknown {kind} {name!r}{hint}; valid {plural}: {', '.join(valid)}")


class Registry(Mapping[str, T], Generic[T]):
    """Names of one kind -> entries, in registration order.

    `register(name, entry)` or `@register(name)`; `registry[name]` or `registry.get_or_raise(name)`
    looks a name up (a lazy "module:attribute" entry is imported then).
    """

    def __init__(self, kind: str, plural: str | None = None):
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self._entries: dict[str, Any] = {}

    def register(self, name: str, entry: Any = None) -> Any:
        """Adds `name`; as a decorator when `entry` is omitted. A name taken twice is an error."""
        if entry is None:
            return lambda obj: self.register(name, obj)
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice: by {_origin(self._entries[name])} "
                             f"and by {_origin(entry)}")
        self._entries[name] = entry
        return entry

    def __setitem__(self, name: str, entry: Any) -> None:
        """Replaces (or adds) `name` on purpose: a test's monkeypatch, an interactive session."""
        self._entries[name] = entry

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def origin(self, name: str) -> str:
        """Where `name`'s entry is defined, as "module:attribute"."""
        return _origin(self._entries[name])

    def get_or_raise(self, name: str) -> T:
        if name not in self._entries:
            raise unknown_name_error(self.kind, self.plural, name, self._entries)
        entry = self._entries[name]
        if isinstance(entry, str):
            entry = self._entries[name] = _resolve(entry)
        return entry

    def __getitem__(self, name: str) -> T:
        return self.get_or_raise(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._entries)})"


def call_with_accepted(fn: Callable[..., Any], *args: Any, **options: Any) -> Any:
    """fn(*args, **the options fn's signature names): one dispatcher for entries with different options."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(*args, **options)
    return fn(*args, **{k: v for k, v in options.items() if k in params})
