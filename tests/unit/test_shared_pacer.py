"""Which process-wide pacer a model gets: by its key and URL, or else the environment's."""

from __future__ import annotations

import gc

import pytest

from langchain_paramchat.transport.pacer import RECENT, shared_pacer


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


URL = "http://127.0.0.1:9/v1"


def _learned(api_key: str, limit: int) -> None:
    """Give the key's pacer a limit read from a reply, then drop every reference to it."""
    shared_pacer(api_key, URL).after_response(
        "chat/completions",
        200,
        {"x-ratelimit-limit-requests": str(limit), "x-ratelimit-remaining-requests": "1"},
    )


def _pacer_repr(api_key: str) -> str:
    gc.collect()
    return repr(shared_pacer(api_key, URL))


def test_the_most_recently_used_keys_keep_what_their_pacer_learned() -> None:
    # No model holds these pacers: only the RECENT most recently used keys keep theirs (and
    # the limits it read); the least recently used one is the first to go.
    _learned("sk-lru-kept", 7)
    _learned("sk-lru-oldest", 8)
    for i in range(RECENT - 2):
        shared_pacer(f"sk-lru-{i}", URL)
    assert "requests_limit=7" in _pacer_repr("sk-lru-kept")  # used again: now the most recent
    _learned("sk-lru-newest", 9)  # one key too many: the least recently used goes
    assert "requests_limit=9" in _pacer_repr("sk-lru-newest")
    assert "requests_limit=7" in _pacer_repr("sk-lru-kept")
    assert "requests_limit=None" in _pacer_repr("sk-lru-oldest")  # forgotten, a fresh pacer


def test_a_base_url_differing_only_in_its_last_character_gets_its_own_pacer() -> None:
    # Only a trailing slash is dropped: ".../deployments/gpt4X" is not ".../deployments/gpt4".
    url = "http://127.0.0.1:9/openai/deployments/gpt4"
    assert shared_pacer("sk-ends", url + "X") is not shared_pacer("sk-ends", url)
    assert shared_pacer("sk-ends", url + "/") is shared_pacer("sk-ends", url)
