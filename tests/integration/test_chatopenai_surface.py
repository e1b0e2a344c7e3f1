"""ChatOpenAI's surface, readable and patchable: SDK objects, patched ``create``, subclasses.

Everything runs through the real openai SDK over loopback against FakeOpenAI: a patched or
replaced ``create`` here wraps the real one, so the request still reaches the server, and the
test sees that it went through the replacement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from unittest.mock import patch

import openai
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatResult
from langchain_core.runnables import ConfigurableField
from openai.resources.chat.completions import AsyncCompletions, Completions
from openai.resources.responses import AsyncResponses, Responses

from langchain_paramchat import ParamChat
from langchain_paramchat._sdk.http import hx
from langchain_paramchat.errors import RateLimitError
from langchain_paramchat.testing import FakeOpenAI

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]
MODES = ["invoke", "stream"]
_CLASSES = {
    ("chat_completions", False): Completions,
    ("chat_completions", True): AsyncCompletions,
    ("responses", False): Responses,
    ("responses", True): AsyncResponses,
}


def _text(message: Any) -> str:
    return str(message.text)


def run(model: Any, mode: str, is_async: bool, text: str = "hi") -> AIMessage:
    """Invoke or stream (merged), sync or async."""

    async def arun() -> Any:
        if mode == "invoke":
            return await model.ainvoke(text)
        merged = None
        async for chunk in model.astream(text):
            merged = chunk if merged is None else merged + chunk
        return merged

    if is_async:
        return asyncio.run(arun())  # type: ignore[no-any-return]
    if mode == "invoke":
        return model.invoke(text)  # type: ignore[no-any-return]
    merged: AIMessageChunk | None = None
    for chunk in model.stream(text):
        merged = chunk if merged is None else merged + chunk
    assert merged is not None
    return merged  # type: ignore[return-value]


def spying(cls: type, calls: list[dict[str, Any]], is_async: bool) -> Any:
    """Return a replacement for ``cls.create`` that records its kwargs and calls the real one."""
    original = cls.create  # type: ignore[attr-defined]
    if is_async:

        async def acreate(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(kwargs)
            return await original(self, *args, **kwargs)

        return acreate

    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    return create


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
def test_a_patched_sdk_create_carries_the_call(
    make_model: Factory, fake_openai: FakeOpenAI, api: str, mode: str, is_async: bool
) -> None:
    model = make_model(api=api)
    calls: list[dict[str, Any]] = []
    cls = _CLASSES[(api, is_async)]
    with patch.object(cls, "create", spying(cls, calls, is_async)):
        message = run(model, mode, is_async, "through the patch")
    assert "Echo: through the patch" in _text(message)
    assert len(calls) == 1
    assert calls[0]["model"] == "gpt-4o-mini"
    assert bool(calls[0].get("stream")) is (mode == "stream")
    assert len(fake_openai.requests) == 1  # the real create sent it, once
    # With the patch gone, the direct send takes over again.
    assert "Echo: after" in _text(run(model, mode, is_async, "after"))
    assert len(calls) == 1 and len(fake_openai.requests) == 2


def _rate_limit() -> openai.RateLimitError:
    request = hx.Request("POST", "https://api.openai.com/v1/chat/completions")
    return openai.RateLimitError(
        "rate limit", response=hx.Response(429, request=request), body=None
    )


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_with_fallbacks_driven_by_a_patched_completions_create_prints_the_fallback(
    make_model: Factory, capsys: pytest.CaptureFixture[str], is_async: bool
) -> None:
    # LangChain's fallbacks how-to: simulate a 429 by patching the SDK.
    primary = make_model(max_retries=0)
    fallback = make_model(api="responses", model="gpt-4.1-mini")
    llm = primary.with_fallbacks([fallback])
    target = AsyncCompletions if is_async else Completions
    with patch.object(target, "create", side_effect=_rate_limit()):
        if is_async:
            print(asyncio.run(llm.ainvoke("Why did the chicken cross the road?")).text)
        else:
            print(llm.invoke("Why did the chicken cross the road?").text)
        with pytest.raises(openai.RateLimitError) as info:
            if is_async:
                asyncio.run(primary.ainvoke("no fallback"))
            else:
                primary.invoke("no fallback")
    assert capsys.readouterr().out == "Echo: Why did the chicken cross the road?\n"
    assert isinstance(info.value, RateLimitError)  # the package error, also the SDK's


class _Recorder:
    """A stand-in for ``client``: ChatOpenAI's calls, recorded, then passed to a real one."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[str] = []
        self.with_raw_response = self

    def create(self, **kwargs: Any) -> Any:
        self.calls.append("stream" if kwargs.get("stream") else "create")
        return self.real.create(**kwargs)


@pytest.mark.parametrize("mode", MODES)
def test_a_replaced_client_receives_the_calls(
    make_model: Factory, fake_openai: FakeOpenAI, mode: str
) -> None:
    model = make_model(api="chat_completions")
    recorder = _Recorder(fake_openai.client(api_key="sk-test-key-123").chat.completions)
    model.client = recorder
    assert model.client is recorder
    assert "Echo: hi" in _text(run(model, mode, False))
    assert recorder.calls == ["stream" if mode == "stream" else "create"]
    del model.client  # back to ParamChat's own client and the direct send
    run(model, mode, False)
    assert len(recorder.calls) == 1 and len(fake_openai.requests) == 2


def test_a_root_client_given_at_construction_carries_both_apis(fake_openai: FakeOpenAI) -> None:
    root = fake_openai.client(api_key="sk-test-key-123")
    model = ParamChat(root_client=root, api_key="unused", base_url="http://127.0.0.1:9/v1")
    assert model.root_client is root
    assert model.invoke("cc").text == "Echo: cc"
    assert model.invoke("rs", api="responses").text == "Echo: rs"
    assert [r.api for r in fake_openai.requests] == ["chat_completions", "responses"]


def test_sdk_objects_are_built_lazily_and_leave_the_direct_send_alone(
    make_model: Factory,
) -> None:
    model = make_model()
    assert model._sdk is None  # nothing built by construction or calls
    model.invoke("hi")
    assert model._sdk is None
    assert isinstance(model.root_client, openai.OpenAI)
    assert model.client is model.root_client.chat.completions
    other = make_model()
    # Each model its own SDK objects, over the one shared connection pool.
    assert other.root_client is not model.root_client
    assert other.root_client._client is model.root_client._client
    route = model._transport_for({}, path="/chat/completions")
    assert route is model.transport  # read, but not replaced or patched: direct send


def test_an_instance_patch_on_a_handed_out_client_is_used(make_model: Factory) -> None:
    model = make_model()
    with patch.object(model.client, "with_raw_response") as raw:
        raw.create.side_effect = _rate_limit()
        with pytest.raises(RateLimitError):
            model.invoke("hi")
    assert raw.create.call_args.kwargs["messages"] == [{"role": "user", "content": "hi"}]


class Tenant(ParamChat):
    """A provider-style subclass: its own field, and both override points."""

    tenant: str = "none"

    def _get_request_payload(
        self, input_: Any, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        payload["user"] = self.tenant
        return payload

    def _create_chat_result(
        self, response: Any, generation_info: dict[str, Any] | None = None
    ) -> ChatResult:
        result = super()._create_chat_result(response, generation_info)
        message = result.generations[0].message
        message.content = _text(message).upper()
        return result


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
def test_a_subclass_changes_the_body_and_the_result(
    fake_openai: FakeOpenAI, api: str, mode: str, is_async: bool
) -> None:
    model = Tenant(base_url=fake_openai.base_url, api_key="sk-test-key-123", api=api, tenant="acme")
    message = run(model, mode, is_async)
    body = fake_openai.requests[-1].body
    assert body is not None and body["user"] == "acme"
    assert model.preview_request("x").payload["user"] == "acme"
    # The result hook shapes invoke's reply; streams are chunks, as in ChatOpenAI.
    expected = "ECHO: HI" if mode == "invoke" else "Echo: hi"
    assert _text(message) == expected


def test_chatopenai_names_read_back_and_configure(fake_openai: FakeOpenAI) -> None:
    model = ParamChat(
        base_url=fake_openai.base_url,
        openai_api_key="sk-test-key-123",
        model_name="gpt-4o",
        request_timeout=30,
        reasoning_effort="low",
    )
    assert (model.model_name, model.request_timeout, model.reasoning_effort) == (
        "gpt-4o",
        30,
        "low",
    )
    assert "langchain-paramchat" in model.metadata["lc_versions"]  # type: ignore[index]
    configurable = model.configurable_fields(model_name=ConfigurableField(id="model_name"))
    reply = configurable.with_config(configurable={"model_name": "gpt-4.1-mini"}).invoke("hi")
    assert reply.response_metadata["model_name"] == "gpt-4.1-mini"


@pytest.mark.parametrize("api", APIS)
def test_llm_output_and_bound_tools_look_like_chatopenai(make_model: Factory, api: str) -> None:
    from langchain_core.messages import HumanMessage
    from pydantic import BaseModel

    class Weather(BaseModel):
        """Get the weather."""

        city: str

    model = make_model(api=api)
    result = model.generate([[HumanMessage("hi")], [HumanMessage("again")]])
    output = result.llm_output
    assert output is not None and output["model_name"] == "gpt-4o-mini"
    assert output["token_usage"]["total_tokens"] > 0
    assert output["id"]
    bound = model.bind_tools([Weather])
    tool = bound.kwargs["tools"][0]  # type: ignore[attr-defined]
    assert tool["type"] == "function" and tool["function"]["name"] == "Weather"
    params = model._get_invocation_params(**bound.kwargs)  # type: ignore[attr-defined]
    assert params["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert bound.invoke("hi").text == "Echo: hi"
