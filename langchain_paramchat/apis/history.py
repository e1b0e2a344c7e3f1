"""Which assistant turns in a history hold items only the Responses API can send back.

An assistant turn produced by the Responses API keeps its output items as content blocks
(see ``apis.responses.reply``). Most of them reduce to text harmlessly, but some carry state
the next turn depends on: a compaction summary, loaded tools, encrypted reasoning, MCP
approvals, shell and apply_patch calls (whose results pair with them by ``call_id``). Chat
Completions would drop those, so a history holding one routes to the Responses API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from langchain_paramchat.apis.content import unwrap

__all__ = ["RESPONSES_ONLY_ITEMS", "responses_only_history"]

# Output item types Chat Completions has no input for, and whose loss changes the next turn.
RESPONSES_ONLY_ITEMS = frozenset(
    {
        "compaction",
        "tool_search_call",
        "tool_search_output",
        "additional_tools",
        "configuration_update",
        "mcp_call",
        "mcp_list_tools",
        "mcp_approval_request",
        "mcp_approval_response",
        "shell_call",
        "shell_call_output",
        "local_shell_call",
        "local_shell_call_output",
        "apply_patch_call",
        "apply_patch_call_output",
        "computer_call",
        "computer_call_output",
    }
)


def responses_only_history(messages: Sequence[BaseMessage]) -> list[str]:
    """Name the Responses-only items in assistant turns, e.g. ``a compaction item in messages[2]``.

    A reasoning item counts when it carries ``encrypted_content``: that is the reasoning
    state a stateless (``store=False``) conversation depends on.
    """
    found: list[str] = []
    for i, message in enumerate(messages):
        content = message.content
        if content.__class__ is str or not isinstance(message, AIMessage):
            continue
        kinds: list[str] = []
        for raw in content:
            kind = _kind(unwrap(raw))
            if kind is not None and kind not in kinds:
                kinds.append(kind)
        found.extend(f"{kind} in messages[{i}]" for kind in kinds)
    return found


def _kind(block: Any) -> str | None:
    if not isinstance(block, dict):
        return None
    kind = block.get("type")
    if kind in RESPONSES_ONLY_ITEMS:
        return f"a {kind} item"
    extras = block.get("extras")
    encrypted = block.get("encrypted_content") or (
        extras.get("encrypted_content") if isinstance(extras, dict) else None
    )
    if kind == "reasoning" and encrypted:
        return "encrypted reasoning"
    return None
