"""Callable API keys: a function the transport asks for the key on every request.

ChatOpenAI takes ``api_key=`` as a string or as a sync or async function returning the key
(a token provider that refreshes short-lived credentials). ``KeyProvider`` wraps such a
function once per process: sync calls call it, async calls await it (a sync function runs
in a worker thread so a slow refresh never blocks the event loop), and a sync call to an
async-only function raises the error ChatOpenAI raises. Each key it hands out is checked
(a non-empty ``str`` a header can carry) and added to the scrubbers of the transports that
use it, so a key the server echoes back never reaches an error message.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from langchain_paramchat.bounds import HEADER_VALUE_RULE, header_value_problem
from langchain_paramchat.errors import KeyProviderError
from langchain_paramchat.secrets import Scrubber, hide_key_in_use

__all__ = ["ASYNC_ONLY", "KeyProvider", "describe_provider", "key_provider"]

ASYNC_ONLY = (
    "Sync client is not available. This happens when an async callable was provided for the "
    "API key. Use async methods (ainvoke, astream) instead, or provide a string or sync "
    "callable for the API key."
)
"""ChatOpenAI's message for a sync call to a model whose key function is async-only."""

_PROVIDERS: dict[int, weakref.ref[KeyProvider]] = {}
_LOCK = threading.RLock()  # a weakref callback may run inside key_provider


def describe_provider(function: object) -> str:
    """Return how reprs and errors show a key function: its name, never its state."""
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"<key provider {name}>"


def _is_async(function: Callable[..., Any]) -> bool:
    # An object whose __call__ is async counts too (looked up on its class, as calls do).
    method = inspect.getattr_static(type(function), "__call__", None)
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(method)


class KeyProvider:
    """Give the API key for one request from a sync or async key function.

    Get one with :func:`key_provider`, which returns the same object for the same function
    while it is in use: models, transports and SDK clients built from one function share its
    scrubbers, and equal functions are never confused (the object holds its function).
    """

    __slots__ = ("__weakref__", "_last", "_scrubbers", "function", "is_async")

    def __init__(self, function: Callable[[], str] | Callable[[], Awaitable[str]]) -> None:
        self.function = function
        self.is_async = _is_async(function)
        self._last: str | None = None
        self._scrubbers: weakref.WeakSet[Scrubber] = weakref.WeakSet()

    def __repr__(self) -> str:
        return describe_provider(self.function)

    def protect(self, scrubber: Scrubber) -> None:
        """Add every key handed out from now on (and the last one) to ``scrubber``'s secrets."""
        with _LOCK:  # never while another thread walks the set or compiles a scrubber
            self._scrubbers.add(scrubber)
            if self._last is not None:
                scrubber.add(self._last)

    def key(self) -> str:
        """Return the key for a sync request.

        Raise ``KeyProviderError`` for an async-only function, or when it returns no key.
        """
        if self.is_async:
            raise KeyProviderError(ASYNC_ONLY)
        value = self.function()
        if inspect.isawaitable(value):
            if inspect.iscoroutine(value):
                value.close()  # never awaited: close it so Python does not warn
            raise KeyProviderError(ASYNC_ONLY)
        return self._checked(value)

    async def akey(self) -> str:
        """Return the key for an async request: await an async function, else run it in a thread.

        Raise ``KeyProviderError`` when the function returns no usable key.
        """
        if self.is_async:
            value = await self.function()  # type: ignore[misc]
        else:
            value = await asyncio.get_running_loop().run_in_executor(None, self.function)
            if inspect.isawaitable(value):  # a plain function returning a coroutine
                value = await value
        return self._checked(value)

    def _checked(self, value: object) -> str:
        if not isinstance(value, str) or not value.strip() or header_value_problem(value):
            raise KeyProviderError(
                f"api_key={describe_provider(self.function)} returned {_what(value)}: it must "
                f"return the API key as a non-empty str of {HEADER_VALUE_RULE} (nothing was sent)"
            )
        hide_key_in_use(value)
        if value != self._last:
            with _LOCK:
                self._last = value
                for scrubber in list(self._scrubbers):
                    scrubber.add(value)
        return value


def _what(value: object) -> str:
    """Describe a bad key without showing it."""
    if not isinstance(value, str):
        return f"a {type(value).__name__}, not a str"
    if not value.strip():
        return "an empty str"
    return f"a str with {header_value_problem(value)}"


def key_provider(function: Callable[..., Any]) -> KeyProvider:
    """Return the ``KeyProvider`` of ``function``, shared while any holder keeps it."""
    with _LOCK:
        ref = _PROVIDERS.get(id(function))
        provider = ref() if ref is not None else None
        if provider is None or provider.function is not function:
            provider = KeyProvider(function)
            _PROVIDERS[id(function)] = weakref.ref(provider, _forgetter(id(function)))
        return provider


def _forgetter(ident: int) -> Callable[[object], None]:
    """Return the weakref callback that drops ``ident``'s entry once its provider is gone."""

    def forget(_: object) -> None:
        with _LOCK:
            ref = _PROVIDERS.get(ident)
            if ref is not None and ref() is None:
                del _PROVIDERS[ident]

    return forget


def _renew_lock_after_fork() -> None:
    # A thread of the parent may have held the lock at the fork (handing out a key, building
    # a model); in the child nothing would ever release it, and every new key would hang.
    global _LOCK
    _LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_renew_lock_after_fork)
