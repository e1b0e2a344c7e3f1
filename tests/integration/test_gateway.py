"""LangSmith gateway routing (``LANGSMITH_GATEWAY``), as ChatOpenAI does it.

A loopback "gateway" in front of FakeOpenAI serves ``/openai/v1/...`` and answers with the
``X-LangSmith-Gateway-Metadata`` header. With ``LANGSMITH_GATEWAY`` set to its URL, a model
built without a base URL sends every call there with the gateway key, and the gateway's
metadata reaches tracers (``ls_gateway_info``) but not the message: both APIs, invoke and
stream, sync and async. An explicit base URL or key keeps precedence, as in ChatOpenAI.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run
from pydantic import SecretStr

from langchain_paramchat import ParamChat
from langchain_paramchat.testing import FakeOpenAI, Reply
from tests.integration.relays import GatewayRelay

APIS = ["chat_completions", "responses"]
MODES = ["invoke", "stream", "ainvoke", "astream"]
GATEWAY_KEY = "lsv2_pt_gateway-SECRET-key"


class GatewayTracer(BaseTracer):
    """Record the gateway metadata langchain-core promotes onto each finished LLM run."""

    def __init__(self) -> None:
        super().__init__()
        self.infos: list[Any] = []

    def _persist_run(self, run: Run) -> None:
        """Keep nothing: runs are read as they end."""

    def _on_llm_end(self, run: Run) -> None:
        self.infos.append(run.extra.get("metadata", {}).get("ls_gateway_info"))


@pytest.fixture
def gateway(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[GatewayRelay]:
    relay = GatewayRelay(fake_openai.port, '{"provider": "openai", "model": "gpt-test"}')
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "LANGSMITH_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANGSMITH_GATEWAY", relay.url + "/")
    monkeypatch.setenv("LANGSMITH_GATEWAY_API_KEY", GATEWAY_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-provider-SECRET")
    yield relay
    relay.close()


async def call(chat: ParamChat, mode: str, text: str, tracer: GatewayTracer) -> Any:
    config: Any = {"callbacks": [tracer]}
    if mode == "invoke":
        return [chat.invoke(text, config=config)]
    if mode == "ainvoke":
        return [await chat.ainvoke(text, config=config)]
    if mode == "stream":
        return list(chat.stream(text, config=config))
    return [chunk async for chunk in chat.astream(text, config=config)]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", MODES)
def test_calls_go_to_the_gateway_with_its_key_and_its_metadata_reaches_tracers_only(
    fake_openai: FakeOpenAI, gateway: GatewayRelay, api: str, mode: str
) -> None:
    chat = ParamChat(api=api, max_retries=0)
    assert chat.base_url == f"{gateway.url}/openai/v1"
    tracer = GatewayTracer()
    messages = asyncio.run(call(chat, mode, "via the gateway", tracer))
    assert "".join(m.text for m in messages) == "Echo: via the gateway"
    path = "chat/completions" if api == "chat_completions" else "responses"
    assert gateway.seen == [f"POST /openai/v1/{path} HTTP/1.1"]
    assert gateway.keys == [f"Bearer {GATEWAY_KEY}"]
    assert len(fake_openai.requests) == 1
    assert tracer.infos == [{"provider": "openai", "model": "gpt-test"}]
    for message in messages:
        assert "lc_gateway_metadata" not in message.response_metadata
        assert "ls_gateway_info" not in message.response_metadata


def test_an_explicit_base_url_or_key_keeps_precedence(
    fake_openai: FakeOpenAI, gateway: GatewayRelay
) -> None:
    direct = ParamChat(base_url=fake_openai.base_url, api_key="sk-mine", max_retries=0)
    assert direct.base_url == fake_openai.base_url
    assert direct.api_key is not None and direct.api_key.get_secret_value() == "sk-mine"  # type: ignore[union-attr]
    tracer = GatewayTracer()
    asyncio.run(call(direct, "invoke", "direct", tracer))
    assert gateway.seen == [] and tracer.infos == [None]
    own_key = ParamChat(api_key=SecretStr("sk-mine"), max_retries=0)
    own_key.invoke("own key")
    assert gateway.keys == ["Bearer sk-mine"]


def test_the_gateway_is_off_unless_asked(
    fake_openai: FakeOpenAI, gateway: GatewayRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    for value in ("false", "0", ""):
        monkeypatch.setenv("LANGSMITH_GATEWAY", value)
        chat = ParamChat(max_retries=0)
        assert chat.base_url is None
        assert chat.api_key.get_secret_value() == "sk-provider-SECRET"  # type: ignore[union-attr]


def test_a_gateway_reply_without_metadata_adds_nothing(fake_openai: FakeOpenAI) -> None:
    fake_openai.add(Reply(text="plain", headers={"X-LangSmith-Gateway-Metadata": "not json"}))
    chat = ParamChat(base_url=fake_openai.base_url, api_key=GATEWAY_KEY, max_retries=0)
    tracer = GatewayTracer()
    message = chat.invoke("hi", config={"callbacks": [tracer]})
    assert message.text == "plain" and tracer.infos == [None]


@pytest.mark.parametrize(
    "settings",
    [{"api_key": GATEWAY_KEY}, {"api_key": "sk-test", "include_response_headers": True}],
    ids=["langsmith-key", "response-headers"],
)
def test_a_gateway_at_an_explicit_base_url_has_its_metadata_read(
    fake_openai: FakeOpenAI, settings: dict[str, Any]
) -> None:
    header = {"x-langsmith-gateway-metadata": '{"provider": "openai"}'}
    chat = ParamChat(base_url=fake_openai.base_url, max_retries=0, **settings)
    tracer = GatewayTracer()
    for api in APIS:
        fake_openai.add(Reply(text="a", headers=header), Reply(text="b", headers=header))
        chat.invoke("x", api=api, config={"callbacks": [tracer]})
        list(chat.stream("x", api=api, config={"callbacks": [tracer]}))
    assert tracer.infos == [{"provider": "openai"}] * 4


def test_a_langsmith_gateway_context_wins_over_what_a_loaded_model_says(
    fake_openai: FakeOpenAI, gateway: GatewayRelay
) -> None:
    core = pytest.importorskip("langchain_core.utils._gateway")
    with core.langsmith_gateway(api_key="lsv2_context-SECRET", base_url=gateway.url):
        chat = ParamChat(
            base_url="http://attacker.invalid/v1",
            api_key="sk-attacker",
            openai_proxy="http://attacker.invalid:3128",
            max_retries=0,
        )
    assert chat.base_url == f"{gateway.url}/openai/v1" and chat.openai_proxy is None
    assert chat.invoke("context").text == "Echo: context"
    assert gateway.keys == ["Bearer lsv2_context-SECRET"]


@pytest.mark.parametrize("api", APIS)
def test_an_unpickled_gateway_model_reads_the_gateway_key_not_the_providers(
    fake_openai: FakeOpenAI, gateway: GatewayRelay, api: str
) -> None:
    # A worker with the same environment: the model sends the gateway key, as one built
    # there would; the pickle itself holds neither key.
    data = pickle.dumps(ParamChat(api=api, max_retries=0))
    assert GATEWAY_KEY.encode() not in data and b"sk-provider-SECRET" not in data
    worker_model = pickle.loads(data)
    assert worker_model.invoke("from a worker").text == "Echo: from a worker"
    assert gateway.keys == [f"Bearer {GATEWAY_KEY}"]


def test_an_unpickled_model_off_the_gateway_reads_the_provider_key(
    fake_openai: FakeOpenAI, gateway: GatewayRelay
) -> None:
    data = pickle.dumps(ParamChat(base_url=fake_openai.base_url, max_retries=0))
    worker_model = pickle.loads(data)
    assert worker_model.api_key.get_secret_value() == "sk-provider-SECRET"
    assert worker_model.invoke("direct").text == "Echo: direct"
    assert gateway.seen == []


def test_an_unpickled_gateway_model_falls_back_to_the_langsmith_key(
    fake_openai: FakeOpenAI, gateway: GatewayRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = pickle.dumps(ParamChat(max_retries=0))
    monkeypatch.delenv("LANGSMITH_GATEWAY_API_KEY")
    monkeypatch.setenv("LANGSMITH_API_KEY", "lsv2_pt_worker-SECRET-key")
    assert pickle.loads(data).invoke("fallback").text == "Echo: fallback"
    assert gateway.keys == ["Bearer lsv2_pt_worker-SECRET-key"]
