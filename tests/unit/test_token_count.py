"""Local token counts: never an ImportError, tiktoken when it loads, else a warned estimate."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    trim_messages,
)
from pydantic import BaseModel, Field

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import OptionError
from langchain_paramchat.surface import token_count as tc

pytestmark = pytest.mark.filterwarnings(
    "ignore::langchain_paramchat.surface.token_count.TokenEstimateWarning"
)


class GetWeather(BaseModel):
    """Get the weather for a city."""

    city: str = Field(description="The city, e.g. Paris")


CHAT = [
    SystemMessage("You are terse."),
    HumanMessage("What is the weather in Paris today?"),
    AIMessage("", tool_calls=[{"name": "GetWeather", "args": {"city": "Paris"}, "id": "c1"}]),
    ToolMessage("Sunny, 24 C", tool_call_id="c1"),
    AIMessage("It is sunny and 24 C in Paris."),
]


@pytest.fixture
def model() -> ParamChat:
    return ParamChat(model="gpt-4o-mini", api_key="sk-test", base_url="http://127.0.0.1:9/v1")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No tiktoken encoding can load (as on a machine without its cached files)."""
    monkeypatch.setattr(tc, "load_encoding", lambda model: None)
    monkeypatch.setattr(tc, "_warned", False)
    yield


@pytest.fixture
def byte_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """A byte-level tiktoken encoding built in memory: no download, one token per byte."""
    tiktoken = pytest.importorskip("tiktoken")
    encoding = tiktoken.Encoding(
        name="bytes",
        pat_str=r"[\s\S]",
        mergeable_ranks={bytes([i]): i for i in range(256)},
        special_tokens={},
    )
    monkeypatch.setattr(tc, "load_encoding", lambda model: encoding)


def test_approximation_counts_words_numbers_and_symbols() -> None:
    assert tc.approximate_tokens("Tell me a joke.") == 5
    assert tc.approximate_tokens("internationalization") == 4  # long words cost more
    assert tc.approximate_tokens("1234567") == 3  # digits in groups of three
    assert tc.approximate_tokens("東京") == 2
    assert tc.approximate_tokens("") == 0


@pytest.mark.usefixtures("offline")
def test_offline_counts_approximate_and_warn_once(model: ParamChat) -> None:
    with pytest.warns(tc.TokenEstimateWarning, match="count_tokens"):
        first = model.get_num_tokens_from_messages(CHAT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = model.get_num_tokens_from_messages(CHAT)
        text = model.get_num_tokens("Tell me a joke.")
    assert first == again > 0
    assert text == 5


@pytest.mark.usefixtures("offline")
def test_tools_add_their_schema_to_the_count(model: ParamChat) -> None:
    without = model.get_num_tokens_from_messages(CHAT[:2])
    with_tool = model.get_num_tokens_from_messages(CHAT[:2], tools=[GetWeather])
    builtin = model.get_num_tokens_from_messages(CHAT[:2], tools=[{"type": "web_search"}])
    assert with_tool - without > tc.approximate_tokens("Get the weather for a city.")
    assert builtin > without


@pytest.mark.usefixtures("byte_encoding")
def test_tiktoken_counts_exactly_when_its_encoding_loads(model: ParamChat) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no estimate warning on this branch
        count = model.get_num_tokens_from_messages([HumanMessage("héllo")])
    # 3 reply priming + 3 per message + "user" (4 bytes) + "héllo" (6 bytes)
    assert count == 3 + 3 + 4 + 6
    assert model.get_num_tokens("héllo") == 6
    assert model.get_token_ids("ab") == [97, 98]


@pytest.mark.usefixtures("offline")
def test_get_token_ids_without_an_encoding_says_what_to_do(model: ParamChat) -> None:
    with pytest.raises(OptionError, match="custom_get_token_ids"):
        model.get_token_ids("hello")


def test_custom_get_token_ids_wins() -> None:
    model = ParamChat(api_key="sk-test", custom_get_token_ids=lambda text: [1] * len(text))
    assert model.get_num_tokens("abc") == 3
    assert model.get_token_ids("ab") == [1, 1]


@pytest.mark.usefixtures("offline")
def test_images_count_by_detail(model: ParamChat) -> None:
    def image(detail: str) -> list[HumanMessage]:
        url = {"url": "https://example.com/cat.png", "detail": detail}
        return [HumanMessage(content=[{"type": "image_url", "image_url": url}])]

    low = model.get_num_tokens_from_messages(image("low"))
    high = model.get_num_tokens_from_messages(image("high"))
    assert high - low == 765 - 85


@pytest.mark.parametrize("encoding", ["offline", "byte_encoding"])
def test_trim_messages_with_the_model_as_counter(
    model: ParamChat, encoding: str, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue(encoding)
    # Room for the system message and the last answer, not for the tool result before it.
    budget = model.get_num_tokens_from_messages(CHAT[:1] + CHAT[-1:]) + 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tc.TokenEstimateWarning)
        trimmed = trim_messages(
            CHAT, max_tokens=budget, token_counter=model, strategy="last", include_system=True
        )
    assert trimmed == [CHAT[0], CHAT[-1]]


def test_count_tokens_body_keeps_only_what_the_endpoint_takes() -> None:
    payload: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "input": "hi",
        "instructions": "be brief",
        "temperature": 0.2,
        "max_output_tokens": 5,
        "stream": False,
        "store": True,
    }
    assert tc.input_tokens_body(payload) == {
        "model": "gpt-4o-mini",
        "input": "hi",
        "instructions": "be brief",
    }
    with pytest.raises(OptionError, match="prompt"):
        tc.input_tokens_body({**payload, "prompt": {"id": "pmpt_1"}})
