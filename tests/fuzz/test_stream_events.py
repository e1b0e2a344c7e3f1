"""Both APIs' stream parsers, through their adapters and the stream finishing step.

Event sequences a server can send -- a well-formed stream with events mutated, dropped,
repeated or reordered, or events of known names with any JSON -- either yield chunks that
merge (as ``invoke(streaming=True)`` and every caller merging chunks does) or raise a
``ParamChatError``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_paramchat.apis.adapter import APIS, adapter_for
from langchain_paramchat.call.finish import Finish, result_of_stream
from langchain_paramchat.errors import ResponseFormatError
from langchain_paramchat.routing.decide import Route
from tests.fuzz.fixtures import EVENT_NAMES, EVENTS, RESPONSES_REQUEST
from tests.fuzz.profiles import fuzz_settings
from tests.fuzz.strategies import JSON, json_values, mutated, outcome

Events = list[tuple[str | None, Any]]


def run_stream(api: str, events: Events, request: Any = None, done: bool | None = None) -> Any:
    """Feed ``events`` as the transport does after SSE decoding; return invoke's result."""
    adapter = adapter_for(api)  # type: ignore[arg-type]
    stream = Finish(Route(adapter.api, ("fuzz",)), None).stream(adapter.stream_parser(request))
    seen_done = False
    for name, data in events:
        if data == "[DONE]":
            seen_done = True
            break
        stream.feed(name, data)
    stream.close(seen_done if done is None else done)
    if not stream.received:
        return None
    result = result_of_stream(stream.received)
    message = result.generations[0].message
    _ = message.text, message.tool_calls
    return result


@st.composite
def reshuffled(draw: st.DrawFn, events: Events) -> Events:
    """Return ``events`` with some mutated, dropped, repeated or moved."""
    out = list(events)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        i = draw(st.integers(0, len(out) - 1))
        action = draw(st.sampled_from(["mutate", "mutate", "drop", "repeat", "move", "rename"]))
        name, data = out[i]
        if action == "mutate":
            out[i] = (name, draw(mutated(data)) if isinstance(data, dict) else draw(JSON))
        elif action == "drop":
            del out[i]
        elif action == "repeat":
            out.insert(i, out[i])
        elif action == "move":
            out.insert(draw(st.integers(0, len(out))), out.pop(i))
        else:
            out[i] = (draw(st.sampled_from([None, *EVENT_NAMES])), data)
    return out


@pytest.mark.parametrize("api", APIS)
@fuzz_settings(scale=3)
@given(data=st.data(), done=st.sampled_from([None, True, False]))
def test_reshuffled_streams_merge_or_raise_a_package_error(
    api: str, data: st.DataObject, done: bool | None
) -> None:
    events = data.draw(reshuffled(EVENTS[api]))
    outcome(lambda: run_stream(api, events, RESPONSES_REQUEST, done), key=None)


EVENT = st.tuples(
    st.one_of(st.none(), st.sampled_from(EVENT_NAMES)),
    st.one_of(
        json_values(max_leaves=8),
        st.builds(
            lambda kind, extra: {"type": kind, **extra},
            st.sampled_from(EVENT_NAMES),
            st.dictionaries(
                st.sampled_from(
                    [
                        *("delta", "item", "output_index", "item_id", "content_index", "part"),
                        *("response", "summary_index", "choices", "usage", "error", "type"),
                    ]
                ),
                json_values(max_leaves=6),
                max_size=4,
            ),
        ),
    ),
)


@pytest.mark.parametrize("api", APIS)
@fuzz_settings(scale=2)
@given(events=st.lists(EVENT, max_size=8), done=st.booleans())
def test_random_events_merge_or_raise_a_package_error(api: str, events: Events, done: bool) -> None:
    outcome(lambda: run_stream(api, events, None, done), key=None)


# Examples the properties found, kept as fixed cases: each is a malformed event that used to
# be dropped silently or to break merging later with a raw TypeError.
DELTA_EVENTS = [
    "response.output_text.delta",
    "response.refusal.delta",
    "response.reasoning_summary_text.delta",
    "response.function_call_arguments.delta",
    "response.custom_tool_call_input.delta",
]


@pytest.mark.parametrize("event", DELTA_EVENTS)
@pytest.mark.parametrize("delta", [5, 0, False, [], {"a": 1}])
def test_a_delta_that_is_not_text_is_a_format_error(event: str, delta: Any) -> None:
    with pytest.raises(ResponseFormatError, match="delta that is not text"):
        run_stream("responses", [(event, {"type": event, "output_index": 0, "delta": delta})])


@pytest.mark.parametrize(
    "choice",
    [
        {"index": 0, "delta": {}, "finish_reason": {"a": 1}},
        {"index": 0, "delta": {}, "logprobs": "x"},
        {"index": 0, "delta": {}, "logprobs": {"content": "x"}},
        {"index": 0, "delta": {"refusal": 5}},
        {"index": 0, "delta": {"audio": {"transcript": 5}}},
        {"index": 0, "delta": {"tool_calls": [{"index": "0", "function": {"name": "f"}}]}},
        {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": 5}}]}},
        {"index": 0, "delta": {"tool_calls": [{"index": 0, "id": [], "function": {}}]}},
    ],
)
def test_a_chat_chunk_field_that_cannot_merge_is_a_format_error(choice: Any) -> None:
    event = {"id": "c", "object": "chat.completion.chunk", "choices": [choice]}
    with pytest.raises(ResponseFormatError):
        run_stream("chat_completions", [(None, event), (None, "[DONE]")])


@pytest.mark.parametrize(
    "events",
    [
        # An item id that is not a string.
        [("response.output_item.added", {"output_index": 0, "item": {"type": "x", "id": []}})],
        # A block field that changes type between the delta and the finished item.
        [
            ("response.custom_tool_call_input.delta", {"output_index": 0, "delta": "ls"}),
            (
                "response.output_item.done",
                {"output_index": 0, "item": {"type": "custom_tool_call", "input": ["ls"]}},
            ),
        ],
        # A 'type' that is not a string (it was looked up in a set and raised TypeError).
        [("response.completed", {"type": ["response.completed"], "response": {"output": []}})],
    ],
)
def test_a_responses_event_that_cannot_merge_is_a_format_error(events: Events) -> None:
    with pytest.raises(ResponseFormatError):
        run_stream("responses", [(name, {"type": name, **data}) for name, data in events])


def test_an_empty_non_string_type_falls_back_to_the_event_name() -> None:
    # ``type: []`` is falsy, so the SSE event name decides, as for a missing type.
    event = ("response.completed", {"type": [], "response": {"output": []}})
    assert run_stream("responses", [event]) is not None
