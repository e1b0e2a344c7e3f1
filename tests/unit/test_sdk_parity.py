"""Every create() parameter of the installed SDK is an option, and lands where it should."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from openai.types.chat import completion_create_params as chat_params
from openai.types.responses import response_create_params as resp_params

from langchain_paramchat import IncompatibleOptionsError, ParamChat
from langchain_paramchat.options import OPTIONS
from langchain_paramchat.options.typecheck import find_error

# Keys ParamChat fills itself rather than taking as options.
MODEL_FILLED_CHAT = {
    "messages",  # from the LangChain messages
    "model",  # the model field
    "tools",  # from bind_tools
    # Deprecated predecessors of tools/tool_choice; bind_tools covers them.
    "functions",
    "function_call",
    # Deprecated predecessor of max_completion_tokens, where the max_tokens option goes.
    "max_tokens",
}
MODEL_FILLED_RESPONSES = {"input", "model", "tools"}

_SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
_SCHEMA["additionalProperties"] = False

# option -> (sample value, expected Chat Completions fragment, expected Responses fragment);
# a fragment of None means that API cannot carry the sample.
SAMPLES: dict[str, tuple[Any, dict[str, Any] | None, dict[str, Any] | None]] = {
    "temperature": (0.3, {"temperature": 0.3}, {"temperature": 0.3}),
    "top_p": (0.9, {"top_p": 0.9}, {"top_p": 0.9}),
    "max_tokens": (64, {"max_completion_tokens": 64}, {"max_output_tokens": 64}),
    "frequency_penalty": (0.5, {"frequency_penalty": 0.5}, None),
    "presence_penalty": (0.5, {"presence_penalty": 0.5}, None),
    "logit_bias": ({"50256": -100}, {"logit_bias": {"50256": -100}}, None),
    "seed": (7, {"seed": 7}, None),
    "stop": (["END"], {"stop": ["END"]}, None),
    "n": (3, {"n": 3}, None),
    "logprobs": (True, {"logprobs": True}, {"include": ["message.output_text.logprobs"]}),
    "top_logprobs": (
        5,
        {"top_logprobs": 5, "logprobs": True},
        {"top_logprobs": 5, "include": ["message.output_text.logprobs"]},
    ),
    "reasoning": (
        {"effort": "low"},
        {"reasoning_effort": "low"},
        {"reasoning": {"effort": "low"}},
    ),
    "verbosity": ("low", {"verbosity": "low"}, {"text": {"verbosity": "low"}}),
    "response_format": (
        {"type": "json_schema", "json_schema": {"name": "x", "schema": _SCHEMA, "strict": True}},
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": _SCHEMA, "strict": True},
            }
        },
        {
            "text": {
                "format": {"type": "json_schema", "name": "x", "schema": _SCHEMA, "strict": True}
            }
        },
    ),
    "text": ({"verbosity": "high"}, {"verbosity": "high"}, {"text": {"verbosity": "high"}}),
    "modalities": (["text"], {"modalities": ["text"]}, {}),
    "audio": (
        {"voice": "alloy", "format": "wav"},
        {"audio": {"voice": "alloy", "format": "wav"}, "modalities": ["text", "audio"]},
        None,
    ),
    "prediction": (
        {"type": "content", "content": "draft"},
        {"prediction": {"type": "content", "content": "draft"}},
        None,
    ),
    "web_search_options": (
        {"search_context_size": "low"},
        {"web_search_options": {"search_context_size": "low"}},
        None,
    ),
    "tool_choice": ("none", {"tool_choice": "none"}, {"tool_choice": "none"}),
    "parallel_tool_calls": (False, {"parallel_tool_calls": False}, {"parallel_tool_calls": False}),
    "max_tool_calls": (3, None, {"max_tool_calls": 3}),
    "prompt_cache_key": ("k", {"prompt_cache_key": "k"}, {"prompt_cache_key": "k"}),
    "prompt_cache_retention": (
        "24h",
        {"prompt_cache_retention": "24h"},
        {"prompt_cache_retention": "24h"},
    ),
    "prompt_cache_options": (
        {"mode": "explicit", "ttl": "30m"},
        {"prompt_cache_options": {"mode": "explicit", "ttl": "30m"}},
        {"prompt_cache_options": {"mode": "explicit", "ttl": "30m"}},
    ),
    "service_tier": ("flex", {"service_tier": "flex"}, {"service_tier": "flex"}),
    "safety_identifier": ("u1", {"safety_identifier": "u1"}, {"safety_identifier": "u1"}),
    "user": ("u2", {"user": "u2"}, {"user": "u2"}),
    "store": (True, {"store": True}, {"store": True}),
    "request_metadata": ({"k": "v"}, {"metadata": {"k": "v"}}, {"metadata": {"k": "v"}}),
    "moderation": (
        {"model": "omni-moderation-latest"},
        {"moderation": {"model": "omni-moderation-latest"}},
        {"moderation": {"model": "omni-moderation-latest"}},
    ),
    "stream_options": (
        {"include_obfuscation": False},
        {"stream_options": {"include_obfuscation": False}},
        {"stream_options": {"include_obfuscation": False}},
    ),
    "include": (
        ["reasoning.encrypted_content"],
        None,
        {"include": ["reasoning.encrypted_content"]},
    ),
    "instructions": ("Be brief.", None, {"instructions": "Be brief."}),
    "previous_response_id": ("resp_1", None, {"previous_response_id": "resp_1"}),
    "conversation": ("conv_1", None, {"conversation": "conv_1"}),
    "truncation": ("auto", None, {"truncation": "auto"}),
    "background": (True, None, {"background": True}),
    "background_options": (
        {"completion_window": "2h"},
        None,
        {"background_options": {"completion_window": "2h"}},
    ),
    "context_management": (
        [{"type": "compaction", "compact_threshold": 1000}],
        None,
        {"context_management": [{"type": "compaction", "compact_threshold": 1000}]},
    ),
    "prompt": ({"id": "pmpt_1"}, None, {"prompt": {"id": "pmpt_1"}}),
    "access_programs": ({"cyber": "standard"}, None, {"access_programs": {"cyber": "standard"}}),
    "image": ({"context_compression": "auto"}, None, {"image": {"context_compression": "auto"}}),
}

_SKELETON = {"model", "messages", "input", "stream"}
# Options that cannot be sent alone, with the companion their sample needs.
COMPANIONS: dict[str, dict[str, Any]] = {"audio": {"modalities": ["text", "audio"]}}


def _fragment(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in _SKELETON}


def _preview(name: str, value: Any, api: str) -> dict[str, Any]:
    # A model that takes every sampling option: reasoning models leave some out (test_options).
    model = ParamChat(model="gpt-4.1", api_key="sk-test")
    stream = name == "stream_options"
    kwargs = {name: value, **COMPANIONS.get(name, {})}
    return model.preview_request("hi", api=api, stream=stream, stream_usage=False, **kwargs).payload


def test_every_option_has_a_sample() -> None:
    assert set(SAMPLES) == set(OPTIONS), "add a sample (and its expected placement) for new options"


@pytest.mark.parametrize(
    ("params", "filled", "api"),
    [
        (chat_params.CompletionCreateParamsBase, MODEL_FILLED_CHAT, "chat_completions"),
        (resp_params.ResponseCreateParamsBase, MODEL_FILLED_RESPONSES, "responses"),
    ],
)
def test_every_sdk_parameter_is_reached(params: type, filled: set[str], api: str) -> None:
    reached: set[str] = set()
    index = 1 if api == "chat_completions" else 2
    for sample in SAMPLES.values():
        if sample[index] is not None:
            reached |= set(sample[index])
    missing = set(typing.get_type_hints(params)) - filled - reached
    assert not missing, f"SDK parameters with no ParamChat option: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("api", ["chat_completions", "responses"])
def test_sample_lands_where_the_table_says(name: str, api: str) -> None:
    value, on_chat, on_responses = SAMPLES[name]
    expected = on_chat if api == "chat_completions" else on_responses
    if name == "tool_choice":
        pytest.skip("tool_choice is rendered with the bound tools; see test_tools")
    if expected is None:
        with pytest.raises(IncompatibleOptionsError, match=name):
            _preview(name, value, api)
        return
    assert _fragment(_preview(name, value, api)) == expected


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_fragments_match_sdk_types(name: str) -> None:
    _, on_chat, on_responses = SAMPLES[name]
    for params, fragment in (
        (chat_params.CompletionCreateParamsBase, on_chat),
        (resp_params.ResponseCreateParamsBase, on_responses),
    ):
        hints = typing.get_type_hints(params)
        for key, item in (fragment or {}).items():
            assert find_error(item, hints[key], key) is None
