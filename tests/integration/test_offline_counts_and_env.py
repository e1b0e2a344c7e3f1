"""Token counts without tiktoken, and the OPENAI_API_BASE / OPENAI_ORGANIZATION fallbacks.

"Exact" offline means what it can honestly mean: ``count_tokens`` returns the input-token
endpoint's own number, unchanged, and never a local estimate, even where tiktoken cannot
load. Against FakeOpenAI that number is the fake server's documented, deterministic count
(``testing/input_tokens.py``: one token per word or symbol, 3 per input item), not OpenAI's
tokenizer; the test checks ParamChat hands it through, sync and async. A local count is
exact only with a tokenizer: ``custom_get_token_ids``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterator

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from langchain_paramchat import ParamChat
from langchain_paramchat.surface import token_count as tc
from langchain_paramchat.testing import FakeOpenAI
from langchain_paramchat.testing.input_tokens import count_input_tokens

Factory = Callable[..., ParamChat]


@pytest.fixture
def no_tiktoken(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make ``import tiktoken`` fail, as on a machine without it."""
    tc.load_encoding.cache_clear()
    monkeypatch.setitem(sys.modules, "tiktoken", None)
    monkeypatch.setattr(tc, "_warned", False)
    yield
    tc.load_encoding.cache_clear()


@pytest.mark.usefixtures("no_tiktoken")
@pytest.mark.parametrize("api", ["chat_completions", "responses", "auto"])
async def test_count_tokens_without_tiktoken_is_the_endpoints_number(
    fake_openai: FakeOpenAI, make_model: Factory, api: str
) -> None:
    assert tc.load_encoding("gpt-4o-mini") is None  # tiktoken really is unavailable
    model = make_model(api=api)
    conversation = [SystemMessage("Be brief."), HumanMessage("Tell me a joke.")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no TokenEstimateWarning: nothing is estimated
        one = model.count_tokens("Tell me a joke.")
        sync = model.count_tokens(conversation)
        async_ = await model.acount_tokens(conversation)
    assert one == 8  # 5 words and symbols + 3 for the one input item, worked by hand
    assert sync == async_ == count_input_tokens(fake_openai.requests[1].body)
    assert fake_openai.requests[1].body == fake_openai.requests[2].body
    assert [r.path for r in fake_openai.requests] == ["/v1/responses/input_tokens"] * 3
    # The local figure without a tokenizer is an estimate, and says so.
    with pytest.warns(tc.TokenEstimateWarning):
        model.get_num_tokens_from_messages(conversation)


@pytest.mark.usefixtures("no_tiktoken")
def test_a_custom_tokenizer_counts_exactly_offline(fake_openai: FakeOpenAI) -> None:
    model = ParamChat(api_key="sk-x", base_url=fake_openai.base_url, custom_get_token_ids=_ids)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.get_num_tokens("Tell me a joke.") == 4
        assert model.get_token_ids("a b") == [1, 1]
    assert fake_openai.requests == []


def _ids(text: str) -> list[int]:
    return [len(word) for word in text.split()]


# --- environment fallbacks ------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_ORG_ID", "OPENAI_ORGANIZATION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-key-0123")
    return monkeypatch


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
async def test_openai_api_base_and_openai_organization_are_read_when_nothing_else_is_set(
    fake_openai: FakeOpenAI, clean_env: pytest.MonkeyPatch, mode: str
) -> None:
    clean_env.setenv("OPENAI_API_BASE", fake_openai.base_url)
    clean_env.setenv("OPENAI_ORGANIZATION", "org-from-openai-organization")
    model = ParamChat(max_retries=0)
    assert model.base_url == fake_openai.base_url
    assert model.organization == "org-from-openai-organization"
    answer = model.invoke("hi") if mode == "invoke" else await model.ainvoke("hi")
    assert answer.text == "Echo: hi"
    (request,) = fake_openai.requests
    assert request.headers["openai-organization"] == "org-from-openai-organization"


def test_openai_base_url_and_openai_org_id_win_over_the_older_names(
    fake_openai: FakeOpenAI, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    clean_env.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")  # would be refused
    clean_env.setenv("OPENAI_ORG_ID", "org-new")
    clean_env.setenv("OPENAI_ORGANIZATION", "org-old")
    model = ParamChat(max_retries=0)
    assert model.invoke("hi").text == "Echo: hi"
    assert fake_openai.requests[0].headers["openai-organization"] == "org-new"
    explicit = ParamChat(max_retries=0, base_url=fake_openai.base_url, organization="org-arg")
    explicit.invoke("again")
    assert fake_openai.requests[1].headers["openai-organization"] == "org-arg"
