"""The reply a user gets from each call mode, shared by the drop-in tests."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk

MODES = ["invoke", "ainvoke", "stream", "astream"]


async def run(model: Any, mode: str, prompt: Any = "hi") -> AIMessage:
    """Return the reply a user gets from ``mode`` (a stream's chunks merged)."""
    if mode == "invoke":
        return model.invoke(prompt)  # type: ignore[no-any-return]
    if mode == "ainvoke":
        return await model.ainvoke(prompt)  # type: ignore[no-any-return]
    if mode == "stream":
        chunks = list(model.stream(prompt))
    else:
        chunks = [chunk async for chunk in model.astream(prompt)]
    merged: AIMessageChunk = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    return merged  # type: ignore[return-value]
