"""Bounded load: 1,000 concurrent ainvoke/astream calls succeed, connections stay bounded, and
memory stays flat across rounds.

Every test has a fixed number of calls and its own time limit, so it stops by itself. Half the
calls are ``ainvoke`` and half ``astream``, spread over both APIs, each with its own prompt, so
a reply delivered to the wrong caller would show.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2
import pytest
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI

T = TypeVar("T")

CALLS = 1000
CAP = 50
# Each limit stays under pytest-timeout's 120 s (pyproject), so a slow run fails with a reason.
APIS = ["chat_completions", "responses"]


def pool_limit(model: ParamChat) -> int:
    """Return the max_connections of the httpx2 pool the model's async SDK client uses."""
    pool = model.transport.async_client._client._transport._pool
    limit = pool._max_connections
    assert isinstance(limit, int), f"the connection pool is unbounded ({limit!r})"
    return limit


class Models:
    """Hold one ParamChat per API on one server; call ``i`` picks its API and kind from ``i``."""

    def __init__(self, make_model: Any) -> None:
        self.by_api = [make_model(api=api) for api in APIS]
        # One runnable for the whole test: RunnableLambda builds schema classes when created.
        self.runner = RunnableLambda(self.call)

    async def call(self, i: int) -> str:
        """Make call ``i``: ainvoke when odd, astream when even; APIs alternate in pairs."""
        model = self.by_api[(i // 2) % len(APIS)]
        prompt = f"question {i}"
        if i % 2:
            return (await model.ainvoke(prompt)).text
        return "".join([chunk.text async for chunk in model.astream(prompt)])

    async def close(self) -> None:
        """Close the SDK clients the models made for this event loop, and their pools."""
        for model in self.by_api:
            await model.transport.aclose()

    def max_connections(self) -> int:
        """Return the smallest pool limit of the models' async SDK clients."""
        return min(pool_limit(model) for model in self.by_api)


async def within(seconds: float, work: Awaitable[T]) -> T:
    try:
        async with asyncio.timeout(seconds):
            return await work
    except TimeoutError:
        pytest.fail(f"the load did not finish within {seconds} s")


def check_answers(server: FakeOpenAI, answers: list[str], count: int) -> None:
    assert answers == [f"Echo: question {i}" for i in range(count)]
    posts = [r for r in server.requests if r.method == "POST"]
    assert len(posts) == count  # no retries, no extra requests
    assert {r.api for r in posts} == set(APIS)
    assert server.errors == []


async def test_1000_calls_through_abatch_capped_at_50(
    fake_openai: FakeOpenAI, make_model: Any
) -> None:
    models = Models(make_model)
    calls = models.runner.abatch(list(range(CALLS)), config={"max_concurrency": CAP})
    answers = await within(80, calls)
    check_answers(fake_openai, answers, CALLS)
    # 50 calls in flight; a few more sockets may still be closing (see the reuse test below).
    assert fake_openai.max_open_connections <= 2 * CAP


async def test_1000_calls_through_gather_without_a_cap(
    fake_openai: FakeOpenAI, make_model: Any
) -> None:
    models = Models(make_model)
    limit = models.max_connections()
    assert CAP < limit <= 1000, f"pool limit {limit} is not a sane bound"
    answers = await within(100, asyncio.gather(*(models.call(i) for i in range(CALLS))))
    check_answers(fake_openai, answers, CALLS)
    # Uncapped, the calls really ran at once; each model's pool held its limit.
    assert CAP < fake_openai.max_open_connections <= len(APIS) * limit


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# What a leak per call would keep alive: the messages, results and HTTP exchanges of finished
# calls, or their tasks.
PER_CALL_KINDS = (BaseMessage, ChatGeneration, ChatResult, httpx2.Request, httpx2.Response)


@dataclass
class Snapshot:
    rss: int
    objects: int
    per_call: int
    tasks: int

    @classmethod
    def take(cls) -> Snapshot:
        gc.collect()
        # type(), not isinstance(): isinstance reads __class__, and the openai SDK's lazy
        # proxies import numpy when asked, which would itself look like growth.
        kinds = [type(o) for o in gc.get_objects()]
        return cls(
            rss=resident_bytes(),
            objects=len(kinds),
            per_call=sum(issubclass(k, PER_CALL_KINDS) for k in kinds),
            tasks=sum(issubclass(k, asyncio.Task) for k in kinds),
        )


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads RSS from /proc")
async def test_memory_stays_flat_across_rounds(fake_openai: FakeOpenAI, make_model: Any) -> None:
    models = Models(make_model)
    per_round = 150

    async def one_round() -> Snapshot:
        inputs = list(range(per_round))
        answers = await models.runner.abatch(inputs, config={"max_concurrency": CAP})
        check_answers(fake_openai, answers, per_round)
        fake_openai.reset()
        # Idle pooled connections (about 60 objects each, on both ends) would blur the count:
        # close them and let the server see it. The next round builds new SDK clients.
        await models.close()
        while fake_openai.open_connections:
            await asyncio.sleep(0.01)
        return Snapshot.take()

    async def rounds() -> list[Snapshot]:
        await one_round()  # warm-up: caches, pools, lazily imported modules
        return [await one_round() for _ in range(3)]

    first, _, third = await within(80, rounds())
    # Nothing of a finished call stays alive, however many calls were made. (Earlier tests in
    # the same process may leave a few behind, e.g. in the tracebacks pytest keeps.)
    assert third.per_call <= first.per_call
    # Done tasks of the last batch may linger; they must not pile up round after round.
    assert third.tasks - first.tasks < CAP
    # Rounds 2 and 3 made 300 calls: keeping one object per call would show (the count
    # otherwise moves by under a hundred).
    assert third.objects - first.objects < 300, f"{third.objects - first.objects} more objects"
    assert third.rss - first.rss < 8_000_000, f"resident memory grew by {third.rss - first.rss} B"


@pytest.mark.parametrize(
    "api",
    [
        "chat_completions",
        "responses",
    ],
)
async def test_finished_streams_return_their_connection_to_the_pool(
    fake_openai: FakeOpenAI, make_model: Any, api: str
) -> None:
    model = make_model(api=api)
    pool = model.transport.async_client._client._transport._pool
    await model.ainvoke("warm up")
    (connection,) = pool.connections
    for i in range(3):
        text = "".join([c.text async for c in model.astream(f"stream {i}")])
        assert text == f"Echo: stream {i}"
        assert pool.connections == [connection], "the stream did not give its connection back"


async def test_a_burst_opens_connections_a_few_at_a_time(
    fake_openai: FakeOpenAI, make_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cause of the old flakiness: 1,000 connects started in one loop iteration, each
    # timed from its start but seen connected only after all the others had started, so a
    # busy machine ran the 10 s connect timeout out. Now at most 64 connect at once.
    from httpcore2._backends.anyio import AnyIOBackend

    connecting = 0
    most = 0
    connect = AnyIOBackend.connect_tcp

    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal connecting, most
        connecting += 1
        most = max(most, connecting)
        try:
            return await connect(self, *args, **kwargs)
        finally:
            connecting -= 1

    monkeypatch.setattr(AnyIOBackend, "connect_tcp", counted)
    models = Models(make_model)
    answers = await within(100, asyncio.gather(*(models.call(i) for i in range(CALLS))))
    check_answers(fake_openai, answers, CALLS)
    assert 0 < most <= 64
    await models.close()
