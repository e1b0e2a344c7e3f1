"""Test offline against a local, scripted, OpenAI-compatible server for both APIs.

    from langchain_paramchat.testing import FakeOpenAI, Reply, ToolCall

    with FakeOpenAI() as server:
        server.add(Reply(tool_calls=[ToolCall("get_weather", {"city": "Paris"})]), "Sunny")
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        ...
        assert server.errors == []

Only tests and the ``paramchat demo`` command (``cli``) import this package.
It owns the fake server: ``server`` (its life and connections), ``routes`` (the routing
table), ``state`` (script, record, stored responses), ``batches``, ``websocket``, the
renderers and the body checks.

May import: ``options`` (the SDK type checker for body checks) and ``pacer`` (its header
names, for the rate-limit mode).
"""

from langchain_paramchat.testing.script import Audio, Fault, RecordedRequest, Reply, ToolCall, Usage
from langchain_paramchat.testing.server import FakeOpenAI

__all__ = ["Audio", "FakeOpenAI", "Fault", "RecordedRequest", "Reply", "ToolCall", "Usage"]
