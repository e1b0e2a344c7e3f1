"""Shared fixtures: the scripted OpenAI server and a ParamChat pointed at it."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI

# tests.fuzz.profiles registers the hypothesis profiles before --hypothesis-profile is read.
pytest_plugins = ["langchain_paramchat.testing.pytest_plugin", "tests.fuzz.profiles"]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Give this session a temp root of its own unless one was chosen (--basetemp).

    Every pytest session of one user shares /tmp/pytest-of-USER, and each new session
    deletes older numbered folders there: two sessions at once (two developers' runs, CI
    jobs, mutmut's forked test runs) can delete each other's tmp_path folders mid-run, and
    the notebook and process-pool tests then fail with FileNotFoundError. This runs before
    pytest's own temp-dir setup reads the option.
    """
    if config.option.basetemp or os.environ.get("PYTEST_DEBUG_TEMPROOT"):
        return
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: its controller chose one
        return
    config.option.basetemp = _session_temp_dir()


def _session_temp_dir() -> str:
    """Create a folder for this session, after removing those of sessions that have ended."""
    root = Path(tempfile.gettempdir(), f"paramchat-pytest-{os.getuid()}")
    root.mkdir(mode=0o700, exist_ok=True)
    for old in root.glob("session-*"):
        pid = old.name.split("-")[1]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    # pytest empties and recreates the folder itself; the pid in its name marks it as live.
    return tempfile.mkdtemp(prefix=f"session-{os.getpid()}-", dir=root)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
