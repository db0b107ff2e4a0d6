"""Command-line overrides for ml_collections configs: `--set key=value`.

Values are parsed to the type the config already holds, so a typo'd key or a
value of the wrong kind fails at once, naming what is valid.
"""

from __future__ import annotations

import ast
import difflib
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


def parse_value(key: str, text: str, current: Any) -> Any:
    """`text` as the type of `current` (bool/int/float/str/tuple)."""
    if isinstance(current, bool):
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ValueError(f"--set {key}={text}: expected true or false")
    if isinstance(current, str):
        return text
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"--set {key}={text}: cannot parse {text!r} as {type(current).__name__}") from None
    if isinstance(current, tuple):
        value = tuple(value) if isinstance(value, (list, tuple)) else (value,)
        if current and not all(isinstance(v, type(current[0])) for v in value):
            raise ValueError(f"--set {key}={text}: expected a tuple of {type(current[0]).__name__}")
        return value
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not type(current):
        raise ValueError(
            f"--set {key}={text}: expected {type(current).__name__} (current value {current!r})"
        )
    return value


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
            raise ValueError(f"unknown config key '{key}'{hint}; valid keys: {', '.join(valid)}")
        parent, _, leaf = key.rpartition(".")
        node = config
        for part in filter(None, parent.split(".")):
            node = node[part]
        node[leaf] = parse_value(key, text.strip(), node[leaf])
    return config
