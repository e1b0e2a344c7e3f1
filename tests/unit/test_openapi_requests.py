"""Requests the model facts shape validate against OpenAI's published spec.

Reads ``../shared/openai-openapi/openapi.json`` when it is there (skipped otherwise): each
body ``preview_request`` builds for a model-facts case must fit ``CreateChatCompletionRequest``
or ``CreateResponse``. The fake server checks the same bodies against the SDK's types.
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from langchain_paramchat import ParamChat

SPEC = Path(__file__).resolve().parents[3] / "shared" / "openai-openapi" / "openapi.json"
SCHEMAS = {"chat_completions": "CreateChatCompletionRequest", "responses": "CreateResponse"}


class GetWeather(BaseModel):
    """Get the weather in a city."""

    city: str


@cache
def _validator(name: str) -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    if not SPEC.is_file():
        pytest.skip("the OpenAPI spec is not in ../shared/openai-openapi")
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    base = jsonschema.Draft202012Validator
    # The spec writes oneOf where its alternatives overlap (an input message is both an
    # EasyInputMessage and an Item), so oneOf is read as anyOf.
    lenient = jsonschema.validators.extend(base, {"oneOf": base.VALIDATORS["anyOf"]})
    return lenient(schema)


CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("gpt-6-cyber", {}, False),  # Responses-only by the SDK's lists
    ("gpt-6-sol", {}, True),  # tools need Responses
    ("gpt-5.4-mini", {"temperature": 0.3, "top_p": 0.5, "n": 1}, False),  # left out
    ("gpt-6-sol", {"temperature": 0.3, "reasoning_effort": "none"}, False),
    ("gpt-5.4-mini", {"api": "responses", "temperature": 0.3, "max_tokens": 20}, False),
    ("gpt-5.4-mini", {"api": "responses", "prompt": {"id": "pmpt_1"}}, False),
    ("o4-mini", {"reasoning": {"effort": "low", "summary": "auto"}}, False),
]


@pytest.mark.parametrize(("model", "kwargs", "tools"), CASES)
def test_model_facts_requests_fit_the_openapi_spec(
    model: str, kwargs: dict[str, Any], tools: bool
) -> None:
    chat = ParamChat(model=model, api_key="sk-test")
    runnable: Any = chat.bind_tools([GetWeather]) if tools else chat
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rejected or deprecated: what is sent still must fit
        if tools:
            preview = chat.preview_request("hi", tools=runnable.kwargs["tools"], **kwargs)
        else:
            preview = chat.preview_request("hi", **kwargs)
    errors = sorted(_validator(SCHEMAS[preview.api]).iter_errors(preview.payload), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:3]]


def test_the_spec_check_catches_a_bad_body() -> None:
    bad = {"model": "gpt-5.4-mini", "messages": [{"role": "user", "content": "hi"}], "n": "two"}
    assert any(_validator(SCHEMAS["chat_completions"]).iter_errors(bad))
