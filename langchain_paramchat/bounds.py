"""Bounds on values that come from outside: how deep and large, and what an id looks like.

A caller's JSON-like values (option values, settings, ``extra_body``, schemas, tool-call
arguments) are measured here without recursion, so a 10,000-level value is a package error
naming its option, never a ``RecursionError`` in a later recursive step. Ids given by the
caller (``resume_response``) or read from a saved job or a server reply become URL path
segments: a ``/``, ``..``, a query or a megabyte of text there would reach another endpoint,
so only plain ids (short runs of letters, digits, ``_``, ``-``, ``.``, ``:``) pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from langchain_paramchat.errors import OptionError
from langchain_paramchat.secrets import redact_headers

__all__ = [
    "HEADER_VALUE_RULE",
    "MAX_ID_CHARS",
    "MAX_JSON_DEPTH",
    "MAX_JSON_ITEMS",
    "check_headers",
    "check_settings",
    "header_value_problem",
    "json_shape_problem",
    "plain_id_problem",
]

MAX_JSON_DEPTH = 100
"""How deep a JSON-like value from the caller may nest (option values, ``extra_body``,
schemas, tool-call arguments); no real request comes near it, and deeper ones would make
Python's recursive JSON and ``repr`` code raise ``RecursionError``."""
MAX_JSON_ITEMS = 1_000_000
"""How many values (containers and leaves) one such value may hold in all."""

MAX_ID_CHARS = 256
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


def plain_id_problem(value: Any) -> str | None:
    """Return why ``value`` is not a plain id (a non-empty, bounded, URL-safe string), or None."""
    if not isinstance(value, str):
        return f"is not a string id ({type(value).__name__})"
    if not value or len(value) > MAX_ID_CHARS:
        return f"is not an id of 1 to {MAX_ID_CHARS} characters ({len(value)})"
    if not _PLAIN.fullmatch(value) or ".." in value:
        return f"{value[:80]!r} is not a plain id (letters, digits, '_', '-', '.', ':')"
    return None


def json_shape_problem(
    value: Any, *, depth: int = MAX_JSON_DEPTH, items: int = MAX_JSON_ITEMS
) -> str | None:
    """Return why ``value`` is too deep or too large to send, or None.

    Walks dicts, lists and tuples without recursion, so a 10,000-level (or self-containing)
    value is measured, not a ``RecursionError``.
    """
    if not isinstance(value, dict | list | tuple):
        return None
    stack: list[tuple[Any, int]] = [(value, 1)]
    seen = 0
    while stack:
        node, level = stack.pop()
        seen += 1
        if seen > items:
            return f"holds more than {items:,} values; the limit is {items:,}"
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if level > depth:
            return f"nests more than {depth} levels deep; the limit is {depth}"
        stack.extend((child, level + 1) for child in children)
    return None


# What an HTTP/1.1 header value may hold as the SDK's HTTP library sends it: it encodes
# values as ASCII (anything else is a raw UnicodeEncodeError whose repr holds the whole
# value, a key included) and refuses leading or trailing whitespace (a connection error,
# retried as if the network had failed).
_NOT_IN_HEADER = re.compile(r"[^\t\x20-\x7e]")
HEADER_VALUE_RULE = "printable ASCII, without line breaks, NUL or spaces around it"


def header_value_problem(value: str) -> str | None:
    """Return why ``value`` cannot be sent as a header value, or None when it can."""
    if any(c in value for c in "\r\n\0"):
        return "a line break or NUL in it"
    if _NOT_IN_HEADER.search(value):
        return "a character in it that is not printable ASCII"
    if value != value.strip(" \t"):
        return "spaces around it"
    return None


def check_headers(headers: Mapping[str, str] | None) -> None:
    """Raise ``OptionError`` for header names and values HTTP cannot carry (CR/LF would split
    the header, non-ASCII cannot be encoded); a credential header's value is not shown."""
    if headers is None:
        return
    if not isinstance(headers, Mapping):
        raise OptionError("default_headers", headers, "a dict of header name to string value")
    for name, value in headers.items():
        if not isinstance(name, str) or not name or any(c in name for c in "\r\n:\0 "):
            raise OptionError(
                "default_headers", name, "header names are non-empty strings without CR/LF/:"
            )
        if not isinstance(value, str) or header_value_problem(value) is not None:
            shown = redact_headers({name: value})[name] if isinstance(value, str) else value
            raise OptionError(
                f"default_headers[{name!r}]",
                shown,
                f"a header value is a string of {HEADER_VALUE_RULE}",
            )


def check_settings(settings: Mapping[str, Any]) -> None:
    """Raise ``OptionError`` for a setting nested too deep or too large, or bad headers."""
    for name, value in settings.items():
        shape = json_shape_problem(value)
        if shape is not None:
            raise OptionError(name, value, f"a JSON value that {shape}")
    check_headers(settings.get("default_headers"))
