"""A worker process's API error reaches the parent as the same class, fields and all.

Process pools pickle a task's exception to send it back. Before errors pickled, a worker's
401 or 429 broke a ``ProcessPoolExecutor`` (``BrokenProcessPool``) and hung
``multiprocessing.Pool``.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.errors import AuthenticationError, RateLimitError
from langchain_paramchat.testing import FakeOpenAI, Fault

Factory = Callable[..., ParamChat]
KEY = "sk-worker-key-0123456789abcdef"


def _ask(data: bytes, text: str) -> str:
    model = pickle.loads(data)
    return str(model.invoke(text).text)


@pytest.mark.parametrize("api", ["chat_completions", "responses"])
def test_a_spawned_pool_reports_the_workers_401_and_429(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # spawned children inherit the environment
    fake_openai.add(
        Fault.status(401, message=f"Incorrect API key provided: {KEY}."),
        Fault.status(429, message="Rate limit reached", error_code="rate_limit_exceeded"),
        "fine",
    )
    data = pickle.dumps(make_model(api=api))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        with pytest.raises(AuthenticationError) as denied:
            pool.submit(_ask, data, "first").result(timeout=120)
        with pytest.raises(RateLimitError) as limited:
            pool.submit(_ask, data, "second").result(timeout=120)
        # The pool survived both errors and still answers.
        assert pool.submit(_ask, data, "third").result(timeout=120) == "fine"
    assert denied.value.status_code == 401
    assert KEY not in str(denied.value) and KEY not in repr(denied.value.body)
    assert "Incorrect API key provided: [redacted]." in str(denied.value)
    assert limited.value.status_code == 429 and limited.value.code == "rate_limit_exceeded"
    assert limited.value.body["message"] == "Rate limit reached"  # type: ignore[index]
    assert [r.api for r in fake_openai.requests] == [api, api, api]


def test_a_spawned_multiprocessing_pool_returns_the_workers_error_instead_of_hanging(
    fake_openai: FakeOpenAI, make_model: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # multiprocessing.Pool hung forever on an error it could not unpickle.
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    fake_openai.add(
        Fault.status(429, message="Rate limit reached", error_code="rate_limit_exceeded")
    )
    data = pickle.dumps(make_model())
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        with pytest.raises(RateLimitError) as limited:
            pool.apply_async(_ask, (data, "first")).get(timeout=120)
        assert pool.apply_async(_ask, (data, "second")).get(timeout=120) == "Echo: second"
    assert limited.value.status_code == 429 and limited.value.code == "rate_limit_exceeded"
