"""Every link in the README leads somewhere: files exist, ``#anchors`` name a heading."""

from __future__ import annotations

import re
from pathlib import Path

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
        if path and not (ROOT / path).exists():
            broken.append(target)
        elif not path and anchor not in anchors:
            broken.append(target)
    assert broken == []
