"""ParamChat's errors are also the openai SDK's exceptions (issue 11 points 1 and 3).

Code written for ChatOpenAI catches ``openai.RateLimitError`` & co. and hands them to
``with_fallbacks(exceptions_to_handle=...)``; with only the import changed it must keep
working, on both APIs, invoke and stream, sync and async. Client settings take what ChatOpenAI
takes: timeouts as a float, a tuple or an httpx/httpx2 ``Timeout``; httpx or httpx2 clients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import httpx2
import langchain_core.exceptions as lc_exceptions
import openai
import pytest
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import (
    APIStatusError,
    BadRequestError,
    ContextOverflowError,
    OptionError,
    ParamChatError,
    RateLimitError,
)
from langchain_paramchat.testing import FakeOpenAI, Fault

API_KEY = "sk-sdk-exceptions-key-0123456789"
APIS = ["chat_completions", "responses"]
MODES = ["invoke", "ainvoke", "stream", "astream"]
STATUSES = [
    (400, openai.BadRequestError),
    (401, openai.AuthenticationError),
    (403, openai.PermissionDeniedError),
    (404, openai.NotFoundError),
    (409, openai.ConflictError),
    (422, openai.UnprocessableEntityError),
    (429, openai.RateLimitError),
    (500, openai.InternalServerError),
    (503, openai.InternalServerError),
]


def model(server: FakeOpenAI, api: str, **kwargs: Any) -> ParamChat:
    kwargs.setdefault("max_retries", 0)
    return ParamChat(base_url=server.base_url, api_key=API_KEY, api=api, **kwargs)


async def run(runnable: Any, mode: str) -> str:
    if mode == "invoke":
        return str(runnable.invoke("hi").content)
    if mode == "ainvoke":
        return str((await runnable.ainvoke("hi")).content)
    if mode == "stream":
        return "".join(str(chunk.content) for chunk in runnable.stream("hi"))
    return "".join([str(chunk.content) async for chunk in runnable.astream("hi")])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(("status", "sdk_error"), STATUSES, ids=[str(s) for s, _ in STATUSES])
async def test_each_status_is_caught_as_the_sdk_exception(
    fake_openai: FakeOpenAI, api: str, mode: str, status: int, sdk_error: type[Exception]
) -> None:
    fake_openai.add(Fault.status(status, error_code="some_code", headers={"x-request-id": "r1"}))
    with pytest.raises(sdk_error) as info:
        await run(model(fake_openai, api), mode)
    err = info.value
    # One object, three hierarchies: the SDK's, ParamChat's and langchain-core's.
    assert isinstance(err, openai.APIStatusError)
    assert isinstance(err, APIStatusError)
    assert isinstance(err, lc_exceptions.ModelError)
    assert err.status_code == status
    assert err.response.status_code == status  # as on the SDK's exception
    assert err.request.url.path.endswith(("/chat/completions", "/responses"))
    assert err.code == "some_code"
    assert err.request_id == "r1"
    assert isinstance(err.body, dict) and err.body["code"] == "some_code"
    assert err.message.startswith("Scripted error with status")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(("status", "sdk_error"), STATUSES, ids=[str(s) for s, _ in STATUSES])
async def test_with_fallbacks_on_the_sdk_exception_falls_back(
    fake_openai: FakeOpenAI, api: str, mode: str, status: int, sdk_error: type[Exception]
) -> None:
    fake_openai.add(Fault.status(status))
    backup = RunnableLambda(lambda _: AIMessage("from the fallback"))
    chain = model(fake_openai, api).with_fallbacks([backup], exceptions_to_handle=(sdk_error,))
    assert await run(chain, mode) == "from the fallback"


@pytest.mark.parametrize("api", APIS)
async def test_fallbacks_for_another_sdk_exception_do_not_fire(
    fake_openai: FakeOpenAI, api: str
) -> None:
    fake_openai.add(Fault.status(400))
    backup = RunnableLambda(lambda _: AIMessage("from the fallback"))
    chain = model(fake_openai, api).with_fallbacks(
        [backup], exceptions_to_handle=(openai.RateLimitError,)
    )
    with pytest.raises(openai.BadRequestError):
        chain.invoke("hi")


@pytest.mark.parametrize("mode", MODES)
async def test_context_overflow_is_the_sdk_bad_request_and_langchains_overflow(
    fake_openai: FakeOpenAI, mode: str
) -> None:
    fake_openai.add(Fault.status(400, error_code="context_length_exceeded"))
    with pytest.raises(openai.BadRequestError) as info:
        await run(model(fake_openai, "chat_completions"), mode)
    assert isinstance(info.value, ContextOverflowError)
    assert isinstance(info.value, lc_exceptions.ContextOverflowError)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_connection_and_timeout_errors_are_the_sdk_ones(
    fake_openai: FakeOpenAI, refused_port: int, api: str, mode: str
) -> None:
    unreachable = ParamChat(
        base_url=f"http://127.0.0.1:{refused_port}/v1", api_key=API_KEY, max_retries=0, api=api
    )
    with pytest.raises(openai.APIConnectionError) as info:
        await run(unreachable, mode)
    assert not isinstance(info.value, openai.APITimeoutError)
    assert isinstance(info.value, lc_exceptions.ModelConnectionError)
    fake_openai.add(Fault.stall(5))
    slow = model(fake_openai, api, timeout=0.2, stream_idle_timeout=0.2)
    with pytest.raises(openai.APITimeoutError) as timeout_info:
        await run(slow, mode)
    assert isinstance(timeout_info.value, TimeoutError)
    assert isinstance(timeout_info.value, ParamChatError)


async def test_a_stream_error_event_is_an_sdk_api_error(fake_openai: FakeOpenAI) -> None:
    from langchain_paramchat.testing import Reply

    fake_openai.add(Reply(text="x", fault=Fault.stream_error("server_error", "it broke")))
    with pytest.raises(openai.APIError, match="it broke"):
        await run(model(fake_openai, "responses"), "stream")


def test_422_is_also_a_bad_request_for_paramchat_code() -> None:
    assert issubclass(openai.UnprocessableEntityError, openai.APIStatusError)
    from langchain_paramchat.errors import UnprocessableEntityError

    assert issubclass(UnprocessableEntityError, BadRequestError)
    assert issubclass(UnprocessableEntityError, openai.UnprocessableEntityError)
    assert issubclass(RateLimitError, openai.RateLimitError)


# --- 11.3: timeouts and HTTP clients as ChatOpenAI takes them --------------------------------

TIMEOUTS: list[Any] = [
    pytest.param(7.5, httpx2.Timeout(7.5, connect=7.5), id="float"),
    pytest.param(30, httpx2.Timeout(30, connect=10.0), id="int-connect-capped"),
    pytest.param((2.0, 9.0), httpx2.Timeout(9.0, connect=2.0), id="connect-read-tuple"),
    pytest.param(httpx2.Timeout(5.0, read=8.0), httpx2.Timeout(5.0, read=8.0), id="httpx2"),
    pytest.param(
        httpx.Timeout(5.0, connect=1.0, pool=3.0),
        httpx2.Timeout(5.0, connect=1.0, pool=3.0),
        id="httpx",
    ),
]


@pytest.mark.parametrize(("given", "expected"), TIMEOUTS)
async def test_timeout_takes_what_chatopenai_takes(
    fake_openai: FakeOpenAI, given: Any, expected: httpx2.Timeout
) -> None:
    chat = model(fake_openai, "chat_completions", timeout=given)
    assert chat.transport.settings.timeout == expected
    assert chat.transport.client.timeout == expected
    assert chat.invoke("hi").text == "Echo: hi"
    assert (await chat.ainvoke("hi")).text == "Echo: hi"
    assert "".join(c.text for c in chat.stream("hi")) == "Echo: hi"


@pytest.mark.parametrize(
    "bad", [(1.0,), (1.0, 2.0, 3.0), ("1", 2), (0, 5), float("inf"), "10", True, [1, 2]]
)
def test_a_bad_timeout_fails_at_construction_naming_what_is_allowed(bad: Any) -> None:
    with pytest.raises(OptionError, match=r"timeout=.*(connect, read)"):
        ParamChat(api_key=API_KEY, timeout=bad)


CLIENTS: list[Any] = [
    pytest.param(httpx2.Client, httpx2.AsyncClient, id="httpx2"),
    pytest.param(httpx.Client, httpx.AsyncClient, id="httpx"),
]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(("sync_cls", "async_cls"), CLIENTS)
async def test_http_clients_of_httpx_or_httpx2_work(
    fake_openai: FakeOpenAI, api: str, sync_cls: Callable[[], Any], async_cls: Callable[[], Any]
) -> None:
    with sync_cls() as http_client:
        async with async_cls() as http_async_client:
            chat = model(
                fake_openai, api, http_client=http_client, http_async_client=http_async_client
            )
            assert chat.invoke("a").text == "Echo: a"
            assert "".join(c.text for c in chat.stream("b")) == "Echo: b"
            assert (await chat.ainvoke("c")).text == "Echo: c"
            assert "".join([c.text async for c in chat.astream("d")]) == "Echo: d"
            fake_openai.add(Fault.status(429))
            with pytest.raises(openai.RateLimitError):
                chat.invoke("e")
    assert len([r for r in fake_openai.requests if r.method == "POST"]) == 5


async def test_a_client_of_the_wrong_kind_fails_at_construction_naming_the_fix() -> None:
    async with httpx2.AsyncClient() as aclient:
        with pytest.raises(OptionError, match=r"http_client=.*pass it as http_async_client"):
            ParamChat(api_key=API_KEY, http_client=aclient)
    with (
        httpx2.Client() as client,
        pytest.raises(OptionError, match=r"http_async_client=.*pass it as http_client"),
    ):
        ParamChat(api_key=API_KEY, http_async_client=client)
    with pytest.raises(OptionError, match=r"http_client=.*httpx2\.Client"):
        ParamChat(api_key=API_KEY, http_client=object())
