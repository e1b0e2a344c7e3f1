"""Structured output without a server: the request it builds and how replies are parsed."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import LengthLimitError, RefusalError, StructuredOutputError
from langchain_paramchat.tools.structured import StructuredParser


class City(BaseModel):
    """A city and its country."""

    name: str
    country: str


def parse(message: AIMessage, **kwargs: Any) -> Any:
    return StructuredParser(**kwargs).parse_result([ChatGeneration(message=message)])


def test_text_json_validates_into_the_model() -> None:
    assert parse(AIMessage('{"name": "Paris", "country": "FR"}'), target=City) == City(
        name="Paris", country="FR"
    )


def test_tool_call_arguments_are_read_for_function_calling() -> None:
    message = AIMessage(
        "", tool_calls=[{"name": "City", "args": {"name": "Rome", "country": "IT"}, "id": "c"}]
    )
    assert parse(message, target=City, tool_name="City") == City(name="Rome", country="IT")


def test_no_tool_call_says_so() -> None:
    with pytest.raises(StructuredOutputError, match="did not call the 'City' tool"):
        parse(AIMessage("plain"), target=City, tool_name="City")


def test_refusal_raises_refusal_error() -> None:
    with pytest.raises(RefusalError):
        parse(AIMessage("", additional_kwargs={"refusal": "No."}), target=City)


def test_cut_json_at_the_token_limit_raises_length_limit_error() -> None:
    message = AIMessage('{"name": "Par', response_metadata={"finish_reason": "length"})
    with pytest.raises(LengthLimitError, match="max_tokens"):
        parse(message, target=City)


def test_json_that_does_not_match_names_the_schema() -> None:
    with pytest.raises(StructuredOutputError, match="does not match City"):
        parse(AIMessage('{"name": "Paris"}'), target=City)


@pytest.mark.parametrize("api", ["chat_completions", "responses"])
def test_json_schema_method_sends_a_strict_schema_on_either_api(api: str) -> None:
    model = ParamChat(model="gpt-4o-mini", api_key="sk-test", api=api)
    bound = model.with_structured_output(City).first  # type: ignore[attr-defined]
    preview = bound.preview_request("Paris?")
    if api == "chat_completions":
        spec = preview.payload["response_format"]["json_schema"]
    else:
        spec = preview.payload["text"]["format"]
    assert spec["name"] == "City"
    assert spec["strict"] is True
    assert spec["schema"]["additionalProperties"] is False
    assert sorted(spec["schema"]["required"]) == ["country", "name"]
