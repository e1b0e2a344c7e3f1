"""Model facts drive each call: routing, rejected options, profile, deprecations.

Every call goes through the real ``openai`` SDK to the fake server, which checks each
request body against the SDK's param types (``fake_openai.errors``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.tools import tool

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply, ToolCall

Factory = Callable[..., ParamChat]
MODES = ["invoke", "stream", "ainvoke", "astream"]


@tool
def get_weather(city: str) -> str:
    """Return the weather in a city."""
    return "sunny"


async def _call(model: object, mode: str, prompt: str = "hi") -> BaseMessage:
    """Return the reply of one call made the ``mode`` way (streams merged)."""
    if mode == "invoke":
        return model.invoke(prompt)  # type: ignore[attr-defined,no-any-return]
    if mode == "ainvoke":
        return await model.ainvoke(prompt)  # type: ignore[attr-defined,no-any-return]
    if mode == "stream":
        chunks = list(model.stream(prompt))  # type: ignore[attr-defined]
    else:
        chunks = [c async for c in model.astream(prompt)]  # type: ignore[attr-defined]
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert isinstance(merged, AIMessageChunk)
    return merged


# --- routing ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["gpt-6-cyber", "gpt-6.2-astra-law", "gpt-6.1-sol-healthcare"])
async def test_responses_only_models_from_the_sdk_go_to_responses(
    fake_openai: FakeOpenAI, make_model: Factory, name: str, mode: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    reply = await _call(make_model(model=name), mode)
    assert reply.text == "ok"
    assert fake_openai.requests[0].api == "responses"
    assert "ResponsesModel" in reply.response_metadata["route_reasons"][0]
    assert fake_openai.errors == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["gpt-6-sol", "gpt-5.6-luna"])
async def test_gpt6_with_function_tools_goes_to_responses(
    fake_openai: FakeOpenAI, make_model: Factory, name: str, mode: str
) -> None:
    fake_openai.add(Reply(tool_calls=[ToolCall("get_weather", {"city": "Oslo"})]), Reply(text="hi"))
    bound = make_model(model=name).bind_tools([get_weather])
    reply = await _call(bound, mode)
    assert reply.tool_calls[0]["name"] == "get_weather"  # type: ignore[attr-defined]
    assert fake_openai.requests[0].api == "responses"
    assert fake_openai.requests[0].body["tools"][0]["type"] == "function"
    assert "takes tools only on the Responses API" in reply.response_metadata["route_reasons"][0]
    # Without tools the same model stays on Chat Completions.
    plain = await _call(make_model(model=name), mode)
    assert plain.text == "hi"
    assert fake_openai.requests[1].api == "chat_completions"
    assert fake_openai.errors == []


def test_responses_only_models_setting_still_overrides_the_facts(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text="a"), Reply(text="b"))
    make_model(model="gpt-6-cyber", responses_only_models=()).invoke("hi")
    make_model(model="my-model", responses_only_models=("^my-",)).invoke("hi")
    assert [r.api for r in fake_openai.requests] == ["chat_completions", "responses"]
