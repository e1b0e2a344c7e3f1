"""Keep credential headers on the API's own origin when a redirect points elsewhere.

The SDK's HTTP library (httpx2, or httpx on older SDKs) follows redirects and drops only
``Authorization`` when one leads to another host; ``api-key`` (Azure), ``x-api-key`` and
other credential headers from ``default_headers`` would travel on. A request hook runs for
every hop, so each request to an origin other than the base URL's loses every header that
``secrets.is_credential_header`` matches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain_paramchat.secrets import is_credential_header

__all__ = ["OriginGuard"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: Any) -> tuple[str, str, int | None]:
    scheme = str(url.scheme).lower()
    return scheme, str(url.host).lower(), url.port or _DEFAULT_PORTS.get(scheme)


class OriginGuard:
    """Hold the API's origin; its hooks strip credential headers from requests elsewhere.

    ``origin`` is set from the SDK client's ``base_url`` once the client exists.
    """

    def __init__(self) -> None:
        self.origin: tuple[str, str, int | None] | None = None

    def set_base_url(self, url: Any) -> None:
        """Remember the origin of the SDK client's base URL (an ``hx.URL``)."""
        self.origin = _origin(url)

    def strip(self, request: Any) -> None:
        """Remove credential headers from ``request`` when it goes to another origin."""
        if self.origin is None or _origin(request.url) == self.origin:
            return
        for name in [k for k in request.headers if is_credential_header(k)]:
            del request.headers[name]

    async def astrip(self, request: Any) -> None:
        """Async twin of :meth:`strip` (the async client awaits its hooks)."""
        self.strip(request)

    def hooks(self, is_async: bool) -> dict[str, list[Callable[[Any], Any | Awaitable[Any]]]]:
        """Return ``event_hooks`` for an HTTP client of the SDK's library."""
        return {"request": [self.astrip if is_async else self.strip]}
