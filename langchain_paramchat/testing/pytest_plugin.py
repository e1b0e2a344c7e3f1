"""Pytest fixture ``fake_openai``: a fresh FakeOpenAI server for each test.

Enable it with ``pytest_plugins = ["langchain_paramchat.testing.pytest_plugin"]`` in a
top-level ``conftest.py``. A server starts in about a millisecond, so each test gets its own
and no state leaks between tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from langchain_paramchat.testing.server import FakeOpenAI

__all__ = ["fake_openai"]


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """Yield a running FakeOpenAI server; stop it after the test."""
    with FakeOpenAI() as server:
        yield server
