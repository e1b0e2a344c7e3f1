"""The SDK clients shared between models, keyed by what makes sharing safe.

Building an SDK client (its connection pool and SSL context) costs ~50 ms, so models whose
connection settings are equal share one ``SDKClients``. Sharing is keyed by:

- the process: after ``os.fork()`` the child forgets every client (an at-fork hook), so it
  never writes to a socket its parent is using;
- the event loop: an async client belongs to the loop it was made on, and is dropped (its
  sockets closed) once that loop is closed or collected, so ``asyncio.run`` per job does not
  leak a client per run;
- the connection settings (``ClientSettings.connection_key``): the retry policy, hooks and
  total timeout stay on each model's ``Transport``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator
from typing import Any, TypeVar

import openai

from langchain_paramchat.errors import OptionError, ParamChatError
from langchain_paramchat.secrets import (
    Scrubber,
    hide_secrets_in_logs,
)
from langchain_paramchat.transport.fastpath import Template, build_template, release_sockets
from langchain_paramchat.transport.http_clients import own_http_client
from langchain_paramchat.transport.redirects import OriginGuard
from langchain_paramchat.transport.settings import ClientSettings

__all__ = ["SDKClients", "shared_clients"]

_ClientT = TypeVar("_ClientT", openai.OpenAI, openai.AsyncOpenAI)

# A few recent client sets stay alive, so models built per request reuse warm pools.
_SHARED: OrderedDict[tuple[Any, ...], SDKClients] = OrderedDict()
_SHARED_MAX = 16
_LOCK = threading.Lock()
_LIVE: weakref.WeakSet[SDKClients] = weakref.WeakSet()
# How many new connections one event loop opens at a time in a burst.
_CONNECTING_AT_ONCE = 64


class SDKClients:
    """Hold the sync SDK client and one async SDK client per event loop for one setting.

    ``stale`` turns True in a forked child: the owner must fetch a fresh set with
    :func:`shared_clients`. Custom ``http_client``/``http_async_client`` objects are used
    as given (their pools are yours to manage, also across forks and loops).
    """

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self.stale = False
        provider = settings.key_provider
        key = settings.static_key or (
            None if provider is not None else os.environ.get("OPENAI_API_KEY")
        )
        self._scrub = Scrubber(key, proxy=settings.proxy)
        if provider is not None:
            provider.protect(self._scrub)
        # The SDK's and HTTP libraries' log records hide the key (a server may echo it in a
        # response header, which their DEBUG trace prints) and every URL credential (the
        # scrubbers register those of base URLs and proxies).
        hide_secrets_in_logs([key] if key else [])
        self._lock = threading.Lock()
        self._sync: openai.OpenAI | None = None
        self._shared_async: openai.AsyncOpenAI | None = None
        # id(loop) -> (weak reference to the loop, its client, the generator that closes the
        # client at the loop's shutdown, its gate for opening connections); a plain dict,
        # because a client refers to its loop and would keep a WeakKeyDictionary's key alive.
        self._by_loop: dict[
            int, tuple[weakref.ref[asyncio.AbstractEventLoop], Any, Any, asyncio.Semaphore]
        ] = {}
        self.templates: dict[tuple[int, str], Template | None] = {}
        _LIVE.add(self)

    @property
    def sync(self) -> openai.OpenAI:
        """Return the sync SDK client, building it on first use."""
        client = self._sync
        if client is None:
            with self._lock:
                if self._sync is None:
                    self._sync = self._build(openai.OpenAI, self.settings.http_client)
                client = self._sync
        return client

    def for_running_loop(self) -> openai.AsyncOpenAI:
        """Return the async SDK client for the running event loop, building it on first use."""
        if self._shared_async is not None:
            return self._shared_async
        if self.settings.http_async_client is not None:
            with self._lock:
                if self._shared_async is None:
                    self._shared_async = self._build(
                        openai.AsyncOpenAI, self.settings.http_async_client
                    )
                return self._shared_async
        loop = asyncio.get_running_loop()
        entry = self._by_loop.get(id(loop))
        if entry is not None and entry[0]() is loop:
            client: openai.AsyncOpenAI = entry[1]
            return client
        return self._new_async(loop)

    def _new_async(self, loop: asyncio.AbstractEventLoop) -> openai.AsyncOpenAI:
        client = self._build(openai.AsyncOpenAI, None)
        closer = _close_with_loop(client)
        with self._lock:
            gone = [
                key
                for key, (ref, *_) in self._by_loop.items()
                if (other := ref()) is None or other.is_closed() or other is loop
            ]
            released = [self._by_loop.pop(key)[1] for key in gone]
            self._by_loop[id(loop)] = (
                weakref.ref(loop),
                client,
                closer,
                asyncio.Semaphore(_CONNECTING_AT_ONCE),
            )
        for old in released:
            release_sockets(old)
        return client

    def connect_gate(self) -> asyncio.Semaphore | None:
        """Return the running loop's gate for opening connections (see ``aio.py``).

        None for a custom ``http_async_client``, whose pool is the caller's to pace.
        """
        loop = asyncio.get_running_loop()
        entry = self._by_loop.get(id(loop))
        if entry is None or entry[0]() is not loop:
            return None
        gate: asyncio.Semaphore = entry[3]
        return gate

    def template(self, client: openai.OpenAI | openai.AsyncOpenAI, path: str) -> Template | None:
        """Return the cached direct-send template of ``client`` for ``POST path``."""
        key = (id(client), path)
        try:
            return self.templates[key]
        except KeyError:
            template = self.templates[key] = build_template(client, path)
            return template

    def async_client_count(self) -> int:
        """Return how many per-loop async clients are held (for tests and diagnostics)."""
        return len(self._by_loop)

    def _build(self, cls: type[_ClientT], http_client: Any) -> _ClientT:
        s = self.settings
        guard = None
        is_async = cls is openai.AsyncOpenAI
        if http_client is None:
            # Our own pool (the SDK's defaults) with a hook that keeps credential headers
            # off other origins when a redirect leads there. A custom client is yours.
            guard = OriginGuard()
            http_client = own_http_client(s, is_async, guard.hooks(is_async))
        api_key: Any = s.api_key
        if s.key_provider is not None:
            # For calls through the SDK objects (a patched create, root_client.files...);
            # the transport asks the provider itself for the requests it sends.
            api_key = s.key_provider.akey if is_async else s.key_provider.key
        try:
            client = cls(
                api_key=api_key,
                organization=s.organization,
                project=s.project,
                base_url=s.base_url,
                timeout=s.timeout,
                max_retries=0,
                default_headers=s.default_headers,
                default_query=s.default_query,
                http_client=http_client,
            )
        except openai.OpenAIError as exc:
            if self._scrub.secret is None:
                raise OptionError(
                    "api_key",
                    None,
                    "an OpenAI API key is required",
                    fix="Pass api_key=... or set OPENAI_API_KEY "
                    "(a local OpenAI-compatible server accepts any placeholder).",
                ) from exc
            raise ParamChatError(self._scrub(f"Could not create the OpenAI client: {exc}")) from exc
        if guard is not None:
            guard.set_base_url(client.base_url)
        return client

    def close(self) -> None:
        """Close the sync SDK client if it was built here (not a custom ``http_client``)."""
        if self._sync is not None and self.settings.http_client is None:
            self._sync.close()
        self._sync = None

    async def aclose(self) -> None:
        """Close the running loop's async SDK client if it was built here."""
        loop = asyncio.get_running_loop()
        entry = self._by_loop.get(id(loop))
        if entry is not None and entry[0]() is loop:
            del self._by_loop[id(loop)]
            await entry[2].aclose()
        self._shared_async = None


async def _closer(client: openai.AsyncOpenAI) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await client.close()


def _close_with_loop(client: openai.AsyncOpenAI) -> AsyncGenerator[None, None]:
    """Return a started async generator that closes ``client`` when its loop shuts down.

    The running loop tracks started async generators and closes them in
    ``shutdown_asyncgens()``, which ``asyncio.run`` (and ``Runner``) call while the loop
    still runs: the client's connections are closed properly there. A loop closed without
    that step leaves the client to ``release_sockets`` when the next loop asks for one.
    """
    closer = _closer(client)
    with contextlib.suppress(StopIteration):  # the generator paused at its yield
        closer.__anext__().send(None)
    return closer


def shared_clients(settings: ClientSettings) -> SDKClients:
    """Return the SDK clients for ``settings`` in this process, shared by equal settings.

    The 16 most recently used sets are kept.
    """
    key = settings.connection_key()
    with _LOCK:
        clients = _SHARED.get(key)
        if clients is None:
            clients = _SHARED[key] = SDKClients(settings)
            if len(_SHARED) > _SHARED_MAX:
                _SHARED.popitem(last=False)
        else:
            _SHARED.move_to_end(key)
    return clients


def _forget_after_fork() -> None:
    """In a forked child: drop every inherited client without closing the parent's sockets."""
    global _LOCK
    _LOCK = threading.Lock()  # another thread may have held it at the fork
    _SHARED.clear()
    for clients in list(_LIVE):
        clients.stale = True
        clients._lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_after_fork)
