"""The one scrubber: secrets are matched as plain text, short ones only as whole tokens."""

from __future__ import annotations

import pytest

from langchain_paramchat.secrets import (
    Scrubber,
    redact_url,
    redact_url_text,
    scrub_json,
    snippet,
)


@pytest.mark.parametrize(
    "secret",
    ["a+b", "x.y*", "(k)", "[s]", "p|q", "^$", "k\\d", "t?{2}", "a.b"],
)
def test_short_secrets_with_regex_characters_are_matched_literally(secret: str) -> None:
    scrub = Scrubber(secret)
    assert scrub(f"key {secret} rejected") == "key [redacted] rejected"
    # The same characters read as a regex would match other text; literally they do not.
    untouched = "aab xyy ka b pq k9 tt axb"
    assert scrub(untouched) == untouched


def test_a_short_secret_inside_a_word_is_left_alone_but_a_long_one_is_not() -> None:
    assert Scrubber("x")("maximum x") == "maximum [redacted]"
    long = "sk-0123456789abcdefghijkl"
    assert Scrubber(long)(f"prefix{long}suffix") == "prefix[redacted]suffix"


def test_header_values_and_their_bearer_tokens_are_secrets_plain_headers_are_not() -> None:
    scrub = Scrubber(
        None, {"Authorization": "Bearer tok-123456789", "x-tenant": "acme", "api-key": "k1"}
    )
    text = "got tok-123456789 and k1 for acme"
    assert scrub(text) == "got [redacted] and [redacted] for acme"


def test_credentials_in_a_base_url_are_secrets() -> None:
    scrub = Scrubber(None, base_url="https://user:hunter2-pass@proxy.example/v1")
    assert "hunter2-pass" not in scrub("upstream said user:hunter2-pass@proxy.example")


def test_redact_url_hides_user_info_and_credential_query_values() -> None:
    assert redact_url("https://u:p@host:8443/v1?api-key=abc&x=1") == (
        "https://**********@host:8443/v1?api-key=**********&x=1"
    )
    assert redact_url("https://api.openai.com/v1") == "https://api.openai.com/v1"
    assert redact_url(None) is None
    line = 'HTTP Request: POST http://u:pw@127.0.0.1:9/v1/x?token=abc&y=2 "HTTP/1.1 200 OK"'
    hidden = redact_url_text(line)
    assert "u:pw" not in hidden and "token=abc" not in hidden
    assert "http://**********@127.0.0.1:9/v1/x?token=**********&y=2" in hidden


def test_scrub_json_scrubs_keys_and_values_and_stops_at_a_depth() -> None:
    scrub = Scrubber("sk-0123456789abcdefghijkl")
    body = {"sk-0123456789abcdefghijkl": ["sk-0123456789abcdefghijkl", 1]}
    assert scrub_json(body, scrub) == {"[redacted]": ["[redacted]", 1]}
    deep: object = "sk-0123456789abcdefghijkl"
    for _ in range(10_000):
        deep = [deep]
    assert "sk-0123456789" not in repr(scrub_json(deep, scrub))[-200:]


def test_snippet_scrubs_before_cutting() -> None:
    key = "sk-0123456789abcdefghijkl"
    text = "x" * 190 + key
    shown = snippet(text, Scrubber(key))
    assert key[:8] not in shown and len(shown) <= 200
