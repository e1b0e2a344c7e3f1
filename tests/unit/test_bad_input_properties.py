"""Bad input fails before the network with a ParamChatError; good input builds an SDK-valid body.

Hypothesis draws option values (valid ones from each option's SDK type, and wrong types,
out-of-range numbers and unknown literals), message contents and tool schemas, and runs
them through ``ParamChat(...)`` and ``preview_request(...)``, which never touch the network.
The integration twin (a bad call sends nothing) is in ``tests/integration/test_faults.py``.

Inputs that still slip through are split into their own ``xfail(strict=True)`` properties,
named after the bug, so the main properties stay green and a fix turns the xfail into a
failure that asks for the split to be removed.
"""

from __future__ import annotations

import base64
import collections.abc
import json
import math
import re
import string
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

import pytest
import typing_extensions
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from openai.types.chat.completion_create_params import (
    CompletionCreateParamsBase,
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)
from openai.types.responses.response_create_params import (
    ResponseCreateParamsBase,
    ResponseCreateParamsNonStreaming,
    ResponseCreateParamsStreaming,
)

from langchain_paramchat import ParamChat
from langchain_paramchat.chat_model import RequestPreview
from langchain_paramchat.errors import ParamChatError
from langchain_paramchat.options import OPTIONS
from langchain_paramchat.options.typecheck import find_error

API_KEY = "sk-properties-never-sent"
# Port 9 (discard) on loopback: nothing here may connect, and nothing listens there anyway.
BASE_URL = "http://127.0.0.1:9/v1"
APIS = ("chat_completions", "responses")

# Deterministic and bounded: the same examples every run, the whole file in seconds.
FAST = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
WIDE = settings(FAST, max_examples=40)
# For the xfail properties: a known bug fails at once, so skip shrinking the example.
NO_SHRINK = settings(FAST, phases=[Phase.generate])


def create_params(base: type, streaming: type, non_streaming: type) -> dict[str, Any]:
    """Return the create params' key types; ``stream`` comes from the two subclasses."""
    stream = Union[  # noqa: UP007
        typing.get_type_hints(streaming)["stream"], typing.get_type_hints(non_streaming)["stream"]
    ]
    return {**typing.get_type_hints(base), "stream": stream}


CREATE_PARAMS: dict[str, dict[str, Any]] = {
    "chat_completions": create_params(
        CompletionCreateParamsBase,
        CompletionCreateParamsStreaming,
        CompletionCreateParamsNonStreaming,
    ),
    "responses": create_params(
        ResponseCreateParamsBase, ResponseCreateParamsStreaming, ResponseCreateParamsNonStreaming
    ),
}

NONE_TYPE = type(None)
SEQUENCES = {
    list,
    tuple,
    collections.abc.Sequence,
    collections.abc.Iterable,
    collections.abc.Collection,
    collections.abc.MutableSequence,
}
MAPPINGS = {dict, collections.abc.Mapping, collections.abc.MutableMapping}


def model(**fields: Any) -> ParamChat:
    return ParamChat(api_key=API_KEY, base_url=BASE_URL, **fields)


MODEL = model()


def assert_sdk_valid(preview: RequestPreview) -> None:
    """Fail unless every payload key is a create param the SDK's own type accepts."""
    hints = CREATE_PARAMS[preview.api]
    for key, value in preview.payload.items():
        assert key in hints, f"{preview.api} has no create param {key!r}"
        assert find_error(value, hints[key], key) is None, find_error(value, hints[key], key)
    # The body must also be sendable: strict JSON (no NaN/inf) that encodes as UTF-8.
    json.dumps(preview.payload, allow_nan=False, ensure_ascii=False).encode("utf-8")


# --- strategies built from the SDK's param types ------------------------------------------------

TEXT = st.text(max_size=12)  # hypothesis leaves out lone surrogates unless asked
NAME = st.from_regex(r"[a-zA-Z0-9_-]{1,20}", fullmatch=True)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), TEXT)
MAX_DEPTH = 2


def typeddict_hints(td: type) -> tuple[dict[str, Any], set[str]]:
    """Return a TypedDict's field types (Required/NotRequired resolved) and its required keys."""
    hints = typing.get_type_hints(td, include_extras=True)
    fields: dict[str, Any] = {}
    required: set[str] = set()
    for key, hint in hints.items():
        is_required = getattr(td, "__total__", True)
        while get_origin(hint) in (
            typing.Required,
            typing.NotRequired,
            typing.Annotated,
            typing_extensions.ReadOnly,
        ):
            if get_origin(hint) is typing.Required:
                is_required = True
            elif get_origin(hint) is typing.NotRequired:
                is_required = False
            hint = get_args(hint)[0]
        fields[key] = hint
        if is_required:
            required.add(key)
    return fields, required


def without_none(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        kept = [a for a in get_args(tp) if a is not NONE_TYPE]
        return kept[0] if len(kept) == 1 else Union[tuple(kept)]  # noqa: UP007
    return tp


def sdk_values(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Draw JSON values that fit ``tp`` (an SDK param type), nesting at most ``MAX_DEPTH``."""
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return sdk_values(get_args(tp)[0], depth)
    if tp is Any or tp is object:
        return JSON_SCALARS
    if tp is NONE_TYPE or tp is None:
        return st.none()
    if origin is Literal:
        return st.sampled_from(get_args(tp))
    if origin in (Union, types.UnionType):
        return st.one_of([sdk_values(a, depth) for a in get_args(tp)])
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(10**6), 10**6)
    if tp is float:
        return st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False))
    if tp is str:
        return TEXT
    if typing_extensions.is_typeddict(tp):
        fields, required = typeddict_hints(tp)
        optional = {} if depth >= MAX_DEPTH else fields.keys() - required
        return st.fixed_dictionaries(
            {k: sdk_values(fields[k], depth + 1) for k in required},
            optional={k: sdk_values(fields[k], depth + 1) for k in optional},
        )
    if origin in SEQUENCES:
        (item,) = get_args(tp)[:1]
        return st.lists(sdk_values(item, depth + 1), max_size=0 if depth >= MAX_DEPTH else 2)
    if origin in MAPPINGS:
        key, value = get_args(tp)
        return st.dictionaries(sdk_values(key, depth + 1), sdk_values(value, depth + 1), max_size=2)
    if tp is dict:
        return st.dictionaries(TEXT, JSON_SCALARS, max_size=2)
    raise TypeError(f"no strategy for {tp!r}; teach sdk_values this type")


# Ranges OpenAI documents for numeric options: the oracle, independent of the package's checks.
RANGES: dict[str, tuple[float, float | None]] = {
    "temperature": (0, 2),
    "top_p": (0, 1),
    "max_tokens": (1, None),
    "frequency_penalty": (-2, 2),
    "presence_penalty": (-2, 2),
    "n": (1, 128),
    "top_logprobs": (0, 20),
    "max_tool_calls": (1, None),
}
UNBOUNDED_NUMBERS = {"seed"}

VALID_OVERRIDES: dict[str, st.SearchStrategy[Any]] = {
    "temperature": st.floats(0, 2),
    "top_p": st.floats(0, 1),
    "max_tokens": st.integers(1, 200_000),
    "frequency_penalty": st.floats(-2, 2),
    "presence_penalty": st.floats(-2, 2),
    "n": st.integers(1, 128),
    "top_logprobs": st.integers(0, 20),
    "max_tool_calls": st.integers(1, 100),
    "seed": st.integers(-(2**63), 2**63 - 1),
    "logit_bias": st.dictionaries(
        st.integers(0, 200_000).map(str), st.integers(-100, 100), max_size=3
    ),
    "stop": st.one_of(TEXT.filter(bool), st.lists(TEXT.filter(bool), max_size=4)),
    "request_metadata": st.dictionaries(st.text(max_size=64), st.text(max_size=512), max_size=16),
    # Named choices need bound tools; those are drawn in the tool properties below.
    "tool_choice": st.sampled_from(["auto", "none"]),
    # The option is typed list[str]; the API only knows the SDK's includable literals.
    "include": sdk_values(CREATE_PARAMS["responses"]["include"]).map(lambda v: v or []),
}


def companions(name: str, value: Any) -> dict[str, Any]:
    """Return the other options a valid value needs to be sendable at all (audio output)."""
    if name == "audio":
        return {"modalities": ["text", "audio"]}
    if name == "modalities" and "audio" in value:
        return {"audio": {"voice": "alloy", "format": "wav"}}
    return {}


def valid_values(name: str) -> st.SearchStrategy[Any]:
    if name in VALID_OVERRIDES:
        return VALID_OVERRIDES[name]
    return sdk_values(without_none(OPTIONS[name].type))


def components(tp: Any) -> list[Any]:
    tp = without_none(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return [c for a in get_args(tp) for c in components(a)]
    return [tp]


def accepts(tp: Any) -> set[str]:
    """Return the JSON kinds an option type takes at its top level."""
    kinds: set[str] = set()
    for part in components(tp):
        origin = get_origin(part)
        if part is Any or part is object:
            kinds |= {"str", "int", "float", "bool", "list", "dict", "literal"}
        elif origin is Literal:
            kinds.add("literal")
        elif part is str:
            kinds.add("str")
        elif part is bool:
            kinds.add("bool")
        elif part is int:
            kinds.add("int")
        elif part is float:
            kinds |= {"int", "float"}
        elif origin in SEQUENCES:
            kinds.add("list")
        elif typing_extensions.is_typeddict(part) or origin in MAPPINGS or part is dict:
            kinds.add("dict")
    return kinds


class Opaque:
    """A Python object no JSON type describes."""

    def __repr__(self) -> str:
        return "Opaque()"


NEVER_VALID = st.sampled_from([Opaque(), 1 + 2j, {1, 2}, b"bytes", frozenset()])
UNKNOWN_KEY = "zz_not_an_openai_key"


def literal_values(tp: Any) -> set[Any]:
    return {v for part in components(tp) if get_origin(part) is Literal for v in get_args(part)}


def out_of_range(name: str) -> st.SearchStrategy[Any] | None:
    if name not in RANGES:
        return None
    low, high = RANGES[name]
    is_int = components(OPTIONS[name].type) == [int]
    below = (
        st.integers(-(10**9), int(low) - 1)
        if is_int
        else st.floats(max_value=low).filter(lambda v: v < low)
    )
    if high is None:
        return below
    above = (
        st.integers(int(high) + 1, 10**9)
        if is_int
        else st.floats(min_value=high, allow_nan=False).filter(lambda v: v > high)
    )
    return st.one_of(below, above)


EXTRA_INVALID: dict[str, st.SearchStrategy[Any]] = {
    "stop": st.lists(TEXT.filter(bool), min_size=5, max_size=6),
    "logit_bias": st.one_of(
        st.dictionaries(st.integers(0, 9).map(str), st.integers(101, 10**6), min_size=1),
        st.dictionaries(st.integers(0, 9).map(str), st.integers(-(10**6), -101), min_size=1),
    ),
    "request_metadata": st.one_of(
        st.dictionaries(NAME, TEXT, min_size=17, max_size=18),
        st.dictionaries(st.text(min_size=65, max_size=70), TEXT, min_size=1, max_size=1),
        st.dictionaries(NAME, st.text(min_size=513, max_size=520), min_size=1, max_size=1),
        st.dictionaries(NAME, st.integers(), min_size=1, max_size=1),
    ),
    "modalities": st.lists(st.sampled_from(["video", "image", "TEXT"]), min_size=1, max_size=2),
    "include": st.lists(TEXT.map(lambda s: f"zz.{s}"), min_size=1, max_size=2),
    "reasoning": st.sampled_from([{"effort": "extreme"}, {"summary": "everything"}]),
    "tool_choice": TEXT.filter(lambda s: s not in ("auto", "none", "required", "any")),
}


def invalid_values(name: str) -> st.SearchStrategy[Any]:
    """Draw values OpenAI rejects for ``name``: wrong types, out of range, unknown literals."""
    tp = OPTIONS[name].type
    kinds = accepts(tp)
    known = literal_values(tp)
    options: list[st.SearchStrategy[Any]] = [NEVER_VALID]
    if "str" not in kinds:
        # Unknown literals for Literal options; any string where no string fits.
        options.append(TEXT.filter(lambda s: s not in known))
    if not kinds & {"int", "float"}:
        options.append(st.integers(-5, 5))
    if "float" not in kinds:
        options.append(st.floats(0.1, 0.9))
    if "bool" not in kinds:
        options.append(st.booleans())
    if "list" not in kinds:
        options.append(st.lists(st.integers(), min_size=1, max_size=2))
    if "dict" not in kinds:
        options.append(st.just({"x": 1}))
    elif any(typing_extensions.is_typeddict(part) for part in components(tp)):
        # A key no OpenAI object has, on an otherwise valid object.
        options.append(
            valid_values(name)
            .filter(lambda v: isinstance(v, dict))
            .map(lambda v: {**v, UNKNOWN_KEY: 1})
        )
    if "list" in kinds:
        options.append(st.lists(NEVER_VALID, min_size=1, max_size=2))
    extra = EXTRA_INVALID.get(name)
    if extra is not None:
        options.append(extra)
    bounds = out_of_range(name)
    if bounds is not None:
        options.append(bounds)
    return st.one_of(options)


FLOAT_OPTIONS = sorted(n for n, spec in OPTIONS.items() if float in components(spec.type))
SCALAR_OPTIONS = sorted(
    n
    for n, spec in OPTIONS.items()
    if accepts(spec.type) and accepts(spec.type) <= {"str", "int", "float", "bool", "literal"}
)


# --- options -----------------------------------------------------------------------------------


def test_every_numeric_option_has_a_known_range() -> None:
    numeric = {
        n for n, s in OPTIONS.items() if accepts(s.type) & {"int", "float"} == accepts(s.type)
    }
    numeric -= {n for n, s in OPTIONS.items() if bool in components(s.type)}
    assert numeric == set(RANGES) | UNBOUNDED_NUMBERS, "add the new option's range to RANGES"


@pytest.mark.parametrize("name", sorted(OPTIONS))
@FAST
@given(data=st.data())
def test_invalid_option_values_raise_a_package_error(name: str, data: st.DataObject) -> None:
    value = data.draw(invalid_values(name).filter(lambda v: not _slips(name, v)), label=name)
    with pytest.raises(ParamChatError):
        model(**{name: value}).preview_request("hi")
    with pytest.raises(ParamChatError):
        MODEL.preview_request("hi", **{name: value})


@pytest.mark.parametrize("name", sorted(OPTIONS))
@FAST
@given(data=st.data())
def test_valid_option_values_build_sdk_valid_payloads(name: str, data: st.DataObject) -> None:
    value = data.draw(valid_values(name), label=name)
    api = data.draw(st.sampled_from(["auto", *APIS]), label="api")
    stream = data.draw(st.booleans(), label="stream")
    try:
        preview = MODEL.preview_request(
            "hi", api=api, stream=stream, **companions(name, value), **{name: value}
        )
    except ParamChatError:
        # Some valid values need another option or API (audio needs modalities, n > 1 cannot
        # stream, include exists only on Responses): refusing is fine, crashing is not.
        if name in SCALAR_OPTIONS and api == "auto" and not stream:
            raise
        return
    assert_sdk_valid(preview)


@pytest.mark.parametrize("name", SCALAR_OPTIONS)
@FAST
@given(data=st.data())
def test_valid_scalar_options_are_accepted_as_fields_too(name: str, data: st.DataObject) -> None:
    value = data.draw(valid_values(name), label=name)
    preview = model(**{name: value}).preview_request("hi")
    assert_sdk_valid(preview)


@pytest.mark.parametrize("name", FLOAT_OPTIONS)
def test_nan_is_rejected_before_the_network(name: str) -> None:
    with pytest.raises(ParamChatError):
        MODEL.preview_request("hi", **{name: math.nan})


@pytest.mark.parametrize("include_usage", [True, False])
def test_stream_options_include_usage_stays_off_responses_bodies(include_usage: bool) -> None:
    # Responses streams always end with usage; the Chat Completions key must not leak there.
    preview = MODEL.preview_request(
        "hi", api="responses", stream=True, stream_options={"include_usage": include_usage}
    )
    assert_sdk_valid(preview)
    assert "include_usage" not in preview.payload.get("stream_options", {})


@FAST
@given(key=st.text(min_size=1, max_size=8).filter(lambda k: not re.fullmatch(r"[0-9]+", k)))
def test_logit_bias_keys_must_be_token_ids(key: str) -> None:
    with pytest.raises(ParamChatError):
        MODEL.preview_request("hi", logit_bias={key: 1})


@pytest.mark.parametrize("value", [0, False, {}])
def test_a_falsy_invalid_stop_per_call_is_rejected(value: Any) -> None:
    with pytest.raises(ParamChatError):
        MODEL.preview_request("hi", stop=value)


def _slips(name: str, value: Any) -> bool:
    """Say whether ``value`` is one of the known-bug inputs that have their own xfail test."""
    return False


# --- message contents --------------------------------------------------------------------------

URL = st.text(string.ascii_letters + string.digits, min_size=1, max_size=8).map(
    lambda s: f"https://example.com/{s}.png"
)
B64 = st.binary(min_size=1, max_size=12).map(lambda b: base64.b64encode(b).decode())
DETAIL = st.sampled_from(["auto", "low", "high"])

VALID_BLOCKS = st.one_of(
    TEXT.map(lambda t: {"type": "text", "text": t}),
    URL.map(lambda u: {"type": "image_url", "image_url": {"url": u}}),
    st.tuples(URL, DETAIL).map(
        lambda p: {"type": "image_url", "image_url": {"url": p[0], "detail": p[1]}}
    ),
    URL.map(lambda u: {"type": "image", "url": u}),
    B64.map(lambda d: {"type": "image", "base64": d, "mime_type": "image/png"}),
    B64.map(
        lambda d: {
            "type": "file",
            "base64": d,
            "mime_type": "application/pdf",
            "filename": "doc.pdf",
        }
    ),
)
VALID_CONTENT = st.one_of(TEXT, st.lists(VALID_BLOCKS, min_size=1, max_size=3))


@st.composite
def conversations(draw: st.DrawFn, content: st.SearchStrategy[Any] = VALID_CONTENT) -> list[Any]:
    messages: list[BaseMessage] = []
    system = draw(st.none() | TEXT)
    if system is not None:
        messages.append(SystemMessage(system))
    for _ in range(draw(st.integers(0, 2))):
        messages.append(HumanMessage(draw(VALID_CONTENT)))
        messages.append(AIMessage(draw(TEXT)))
    messages.append(HumanMessage(draw(content)))
    return messages


def texts_in(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [b["text"] for b in content if isinstance(b, dict) and b.get("type") == "text"]


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


@WIDE
@given(messages=conversations(), api=st.sampled_from(APIS))
def test_valid_contents_build_sdk_valid_payloads_without_losing_text(
    messages: list[BaseMessage], api: str
) -> None:
    preview = MODEL.preview_request(messages, api=api)
    assert_sdk_valid(preview)
    sent = strings_in(preview.payload)
    for message in messages:
        for text in texts_in(message.content):
            assert any(text in s for s in sent), f"{text!r} was dropped from the payload"


# Each invalid category is a content block OpenAI cannot take; the lists name the ones the
# package catches today and the ones that still slip through (one xfail property each).
INVALID_BLOCKS: dict[str, st.SearchStrategy[Any]] = {
    "block without a type": st.just({"text": "x"}),
    "video block": URL.map(lambda u: {"type": "video", "url": u}),
    "image without a source": st.just({"type": "image"}),
    "file without a source": st.just({"type": "file", "mime_type": "application/pdf"}),
    "audio by url": URL.map(lambda u: {"type": "audio", "url": u}),
    "text block whose text is not a string": st.one_of(
        st.integers(), st.none(), st.lists(st.integers(), max_size=2)
    ).map(lambda v: {"type": "text", "text": v}),
    "image_url that is not a dict or string": st.one_of(
        st.integers(), st.none(), st.lists(st.integers(), max_size=1)
    ).map(lambda v: {"type": "image_url", "image_url": v}),
    "image_url block without image_url": st.just({"type": "image_url"}),
    "input_audio block without data": st.sampled_from(
        [{"type": "input_audio"}, {"type": "input_audio", "input_audio": {"format": "wav"}}]
    ),
    "text with a lone surrogate": st.text(
        st.characters(categories=["Cs"]), min_size=1, max_size=3
    ).map(lambda s: {"type": "text", "text": f"hi {s}"}),
}
CAUGHT_BLOCKS = [
    "text block whose text is not a string",
    "image_url that is not a dict or string",
    "image_url block without image_url",
    "input_audio block without data",
    "block without a type",
    "video block",
    "image without a source",
    "file without a source",
    "audio by url",
]
SLIPPING_BLOCKS = {
    "text with a lone surrogate": (
        "bug: a lone surrogate passes preview_request, then UnicodeEncodeError at send time"
    ),
}


def test_every_invalid_block_category_is_classified() -> None:
    assert set(CAUGHT_BLOCKS) | set(SLIPPING_BLOCKS) == set(INVALID_BLOCKS)


def _content_with(bad: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    return st.tuples(
        st.lists(VALID_BLOCKS, max_size=2), bad, st.lists(VALID_BLOCKS, max_size=1)
    ).map(lambda p: [*p[0], p[1], *p[2]])


def check_invalid_content(messages: list[BaseMessage], api: str) -> None:
    with pytest.raises(ParamChatError):
        MODEL.preview_request(messages, api=api)


@pytest.mark.parametrize("category", CAUGHT_BLOCKS)
@FAST
@given(data=st.data())
def test_invalid_content_blocks_raise_a_package_error(category: str, data: st.DataObject) -> None:
    messages = data.draw(conversations(_content_with(INVALID_BLOCKS[category])))
    check_invalid_content(messages, data.draw(st.sampled_from(APIS)))


@pytest.mark.parametrize(
    "category",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=r))
        for c, r in SLIPPING_BLOCKS.items()
    ],
)
@NO_SHRINK
@given(data=st.data())
def test_content_blocks_that_still_slip_through(category: str, data: st.DataObject) -> None:
    messages = data.draw(conversations(_content_with(INVALID_BLOCKS[category])))
    check_invalid_content(messages, data.draw(st.sampled_from(APIS)))


@given(content=st.lists(URL.map(lambda u: {"type": "image", "url": u}), min_size=1, max_size=2))
@FAST
def test_a_system_message_with_an_image_raises_a_package_error(content: list[Any]) -> None:
    with pytest.raises(ParamChatError):
        MODEL.preview_request([SystemMessage(content), HumanMessage("hi")])


# --- tool schemas ------------------------------------------------------------------------------

PROPERTY = st.fixed_dictionaries(
    {"type": st.sampled_from(["string", "integer", "number", "boolean"])},
    optional={"description": TEXT},
)


@st.composite
def object_schemas(draw: st.DrawFn) -> dict[str, Any]:
    properties = draw(st.dictionaries(NAME, PROPERTY, max_size=3))
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if properties and draw(st.booleans()):
        schema["required"] = draw(st.lists(st.sampled_from(sorted(properties)), unique=True))
    return schema


@st.composite
def function_tools(draw: st.DrawFn, name: st.SearchStrategy[Any] = NAME) -> dict[str, Any]:
    """Draw one function tool in any of the dict shapes ParamChat accepts."""
    core: dict[str, Any] = {"name": draw(name), "parameters": draw(object_schemas())}
    description = draw(st.none() | TEXT)
    if description is not None:
        core["description"] = description
    strict = draw(st.none() | st.booleans())
    if strict is not None:
        core["strict"] = strict
    shape = draw(st.sampled_from(["chat", "responses", "bare", "json_schema"]))
    if shape == "chat":
        return {"type": "function", "function": core}
    if shape == "responses":
        return {"type": "function", **core}
    if shape == "bare":
        return core
    schema = {"title": core["name"], **core["parameters"]}
    if description is not None:
        schema["description"] = description
    return schema


def tool_name(tool: dict[str, Any]) -> Any:
    if "function" in tool:
        return tool["function"]["name"]
    return tool.get("name", tool.get("title"))


@WIDE
@given(
    tools=st.lists(function_tools(), min_size=1, max_size=3, unique_by=tool_name),
    data=st.data(),
)
def test_valid_tools_build_sdk_valid_payloads(
    tools: list[dict[str, Any]], data: st.DataObject
) -> None:
    api = data.draw(st.sampled_from(APIS), label="api")
    choice = data.draw(
        st.sampled_from([None, "auto", "none", "required", tool_name(tools[0])]), label="choice"
    )
    preview = MODEL.preview_request("hi", tools=tools, tool_choice=choice, api=api)
    assert_sdk_valid(preview)
    sent = preview.payload["tools"]
    names = [t["function"]["name"] if "function" in t else t["name"] for t in sent]
    assert names == [tool_name(t) for t in tools]
    strict = [t["function"]["strict"] if "function" in t else t["strict"] for t in sent]
    assert all(isinstance(s, bool) for s in strict), "strict must always be explicit"


BAD_NAMES = st.one_of(
    st.text(max_size=70).filter(lambda s: not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", s)),
    st.integers(),
    st.none(),
)


@st.composite
def invalid_tools(draw: st.DrawFn) -> list[Any]:
    """Draw a tool list with exactly one defect OpenAI rejects."""
    good = draw(function_tools())
    defect = draw(
        st.sampled_from(
            [
                "name",
                "parameters",
                "description",
                "unknown key",
                "unknown type",
                "duplicate",
                "object",
            ]
        )
    )
    if defect == "name":
        return [draw(function_tools(name=BAD_NAMES))]
    if defect == "parameters":
        bad = draw(st.one_of(st.integers(), TEXT, st.lists(st.integers(), min_size=1)))
        return [{"type": "function", "name": draw(NAME), "parameters": bad}]
    if defect == "description":
        bad = draw(st.one_of(st.integers(), st.lists(TEXT, min_size=1)))
        return [{"type": "function", "name": draw(NAME), "description": bad}]
    if defect == "unknown key":
        if "function" in good:
            return [{**good, "function": {**good["function"], UNKNOWN_KEY: 1}}]
        if "title" in good:
            good = {"name": good["title"]}
        return [{**good, UNKNOWN_KEY: 1}]
    if defect == "unknown type":
        return [{"type": f"zz_{draw(NAME)}", "name": draw(NAME)}]
    if defect == "duplicate":
        return [good, draw(function_tools(name=st.just(tool_name(good))))]
    return [draw(st.one_of(st.integers(), TEXT, NEVER_VALID))]


@WIDE
@given(tools=invalid_tools(), api=st.sampled_from(APIS))
def test_invalid_tools_raise_a_package_error(tools: list[Any], api: str) -> None:
    with pytest.raises(ParamChatError):
        MODEL.bind_tools(tools)
    with pytest.raises(ParamChatError):
        MODEL.preview_request("hi", tools=tools, api=api)


@FAST
@given(tools=st.lists(function_tools(), min_size=1, max_size=2, unique_by=tool_name), other=NAME)
def test_tool_choice_naming_an_unbound_tool_raises_a_package_error(
    tools: list[dict[str, Any]], other: str
) -> None:
    if other in {tool_name(t) for t in tools}:
        other += "_unbound"
    with pytest.raises(ParamChatError):
        MODEL.preview_request("hi", tools=tools, tool_choice=other)


@pytest.mark.xfail(
    strict=True,
    reason="bug: tools._make_function accepts non-strict parameters whose root is not "
    "type: object; OpenAI rejects such a function schema with a 400",
)
@NO_SHRINK
@given(kind=st.sampled_from(["string", "array", "integer"]), name=NAME)
def test_function_parameters_must_be_an_object_schema(kind: str, name: str) -> None:
    tool = {"type": "function", "name": name, "parameters": {"type": kind}}
    with pytest.raises(ParamChatError):
        MODEL.preview_request("hi", tools=[tool])
