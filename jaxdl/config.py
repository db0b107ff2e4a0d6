"""Command-line overrides for ml_collections configs: `--set key=value`.

Values are parsed to the type the config already holds, so a typo'd key or a
value of the wrong kind fails at once, naming what is valid.
"""

from __future__ import annotations

import ast
import difflib
import warnings
from collections.abc import Iterable
from typing import Any

import ml_collections


def flat_keys(config: ml_collections.ConfigDict, prefix: str = "") -> list[str]:
    keys = []
    for name, value in config.items():
        key = f"{prefix}{name}"
        if isinstance(value, ml_collections.ConfigDict):
            keys.extend(flat_keys(value, key + "."))
        else:
            keys.append(key)
    return keys


def flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> {"model.hidden": ...}, so a difference names its exact key."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def shown(text: str) -> str:
    """`text` as an error message shows it: as typed, or quoted with escapes when it holds a
    newline or other unprintable character (an error stays one line)."""
    return text if text.isprintable() else repr(text)


def coerce(value: Any, current: Any) -> Any:
    """`value` (a Python literal or a JSON value) as the type of `current`; a TypeError names the
    type expected. An int is taken for a float; a list or tuple for a tuple, item by item as its first."""
    if isinstance(current, tuple):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"expected a tuple, got {type(value).__name__}")
        try:
            return tuple(coerce(v, current[0]) for v in value) if current else tuple(value)
        except TypeError:
            raise TypeError(f"expected a tuple of {type(current[0]).__name__}") from None
    if isinstance(current, float) and type(value) is int:
        try:
            return float(value)
        except OverflowError:
            raise TypeError(f"expected float: {value} is too large") from None
    if type(value) is not type(current):
        raise TypeError(f"expected {type(current).__name__} (current value {current!r})")
    return value


def parse_value(key: str, text: str, current: Any) -> Any:
    """`text` as the type of `current` (bool/int/float/str/tuple)."""
    where = f"--set {shown(f'{key}={text}')}"
    if isinstance(current, bool):
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ValueError(f"{where}: expected true or false")
    if isinstance(current, str):
        try:
            text.encode()
        except UnicodeEncodeError:  # e.g. undecodable bytes in argv: nothing could print or save it
            raise ValueError(f"{where}: not valid UTF-8") from None
        return text
    try:
        with warnings.catch_warnings():  # e.g. "1if": a SyntaxWarning would be a second stderr line
            warnings.simplefilter("ignore")
            value = ast.literal_eval(text)
    # TypeError: an unhashable key ({[]: 1}); MemoryError: operators nested past the parser's depth.
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ValueError(f"{where}: cannot parse {text!r} as {type(current).__name__}") from None
    if isinstance(current, tuple) and not isinstance(value, (list, tuple)):
        value = (value,)
    try:
        return coerce(value, current)
    except TypeError as e:
        raise ValueError(f"{where}: {e}") from None


def apply_overrides(config: ml_collections.ConfigDict, overrides: Iterable[str]) -> ml_collections.ConfigDict:
    """A copy of `config` with each 'dotted.key=value' applied."""
    config = ml_collections.ConfigDict(config.to_dict())
    valid = flat_keys(config)
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"--set expects key=value, got {item!r}")
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"unknown config key {key!r}{hint}; valid keys: {', '.join(valid)}")
        parent, _, leaf = key.rpartition(".")
        node = config
        for part in filter(None, parent.split(".")):
            node = node[part]
        node[leaf] = parse_value(key, text.strip(), node[leaf])
    return config
