"""with_structured_output on both APIs, through the openai SDK, against the scripted server.

Each test checks what reached the API (response_format / text.format / a forced tool, which
the server validates against the SDK's types and OpenAI's strict-schema rules) and what the
user gets back: the parsed object, or the error that says why there is none.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import LengthLimitError, RefusalError, StructuredOutputError
from langchain_paramchat.testing import FakeOpenAI, Reply, ToolCall

Factory = Callable[..., ParamChat]

APIS = ["chat_completions", "responses"]
METHODS = ["json_schema", "function_calling", "json_mode"]


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="Full name")
    age: int


class PersonDict(TypedDict):
    """A person mentioned in the text."""

    name: str
    age: int


PERSON_SCHEMA: dict[str, Any] = {
    "title": "Person",
    "description": "A person mentioned in the text.",
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Full name"},
        "age": {"type": "integer"},
    },
    "required": ["name", "age"],
}

SCHEMAS: dict[str, tuple[Any, str]] = {
    "pydantic": (Person, "Person"),
    "typeddict": (PersonDict, "PersonDict"),
    "json_schema_dict": (PERSON_SCHEMA, "Person"),
}

ADA = {"name": "Ada Lovelace", "age": 36}


@pytest.fixture(params=APIS)
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def answer(method: str, name: str, data: dict[str, Any] | str, **kwargs: Any) -> Reply:
    """Script the model's structured answer the way ``method`` asks for it."""
    text = data if isinstance(data, str) else json.dumps(data)
    if method == "function_calling":
        return Reply(tool_calls=[ToolCall(name, text, id="call_so")], **kwargs)
    return Reply(text=text, **kwargs)


def sent_format(body: dict[str, Any], api: str) -> dict[str, Any]:
    """Return the requested output format, flattened to the Responses ``text.format`` shape."""
    if api == "chat_completions":
        fmt = body["response_format"]
        return {"type": fmt["type"], **fmt.get("json_schema", {})}
    assert "response_format" not in body
    return dict(body["text"]["format"])


def assert_strict_schema(schema: dict[str, Any]) -> None:
    assert schema["additionalProperties"] is False
    assert sorted(schema["required"]) == sorted(schema["properties"])


def expected(schema_kind: str, data: dict[str, Any]) -> Any:
    return Person(**data) if schema_kind == "pydantic" else data


# --- schema kinds x methods ---------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("schema_kind", list(SCHEMAS))
def test_schema_kinds_and_methods(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, schema_kind: str, method: str
) -> None:
    schema, name = SCHEMAS[schema_kind]
    fake_openai.add(answer(method, name, ADA))
    structured = make_model(api=api).with_structured_output(schema, method=method)

    result = structured.invoke("Ada Lovelace died at 36. Answer in JSON.")

    assert result == expected(schema_kind, ADA)
    assert fake_openai.errors == []
    (request,) = fake_openai.requests
    assert request.api == api
    body = request.body
    if method == "json_schema":
        fmt = sent_format(body, api)
        assert fmt["type"] == "json_schema"
        assert fmt["name"] == name
        assert fmt["strict"] is True
        assert fmt["description"] == "A person mentioned in the text."
        assert_strict_schema(fmt["schema"])
        assert "tools" not in body
    elif method == "json_mode":
        assert sent_format(body, api) == {"type": "json_object"}
        assert "tools" not in body
    else:
        (tool,) = body["tools"]
        sent_name = tool["function"]["name"] if api == "chat_completions" else tool["name"]
        assert sent_name == name
        forced = (
            {"type": "function", "function": {"name": name}}
            if api == "chat_completions"
            else {"type": "function", "name": name}
        )
        assert body["tool_choice"] == forced
        assert "response_format" not in body and "text" not in body


def test_json_schema_strict_false_sends_the_schema_as_given(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(answer("json_schema", "Person", ADA))
    result = make_model(api=api).with_structured_output(Person, strict=False).invoke("x")
    assert result == Person(**ADA)
    fmt = sent_format(fake_openai.requests[0].body, api)
    assert fmt["strict"] is False
    assert "additionalProperties" not in fmt["schema"]
    assert fake_openai.errors == []


def test_function_calling_strict_true_sends_a_strict_tool(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(answer("function_calling", "Person", ADA))
    structured = make_model(api=api).with_structured_output(
        Person, method="function_calling", strict=True
    )
    assert structured.invoke("x") == Person(**ADA)
    (tool,) = fake_openai.requests[0].body["tools"]
    spec = tool["function"] if api == "chat_completions" else tool
    assert spec["strict"] is True
    assert_strict_schema(spec["parameters"])
    assert fake_openai.errors == []


def test_json_mode_with_strict_fails_before_any_request(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    with pytest.raises(ValueError, match="strict"):
        make_model(api=api).with_structured_output(Person, method="json_mode", strict=True)
    assert fake_openai.requests == []


async def test_async_invoke(fake_openai: FakeOpenAI, make_model: Factory, api: str) -> None:
    fake_openai.add(answer("json_schema", "Person", ADA))
    result = await make_model(api=api).with_structured_output(Person).ainvoke("x")
    assert result == Person(**ADA)


# --- include_raw ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_include_raw_returns_the_message_and_the_object(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, method: str
) -> None:
    fake_openai.add(answer(method, "Person", ADA))
    structured = make_model(api=api).with_structured_output(Person, method=method, include_raw=True)
    out = structured.invoke("x")
    assert set(out) == {"raw", "parsed", "parsing_error"}
    assert isinstance(out["raw"], AIMessage)
    assert out["raw"].response_metadata["api"] == api
    assert out["parsed"] == Person(**ADA)
    assert out["parsing_error"] is None


def test_include_raw_keeps_a_reply_that_does_not_validate(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(answer("json_schema", "Person", {"name": "Ada", "age": "old"}))
    out = make_model(api=api).with_structured_output(Person, include_raw=True).invoke("x")
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], StructuredOutputError)
    assert "age" in str(out["parsing_error"])
    assert '"old"' in out["raw"].text


# --- refusals and cut-off replies ----------------------------------------------------------------

REFUSAL = "I can't help with identifying people."


def test_refusal_raises_refusal_error(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(refusal=REFUSAL))
    with pytest.raises(RefusalError) as info:
        make_model(api=api).with_structured_output(Person).invoke("x")
    assert info.value.refusal == REFUSAL
    assert REFUSAL in str(info.value)


def test_refusal_with_include_raw_is_a_parsing_error(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(refusal=REFUSAL))
    out = make_model(api=api).with_structured_output(Person, include_raw=True).invoke("x")
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], RefusalError)
    assert out["parsing_error"].refusal == REFUSAL
    assert isinstance(out["raw"], AIMessage)


def test_refusal_while_streaming_raises_refusal_error(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(refusal=REFUSAL))
    with pytest.raises(RefusalError):
        list(make_model(api=api).with_structured_output(Person).stream("x"))


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_reply_cut_by_the_token_limit_raises_length_limit_error(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, method: str
) -> None:
    fake_openai.add(answer(method, "Person", '{"a": "tru', finish_reason="length"))
    structured = make_model(api=api, max_tokens=5).with_structured_output(Person, method=method)
    with pytest.raises(LengthLimitError, match="max_tokens"):
        structured.invoke("x")


def test_reply_cut_by_the_token_limit_with_include_raw(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(text='{"a": "tru', finish_reason="length"))
    out = make_model(api=api).with_structured_output(Person, include_raw=True).invoke("x")
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], LengthLimitError)
    assert out["raw"].response_metadata["finish_reason"] == "length"


def test_reply_cut_by_the_token_limit_while_streaming_raises(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(text='{"name": "Ada Lo', finish_reason="length"))
    with pytest.raises(LengthLimitError):
        list(make_model(api=api).with_structured_output(Person).stream("x"))


# --- streaming -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("schema_kind", "stream_partial"),
    [("pydantic", None), ("typeddict", False), ("json_schema_dict", False)],
)
def test_stream_yields_only_the_validated_object(
    fake_openai: FakeOpenAI,
    make_model: Factory,
    api: str,
    method: str,
    schema_kind: str,
    stream_partial: bool | None,
) -> None:
    schema, name = SCHEMAS[schema_kind]
    data = {"name": "Ada King, Countess of Lovelace", "age": 36}
    fake_openai.add(answer(method, name, data), answer(method, name, data, chunk_size=3))
    structured = make_model(api=api).with_structured_output(
        schema, method=method, stream_partial=stream_partial
    )

    invoked = structured.invoke("x")
    streamed = list(structured.stream("x"))

    # As with ChatOpenAI: no half-built object whose attributes are missing or cut.
    assert streamed == [invoked] == [expected(schema_kind, data)]
    if schema_kind == "pydantic":
        assert streamed[0].name == data["name"]
    assert fake_openai.requests[1].body["stream"] is True
    assert fake_openai.errors == []


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("schema_kind", "stream_partial"),
    [("pydantic", True), ("typeddict", None), ("json_schema_dict", None)],
)
async def test_stream_partial_yields_growing_dicts_then_the_validated_object(
    fake_openai: FakeOpenAI,
    make_model: Factory,
    api: str,
    method: str,
    schema_kind: str,
    stream_partial: bool | None,
    mode: str,
) -> None:
    # A dict schema streams its growing JSON unasked, as ChatOpenAI's does.
    schema, name = SCHEMAS[schema_kind]
    data = {"name": "Ada King, Countess of Lovelace", "age": 36}
    fake_openai.add(answer(method, name, data), answer(method, name, data, chunk_size=3))
    model = make_model(api=api)
    invoked = await model.with_structured_output(schema, method=method).ainvoke("x")
    structured = model.with_structured_output(schema, method=method, stream_partial=stream_partial)

    if mode == "stream":
        streamed = list(structured.stream("x"))
    else:
        streamed = [p async for p in structured.astream("x")]

    assert len(streamed) > 3
    assert streamed[-1] == invoked == expected(schema_kind, data)
    partials = streamed[:-1] if schema_kind == "pydantic" else streamed
    assert all(type(p) is dict for p in partials)
    names = [p["name"] for p in partials if p.get("name")]
    assert len(names) > 3
    for shorter, longer in itertools.pairwise(names):
        assert longer.startswith(shorter)
    assert fake_openai.errors == []


async def test_astream_ends_in_the_ainvoke_result(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(answer("json_schema", "Person", ADA), answer("json_schema", "Person", ADA))
    structured = make_model(api=api).with_structured_output(Person)
    invoked = await structured.ainvoke("x")
    streamed = [p async for p in structured.astream("x")]
    assert streamed == [invoked] == [Person(**ADA)]


# --- strict mode and defaults --------------------------------------------------------------------


class Address(BaseModel):
    city: str
    country: str = "FR"


class Item(BaseModel):
    sku: str
    qty: int = 1


class Order(BaseModel):
    """An order."""

    id: str
    note: str | None = None
    priority: str = "normal"
    tags: list[str] = []
    ship_to: Address


ALL_NULL = {
    "id": "o1",
    "note": None,
    "priority": None,
    "tags": None,
    "ship_to": {"city": "Paris", "country": None},
}


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_nulls_for_optional_fields_come_back_as_defaults(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, method: str
) -> None:
    fake_openai.add(answer(method, "Order", ALL_NULL))
    structured = make_model(api=api).with_structured_output(Order, method=method, strict=True)

    result = structured.invoke("x")

    assert result == Order(id="o1", ship_to=Address(city="Paris"))
    assert result.priority == "normal" and result.tags == [] and result.note is None
    assert result.ship_to.country == "FR"
    assert fake_openai.errors == []
    body = fake_openai.requests[0].body
    if method == "json_schema":
        schema = sent_format(body, api)["schema"]
    else:
        tool = body["tools"][0]
        schema = (tool["function"] if api == "chat_completions" else tool)["parameters"]
    # Strict mode sends every field as required; the ones with defaults accept null.
    assert_strict_schema(schema)
    assert sorted(schema["required"]) == ["id", "note", "priority", "ship_to", "tags"]


class Shipment(BaseModel):
    """A shipment."""

    bill_to: Address | None = None
    items: list[Item] = []


def test_nulls_inside_optional_and_list_sub_models_come_back_as_defaults(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    data = {"bill_to": {"city": "Lyon", "country": None}, "items": [{"sku": "a", "qty": None}]}
    fake_openai.add(answer("json_schema", "Shipment", data))
    result = make_model(api=api).with_structured_output(Shipment).invoke("x")
    assert result == Shipment(bill_to=Address(city="Lyon"), items=[Item(sku="a")])
