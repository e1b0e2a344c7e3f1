"""Never mutate, never leak: per-call options stay in their call; MCP credentials stay secret.

A per-call option (``response_format`` above all) must not change the model object, a bound
model, or any later call. An MCP tool's ``headers`` / ``authorization`` must reach OpenAI but
never what callbacks and tracers see: invocation params, LangSmith params, serialized tools.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.load import dumpd
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply

Factory = Callable[..., ParamChat]

APIS = ["chat_completions", "responses"]
MODES = ["invoke", "ainvoke", "stream", "astream"]


async def run(model: Any, mode: str, prompt: Any = "hi", **kwargs: Any) -> Any:
    if mode == "invoke":
        return model.invoke(prompt, **kwargs)
    if mode == "ainvoke":
        return await model.ainvoke(prompt, **kwargs)
    if mode == "stream":
        return list(model.stream(prompt, **kwargs))
    return [chunk async for chunk in model.astream(prompt, **kwargs)]


def body(server: FakeOpenAI, n: int = -1) -> dict[str, Any]:
    sent = server.requests[n].body
    assert sent is not None
    return sent


class Answer(BaseModel):
    answer: str


# --- per-call options never change the model or a later call -------------------------------


def sent_format(sent: dict[str, Any]) -> Any:
    if "response_format" in sent:
        return sent["response_format"]
    return (sent.get("text") or {}).get("format")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_per_call_response_format_stays_in_its_call(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    model = make_model(api=api)
    before = model.model_dump()
    fake_openai.add(Reply(text='{"answer": "a"}'), Reply(text="plain"))
    await run(model, mode, response_format=Answer)
    assert sent_format(body(fake_openai)) is not None
    await run(model, mode)
    assert sent_format(body(fake_openai)) is None
    assert model.model_dump() == before
    assert model.response_format is None


@pytest.mark.parametrize("mode", MODES)
async def test_a_per_call_format_never_touches_the_models_text_setting(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    text = {"verbosity": "low"}
    model = make_model(model="gpt-5", api="responses", text=text)
    fake_openai.add(Reply(text="{}"), Reply(text="plain"))
    await run(model, mode, response_format={"type": "json_object"})
    assert body(fake_openai)["text"] == {"verbosity": "low", "format": {"type": "json_object"}}
    await run(model, mode)
    assert body(fake_openai)["text"] == {"verbosity": "low"}
    assert text == {"verbosity": "low"}
    assert model.text == {"verbosity": "low"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_per_call_options_leave_a_bound_model_as_it_was(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    metadata = {"tenant": "a"}
    bound = make_model(api=api).bind(request_metadata=metadata, response_format=Answer)
    kwargs_before = copy.deepcopy(bound.kwargs)
    fake_openai.add(Reply(text='{"answer": "x"}'), Reply(text='{"answer": "y"}'))
    await run(bound, mode, request_metadata={"tenant": "b"}, extra_body={"user": "u1"})
    first = body(fake_openai)
    await run(bound, mode)
    second = body(fake_openai)
    assert first["metadata"] == {"tenant": "b"}
    assert first["user"] == "u1"
    assert second["metadata"] == {"tenant": "a"}
    assert "user" not in second
    assert sent_format(first) == sent_format(second)
    assert bound.kwargs == kwargs_before
    assert metadata == {"tenant": "a"}


@pytest.mark.parametrize("api", APIS)
def test_with_structured_output_leaves_the_model_alone(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    model = make_model(api=api)
    before = model.model_dump()
    fake_openai.add(Reply(text='{"answer": "a"}'), Reply(text="plain"))
    assert model.with_structured_output(Answer).invoke("hi") == Answer(answer="a")
    assert model.invoke("hi").text == "plain"
    assert sent_format(body(fake_openai)) is None
    assert model.model_dump() == before


# --- MCP credentials: sent, never traced --------------------------------------------------

HEADER_SECRET = "Bearer HEADER_SECRET_0123456789"
AUTH_SECRET = "AUTHORIZATION_SECRET_0123456789"
MCP = {
    "type": "mcp",
    "server_label": "deepwiki",
    "server_url": "https://mcp.deepwiki.com/mcp",
    "require_approval": "never",
    "headers": {"Authorization": HEADER_SECRET},
    "authorization": AUTH_SECRET,
}
SECRETS = ("HEADER_SECRET", "AUTHORIZATION_SECRET")


class Recorder(BaseCallbackHandler):
    """Record everything a tracer is handed at the start and end of a chat model run."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        self.seen.append({"serialized": serialized, "messages": messages, **kwargs})

    def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        self.seen.append({"serialized": serialized, "inputs": inputs, **kwargs})

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.seen.append({"response": response, **kwargs})


class AsyncRecorder(AsyncCallbackHandler):
    """The async twin of ``Recorder``."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    async def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        self.seen.append({"serialized": serialized, "messages": messages, **kwargs})

    async def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.seen.append({"response": response, **kwargs})


@pytest.mark.parametrize("mode", MODES)
async def test_mcp_credentials_reach_openai_but_not_callbacks(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    fake_openai.add(Reply(text="Wiki says hi."))
    recorder: Recorder | AsyncRecorder = AsyncRecorder() if mode.startswith("a") else Recorder()
    model = make_model(model="gpt-5").bind_tools([MCP])
    await run(model, mode, config={"callbacks": [recorder]})
    [tool] = body(fake_openai)["tools"]
    assert tool["headers"] == {"Authorization": HEADER_SECRET}
    assert tool["authorization"] == AUTH_SECRET
    assert fake_openai.errors == []
    [start] = [s for s in recorder.seen if "invocation_params" in s]
    [traced] = start["invocation_params"]["tools"]
    assert traced["type"] == "mcp"
    assert traced["server_label"] == "deepwiki"
    assert traced["headers"] == "**REDACTED**"
    assert traced["authorization"] == "**REDACTED**"
    for secret in SECRETS:
        assert secret not in str(recorder.seen)


def test_mcp_credentials_stay_out_of_ls_params_and_serialized_bindings(
    make_model: Factory,
) -> None:
    model = make_model(model="gpt-5")
    bound = model.bind_tools([MCP])
    params = model._get_invocation_params(stop=None, **bound.kwargs)
    ls_params = model._get_ls_params(stop=None, **bound.kwargs)
    for secret in SECRETS:
        assert secret not in str(params)
        assert secret not in str(ls_params)
        assert secret not in str(dumpd(bound))
    # The tool itself is untouched: the next request still carries the credentials.
    assert bound.preview_request("hi").payload["tools"][0]["authorization"] == AUTH_SECRET


def test_a_chain_trace_never_shows_mcp_credentials(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    from langchain_core.prompts import ChatPromptTemplate

    fake_openai.add(Reply(text="ok"))
    recorder = Recorder()
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | make_model(
        model="gpt-5"
    ).bind_tools([MCP])
    chain.invoke({"q": "hi"}, config={"callbacks": [recorder]})
    assert recorder.seen
    for secret in SECRETS:
        assert secret not in str(recorder.seen)
