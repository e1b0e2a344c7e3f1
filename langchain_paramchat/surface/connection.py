"""How a model reaches the API: its transport, built once from its client settings.

``ParamChat`` mixes ``Connected`` in; the fields it reads (key, base URL, timeouts, retry
policy, pacing, HTTP clients) are ParamChat's own.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from langchain_paramchat import transport as transports
from langchain_paramchat.call.background import check_schedule
from langchain_paramchat.secrets import is_credential_header, redact_headers
from langchain_paramchat.surface.sdk_objects import create_is_patched, sdk_property, sdk_route_for
from langchain_paramchat.transport.retry import RetryPolicy
from langchain_paramchat.transport.settings import ClientSettings

if TYPE_CHECKING:
    from langchain_paramchat.surface.sdk_objects import SDKObjects
    from langchain_paramchat.transport.protocol import ModelTransport
    from langchain_paramchat.transport.websocket import WebSocketTransport

__all__ = ["DEFAULT_TIMEOUT", "Connected", "is_credential_header", "redact_headers"]

DEFAULT_TIMEOUT = 600.0

# Guards the first build of a model's WebSocket transport: threads of one batch() that
# built one each would each open sockets, and all but one transport would be dropped.
_BUILD_LOCK = threading.Lock()


class Connected:
    """The transport of a model: shared by models with the same client settings."""

    if TYPE_CHECKING:  # fields and private attributes ParamChat declares
        __pydantic_private__: dict[str, Any] | None
        _sdk: SDKObjects | None
        _transport: ModelTransport | None
        _websocket_transport: WebSocketTransport | None
        model_fields_set: set[str]
        flex_fallback: bool
        background_timeout: float
        background_poll_interval: float
        api_key: Any
        base_url: str | None
        organization: str | None
        project: str | None
        timeout: Any
        stream_idle_timeout: float | None
        total_timeout: float | None
        max_retries: int
        retry_policy: Any
        pace: bool
        default_headers: dict[str, str] | None
        default_query: dict[str, Any] | None
        http_client: Any
        http_async_client: Any
        openai_proxy: str | None
        http_socket_options: Any

    @property
    def transport(self) -> ModelTransport:
        """Return the (lazily built, reused) transport for this model's client settings."""
        # Read from pydantic's private dict: attribute access to it costs microseconds.
        transport = self.__pydantic_private__["_transport"]  # type: ignore[index]
        if transport is None:
            transport = self._transport = transports.shared_transport(self._client_settings())
        return transport

    def _client_settings(self) -> ClientSettings:
        """Return the transport settings; bad ones (timeouts, retries, background polling's
        timeout and interval) raise ``OptionError``."""
        check_schedule(self.background_timeout, self.background_poll_interval)

        policy = self.retry_policy or RetryPolicy(max_retries=self.max_retries)
        # Flex requests get OpenAI's longer timeout unless the model's was set explicitly.
        flex_timeout = None if "timeout" in self.model_fields_set else transports.FLEX_TIMEOUT
        return ClientSettings(
            api_key=_key(self.api_key),
            base_url=self.base_url,
            organization=self.organization,
            project=self.project,
            timeout=self.timeout if self.timeout is not None else DEFAULT_TIMEOUT,
            # 0 means none, as ChatOpenAI's stream_chunk_timeout=0 (kept as given).
            stream_idle_timeout=self.stream_idle_timeout or None,
            total_timeout=self.total_timeout,
            default_headers=self.default_headers,
            default_query=self.default_query,
            http_client=self.http_client,
            http_async_client=self.http_async_client,
            retry=policy,
            hooks=self._pacer(),
            flex_timeout=flex_timeout,
            flex_fallback=self.flex_fallback,
            proxy=self.openai_proxy,
            socket_options=self.http_socket_options,
        )

    def _pacer(self) -> Any:
        """Return the pacer shared by every model with this key and base URL, if pacing."""
        if not self.pace:
            return None
        key = _key(self.api_key)
        if callable(key):  # one pacer per key function: its keys are one account's
            key = f"key provider {id(key)}"
        return transports.shared_pacer(key, self.base_url)

    @property
    def websocket_transport(self) -> WebSocketTransport:
        """Return the (lazily built) Responses WebSocket transport; its sockets are this model's.

        Raises ``OptionError`` naming the install command when ``websockets`` is missing.
        """
        transport = self._websocket_transport
        if transport is None:
            with _BUILD_LOCK:
                transport = self._websocket_transport
                if transport is None:
                    settings = self._client_settings()
                    transport = transports.WebSocketTransport(settings, self.transport)
                    self._websocket_transport = transport
        return transport

    client = sdk_property(
        "client",
        "ChatOpenAI's ``client``: the openai SDK's ``chat.completions`` resource (built on "
        "first read). Replace it, or patch its ``create``, and Chat Completions calls go "
        "through the replacement.",
    )
    async_client = sdk_property(
        "async_client", "Async twin of ``client`` (``AsyncOpenAI().chat.completions``)."
    )
    root_client = sdk_property(
        "root_client",
        "ChatOpenAI's ``root_client``: an ``openai.OpenAI`` over this model's connection pool "
        "(built on first read). Replace it and calls of both APIs go through it.",
    )
    root_async_client = sdk_property(
        "root_async_client", "Async twin of ``root_client`` (an ``openai.AsyncOpenAI``)."
    )

    def _transport_of(self, prepared: Any) -> ModelTransport:
        """Return the transport for one prepared call (see ``_transport_for``)."""
        return self._transport_for(
            prepared.options, websocket=prepared.websocket, path=prepared.adapter.path
        )

    def _transport_for(
        self, options: Mapping[str, Any], *, websocket: bool = False, path: str | None = None
    ) -> ModelTransport:
        """Return the transport for one call: the WebSocket one for calls over a socket.

        Flex calls use the HTTP transport too: its send loop gives them flex's timeout and
        fallback (``transport/resend.py``). A call to ``path`` goes through the openai SDK's
        ``create`` instead when user code replaced or patched it (``surface/sdk_objects.py``);
        checking costs a dict lookup.
        """
        if path is not None and (
            create_is_patched(path) or self.__pydantic_private__["_sdk"] is not None  # type: ignore[index]
        ):
            route = sdk_route_for(self, self._sdk, path)
            if route is not None:
                return route
        if websocket:
            return self.websocket_transport
        return self.transport


def _key(api_key: Any) -> Any:
    """Return the model's key for the transport: the string, the key function, or None."""
    if api_key is None or callable(api_key):
        return api_key
    return api_key.get_secret_value()
