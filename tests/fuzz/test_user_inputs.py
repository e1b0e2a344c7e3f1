"""Every user input path: options (fields and per-call), settings, messages, tool schemas.

Whatever a caller passes, building the model and ``preview_request`` (the whole prepare
step, no network) return, or raise a ``ParamChatError`` whose message, repr and fields do
not show the API key. ``tests/unit/test_bad_input_properties.py`` checks the *shape* of
valid payloads and named bad values; these properties throw anything at the same doors.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from langchain_paramchat import ParamChat
from langchain_paramchat.chat_model import _CALL_ARGS as CALL_ARGS
from langchain_paramchat.compat import ACCEPTED as CHATOPENAI_NAMES
from langchain_paramchat.options import OPTIONS
from tests.fuzz.profiles import fuzz_settings
from tests.fuzz.strategies import JSON, KEY, TEXT, deep, json_values, no_key_in_logs, outcome

BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens, and nothing here connects
MODEL = ParamChat(model="gpt-4o-mini", api_key=KEY, base_url=BASE_URL, max_retries=0)
OPTION_NAMES = sorted(OPTIONS)
VALUES = st.one_of(
    json_values(max_leaves=10),
    st.sampled_from([deep(40), deep(40, kind="dict"), 10**100, -(10**30), math.nan]),
)


def build(**fields: Any) -> ParamChat:
    return ParamChat(**{"model": "gpt-4o-mini", "api_key": KEY, "base_url": BASE_URL, **fields})


@fuzz_settings(scale=4)
@given(name=st.sampled_from(OPTION_NAMES), value=VALUES, api=st.sampled_from([None, "responses"]))
def test_any_option_value_per_call_is_accepted_or_a_package_error(
    name: str, value: Any, api: str | None
) -> None:
    with no_key_in_logs():
        kwargs = {name: value} if api is None else {name: value, "api": api}
        outcome(lambda: MODEL.preview_request("hi", **kwargs))


@fuzz_settings(scale=2)
@given(name=st.sampled_from(OPTION_NAMES), value=VALUES)
def test_any_option_value_as_a_field_is_accepted_or_a_package_error(name: str, value: Any) -> None:
    with no_key_in_logs():
        model = outcome(lambda: build(**{name: value}))
        if isinstance(model, ParamChat):
            assert KEY not in repr(model)
            outcome(lambda: model.preview_request("hi"))


@fuzz_settings()
@given(
    name=st.text(st.characters(codec="ascii"), min_size=1, max_size=16).filter(
        lambda n: (
            n not in OPTIONS
            and n not in ParamChat.model_fields
            and n not in CHATOPENAI_NAMES  # ChatOpenAI's names are accepted with its meaning
            and n not in CALL_ARGS | {"input", "stop", "config"}  # a call's own arguments
            and n.isidentifier()
        )
    ),
    value=JSON,
)
def test_an_unknown_keyword_is_a_package_error(name: str, value: Any) -> None:
    result = outcome(lambda: MODEL.preview_request("hi", **{name: value}))
    assert not hasattr(result, "payload"), f"{name!r} was accepted"


@fuzz_settings(scale=0.25)
@given(name=st.sampled_from(["reasoning", "request_metadata", "extra_body", "response_format"]))
@example(name="reasoning")
def test_a_very_deep_value_is_a_package_error(name: str) -> None:
    value = {"effort": deep(10_000, kind="dict")} if name == "reasoning" else deep(10_000, "x")
    outcome(lambda: MODEL.preview_request("hi", **{name: value}))


# --- the model's own settings -----------------------------------------------------------------

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.sampled_from([0, -1, 0.0, math.inf, math.nan]),
)
# Settings where 0 is documented as "no limit" (docs/reliability.md); NaN and negatives are
# still refused.
ZERO_MEANS_NO_LIMIT = {"stream_idle_timeout"}
TIMING_SETTINGS = [
    "timeout",
    "total_timeout",
    "stream_idle_timeout",
    "background_poll_interval",
    "background_timeout",
]


@fuzz_settings(scale=2)
@given(
    setting=st.one_of(
        st.tuples(st.sampled_from(TIMING_SETTINGS), NUMBERS),
        st.tuples(st.just("max_retries"), st.integers(-(10**20), 10**20)),
    )
)
def test_timing_settings_are_accepted_or_a_package_error(setting: tuple[str, Any]) -> None:
    name, value = setting
    outcome(lambda: build(**{name: value}))


@fuzz_settings(scale=0.5)
@given(
    name=st.sampled_from([*TIMING_SETTINGS, "max_retries", "model", "flex_fallback", "pace"]),
    value=st.one_of(JSON.filter(lambda v: isinstance(v, list | dict)), st.just([1])),
)
@example(name="total_timeout", value=[1])
def test_a_setting_of_the_wrong_type_is_a_package_error(name: str, value: Any) -> None:
    outcome(lambda: build(**{name: value}))


@fuzz_settings()
@given(name=st.sampled_from(TIMING_SETTINGS), value=st.sampled_from([math.nan, -1.0, 0.0]))
@example(name="background_timeout", value=math.nan)
@example(name="background_poll_interval", value=0)
def test_timing_settings_refuse_nan_zero_and_negatives(name: str, value: Any) -> None:
    result = outcome(lambda: build(**{name: value}))
    if name in ZERO_MEANS_NO_LIMIT and value == 0:
        # The documented exception: 0 turns the limit off (ChatOpenAI's stream_chunk_timeout=0).
        assert isinstance(result, ParamChat) and getattr(result, name) == 0
        return
    assert not isinstance(result, ParamChat), f"{name}={value!r} was accepted"


HEADER_TEXT = st.one_of(TEXT, st.sampled_from(["a\r\nb", "x\n", "\r", "ok", "é", "\x00"]))


@fuzz_settings()
@given(headers=st.dictionaries(HEADER_TEXT, HEADER_TEXT, min_size=1, max_size=3))
@example(headers={"X-Trace": "a\r\nInjected: 1"})
def test_header_values_with_line_breaks_are_refused_at_construction(
    headers: dict[str, str],
) -> None:
    result = outcome(lambda: build(default_headers=headers))
    broken = any("\r" in k + v or "\n" in k + v for k, v in headers.items())
    assert not (broken and isinstance(result, ParamChat)), "CR/LF header accepted"


# --- messages -----------------------------------------------------------------------------------

# Message objects take a str or a list of str/dict blocks (langchain-core checks that much).
BLOCK = st.one_of(
    TEXT,
    st.dictionaries(TEXT, JSON, max_size=3),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "image_url", "image", "file", "input_audio", "x"])},
        optional={
            "text": JSON,
            "image_url": JSON,
            "url": JSON,
            "file_id": JSON,
            "base64": JSON,
            "mime_type": JSON,
            "source_type": JSON,
            "input_audio": JSON,
        },
    ),
)
CONTENT = st.one_of(TEXT, st.lists(BLOCK, max_size=3))


@st.composite
def conversations(draw: st.DrawFn) -> list[Any]:
    messages: list[Any] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["human", "system", "ai", "tool", "tuple", "dict"]))
        content = draw(CONTENT)
        if kind == "human":
            messages.append(HumanMessage(content=content))
        elif kind == "system":
            messages.append(SystemMessage(content=content))
        elif kind == "ai":
            extra = draw(st.dictionaries(st.sampled_from(["refusal", "audio", "x"]), JSON))
            messages.append(AIMessage(content=content, additional_kwargs=extra))
        elif kind == "tool":
            messages.append(ToolMessage(content=content, tool_call_id=draw(TEXT)))
        elif kind == "tuple":
            messages.append((draw(st.sampled_from(["user", "assistant", "system"])), content))
        else:
            messages.append(
                {"role": draw(st.sampled_from(["user", "developer"])), "content": content}
            )
    return messages


@fuzz_settings(scale=3)
@given(messages=conversations(), api=st.sampled_from([None, "chat_completions", "responses"]))
def test_any_conversation_prepares_or_raises_a_package_error(
    messages: list[Any], api: str | None
) -> None:
    with no_key_in_logs():
        kwargs = {} if api is None else {"api": api}
        outcome(lambda: MODEL.preview_request(messages, **kwargs))


# --- tool and output schemas -----------------------------------------------------------------

SCHEMA_KEYS = st.sampled_from(
    [
        *("type", "properties", "required", "items", "anyOf", "$ref", "$defs", "enum"),
        *("additionalProperties", "description", "default", "const", "format", "allOf"),
    ]
)
SCHEMAS = st.recursive(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["object", "string", "integer", "array", "null", "x", 5]),
            "description": TEXT,
            "enum": st.lists(JSON, max_size=3),
            "$ref": st.sampled_from(["#/$defs/A", "#/$defs/B", "#", "#/x", "http://e/x", 5]),
        },
    ),
    lambda inner: st.one_of(
        st.dictionaries(SCHEMA_KEYS, inner, max_size=4),
        st.fixed_dictionaries(
            {"type": st.just("object"), "properties": st.dictionaries(TEXT, inner, max_size=3)},
            optional={
                "required": st.lists(TEXT, max_size=2),
                "$defs": st.dictionaries(st.sampled_from(["A", "B"]), inner, max_size=2),
            },
        ),
        st.lists(inner, max_size=2),
    ),
    max_leaves=10,
)
TOOLS = st.one_of(
    st.builds(
        lambda name, params, desc: {"name": name, "description": desc, "parameters": params},
        TEXT,
        SCHEMAS,
        TEXT,
    ),
    st.builds(
        lambda fn, kind: {"type": kind, "function": fn},
        st.dictionaries(st.sampled_from(["name", "parameters", "strict", "description"]), JSON),
        st.sampled_from(["function", "custom", "web_search", "x"]),
    ),
    JSON,
)


@fuzz_settings(scale=3)
@given(
    tools=st.lists(TOOLS, min_size=1, max_size=2),
    strict=st.sampled_from([None, True, False]),
    tool_choice=st.one_of(st.none(), st.sampled_from(["auto", "required", "any"]), TEXT, JSON),
)
def test_any_tool_binds_and_prepares_or_raises_a_package_error(
    tools: list[Any], strict: bool | None, tool_choice: Any
) -> None:
    with no_key_in_logs():
        bound = outcome(lambda: MODEL.bind_tools(tools, strict=strict, tool_choice=tool_choice))
        if not isinstance(bound, Exception):
            outcome(lambda: bound.preview_request("hi"))  # type: ignore[attr-defined]


@fuzz_settings(scale=2)
@given(
    schema=SCHEMAS,
    method=st.sampled_from(["json_schema", "function_calling", "json_mode"]),
    strict=st.sampled_from([None, True]),
)
def test_any_output_schema_prepares_or_raises_a_package_error(
    schema: Any, method: str, strict: bool | None
) -> None:
    def run() -> Any:
        chain = MODEL.with_structured_output(schema, method=method, strict=strict)
        return chain.first.preview_request("hi")  # type: ignore[attr-defined]

    with no_key_in_logs():
        outcome(run)
