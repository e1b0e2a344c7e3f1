"""Checks of the connection settings a transport builds HTTP clients from, before any request.

A proxy URL and socket options are ChatOpenAI's ``openai_proxy`` (or ``OPENAI_PROXY``) and
``http_socket_options``; errors name them so, show a proxy URL without its credentials and
never show a key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from langchain_paramchat.bounds import HEADER_VALUE_RULE, header_value_problem
from langchain_paramchat.errors import OptionError
from langchain_paramchat.secrets import redact_url

__all__ = ["PROXY_SCHEMES", "check_proxy", "check_socket_options", "check_static_key"]

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
"""Proxy URL schemes the SDK's HTTP library speaks (SOCKS needs its ``socks`` extra)."""

_LINE_BREAKS = ("\r", "\n", "\0")


def check_static_key(key: object) -> None:
    """Raise ``OptionError`` (never showing the key) for a key a header cannot carry."""
    if not isinstance(key, str) or header_value_problem(key) is not None:
        raise OptionError(
            "api_key",
            "**********",
            f"the API key as a str of {HEADER_VALUE_RULE}, or a function returning it",
        )


def check_proxy(proxy: object) -> str | None:
    """Return ``proxy`` (None or a proxy URL), or raise ``OptionError`` naming what is allowed."""
    if proxy is None or proxy == "":
        return None
    allowed = f"a proxy URL: {'/'.join(PROXY_SCHEMES)}://[user:password@]host[:port]"
    if not isinstance(proxy, str):
        raise OptionError("openai_proxy", type(proxy).__name__, allowed)
    shown = redact_url(proxy)
    if any(c in proxy for c in _LINE_BREAKS) or proxy != proxy.strip():
        raise OptionError("openai_proxy", shown, f"{allowed}, without spaces or line breaks")
    try:
        parts = urlsplit(proxy)
        host = parts.hostname
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        raise OptionError("openai_proxy", shown, allowed) from None
    if parts.scheme.lower() not in PROXY_SCHEMES or not host:
        raise OptionError("openai_proxy", shown, allowed)
    return proxy


def check_socket_options(options: object) -> tuple[tuple[Any, ...], ...] | None:
    """Return ``http_socket_options`` as a tuple of ``(level, option, value)`` tuples.

    None and ``()`` both mean "no socket options" (None is returned for both). Raise
    ``OptionError`` for anything else than a sequence of such tuples.
    """
    if options is None:
        return None
    allowed = (
        "a sequence of (level, option, value) tuples of ints, e.g. "
        "[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)], or None"
    )
    if isinstance(options, str | bytes) or not isinstance(options, Sequence):
        raise OptionError("http_socket_options", options, allowed)
    out = []
    for i, option in enumerate(options):
        if (
            not isinstance(option, Sequence)
            or isinstance(option, str | bytes)
            or len(option) != 3
            or not all(isinstance(part, int) for part in option[:2])
            or not isinstance(option[2], int | bytes)
        ):
            raise OptionError(f"http_socket_options[{i}]", option, allowed)
        out.append(tuple(option))
    return tuple(out) or None
