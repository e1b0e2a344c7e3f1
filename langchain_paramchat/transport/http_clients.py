"""The HTTP clients ParamChat builds itself: the SDK's defaults, a proxy, socket options.

A custom ``http_client``/``http_async_client`` is used as given and never reaches this
module. For the clients built here ``openai_proxy`` (or ``OPENAI_PROXY``) sends every request
through that proxy, and ``http_socket_options`` are set on every connection the pool opens
(TCP keep-alive, for example), as ChatOpenAI does with its own clients.
"""

from __future__ import annotations

import contextlib
import logging
import urllib.request
from collections.abc import Callable
from typing import Any

import openai

from langchain_paramchat._sdk.http import hx
from langchain_paramchat.errors import OptionError
from langchain_paramchat.secrets import redact_url
from langchain_paramchat.transport.settings import ClientSettings

__all__ = ["own_http_client"]

logger = logging.getLogger("langchain_paramchat")
_warned_env_proxy = False


def own_http_client(
    settings: ClientSettings, is_async: bool, event_hooks: dict[str, list[Callable[..., Any]]]
) -> Any:
    """Return a new SDK-default HTTP client for ``settings``' proxy and socket options.

    Raise ``OptionError`` when the HTTP library cannot use the proxy (a SOCKS proxy without
    the library's ``socks`` extra).
    """
    library = openai.DefaultAsyncHttpxClient if is_async else _ClosingHttpxClient
    proxy, options = settings.proxy, settings.socket_options
    kwargs: dict[str, Any] = {"event_hooks": event_hooks}
    if options:
        # Socket options live on the transport, which then owns the pool: give it the SDK's
        # pool limits and the proxy (a client-level proxy would use a transport without them).
        if proxy is None:
            _warn_if_env_proxy_bypassed()
        transport = hx.AsyncHTTPTransport if is_async else hx.HTTPTransport
        kwargs["transport"] = _built(
            lambda: transport(
                socket_options=list(options),
                proxy=proxy,
                limits=openai.DEFAULT_CONNECTION_LIMITS,
            ),
            proxy,
        )
    elif proxy is not None:
        kwargs["proxy"] = proxy
    return _built(lambda: library(**kwargs), proxy)


class _ClosingHttpxClient(openai.DefaultHttpxClient):
    """The SDK's default sync client that closes its pool when collected.

    The SDK's own client does the same; without it, a shared client set dropped from the
    cache (see ``clients.py``) leaves its keep-alive sockets to the garbage collector, which
    closes them with a ``ResourceWarning``. Nothing references a collected client, so no
    caller can be using it. (Async clients are closed with their event loop instead.)
    """

    def __del__(self) -> None:
        if not self.is_closed:
            with contextlib.suppress(Exception):  # best effort, as at interpreter exit
                self.close()


def _built(build: Callable[[], Any], proxy: str | None) -> Any:
    try:
        return build()
    except ImportError as exc:  # SOCKS without socksio
        raise OptionError(
            "openai_proxy",
            redact_url(proxy),
            f"needs an extra package of {hx.__name__}: {exc}",
            fix=f"pip install '{hx.__name__}[socks]', or use an http:// proxy",
        ) from None


def _warn_if_env_proxy_bypassed() -> None:
    """Warn once: a client with its own transport does not read HTTP(S)_PROXY."""
    global _warned_env_proxy
    if _warned_env_proxy:
        return
    found = sorted(scheme for scheme in urllib.request.getproxies() if scheme != "no")
    if found:
        _warned_env_proxy = True
        logger.warning(
            "http_socket_options: the HTTP clients ParamChat builds with socket options do "
            "not use the environment's proxy settings (%s); pass openai_proxy=... to send "
            "through a proxy with them",
            ", ".join(found),
        )
