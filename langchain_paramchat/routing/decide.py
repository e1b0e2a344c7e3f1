"""Pick the API for one request from the options in play, the bound tools and the model facts.

Pure and table-driven: an option's support on each API comes from ``options.place``
(the option table plus the SDK's own param types), a model's from ``model_facts`` (the
SDK's model lists, then the family table), never from a list kept here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from langchain_paramchat.errors import IncompatibleOptionsError
from langchain_paramchat.options import API_LABELS, OPTIONS, Api, Unsupported, place
from langchain_paramchat.routing.model_facts import default_responses_only_models, facts

__all__ = ["DEFAULT_RESPONSES_ONLY_MODELS", "Route", "route", "route_call"]

logger = logging.getLogger("langchain_paramchat")

ApiSetting = Literal["auto", "chat_completions", "responses"]

# Model families OpenAI serves only through the Responses API (the family table's rows).
# While this default is in place, the model facts decide (the SDK's ResponsesModel-only ids
# too); ``ParamChat(responses_only_models=...)`` replaces them with its own regular
# expressions, searched in the model name.
DEFAULT_RESPONSES_ONLY_MODELS: tuple[str, ...] = default_responses_only_models()


@dataclass(frozen=True)
class Route:
    """The API chosen for one request, why, and where each option lands in its payload."""

    api: Api
    reasons: tuple[str, ...]
    placements: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class _Need:
    what: str
    api: Api

    def describe(self) -> str:
        return f"{self.what} ({API_LABELS[self.api]} only)"


def route(
    options: Mapping[str, Any],
    *,
    model: str,
    api: ApiSetting = "auto",
    unsupported: Mapping[Api, Iterable[str]] | None = None,
    responses_only_models: Iterable[str] = DEFAULT_RESPONSES_ONLY_MODELS,
    tools: bool = False,
) -> Route:
    """Return the ``Route`` for a request, or raise ``IncompatibleOptionsError``.

    ``options`` maps option names to non-None values. ``unsupported`` names, per API, the
    bound tools and message contents that API cannot carry (each adapter says so), so the
    other API must take the request: audio input routes to Chat Completions, a built-in tool
    or an image by ``file_id`` to Responses. With no option deciding, the model facts do: a
    Responses-only model, or ``tools`` bound for a model that takes tools only on Responses.
    """
    needs: list[_Need] = []
    placed: dict[Api, list[tuple[str, dict[str, Any]]]] = {"chat_completions": [], "responses": []}
    for name, value in options.items():
        if OPTIONS[name].opt.special:
            continue
        on_chat = place("chat_completions", name, value)
        on_resp = place("responses", name, value)
        if isinstance(on_chat, Unsupported) and isinstance(on_resp, Unsupported):
            raise IncompatibleOptionsError(
                f"{on_chat.what} is not accepted by either API; see the option table in the README"
            )
        if isinstance(on_chat, Unsupported):
            needs.append(_Need(on_chat.what, "responses"))
        else:
            placed["chat_completions"].append((name, on_chat))
        if isinstance(on_resp, Unsupported):
            needs.append(_Need(on_resp.what, "chat_completions"))
        else:
            placed["responses"].append((name, on_resp))
    for lacking, whats in (unsupported or {}).items():
        other: Api = "responses" if lacking == "chat_completions" else "chat_completions"
        needs += [_Need(what, other) for what in whats]

    chosen, reasons = _decide(needs, model, api, tuple(responses_only_models), tools)
    decision = Route(chosen, reasons, assemble(placed[chosen]))
    logger.debug("route: %s because %s", chosen, "; ".join(reasons))
    return decision


WEBSOCKET_NEED = "websocket=True (the Responses API's WebSocket mode)"


def route_call(
    options: Mapping[str, Any],
    *,
    model: str,
    api: ApiSetting,
    unsupported: Mapping[Api, Iterable[str]],
    responses_only_models: tuple[str, ...],
    websocket: bool,
    tools: bool,
) -> Route:
    """Route one call; ``websocket=True`` asks for Responses unless the call needs Chat."""
    if websocket and api == "auto":
        wanting: dict[Api, list[str]] = {k: list(v) for k, v in unsupported.items()}
        wanting.setdefault("chat_completions", []).append(WEBSOCKET_NEED)
        try:
            return route(
                options,
                model=model,
                api=api,
                unsupported=wanting,
                responses_only_models=responses_only_models,
                tools=tools,
            )
        except IncompatibleOptionsError:
            pass  # the call needs Chat Completions: it goes there, over HTTP
    return route(
        options,
        model=model,
        api=api,
        unsupported=unsupported,
        responses_only_models=responses_only_models,
        tools=tools,
    )


def _decide(
    needs: list[_Need], model: str, api: ApiSetting, model_patterns: tuple[str, ...], tools: bool
) -> tuple[Api, tuple[str, ...]]:
    for_chat = [n for n in needs if n.api == "chat_completions"]
    for_resp = [n for n in needs if n.api == "responses"]
    if api != "auto":
        blocked = for_resp if api == "chat_completions" else for_chat
        if blocked:
            raise IncompatibleOptionsError(
                f"api={api!r} cannot carry "
                + ", ".join(n.describe() for n in blocked)
                + "; remove the option or use api='auto'"
            )
        return api, (f"api={api!r} was requested",)
    if for_chat and for_resp:
        raise IncompatibleOptionsError(
            ", ".join(n.describe() for n in for_chat)
            + " cannot be combined with "
            + ", ".join(n.describe() for n in for_resp)
        )
    if for_resp:
        return "responses", tuple(f"{n.what} needs the Responses API" for n in for_resp)
    if for_chat:
        return "chat_completions", tuple(
            f"{n.what} needs the Chat Completions API" for n in for_chat
        )
    by_model = _model_decides(model, model_patterns, tools)
    if by_model is not None:
        return "responses", (by_model,)
    return "chat_completions", (
        "no option needs the Responses API; Chat Completions is the default",
    )


def _model_decides(model: str, patterns: tuple[str, ...], tools: bool) -> str | None:
    """Return why the model's facts send the request to Responses, or None."""
    known = facts(model)
    if patterns is DEFAULT_RESPONSES_ONLY_MODELS or patterns == DEFAULT_RESPONSES_ONLY_MODELS:
        if known.responses_only:
            return (
                f"model {model!r} is served only by the Responses API "
                f"({known.responses_only_because})"
            )
    elif _responses_only(model, patterns):
        return (
            f"model {model!r} is served only by the Responses API "
            "(it matches responses_only_models)"
        )
    if tools and known.tools_need_responses:
        return (
            f"model {model!r} takes tools only on the Responses API "
            f"(family rule {known.family.name!r})"
        )
    return None


@lru_cache(maxsize=256)
def _responses_only(model: str, patterns: tuple[str, ...]) -> bool:
    # Cached: a model keeps its name and patterns across calls, so the regexes run once.
    return any(re.search(pattern, model) for pattern in patterns)


def assemble(placements: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Return the payload fragment for placed options, nesting dotted paths.

    Lists at the same path are merged (``include`` from ``logprobs`` and ``include``);
    two options writing different values to one place raise ``IncompatibleOptionsError``.
    """
    payload: dict[str, Any] = {}
    owners: dict[str, str] = {}
    for name, placed in placements:
        for path, value in placed.items():
            *parents, leaf = path.split(".")
            node = payload
            for part in parents:
                # A copy: the dict there may be an option's own value (``text``), which a
                # call's ``text.format`` must not change for the model or later calls.
                child = node.get(part)
                node[part] = child = dict(child) if isinstance(child, dict) else {}
                node = child
            if isinstance(value, dict) and isinstance(node.get(leaf), dict):
                clash = [k for k in value if k in node[leaf] and node[leaf][k] != value[k]]
                if clash:
                    _clash(owners, f"{path}.{clash[0]}", name)
                node[leaf] = {**node[leaf], **value}
            elif isinstance(value, list) and isinstance(node.get(leaf), list):
                node[leaf] = [*node[leaf], *(v for v in value if v not in node[leaf])]
            elif leaf in node and node[leaf] != value:
                _clash(owners, path, name)
            else:
                node[leaf] = value
            owners[path] = name
            for i in range(1, len(parents) + 1):
                owners.setdefault(".".join(parents[:i]), name)
    return payload


def _clash(owners: Mapping[str, str], path: str, name: str) -> None:
    other = owners.get(path) or owners.get(path.rsplit(".", 1)[0], "another option")
    raise IncompatibleOptionsError(
        f"{other} and {name} both set {path!r} with different values; set only one of them"
    )
