"""Which process-wide pacer a model gets: by its key and URL, or else the environment's."""

from __future__ import annotations

import pytest

from langchain_paramchat.transport.pacer import shared_pacer


def test_a_model_without_key_or_url_shares_the_pacer_of_the_environments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-one")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:7/v1")
    from_env = shared_pacer(None, None)
    assert from_env is shared_pacer("sk-env-one", "http://127.0.0.1:7/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-two")
    assert shared_pacer(None, None) is not from_env
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-one")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:6/v1")
    assert shared_pacer(None, None) is not from_env


def test_without_any_key_or_url_the_pacer_is_openais_with_no_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    default = shared_pacer(None, None)
    assert default is shared_pacer("", "https://api.openai.com/v1")
    assert default is shared_pacer("", "https://api.openai.com/v1/")
    assert default is not shared_pacer("sk-any", None)
