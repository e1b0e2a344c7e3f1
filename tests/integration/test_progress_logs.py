"""Long waits are visible: background-response polling logs its status at INFO each poll."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply

Factory = Callable[..., ParamChat]
EXPECTED_STATUSES = ["queued", "in_progress", "completed"]


def _poll_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "langchain_paramchat"
        and r.levelno == logging.INFO
        and r.getMessage().startswith("background response ")
    ]


def _check(lines: list[str], response_id: str) -> None:
    # The scripted server answers queued, then in_progress for one poll, then completed.
    assert [line.split(" is ")[1].split(" ")[0] for line in lines] == EXPECTED_STATUSES
    assert all(line.startswith(f"background response {response_id} is ") for line in lines)
    assert "(0 polls); polling again in 0.01 s" in lines[0]
    assert lines[-1].endswith("(2 polls)")


def test_each_background_poll_logs_the_status(
    fake_openai: FakeOpenAI, make_model: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    fake_openai.add(Reply(text="finished later"))
    with caplog.at_level(logging.INFO, logger="langchain_paramchat"):
        reply = make_model(background_poll_interval=0.01).invoke("long job", background=True)
    assert reply.text == "finished later"
    _check(_poll_lines(caplog), reply.response_metadata["id"])


async def test_each_async_background_poll_logs_the_status(
    fake_openai: FakeOpenAI, make_model: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    fake_openai.add(Reply(text="async later"))
    with caplog.at_level(logging.INFO, logger="langchain_paramchat"):
        reply = await make_model(background_poll_interval=0.01).ainvoke("job", background=True)
    assert reply.text == "async later"
    _check(_poll_lines(caplog), reply.response_metadata["id"])


def test_a_foreground_call_logs_nothing_at_info(
    fake_openai: FakeOpenAI, make_model: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    fake_openai.add(Reply(text="now"))
    with caplog.at_level(logging.INFO, logger="langchain_paramchat"):
        make_model(api="responses").invoke("quick")
    assert _poll_lines(caplog) == []
