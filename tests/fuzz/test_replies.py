"""Both APIs' reply parsers, through their adapters and invoke's finishing step.

Any JSON a server can send, and every mutation of a well-formed reply, either parses into a
``ChatResult`` or raises a ``ParamChatError``: never a raw ``KeyError``/``TypeError``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_paramchat.apis.adapter import APIS, adapter_for
from langchain_paramchat.call.finish import Finish
from langchain_paramchat.errors import ResponseFormatError
from langchain_paramchat.routing.decide import Route
from tests.fuzz.fixtures import BODIES, RESPONSES_REQUEST
from tests.fuzz.profiles import fuzz_settings
from tests.fuzz.strategies import JSON, deep, json_values, mutated, outcome

WEB_SEARCH_REQUEST = {"model": "gpt-4o-mini", "web_search_options": {}}


def parse(api: str, body: Any, request: Any = None) -> Any:
    """Parse ``body`` as invoke does: the adapter's parser, then the finishing step."""
    adapter = adapter_for(api)  # type: ignore[arg-type]
    result = adapter.parse_reply(body, request)
    Finish(Route(adapter.api, ("fuzz",)), None).result(result, body)
    for generation in result.generations:
        # Its text must be readable too (content_blocks is langchain-core's translation).
        _ = generation.message.text
    adapter.poll_path(body) if isinstance(body, dict) else None
    return result


@pytest.mark.parametrize("api", APIS)
@fuzz_settings()
@given(body=json_values(max_leaves=20))
def test_any_json_reply_parses_or_raises_a_package_error(api: str, body: Any) -> None:
    outcome(lambda: parse(api, body), key=None)


@pytest.mark.parametrize("api", APIS)
@fuzz_settings(scale=3)
@given(data=st.data(), web_search=st.booleans())
def test_mutated_replies_parse_or_raise_a_package_error(
    api: str, data: st.DataObject, web_search: bool
) -> None:
    body = data.draw(mutated(BODIES[api]))
    request = WEB_SEARCH_REQUEST if web_search else RESPONSES_REQUEST
    outcome(lambda: parse(api, body, request), key=None)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("kind", ["list", "dict"])
def test_a_deeply_nested_reply_field_is_a_package_error_or_parses(api: str, kind: str) -> None:
    # json.loads reads about 1,000 levels; a parser must not recurse past Python's limit.
    for path in (("usage",), ("output" if api == "responses" else "choices", 0)):
        body = mutated_at(BODIES[api], path, deep(900, kind=kind))
        outcome(lambda b=body: parse(api, b), key=None)


def mutated_at(base: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    import copy

    body = copy.deepcopy(base)
    node: Any = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


@fuzz_settings()
@given(status=st.one_of(st.sampled_from(["queued", "in_progress"]), JSON), rid=JSON)
def test_a_background_reply_without_a_usable_id_is_a_package_error(status: Any, rid: Any) -> None:
    body = {"object": "response", "status": status, "output": []}
    if rid is not None:
        body["id"] = rid
    outcome(lambda: adapter_for("responses").poll_path(body), key=None)


@pytest.mark.parametrize("rid", [None, 5, "", ["resp_1"]])
def test_a_queued_background_reply_without_an_id_string_is_a_format_error(rid: Any) -> None:
    body = {"object": "response", "status": "queued", "output": [], "id": rid}
    with pytest.raises(ResponseFormatError, match="cannot be polled"):
        adapter_for("responses").poll_path(body)


@pytest.mark.parametrize("status", [{}, [], 5, None])
def test_a_status_that_is_not_a_string_is_not_polled(status: Any) -> None:
    body = {"object": "response", "status": status, "output": [], "id": "resp_1"}
    assert adapter_for("responses").poll_path(body) is None
