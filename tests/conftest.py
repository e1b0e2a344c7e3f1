"""Shared fixtures: the scripted OpenAI server and a ParamChat pointed at it."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI

# tests.fuzz.profiles registers the hypothesis profiles before --hypothesis-profile is read.
pytest_plugins = ["langchain_paramchat.testing.pytest_plugin", "tests.fuzz.profiles"]


@pytest.fixture
def make_model(fake_openai: FakeOpenAI) -> Callable[..., ParamChat]:
    """Return a factory for ParamChat models talking to this test's fake server."""

    def factory(**kwargs: Any) -> ParamChat:
        kwargs.setdefault("model", "gpt-4o-mini")
        kwargs.setdefault("api_key", "sk-test-key-123")
        kwargs.setdefault("max_retries", 0)
        return ParamChat(base_url=fake_openai.base_url, **kwargs)

    return factory


@pytest.fixture
def refused_port() -> Iterator[int]:
    """Yield a loopback port that refuses connections for the whole test.

    The socket is bound but never listens, so no other process (parallel test runs start
    servers on free ports) can take the port between choosing it and connecting.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
