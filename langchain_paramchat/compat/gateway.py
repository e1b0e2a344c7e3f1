"""LangSmith gateway routing, as ChatOpenAI does it: base URL and key at construction.

With ``LANGSMITH_GATEWAY`` set (``true``, or the gateway's URL), a model given no base URL
(and no ``OPENAI_API_BASE``) sends to the gateway's OpenAI path with the gateway key
(``LANGSMITH_GATEWAY_API_KEY``, else ``LANGSMITH_API_KEY``, else ``OPENAI_API_KEY``); inside
langchain-core's ``langsmith_gateway(...)`` context the context's gateway and key win.
The precedence rules are langchain-core's own (``langchain_core.utils._gateway``, which
every provider integration shares), so ParamChat resolves exactly as ChatOpenAI does; a
langchain-core without them means no gateway routing. A gateway answers with its metadata
in a response header, which goes to tracers (not the message), as in ChatOpenAI
(``call/reply_fields.py``).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["apply_gateway", "is_gateway_key", "key_for"]

_PROVIDER_PATH = "openai/v1"


def _core() -> Any:
    try:
        from langchain_core.utils import _gateway
    except ImportError:  # a langchain-core without gateway support
        return None
    return _gateway


def apply_gateway(settings: dict[str, Any]) -> None:
    """Route ``settings`` (translated constructor kwargs) through the gateway when enabled.

    ``base_url`` and ``api_key`` given explicitly are kept, as langchain-core's rules say
    (except inside a ``langsmith_gateway`` context, whose gateway and key always win; a
    proxy is then ignored, so a loaded model cannot send the gateway key through one).
    """
    core = _core()
    resolve = getattr(core, "_resolve_gateway_config", None)
    enabled = getattr(core, "_resolve_gateway_base_url", None)
    if resolve is None or enabled is None or enabled(_PROVIDER_PATH) is None:
        return
    config = resolve(
        base_url=settings.get("base_url"),
        api_key=settings.get("api_key"),
        provider_path=_PROVIDER_PATH,
        base_url_env="OPENAI_API_BASE",
        api_key_env="OPENAI_API_KEY",
    )
    if config.base_url is not None:
        settings["base_url"] = config.base_url
    if config.api_key is not None:
        settings["api_key"] = config.api_key
    if _context_active(core):
        settings["openai_proxy"] = None


def _context_active(core: Any) -> bool:
    """Return True inside langchain-core's ``langsmith_gateway(...)`` context."""
    active = getattr(core, "_langsmith_gateway_active", None)
    if active is not None:
        return bool(active())
    override = getattr(core, "_GATEWAY_OVERRIDE", None)  # langchain-core 1.8.1
    return override is not None and override.get() is not None


def is_gateway_key(api_key: Any) -> bool:
    """Return True for a LangSmith key (``lsv2_``...): the sign ChatOpenAI reads for gateway
    routing (a key function is never called to tell)."""
    value = getattr(api_key, "get_secret_value", None)
    return callable(value) and str(value()).startswith("lsv2_")


def key_for(langsmith: bool) -> str | None:
    """Return the key an unpickled model reads from this environment (None: none set).

    A model whose key was a LangSmith key (sent to the gateway) reads the gateway's key,
    ``LANGSMITH_GATEWAY_API_KEY`` else ``LANGSMITH_API_KEY`` (langchain-core's order for a
    base URL on the gateway); any other model reads ``OPENAI_API_KEY``.
    """
    names = ("LANGSMITH_GATEWAY_API_KEY", "LANGSMITH_API_KEY") if langsmith else ()
    for name in (*names, "OPENAI_API_KEY"):
        if value := os.environ.get(name):
            return value
    return None
