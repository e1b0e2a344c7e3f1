"""The package's chat model class, registered by the class itself when it is defined.

Packages below the model (``batch/``) are handed a model and import nothing above them:
``chat_model`` registers ``ParamChat`` here, so ``submit_batch`` can recognise one and
``BatchJob.from_json`` can rebuild one from saved settings without importing it.
"""

from __future__ import annotations

from typing import Any

from langchain_paramchat.errors import ParamChatError

__all__ = ["model_class", "register_model_class"]

_REGISTERED: list[type[Any]] = []


def register_model_class(cls: type[Any]) -> None:
    """Make ``cls`` the chat model class that lower packages accept and rebuild."""
    _REGISTERED[:] = [cls]


def model_class() -> type[Any]:
    """Return the registered chat model class.

    Raises ``ParamChatError`` when none is registered (``langchain_paramchat`` not imported).
    """
    if not _REGISTERED:
        raise ParamChatError("no chat model class is registered; import langchain_paramchat first")
    return _REGISTERED[0]
