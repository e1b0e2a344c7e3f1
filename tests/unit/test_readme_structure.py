"""The README reads top-down for a newcomer, each section once, and its links lead somewhere."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from langchain_paramchat import errors
from langchain_paramchat.batch import errors as batch_errors

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """Return GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _outside_code(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def test_slugs_follow_github() -> None:
    assert _slug("How ParamChat picks the API") == "how-paramchat-picks-the-api"
    assert _slug("Tools and `strict` mode") == "tools-and-strict-mode"
    assert _slug("Why ParamChat, not ChatOpenAI?") == "why-paramchat-not-chatopenai"


def test_every_relative_link_and_anchor_resolves() -> None:
    text = _outside_code(README.read_text())
    anchors = {_slug(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s) and mailto links are not checked offline
        path, _, anchor = target.partition("#")
        missing = not (ROOT / path).exists() if path else anchor not in anchors
        if missing:
            broken.append(target)
    assert broken == []


# The order a newcomer reads in; other sections may sit between these, none may repeat.
ORDER = [
    "Why ParamChat rather than ChatOpenAI",
    "Install",
    "Quickstart without a key",
    "Quickstart with OpenAI",
    "Options",
    "How ParamChat picks the API",
    "Tools and structured output",
    "Errors",
    "Reliability",
    "Performance",
    "Testing your own code offline",
    "More documentation",
    "How to test",
]


def _sections() -> dict[str, str]:
    text = README.read_text()
    parts = re.split(r"(?m)^## ", _outside_code(text))[1:]
    return {part.split("\n", 1)[0].strip(): part for part in parts}


def test_sections_come_in_reading_order_and_none_repeats() -> None:
    headings = re.findall(r"(?m)^## (.+)$", _outside_code(README.read_text()))
    assert len(headings) == len(set(headings)), "a section heading appears twice"
    assert [h for h in headings if h in ORDER] == ORDER


def test_why_section_gives_three_or_four_reasons_each_with_a_link() -> None:
    why = _sections()["Why ParamChat rather than ChatOpenAI"]
    reasons = [line for line in why.splitlines() if line.startswith("- ")]
    assert 3 <= len(reasons) <= 4
    assert all(_LINK.search(line) for line in reasons)


def test_errors_section_names_every_exception_class() -> None:
    section = _sections()["Errors"]
    classes = [
        name
        for module in (errors, batch_errors)
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and issubclass(obj, errors.ParamChatError)
        and obj.__module__ == module.__name__
        and not name.startswith("_")
    ]
    assert len(classes) > 20
    assert [name for name in classes if f"`{name}`" not in section] == []


def test_every_paramchat_setting_and_option_is_named_somewhere() -> None:
    from langchain_core.language_models import BaseChatModel

    from langchain_paramchat import ParamChat

    text = README.read_text()
    own = [name for name in ParamChat.model_fields if name not in BaseChatModel.model_fields]
    assert len(own) > 40
    assert [name for name in own if f"`{name}`" not in text and f"{name}=" not in text] == []


def test_architecture_map_names_modules_that_exist() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    package = ROOT / "langchain_paramchat"
    named = re.findall(r"^\| \w+ \| `([\w/<>.]+)`", text, flags=re.M)
    assert len(named) > 30
    missing = [
        name
        for name in named
        for api in ("chat_completions", "responses")
        if not (package / name.replace("<api>", api)).exists()
    ]
    assert missing == []
