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
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")
# Installed packages contribute experiments, models, tasks and datasets through this entry-point group.
PLUGIN_GROUP = "jaxdl.plugins"
_LOADED_PLUGINS: set[str] = set()


def _origin(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    while isinstance(obj, functools.partial):  # a partial's own module is functools
        obj = obj.func
    module = getattr(obj, "__module__", None) or type(obj).__module__
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}:{name}"


def _registered_from(entry: Any) -> str:
    """`entry`'s own origin when it names one (a function, a class, a lazy "module:attribute"),
    else where `register` was called from: the first frame outside the register functions."""
    if isinstance(entry, str) or hasattr(entry, "__qualname__") or isinstance(entry, functools.partial):
        return _origin(entry)
    frame = sys._getframe(1)
    while frame is not None and (frame.f_code.co_name.startswith("register") or frame.f_code.co_name == "<lambda>"):
        frame = frame.f_back
    where = f"{frame.f_globals.get('__name__')} (line {frame.f_lineno})" if frame is not None else "?"
    return f"{_origin(entry)} registered in {where}"


def load_plugins(group: str = PLUGIN_GROUP) -> list[str]:
    """Imports every installed package's `group` entry points, once: each registers its own
    experiments, models, tasks or datasets (a module is imported, a function is called)."""
    from importlib import metadata

    loaded = []
    for point in metadata.entry_points(group=group):
        if point.value in _LOADED_PLUGINS:
            continue
        try:
            target = point.load()
            if callable(target):
                target()
        except Exception as e:  # a broken plugin names itself instead of failing somewhere later
            raise ValueError(f"jaxdl plugin {point.name!r} ({point.value}) failed to load: "
                             f"{type(e).__name__}: {e}") from e
        _LOADED_PLUGINS.add(point.value)
        loaded.append(point.name)
    return loaded


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
        self._origins: dict[str, str] = {}

    def register(self, name: str, entry: Any = None, *, origin: str | None = None) -> Any:
        """Adds `name`; as a decorator when `entry` is omitted.

        `origin` says where the entry comes from (default: the function's or class's own
        "module:name", else the module and line that called `register`). The same origin again
        replaces the entry (a re-run script or notebook cell redefines it); another origin under a
        taken name is an error naming both.
        """
        if entry is None:
            return lambda obj: self.register(name, obj, origin=origin)
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        if self._entries.get(name) is entry:
            return entry
        origin = origin or _registered_from(entry)
        if name in self._entries and self._origins[name] != origin:
            raise ValueError(f"{self.kind} {name!r} is registered twice: by {self._origins[name]} and by {origin}")
        self._entries[name] = entry
        self._origins[name] = origin
        return entry

    def __setitem__(self, name: str, entry: Any) -> None:
        """Replaces (or adds) `name` on purpose: a test's monkeypatch, an interactive session."""
        self._entries[name] = entry
        self._origins[name] = _registered_from(entry)

    def __delitem__(self, name: str) -> None:
        del self._entries[name]
        del self._origins[name]

    def origin(self, name: str) -> str:
        """Where `name`'s entry comes from: "module:attribute" of a function or class (or a lazy
        entry's target), else the module and line that registered it."""
        return self._origins[name]

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
