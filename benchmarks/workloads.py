"""The inputs every target gets: a one-line prompt, a 200-message tool-using history, 3 tools.

LangChain targets get LangChain messages and Pydantic tool classes; the raw SDK and the
plain-HTTP floor get the same conversation already in OpenAI's wire shape, built once here.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel, Field

__all__ = [
    "HISTORY_LENGTH",
    "PROMPT",
    "TOOLS",
    "CreateTicket",
    "GetWeather",
    "SearchDocs",
    "history",
    "openai_history",
    "openai_tools",
]

PROMPT = "Say hello in one short sentence."
HISTORY_LENGTH = 200
_SYSTEM = "You are a support assistant. Use the tools when they help, and answer briefly."
_CITIES = ("Paris", "Lisbon", "Osaka", "Nairobi", "Lima", "Oslo", "Quito")


class GetWeather(BaseModel):
    """Get the current weather for a city."""

    city: str = Field(description="City name, e.g. Paris")
    unit: Literal["celsius", "fahrenheit"] = Field(default="celsius")


class SearchDocs(BaseModel):
    """Search the product documentation and return the best passages."""

    query: str = Field(description="What to look for")
    top_k: int = Field(default=5, ge=1, le=20)


class CreateTicket(BaseModel):
    """Open a support ticket for a human to follow up."""

    title: str
    priority: int = Field(ge=1, le=4)
    tags: list[str] = Field(default_factory=list)


TOOLS: tuple[type[BaseModel], ...] = (GetWeather, SearchDocs, CreateTicket)


def _weather(i: int) -> tuple[dict[str, Any], str]:
    city = _CITIES[i % len(_CITIES)]
    args = {"city": city, "unit": "celsius"}
    result = {"city": city, "temperature_c": 10 + i % 15, "sky": "partly cloudy", "wind_kph": 12}
    return args, json.dumps(result)


def _search(i: int) -> tuple[dict[str, Any], str]:
    args = {"query": f"how to rotate api keys step {i}", "top_k": 3}
    passages = [
        f"Passage {k} for turn {i}: keys are rotated from the dashboard under Settings, "
        "then the old key stays valid for 24 hours so deployments can switch over."
        for k in range(3)
    ]
    return args, json.dumps({"passages": passages})


def history() -> list[BaseMessage]:
    """Return 200 messages: a system prompt, 40 tool-using turns and a final question.

    38 turns call two tools (weather and search) and 2 turns call one, so the history holds
    78 tool calls, their 78 tool results and 40 plain assistant answers.
    """
    messages: list[BaseMessage] = [SystemMessage(_SYSTEM)]
    for turn in range(40):
        two_calls = turn < 38
        city = _CITIES[turn % len(_CITIES)]
        messages.append(HumanMessage(f"Turn {turn}: what's the weather in {city}, and docs?"))
        calls = [("GetWeather", *_weather(turn))]
        if two_calls:
            calls.append(("SearchDocs", *_search(turn)))
        messages.append(
            AIMessage(
                content="",
                tool_calls=[
                    {"name": name, "args": args, "id": f"call_{turn}_{k}", "type": "tool_call"}
                    for k, (name, args, _) in enumerate(calls)
                ],
            )
        )
        messages.extend(
            ToolMessage(content=result, tool_call_id=f"call_{turn}_{k}")
            for k, (_, _, result) in enumerate(calls)
        )
        messages.append(
            AIMessage(
                f"In {city} it is {10 + turn % 15} °C and partly cloudy. To rotate a key, open "
                "Settings → API keys; the old key keeps working for 24 hours."
            )
        )
    messages.append(HumanMessage("Thanks. Open a ticket if anything above looks wrong."))
    assert len(messages) == HISTORY_LENGTH, len(messages)
    return messages


def openai_history(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """Return ``messages`` in Chat Completions' wire shape (what a raw-SDK user would hold)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            out.append({"role": "system", "content": message.text})
        elif isinstance(message, HumanMessage):
            out.append({"role": "user", "content": message.text})
        elif isinstance(message, ToolMessage):
            out.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.text}
            )
        elif isinstance(message, AIMessage):
            item: dict[str, Any] = {"role": "assistant", "content": message.text or None}
            if message.tool_calls:
                item["tool_calls"] = [
                    {
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
                    }
                    for call in message.tool_calls
                ]
            out.append(item)
    return out


def openai_tools() -> list[dict[str, Any]]:
    """Return the 3 tools as Chat Completions function-tool dicts."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.__name__,
                "description": tool.__doc__ or "",
                "parameters": tool.model_json_schema(),
            },
        }
        for tool in TOOLS
    ]
