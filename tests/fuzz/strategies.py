"""Strategies and checks the fuzz properties share: JSON-like values, mutated fixtures, the key.

Every property here states one contract: the code under test returns, or raises a
``ParamChatError``; it never raises anything else, never hangs past its bound, and never
shows the API key in an error's message, repr or body, or in a log record.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from hypothesis import strategies as st

from langchain_paramchat.errors import ParamChatError

T = TypeVar("T")

KEY = "sk-fuzz-KEY-4f1c9a7e2b"
"""A recognisable fake API key: the models under test use it, and servers echo it."""

# Strings that make parsers work hard: JSON and SSE syntax, escapes, huge numbers. A caller
# may pass any of them; a server may also echo the key (SERVER_TEXT).
NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\r\n",
        "\n\n",
        "data: x",
        "[DONE]",
        "{",
        '{"a":',
        "\u2028",
        "\ud800",
        "1e308",
        "-1",
        "NaN",
        "inf",
        "0_2",
        "0~1",
        "../x",
        "%s%(x)s{}",
        "x" * 300,
    ]
)
TEXT = st.one_of(st.text(max_size=20), NASTY_TEXT)
SERVER_TEXT = st.one_of(TEXT, st.sampled_from([KEY, f"Bearer {KEY}", f"key {KEY}."]))
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 2**63, 10**100, 0.5, -0.0, math.inf, math.nan]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
SERVER_SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, SERVER_TEXT)


def json_values(max_leaves: int = 12, scalars: st.SearchStrategy[Any] = SCALARS) -> Any:
    """Return a strategy for JSON-like values: scalars, lists and string-keyed dicts."""
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(TEXT, inner, max_size=4),
        ),
        max_leaves=max_leaves,
    )


JSON = json_values()
"""Values a caller passes (they never contain the key)."""
SERVER_JSON = json_values(scalars=SERVER_SCALARS)
"""Values a server sends (sometimes echoing the key)."""


def deep(depth: int, leaf: Any = 1, kind: str = "list") -> Any:
    """Return ``leaf`` nested ``depth`` levels deep in lists or dicts, built without recursion."""
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return the path of every node inside ``value`` (dict keys and list indexes)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths(item, (*prefix, i))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: Any, values: st.SearchStrategy[Any] = JSON) -> Any:
    """Return a deep copy of ``base`` with one to three nodes replaced by values or removed."""
    body = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        candidates = [p for p in paths(body) if p]
        if not candidates:
            return draw(values)
        path = draw(st.sampled_from(candidates))
        node = body
        for key in path[:-1]:
            node = node[key]
        if isinstance(node, dict) and draw(st.booleans()) and draw(st.booleans()):
            del node[path[-1]]
        else:
            node[path[-1]] = draw(values)
    return body


def check_error(exc: BaseException, key: str | None = KEY) -> None:
    """Assert ``exc`` is a ``ParamChatError`` that shows nothing of ``key`` (None: no key).

    Parsers see no key: the transport scrubs what a server echoes before they run, so
    parser-level properties pass None and the end-to-end ones check the key.
    """
    assert isinstance(exc, ParamChatError), f"raw {type(exc).__name__}: {exc!r}"[:500]
    if key is None:
        return
    shown = [str(exc), repr(exc), repr(getattr(exc, "body", None))]
    for text in shown:
        assert key not in text, f"{type(exc).__name__} shows the API key: {text[:300]!r}"


def outcome(call: Callable[[], T], key: str | None = KEY) -> T | ParamChatError:
    """Run ``call``; return its result, or the ``ParamChatError`` it raised (checked)."""
    try:
        return call()
    except ParamChatError as exc:
        check_error(exc, key)
        return exc


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            self.texts.append(repr(record.exc_info[1]))


@contextlib.contextmanager
def no_key_in_logs(key: str = KEY) -> Iterator[list[str]]:
    """Capture the package's log records at DEBUG and assert none shows ``key``."""
    logger = logging.getLogger("langchain_paramchat")
    handler = _Collect()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.texts
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    for text in handler.texts:
        assert key not in text, f"a log record shows the API key: {text[:300]!r}"
