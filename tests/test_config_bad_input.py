"""`--set` with random bad input (hypothesis): unknown, misspelled or nested keys, a missing '=',
values of the wrong type for the key, malformed literals, huge numbers, unicode. Each fails as one
ValueError line naming the key, and `jaxdl show` turns it into one stderr line and exit code 2;
values of the right type are accepted, so each property can fail both ways."""

import re
import warnings

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from jaxdl import cli, config as config_lib, experiments

BASE = experiments.get_config("mnist_mlp")
KEYS = config_lib.flat_keys(BASE)
SECTIONS = sorted({k.rpartition(".")[0] for k in KEYS} - {""})


def _current(key: str):
    node = BASE
    for part in key.split("."):
        node = node[part]
    return node


KEYS_BY_TYPE = {kind: [k for k in KEYS if type(_current(k)) is kind] for kind in (bool, int, float, str)}
INT_TUPLE = "model.hidden"
STR_TUPLE = "train.eval_splits"
assert isinstance(_current(INT_TUPLE)[0], int) and isinstance(_current(STR_TUPLE)[0], str)

# Text that is never a Python literal, or one that literal_eval itself refuses in odd ways: an
# unhashable dict key (TypeError), operators nested past the parser's depth (MemoryError), a
# SyntaxWarning ("1if") that would print a second stderr line.
MALFORMED = st.sampled_from(["", "abc", "(1,", "[1, 2", "{[]: 1}", "{{1}}", "-" * 20000 + "1", "1if",
                             "(" * 300 + ")" * 300, "9" * 5000, "1 +", "'unterminated", "\x00", "x\ny",
                             "1e", "0x", "None(", "lambda: 1", "__import__('os')", "1;2", "é", "٣"])
# Python literals of each kind, written as a user would type them.
INTS = st.integers(min_value=-(10**300), max_value=10**300)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
NON_INT_LITERALS = st.one_of(
    FLOATS.map(repr), st.booleans().map(repr), st.text(max_size=8).map(repr), st.just("None"), st.just("1j"),
    st.lists(INTS, max_size=3).map(repr), st.lists(st.text(max_size=4), max_size=2).map(repr),
    st.dictionaries(st.integers(), INTS, max_size=2).map(repr),
)
LITERALS = st.one_of(INTS.map(repr), NON_INT_LITERALS, st.just(repr(10**400)))  # the last: past float's range


def _wrong_value(kind) -> st.SearchStrategy[str]:
    """Text that is not a value of `kind` (as parse_value reads it)."""
    if kind is bool:
        return st.text(max_size=8).filter(lambda t: t.strip().lower() not in ("true", "1", "yes", "false", "0", "no"))
    if kind is int:
        return st.one_of(MALFORMED, NON_INT_LITERALS)
    if kind is float:
        return st.one_of(MALFORMED, FLOATS.map(repr).map(lambda t: f"'{t}'"), st.booleans().map(repr),
                         st.just(repr(10**400)), st.just("1j"), st.just("(0.1,)"), st.just("None"))
    raise AssertionError(kind)


def _valid_value(kind) -> st.SearchStrategy[tuple[str, object]]:
    """(text, the value it must set) for `kind`."""
    if kind is bool:
        words = st.sampled_from([("true", True), ("1", True), ("yes", True), ("false", False), ("0", False),
                                 ("no", False)])
        return st.tuples(words, st.booleans()).map(lambda w: (w[0][0].upper() if w[1] else w[0][0], w[0][1]))
    if kind is int:
        return INTS.map(lambda i: (repr(i), i))
    if kind is float:  # an int is taken for a float
        return st.one_of(FLOATS.map(lambda f: (repr(f), f)), INTS.filter(lambda i: abs(i) < 2**1000)
                         .map(lambda i: (repr(i), float(i))))
    if kind is str:  # any text, as typed but for the whitespace around it
        return st.text().map(lambda t: (t, t.strip()))
    raise AssertionError(kind)


@st.composite
def misspelled_keys(draw) -> str:
    """A key with one character dropped, doubled or replaced, and not a key any more."""
    key = draw(st.sampled_from(KEYS))
    i = draw(st.integers(0, len(key) - 1))
    edit = draw(st.sampled_from(["drop", "double", "replace"]))
    if edit == "drop":
        key = key[:i] + key[i + 1:]
    elif edit == "double":
        key = key[:i] + key[i] + key[i:]
    else:
        key = key[:i] + draw(st.characters(exclude_characters="=")) + key[i + 1:]
    key = key.strip()
    return key if key not in KEYS else key + "_x"  # e.g. "optimizer.l1" -> "optimizer.l2"


@st.composite
def bad_overrides(draw) -> tuple[str, str]:
    """(item for --set, what its error must name)."""
    family = draw(st.sampled_from(["unknown", "misspelled", "nested", "section", "empty", "no_equals",
                                   "bool", "int", "float", "int_tuple", "str_tuple", "surrogate"]))
    value = draw(LITERALS)
    if family == "unknown":
        key = draw(st.text(st.characters(exclude_characters="="), min_size=1, max_size=30)
                   .filter(lambda k: k.strip() not in KEYS))
        return f"{key}={value}", key.strip()
    if family == "misspelled":
        key = draw(misspelled_keys())
        return f"{key}={value}", key
    if family == "nested":  # below a leaf, or an unknown leaf of a real section
        parent = draw(st.sampled_from(KEYS + SECTIONS))
        key = f"{parent}.{draw(st.sampled_from(['x', 'value', 'hidden', '0', 'name.name']))}"
        key = key if key not in KEYS else key + ".x"  # "model" + "hidden" is a real key
        return f"{key}={value}", key
    if family == "section":  # a whole section is not a value
        key = draw(st.sampled_from(SECTIONS))
        return f"{key}={value}", key
    if family == "empty":
        return f"={value}", ""
    if family == "no_equals":
        item = draw(st.one_of(st.sampled_from(KEYS), st.text(st.characters(exclude_characters="="), max_size=20)))
        return item, item
    if family == "surrogate":  # undecodable bytes in argv arrive as lone surrogates
        key = draw(st.sampled_from(KEYS_BY_TYPE[str]))
        return f"{key}=x\udcff", key
    if family == "int_tuple":
        text = draw(st.one_of(
            MALFORMED, st.sampled_from(["(1.5,)", "(True,)", "('a',)", "((1, 2),)", "[1, None]", "{1: 2}", "'64'",
                                        "2.0", "[[1]]", f"({10**400}.0,)"])))
        return f"{INT_TUPLE}={text}", INT_TUPLE
    if family == "str_tuple":
        text = draw(st.one_of(st.sampled_from(["(1,)", "validation", "('a', 1)", "[['test']]", "None", "(b'x',)"]),
                              MALFORMED))
        return f"{STR_TUPLE}={text}", STR_TUPLE
    kind = {"bool": bool, "int": int, "float": float}[family]
    key = draw(st.sampled_from(KEYS_BY_TYPE[kind]))
    return f"{key}={draw(_wrong_value(kind))}", key


@st.composite
def good_overrides(draw) -> tuple[str, str, object]:
    """(item for --set, key, the value it must set)."""
    family = draw(st.sampled_from([bool, int, float, str, "int_tuple", "str_tuple"]))
    if family == "int_tuple":
        sizes = draw(st.lists(st.integers(1, 10**6), min_size=1, max_size=4))
        text = draw(st.sampled_from([repr(tuple(sizes)), repr(sizes), repr(sizes[0])]))
        value = tuple(sizes) if text != repr(sizes[0]) else (sizes[0],)
        return f"{INT_TUPLE}={text}", INT_TUPLE, value
    if family == "str_tuple":
        splits = draw(st.lists(st.text(max_size=10), max_size=3))
        return f"{STR_TUPLE}={tuple(splits)!r}", STR_TUPLE, tuple(splits)
    key = draw(st.sampled_from(KEYS_BY_TYPE[family]))
    text, value = draw(_valid_value(family))
    spaces = draw(st.sampled_from(["", " ", "\t"]))  # around key and value: stripped
    return f"{spaces}{key}{spaces}={spaces}{text}{spaces}", key, value


def _names(message: str, key: str) -> bool:
    """Whether `message` names `key`: as an unknown key, a malformed item, or the item it could not parse."""
    return (f"unknown config key {key!r}" in message or f"got {key!r}" in message
            or re.match(rf"--set ['\"]?{re.escape(key)}=", message) is not None)


def _show(capsys, item: str) -> tuple[int, str, str]:
    capsys.readouterr()  # an earlier example's output
    # `--set=ITEM`: as a separate argument, an item starting with '-' is an option to argparse.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SyntaxWarning)
        code = cli.main(["show", "mnist_mlp", f"--set={item}"])
    out, err = capsys.readouterr()
    assert not [w for w in caught if issubclass(w.category, SyntaxWarning)]  # it would print a stderr line
    return code, out, err


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad_overrides())
@example(("seed={[]: 1}", "seed"))  # literal_eval raised TypeError: a traceback
@example(("seed=" + "-" * 20000 + "1", "seed"))  # literal_eval raised MemoryError
@example((f"optimizer.learning_rate={10**400}", "optimizer.learning_rate"))  # float(int) raised OverflowError
@example(("seed=1if", "seed"))  # a SyntaxWarning went to stderr before the error line
@example(("seed=a\nb", "seed"))  # the value's newline made the error two lines
@example(("see\nd=1", "see\nd"))  # so did a key's
@example(("model.hidden=(True,)", "model.hidden"))  # a bool passed for an int in a tuple
@example(("data.name=x\udcff", "data.name"))  # printing the config raised UnicodeEncodeError
def test_bad_set_items_fail_as_one_line_naming_the_key(capsys, bad):
    item, key = bad
    with pytest.raises(ValueError) as e:
        config_lib.apply_overrides(BASE, [item])
    message = str(e.value)
    assert len(message.splitlines()) == 1 and _names(message, key), message
    code, out, err = _show(capsys, item)
    assert (code, out) == (2, "")
    assert err == f"jaxdl: error: {message}\n" and len(err.splitlines()) == 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(good_overrides())
@example(("model.hidden=64", "model.hidden", (64,)))  # one int for a tuple
@example(("optimizer.learning_rate=1", "optimizer.learning_rate", 1.0))  # an int for a float
@example((f"seed={10**300}", "seed", 10**300))  # any int, however large
@example(("data.name=\u00e9\u2603", "data.name", "\u00e9\u2603"))  # unicode for a str
@example(("train.eval_splits=()", "train.eval_splits", ()))
def test_good_set_items_set_the_value(capsys, good):
    item, key, value = good
    config = config_lib.apply_overrides(BASE, [item])
    got = config
    for part in key.split("."):
        got = got[part]
    assert got == value and type(got) is type(_current(key))
    assert BASE.to_dict() == experiments.get_config("mnist_mlp").to_dict()  # the base is not mutated
    code, out, err = _show(capsys, item)
    assert (code, err) == (0, "") and f"{key.rpartition('.')[2]}:" in out
