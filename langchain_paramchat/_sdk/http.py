"""The HTTP library the installed ``openai`` SDK is built on, as one name: ``hx``.

openai 3.x sends through ``httpx2``; openai 2.x through ``httpx``. The SDK hands ParamChat
that library's requests, responses and errors, and takes its timeouts and clients, so every
use of those types in the package goes through :data:`hx`. For mypy it is ``httpx2`` (the
newest SDK's library, which httpx mirrors); at run time it is the very module the SDK's own
client imports, found once at import, so an attribute lookup on it costs what one on
``httpx2`` would.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["hx"]


def sdk_http_library() -> ModuleType:
    """Return the module (``httpx2`` or ``httpx``) the installed ``openai`` SDK sends with."""
    from openai import _base_client

    for name in ("httpx2", "httpx"):
        found = getattr(_base_client, name, None)
        if isinstance(found, ModuleType):
            return found
    raise ImportError(  # pragma: no cover - every supported SDK imports one of them
        "langchain-paramchat could not tell which HTTP library the installed openai SDK uses"
    )


if TYPE_CHECKING:
    import httpx2 as hx
else:
    hx = sdk_http_library()
