"""The things measured: one callable per (scenario, target) doing one operation.

Targets:

- ``floor``: httpx2 (the SDK's own HTTP library) posting a body serialized once up front,
  then ``json.loads`` of the reply or a minimal SSE loop. No SDK, no LangChain.
- ``raw``: the ``openai`` SDK's typed ``create()`` with ``max_retries=0``.
- ``ChatOpenAI``: ``langchain_openai.ChatOpenAI`` (``use_responses_api=True`` for Responses).
- ``ParamChat``: this package, at its defaults (retries on: ``max_retries=2``).
- ``ParamChat r=0``: the same with ``max_retries=0`` (scenario a only), to price the retry
  wrapper.
- ``lc-core``: a ``BaseChatModel`` whose ``_generate``/``_stream`` build the reply messages
  without I/O: what langchain-core's own per-call machinery costs any chat model.

Every operation returns the reply text, so the runner checks once that all targets got the
same answer before timing them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import openai
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.prompts import ChatPromptTemplate

from benchmarks import workloads
from benchmarks.server import MODEL, REPLY_TEXT, stream_pieces
from langchain_paramchat import ParamChat

__all__ = [
    "API_KEY",
    "AsyncOp",
    "FakeChat",
    "SyncOp",
    "Targets",
    "have_chat_openai",
]

API_KEY = "sk-bench-0000"
SyncOp = Callable[[], str]
AsyncOp = Callable[[], Awaitable[str]]
_HEADERS = {"content-type": "application/json", "authorization": f"Bearer {API_KEY}"}
_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)


def have_chat_openai() -> bool:
    """Return whether ``langchain_openai`` can be imported."""
    try:
        import langchain_openai  # noqa: F401
    except ImportError:
        return False
    return True


class FakeChat(BaseChatModel):
    """Build the benchmark's reply without I/O: the cost langchain-core adds to any chat model."""

    chunks: int = 1

    @property
    def _llm_type(self) -> str:
        return "bench-fake"

    def _result(self) -> ChatResult:
        message = AIMessage(
            content=REPLY_TEXT,
            usage_metadata={"input_tokens": 12, "output_tokens": 9, "total_tokens": 21},
            response_metadata={"model_name": MODEL, "finish_reason": "stop"},
            id="chatcmpl-bench",
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _pieces(self) -> Iterator[ChatGenerationChunk]:
        for piece in stream_pieces(self.chunks):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece, id="chatcmpl-bench"))
        usage = {"input_tokens": 12, "output_tokens": self.chunks, "total_tokens": 12 + self.chunks}
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata=usage, chunk_position="last")  # type: ignore[arg-type]
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._result()

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._result()

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self._pieces():
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._pieces():
            yield chunk


def _sse_data(byte_chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Yield the ``data:`` payloads of an SSE byte stream (the floor's minimal parser)."""
    pending = b""
    for block in byte_chunks:
        pending += block
        *events, pending = pending.split(b"\n\n")
        for event in events:
            for line in event.split(b"\n"):
                if line.startswith(b"data: "):
                    yield line[6:]


def _chat_delta_text(data: bytes, pieces: list[str]) -> bool:
    if data == b"[DONE]":
        return False
    choices = json.loads(data)["choices"]
    if choices:
        content = choices[0]["delta"].get("content")
        if content:
            pieces.append(content)
    return True


def _responses_delta_text(data: bytes, pieces: list[str]) -> None:
    event = json.loads(data)
    if event["type"] == "response.output_text.delta":
        pieces.append(event["delta"])


@dataclass
class _Bodies:
    chat: bytes
    chat_stream: bytes
    history: bytes
    responses: bytes
    responses_stream: bytes


class Targets:
    """Build every target against one server; each method returns ``{target: operation}``."""

    def __init__(self, base_url: str, *, chunks: int) -> None:
        self.base_url = base_url
        self.chunks = chunks
        self.expected_stream = "".join(stream_pieces(chunks))
        self.history = workloads.history()
        self.raw_history = workloads.openai_history(self.history)
        self.raw_tools = workloads.openai_tools()
        one_line = [{"role": "user", "content": workloads.PROMPT}]
        usage = {"include_usage": True}
        self._bodies = _Bodies(
            chat=_json({"model": MODEL, "messages": one_line}),
            chat_stream=_json(
                {"model": MODEL, "messages": one_line, "stream": True, "stream_options": usage}
            ),
            history=_json({"model": MODEL, "messages": self.raw_history, "tools": self.raw_tools}),
            responses=_json({"model": MODEL, "input": workloads.PROMPT}),
            responses_stream=_json({"model": MODEL, "input": workloads.PROMPT, "stream": True}),
        )
        self._http = httpx2.Client(base_url=base_url, timeout=60.0, limits=_LIMITS)
        self._raw = openai.OpenAI(api_key=API_KEY, base_url=base_url, max_retries=0)

    def close(self) -> None:
        """Close the sync HTTP clients."""
        self._http.close()
        self._raw.close()

    # --- model factories ----------------------------------------------------------------

    def paramchat(self, **kwargs: Any) -> ParamChat:
        """Return a ParamChat at its defaults, pointed at the server."""
        return ParamChat(model=MODEL, api_key=API_KEY, base_url=self.base_url, **kwargs)

    def chat_openai(self, **kwargs: Any) -> BaseChatModel:
        """Return a ChatOpenAI pointed at the server."""
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=MODEL, api_key=API_KEY, base_url=self.base_url, **kwargs)  # type: ignore[arg-type]

    def fake(self) -> FakeChat:
        """Return the I/O-free langchain-core model."""
        return FakeChat(chunks=self.chunks)

    def _models(self, **chat_openai_kwargs: Any) -> dict[str, BaseChatModel]:
        models: dict[str, BaseChatModel] = {}
        if have_chat_openai():
            models["ChatOpenAI"] = self.chat_openai(**chat_openai_kwargs)
        models["ParamChat"] = self.paramchat(
            **({"api": "responses"} if chat_openai_kwargs.get("use_responses_api") else {})
        )
        models["lc-core"] = self.fake()
        return models

    # --- scenario (a): invoke a one-line prompt -------------------------------------------

    def invoke(self) -> dict[str, SyncOp]:
        """Return the one-line-prompt ``invoke`` operations."""
        http, body, raw = self._http, self._bodies.chat, self._raw
        messages = [{"role": "user", "content": workloads.PROMPT}]

        def floor() -> str:
            reply = json.loads(
                http.post("/chat/completions", content=body, headers=_HEADERS).content
            )
            return str(reply["choices"][0]["message"]["content"])

        def raw_sdk() -> str:
            completion = raw.chat.completions.create(model=MODEL, messages=messages)  # type: ignore[arg-type]
            return completion.choices[0].message.content or ""

        ops: dict[str, SyncOp] = {"floor": floor, "raw": raw_sdk}
        models = self._models()
        models["ParamChat r=0"] = self.paramchat(max_retries=0)
        for name, model in models.items():
            ops[name] = _invoke_op(model, workloads.PROMPT)
        return ops

    # --- scenario (b): 200-message history with tool calls and 3 bound tools -------------------

    def history_invoke(self) -> dict[str, SyncOp]:
        """Return the 200-message-history ``invoke`` operations (3 tools bound)."""
        http, body, raw = self._http, self._bodies.history, self._raw
        messages, tools = self.raw_history, self.raw_tools

        def floor() -> str:
            reply = json.loads(
                http.post("/chat/completions", content=body, headers=_HEADERS).content
            )
            return str(reply["choices"][0]["message"]["content"])

        def raw_sdk() -> str:
            completion = raw.chat.completions.create(model=MODEL, messages=messages, tools=tools)  # type: ignore[arg-type]
            return completion.choices[0].message.content or ""

        ops: dict[str, SyncOp] = {"floor": floor, "raw": raw_sdk}
        for name, model in self._models().items():
            bound = model if name == "lc-core" else model.bind_tools(list(workloads.TOOLS))
            ops[name] = _invoke_op(bound, self.history)
        return ops

    # --- scenario (c): stream a long reply, plain and through LCEL ----------------------------

    def stream(self) -> dict[str, SyncOp]:
        """Return the ``stream`` operations for a reply of ``chunks`` chunks."""
        http, body, raw = self._http, self._bodies.chat_stream, self._raw
        messages = [{"role": "user", "content": workloads.PROMPT}]

        def floor() -> str:
            pieces: list[str] = []
            with http.stream("POST", "/chat/completions", content=body, headers=_HEADERS) as r:
                for data in _sse_data(r.iter_bytes()):
                    if not _chat_delta_text(data, pieces):
                        break
            return "".join(pieces)

        def raw_sdk() -> str:
            pieces: list[str] = []
            stream = raw.chat.completions.create(
                model=MODEL,
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    pieces.append(chunk.choices[0].delta.content)
            return "".join(pieces)

        ops: dict[str, SyncOp] = {"floor": floor, "raw": raw_sdk}
        for name, model in self._models().items():
            ops[name] = _stream_op(model, workloads.PROMPT)
        return ops

    def lcel_stream(self) -> dict[str, SyncOp]:
        """Return ``(prompt | model | StrOutputParser()).stream`` operations (raw for reference)."""
        prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
        ops: dict[str, SyncOp] = {"raw": self.stream()["raw"]}
        for name, model in self._models().items():
            chain = prompt | model | StrOutputParser()
            ops[name] = _chain_stream_op(chain, {"question": workloads.PROMPT})
        return ops

    # --- scenario (d): many ainvokes at bounded concurrency -----------------------------------

    def ainvoke(self) -> dict[str, AsyncOp]:
        """Return one-line ``ainvoke`` operations; build inside the event loop that runs them."""
        body = self._bodies.chat
        http = httpx2.AsyncClient(base_url=self.base_url, timeout=60.0, limits=_LIMITS)
        raw = openai.AsyncOpenAI(api_key=API_KEY, base_url=self.base_url, max_retries=0)
        messages = [{"role": "user", "content": workloads.PROMPT}]

        async def floor() -> str:
            reply = await http.post("/chat/completions", content=body, headers=_HEADERS)
            return str(json.loads(reply.content)["choices"][0]["message"]["content"])

        async def raw_sdk() -> str:
            completion = await raw.chat.completions.create(model=MODEL, messages=messages)  # type: ignore[arg-type]
            return completion.choices[0].message.content or ""

        ops: dict[str, AsyncOp] = {"floor": floor, "raw": raw_sdk}
        for name, model in self._models().items():
            ops[name] = _ainvoke_op(model, workloads.PROMPT)
        return ops

    # --- scenario (e): the Responses API ---------------------------------------------------

    def responses_invoke(self) -> dict[str, SyncOp]:
        """Return one-line ``invoke`` operations on the Responses API."""
        http, body, raw = self._http, self._bodies.responses, self._raw

        def floor() -> str:
            reply = json.loads(http.post("/responses", content=body, headers=_HEADERS).content)
            return "".join(
                part["text"]
                for item in reply["output"]
                if item["type"] == "message"
                for part in item["content"]
                if part["type"] == "output_text"
            )

        def raw_sdk() -> str:
            return raw.responses.create(model=MODEL, input=workloads.PROMPT).output_text

        ops: dict[str, SyncOp] = {"floor": floor, "raw": raw_sdk}
        for name, model in self._models(use_responses_api=True).items():
            ops[name] = _invoke_op(model, workloads.PROMPT)
        return ops

    def responses_stream(self) -> dict[str, SyncOp]:
        """Return ``stream`` operations on the Responses API."""
        http, body, raw = self._http, self._bodies.responses_stream, self._raw

        def floor() -> str:
            pieces: list[str] = []
            with http.stream("POST", "/responses", content=body, headers=_HEADERS) as r:
                for data in _sse_data(r.iter_bytes()):
                    _responses_delta_text(data, pieces)
            return "".join(pieces)

        def raw_sdk() -> str:
            pieces: list[str] = []
            for event in raw.responses.create(model=MODEL, input=workloads.PROMPT, stream=True):
                if event.type == "response.output_text.delta":
                    pieces.append(event.delta)
            return "".join(pieces)

        ops: dict[str, SyncOp] = {"floor": floor, "raw": raw_sdk}
        for name, model in self._models(use_responses_api=True).items():
            ops[name] = _stream_op(model, workloads.PROMPT)
        return ops


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _invoke_op(model: Any, prompt: Any) -> SyncOp:
    def op() -> str:
        return str(model.invoke(prompt).text)

    return op


def _ainvoke_op(model: Any, prompt: Any) -> AsyncOp:
    async def op() -> str:
        return str((await model.ainvoke(prompt)).text)

    return op


def _stream_op(model: Any, prompt: Any) -> SyncOp:
    def op() -> str:
        return "".join([chunk.text for chunk in model.stream(prompt)])

    return op


def _chain_stream_op(chain: Any, inputs: dict[str, Any]) -> SyncOp:
    def op() -> str:
        return "".join(chain.stream(inputs))

    return op


async def run_concurrently(op: AsyncOp, count: int, limit: int) -> str:
    """Run ``op`` ``count`` times with at most ``limit`` in flight; return the last text."""
    gate = asyncio.Semaphore(limit)

    async def one() -> str:
        async with gate:
            return await op()

    results = await asyncio.gather(*(one() for _ in range(count)))
    return results[-1] if results else ""
