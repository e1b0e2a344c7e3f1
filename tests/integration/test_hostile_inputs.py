"""Hostile and non-standard inputs fail before the network with a package ValueError.

Issue 10 points 6 and 11: NaN/Infinity and values JSON cannot hold, deeply nested or cyclic
schemas, out-of-range numbers, lone surrogates and ids from the server put into URLs. Each
raises a ``ParamChatError`` that is a ``ValueError`` (never ``RecursionError``,
``TypeError`` or ``KeyError``) and sends zero requests; the shipped fake server refuses
non-standard JSON too, so a test would see it if it were sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from langchain_core.messages import HumanMessage

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import OptionError, ParamChatError, ResponseFormatError
from langchain_paramchat.testing import FakeOpenAI

API_KEY = "sk-hostile-inputs-key-0123456789"
APIS = ["chat_completions", "responses"]
MODES = ["invoke", "ainvoke", "stream", "astream"]


def model(server: FakeOpenAI, api: str, **kwargs: Any) -> ParamChat:
    return ParamChat(base_url=server.base_url, api_key=API_KEY, api=api, max_retries=0, **kwargs)


async def attempt(build: Callable[[], Any], mode: str, prompt: Any = "hi") -> BaseException | None:
    """Build the runnable and call it the way a user would; return what was raised, if any."""
    try:
        runnable = build()
        if mode == "invoke":
            runnable.invoke(prompt)
        elif mode == "ainvoke":
            await runnable.ainvoke(prompt)
        elif mode == "stream":
            for _ in runnable.stream(prompt):
                pass
        else:
            async for _ in runnable.astream(prompt):
                pass
    except Exception as exc:
        return exc
    return None


def refused(error: BaseException | None, server: FakeOpenAI) -> BaseException:
    assert isinstance(error, ParamChatError), f"expected a package error, got {error!r}"
    assert isinstance(error, ValueError), f"{type(error).__name__} is not a ValueError"
    assert server.requests == [], "a request was sent"
    return error


def schema(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


def nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        node = schema(inner=node)
    return node


Case = Callable[[ParamChat], Any]
NON_STANDARD: dict[str, tuple[Case, str]] = {
    "nan-in-extra-body-field": (
        lambda m: m.model_copy(update={"extra_body": {"x": {"y": [1.0, math.nan]}}}),
        "x.y[1]",
    ),
    "infinity-in-extra-body-call": (lambda m: m.bind(extra_body={"z": math.inf}), "z"),
    "nan-in-a-tool-schema": (
        lambda m: m.bind_tools(
            [
                {
                    "type": "function",
                    "function": {
                        "name": "f",
                        "parameters": schema(n={"type": "number", "maximum": math.nan}),
                    },
                }
            ]
        ),
        "maximum",
    ),
    "infinity-in-response-format": (
        lambda m: m.bind(
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": "r",
                    "schema": schema(n={"type": "number", "minimum": -math.inf}),
                },
            }
        ),
        "minimum",
    ),
    "a-set-in-extra-body": (lambda m: m.bind(extra_body={"tags": {"a", "b"}}), "tags"),
    "bytes-in-extra-body": (lambda m: m.bind(extra_body={"blob": b"\x00"}), "blob"),
    "an-object-in-extra-body": (lambda m: m.bind(extra_body={"o": object()}), "o"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("case", list(NON_STANDARD))
async def test_values_json_cannot_hold_are_refused_naming_their_path(
    fake_openai: FakeOpenAI, api: str, mode: str, case: str
) -> None:
    build, path = NON_STANDARD[case]
    error = refused(await attempt(lambda: build(model(fake_openai, api)), mode), fake_openai)
    assert isinstance(error, OptionError)
    assert path in str(error)


def test_the_fake_server_refuses_non_standard_json(fake_openai: FakeOpenAI) -> None:
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"top_p":'
        reply = httpx2.post(
            f"{fake_openai.base_url}/chat/completions",
            content=body + constant + b"}",
            headers={"content-type": "application/json", "authorization": "Bearer x"},
        )
        assert reply.status_code == 400
        assert "is not valid JSON" in reply.json()["error"]["message"]
    assert len(fake_openai.errors) == 3


HOSTILE: dict[str, tuple[Case, Any]] = {
    "schema-nested-250-levels": (
        lambda m: m.bind_tools(
            [{"type": "function", "function": {"name": "deep", "parameters": nested(250)}}]
        ),
        "hi",
    ),
    "schema-nested-250-levels-strict": (
        lambda m: m.bind_tools(
            [{"type": "function", "function": {"name": "deep", "parameters": nested(250)}}],
            strict=True,
        ),
        "hi",
    ),
    "ref-cycle-under-strict": (
        lambda m: m.bind_tools(
            [
                {
                    "type": "function",
                    "function": {
                        "name": "cyclic",
                        "parameters": {
                            "$ref": "#/$defs/a",
                            "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
                        },
                    },
                }
            ],
            strict=True,
        ),
        "hi",
    ),
    "seed-beyond-64-bits": (lambda m: m.bind(seed=2**70), "hi"),
    "negative-max-tokens": (lambda m: m.bind(max_tokens=-5), "hi"),
    "max-tokens-of-a-bool": (lambda m: m.bind(max_tokens=True), "hi"),
    "lone-surrogate-in-text": (lambda m: m, "half a pair \ud83d here"),
    "lone-surrogate-in-a-block": (
        lambda m: m,
        [HumanMessage([{"type": "text", "text": "x \udfff y"}])],
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("case", list(HOSTILE))
async def test_hostile_inputs_raise_a_package_value_error_before_any_request(
    fake_openai: FakeOpenAI, api: str, mode: str, case: str
) -> None:
    build, prompt = HOSTILE[case]
    error = await attempt(lambda: build(model(fake_openai, api)), mode, prompt)
    refused(error, fake_openai)
    assert not isinstance(error, RecursionError | TypeError | KeyError)


@pytest.mark.parametrize(
    "path", ["responses/../../admin", "responses/a?b=c", "responses/a#b", "responses/a b", "/./x"]
)
async def test_a_poll_url_never_carries_a_server_id_that_is_not_a_plain_id(
    fake_openai: FakeOpenAI, path: str
) -> None:
    transport = model(fake_openai, "responses").transport
    with pytest.raises(ResponseFormatError, match="not a plain id"):
        transport.get_json(path)
    with pytest.raises(ResponseFormatError, match="not a plain id"):
        await transport.aget_json(path)
    assert fake_openai.requests == []
