"""A few properties end to end: the real ``openai`` SDK over loopback against ``FakeOpenAI``.

The server answers with scripted raw bodies and event streams (mutated well-formed ones,
junk, and errors that echo the API key). ``invoke`` and ``stream`` on both APIs return or
raise a ``ParamChatError`` that shows no key, and no log record shows it either. One server
serves the whole module; each example queues its own answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Fault
from langchain_paramchat.transport.retry import RetryPolicy
from tests.fuzz.fixtures import BODIES, EVENTS
from tests.fuzz.profiles import fuzz_settings
from tests.fuzz.strategies import (
    KEY,
    SERVER_JSON,
    SERVER_TEXT,
    mutated,
    no_key_in_logs,
    outcome,
)
from tests.fuzz.test_stream_events import reshuffled

APIS = ("chat_completions", "responses")


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def model(server: FakeOpenAI, **kwargs: Any) -> ParamChat:
    return ParamChat(
        model="gpt-4o-mini",
        api_key=KEY,
        base_url=server.base_url,
        timeout=10,
        retry_policy=RetryPolicy(max_retries=1, max_retry_after=0.05, initial_backoff=0.01),
        **kwargs,
    )


def sse(events: list[tuple[str | None, Any]]) -> str:
    out = []
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        text = data if isinstance(data, str) else json.dumps(data)
        out.append(f"{head}data: {text}\n\n")
    return "".join(out)


def run(server: FakeOpenAI, api: str, fault: Fault, stream: bool) -> None:
    server.reset()
    server.add(fault)
    chat = model(server, api=api)

    def call() -> Any:
        if stream:
            return list(chat.stream("hi"))
        return chat.invoke("hi")

    with no_key_in_logs():
        outcome(call)


@pytest.mark.parametrize("api", APIS)
@fuzz_settings(scale=0.5)
@given(data=st.data())
def test_any_json_reply_through_the_sdk_is_a_message_or_a_package_error(
    server: FakeOpenAI, api: str, data: st.DataObject
) -> None:
    body = data.draw(st.one_of(mutated(BODIES[api], SERVER_JSON), SERVER_JSON, SERVER_TEXT))
    text = body if isinstance(body, str) else json.dumps(body)
    run(server, api, Fault.malformed(text), stream=False)


@pytest.mark.parametrize("api", APIS)
@fuzz_settings(scale=0.5)
@given(data=st.data())
def test_any_event_stream_through_the_sdk_is_chunks_or_a_package_error(
    server: FakeOpenAI, api: str, data: st.DataObject
) -> None:
    body = data.draw(st.one_of(reshuffled(EVENTS[api]).map(sse), SERVER_TEXT))
    run(server, api, Fault.malformed(body, content_type="text/event-stream"), stream=True)


RETRY_AFTER = st.one_of(
    st.sampled_from(["0", "0.01", "1e300", "inf", "nan", "-5", "abc", ""]),
    st.sampled_from(["Wed, 21 Oct 2015 07:28:00 GMT", "Mon, 01 Jan 9999 00:00:00 GMT"]),
)


@pytest.mark.parametrize("api", APIS)
@fuzz_settings(scale=0.5)
@given(
    status=st.sampled_from([400, 401, 403, 404, 409, 422, 429, 500, 503]),
    message=SERVER_TEXT,
    headers=st.dictionaries(st.sampled_from(["retry-after", "retry-after-ms"]), RETRY_AFTER),
    stream=st.booleans(),
)
@example(status=401, message=f"Incorrect API key provided: {KEY}", headers={}, stream=False)
def test_an_error_that_echoes_the_key_never_shows_it(
    server: FakeOpenAI,
    api: str,
    status: int,
    message: str,
    headers: dict[str, str],
    stream: bool,
) -> None:
    fault = Fault.status(status, message=message or "x", headers=headers, times=2)
    run(server, api, fault, stream=stream)
