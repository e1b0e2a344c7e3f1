"""Shared SDK clients are keyed by what makes sharing safe: process, event loop, policy.

Issue 10 points 1-3: a forked child never uses its parent's sockets; ``asyncio.run`` per job
does not leave a client and a socket behind per run; two models whose retry policies differ
(only in ``sleep``, ``async_sleep`` or ``clock``) each keep their own.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Fault
from langchain_paramchat.transport.retry import RetryPolicy

API_KEY = "sk-sharing-test-key-0123456789"
APIS = ["chat_completions", "responses"]
CALLS = 40


def model(server: FakeOpenAI, api: str, **kwargs: Any) -> ParamChat:
    kwargs.setdefault("max_retries", 0)
    return ParamChat(base_url=server.base_url, api_key=API_KEY, api=api, **kwargs)


def talk(chat: ParamChat, label: str, count: int) -> list[str]:
    """Make ``count`` calls (invoke and stream alternating); return every wrong answer."""
    wrong = []
    for i in range(count):
        prompt = f"{label}-{i}"
        if i % 2:
            text = chat.invoke(prompt).text
        else:
            text = "".join(chunk.text for chunk in chat.stream(prompt))
        if text != f"Echo: {prompt}":
            wrong.append(f"{prompt} got {text!r}")
    return wrong


# --- 1. forked processes never share a connection -------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with the server thread running
@pytest.mark.parametrize("api", APIS)
def test_a_forked_child_never_uses_its_parents_connections(
    fake_openai: FakeOpenAI, api: str
) -> None:
    parent_model = model(fake_openai, api)
    assert parent_model.invoke("warm-up").text == "Echo: warm-up"  # a pooled socket now exists
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: an inherited model and a new one, both in use
        code = 1
        try:
            os.close(read_end)
            wrong = talk(model(fake_openai, api), "child-new", CALLS)
            wrong += talk(parent_model, "child-inherited", CALLS)
            os.write(write_end, json.dumps(wrong).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        wrong = talk(parent_model, "parent", CALLS)
    finally:
        with os.fdopen(read_end, "rb") as pipe:
            child_report = pipe.read()
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child failed"
    assert wrong == []
    assert json.loads(child_report) == []
    posts = [r for r in fake_openai.requests if r.method == "POST"]
    assert len(posts) == 1 + 3 * CALLS  # nothing garbled, nothing sent twice


# --- 2. no leak per event loop ---------------------------------------------------------------


def open_sockets() -> int | None:
    """Return how many sockets this process has open (Linux), or None when unknown."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return None
    count = 0
    for name in names:
        try:
            count += os.readlink(f"/proc/self/fd/{name}").startswith("socket:")
        except OSError:
            continue
    return count


def settle(server: FakeOpenAI, at_most: int) -> None:
    """Wait (a bounded while) for the server to notice the connections the client closed."""
    for _ in range(200):
        if server.open_connections <= at_most:
            return
        time.sleep(0.01)


RUNS = 150


def test_asyncio_run_per_call_leaves_no_client_or_socket_behind(fake_openai: FakeOpenAI) -> None:
    models = [model(fake_openai, api) for api in APIS]
    gc.collect()
    before = open_sockets()

    async def one(i: int) -> str:
        chat = models[i % 2]
        if i % 4 < 2:
            return (await chat.ainvoke(f"run-{i}")).text
        return "".join([chunk.text async for chunk in chat.astream(f"run-{i}")])

    for i in range(RUNS):
        assert asyncio.run(one(i)) == f"Echo: run-{i}"
    gc.collect()
    settle(fake_openai, at_most=2)
    # One live async client per model at most (the last loop's), whatever the run count.
    assert all(m.transport.clients.async_client_count() <= 1 for m in models)
    assert fake_openai.open_connections <= 2
    after = open_sockets()
    if before is not None and after is not None:
        assert after - before <= 4  # client and server side of the last loop's connections


def test_an_async_client_is_dropped_when_its_loop_is_collected(fake_openai: FakeOpenAI) -> None:
    chat = model(fake_openai, "chat_completions")
    for i in range(20):
        loop = asyncio.new_event_loop()
        try:
            assert loop.run_until_complete(chat.ainvoke(f"loop-{i}")).text == f"Echo: loop-{i}"
        finally:
            loop.close()
        del loop
    gc.collect()
    assert chat.transport.clients.async_client_count() <= 1


def test_loops_in_threads_each_keep_their_own_client(fake_openai: FakeOpenAI) -> None:
    chat = model(fake_openai, "responses")
    wrong: list[str] = []

    def worker(n: int) -> None:
        async def calls() -> None:
            for i in range(10):
                text = (await chat.ainvoke(f"t{n}-{i}")).text
                if text != f"Echo: t{n}-{i}":
                    wrong.append(text)

        asyncio.run(calls())

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


# --- 3. each model keeps its own retry policy -------------------------------------------------


class Recorder:
    """Sleep and clock callables that record their use instead of waiting."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.clock_reads = 0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def clock(self) -> float:
        self.clock_reads += 1
        return time.monotonic()

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_retries=1, sleep=self.sleep, async_sleep=self.async_sleep, clock=self.clock
        )


Call = Callable[[ParamChat], Any]
CALLERS: dict[str, Call] = {
    "invoke": lambda m: m.invoke("hi"),
    "ainvoke": lambda m: asyncio.run(m.ainvoke("hi")),
    "stream": lambda m: list(m.stream("hi")),
    "astream": lambda m: asyncio.run(_collect(m.astream("hi"))),
}


async def _collect(chunks: Any) -> list[Any]:
    return [chunk async for chunk in chunks]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", list(CALLERS))
def test_models_differing_only_in_sleep_or_clock_keep_their_own_policy(
    fake_openai: FakeOpenAI, api: str, mode: str
) -> None:
    first, second = Recorder(), Recorder()
    model_1 = model(fake_openai, api, retry_policy=first.policy())
    model_2 = model(fake_openai, api, retry_policy=second.policy())
    fake_openai.add(Fault.status(429, headers={"retry-after": "1"}))
    CALLERS[mode](model_1)
    assert first.sleeps == [1.0]
    assert second.sleeps == []
    assert second.clock_reads == 0
    fake_openai.add(Fault.status(429, headers={"retry-after": "2"}))
    CALLERS[mode](model_2)
    assert first.sleeps == [1.0]
    assert second.sleeps == [2.0]
    # Still one pool: equal connection settings share the SDK clients.
    assert model_1.transport.clients is model_2.transport.clients


def test_models_with_different_timeouts_never_share_clients(fake_openai: FakeOpenAI) -> None:
    fast = model(fake_openai, "chat_completions", timeout=5)
    slow = model(fake_openai, "chat_completions", timeout=50)
    assert fast.transport.clients is not slow.transport.clients
    assert fast.transport.client.timeout != slow.transport.client.timeout


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="fork and /proc are POSIX-only")


# --- client sets dropped from the shared cache close their sockets ----------------------------


def test_client_sets_dropped_from_the_cache_close_their_sockets(fake_openai: FakeOpenAI) -> None:
    # A multi-tenant server: more keys than the cache keeps (16 sets), one model per request.
    # Each dropped set's keep-alive socket is closed, not left to the garbage collector.
    for i in range(16):  # first push out sets earlier tests left (their loops are closed)
        _ = ParamChat(base_url=fake_openai.base_url, api_key=f"sk-idle-{i:04d}-key").transport
    gc.collect()
    before = open_sockets()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for i in range(40):
            chat = ParamChat(
                base_url=fake_openai.base_url, api_key=f"sk-tenant-{i:04d}-key", max_retries=0
            )
            assert chat.invoke(f"tenant-{i}").text == f"Echo: tenant-{i}"
            del chat
            gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == [], unclosed[:3]
    settle(fake_openai, at_most=16)
    assert fake_openai.open_connections <= 16  # the sets still cached keep theirs
    after = open_sockets()
    if before is not None and after is not None:
        assert after - before <= 2 * 16


def test_an_sdk_client_read_from_a_model_outlives_the_model_and_the_cache(
    fake_openai: FakeOpenAI,
) -> None:
    chat = ParamChat(base_url=fake_openai.base_url, api_key="sk-kept-root-client", max_retries=0)
    root = chat.root_client
    assert chat.invoke("first").text == "Echo: first"
    del chat
    for i in range(20):  # push the set out of the shared cache
        other = ParamChat(base_url=fake_openai.base_url, api_key=f"sk-pusher-{i:03d}")
        _ = other.transport.clients.sync  # builds the set's sync client
        del other
    gc.collect()
    reply = root.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "still here"}]
    )
    assert reply.choices[0].message.content == "Echo: still here"
