"""FakeOpenAI's Responses WebSocket endpoint, driven by the openai SDK's own ``connect()``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("websockets")

from langchain_paramchat.testing import FakeOpenAI, Fault, Reply, ToolCall

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def _turn(conn: Any, **body: Any) -> tuple[list[str], Any]:
    """Send one response.create; return the event types up to the end and the last event."""
    conn.send({"type": "response.create", "model": "gpt-4o", **body})
    kinds = []
    for event in conn:
        kinds.append(event.type)
        if event.type in ("response.completed", "response.failed", "response.incomplete", "error"):
            return kinds, event
    raise AssertionError("the connection closed without a terminal event")


def test_continues_the_cached_response_with_store_false(server: FakeOpenAI) -> None:
    server.add(Reply(tool_calls=[ToolCall("lookup", {"q": "x"}, id="call_1")]), "Done.")
    with server.client().responses.connect() as conn:
        kinds, first = _turn(conn, input="hi", store=False)
        assert kinds[0] == "response.created" and first.type == "response.completed"
        output = [{"type": "function_call_output", "call_id": "call_1", "output": "42"}]
        _, second = _turn(conn, input=output, previous_response_id=first.response.id, store=False)
    assert second.type == "response.completed"
    assert second.response.output[0].content[0].text == "Done."
    counts = server.websockets.counts
    assert (counts.opened, counts.creates) == (1, 2)
    assert counts.bytes_received > 0 and counts.bytes_sent > counts.bytes_received
    assert server.errors == []
    bodies = [r.body for r in server.requests if r.method == "WEBSOCKET"]
    assert bodies[1]["previous_response_id"] == first.response.id


def test_unknown_parent_and_a_new_socket_say_previous_response_not_found(
    server: FakeOpenAI,
) -> None:
    with server.client().responses.connect() as conn:
        _, first = _turn(conn, input="hi", store=False)
    with server.client().responses.connect() as conn:
        _, error = _turn(conn, input="more", previous_response_id=first.response.id, store=False)
    assert error.type == "error" and error.status == 400
    assert error.error.code == "previous_response_not_found"
    assert error.error.param == "previous_response_id"


def test_a_stored_response_continues_on_any_socket(server: FakeOpenAI) -> None:
    with server.client().responses.connect() as conn:
        _, first = _turn(conn, input="hi")
    with server.client().responses.connect() as conn:
        _, second = _turn(conn, input="more", previous_response_id=first.response.id)
    assert second.type == "response.completed"


def test_an_error_evicts_the_cached_response(server: FakeOpenAI) -> None:
    server.add("one", Fault.status(500))
    with server.client().responses.connect() as conn:
        _, first = _turn(conn, input="hi", store=False)
        _, failed = _turn(conn, input="x", previous_response_id=first.response.id, store=False)
        assert failed.type == "error" and failed.status == 500
        _, again = _turn(conn, input="x", previous_response_id=first.response.id, store=False)
    assert again.error.code == "previous_response_not_found"


def test_old_connection_gets_the_limit_event_and_is_closed(server: FakeOpenAI) -> None:
    server.websockets.max_age = 0.0
    with server.client().responses.connect() as conn:
        _, error = _turn(conn, input="hi")
    assert error.error.code == "websocket_connection_limit_reached"
    assert server.websockets.counts.open_now == 0


def test_error_event_carries_status_code_and_headers(server: FakeOpenAI) -> None:
    server.add(Fault.status(429, error_code="rate_limit_exceeded", headers={"retry-after": "1"}))
    with server.client().responses.connect() as conn:
        _, error = _turn(conn, input="hi")
        _, ok = _turn(conn, input="again")
    assert (error.status, error.error.code) == (429, "rate_limit_exceeded")
    assert error.error.headers == {"retry-after": "1"}
    assert ok.type == "response.completed"


def test_drops_idle_connections_and_forgets_caches(server: FakeOpenAI) -> None:
    client = server.client()
    with client.responses.connect() as conn:
        _, first = _turn(conn, input="hi", store=False)
        assert server.websockets.forget_caches() == 1
        _, error = _turn(conn, input="x", previous_response_id=first.response.id, store=False)
        assert error.error.code == "previous_response_not_found"
        assert server.websockets.drop_idle() == 1
    assert server.websockets.counts.open_now == 0


def test_stream_and_background_are_refused_on_the_socket(server: FakeOpenAI) -> None:
    with server.client().responses.connect() as conn:
        _, error = _turn(conn, input="hi", stream=True)
    assert error.error.param == "stream"
    assert server.errors and "stream" in server.errors[0]
