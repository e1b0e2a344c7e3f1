"""Shared fixtures: the scripted OpenAI server and a ParamChat pointed at it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI

pytest_plugins = ["langchain_paramchat.testing.pytest_plugin"]


@pytest.fixture
def make_model(fake_openai: FakeOpenAI) -> Callable[..., ParamChat]:
    """Return a factory for ParamChat models talking to this test's fake server."""

    def factory(**kwargs: Any) -> ParamChat:
        kwargs.setdefault("model", "gpt-4o-mini")
        kwargs.setdefault("api_key", "sk-test-key-123")
        kwargs.setdefault("max_retries", 0)
        return ParamChat(base_url=fake_openai.base_url, **kwargs)

    return factory
