"""The README's ChatOpenAI migration table covers every ChatOpenAI name and cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from langchain_paramchat import ParamChat, compat
from langchain_paramchat.compat.translate import CHAT_OPENAI_NAMES, migration_table_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def _names_in_table() -> set[str]:
    names: set[str] = set()
    for row in CHAT_OPENAI_NAMES:
        names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", row.name))
    return names


def test_readme_shows_the_generated_table() -> None:
    text = README.read_text()
    block = re.search(
        r"<!-- chatopenai-table:start[^\n]*\n(.*?)<!-- chatopenai-table:end -->", text, re.S
    )
    assert block is not None
    assert block.group(1) == migration_table_markdown()
    assert "## Coming from ChatOpenAI" in text


def test_every_chatopenai_constructor_argument_is_in_the_table() -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    fields = langchain_openai.ChatOpenAI.model_fields
    names = set(fields) | {f.alias for f in fields.values() if f.alias}
    assert len(names) > 50
    assert sorted(names - _names_in_table()) == []


def test_every_name_the_table_says_paramchat_takes_is_taken() -> None:
    taken = [
        name
        for row in CHAT_OPENAI_NAMES
        if row.kind in ("same", "renamed", "translated") and "(" not in row.name
        for name in row.name.split(" / ")
        if name.isidentifier()
    ]
    model_fields = set(ParamChat.model_fields) | {"model_name"}
    for name in taken:
        accepted = name in model_fields or name in compat.ACCEPTED or name in _option_names()
        assert accepted, f"the table says ParamChat takes {name!r}, but it does not"


def test_every_name_refused_per_call_fails_before_sending() -> None:
    model = ParamChat(api_key="sk-test")
    rows = [row for row in CHAT_OPENAI_NAMES if row.kind == "refused per call"]
    names = [n.removesuffix(" (call)") for row in rows for n in row.name.split(" / ")]
    assert names == ["timeout", "extra_headers", "extra_query"]
    for name in names:
        with pytest.raises(ValueError, match=name):
            model.preview_request("hi", **{name: 5})


def test_every_refused_name_fails_at_construction() -> None:
    refused = [
        n for row in CHAT_OPENAI_NAMES if row.kind == "refused" for n in row.name.split(" / ")
    ]
    # openai_proxy, http_socket_options and callable keys were the last: ChatOpenAI's whole
    # constructor is honoured. A name refused again must still fail at construction.
    assert refused == []
    for name in refused:
        with pytest.raises(ValueError, match=name):
            ParamChat(api_key="sk-test", **{name: object()})


def _option_names() -> set[str]:
    from langchain_paramchat.options import ALIASES, OPTIONS

    return set(OPTIONS) | set(ALIASES)


def test_chatopenai_defaults_for_every_argument_construct_a_paramchat() -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    from pydantic_core import PydanticUndefined

    defaults = {}
    for name, field in langchain_openai.ChatOpenAI.model_fields.items():
        if field.default is not PydanticUndefined:
            defaults[name] = field.default
        elif field.default_factory is not None:
            defaults[name] = field.default_factory()  # type: ignore[call-arg]
    # Read from the environment (OPENAI_API_KEY, OPENAI_PROXY...), so not defaults here.
    for from_env in ("openai_api_key", "openai_api_base", "openai_organization", "openai_proxy"):
        defaults.pop(from_env, None)
    model = ParamChat(api_key="sk-test", **defaults)
    assert model.model == defaults["model_name"]
    assert model.preview_request("hi").api == "chat_completions"


def test_every_chatopenai_attribute_is_readable() -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    model = ParamChat(api_key="sk-test", model="gpt-5-mini", reasoning_effort="low")
    fields = langchain_openai.ChatOpenAI.model_fields
    names = set(fields) | {f.alias for f in fields.values() if f.alias}
    unreadable = [n for n in sorted(names) if not hasattr(model, n)]
    assert unreadable == []
    assert (model.model_name, model.reasoning_effort) == ("gpt-5-mini", "low")
    assert model.openai_api_key.get_secret_value() == "sk-test"
    assert model.use_responses_api is None
