"""Client settings: what a transport needs to reach the API, checked when it is built."""

from __future__ import annotations

import math
import sys
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from langchain_paramchat._sdk.http import hx
from langchain_paramchat.bounds import check_headers
from langchain_paramchat.errors import OptionError
from langchain_paramchat.secrets import redact_url
from langchain_paramchat.transport.connection_checks import (
    check_proxy,
    check_socket_options,
    check_static_key,
)
from langchain_paramchat.transport.credentials import KeyProvider, key_provider
from langchain_paramchat.transport.retry import RetryPolicy

__all__ = ["CALL_DEADLINE", "ClientSettings", "RequestHooks", "as_timeout", "call_deadline"]

CONNECT_TIMEOUT = 10.0
_TIMEOUT_ALLOWED = (
    "a finite number of seconds > 0, a (connect, read) tuple of them, "
    "or an httpx2.Timeout / httpx.Timeout"
)


def default_timeout() -> hx.Timeout:
    """Return the default timeout: 600 s per phase, 10 s to connect."""
    return hx.Timeout(600.0, connect=CONNECT_TIMEOUT)


def _seconds(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and 0 < value < math.inf  # also refuses NaN
    )


def as_timeout(value: object, option: str = "timeout") -> hx.Timeout:
    """Return ``value`` as the SDK's ``Timeout`` or raise ``OptionError`` naming ``option``.

    Accepts what ChatOpenAI accepts: seconds (connecting capped at 10 s), a
    ``(connect, read)`` tuple (write and pool get the read value), an ``httpx2.Timeout`` or
    an ``httpx.Timeout`` (the one the SDK's HTTP library does not use is copied phase by
    phase; see ``_sdk.http``).
    """
    if isinstance(value, hx.Timeout):
        return value
    if _seconds(value):
        seconds = float(value)  # type: ignore[arg-type]
        return hx.Timeout(seconds, connect=min(seconds, CONNECT_TIMEOUT))
    if isinstance(value, tuple):
        if len(value) == 2 and all(_seconds(v) for v in value):
            connect, read = (float(v) for v in value)
            return hx.Timeout(read, connect=connect)
        raise OptionError(option, value, _TIMEOUT_ALLOWED, fix="pass (connect, read) in seconds")
    for name in ("httpx2", "httpx"):
        other = sys.modules.get(name)
        if other is not None and other is not hx and isinstance(value, other.Timeout):
            return hx.Timeout(
                connect=value.connect, read=value.read, write=value.write, pool=value.pool
            )
    raise OptionError(option, value, _TIMEOUT_ALLOWED)


def _check_http_client(value: object, option: str, *, is_async: bool) -> None:
    """Raise ``OptionError`` unless ``value`` is a client of the SDK's HTTP library (or httpx)."""
    if value is None:
        return
    wanted = "AsyncClient" if is_async else "Client"
    kinds = [getattr(hx, wanted)]
    libraries = [hx.__name__]
    legacy = sys.modules.get("httpx")
    if legacy is not None and legacy is not hx:
        kinds.append(getattr(legacy, wanted))
        libraries.append("httpx")
    if isinstance(value, tuple(kinds)):
        return
    other = "Client" if is_async else "AsyncClient"
    swap = "http_client" if is_async else "http_async_client"
    names = " or ".join(f"{library}.{wanted}" for library in libraries)
    hint = (
        f"that is an {other}: pass it as {swap}=..."
        if type(value).__name__ == other
        else f"pass {' or '.join(f'{name}(...)' for name in names.split(' or '))}"
    )
    raise OptionError(option, value, f"an {names}", fix=hint)


CALL_DEADLINE: ContextVar[float | None] = ContextVar("paramchat_call_deadline", default=None)
"""The ``time.monotonic()`` time the current call must end by, while request hooks run."""


def call_deadline() -> float | None:
    """Return when the call a request hook runs for must end (``time.monotonic()``), or None.

    Set by the transport around ``before_send``/``abefore_send`` from the call's
    ``total_timeout``: a hook that waits must not wait past it.
    """
    return CALL_DEADLINE.get()


@runtime_checkable
class RequestHooks(Protocol):
    """Pace requests: called around every HTTP request a transport sends (retries included).

    ``before_send`` runs (sync calls) and ``abefore_send`` is awaited (async calls) just
    before each request goes out, so a client-side rate-limit pacer can wait there.
    ``after_response`` runs once the response headers arrive (any status), so the pacer can
    read ``x-ratelimit-*`` headers. ``path`` is the request path (``chat/completions``,
    ``responses``, ...) and ``body`` the JSON body about to be sent (``{}`` for a GET); never
    change it. Set it with ``ClientSettings(hooks=...)``; it is per model, never
    shared through the transport registry. Keep the callbacks quick: they run on every call.
    A hook that waits reads :func:`call_deadline` and raises ``DeadlineExceededError`` rather
    than wait past the call's ``total_timeout``.
    """

    def before_send(self, path: str, body: Mapping[str, Any]) -> None:
        """Wait (block) until the request may be sent."""

    def abefore_send(self, path: str, body: Mapping[str, Any]) -> Awaitable[None]:
        """Wait (await) until the request may be sent."""

    def after_response(self, path: str, status_code: int, headers: Mapping[str, str]) -> None:
        """See the response status and headers of a request."""


@dataclass(frozen=True, repr=False)
class ClientSettings:
    """Hold everything needed to reach the API; one ``Transport`` is built from it.

    ``api_key``, ``base_url``, ``organization`` and ``project`` fall back to the SDK's
    environment variables (``OPENAI_API_KEY``, ...) when None. ``timeout`` bounds each phase
    of a request (connect, each read, write, pool): seconds (connecting is capped at 10 s), a
    ``(connect, read)`` tuple, or an ``httpx2.Timeout``/``httpx.Timeout``; it is stored as the
    SDK's HTTP library's ``Timeout``. ``stream_idle_timeout`` is the longest a stream may go
    without an event (None: only ``timeout`` applies). ``total_timeout`` bounds a whole call,
    retries and a trickling reply included (None: no bound). ``http_client``/``http_async_client``
    take httpx2 or httpx clients. ``retry`` and ``hooks`` belong to the model using these
    settings; the SDK clients (and their connection pools) are shared between models whose
    other settings are equal, per process and per event loop. ``flex_timeout`` replaces
    ``timeout`` for requests whose body says ``service_tier="flex"`` (None: ``timeout``);
    ``flex_fallback`` sends such a request once more at the default tier when flex turns it
    away before any content (``transport/resend.py``). ``repr`` never shows the key or
    header values.

    Raises ``OptionError`` for a timeout, retry policy or other setting out of range.
    """

    api_key: str | Callable[[], str] | Callable[[], Awaitable[str]] | None = None
    base_url: str | None = None
    organization: str | None = None
    project: str | None = None
    timeout: Any = field(default_factory=default_timeout)
    stream_idle_timeout: float | None = 120.0
    total_timeout: float | None = None
    default_headers: Mapping[str, str] | None = None
    default_query: Mapping[str, object] | None = None
    http_client: Any = None
    http_async_client: Any = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    hooks: RequestHooks | None = None
    flex_timeout: Any = None
    flex_fallback: bool = False
    proxy: str | None = None
    socket_options: tuple[tuple[Any, ...], ...] | None = None
    key_provider: KeyProvider | None = field(default=None, init=False, compare=False)

    def __post_init__(self) -> None:
        if callable(self.api_key):
            object.__setattr__(self, "key_provider", key_provider(self.api_key))
        elif self.api_key is not None:
            check_static_key(self.api_key)
        object.__setattr__(self, "proxy", check_proxy(self.proxy))
        object.__setattr__(self, "socket_options", check_socket_options(self.socket_options))
        if self.proxy and (self.http_client is not None or self.http_async_client is not None):
            raise OptionError(
                "openai_proxy",
                redact_url(self.proxy),
                "cannot be combined with http_client/http_async_client",
                fix="configure the proxy on your own clients (proxy=...) and drop openai_proxy",
            )
        object.__setattr__(self, "timeout", as_timeout(self.timeout))
        if self.flex_timeout is not None:
            object.__setattr__(self, "flex_timeout", as_timeout(self.flex_timeout, "timeout"))
        if not isinstance(self.flex_fallback, bool):
            raise OptionError("flex_fallback", self.flex_fallback, "True or False")
        idle = self.stream_idle_timeout
        if idle is not None and not _seconds(idle):
            raise OptionError("stream_idle_timeout", idle, "seconds > 0, or None")
        total = self.total_timeout
        if total is not None and not _seconds(total):
            raise OptionError("total_timeout", total, "a finite number of seconds > 0, or None")
        check_headers(self.default_headers)
        _check_http_client(self.http_client, "http_client", is_async=False)
        _check_http_client(self.http_async_client, "http_async_client", is_async=True)
        if not isinstance(self.retry, RetryPolicy):
            raise OptionError("retry", self.retry, "a langchain_paramchat.retry.RetryPolicy")
        if self.hooks is not None and not isinstance(self.hooks, RequestHooks):
            raise OptionError(
                "hooks",
                self.hooks,
                "an object with before_send, abefore_send and after_response "
                "(langchain_paramchat.transport.RequestHooks)",
            )

    def connection_key(self) -> tuple[Any, ...]:
        """Return what the SDK clients depend on: models with equal keys may share them.

        Per-model behaviour (retry policy, hooks, total timeout) is left out on purpose:
        it lives on each model's ``Transport``, never in a shared object.
        """
        provider = self.key_provider
        return (
            # A key function by identity: the shared clients hold it, so its id stays its own.
            self.api_key if provider is None else ("key provider", id(provider.function)),
            self.base_url,
            self.organization,
            self.project,
            repr(self.timeout),
            self.stream_idle_timeout,
            tuple(sorted((self.default_headers or {}).items())),
            repr(sorted((self.default_query or {}).items())),
            id(self.http_client),
            id(self.http_async_client),
            self.proxy,
            self.socket_options,
        )

    @property
    def static_key(self) -> str | None:
        """Return the API key when it is a string (None for a key function or no key)."""
        return self.api_key if isinstance(self.api_key, str) else None

    def __repr__(self) -> str:
        headers = sorted(self.default_headers) if self.default_headers else None
        return (
            f"ClientSettings(api_key={_shown_key(self)}, "
            f"base_url={redact_url(self.base_url)!r}, organization={self.organization!r}, "
            f"project={self.project!r}, timeout={self.timeout!r}, "
            f"stream_idle_timeout={self.stream_idle_timeout!r}, "
            f"total_timeout={self.total_timeout!r}, default_headers={headers!r}, "
            f"http_client={'custom' if self.http_client else None}, "
            f"http_async_client={'custom' if self.http_async_client else None}, "
            f"proxy={redact_url(self.proxy)!r}, socket_options={self.socket_options!r}, "
            f"retry={self.retry!r})"
        )


def _shown_key(settings: ClientSettings) -> str | None:
    if settings.key_provider is not None:
        return repr(settings.key_provider)
    return "***" if settings.api_key else None
