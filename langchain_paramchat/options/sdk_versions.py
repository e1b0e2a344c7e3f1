"""Options whose ``openai`` SDK types only newer releases define: refused on use, not on import.

ParamChat types each option with the SDK's own param types. An older SDK (within the
declared range) lacks a few; :func:`sdk_type` then returns a stand-in marked with the
release that added the type, and :func:`require_sdk` refuses the option when it is used,
saying which ``openai`` version it needs. Everything else keeps working.
"""

from __future__ import annotations

import typing
from types import ModuleType
from typing import Any

from typing_extensions import TypedDict

from langchain_paramchat.errors import OptionError

__all__ = ["needed_openai", "require_sdk", "sdk_type"]

_MARK = "__paramchat_needs_openai__"


def sdk_type(module: ModuleType, name: str, since: str) -> Any:
    """Return ``module.name``, or a stand-in saying it needs ``openai>=since``."""
    found = getattr(module, name, None)
    if found is not None:
        return found
    stand_in: Any = TypedDict(name, {}, total=False)  # type: ignore[misc]
    setattr(stand_in, _MARK, since)
    return stand_in


def needed_openai(tp: Any) -> str | None:
    """Return the ``openai`` version a type (or any type inside it) needs, if it is a stand-in."""
    since = getattr(tp, _MARK, None)
    if isinstance(since, str):
        return since
    for arg in typing.get_args(tp):
        found = needed_openai(arg)
        if found is not None:
            return found
    return None


def require_sdk(name: str, value: Any, tp: Any) -> None:
    """Raise ``OptionError`` when option ``name``'s type needs a newer ``openai`` SDK."""
    since = needed_openai(tp)
    if since is None:
        return
    import openai

    raise OptionError(
        name,
        value,
        f"needs openai>={since} (installed: openai {openai.__version__})",
        fix=f"upgrade the SDK: pip install 'openai>={since}'",
    )
