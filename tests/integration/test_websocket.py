"""ParamChat(websocket=True): Responses calls over persistent sockets, through FakeOpenAI.

Every call goes through the real transport over loopback; the server's counters and
recorded ``response.create`` bodies show what went over the wire.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytest.importorskip("websockets")

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import (
    DeadlineExceededError,
    OptionError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from langchain_paramchat.testing import FakeOpenAI, Fault, Reply, ToolCall

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def _model(server: FakeOpenAI, **kwargs: Any) -> ParamChat:
    kwargs.setdefault("api_key", "sk-test")
    kwargs.setdefault("model", "gpt-4o")
    kwargs.setdefault("store", False)
    kwargs.setdefault("websocket", True)
    kwargs.setdefault("max_retries", 1)
    return ParamChat(base_url=server.base_url, **kwargs)


def _creates(server: FakeOpenAI) -> list[dict[str, Any]]:
    return [r.body or {} for r in server.requests if r.method == "WEBSOCKET"]


def _text(message: BaseMessage) -> str:
    return message.text if isinstance(message.text, str) else message.text()  # type: ignore[operator]


def _tool_turn(call_id: str) -> Reply:
    return Reply(tool_calls=[ToolCall("lookup", {"q": call_id}, id=call_id)])


# --- the four ways to call, and what goes over the wire --------------------------------------


def test_invoke_and_stream_go_over_one_socket(server: FakeOpenAI) -> None:
    server.add("Hello there.", "Streamed reply.")
    model = _model(server)
    first = model.invoke("hi")
    chunks = list(model.stream("again"))
    assert _text(first) == "Hello there."
    assert "".join(_text(c) for c in chunks) == "Streamed reply."
    assert first.response_metadata["transport"] == "websocket"
    assert first.response_metadata["api"] == "responses"
    assert server.websockets.counts.opened == 1
    assert server.websockets.counts.creates == 2
    assert all("stream" not in body for body in _creates(server))
    assert server.errors == []


async def test_ainvoke_and_astream(server: FakeOpenAI) -> None:
    server.add("Async one.", "Async two.")
    model = _model(server)
    first = await model.ainvoke("hi")
    chunks = [chunk async for chunk in model.astream("again")]
    assert _text(first) == "Async one."
    assert "".join(_text(c) for c in chunks) == "Async two."
    assert server.websockets.counts.creates == 2
    assert server.errors == []


def test_a_tool_loop_sends_only_what_is_new_with_store_false(server: FakeOpenAI) -> None:
    result = "x" * 2048
    server.add(_tool_turn("call_1"), _tool_turn("call_2"), "All done.")
    model = _model(server, instructions="Be brief.").bind_tools([_lookup])
    history: list[BaseMessage] = [HumanMessage("Look things up.")]
    for _ in range(3):
        reply = model.invoke(history)
        history.append(reply)
        for call in reply.tool_calls:
            history.append(ToolMessage(result, tool_call_id=call["id"]))
    assert _text(history[-1]) == "All done."
    creates = _creates(server)
    assert [b.get("previous_response_id") is not None for b in creates] == [False, True, True]
    assert [len(b["input"]) for b in creates] == [1, 1, 1]
    assert all(b["tools"] and b["instructions"] == "Be brief." for b in creates)
    assert server.websockets.counts.opened == 1
    assert server.errors == []


def test_chain_responses_with_store_false_works_over_the_socket(server: FakeOpenAI) -> None:
    server.add("One.", "Two.")
    model = _model(server, chain_responses=True)
    history: list[BaseMessage] = [HumanMessage("a")]
    history.append(model.invoke(history))
    history.append(HumanMessage("b"))
    assert _text(model.invoke(history)) == "Two."
    assert _creates(server)[1]["previous_response_id"] == history[1].response_metadata["id"]
    with pytest.raises(OptionError, match="store=False"):
        _model(server, chain_responses=True, websocket=False).invoke(history)


def test_an_edited_history_is_sent_in_full(server: FakeOpenAI) -> None:
    server.add("One.", "Two.")
    model = _model(server)
    history: list[BaseMessage] = [HumanMessage("a")]
    history.append(model.invoke(history))
    history[1] = AIMessage("something else")
    history.append(HumanMessage("b"))
    model.invoke(history)
    second = _creates(server)[1]
    assert "previous_response_id" not in second and len(second["input"]) == 3


def test_batch_on_a_thread_pool_uses_a_socket_per_concurrent_call(server: FakeOpenAI) -> None:
    model = _model(server)
    answers = model.batch([f"q{i}" for i in range(8)], config={"max_concurrency": 4})
    assert [_text(a) for a in answers] == [f"Echo: q{i}" for i in range(8)]
    assert 1 <= server.websockets.counts.opened <= 4
    assert server.websockets.counts.creates == 8


def test_threads_of_a_fresh_model_share_one_websocket_transport(server: FakeOpenAI) -> None:
    # Threads that reach a new model at once used to build a transport (and sockets) each;
    # all but one were dropped, so a first batch() opened more sockets than it ran at once.
    model = _model(server)
    start = threading.Barrier(8)

    def read() -> int:
        start.wait(timeout=30)
        return id(model.websocket_transport)

    with ThreadPoolExecutor(8) as pool:
        seen = set(pool.map(lambda _: read(), range(8)))
    assert len(seen) == 1


class Answer(BaseModel):
    city: str
    sunny: bool


def test_structured_output(server: FakeOpenAI) -> None:
    server.add('{"city": "Paris", "sunny": true}')
    parsed = _model(server).with_structured_output(Answer).invoke("weather?")
    assert parsed == Answer(city="Paris", sunny=True)
    assert _creates(server)[0]["text"]["format"]["type"] == "json_schema"


async def test_astream_events(server: FakeOpenAI) -> None:
    server.add(Reply(text="Event stream.", chunk_size=3))
    events = [e async for e in _model(server).astream_events("hi", version="v2")]
    streamed = [e for e in events if e["event"] == "on_chat_model_stream"]
    assert "".join(_text(e["data"]["chunk"]) for e in streamed) == "Event stream."
    assert server.websockets.counts.creates == 1


@tool
def _lookup(q: str) -> str:
    """Look something up."""
    return f"found {q}"


def test_langgraph_agent_loop(server: FakeOpenAI) -> None:
    server.add(_tool_turn("call_1"), _tool_turn("call_2"), "Found both.")
    agent = create_agent(_model(server), tools=[_lookup])
    state = agent.invoke({"messages": [{"role": "user", "content": "find two things"}]})
    assert _text(state["messages"][-1]) == "Found both."
    creates = _creates(server)
    assert [b.get("previous_response_id") is not None for b in creates] == [False, True, True]
    assert server.websockets.counts.opened == 1
    assert server.errors == []


async def test_langgraph_agent_loop_async(server: FakeOpenAI) -> None:
    server.add(_tool_turn("call_1"), "Found it.")
    agent = create_agent(_model(server), tools=[_lookup])
    state = await agent.ainvoke({"messages": [{"role": "user", "content": "find it"}]})
    assert _text(state["messages"][-1]) == "Found it."
    assert _creates(server)[1]["previous_response_id"]


# --- sockets owned safely ------------------------------------------------------------------


def test_asyncio_run_per_job_opens_a_socket_per_loop(server: FakeOpenAI) -> None:
    model = _model(server)
    for i in range(3):
        assert _text(asyncio.run(model.ainvoke(f"job {i}"))) == f"Echo: job {i}"
    assert server.websockets.counts.opened == 3
    assert server.websockets.counts.open_now == 0  # each loop closed its socket at shutdown


def _child_call(model: ParamChat, out: Any) -> None:
    out.put(_text(model.invoke("from the child")))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_worker_opens_its_own_socket(server: FakeOpenAI) -> None:
    model = _model(server)
    assert _text(model.invoke("parent")) == "Echo: parent"
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_child_call, args=(model, out))
    child.start()
    assert out.get(timeout=30) == "Echo: from the child"
    child.join(30)
    assert _text(model.invoke("parent again")) == "Echo: parent again"
    assert server.websockets.counts.opened == 2
    assert server.errors == []


def test_sockets_are_rotated_at_a_turn_boundary(server: FakeOpenAI) -> None:
    model = _model(server)
    model.invoke("one")
    model.websocket_transport.max_age = 0.0
    model.invoke("two")
    assert server.websockets.counts.opened == 2


def test_closing_the_transport_closes_idle_sockets(server: FakeOpenAI) -> None:
    model = _model(server)
    model.invoke("one")
    assert server.websockets.counts.open_now == 1
    model.websocket_transport.close()
    for _ in range(100):
        if server.websockets.counts.open_now == 0:
            break
        asyncio.run(asyncio.sleep(0.01))
    assert server.websockets.counts.open_now == 0


# --- resent in full, transparently -----------------------------------------------------------


def _two_turns(server: FakeOpenAI, between: Any) -> list[dict[str, Any]]:
    server.add(_tool_turn("call_1"), "Done.")
    model = _model(server).bind_tools([_lookup])
    history: list[BaseMessage] = [HumanMessage("go")]
    history.append(model.invoke(history))
    history.append(ToolMessage("result", tool_call_id="call_1"))
    between()
    assert _text(model.invoke(history)) == "Done."
    return _creates(server)


def test_cache_loss_resends_in_full(server: FakeOpenAI) -> None:
    creates = _two_turns(server, server.websockets.forget_caches)
    assert [b.get("previous_response_id") is not None for b in creates] == [False, True, False]
    assert len(creates[2]["input"]) == 3
    assert server.websockets.counts.opened == 1


def test_a_socket_that_died_while_idle_is_replaced_silently(server: FakeOpenAI) -> None:
    creates = _two_turns(server, server.websockets.drop_idle)
    assert server.websockets.counts.opened == 2
    assert "previous_response_id" not in creates[-1] and len(creates[-1]["input"]) == 3


def test_the_connection_limit_resends_on_a_new_socket(server: FakeOpenAI) -> None:
    creates = _two_turns(server, server.websockets.expire)
    assert server.websockets.counts.opened == 2
    assert "previous_response_id" not in creates[-1]


# --- failures as over HTTP -------------------------------------------------------------------


def test_error_event_maps_through_the_status_table(server: FakeOpenAI) -> None:
    server.add(Fault.status(429, error_code="insufficient_quota", message="No quota left."))
    with pytest.raises(RateLimitError) as caught:
        _model(server, max_retries=0).invoke("hi")
    assert caught.value.status_code == 429
    assert caught.value.code == "insufficient_quota"
    server.add("Still usable.")
    model = _model(server)
    assert _text(model.invoke("again")) == "Still usable."


def test_bad_request_error_event_carries_param(server: FakeOpenAI) -> None:
    model = _model(server, max_retries=0)
    model.invoke("warm up")
    with pytest.raises(Exception) as caught:
        model.invoke("x", previous_response_id="resp_unknown")
    assert getattr(caught.value, "status_code", None) == 400
    assert caught.value.code == "previous_response_not_found"  # type: ignore[attr-defined]
    assert caught.value.param == "previous_response_id"  # type: ignore[attr-defined]


def test_a_failure_before_the_first_event_is_retried(server: FakeOpenAI) -> None:
    server.add(Fault.status(500), "Recovered.")
    assert _text(_model(server, max_retries=2).invoke("hi")) == "Recovered."
    server.add(Fault.status(500, times=3))
    with pytest.raises(ServerError):
        _model(server, max_retries=1).invoke("hi")


def test_invoke_retries_a_drop_mid_response(server: FakeOpenAI) -> None:
    server.add(Fault.drop_mid_stream(after_events=5, reply=Reply(text="Whole answer.")))
    server.add("Whole answer.")
    assert _text(_model(server, max_retries=2).invoke("hi")) == "Whole answer."


def test_stream_interrupted_after_content_is_not_replayed(server: FakeOpenAI) -> None:
    server.add(Fault.drop_mid_stream(after_events=6, reply=Reply(text="A long answer here.")))
    received = []
    with pytest.raises(StreamInterruptedError) as caught:
        for chunk in _model(server, max_retries=2).stream("hi"):
            received.append(_text(chunk))
    assert "".join(received) and "broke off" in str(caught.value)
    assert server.websockets.counts.creates == 1


async def test_async_error_event_and_drop(server: FakeOpenAI) -> None:
    server.add(Fault.status(500), "Recovered.")
    assert _text(await _model(server, max_retries=1).ainvoke("hi")) == "Recovered."
    server.add(Fault.drop_mid_stream(after_events=6, reply=Reply(text="A long answer here.")))
    with pytest.raises(StreamInterruptedError):
        async for _ in _model(server, max_retries=1).astream("hi"):
            pass


async def test_a_collected_models_sockets_leave_the_running_loop_intact(
    server: FakeOpenAI,
) -> None:
    # A model made per request and collected while its loop runs: its idle socket used to
    # have its file descriptor closed under the loop, and the next socket (given the same
    # number) failed with "File descriptor N is used by transport".
    for i in range(4):
        server.add(f"Answer {i}.")
        assert _text(await _model(server).ainvoke("hi")) == f"Answer {i}."
        gc.collect()
        await asyncio.sleep(0)
    server.add(Reply(text="Streamed on.", chunk_size=4))
    chunks = [_text(c) async for c in _model(server).astream("hi")]
    assert "".join(chunks) == "Streamed on."
    assert server.websockets.counts.creates == 5


def test_total_timeout_bounds_a_stalled_socket(server: FakeOpenAI) -> None:
    server.add(Fault.stall(10.0))
    with pytest.raises(TimeoutError):
        _model(server, total_timeout=0.5, max_retries=0).invoke("hi")


# --- what stays on HTTP, and bad input -------------------------------------------------------


def test_chat_completions_is_refused_and_background_stays_on_http(server: FakeOpenAI) -> None:
    with pytest.raises(OptionError, match="chat_completions"):
        _model(server, api="chat_completions").invoke("hi")
    reply = _model(server, store=True).invoke("bg", background=True)
    assert reply.response_metadata["transport"] == "http"
    assert server.websockets.counts.creates == 0


@pytest.mark.parametrize("where", ["model", "call"])
def test_flex_is_refused_before_anything_is_sent(server: FakeOpenAI, where: str) -> None:
    # Flex's 900 s timeout and its fallback to the default tier belong to the HTTP send
    # loop; a socket would drop both, so the call is refused rather than quietly weakened.
    fields = {"service_tier": "flex"} if where == "model" else {}
    call = {} if where == "model" else {"service_tier": "flex"}
    model = _model(server, flex_fallback=True, **fields)
    with pytest.raises(OptionError, match="service_tier='flex'") as caught:
        model.invoke("hi", **call)
    assert "websocket=False" in str(caught.value)
    with pytest.raises(OptionError, match="service_tier='flex'"):
        list(model.stream("hi", **call))
    assert server.requests == []
    server.add("Flex over HTTP.")
    reply = model.invoke("hi", websocket=False, **call)
    assert reply.response_metadata["transport"] == "http"
    assert server.requests[-1].body["service_tier"] == "flex"


async def test_flex_is_refused_async(server: FakeOpenAI) -> None:
    model = _model(server, service_tier="flex")
    with pytest.raises(OptionError, match="service_tier='flex'"):
        await model.ainvoke("hi")
    with pytest.raises(OptionError, match="service_tier='flex'"):
        async for _ in model.astream("hi"):
            pass
    assert server.requests == []


def test_per_call_flag(server: FakeOpenAI) -> None:
    model = ParamChat(model="gpt-4o", base_url=server.base_url, api_key="sk-test")
    reply = model.invoke("hi", websocket=True)
    assert reply.response_metadata["transport"] == "websocket"
    assert model.invoke("hi").response_metadata["transport"] == "http"
    with pytest.raises(OptionError, match="websocket"):
        model.invoke("hi", websocket="yes")


def test_missing_websockets_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['websockets'] = None\n"
        "from langchain_paramchat import ParamChat\n"
        "m = ParamChat(model='gpt-4o', api_key='sk', base_url='http://127.0.0.1:9/v1',"
        " websocket=True)\n"
        "try:\n    m.invoke('hi')\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "OptionError" in out and "pip install 'langchain-paramchat[websocket]'" in out


def test_thread_pool_sync_and_async_share_nothing(server: FakeOpenAI) -> None:
    model = _model(server)

    def job(i: int) -> str:
        if i % 2:
            return _text(asyncio.run(model.ainvoke(f"a{i}")))
        return _text(model.invoke(f"s{i}"))

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(job, range(8)))
    assert results == [f"Echo: {'a' if i % 2 else 's'}{i}" for i in range(8)]
    assert server.errors == []


@pytest.mark.parametrize("key_kind", ["fixed", "function"])
def test_debug_logs_of_the_handshake_never_show_the_key(
    server: FakeOpenAI, key_kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    # websockets logs every handshake header at DEBUG: "> Authorization: Bearer sk-...".
    key = "sk-socket-SECRET-0123456789abcdef"
    chat = _model(server, api_key=key if key_kind == "fixed" else (lambda: key))
    server.add("Sync.", "Async.")

    async def astream() -> str:
        return "".join([_text(c) async for c in chat.astream("async")])

    with caplog.at_level(logging.DEBUG):
        assert _text(chat.invoke("sync")) == "Sync."
        assert asyncio.run(astream()) == "Async."
    assert "SECRET" not in caplog.text
    handshakes = [r for r in caplog.records if r.name == "websockets.client"]
    assert any("Authorization: **********" in r.getMessage() for r in handshakes)


@pytest.mark.parametrize("mode", ["ainvoke", "astream"])
def test_total_timeout_bounds_a_token_service_that_never_answers_a_handshake(
    server: FakeOpenAI, mode: str
) -> None:
    # The socket's key used to be awaited without a bound, whatever total_timeout said.
    async def hung_token_service() -> str:
        await asyncio.sleep(30)
        return "sk-late-SECRET"

    chat = _model(server, api_key=hung_token_service, total_timeout=0.5, max_retries=0)

    async def call() -> str:
        if mode == "ainvoke":
            return _text(await chat.ainvoke("hi"))
        return "".join([_text(c) async for c in chat.astream("hi")])

    with pytest.raises(DeadlineExceededError, match="total_timeout"):
        asyncio.run(asyncio.wait_for(call(), 20))  # the test's own bound
    assert server.websockets.counts.opened == 0
