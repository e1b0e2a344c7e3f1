"""Code that catches langchain-openai's ``OpenAIRefusalError`` catches ParamChat's refusals.

ChatOpenAI raises ``langchain_openai.chat_models.base.OpenAIRefusalError`` (a langchain-core
``ModelRefusalError``) for a refused or filtered structured answer, and code written for it
says ``except OpenAIRefusalError``. ParamChat does not depend on langchain-openai; while it is
imported, ParamChat's ``RefusalError`` and ``ContentFilterError`` are also its class. Through
the real SDK over loopback against FakeOpenAI, both APIs, sync and async, invoke and stream.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Callable

import pytest
from langchain_core.exceptions import ModelRefusalError
from langchain_core.messages import AIMessage
from pydantic import BaseModel

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import ContentFilterError, RefusalError
from langchain_paramchat.testing import FakeOpenAI, Reply
from tests.integration.reply_modes import MODES

chatopenai_base = pytest.importorskip("langchain_openai.chat_models.base")
OpenAIRefusalError = chatopenai_base.OpenAIRefusalError

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]
REFUSAL = "I can't help with that request."


class Answer(BaseModel):
    answer: str


async def _run(runnable: object, mode: str) -> list[object]:
    if mode == "invoke":
        return [runnable.invoke("hi")]  # type: ignore[attr-defined]
    if mode == "ainvoke":
        return [await runnable.ainvoke("hi")]  # type: ignore[attr-defined]
    if mode == "stream":
        return list(runnable.stream("hi"))  # type: ignore[attr-defined]
    return [piece async for piece in runnable.astream("hi")]  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_except_openai_refusal_error_catches_a_refusal(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(refusal=REFUSAL))
    structured = make_model(api=api).with_structured_output(Answer)
    with pytest.raises(OpenAIRefusalError) as info:
        await _run(structured, mode)
    err = info.value
    assert isinstance(err, RefusalError)
    assert isinstance(err, ModelRefusalError)
    assert type(err).__name__ == "RefusalError"  # tracebacks name ParamChat's class
    assert str(err) == REFUSAL
    assert isinstance(err.raw_message, AIMessage)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("api", APIS)
async def test_except_openai_refusal_error_catches_a_content_filter(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, mode: str
) -> None:
    fake_openai.add(Reply(text='{"ans', finish_reason="content_filter"))
    structured = make_model(api=api).with_structured_output(Answer)
    with pytest.raises(OpenAIRefusalError) as info:
        await _run(structured, mode)
    assert isinstance(info.value, ContentFilterError)
    assert str(info.value) == "Model output was stopped by a content filter"


@pytest.mark.parametrize("api", APIS)
def test_include_raw_reports_the_refusal_as_their_class_too(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    fake_openai.add(Reply(refusal=REFUSAL))
    out = make_model(api=api).with_structured_output(Answer, include_raw=True).invoke("hi")
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], OpenAIRefusalError)
    assert isinstance(out["parsing_error"], RefusalError)
    assert str(out["parsing_error"]) == REFUSAL


def test_a_pickled_refusal_is_still_both() -> None:
    err = RefusalError(REFUSAL)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err)
    assert isinstance(copy, OpenAIRefusalError) and isinstance(copy, RefusalError)
    assert copy.refusal == REFUSAL and str(copy) == REFUSAL


def test_without_langchain_openai_imported_a_refusal_is_only_ours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "langchain_openai.chat_models.base")
    err = RefusalError(REFUSAL)
    assert type(err) is RefusalError
    assert not isinstance(err, OpenAIRefusalError)
    assert type(ContentFilterError()) is ContentFilterError
