"""Request details where ParamChat deliberately differs from ChatOpenAI (README: "Coming from
ChatOpenAI"), checked on what the server receives: a per-call ``None`` leaves the key out,
and ``streaming=True`` invoke streams, tokens reaching callbacks, on both APIs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply
from tests.integration.reply_modes import MODES, run

Factory = Callable[..., ParamChat]

APIS = ["chat_completions", "responses"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_per_call_none_leaves_the_key_out(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    model = make_model(api=api, prompt_cache_key="tenant-7")
    fake_openai.add(Reply(text="a"), Reply(text="b"))
    await run(model, mode)
    assert (fake_openai.requests[-1].body or {})["prompt_cache_key"] == "tenant-7"
    await run(model.bind(prompt_cache_key=None), mode)
    body = fake_openai.requests[-1].body or {}
    assert "prompt_cache_key" not in body
    # The payload a subclass sees is that body, and the model itself is unchanged.
    payload = model._get_request_payload("hi", prompt_cache_key=None)
    assert "prompt_cache_key" not in payload
    assert model.prompt_cache_key == "tenant-7"
    assert fake_openai.errors == []


class Tokens(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)


class AsyncTokens(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []

    async def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)


@pytest.mark.parametrize("api", APIS)
async def test_streaming_true_invoke_streams_and_callbacks_get_each_token(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    model = make_model(api=api, streaming=True)
    assert model._should_stream(async_api=False) is False  # ParamChat merges the stream
    fake_openai.add(
        Reply(text="one two three", chunk_size=4), Reply(text="four five", chunk_size=4)
    )
    sync = Tokens()
    assert model.invoke("hi", config={"callbacks": [sync]}).text == "one two three"
    assert fake_openai.requests[-1].body["stream"] is True  # type: ignore[index]
    assert "".join(sync.tokens) == "one two three" and len(sync.tokens) > 1
    handler = AsyncTokens()
    reply = await model.ainvoke("hi", config={"callbacks": [handler]})
    assert reply.text == "four five"
    assert fake_openai.requests[-1].body["stream"] is True  # type: ignore[index]
    assert "".join(handler.tokens) == "four five" and len(handler.tokens) > 1
    assert fake_openai.errors == []
