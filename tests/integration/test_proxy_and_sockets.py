"""``openai_proxy`` / ``OPENAI_PROXY`` and ``http_socket_options``, as ChatOpenAI takes them.

A tiny forward proxy on loopback (plain HTTP, optional Basic proxy auth) stands between the
real SDK and FakeOpenAI: every request of both APIs, invoke and stream, sync and async, goes
through it; its credentials never show in reprs, dumps, pickles or errors. Socket options are
read back from the very sockets the SDK's pool opened. Models share SDK clients only when
their proxy and socket options are the same.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import pickle
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.load import dumps

from langchain_paramchat import OptionError, ParamChat
from langchain_paramchat.errors import APIStatusError
from langchain_paramchat.testing import FakeOpenAI
from tests.integration.relays import LoopbackProxy

APIS = ["chat_completions", "responses"]
MODES = ["invoke", "stream", "ainvoke", "astream"]
USER, PASSWORD = "proxy-user", "pw-SECRET-4711"


@pytest.fixture
def proxy() -> Iterator[LoopbackProxy]:
    server = LoopbackProxy((USER, PASSWORD))
    yield server
    server.close()


async def call(chat: ParamChat, mode: str, text: str) -> str:
    if mode == "invoke":
        return chat.invoke(text).text
    if mode == "ainvoke":
        return (await chat.ainvoke(text)).text
    if mode == "stream":
        return "".join(chunk.text for chunk in chat.stream(text))
    return "".join([chunk.text async for chunk in chat.astream(text)])


def model(server: FakeOpenAI, api: str, **kwargs: Any) -> ParamChat:
    return ParamChat(base_url=server.base_url, api_key="sk-test", api=api, max_retries=0, **kwargs)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", MODES)
def test_every_call_goes_through_openai_proxy(
    fake_openai: FakeOpenAI, proxy: LoopbackProxy, api: str, mode: str
) -> None:
    chat = model(fake_openai, api, openai_proxy=proxy.url)
    for text in ("one", "two"):
        assert asyncio.run(call(chat, mode, text)) == f"Echo: {text}"
    path = "chat/completions" if api == "chat_completions" else "responses"
    assert proxy.seen == [f"POST {fake_openai.base_url}/{path} HTTP/1.1"] * 2
    assert len(fake_openai.requests) == 2 and proxy.refused == 0


@pytest.mark.parametrize("mode", ["invoke", "astream"])
def test_openai_proxy_is_read_from_the_environment(
    fake_openai: FakeOpenAI, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("OPENAI_PROXY", proxy.url)
    chat = model(fake_openai, "responses")
    assert chat.openai_proxy == proxy.url
    assert asyncio.run(call(chat, mode, "env")) == "Echo: env"
    assert len(proxy.seen) == 1


def test_a_proxy_refusing_the_credentials_is_an_api_error_without_them(
    fake_openai: FakeOpenAI, proxy: LoopbackProxy
) -> None:
    wrong = proxy.url.replace(PASSWORD, "pw-SECRET-wrong")
    chat = model(fake_openai, "chat_completions", openai_proxy=wrong)
    with pytest.raises(APIStatusError) as info:
        chat.invoke("hi")
    assert info.value.status_code == 407
    assert "SECRET" not in str(info.value) + repr(info.value)
    assert fake_openai.requests == []


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", MODES)
def test_a_proxy_echoing_its_credentials_back_never_shows_them(
    fake_openai: FakeOpenAI, api: str, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The Basic token of the proxy URL's user info is the credential too: a proxy quoting
    # the Proxy-Authorization header in its 407 (body or header) used to show it in the
    # error, its body and response, and in httpcore's DEBUG trace of the headers.
    echoing = LoopbackProxy((USER, PASSWORD), echo=True)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    chat = model(fake_openai, api, openai_proxy=echoing.url)
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(APIStatusError) as info:
            asyncio.run(call(chat, mode, "hi"))
    finally:
        echoing.close()
    error = info.value
    assert error.status_code == 407 and echoing.refused == 1
    response = error.response
    shown = [
        str(error),
        repr(error),
        repr(error.body),
        repr(pickle.loads(pickle.dumps(error)).__dict__),
        response.text if response is not None else "",
        repr(response.headers) if response is not None else "",
        caplog.text,
    ]
    assert [text for text in shown if token in text or PASSWORD in text] == []
    assert "[redacted]" in str(error)
    assert fake_openai.requests == []


def test_proxy_credentials_never_show_and_pickles_leave_them_to_the_worker(
    fake_openai: FakeOpenAI, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = model(fake_openai, "chat_completions", openai_proxy=proxy.url)
    shown = [
        repr(chat),
        chat.model_dump_json(),
        str(chat.model_dump()),
        dumps(chat),
        repr(chat.transport.settings),
    ]
    assert all(PASSWORD not in text for text in shown), shown
    data = pickle.dumps(chat)
    assert PASSWORD.encode() not in data
    monkeypatch.setenv("OPENAI_PROXY", proxy.url)  # the worker's environment
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    worker = pickle.loads(data)
    assert worker.invoke("in a worker").text == "Echo: in a worker"
    assert len(proxy.seen) == 1 and proxy.refused == 0


def test_a_proxy_with_your_own_http_client_is_refused_as_in_chatopenai(
    fake_openai: FakeOpenAI, proxy: LoopbackProxy
) -> None:
    import openai

    with openai.DefaultHttpxClient() as client, pytest.raises(OptionError) as info:
        model(fake_openai, "chat_completions", openai_proxy=proxy.url, http_client=client)
    assert "openai_proxy" in str(info.value) and PASSWORD not in str(info.value)


def test_websocket_mode_refuses_a_proxy_it_would_bypass(
    fake_openai: FakeOpenAI, proxy: LoopbackProxy
) -> None:
    pytest.importorskip("websockets")
    chat = model(fake_openai, "responses", openai_proxy=proxy.url, websocket=True)
    with pytest.raises(OptionError, match="websocket"):
        chat.invoke("hi")
    assert fake_openai.requests == [] and proxy.seen == []


# --- socket options ---------------------------------------------------------------------------

KEEPIDLE = getattr(socket, "TCP_KEEPIDLE", None)
OPTIONS = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
if KEEPIDLE is not None:
    OPTIONS.append((socket.IPPROTO_TCP, KEEPIDLE, 77))


def pooled_sockets(http: Any) -> list[socket.socket]:
    """Return the sockets of the connections an SDK client's pool holds (httpcore's)."""
    found = []
    for connection in http._transport._pool._connections:
        stream = connection._connection._network_stream
        sock = stream.get_extra_info("socket")
        found.append(getattr(sock, "_sock", sock))
    return found


def check_options(sockets: list[socket.socket]) -> None:
    assert sockets
    for sock in sockets:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        if KEEPIDLE is not None:
            assert sock.getsockopt(socket.IPPROTO_TCP, KEEPIDLE) == 77


@pytest.mark.parametrize("api", APIS)
def test_socket_options_are_set_on_every_connection_sync_and_async(
    fake_openai: FakeOpenAI, api: str
) -> None:
    chat = model(fake_openai, api, http_socket_options=OPTIONS)
    assert chat.invoke("s").text == "Echo: s"
    check_options(pooled_sockets(chat.transport.clients.sync._client))

    async def run() -> None:
        assert await call(chat, "astream", "a") == "Echo: a"
        check_options(pooled_sockets(chat.transport.clients.for_running_loop()._client))

    asyncio.run(run())
    plain = model(fake_openai, api)
    plain.invoke("p")
    assert all(
        s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
        for s in pooled_sockets(plain.transport.clients.sync._client)
    )


def test_socket_options_apply_to_the_connection_to_the_proxy(
    fake_openai: FakeOpenAI, proxy: LoopbackProxy
) -> None:
    chat = model(
        fake_openai, "chat_completions", openai_proxy=proxy.url, http_socket_options=OPTIONS
    )
    assert chat.invoke("both").text == "Echo: both"
    assert len(proxy.seen) == 1


def test_your_own_http_clients_are_used_as_given_with_socket_options(
    fake_openai: FakeOpenAI,
) -> None:
    import openai

    with openai.DefaultHttpxClient() as client:
        chat = model(
            fake_openai, "chat_completions", http_client=client, http_socket_options=OPTIONS
        )
        assert chat.http_client is client
        assert chat.invoke("mine").text == "Echo: mine"
        assert all(
            s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
            for s in pooled_sockets(client)
        )


def test_clients_are_shared_only_with_the_same_proxy_and_socket_options(
    fake_openai: FakeOpenAI, proxy: LoopbackProxy
) -> None:
    other = LoopbackProxy()
    try:
        settings: list[dict[str, Any]] = [
            {},
            {"openai_proxy": proxy.url},
            {"openai_proxy": other.url},
            {"http_socket_options": OPTIONS},
            {"http_socket_options": OPTIONS[:1]},
            {"openai_proxy": proxy.url, "http_socket_options": OPTIONS},
        ]
        clients = [model(fake_openai, "chat_completions", **s).transport.clients for s in settings]
        assert len({id(c) for c in clients}) == len(settings)
        again = [model(fake_openai, "chat_completions", **s).transport.clients for s in settings]
        assert all(a is b for a, b in zip(clients, again, strict=True))
        assert (
            model(fake_openai, "chat_completions", http_socket_options=()).transport.clients
            is clients[0]
        )
    finally:
        other.close()


def test_a_worker_without_openai_proxy_keeps_the_proxy_without_credentials_and_says_so(
    fake_openai: FakeOpenAI,
    proxy: LoopbackProxy,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chat = model(fake_openai, "chat_completions", openai_proxy=proxy.url)
    data = pickle.dumps(chat)
    monkeypatch.delenv("OPENAI_PROXY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with caplog.at_level("WARNING", logger="langchain_paramchat"):
        worker = pickle.loads(data)
    assert "OPENAI_PROXY" in caplog.text and PASSWORD not in caplog.text
    assert worker.openai_proxy is not None and PASSWORD not in worker.openai_proxy
    # Never a silent direct connection: the proxy refuses the call without credentials.
    with pytest.raises(APIStatusError) as info:
        worker.invoke("no credentials")
    assert info.value.status_code == 407 and fake_openai.requests == []
