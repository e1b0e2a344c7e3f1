"""Model facts drive each call: routing, rejected options, profile, deprecations.

Every call goes through the real ``openai`` SDK to the fake server, which checks each
request body against the SDK's param types (``fake_openai.errors``).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable

import pytest
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import OptionError
from langchain_paramchat.options import RejectedOptionWarning
from langchain_paramchat.testing import FakeOpenAI, Reply, ToolCall, Usage

Factory = Callable[..., ParamChat]
MODES = ["invoke", "stream", "ainvoke", "astream"]
# Where a warning must not be attributed (the packages callers_stacklevel skips).
LIBRARIES = ["langchain_paramchat", "langchain_core", "asyncio"]


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


# --- options a model rejects --------------------------------------------------------------

APIS = ["chat_completions", "responses"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_rejected_options_are_left_out_with_one_warning(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    model = make_model(model="gpt-5.4-mini", api=api, temperature=0.2, top_p=0.5)
    with pytest.warns(RejectedOptionWarning) as caught:
        reply = await _call(model, mode)
    assert reply.text == "ok"
    # Only ours: a warning from elsewhere (a socket collected late) may land here too.
    ours = [w for w in caught if issubclass(w.category, RejectedOptionWarning)]
    assert len(ours) == 1
    message = str(ours[0].message)
    assert "temperature=0.2" in message and "top_p=0.5" in message and "gpt-5.4-mini" in message
    body = fake_openai.requests[0].body
    assert "temperature" not in body and "top_p" not in body
    assert fake_openai.errors == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_strict_options_refuses_before_the_network(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    model = make_model(model="o3", api=api, strict_options=True)
    with pytest.raises(OptionError, match=r"temperature=0\.3 .*model 'o3' rejects it"):
        await _call(model.bind(temperature=0.3), mode)
    assert fake_openai.requests == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_no_reasoning_effort_lets_gpt51_and_later_take_temperature(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    model = make_model(model="gpt-6-sol", api=api, temperature=0.2, reasoning_effort="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RejectedOptionWarning)
        await _call(model, mode)
    body = fake_openai.requests[0].body
    assert body["temperature"] == 0.2
    effort = body["reasoning_effort"] if api == "chat_completions" else body["reasoning"]["effort"]
    assert effort == "none"
    assert fake_openai.errors == []


@pytest.mark.parametrize("api", APIS)
def test_models_that_take_sampling_options_get_them(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RejectedOptionWarning)
        make_model(model="gpt-5-chat-latest", api=api, temperature=0.2, top_p=0.5).invoke("hi")
    body = fake_openai.requests[0].body
    assert (body["temperature"], body["top_p"]) == (0.2, 0.5)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("n", [None, 1])
def test_n_is_left_out_unless_above_one(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, n: int | None
) -> None:
    fake_openai.add(Reply(text="ok"))
    make_model(api=api, n=n).invoke("hi")
    assert "n" not in fake_openai.requests[0].body


# --- profile ------------------------------------------------------------------------------


class Answer(BaseModel):
    """The answer and how sure the model is."""

    text: str
    confidence: float


@pytest.mark.parametrize("api", APIS)
async def test_create_agent_uses_the_providers_structured_output(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    from langchain.agents import create_agent

    reply = '{"text": "Paris", "confidence": 0.9}'
    fake_openai.add(Reply(text=reply), Reply(text=reply))
    model = make_model(model="gpt-5.4-mini", api=api)
    assert model.profile is not None and model.profile["structured_output"] is True
    agent = create_agent(model, tools=[get_weather], response_format=Answer)
    state = agent.invoke({"messages": [("user", "Capital of France?")]})
    assert state["structured_response"] == Answer(text="Paris", confidence=0.9)
    astate = await agent.ainvoke({"messages": [("user", "Capital of France?")]})
    assert astate["structured_response"] == Answer(text="Paris", confidence=0.9)
    for request in fake_openai.requests:
        # The provider strategy: a JSON schema response format, no extra "Answer" tool.
        fmt = (
            request.body["response_format"]
            if api == "chat_completions"
            else request.body["text"]["format"]
        )
        assert fmt["type"] == "json_schema"
        assert [t.get("name") or t["function"]["name"] for t in request.body["tools"]] == [
            "get_weather"
        ]
    assert fake_openai.errors == []


@pytest.mark.parametrize("model_name", ["gpt-5.2-pro", "gpt-5.4-pro"])
async def test_create_agent_asks_a_pro_model_without_structured_outputs_for_a_tool_call(
    fake_openai: FakeOpenAI, make_model: Factory, model_name: str
) -> None:
    from langchain.agents import create_agent

    model = make_model(model=model_name)
    assert model.profile is not None and model.profile["structured_output"] is False
    call = ToolCall("Answer", {"text": "Paris", "confidence": 0.9})
    fake_openai.add(Reply(tool_calls=[call]), Reply(tool_calls=[call]))
    agent = create_agent(model, tools=[get_weather], response_format=Answer)
    state = agent.invoke({"messages": [("user", "Capital of France?")]})
    assert state["structured_response"] == Answer(text="Paris", confidence=0.9)
    astate = await agent.ainvoke({"messages": [("user", "Capital of France?")]})
    assert astate["structured_response"] == Answer(text="Paris", confidence=0.9)
    for request in fake_openai.requests:
        # The tool strategy: an "Answer" tool next to the user's, no text.format.
        assert "format" not in request.body.get("text", {})
        names = {t.get("name") or t["function"]["name"] for t in request.body["tools"]}
        assert names == {"get_weather", "Answer"}
    assert fake_openai.errors == []


def test_summarization_middleware_with_fractional_triggers_starts(make_model: Factory) -> None:
    from langchain.agents.middleware import SummarizationMiddleware

    model = make_model(model="gpt-5.4-mini")
    middleware = SummarizationMiddleware(
        model=model, trigger=("fraction", 0.8), keep=("fraction", 0.3)
    )
    assert middleware is not None
    assert model.profile is not None and model.profile["max_input_tokens"] == 400_000


def test_profiles_follow_the_facts_and_a_given_profile_wins(make_model: Factory) -> None:
    reasoning = make_model(model="gpt-6-sol").profile
    assert reasoning is not None
    assert reasoning["reasoning_output"] is True
    assert "max" in reasoning["reasoning_effort_levels"]
    assert reasoning["max_input_tokens"] == 1_050_000
    assert make_model(model="o3").profile["temperature"] is False  # type: ignore[index]
    assert make_model(model="gpt-4o-audio-preview").profile["audio_inputs"] is True  # type: ignore[index]
    assert make_model(model="my-local-model").profile is None
    given = make_model(model="gpt-6-sol", profile={"max_input_tokens": 1000}).profile
    assert given == {"max_input_tokens": 1000}


# --- defaults and deprecations --------------------------------------------------------------


def test_the_default_model_is_not_scheduled_for_shutdown() -> None:
    from langchain_paramchat.routing.model_facts import facts, sdk_chat_models

    default = ParamChat.model_fields["model"].default
    assert default in sdk_chat_models()
    assert facts(default).shutdown is None


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_shut_down_model_warns_with_its_date_and_successor(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    with pytest.warns(
        DeprecationWarning, match=r"'o4-mini' was shut down on 2026-10-23.*gpt-5\.4-mini"
    ):
        reply = await _call(make_model(model="o4-mini", api=api), mode)
    assert reply.text == "ok"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("api", "option", "value"),
    [
        ("chat_completions", "prompt_cache_retention", "24h"),
        ("responses", "prompt_cache_retention", "24h"),
        ("chat_completions", "user", "u-1"),
        ("responses", "user", "u-1"),
        ("responses", "prompt", {"id": "pmpt_1"}),
    ],
)
async def test_deprecated_options_warn_and_are_still_sent(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, option: str, value: object, mode: str
) -> None:
    fake_openai.add(Reply(text="ok"))
    with pytest.warns(DeprecationWarning, match=f"option '{option}' is deprecated"):
        await _call(make_model(model="gpt-5.4-mini", api=api).bind(**{option: value}), mode)
    assert fake_openai.requests[0].body[option] == value
    assert fake_openai.errors == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_a_deprecation_warning_points_at_the_users_own_code(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    # Python shows a DeprecationWarning by default only when it is attributed to __main__,
    # so it must name the caller's line (here in _call), not a library frame or the one above.
    # ainvoke runs the call in a task of its own (langchain-core gathers), so there the
    # nearest frame outside the libraries is whatever runs the event loop (a script's
    # asyncio.run line; here pytest-asyncio).
    fake_openai.add(Reply(text="ok"))
    model = make_model(model="gpt-5.4-mini", api=api).bind(user="u-1")
    with pytest.warns(DeprecationWarning, match="option 'user' is deprecated") as caught:
        await _call(model, mode)
    # Only ours: pytest.warns also records what other code warns meanwhile (ResourceWarning).
    (warned,) = [w for w in caught if "option 'user'" in str(w.message)]
    if mode == "ainvoke":
        assert not any(f"/{lib}/" in warned.filename for lib in LIBRARIES), warned.filename
    else:
        source, first = inspect.getsourcelines(_call)
        line = first + next(i for i, text in enumerate(source) if f"model.{mode}(" in text)
        assert (warned.filename, warned.lineno) == (__file__, line)


def test_a_current_model_and_options_do_not_warn(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    fake_openai.add(Reply(text="ok"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_model(model="gpt-5.4-mini", safety_identifier="u-1").invoke("hi")


# --- usage and metadata -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("tier", ["flex", "priority"])
async def test_usage_on_priced_tiers_carries_chatopenais_keys(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, tier: str, mode: str
) -> None:
    usage = Usage(100, 40, cached_tokens=30, reasoning_tokens=10, cache_write_tokens=5)
    fake_openai.add(Reply(text="ok", usage=usage, service_tier=tier))
    reply = await _call(make_model(api=api, service_tier=tier), mode)
    assert reply.usage_metadata is not None  # type: ignore[attr-defined]
    details = reply.usage_metadata  # type: ignore[attr-defined]
    assert details["input_token_details"][f"{tier}_cache_read"] == 30
    assert details["input_token_details"][f"{tier}_cache_creation"] == 5
    assert details["input_token_details"][tier] == 70  # input less cache reads
    assert details["output_token_details"][f"{tier}_reasoning"] == 10
    assert details["output_token_details"][tier] == 30  # output less reasoning
    assert "cache_read" not in details["input_token_details"]
    assert (details["input_tokens"], details["output_tokens"]) == (100, 40)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_usage_at_the_default_tier_keeps_plain_keys(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(text="ok", usage=Usage(100, 40, cached_tokens=30, reasoning_tokens=10)))
    reply = await _call(make_model(api=api), mode)
    details = reply.usage_metadata  # type: ignore[attr-defined]
    assert details["input_token_details"]["cache_read"] == 30
    assert details["output_token_details"]["reasoning"] == 10
    assert "default" not in details["input_token_details"]


@pytest.mark.parametrize("mode", MODES)
async def test_cache_writes_are_split_by_lifetime(
    fake_openai: FakeOpenAI, make_model: Factory, mode: str
) -> None:
    usage = Usage(
        500, 10, cache_write_tokens=300, cache_write_30m_tokens=100, cache_write_12h_tokens=200
    )
    fake_openai.add(Reply(text="ok", usage=usage))
    reply = await _call(make_model(api="responses"), mode)
    details = reply.usage_metadata["input_token_details"]  # type: ignore[attr-defined]
    assert details["cache_creation"] == 300
    assert (details["cache_creation_30m"], details["cache_creation_12h"]) == (100, 200)


EXTRAS = {
    "input_transformations": [
        {"id": "rs_1", "action": "removed", "reason": "model_mismatch", "type": "reasoning"}
    ],
    "prompt_cache_diagnostics": {"type": "cache_hit"},
    "tool_usage": {"web_search": {"num_requests": 2}},
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_reply_extras_are_kept_in_response_metadata(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(text="ok", response_fields=EXTRAS))
    reply = await _call(make_model(api=api), mode)
    for key, value in EXTRAS.items():
        assert reply.response_metadata[key] == value
    fake_openai.add(Reply(text="ok"))
    plain = await _call(make_model(api=api), mode)
    assert not set(EXTRAS) & set(plain.response_metadata)
