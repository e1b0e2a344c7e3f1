"""Models pickle without their transport or key, and answer from spawned processes and Dask."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI

Factory = Callable[..., ParamChat]
APIS = ["chat_completions", "responses"]
KEY = "sk-test-key-123"


def _answer(data: bytes, text: str) -> str:
    model = pickle.loads(data)
    return str(model.invoke(text).text)


@pytest.mark.parametrize("api", APIS)
def test_pickle_drops_transport_and_key_and_the_copy_answers(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-pickled-secret-555"
    model = make_model(api=api, api_key=secret, temperature=0.5)
    model.invoke("warm up")  # the transport (SDK client, locks) now exists
    data = pickle.dumps(model.bind(max_tokens=7))
    assert secret.encode() not in data
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    copy = pickle.loads(data)
    assert copy.bound.api_key.get_secret_value() == KEY
    assert copy.bound.temperature == 0.5 and copy.kwargs == {"max_tokens": 7}
    assert copy.invoke("hello").text == "Echo: hello"
    assert (
        fake_openai.requests[-1].body[
            "max_completion_tokens" if api == "chat_completions" else "max_output_tokens"
        ]
        == 7
    )
    assert fake_openai.requests[-1].headers["authorization"] == f"Bearer {KEY}"


def test_a_used_model_deep_copies_with_its_key_and_answers(
    fake_openai: FakeOpenAI, make_model: Factory
) -> None:
    import copy

    model = make_model(api_key="sk-explicit-key-42", service_tier="flex")
    model.invoke("warm up")  # its transport (SDK client, locks) now exists
    twin = copy.deepcopy(model)
    assert twin.api_key is not None and twin.api_key.get_secret_value() == "sk-explicit-key-42"
    assert twin._transport is None and model._transport is not None
    assert twin.invoke("again").text == "Echo: again"


def test_pickle_refuses_a_model_with_its_own_http_client(make_model: Factory) -> None:
    import httpx2

    with httpx2.Client() as client, pytest.raises(TypeError, match="http_client"):
        pickle.dumps(make_model(http_client=client))


@pytest.mark.parametrize("api", APIS)
def test_a_spawned_process_answers_with_a_pickled_model(
    fake_openai: FakeOpenAI, make_model: Factory, api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # spawned children inherit the environment
    data = pickle.dumps(make_model(api=api))
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        answer = pool.apply_async(_answer, (data, "from a child")).get(timeout=120)
    assert answer == "Echo: from a child"
    assert fake_openai.requests[-1].api == api


def test_dask_local_cluster_workers_answer_every_input(
    fake_openai: FakeOpenAI, make_model: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    models = {api: make_model(api=api) for api in APIS}
    inputs = [f"doc {i}" for i in range(12)]

    def answer(item: tuple[str, str]) -> tuple[str, str]:
        api, text = item
        message: Any = models[api].invoke(text)
        return message.response_metadata["api"], message.text

    items = [(APIS[i % 2], text) for i, text in enumerate(inputs)]
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=2,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        futures = client.map(answer, items, pure=False)
        results = client.gather(futures, errors="raise")
        workers = {w for w in client.who_has(futures).values() for w in w}
    assert results == [(api, f"Echo: {text}") for api, text in items]
    assert len(workers) >= 1
    assert fake_openai.errors == []
